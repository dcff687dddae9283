#!/usr/bin/env bash
# Builds the Kamaros application bundle with PyInstaller:
#   dist/kamaros/                                one folder, one executable `kamaros`
#   dist/kamaros-<version>-linux-x86_64.tar.gz   the same folder, archived
# Installs what is missing first (Debian packages, uv, the locked .venv), like scripts/*.sh.
# Options: --no-setup  skip the install checks (the .venv is already synced)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

if [ "${1:-}" != "--no-setup" ]; then
    # binutils: `strip`, and `objdump` which PyInstaller uses to find shared libraries.
    kamaros_ensure_packages "${KAMAROS_RUN_PACKAGES[@]}" binutils
    kamaros_ensure_uv
    kamaros_sync
fi
PY=.venv/bin/python
start=$SECONDS
version="$("$PY" -c 'import kamaros_app; print(kamaros_app.__version__)')"
arch="$(uname -m)"
icons="$PWD/build/packaging/icons"

kamaros_say "Rendering the app icon (Qt's SVG renderer) into $icons"
rm -rf "$icons"
QT_QPA_PLATFORM=offscreen "$PY" -c '
import sys
from pathlib import Path
from kamaros_app.desktop import render_icons
render_icons(Path(sys.argv[1]) / "hicolor")
' "$icons"

kamaros_say "PyInstaller: packaging/kamaros.spec -> dist/kamaros/"
rm -rf dist/kamaros
KAMAROS_ICON_DIR="$icons" .venv/bin/pyinstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/kamaros.spec

xcb=dist/kamaros/_internal/PySide6/Qt/plugins/platforms/libqxcb.so
[ -f "$xcb" ] || kamaros_die "the bundle has no xcb platform plugin ($xcb)"
missing="$(ldd "$xcb" | grep 'not found' || true)"
if [ -n "$missing" ]; then
    printf '%s\n' "$missing" >&2
    kamaros_die "libraries the xcb plugin needs are missing on this machine (see above)"
fi

archive="dist/kamaros-$version-linux-$arch.tar.gz"
kamaros_say "Archiving $archive"
tar -C dist -czf "$archive" kamaros

size_mb() { du -sm "$1" | cut -f1; }
echo "Bundle:  dist/kamaros/ $(size_mb dist/kamaros) MB ($(find dist/kamaros -type f | wc -l) files)"
echo "Archive: $archive $(size_mb "$archive") MB"
echo "Built in $((SECONDS - start)) s"
