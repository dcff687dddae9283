"""What changed in the folder since the newest checkpoint, reading as few bytes as possible."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from .fsutil import read_chunks
from .hashing import ContentHasher
from .ignore import IgnoreRules
from .manifest import FileEntry
from .progress import Reporter
from .statcache import CachedFile, StatCache, StatInfo
from .textdelta import TextSniffer
from .worktree import scan_folder

__all__ = ["FileScan", "Status", "WorkFile", "compute_status", "hash_file"]

TEXT_MAX_BYTES = 16 * 1024 * 1024
"""Files larger than this are stored as binary (no text patches, no text diff)."""


class WorkFile(NamedTuple):
    """One file in the folder; `hash` is None when it was not worth reading (a new file).
    A named tuple for speed, as `StatInfo`."""

    path: str
    stat: StatInfo
    hash: str | None
    is_text: bool | None

    @property
    def executable(self) -> bool:
        return bool(self.stat.mode & 0o100)


@dataclass(frozen=True)
class Status:
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.added) + len(self.modified) + len(self.deleted) + len(self.renamed)

    @property
    def is_clean(self) -> bool:
        return self.total == 0

    def to_json(self) -> dict[str, object]:
        return {
            "clean": self.is_clean,
            "added": self.added,
            "modified": self.modified,
            "deleted": self.deleted,
            "renamed": [{"from": a, "to": b} for a, b in self.renamed],
            "skipped": [{"path": p, "reason": r} for p, r in sorted(self.skipped.items())],
        }


@dataclass
class FileScan:
    status: Status
    files: dict[str, WorkFile]


def hash_file(path: Path, reporter: Reporter | None = None) -> tuple[str, bool, StatInfo]:
    """Hash one file; raise FileChangedError-worthy OSError if it cannot be read."""
    before = StatInfo.from_stat(os.stat(path, follow_symlinks=False))
    hasher = ContentHasher()
    sniffer = TextSniffer() if before.size <= TEXT_MAX_BYTES else None
    for chunk in read_chunks(path):
        hasher.update(chunk)
        if sniffer is not None:
            sniffer.feed(chunk)
        if reporter is not None:
            reporter.check()
    is_text = sniffer is not None and sniffer.is_text
    return hasher.hexdigest(), is_text, before


def compute_status(
    root: Path,
    file_map: Mapping[str, FileEntry],
    cache: StatCache,
    reporter: Reporter,
) -> FileScan:
    """Compare the folder with `file_map`; updates `cache` with everything it hashed."""
    ignore = IgnoreRules.load(root)
    scan = scan_folder(root, ignore)
    files: dict[str, WorkFile] = {}
    added: list[str] = []
    modified: list[str] = []
    to_hash: list[str] = []
    unsettled: list[str] = []  # not vouched for by the cache: classified after hashing
    lookup = cache.lookup
    for path, st in scan.files.items():
        known = file_map.get(path)
        cached = lookup(path, st)
        if cached is not None:
            vouched = files[path] = WorkFile(path, st, cached.hash, cached.is_text)
            if known is None:
                added.append(path)
            elif _differs(vouched, known):
                modified.append(path)
            continue
        files[path] = WorkFile(path, st, None, None)
        unsettled.append(path)
        if known is not None and known.size == st.size:
            to_hash.append(path)  # same size: only the bytes can tell (a new size is a change)
    deleted = [p for p in file_map if p not in files]
    deleted_sizes = {file_map[p].size for p in deleted}
    # A new file can only be a rename of a deleted one of the same size: hash only those.
    to_hash.extend(
        p for p in unsettled if p not in file_map and files[p].stat.size in deleted_sizes
    )
    total = sum(files[p].stat.size for p in to_hash)
    done = 0
    for path in to_hash:
        try:
            digest, is_text, st = hash_file(root / path, reporter)
        except FileNotFoundError:
            files.pop(path, None)
            if path in file_map:
                deleted.append(path)
            continue
        files[path] = WorkFile(path, st, digest, is_text)
        cache.update(path, CachedFile(st, digest, is_text))
        done += st.size
        reporter.report("Checking files", done, total, item=path)
    for path in unsettled:
        work = files.get(path)
        if work is None:
            continue  # vanished while it was hashed
        known = file_map.get(path)
        if known is None:
            added.append(path)
        elif _differs(work, known):
            modified.append(path)
    renamed = _pair_renames(added, deleted, files, file_map)
    paired_from = {a for a, _ in renamed}
    paired_to = {b for _, b in renamed}
    status = Status(
        added=sorted(p for p in added if p not in paired_to),
        modified=sorted(modified),
        deleted=sorted(p for p in deleted if p not in paired_from),
        renamed=sorted(renamed),
        skipped=scan.skipped,
    )
    return FileScan(status, files)


def _differs(work: WorkFile, known: FileEntry) -> bool:
    """Whether a file in the folder is a change to its checkpointed entry (an unread file
    of a new size always is)."""
    return (
        work.hash is None or work.hash != known.currentHash or work.executable != known.executable
    )


def _pair_renames(
    added: list[str],
    deleted: list[str],
    files: Mapping[str, WorkFile],
    file_map: Mapping[str, FileEntry],
) -> list[tuple[str, str]]:
    """Pair deleted and added files with identical content, preferring equal file names."""
    by_hash: dict[str, list[str]] = {}
    for path in sorted(deleted):
        by_hash.setdefault(file_map[path].currentHash, []).append(path)
    pairs: list[tuple[str, str]] = []
    for path in sorted(added):
        digest = files[path].hash
        candidates = by_hash.get(digest or "")
        if not candidates:
            continue
        name = path.rsplit("/", 1)[-1]
        same_name = [c for c in candidates if c.rsplit("/", 1)[-1] == name]
        source = (same_name or candidates)[0]
        candidates.remove(source)
        pairs.append((source, path))
    return pairs
