"""What opening a container learns, kept in the user's cache for the next process.

Every command opens the history: it parses and checks each central-directory record (about
7 µs) and each manifest record (about 7 µs, two per file). At 10,000 files that is ~0.2 s
before any work, paid again by every process. Both results are pure functions of bytes
that can be pinned cheaply:

- the central directory, by the commit marker at the end of the file (a BLAKE3 of the
  directory, verified on every open) plus where the directory sits;
- the manifest, by a BLAKE3 of its stored (compressed) bytes, about 1 ms to compute.

So the parsed, checked result is saved under those keys in the cache folder `platformdirs`
names, which only this user's Kamaros writes: a project mailed or copied from elsewhere
brings no index with it and is checked in full. The file carries its own BLAKE3; anything
missing, torn, of another version or for other bytes is ignored and the container is
parsed as before. Loading is `marshal` plus building the objects (~60 ms at 10,000 files).
"""

from __future__ import annotations

import contextlib
import marshal
import os
import struct
from dataclasses import fields
from itertools import accumulate, chain, starmap
from operator import attrgetter
from pathlib import Path
from typing import Any, Final

import blake3
import platformdirs

from .errors import KamarosError
from .layout import MANIFEST_ENTRY
from .manifest import FileEntry, FileState, Manifest, Metadata, RenameEntry, Version
from .zip_commit import CommitLocation
from .zip_reader import ContainerReader, check_local_headers
from .zip_records import ZipEntry

__all__ = ["OpenIndex", "index_folder"]

_MAGIC: Final = b"KAMAROS-OPEN-INDEX-1\n"
_DIGEST_BYTES: Final = 32
_KEEP: Final = 8
_KEEP_BYTES: Final = 256 << 20
"""Index files kept (one per commit opened; ~5 MB at 10,000 files): at most this many and,
beyond the newest, this many bytes in all. The oldest go first."""
_SUFFIX: Final = ".idx"
_CDH_SIZE: Final = 46  # a central directory record's fixed part; the name follows it
_NAME_LENGTH: Final = struct.Struct("<H")  # at offset 28 of that fixed part

_ZIP_ENTRY_FIELDS: Final = (
    "method",
    "crc32",
    "compressed_size",
    "uncompressed_size",
    "header_offset",
    "external_attr",
    "date_time",
)
_ZIP_ENTRY = attrgetter(*_ZIP_ENTRY_FIELDS)
_FILE_ENTRY = attrgetter(*(f.name for f in fields(FileEntry)))
_FILE_STATE = attrgetter(*(f.name for f in fields(FileState)))
_RENAME = attrgetter(*(f.name for f in fields(RenameEntry)))
_METADATA = attrgetter(*(f.name for f in fields(Metadata)))
_VERSION = attrgetter("id", "timestamp", "message", "author", "email", "parentId", "automatic")


_SCHEMA: Final = tuple(
    tuple(f.name for f in fields(cls))
    for cls in (ZipEntry, FileEntry, FileState, RenameEntry, Metadata, Version, Manifest)
)
"""Part of every key: an index written for other record layouts is never read."""


def index_folder() -> Path:
    """Where the index files live: `<user cache>/kamaros/open-index`."""
    return platformdirs.user_cache_path("kamaros") / "open-index"


def _key(location: CommitLocation, marker: bytes) -> tuple[Any, ...]:
    where = (location.cd_offset, location.cd_size, location.entry_count, location.end)
    return (_SCHEMA, marker, *where)


class OpenIndex:
    """The index of one open: `entries` and `manifest` answer from it when it matches,
    and `save` records what the open found when it did not."""

    def __init__(self) -> None:
        self._payload: tuple[Any, ...] | None = None
        self.hits = 0
        """Parts (directory, manifest) answered from the index; 2 means nothing was parsed."""

    @staticmethod
    def _path(key: tuple[Any, ...]) -> Path:
        name = blake3.blake3(marshal.dumps(key)).hexdigest()[:32]
        return index_folder() / f"{name}{_SUFFIX}"

    # ---------------------------------------------------------------- reading

    def entries(self, fd: int, location: CommitLocation, cd: bytes) -> dict[str, ZipEntry] | None:
        """The entries of the directory `cd`, if indexed (a `ContainerReader.open` hook)."""
        if not location.has_marker:
            return None
        key = _key(location, _marker_at(fd, location))
        path = self._path(key)
        payload = _read(path)
        if payload is None or payload[0] != key:
            return None
        self._payload = payload
        columns, bounds = payload[1], payload[2]
        try:
            names, names_b, methods, crcs, csizes, usizes, headers, attrs, whens = columns
            if len(names) != location.entry_count or (bounds and bounds[-1] != len(cd)):
                return None
            # The local headers are checked on every open, as without an index: a damaged
            # one makes that entry unreadable (and `verify` name it) either way. ~2 µs each.
            data_offsets, damage = check_local_headers(
                fd, names, names_b, headers, csizes, location.cd_offset, False
            )
            records = map(cd.__getitem__, map(slice, chain((0,), bounds), bounds))
            entries = dict(
                zip(
                    names,
                    map(
                        ZipEntry,
                        names,
                        methods,
                        crcs,
                        csizes,
                        usizes,
                        headers,
                        data_offsets,
                        attrs,
                        whens,
                        records,
                        (damage.get(i, "") for i in range(len(names))),
                    ),
                    strict=True,
                )
            )
        except (TypeError, ValueError):
            return None
        self.hits += 1
        return entries

    def manifest(self, reader: ContainerReader) -> Manifest | None:
        """The manifest of `reader`'s commit, if indexed and its stored bytes unchanged."""
        if self._payload is None or self._payload[3] is None:
            return None
        stored_hash, rows = self._payload[3]
        if _stored_hash(reader) != stored_hash:
            return None
        try:
            manifest = _manifest_from_rows(rows)
        except (TypeError, ValueError):
            return None
        self.hits += 1
        return manifest

    # ---------------------------------------------------------------- writing

    def save(self, reader: ContainerReader, manifest: Manifest) -> None:
        """Record what this open found, unless an index of this commit was found (best
        effort: any failure only costs speed)."""
        if self._payload is not None or not reader.has_commit_marker or reader.untrusted:
            return
        try:
            key = _key(reader.location, _marker_at(reader._fd, reader.location))
            entries = list(reader.entries.values())
            records = [entry._cd_record for entry in entries]
            bounds = list(accumulate(map(len, records)))
            if (bounds[-1] if bounds else 0) != reader.location.cd_size:
                return  # entries not read from this directory: nothing to pin them to
            fixed = [list(column) for column in zip(*map(_ZIP_ENTRY, entries), strict=True)]
            columns: list[list[Any]] = [
                [entry.name for entry in entries],
                [r[_CDH_SIZE : _CDH_SIZE + _NAME_LENGTH.unpack_from(r, 28)[0]] for r in records],
                *(fixed or [[] for _field in range(len(_ZIP_ENTRY_FIELDS))]),
            ]
            stored = _stored_hash(reader)
            part = None if stored is None else (stored, _manifest_rows(manifest))
            payload: Any = (key, columns, bounds, part)
            body = marshal.dumps(payload)
            path = self._path(key)
            _write(path, _MAGIC + blake3.blake3(body).digest() + body)
            _prune(path.parent, keep=path.name)
        except (OSError, ValueError, KamarosError):
            pass  # a full disk, an unwritable cache folder, an unmarshallable value


def _marker_at(fd: int, location: CommitLocation) -> bytes:
    """The commit marker: the comment of the end record (22 bytes) of the commit."""
    return os.pread(fd, location.end - location.eocd_offset, location.eocd_offset)[22:]


def _stored_hash(reader: ContainerReader) -> bytes | None:
    entry = reader.entries.get(MANIFEST_ENTRY)
    if entry is None or entry.damage:
        return None
    hasher = blake3.blake3()
    try:
        for chunk in reader.raw_entry_bytes(entry):
            hasher.update(chunk)
    except KamarosError:
        return None
    return hasher.digest()


def _read(path: Path) -> tuple[Any, ...] | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC)
    if not data.startswith(_MAGIC) or len(data) < head + _DIGEST_BYTES:
        return None
    body = memoryview(data)[head + _DIGEST_BYTES :]
    if blake3.blake3(body).digest() != data[head : head + _DIGEST_BYTES]:
        return None
    try:
        payload = marshal.loads(body)
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(payload, tuple) or len(payload) != 4:
        return None
    return payload


def _write(path: Path, data: bytes) -> None:
    from .diskio import makedirs
    from .fsutil import atomic_write_chunks

    makedirs(path.parent)
    # Not flushed: a torn or lost index fails its checksum or key and is rebuilt.
    atomic_write_chunks(path, (data,), durable=False)


def _prune(folder: Path, keep: str) -> None:
    from .diskio import unlink

    found: list[tuple[int, int, str]] = []
    with os.scandir(folder) as it:
        for item in it:
            if item.name.endswith(_SUFFIX) and item.name != keep:
                with contextlib.suppress(OSError):
                    st = item.stat()
                    found.append((st.st_mtime_ns, st.st_size, item.name))
    found.sort(reverse=True)
    total = 0
    for number, (_mtime, size, name) in enumerate(found, 2):  # `keep` is the first
        total += size
        if number > _KEEP or total > _KEEP_BYTES:
            with contextlib.suppress(OSError):
                unlink(folder / name)


# ---------------------------------------------------------------- manifest <-> rows


def _manifest_rows(m: Manifest) -> tuple[Any, ...]:
    return (
        _METADATA(m.metadata),
        list(m.fileMap),
        list(map(_FILE_ENTRY, m.fileMap.values())),
        [
            (_VERSION(v), list(v.changes), list(map(_FILE_STATE, v.changes.values())))
            for v in m.versions
        ],
        dict(m.tags),
        list(map(_RENAME, m.renameLog)),
        dict(m.config),
        m.formatVersion,
    )


def _manifest_from_rows(rows: tuple[Any, ...]) -> Manifest:
    metadata, paths, file_rows, versions, tags, renames, config, format_version = rows
    return Manifest(
        metadata=Metadata(*metadata),
        fileMap=dict(zip(paths, starmap(FileEntry, file_rows), strict=True)),
        versions=tuple(
            Version(
                id=head[0],
                timestamp=head[1],
                message=head[2],
                author=head[3],
                email=head[4],
                parentId=head[5],
                changes=dict(zip(changed, starmap(FileState, states), strict=True)),
                automatic=head[6],
            )
            for head, changed, states in versions
        ),
        tags=tags,
        renameLog=tuple(starmap(RenameEntry, renames)),
        config=config,
        formatVersion=format_version,
    )
