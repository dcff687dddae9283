"""Save a checkpoint: append what changed to the container and publish it with one commit.

Cost is proportional to what changed: unchanged files are neither read (stat cache) nor
rewritten (their `content/` entries keep their place in the ZIP); only new contents, the
outgoing contents of changed files, the manifest and a fresh central directory are written.
"""

from __future__ import annotations

import mimetypes
import os
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import DamagedContainerError, FileChangedError, NothingToSaveError
from .fsutil import read_chunks
from .hashing import ContentHasher
from .layout import MANIFEST_ENTRY, blob_name, content_name, delta_name
from .manifest import ChangeType, FileEntry, FileState, Manifest, RenameEntry, Version, now_iso
from .objects import compress_bytes, compress_chunks
from .prepare import (
    PARALLEL_MAX_BYTES,
    Changed,
    ParallelPreparer,
    PreparedFile,
    choose_method,
    is_racy,
)
from .progress import Reporter
from .statcache import CachedFile, StatCache, StatInfo
from .status import TEXT_MAX_BYTES, FileScan, Status
from .store import ContentStore
from .textdelta import TextSniffer, make_patch
from .zipcontainer import DEFLATED, STORED, ContainerReader, ContainerWriter

__all__ = ["CheckpointResult", "save_checkpoint"]

BLOB_ZSTD_LEVEL = 3
MAX_DELTA_CHAIN = 16
"""At most this many reverse patches in a row; then an old content is stored whole."""
DELTA_MAX_RATIO = 0.5
"""A patch larger than this fraction of its text is not worth it: store the text whole."""
_RETRIES = 3


@dataclass
class CheckpointResult:
    version: Version
    status: Status
    skipped: dict[str, str] = field(default_factory=dict)
    written_bytes: int = 0


@dataclass
class _Written:
    entry: FileEntry
    stat: StatInfo
    text: str | None


def save_checkpoint(
    *,
    root: Path,
    manifest: Manifest,
    store: ContentStore,
    scan: FileScan,
    cache: StatCache,
    message: str,
    author: str,
    email: str,
    reporter: Reporter,
    automatic: bool = False,
    tag: str | None = None,
) -> tuple[Manifest, CheckpointResult, ContainerReader | None]:
    """Write one checkpoint and commit it; returns the new manifest, what was saved, and a
    reader of the new commit (None if one could not be had cheaply: open the file again).
    Raises before commit leave the container exactly as it was (the appended bytes are
    truncated away)."""
    status = scan.status
    if status.is_clean:
        raise NothingToSaveError("nothing changed since the last checkpoint")
    writer = ContainerWriter.append_to(store.reader)
    # Storing outgoing contents records them in the store's index as it goes; if the commit
    # does not happen, those records must go too, or the next checkpoint of this open
    # project would believe the contents kept and let them leave `content/` unkept.
    index = store.index
    blobs, deltas = set(index.blobs), {k: list(v) for k, v in index.deltas.items()}
    try:
        new_manifest, result = _write(
            writer,
            root,
            manifest,
            store,
            scan,
            cache,
            message,
            author,
            email,
            reporter,
            automatic,
            tag,
        )
        reporter.check()
        writer.commit()
    except BaseException:
        writer.abort()
        index.blobs, index.deltas = blobs, deltas
        raise
    reader: ContainerReader | None = None
    try:
        reader = writer.committed_reader()
    except (OSError, DamagedContainerError):
        pass  # committed all the same; the caller reads the file again
    finally:
        writer.close()
    return new_manifest, result, reader


def _write(
    writer: ContainerWriter,
    root: Path,
    manifest: Manifest,
    store: ContentStore,
    scan: FileScan,
    cache: StatCache,
    message: str,
    author: str,
    email: str,
    reporter: Reporter,
    automatic: bool,
    tag: str | None,
) -> tuple[Manifest, CheckpointResult]:
    status = scan.status
    stamp = now_iso()
    version_id = uuid.uuid4().hex
    old_map = manifest.fileMap
    new_map: dict[str, FileEntry] = dict(old_map)
    changes: dict[str, FileState] = {}
    renames: list[RenameEntry] = []
    skipped: dict[str, str] = {}
    texts: dict[str, str] = {}

    for old_path, new_path in status.renamed:
        entry = new_map.pop(old_path)
        new_map[new_path] = entry
        writer.copy_entry(
            store.reader, store.reader.entries[content_name(old_path)], name=content_name(new_path)
        )
        writer.remove(content_name(old_path))
        changes[new_path] = _state(new_path, entry, "renamed", from_path=old_path)
        renames.append(RenameEntry(entry.inodeId, old_path, new_path, version_id, stamp))

    to_write = status.added + status.modified
    sizes = {p: scan.files[p].stat.size for p in to_write}
    progress = _ByteCounter(reporter, sum(sizes.values()))
    # Texts that had a text version before: their new text makes the reverse patch.
    keep_text = frozenset(p for p in to_write if p in old_map and old_map[p].is_text)
    small = [p for p in to_write if sizes[p] <= PARALLEL_MAX_BYTES]
    large = [p for p in to_write if sizes[p] > PARALLEL_MAX_BYTES]

    def record(path: str, written: _Written | None) -> None:
        previous = old_map.get(path)
        if written is None:
            skipped[path] = "vanished while it was being saved"
            if previous is not None:
                new_map.pop(path)
                writer.remove(content_name(path))
                changes[path] = _state(path, previous, "deleted")
            return
        if (
            previous is not None
            and written.entry.currentHash == previous.currentHash
            and (written.entry.executable == previous.executable)
        ):
            new_map[path] = previous  # touched but unchanged: the old entry stays valid
            cache.update(path, CachedFile(written.stat, previous.currentHash, previous.is_text))
            return
        new_map[path] = written.entry
        if written.text is not None:
            texts[path] = written.text
        cache.update(
            path, CachedFile(written.stat, written.entry.currentHash, written.entry.is_text)
        )
        changes[path] = _state(path, written.entry, "added" if previous is None else "modified")

    def unreadable(path: str, exc: OSError) -> None:
        # Not readable (no permission, or locked by another program on Windows): the rest
        # is saved, and the last saved version of this file, if any, stays in the new one.
        skipped[path] = f"cannot be read ({exc.strerror}); its last saved version is kept"

    def stream(path: str) -> None:
        try:
            written = _write_file(writer, root, path, old_map.get(path), stamp, progress)
        except FileNotFoundError:
            written = None
        except PermissionError as exc:
            unreadable(path, exc)
            return
        record(path, written)

    with ParallelPreparer(root, small, sizes, keep_text) as prepared:
        for path, outcome in prepared:
            reporter.check()
            if isinstance(outcome, FileNotFoundError):
                record(path, None)
            elif isinstance(outcome, PermissionError):
                unreadable(path, outcome)
            elif isinstance(outcome, OSError):
                raise outcome
            elif isinstance(outcome, Changed):
                stream(path)  # re-read the streaming way, with retries
            else:
                record(path, _add_prepared(writer, outcome, old_map.get(path), stamp, progress))
    for path in large:
        stream(path)

    for path in status.deleted:
        entry = new_map.pop(path)
        writer.remove(content_name(path))
        changes[path] = _state(path, entry, "deleted")

    if not changes:
        raise NothingToSaveError("nothing changed since the last checkpoint")

    _store_outgoing(writer, store, old_map, new_map, texts, skipped, reporter)

    version = Version(
        id=version_id,
        timestamp=stamp,
        message=message,
        author=author,
        email=email,
        parentId=manifest.head,
        changes=changes,
        automatic=automatic,
    )
    tags = dict(manifest.tags)
    if tag is not None:
        tags[tag] = version_id
    new_manifest = manifest.with_changes(
        fileMap=dict(sorted(new_map.items())),  # as a re-read would give it
        versions=(*manifest.versions, version),
        tags=tags,
        renameLog=(*manifest.renameLog, *renames),
        metadata=replace(manifest.metadata, last_modified=stamp),
    )
    writer.add_bytes(MANIFEST_ENTRY, new_manifest.to_json_bytes(), method=DEFLATED)
    result = CheckpointResult(version, status, skipped, progress.done)
    return new_manifest, result


def _state(
    path: str, entry: FileEntry, change: ChangeType, *, from_path: str | None = None
) -> FileState:
    return FileState(
        path=path,
        inodeId=entry.inodeId,
        hash=entry.currentHash,
        size=entry.size,
        changeType=change,
        type=entry.type,
        executable=entry.executable,
        fromPath=from_path,
    )


class _ByteCounter:
    def __init__(self, reporter: Reporter, total: int) -> None:
        self.reporter = reporter
        self.total = total
        self.done = 0

    def advance(self, amount: int, item: str) -> None:
        self.done += amount
        self.reporter.report("Saving files", self.done, self.total, item=item)


_ID_BATCH = 512
_random_ids: list[str] = []
_random_ids_lock = threading.Lock()


def _forget_random_ids() -> None:
    """In a forked child: a pool shared with the parent would hand both the same ids, and
    the lock may have been held by a parent thread that does not exist here."""
    global _random_ids_lock
    _random_ids.clear()
    _random_ids_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_random_ids)


def _new_inode_id() -> str:
    """A random (version 4) UUID, as `uuid.uuid4()` but drawn 512 at a time: each
    `os.urandom` call releases the GIL, and in the middle of a checkpoint whose worker
    threads hold it, every release cost ~24 µs to win it back (0.24 s at 10,000 files)."""
    with _random_ids_lock:
        if not _random_ids:
            pool = os.urandom(16 * _ID_BATCH)
            _random_ids.extend(
                str(uuid.UUID(bytes=pool[i : i + 16], version=4)) for i in range(0, len(pool), 16)
            )
        return _random_ids.pop()


def _file_entry(
    path: str,
    stat: StatInfo,
    digest: str,
    is_text: bool,
    previous: FileEntry | None,
    stamp: str,
) -> FileEntry:
    if previous is not None and previous.is_text == is_text:
        # The same path, so the same guess: keep it. A checkpoint that only modifies files
        # then never loads the system's MIME tables (~5 ms).
        mime = previous.mime
    else:
        mime = mimetypes.guess_type(path)[0] or (
            "text/plain" if is_text else "application/octet-stream"
        )
    return FileEntry(
        type="text" if is_text else "binary",
        inodeId=previous.inodeId if previous else _new_inode_id(),
        currentHash=digest,
        size=stat.size,
        created_at=previous.created_at if previous else stamp,
        modified_at=stamp,
        executable=bool(stat.mode & 0o100),
        mime=mime,
        deltaChain=previous.deltaChain if previous else 0,
    )


def _add_prepared(
    writer: ContainerWriter,
    prepared: PreparedFile,
    previous: FileEntry | None,
    stamp: str,
    progress: _ByteCounter,
) -> _Written:
    st = prepared.stat
    writer.add_compressed(
        content_name(prepared.path),
        prepared.payload,
        method=prepared.method,
        crc=prepared.crc,
        size=st.size,
        date_time=_dos_time(st.mtime_ns),
        mode=0o755 if st.mode & 0o100 else 0o644,
    )
    progress.advance(st.size, prepared.path)
    entry = _file_entry(prepared.path, st, prepared.digest, prepared.is_text, previous, stamp)
    return _Written(entry, st, prepared.text)


def _write_file(
    writer: ContainerWriter,
    root: Path,
    path: str,
    previous: FileEntry | None,
    stamp: str,
    progress: _ByteCounter,
) -> _Written:
    """Stream one file into `content/<path>`; retry while it keeps changing underneath."""
    full = root / path
    for _attempt in range(_RETRIES):
        started = time.time_ns()
        before = StatInfo.from_stat(os.stat(full, follow_symlinks=False))
        keep = previous is not None and previous.is_text and before.size <= TEXT_MAX_BYTES
        tee = _Tee(before.size <= TEXT_MAX_BYTES, keep, progress, path)
        chunks = read_chunks(full)
        first = next(chunks, b"")
        zip_entry = writer.add_chunks(
            content_name(path),
            tee.pass_through(_chain(first, chunks)),
            method=choose_method(path, first),
            date_time=_dos_time(before.mtime_ns),
            mode=0o755 if before.mode & 0o100 else 0o644,
            size_hint=before.size,
        )
        try:
            after = StatInfo.from_stat(os.stat(full, follow_symlinks=False))
            stable = after == before and zip_entry.uncompressed_size == before.size
            if stable and is_racy(after, started):  # a change may hide in the same time step
                stable = _hash_again(full) == tee.hasher.hexdigest()
                stable = (
                    stable and StatInfo.from_stat(os.stat(full, follow_symlinks=False)) == after
                )
        except BaseException:
            # Vanished (or became unreadable) after it was read: what was read must not stay
            # in `content/`, where it would be a file of no checkpoint.
            writer.withdraw(content_name(path))
            raise
        if stable:
            is_text = tee.is_text
            entry = _file_entry(path, before, tee.hasher.hexdigest(), is_text, previous, stamp)
            text = b"".join(tee.kept).decode("utf-8") if is_text and keep else None
            return _Written(entry, before, text)
        writer.withdraw(content_name(path))  # the next attempt may find the file gone
        progress.advance(-zip_entry.uncompressed_size, path)
    raise FileChangedError(f"{path} kept changing while it was being saved; try again")


def _hash_again(full: Path) -> str:
    hasher = ContentHasher()
    for chunk in read_chunks(full):
        hasher.update(chunk)
    return hasher.hexdigest()


class _Tee:
    """Hashes, sniffs and (for text) keeps the chunks flowing into the container."""

    def __init__(self, may_be_text: bool, keep: bool, progress: _ByteCounter, path: str) -> None:
        self.hasher = ContentHasher()
        self.sniffer = TextSniffer() if may_be_text else None
        self.keep = keep
        self.kept: list[bytes] = []
        self.progress = progress
        self.path = path

    @property
    def is_text(self) -> bool:
        return self.sniffer is not None and self.sniffer.is_text

    def pass_through(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.hasher.update(chunk)
            if self.sniffer is not None:
                self.sniffer.feed(chunk)
                if self.keep:
                    self.kept.append(chunk)
            self.progress.advance(len(chunk), self.path)
            yield chunk


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


def _dos_time(mtime_ns: int) -> tuple[int, int, int, int, int, int]:
    t = time.localtime(mtime_ns / 1e9)
    if t.tm_year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (min(t.tm_year, 2107), t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def _store_outgoing(
    writer: ContainerWriter,
    store: ContentStore,
    old_map: Mapping[str, FileEntry],
    new_map: dict[str, FileEntry],
    texts: dict[str, str],
    skipped: dict[str, str],
    reporter: Reporter,
) -> None:
    """Keep every content that leaves `content/` reachable: reverse patch or whole blob."""
    staying = {entry.currentHash for entry in new_map.values()}
    index = store.index
    for path, old in old_map.items():
        digest = old.currentHash
        if digest in staying or index.resolvable(digest, staying):
            continue
        reporter.check()
        successor = new_map.get(path)
        try:
            if _try_delta(writer, store, old, successor, texts.get(path), new_map, path):
                staying.add(digest)
                continue
            data_size = store.size_of(digest)
            writer.add_chunks(
                blob_name(digest),
                compress_chunks(store.iter_content(digest), size=data_size, level=BLOB_ZSTD_LEVEL),
                method=STORED,
                size_hint=data_size,
            )
        except DamagedContainerError as exc:
            # The old bytes are already damaged: do not carry the damage forward.
            skipped[path] = f"previous version could not be kept: {exc}"
            continue
        index.blobs.add(digest)
        staying.add(digest)
        if successor is not None and successor.inodeId == old.inodeId:
            new_map[path] = _with_chain(successor, 0)


def _try_delta(
    writer: ContainerWriter,
    store: ContentStore,
    old: FileEntry,
    successor: FileEntry | None,
    new_text: str | None,
    new_map: dict[str, FileEntry],
    path: str,
) -> bool:
    if (
        successor is None
        or new_text is None
        or not old.is_text
        or successor.inodeId != old.inodeId
        or old.size > TEXT_MAX_BYTES
        or old.deltaChain + 1 > MAX_DELTA_CHAIN
    ):
        return False
    old_text = store.read_text(old.currentHash)
    if not _shares_most_lines(old_text, new_text):
        return False
    patch = make_patch(new_text, old_text).encode("utf-8")
    if len(patch) > DELTA_MAX_RATIO * max(old.size, 1):
        return False
    writer.add_bytes(
        delta_name(old.currentHash, successor.currentHash),
        compress_bytes(patch, BLOB_ZSTD_LEVEL),
        method=STORED,
    )
    store.index.deltas.setdefault(old.currentHash, []).append(successor.currentHash)
    new_map[path] = _with_chain(successor, old.deltaChain + 1)
    return True


def _shares_most_lines(old_text: str, new_text: str) -> bool:
    """Cheap O(n) test: if most old lines are gone, the patch would not pay off, and a
    diff of two unrelated texts is the slow case of the diff algorithm."""
    old_lines = old_text.splitlines(keepends=True)
    if len(old_lines) < 8:
        return True
    kept = set(new_text.splitlines(keepends=True))
    shared = sum(map(kept.__contains__, old_lines))  # C-level: 20,000 lines in ~1 ms
    return shared >= DELTA_MAX_RATIO * len(old_lines)


def _with_chain(entry: FileEntry, chain: int) -> FileEntry:
    return entry._replace(deltaChain=chain)
