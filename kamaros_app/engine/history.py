"""Read-only access to a history: versions, their files, their bytes and differences.

`History` is what a standalone `.jcf` opens as; `Project` extends it with the folder.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from .errors import InvalidArgumentError, UnsupportedFormatError, VersionNotFoundError
from .layout import MANIFEST_ENTRY
from .manifest import FileState, Manifest, Version, parse_iso
from .progress import CancelToken, ProgressCallback, Reporter
from .refs import resolve_ref
from .restore import user_path, user_paths
from .store import ContentStore
from .zipcontainer import ContainerReader

if TYPE_CHECKING:
    # Comparing, verifying and exporting are imported when used: a checkpoint needs none.
    from .diff import FileDiff, Side
    from .verify import VerifyReport

__all__ = ["FileInfo", "History", "VersionInfo"]

MAX_STANDALONE_MANIFEST = 256 * 1024 * 1024


@dataclass(frozen=True)
class VersionInfo:
    """A checkpoint as the outside world sees it."""

    id: str
    parent_id: str | None
    timestamp: datetime
    message: str
    author: str
    email: str
    tags: tuple[str, ...]
    added: int
    modified: int
    deleted: int
    renamed: int
    automatic: bool
    paths: tuple[str, ...] = ()
    """The files this checkpoint changed (new paths, and old paths of renames)."""

    @property
    def short_id(self) -> str:
        return self.id[:8]

    @classmethod
    def of(cls, version: Version, tags: Sequence[str]) -> VersionInfo:
        counts = {"added": 0, "modified": 0, "deleted": 0, "renamed": 0}
        for state in version.changes.values():
            counts[state.changeType] += 1
        return cls(
            id=version.id,
            parent_id=version.parentId,
            timestamp=parse_iso(version.timestamp),
            message=version.message,
            author=version.author,
            email=version.email,
            tags=tuple(tags),
            automatic=version.automatic,
            paths=tuple(
                sorted(
                    {
                        *version.changes,
                        *(s.fromPath for s in version.changes.values() if s.fromPath),
                    }
                )
            ),
            **counts,
        )

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "parentId": self.parent_id,
            "timestamp": self.timestamp.isoformat(),
            "message": self.message,
            "author": self.author,
            "email": self.email,
            "tags": list(self.tags),
            "automatic": self.automatic,
            "changes": {
                "added": self.added,
                "modified": self.modified,
                "deleted": self.deleted,
                "renamed": self.renamed,
            },
        }


@dataclass(frozen=True)
class FileInfo:
    """One file of a version."""

    path: str
    size: int
    hash: str
    type: str
    executable: bool
    inode_id: str

    @classmethod
    def of(cls, state: FileState) -> FileInfo:
        return cls(state.path, state.size, state.hash, state.type, state.executable, state.inodeId)

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "size": self.size,
            "hash": self.hash,
            "type": self.type,
            "executable": self.executable,
        }


class History:
    """The versions in one container, read-only. Use as a context manager."""

    def __init__(self) -> None:
        self._reader: ContainerReader | None = None
        self._manifest: Manifest | None = None
        self._store: ContentStore | None = None
        self.notices: list[str] = []
        self.read_only = True

    @classmethod
    def open_file(cls, path: Path) -> History:
        """Open a standalone `.jcf` from anywhere, with every safety check on."""
        from .importer import detect_kind

        reader = ContainerReader.open(path, untrusted=True)
        try:
            kind, _ = detect_kind(reader)
            if kind != "jcf2":
                raise UnsupportedFormatError(
                    "this is an archive from the original Kamaros; use Import to open it"
                )
            manifest = Manifest.from_json_bytes(
                reader.read_entry(MANIFEST_ENTRY, MAX_STANDALONE_MANIFEST)
            )
        except BaseException:
            reader.close()
            raise
        history = cls()
        history._reader = reader
        history._manifest = manifest
        if manifest.is_newer_format:
            history.notices.append(
                f"written by a newer Kamaros (format {manifest.formatVersion}); shown read-only"
            )
        return history

    @property
    def source(self) -> Path:
        """The container file."""
        return self.reader.path

    @property
    def reader(self) -> ContainerReader:
        """The reader of the open commit (without building the content index)."""
        if self._reader is None:
            raise InvalidArgumentError("the history is closed")
        return self._reader

    @property
    def manifest(self) -> Manifest:
        if self._manifest is None:
            raise InvalidArgumentError("the history is closed")
        return self._manifest

    @property
    def store(self) -> ContentStore:
        if self._store is None:
            if self._reader is None or self._manifest is None:
                raise InvalidArgumentError("the history is closed")
            # Built on first use: indexing every name costs ~20 ms at 10,000 files, which
            # a checkpoint would otherwise pay again after its commit for nothing.
            self._store = ContentStore(self._reader, self._manifest)
        return self._store

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._store = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------ queries

    def resolve(self, ref: str) -> str:
        return resolve_ref(self.manifest, ref)

    def tags_of(self, version_id: str) -> list[str]:
        return self.manifest.tags_of(version_id)

    def version_info(self, ref: str) -> VersionInfo:
        version_id = self.resolve(ref)
        for version in self.manifest.versions:
            if version.id == version_id:
                return VersionInfo.of(version, self.tags_of(version.id))
        raise VersionNotFoundError(ref)

    def log(self, path: str | None = None) -> list[VersionInfo]:
        """Checkpoints, newest first; with `path`, only those that changed that file,
        following it back through renames."""
        if path is None:
            return [VersionInfo.of(v, self.tags_of(v.id)) for v in reversed(self.manifest.versions)]
        chosen = self._path_history(user_path(path))
        return [VersionInfo.of(v, self.tags_of(v.id)) for v in reversed(chosen)]

    def _path_history(self, path: str) -> list[Version]:
        """Versions that changed a file (following its renames) or anything in a folder."""
        try:
            return [v for v, _ in self._file_history(path)]
        except InvalidArgumentError:
            prefix = path + "/"
            touched = [
                v
                for v in self.manifest.versions
                if any(
                    p.startswith(prefix) or (s.fromPath or "").startswith(prefix)
                    for p, s in v.changes.items()
                )
            ]
            if not touched:
                raise
            return touched

    def _file_history(self, path: str) -> list[tuple[Version, FileState]]:
        inode = None
        entry = self.manifest.fileMap.get(path)
        if entry is not None:
            inode = entry.inodeId
        else:
            for version in reversed(self.manifest.versions):
                state = version.changes.get(path)
                if state is not None:
                    inode = state.inodeId
                    break
        if inode is None:
            raise InvalidArgumentError(f"{path} was never part of any checkpoint")
        return [
            (version, state)
            for version in self.manifest.versions
            for state in version.changes.values()
            if state.inodeId == inode
        ]

    def files(self, ref: str) -> list[FileInfo]:
        state = self.manifest.state_of(self.resolve(ref))
        return [FileInfo.of(s) for _, s in sorted(state.items())]

    def file_states(self, ref: str) -> dict[str, FileState]:
        return self.manifest.state_of(self.resolve(ref))

    def iter_file(self, ref: str, path: str) -> Iterator[bytes]:
        state = self.file_states(ref).get(path)
        if state is None:
            raise InvalidArgumentError(f"{path} is not part of checkpoint {ref}")
        return self.store.iter_content(state.hash)

    def read_file(self, ref: str, path: str) -> bytes:
        return b"".join(self.iter_file(ref, path))

    def version_changes(self, ref: str) -> dict[str, FileState]:
        """What checkpoint `ref` changed, by path (deleted files included)."""
        version_id = self.resolve(ref)
        version = next(v for v in self.manifest.versions if v.id == version_id)
        return dict(version.changes)

    def parent_of(self, ref: str) -> str | None:
        version_id = self.resolve(ref)
        return next(v.parentId for v in self.manifest.versions if v.id == version_id)

    # ------------------------------------------------------------ comparisons

    def _version_sides(self, ref: str) -> dict[str, Side]:
        from .diff import Side

        return {
            p: Side(s.hash, s.size, s.type == "text", s.executable, s.inodeId)
            for p, s in self.file_states(ref).items()
        }

    def diff_versions(
        self, old: str | None, new: str, paths: Sequence[str] | None = None
    ) -> list[FileDiff]:
        """Differences from version `old` (None: nothing, for a first checkpoint) to `new`."""
        from .diff import compare_sides

        a = {} if old is None else self._version_sides(old)
        return compare_sides(a, self._version_sides(new), user_paths(paths))

    def side_bytes(self, ref: str | None, path: str, content_hash: str) -> bytes:
        """The bytes of one side of a difference (`ref` None means the folder)."""
        if ref is None:
            raise InvalidArgumentError("a history file on its own has no folder to compare with")
        return self.store.read_bytes(content_hash)

    def unified_diff(self, item: FileDiff, old: str | None, new: str | None) -> str:
        from .diff import unified_text

        old_bytes = (
            b""
            if item.old is None
            else self.side_bytes(old, item.old_path or item.path, item.old.hash)
        )
        new_bytes = b"" if item.new is None else self.side_bytes(new, item.path, item.new.hash)
        return unified_text(
            old_bytes, new_bytes, f"a/{item.old_path or item.path}", f"b/{item.path}"
        )

    # ------------------------------------------------------------ maintenance

    def verify(
        self, *, progress: ProgressCallback | None = None, cancel: CancelToken | None = None
    ) -> VerifyReport:
        from .verify import verify_container

        return verify_container(
            self.store.reader, self.manifest, self.store, Reporter(progress, cancel)
        )

    def export_container(
        self,
        dest: Path,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> int:
        """Write a standalone, compacted `.jcf` with the whole history; returns its size."""
        if dest.resolve() == self.source.resolve():
            raise InvalidArgumentError("export needs a file outside the project's .kamaros")
        from .compact import plan_compaction, write_compacted

        plan = plan_compaction(self.store, self.manifest)
        return write_compacted(self.store, self.manifest, plan, dest, Reporter(progress, cancel))

    def export_version(
        self,
        ref: str,
        dest: Path,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> int:
        """Write the plain files of one version to a `.zip` or an empty folder."""
        from .exporting import export_files

        return export_files(self.store, self.file_states(ref), dest, Reporter(progress, cancel))
