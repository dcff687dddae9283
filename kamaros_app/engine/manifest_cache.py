"""Parsed manifests kept in memory, so a window that reopens a project per query is quick."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable

from .layout import MANIFEST_ENTRY
from .manifest import Manifest
from .zipcontainer import ContainerReader

__all__ = ["load_manifest"]

_CACHE_SIZE = 8
_MARKER_BYTES = 32
_lock = threading.Lock()
_cache: OrderedDict[tuple[object, ...], Manifest] = OrderedDict()


def load_manifest(
    reader: ContainerReader,
    max_bytes: int,
    *,
    written: Manifest | None = None,
    known: Callable[[ContainerReader], Manifest | None] | None = None,
) -> Manifest:
    """The manifest of the commit `reader` sees. Manifests are immutable per commit, and a
    commit is identified by the file's identity plus where that commit ends in it.

    `written`: the caller committed this manifest itself, as the newest commit, while
    holding the writer lock; it is remembered for that commit instead of being re-read.
    `known(reader)` may return the manifest as parsed and checked before (open_index.py).
    """
    entry = reader.entries.get(MANIFEST_ENTRY)
    if entry is None or not reader.has_commit_marker:
        if written is not None:
            return written
        return Manifest.from_json_bytes(reader.read_entry(MANIFEST_ENTRY, max_bytes))
    st = os.stat(reader.path)
    with open(reader.path, "rb") as handle:  # the marker: BLAKE3 of this commit's directory
        handle.seek(reader.commit_end - _MARKER_BYTES)
        marker = handle.read(_MARKER_BYTES)
    key = (st.st_dev, st.st_ino, reader.commit_end, marker, entry.header_offset, entry.crc32)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    if written is not None:
        manifest = written
    else:
        found = known(reader) if known is not None else None
        if found is not None:
            manifest = found
        else:
            manifest = Manifest.from_json_bytes(reader.read_entry(MANIFEST_ENTRY, max_bytes))
    with _lock:
        _cache[key] = manifest
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return manifest
