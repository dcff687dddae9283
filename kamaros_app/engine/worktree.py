"""Walk a project folder: every regular file that is not ignored, with its stat info."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .ignore import IgnoreRules
from .layout import KAMAROS_DIR
from .statcache import StatInfo

__all__ = ["Scan", "scan_folder"]


@dataclass
class Scan:
    files: dict[str, StatInfo] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    """Paths that exist but cannot be versioned, with the reason (symlink, odd name...)."""


def scan_folder(root: Path, ignore: IgnoreRules) -> Scan:
    scan = Scan()
    _walk(root, "", ignore, scan)
    return scan


def _walk(folder: Path, prefix: str, ignore: IgnoreRules, scan: Scan) -> None:
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        scan.skipped[prefix.rstrip("/") or "."] = f"cannot list folder: {exc.strerror}"
        return
    for entry in entries:
        name = entry.name
        rel = prefix + name
        if not prefix and name == KAMAROS_DIR:
            continue
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            scan.skipped[rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")] = (
                "name is not valid UTF-8"
            )
            continue
        if "\\" in name or any(ord(ch) < 32 for ch in name):
            scan.skipped[rel] = "name contains a backslash or control character"
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue  # vanished while we looked
        if stat.S_ISLNK(st.st_mode):
            if not ignore.is_ignored(rel, is_dir=False):
                scan.skipped[rel] = "symbolic link (links are not followed or stored)"
            continue
        if stat.S_ISDIR(st.st_mode):
            if not ignore.is_ignored(rel, is_dir=True):
                _walk(Path(entry.path), rel + "/", ignore, scan)
        elif stat.S_ISREG(st.st_mode):
            if not ignore.is_ignored(rel, is_dir=False):
                scan.files[rel] = StatInfo.from_stat(st)
        elif not ignore.is_ignored(rel, is_dir=False):
            scan.skipped[rel] = "not a regular file"
