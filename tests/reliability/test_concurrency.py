"""Concurrency with real processes: two writers, a window reading while a writer works,
and a lock whose owner was killed."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kamaros_app.engine import LockedError, Project
from kamaros_app.engine.hashing import hash_bytes
from tests.reliability.workload import REPO, Tally, child_env, make_history, state_hashes

WRITER = """
import json, random, sys, time
from pathlib import Path
from kamaros_app.engine import LockedError, NothingToSaveError, Project
from kamaros_app.engine.hashing import hash_bytes
root, name, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rng = random.Random(name)
for n in range(rounds):
    path = root / f"{name}-{n % 5}.txt"
    data = f"{name} round {n} {rng.random()}\\n".encode() * rng.randint(1, 2000)
    path.write_bytes(data)
    while True:
        try:
            with Project.open(root) as project:
                info = project.checkpoint(f"{name} {n}")
            print(json.dumps({"id": info.id, "path": path.name, "hash": hash_bytes(data)}))
        except LockedError:
            print(json.dumps({"locked": True}))
            time.sleep(rng.uniform(0, 0.01))
            continue
        except NothingToSaveError:  # the other writer saved this change already
            print(json.dumps({"saved by the other": path.name, "hash": hash_bytes(data)}))
        break
    sys.stdout.flush()
"""


def test_two_writers_in_a_loop(tmp_path: Path, campaign, long_mode: bool) -> None:
    """Every checkpoint either writer was told succeeded is in the history with the bytes
    it saved; the loser of each race gets LockedError and nothing else; none is lost."""
    rounds = 400 if long_mode else 40
    tally = Tally(campaign, "two processes checkpointing one project")
    root = tmp_path / "p"
    root.mkdir()
    Project.init(root).close()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(root), name, str(rounds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
            cwd=REPO,
        )
        for name in ("alice", "bob")
    ]
    results = [child.communicate(timeout=600) for child in children]
    events = [json.loads(line) for out, _ in results for line in out.splitlines()]
    saved = [e for e in events if "id" in e]
    with tally.run("final history"):
        for child, (_, err) in zip(children, results, strict=True):
            assert child.returncode == 0, err[-3000:]  # no error but LockedError, retried
        with Project.open(root) as project:
            ids = {v.id for v in project.manifest.versions}
            for event in saved:
                assert event["id"] in ids, "a successful checkpoint is missing"
                assert state_hashes(project, event["id"])[event["path"]] == event["hash"]
            assert len(ids) == len(saved)
            assert project.verify().ok
    tally.runs += len(saved) - 1
    locked = sum(1 for e in events if e.get("locked"))
    tally.note = f"{len(saved)} checkpoints, {locked} times locked out and retried"
    tally.finish()


BUSY_WRITER = """
import random, sys, time
from pathlib import Path
from kamaros_app.engine import NothingToSaveError, Project
from tests.reliability.workload import mutate
root, seconds = Path(sys.argv[1]), float(sys.argv[2])
rng = random.Random(1)
end = time.monotonic() + seconds
with Project.open(root) as project:
    n = 0
    while time.monotonic() < end:
        mutate(root, rng)
        try:
            project.checkpoint(f"busy {n}")
        except NothingToSaveError:
            pass
        if n % 7 == 6:
            project.gc()  # the container is replaced under the reader's feet
        if n % 5 == 4:
            project.restore(rng.choice(project.manifest.versions).id)
        n += 1
print(n)
"""


def test_a_window_reads_while_a_writer_works(tmp_path: Path, campaign, long_mode: bool) -> None:
    """A read-only open (the window) during checkpoints, restores and gc of another process
    always sees one consistent commit: a history that only grows, and every file of its
    newest checkpoint reads back with its hash."""
    seconds = 60.0 if long_mode else 6.0
    tally = Tally(campaign, "a window reading while another process writes")
    root = tmp_path / "p"
    make_history(root, random.Random(2), 2).close()
    writer = subprocess.Popen(
        [sys.executable, "-c", BUSY_WRITER, str(root), str(seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
        cwd=REPO,
    )
    seen: list[str] = []
    while writer.poll() is None:
        with tally.run(f"read {tally.runs}"), Project.open(root, read_only=True) as window:
            ids = [v.id for v in window.manifest.versions]
            assert ids[: len(seen)] == seen, "the history shown went back or changed"
            seen = ids
            for path, state in window.file_states("HEAD").items():
                assert hash_bytes(window.read_file("HEAD", path)) == state.hash
        if tally.stop:
            break
    out, err = writer.communicate(timeout=120)
    with tally.run("writer"):
        assert writer.returncode == 0, err[-3000:]
    tally.note = f"{tally.runs - 1} reads during {out.strip()} writes"
    tally.finish()


HOLDER = """
import sys, time
from pathlib import Path
from kamaros_app.engine import Project
project = Project.open(Path(sys.argv[1]))
print("holding", flush=True)
time.sleep(600)
"""


def test_a_lock_left_by_a_killed_process(tmp_path: Path, campaign) -> None:
    """While its owner lives the project is locked (with a clear error); kill -9 the owner
    and the next writer gets in at once: the OS releases the lock with the process."""
    tally = Tally(campaign, "lock left by a killed process")
    root = tmp_path / "p"
    make_history(root, random.Random(3), 1).close()
    for run in range(5):
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
            cwd=REPO,
        )
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        with tally.run(f"run {run}"):
            try:
                Project.open(root).close()
                raise AssertionError("a second writer got in while the first was alive")
            except LockedError as exc:
                assert "another Kamaros" in str(exc)
            with Project.open(root, read_only=True):
                pass  # a window is never locked out
            holder.send_signal(signal.SIGKILL)
            holder.wait()
            began = time.monotonic()
            with Project.open(root) as project:
                assert project.verify().ok
            assert time.monotonic() - began < 5
    tally.finish()


def test_an_unusable_lock_file_fails_at_once(tmp_path: Path) -> None:
    """The lock file itself unusable (a folder in its place): an error naming it at once
    (the command line prints it), never a wait."""
    root = tmp_path / "p"
    make_history(root, random.Random(4), 1).close()
    lock = root / ".kamaros" / "lock"
    lock.unlink()
    lock.mkdir()
    began = time.monotonic()
    with pytest.raises(OSError, match="lock"):
        Project.open(root).close()
    assert time.monotonic() - began < 5
