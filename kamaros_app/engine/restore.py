"""Bring the folder (or some paths of it) to any checkpoint, forward or back.

Only files that some checkpoint knows are ever written or removed; each file is replaced
atomically with hash-verified bytes. A journal in `.kamaros/` names the target while the
folder is being changed, so an interrupted restore can be reported and finished.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import stat
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import diskio
from .errors import InvalidArgumentError
from .fsutil import (
    WRITEBACK_EVERY,
    atomic_write_bytes,
    atomic_write_chunks,
    current_umask,
    fsync_dir,
)
from .layout import JOURNAL_FILE
from .manifest import FileState, now_iso
from .progress import Reporter
from .statcache import CachedFile, StatCache, StatInfo
from .store import ContentStore

__all__ = [
    "RestorePlan",
    "apply_plan",
    "check_conflicts",
    "clear_journal",
    "plan_restore",
    "read_journal",
    "user_path",
    "user_paths",
]


def user_path(path: str) -> str:
    """A path typed by a person, relative to the project root, cleaned ("./a//b" -> "a/b")."""
    cleaned = posixpath.normpath(path.replace("\\", "/")) if path.strip() else ""
    if not cleaned:
        raise InvalidArgumentError("an empty path was given")
    if cleaned.startswith("/") or cleaned == ".." or cleaned.startswith("../"):
        raise InvalidArgumentError(f"{path} is outside the project folder")
    return cleaned


def user_paths(paths: Iterable[str] | None) -> list[str] | None:
    """Several typed paths; None (or ".") means the whole project."""
    if paths is None:
        return None
    cleaned = [user_path(p) for p in paths]
    return None if not cleaned or "." in cleaned else cleaned


@dataclass
class RestorePlan:
    target_id: str
    write: list[FileState] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def is_empty(self) -> bool:
        return not self.write and not self.remove

    def to_json(self) -> dict[str, object]:
        return {
            "target": self.target_id,
            "write": [s.path for s in self.write],
            "remove": self.remove,
            "unchanged": self.unchanged,
        }


def _selected(path: str, selectors: list[str] | None) -> bool:
    if selectors is None:
        return True
    return any(path == s or path.startswith(s + "/") for s in selectors)


def plan_restore(
    *,
    target_id: str,
    target: Mapping[str, FileState],
    head: Collection[str],
    current_hashes: Mapping[str, str | None],
    current_exec: Mapping[str, bool],
    paths: Iterable[str] | None,
) -> RestorePlan:
    """What to write and remove so the selected paths equal `target`.

    `head` lists the tracked files now in the folder (after the safety checkpoint: all of
    them but ignored ones); only those may be removed, so ignored files are never touched.
    """
    selectors = None if paths is None else [p.strip("/") for p in paths]
    if selectors is not None:
        for selector in selectors:
            known = any(_selected(p, [selector]) for p in (*target, *head))
            if not known:
                raise InvalidArgumentError(f"{selector} is in neither checkpoint")
    plan = RestorePlan(target_id)
    for path, state in sorted(target.items()):
        if not _selected(path, selectors):
            continue
        if current_hashes.get(path) == state.hash and current_exec.get(path) == state.executable:
            plan.unchanged += 1
        else:
            plan.write.append(state)
    for path in sorted(head):
        if path not in target and _selected(path, selectors):
            plan.remove.append(path)
    return plan


def check_conflicts(root: Path, plan: RestorePlan, tracked: set[str]) -> None:
    """Refuse, before touching anything, to overwrite what Kamaros does not track.

    A restored file may need the place of a folder, or a folder the place of a file; that is
    fine when everything in the way is tracked and about to be removed by the plan.
    """
    removing = set(plan.remove)
    blocked: list[str] = []
    for state in plan.write:
        parts = state.path.split("/")
        for depth in range(1, len(parts)):
            ancestor = "/".join(parts[:depth])
            full = root / ancestor
            if os.path.lexists(full) and (full.is_symlink() or not full.is_dir()):
                if ancestor not in removing:
                    blocked.append(ancestor)
                break
        full = root / state.path
        if not os.path.lexists(full):
            continue
        if full.is_dir() and not full.is_symlink():
            for inner in full.rglob("*"):
                rel = inner.relative_to(root).as_posix()
                if (inner.is_symlink() or not inner.is_dir()) and rel not in removing:
                    blocked.append(rel)
        elif state.path not in tracked:
            blocked.append(state.path)
    if blocked:
        shown = ", ".join(sorted(set(blocked))[:5])
        raise InvalidArgumentError(
            f"the restore would overwrite files Kamaros does not keep (ignored or links): "
            f"{shown}; move them away and try again"
        )


def apply_plan(
    root: Path,
    plan: RestorePlan,
    store: ContentStore,
    cache: StatCache,
    reporter: Reporter,
    *,
    journal: Mapping[str, object],
) -> None:
    journal_path = root / JOURNAL_FILE
    atomic_write_bytes(journal_path, json.dumps({**journal, "started": now_iso()}).encode())
    total = sum(s.size for s in plan.write)
    done = 0
    touched_dirs: set[Path] = set()
    for path in plan.remove:
        reporter.check()
        full = root / path
        with contextlib.suppress(FileNotFoundError):
            diskio.unlink(full)
        cache.remove(path)
        touched_dirs.add(full.parent)
    _prune_empty_dirs(root, touched_dirs)  # a removed folder may be where a file goes
    folders: set[Path] = set()  # checked (or made) in this restore: real folders
    for state in plan.write:
        reporter.check()
        full = root / state.path
        _clear_way(root, full, folders)
        mode = _mode_for(full, state.executable)
        with store.content_chunks(state.hash, state.size) as chunks:
            atomic_write_chunks(
                full,
                chunks,
                mode=mode,
                keep_existing_mode=False,
                durable=False,  # made durable all at once below, before the journal goes
                writeback_every=WRITEBACK_EVERY,
            )
        st = StatInfo.from_stat(os.stat(full, follow_symlinks=False))
        cache.update(state.path, CachedFile(st, state.hash, state.type == "text"))
        done += state.size
        reporter.report("Restoring files", done, total, item=state.path)
    # Until here a crash (or power cut) may leave some written files not yet on disk; the
    # journal, still there, then says the restore was interrupted. One flush makes them all
    # durable, and only then does the journal go.
    diskio.sync_filesystem(root)
    clear_journal(root)


def _mode_for(full: Path, executable: bool) -> int:
    try:
        mode = stat.S_IMODE(os.stat(full, follow_symlinks=False).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~current_umask()
    if executable:
        return mode | ((mode & 0o444) >> 2)
    return mode & ~0o111


def _clear_way(root: Path, full: Path, folders: set[Path]) -> None:
    """A restored file may need a folder where an (empty) folder or nothing is now.

    `folders` holds the folders already checked or made by this restore. A later file
    cannot need one of them gone: one version never has a file where it has a folder.
    """
    if full.is_dir() and not full.is_symlink():
        # Only empty folders can be in the way here (check_conflicts saw to the rest).
        for folder in sorted(full.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if folder.is_dir() and not folder.is_symlink():
                diskio.rmdir(folder)
        diskio.rmdir(full)
    parent = full.parent
    if parent in folders:
        return
    for ancestor in [parent, *parent.parents]:
        if ancestor == root:
            break
        if ancestor.exists() and not ancestor.is_dir():
            raise InvalidArgumentError(
                f"{ancestor.relative_to(root)} is a file that no checkpoint knows, where "
                "a folder is needed; move it away and restore again"
            )
    diskio.makedirs(parent)
    folders.add(parent)


def _prune_empty_dirs(root: Path, folders: set[Path]) -> None:
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        current = folder
        while current != root and root in current.parents:
            try:
                diskio.rmdir(current)
            except OSError:
                break
            fsync_dir(current.parent)
            current = current.parent


def read_journal(root: Path) -> dict[str, object] | None:
    try:
        data = json.loads((root / JOURNAL_FILE).read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def clear_journal(root: Path) -> None:
    try:
        diskio.unlink(root / JOURNAL_FILE)
    except FileNotFoundError:
        return
    fsync_dir((root / JOURNAL_FILE).parent)
