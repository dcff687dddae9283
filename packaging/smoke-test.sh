#!/usr/bin/env bash
# Runs the built bundle (dist/kamaros/) the way a user's machine would: a clean environment
# (no virtualenv, no PYTHONPATH, a fresh HOME and XDG folders), then
#   1. kamaros --smoke-test offscreen            (open demo, save a checkpoint, restore it)
#   2. kamaros --smoke-test under xvfb-run -a    (the same on a real X server)
#   3. kamaros init / checkpoint / status / log / verify   (the command line)
#   4. kamaros install-desktop                  (desktop files into the fresh XDG_DATA_HOME)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bundle="$PWD/dist/kamaros/kamaros"
[ -x "$bundle" ] || { echo "error: no bundle at $bundle (run packaging/build.sh)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
clean() {
    env -i PATH=/usr/bin:/bin HOME="$tmp/home" LANG=C.UTF-8 \
        XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" \
        XDG_CACHE_HOME="$tmp/cache" XDG_STATE_HOME="$tmp/state" XDG_RUNTIME_DIR="$tmp/run" \
        "$@"
}
mkdir -p "$tmp/home" "$tmp/run" && chmod 700 "$tmp/run"
cd "$tmp"

echo "-- self-test, offscreen"
clean QT_QPA_PLATFORM=offscreen "$bundle" --smoke-test
echo "-- self-test, xvfb-run -a"
clean xvfb-run -a "$bundle" --smoke-test
echo "-- command line"
mkdir work && echo "hello" > work/notes.txt
clean "$bundle" -q init work >/dev/null
clean "$bundle" -q -C work checkpoint -m "first" >/dev/null
echo "changed" > work/notes.txt
clean "$bundle" -C work status --json | grep -q '"notes.txt"'
clean "$bundle" -q -C work log | grep -q first
clean "$bundle" -q -C work verify >/dev/null
echo "-- install-desktop"
clean QT_QPA_PLATFORM=offscreen "$bundle" install-desktop >/dev/null
grep -q "^Exec=$bundle %F" "$tmp/data/applications/io.kamaros.Kamaros.desktop"
[ -f "$tmp/data/icons/hicolor/256x256/apps/kamaros.png" ]
echo "bundle smoke test passed"
