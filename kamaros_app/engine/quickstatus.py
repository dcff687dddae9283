"""Prove "nothing changed since the newest checkpoint" without opening the history.

Parsing the manifest of a 10,000-file project costs more than walking the folder. When the
last full status found the folder clean, it left a mark in the stat cache: the fingerprint
of the container it compared against (`StatCache.mark_clean`). If the container still has
that fingerprint and every file in the folder still matches its cache entry exactly (and
not racily), the folder is still clean. Any doubt answers False, and the caller does the
full comparison, so this can only make a clean answer faster, never change an answer.
"""

from __future__ import annotations

import os
from pathlib import Path

from .ignore import IgnoreRules
from .layout import CONTAINER_FILE, JOURNAL_FILE, STAT_CACHE_FILE
from .statcache import StatCache
from .worktree import scan_folder_until

__all__ = ["STAT_CACHE_KEY", "container_fingerprint", "folder_matches_head"]

STAT_CACHE_KEY = "1"
"""What the stat cache is built against; a new value discards every existing cache."""

_TAIL_BYTES = 64
"""The end of a container holds its commit marker (a BLAKE3 of the commit)."""


def container_fingerprint(container: Path) -> str | None:
    """Identity, size, mtime and last bytes of the container: any commit, roll-back or
    compaction changes it. None when the file cannot be read."""
    try:
        with open(container, "rb") as handle:
            st = os.fstat(handle.fileno())
            handle.seek(max(0, st.st_size - _TAIL_BYTES))
            tail = handle.read(_TAIL_BYTES)
    except OSError:
        return None
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{tail.hex()}"


def folder_matches_head(root: Path) -> bool:
    """True only if the stat cache proves the folder equals the newest checkpoint."""
    if (root / JOURNAL_FILE).exists():
        return False  # an interrupted restore: the full open reports it
    fingerprint = container_fingerprint(root / CONTAINER_FILE)
    if fingerprint is None:
        return False
    cache = StatCache.load(root / STAT_CACHE_FILE, key=STAT_CACHE_KEY)
    if cache.clean_head != fingerprint:
        return False
    ignore = IgnoreRules.load(root)
    if ignore.warnings:
        return False
    # Stop at the first file the cache cannot vouch for: then a full status follows.
    scan = scan_folder_until(root, ignore, cache.doubts)
    return scan is not None and not scan.skipped and scan.checked == len(cache)
