"""Fuzz the container and manifest readers: only KamarosError may escape, and no wrong
bytes are ever returned. Hypothesis runs on every CI run (derandomised, so a failure is
reproducible); `--long` runs many more examples and the coverage-guided atheris fuzzer.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability import fuzz_targets as targets
from tests.reliability.workload import REPO, Tally, child_env

SUPPRESS = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


def examples(long_mode: bool, ci: int) -> settings:
    return settings(
        max_examples=ci * 20 if long_mode else ci,
        deadline=None,
        derandomize=not long_mode,
        database=None,
        suppress_health_check=SUPPRESS,
    )


@pytest.fixture(scope="module")
def seeded() -> None:
    targets.seed_container()
    targets.seed_manifest()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=30,
)


def test_fuzz_manifest_reader(seeded: None, campaign, long_mode: bool) -> None:
    tally = Tally(campaign, "fuzz: manifest reader (hypothesis)")

    @examples(long_mode, 400)
    @given(
        st.one_of(
            st.binary(max_size=400),
            JSON.map(lambda v: __import__("json").dumps(v).encode()),
            st.integers(0, 2**32).map(targets.mutated_manifest),
        )
    )
    def run(raw: bytes) -> None:
        with tally.run(repr(raw[:80])):
            targets.manifest_target(raw)

    run()
    tally.finish()


def test_fuzz_container_reader(seeded: None, campaign, long_mode: bool) -> None:
    tally = Tally(campaign, "fuzz: container readers (hypothesis)")

    @examples(long_mode, 250)
    @given(
        st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=6),
        st.none() | st.floats(0, 1),
    )
    def run(edits: list[tuple[float, int]], cut: float | None) -> None:
        with tally.run(f"{edits} cut={cut}"):
            targets.container_target(targets.mutated_container(0, edits, cut))

    run()
    tally.finish()


def test_atheris_fuzzer(tmp_path: Path, campaign, long_mode: bool) -> None:
    """Coverage-guided fuzzing of the same targets: `--long` only (minutes of CPU)."""
    if not long_mode:
        pytest.skip("the atheris fuzzer runs in --long mode")
    pytest.importorskip("atheris")
    runs = int(os.environ.get("KAMAROS_ATHERIS_RUNS", "20000"))
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("fuzz_container.py")),
            f"-runs={runs}",
            "-max_total_time=600",
            f"-artifact_prefix={tmp_path}/",
        ],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=REPO,
        timeout=900,
    )
    crashes = list(tmp_path.glob("crash-*"))
    campaign.record(
        "fuzz: container and manifest (atheris, coverage-guided)",
        runs,
        len(crashes) + (done.returncode != 0),
    )
    assert done.returncode == 0 and not crashes, done.stderr[-4000:]
