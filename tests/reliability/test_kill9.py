"""Crash consistency with real processes: kill -9 at random moments of checkpoint, restore,
gc, export and import, then open the project and check that nothing committed is lost,
nothing half-written is visible, and no temp file is left behind.

Each run is one child process (`kill_child.py`) that announces its operation; the kill
comes a random delay after that announcement, spread over the operation's measured
duration, so the kills land at every phase of the operation rather than at start-up.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from kamaros_app.engine import History, Project, import_container
from kamaros_app.engine.layout import CONTAINER_FILE, KAMAROS_DIR
from tests.reliability.workload import (
    Delays,
    Tally,
    check_every_version,
    leftovers,
    make_history,
    run_and_kill,
    run_python,
    snapshot,
    state_hashes,
)

CHILD = "tests.reliability.kill_child"


def runs_for(long_mode: bool, ci: int) -> int:
    return ci * 10 if long_mode else ci


def all_states(project: History) -> dict[str, dict[str, str]]:
    return {v.id: state_hashes(project, v.id) for v in project.manifest.versions}


def check_open_clean(project: Project, *, full_verify: bool) -> None:
    assert leftovers(project.root) == [], "temp files survived the next open"
    if full_verify:
        report = project.verify()
        assert report.ok, report.to_json()


def test_kill_during_checkpoint(tmp_path: Path, campaign, long_mode: bool) -> None:
    rng = random.Random(101)
    root = tmp_path / "proj"
    with make_history(root, rng, 2) as project:
        committed = all_states(project)
    delays = Delays(rng, 10.0)  # the first run measures how long a checkpoint takes
    tally = Tally(campaign, "kill -9 during checkpoint")
    outcomes = {"killed, absent": 0, "killed, committed": 0, "finished": 0}
    for run in range(runs_for(long_mode, 60)):
        result = run_and_kill([CHILD, "checkpoint", str(root), str(run)], delays.next())
        delays.learn(result)
        with tally.run(f"run {run}"), Project.open(root) as project:
            start, done = result.event("start"), result.event("done")
            assert start is not None
            ids = [v.id for v in project.manifest.versions]
            assert set(committed) <= set(ids), "a committed checkpoint was lost"
            new = [i for i in ids if i not in committed]
            assert len(new) <= 1, "more than one new checkpoint"
            if done is not None and done["id"] is not None:
                assert new == [done["id"]], "a finished checkpoint is missing"
            if new:
                files = start["files"]
                assert isinstance(files, dict)
                committed[new[0]] = files
                check_every_version(project, {new[0]: files})  # the saved state, exactly
            outcomes["finished" if done else "killed, committed" if new else "killed, absent"] += 1
            sample = rng.sample(sorted(committed), min(2, len(committed)))
            check_every_version(project, {v: committed[v] for v in sample})
            check_open_clean(project, full_verify=not long_mode or run % 20 == 0)
        if tally.stop:
            break
    tally.finish(outcomes)


def test_kill_during_restore(tmp_path: Path, campaign, long_mode: bool) -> None:
    """Killed mid-restore, the folder can be brought to either side, and the person is told.

    Before every run the folder is clean; 30% of runs first add unsaved work (the restore
    saves it in a safety checkpoint). After the kill: no unsaved work may be lost (it is in
    the folder or in a checkpoint); if the journal says the restore was interrupted, the
    open notices say so and name both sides, and restoring either side gives exactly that
    side; otherwise the folder is exactly the old or the new state.
    """
    rng = random.Random(202)
    root = tmp_path / "proj"
    with make_history(root, rng, 5, scale=2) as project:
        known = all_states(project)
    delays = Delays(rng, 10.0)
    tally = Tally(campaign, "kill -9 during restore")
    outcomes = {"interrupted, finished": 0, "interrupted, went back": 0, "old": 0, "new": 0}
    for run in range(runs_for(long_mode, 60)):
        result = run_and_kill([CHILD, "restore", str(root), str(run)], delays.next())
        delays.learn(result)
        with tally.run(f"run {run}"), Project.open(root) as project:
            start = result.event("start")
            assert start is not None
            target, old_files = str(start["target"]), start["files"]
            assert isinstance(old_files, dict)
            known.update(all_states(project))
            new_files = known[target]
            saved = old_files == snapshot(root) or old_files in known.values()
            assert saved, "unsaved work was lost"
            journal = project.interrupted_restore()
            if journal is not None:
                assert str(journal["target"]) == target
                notice = " ".join(project.notices)
                assert "interrupted" in notice and target[:8] in notice, project.notices
                previous = str(journal["previous"])
                assert previous[:8] in notice
                finish = rng.random() < 0.5
                project.restore(target if finish else previous)
                want = new_files if finish else known[previous]
                assert want == old_files or finish or previous in known
                assert snapshot(root) == want, "restoring one side did not give that side"
                outcomes["interrupted, finished" if finish else "interrupted, went back"] += 1
            else:
                now = snapshot(root)
                assert now in (old_files, new_files), "the folder is neither old nor new"
                outcomes["new" if now == new_files and now != old_files else "old"] += 1
                if not project.status().is_clean:
                    project.checkpoint("after the kill")  # so the next run starts clean
            check_open_clean(project, full_verify=not long_mode or run % 20 == 0)
        if tally.stop:
            break
    tally.finish(outcomes)


def test_kill_during_gc(tmp_path: Path, campaign, long_mode: bool) -> None:
    rng = random.Random(303)
    root = tmp_path / "proj"
    with make_history(root, rng, 12, scale=3) as project:
        expected = all_states(project)
    delays = Delays(rng, 10.0)
    tally = Tally(campaign, "kill -9 during gc")
    for run in range(runs_for(long_mode, 40)):
        result = run_and_kill([CHILD, "gc", str(root), str(run)], delays.next())
        delays.learn(result)
        with tally.run(f"run {run}"), Project.open(root) as project:
            assert all_states(project) == expected, "gc changed the history"
            sample = rng.sample(sorted(expected), 3)
            check_every_version(project, {v: expected[v] for v in sample})
            check_open_clean(project, full_verify=True)
        if tally.stop:
            break
    tally.finish()


def test_kill_during_export(tmp_path: Path, campaign, long_mode: bool) -> None:
    """The project is never touched; the destination is absent or a complete container.

    A kill leaves the hidden temp file `.NAME.new-tmp` beside the destination (outside the
    project, so no open can clean it); the next export to that name replaces it."""
    rng = random.Random(404)
    root = tmp_path / "proj"
    with make_history(root, rng, 8, scale=3) as project:
        expected = all_states(project)
    container = (root / CONTAINER_FILE).read_bytes()
    delays = Delays(rng, 10.0)
    tally = Tally(campaign, "kill -9 during export")
    outcomes = {"absent": 0, "complete": 0, "temp left beside it": 0}
    out = tmp_path / "out"
    out.mkdir()
    for run in range(runs_for(long_mode, 40)):
        dest = out / "copy.jcf"
        result = run_and_kill([CHILD, "export", str(root), str(run), str(dest)], delays.next())
        delays.learn(result)
        with tally.run(f"run {run}"):
            assert (root / CONTAINER_FILE).read_bytes() == container, "export changed the project"
            temps = [p for p in out.iterdir() if p.name != "copy.jcf"]
            assert [p.name for p in temps] in ([], [".copy.jcf.new-tmp"])
            outcomes["temp left beside it"] += bool(temps)
            if dest.exists():
                with History.open_file(dest) as history:
                    assert all_states(history) == expected
                    assert history.verify().ok
                outcomes["complete"] += 1
                dest.unlink()
            else:
                outcomes["absent"] += 1
            if result.killed and rng.random() < 0.5:
                with Project.open(root, read_only=True) as project:
                    project.export_container(dest)  # the next export over the leftover works
                assert not any(p.name != "copy.jcf" for p in out.iterdir())
                dest.unlink()
            for temp in out.iterdir():
                temp.unlink()
        if tally.stop:
            break
    tally.finish(outcomes)


def test_kill_during_import(tmp_path: Path, campaign, long_mode: bool) -> None:
    """After the kill the destination is absent or a leftover that a retry clears, or a
    project that opens (finishing an interrupted import) with every version intact."""
    rng = random.Random(505)
    source = tmp_path / "source"
    with make_history(source, rng, 6, scale=3) as project:
        expected = all_states(project)
        head = expected[project.manifest.head or ""]
        standalone = tmp_path / "standalone.jcf"
        project.export_container(standalone)
    delays = Delays(rng, 10.0)
    tally = Tally(campaign, "kill -9 during import")
    outcomes = {"absent or leftover, retried": 0, "finished on open": 0, "complete": 0}
    for run in range(runs_for(long_mode, 40)):
        dest = tmp_path / f"dest{run}"
        result = run_and_kill(
            [CHILD, "import", str(standalone), str(run), str(dest)], delays.next()
        )
        delays.learn(result)
        with tally.run(f"run {run}"):
            if not (dest / CONTAINER_FILE).exists():
                outcomes["absent or leftover, retried"] += 1
                leftover = dest.exists() and [p.name for p in dest.iterdir()] not in (
                    [],
                    [KAMAROS_DIR],
                )
                assert not leftover, f"a failed import left files: {list(dest.iterdir())}"
                project = import_container(standalone, dest)  # a retry must work
            else:
                project = Project.open(dest)
                finished = any("import" in n for n in project.notices)
                outcomes["finished on open" if finished else "complete"] += 1
            with project:
                assert all_states(project) == expected
                assert snapshot(dest) == head
                assert project.status().is_clean
                check_open_clean(project, full_verify=run % 5 == 0)
        if tally.stop:
            break
        shutil.rmtree(dest, ignore_errors=True)
    tally.finish(outcomes)


KILL_AFTER_LANDING = """
import os, signal, sys
from pathlib import Path
from kamaros_app.engine import import_container
from kamaros_app.engine.project import Project
# die the moment the history is in place, before a single file is extracted
Project.extract_head = lambda self, reporter=None: os.kill(os.getpid(), signal.SIGKILL)
import_container(Path(sys.argv[1]), Path(sys.argv[2]))
"""


def test_import_killed_right_after_the_history_landed(tmp_path: Path) -> None:
    """Regression (found by the import kills): the container was renamed into place before
    anything marked the import as unfinished, so a kill just then left a project whose
    files all looked deleted. Now the journal is written first and the next open extracts
    the files, saying an import was finished (and not that a restore was interrupted)."""
    rng = random.Random(7)
    with make_history(tmp_path / "source", rng, 3) as project:
        head = state_hashes(project, "HEAD")
        project.export_container(tmp_path / "standalone.jcf")
    dest = tmp_path / "dest"
    done = run_python(KILL_AFTER_LANDING, str(tmp_path / "standalone.jcf"), str(dest))
    assert done.returncode == -9, done.stderr
    assert snapshot(dest) == {}
    with Project.open(dest, read_only=True) as viewer:
        assert any("import" in n and "did not finish" in n for n in viewer.notices)
    with Project.open(dest) as project:
        assert snapshot(dest) == head
        assert project.status().is_clean
        assert any("import was finished" in n for n in project.notices), project.notices
        assert not any("restore" in n for n in project.notices), project.notices


KILL_BEFORE_JOURNAL_CLEARED = """
import os, signal, sys
from pathlib import Path
import kamaros_app.engine.restore as restore
from kamaros_app.engine import Project
# die after the last file of the restore is written, before the journal is removed
restore.clear_journal = lambda root: os.kill(os.getpid(), signal.SIGKILL)
with Project.open(Path(sys.argv[1])) as project:
    project.restore(sys.argv[2])
"""


def test_restore_killed_after_its_last_file_then_finished(tmp_path: Path) -> None:
    """Regression (found by planting a journal): when the folder already equalled the
    target, "restore it again to finish" found nothing to write and never removed the
    journal, so every later open still said the restore was interrupted."""
    rng = random.Random(8)
    root = tmp_path / "proj"
    with make_history(root, rng, 3) as project:
        first = project.manifest.versions[0].id
        wanted = state_hashes(project, first)
    done = run_python(KILL_BEFORE_JOURNAL_CLEARED, str(root), first)
    assert done.returncode == -9, done.stderr
    assert snapshot(root) == wanted  # every file is written: only the journal remains
    with Project.open(root) as project:
        assert any("interrupted" in n and first[:8] in n for n in project.notices)
        project.restore(first)
        assert project.interrupted_restore() is None
    with Project.open(root) as project:
        assert not any("interrupted" in n for n in project.notices), project.notices
        assert snapshot(root) == wanted
