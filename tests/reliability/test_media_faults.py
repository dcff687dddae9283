"""Real I/O faults: a really full disk (a small tmpfs), read-only media (the same tmpfs
remounted read-only), permission denied (a process running as `nobody`), files that
vanish or change while they are being saved, and files locked by another program.
(Simulated faults at every single I/O operation are in test_every_io_op.py.)"""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kamaros_app.engine import (
    DiskFullError,
    History,
    KamarosError,
    Project,
    ReadOnlyError,
    import_container,
)
from kamaros_app.engine.hashing import hash_bytes
from kamaros_app.engine.layout import CONTAINER_FILE
from tests.reliability.workload import (
    REPO,
    Tally,
    can_mount,
    child_env,
    leftovers,
    make_history,
    remount,
    snapshot,
    state_hashes,
    tmpfs,
    write,
)

needs_root = pytest.mark.skipif(not can_mount(), reason="needs root to mount a small tmpfs")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "small", "4m") as mount:
        yield mount


def free_bytes(where: Path) -> int:
    st = os.statvfs(where)
    return st.f_bavail * st.f_frsize


def fill(where: Path, leave: int) -> Path:
    """Fill the file system at `where` until only about `leave` bytes are free."""
    filler = where / "filler"
    with open(filler, "ab") as handle:
        handle.write(bytes(max(0, free_bytes(where) - leave)))
    return filler


def disk_full_matrix(
    tally: Tally,
    disk: Path,
    attempt: Callable[[], None],
    state: Callable[[], object],
    needs: int,
    steps: int,
    prepare: Callable[[], None] = lambda: None,
) -> dict[str, int]:
    """Run `attempt` with `steps` amounts of free space up to `needs` bytes: each run
    either succeeds or raises DiskFullError leaving `state()` as it was and no temp files;
    then, with the space back, the same attempt succeeds."""
    outcomes = {"disk full, nothing changed": 0, "fitted": 0}
    for step in range(steps):
        leave = needs * step // steps
        prepare()
        before = state()
        filler = fill(disk, leave)
        with tally.run(f"{leave} bytes free"):
            try:
                attempt()
            except DiskFullError as exc:
                assert "full" in str(exc)
                assert state() == before, "a failed operation changed something"
                assert leftovers(disk) == [], leftovers(disk)
                outcomes["disk full, nothing changed"] += 1
                filler.unlink()
                attempt()  # with room again, it works
            else:
                outcomes["fitted"] += 1
                filler.unlink()
        if tally.stop:
            break
    return outcomes


@needs_root
def test_disk_full_during_checkpoint(small_disk: Path, campaign, long_mode: bool) -> None:
    tally = Tally(campaign, "disk full (real tmpfs) during each operation")
    root = small_disk / "p"
    container = root / CONTAINER_FILE
    rng = random.Random(1)

    def prepare() -> None:  # a fresh project with a large unsaved file
        shutil.rmtree(root, ignore_errors=True)
        make_history(root, rng, 1).close()
        write(root, "big.bin", os.urandom(300_000))

    def attempt() -> None:
        with Project.open(root) as project:
            project.checkpoint("big")
            assert project.verify().ok

    outcomes = disk_full_matrix(
        tally, small_disk, attempt, container.read_bytes, 700_000, 150 if long_mode else 30, prepare
    )
    tally.note = "checkpoint " + str(outcomes)
    tally.finish()


@needs_root
def test_disk_full_during_restore(small_disk: Path, campaign, long_mode: bool) -> None:
    """A restore that runs out of room stops with DiskFullError; its history is intact and
    the folder is the old one, or the journal says the restore was interrupted (both
    sides restore once there is room), or every file was written and only the checkpoint
    recording it did not fit, which the message says (regression: it read like a failed
    restore while the folder had been restored)."""
    tally = Tally(campaign, "disk full (real tmpfs) during each operation")
    root = small_disk / "p"
    write(root, "a.bin", os.urandom(400_000))
    with Project.init(root) as project:
        first = project.checkpoint("big file").id
        (root / "a.bin").unlink()
        write(root, "b.txt", "small\n")
        second = project.checkpoint("small file").id
    outcomes = {
        "disk full, old folder": 0,
        "disk full, interrupted": 0,
        "disk full, new folder not recorded": 0,
        "fitted": 0,
    }
    for step in range(150 if long_mode else 30):
        filler = fill(small_disk, 500_000 * step // 30)
        with tally.run(f"step {step}"), Project.open(root) as project:
            target = second if (root / "a.bin").exists() else first  # alternate
            before = snapshot(root)
            history = [v.id for v in project.manifest.versions]
            try:
                project.restore(target)
            except DiskFullError as exc:
                assert [v.id for v in project.manifest.versions][: len(history)] == history
                assert leftovers(root) == [], leftovers(root)
                journal = project.interrupted_restore()
                now = snapshot(root)
                if journal is not None:
                    outcomes["disk full, interrupted"] += 1
                elif now == before:
                    outcomes["disk full, old folder"] += 1
                else:  # every file written, the checkpoint recording it did not fit
                    assert now == state_hashes(project, target)
                    assert "the folder was restored" in str(exc), str(exc)
                    outcomes["disk full, new folder not recorded"] += 1
                filler.unlink()
                filler = None
                project.restore(target)  # with room again, it finishes
            else:
                outcomes["fitted"] += 1
            assert snapshot(root) == state_hashes(project, target)
            if filler is not None:
                filler.unlink()
                filler = None
            project.gc()  # every restore appends the big file again: keep the disk usable
        if filler is not None:
            filler.unlink()
    tally.note = "restore " + str(outcomes)
    tally.finish()


@needs_root
def test_disk_full_during_gc_export_import(
    small_disk: Path, tmp_path: Path, campaign, long_mode: bool
) -> None:
    tally = Tally(campaign, "disk full (real tmpfs) during each operation")
    steps = 100 if long_mode else 20
    root = small_disk / "p"
    with make_history(root, random.Random(2), 6, scale=2) as project:
        container = root / CONTAINER_FILE
        size = container.stat().st_size
        gc = disk_full_matrix(
            tally, small_disk, lambda: project.gc(), container.read_bytes, size, steps
        )
        dest = small_disk / "copy.jcf"

        def export() -> None:
            dest.unlink(missing_ok=True)
            project.export_container(dest)

        def export_state() -> object:
            return container.read_bytes(), dest.exists()

        dest_present = export_state
        export_outcomes = disk_full_matrix(tally, small_disk, export, dest_present, size, steps)
        standalone = tmp_path / "standalone.jcf"
        dest.unlink(missing_ok=True)
        project.export_container(standalone)
    target = small_disk / "imported"

    def do_import() -> None:
        shutil.rmtree(target, ignore_errors=True)
        import_container(standalone, target).close()

    imports = disk_full_matrix(
        tally, small_disk, do_import, lambda: target.exists(), 2 * size, steps
    )
    tally.note = f"gc {gc}; export {export_outcomes}; import {imports}"
    tally.finish()


@needs_root
def test_read_only_media(small_disk: Path, campaign) -> None:
    """A project on read-only media opens read-only with a notice saying why; every
    query works; every write says so clearly; nothing is changed."""
    tally = Tally(campaign, "read-only media and permission denied")
    root = small_disk / "p"
    with make_history(root, random.Random(3), 3) as project:
        expected = {v.id: state_hashes(project, v.id) for v in project.manifest.versions}
    write(root, "unsaved.txt", "new\n")
    remount(small_disk, "ro")
    try:
        with tally.run("read-only media"), Project.open(root) as project:
            assert project.read_only
            assert any("read-only file system" in n for n in project.notices), project.notices
            assert project.status().added == ["unsaved.txt"]
            for version_id, files in expected.items():
                for path, digest in files.items():
                    assert hash_bytes(project.read_file(version_id, path)) == digest
            assert project.verify().ok
            with pytest.raises(ReadOnlyError):
                project.checkpoint("cannot")
            with pytest.raises(ReadOnlyError):
                project.restore(next(iter(expected)))
    finally:
        remount(small_disk, "rw")
    tally.finish()


NOBODY = """
import importlib, os, pkgutil, sys
from pathlib import Path
import kamaros_app.engine as engine
for module in pkgutil.iter_modules(engine.__path__):  # the interpreter lives in /root
    importlib.import_module("kamaros_app.engine." + module.name)
os.setgid(65534)
os.setuid(65534)
from kamaros_app.engine import Project
root = Path(sys.argv[1])
with Project.open(root) as project:
    info = project.checkpoint("as nobody")
    print("skipped:", sorted(project.version_changes(info.id)), file=sys.stderr)
    print(project.read_only, sorted(project.version_changes(info.id)))
os.chmod(root / ".kamaros", 0o555)
try:
    with Project.open(root) as project:
        print(project.read_only, " ".join(project.notices))
finally:
    os.chmod(root / ".kamaros", 0o755)
"""


@needs_root
def test_permission_denied(tmp_path: Path, campaign) -> None:
    """As an ordinary user: a file that cannot be read is skipped and reported, the rest is
    saved and its last saved version is kept (regression: one unreadable file failed the
    whole checkpoint with a raw PermissionError); a history that cannot be written opens
    read-only with a notice (regression: it opened for writing, then failed at the
    first save)."""
    tally = Tally(campaign, "read-only media and permission denied")
    base = Path(tempfile.mkdtemp(prefix="kamaros-nobody-"))  # /tmp/pytest-of-root is 0700
    base.chmod(0o755)
    root = base / "p"
    try:
        _as_nobody(root, tally)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    tally.finish()


def _as_nobody(root: Path, tally: Tally) -> None:
    with make_history(root, random.Random(4), 1) as project:
        write(root, "secret.txt", "no reading\n")
        project.checkpoint("with secret")
    write(root, "secret.txt", "changed, and unreadable\n")
    write(root, "fine.txt", "readable\n")
    shutil.chown(root.parent, 65534, 65534)
    for path in root.rglob("*"):
        os.chown(path, 65534, 65534, follow_symlinks=False)
    os.chown(root, 65534, 65534)
    (root / "secret.txt").chmod(0)
    done = subprocess.run(
        [sys.executable, "-c", NOBODY, str(root)],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=REPO,
    )
    with tally.run("permission denied"):
        assert done.returncode == 0, done.stderr[-3000:]
        first, second = done.stdout.splitlines()
        assert first == "False ['fine.txt']", first
        assert second.startswith("True") and "permission denied" in second, second
        with Project.open(root) as project:
            assert project.read_file("HEAD", "secret.txt") == b"no reading\n"
            assert project.verify().ok


def test_files_that_change_while_being_saved(tmp_path: Path, campaign, long_mode: bool) -> None:
    """A file rewritten in place over and over (each state written whole by one write
    call), and files that appear and vanish, all through the checkpoints: every saved
    version of the busy file is one whole state (all blocks of one generation), never a
    splice of two reads; a checkpoint that cannot get a stable read says so
    (FileChangedError). A file modified within the coarse step of file times is read
    twice and kept only if both reads agree (prepare.RACY_NS)."""
    tally = Tally(campaign, "files that change or vanish while being saved")
    root = tmp_path / "p"
    root.mkdir()
    block, blocks = 4096, 48
    path = root / "busy.bin"
    path.write_bytes(b"\0" * block * blocks)
    stop = threading.Event()

    def scribble() -> None:
        generation = 0
        fd = os.open(path, os.O_WRONLY)
        try:
            while not stop.is_set():
                generation += 1
                os.pwrite(fd, generation.to_bytes(4, "big") * (block * blocks // 4), 0)
                time.sleep(0.0002)  # an editor saving often, not a disk benchmark
        finally:
            os.close(fd)

    def vanish() -> None:
        rng = random.Random(5)
        while not stop.is_set():
            name = root / f"flicker{rng.randint(0, 3)}.txt"
            if name.exists():
                name.unlink(missing_ok=True)
            else:
                name.write_text(f"here {rng.random()}\n" * 1000)

    threads = [threading.Thread(target=scribble), threading.Thread(target=vanish)]
    outcomes = {"saved": 0, "kept changing": 0, "nothing to save": 0}
    with Project.init(root) as project:
        for thread in threads:
            thread.start()
        try:
            for n in range(60 if long_mode else 12):
                with tally.run(f"checkpoint {n}"):
                    try:
                        info = project.checkpoint(f"busy {n}")
                        outcomes["saved"] += 1
                    except KamarosError as exc:
                        kind = "kept changing" if "changing" in str(exc) else "nothing to save"
                        outcomes[kind] += 1
                        continue
                    if "busy.bin" in project.version_changes(info.id):
                        data = project.read_file(info.id, "busy.bin")
                        generations = {data[i : i + 4] for i in range(0, len(data), block)}
                        assert len(generations) == 1, "a mix of two states was saved"
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        with tally.run("verify"):
            assert project.verify().ok
    tally.note = str(outcomes)
    tally.finish()


LOCKER = """
import fcntl, sys, time
handle = open(sys.argv[1], "r+b")
fcntl.flock(handle, fcntl.LOCK_EX)
fcntl.lockf(handle, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(600)
"""


def test_a_file_locked_by_another_program(tmp_path: Path, campaign) -> None:
    """Documented: locks on Linux and macOS are advisory, so a file another program holds
    locked (flock and fcntl) is read and saved as it is. On Windows a file opened without
    sharing cannot be read: that is a PermissionError, skipped and reported like a file
    without read permission (test_permission_denied)."""
    tally = Tally(campaign, "files that change or vanish while being saved")
    root = tmp_path / "p"
    write(root, "report.docx", b"locked by a word processor")
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(root / "report.docx")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with tally.run("locked file"), Project.init(root) as project:
            with open(root / "report.docx", "rb") as probe, pytest.raises(OSError):
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)  # it really is locked
            info = project.checkpoint("while locked")
            assert project.read_file(info.id, "report.docx") == b"locked by a word processor"
    finally:
        holder.kill()
        holder.wait()
    tally.finish()


def test_export_to_read_only_media_says_so(small_disk: Path, tmp_path: Path) -> None:
    if not can_mount():
        pytest.skip("needs root")
    root = tmp_path / "p"
    make_history(root, random.Random(6), 1).close()
    remount(small_disk, "ro")
    try:
        with Project.open(root) as project, pytest.raises(OSError, match="Read-only"):
            project.export_container(small_disk / "copy.jcf")
        with History.open_file(root / CONTAINER_FILE) as history:
            assert history.verify().ok
    finally:
        remount(small_disk, "rw")


def test_a_failed_checkpoint_does_not_poison_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (found by the disk-full restore runs): a checkpoint that failed at its
    commit (disk full, or cancelled at the end) left the open project believing that the
    old contents it had just stored were in the container. The next checkpoint then let a
    content leave `content/` without keeping it anywhere, and after gc the versions that
    had it could not be restored: silent loss of an old version."""
    from kamaros_app.engine.zipcontainer import ContainerWriter

    root = tmp_path / "p"
    write(root, "a.txt", "first version of a\n")
    write(root, "b.bin", os.urandom(1000))
    with Project.init(root) as project:
        first = project.checkpoint("one")
        write(root, "a.txt", "second version of a\n")
        write(root, "b.bin", os.urandom(1000))
        real_commit = ContainerWriter.commit

        def full(self: ContainerWriter, *, fsync: bool = True) -> None:
            raise DiskFullError("the disk is full (simulated at the commit)")

        monkeypatch.setattr(ContainerWriter, "commit", full)
        with pytest.raises(DiskFullError):
            project.checkpoint("two")
        monkeypatch.setattr(ContainerWriter, "commit", real_commit)
        project.checkpoint("two, with room")
        project.gc()
        assert project.verify().ok
        project.restore(first.id)
        assert (root / "a.txt").read_text() == "first version of a\n"
