"""Names of things: the `.kamaros/` folder and the entries inside a JCF container."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "BLOB_PREFIX",
    "CONTAINER_FILE",
    "CONTENT_PREFIX",
    "DELTA_PREFIX",
    "JOURNAL_FILE",
    "KAMAROS_DIR",
    "LOCK_FILE",
    "MANIFEST_ENTRY",
    "MIMETYPE",
    "STAT_CACHE_FILE",
    "TEMP_MARKER",
    "blob_name",
    "content_name",
    "delta_name",
    "parse_delta_name",
]

MIMETYPE = b"application/x-jcf"
KAMAROS_DIR = ".kamaros"
CONTAINER_FILE = Path(KAMAROS_DIR) / "project.jcf"
LOCK_FILE = Path(KAMAROS_DIR) / "lock"
JOURNAL_FILE = Path(KAMAROS_DIR) / "restore-in-progress.json"
STAT_CACHE_FILE = Path(KAMAROS_DIR) / "cache" / "stat-cache.bin"
TEMP_MARKER = ".kamaros-tmp-"
"""Every temp file is named ".<name>.kamaros-tmp-<random hex>" next to its destination."""

MANIFEST_ENTRY = "manifest.json"
CONTENT_PREFIX = "content/"
BLOB_PREFIX = ".store/blobs/"
DELTA_PREFIX = ".store/deltas/"
_DELTA_SUFFIX = ".patch"


def content_name(path: str) -> str:
    return CONTENT_PREFIX + path


def blob_name(content_hash: str) -> str:
    return BLOB_PREFIX + content_hash


def delta_name(target_hash: str, base_hash: str) -> str:
    """A reverse patch: applied to the text `base_hash` it gives the text `target_hash`."""
    return f"{DELTA_PREFIX}{target_hash}.{base_hash}{_DELTA_SUFFIX}"


def parse_delta_name(name: str) -> tuple[str, str] | None:
    if not (name.startswith(DELTA_PREFIX) and name.endswith(_DELTA_SUFFIX)):
        return None
    target, _, base = name[len(DELTA_PREFIX) : -len(_DELTA_SUFFIX)].partition(".")
    return (target, base) if target and base else None
