"""Rewrite a container with only what some version needs: garbage collection and export.

The new container is written beside the old one and swapped in with one atomic rename, so a
crash at any moment leaves either the old or the new container, both complete.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import diskio
from .errors import InvalidArgumentError
from .fsutil import fsync_dir
from .layout import (
    BLOB_PREFIX,
    CONTENT_PREFIX,
    MANIFEST_ENTRY,
    MIMETYPE,
    blob_name,
    content_name,
    delta_name,
    parse_delta_name,
)
from .manifest import Manifest
from .progress import Reporter
from .store import ContentStore, content_sizes
from .zipcontainer import DEFLATED, ContainerWriter, ZipEntry

__all__ = ["CompactPlan", "new_container", "plan_compaction", "write_compacted"]

_ENTRY_OVERHEAD = 30 + 46 + 20  # local header + central record + slack, per entry


@dataclass
class CompactPlan:
    keep: list[tuple[ZipEntry, str]] = field(default_factory=list)
    drop: list[str] = field(default_factory=list)
    size_before: int = 0
    size_after_estimate: int = 0

    @property
    def reclaimed_estimate(self) -> int:
        return max(0, self.size_before - self.size_after_estimate)

    def to_json(self) -> dict[str, object]:
        return {
            "sizeBefore": self.size_before,
            "sizeAfter": self.size_after_estimate,
            "reclaimed": self.reclaimed_estimate,
            "dropped": self.drop,
        }


def plan_compaction(store: ContentStore, manifest: Manifest) -> CompactPlan:
    """Choose, for each needed content, one stored form; everything else is garbage."""
    reader = store.reader
    plan = CompactPlan(size_before=os.path.getsize(reader.path))
    chosen: set[str] = set()
    for path in manifest.fileMap:
        chosen.add(content_name(path))
    head_hashes = {e.currentHash for e in manifest.fileMap.values()}
    index = store.index
    for digest in content_sizes(manifest):
        if digest in head_hashes:
            continue
        if digest in index.blobs:
            chosen.add(blob_name(digest))
            continue
        best: tuple[int, str] | None = None
        for base in index.deltas.get(digest, ()):
            depth = index.chain_length(base, head_hashes)
            if depth is not None and (best is None or depth < best[0]):
                best = (depth, base)
        if best is not None:
            chosen.add(delta_name(digest, best[1]))
        # A content with no usable form stays missing; verify reports it.
    for name, entry in reader.entries.items():
        if name == MANIFEST_ENTRY or name == "mimetype":
            continue
        if name in chosen:
            plan.keep.append((entry, name))
        elif name.startswith((CONTENT_PREFIX, BLOB_PREFIX)) or parse_delta_name(name):
            plan.drop.append(name)
        else:
            plan.drop.append(name)  # not part of this profile
    manifest_size = reader.entries[MANIFEST_ENTRY].compressed_size
    plan.size_after_estimate = (
        sum(e.compressed_size + len(n.encode()) * 2 + _ENTRY_OVERHEAD for e, n in plan.keep)
        + manifest_size
        + 200
    )
    return plan


@contextmanager
def new_container(dest: Path, *, mimetype: bytes | None = MIMETYPE) -> Iterator[ContainerWriter]:
    """Write a whole new container beside `dest` and swap it in atomically when the block
    ends; on any error (or Ctrl+C) `dest` is untouched and the temporary file is gone."""
    if dest.exists() and dest.is_dir():
        raise InvalidArgumentError(f"{dest} is a folder")
    tmp = dest.with_name(f".{dest.name}.new-tmp")
    diskio.unlink(tmp, missing_ok=True)
    writer = ContainerWriter.create(tmp, mimetype=mimetype)
    try:
        yield writer
        writer.commit()
        writer.close()
        diskio.replace(tmp, dest)
    except BaseException:
        writer.abort()
        diskio.unlink(tmp, missing_ok=True)
        raise
    # The new container is in place, complete and fsynced, and so was the old one: if the
    # folder cannot be flushed, a power cut can at worst bring back the old one. Failing
    # now would report as not done what is done (SQLite ignores these errors too).
    with contextlib.suppress(OSError):
        fsync_dir(dest.parent)


def write_compacted(
    store: ContentStore, manifest: Manifest, plan: CompactPlan, dest: Path, reporter: Reporter
) -> int:
    """Write the kept entries into `dest` (atomically); returns the new size in bytes."""
    with new_container(dest) as writer:
        total = sum(e.compressed_size for e, _ in plan.keep)
        done = 0
        for entry, name in plan.keep:
            writer.copy_entry(store.reader, entry, name=name)
            done += entry.compressed_size
            reporter.report("Compacting", done, total, item=name)
        writer.add_bytes(MANIFEST_ENTRY, manifest.to_json_bytes(), method=DEFLATED)
        reporter.check()
    return os.path.getsize(dest)
