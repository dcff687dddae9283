"""kill -9 at random moments of checkpoints, restores and gc: nothing committed is lost."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kamaros_app.engine import Project
from kamaros_app.engine.hashing import hash_bytes

CHILD = Path(__file__).with_name("crash_child.py")
RUNS = int(os.environ.get("KAMAROS_CRASH_RUNS", "12"))


def run_and_kill(root: Path, mode: str, seed: int, delay: float) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(root), mode, str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    out, err = child.communicate()
    assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]
    return [json.loads(line) for line in out.decode().splitlines() if line.strip()]


@pytest.mark.parametrize("mode", ["checkpoint", "restore", "gc"])
def test_kill_minus_nine_never_loses_a_committed_checkpoint(tmp_path: Path, mode: str) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "seed.txt").write_text("seed\n")
    with Project.init(root) as project:
        project.checkpoint("start")
    rng = random.Random(1234)
    committed: list[dict] = []
    for run in range(RUNS):
        committed += run_and_kill(root, mode, seed=run, delay=rng.uniform(0.3, 1.5))
        with Project.open(root) as project:
            ids = {v.id for v in project.manifest.versions}
            report = project.verify()
            assert report.ok, report.to_json()
            for record in committed:
                assert record["id"] in ids, f"run {run}: committed checkpoint lost"
            # every committed checkpoint restores byte-for-byte (spot-check the newest few)
            for record in committed[-3:]:
                states = project.file_states(record["id"])
                assert {p: s.hash for p, s in states.items()} == record["files"]
                for path, digest in record["files"].items():
                    assert hash_bytes(project.read_file(record["id"], path)) == digest
    assert len(committed) >= RUNS // 2, "the child rarely got to commit; timing too tight"
