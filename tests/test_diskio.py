"""The I/O layer: plain behaviour without an injector, and every kind of injected fault."""

from __future__ import annotations

import ast
import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kamaros_app.engine import diskio
from kamaros_app.engine.diskio import FaultInjector, Op, SimulatedCrash
from kamaros_app.engine.errors import DiskFullError
from kamaros_app.engine.fsutil import atomic_write_bytes, is_temp_name
from kamaros_app.engine.zipcontainer import ContainerReader, ContainerWriter

ENGINE = Path(__file__).parents[1] / "kamaros_app" / "engine"


def _temp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if is_temp_name(p.name)]


def test_plain_operations_without_injector(tmp_path: Path) -> None:
    diskio.makedirs(tmp_path / "a" / "b")
    diskio.makedirs(tmp_path / "a" / "b")  # exists: fine
    fd = diskio.open_fd(tmp_path / "a" / "f", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    diskio.write_all(fd, b"hello world")
    assert diskio.pwrite(fd, b"W", 6) == 1
    diskio.fchmod(fd, 0o600)
    diskio.fsync(fd)
    diskio.ftruncate(fd, 7)
    diskio.close(fd)
    assert (tmp_path / "a" / "f").read_bytes() == b"hello W"
    diskio.replace(tmp_path / "a" / "f", tmp_path / "a" / "b" / "g")
    diskio.chmod(tmp_path / "a" / "b" / "g", 0o644)
    diskio.fsync_dir(tmp_path / "a" / "b")
    handle = diskio.open_file(tmp_path / "h", "xb")
    handle.write(b"x")
    diskio.close(handle)
    assert handle.closed
    diskio.unlink(tmp_path / "h")
    diskio.unlink(tmp_path / "h", missing_ok=True)
    with pytest.raises(FileNotFoundError):
        diskio.unlink(tmp_path / "h")
    diskio.mkdir(tmp_path / "empty")
    diskio.rmdir(tmp_path / "empty")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "keep").write_bytes(b"k")
    (tmp_path / "a" / "link").symlink_to(tmp_path / "outside", target_is_directory=True)
    diskio.rmtree(tmp_path / "a")
    assert not (tmp_path / "a").exists()
    assert (tmp_path / "outside" / "keep").read_bytes() == b"k"  # links are not followed
    with pytest.raises(FileNotFoundError):
        diskio.rmtree(tmp_path / "a")
    diskio.rmtree(tmp_path / "a", ignore_errors=True)


def test_counting_sees_every_operation_of_an_atomic_write(tmp_path: Path) -> None:
    dest = tmp_path / "new" / "file.txt"
    with diskio.inject(FaultInjector()) as injector:
        atomic_write_bytes(dest, b"12345")
    assert isinstance(injector, FaultInjector)
    kinds = [op.kind for op in injector.ops]
    assert kinds == [
        "mkdir",
        "fsync_dir",
        "open",
        "write",
        "fsync",
        "close",
        "replace",
        "fsync_dir",
    ]
    assert injector.ops[3].size == 5
    assert is_temp_name(Path(injector.ops[3].path).name)  # a descriptor's path is known
    assert injector.ops[6].path == str(dest)
    assert dest.read_bytes() == b"12345"


def test_crash_stops_every_later_operation(tmp_path: Path) -> None:
    dest = tmp_path / "doc.txt"
    dest.write_bytes(b"old")
    with diskio.inject(FaultInjector("crash", 2)):  # before the fsync
        with pytest.raises(SimulatedCrash):
            atomic_write_bytes(dest, b"new")
        # The cleanup (close, unlink of the temp file) could not run: a dead process.
        assert len(_temp_files(tmp_path)) == 1
        with pytest.raises(SimulatedCrash):
            diskio.unlink(dest)
        with pytest.raises(SimulatedCrash):
            diskio.makedirs(tmp_path / "x")
    assert dest.read_bytes() == b"old"
    diskio.unlink(dest)  # after the block, no injector and no crash
    assert not dest.exists()


def test_simulated_crash_is_not_an_exception() -> None:
    assert not issubclass(SimulatedCrash, Exception)
    with pytest.raises(SimulatedCrash):
        try:
            raise SimulatedCrash("x")
        except Exception:  # pragma: no cover - must not catch it
            pytest.fail("caught by except Exception")


def test_close_after_crash_still_releases_the_descriptor(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT)
    with diskio.inject(FaultInjector("crash", 0)), pytest.raises(SimulatedCrash):
        diskio.close(fd)
    with pytest.raises(OSError) as info:
        os.fstat(fd)
    assert info.value.errno == errno.EBADF


def test_torn_write_writes_a_prefix_then_crashes(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"." * 10)
    fd = os.open(path, os.O_WRONLY)
    try:
        with diskio.inject(FaultInjector("torn", 0, kinds={"write"}, keep=3)):
            with pytest.raises(SimulatedCrash):
                diskio.pwrite(fd, b"abcdef", 2)
            with pytest.raises(SimulatedCrash):
                diskio.pwrite(fd, b"zz", 0)
        with diskio.inject(FaultInjector("torn", 0)), pytest.raises(SimulatedCrash):
            diskio.write_all(fd, b"0123")  # default: half
    finally:
        os.close(fd)
    assert path.read_bytes() == b"01abc....."


def test_torn_non_write_is_a_crash_before_it(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"a")
    with diskio.inject(FaultInjector("torn", 0)), pytest.raises(SimulatedCrash):
        diskio.replace(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize("code", [errno.EIO, errno.EACCES, errno.EROFS])
def test_error_at_one_operation_names_the_file(tmp_path: Path, code: int) -> None:
    dest = tmp_path / "doc.txt"
    dest.write_bytes(b"old")
    with diskio.inject(FaultInjector("error", 0, kinds={"fsync"}, errno=code)) as injector:
        with pytest.raises(OSError) as info:
            atomic_write_bytes(dest, b"new")
        atomic_write_bytes(dest, b"newer")  # only that one operation failed
    assert info.value.errno == code
    assert info.value.filename == str(dest)
    assert isinstance(injector, FaultInjector) and len(injector.fired) == 1
    assert dest.read_bytes() == b"newer"
    assert _temp_files(tmp_path) == []


def test_disk_full_at_every_write(tmp_path: Path) -> None:
    dest = tmp_path / "doc.txt"
    dest.write_bytes(b"old")
    injector = FaultInjector("error", 0, kinds={"write"}, errno=errno.ENOSPC, every=True)
    with diskio.inject(injector):
        for _ in range(3):
            with pytest.raises(DiskFullError, match="disk is full"):
                atomic_write_bytes(dest, b"new")
    assert len(injector.fired) == 3
    assert dest.read_bytes() == b"old"
    assert _temp_files(tmp_path) == []


def test_container_fsync_failure_fails_the_commit(tmp_path: Path) -> None:
    path = tmp_path / "c.jcf"
    with ContainerWriter.create(path) as writer:
        writer.add_bytes("a", b"first", method=0)
        writer.commit()
    before = path.read_bytes()
    with ContainerReader.open(path) as reader:
        writer = ContainerWriter.append_to(reader)
        writer.add_bytes("b", b"second" * 100, method=0)
        fail = FaultInjector("error", 1, kinds={"fsync"}, errno=errno.EIO)
        with diskio.inject(fail), pytest.raises(OSError) as info:
            writer.commit()
    assert info.value.filename == str(path)
    assert writer.closed
    assert path.read_bytes() == before


def test_creating_a_container_on_a_full_disk(tmp_path: Path) -> None:
    full = FaultInjector("error", 0, kinds={"open"}, errno=errno.ENOSPC)
    with diskio.inject(full), pytest.raises(DiskFullError):
        ContainerWriter.create(tmp_path / "c.jcf")
    assert list(tmp_path.iterdir()) == []


def test_custom_injector_and_unknown_kinds(tmp_path: Path) -> None:
    seen: list[Op] = []

    def record(op: Op) -> None:
        seen.append(op)

    with diskio.inject(record):
        diskio.mkdir(tmp_path / "d")
    assert seen == [Op("mkdir", str(tmp_path / "d"), 0)]
    with pytest.raises(ValueError, match="unknown"):
        FaultInjector(kinds={"wirte"})


# Writes the engine must make through diskio, never directly.
_FORBIDDEN_OS = {
    "write", "pwrite", "replace", "rename", "renames", "unlink", "remove", "truncate",
    "ftruncate", "fsync", "fdatasync", "mkdir", "makedirs", "chmod", "fchmod", "lchmod",
    "chown", "utime", "rmdir", "removedirs", "link", "symlink", "fdopen",
}  # fmt: skip
_FORBIDDEN_SHUTIL = {"rmtree", "copy", "copy2", "copyfile", "copyfileobj", "copytree", "move"}
_FORBIDDEN_METHODS = {"write_bytes", "write_text", "unlink", "mkdir", "rmdir", "touch", "truncate"}


def _direct_writes(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = func.value.id if isinstance(func.value, ast.Name) else None
            if (owner == "os" and func.attr in _FORBIDDEN_OS) or (
                owner == "shutil" and func.attr in _FORBIDDEN_SHUTIL
            ):
                found.append(f"{node.lineno}: {owner}.{func.attr}")
            elif owner not in ("os", "shutil", "diskio") and func.attr in _FORBIDDEN_METHODS:
                found.append(f"{node.lineno}: .{func.attr}()")
        elif isinstance(func, ast.Name) and func.id == "open":
            modes = [a for a in node.args[1:2]] + [
                k.value for k in node.keywords if k.arg == "mode"
            ]
            for mode in modes:
                text = mode.value if isinstance(mode, ast.Constant) else "?"
                if not isinstance(text, str) or set(text) & set("wax+?"):
                    found.append(f"{node.lineno}: open(..., {text!r})")
    return found


def test_every_engine_write_goes_through_diskio() -> None:
    offenders = {}
    for path in sorted(ENGINE.glob("*.py")):
        if path.name == "diskio.py":
            continue
        found = _direct_writes(path.read_text(encoding="utf-8"))
        if found:
            offenders[path.name] = found
    assert offenders == {}, "write through kamaros_app.engine.diskio instead"


def test_the_write_finder_finds_writes() -> None:
    source = (
        "import os, shutil\nos.replace(a, b)\nshutil.rmtree(x)\np.write_bytes(b'')\n"
        "open(p, 'wb')\nopen(p, mode='r+b')\nopen(p, 'rb')\nos.path.join(a)\n"
        "diskio.unlink(p)\nopen(p, m)\n"
    )
    assert _direct_writes(source) == [
        "2: os.replace",
        "3: shutil.rmtree",
        "4: .write_bytes()",
        "5: open(..., 'wb')",
        "6: open(..., 'r+b')",
        "10: open(..., '?')",
    ]


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SimulatedCrash])
def test_interrupted_buffered_write_raises_the_interruption(
    tmp_path: Path, interrupt: type[BaseException]
) -> None:
    """Found by the crash campaign: Ctrl+C (or a crash) inside the flush of the write buffer
    surfaced as BufferError, because the failing write's view kept the buffer exported."""
    path = tmp_path / "c.jcf"
    with ContainerWriter.create(path) as writer:
        writer.add_bytes("a", b"first", method=0)
        writer.commit()
    before = path.read_bytes()

    def stop(op: Op) -> None:
        if op.kind == "write":
            raise interrupt()

    with ContainerReader.open(path) as reader:
        writer = ContainerWriter.append_to(reader)
        writer.add_bytes("small", b"buffered" * 100, method=0)
        with diskio.inject(stop), pytest.raises(interrupt):
            writer.add_chunks("big", [os.urandom(2 << 20)], method=0)  # flushes first
        if interrupt is KeyboardInterrupt:
            writer.abort()
            assert path.read_bytes() == before


def test_start_writeback_is_a_hint_seen_by_the_injector(tmp_path: Path) -> None:
    """The write-back hint of large exports: an operation like the others for the
    injector, but a failure of it (real or injected) changes nothing."""
    path = tmp_path / "f.bin"
    fd = diskio.open_fd(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        diskio.write_all(fd, b"x" * 10_000)
        diskio.start_writeback(fd, 0, 10_000)  # plain: no error, nothing visible
        with diskio.inject(FaultInjector()) as counting:
            diskio.start_writeback(fd, 4096, 5000)
        assert isinstance(counting, FaultInjector)
        assert counting.ops == [Op("writeback", f"<fd {fd}>", 5000, fd)]
        failing = FaultInjector("error", 0, kinds={"writeback"}, errno=errno.EIO)
        with diskio.inject(failing):
            diskio.start_writeback(fd, 0, 10_000)  # ignored: the final sync reports errors
            diskio.write_all(fd, b"y")  # and the process goes on
        assert len(failing.fired) == 1
        with diskio.inject(FaultInjector("crash", 0, kinds={"writeback"})):
            with pytest.raises(SimulatedCrash):
                diskio.start_writeback(fd, 0, 10_000)
            with pytest.raises(SimulatedCrash):
                diskio.write_all(fd, b"z")
        torn = FaultInjector("torn", 0, kinds={"writeback"})
        with diskio.inject(torn), pytest.raises(SimulatedCrash):
            diskio.start_writeback(fd, 0, 10_000)
    finally:
        os.close(fd)
    assert path.read_bytes() == b"x" * 10_000 + b"y"


def test_start_writeback_on_a_bad_descriptor_is_ignored(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT)
    os.close(fd)
    diskio.start_writeback(fd, 0, 100)  # EBADF from the hint: not an error of the export
    diskio.start_writeback(fd, 0, 100, keep_cached=True)  # sync_file_range's EBADF too


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sync_file_range is Linux's")
def test_the_keep_cached_hint_is_sync_file_range_on_linux(tmp_path: Path) -> None:
    """The container's hint (`keep_cached`) must leave its pages cached, as the next
    command reads its headers: sync_file_range writes them without dropping them."""
    assert diskio._load_sync_file_range() is not None
    path = tmp_path / "f.bin"
    size = 1 << 20
    fd = diskio.open_fd(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        diskio.write_all(fd, b"x" * size)
        os.fsync(fd)  # clean pages: the plain hint would drop them
        diskio.start_writeback(fd, 0, size, keep_cached=True)
        assert _cached_bytes(path) == size
        diskio.start_writeback(fd, 0, size)  # the export's hint, for contrast
        assert _cached_bytes(path) == 0
    finally:
        os.close(fd)
    assert path.read_bytes() == b"x" * size


def _cached_bytes(path: Path) -> int:
    """How much of `path` is in the page cache (util-linux `fincore`)."""
    if shutil.which("fincore") is None:
        pytest.skip("util-linux fincore is not installed")
    out = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(out.strip())
