"""Tests for durable atomic writes and temp-file cleanup."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kamaros_app.engine.errors import DiskFullError, InvalidArgumentError
from kamaros_app.engine.fsutil import (
    atomic_write_bytes,
    atomic_write_chunks,
    fsync_dir,
    is_temp_name,
    read_chunks,
    remove_stale_temp_files,
    write_new_file,
)


def _perm(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _temp_files(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if is_temp_name(p.name)]


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_new_file_gets_umask_mode_not_0600(tmp_path: Path, umask_022: None) -> None:
    dest = tmp_path / "new.txt"
    atomic_write_bytes(dest, b"hello")
    assert dest.read_bytes() == b"hello"
    assert _perm(dest) == 0o644
    os.umask(0o027)
    other = tmp_path / "other.txt"
    atomic_write_bytes(other, b"x")
    assert _perm(other) == 0o640
    assert _temp_files(tmp_path) == []


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755, 0o444])
def test_existing_mode_preserved(tmp_path: Path, umask_022: None, mode: int) -> None:
    dest = tmp_path / "file.bin"
    dest.write_bytes(b"old")
    dest.chmod(mode)
    atomic_write_chunks(dest, [b"new ", b"content"])
    assert dest.read_bytes() == b"new content"
    assert _perm(dest) == mode


def test_explicit_mode(tmp_path: Path, umask_022: None) -> None:
    dest = tmp_path / "tool.sh"
    atomic_write_bytes(dest, b"#!/bin/sh\n", mode=0o755)
    assert _perm(dest) == 0o755
    # An existing file keeps its own bits unless told otherwise.
    atomic_write_bytes(dest, b"#!/bin/sh\necho\n", mode=0o600)
    assert _perm(dest) == 0o755
    atomic_write_chunks(dest, [b"x"], mode=0o600, keep_existing_mode=False)
    assert _perm(dest) == 0o600
    atomic_write_chunks(dest, [b"y"], keep_existing_mode=False)
    assert _perm(dest) == 0o644


class Boom(Exception):
    pass


def _failing_chunks(exc: BaseException) -> Iterator[bytes]:
    yield b"partial " * 1000
    yield b"more"
    raise exc


@pytest.mark.parametrize("exc", [Boom("read failed"), KeyboardInterrupt()])
def test_failure_mid_iterator_leaves_dest_intact(tmp_path: Path, exc: BaseException) -> None:
    dest = tmp_path / "doc.txt"
    dest.write_bytes(b"original")
    with pytest.raises(type(exc)):
        atomic_write_chunks(dest, _failing_chunks(exc))
    assert dest.read_bytes() == b"original"
    assert sorted(os.listdir(tmp_path)) == ["doc.txt"]
    new = tmp_path / "sub" / "new.txt"
    with pytest.raises(type(exc)):
        atomic_write_chunks(new, _failing_chunks(exc))
    assert not new.exists()
    assert _temp_files(tmp_path) == []


def test_disk_full_maps_to_disk_full_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "big.bin"
    dest.write_bytes(b"keep me")

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("kamaros_app.engine.fsutil.os.fsync", no_space)
    with pytest.raises(DiskFullError):
        atomic_write_bytes(dest, b"x" * 100_000)
    monkeypatch.undo()
    assert dest.read_bytes() == b"keep me"
    assert _temp_files(tmp_path) == []


def test_other_os_errors_propagate_and_clean_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "f.txt"

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr("kamaros_app.engine.fsutil.os.replace", broken_replace)
    with pytest.raises(OSError) as info:
        atomic_write_bytes(dest, b"data")
    assert not isinstance(info.value, DiskFullError)
    monkeypatch.undo()
    assert not dest.exists()
    assert _temp_files(tmp_path) == []


def test_dest_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    with pytest.raises(InvalidArgumentError):
        atomic_write_bytes(tmp_path / "folder", b"x")
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(InvalidArgumentError):
        atomic_write_bytes(tmp_path / "file" / "child", b"x")
    with pytest.raises(InvalidArgumentError):
        atomic_write_bytes(tmp_path / "file" / "a" / "b", b"x")


def test_creates_parents(tmp_path: Path) -> None:
    dest = tmp_path / "a" / "b" / "c" / "file.txt"
    atomic_write_chunks(dest, iter([b"1", b"2", b""]))
    assert dest.read_bytes() == b"12"


def test_symlink_is_replaced_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "target.txt"
    target.write_bytes(b"target")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    atomic_write_bytes(link, b"new")
    assert not link.is_symlink()
    assert link.read_bytes() == b"new"
    assert target.read_bytes() == b"target"


def test_long_file_name(tmp_path: Path) -> None:
    name = "é" * 120 + ".txt"  # 244 bytes: a temp name built from it would be too long
    dest = tmp_path / name
    atomic_write_bytes(dest, b"ok")
    assert dest.read_bytes() == b"ok"
    assert _temp_files(tmp_path) == []


def test_empty_content(tmp_path: Path) -> None:
    dest = tmp_path / "empty"
    atomic_write_chunks(dest, [])
    assert dest.read_bytes() == b""


def test_remove_stale_temp_files(tmp_path: Path) -> None:
    stale = [
        ".a.txt.kamaros-tmp-0011",
        "sub/.b.bin.kamaros-tmp-22",
        "sub/deeper/.c.kamaros-tmp-x",
    ]
    kept = [
        "a.txt",
        "sub/notes.kamaros-tmp-1",  # not hidden: not ours
        "sub/.hidden",
        "nested/.kamaros/.p.jcf.kamaros-tmp-3",  # another project's history
    ]
    for rel in stale + kept:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    (tmp_path / "own" / ".kamaros").mkdir(parents=True)
    link_target = tmp_path / "sub" / "deeper"
    (tmp_path / "link").symlink_to(link_target, target_is_directory=True)
    assert remove_stale_temp_files(tmp_path) == 3
    for rel in stale:
        assert not (tmp_path / rel).exists()
    for rel in kept:
        assert (tmp_path / rel).exists()
    assert remove_stale_temp_files(tmp_path) == 0
    history = tmp_path / "nested" / ".kamaros"
    assert remove_stale_temp_files(history) == 1
    (tmp_path / ".top.kamaros-tmp-1").write_bytes(b"")
    (tmp_path / "sub" / ".x.kamaros-tmp-1").write_bytes(b"")
    assert remove_stale_temp_files(tmp_path, recursive=False) == 1
    assert remove_stale_temp_files(tmp_path / "missing") == 0


def test_read_chunks(tmp_path: Path) -> None:
    data = os.urandom(250_000)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    chunks = list(read_chunks(path, chunk_size=100_000))
    assert b"".join(chunks) == data
    assert all(len(c) <= 100_000 for c in chunks)
    assert list(read_chunks(tmp_path / "data.bin", 1 << 20)) == [data]
    (tmp_path / "empty").write_bytes(b"")
    assert list(read_chunks(tmp_path / "empty")) == []
    with pytest.raises(FileNotFoundError):
        list(read_chunks(tmp_path / "nope"))


def test_fsync_dir_best_effort(tmp_path: Path) -> None:
    fsync_dir(tmp_path)
    fsync_dir(tmp_path / "does-not-exist")  # nothing to do, no error


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MiB file system (needs root and `mount`; skipped otherwise)."""
    import shutil
    import subprocess

    mount = shutil.which("mount")
    if os.name != "posix" or os.geteuid() != 0 or mount is None:
        pytest.skip("needs root and mount")
    point = tmp_path / "mnt"
    point.mkdir()
    result = subprocess.run(
        [mount, "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(point)],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip("cannot mount tmpfs here")
    try:
        yield point
    finally:
        subprocess.run(["umount", str(point)], check=False)


def test_real_disk_full(tiny_tmpfs: Path) -> None:
    dest = tiny_tmpfs / "file.bin"
    atomic_write_bytes(dest, b"small")
    with pytest.raises(DiskFullError):
        atomic_write_chunks(dest, (b"x" * 65536 for _ in range(40)))
    assert dest.read_bytes() == b"small"
    assert sorted(os.listdir(tiny_tmpfs)) == ["file.bin"]


# ---------------------------------------------------------------- write_new_file


def test_write_new_file_writes_exact_mode(tmp_path: Path, umask_022: None) -> None:
    dest = tmp_path / "f.sh"
    assert write_new_file(str(dest), [b"#!/bin/sh\n", b"", b"true\n"], mode=0o751) == 15
    assert dest.read_bytes() == b"#!/bin/sh\ntrue\n"
    assert _perm(dest) == 0o751  # set with fchmod: the umask does not apply


def test_write_new_file_without_set_mode_gets_the_creation_mode(
    tmp_path: Path, umask_022: None
) -> None:
    write_new_file(str(tmp_path / "x"), [b"x"], mode=0o755, set_mode=False)
    write_new_file(str(tmp_path / "y"), [b"y"], mode=0o666, set_mode=False)
    assert _perm(tmp_path / "x") == 0o755
    assert _perm(tmp_path / "y") == 0o644  # the umask applies, as for any new file


def test_write_new_file_never_replaces(tmp_path: Path) -> None:
    dest = tmp_path / "f"
    dest.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        write_new_file(str(dest), [b"new"], mode=0o644)
    assert dest.read_bytes() == b"keep"


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_write_new_file_removes_a_partial_file(tmp_path: Path, exc: BaseException) -> None:
    dest = tmp_path / "f"
    with pytest.raises(type(exc)):
        write_new_file(str(dest), _failing_chunks(exc), mode=0o644)
    assert not dest.exists()


def test_write_new_file_disk_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "f"

    def no_space(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("kamaros_app.engine.diskio.os.write", no_space)
    with pytest.raises(DiskFullError, match="could not be written") as info:
        write_new_file(str(dest), [b"x"], mode=0o644)
    monkeypatch.undo()
    assert info.value.errno == errno.ENOSPC and str(dest) in str(info.value)
    assert not dest.exists()


def test_write_new_file_short_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write

    def short(fd: int, data: bytes) -> int:
        return real_write(fd, memoryview(data)[:3])

    monkeypatch.setattr("kamaros_app.engine.diskio.os.write", short)
    write_new_file(str(tmp_path / "f"), [b"0123456789", b"abcdefg"], mode=0o644)
    monkeypatch.undo()
    assert (tmp_path / "f").read_bytes() == b"0123456789abcdefg"


def test_write_new_file_hands_each_range_to_the_disk(tmp_path: Path) -> None:
    from kamaros_app.engine import diskio
    from kamaros_app.engine.diskio import FaultInjector

    chunks = [b"a" * 300, b"b" * 300, b"c" * 300, b"d" * 50]
    with diskio.inject(FaultInjector()) as counting:
        write_new_file(str(tmp_path / "f"), chunks, mode=0o644, writeback_every=500)
    assert isinstance(counting, FaultInjector)
    hints = [op.size for op in counting.ops if op.kind == "writeback"]
    assert hints == [600]  # 0-600 once 500 bytes were pending; 600-950 stays for the sync
    with diskio.inject(FaultInjector()) as counting:
        write_new_file(str(tmp_path / "g"), chunks, mode=0o644)
    assert isinstance(counting, FaultInjector)
    assert [op.kind for op in counting.ops] == ["open", "chmod", *["write"] * 4, "close"]
    assert (tmp_path / "f").read_bytes() == (tmp_path / "g").read_bytes() == b"".join(chunks)


def test_current_umask_reads_without_changing_it() -> None:
    from kamaros_app.engine.fsutil import current_umask

    before = os.umask(0o027)
    try:
        assert current_umask() == 0o027
        assert os.umask(0o027) == 0o027  # still set: reading did not change it
    finally:
        os.umask(before)
