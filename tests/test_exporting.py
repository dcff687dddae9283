"""Export of a version into a new folder: files created in place inside a staging folder,
large files read ahead on a helper thread and handed to the disk as they are written."""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kamaros_app.engine import Project, diskio, exporting
from kamaros_app.engine.diskio import FaultInjector
from kamaros_app.engine.errors import (
    CancelledError,
    DamagedContainerError,
    InvalidArgumentError,
)
from kamaros_app.engine.fsutil import READ_AHEAD_MIN, read_ahead, reading_ahead
from kamaros_app.engine.layout import CONTAINER_FILE, content_name
from kamaros_app.engine.progress import CancelToken, Progress
from kamaros_app.engine.store import WHOLE_READ_MAX
from kamaros_app.engine.zipcontainer import DEFLATED, ContainerWriter

BIG = 9 << 20  # above the read-ahead and write-back thresholds


def _perm(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _helpers() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "kamaros-read-ahead"]


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".kamaros" not in p.parts
    }


@pytest.fixture
def project(tmp_path: Path, umask_022: None) -> Iterator[Project]:
    root = tmp_path / "p"
    (root / "deep" / "er" / "est").mkdir(parents=True)
    (root / "deep" / "a.txt").write_text("a\n" * 1000)
    (root / "deep" / "er" / "est" / "b.txt").write_text("b\n")
    (root / "top.txt").write_text("")
    (root / "run.sh").write_text("#!/bin/sh\ntrue\n")
    (root / "run.sh").chmod(0o755)
    (root / "big.bin").write_bytes(os.urandom(BIG // 2) + b"text line\n" * (BIG // 20))
    with Project.init(root) as created:
        created.checkpoint("one")
    with Project.open(root, read_only=True) as opened:
        yield opened


def test_export_writes_every_file_with_its_bits(
    project: Project, tmp_path: Path, umask_022: None
) -> None:
    dest = tmp_path / "out"
    with diskio.inject(FaultInjector()) as counting:
        assert project.export_version("HEAD", dest) == 5
    assert _files(dest) == _files(project.root)
    assert _perm(dest / "run.sh") == 0o755 and _perm(dest / "top.txt") == 0o644
    assert _perm(dest / "big.bin") == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "p"]  # no staging left
    assert isinstance(counting, FaultInjector)
    kinds = [op.kind for op in counting.ops]
    # One mkdir per folder (staging, deep, er, est), one open per file, no temp files,
    # and no rename but the one of the staging folder.
    assert kinds.count("mkdir") == 4 and kinds.count("open") == 5
    assert kinds.count("replace") == 1 and kinds.count("syncfs") == 1
    assert kinds.count("chmod") == 0  # created with the right mode
    assert kinds.count("writeback") == 1  # 8 of the 9 MiB of big.bin handed over early
    assert _helpers() == []


def test_export_sets_the_bits_explicitly_under_a_default_acl(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exporting, "_has_default_acl", lambda folder: True)
    with diskio.inject(FaultInjector()) as counting:
        project.export_version("HEAD", tmp_path / "out")
    assert isinstance(counting, FaultInjector)
    assert [op.kind for op in counting.ops].count("chmod") == 5
    assert _perm(tmp_path / "out" / "run.sh") == 0o755


def test_damaged_large_file_fails_the_export_and_leaves_nothing(
    project: Project, tmp_path: Path
) -> None:
    entry = project.store.reader.entries[content_name("big.bin")]
    container = project.root / CONTAINER_FILE
    with open(container, "r+b") as handle:
        handle.seek(entry.data_offset + 1000)
        byte = handle.read(1)
        handle.seek(entry.data_offset + 1000)
        handle.write(bytes([byte[0] ^ 1]))
    with (
        Project.open(project.root, read_only=True) as damaged,
        pytest.raises(DamagedContainerError, match=r"big\.bin"),
    ):
        damaged.export_version("HEAD", tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]
    assert _helpers() == []


def test_small_contents_are_read_in_one_piece_large_ones_streamed(project: Project) -> None:
    store = project.store
    small = project.manifest.fileMap["deep/a.txt"]
    with store.content_chunks(small.currentHash, small.size) as chunks:
        assert chunks == ((project.root / "deep" / "a.txt").read_bytes(),)
    big = project.manifest.fileMap["big.bin"]
    assert big.size > WHOLE_READ_MAX
    with store.content_chunks(big.currentHash, big.size) as chunks:
        assert not isinstance(chunks, tuple)
        assert b"".join(chunks) == (project.root / "big.bin").read_bytes()


def _flip(container: Path, offset: int) -> None:
    with open(container, "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 1]))


@pytest.mark.parametrize("where", ["deflate data", "stored data"])
def test_damaged_small_file_fails_the_export_and_leaves_nothing(
    project: Project, tmp_path: Path, where: str
) -> None:
    """The one-piece read checks what the stream checks: a flipped byte in a deflated or a
    stored small entry fails the export, and nothing is left behind."""
    path = "deep/a.txt" if where == "deflate data" else "run.sh"
    entry = project.store.reader.entries[content_name(path)]
    assert entry.method == (8 if where == "deflate data" else 0)
    _flip(project.root / CONTAINER_FILE, entry.data_offset + entry.compressed_size // 2)
    with (
        Project.open(project.root, read_only=True) as damaged,
        pytest.raises(DamagedContainerError, match=re.escape(path)),
    ):
        damaged.export_version("HEAD", tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]


def test_small_entry_whose_bytes_are_not_the_recorded_content_is_refused(
    project: Project, tmp_path: Path
) -> None:
    """An entry that is intact as ZIP data (its CRC-32 matches) but holds other bytes
    than the manifest's hash names: the one-piece read checks the BLAKE3 hash too."""
    path = "deep/er/est/b.txt"
    with (
        Project.open(project.root) as writable,
        ContainerWriter.append_to(writable.store.reader) as writer,
    ):
        writer.add_bytes(content_name(path), b"c\n", method=DEFLATED)  # same size
        writer.commit()
    with (
        Project.open(project.root, read_only=True) as opened,
        pytest.raises(DamagedContainerError, match="do not match the recorded hash"),
    ):
        opened.export_version("HEAD", tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]


def test_cancel_during_a_large_file_leaves_nothing(project: Project, tmp_path: Path) -> None:
    token = CancelToken()

    def progress(report: Progress) -> None:
        if report.item == "big.bin":
            token.cancel()

    with pytest.raises(CancelledError):
        project.export_version("HEAD", tmp_path / "out", progress=progress, cancel=token)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]
    assert _helpers() == []


def test_crash_while_writing_a_large_file(project: Project, tmp_path: Path) -> None:
    """A crash in the middle of the read-ahead file: the helper thread ends, and what is
    left is the staging folder, which the next export to that place removes."""
    dest = tmp_path / "out"
    with diskio.inject(FaultInjector()) as counting:
        project.export_version("HEAD", tmp_path / "probe")
    assert isinstance(counting, FaultInjector)
    big_writes = [
        i
        for i, op in enumerate(counting.ops)
        if op.kind in ("write", "writeback") and op.path.endswith("big.bin")
    ]
    for at in (big_writes[2], big_writes[-1]):
        with diskio.inject(FaultInjector("crash", at)), pytest.raises(diskio.SimulatedCrash):
            project.export_version("HEAD", dest)
        assert not dest.exists() and (tmp_path / ".out.new-tmp").is_dir()
        assert _helpers() == []
    project.export_version("HEAD", dest)
    assert _files(dest) == _files(project.root)
    assert not (tmp_path / ".out.new-tmp").exists()


def test_paths_one_file_system_takes_for_one(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a file system that ignores case, "A.txt" and "a.txt" are one file: the second
    one is refused with a clear error instead of replacing the first."""
    real = exporting.write_new_file

    def case_blind(path: str, *args: object, **kwargs: object) -> int:
        if path.endswith("top.txt"):
            raise FileExistsError(path)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(exporting, "write_new_file", case_blind)
    with pytest.raises(InvalidArgumentError, match=r"top\.txt cannot be written"):
        project.export_version("HEAD", tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]


def _numbers(fail_after: int | None = None) -> Iterator[bytes]:
    for i in range(20):
        if i == fail_after:
            raise DamagedContainerError("wrong bytes")
        yield str(i).encode()


def test_read_ahead_yields_in_order_and_raises_at_the_end() -> None:
    assert b"".join(read_ahead(_numbers(), depth=2)) == b"".join(_numbers())
    got: list[bytes] = []
    with pytest.raises(DamagedContainerError, match="wrong bytes"):
        for chunk in read_ahead(_numbers(fail_after=7), depth=2):
            got.append(chunk)
    assert got == [str(i).encode() for i in range(7)]
    assert _helpers() == []


def test_read_ahead_closed_early_closes_its_source() -> None:
    closed = threading.Event()

    def source() -> Iterator[bytes]:
        try:
            while True:
                yield b"x"
        finally:
            closed.set()

    ahead = read_ahead(source(), depth=2)
    assert next(ahead) == b"x"
    ahead.close()
    assert closed.is_set()
    assert _helpers() == []


def test_reading_ahead_only_for_large_contents_and_stops_its_helper_on_leaving() -> None:
    small = _numbers()
    with reading_ahead(small, READ_AHEAD_MIN - 1) as chunks:
        assert chunks is small  # no helper thread for a small file
    with reading_ahead(_numbers(), READ_AHEAD_MIN) as chunks:
        assert next(iter(chunks)) == b"0"
        assert any(t.name == "kamaros-read-ahead" for t in threading.enumerate())
    assert _helpers() == []  # left early: the helper is gone at once
