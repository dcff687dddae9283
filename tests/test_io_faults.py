"""Regression tests for what the crash-at-every-I/O campaign found
(tests/reliability/test_every_io_op.py), each reduced to one injected fault."""

from __future__ import annotations

import ctypes
import errno
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kamaros_app.engine import Project, diskio
from kamaros_app.engine.diskio import FaultInjector, Op, SimulatedCrash
from kamaros_app.engine.errors import DiskFullError
from kamaros_app.engine.layout import JOURNAL_FILE


def _two_versions(root: Path) -> tuple[str, str]:
    root.mkdir()
    (root / "a.txt").write_text("a1\n")
    (root / "b.txt").write_text("b1\n")
    with Project.init(root) as project:
        first = project.checkpoint("one").id
        (root / "a.txt").write_text("a2\n")
        (root / "b.txt").write_text("b2\n")
        second = project.checkpoint("two").id
    return first, second


def _index_of(ops: list[Op], kind: str, path_end: str) -> int:
    return next(i for i, op in enumerate(ops) if op.kind == kind and op.path.endswith(path_end))


def test_partial_restore_cut_before_its_journal_went_away_is_finished_by_repeating_it(
    tmp_path: Path,
) -> None:
    """The journal of a partial restore interrupted after its last file stayed forever:
    repeating the restore found nothing to do and left it; the notice did not say which
    paths to restore again."""
    root = tmp_path / "p"
    first, _ = _two_versions(root)
    counting = FaultInjector()
    probe = tmp_path / "probe"
    shutil.copytree(root, probe)
    with diskio.inject(counting), Project.open(probe) as project:
        project.restore(first, ["a.txt"])
    at = _index_of(counting.ops, "unlink", str(JOURNAL_FILE))
    try:
        with diskio.inject(FaultInjector("crash", at)), Project.open(root) as project:
            project.restore(first, ["a.txt"])
    except SimulatedCrash:
        pass
    with Project.open(root) as project:
        assert f"Restore {first[:8]} a.txt again" in " ".join(project.notices)
        assert (root / "a.txt").read_text() == "a1\n"
        project.restore(first, ["a.txt"])
        assert project.interrupted_restore() is None
    with Project.open(root) as project:
        assert not project.notices
        assert (root / "a.txt").read_text() == "a1\n" and (root / "b.txt").read_text() == "b2\n"


def test_full_disk_while_saving_the_stat_cache_does_not_fail_a_saved_checkpoint(
    tmp_path: Path,
) -> None:
    """The checkpoint was committed, then the stat cache (optional) hit a full disk and
    the DiskFullError escaped `except OSError`: the checkpoint was reported failed."""
    root = tmp_path / "p"
    _two_versions(root)
    (root / "a.txt").write_text("a3\n")
    full = FaultInjector("error", 0, kinds={"write"}, errno=errno.ENOSPC, every=True)

    def only_the_cache(op: Op) -> int | None:
        return full(op) if "stat-cache" in op.path else None

    with diskio.inject(only_the_cache), Project.open(root) as project:
        info = project.checkpoint("three")
    assert full.fired, "the stat cache was not written"
    with Project.open(root) as project:
        assert project.manifest.versions[-1].id == info.id
        assert project.status().is_clean
    assert isinstance(DiskFullError("x"), OSError)


@pytest.mark.parametrize("code", [errno.EIO, errno.EACCES])
def test_gc_whose_folder_flush_fails_after_the_swap_is_done(tmp_path: Path, code: int) -> None:
    """gc swapped the compacted container in, then the folder fsync failed: gc reported
    failure although it was done, and the Project kept reading the old, replaced file, so
    the next checkpoint failed with "was replaced since it was read"."""
    root = tmp_path / "p"
    _two_versions(root)
    failing = FaultInjector("error", 0, kinds={"fsync_dir"}, errno=code)
    swapped: list[Op] = []

    def after_the_swap(op: Op) -> int | None:
        if op.kind == "replace" and op.path.endswith("project.jcf"):
            swapped.append(op)
        return failing(op) if swapped else None

    with Project.open(root) as project:
        with diskio.inject(after_the_swap):
            project.gc()
        assert failing.fired
        assert project.dead_bytes() == 0
        (root / "b.txt").write_text("b3\n")
        project.checkpoint("after gc")  # the same object keeps working
        assert project.verify().ok


def test_a_full_disk_is_a_disk_full_error_wherever_it_is_hit(tmp_path: Path) -> None:
    """ENOSPC from creating a folder (export, import) escaped as a bare OSError."""
    root = tmp_path / "p"
    first, _ = _two_versions(root)
    full = FaultInjector("error", 0, kinds={"mkdir"}, errno=errno.ENOSPC, every=True)
    with (
        Project.open(root, read_only=True) as project,
        diskio.inject(full),
        pytest.raises(DiskFullError) as info,
    ):
        project.export_version(first, tmp_path / "out" / "files")
    assert isinstance(info.value, OSError) and info.value.errno == errno.ENOSPC
    assert "out" in str(info.value)
    assert not (tmp_path / "out").exists()


def test_an_interrupted_export_to_a_folder_does_not_look_finished(tmp_path: Path) -> None:
    """A crash half-way left the folder with some of the files, looking like an export."""
    root = tmp_path / "p"
    first, _ = _two_versions(root)
    dest = tmp_path / "out"
    dest.mkdir()  # an empty folder chosen by the person
    with Project.open(root, read_only=True) as project:
        counting = FaultInjector()
        with diskio.inject(counting):
            project.export_version(first, tmp_path / "probe")
        second_file = [i for i, op in enumerate(counting.ops) if op.kind == "write"][1]
        with diskio.inject(FaultInjector("crash", second_file)), pytest.raises(SimulatedCrash):
            project.export_version(first, dest)
        assert list(dest.iterdir()) == []  # still the empty folder
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [".out.new-tmp"]
        project.export_version(first, dest)  # the next export clears the leftover
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "p", "probe"]
    assert (dest / "a.txt").read_text() == "a1\n" and (dest / "b.txt").read_text() == "b1\n"


def test_a_failed_file_system_flush_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """syncfs failing (a write-back error: data may be lost) fell back to sync(), which
    reports nothing, so a restore or export with lost data was reported done."""

    def failing(code: int) -> Callable[[int], int]:
        def syncfs(fd: int) -> int:
            ctypes.set_errno(code)
            return -1

        return syncfs

    monkeypatch.setattr(diskio, "_load_syncfs", lambda: failing(errno.EIO))
    with pytest.raises(OSError) as info:
        diskio.sync_filesystem(tmp_path)
    assert info.value.errno == errno.EIO
    monkeypatch.setattr(diskio, "_load_syncfs", lambda: failing(errno.ENOSYS))  # sync()
    diskio.sync_filesystem(tmp_path)
