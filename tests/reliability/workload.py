"""Shared pieces of the reliability campaign: random edits, folder snapshots, a real small
file system, child processes that get killed, and the checks every scenario repeats.

Child scripts import this module too (`python -m tests.reliability.kill_child`), so it
imports nothing from pytest at module level.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kamaros_app.engine import History, Project
from kamaros_app.engine.fsutil import TEMP_MARKER
from kamaros_app.engine.hashing import hash_bytes
from kamaros_app.engine.layout import KAMAROS_DIR

REPO = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------- folders


def write(root: Path, rel: str, data: bytes | str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def is_ours(rel: Path) -> bool:
    """Our history folder and our temp files: not part of what a person sees as the folder."""
    return ".kamaros" in rel.parts or ".kamaros-tmp" in rel.name


def snapshot(root: Path) -> dict[str, str]:
    """path -> BLAKE3 of every regular file in the folder (history and temp files left out)."""
    out = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if path.is_file() and not path.is_symlink() and not is_ours(rel):
            out[rel.as_posix()] = hash_bytes(path.read_bytes())
    return out


def state_hashes(project: History, ref: str) -> dict[str, str]:
    return {p: s.hash for p, s in project.file_states(ref).items()}


def mutate(root: Path, rng: random.Random, *, scale: int = 1) -> None:
    """A few random edits: new, changed and deleted text and binary files, in a subfolder
    now and then. `scale` multiplies the sizes (1: tens of kilobytes per edit)."""
    for _ in range(rng.randint(1, 4)):
        name = f"f{rng.randint(0, 9)}.{'txt' if rng.random() < 0.6 else 'bin'}"
        path = root / ("sub" if rng.random() < 0.3 else "") / name
        path.parent.mkdir(exist_ok=True)
        if rng.random() < 0.15 and path.exists():
            path.unlink()
        elif name.endswith(".txt"):
            old = path.read_text().splitlines(keepends=True) if path.exists() else []
            if old and rng.random() < 0.7:  # an edit of a few lines: stored as a patch
                for _ in range(rng.randint(1, 5)):
                    old[rng.randrange(len(old))] = f"edit {rng.random()}\n"
                lines = old
            else:
                lines = [f"line {i} {rng.random()}\n" for i in range(rng.randint(10, 400 * scale))]
            path.write_text("".join(lines))
        else:
            path.write_bytes(rng.randbytes(rng.randint(0, 60_000 * scale)))


def make_history(root: Path, rng: random.Random, versions: int, *, scale: int = 1) -> Project:
    """A new project in `root` with `versions` random checkpoints (left open)."""
    root.mkdir(parents=True, exist_ok=True)
    project = Project.init(root, author="campaign")
    for n in range(versions):
        mutate(root, rng, scale=scale)
        while project.status().is_clean:
            mutate(root, rng, scale=scale)
        project.checkpoint(f"version {n}")
    return project


def leftovers(root: Path) -> list[str]:
    """Temp files of ours anywhere in the project: `*.kamaros-tmp-*` beside any file, and
    `*-tmp*` in the history folder (import, compaction)."""
    out = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        ours = TEMP_MARKER in path.name or (rel.parts[0] == KAMAROS_DIR and "-tmp" in path.name)
        if ours and path.is_file():
            out.append(rel.as_posix())
    return sorted(out)


def forget_manifests() -> None:
    """Empty the in-process manifest cache. It is keyed by the file's identity and its
    newest commit, which a test that damages a container in place keeps unchanged, so a
    manifest parsed before the damage would be served instead of the damaged bytes."""
    from kamaros_app.engine import manifest_cache

    manifest_cache._cache.clear()


def forget_open_indexes() -> None:
    """Remove the (test-private) user cache folder of Kamaros with every open index
    (open_index.py). Whether an index exists decides whether an open writes one, so runs
    that must see the same sequence of I/O operations each start without any."""
    from kamaros_app.engine.open_index import index_folder

    shutil.rmtree(index_folder().parent, ignore_errors=True)


def check_every_version(project: History, expected: dict[str, dict[str, str]]) -> None:
    """Each version in `expected` has exactly those files, and their bytes rebuild."""
    for version_id, files in expected.items():
        assert state_hashes(project, version_id) == files, f"{version_id[:8]}: wrong file list"
        for path, digest in files.items():
            assert hash_bytes(project.read_file(version_id, path)) == digest, path


# ---------------------------------------------------------------- child processes


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}


@dataclass
class KillRun:
    """One child process killed with SIGKILL some time after it announced its operation."""

    events: list[dict[str, object]] = field(default_factory=list)
    killed: bool = False
    stderr: str = ""

    def event(self, name: str) -> dict[str, object] | None:
        return next((e for e in self.events if e.get("event") == name), None)


def run_and_kill(args: list[str], delay: float, *, timeout: float = 60.0) -> KillRun:
    """Start `python -m args...`, wait for its {"event": "start"} line, sleep `delay`
    and SIGKILL it. The delay counts from the start of the operation, not of the process."""
    child = subprocess.Popen(
        [sys.executable, "-m", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
        cwd=REPO,
    )
    assert child.stdout is not None
    run = KillRun()
    deadline = time.monotonic() + timeout
    try:
        while True:
            line = child.stdout.readline()
            if not line:
                break
            run.events.append(json.loads(line))
            if run.events[-1].get("event") == "start":
                try:
                    child.wait(timeout=delay)
                except subprocess.TimeoutExpired:
                    child.send_signal(signal.SIGKILL)
                break
            if time.monotonic() > deadline:
                raise TimeoutError("the child never started its operation")
        rest, err = child.communicate(timeout=timeout)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    run.events += [json.loads(line) for line in rest.decode().splitlines() if line.strip()]
    run.stderr = err.decode(errors="replace")
    run.killed = child.returncode == -signal.SIGKILL
    if not run.killed and child.returncode != 0:
        raise AssertionError(f"child failed ({child.returncode}):\n{run.stderr[-3000:]}")
    return run


class Delays:
    """Kill delays spread over the operation's duration, learnt from the runs that finished
    before the kill (each child reports how long its operation took)."""

    def __init__(self, rng: random.Random, initial: float) -> None:
        self.rng = rng
        self.estimate = initial
        self.learnt = False
        self.count = 0

    def next(self) -> float:
        """A kill delay; every 20th run is left to finish, to re-measure the operation
        (it slows down as the history grows, and kills alone would not show it)."""
        self.count += 1
        if self.count % 20 == 0:
            return max(10.0, 5 * self.estimate)
        return self.rng.uniform(0.0, 1.15 * self.estimate)

    def learn(self, run: KillRun) -> None:
        done = run.event("done")
        if done is not None:
            seconds = float(str(done.get("seconds", self.estimate)))
            weight = 0.3 if self.learnt else 1.0
            self.estimate = (1 - weight) * self.estimate + weight * seconds
            self.learnt = True


# ---------------------------------------------------------------- counting runs and failures


class Tally:
    """Runs of one scenario: each run's invariant checks go in `with tally.run(label):`.

    A violated invariant (any exception in the block) is counted as a failure found and the
    loop goes on, so the figures say how many runs broke; `finish()` records the figures
    with the campaign and fails the test if any run broke. `stop` is true after a few
    failures: later runs build on a state that is already wrong.
    """

    def __init__(self, campaign: object, name: str, *, note: str = "") -> None:
        self.campaign = campaign
        self.name = name
        self.note = note
        self.runs = 0
        self.failures: list[str] = []
        self.began = time.perf_counter()

    @property
    def stop(self) -> bool:
        return len(self.failures) >= 3

    @contextlib.contextmanager
    def run(self, label: str = "") -> Iterator[None]:
        self.runs += 1
        try:
            yield
        except Exception as exc:  # every exception is an invariant the run broke
            import traceback

            detail = "".join(traceback.format_exception(exc)[-6:])
            self.failures.append(f"{self.name} {label}: {exc!r}\n{detail}")

    def finish(self, outcomes: dict[str, int] | None = None) -> None:
        """Record the figures (with `outcomes`, counted by kind, as the note) and fail the
        test if any run broke an invariant."""
        if outcomes is not None:
            self.note = ", ".join(f"{kind}: {count}" for kind, count in outcomes.items())
        self.campaign.record(  # type: ignore[attr-defined]
            self.name,
            self.runs,
            len(self.failures),
            note=self.note,
            seconds=time.perf_counter() - self.began,
        )
        assert not self.failures, "\n\n".join(self.failures[:3])


# ---------------------------------------------------------------- a real, small file system


def can_mount() -> bool:
    return os.name == "posix" and os.geteuid() == 0 and shutil.which("mount") is not None


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of `size` at `where` for the block (the caller skips when not root)."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
    )
    if done.returncode != 0:
        raise OSError(f"cannot mount a tmpfs: {done.stderr.decode(errors='replace')}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


def remount(where: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(where)], check=True)


def run_python(code: str, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter (with the repository importable)."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=REPO,
        timeout=timeout,
    )
