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

The records are stored by column, and each column as one object where it can be (`_pack`):
`marshal` spends about 1 µs on every object it writes (it looks each one up to share
repeats), so 200,000 separate strings and numbers cost ~25 ms per checkpoint to write;
a NUL-joined string or an array of int64 costs a copy, and splitting it back is C-speed.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import struct
from array import array
from collections.abc import Sequence
from dataclasses import fields
from itertools import accumulate, chain
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

_MAGIC: Final = b"KAMAROS-OPEN-INDEX-3\n"
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


def _declared_types(cls: type) -> tuple[str, ...]:
    """Each field's annotation as written ("int", "str | None", ...): `_pack`'s kinds."""
    return tuple(
        str(getattr(kind, "__forward_arg__", kind)) for kind in cls.__annotations__.values()
    )


_ZIP_ENTRY_TYPES: Final = tuple("when" if f == "date_time" else "int" for f in _ZIP_ENTRY_FIELDS)
_FILE_ENTRY = attrgetter(*FileEntry._fields)
_FILE_ENTRY_TYPES: Final = _declared_types(FileEntry)
_FILE_STATE = attrgetter(*FileState._fields)
_FILE_STATE_TYPES: Final = _declared_types(FileState)
_RENAME = attrgetter(*(f.name for f in fields(RenameEntry)))
_METADATA = attrgetter(*(f.name for f in fields(Metadata)))
_VERSION = attrgetter("id", "timestamp", "message", "author", "email", "parentId", "automatic")


_SCHEMA: Final = (
    *(cls._fields for cls in (ZipEntry, FileEntry, FileState)),
    *(tuple(f.name for f in fields(cls)) for cls in (RenameEntry, Metadata, Version, Manifest)),
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
        name = blake3.blake3(_MAGIC + marshal.dumps(key)).hexdigest()[:32]
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
            count = location.entry_count
            names, names_b, methods, crcs, csizes, usizes, headers, attrs, whens = (
                _unpack(column, count) for column in columns
            )
            bounds = _unpack(bounds, count)
            if bounds and bounds[-1] != len(cd):
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
            records = [entry.cd_record for entry in entries]
            bounds = list(accumulate(map(len, records)))
            if (bounds[-1] if bounds else 0) != reader.location.cd_size:
                return  # entries not read from this directory: nothing to pin them to
            names_b = [
                r[_CDH_SIZE : _CDH_SIZE + _NAME_LENGTH.unpack_from(r, 28)[0]] for r in records
            ]
            columns = [
                _pack([entry.name for entry in entries], "str"),
                _pack(names_b, "bytes"),
                *_pack_rows(list(map(_ZIP_ENTRY, entries)), _ZIP_ENTRY_TYPES),
            ]
            stored = _stored_hash(reader)
            part = None if stored is None else (stored, _manifest_rows(manifest))
            payload: Any = (key, columns, _pack(bounds, "int"), part)
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
        _pack(list(m.fileMap), "str"),
        len(m.fileMap),
        _pack_rows(list(map(_FILE_ENTRY, m.fileMap.values())), _FILE_ENTRY_TYPES),
        [(*_version_row(v), v.encoded.get("json")) for v in m.versions],
        dict(m.tags),
        list(map(_RENAME, m.renameLog)),
        dict(m.config),
        m.formatVersion,
    )


def _version_row(v: Version) -> tuple[Any, ...]:
    """A version's row: made once per version (`Version.encoded`), as versions never
    change; the first one of a 10,000-file project lists every file (~7 ms to pack)."""
    row: tuple[Any, ...] | None = v.encoded.get("rows")
    if row is None:
        states = list(map(_FILE_STATE, v.changes.values()))
        row = v.encoded["rows"] = (
            _VERSION(v),
            len(v.changes),
            _pack_rows(states, _FILE_STATE_TYPES),
        )
    return row


def _version_from_row(head: Any, count: int, columns: Any, json: Any) -> Version:
    version = Version(
        id=head[0],
        timestamp=head[1],
        message=head[2],
        author=head[3],
        email=head[4],
        parentId=head[5],
        changes=_changes(count, columns),
        automatic=head[6],
    )
    version.encoded["rows"] = (head, count, columns)
    if json is not None:
        tags, data = json
        if type(tags) is list and type(data) is bytes:
            version.encoded["json"] = (tags, data)
    return version


def _manifest_from_rows(rows: tuple[Any, ...]) -> Manifest:
    metadata, paths, count, file_columns, versions, tags, renames, config, format_version = rows
    return Manifest(
        metadata=Metadata(*metadata),
        fileMap=dict(
            zip(
                _unpack(paths, count),
                map(FileEntry, *_unpack_rows(file_columns, count, len(_FILE_ENTRY_TYPES))),
                strict=True,
            )
        ),
        versions=tuple(_version_from_row(*row) for row in versions),
        tags=tags,
        renameLog=tuple(RenameEntry(*row) for row in renames),
        config=config,
        formatVersion=format_version,
    )


def _changes(count: int, columns: Sequence[Any]) -> dict[str, FileState]:
    """A version's `changes`, keyed by each state's path (the parser and the checkpoint
    both key them so)."""
    states = list(map(FileState, *_unpack_rows(columns, count, len(_FILE_STATE_TYPES))))
    changes = dict(zip((state.path for state in states), states, strict=True))
    if len(changes) != count:
        raise ValueError("two states of one version share a path")
    return changes


# ---------------------------------------------------------------- columns


def _pack_rows(rows: list[tuple[Any, ...]], types: Sequence[str]) -> list[tuple[str, Any]]:
    """`rows` of records, as one packed column per field (declared type in `types`)."""
    columns = zip(*rows, strict=True) if rows else ((),) * len(types)
    return [_pack(list(column), kind) for column, kind in zip(columns, types, strict=True)]


def _unpack_rows(columns: Sequence[Any], count: int, width: int) -> list[list[Any]]:
    if len(columns) != width:
        raise ValueError("wrong number of columns")
    return [_unpack(column, count) for column in columns]


def _pack(column: list[Any], kind: str) -> tuple[str, Any]:
    """One column as (codec, data): a field typed `str`, `bytes`, `int` or `bool` as one
    object, anything else (or a value that does not fit: a NUL, a huge int) as the list."""
    try:
        if kind == "str" or kind.startswith(("Literal[", "ChangeType")):
            joined = "\0".join(column)
            if joined.count("\0") == len(column) - 1:
                return ("s", joined)
        elif kind == "bytes":
            joined_b = b"\0".join(column)
            if joined_b.count(b"\0") == len(column) - 1:
                return ("y", joined_b)
        elif kind == "int":
            return ("q", array("q", column).tobytes())
        elif kind == "bool" and all(type(value) is bool for value in column):
            return ("b", bytes(column))
        elif kind == "when":
            return ("w", array("q", chain.from_iterable(column)).tobytes())
    except (TypeError, OverflowError):
        pass
    return ("l", column)


def _unpack(column: Any, count: int) -> list[Any]:
    """The list `_pack` was given; ValueError (or TypeError) if it is not `count` long."""
    codec, data = column
    values: list[Any]
    if codec == "s":
        values = data.split("\0") if count else []
    elif codec == "y":
        values = data.split(b"\0") if count else []
    elif codec == "q":
        numbers = array("q")
        numbers.frombytes(data)
        values = numbers.tolist()
    elif codec == "b":
        values = [value == 1 for value in data]
    elif codec == "w":
        numbers = array("q")
        numbers.frombytes(data)
        flat = iter(numbers.tolist())
        values = list(zip(flat, flat, flat, flat, flat, flat, strict=False))  # checked below
        if len(numbers) != 6 * len(values):
            raise ValueError("a date and time is not six numbers")
    elif codec == "l" and type(data) is list:
        values = data
    else:
        raise ValueError(f"unknown column codec {codec!r}")
    if len(values) != count:
        raise ValueError("column of the wrong length")
    return values
