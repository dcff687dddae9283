"""Crash at every I/O operation (SQLite's method), and I/O faults at every write.

Every durable write of the engine goes through `kamaros_app.engine.diskio`. For each
operation (checkpoint, restore, gc, export, import) a counting run learns how many I/O
operations it makes (N); then, for every i < N, a fresh copy of the prepared project runs
the operation with a simulated crash at operation i (and a torn write when operation i is a
write). After each crash, in a clean state (no injector, new Project objects: a new process)
the project must open, `verify` must pass, every checkpoint committed before must restore byte
for byte, the operation in flight must be entirely there or entirely absent, and no temp file
may survive the open. A restore may also be left interrupted, with its journal saying so:
restoring its target then gives the new folder, restoring the previous checkpoint the old one.

The same operations then meet I/O errors at each operation in turn: a full disk (ENOSPC),
failing fsyncs (EIO), permission denied (EACCES) and a read-only file system (EROFS). The
operation must fail with the engine's own error or an OSError naming the file, leave the
previous state intact and no temp file behind, and succeed when retried on a healthy disk; a
failed fsync of the history file must fail the checkpoint, never report it saved.

Outcomes each check accepts (counted in the figures' notes): checkpoint "absent" or
"present"; restore "old", "new", "interrupted" (journal), or "new, not yet recorded" (every
file restored, the crash came before the "Restored ..." checkpoint was committed: the folder
then shows as unsaved changes, and both sides are in the history); gc "old" or "compacted";
export "absent", "present", or "absent, retried" (a temp file or folder beside the
destination, which the next export to that place removes); import "present" (possibly
finished by the open) or "absent, retried".

CI runs every i for every operation and fault on tiny projects (N from 10 to 62), on a tmpfs
when there is one; `--long` adds bigger projects (files past the write buffer, more files
per restore), torn writes that keep all but the last byte, and a disk that stays full from
operation i on. A few crashes are also made real (a child process that `_exit`s at operation
i) and must leave what the in-process crash leaves.

What is not simulated: losing writes the kernel had not flushed (see diskio's docstring).
"""

from __future__ import annotations

import errno
import os
import random
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from kamaros_app.engine import History, KamarosError, Project, diskio, import_container
from kamaros_app.engine.diskio import FaultInjector, Op, SimulatedCrash
from kamaros_app.engine.errors import DiskFullError
from kamaros_app.engine.fsutil import TEMP_MARKER
from kamaros_app.engine.hashing import hash_bytes
from kamaros_app.engine.layout import CONTAINER_FILE, KAMAROS_DIR
from tests.reliability.workload import (
    Tally,
    check_every_version,
    forget_open_indexes,
    leftovers,
    run_python,
    snapshot,
    write,
)

SPACE_KINDS = frozenset({"open", "write", "mkdir", "fsync"})  # what a full disk can refuse
FSYNC_KINDS = frozenset({"fsync", "fsync_dir", "syncfs"})
ANY_BUT_CLOSE = diskio.KINDS - {"close"}

# ---------------------------------------------------------------- the prepared projects


def _text(rng: random.Random, lines: int) -> str:
    return "".join(f"line {i}: {rng.random():.12f} of the story\n" for i in range(lines))


def _edit_more(root: Path, rng: random.Random) -> None:
    """--long: every extra text gets a one-line edit (one more reverse patch each)."""
    for path in sorted((root / "more").glob("*.txt")):
        lines = path.read_text().splitlines(keepends=True)
        lines[rng.randrange(len(lines))] = f"edited {rng.random()}\n"
        path.write_text("".join(lines))


@dataclass
class Templates:
    """Projects prepared once; every run works on a fresh copy of one of them."""

    base: Path  # two checkpoints, folder clean at the second
    pending: Path  # the same with a mix of changes in the folder, not yet saved
    dirty: Path  # the same with one unsaved edit (a restore makes a safety checkpoint)
    source: Path  # a standalone .jcf of base, for import
    versions: dict[str, dict[str, str]]  # id -> path -> hash, the two checkpoints
    ids: list[str]
    pending_files: dict[str, str]
    dirty_files: dict[str, str]


def _build(root: Path, long_mode: bool) -> Templates:
    rng = random.Random(6)
    scale = 20 if long_mode else 1
    base = root / "base"
    base.mkdir(parents=True)
    write(base, "story.md", _text(rng, 40 * scale))
    write(base, "data.bin", rng.randbytes(3000 * scale))
    write(base, "notes/a.txt", "a note\n")
    write(base, "old.txt", _text(rng, 5))
    write(base, "keep.txt", "kept as is\n")
    for n in range(8 if long_mode else 0):
        write(base, f"more/f{n}.txt", _text(rng, 50 * scale))
    if long_mode:  # large enough to bypass the write buffer: several writes per file
        write(base, "big.bin", rng.randbytes(2_500_000))
    versions: dict[str, dict[str, str]] = {}
    ids = []
    with Project.init(base, author="campaign") as project:
        versions[project.checkpoint("first").id] = snapshot(base)
        story = (base / "story.md").read_text().splitlines(keepends=True)
        story[3] = "an edited line\n"
        write(base, "story.md", "".join(story))
        write(base, "data.bin", rng.randbytes(3000 * scale))
        (base / "notes" / "a.txt").unlink()
        (base / "old.txt").rename(base / "renamed.txt")
        write(base, "added.txt", "added\n")
        _edit_more(base, rng)
        versions[project.checkpoint("second").id] = snapshot(base)
        ids = [v.id for v in project.manifest.versions]
        source = root / "source.jcf"
        project.export_container(source)
    assert project.manifest.versions[0].changes, "the first checkpoint is empty"

    pending = root / "pending"
    shutil.copytree(base, pending, symlinks=True)
    story = (pending / "story.md").read_text().splitlines(keepends=True)
    story[7] = "edited again: the old text leaves as a reverse patch\n"
    write(pending, "story.md", "".join(story))
    write(pending, "data.bin", rng.randbytes(3000 * scale))  # the old one leaves as a blob
    (pending / "keep.txt").unlink()
    (pending / "moved").mkdir()
    (pending / "renamed.txt").rename(pending / "moved" / "renamed.txt")
    write(pending, "new/file.txt", "brand new\n")
    _edit_more(pending, rng)
    if long_mode:
        write(pending, "big.bin", rng.randbytes(2_500_000))

    dirty = root / "dirty"
    shutil.copytree(base, dirty, symlinks=True)
    write(dirty, "added.txt", "added, then edited without saving\n")
    return Templates(
        base, pending, dirty, source, versions, ids, snapshot(pending), snapshot(dirty)
    )


@contextmanager
def _fast_folder(fallback: Path) -> Iterator[Path]:
    """A folder on a tmpfs when there is one: fsync costs nothing there, so the runs measure
    the engine, not a busy disk (nothing is lost: page-cache loss is not simulated anyway)."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield fallback
        return
    folder = Path(tempfile.mkdtemp(prefix="kamaros-every-io-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory, long_mode: bool) -> Iterator[Templates]:
    with _fast_folder(tmp_path_factory.mktemp("templates")) as folder:
        yield _build(folder, long_mode)


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    with _fast_folder(tmp_path) as folder:
        yield folder


# ---------------------------------------------------------------- the operations


@dataclass
class Case:
    """One operation under test: how to run it in a work folder and what may result."""

    name: str
    template: str  # attribute of Templates copied into work/proj
    run: Callable[[Path, Templates], None]
    check: Callable[[Path, Templates], str]  # invariants in a clean state; the outcome


def _proj(work: Path) -> Path:
    return work / "proj"


def _open_clean(root: Path, t: Templates, committed: dict[str, dict[str, str]]) -> Project:
    """Open as a new process would; the common invariants. The caller closes it."""
    project = Project.open(root)
    try:
        assert leftovers(root) == [], "temp files survived the next open"
        report = project.verify()
        assert report.ok, report.to_json()
        ids = [v.id for v in project.manifest.versions]
        assert ids[: len(t.ids)] == t.ids, "a committed checkpoint was lost"
        check_every_version(project, committed)
    except BaseException:
        project.close()
        raise
    return project


# checkpoint: a mix of added, modified (text: reverse patch; binary: blob), deleted, renamed


def run_checkpoint(work: Path, t: Templates) -> None:
    with Project.open(_proj(work)) as project:
        project.checkpoint("the operation")


def check_checkpoint(work: Path, t: Templates) -> str:
    root = _proj(work)
    with _open_clean(root, t, t.versions) as project:
        assert snapshot(root) == t.pending_files, "a checkpoint changed the person's files"
        extra = project.manifest.versions[len(t.ids) :]
        if not extra:
            assert not project.status().is_clean
            return "absent"
        assert len(extra) == 1
        check_every_version(project, {extra[0].id: t.pending_files})
        assert project.status().is_clean
        return "present"


# restore: whole, partial, and with unsaved changes (an automatic safety checkpoint first)


def _restore_runner(paths: list[str] | None) -> Callable[[Path, Templates], None]:
    def run(work: Path, t: Templates) -> None:
        with Project.open(_proj(work)) as project:
            project.restore(t.ids[0], paths)

    return run


def _restore_checker(
    paths: list[str] | None, *, dirty: bool, run_paths: list[str] | None = None
) -> Callable[[Path, Templates], str]:
    """`paths`: the files the restore changes; `run_paths`: what it was asked for."""

    def check(work: Path, t: Templates) -> str:
        root = _proj(work)
        first, second = (t.versions[i] for i in t.ids)
        old = t.dirty_files if dirty else second
        new = dict(first) if paths is None else {**old, **{p: first[p] for p in paths}}
        if paths is not None:
            for path in paths:
                if path not in first:
                    new.pop(path, None)
        with _open_clean(root, t, t.versions) as project:
            folder = snapshot(root)
            journal = project.interrupted_restore()
            extra = project.manifest.versions[len(t.ids) :]
            safety = [v for v in extra if v.automatic]
            records = [v for v in extra if not v.automatic]
            for version in safety:
                assert dirty, "a safety checkpoint of a clean folder"
                check_every_version(project, {version.id: t.dirty_files})
            for version in records:
                assert version.message.startswith("Restored"), version.message
                check_every_version(project, {version.id: new})
            assert len(safety) <= 1 and len(records) <= 1, [v.message for v in extra]
            head = project.manifest.head
        if journal is None:
            if folder == old:
                assert not records
                return "old"
            assert folder == new, "the folder is neither old nor new, and no journal says why"
            return "new" if records else "new, not yet recorded"
        assert journal.get("target") == t.ids[0], journal
        assert dirty or journal.get("previous") == head == t.ids[1], journal
        assert journal.get("paths") == run_paths, journal
        # What the notice says: restore the target (and paths) again, or the previous one.
        for ref, want in ((t.ids[0], new), (str(journal.get("previous")), old)):
            again = work.parent / f"{work.name}-again"
            shutil.rmtree(again, ignore_errors=True)
            shutil.copytree(work, again, symlinks=True)
            with Project.open(_proj(again)) as project:
                notice = " ".join(project.notices)
                assert f"Restore {' '.join([ref[:8], *(run_paths or [])])} again" in notice or (
                    f"restore {ref[:8]} to go back" in notice
                ), notice
                project.restore(ref, run_paths if ref == t.ids[0] else None)
                assert project.interrupted_restore() is None, "the journal stayed behind"
                assert snapshot(_proj(again)) == want, f"restoring {ref[:8]} did not finish"
                assert leftovers(_proj(again)) == []
            shutil.rmtree(again)
        return "interrupted"

    return check


# gc: rewrite beside, rename over


def run_gc(work: Path, t: Templates) -> None:
    with Project.open(_proj(work)) as project:
        project.gc()


def check_gc(work: Path, t: Templates) -> str:
    root = _proj(work)
    with _open_clean(root, t, t.versions) as project:
        assert [v.id for v in project.manifest.versions] == t.ids
        assert snapshot(root) == t.versions[t.ids[1]]
        same = (root / CONTAINER_FILE).read_bytes() == (t.base / CONTAINER_FILE).read_bytes()
        if same:
            return "old"
        assert project.dead_bytes() == 0, "neither the old nor a compacted container"
        return "compacted"


# export: a standalone .jcf, or the plain files of a version into a new folder


def run_export_jcf(work: Path, t: Templates) -> None:
    (work / "out").mkdir(exist_ok=True)
    with Project.open(_proj(work), read_only=True) as project:
        project.export_container(work / "out" / "copy.jcf")


def _source_untouched(work: Path, t: Templates) -> None:
    root = _proj(work)
    assert (root / CONTAINER_FILE).read_bytes() == (t.base / CONTAINER_FILE).read_bytes()
    assert snapshot(root) == t.versions[t.ids[1]]


def check_export_jcf(work: Path, t: Templates) -> str:
    _source_untouched(work, t)
    dest = work / "out" / "copy.jcf"
    temps = [p.name for p in (work / "out").glob("*") if p != dest] if dest.parent.exists() else []
    if dest.exists():
        assert temps == [], temps
        with History.open_file(dest) as history:
            assert history.verify().ok
            assert [v.id for v in history.manifest.versions] == t.ids
            check_every_version(history, t.versions)
        return "present"
    if temps:  # a crashed export leaves its temp file; the next export to that name clears it
        run_export_jcf(work, t)
        assert [p.name for p in (work / "out").iterdir()] == ["copy.jcf"]
        return "absent, retried"
    return "absent"


def run_export_folder(work: Path, t: Templates) -> None:
    with Project.open(_proj(work), read_only=True) as project:
        project.export_version(t.ids[0], work / "out" / "files")


def check_export_folder(work: Path, t: Templates) -> str:
    _source_untouched(work, t)
    dest = work / "out" / "files"
    if dest.exists() and any(dest.iterdir()):
        assert snapshot(dest) == t.versions[t.ids[0]], "a partial export looks like a whole one"
        assert leftovers(dest) == []
        return "present"
    strays = sorted(p.name for p in (work / "out").iterdir()) if (work / "out").exists() else []
    if strays not in ([], ["files"]):
        run_export_folder(work, t)  # the next export to that folder clears what is left
        assert sorted(p.name for p in (work / "out").iterdir()) == ["files"], strays
        assert snapshot(dest) == t.versions[t.ids[0]]
        return "absent, retried"
    return "absent"


# import: a .jcf into a new folder


def run_import(work: Path, t: Templates) -> None:
    import_container(t.source, work / "imported").close()


def check_import(work: Path, t: Templates) -> str:
    dest = work / "imported"
    if (dest / CONTAINER_FILE).exists():
        with _open_clean(dest, t, t.versions) as project:
            assert [v.id for v in project.manifest.versions] == t.ids
            assert snapshot(dest) == t.versions[t.ids[1]], "the imported files are not all there"
            assert project.status().is_clean
        return "present"
    if dest.exists():
        names = [p.name for p in dest.iterdir()]
        assert names in ([], [KAMAROS_DIR]), f"a failed import left {names}"
    run_import(work, t)  # absent: a retry must work
    with Project.open(dest) as project:
        assert snapshot(dest) == t.versions[t.ids[1]]
        assert leftovers(dest) == []
    return "absent, retried"


CASES = [
    Case("checkpoint", "pending", run_checkpoint, check_checkpoint),
    Case("restore", "base", _restore_runner(None), _restore_checker(None, dirty=False)),
    Case(
        "partial restore",
        "base",
        _restore_runner(["story.md", "notes"]),
        _restore_checker(["story.md", "notes/a.txt"], dirty=False, run_paths=["story.md", "notes"]),
    ),
    Case(
        "restore with unsaved changes",
        "dirty",
        _restore_runner(None),
        _restore_checker(None, dirty=True),
    ),
    Case("gc", "base", run_gc, check_gc),
    Case("export to .jcf", "base", run_export_jcf, check_export_jcf),
    Case("export to a folder", "base", run_export_folder, check_export_folder),
    Case("import", "base", run_import, check_import),
]

# ---------------------------------------------------------------- running one case


class Runner:
    """Fresh work folders for one case, and its runs under an injector."""

    def __init__(self, case: Case, t: Templates, scratch: Path) -> None:
        self.case = case
        self.t = t
        self.scratch = scratch
        self.count = 0

    @contextmanager
    def fresh(self) -> Iterator[Path]:
        self.count += 1
        work = self.scratch / f"w{self.count}"
        shutil.copytree(getattr(self.t, self.case.template), _proj(work), symlinks=True)
        forget_open_indexes()  # every run writes the same indexes, so the same operations
        try:
            yield work
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def ops(self) -> list[Op]:
        with self.fresh() as work:
            injector = FaultInjector()
            with diskio.inject(injector):
                self.case.run(work, self.t)
            self.case.check(work, self.t)
            return injector.ops

    def under(self, work: Path, injector: FaultInjector) -> BaseException | None:
        """Run the case under `injector`; the exception it ended with, if any."""
        with diskio.inject(injector):
            try:
                self.case.run(work, self.t)
            except (Exception, SimulatedCrash) as exc:
                return exc
        return None


def _indices(total: int, budget: int | None) -> list[int]:
    """All of range(total), or an even sample of about `budget` of them (ends included)."""
    if budget is None or total <= budget:
        return list(range(total))
    step = total / budget
    picked = {round(k * step) for k in range(budget)} | {total - 1}
    return sorted(i for i in picked if i < total)


# ---------------------------------------------------------------- the scenarios


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_crash_at_every_io_operation(
    case: Case,
    templates: Templates,
    scratch: Path,
    campaign: object,
    long_mode: bool,
) -> None:
    runner = Runner(case, templates, scratch)
    ops = runner.ops()
    writes = [i for i, op in enumerate(ops) if op.kind == "write"]
    outcomes: dict[str, int] = {}
    crash = Tally(campaign, "crash at every I/O operation")
    for i in range(len(ops)):
        with crash.run(f"crash at op {i} ({ops[i].kind} {ops[i].path})"), runner.fresh() as w:
            ended = runner.under(w, FaultInjector("crash", i))
            assert isinstance(ended, SimulatedCrash), f"no crash at op {i}: {ended!r}"
            outcome = case.check(w, templates)
            outcomes[f"crash: {outcome}"] = outcomes.get(f"crash: {outcome}", 0) + 1
        if crash.stop:
            break
    torn = Tally(campaign, "torn write at every write")
    keeps: list[int | None] = [None, -1] if long_mode else [None]
    for i in writes:
        for keep in keeps:
            size = ops[i].size
            cut = None if keep is None else max(0, size + keep)
            label = f"torn write at op {i} ({ops[i].path}, {cut} of {size} bytes)"
            with torn.run(label), runner.fresh() as w:
                ended = runner.under(w, FaultInjector("torn", i, keep=cut))
                assert isinstance(ended, SimulatedCrash), f"no crash at op {i}: {ended!r}"
                outcome = case.check(w, templates)
                outcomes[f"torn: {outcome}"] = outcomes.get(f"torn: {outcome}", 0) + 1
        if torn.stop:
            break
    summary = ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items()))
    crash.note = f"{case.name}: N={len(ops)} I/O operations ({len(writes)} writes); {summary}"
    print(crash.note)
    crash.finish()
    torn.finish()


FAULTS = [  # scenario, errno, the operations that may fail so
    ("disk full (ENOSPC) at every I/O operation", errno.ENOSPC, SPACE_KINDS),
    ("fsync failure (EIO) at every fsync", errno.EIO, FSYNC_KINDS),
    ("permission denied (EACCES) at every I/O operation", errno.EACCES, ANY_BUT_CLOSE),
    ("read-only file system (EROFS) at every I/O operation", errno.EROFS, ANY_BUT_CLOSE),
]


def _temps(work: Path) -> list[str]:
    """Our temp files anywhere (atomic writes, compaction, import), before any reopen."""
    return [
        p.relative_to(work).as_posix()
        for p in work.rglob("*")
        if TEMP_MARKER in p.name or "-tmp" in p.name
    ]


def _clear_error(exc: BaseException, code: int) -> None:
    if code == errno.ENOSPC:
        assert isinstance(exc, DiskFullError), f"a full disk gave {exc!r}"
        return
    if isinstance(exc, KamarosError):
        return
    assert isinstance(exc, OSError), f"unexpected {exc!r}"
    assert exc.errno == code, exc
    assert exc.filename, f"{exc!r} does not say which file"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("fault", FAULTS, ids=["ENOSPC", "EIO-fsync", "EACCES", "EROFS"])
def test_io_error_at_every_operation(
    case: Case,
    fault: tuple[str, int, frozenset[str]],
    templates: Templates,
    scratch: Path,
    campaign: object,
    long_mode: bool,
) -> None:
    name, code, kinds = fault
    runner = Runner(case, templates, scratch)
    ops = [op for op in runner.ops() if op.kind in kinds]
    tally = Tally(campaign, name)
    outcomes: dict[str, int] = {}
    variants = [False, True] if long_mode and code == errno.ENOSPC else [False]
    for i in range(len(ops)):
        for every in variants:  # every: the disk stays full from op i on
            label = f"{case.name}: op {i} ({ops[i].kind} {ops[i].path}){' on' if every else ''}"
            with tally.run(label), runner.fresh() as w:
                injector = FaultInjector("error", i, kinds=kinds, errno=code, every=every)
                ended = runner.under(w, injector)
                assert not isinstance(ended, SimulatedCrash)
                fired = injector.fired[0] if injector.fired else None
                if ended is not None:
                    _clear_error(ended, code)
                    assert _temps(w) == [], "temp files left after the failure"
                outcome = case.check(w, templates)
                if ended is None:
                    assert outcome in ("present", "new", "compacted"), (
                        f"{fired} was ignored but the operation did not happen: {outcome}"
                    )
                    assert not (
                        fired is not None
                        and fired.kind == "fsync"
                        and fired.path.endswith(str(CONTAINER_FILE))
                    ), "a failed fsync of the history file was reported as saved"
                    assert fired is None or fired.kind != "syncfs", "a failed flush was ignored"
                else:
                    assert outcome not in ("present", "new", "compacted"), (
                        f"reported failed ({ended!r}) but it happened: {outcome}"
                    )
                    if outcome in ("absent", "old"):  # ("absent, retried": the check did)
                        # A healthy disk again: the same operation now works.
                        case.run(w, templates)
                        retried = case.check(w, templates)
                        assert retried in ("present", "new", "compacted"), retried
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if tally.stop:
                break
    print(f"{name}, {case.name}: {len(ops)} operations, outcomes {outcomes}")
    tally.finish()


# ---------------------------------------------------------------- the open project after a failure


def _every_version_reads(project: History) -> None:
    """Every file of every version rebuilds (each read is checked against its hash)."""
    for version in project.manifest.versions:
        for path, state in project.file_states(version.id).items():
            assert hash_bytes(project.read_file(version.id, path)) == state.hash, path


@pytest.mark.parametrize("which", ["checkpoint", "restore", "gc"])
@pytest.mark.parametrize("fault", FAULTS[:3], ids=["ENOSPC", "EIO-fsync", "EACCES"])
def test_the_open_project_works_on_after_a_failed_operation(
    which: str,
    fault: tuple[str, int, frozenset[str]],
    templates: Templates,
    scratch: Path,
    campaign: object,
) -> None:
    """A window keeps its Project open after an operation failed: the same object must then
    save, restore and compact correctly (a failed checkpoint once left records behind in
    the open project's index, and a later gc lost contents: 9b5be11)."""
    name, code, kinds = fault
    case = next(c for c in CASES if c.name == which)
    runner = Runner(case, templates, scratch)
    total = sum(op.kind in kinds for op in runner.ops())
    tally = Tally(campaign, "the open project works on after a failed operation")
    for i in range(total):
        with tally.run(f"{which}, {name}, op {i}"), runner.fresh() as w:
            root = _proj(w)
            with Project.open(root) as project:
                with diskio.inject(FaultInjector("error", i, kinds=kinds, errno=code)):
                    try:
                        if which == "checkpoint":
                            project.checkpoint("the operation")
                        elif which == "restore":
                            project.restore(templates.ids[0])
                        else:
                            project.gc()
                    except (KamarosError, OSError):
                        pass
                # The disk is healthy again; the same object goes on.
                if which == "restore":
                    project.restore(templates.ids[0])  # finishes an interrupted one
                    assert snapshot(root) == templates.versions[templates.ids[0]]
                write(root, "after.txt", f"saved after the failure {i}\n")
                project.checkpoint("after the failure")
                project.gc()
                assert project.verify().ok
                _every_version_reads(project)
                check_every_version(project, templates.versions)
                if which == "checkpoint":
                    pending = dict(templates.pending_files)
                    pending["after.txt"] = snapshot(root)["after.txt"]
                    check_every_version(project, {project.manifest.head or "": pending})
            with Project.open(root) as project:  # and a new process agrees
                assert project.verify().ok
                _every_version_reads(project)
                assert leftovers(root) == []
        if tally.stop:
            break
    tally.finish()


# ---------------------------------------------------------------- real processes, a few

_CHILD = """
import os, sys
from pathlib import Path
from kamaros_app.engine import Project, diskio
from kamaros_app.engine.diskio import FaultInjector, SimulatedCrash

class Die(FaultInjector):
    def __call__(self, op):
        try:
            return super().__call__(op)
        except SimulatedCrash:
            os._exit(137)  # a real death: no handler, no finaliser runs

root, at, what = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
diskio.set_injector(Die("crash", at))
with Project.open(root) as project:
    if what == "checkpoint":
        project.checkpoint("the operation")
    else:
        project.restore(project.manifest.versions[0].id)
"""


@pytest.mark.parametrize("which", ["checkpoint", "restore"])
def test_real_process_dies_at_an_io_operation(
    which: str, templates: Templates, scratch: Path, campaign: object
) -> None:
    """The in-process crash leaves what a dead process leaves: same outcome at the same op."""
    case = next(c for c in CASES if c.name == which)
    runner = Runner(case, templates, scratch)
    total = len(runner.ops())
    tally = Tally(campaign, "a real process dies at an I/O operation")
    for i in _indices(total, 4):
        with tally.run(f"op {i}"), runner.fresh() as real, runner.fresh() as simulated:
            done = run_python(_CHILD, str(_proj(real)), str(i), which)
            assert done.returncode == 137, done.stderr[-2000:]
            forget_open_indexes()  # what the child saved
            runner.under(simulated, FaultInjector("crash", i))
            assert case.check(real, templates) == case.check(simulated, templates)
            assert snapshot(_proj(real)) == snapshot(_proj(simulated))
    tally.finish()
