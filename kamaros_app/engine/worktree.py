"""Walk a project folder: every regular file that is not ignored, with its stat info."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

from .ignore import IgnoreRules
from .layout import KAMAROS_DIR
from .statcache import StatInfo

__all__ = ["Scan", "scan_folder", "scan_folder_until"]

_UNSTORABLE_NAME = re.compile(r"[\x00-\x1f\\]")
"""Control characters and backslashes: legal on Linux, but not portable in a history."""


class Scan:
    """What a walk found. (A plain class: `dataclasses` would add ~10 ms of imports to
    "nothing changed", whose whole budget is 150 ms.)"""

    __slots__ = ("checked", "files", "skipped")

    def __init__(self) -> None:
        self.files: dict[str, StatInfo] = {}
        """Every file found (`scan_folder`; `scan_folder_until` keeps none)."""
        self.checked = 0
        """How many files `scan_folder_until` checked."""
        self.skipped: dict[str, str] = {}
        """Paths that exist but cannot be versioned, with the reason (symlink, odd name...)."""


class _Stop(Exception):
    pass


FileCheck = Callable[[str, os.stat_result], bool]


def scan_folder(root: Path, ignore: IgnoreRules) -> Scan:
    """Every file and skipped path under `root`."""
    scan = Scan()
    _walk(os.fspath(root), "", ignore, scan, None)
    return scan


def scan_folder_until(root: Path, ignore: IgnoreRules, until: FileCheck) -> Scan | None:
    """Like `scan_folder`, but stops and returns None at the first file for which
    `until(path, lstat_result)` is true; keeps only the count of the files checked.

    No `StatInfo` is built and no path kept per file: at 10,000 files that was ~12 ms of
    the ~65 ms walk of "nothing changed" (in process, minimums of 15 runs)."""
    scan = Scan()
    try:
        _walk(os.fspath(root), "", ignore, scan, until)
    except _Stop:
        return None
    return scan


def _walk(
    folder: str, prefix: str, ignore: IgnoreRules, scan: Scan, until: FileCheck | None
) -> None:
    # The hot loop of every status: one scandir per folder and one lstat per entry, with
    # cheap checks first (this walk sets the floor of "nothing changed" at 10,000 files).
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        scan.skipped[prefix.rstrip("/") or "."] = f"cannot list folder: {exc.strerror}"
        return
    files = scan.files
    for entry in entries:
        name = entry.name
        rel = prefix + name
        if not prefix and name == KAMAROS_DIR:
            continue
        if not name.isascii():
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                scan.skipped[shown] = "name is not valid UTF-8"
                continue
        if _UNSTORABLE_NAME.search(name):
            scan.skipped[rel] = "name contains a backslash or control character"
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue  # vanished while we looked
        mode = st.st_mode
        if stat.S_ISREG(mode):
            if not ignore.file_ignored_in_walk(rel, name):
                if until is None:
                    files[rel] = StatInfo(
                        st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, mode
                    )
                elif until(rel, st):
                    raise _Stop
                else:
                    scan.checked += 1
        elif stat.S_ISDIR(mode):
            if not ignore.is_ignored(rel, is_dir=True):
                _walk(entry.path, rel + "/", ignore, scan, until)
        elif stat.S_ISLNK(mode):
            if not ignore.is_ignored(rel, is_dir=False):
                scan.skipped[rel] = "symbolic link (links are not followed or stored)"
        elif not ignore.is_ignored(rel, is_dir=False):
            scan.skipped[rel] = "not a regular file"
