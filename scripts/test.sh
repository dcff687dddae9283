#!/usr/bin/env bash
# Installs everything, then runs every check CI runs, stopping at the first failure:
# ruff (lint + format), mypy, import-linter, pytest (offscreen Qt), then builds the
# application bundle and smoke-tests it offscreen and under xvfb-run (packaging/).
# Extra arguments go to pytest (and skip the bundle):  ./scripts/test.sh -k gui -x
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

kamaros_ensure_packages "${KAMAROS_RUN_PACKAGES[@]}" "${KAMAROS_TEST_PACKAGES[@]}"
kamaros_ensure_uv
kamaros_sync

export QT_QPA_PLATFORM=offscreen
run() { "$UV" run --no-sync "$@"; }
step() {
    local name="$1" start=$SECONDS
    shift
    kamaros_say "$name"
    if ! "$@"; then
        printf '\nFAILED: %s\n' "$name" >&2
        exit 1
    fi
    echo "($name: $((SECONDS - start)) s)"
}

step "ruff check" run ruff check .
step "ruff format --check" run ruff format --check .
step "mypy" run mypy
step "import-linter" run lint-imports

kamaros_say "pytest"
set +e
run pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "FAILED: pytest collected no tests (exit code 5)." >&2
    exit 1
fi
[ "$status" -eq 0 ] || exit "$status"
# The reliability campaign ran inside pytest; show its figures (docs/RELIABILITY.md).
if [ -f build/reliability/figures.json ]; then
    step "reliability figures" run python -m tests.reliability.report --print
fi

# The application bundle (full runs only: not when arguments pick some tests).
if [ "$#" -eq 0 ] && [ "${KAMAROS_SKIP_BUNDLE:-0}" != 1 ]; then
    step "build the bundle (packaging/build.sh)" packaging/build.sh --no-setup
    step "bundle smoke test (offscreen, xvfb-run, command line)" packaging/smoke-test.sh
fi
