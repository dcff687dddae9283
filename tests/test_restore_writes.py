"""Restore into the project folder: large files read ahead and handed to the disk as they
are written, each folder checked once, and still one file at a time, all or nothing."""

from __future__ import annotations

import os
import shutil
import stat
import threading
from pathlib import Path

import pytest

from kamaros_app.engine import Project, diskio
from kamaros_app.engine.diskio import FaultInjector, SimulatedCrash

BIG = 9 << 20


def _helpers() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "kamaros-read-ahead"]


def _two_versions(root: Path) -> tuple[str, bytes, bytes]:
    (root / "a" / "b").mkdir(parents=True)
    old = os.urandom(BIG)
    new = os.urandom(BIG)
    (root / "big.bin").write_bytes(old)
    for i in range(5):
        (root / "a" / "b" / f"{i}.txt").write_text(f"one {i}\n")
    with Project.init(root) as project:
        first = project.checkpoint("one").id
        (root / "big.bin").write_bytes(new)
        for i in range(5):
            (root / "a" / "b" / f"{i}.txt").write_text(f"two {i}\n")
        project.checkpoint("two")
    return first, old, new


def test_restore_of_a_large_file_hands_it_to_the_disk(tmp_path: Path) -> None:
    root = tmp_path / "p"
    first, old, _ = _two_versions(root)
    (root / "big.bin").chmod(0o755)  # a restore keeps the other permission bits
    with Project.open(root) as project:
        project.checkpoint("exec bit")
        with diskio.inject(FaultInjector()) as counting:
            project.restore(first)
    assert isinstance(counting, FaultInjector)
    kinds = [op.kind for op in counting.ops if "/.kamaros/" not in op.path]
    assert kinds.count("writeback") == 1
    assert kinds.count("mkdir") == 0  # the folder a/b was checked once and kept
    assert (root / "big.bin").read_bytes() == old
    assert stat.S_IMODE((root / "big.bin").stat().st_mode) & 0o111 == 0
    assert (root / "a" / "b" / "3.txt").read_text() == "one 3\n"
    assert _helpers() == []


def test_restore_into_removed_folders(tmp_path: Path) -> None:
    root = tmp_path / "p"
    first, _, _ = _two_versions(root)
    with Project.open(root) as project:
        for i in range(5):
            (root / "a" / "b" / f"{i}.txt").unlink()
        (root / "a" / "b").rmdir()
        (root / "a").rmdir()
        project.restore(first)
    assert sorted(p.name for p in (root / "a" / "b").iterdir()) == [f"{i}.txt" for i in range(5)]


@pytest.mark.parametrize("where", ["first", "last"])
def test_crash_inside_a_large_file_keeps_the_old_one_whole(tmp_path: Path, where: str) -> None:
    root = tmp_path / "p"
    first, old, new = _two_versions(root)
    probe = tmp_path / "probe"
    shutil.copytree(root, probe)  # a counting run on a copy finds the operations
    with Project.open(probe) as project, diskio.inject(FaultInjector()) as counting:
        project.restore(first)
    assert isinstance(counting, FaultInjector)
    big = [
        i
        for i, op in enumerate(counting.ops)
        if op.kind in ("write", "writeback") and ".big.bin" in op.path
    ]
    at = big[0] if where == "first" else big[-1]
    with (
        Project.open(root) as project,
        diskio.inject(FaultInjector("crash", at)),
        pytest.raises(SimulatedCrash),
    ):
        project.restore(first)
    assert _helpers() == []
    assert (root / "big.bin").read_bytes() == new  # all or nothing per file
    with Project.open(root) as project:
        assert project.interrupted_restore() is not None
        project.restore(first)
        assert project.interrupted_restore() is None
    assert (root / "big.bin").read_bytes() == old
