"""A versioned project folder: the public face of the engine."""

from __future__ import annotations

import contextlib
import errno
import getpass
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import filelock

from .. import __version__
from . import diskio
from .checkpoint import save_checkpoint
from .errors import (
    CancelledError,
    DamagedContainerError,
    DiskFullError,
    InvalidArgumentError,
    LockedError,
    NotAProjectError,
    NothingToSaveError,
    ProjectExistsError,
    ReadOnlyError,
    VersionNotFoundError,
)
from .fsutil import atomic_write_chunks, remove_stale_temp_files
from .history import FileInfo, History, VersionInfo
from .layout import (
    CONTAINER_FILE,
    KAMAROS_DIR,
    LOCK_FILE,
    MANIFEST_ENTRY,
    STAT_CACHE_FILE,
)
from .manifest import Manifest, validate_tag_name
from .manifest_cache import load_manifest
from .open_index import OpenIndex
from .progress import CancelToken, ProgressCallback, Reporter
from .quickstatus import STAT_CACHE_KEY, container_fingerprint
from .restore import (
    RestorePlan,
    apply_plan,
    check_conflicts,
    clear_journal,
    plan_restore,
    read_journal,
    user_paths,
)
from .statcache import CachedFile, StatCache
from .status import FileScan, Status, compute_status, hash_file
from .zipcontainer import DEFLATED, ContainerReader, ContainerWriter

if TYPE_CHECKING:
    # Compacting and comparing are imported when used: a checkpoint needs neither.
    from .compact import CompactPlan
    from .diff import FileDiff, Side

__all__ = ["FileInfo", "GcResult", "Project", "RestoreResult", "VersionInfo"]

MAX_MANIFEST_BYTES = 1 << 30
AUTO_GC_MIN_DEAD_BYTES = 16 * 1024 * 1024


_NOT_WRITABLE = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def _read_only_media(root: Path) -> bool:
    try:
        return bool(os.statvfs(root).f_flag & getattr(os, "ST_RDONLY", 1))
    except (AttributeError, OSError):  # no statvfs (Windows)
        return False


def _default_author() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Project(History):
    """A folder with a `.kamaros/` history. Writable projects hold the writer lock while open."""

    def __init__(self, root: Path, *, read_only: bool, lock: filelock.BaseFileLock | None) -> None:
        super().__init__()
        self.root = root
        self.read_only = read_only
        self._lock = lock
        self._head_fingerprint: str | None = None
        """The container as `_load` found it, taken *before* reading it (see quickstatus)."""
        self._open_index: OpenIndex | None = None
        """The open index of the last `_load`: the next commit's is written against it."""

    # ------------------------------------------------------------ opening and closing

    @staticmethod
    def find_root(start: Path) -> Path:
        """The nearest folder at or above `start` that holds a `.kamaros/` history."""
        start = start.resolve()
        for folder in (start, *start.parents):
            if (folder / CONTAINER_FILE).is_file():
                return folder
        raise NotAProjectError(f"{start} is not a Kamaros project (no {KAMAROS_DIR} folder)")

    @classmethod
    def init(cls, folder: Path, *, author: str | None = None) -> Project:
        folder = folder.resolve()
        if (folder / CONTAINER_FILE).exists():
            raise ProjectExistsError(f"{folder} already has a Kamaros history")
        if folder.exists() and not folder.is_dir():
            raise InvalidArgumentError(f"{folder} is not a folder")
        diskio.makedirs(folder / KAMAROS_DIR)
        lock = cls._acquire(folder)
        try:
            container = folder / CONTAINER_FILE
            if container.exists():
                raise ProjectExistsError(f"{folder} already has a Kamaros history")
            manifest = Manifest.empty(
                author=author or _default_author(), application=f"Kamaros {__version__}"
            )
            from .compact import new_container

            with new_container(container) as writer:
                writer.add_bytes(MANIFEST_ENTRY, manifest.to_json_bytes(), method=DEFLATED)
        except BaseException:
            lock.release()
            raise
        project = cls(folder, read_only=False, lock=lock)
        project._load()
        return project

    @classmethod
    def open(cls, folder: Path, *, read_only: bool = False) -> Project:
        root = cls.find_root(folder)
        lock = None
        cannot_write = None if read_only else cls._cannot_write(root)
        if not read_only and cannot_write is None:
            try:
                lock = cls._acquire(root)
            except OSError as exc:
                if exc.errno not in _NOT_WRITABLE:
                    raise
                cannot_write = exc.strerror
        project = cls(root, read_only=read_only or cannot_write is not None, lock=lock)
        if cannot_write is not None:
            project.notices.append(
                f"{root} cannot be changed here ({cannot_write}): it is open read-only"
            )
        try:
            project._load()
            journal = read_journal(root)
            if journal is not None and journal.get("kind") == "import" and not project.read_only:
                # An import was cut off while writing files: nothing of the person's is in
                # the folder yet, so finishing it is always safe.
                project.extract_head()
                project.notices.append("an interrupted import was finished")
        except BaseException:
            project.close()
            raise
        return project

    @staticmethod
    def _cannot_write(root: Path) -> str | None:
        """Why the history cannot be written (read-only media, no permission), or None."""
        container = root / CONTAINER_FILE
        if not os.access(container, os.W_OK) or not os.access(root / KAMAROS_DIR, os.W_OK):
            return "read-only file system" if _read_only_media(root) else "permission denied"
        return None

    @staticmethod
    def _acquire(root: Path) -> filelock.BaseFileLock:
        lock = filelock.FileLock(str(root / LOCK_FILE), timeout=0, thread_local=False)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise LockedError(
                f"{root} is being changed by another Kamaros window or command; "
                "try again when it has finished"
            ) from None
        return lock

    def _load(
        self, written: Manifest | None = None, committed: ContainerReader | None = None
    ) -> None:
        """(Re)open the container; `written` is the manifest this process just committed
        under the lock, which then need not be read back and parsed, and `committed` a
        reader of that commit built by its writer, so the directory need not be either."""
        if self._reader is not None:
            self._reader.close()
        container = self.root / CONTAINER_FILE
        if not self.read_only:
            self._clean_leftovers()
        self._head_fingerprint = container_fingerprint(container)
        # The index of the commit this one was appended to: the new one is written as a
        # delta against it (open_index.py).
        parent = self._open_index if committed is not None else None
        index = self._open_index = OpenIndex()
        if committed is not None:
            reader = committed
        else:
            reader = ContainerReader.open(container, known_entries=index.entries)
        if reader.torn_tail:
            if self.read_only:
                from .verify import tail_looks_finished

                if tail_looks_finished(container, reader.commit_end):
                    self.notices.append(
                        "the newest save is damaged and cannot be read: showing the checkpoint "
                        "before it (run 'kamaros verify')"
                    )
                else:
                    self.notices.append("the history file ends with an unfinished save (ignored)")
            else:
                reader.close()
                self._roll_back_tail(container, reader.commit_end)
                self._head_fingerprint = container_fingerprint(container)
                reader = ContainerReader.open(container)
        self._reader = reader
        try:
            manifest = load_manifest(
                reader, MAX_MANIFEST_BYTES, written=written, known=index.manifest
            )
        except DamagedContainerError:
            if not reader.has_commit_marker:
                raise
            reader, manifest = self._last_readable_manifest(container, reader)
            self._reader = reader
        else:
            index.save(reader, manifest, parent)
        if manifest.is_newer_format and not self.read_only:
            self.notices.append(
                f"this history was written by a newer Kamaros (format {manifest.formatVersion}); "
                "it is opened read-only"
            )
            self.read_only = True
            if self._lock is not None:
                self._lock.release()
                self._lock = None
        self._manifest = manifest
        self._store = None  # built when first needed (History.store)
        journal = read_journal(self.root)
        if journal is not None and not self.read_only:
            # Only a restore writes into the folder; its half-written files are ours to drop.
            remove_stale_temp_files(self.root)
        if journal is not None and journal.get("kind") == "import":
            if self.read_only:
                self.notices.append(
                    "an import into this folder did not finish; open it for writing to finish it"
                )
        elif journal is not None and not any("interrupted" in n for n in self.notices):
            target = str(journal.get("target", ""))[:8]
            previous = str(journal.get("previous", ""))[:8]
            paths = journal.get("paths")
            again = " ".join([target, *map(str, paths)]) if isinstance(paths, list) else target
            self.notices.append(
                f"a restore to {target} was interrupted: the folder is part old, part new. "
                f"Restore {again} again to finish it, or restore {previous} to go back"
            )

    def _last_readable_manifest(
        self, container: Path, damaged: ContainerReader
    ) -> tuple[ContainerReader, Manifest]:
        """The newest list of checkpoints (manifest.json) cannot be read: go back to the
        newest commit whose manifest reads (each commit keeps its own). A read-only open
        shows that commit; a writer rolls back to it, keeping the cut bytes aside, as for
        any damaged newest save."""
        reader = damaged
        saves = 0
        while True:
            before = reader.location.eocd_offset
            reader.close()
            saves += 1
            try:
                reader = ContainerReader.open(container, before=before)
            except DamagedContainerError:
                raise DamagedContainerError(
                    "the list of checkpoints (manifest.json) is damaged and no earlier copy of "
                    f"it can be read; the newest files can still be unpacked from the content/ "
                    f"folder of {container} with any unzip tool"
                ) from None
            try:
                raw = reader.read_entry(MANIFEST_ENTRY, MAX_MANIFEST_BYTES)
                manifest = Manifest.from_json_bytes(raw)
                break
            except (DamagedContainerError, KeyError):
                continue
        if self.read_only:
            self.notices.append(
                "the newest list of checkpoints is damaged and cannot be read: showing the "
                f"history as it was {saves} save{'s' if saves > 1 else ''} before "
                "(run 'kamaros verify')"
            )
            return reader, manifest
        reader.close()
        self._roll_back_tail(container, reader.commit_end)
        reader = ContainerReader.open(container)
        return reader, load_manifest(reader, MAX_MANIFEST_BYTES)

    def _roll_back_tail(self, container: Path, commit_end: int) -> None:
        """Cut the bytes after the last good commit: an interrupted save.

        If those bytes end like a finished commit, this is damage rather than a crash:
        they are kept in a side file first, so nothing is thrown away unseen.
        """
        from .verify import tail_looks_finished

        damaged = tail_looks_finished(container, commit_end)
        handle = diskio.open_file(container, "r+b")
        try:
            if damaged:
                kept = container.with_name(f"damaged-commit-{int(time.time())}.bin")
                handle.seek(commit_end)
                atomic_write_chunks(kept, iter(partial(handle.read, 1 << 20), b""))
                self.notices.append(
                    "the newest save is damaged and could not be read; the project was opened "
                    f"at the checkpoint before it, and the damaged bytes were kept in {kept}"
                )
            else:
                self.notices.append("an unfinished save was rolled back; no checkpoint was lost")
            diskio.ftruncate(handle.fileno(), commit_end)
            diskio.fsync(handle.fileno())
        finally:
            diskio.close(handle)

    def _clean_leftovers(self) -> None:
        folder = self.root / KAMAROS_DIR
        for leftover in [*folder.glob("*-tmp*"), *folder.glob("cache/*-tmp*")]:
            if leftover.is_file():
                diskio.unlink(leftover, missing_ok=True)

    def close(self) -> None:
        super().close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # ------------------------------------------------------------ state

    @property
    def container_path(self) -> Path:
        return self.root / CONTAINER_FILE

    def _require_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError("this project is open read-only")

    def _cache(self) -> StatCache:
        return StatCache.load(self.root / STAT_CACHE_FILE, key=STAT_CACHE_KEY)

    def _save_cache(self, cache: StatCache, scan: FileScan | None = None) -> None:
        """Save the stat cache; when `scan` found the folder equal to the loaded checkpoint,
        mark it so, which lets the next "nothing changed" skip opening the history."""
        if self.read_only:
            return
        if scan is not None and scan.status.is_clean and not scan.status.skipped:
            cache.retain(frozenset(scan.files))
            cache.mark_clean(self._head_fingerprint)
        with contextlib.suppress(OSError):  # only a cache: the next status re-reads files
            cache.save(self.root / STAT_CACHE_FILE, key=STAT_CACHE_KEY)

    # ------------------------------------------------------------ queries

    def status(
        self, *, progress: ProgressCallback | None = None, cancel: CancelToken | None = None
    ) -> Status:
        cache = self._cache()
        scan = compute_status(self.root, self.manifest.fileMap, cache, Reporter(progress, cancel))
        self._save_cache(cache, scan)
        return scan.status

    # ------------------------------------------------------------ writes

    def checkpoint(
        self,
        message: str,
        *,
        tag: str | None = None,
        author: str | None = None,
        email: str | None = None,
        automatic: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> VersionInfo:
        self._require_writable()
        if tag is not None:
            validate_tag_name(tag)
            if tag in self.manifest.tags:
                raise InvalidArgumentError(f"tag {tag!r} already exists")
        message = message.strip()
        if not message:
            raise InvalidArgumentError("a checkpoint needs a message")
        reporter = Reporter(progress, cancel)
        cache = self._cache()
        scan = compute_status(self.root, self.manifest.fileMap, cache, reporter)
        if scan.status.is_clean:
            self._save_cache(cache, scan)
            raise NothingToSaveError("nothing changed since the last checkpoint")
        new_manifest, result, committed = save_checkpoint(
            root=self.root,
            manifest=self.manifest,
            store=self.store,
            scan=scan,
            cache=cache,
            message=message,
            author=author or self.manifest.metadata.author or _default_author(),
            email=email or "",
            reporter=reporter,
            automatic=automatic,
            tag=tag,
        )
        self._load(written=new_manifest, committed=committed)
        self._compact_if_wasteful(reporter)
        saved_as_scanned = not result.skipped and not scan.status.skipped
        self._save_cache(cache, FileScan(Status(), scan.files) if saved_as_scanned else None)
        return VersionInfo.of(result.version, self.tags_of(result.version.id))

    def dead_bytes(self) -> int:
        """Bytes of the container no commit refers to any more (replaced entries, old
        manifests and central directories): what `gc` would give back, roughly."""
        reader = self.reader
        live = sum(
            e.data_offset - e.header_offset + e.compressed_size for e in reader.entries.values()
        )
        live += reader.location.cd_size + (reader.commit_end - reader.location.eocd_offset)
        return max(0, reader.commit_end - live)

    def _compact_if_wasteful(self, reporter: Reporter) -> None:
        """Automatic gc: appending leaves dead bytes behind; once they outweigh the live
        data (and 16 MiB), rewrite the container. Amortised, this keeps the file within
        about twice its live size and each checkpoint's cost proportional to its changes."""
        if self.manifest.config.get("autoGC", True) is False:
            return
        dead = self.dead_bytes()
        size = self.reader.commit_end
        if dead > AUTO_GC_MIN_DEAD_BYTES and dead > size - dead:
            self.gc(progress=None, cancel=None)
            self.notices.append(f"the history file was compacted ({dead:,} unused bytes freed)")

    def tag(self, ref: str, name: str, *, force: bool = False) -> str:
        self._require_writable()
        validate_tag_name(name)
        version_id = self.resolve(ref)
        tags = dict(self.manifest.tags)
        if name in tags and tags[name] != version_id and not force:
            raise InvalidArgumentError(f"tag {name!r} already names another checkpoint")
        tags[name] = version_id
        self._commit_manifest(self.manifest.with_changes(tags=tags))
        return version_id

    def untag(self, name: str) -> None:
        self._require_writable()
        tags = dict(self.manifest.tags)
        if tags.pop(name, None) is None:
            raise VersionNotFoundError(f"there is no tag {name!r}")
        self._commit_manifest(self.manifest.with_changes(tags=tags))

    def _commit_manifest(self, manifest: Manifest) -> None:
        with ContainerWriter.append_to(self.reader) as writer:  # closed (or rolled back) here
            writer.add_bytes(MANIFEST_ENTRY, manifest.to_json_bytes(), method=DEFLATED)
            writer.commit()
        self._load(written=manifest)  # not read back: the versions keep their encodings

    # ------------------------------------------------------------ restore

    def restore(
        self,
        ref: str,
        paths: Sequence[str] | None = None,
        *,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> RestoreResult:
        """Make the folder (or `paths` in it) equal checkpoint `ref`.

        Unsaved changes are first saved as an automatic checkpoint, and the restored folder
        is recorded as a new checkpoint, so restoring `result.previous_id` undoes it.
        """
        if not dry_run:
            self._require_writable()
        target_id = self.resolve(ref)
        reporter = Reporter(progress, cancel)
        cache = self._cache()
        scan = compute_status(self.root, self.manifest.fileMap, cache, reporter)
        target = self.manifest.state_of(target_id)
        selected = user_paths(paths)
        unsaved = not scan.status.is_clean
        safety_id = None
        if unsaved and not dry_run:
            new_manifest, result, committed = save_checkpoint(
                root=self.root,
                manifest=self.manifest,
                store=self.store,
                scan=scan,
                cache=cache,
                message=f"Automatic safety checkpoint before restoring {target_id[:8]}",
                author=self.manifest.metadata.author or _default_author(),
                email="",
                reporter=reporter,
                automatic=True,
            )
            safety_id = result.version.id
            self._load(written=new_manifest, committed=committed)
            self._save_cache(cache)
            scan = compute_status(self.root, self.manifest.fileMap, cache, reporter)
        # Every file now in the folder is (or, in a dry run, would be) in the newest
        # checkpoint, so each may be replaced or removed; ignored files never are.
        current: dict[str, str | None] = {}
        for path, work in scan.files.items():
            entry = self.manifest.fileMap.get(path)
            known = entry.currentHash if entry and path not in scan.status.modified else None
            current[path] = work.hash or known
        plan = plan_restore(
            target_id=target_id,
            target=target,
            head=current,
            current_hashes=current,
            current_exec={p: w.executable for p, w in scan.files.items()},
            paths=selected,
        )
        check_conflicts(self.root, plan, set(scan.files))
        previous_id = None if dry_run and unsaved else (self.manifest.head or target_id)
        record_id = None
        if not dry_run and not plan.is_empty:
            assert previous_id is not None
            try:
                apply_plan(
                    self.root,
                    plan,
                    self.store,
                    cache,
                    reporter,
                    journal={"target": target_id, "previous": previous_id, "paths": selected},
                )
            except CancelledError:
                raise CancelledError(
                    f"restore cancelled part-way: some files are from {target_id[:8]}, others "
                    f"as before; restore {target_id[:8]} to finish or {previous_id[:8]} to "
                    "go back"
                ) from None
            self._save_cache(cache)
            try:
                record_id = self._record_restore(target_id, plan, selected, cache, reporter)
            except DiskFullError as exc:
                raise DiskFullError(
                    f"the folder was restored to {target_id[:8]}, but the disk is full, so "
                    "the restore could not be saved as a checkpoint; free some space and "
                    "save a checkpoint"
                ) from exc
            self._compact_if_wasteful(reporter)
        elif not dry_run and (selected is None or _same_restore(self.root, target_id, selected)):
            # The folder already is the target: a restore interrupted after its last file
            # was written is finished by this one, so it must stop being reported.
            clear_journal(self.root)
        return RestoreResult(target_id, previous_id, safety_id, record_id, plan, dry_run)

    def _record_restore(
        self,
        target_id: str,
        plan: RestorePlan,
        selected: list[str] | None,
        cache: StatCache,
        reporter: Reporter,
    ) -> str | None:
        """Save the restored folder as a new checkpoint, so history stays one line and
        `status` is clean afterwards (like "restore this version" in a document editor)."""
        scan = compute_status(self.root, self.manifest.fileMap, cache, reporter)
        if scan.status.is_clean:
            return None
        target = next(v for v in self.manifest.versions if v.id == target_id)
        count = len(plan.write) + len(plan.remove)
        what = f"{count} file{'s' if count != 1 else ''} from" if selected else "to"
        title = (target.message.splitlines() or [""])[0]
        title = title if len(title) <= 60 else title[:59].rsplit(" ", 1)[0] + "…"
        message = f"Restored {what} “{title}”"
        new_manifest, result, committed = save_checkpoint(
            root=self.root,
            manifest=self.manifest,
            store=self.store,
            scan=scan,
            cache=cache,
            message=message,
            author=self.manifest.metadata.author or _default_author(),
            email="",
            reporter=reporter,
        )
        self._load(written=new_manifest, committed=committed)
        self._save_cache(cache)
        return result.version.id

    def extract_head(self, reporter: Reporter | None = None) -> None:
        """Write every file of the newest checkpoint into an empty folder (after import)."""
        head_id = self.manifest.head
        if head_id is None:
            return
        states = self.manifest.state_of(head_id)
        plan = plan_restore(
            target_id=head_id,
            target=states,
            head=states,
            current_hashes={},
            current_exec={},
            paths=None,
        )
        cache = self._cache()
        apply_plan(
            self.root,
            plan,
            self.store,
            cache,
            reporter or Reporter(),
            journal={"target": head_id, "previous": head_id, "paths": None, "kind": "import"},
        )
        self._save_cache(cache)

    def interrupted_restore(self) -> dict[str, object] | None:
        """The journal of a restore that did not finish, if any."""
        return read_journal(self.root)

    # ------------------------------------------------------------ comparisons

    def _folder_sides(self, reporter: Reporter) -> dict[str, Side]:
        from .diff import Side

        cache = self._cache()
        scan = compute_status(self.root, self.manifest.fileMap, cache, reporter)
        sides: dict[str, Side] = {}
        for path, work in scan.files.items():
            digest, is_text = work.hash, work.is_text
            if digest is None or is_text is None:
                digest, is_text, st = hash_file(self.root / path, reporter)
                cache.update(path, CachedFile(st, digest, is_text))
            entry = self.manifest.fileMap.get(path)
            sides[path] = Side(
                digest, work.stat.size, is_text, work.executable, entry.inodeId if entry else None
            )
        self._save_cache(cache)
        return sides

    def side_bytes(self, ref: str | None, path: str, content_hash: str) -> bytes:
        """The bytes of one side of a difference: the store, or the folder when `ref` is None."""
        if ref is None:
            return (self.root / path).read_bytes()
        return super().side_bytes(ref, path, content_hash)

    def diff(
        self,
        old: str | None = "HEAD",
        new: str | None = None,
        paths: Sequence[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> list[FileDiff]:
        """Differences from version `old` to version `new`; None means the folder."""
        from .diff import compare_sides

        reporter = Reporter(progress, cancel)
        a = self._folder_sides(reporter) if old is None else self._version_sides(old)
        b = self._folder_sides(reporter) if new is None else self._version_sides(new)
        return compare_sides(a, b, user_paths(paths))

    # ------------------------------------------------------------ maintenance

    def gc(
        self,
        *,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> GcResult:
        """Drop what no version needs and squeeze out replaced bytes."""
        from .compact import plan_compaction, write_compacted

        plan = plan_compaction(self.store, self.manifest)
        if dry_run:
            return GcResult(plan, plan.size_before, plan.size_after_estimate, dry_run=True)
        self._require_writable()
        size_after = write_compacted(
            self.store, self.manifest, plan, self.container_path, Reporter(progress, cancel)
        )
        self._load()
        return GcResult(plan, plan.size_before, size_after, dry_run=False)


def _same_restore(root: Path, target_id: str, selected: list[str]) -> bool:
    """Is the interrupted restore in the journal this partial restore (same target, paths)?"""
    journal = read_journal(root)
    return journal is not None and (journal.get("target"), journal.get("paths")) == (
        target_id,
        selected,
    )


@dataclass(frozen=True)
class RestoreResult:
    target_id: str
    previous_id: str | None
    """Restore this version to undo the restore (None in a dry run with unsaved changes:
    the undo point would be the safety checkpoint, not yet made)."""
    safety_id: str | None
    """The automatic checkpoint of unsaved changes made before the restore, if any."""
    checkpoint_id: str | None
    """The checkpoint that records the restored folder (None when nothing changed)."""
    plan: RestorePlan
    dry_run: bool

    def to_json(self) -> dict[str, object]:
        return {
            "target": self.target_id,
            "undo": self.previous_id,
            "safetyCheckpoint": self.safety_id,
            "checkpoint": self.checkpoint_id,
            "dryRun": self.dry_run,
            "written": [s.path for s in self.plan.write],
            "removed": self.plan.remove,
            "unchanged": self.plan.unchanged,
        }


@dataclass(frozen=True)
class GcResult:
    plan: CompactPlan
    size_before: int
    size_after: int
    dry_run: bool

    def to_json(self) -> dict[str, object]:
        return {
            "dryRun": self.dry_run,
            "sizeBefore": self.size_before,
            "sizeAfter": self.size_after,
            "dropped": self.plan.drop,
        }
