"""The validating reader of a container's last good commit."""

from __future__ import annotations

import io
import os
import stat
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, Final, NoReturn

from . import deflate
from .errors import DamagedContainerError, HostileContainerError
from .native import native_allowed
from .zip_commit import CommitLocation, _locate, locate_commit_before
from .zip_io import _pread
from .zip_records import (
    _CDH,
    _CDH_SIG,
    _FLAG_ENCRYPTED,
    _FLAG_STRONG_ENCRYPTION,
    _FLAG_UTF8,
    _LFH,
    _LFH_SIG,
    _SYSTEM_UNIX,
    _U16,
    _U32,
    DEFLATED,
    STORED,
    ZipEntry,
    _decode_date_time,
    _zip64_extra,
    validate_entry_name,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["ContainerReader", "Limits"]

_RAW_READ: Final = 1 << 18  # compressed bytes read per step when inflating
_HEADER_WINDOW: Final = 1 << 16  # local headers closer than this are read in one call
_BOMB_MIN_SIZE: Final = 1 << 20
_LFH_ID: Final = struct.Struct("<I22xHH")  # a local header's signature, name and extra lengths


@dataclass(frozen=True)
class Limits:
    """Bounds applied when reading a container (guards against hostile archives)."""

    max_entries: int = 2_000_000
    max_name_bytes: int = 4096
    max_total_uncompressed: int | None = None
    max_ratio: int = 1100


_DEFAULT_LIMITS: Final = Limits()


_AT_ONCE_MAX = 1 << 20
"""`read_entry` reads entries of up to this many compressed bytes with one call each."""


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
        native = reader.native
        self._crc32 = deflate.crc32_function(native)
        self._inflater = deflate.decompressor(native) if entry.method == DEFLATED else None
        self._pending = b""
        self._done = False
        self._error: DamagedContainerError | None = None
        if entry.damage:
            self._error = DamagedContainerError(f"{entry.name}: {entry.damage}")

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
        self._crc = self._crc32(data, self._crc)
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
                source = b""  # ISA-L may hold input back internally: drain it first
            try:
                data = inflater.decompress(source, want)
            except deflate.INFLATE_ERRORS as exc:
                self._fail(f"corrupt deflate data ({exc})")
            self._pending = inflater.unconsumed_tail
            if data:
                return data
            if not source:
                self._fail("truncated deflate stream")

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
                    source = b""  # as in _inflate: what ISA-L holds back, then the end
                try:
                    extra = inflater.decompress(source, 1)
                except deflate.INFLATE_ERRORS as exc:
                    self._fail(f"corrupt deflate data ({exc})")
                if extra:
                    self._fail("more data than the declared size")
                self._pending = inflater.unconsumed_tail
                if not source and not inflater.eof:
                    self._fail("truncated deflate stream")
            if inflater.unused_data or self._pending or self._raw_left:
                self._fail("unexpected bytes after the end of the deflate stream")
        elif self._raw_left:
            self._fail("stored size does not match")
        if self._crc != self._entry.crc32:
            self._fail(
                f"CRC-32 mismatch (stored {self._entry.crc32:08x}, computed {self._crc:08x})"
            )
        self._done = True


KnownEntries = Callable[[int, CommitLocation, bytes], "dict[str, ZipEntry] | None"]
"""Returns the already checked entries of a central directory, or None."""


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
        self.native = native_allowed()
        """Whether ISA-L inflates and sums this reader's entries (read once: the switch is
        the environment, and reading it is ~1 µs, as much as summing a small file)."""

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        untrusted: bool = False,
        limits: Limits = _DEFAULT_LIMITS,
        before: int | None = None,
        known_entries: KnownEntries | None = None,
    ) -> ContainerReader:
        """Open `path` and validate the structure of its last good commit (with `before`,
        of the last good commit whose end record starts below that offset).

        `known_entries(fd, location, cd)` may return the entries of a central directory
        parsed and checked before (see open_index.py); it is asked only for a trusted
        container's newest commit, and None means parse as usual."""
        path = Path(path)
        handle = open(path, "rb")  # noqa: SIM115 - kept open by the reader
        try:
            fd = handle.fileno()
            if before is not None and not untrusted:
                location, cd = locate_commit_before(fd, before)
            else:
                location, cd = _locate(fd, os.fstat(fd).st_size, untrusted)
            if location.entry_count > limits.max_entries:
                raise HostileContainerError(
                    f"too many entries: {location.entry_count} (limit {limits.max_entries})"
                )
            if cd is None:
                cd = _pread(fd, location.cd_size, location.cd_offset)
                if len(cd) != location.cd_size:
                    raise DamagedContainerError("the central directory is truncated")
            entries = None
            if known_entries is not None and not untrusted and before is None:
                entries = known_entries(fd, location, cd)
            if entries is None:
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
        if entry.compressed_size <= _AT_ONCE_MAX and not entry.damage:
            data = self._read_at_once(entry)
            if data is not None:
                return data
        stream = _EntryStream(self, entry)
        try:
            return stream.readall()
        finally:
            stream.close()

    def _read_at_once(self, entry: ZipEntry) -> bytes | None:
        """A small entry read with one `pread` and one inflate call, if it is intact: its
        bytes, else None, and the caller reads it through `_EntryStream`, which names the
        damage (so only the happy path is here). An export of 10,000 small files spent
        ~5 µs per file in the stream's layers.

        Intact means exactly what the stream checks: all compressed bytes present, the
        deflate stream ending exactly at the declared size with nothing after it, and the
        CRC-32. The output is bounded by the declared size + 1, as the stream bounds it."""
        size = entry.uncompressed_size
        raw = self._pread(entry.compressed_size, entry.data_offset)
        if len(raw) != entry.compressed_size:
            return None
        if entry.method == DEFLATED:
            inflater = deflate.decompressor(self.native)
            try:
                data = inflater.decompress(raw, size + 1)
            except deflate.INFLATE_ERRORS:
                return None
            if not inflater.eof or inflater.unused_data or inflater.unconsumed_tail:
                return None
        else:
            data = raw
        if len(data) != size or deflate.crc32_function(self.native)(data, 0) != entry.crc32:
            return None
        return data

    def raw_entry_bytes(self, entry: ZipEntry, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Yield the stored (possibly compressed) bytes of `entry`, for verbatim copies."""
        if entry.damage:
            raise DamagedContainerError(f"{entry.name}: {entry.damage}")
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

    # Only a directory vouched for by a verified commit marker (our own container) is
    # trusted enough to read around a damaged local header.
    strict = untrusted or not location.has_marker
    data_offsets, damage = check_local_headers(
        fd, names, names_b, offsets, csizes, cd_offset, strict
    )
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
            damage.get(i, ""),
        )
    return entries


def check_local_headers(
    fd: int,
    names: list[str],
    names_b: list[bytes],
    offsets: list[int],
    csizes: list[int],
    cd_offset: int,
    strict: bool,
) -> tuple[list[int], dict[int, str]]:
    """Verify local headers and that no two entries overlap; returns the data offsets and,
    unless `strict`, the entries whose local header is damaged (with the reason).

    `strict` refuses the file at the first bad header (containers from elsewhere, and any
    ZIP without a commit marker). In our own container the central directory is vouched for
    by its commit marker, so a bad local header is damage to that one entry: the others
    stay readable, and `verify` names it.

    Every open runs this over every entry (~1 µs each), so the common case, a good
    header, is kept to one unpack and one comparison; `_local_header_problem` says what is
    wrong with a bad one.
    """
    count = len(names)
    order = sorted(range(count), key=offsets.__getitem__)
    data_offsets = [0] * count
    damage: dict[int, str] = {}
    fixed = _LFH.size
    unpack_id = _LFH_ID.unpack_from
    prev_end = 0
    prev = -1
    i = 0
    while i < count:
        start = offsets[order[i]]
        stop = start + fixed + len(names_b[order[i]])
        j = i + 1
        while j < count:
            k = order[j]
            k_stop = offsets[k] + fixed + len(names_b[k])
            if k_stop - start > _HEADER_WINDOW:
                break
            stop = max(stop, k_stop)
            j += 1
        window = _pread(fd, min(stop, cd_offset) - start, start)
        for k in order[i:j]:
            offset = offsets[k]
            name_b = names_b[k]
            if offset < prev_end:
                if strict or prev < 0:
                    raise HostileContainerError(
                        f"overlapping entries: {names[prev]!r} and {names[k]!r}"
                    )
                # The directory is verified, so the previous local header lied about its
                # length: that entry is damaged, not this one.
                damage[prev] = "local header is damaged (wrong name or extra length)"
            rel = offset - start
            try:
                sig, nlen, xlen = unpack_id(window, rel)
            except struct.error:
                sig = nlen = xlen = -1  # truncated: named below
            name_at = rel + fixed
            data_offset = offset + fixed + nlen + xlen
            if (
                sig != _LFH_SIG
                or nlen != len(name_b)
                or window[name_at : name_at + nlen] != name_b
                or data_offset + csizes[k] > cd_offset
            ):
                problem = _local_header_problem(window, rel, offset, name_b) or (
                    "entry data runs into the central directory"
                )
                if strict:
                    raise DamagedContainerError(f"{names[k]}: {problem}")
                damage[k] = problem
                data_offset = offset + fixed + len(name_b)  # a lower bound
            data_offsets[k] = data_offset
            prev_end = min(data_offset + csizes[k], cd_offset)
            prev = k
        i = j
    return data_offsets, damage


def _local_header_problem(window: bytes, rel: int, offset: int, name_b: bytes) -> str | None:
    if rel + _LFH.size > len(window):
        return "local header is truncated"
    sig, *_ignored, nlen, _xlen = _LFH.unpack_from(window, rel)
    if sig != _LFH_SIG:
        return f"bad local header signature at {offset}"
    if nlen != len(name_b) or window[rel + _LFH.size : rel + _LFH.size + nlen] != name_b:
        return "local header name does not match the central directory"
    return None
