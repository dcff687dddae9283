"""Crash-safe, append-only ZIP container (JCF): a validating reader and an appending writer."""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import struct
import threading
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, Final, NoReturn

import blake3

from .errors import (
    DamagedContainerError,
    DiskFullError,
    HostileContainerError,
    InvalidArgumentError,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = [
    "COMMIT_MARKER_PREFIX",
    "DEFLATED",
    "STORED",
    "CommitLocation",
    "ContainerReader",
    "ContainerWriter",
    "Limits",
    "ZipEntry",
    "find_last_commit",
    "validate_entry_name",
]

STORED: Final = 0
DEFLATED: Final = 8

COMMIT_MARKER_PREFIX: Final = b"JCF-COMMIT "
_MARKER_HEX = 32
_MARKER_LEN = len(COMMIT_MARKER_PREFIX) + _MARKER_HEX  # 43: the whole EOCD comment
_MARKER_LEN_FIELD = struct.pack("<H", _MARKER_LEN)

_LFH_SIG: Final = 0x04034B50
_CDH_SIG: Final = 0x02014B50
_EOCD_SIG: Final = 0x06054B50
_Z64_EOCD_SIG: Final = 0x06064B50
_Z64_LOC_SIG: Final = 0x07064B50
_EOCD_MAGIC: Final = b"PK\x05\x06"

_LFH = struct.Struct("<IHHHHHIIIHH")  # 30 bytes
_CDH = struct.Struct("<IHHHHHHIIIHHHHHII")  # 46 bytes
_EOCD = struct.Struct("<IHHHHIIH")  # 22 bytes
_Z64_EOCD = struct.Struct("<IQHHIIQQQQ")  # 56 bytes
_Z64_LOC = struct.Struct("<IIQI")  # 20 bytes
_Z64_LOCAL_EXTRA = struct.Struct("<HHQQ")  # 20 bytes: id 1, size 16, usize, csize
_CRC_SIZES = struct.Struct("<III")
_EXTRA_HEADER = struct.Struct("<HH")

_U16: Final = 0xFFFF
_U32: Final = 0xFFFFFFFF
_FLAG_ENCRYPTED: Final = 0x0001
_FLAG_STRONG_ENCRYPTION: Final = 0x0040
_FLAG_UTF8: Final = 0x0800
_VERSION: Final = 20
_VERSION_ZIP64: Final = 45
_SYSTEM_UNIX: Final = 3
_DOS_DIRECTORY: Final = 0x10

# Reserve a zip64 extra in the local header from this size hint on: deflate can grow
# incompressible data by a little, so leave generous room below 4 GiB.
_ZIP64_HINT: Final = 0xF0000000
_MAX_WRITE_NAME_BYTES: Final = 4096

_FLUSH_AT: Final = 4 << 20  # write buffer size
_DIRECT_WRITE: Final = 1 << 20  # chunks this large bypass the write buffer
_RAW_READ: Final = 1 << 18  # compressed bytes read per step when inflating
_SCAN_CHUNK: Final = 1 << 20  # backward scan for an end record after a crash
_HEADER_WINDOW: Final = 1 << 16  # local headers closer than this are read in one call
_BOMB_MIN_SIZE: Final = 1 << 20
_DEFAULT_DATE_TIME: Final = (1980, 1, 1, 0, 0, 0)

_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")
_DRIVE = re.compile(r"[A-Za-z]:")


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """One live entry of a container, as listed by the central directory."""

    name: str
    method: int
    crc32: int
    compressed_size: int
    uncompressed_size: int
    header_offset: int
    data_offset: int
    external_attr: int
    date_time: tuple[int, int, int, int, int, int]
    _cd_record: bytes = field(default=b"", repr=False, compare=False)

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")


@dataclass(frozen=True)
class Limits:
    """Bounds applied when reading a container (guards against hostile archives)."""

    max_entries: int = 2_000_000
    max_name_bytes: int = 4096
    max_total_uncompressed: int | None = None
    max_ratio: int = 1100


_DEFAULT_LIMITS: Final = Limits()


@dataclass(frozen=True, slots=True)
class CommitLocation:
    """Where the last good commit (end of central directory) of a file sits."""

    end: int  # offset just past the EOCD record and its comment
    torn_tail: bool  # bytes follow `end`: an unfinished commit or garbage
    has_marker: bool  # the EOCD comment holds a verified JCF commit marker
    eocd_offset: int
    cd_offset: int
    cd_size: int
    entry_count: int


# --------------------------------------------------------------------------------------
# small helpers


_SEEK_LOCK = threading.Lock()  # only for platforms without os.pread / os.pwrite


def _pread_once(fd: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    with _SEEK_LOCK:  # pragma: no cover - Windows
        os.lseek(fd, offset, os.SEEK_SET)
        return os.read(fd, size)


def _pwrite_once(fd: int, data: memoryview, offset: int) -> int:
    if hasattr(os, "pwrite"):
        return os.pwrite(fd, data, offset)
    with _SEEK_LOCK:  # pragma: no cover - Windows
        os.lseek(fd, offset, os.SEEK_SET)
        return os.write(fd, data)


def _pread(fd: int, size: int, offset: int) -> bytes:
    """Read up to `size` bytes at `offset`; shorter only at end of file."""
    if size <= 0:
        return b""
    data = _pread_once(fd, size, offset)
    if len(data) == size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        more = _pread_once(fd, size - got, offset + got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def _is_disk_full(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


def validate_entry_name(name: str) -> None:
    """Raise HostileContainerError unless `name` is a safe relative POSIX path.

    A trailing `/` is allowed (directory entries); empty, `.` and `..` components are not.
    """
    if not name:
        raise HostileContainerError("unsafe entry name '': empty name")
    bad = _UNSAFE_CHARS.search(name)
    if bad is not None:
        what = "a backslash" if bad.group() == "\\" else "a control character"
        raise HostileContainerError(f"unsafe entry name {name!r}: contains {what}")
    if name.startswith("/"):
        raise HostileContainerError(f"unsafe entry name {name!r}: absolute path")
    if _DRIVE.match(name):
        raise HostileContainerError(f"unsafe entry name {name!r}: drive letter")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise HostileContainerError(f"unsafe entry name {name!r}: not valid UTF-8") from None
    body = name[:-1] if name.endswith("/") else name
    for part in body.split("/"):
        if part in ("", ".", ".."):
            raise HostileContainerError(
                f"unsafe entry name {name!r}: empty, '.' or '..' path component"
            )


def _dos_date_time(date_time: tuple[int, int, int, int, int, int] | None) -> tuple[int, int]:
    """(time, date) fields of a ZIP header; years outside 1980..2107 are clamped."""
    year, month, day, hour, minute, second = date_time or _DEFAULT_DATE_TIME
    if not (1 <= month <= 12 and 1 <= day <= 31 and 0 <= hour <= 23 and 0 <= minute <= 59):
        raise InvalidArgumentError(f"invalid ZIP date/time {date_time!r}")
    if not 0 <= second <= 61:
        raise InvalidArgumentError(f"invalid ZIP date/time {date_time!r}")
    if year < 1980:
        return 0, (1 << 5) | 1
    if year > 2107:
        year, month, day, hour, minute, second = 2107, 12, 31, 23, 59, 58
    return (hour << 11) | (minute << 5) | (min(second, 59) // 2), (
        ((year - 1980) << 9) | (month << 5) | day
    )


def _decode_date_time(time_field: int, date_field: int) -> tuple[int, int, int, int, int, int]:
    return (
        (date_field >> 9) + 1980,
        (date_field >> 5) & 0xF,
        date_field & 0x1F,
        time_field >> 11,
        (time_field >> 5) & 0x3F,
        (time_field & 0x1F) * 2,
    )


def _zip64_extra(
    extra: bytes, usize: int, csize: int, offset: int, disk: int
) -> tuple[int, int, int, int]:
    """Replace the 0xFFFF.. placeholders of a central record with its zip64 extra values."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = _EXTRA_HEADER.unpack_from(extra, pos)
        pos += 4
        if pos + size > len(extra):
            break
        if tag == 1:
            data = extra[pos : pos + size]
            at = 0
            try:
                if usize == _U32:
                    (usize,) = struct.unpack_from("<Q", data, at)
                    at += 8
                if csize == _U32:
                    (csize,) = struct.unpack_from("<Q", data, at)
                    at += 8
                if offset == _U32:
                    (offset,) = struct.unpack_from("<Q", data, at)
                    at += 8
                if disk == _U16:
                    (disk,) = struct.unpack_from("<I", data, at)
            except struct.error:
                raise DamagedContainerError("zip64 extra field is too short") from None
            return usize, csize, offset, disk
        pos += size
    raise DamagedContainerError("zip64 extra field is missing for a record that needs it")


def _cd_record(
    name_b: bytes,
    flags: int,
    method: int,
    time_field: int,
    date_field: int,
    crc: int,
    csize: int,
    usize: int,
    external_attr: int,
    offset: int,
    system: int,
) -> bytes:
    """Encode one central directory record (zip64 extra only for the fields that need it)."""
    values: list[int] = []
    if usize > _U32:
        values.append(usize)
        usize = _U32
    if csize > _U32:
        values.append(csize)
        csize = _U32
    if offset > _U32:
        values.append(offset)
        offset = _U32
    if values:
        extra = struct.pack(f"<HH{len(values)}Q", 1, 8 * len(values), *values)
        version = _VERSION_ZIP64
    else:
        extra = b""
        version = _VERSION
    head = _CDH.pack(
        _CDH_SIG,
        (system << 8) | version,
        version,
        flags,
        method,
        time_field,
        date_field,
        crc,
        csize,
        usize,
        len(name_b),
        len(extra),
        0,
        0,
        0,
        external_attr,
        offset,
    )
    return head + name_b + extra


def _marker_for(hashed: bytes | memoryview) -> bytes:
    return COMMIT_MARKER_PREFIX + blake3.blake3(hashed).digest()[:16].hex().encode("ascii")


# --------------------------------------------------------------------------------------
# finding the end of the last commit


@dataclass(frozen=True, slots=True)
class _End:
    eocd_offset: int
    end: int
    cd_offset: int
    cd_size: int
    count: int
    comment: bytes


def _parse_end(fd: int, pos: int, fixed: bytes, comment: bytes) -> _End | None:
    """Parse the EOCD at `pos` (and its zip64 records); None when it is implausible."""
    sig, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, clen = _EOCD.unpack(fixed)
    if sig != _EOCD_SIG or disk != 0 or cd_disk != 0 or n_disk != n_total:
        return None
    cd_end = pos
    if pos >= _Z64_LOC.size:
        loc = _pread(fd, _Z64_LOC.size, pos - _Z64_LOC.size)
        lsig, ldisk, z64_offset, ndisks = _Z64_LOC.unpack(loc)
        if lsig == _Z64_LOC_SIG:
            if ldisk != 0 or ndisks > 1:
                return None
            loc_pos = pos - _Z64_LOC.size
            if z64_offset + _Z64_EOCD.size > loc_pos:
                return None
            rec = _pread(fd, _Z64_EOCD.size, z64_offset)
            if len(rec) != _Z64_EOCD.size:
                return None
            zsig, zsize, _made, _need, zdisk, zcd_disk, zn_disk, zn_total, zcd_size, zcd_off = (
                _Z64_EOCD.unpack(rec)
            )
            if zsig != _Z64_EOCD_SIG or zdisk != 0 or zcd_disk != 0 or zn_disk != zn_total:
                return None
            if zsize < 44 or z64_offset + 12 + zsize != loc_pos:
                return None
            n_total, cd_size, cd_offset = zn_total, zcd_size, zcd_off
            cd_end = z64_offset
    if cd_offset + cd_size != cd_end:
        return None
    if cd_size < n_total * _CDH.size or (n_total == 0) != (cd_size == 0):
        return None
    if n_total and _pread(fd, 4, cd_offset) != b"PK\x01\x02":
        return None
    return _End(pos, pos + _EOCD.size + clen, cd_offset, cd_size, n_total, comment)


def _is_marker_comment(comment: bytes) -> bool:
    return len(comment) == _MARKER_LEN and comment.startswith(COMMIT_MARKER_PREFIX)


def _verify_marker(fd: int, end: _End) -> bytes | None:
    """Return the CD bytes when the commit marker of `end` verifies, else None."""
    hashed = _pread(fd, end.eocd_offset + _EOCD.size - end.cd_offset, end.cd_offset)
    if len(hashed) != end.eocd_offset + _EOCD.size - end.cd_offset:
        return None
    if _marker_for(hashed) != end.comment:
        return None
    return hashed[: end.cd_size]


def _locate(fd: int, size: int, untrusted: bool) -> tuple[CommitLocation, bytes | None]:
    """Find the last good commit; also returns the CD bytes when they were already read."""
    if size < _EOCD.size:
        raise DamagedContainerError(
            "not a ZIP container: the file is empty" if size == 0 else "not a ZIP container"
        )
    tail_len = min(size, _EOCD.size + _U16)
    tail = _pread(fd, tail_len, size - tail_len)
    if len(tail) != tail_len:
        raise DamagedContainerError("the container file shrank while it was being read")
    marker_failed = False
    trailing = False
    at = len(tail)
    while True:
        at = tail.rfind(_EOCD_MAGIC, 0, at)
        if at < 0:
            break
        if at + _EOCD.size > len(tail):
            continue
        (clen,) = struct.unpack_from("<H", tail, at + 20)
        reach = at + _EOCD.size + clen
        if reach > len(tail) or (reach < len(tail) and trailing):
            continue
        found = _parse_end(fd, size - tail_len + at, tail[at : at + _EOCD.size], b"")
        if found is None:
            continue
        if reach < len(tail):
            trailing = True
            continue
        comment = tail[at + _EOCD.size :]
        found = _End(found.eocd_offset, size, found.cd_offset, found.cd_size, found.count, comment)
        if _is_marker_comment(comment):
            cd = _verify_marker(fd, found)
            if cd is None:
                marker_failed = True
                break
            return _location(found, size, True), cd
        return _location(found, size, False), None
    if untrusted:
        if marker_failed:
            raise DamagedContainerError(
                "the container's commit marker does not match its central directory"
            )
        if trailing:
            raise HostileContainerError("unexpected data after the end of the ZIP archive")
        raise DamagedContainerError("not a ZIP container: no end of central directory record")
    return _scan_backwards(fd, size)


def _location(end: _End, size: int, marker: bool) -> CommitLocation:
    return CommitLocation(
        end=end.end,
        torn_tail=size > end.end,
        has_marker=marker,
        eocd_offset=end.eocd_offset,
        cd_offset=end.cd_offset,
        cd_size=end.cd_size,
        entry_count=end.count,
    )


def _scan_backwards(fd: int, size: int) -> tuple[CommitLocation, bytes | None]:
    """Slow path after a crash: the last EOCD anywhere in the file with a valid marker."""
    record = _EOCD.size + _MARKER_LEN
    hi = size  # candidates start below hi
    while hi > 0:
        lo = max(0, hi - _SCAN_CHUNK)
        window = _pread(fd, min(size, hi + record) - lo, lo)
        at = hi - lo + len(_EOCD_MAGIC) - 1  # find records that start just below hi
        while True:
            at = window.rfind(_EOCD_MAGIC, 0, at)
            if at < 0:
                break
            if at + record > len(window):
                continue
            comment = window[at + _EOCD.size : at + record]
            if window[at + 20 : at + 22] != _MARKER_LEN_FIELD or not _is_marker_comment(comment):
                continue
            pos = lo + at
            found = _parse_end(fd, pos, window[at : at + _EOCD.size], comment)
            if found is None:
                continue
            cd = _verify_marker(fd, found)
            if cd is not None:
                return _location(found, size, True), cd
        hi = lo
    raise DamagedContainerError(
        "no valid commit found: the file is not a ZIP container or its end is destroyed"
    )


def find_last_commit(f: BinaryIO | int, *, untrusted: bool = False) -> CommitLocation:
    """Locate the last good commit of an open container (a file object or a descriptor).

    Fast path: a valid end record exactly at the end of the file. Otherwise (not when
    `untrusted`) scan backwards for the last end record whose commit marker verifies.
    Raises DamagedContainerError (or HostileContainerError for trailing data when untrusted).
    """
    fd = f if isinstance(f, int) else f.fileno()
    location, _cd = _locate(fd, os.fstat(fd).st_size, untrusted)
    return location


# --------------------------------------------------------------------------------------
# reader


class _EntryStream(io.RawIOBase):
    """Positioned, verifying reader of one entry (inflates with bounded output)."""

    def __init__(self, reader: ContainerReader, entry: ZipEntry) -> None:
        super().__init__()
        self._reader = reader
        self._entry = entry
        self._raw_pos = entry.data_offset
        self._raw_left = entry.compressed_size
        self._out_left = entry.uncompressed_size
        self._crc = 0
        self._inflater = zlib.decompressobj(-15) if entry.method == DEFLATED else None
        self._pending = b""
        self._done = False
        self._error: DamagedContainerError | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        with memoryview(buffer) as view, view.cast("B") as target:
            data = self._next(len(target))
            target[: len(data)] = data
            return len(data)

    def read(self, size: int | None = -1, /) -> bytes:
        if size is None or size < 0:
            return self.readall()
        return self._next(size)

    def readall(self) -> bytes:
        parts = []
        while chunk := self._next(1 << 20):
            parts.append(chunk)
        return b"".join(parts)

    def _fail(self, what: str) -> NoReturn:
        self._error = DamagedContainerError(f"{self._entry.name}: {what}")
        raise self._error

    def _raw(self, size: int) -> bytes:
        size = min(size, self._raw_left)
        data = self._reader._pread(size, self._raw_pos)
        if len(data) != size:
            self._fail("the container file is truncated")
        self._raw_pos += size
        self._raw_left -= size
        return data

    def _next(self, size: int) -> bytes:
        if self.closed:
            raise ValueError("I/O operation on a closed entry stream")
        if self._error is not None:
            raise self._error
        if self._done or size <= 0:
            return b""
        if self._out_left == 0:
            self._finish()
            return b""
        want = min(size, self._out_left)
        data = self._raw(want) if self._inflater is None else self._inflate(want)
        self._crc = zlib.crc32(data, self._crc)
        self._out_left -= len(data)
        if self._out_left == 0:
            self._finish()
        return data

    def _inflate(self, want: int) -> bytes:
        inflater = self._inflater
        assert inflater is not None
        while True:
            if inflater.eof:
                self._fail("compressed data ends before the declared size")
            if self._pending:
                source = self._pending
            elif self._raw_left > 0:
                source = self._raw(_RAW_READ)
            else:
                self._fail("truncated deflate stream")
            try:
                data = inflater.decompress(source, want)
            except zlib.error as exc:
                self._fail(f"corrupt deflate data ({exc})")
            self._pending = inflater.unconsumed_tail
            if data:
                return data

    def _finish(self) -> None:
        inflater = self._inflater
        if inflater is not None and self._entry.compressed_size == 0:
            pass  # some writers store an empty deflated entry as zero bytes
        elif inflater is not None:
            while not inflater.eof:
                if self._pending:
                    source = self._pending
                elif self._raw_left > 0:
                    source = self._raw(_RAW_READ)
                else:
                    self._fail("truncated deflate stream")
                try:
                    extra = inflater.decompress(source, 1)
                except zlib.error as exc:
                    self._fail(f"corrupt deflate data ({exc})")
                if extra:
                    self._fail("more data than the declared size")
                self._pending = inflater.unconsumed_tail
            if inflater.unused_data or self._pending or self._raw_left:
                self._fail("unexpected bytes after the end of the deflate stream")
        elif self._raw_left:
            self._fail("stored size does not match")
        if self._crc != self._entry.crc32:
            self._fail(
                f"CRC-32 mismatch (stored {self._entry.crc32:08x}, computed {self._crc:08x})"
            )
        self._done = True


class ContainerReader:
    """Read-only view of the last good commit of a container; safe for concurrent reads."""

    path: Path
    entries: dict[str, ZipEntry]
    commit_end: int
    torn_tail: bool
    has_commit_marker: bool
    untrusted: bool
    limits: Limits
    location: CommitLocation

    def __init__(
        self,
        path: Path,
        handle: BinaryIO,
        location: CommitLocation,
        entries: dict[str, ZipEntry],
        *,
        untrusted: bool,
        limits: Limits,
    ) -> None:
        self.path = path
        self._handle = handle
        self._fd = handle.fileno()
        self._closed = False
        self.location = location
        self.entries = entries
        self.commit_end = location.end
        self.torn_tail = location.torn_tail
        self.has_commit_marker = location.has_marker
        self.untrusted = untrusted
        self.limits = limits

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        untrusted: bool = False,
        limits: Limits = _DEFAULT_LIMITS,
    ) -> ContainerReader:
        """Open `path` and validate the structure of its last good commit."""
        path = Path(path)
        handle = open(path, "rb")  # noqa: SIM115 - kept open by the reader
        try:
            fd = handle.fileno()
            location, cd = _locate(fd, os.fstat(fd).st_size, untrusted)
            if location.entry_count > limits.max_entries:
                raise HostileContainerError(
                    f"too many entries: {location.entry_count} (limit {limits.max_entries})"
                )
            if cd is None:
                cd = _pread(fd, location.cd_size, location.cd_offset)
                if len(cd) != location.cd_size:
                    raise DamagedContainerError("the central directory is truncated")
            entries = _load_entries(fd, cd, location, untrusted, limits)
        except BaseException:
            handle.close()
            raise
        return cls(path, handle, location, entries, untrusted=untrusted, limits=limits)

    @property
    def closed(self) -> bool:
        return self._closed

    def _pread(self, size: int, offset: int) -> bytes:
        if self._closed:
            raise ValueError(f"the container reader for {self.path} is closed")
        return _pread(self._fd, size, offset)

    def _entry(self, name: str) -> ZipEntry:
        try:
            return self.entries[name]
        except KeyError:
            raise KeyError(f"no entry named {name!r} in {self.path}") from None

    def open_entry(self, name: str) -> BinaryIO:
        """Stream one entry; CRC and size are checked when the end is reached."""
        return io.BufferedReader(_EntryStream(self, self._entry(name)), buffer_size=1 << 16)

    def iter_entry(self, name: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Yield the uncompressed bytes of an entry in chunks of at most `chunk_size`."""
        stream = _EntryStream(self, self._entry(name))
        try:
            while chunk := stream.read(chunk_size):
                yield chunk
        finally:
            stream.close()

    def read_entry(self, name: str, max_size: int) -> bytes:
        """The whole entry; DamagedContainerError if it declares more than `max_size` bytes."""
        entry = self._entry(name)
        if entry.uncompressed_size > max_size:
            raise DamagedContainerError(
                f"{name}: declared size {entry.uncompressed_size} exceeds the limit {max_size}"
            )
        stream = _EntryStream(self, entry)
        try:
            return stream.readall()
        finally:
            stream.close()

    def raw_entry_bytes(self, entry: ZipEntry, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Yield the stored (possibly compressed) bytes of `entry`, for verbatim copies."""
        offset = entry.data_offset
        left = entry.compressed_size
        while left > 0:
            size = min(chunk_size, left)
            data = self._pread(size, offset)
            if len(data) != size:
                raise DamagedContainerError(f"{entry.name}: the container file is truncated")
            offset += size
            left -= size
            yield data

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._handle.close()

    def __enter__(self) -> ContainerReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _load_entries(
    fd: int, cd: bytes, location: CommitLocation, untrusted: bool, limits: Limits
) -> dict[str, ZipEntry]:
    """Parse and validate the central directory and every entry's local header."""
    count = location.entry_count
    cd_offset = location.cd_offset
    unpack = _CDH.unpack_from
    n = len(cd)
    pos = 0
    names: list[str] = []
    names_b: list[bytes] = []
    offsets: list[int] = []
    csizes: list[int] = []
    fields: list[tuple[int, int, int, int, int, int, bytes]] = []
    total = 0
    max_total = limits.max_total_uncompressed
    max_ratio = limits.max_ratio
    max_name = limits.max_name_bytes
    for index in range(count):
        if pos + _CDH.size > n:
            raise DamagedContainerError("the central directory is shorter than its entry count")
        (
            sig,
            made_by,
            _need,
            flags,
            method,
            time_field,
            date_field,
            crc,
            csize,
            usize,
            nlen,
            xlen,
            clen,
            disk,
            _iattr,
            eattr,
            offset,
        ) = unpack(cd, pos)
        if sig != _CDH_SIG:
            raise DamagedContainerError(f"central directory record {index} has a bad signature")
        name_at = pos + _CDH.size
        end = name_at + nlen + xlen + clen
        if end > n:
            raise DamagedContainerError(f"central directory record {index} is truncated")
        name_b = cd[name_at : name_at + nlen]
        if csize == _U32 or usize == _U32 or offset == _U32 or disk == _U16:
            usize, csize, offset, disk = _zip64_extra(
                cd[name_at + nlen : name_at + nlen + xlen], usize, csize, offset, disk
            )
        record = cd[pos:end]
        pos = end
        try:
            if flags & _FLAG_UTF8:
                name = name_b.decode("utf-8")
            else:
                name = name_b.decode("ascii" if name_b.isascii() else "cp437")
        except UnicodeDecodeError:
            raise (HostileContainerError if untrusted else DamagedContainerError)(
                f"entry name {name_b!r} is not valid UTF-8"
            ) from None
        if disk != 0:
            raise DamagedContainerError("multi-disk ZIP archives are not supported")
        if method != STORED and method != DEFLATED:
            raise HostileContainerError(f"{name}: unsupported compression method {method}")
        if flags & (_FLAG_ENCRYPTED | _FLAG_STRONG_ENCRYPTION):
            raise HostileContainerError(f"{name}: encrypted entries are not supported")
        if untrusted:
            validate_entry_name(name)
            if nlen > max_name:
                raise HostileContainerError(
                    f"entry name of {nlen} bytes is longer than the limit {max_name}"
                )
        if name.endswith("/") and usize != 0:
            raise HostileContainerError(f"{name}: directory entry with data")
        if made_by >> 8 == _SYSTEM_UNIX and stat.S_ISLNK(eattr >> 16):
            raise HostileContainerError(f"{name}: symbolic link entries are not allowed")
        if method == STORED:
            if csize != usize:
                raise HostileContainerError(
                    f"{name}: stored entry with compressed size {csize} != size {usize}"
                )
        elif usize > _BOMB_MIN_SIZE and usize > csize * max_ratio:
            raise HostileContainerError(
                f"{name}: zip bomb suspected (expands {csize} bytes to {usize})"
            )
        total += usize
        if max_total is not None and total > max_total:
            raise HostileContainerError(
                f"declared uncompressed size exceeds the limit of {max_total} bytes"
            )
        if offset >= cd_offset:
            raise DamagedContainerError(f"{name}: local header lies outside the data area")
        names.append(name)
        names_b.append(name_b)
        offsets.append(offset)
        csizes.append(csize)
        fields.append((method, crc, usize, eattr, time_field, date_field, record))
    if pos != n:
        raise DamagedContainerError("the central directory is longer than its entry count")
    if len(set(names)) != count:
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise HostileContainerError(f"duplicate entry name {name!r}")
            seen.add(name)

    data_offsets = _check_local_headers(fd, names, names_b, offsets, csizes, cd_offset)
    entries: dict[str, ZipEntry] = {}
    for i, name in enumerate(names):
        method, crc, usize, eattr, time_field, date_field, record = fields[i]
        entries[name] = ZipEntry(
            name,
            method,
            crc,
            csizes[i],
            usize,
            offsets[i],
            data_offsets[i],
            eattr,
            _decode_date_time(time_field, date_field),
            record,
        )
    return entries


def _check_local_headers(
    fd: int,
    names: list[str],
    names_b: list[bytes],
    offsets: list[int],
    csizes: list[int],
    cd_offset: int,
) -> list[int]:
    """Verify local headers and that no two entries overlap; returns the data offsets."""
    count = len(names)
    order = sorted(range(count), key=offsets.__getitem__)
    data_offsets = [0] * count
    prev_end = 0
    prev_name = ""
    i = 0
    while i < count:
        first = order[i]
        start = offsets[first]
        stop = start + _LFH.size + len(names_b[first])
        j = i + 1
        while j < count:
            k = order[j]
            k_stop = offsets[k] + _LFH.size + len(names_b[k])
            if k_stop - start > _HEADER_WINDOW:
                break
            stop = max(stop, k_stop)
            j += 1
        window = _pread(fd, min(stop, cd_offset) - start, start)
        for idx in range(i, j):
            k = order[idx]
            name = names[k]
            offset = offsets[k]
            if offset < prev_end:
                raise HostileContainerError(f"overlapping entries: {prev_name!r} and {name!r}")
            rel = offset - start
            if rel + _LFH.size > len(window):
                raise DamagedContainerError(f"{name}: local header is truncated")
            sig, *_ignored, nlen, xlen = _LFH.unpack_from(window, rel)
            if sig != _LFH_SIG:
                raise DamagedContainerError(f"{name}: bad local header signature at {offset}")
            data_offset = offset + _LFH.size + nlen + xlen
            end = data_offset + csizes[k]
            if end > cd_offset:
                raise DamagedContainerError(f"{name}: entry data runs into the central directory")
            name_b = names_b[k]
            if nlen != len(name_b) or window[rel + _LFH.size : rel + _LFH.size + nlen] != name_b:
                raise DamagedContainerError(
                    f"{name}: local header name does not match the central directory"
                )
            data_offsets[k] = data_offset
            prev_end = end
            prev_name = name
        i = j
    return data_offsets


# --------------------------------------------------------------------------------------
# writer


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
        self._live = dict(live)
        self._created = created
        self._committed = False
        self._closed = False

    @classmethod
    def create(
        cls, path: str | os.PathLike[str], *, mimetype: bytes | None = b"application/x-jcf"
    ) -> ContainerWriter:
        """A new container at `path` (which must not exist), optionally with a mimetype entry."""
        path = Path(path)
        handle = open(path, "xb", buffering=0)  # noqa: SIM115 - owned by the writer
        writer = cls(handle, path, 0, {}, created=True)
        if mimetype is not None:
            writer.add_bytes("mimetype", mimetype, method=STORED)
        return writer

    @classmethod
    def append_to(cls, reader: ContainerReader) -> ContainerWriter:
        """A writer appending after the commit `reader` has read (nothing changes until commit)."""
        if reader.closed:
            raise ValueError(f"the container reader for {reader.path} is closed")
        handle = open(reader.path, "r+b", buffering=0)  # noqa: SIM115 - owned by the writer
        try:
            mine = os.fstat(handle.fileno())
            theirs = os.fstat(reader._fd)
            if (mine.st_dev, mine.st_ino) != (theirs.st_dev, theirs.st_ino):
                raise DamagedContainerError(f"{reader.path} was replaced since it was read")
            if mine.st_size < reader.commit_end:
                raise DamagedContainerError(f"{reader.path} shrank since it was read")
        except BaseException:
            handle.close()
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
        raise exc

    def _pwrite_all(self, data: bytes | bytearray | memoryview, offset: int) -> None:
        try:
            with memoryview(data) as view, view.cast("B") as flat:
                done = 0
                total = flat.nbytes
                while done < total:
                    done += _pwrite_once(self._fd, flat[done:], offset + done)
        except OSError as exc:
            self._fail(exc)

    def _fsync(self) -> None:
        try:
            os.fsync(self._fd)
        except OSError as exc:
            self._fail(exc)

    def _flush(self) -> None:
        if self._buf:
            self._pwrite_all(self._buf, self._buf_start)
            self._buf_start += len(self._buf)
            self._buf.clear()

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        size = data.nbytes if isinstance(data, memoryview) else len(data)
        if size >= _DIRECT_WRITE:
            self._flush()
            self._pwrite_all(data, self._pos)
            self._buf_start = self._pos + size
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
        level: int = 6,
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
            packer = zlib.compressobj(level, zlib.DEFLATED, -15) if method == DEFLATED else None
            for chunk in chunks:
                size = chunk.nbytes if isinstance(chunk, memoryview) else len(chunk)
                if not size:
                    continue
                if name.endswith("/"):
                    raise InvalidArgumentError(f"{name}: a directory entry cannot hold data")
                crc = zlib.crc32(chunk, crc)
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
        level: int = 6,
        date_time: tuple[int, int, int, int, int, int] | None = None,
        mode: int | None = None,
    ) -> ZipEntry:
        """Add an entry whose bytes are all in memory."""
        name_b, flags = self._prepare(name, method)
        dos = _dos_date_time(date_time)
        attr = self._attributes(name, mode)
        if data and name.endswith("/"):
            raise InvalidArgumentError(f"{name}: a directory entry cannot hold data")
        crc = zlib.crc32(data)
        payload = zlib.compress(data, level, -15) if method == DEFLATED else data
        usize = len(data)
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
        if entry._cd_record:
            system = entry._cd_record[5]
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
        parts = [entry._cd_record for entry in self._live.values()]
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
        try:
            if os.fstat(self._fd).st_size > end:
                os.ftruncate(self._fd, end)
        except OSError:
            pass  # leftover bytes after a valid commit are harmless: recovery skips them
        if fsync and self._created and not self._committed:
            _fsync_dir(self.path.parent)
        self._committed = True
        self._base = self._pos = self._buf_start = end

    # ---- ending

    def _discard(self) -> None:
        """Truncate back to the last commit (best effort) and close."""
        if self._closed:
            return
        self._closed = True
        self._buf.clear()
        try:
            if self._created and not self._committed:
                self._handle.close()
                self.path.unlink(missing_ok=True)
                return
            if os.fstat(self._fd).st_size > self._base:
                os.ftruncate(self._fd, self._base)
        except OSError:
            pass
        finally:
            if not self._handle.closed:
                self._handle.close()

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


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
