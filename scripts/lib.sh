# Shared set-up steps for scripts/run.sh and scripts/test.sh (sourced, not run).
#
# Installs only what is missing, so a second run on a prepared machine takes seconds:
#   - Debian packages (checked with dpkg-query; `apt-get update` only when something is missing)
#   - uv (from PyPI into a small private venv when no `uv` is on PATH)
#   - the project's locked Python environment (`uv sync --all-extras --locked` into .venv/)

KAMAROS_UV_VERSION="0.13.9"

# Libraries Qt (PySide6-Essentials) needs to show a window on X11 (or XWayland), plus a font.
KAMAROS_RUN_PACKAGES=(
    python3 ca-certificates
    libgl1 libegl1 libfontconfig1 fonts-dejavu-core libglib2.0-0 libdbus-1-3
    libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
    libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xkb1
)
# Extra tools the test suite uses: a virtual X server, Info-ZIP unzip (the container must
# extract with it), `import` (ImageMagick) for screenshots of the virtual screen, git (the
# benchmark harness test compares with it);
# for the application bundle (packaging/): binutils (strip, objdump for PyInstaller) and the
# desktop-integration checkers (desktop-file-validate, update-mime-database, xdg-mime, gio).
KAMAROS_TEST_PACKAGES=(xvfb xauth unzip imagemagick git
    binutils desktop-file-utils shared-mime-info xdg-utils libglib2.0-bin)

kamaros_say() {
    if [ -t 2 ]; then printf '\033[1m==> %s\033[0m\n' "$*" >&2; else printf '==> %s\n' "$*" >&2; fi
}
kamaros_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, through sudo otherwise.
kamaros_as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        kamaros_die "need root to run: $* (run this script as root or install sudo)"
    fi
}

# kamaros_ensure_packages PKG...: installs the Debian packages that are not installed yet.
kamaros_ensure_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
            missing+=("$pkg")
        fi
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        printf 'warning: not a Debian-like system; make sure these (or their equivalents) are installed:\n  %s\n' \
            "${missing[*]}" >&2
        return 0
    fi
    kamaros_say "Installing system packages: ${missing[*]}"
    kamaros_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    kamaros_as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Sets UV to a working uv executable, installing uv into a private venv when there is none.
kamaros_ensure_uv() {
    local tools="${XDG_CACHE_HOME:-$HOME/.cache}/kamaros-setup/uv"
    if command -v uv >/dev/null 2>&1; then
        UV="$(command -v uv)"
    elif [ -x "$tools/bin/uv" ]; then
        UV="$tools/bin/uv"
    else
        kamaros_say "Installing uv $KAMAROS_UV_VERSION into $tools"
        # Debian's own python3 needs python3-venv for `python -m venv` (ensurepip).
        if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
            kamaros_ensure_packages python3-venv
        fi
        rm -rf "$tools"
        python3 -m venv "$tools"
        "$tools/bin/python" -m pip install --quiet --disable-pip-version-check \
            "uv==$KAMAROS_UV_VERSION"
        UV="$tools/bin/uv"
    fi
    export UV
}

# Trust the system's certificate store (ca-certificates), as pip and curl do.
export UV_SYSTEM_CERTS="${UV_SYSTEM_CERTS:-1}"

# Creates or updates .venv/ exactly as uv.lock says (all extras, dev group included).
kamaros_sync() {
    # --compile-bytecode: as pip does, so no command compiles its libraries at every start
    # (where PYTHONDONTWRITEBYTECODE is set, Python never caches them itself).
    kamaros_say "Syncing the Python environment (uv sync --all-extras --locked --compile-bytecode)"
    "$UV" sync --all-extras --locked --quiet --compile-bytecode
}
