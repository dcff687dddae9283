"""Tests of the append-only ZIP container: round trips, crash recovery, hostile input."""

from __future__ import annotations

import errno
import io
import os
import random
import shutil
import signal
import stat
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kamaros_app.engine import diskio
from kamaros_app.engine import zipcontainer as zc
from kamaros_app.engine.diskio import FaultInjector
from kamaros_app.engine.errors import (
    DamagedContainerError,
    DiskFullError,
    HostileContainerError,
    InvalidArgumentError,
)
from kamaros_app.engine.zipcontainer import (
    DEFLATED,
    STORED,
    ContainerReader,
    ContainerWriter,
    Limits,
    find_last_commit,
    validate_entry_name,
)

UNZIP = shutil.which("unzip")
needs_unzip = pytest.mark.skipif(UNZIP is None, reason="Info-ZIP unzip is not installed")


# ---------------------------------------------------------------------------- helpers


def unzip_test(path: Path) -> None:
    """`unzip -t` must pass without a single warning (skipped when unzip is missing)."""
    if UNZIP is None:
        return
    done = subprocess.run([UNZIP, "-tq", str(path)], capture_output=True, text=True)
    output = (done.stdout + done.stderr).lower()
    assert done.returncode == 0, output
    assert "warning" not in output and "error:" not in output, output
    assert "no errors detected" in output, output


def zipfile_contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert len(names) == len(set(names))
        return {name: archive.read(name) for name in names}


def our_contents(path: Path, *, untrusted: bool = False) -> dict[str, bytes]:
    with ContainerReader.open(path, untrusted=untrusted) as reader:
        return {name: reader.read_entry(name, 1 << 30) for name in reader.entries}


def payload(name: str, size: int) -> bytes:
    """Deterministic, partly compressible content for an entry name."""
    seed = zlib.crc32(name.encode())
    rng = random.Random(seed)
    words = [rng.randbytes(rng.randint(1, 12)) for _ in range(64)]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words)
    return bytes(out[:size])


def deflate(data: bytes, level: int = 9) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def commit_entries(
    path: Path, entries: dict[str, bytes], removed: tuple[str, ...] = ()
) -> ContainerReader:
    """Append one commit (create the container if needed); returns a fresh reader."""
    if path.exists():
        with ContainerReader.open(path) as reader, ContainerWriter.append_to(reader) as writer:
            _add_all(writer, entries, removed)
    else:
        with ContainerWriter.create(path) as writer:
            _add_all(writer, entries, removed)
    return ContainerReader.open(path)


def _add_all(writer: ContainerWriter, entries: dict[str, bytes], removed: tuple[str, ...]) -> None:
    for i, (name, data) in enumerate(entries.items()):
        method = DEFLATED if i % 2 else STORED
        if i % 3 == 0:
            writer.add_chunks(name, [data[:1000], data[1000:]], method=method)
        else:
            writer.add_bytes(name, data, method=method)
    for name in removed:
        writer.remove(name)
    writer.commit()


@dataclass
class Member:
    """One entry of a hand-made ZIP (fields left None are computed)."""

    name: bytes
    stored: bytes  # the bytes as stored (already deflated for method 8)
    method: int = 0
    crc: int | None = None
    usize: int | None = None
    csize: int | None = None
    flags: int = 0
    made_by: int = (3 << 8) | 20
    external_attr: int = (stat.S_IFREG | 0o644) << 16
    cd_offset: int | None = None
    write_local: bool = True


def build_zip(members: list[Member], *, trailing: bytes = b"") -> bytes:
    """A ZIP written field by field, independent of the module under test."""
    out = bytearray()
    offsets: list[int] = []
    for m in members:
        usize = len(m.stored) if m.usize is None else m.usize
        csize = len(m.stored) if m.csize is None else m.csize
        crc = zlib.crc32(m.stored) if m.crc is None else m.crc
        offsets.append(len(out))
        if m.write_local:
            out += struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 20, m.flags, m.method, 0, 0x21, crc, csize, usize,
                len(m.name), 0,
            )  # fmt: skip
            out += m.name + m.stored
    cd_start = len(out)
    for m, offset in zip(members, offsets, strict=True):
        usize = len(m.stored) if m.usize is None else m.usize
        csize = len(m.stored) if m.csize is None else m.csize
        crc = zlib.crc32(m.stored) if m.crc is None else m.crc
        out += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, m.made_by, 20, m.flags, m.method, 0, 0x21, crc,
            csize, usize, len(m.name), 0, 0, 0, 0, m.external_attr,
            offset if m.cd_offset is None else m.cd_offset,
        )  # fmt: skip
        out += m.name
    count = len(members)
    out += struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(out) - cd_start, cd_start, 0
    )
    return bytes(out) + trailing


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def locate(path: Path) -> zc.CommitLocation:
    with open(path, "rb") as handle:
        return find_last_commit(handle)


def lfh(name: bytes, data: bytes) -> bytes:
    return (
        struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            0,
            0,
            0,
            0x21,
            zlib.crc32(data),
            len(data),
            len(data),
            len(name),
            0,
        )
        + name
        + data
    )


# ---------------------------------------------------------------------------- round trips


def test_create_commit_read_back(tmp_path: Path) -> None:
    path = tmp_path / "a.jcf"
    big = payload("big", 3 << 20)
    files = {
        "manifest.json": b'{"formatVersion": "1.0.0"}' * 50,
        "content/big.bin": big,
        "content/empty.txt": b"",
        "content/ünïcödé/日本.txt": "grüße".encode() * 1000,
    }
    with ContainerWriter.create(path) as writer:
        writer.add_bytes("manifest.json", files["manifest.json"], method=DEFLATED)
        entry = writer.add_chunks(
            "content/big.bin",
            (big[i : i + 100_000] for i in range(0, len(big), 100_000)),
            method=DEFLATED,
            mode=0o755,
            date_time=(2024, 2, 29, 13, 45, 58),
        )
        writer.add_bytes("content/empty.txt", b"", method=DEFLATED)
        writer.add_chunks(
            "content/ünïcödé/日本.txt", [files["content/ünïcödé/日本.txt"]], method=STORED
        )
        writer.add_bytes("content/dir/", b"", method=STORED)
        assert "content/big.bin" in writer and "nope" not in writer
        assert entry.uncompressed_size == len(big) and entry.crc32 == zlib.crc32(big)
        writer.commit()

    raw = path.read_bytes()
    assert raw[30:38] == b"mimetype" and raw[38:55] == b"application/x-jcf"
    assert raw[:4] == b"PK\x03\x04" and raw[28:30] == b"\x00\x00"  # no extra field

    expected = {"mimetype": b"application/x-jcf", **files, "content/dir/": b""}
    with ContainerReader.open(path, untrusted=True) as reader:
        assert list(reader.entries) == list(expected)
        assert reader.has_commit_marker and not reader.torn_tail
        assert reader.commit_end == len(raw)
        assert {n: reader.read_entry(n, 1 << 30) for n in reader.entries} == expected
        big_entry = reader.entries["content/big.bin"]
        assert big_entry.date_time == (2024, 2, 29, 13, 45, 58)
        assert stat.S_IMODE(big_entry.external_attr >> 16) == 0o755
        assert reader.entries["content/dir/"].is_dir
        with reader.open_entry("content/big.bin") as stream:
            assert stream.read(10) == big[:10]
            assert stream.read(1 << 30) == big[10:]
            assert stream.read(5) == b""
        assert b"".join(reader.iter_entry("content/big.bin", 4096)) == big
        assert max(map(len, reader.iter_entry("content/big.bin", 4096))) <= 4096

    assert zipfile_contents(path) == expected
    with zipfile.ZipFile(path) as archive:
        assert archive.infolist()[0].filename == "mimetype"
        assert archive.infolist()[0].compress_type == zipfile.ZIP_STORED
        assert archive.getinfo("content/big.bin").external_attr >> 16 == stat.S_IFREG | 0o755
        assert archive.comment.startswith(b"JCF-COMMIT ")
    unzip_test(path)
    if UNZIP is not None:
        out = tmp_path / "out"
        subprocess.run([UNZIP, "-q", str(path), "-d", str(out)], check=True)
        assert (out / "content/big.bin").read_bytes() == big
        assert (out / "content/ünïcödé/日本.txt").read_bytes() == files["content/ünïcödé/日本.txt"]
        assert os.stat(out / "content/big.bin").st_mode & 0o111


def test_append_commits_replace_and_remove(tmp_path: Path) -> None:
    path = tmp_path / "h.jcf"
    expected: dict[str, bytes] = {"mimetype": b"application/x-jcf"}
    steps: list[tuple[dict[str, bytes], tuple[str, ...]]] = [
        ({f"content/f{i}.txt": payload(f"a{i}", 5000 + i) for i in range(6)}, ()),
        ({"content/f1.txt": b"replaced once", "content/new.txt": payload("n", 70_000)}, ()),
        ({"content/f1.txt": b"replaced twice"}, ("content/f2.txt", "content/new.txt")),
        ({"content/new.txt": b"back again"}, ("content/f0.txt",)),
    ]
    sizes = []
    for added, removed in steps:
        reader = commit_entries(path, added, removed)
        reader.close()
        expected.update(added)
        for name in removed:
            expected.pop(name, None)
        for name in added:  # replaced entries move to the end of the directory
            expected[name] = expected.pop(name)
        sizes.append(path.stat().st_size)
        assert zipfile_contents(path) == expected
        assert list(zipfile_contents(path)) == list(expected)
        assert our_contents(path) == expected
        assert our_contents(path, untrusted=True) == expected
        unzip_test(path)
    assert sizes == sorted(sizes)  # append-only


def test_writer_keeps_working_after_commit(tmp_path: Path) -> None:
    path = tmp_path / "w.jcf"
    with ContainerWriter.create(path, mimetype=None) as writer:
        writer.add_bytes("a", b"1", method=STORED)
        writer.commit()
        first_end = path.stat().st_size
        writer.add_bytes("b", b"2", method=DEFLATED)
        writer.remove("a")
        writer.commit()
        writer.add_bytes("c", b"3", method=STORED)  # discarded by close()
    assert zipfile_contents(path) == {"b": b"2"}
    with ContainerReader.open(path) as reader:
        assert not reader.torn_tail
        assert reader.commit_end == path.stat().st_size > first_end


def test_withdraw_puts_back_what_the_last_commit_listed(tmp_path: Path) -> None:
    """withdraw(name) undoes an added, replaced or removed entry: the last commit's entry
    (or none) is what the next commit lists; a withdrawn last entry's bytes are given back."""
    path = tmp_path / "w.jcf"
    commit_entries(path, {"kept": b"old kept", "gone": b"old gone"}).close()
    committed_size = path.stat().st_size
    with ContainerReader.open(path) as reader, ContainerWriter.append_to(reader) as writer:
        writer.add_bytes("new", payload("new", 5000), method=STORED)
        writer.withdraw("new")  # the last thing written: its bytes are given back
        assert "new" not in writer
        writer.add_bytes("kept", b"replaced", method=STORED)
        writer.remove("gone")
        writer.add_bytes("extra", b"stays", method=STORED)
        writer.withdraw("kept")  # bytes followed by "extra": left unlisted
        writer.withdraw("gone")
        writer.withdraw("never there")
        writer.commit()
    assert zipfile_contents(path) == {
        "mimetype": b"application/x-jcf",
        "kept": b"old kept",
        "gone": b"old gone",
        "extra": b"stays",
    }
    assert our_contents(path, untrusted=True)["kept"] == b"old kept"
    unzip_test(path)
    assert path.stat().st_size - committed_size < 5000  # "new" (stored) was given back
    assert payload("new", 5000)[:64] not in path.read_bytes()
    assert b"replaced" in path.read_bytes()  # unlisted, until a compaction


def test_a_large_commit_is_handed_to_the_disk_while_it_is_written(tmp_path: Path) -> None:
    """Every further 8 MiB written get a write-back hint, before the commit's fsync, so a
    first checkpoint of hundreds of MB does not wait for all of them at the end; a small
    commit gets none. The hints change nothing in the file."""
    path = tmp_path / "h.jcf"
    big = payload("big", 20 << 20)
    with ContainerWriter.create(path) as writer:
        with diskio.inject(FaultInjector()) as counting:
            writer.add_bytes("small", b"small" * 1000, method=DEFLATED)
            writer.commit()
            assert isinstance(counting, FaultInjector)
            assert [op for op in counting.ops if op.kind == "writeback"] == []
            del counting.ops[:]
            writer.add_bytes("a", payload("a", 3 << 20), method=STORED)  # buffered
            writer.add_chunks(
                "big", (big[i : i + (1 << 20)] for i in range(0, 20 << 20, 1 << 20)), method=STORED
            )
            writer.withdraw("big")  # given back: the next hints start where it began
            writer.add_chunks("big", [big], method=STORED)
            writer.commit()
        kinds = [op.kind for op in counting.ops]
        hints = [op.size for op in counting.ops if op.kind == "writeback"]
    # 8 MiB, 8 MiB (7 MiB of "big" left unhinted), then from where "big" began again: the
    # rewritten 20 MiB were written as one piece.
    assert len(hints) == 3 and 8 << 20 <= hints[0] < 9 << 20 and hints[1] == 8 << 20
    assert 20 << 20 < hints[2] < 21 << 20
    assert kinds.index("fsync") > max(i for i, kind in enumerate(kinds) if kind == "writeback")
    assert our_contents(path, untrusted=True) == {
        "mimetype": b"application/x-jcf",
        "small": b"small" * 1000,
        "a": payload("a", 3 << 20),
        "big": big,
    }


@pytest.mark.parametrize("count", [3, 70_000])  # 70,000 entries need the zip64 end records
def test_committed_reader_equals_a_fresh_open(tmp_path: Path, count: int) -> None:
    """The reader a writer hands over after its commit sees what opening the file sees."""
    path = tmp_path / "c.jcf"
    with ContainerWriter.create(path) as writer:
        for i in range(count):
            writer.add_bytes(f"e/{i:05d}", b"x" * (i % 3), method=DEFLATED if i % 2 else STORED)
        writer.commit(fsync=False)
    with ContainerReader.open(path) as reader, ContainerWriter.append_to(reader) as writer:
        writer.add_bytes("e/00001", b"changed", method=DEFLATED)  # moves to the end
        writer.remove("e/00002")
        writer.add_bytes("new", b"n" * 1000, method=DEFLATED)
        with pytest.raises(ValueError):
            writer.committed_reader()  # nothing committed yet
        writer.commit(fsync=False)
        writer.add_bytes("after", b"not committed", method=STORED)
        handed = writer.committed_reader()
    with handed, ContainerReader.open(path) as fresh:
        assert handed.location == fresh.location
        assert handed.commit_end == fresh.commit_end == path.stat().st_size
        assert (handed.torn_tail, handed.has_commit_marker) == (False, True)
        assert list(handed.entries) == list(fresh.entries)
        for name, entry in fresh.entries.items():
            assert handed.entries[name] == entry
            assert handed.entries[name].cd_record == entry.cd_record
        assert handed.read_entry("e/00001", 100) == b"changed"
        assert handed.read_entry("new", 1000) == b"n" * 1000
        assert "after" not in handed.entries


def test_empty_container_without_mimetype(tmp_path: Path) -> None:
    path = tmp_path / "e.jcf"
    with ContainerWriter.create(path, mimetype=None) as writer:
        writer.commit()
    assert zipfile_contents(path) == {}
    with ContainerReader.open(path, untrusted=True) as reader:
        assert reader.entries == {} and reader.has_commit_marker


def test_abort_and_exception_exit(tmp_path: Path) -> None:
    path = tmp_path / "x.jcf"
    commit_entries(path, {"a": b"keep"}).close()
    size = path.stat().st_size
    with ContainerReader.open(path) as reader:
        with pytest.raises(RuntimeError), ContainerWriter.append_to(reader) as writer:
            writer.add_bytes("b", payload("b", 5 << 20), method=STORED)
            raise RuntimeError("boom")
        assert path.stat().st_size == size
        writer = ContainerWriter.append_to(reader)
        writer.add_bytes("c", b"x" * 100, method=STORED)
        writer.abort()
        writer.abort()  # idempotent
        assert path.stat().st_size == size
        with pytest.raises(ValueError):
            writer.add_bytes("d", b"", method=STORED)
    # a new file that was never committed is removed
    fresh = tmp_path / "fresh.jcf"
    with pytest.raises(RuntimeError), ContainerWriter.create(fresh):
        raise RuntimeError("boom")
    assert not fresh.exists()
    with pytest.raises(FileExistsError):
        ContainerWriter.create(path)


def test_failing_chunk_source_drops_only_that_entry(tmp_path: Path) -> None:
    path = tmp_path / "x.jcf"

    def chunks() -> Iterator[bytes]:
        yield payload("p", 3 << 20)
        yield b"small"
        raise OSError(errno.EIO, "source file vanished")

    with ContainerWriter.create(path) as writer:
        writer.add_bytes("a", b"first", method=DEFLATED)
        with pytest.raises(OSError, match="vanished"):
            writer.add_chunks("b", chunks(), method=STORED)
        with pytest.raises(OSError, match="vanished"):
            writer.add_chunks("a", chunks(), method=DEFLATED)  # replacement that failed
        writer.add_bytes("c", b"third", method=STORED)
        writer.commit()
    assert zipfile_contents(path) == {
        "mimetype": b"application/x-jcf",
        "a": b"first",
        "c": b"third",
    }
    unzip_test(path)


def test_writer_rejects_bad_input(tmp_path: Path) -> None:
    with ContainerWriter.create(tmp_path / "x.jcf") as writer:
        for bad in ["", "/abs", "../x", "a/../b", "a\\b", "C:/x", "a\x00b", "a//b", "./a"]:
            with pytest.raises(InvalidArgumentError):
                writer.add_bytes(bad, b"", method=STORED)
        with pytest.raises(InvalidArgumentError, match="method"):
            writer.add_bytes("a", b"", method=12)
        with pytest.raises(InvalidArgumentError, match="mimetype"):
            writer.add_bytes("mimetype", b"other", method=STORED)
        with pytest.raises(InvalidArgumentError, match="mimetype"):
            writer.remove("mimetype")
        with pytest.raises(KeyError):
            writer.remove("absent")
        with pytest.raises(InvalidArgumentError, match="directory"):
            writer.add_bytes("dir/", b"data", method=STORED)
        with pytest.raises(InvalidArgumentError, match="date"):
            writer.add_bytes("a", b"", method=STORED, date_time=(2020, 13, 1, 0, 0, 0))
        old = writer.add_bytes("old", b"", method=STORED, date_time=(1970, 1, 1, 0, 0, 0))
        assert old.date_time == (1980, 1, 1, 0, 0, 0)


def test_copy_entry_compacts_into_new_file(tmp_path: Path) -> None:
    src = tmp_path / "src.jcf"
    commit_entries(src, {f"f{i}": payload(f"c{i}", 20_000) for i in range(5)}).close()
    commit_entries(src, {"f1": b"newer", "f9": payload("f9", 9000)}, ("f2",)).close()
    dst = tmp_path / "dst.jcf"
    with ContainerReader.open(src) as reader, ContainerWriter.create(dst) as writer:
        for name, entry in reader.entries.items():
            if name != "mimetype":
                copied = writer.copy_entry(reader, entry, name=f"moved/{name}")
                assert copied.crc32 == entry.crc32
                assert copied.compressed_size == entry.compressed_size
        writer.commit()
        expected = {
            ("moved/" + n if n != "mimetype" else n): reader.read_entry(n, 1 << 20)
            for n in reader.entries
        }
        with ContainerReader.open(dst) as copy:
            for name, entry in reader.entries.items():
                target = copy.entries[name if name == "mimetype" else f"moved/{name}"]
                assert list(copy.raw_entry_bytes(target)) == list(reader.raw_entry_bytes(entry))
    assert zipfile_contents(dst) == expected
    assert dst.stat().st_size < src.stat().st_size
    unzip_test(dst)


def test_plain_zip_from_zipfile_and_data_descriptors(tmp_path: Path) -> None:
    path = tmp_path / "plain.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", b"application/x-jcf", compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("manifest.json", b"{}" * 1000, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content/a.txt", b"hello")
        with archive.open("content/forced64.txt", "w", force_zip64=True) as handle:
            handle.write(b"zip64 local extra" * 100)
        archive.comment = b"written by another tool"
    with ContainerReader.open(path, untrusted=True) as reader:
        assert not reader.has_commit_marker and not reader.torn_tail
        assert reader.read_entry("manifest.json", 10_000) == b"{}" * 1000
        assert reader.read_entry("content/forced64.txt", 10_000) == b"zip64 local extra" * 100
        with ContainerWriter.append_to(reader) as writer:
            writer.add_bytes("content/b.txt", b"appended", method=DEFLATED)
            writer.commit()
    with ContainerReader.open(path, untrusted=True) as reader:
        assert reader.has_commit_marker
        assert reader.read_entry("content/b.txt", 100) == b"appended"
    assert zipfile_contents(path)["content/a.txt"] == b"hello"
    unzip_test(path)

    # zipfile writes data descriptors (flag bit 3) to an unseekable stream
    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: object) -> int:
            view = memoryview(b)  # type: ignore[arg-type]
            self.data += view
            return view.nbytes

    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for i in range(3):
            with archive.open(f"d{i}.txt", "w") as handle:
                handle.write(payload(f"d{i}", 30_000))
    descr = write(tmp_path / "descr.zip", bytes(sink.data))
    assert our_contents(descr, untrusted=True) == zipfile_contents(descr)


# ---------------------------------------------------------------------------- recovery


def two_commits(path: Path) -> tuple[int, int, dict[str, bytes]]:
    first = {"a.txt": payload("a", 3000), "b.bin": payload("b", 2000), "c.txt": b"c" * 500}
    commit_entries(path, first).close()
    c1_end = path.stat().st_size
    expected = {"mimetype": b"application/x-jcf", **first}
    commit_entries(path, {"a.txt": b"second version", "d.txt": payload("d", 1500)}, ("c.txt",))
    return c1_end, path.stat().st_size, expected


def test_every_cut_point_recovers_first_commit(tmp_path: Path) -> None:
    full = tmp_path / "full.jcf"
    c1_end, c2_end, expected = two_commits(full)
    data = full.read_bytes()
    cut = tmp_path / "cut.jcf"
    cd2 = locate(full)
    assert cd2.end == c2_end and not cd2.torn_tail and cd2.has_marker
    points = list(range(c1_end, c2_end))
    assert len(points) < 10_000
    for point in points:
        cut.write_bytes(data[:point])
        with ContainerReader.open(cut) as reader:
            assert reader.commit_end == c1_end, point
            assert reader.torn_tail == (point > c1_end)
            assert {n: reader.read_entry(n, 1 << 20) for n in reader.entries} == expected
        if point > c1_end and point % 97 == 0:
            with pytest.raises((HostileContainerError, DamagedContainerError)):
                ContainerReader.open(cut, untrusted=True)
    # the commit after a torn tail cleans it up
    cut.write_bytes(data[: c2_end - 7])
    commit_entries(cut, {"e.txt": b"after crash"}).close()
    with ContainerReader.open(cut, untrusted=True) as reader:
        assert not reader.torn_tail and reader.commit_end == cut.stat().st_size
    assert zipfile_contents(cut) == {**expected, "e.txt": b"after crash"}
    unzip_test(cut)


def test_garbage_after_commit(tmp_path: Path) -> None:
    path = tmp_path / "g.jcf"
    _, c2_end, _ = two_commits(path)
    with open(path, "ab") as handle:
        handle.write(os.urandom(5000) + b"PK\x05\x06" + b"JCF-COMMIT " + b"0" * 40)
    with ContainerReader.open(path) as reader:
        assert reader.torn_tail and reader.commit_end == c2_end
        with open(path, "rb") as handle:
            location = find_last_commit(handle)
        assert location.end == c2_end and location.torn_tail
        with ContainerWriter.append_to(reader) as writer:
            writer.add_bytes("z.txt", b"clean again", method=DEFLATED)
            writer.commit()
    with ContainerReader.open(path, untrusted=True) as reader:
        assert not reader.torn_tail
        assert reader.read_entry("z.txt", 100) == b"clean again"
    assert zipfile_contents(path)["a.txt"] == b"second version"
    unzip_test(path)


@pytest.mark.parametrize("delta", [-70, -66, -65, -64, -63, -62, -61, -60, -40])
def test_scan_finds_end_record_across_window_boundary(tmp_path: Path, delta: int) -> None:
    path = tmp_path / "w.jcf"
    _, c2_end, _ = two_commits(path)
    garbage = zc._SCAN_CHUNK + delta  # places the EOCD around the first window's start
    with open(path, "ab") as handle:
        handle.write(b"\x00" * garbage)
    with ContainerReader.open(path) as reader:
        assert reader.commit_end == c2_end and reader.torn_tail


def test_marker_wrong_falls_back_to_previous_commit(tmp_path: Path) -> None:
    path = tmp_path / "m.jcf"
    c1_end, _, expected = two_commits(path)
    location = locate(path)
    data = bytearray(path.read_bytes())
    data[location.cd_offset + 20] ^= 0x01  # compressed size field of the first CD record
    write(path, bytes(data))
    with ContainerReader.open(path) as reader:
        assert reader.commit_end == c1_end and reader.torn_tail
        assert {n: reader.read_entry(n, 1 << 20) for n in reader.entries} == expected
    with pytest.raises(DamagedContainerError, match="commit marker"):
        ContainerReader.open(path, untrusted=True)

    single = tmp_path / "single.jcf"
    commit_entries(single, {"a": b"x"}).close()
    location = locate(single)
    data = bytearray(single.read_bytes())
    data[location.cd_offset + 50] ^= 0x20
    write(single, bytes(data))
    with pytest.raises(DamagedContainerError, match="no valid commit"):
        ContainerReader.open(single)


_CHILD = r"""
import os, random, sys
from kamaros_app.engine.zipcontainer import DEFLATED, STORED, ContainerReader, ContainerWriter
path, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
def content(name, size):
    block = (name.encode() * 64)[:4096] + rng.randbytes(512)
    return (block * (size // len(block) + 1))[:size]
reader = ContainerReader.open(path)
writer = ContainerWriter.append_to(reader)
print("ready", flush=True)
i = 0
while True:
    for _ in range(rng.randint(1, 5)):
        size = rng.randint(0, 300_000)
        name = f"e{seed}-{i}-{size}"
        i += 1
        data = content(name, size)
        writer.add_chunks(name, (data[o:o + 65536] for o in range(0, size, 65536)),
                          method=rng.choice([STORED, DEFLATED]), size_hint=size)
    live = [n for n in writer.live_names() if n.startswith("e")]
    for name in rng.sample(live, min(len(live), rng.randint(0, 3))):
        writer.remove(name)
    writer.commit(fsync=rng.random() < 0.3)
"""


def test_killed_writer_never_loses_the_last_commit(tmp_path: Path) -> None:
    path = tmp_path / "k.jcf"
    commit_entries(path, {"base.txt": b"base"}).close()
    rng = random.Random(1234)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")]
    )
    torn = 0
    committed_names: set[str] = set()
    for run in range(24):
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(path), str(run)],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.0, 0.15))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        with ContainerReader.open(path) as reader:
            torn += reader.torn_tail
            assert reader.read_entry("base.txt", 10) == b"base"
            for name in reader.entries:
                data = b"".join(reader.iter_entry(name))  # CRC and size verified
                if name.startswith("e"):
                    size = int(name.rsplit("-", 1)[1])
                    assert len(data) == size
                    assert data[:64] == (name.encode() * 64)[: min(64, size)]
                    committed_names.add(name)
    print(f"\n{torn} of 24 kills left a torn tail; {len(committed_names)} entries committed")
    commit_entries(path, {"final.txt": b"done"}).close()
    with ContainerReader.open(path, untrusted=True) as reader:
        assert not reader.torn_tail
    zipfile_contents(path)
    unzip_test(path)


# ---------------------------------------------------------------------------- zip64


def test_zip64_end_records_with_many_entries(tmp_path: Path) -> None:
    path = tmp_path / "many.jcf"
    count = 70_000
    with ContainerWriter.create(path) as writer:
        for i in range(count):
            writer.add_bytes(f"e/{i:05d}", b"x" if i % 2 else b"", method=STORED)
        writer.commit()
    data = path.read_bytes()
    eocd = data.rfind(b"PK\x05\x06")
    assert struct.unpack_from("<H", data, eocd + 10)[0] == 0xFFFF
    assert data[eocd - 20 : eocd - 16] == b"PK\x06\x07"
    with ContainerReader.open(path, untrusted=True) as reader:
        assert len(reader.entries) == count + 1
        assert reader.read_entry("e/69999", 10) == b"x"
        with ContainerWriter.append_to(reader) as writer:  # re-emits 70,000 cached records
            writer.add_bytes("e/00000", b"changed", method=DEFLATED)
            started = time.perf_counter()
            writer.commit(fsync=False)
            print(f"\ncommit with {count} live entries: {time.perf_counter() - started:.4f} s")
    with zipfile.ZipFile(path) as archive:
        assert len(archive.namelist()) == count + 1
        assert archive.read("e/00000") == b"changed"
        assert archive.read("e/00001") == b"x"
    unzip_test(path)


def test_offsets_beyond_4gib_in_a_sparse_file(tmp_path: Path) -> None:
    path = tmp_path / "sparse.jcf"
    with ContainerWriter.create(path) as writer:
        writer.add_bytes("low.txt", b"below 4 GiB", method=STORED)
        writer.commit()
        # Leave a 5 GiB hole of dead bytes (as replaced entries would) without writing it.
        writer._flush()
        writer._pos = writer._buf_start = 5 << 30
        writer.add_bytes("high.txt", b"above 4 GiB" * 100, method=DEFLATED)
        writer.add_chunks("high2.bin", [b"z" * 1000], method=STORED, size_hint=1 << 33)
        writer.commit()
    if path.stat().st_blocks * 512 > 100 << 20:
        pytest.skip("this file system does not keep sparse files")
    with ContainerReader.open(path, untrusted=True) as reader:
        high = reader.entries["high.txt"]
        assert high.header_offset > 0xFFFFFFFF
        assert reader.location.cd_offset > 0xFFFFFFFF
        assert reader.read_entry("high.txt", 10_000) == b"above 4 GiB" * 100
        assert reader.read_entry("high2.bin", 10_000) == b"z" * 1000
        with ContainerWriter.append_to(reader) as writer:
            writer.remove("low.txt")
            writer.commit()
    with zipfile.ZipFile(path) as archive:
        assert archive.read("high.txt") == b"above 4 GiB" * 100
        assert archive.read("high2.bin") == b"z" * 1000
        assert archive.getinfo("high.txt").header_offset > 0xFFFFFFFF
    unzip_test(path)


def test_zip64_extra_encoding_and_parsing() -> None:
    name = b"huge.bin"
    usize, csize, offset = 5 << 30, (5 << 30) + 7, 6 << 30
    record = zc._cd_record(name, 0, DEFLATED, 0, 0x21, 123, csize, usize, 0, offset, 3)
    fields = struct.unpack_from("<IHHHHHHIIIHHHHHII", record)
    assert fields[8] == fields[9] == fields[16] == 0xFFFFFFFF
    extra = record[46 + len(name) :]
    assert struct.unpack("<HH", extra[:4]) == (1, 24)
    assert zc._zip64_extra(extra, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0) == (
        usize,
        csize,
        offset,
        0,
    )
    # only the offset overflows: the extra holds just that field
    record = zc._cd_record(name, 0, STORED, 0, 0x21, 1, 10, 10, 0, offset, 3)
    extra = record[46 + len(name) :]
    assert struct.unpack("<HHQ", extra) == (1, 8, offset)
    assert zc._zip64_extra(extra, 10, 10, 0xFFFFFFFF, 0) == (10, 10, offset, 0)
    # other extra fields before the zip64 one are skipped
    padded = struct.pack("<HH", 0x5455, 5) + b"\x01abcd" + extra
    assert zc._zip64_extra(padded, 10, 10, 0xFFFFFFFF, 0) == (10, 10, offset, 0)
    with pytest.raises(DamagedContainerError, match="too short"):
        zc._zip64_extra(struct.pack("<HHI", 1, 4, 7), 0xFFFFFFFF, 10, 0, 0)
    with pytest.raises(DamagedContainerError, match="missing"):
        zc._zip64_extra(b"", 0xFFFFFFFF, 10, 0, 0)


def test_local_zip64_extra_from_size_hint(tmp_path: Path) -> None:
    path = tmp_path / "hint.jcf"
    data = payload("hinted", 200_000)
    with ContainerWriter.create(path) as writer:
        entry = writer.add_chunks("big", [data], method=DEFLATED, size_hint=5 << 30)
        writer.commit()
    raw = path.read_bytes()
    header = raw[entry.header_offset : entry.data_offset]
    assert struct.unpack_from("<II", header, 18) == (0xFFFFFFFF, 0xFFFFFFFF)
    assert struct.unpack_from("<HHQQ", header, 30 + 3) == (
        1,
        16,
        len(data),
        entry.compressed_size,
    )
    assert our_contents(path)["big"] == data
    assert zipfile_contents(path)["big"] == data
    unzip_test(path)


# ---------------------------------------------------------------------------- corruption


def test_flipped_data_byte_fails_crc(tmp_path: Path) -> None:
    path = tmp_path / "c.jcf"
    text = payload("t", 50_000)
    commit_entries(path, {"stored.bin": text, "deflated.txt": text}).close()
    with ContainerReader.open(path) as reader:
        stored = reader.entries["stored.bin"]
        deflated = reader.entries["deflated.txt"]
    data = bytearray(path.read_bytes())
    data[stored.data_offset + 1234] ^= 0x04
    data[deflated.data_offset + deflated.compressed_size // 2] ^= 0x10
    write(path, bytes(data))
    with ContainerReader.open(path) as reader:
        with pytest.raises(DamagedContainerError, match=r"stored\.bin: CRC-32 mismatch"):
            reader.open_entry("stored.bin").read()
        with pytest.raises(DamagedContainerError, match=r"deflated\.txt"):
            reader.read_entry("deflated.txt", 1 << 20)
        stream = reader.iter_entry("stored.bin", 1000)
        for _ in range(40):  # everything before the end still streams
            next(stream)
        with pytest.raises(DamagedContainerError):
            list(stream)


def test_truncated_and_lying_deflate_streams(tmp_path: Path) -> None:
    text = payload("x", 40_000)
    packed = deflate(text)
    crc = zlib.crc32(text)
    cases = {
        "truncated": Member(b"t", packed[:-40], 8, crc=crc, usize=len(text)),
        "declared smaller": Member(b"s", packed, 8, crc=zlib.crc32(text[:30_000]), usize=30_000),
        "declared larger": Member(b"l", packed, 8, crc=crc, usize=len(text) + 10),
        "stored short": Member(b"ss", text[:1000], 0, crc=zlib.crc32(text[:1001])),
        "junk after stream": Member(b"j", packed + b"junk", 8, crc=crc, usize=len(text)),
    }
    messages = {
        "truncated": "truncated deflate stream|corrupt",
        "declared smaller": "more data than the declared size",
        "declared larger": "ends before the declared size",
        "stored short": "CRC-32 mismatch",
        "junk after stream": "after the end of the deflate stream",
    }
    for label, member in cases.items():
        path = write(tmp_path / f"{label}.zip", build_zip([member]))
        with ContainerReader.open(path, untrusted=True) as reader:
            name = member.name.decode()
            with (
                pytest.raises(DamagedContainerError, match=messages[label]) as caught,
                reader.open_entry(name) as stream,
            ):
                while stream.read(7000):
                    pass
            assert str(caught.value).startswith(f"{name}: ")
            with pytest.raises(DamagedContainerError):
                reader.read_entry(name, 1 << 20)


def test_bounded_reads_and_size_limit(tmp_path: Path) -> None:
    zeros = b"\x00" * (8 << 20)
    path = write(
        tmp_path / "z.zip",
        build_zip([Member(b"z", deflate(zeros), 8, crc=zlib.crc32(zeros), usize=len(zeros))]),
    )
    with ContainerReader.open(path, untrusted=True) as reader:
        with pytest.raises(DamagedContainerError, match="exceeds the limit"):
            reader.read_entry("z", 1 << 20)
        with reader.open_entry("z") as stream:
            assert len(stream.read(100)) == 100
        sizes = [len(c) for c in reader.iter_entry("z", 65536)]
        assert max(sizes) <= 65536 and sum(sizes) == len(zeros)


def test_damaged_local_header(tmp_path: Path) -> None:
    path = tmp_path / "l.jcf"
    commit_entries(path, {"a": b"a" * 100, "b": b"b" * 100}).close()
    with ContainerReader.open(path) as reader:
        offset = reader.entries["b"].header_offset
    data = bytearray(path.read_bytes())
    data[offset] = ord("X")
    write(path, bytes(data))
    with pytest.raises(DamagedContainerError, match="b: bad local header signature"):
        ContainerReader.open(path, untrusted=True)
    # Our own container (directory vouched for by the commit marker): only "b" is damaged.
    with ContainerReader.open(path) as reader:
        assert reader.read_entry("a", 1000) == b"a" * 100
        with pytest.raises(DamagedContainerError, match="b: bad local header signature"):
            reader.read_entry("b", 1000)
        with pytest.raises(DamagedContainerError, match="b: bad local header"):
            list(reader.raw_entry_bytes(reader.entries["b"]))


def test_several_streams_and_threads(tmp_path: Path) -> None:
    path = tmp_path / "t.jcf"
    files = {f"f{i}": payload(f"t{i}", 300_000 + i) for i in range(6)}
    commit_entries(path, files).close()
    with ContainerReader.open(path) as reader:
        one, two = reader.open_entry("f0"), reader.open_entry("f1")
        parts: dict[str, list[bytes]] = {"f0": [], "f1": []}
        while True:
            a, b = one.read(4097), two.read(5003)
            parts["f0"].append(a)
            parts["f1"].append(b)
            if not a and not b:
                break
        assert b"".join(parts["f0"]) == files["f0"] and b"".join(parts["f1"]) == files["f1"]
        errors: list[BaseException] = []

        def work(name: str) -> None:
            try:
                for _ in range(3):
                    assert b"".join(reader.iter_entry(name, 10_000)) == files[name]
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(name,)) for name in files]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        stream = reader.open_entry("f2")
    with pytest.raises(ValueError, match="closed"):
        stream.read()


# ---------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    ("name", "why"),
    [
        (b"../evil", "'..'"),
        (b"a/../../evil", "'..'"),
        (b"/etc/passwd", "absolute"),
        (b"C:\\windows\\x", "backslash"),
        (b"C:/windows/x", "drive letter"),
        (b"a\\b", "backslash"),
        (b"a\x00b", "control character"),
        (b"a\nb", "control character"),
        (b"a//b", "empty"),
        (b"./a", "'.'"),
        (b"", "empty name"),
    ],
)
def test_hostile_names(tmp_path: Path, name: bytes, why: str) -> None:
    path = write(tmp_path / "n.zip", build_zip([Member(b"ok.txt", b"fine"), Member(name, b"x")]))
    with pytest.raises(HostileContainerError, match=why):
        ContainerReader.open(path, untrusted=True)


def test_hostile_names_written_by_zipfile(tmp_path: Path) -> None:
    path = tmp_path / "zf.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("good.txt", b"1")
        archive.writestr("../../escape.txt", b"2")
    with pytest.raises(HostileContainerError, match="escape"):
        ContainerReader.open(path, untrusted=True)
    with ContainerReader.open(path) as reader:  # names are only policed when untrusted
        assert "../../escape.txt" in reader.entries


def test_invalid_utf8_name_and_long_name(tmp_path: Path) -> None:
    path = write(tmp_path / "u.zip", build_zip([Member(b"\xff\xfe", b"x", flags=0x800)]))
    with pytest.raises(HostileContainerError, match="UTF-8"):
        ContainerReader.open(path, untrusted=True)
    cp437 = write(tmp_path / "cp.zip", build_zip([Member(b"caf\x82.txt", b"x")]))
    with ContainerReader.open(cp437, untrusted=True) as reader:
        assert list(reader.entries) == ["café.txt"]
    long = write(tmp_path / "long.zip", build_zip([Member(b"a" * 300, b"x")]))
    with pytest.raises(HostileContainerError, match="longer than"):
        ContainerReader.open(long, untrusted=True, limits=Limits(max_name_bytes=255))


def test_duplicate_names(tmp_path: Path) -> None:
    path = write(tmp_path / "d.zip", build_zip([Member(b"a", b"1"), Member(b"a", b"2")]))
    with pytest.raises(HostileContainerError, match="duplicate entry name 'a'"):
        ContainerReader.open(path, untrusted=True)
    with pytest.raises(HostileContainerError, match="duplicate"):
        ContainerReader.open(path)


def test_symlink_entry(tmp_path: Path) -> None:
    link = Member(b"link", b"/etc/passwd", external_attr=(stat.S_IFLNK | 0o777) << 16)
    path = write(tmp_path / "s.zip", build_zip([link]))
    with pytest.raises(HostileContainerError, match="symbolic link"):
        ContainerReader.open(path, untrusted=True)
    info = zipfile.ZipInfo("link2")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    info.create_system = 3
    via_zipfile = tmp_path / "s2.zip"
    with zipfile.ZipFile(via_zipfile, "w") as archive:
        archive.writestr(info, "../../target")
    with pytest.raises(HostileContainerError, match="symbolic link"):
        ContainerReader.open(via_zipfile, untrusted=True)


def test_overlapping_entries(tmp_path: Path) -> None:
    # two central records pointing at one local header
    shared = build_zip(
        [Member(b"a", b"data"), Member(b"b", b"data", write_local=False, cd_offset=0)]
    )
    path = write(tmp_path / "o1.zip", shared)
    with pytest.raises(HostileContainerError, match="overlapping entries"):
        ContainerReader.open(path, untrusted=True)
    # quine style: b's local header sits inside a's data
    inner = lfh(b"b", b"inner data")
    nested = build_zip(
        [Member(b"a", inner), Member(b"b", b"inner data", write_local=False, cd_offset=31)]
    )
    path = write(tmp_path / "o2.zip", nested)
    with zipfile.ZipFile(path) as archive:  # the stdlib does not notice on 3.11.7
        assert archive.getinfo("b").header_offset == 31
    with pytest.raises(HostileContainerError, match="overlapping entries: 'a' and 'b'"):
        ContainerReader.open(path)


def test_stored_entry_with_lying_sizes(tmp_path: Path) -> None:
    path = write(tmp_path / "ls.zip", build_zip([Member(b"a", b"hello", usize=500)]))
    with pytest.raises(HostileContainerError, match="stored entry"):
        ContainerReader.open(path, untrusted=True)


def test_zip_bombs(tmp_path: Path) -> None:
    zeros = b"\x00" * (4 << 20)
    packed = deflate(zeros)
    ratio = len(zeros) // len(packed)
    honest = write(
        tmp_path / "honest.zip",
        build_zip([Member(b"z", packed, 8, crc=zlib.crc32(zeros), usize=len(zeros))]),
    )
    with ContainerReader.open(honest, untrusted=True) as reader:  # real deflate stays < 1100:1
        assert reader.read_entry("z", len(zeros)) == zeros
    with pytest.raises(HostileContainerError, match="zip bomb"):
        ContainerReader.open(honest, untrusted=True, limits=Limits(max_ratio=ratio // 2))
    lying = Member(b"z", packed, 8, crc=0, usize=len(zeros) * 1000)
    path = write(tmp_path / "bomb.zip", build_zip([lying]))
    with pytest.raises(HostileContainerError, match="zip bomb"):
        ContainerReader.open(path, untrusted=True)
    many = write(
        tmp_path / "total.zip", build_zip([Member(b"a", b"x" * 600), Member(b"b", b"y" * 600)])
    )
    with pytest.raises(HostileContainerError, match="exceeds the limit"):
        ContainerReader.open(many, untrusted=True, limits=Limits(max_total_uncompressed=1000))


def test_too_many_entries(tmp_path: Path) -> None:
    path = write(tmp_path / "m.zip", build_zip([Member(f"{i}".encode(), b"") for i in range(5)]))
    with pytest.raises(HostileContainerError, match="too many entries"):
        ContainerReader.open(path, untrusted=True, limits=Limits(max_entries=4))


def test_unsupported_method_and_encryption(tmp_path: Path) -> None:
    bz = write(tmp_path / "bz.zip", build_zip([Member(b"a", b"BZh...", 12)]))
    with pytest.raises(HostileContainerError, match="unsupported compression method 12"):
        ContainerReader.open(bz)
    enc = write(tmp_path / "enc.zip", build_zip([Member(b"a", b"secret", flags=1)]))
    with pytest.raises(HostileContainerError, match="encrypted"):
        ContainerReader.open(enc)


def test_not_a_zip_and_trailing_data(tmp_path: Path) -> None:
    for label, data in {
        "empty": b"",
        "tiny": b"PK",
        "garbage": random.Random(5).randbytes(200_000),
        "text": b"hello world\n" * 1000,
    }.items():
        path = write(tmp_path / f"{label}.zip", data)
        for untrusted in (False, True):
            with pytest.raises(DamagedContainerError, match=r"ZIP|commit"):
                ContainerReader.open(path, untrusted=untrusted)
    good = build_zip([Member(b"a", b"1")])
    cut = write(tmp_path / "cut.zip", good[:-5])
    with pytest.raises(DamagedContainerError):
        ContainerReader.open(cut, untrusted=True)
    trailing = write(tmp_path / "trailing.zip", good + b"extra bytes")
    with pytest.raises(HostileContainerError, match="after the end"):
        ContainerReader.open(trailing, untrusted=True)
    with pytest.raises(DamagedContainerError):  # no marker: only accepted at the very end
        ContainerReader.open(trailing)
    prefixed = write(tmp_path / "prefixed.zip", b"MZ" + b"\x00" * 100 + good)
    with pytest.raises(DamagedContainerError):
        ContainerReader.open(prefixed, untrusted=True)
    ours = tmp_path / "ours.jcf"
    commit_entries(ours, {"a": b"1"}).close()
    with open(ours, "ab") as handle:
        handle.write(b"junk")
    with pytest.raises(HostileContainerError, match="after the end"):
        ContainerReader.open(ours, untrusted=True)


def test_validate_entry_name() -> None:
    for good in ["a", "a/b.txt", "dir/", "ünï/日本", "a b/.hidden", "x..y", "...."]:
        validate_entry_name(good)
    for bad in ["", "/", "/a", "a/", "a\\b", "C:x", "c:/x", "a/./b", "a/..", "..", "a\x7fb",
                "a\x85b", "a\udcffb", "a//b", "//a"]:  # fmt: skip
        if bad == "a/":
            validate_entry_name(bad)  # directory entry: allowed
            continue
        with pytest.raises(HostileContainerError):
            validate_entry_name(bad)


# ---------------------------------------------------------------------------- disk full


def test_disk_full_rolls_back_to_last_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "full.jcf"
    commit_entries(path, {"a": b"committed"}).close()
    size = path.stat().st_size
    real_pwrite = os.pwrite
    budget = {"left": 3 << 20}

    def pwrite(fd: int, data: bytes, offset: int) -> int:
        budget["left"] -= len(data)
        if budget["left"] < 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_pwrite(fd, data, offset)

    with ContainerReader.open(path) as reader:
        writer = ContainerWriter.append_to(reader)
        monkeypatch.setattr(os, "pwrite", pwrite)
        with pytest.raises(DiskFullError, match="disk is full"):
            for i in range(10):
                writer.add_bytes(f"big{i}", payload(f"b{i}", 1 << 20), method=STORED)
        monkeypatch.setattr(os, "pwrite", real_pwrite)
        assert writer.closed
        writer.abort()
    assert path.stat().st_size == size
    with ContainerReader.open(path, untrusted=True) as reader:
        assert list(reader.entries) == ["mimetype", "a"]

    # during the central directory write
    with ContainerReader.open(path) as reader:
        writer = ContainerWriter.append_to(reader)
        writer.add_bytes("b", b"small", method=STORED)
        calls = {"n": 0}

        def fail_second(fd: int, data: bytes, offset: int) -> int:
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(errno.EDQUOT, "Disk quota exceeded")
            return real_pwrite(fd, data, offset)

        monkeypatch.setattr(os, "pwrite", fail_second)
        with pytest.raises(DiskFullError):
            writer.commit(fsync=False)
        monkeypatch.setattr(os, "pwrite", real_pwrite)
    assert path.stat().st_size == size
    assert our_contents(path) == {"mimetype": b"application/x-jcf", "a": b"committed"}


def test_disk_full_on_a_real_small_filesystem(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount tmpfs: {done.stderr!r}")
    try:
        path = mnt / "small.jcf"
        commit_entries(path, {"a": payload("a", 200_000)}).close()
        size = path.stat().st_size
        with (
            ContainerReader.open(path) as reader,
            pytest.raises(DiskFullError),
            ContainerWriter.append_to(reader) as writer,
        ):
            writer.add_chunks("b", [os.urandom(1 << 20)] * 3, method=STORED)
            writer.commit()
        assert path.stat().st_size == size
        assert our_contents(path)["a"] == payload("a", 200_000)
        unzip_test(path)
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


# ---------------------------------------------------------------------------- speed (informal)


def test_commit_speed_with_20000_entries(tmp_path: Path) -> None:
    path = tmp_path / "speed.jcf"
    started = time.perf_counter()
    with ContainerWriter.create(path) as writer:
        for i in range(20_000):
            writer.add_bytes(f"content/dir{i % 50}/file{i}.txt", b"line\n" * 20, method=DEFLATED)
        writer.commit(fsync=False)
    created = time.perf_counter() - started
    started = time.perf_counter()
    reader = ContainerReader.open(path)
    opened = time.perf_counter() - started
    with reader, ContainerWriter.append_to(reader) as writer:
        writer.add_bytes("manifest.json", b"{}", method=DEFLATED)
        started = time.perf_counter()
        writer.commit(fsync=False)
        committed = time.perf_counter() - started
    print(
        f"\n20,000 entries: write+commit {created:.3f} s, open {opened:.3f} s, "
        f"append commit {committed * 1000:.1f} ms"
    )


def test_empty_deflated_entry_of_zero_bytes(tmp_path: Path) -> None:
    path = write(tmp_path / "e.zip", build_zip([Member(b"e", b"", 8, crc=0, usize=0)]))
    assert our_contents(path, untrusted=True) == {"e": b""}


@pytest.mark.parametrize("native", ["1", "0"])
def test_native_and_pure_inflaters_read_and_refuse_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, native: str
) -> None:
    """ISA-L's inflater (KAMAROS_NATIVE=1) and zlib's give the same bytes at every chunk
    size, and both report a cut or corrupt stream as damage, never another exception."""
    from kamaros_app.engine import deflate

    monkeypatch.setenv(deflate.NATIVE_ENV, native)
    rng = random.Random(5)
    text = "".join(f"line {i} {rng.random()}\n" for i in range(60_000)).encode()
    data = rng.randbytes(300_000) + text + bytes(200_000)
    path = tmp_path / "c.jcf"
    with ContainerWriter.create(path) as writer:
        writer.add_bytes("d", data, method=DEFLATED)
        writer.commit(fsync=False)
    with ContainerReader.open(path) as reader:
        for size in (1, 4096, 65_536, 1 << 20, 1 << 30):
            if size == 1:
                stream = reader.open_entry("d")
                head = stream.read(50_000)
                assert head == data[:50_000]
                continue
            assert b"".join(reader.iter_entry("d", size)) == data
        entry = reader.entries["d"]
    raw = bytearray(path.read_bytes())
    for damage in ("cut", "flip"):
        bad = bytearray(raw)
        if damage == "cut":  # the second half of the stream is gone (zeroed)
            bad[
                entry.data_offset + entry.compressed_size // 2 : entry.data_offset
                + entry.compressed_size
            ] = bytes(entry.compressed_size - entry.compressed_size // 2)
        else:
            bad[entry.data_offset + 10] ^= 0xFF
        path.write_bytes(bytes(bad))
        with ContainerReader.open(path) as reader, pytest.raises(DamagedContainerError):
            b"".join(reader.iter_entry("d", 4096))


def _three_stored_entries(tmp_path: Path) -> tuple[Path, list[zipfile.ZipInfo], int]:
    path = tmp_path / "three.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name in ("a", "bb", "ccc"):
            archive.writestr(name, name.encode() * 100)
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        cd_offset = archive.start_dir
    return path, infos, cd_offset


@pytest.mark.parametrize(
    ("where", "patch", "problem"),
    [
        (0, b"PK\x05\x05", "bad local header signature at"),
        (30 + 1, b"X", "local header name does not match the central directory"),
        (28, struct.pack("<H", 60000), "entry data runs into the central directory"),
        (28, struct.pack("<H", 20), None),  # extra length that reaches into the next entry
    ],
)
def test_each_kind_of_local_header_damage_is_named(
    tmp_path: Path, where: int, patch: bytes, problem: str | None
) -> None:
    from kamaros_app.engine.zip_reader import check_local_headers

    path, infos, cd_offset = _three_stored_entries(tmp_path)
    names = [i.filename for i in infos]
    offsets = [i.header_offset for i in infos]
    csizes = [i.compress_size for i in infos]
    with open(path, "r+b") as handle:
        handle.seek(offsets[1] + where)  # damage "bb"
        handle.write(patch)
    fd = os.open(path, os.O_RDONLY)
    try:
        args = (fd, names, [n.encode() for n in names], offsets, csizes, cd_offset)
        data_offsets, damage = check_local_headers(*args, False)
        if problem is None:  # "bb" lied about its length: it is the damaged one, not "ccc"
            assert damage == {1: "local header is damaged (wrong name or extra length)"}
        else:
            assert list(damage) == [1] and damage[1].startswith(problem)
        assert data_offsets[0] == offsets[0] + 30 + 1
        assert data_offsets[2] == offsets[2] + 30 + 3
        with pytest.raises((DamagedContainerError, HostileContainerError)):
            check_local_headers(*args, True)
        # A header cut off by the central directory is "truncated".
        cut = [offsets[0], offsets[1], cd_offset - 10]
        _offsets, damage = check_local_headers(fd, *args[1:3], cut, csizes, cd_offset, False)
        assert damage[2] == "local header is truncated"
    finally:
        os.close(fd)


@pytest.mark.parametrize("native", ["1", "0"])
def test_native_and_pure_crc32_agree_with_zlib(
    monkeypatch: pytest.MonkeyPatch, native: str
) -> None:
    from kamaros_app.engine import deflate

    monkeypatch.setenv(deflate.NATIVE_ENV, native)
    rng = random.Random(5)
    data = rng.randbytes(300_000)
    for start, stop, seed in ((0, 0, 0), (0, 1, 0), (3, 200_000, 0), (0, 300_000, 0xDEADBEEF)):
        piece = data[start:stop]
        expected = zlib.crc32(piece, seed)
        assert deflate.crc32(piece, seed) == expected
        assert deflate.crc32(bytearray(piece), seed) == expected
        assert deflate.crc32(memoryview(data)[start:stop], seed) == expected
        for explicit in (True, False, None):
            assert deflate.crc32_function(explicit)(piece, seed) == expected
    running = 0
    for at in range(0, len(data), 7_001):
        running = deflate.crc32(data[at : at + 7_001], running)
    assert running == zlib.crc32(data)


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize("native", ["1", "0"])
def test_small_entries_read_at_once_are_refused_as_the_stream_refuses_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, native: str
) -> None:
    """`read_entry` reads a small entry with one call; any damage sends it through the
    stream, so every damaged entry gets the stream's own error, and no damaged one is
    returned."""
    from kamaros_app.engine import deflate, zip_reader

    monkeypatch.setenv(deflate.NATIVE_ENV, native)
    text = b"".join(b"line %d of a small file\n" % i for i in range(2000))
    good = _raw_deflate(text)
    crc = zlib.crc32(text)
    flipped = good[:100] + bytes([good[100] ^ 0xFF]) + good[101:]
    members = {
        "intact": Member(b"intact", good, DEFLATED, crc=crc, usize=len(text)),
        "stored": Member(b"stored", text, STORED),
        "empty": Member(b"empty", b"", DEFLATED, crc=0, usize=0),
        "bad crc": Member(b"bad crc", good, DEFLATED, crc=crc ^ 1, usize=len(text)),
        "flipped": Member(b"flipped", flipped, DEFLATED, crc=crc, usize=len(text)),
        "more than declared": Member(
            b"more", good, DEFLATED, crc=zlib.crc32(text[:-1]), usize=len(text) - 1
        ),
        "less than declared": Member(b"less", good, DEFLATED, crc=crc, usize=len(text) + 1),
        "bytes after the end": Member(b"after", good + b"xx", DEFLATED, crc=crc, usize=len(text)),
        "cut": Member(b"cut", good[:-20], DEFLATED, crc=crc, usize=len(text)),
        "stored, bad crc": Member(b"stored bad", text, STORED, crc=1),
    }
    path = write(tmp_path / "d.zip", build_zip(list(members.values())))

    def outcome(read: Callable[[], bytes]) -> tuple[str, bytes | str]:
        try:
            return "bytes", read()
        except DamagedContainerError as exc:
            return "error", str(exc)

    with ContainerReader.open(path, untrusted=True) as reader:
        for what, member in members.items():
            name = member.name.decode()
            at_once = outcome(lambda name=name: reader.read_entry(name, 1 << 20))
            streamed = outcome(lambda name=name: b"".join(reader.iter_entry(name)))
            assert at_once == streamed, what
            expected = "bytes" if what in ("intact", "stored", "empty") else "error"
            assert at_once[0] == expected, what
        assert reader.read_entry("intact", 1 << 20) == text

        class NoStream:
            def __init__(self, *args: object) -> None:
                raise AssertionError("an intact small entry went through the stream")

        monkeypatch.setattr(zip_reader, "_EntryStream", NoStream)
        assert reader.read_entry("intact", 1 << 20) == text
        assert reader.read_entry("stored", 1 << 20) == text
