"""The JCF manifest: typed records, JSON (de)serialisation and strict validation."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

from .errors import DamagedContainerError, InvalidArgumentError, UnsupportedFormatError
from .hashing import HASH_ALGORITHM
from .native import native_allowed

_orjson: Any
# orjson writes ~10x faster than json, byte for byte the same. It is not used to read: it
# turns integers beyond 64 bits into floats where json keeps them exact.
try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - a dependency; json is the fallback
    _orjson = None

__all__ = [
    "FORMAT_VERSION",
    "ChangeType",
    "FileEntry",
    "FileState",
    "Manifest",
    "Metadata",
    "RenameEntry",
    "Version",
    "check_format_version",
    "now_iso",
    "parse_iso",
    "validate_path",
    "validate_tag_name",
]

FORMAT_VERSION = "2.0.0"
"""Version of the profile in docs/FORMAT.md. Major 2: this project's profile of JCF."""

ChangeType = Literal["added", "modified", "deleted", "renamed"]
_CHANGE_TYPES = ("added", "modified", "deleted", "renamed")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_VERSION_ID = re.compile(r"[0-9a-f]{32}")
_SEMVER = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_WINDOWS_DRIVE = re.compile(r"[A-Za-z]:")
MAX_PATH_BYTES = 4096
# Fast paths for what every manifest is made of: a canonical UUID, a relative path without
# control characters or backslashes. Anything else takes the slow, precise checks (so the
# accepted set is the same; only the common case is cheaper).
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PLAIN_PATH = re.compile(r"[^\x00-\x1f\x7f\\/]+(?:/[^\x00-\x1f\x7f\\/]+)*")


def _plain_identity(inode: object, digest: object, size: object) -> tuple[str, str, int] | None:
    """The fast-path check shared by file records: a canonical UUID, a 64-digit hash and a
    non-negative integer size, typed; None sends the record to the precise, slower checks."""
    if (
        type(inode) is str
        and _CANONICAL_UUID.fullmatch(inode)
        and type(digest) is str
        and _HEX64.fullmatch(digest)
        and type(size) is int
        and size >= 0
    ):
        return inode, digest, size
    return None


def _dumps(data: Any) -> bytes:
    if _orjson is not None and native_allowed():
        try:
            dumped: bytes = _orjson.dumps(data)
            return dumped
        except (_orjson.JSONEncodeError, TypeError):
            pass
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def now_iso() -> str:
    """Current UTC time as ISO 8601 with microseconds and a `Z` suffix."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DamagedContainerError(f"manifest: bad timestamp {text!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def validate_path(path: str, *, what: str = "path") -> str:
    """Accept only safe relative POSIX paths; anything else could escape the project."""
    if (
        len(path) <= MAX_PATH_BYTES // 4  # at most 4 UTF-8 bytes per code point
        and _PLAIN_PATH.fullmatch(path)
        and not _WINDOWS_DRIVE.match(path)
        and "/./" not in f"/{path}/"
        and "/../" not in f"/{path}/"
    ):
        return path
    problem = None
    if not path:
        problem = "is empty"
    elif len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        problem = "is too long"
    elif path.startswith("/") or _WINDOWS_DRIVE.match(path):
        problem = "is absolute"
    elif "\\" in path:
        problem = "contains a backslash"
    elif any(ord(ch) < 32 or ch == "\x7f" for ch in path):
        problem = "contains a control character"
    elif any(part in ("", ".", "..") for part in path.split("/")):
        problem = "has an empty, '.' or '..' component"
    if problem:
        raise DamagedContainerError(f"manifest: {what} {path!r} {problem}")
    return path


def validate_tag_name(name: str) -> str:
    if not name or len(name) > 100:
        raise InvalidArgumentError("a tag name needs 1 to 100 characters")
    if name.lower() == "head" or name.upper().startswith("HEAD~"):
        raise InvalidArgumentError(f"{name!r} is reserved")
    if re.fullmatch(r"[0-9a-fA-F]{4,}", name):
        raise InvalidArgumentError(f"{name!r} looks like a checkpoint id; pick another name")
    if any(ch.isspace() or ord(ch) < 32 for ch in name) or "~" in name:
        raise InvalidArgumentError(
            f"tag {name!r} may not contain spaces, '~' or control characters"
        )
    return name


def check_format_version(value: object) -> bool:
    """Parse `formatVersion`; True when this code may write it, False for a newer version.

    Older (1.x, the original Kamaros layouts) cannot be opened in place: they are imported.
    """
    if not isinstance(value, str) or not _SEMVER.fullmatch(value):
        raise DamagedContainerError(f"manifest: formatVersion {value!r} is not a version number")
    found = tuple(int(p) for p in value.split("."))
    ours = tuple(int(p) for p in FORMAT_VERSION.split("."))
    if found[0] < ours[0]:
        raise UnsupportedFormatError(
            f"this is a JCF {value} file from another Kamaros; bring it in with 'kamaros import'"
        )
    return found <= ours


# ---------------------------------------------------------------- typed field readers


class _Fields:
    """Reads typed fields out of one JSON object, naming the place on error."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise DamagedContainerError(f"manifest: {where} is not an object")
        self.data: dict[str, Any] = data
        self.where = where

    def _fail(self, key: str, expected: str) -> DamagedContainerError:
        return DamagedContainerError(f"manifest: {self.where}.{key} must be {expected}")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, "a string or null")
        return value

    def count(self, key: str, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self._fail(key, "a non-negative integer")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def digest(self, key: str) -> str:
        value = self.text(key)
        if not _HEX64.fullmatch(value):
            raise self._fail(key, "a 64-digit lower-case hex hash")
        return value

    def vid(self, key: str) -> str:
        value = self.text(key)
        if not _VERSION_ID.fullmatch(value):
            raise self._fail(key, "a 32-digit lower-case hex version id")
        return value

    def uuid_(self, key: str) -> str:
        value = self.text(key)
        try:
            uuid.UUID(value)
        except ValueError as exc:
            raise self._fail(key, "a UUID") from exc
        return value

    def obj(self, key: str) -> dict[str, Any]:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise self._fail(key, "an object")
        return value

    def array(self, key: str) -> list[Any]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise self._fail(key, "a list")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        values = self.array(key)
        if not all(isinstance(v, str) for v in values):
            raise self._fail(key, "a list of strings")
        return tuple(values)


# ---------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Metadata:
    author: str
    created_at: str
    last_modified: str
    application: str
    email: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "author": self.author,
            "created_at": self.created_at,
            "last_modified": self.last_modified,
            "application": self.application,
        }
        if self.email:
            out["email"] = self.email
        if self.description:
            out["description"] = self.description
        if self.tags:
            out["tags"] = list(self.tags)
        if self.extra:
            out["extra"] = dict(self.extra)
        return out

    @classmethod
    def from_json(cls, data: object) -> Metadata:
        f = _Fields(data, "metadata")
        return cls(
            author=f.text("author", ""),
            created_at=f.text("created_at"),
            last_modified=f.text("last_modified"),
            application=f.text("application", ""),
            email=f.text("email", ""),
            description=f.text("description", ""),
            tags=f.texts("tags"),
            extra=f.obj("extra"),
        )


class FileEntry(NamedTuple):
    """One file of the newest checkpoint (`fileMap[path]`); its bytes are `content/<path>`.

    This and `FileState` are named tuples, not frozen dataclasses: opening a 10,000-file
    history builds 20,000 of them, at a third of the cost each."""

    type: Literal["text", "binary"]
    inodeId: str
    currentHash: str
    size: int
    modified_at: str
    created_at: str
    executable: bool = False
    mime: str = "application/octet-stream"
    deltaChain: int = 0
    """How many reverse patches in a row this file's older contents were stored as."""

    @property
    def is_text(self) -> bool:
        return self.type == "text"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "inodeId": self.inodeId,
            "currentHash": self.currentHash,
            "size": self.size,
            "mime": self.mime,
            "created_at": self.created_at,
            "modified_at": self.modified_at,
        }
        if self.type == "text":
            out["encoding"] = "utf-8"
        extra: dict[str, Any] = {}
        if self.executable:
            extra["executable"] = True
        if self.deltaChain:
            extra["deltaChain"] = self.deltaChain
        if extra:
            out["extra"] = extra
        return out

    @classmethod
    def from_json(cls, path: str, data: object) -> FileEntry:
        if type(data) is dict and "extra" not in data:  # the common case, checked in one go
            kind = data.get("type")
            inode = data.get("inodeId")
            digest = data.get("currentHash")
            size = data.get("size")
            mime = data.get("mime", "application/octet-stream")
            created = data.get("created_at", "")
            modified = data.get("modified_at", "")
            if (
                (kind == "text" or kind == "binary")
                and (identity := _plain_identity(inode, digest, size)) is not None
                and type(mime) is str
                and type(created) is str
                and type(modified) is str
            ):
                return cls(
                    type=kind,
                    inodeId=identity[0],
                    currentHash=identity[1],
                    size=identity[2],
                    modified_at=modified,
                    created_at=created,
                    mime=mime,
                )
        return cls._checked_from_json(path, data)

    @classmethod
    def _checked_from_json(cls, path: str, data: object) -> FileEntry:
        f = _Fields(data, f"fileMap[{path!r}]")
        kind = f.text("type")
        if kind not in ("text", "binary"):
            raise f._fail("type", '"text" or "binary"')
        extra = _Fields(f.obj("extra"), f"fileMap[{path!r}].extra")
        return cls(
            type="text" if kind == "text" else "binary",
            inodeId=f.uuid_("inodeId"),
            currentHash=f.digest("currentHash"),
            size=f.count("size"),
            mime=f.text("mime", "application/octet-stream"),
            created_at=f.text("created_at", ""),
            modified_at=f.text("modified_at", ""),
            executable=extra.flag("executable"),
            deltaChain=extra.count("deltaChain", 0),
        )


class FileState(NamedTuple):
    """A change to one file in one version (`versionHistory[i].fileStates[path]`)."""

    path: str
    inodeId: str
    hash: str
    size: int
    changeType: ChangeType
    type: Literal["text", "binary"] = "binary"
    executable: bool = False
    fromPath: str | None = None

    @property
    def deleted(self) -> bool:
        return self.changeType == "deleted"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "inodeId": self.inodeId,
            "path": self.path,
            "hash": self.hash,
            "size": self.size,
            "type": self.type,
            "changeType": self.changeType,
        }
        if self.deleted:
            out["deleted"] = True
        if self.executable:
            out["executable"] = True
        if self.fromPath is not None:
            out["fromPath"] = self.fromPath
        return out

    @classmethod
    def from_json(cls, path: str, data: object, where: str) -> FileState:
        if type(data) is dict and data.get("fromPath") is None:  # the common case
            change = data.get("changeType")
            inode = data.get("inodeId")
            digest = data.get("hash")
            size = data.get("size")
            kind = data.get("type", "binary")
            executable = data.get("executable", False)
            if (
                (change == "added" or change == "modified" or change == "deleted")
                and data.get("path", path) == path
                and (identity := _plain_identity(inode, digest, size)) is not None
                and type(kind) is str
                and type(executable) is bool
            ):
                return cls(
                    path=path,
                    inodeId=identity[0],
                    hash=identity[1],
                    size=identity[2],
                    changeType=change,
                    type="text" if kind == "text" else "binary",
                    executable=executable,
                )
        return cls._checked_from_json(path, data, where)

    @classmethod
    def _checked_from_json(cls, path: str, data: object, where: str) -> FileState:
        f = _Fields(data, f"{where}.fileStates[{path!r}]")
        change = f.text("changeType")
        if change not in _CHANGE_TYPES:
            raise f._fail("changeType", "added, modified, deleted or renamed")
        if f.text("path", path) != path:
            raise f._fail("path", "equal to its key")
        kind = f.text("type", "binary")
        from_path = f.opt_text("fromPath")
        if change == "renamed":
            if from_path is None:
                raise f._fail("fromPath", "set for a rename")
            validate_path(from_path, what=f"{f.where}.fromPath")
        return cls(
            path=path,
            inodeId=f.uuid_("inodeId"),
            hash=f.digest("hash"),
            size=f.count("size"),
            changeType=change,  # type: ignore[arg-type]
            type="text" if kind == "text" else "binary",
            executable=f.flag("executable"),
            fromPath=from_path,
        )


@dataclass(frozen=True, slots=True)
class Version:
    """One checkpoint. `changes` holds only what differs from the parent version."""

    id: str
    timestamp: str
    message: str
    author: str
    email: str
    parentId: str | None
    changes: Mapping[str, FileState]
    automatic: bool = False
    encoded: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Encodings of this immutable version, kept for the next write of the manifest
    (`json_bytes`) and of the open index: the first version of a 10,000-file project lists
    every file, ~10 ms to encode each time. Not part of the version's value."""

    def json_bytes(self, tags: list[str]) -> bytes:
        """`to_json(tags)` as compact JSON, encoded once per tag list."""
        cached = self.encoded.get("json")
        if cached is None or cached[0] != tags:
            cached = self.encoded["json"] = (tags, _dumps(self.to_json(tags)))
        data: bytes = cached[1]
        return data

    def to_json(self, tags: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "timestamp": self.timestamp,
            "message": self.message,
            "author": self.author,
            "email": self.email,
            "parentId": self.parentId,
            "fileStates": {p: s.to_json() for p, s in self.changes.items()},
            "tags": tags,
        }
        if self.automatic:
            out["extra"] = {"automatic": True}
        return out

    @classmethod
    def from_json(cls, data: object, index: int) -> Version:
        f = _Fields(data, f"versionHistory[{index}]")
        parent = f.data.get("parentId")
        if parent is not None:
            parent = f.vid("parentId")
        states = {}
        for path, state in f.obj("fileStates").items():
            validate_path(path, what=f"{f.where} path")
            states[path] = FileState.from_json(path, state, f.where)
        extra = _Fields(f.obj("extra"), f"{f.where}.extra")
        return cls(
            id=f.vid("id"),
            timestamp=f.text("timestamp"),
            message=f.text("message", ""),
            author=f.text("author", ""),
            email=f.text("email", ""),
            parentId=parent,
            changes=states,
            automatic=extra.flag("automatic"),
        )


@dataclass(frozen=True, slots=True)
class RenameEntry:
    inodeId: str
    fromPath: str
    toPath: str
    versionId: str
    timestamp: str

    def to_json(self) -> dict[str, Any]:
        return {
            "inodeId": self.inodeId,
            "fromPath": self.fromPath,
            "toPath": self.toPath,
            "versionId": self.versionId,
            "timestamp": self.timestamp,
        }

    @classmethod
    def from_json(cls, data: object, index: int) -> RenameEntry:
        f = _Fields(data, f"renameLog[{index}]")
        return cls(
            inodeId=f.uuid_("inodeId"),
            fromPath=validate_path(f.text("fromPath")),
            toPath=validate_path(f.text("toPath")),
            versionId=f.vid("versionId"),
            timestamp=f.text("timestamp"),
        )


# ---------------------------------------------------------------- the manifest


@dataclass(frozen=True, slots=True)
class Manifest:
    metadata: Metadata
    fileMap: Mapping[str, FileEntry]
    versions: tuple[Version, ...]
    tags: Mapping[str, str]
    renameLog: tuple[RenameEntry, ...] = ()
    config: Mapping[str, Any] = field(default_factory=dict)
    formatVersion: str = FORMAT_VERSION

    @classmethod
    def empty(cls, *, author: str, application: str) -> Manifest:
        stamp = now_iso()
        return cls(
            metadata=Metadata(
                author=author, created_at=stamp, last_modified=stamp, application=application
            ),
            fileMap={},
            versions=(),
            tags={},
        )

    @property
    def head(self) -> str | None:
        return self.versions[-1].id if self.versions else None

    def tags_of(self, version_id: str) -> list[str]:
        return sorted(name for name, vid in self.tags.items() if vid == version_id)

    def with_changes(self, **changes: Any) -> Manifest:
        return replace(self, **changes)

    # -- file states of any version, rebuilt by replaying changes from the first version

    def iter_states(self) -> Iterator[tuple[Version, dict[str, FileState]]]:
        """Yield every version with its complete file list (a fresh dict each time)."""
        state: dict[str, FileState] = {}
        for version in self.versions:
            for path, change in version.changes.items():
                if change.fromPath is not None and change.changeType == "renamed":
                    state.pop(change.fromPath, None)
                if change.deleted:
                    state.pop(path, None)
                else:
                    state[path] = change
            yield version, dict(state)

    def state_of(self, version_id: str) -> dict[str, FileState]:
        for version, state in self.iter_states():
            if version.id == version_id:
                return state
        raise KeyError(version_id)

    # -- JSON

    def to_json_bytes(self) -> bytes:
        tag_lists: dict[str, list[str]] = {}
        for name, vid in sorted(self.tags.items()):
            tag_lists.setdefault(vid, []).append(name)
        refs: dict[str, str] = {"head": self.head or ""}
        refs.update(sorted(self.tags.items()))
        files = self.fileMap
        head = {
            "formatVersion": self.formatVersion,
            "hashAlgorithm": HASH_ALGORITHM,
            "metadata": self.metadata.to_json(),
            # Sorting the keys, not the (key, entry) pairs: tuple comparison is ~4x slower.
            "fileMap": {p: files[p].to_json() for p in sorted(files)},
        }
        tail = {
            "refs": refs,
            "renameLog": [r.to_json() for r in self.renameLog],
            "config": dict(self.config),
        }
        # The same bytes as one dump of the whole object with "versionHistory" between
        # the two halves, but each version's JSON is made once (`Version.json_bytes`).
        history = b",".join(v.json_bytes(tag_lists.get(v.id, [])) for v in self.versions)
        return b"".join(
            (_dumps(head)[:-1], b',"versionHistory":[', history, b"],", _dumps(tail)[1:])
        )

    @classmethod
    def from_json_bytes(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise DamagedContainerError(f"manifest.json is not valid JSON: {exc}") from exc
        top = _Fields(data, "manifest")
        version = top.data.get("formatVersion")
        if check_format_version(version):
            return cls._parse(top, str(version))
        try:
            return cls._parse(top, str(version))
        except DamagedContainerError as exc:
            raise UnsupportedFormatError(
                f"this container was written in JCF format {version}, newer than this Kamaros "
                f"({FORMAT_VERSION}), and cannot be read: {exc}"
            ) from exc

    @property
    def is_newer_format(self) -> bool:
        """True when written by a newer Kamaros: such a project opens read-only."""
        return not check_format_version(self.formatVersion)

    @classmethod
    def _parse(cls, top: _Fields, version: str) -> Manifest:
        algorithm = top.text("hashAlgorithm", "")
        if algorithm != HASH_ALGORITHM:
            raise UnsupportedFormatError(
                f"this container names its contents with {algorithm or 'an unnamed hash'}; "
                f"format 2 uses {HASH_ALGORITHM}"
            )
        file_map = {}
        for path, entry in top.obj("fileMap").items():
            validate_path(path, what="fileMap path")
            file_map[path] = FileEntry.from_json(path, entry)
        versions = tuple(Version.from_json(v, i) for i, v in enumerate(top.array("versionHistory")))
        ids = {v.id for v in versions}
        if len(ids) != len(versions):
            raise DamagedContainerError("manifest: two versions share one id")
        for i, v in enumerate(versions):
            expected = versions[i - 1].id if i else None
            if v.parentId != expected:
                raise DamagedContainerError(
                    f"manifest: version {v.id} does not follow its predecessor"
                )
        refs = _Fields(top.obj("refs"), "refs")
        head = refs.text("head", "")
        if head != (versions[-1].id if versions else ""):
            raise DamagedContainerError("manifest: refs.head is not the newest version")
        tags = {}
        for name, vid in refs.data.items():
            if name == "head":
                continue
            if not isinstance(vid, str) or vid not in ids:
                raise DamagedContainerError(f"manifest: tag {name!r} names no version")
            tags[name] = vid
        renames = tuple(RenameEntry.from_json(r, i) for i, r in enumerate(top.array("renameLog")))
        return cls(
            metadata=Metadata.from_json(top.data.get("metadata")),
            fileMap=file_map,
            versions=versions,
            tags=tags,
            renameLog=renames,
            config=top.obj("config"),
            formatVersion=version,
        )
