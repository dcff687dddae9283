"""Commit markers and locating the last good commit of a container (crash recovery)."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import BinaryIO, Final

import blake3

from .errors import DamagedContainerError, HostileContainerError
from .zip_io import _pread
from .zip_records import (
    _CDH,
    _EOCD,
    _EOCD_MAGIC,
    _EOCD_SIG,
    _U16,
    _Z64_EOCD,
    _Z64_EOCD_SIG,
    _Z64_LOC,
    _Z64_LOC_SIG,
)

__all__ = ["COMMIT_MARKER_PREFIX", "CommitLocation", "find_last_commit", "locate_commit_before"]

COMMIT_MARKER_PREFIX: Final = b"JCF-COMMIT "
_MARKER_HEX = 32
_MARKER_LEN = len(COMMIT_MARKER_PREFIX) + _MARKER_HEX  # 43: the whole EOCD comment
_MARKER_LEN_FIELD = struct.pack("<H", _MARKER_LEN)

_SCAN_CHUNK: Final = 1 << 20  # backward scan for an end record after a crash


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


def _marker_for(hashed: bytes | memoryview) -> bytes:
    return COMMIT_MARKER_PREFIX + blake3.blake3(hashed).digest()[:16].hex().encode("ascii")


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


def _scan_backwards(
    fd: int, size: int, before: int | None = None
) -> tuple[CommitLocation, bytes | None]:
    """Slow path after a crash: the last EOCD anywhere in the file with a valid marker
    (with `before`: the last one that starts below that offset, an earlier commit)."""
    record = _EOCD.size + _MARKER_LEN
    hi = size if before is None else min(size, before)  # candidates start below hi
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


def locate_commit_before(fd: int, before: int) -> tuple[CommitLocation, bytes | None]:
    """The last good commit whose end record starts below offset `before` (the commit
    before the one there), for reading around a damaged newest commit."""
    return _scan_backwards(fd, os.fstat(fd).st_size, before)


def find_last_commit(f: BinaryIO | int, *, untrusted: bool = False) -> CommitLocation:
    """Locate the last good commit of an open container (a file object or a descriptor).

    Fast path: a valid end record exactly at the end of the file. Otherwise (not when
    `untrusted`) scan backwards for the last end record whose commit marker verifies.
    Raises DamagedContainerError (or HostileContainerError for trailing data when untrusted).
    """
    fd = f if isinstance(f, int) else f.fileno()
    location, _cd = _locate(fd, os.fstat(fd).st_size, untrusted)
    return location
