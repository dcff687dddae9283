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

from kamaros_app.engine import Project, import_container
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
        committed += run_and_kill(root, mode, seed=run, delay=rng.uniform(0.4, 2.0))
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
    # Kills land at random points; make sure the runs did commit work, not just start up.
    assert len(committed) >= 3, "the child rarely got to commit; timing too tight"


IMPORT_CHILD = """
import sys
from pathlib import Path
from kamaros_app.engine import import_container
import_container(Path(sys.argv[1]), Path(sys.argv[2])).close()
print("done", flush=True)
"""


def test_kill_minus_nine_during_import(tmp_path: Path) -> None:
    source_root = tmp_path / "source"
    source_root.mkdir()
    rng = random.Random(7)
    expected: dict[str, bytes] = {}
    with Project.init(source_root) as project:
        for round_ in range(3):
            for n in range(40):
                data = rng.randbytes(rng.randint(0, 400_000))
                (source_root / f"f{n}.bin").write_bytes(data)
                expected[f"f{n}.bin"] = data
            project.checkpoint(f"round {round_}")
        standalone = tmp_path / "standalone.jcf"
        project.export_container(standalone)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    outcomes = {"finished": 0, "resumed": 0, "absent": 0}
    for run in range(max(4, RUNS // 2)):
        dest = tmp_path / f"dest{run}"
        child = subprocess.Popen(
            [sys.executable, "-c", IMPORT_CHILD, str(standalone), str(dest)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        time.sleep(rng.uniform(0.25, 1.2))
        child.send_signal(signal.SIGKILL)
        child.communicate()
        if not (dest / ".kamaros" / "project.jcf").exists():
            outcomes["absent"] += 1
            project = import_container(standalone, dest)  # a retry must work
        else:
            project = Project.open(dest)
            outcomes["resumed" if project.notices else "finished"] += 1
        with project:
            assert len(project.manifest.versions) == 3
            assert project.verify().ok
            on_disk = {p.name: p.read_bytes() for p in dest.iterdir() if p.is_file()}
            assert on_disk == expected
            assert project.status().is_clean
    print(outcomes)
