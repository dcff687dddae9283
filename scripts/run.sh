#!/usr/bin/env bash
# Installs everything Kamaros needs, then starts the app on PATH (default: the demo project).
#
#   ./scripts/run.sh            # the bundled demo project
#   ./scripts/run.sh ~/Novel    # a folder of yours
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

kamaros_ensure_packages "${KAMAROS_RUN_PACKAGES[@]}"
kamaros_ensure_uv
kamaros_sync

app=(.venv/bin/kamaros-app)
[ "$#" -gt 0 ] || set -- --demo  # no folder given: the bundled demo project
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
    kamaros_say "Starting Kamaros"
    exec "${app[@]}" "$@"
fi

# No screen (ssh session, container, CI): prove the app starts and save a picture of it.
shot="build/screens/run-sh.png"
mkdir -p "$(dirname "$shot")"
echo "No display found (\$DISPLAY and \$WAYLAND_DISPLAY are unset), so the window cannot be shown."
if command -v xvfb-run >/dev/null 2>&1 && command -v xauth >/dev/null 2>&1; then
    echo "Starting Kamaros once on a virtual screen (xvfb-run) to check that it works..."
    xvfb-run -a "${app[@]}" --smoke-test --screenshot "$shot" "$@"
else
    echo "Starting Kamaros once without a screen (Qt offscreen) to check that it works..."
    QT_QPA_PLATFORM=offscreen "${app[@]}" --smoke-test --screenshot "$shot" "$@"
fi
echo "It works: a picture of the window is in $shot."
echo "To use Kamaros, run this command in a desktop session (or over 'ssh -X')."
