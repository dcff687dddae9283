"""Regression tests for what the crash-at-every-I/O campaign found
(tests/reliability/test_every_io_op.py), each reduced to one injected fault."""

from __future__ import annotations

import shutil
from pathlib import Path

from kamaros_app.engine import Project, diskio
from kamaros_app.engine.diskio import FaultInjector, Op, SimulatedCrash
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
