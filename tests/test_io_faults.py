"""Regression tests for what the crash-at-every-I/O campaign found
(tests/reliability/test_every_io_op.py), each reduced to one injected fault."""

from __future__ import annotations

import errno
import shutil
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
