#!/usr/bin/env bash
# The benchmark in one command: installs the peers (git, borg, restic, GNU time) and the
# Python environment, then runs `python -m bench` with the given arguments, e.g.
#   ./scripts/bench.sh            # full corpora (~3 GB generated once into build/bench/corpus)
#   ./scripts/bench.sh --quick    # scaled-down corpora, a few minutes
#   ./scripts/bench.sh --corpus small --tools kamaros,git --repeat 5
# Tables go to the terminal, numbers to build/bench/results-<UTC time>.json and latest.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# Debian 12 names: git 2.39, borgbackup 1.2, restic 0.14, time (GNU time, for peak RSS).
kamaros_ensure_packages "${KAMAROS_RUN_PACKAGES[@]}" git borgbackup restic time
kamaros_ensure_uv
kamaros_sync

export QT_QPA_PLATFORM=offscreen
exec "$UV" run --no-sync python -m bench "$@"
