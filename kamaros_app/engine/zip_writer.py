"""The append-only, crash-safe writer of a container."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import struct
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Final, NoReturn

from . import deflate, diskio
from .errors import (
    DamagedContainerError,
    DiskFullError,
    HostileContainerError,
    InvalidArgumentError,
)
from .fsutil import WRITEBACK_EVERY
from .zip_commit import _MARKER_LEN, CommitLocation, _marker_for
from .zip_io import _pwrite_once
from .zip_reader import ContainerReader, Limits
from .zip_records import (
    _CRC_SIZES,
    _DOS_DIRECTORY,
    _EOCD,
    _EOCD_SIG,
    _FLAG_UTF8,
    _LFH,
    _LFH_SIG,
    _SYSTEM_UNIX,
    _U16,
    _U32,
    _VERSION,
    _VERSION_ZIP64,
    _Z64_EOCD,
    _Z64_EOCD_SIG,
    _Z64_LOC,
    _Z64_LOC_SIG,
    _Z64_LOCAL_EXTRA,
    DEFLATED,
    STORED,
    ZipEntry,
    _cd_record,
    _decode_date_time,
    _dos_date_time,
    validate_entry_name,
)

__all__ = ["ContainerWriter"]

# Reserve a zip64 extra in the local header from this size hint on: deflate can grow
# incompressible data by a little, so leave generous room below 4 GiB.
_ZIP64_HINT: Final = 0xF0000000
_MAX_WRITE_NAME_BYTES: Final = 4096

_FLUSH_AT: Final = 4 << 20  # write buffer size
_DIRECT_WRITE: Final = 1 << 20  # chunks this large bypass the write buffer


def _is_disk_full(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


class ContainerWriter:
    """Appends entries after the last commit and commits them crash-safely.

    The writer stays usable after `commit()`: later additions go into a further commit.
    `close()` and `abort()` discard everything not committed. Not thread-safe.
    """

    def __init__(
        self,
        handle: BinaryIO,
        path: Path,
        base: int,
        live: dict[str, ZipEntry],
        *,
        created: bool,
    ) -> None:
        self.path = path
        self._handle = handle
        self._fd = handle.fileno()
        self._base = base  # end of the last commit: abort() truncates back to it
        self._pos = base  # logical end of the data written so far
        self._buf = bytearray()
        self._buf_start = base
        self._hinted = base  # bytes before this were handed to the disk (start_writeback)
        self._live = dict(live)
        self._created = created
        self._committed = False
        self._closed = False
        self._last_commit: CommitLocation | None = None
        self._committed_live = dict(live)  # as of the last commit (or the start)

    @classmethod
    def create(
        cls, path: str | os.PathLike[str], *, mimetype: bytes | None = b"application/x-jcf"
    ) -> ContainerWriter:
        """A new container at `path` (which must not exist), optionally with a mimetype entry."""
        path = Path(path)
        try:
            handle = diskio.open_file(path, "xb")
        except OSError as exc:
            if _is_disk_full(exc):
                raise DiskFullError(f"the disk is full: {path} could not be created") from exc
            raise
        writer = cls(handle, path, 0, {}, created=True)
        if mimetype is not None:
            writer.add_bytes("mimetype", mimetype, method=STORED)
        return writer

    @classmethod
    def append_to(cls, reader: ContainerReader) -> ContainerWriter:
        """A writer appending after the commit `reader` has read (nothing changes until commit)."""
        if reader.closed:
            raise ValueError(f"the container reader for {reader.path} is closed")
        handle = diskio.open_file(reader.path, "r+b")
        try:
            mine = os.fstat(handle.fileno())
            theirs = os.fstat(reader._fd)
            if (mine.st_dev, mine.st_ino) != (theirs.st_dev, theirs.st_ino):
                raise DamagedContainerError(f"{reader.path} was replaced since it was read")
            if mine.st_size < reader.commit_end:
                raise DamagedContainerError(f"{reader.path} shrank since it was read")
        except BaseException:
            diskio.close(handle)
            raise
        return cls(handle, reader.path, reader.commit_end, reader.entries, created=False)

    # ---- state

    @property
    def closed(self) -> bool:
        return self._closed

    def live_names(self) -> set[str]:
        return set(self._live)

    def live_entries(self) -> dict[str, ZipEntry]:
        """The entries the next commit will list, in central directory order."""
        return dict(self._live)

    def __contains__(self, name: object) -> bool:
        return name in self._live

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"the container writer for {self.path} is closed")

    # ---- low-level output

    def _fail(self, exc: OSError) -> NoReturn:
        """A write failed: roll the file back to the last commit, close, and raise."""
        self._discard()
        if _is_disk_full(exc):
            raise DiskFullError(
                f"the disk is full while writing {self.path}; "
                "the container was left as it was at its last commit"
            ) from exc
        if exc.filename is None:  # write and fsync errors name no file
            exc.filename = os.fspath(self.path)
        raise exc

    def _pwrite_all(self, data: bytes | bytearray | memoryview, offset: int) -> None:
        try:
            with memoryview(data) as view, view.cast("B") as flat:
                done = 0
                total = flat.nbytes
                while done < total:
                    # Released on the way out even when an exception (Ctrl+C) keeps the
                    # call's frames alive: else the buffer stays exported and cannot shrink.
                    with flat[done:] as rest:
                        done += _pwrite_once(self._fd, rest, offset + done)
        except OSError as exc:
            self._fail(exc)

    def _fsync(self) -> None:
        try:
            diskio.fsync(self._fd)
        except OSError as exc:
            self._fail(exc)

    def _flush(self) -> None:
        if self._buf:
            self._pwrite_all(self._buf, self._buf_start)
            self._buf_start += len(self._buf)
            self._buf.clear()
            self._written_to(self._buf_start)

    def _written_to(self, end: int) -> None:
        # A large checkpoint would otherwise sit in the page cache until the commit's fsync
        # (the kernel starts on its own only at 10% of memory): with the hint the disk
        # works while the rest is produced, and the fsync has little left.
        if end - self._hinted >= WRITEBACK_EVERY:
            diskio.start_writeback(self._fd, self._hinted, end - self._hinted, keep_cached=True)
            self._hinted = end

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        size = data.nbytes if isinstance(data, memoryview) else len(data)
        if size >= _DIRECT_WRITE:
            self._flush()
            self._pwrite_all(data, self._pos)
            self._buf_start = self._pos + size
            self._written_to(self._buf_start)
        else:
            self._buf += data
            if len(self._buf) >= _FLUSH_AT:
                self._flush()
        self._pos += size

    def _patch(self, offset: int, data: bytes) -> None:
        if offset >= self._buf_start:
            at = offset - self._buf_start
            self._buf[at : at + len(data)] = data
        elif offset + len(data) <= self._buf_start:
            self._pwrite_all(data, offset)
        else:
            split = self._buf_start - offset
            self._pwrite_all(data[:split], offset)
            self._buf[: len(data) - split] = data[split:]

    def _rollback(self, offset: int) -> None:
        """Forget everything written from `offset` on (it is overwritten or truncated later)."""
        if offset >= self._buf_start:
            del self._buf[offset - self._buf_start :]
        else:
            self._buf.clear()
            self._buf_start = offset
        self._pos = offset
        self._hinted = min(self._hinted, offset)

    # ---- adding entries

    def _prepare(self, name: str, method: int) -> tuple[bytes, int]:
        self._check_open()
        try:
            validate_entry_name(name)
        except HostileContainerError as exc:
            raise InvalidArgumentError(str(exc)) from None
        if method != STORED and method != DEFLATED:
            raise InvalidArgumentError(f"{name}: unsupported compression method {method}")
        if name == "mimetype" and name in self._live:
            raise InvalidArgumentError("the mimetype entry cannot be replaced")
        name_b = name.encode("utf-8")
        if len(name_b) > _MAX_WRITE_NAME_BYTES:
            raise InvalidArgumentError(f"entry name is longer than {_MAX_WRITE_NAME_BYTES} bytes")
        return name_b, (0 if name.isascii() else _FLAG_UTF8)

    @staticmethod
    def _attributes(name: str, mode: int | None) -> int:
        if name.endswith("/"):
            return ((stat.S_IFDIR | (0o755 if mode is None else mode & 0o7777)) << 16) | (
                _DOS_DIRECTORY
            )
        return (stat.S_IFREG | (0o644 if mode is None else mode & 0o7777)) << 16

    def _register(
        self,
        name: str,
        name_b: bytes,
        flags: int,
        method: int,
        dos: tuple[int, int],
        crc: int,
        csize: int,
        usize: int,
        external_attr: int,
        header_offset: int,
        data_offset: int,
        system: int,
    ) -> ZipEntry:
        record = _cd_record(
            name_b, flags, method, dos[0], dos[1], crc, csize, usize, external_attr,
            header_offset, system,
        )  # fmt: skip
        entry = ZipEntry(
            name,
            method,
            crc,
            csize,
            usize,
            header_offset,
            data_offset,
            external_attr,
            _decode_date_time(*dos),
            record,
        )
        self._live.pop(name, None)
        self._live[name] = entry
        return entry

    def _local_header(
        self,
        name_b: bytes,
        flags: int,
        method: int,
        dos: tuple[int, int],
        crc: int,
        csize: int,
        usize: int,
        zip64: bool,
    ) -> bytes:
        if zip64:
            extra = _Z64_LOCAL_EXTRA.pack(1, 16, usize, csize)
            version, csize, usize = _VERSION_ZIP64, _U32, _U32
        else:
            extra = b""
            version = _VERSION
        head = _LFH.pack(
            _LFH_SIG, version, flags, method, dos[0], dos[1], crc, csize, usize,
            len(name_b), len(extra),
        )  # fmt: skip
        return head + name_b + extra

    def add_chunks(
        self,
        name: str,
        chunks: Iterable[bytes],
        *,
        method: int,
        date_time: tuple[int, int, int, int, int, int] | None = None,
        mode: int | None = None,
        size_hint: int = 0,
    ) -> ZipEntry:
        """Stream an entry; it replaces any live entry of that name in the next commit.

        Pass `size_hint` (the expected size) for data that may reach 4 GiB: a zip64 field is
        then reserved in the local header. If `chunks` raises, the partial entry is dropped.
        """
        name_b, flags = self._prepare(name, method)
        dos = _dos_date_time(date_time)
        attr = self._attributes(name, mode)
        zip64 = size_hint >= _ZIP64_HINT
        header_offset = self._pos
        header = self._local_header(name_b, flags, method, dos, 0, 0, 0, zip64)
        data_offset = header_offset + len(header)
        try:
            self._write(header)
            crc = usize = csize = 0
            packer = deflate.compressor() if method == DEFLATED else None
            for chunk in chunks:
                size = chunk.nbytes if isinstance(chunk, memoryview) else len(chunk)
                if not size:
                    continue
                if name.endswith("/"):
                    raise InvalidArgumentError(f"{name}: a directory entry cannot hold data")
                crc = deflate.crc32(chunk, crc)
                usize += size
                if packer is None:
                    csize += size
                    self._write(chunk)
                else:
                    out = packer.compress(chunk)
                    if out:
                        csize += len(out)
                        self._write(out)
            if packer is not None:
                out = packer.flush()
                csize += len(out)
                self._write(out)
            if zip64:
                self._patch(header_offset + 14, struct.pack("<I", crc))
                self._patch(data_offset - 16, struct.pack("<QQ", usize, csize))
            elif usize > _U32 or csize > _U32:
                raise InvalidArgumentError(
                    f"{name}: entry reaches 4 GiB; pass size_hint to add_chunks()"
                )
            else:
                self._patch(header_offset + 14, _CRC_SIZES.pack(crc, csize, usize))
        except BaseException:
            if not self._closed:
                self._rollback(header_offset)
            raise
        return self._register(
            name, name_b, flags, method, dos, crc, csize, usize, attr, header_offset,
            data_offset, _SYSTEM_UNIX,
        )  # fmt: skip

    def add_bytes(
        self,
        name: str,
        data: bytes,
        *,
        method: int,
        date_time: tuple[int, int, int, int, int, int] | None = None,
        mode: int | None = None,
    ) -> ZipEntry:
        """Add an entry whose bytes are all in memory."""
        payload = deflate.deflate(data) if method == DEFLATED else data
        return self.add_compressed(
            name,
            payload,
            method=method,
            crc=deflate.crc32(data),
            size=len(data),
            date_time=date_time,
            mode=mode,
        )

    def add_compressed(
        self,
        name: str,
        payload: bytes,
        *,
        method: int,
        crc: int,
        size: int,
        date_time: tuple[int, int, int, int, int, int] | None = None,
        mode: int | None = None,
    ) -> ZipEntry:
        """Add an entry already compressed with `method` (raw deflate for DEFLATED); `crc`
        and `size` describe the uncompressed bytes. Lets callers compress in parallel."""
        name_b, flags = self._prepare(name, method)
        dos = _dos_date_time(date_time)
        attr = self._attributes(name, mode)
        if size and name.endswith("/"):
            raise InvalidArgumentError(f"{name}: a directory entry cannot hold data")
        usize = size
        csize = len(payload)
        header_offset = self._pos
        header = self._local_header(
            name_b, flags, method, dos, crc, csize, usize, usize > _U32 or csize > _U32
        )
        try:
            self._write(header)
            self._write(payload)
        except BaseException:
            if not self._closed:
                self._rollback(header_offset)
            raise
        return self._register(
            name, name_b, flags, method, dos, crc, csize, usize, attr, header_offset,
            header_offset + len(header), _SYSTEM_UNIX,
        )  # fmt: skip

    def copy_entry(
        self, source: ContainerReader, entry: ZipEntry, *, name: str | None = None
    ) -> ZipEntry:
        """Copy an entry's stored bytes verbatim (no recompression, no CRC check)."""
        name = entry.name if name is None else name
        name_b, flags = self._prepare(name, entry.method)
        dos = _dos_date_time(entry.date_time)
        csize, usize = entry.compressed_size, entry.uncompressed_size
        if entry.cd_record:
            system = entry.cd_record[5]
        else:
            system = _SYSTEM_UNIX if entry.external_attr >> 16 else 0
        header_offset = self._pos
        header = self._local_header(
            name_b, flags, entry.method, dos, entry.crc32, csize, usize,
            usize > _U32 or csize > _U32,
        )  # fmt: skip
        try:
            self._write(header)
            for chunk in source.raw_entry_bytes(entry):
                self._write(chunk)
        except BaseException:
            if not self._closed:
                self._rollback(header_offset)
            raise
        return self._register(
            name, name_b, flags, entry.method, dos, entry.crc32, csize, usize,
            entry.external_attr, header_offset, header_offset + len(header), system,
        )  # fmt: skip

    def remove(self, name: str) -> None:
        """Drop a live entry from the next commit (KeyError if there is none)."""
        self._check_open()
        if name == "mimetype" and name in self._live:
            raise InvalidArgumentError("the mimetype entry cannot be removed")
        try:
            del self._live[name]
        except KeyError:
            raise KeyError(f"no live entry named {name!r}") from None

    def withdraw(self, name: str) -> None:
        """Undo every change to `name` since the last commit: the entry the last commit
        listed under it, if any, is live again. The bytes of a withdrawn new entry are
        given back when nothing was written after them, else they stay as unlisted space."""
        self._check_open()
        added = self._live.pop(name, None)
        if (
            added is not None
            and added.header_offset >= self._base
            and added.data_offset + added.compressed_size == self._pos
        ):
            self._rollback(added.header_offset)
        before = self._committed_live.get(name)
        if before is not None:
            self._live[name] = before

    # ---- committing

    def commit(self, *, fsync: bool = True) -> None:
        """Write a new central directory listing every live entry, crash-safely.

        Order: entry data, fsync, central directory + end records in one write, fsync,
        truncate whatever follows. A crash at any point leaves the previous commit intact.
        """
        self._check_open()
        self._flush()
        if fsync:
            self._fsync()
        cd_offset = self._pos
        parts = [entry.cd_record for entry in self._live.values()]
        count = len(parts)
        cd_size = sum(map(len, parts))
        if count > _U16 or cd_offset > _U32 or cd_size > _U32:
            cd_end = cd_offset + cd_size
            parts.append(
                _Z64_EOCD.pack(
                    _Z64_EOCD_SIG, 44, (_SYSTEM_UNIX << 8) | _VERSION_ZIP64, _VERSION_ZIP64,
                    0, 0, count, count, cd_size, cd_offset,
                )
            )  # fmt: skip
            parts.append(_Z64_LOC.pack(_Z64_LOC_SIG, 0, cd_end, 1))
        parts.append(
            _EOCD.pack(
                _EOCD_SIG, 0, 0, min(count, _U16), min(count, _U16), min(cd_size, _U32),
                min(cd_offset, _U32), _MARKER_LEN,
            )
        )  # fmt: skip
        tail = b"".join(parts)
        tail += _marker_for(tail)
        self._pwrite_all(tail, cd_offset)
        if fsync:
            self._fsync()
        end = cd_offset + len(tail)
        self._last_commit = CommitLocation(
            end=end,
            torn_tail=False,
            has_marker=True,
            eocd_offset=end - _MARKER_LEN - _EOCD.size,
            cd_offset=cd_offset,
            cd_size=cd_size,
            entry_count=count,
        )
        self._committed_live = dict(self._live)
        try:
            if os.fstat(self._fd).st_size > end:
                diskio.ftruncate(self._fd, end)
        except OSError:
            pass  # leftover bytes after a valid commit are harmless: recovery skips them
        if fsync and self._created and not self._committed:
            with contextlib.suppress(OSError):
                diskio.fsync_dir(self.path.parent)
        self._committed = True
        self._base = self._pos = self._buf_start = self._hinted = end

    def committed_reader(self) -> ContainerReader:
        """A reader of the commit this writer just made, built from the entries it wrote.

        Opening the file again would parse and check the whole central directory, about
        10 µs per entry (0.1 s at 10,000 files), to learn what this writer already knows.
        """
        location = self._last_commit
        if location is None:
            raise ValueError("nothing has been committed")
        handle = open(self.path, "rb")  # noqa: SIM115 - kept open by the reader
        try:
            mine, theirs = os.fstat(self._fd), os.fstat(handle.fileno())
            if (mine.st_dev, mine.st_ino) != (theirs.st_dev, theirs.st_ino):
                raise DamagedContainerError(f"{self.path} was replaced while it was written")
        except BaseException:
            handle.close()
            raise
        return ContainerReader(
            self.path, handle, location, self._committed_live, untrusted=False, limits=Limits()
        )

    # ---- ending

    def _discard(self) -> None:
        """Truncate back to the last commit (best effort) and close."""
        if self._closed:
            return
        self._closed = True
        self._buf.clear()
        try:
            if self._created and not self._committed:
                diskio.close(self._handle)
                diskio.unlink(self.path, missing_ok=True)
                return
            if os.fstat(self._fd).st_size > self._base:
                diskio.ftruncate(self._fd, self._base)
        except OSError:
            pass
        finally:
            if not self._handle.closed:
                diskio.close(self._handle)

    def abort(self) -> None:
        """Discard everything since the last commit and close (a new, never committed file
        is deleted). Safe to call more than once."""
        self._discard()

    def close(self) -> None:
        """Close; anything added since the last commit is discarded."""
        self._discard()

    def __enter__(self) -> ContainerWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._discard()
