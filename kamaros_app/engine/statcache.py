"""A rebuildable cache of file hashes keyed by stat info, so unchanged files are not re-read."""

from __future__ import annotations

import json
import os
import struct
import time
from pathlib import Path
from typing import NamedTuple

from .hashing import hash_bytes

__all__ = [
    "CACHE_FORMAT",
    "CACHE_VERSION",
    "TIMESTAMP_GRANULARITY_NS",
    "CachedFile",
    "StatCache",
    "StatInfo",
]

CACHE_FORMAT = "kamaros-stat-cache"
CACHE_VERSION = 1

# How far apart two writes must be for the file system to give them different mtimes,
# at worst: FAT keeps 2 s, SMB shares and ext3 1 s, and even ext4's nanosecond fields only
# move once per kernel tick (1-10 ms). See `StatCache` for why this matters.
TIMESTAMP_GRANULARITY_NS = 2_000_000_000

# File layout: one JSON header line, then the body: all paths (UTF-8, surrogates passed
# through so undecodable file names survive) joined by NUL, then one fixed-size record per
# path in the same order. Loading 100,000 entries is a split and a dict; records are only
# unpacked on lookup.
# Record: size, mtime_ns, ctime_ns, ino, dev, mode, is_text, BLAKE3 digest (32 bytes).
_RECORD = struct.Struct("<qqqQQI?32s")
_STAT_PART = struct.Struct("<qqqQQI")  # the record's first fields, in `StatInfo`'s order
_MTIME_FIELD = struct.Struct("<8xq")
_PATH_ENCODING = ("utf-8", "surrogatepass")


class StatInfo(NamedTuple):
    """The parts of `os.stat` that change whenever a file's content may have changed.

    A named tuple, not a frozen dataclass: one is built per file of every walk, and that
    is 0.25 µs instead of 0.7 (a frozen dataclass sets each field through a call)."""

    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    dev: int
    mode: int

    @classmethod
    def from_stat(cls, st: os.stat_result) -> StatInfo:
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, st.st_mode)


class CachedFile(NamedTuple):
    """What reading a file gave, and the stat info it had when it was read (one per file
    of every status: a named tuple, as `StatInfo`)."""

    stat: StatInfo
    hash: str
    is_text: bool


def _pack(entry: CachedFile) -> bytes | None:
    """The record for `entry`, or None if it cannot be stored (then it is just not cached)."""
    st = entry.stat
    try:
        digest = bytes.fromhex(entry.hash)
        if len(digest) != 32 or digest.hex() != entry.hash:
            return None
        return _RECORD.pack(
            st.size, st.mtime_ns, st.ctime_ns, st.ino, st.dev, st.mode, entry.is_text, digest
        )
    except (ValueError, struct.error):
        return None


class StatCache:
    """Maps relative paths to `CachedFile`, trusting an entry only when that is safe.

    An entry is used only if the file's stat info is exactly what it was when the file was
    read, and the entry is not *racy* (git's "racy git" problem): a file modified again
    shortly after it was read can keep the same mtime (and size), because mtimes only move
    in steps of the file system's timestamp granularity. So an entry is trusted only if its
    mtime is more than TIMESTAMP_GRANULARITY_NS older than a *reference time* taken before
    the file was read; any later change then necessarily gives a different mtime.

    The reference time is the moment this object was created or loaded: callers load the
    cache at the start of a scan, then hash, `update`, and `save`. (The save time would be
    wrong as a reference: a file changed between being hashed and the save, within the
    granularity, would be trusted.) Entries loaded from disk keep the reference they were
    saved with; on save, loaded entries that were racy and not refreshed are dropped. Racy
    entries simply get re-read on the next scan. Clock skew larger than the margin between
    this machine and a network file server is not covered.

    The cache is only an optimisation: any problem with the file gives an empty cache.
    """

    def __init__(self, key: str = "") -> None:
        self._key = key
        self._reference_ns = time.time_ns()
        self._loaded: dict[str, int] = {}  # path -> record index in `_records`
        self._records: bytes = b""
        self._loaded_reference_ns = 0
        self._fresh: dict[str, CachedFile] = {}
        self._clean_head: str | None = None

    @classmethod
    def load(cls, path: Path, *, key: str) -> StatCache:
        """The cache stored at `path` if it is intact and built for `key`, else empty.

        `key` identifies what the cache was built against (e.g. the container state); a
        cache with another key is discarded. Never raises for a missing or bad file.
        """
        cache = cls(key)
        try:
            data = Path(path).read_bytes()
            header_line, _, body = data.partition(b"\n")
            header = json.loads(header_line)
            if (
                not isinstance(header, dict)
                or header.get("format") != CACHE_FORMAT
                or header.get("version") != CACHE_VERSION
                or header.get("key") != key
                or header.get("checksum") != hash_bytes(body)
            ):
                return cache
            reference = header["reference_ns"]
            count = header["count"]
            paths_len = header["paths_bytes"]
            if not all(isinstance(v, int) for v in (reference, count, paths_len)):
                return cache
            if count < 0 or paths_len < 0 or len(body) != paths_len + count * _RECORD.size:
                return cache
            paths = body[:paths_len].decode(*_PATH_ENCODING).split("\0") if count else []
            if len(paths) != count:
                return cache
            loaded = dict(zip(paths, range(count), strict=True))
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            return cache
        cache._loaded = loaded
        cache._records = body[paths_len:]
        cache._loaded_reference_ns = reference
        clean = header.get("clean_head")
        cache._clean_head = clean if isinstance(clean, str) else None
        return cache

    @property
    def key(self) -> str:
        return self._key

    @property
    def clean_head(self) -> str | None:
        """The container fingerprint this cache was proven equal to, if any: then its
        entries are exactly the files of that checkpoint, with their hashes."""
        return self._clean_head

    def mark_clean(self, head_fingerprint: str | None) -> None:
        """Record that the cached files (after `retain` of the folder's files) are exactly
        the checkpoint whose container has `head_fingerprint` (see quickstatus)."""
        self._clean_head = head_fingerprint

    def __len__(self) -> int:
        return len(self._fresh) + sum(1 for p in self._loaded if p not in self._fresh)

    def lookup(self, rel_path: str, st: StatInfo) -> CachedFile | None:
        """The entry for `rel_path` if `st` matches it exactly and it is not racy."""
        fresh = self._fresh.get(rel_path)
        if fresh is not None:
            if fresh.stat != st or st.mtime_ns + TIMESTAMP_GRANULARITY_NS >= self._reference_ns:
                return None
            return fresh
        index = self._loaded.get(rel_path)
        if index is None:
            return None
        size, mtime_ns, ctime_ns, ino, dev, mode, is_text, digest = _RECORD.unpack_from(
            self._records, index * _RECORD.size
        )
        if (
            size != st.size
            or mtime_ns != st.mtime_ns
            or ctime_ns != st.ctime_ns
            or ino != st.ino
            or dev != st.dev
            or mode != st.mode
        ):
            return None
        if mtime_ns + TIMESTAMP_GRANULARITY_NS >= self._loaded_reference_ns:
            return None  # racy: may have changed again within the same timestamp tick
        return CachedFile(st, digest.hex(), is_text)

    def doubts(self, rel_path: str, st: os.stat_result) -> bool:
        """False only if the cache vouches for the file whose `lstat` gave `st`, exactly as
        `lookup` would: the per-file test of "nothing changed", so a loaded entry is checked
        with one bytes comparison and no `StatInfo` or `CachedFile` is built."""
        index = self._loaded.get(rel_path)
        if index is None or self._fresh:
            return self.lookup(rel_path, StatInfo.from_stat(st)) is None
        try:
            packed = _STAT_PART.pack(
                st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, st.st_mode
            )
        except struct.error:
            return True  # out of a record's range: such a file was never cached
        start = index * _RECORD.size
        return (
            self._records[start : start + _STAT_PART.size] != packed
            or st.st_mtime_ns + TIMESTAMP_GRANULARITY_NS >= self._loaded_reference_ns
        )

    def update(self, rel_path: str, entry: CachedFile) -> None:
        """Record what reading `rel_path` gave; `entry.stat` must be from before the read."""
        self._fresh[rel_path] = entry
        self._clean_head = None

    def remove(self, rel_path: str) -> None:
        self._clean_head = None
        self._fresh.pop(rel_path, None)
        self._loaded.pop(rel_path, None)

    def retain(self, paths: set[str] | frozenset[str]) -> None:
        """Forget every entry whose path is not in `paths`."""
        self._fresh = {p: e for p, e in self._fresh.items() if p in paths}
        self._loaded = {p: i for p, i in self._loaded.items() if p in paths}

    def save(self, path: Path, *, key: str) -> None:
        """Write the cache atomically, recorded as built against `key`.

        Fresh entries were read after this object's reference time, which the whole file
        now carries; loaded entries trusted against their older reference stay trusted
        against it, and loaded racy entries that were not refreshed are dropped.
        """
        limit = self._loaded_reference_ns - TIMESTAMP_GRANULARITY_NS
        records = self._records
        size = _RECORD.size
        names: list[str] = []
        packed: list[bytes] = []
        for rel_path, index in self._loaded.items():
            if rel_path in self._fresh:
                continue
            offset = index * size
            if _MTIME_FIELD.unpack_from(records, offset)[0] < limit:
                names.append(rel_path)
                packed.append(records[offset : offset + size])
        for rel_path, entry in self._fresh.items():
            record = _pack(entry)
            if record is not None and "\0" not in rel_path:
                names.append(rel_path)
                packed.append(record)
        paths_blob = "\0".join(names).encode(*_PATH_ENCODING)
        body = paths_blob + b"".join(packed)
        header = {
            "format": CACHE_FORMAT,
            "version": CACHE_VERSION,
            "key": key,
            "reference_ns": self._reference_ns,
            "count": len(names),
            "paths_bytes": len(paths_blob),
            "checksum": hash_bytes(body),
        }
        if self._clean_head is not None:
            header["clean_head"] = self._clean_head
        # Atomic but not flushed: after a power cut the rename may be lost (the older cache
        # is back, still true of the files it describes) or the bytes (the checksum fails
        # and the cache is dropped). Either way only speed is lost; the two fsyncs cost
        # ~5 ms per checkpoint here.
        data = json.dumps(header).encode("ascii") + b"\n" + body
        from .fsutil import atomic_write_chunks  # here: "nothing changed" never saves

        atomic_write_chunks(Path(path), (data,), durable=False)
        self._key = key
