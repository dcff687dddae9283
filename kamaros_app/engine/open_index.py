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

A checkpoint changes a few rows of a large index, so the index of the commit it makes is
written as a delta against the index of the commit before (`_runs`: spans of the parent's
rows to copy, plus the new rows), when this process holds that one: ~130 KB and ~10 ms
instead of ~8 MB and ~35-66 ms at 10,000 files. Reading follows the chain, at most
`_MAX_DEPTH` deltas long, and a missing or bad link only means a full parse.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import struct
from array import array
from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, Sequence, ValuesView
from dataclasses import fields
from itertools import accumulate, chain
from operator import attrgetter
from pathlib import Path
from typing import Any, Final, NamedTuple

import blake3
import platformdirs

from .errors import KamarosError
from .layout import MANIFEST_ENTRY
from .manifest import FileEntry, FileState, Manifest, Metadata, RenameEntry, Version
from .zip_commit import CommitLocation
from .zip_reader import ContainerReader, check_local_headers
from .zip_records import ZipEntry

__all__ = ["OpenIndex", "index_folder"]

_MAGIC: Final = b"KAMAROS-OPEN-INDEX-4\n"
_DIGEST_BYTES: Final = 32
_KEEP: Final = 16
_KEEP_BYTES: Final = 256 << 20
"""Index files kept (one per commit opened; ~8 MB at 10,000 files, a delta far less): at
most this many and, beyond the newest and what it builds on, this many bytes in all. The
oldest go first."""
_MAX_DEPTH: Final = 8
"""Deltas in a row (each index built on the one before) before a whole index is written."""
_DELTA_SHARE: Final = 4
"""A table is written as a delta only while at most 1/4 of its rows (+64) are new."""
_FULL: Final = "t"
_DELTA: Final = "d"
_SUFFIX: Final = ".idx"
_CDH_SIZE: Final = 46  # a central directory record's fixed part; the name follows it
_NAME_LENGTH: Final = struct.Struct("<H")  # at offset 28 of that fixed part

_ENTRY_KINDS: Final = ("str", "bytes", *("int",) * 6, "when", "int")
"""The entry table's columns: name, its bytes as stored, method, CRC-32, compressed and
uncompressed size, local header offset, external attributes, date and time, and the
length of the entry's central directory record."""


def _declared_types(cls: type) -> tuple[str, ...]:
    """Each field's annotation as written ("int", "str | None", ...): `_pack`'s kinds."""
    return tuple(
        str(getattr(kind, "__forward_arg__", kind)) for kind in cls.__annotations__.values()
    )


_FILE_ENTRY_TYPES: Final = _declared_types(FileEntry)
_FILE_KINDS: Final = ("str", *_FILE_ENTRY_TYPES)  # the path, then the entry's fields
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


class _Described:
    """The commit an index file describes, and the objects this process uses for it: what
    the next commit's index is written as a delta against (`OpenIndex.save`)."""

    __slots__ = ("chain", "entries", "file_map", "manifest", "name", "paths", "versions")

    def __init__(
        self, name: str, chain: tuple[str, ...], entries: dict[str, ZipEntry], names: list[str]
    ) -> None:
        self.name = name
        self.chain = chain  # the files this one builds on, nearest first
        self.entries = entries
        self.paths = names  # entry names in the file's row order
        self.manifest: Manifest | None = None
        self.file_map: list[str] = []  # file-map paths in the file's row order
        self.versions: list[str] = []  # version ids in the file's row order


class OpenIndex:
    """The index of one open: `entries` and `manifest` answer from it when it matches,
    and `save` records what the open found when it did not."""

    def __init__(self) -> None:
        self._found: _Resolved | None = None
        self._manifest_matched = False  # `manifest` found the stored bytes unchanged
        self._described: _Described | None = None
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
        found = _resolve(path, 0)
        if found is None or found.key != key:
            return None
        try:
            names, names_b, methods, crcs, csizes, usizes, headers, attrs, whens, lengths = (
                found.entries
            )
            if len(names) != location.entry_count:
                return None
            bounds = list(accumulate(lengths))
            if (bounds[-1] if bounds else 0) != len(cd):
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
        self._found = found
        self._described = _Described(path.name, found.chain, entries, names)
        self.hits += 1
        return entries

    def manifest(self, reader: ContainerReader) -> Manifest | None:
        """The manifest of `reader`'s commit, if indexed and its stored bytes unchanged."""
        found = self._found
        if found is None or found.manifest is None:
            return None
        if _stored_hash(reader) != found.manifest[0]:
            return None
        self._manifest_matched = True
        try:
            manifest = _manifest_from_tables(found.manifest)
        except (TypeError, ValueError, IndexError):
            return None
        self.hits += 1
        return manifest

    # ---------------------------------------------------------------- writing

    def save(
        self, reader: ContainerReader, manifest: Manifest, parent: OpenIndex | None = None
    ) -> None:
        """Record what this open found, unless an index of this commit was found (best
        effort: any failure only costs speed).

        `parent`: the index of the commit `reader`'s commit was appended to, as this
        process used it. The new index is then written as what changed since that one (a
        checkpoint of 100 files in a 10,000-file project: ~130 KB instead of ~8 MB, and
        ~10 ms instead of ~35-66), for at most `_MAX_DEPTH` commits in a row."""
        if not reader.has_commit_marker or reader.untrusted:
            return
        found = self._found
        if found is not None:
            self._describe_manifest(reader, manifest, found)
            return
        try:
            key = _key(reader.location, _marker_at(reader._fd, reader.location))
            entries = list(reader.entries.values())
            if sum(map(len, (entry.cd_record for entry in entries))) != reader.location.cd_size:
                return  # entries not read from this directory: nothing to pin them to
            stored = _stored_hash(reader)
            base = parent._described if parent is not None else None
            if base is not None and len(base.chain) >= _MAX_DEPTH:
                base = None
            names = list(reader.entries)
            entry_table = _entry_table(entries, names, base)
            part = None if stored is None else (stored, *_manifest_tables(manifest, base))
            tables = [entry_table] if part is None else [entry_table, part[2], part[3]]
            if base is not None and all(table[0] == _FULL for table in tables):
                base = None  # nothing in common with the parent: stand alone
            parent_ref = None if base is None else base.name
            payload: Any = (key, parent_ref, entry_table, part)
            body = marshal.dumps(payload)
            path = self._path(key)
            _write(path, _MAGIC + blake3.blake3(body).digest() + body)
            chain = () if base is None else (base.name, *base.chain)
            _prune(path.parent, keep={path.name, *chain})
        except (OSError, ValueError, KamarosError):
            return  # a full disk, an unwritable cache folder, an unmarshallable value
        self._described = _Described(path.name, chain, reader.entries, names)
        if part is not None:
            self._describe(manifest)

    def _describe_manifest(
        self, reader: ContainerReader, manifest: Manifest, found: _Resolved
    ) -> None:
        """The found index's manifest part describes `manifest` (this process may have had
        it from its own cache, as other objects) if it was made from the same bytes."""
        described = self._described
        if described is None or found.manifest is None:
            return
        if not self._manifest_matched and _stored_hash(reader) != found.manifest[0]:
            return  # (`manifest` hashed the stored bytes already when it was asked)
        try:  # rows the manifest was not built from are not checked yet
            file_map = list(found.manifest[2][0])
            versions = [row[0][0] for row in found.manifest[3]]
        except (TypeError, IndexError, KeyError):
            return
        described.file_map, described.versions, described.manifest = file_map, versions, manifest

    def _describe(self, manifest: Manifest) -> None:
        described = self._described
        if described is not None:
            described.manifest = manifest
            described.file_map = list(manifest.fileMap)
            described.versions = [v.id for v in manifest.versions]


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


def _prune(folder: Path, keep: set[str]) -> None:
    from .diskio import unlink

    found: list[tuple[int, int, str]] = []
    with os.scandir(folder) as it:
        for item in it:
            if item.name.endswith(_SUFFIX) and item.name not in keep:
                with contextlib.suppress(OSError):
                    st = item.stat()
                    found.append((st.st_mtime_ns, st.st_size, item.name))
    found.sort(reverse=True)
    total = 0
    for number, (_mtime, size, name) in enumerate(found, len(keep) + 1):
        total += size
        if number > _KEEP or total > _KEEP_BYTES:
            with contextlib.suppress(OSError):
                unlink(folder / name)


# ---------------------------------------------------------------- reading a chain


class _Resolved(NamedTuple):
    """An index file with the deltas it builds on applied: its tables, unpacked."""

    key: Any
    chain: tuple[str, ...]
    entries: list[list[Any]]
    manifest: tuple[Any, ...] | None
    """stored hash, metadata, file-map columns, version rows, tags, renames, config,
    format version; None if the file has no usable manifest part."""


def _resolve(path: Path, depth: int) -> _Resolved | None:
    """The index file at `path` with every delta it builds on applied, or None."""
    payload = _read(path)
    if payload is None:
        return None
    try:
        key, parent_ref, entry_table, part = payload
        parent: _Resolved | None = None
        chain: tuple[str, ...] = ()
        if parent_ref is not None:
            if depth >= _MAX_DEPTH or type(parent_ref) is not str or "/" in parent_ref:
                return None
            parent = _resolve(path.parent / parent_ref, depth + 1)
            if parent is None:
                return None
            chain = (parent_ref, *parent.chain)
        entries = _unpack_table(entry_table, parent.entries if parent else None)
    except (TypeError, ValueError, IndexError):
        return None
    manifest = None
    if part is not None:
        try:
            stored, metadata, file_table, version_table, *rest = part
            base = parent.manifest if parent else None
            files = _unpack_table(file_table, base[2] if base else None)
            versions = _unpack_table(version_table, [base[3]] if base else None)[0]
            if len(files) != len(_FILE_KINDS) or len(rest) != 4:
                raise ValueError("wrong number of columns")
            manifest = (stored, metadata, files, versions, *rest)
        except (TypeError, ValueError, IndexError):
            pass  # the directory is still good
    return _Resolved(key, chain, entries, manifest)


# ---------------------------------------------------------------- tables


def _table(
    columns_of: Callable[[list[int] | None], list[list[Any]]],
    count: int,
    kinds: Sequence[str],
    runs: tuple[list[int], list[int]] | None,
) -> tuple[Any, ...]:
    """A table of `count` rows, whole (`columns_of(None)`), or as `runs` over its parent's
    table plus the new rows (`columns_of(positions)`)."""
    if runs is None:
        return (_FULL, count, [_pack(c, k) for c, k in zip(columns_of(None), kinds, strict=True)])
    spans, fresh = runs
    columns = columns_of(fresh)
    packed = [_pack(c, k) for c, k in zip(columns, kinds, strict=True)]
    return (_DELTA, array("q", spans).tobytes(), len(fresh), packed, count)


def _unpack_table(table: Any, parent: list[list[Any]] | None) -> list[list[Any]]:
    """The columns of a `_table`; ValueError (or TypeError) if it is malformed."""
    if table[0] == _FULL:
        _tag, count, columns = table
        return [_unpack(column, count) for column in columns]
    if table[0] != _DELTA or parent is None:
        raise ValueError("a delta without its parent")
    _tag, spans_b, fresh_count, columns, count = table
    fresh = [_unpack(column, fresh_count) for column in columns]
    if len(fresh) != len(parent) or not fresh:
        raise ValueError("wrong number of columns")
    spans = array("q")
    spans.frombytes(spans_b)
    out: list[list[Any]] = [[] for _ in fresh]
    sources = (parent, fresh)
    for at in range(0, len(spans) - 2, 3):
        source, start, stop = spans[at : at + 3]
        if source not in (0, 1):
            raise ValueError("a run from neither the parent nor the new rows")
        columns_from = sources[source]
        if not 0 <= start <= stop <= len(columns_from[0]):
            raise ValueError("a run outside its table")
        for column, values in zip(out, columns_from, strict=True):
            column += values[start:stop]
    if len(spans) % 3 or len(out[0]) != count:
        raise ValueError("runs of the wrong length")
    return out


def _runs(
    keys: list[str],
    values: Sequence[Any],
    base_keys: list[str],
    base_values: Mapping[str, Any],
    *,
    equal: bool,
) -> tuple[list[int], list[int]] | None:
    """How to build the rows (keys[i], values[i]) from a parent table whose rows are
    `base_keys` in order (values `base_values[key]`): flat runs (source, start, stop),
    source 0 copying the parent's rows and 1 the new ones, and where the new rows are in
    `values`. A row is copied only if its value is the parent's (or, with `equal`, equal
    to it). None when so many rows are new that a delta does not pay."""
    where = dict(zip(base_keys, range(len(base_keys)), strict=True))
    limit = len(keys) // _DELTA_SHARE + 64
    spans: list[int] = []
    fresh: list[int] = []
    source = -1
    start = stop = 0
    get = base_values.get
    for j, key in enumerate(keys):
        value = values[j]
        i = where.get(key)
        old = get(key) if i is not None else None
        if i is not None and (old is value or (equal and old == value)):
            if source == 0 and i == stop:
                stop += 1
                continue
            at, source_now = i, 0
        else:
            at, source_now = len(fresh), 1
            fresh.append(j)
            if len(fresh) > limit:
                return None
            if source == 1 and at == stop:
                stop += 1
                continue
        if source >= 0:
            spans += (source, start, stop)
        source, start, stop = source_now, at, at + 1
    if source >= 0:
        spans += (source, start, stop)
    return spans, fresh


def _entry_table(
    entries: list[ZipEntry], names: list[str], base: _Described | None
) -> tuple[Any, ...]:
    runs = None if base is None else _runs(names, entries, base.paths, base.entries, equal=True)

    def columns_of(rows: list[int] | None) -> list[list[Any]]:
        chosen = entries if rows is None else [entries[j] for j in rows]
        if not chosen:
            return [[] for _ in _ENTRY_KINDS]
        chosen_names, methods, crcs, csizes, usizes, headers, _at, attrs, whens, records, _d = map(
            list, zip(*chosen, strict=True)
        )
        names_b = [r[_CDH_SIZE : _CDH_SIZE + _NAME_LENGTH.unpack_from(r, 28)[0]] for r in records]
        lengths = list(map(len, records))
        return [
            chosen_names,
            names_b,
            methods,
            crcs,
            csizes,
            usizes,
            headers,
            attrs,
            whens,
            lengths,
        ]

    return _table(columns_of, len(entries), _ENTRY_KINDS, runs)


# ---------------------------------------------------------------- manifest <-> tables


def _manifest_tables(m: Manifest, base: _Described | None) -> tuple[Any, ...]:
    """The manifest's part of an index (after the stored hash), as deltas against `base`
    where that pays: metadata, file map, versions, tags, renames, config, format."""
    paths = list(m.fileMap)
    files = list(m.fileMap.values())
    versions = list(m.versions)
    file_runs = version_runs = None
    if base is not None and base.manifest is not None:
        old = base.manifest
        file_runs = _runs(paths, files, base.file_map, old.fileMap, equal=True)
        old_versions = {v.id: v for v in old.versions}
        ids = [v.id for v in versions]
        version_runs = _runs(ids, versions, base.versions, old_versions, equal=False)

    def file_columns(rows: list[int] | None) -> list[list[Any]]:
        chosen_paths = paths if rows is None else [paths[j] for j in rows]
        chosen = files if rows is None else [files[j] for j in rows]
        if not chosen:
            return [[] for _ in _FILE_KINDS]
        return [chosen_paths, *map(list, zip(*chosen, strict=True))]

    def version_rows(rows: list[int] | None) -> list[list[Any]]:
        chosen = versions if rows is None else [versions[j] for j in rows]
        return [[(*_version_row(v), v.encoded.get("json")) for v in chosen]]

    return (
        _METADATA(m.metadata),
        _table(file_columns, len(paths), _FILE_KINDS, file_runs),
        _table(version_rows, len(versions), ("row",), version_runs),
        dict(m.tags),
        list(map(_RENAME, m.renameLog)),
        dict(m.config),
        m.formatVersion,
    )


def _manifest_from_tables(part: tuple[Any, ...]) -> Manifest:
    _stored, metadata, files, versions, tags, renames, config, format_version = part
    paths = files[0]
    file_map = dict(zip(paths, map(FileEntry, *files[1:]), strict=True))
    if len(file_map) != len(paths):
        raise ValueError("two files of the file map share a path")
    return Manifest(
        metadata=Metadata(*metadata),
        fileMap=file_map,
        versions=tuple(_version_from_row(*row) for row in versions),
        tags=tags,
        renameLog=tuple(RenameEntry(*row) for row in renames),
        config=config,
        formatVersion=format_version,
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


def _changes(count: int, columns: Sequence[Any]) -> Mapping[str, FileState]:
    """A version's `changes`, keyed by each state's path (the parser and the checkpoint
    both key them so). Checked now, built when first read (`_LazyStates`)."""
    values = _unpack_rows(columns, count, len(_FILE_STATE_TYPES))
    paths = values[0]
    if len(set(paths)) != count:
        raise ValueError("two states of one version share a path")
    return _LazyStates(paths, values)


class _LazyStates(Mapping[str, FileState]):
    """The file states of an indexed version, made into objects on first use.

    Most commands never look at old versions: a checkpoint, a status, a restore of the
    newest files. Yet the first version of a 10,000-file project lists every file, and
    building those 10,000 states took ~8 ms of every open. The columns are unpacked and
    checked when the index is read, so building them later cannot fail."""

    __slots__ = ("_columns", "_paths", "_states")

    def __init__(self, paths: list[str], columns: list[list[Any]]) -> None:
        self._paths = paths
        self._columns = columns  # kept: they share their strings with the states
        self._states: dict[str, FileState] | None = None

    def _built(self) -> dict[str, FileState]:
        states = self._states
        if states is None:  # two threads may both build it: the same states either way
            states = dict(zip(self._paths, map(FileState, *self._columns), strict=True))
            self._states = states
        return states

    def __getitem__(self, path: str) -> FileState:
        return self._built()[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths if self._states is None else self._states)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, path: object) -> bool:
        return path in self._built()

    def keys(self) -> KeysView[str]:
        return self._built().keys()

    def items(self) -> ItemsView[str, FileState]:
        return self._built().items()

    def values(self) -> ValuesView[FileState]:
        return self._built().values()

    def get(self, path: str, default: Any = None) -> Any:
        return self._built().get(path, default)

    def __eq__(self, other: object) -> bool:
        return self._built() == other if isinstance(other, Mapping) else NotImplemented

    __hash__ = None  # type: ignore[assignment]  # a mapping, as a dict

    def __repr__(self) -> str:
        return repr(self._built())


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
