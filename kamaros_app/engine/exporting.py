"""Write the plain files of one version to a `.zip` file or an empty folder."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from . import diskio
from .compact import new_container
from .errors import InvalidArgumentError
from .fsutil import (
    WRITEBACK_EVERY,
    current_umask,
    write_new_file,
)
from .manifest import FileState
from .progress import Reporter
from .store import ContentStore
from .verify import folder_problems, name_max
from .zipcontainer import DEFLATED, STORED

__all__ = ["export_files"]


def export_files(
    store: ContentStore, states: Mapping[str, FileState], dest: Path, reporter: Reporter
) -> int:
    """Returns the number of files written."""
    total = sum(s.size for s in states.values())
    done = 0
    if dest.suffix.lower() == ".zip":
        if dest.exists():
            raise InvalidArgumentError(f"{dest} already exists")
        with new_container(dest, mimetype=None) as writer:
            for path, state in sorted(states.items()):
                writer.add_chunks(
                    path,
                    store.iter_content(state.hash),
                    method=DEFLATED if state.type == "text" else STORED,
                    mode=0o755 if state.executable else 0o644,
                    size_hint=state.size,
                )
                done += state.size
                reporter.report("Exporting", done, total, item=path)
        return len(states)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InvalidArgumentError(f"{dest} must be a new or empty folder")
    problems = folder_problems(states, limit=name_max(dest))
    if problems:  # a crafted history: refuse before writing anything
        raise InvalidArgumentError(f"these files cannot be written into {dest}: {problems[0]}")
    # The files go into a hidden folder beside `dest`, renamed into place once complete:
    # an interrupted export leaves no folder that looks finished, and the next export to
    # the same place removes what it left.
    stem = dest.name if len(os.fsencode(dest.name)) <= 180 else "export"
    staging = dest.with_name(f".{stem}.new-tmp")
    _remove(staging)
    diskio.makedirs(staging)
    try:
        _write_files(store, states, os.fspath(staging), reporter, total)
        diskio.sync_filesystem(staging)  # every file durable in one flush
        if os.name == "nt" and dest.exists():
            diskio.rmdir(dest)  # elsewhere the rename replaces the empty folder atomically
        diskio.replace(staging, dest)
    except BaseException:
        diskio.rmtree(staging, ignore_errors=True)
        raise
    with contextlib.suppress(OSError):  # the files are complete either way
        diskio.fsync_dir(dest.parent)
    return len(states)


def _write_files(
    store: ContentStore,
    states: Mapping[str, FileState],
    staging: str,
    reporter: Reporter,
    total: int,
) -> None:
    """Write every file into the new, empty folder `staging`.

    Nobody sees `staging` before it is complete, synced and renamed, so each file is created
    in place (no temp file and rename per file), each folder is created once, and paths stay
    strings: at 10,000 small files the per-file overhead, not the bytes, is the cost.
    """
    umask = current_umask()
    modes = (0o666 & ~umask, 0o777 & ~umask)
    # Created with the right mode, a file needs no fchmod, unless a default ACL overrides
    # the umask; then the bits are set explicitly, as a restore sets them.
    set_mode = _has_default_acl(staging)
    made = {staging}
    done = 0
    for path, state in sorted(states.items()):
        target = f"{staging}/{path}"
        folder = target[: target.rfind("/")]
        if folder not in made:
            _make_folders(folder, made)
        try:
            with store.content_chunks(state.hash, state.size) as chunks:
                write_new_file(
                    target,
                    chunks,
                    mode=modes[state.executable],
                    set_mode=set_mode,
                    writeback_every=WRITEBACK_EVERY,
                )
        except FileExistsError:  # two paths that this file system takes for one
            raise InvalidArgumentError(
                f"{path} cannot be written: another file of this version has the same name "
                "on this file system (it ignores the case of letters?)"
            ) from None
        done += state.size
        reporter.report("Exporting", done, total, item=path)


def _make_folders(folder: str, made: set[str]) -> None:
    """Create `folder` and its missing parents inside the staging folder (all in `made`)."""
    missing = []
    while folder not in made:
        missing.append(folder)
        folder = folder[: folder.rfind("/")]
    for name in reversed(missing):
        try:
            diskio.mkdir(name)
        except FileExistsError:
            if not os.path.isdir(name):  # pragma: no cover - folder_problems refuses clashes
                raise
        made.add(name)


def _has_default_acl(folder: str) -> bool:
    listxattr = getattr(os, "listxattr", None)
    if listxattr is None:
        return True  # no way to tell: set the bits explicitly
    try:
        return "system.posix_acl_default" in listxattr(folder)
    except OSError:
        return False  # no extended attributes here, so no ACLs either


def _remove(leftover: Path) -> None:
    """Remove what an interrupted export left at `leftover`, if anything."""
    if leftover.is_dir() and not leftover.is_symlink():
        diskio.rmtree(leftover)
    elif os.path.lexists(leftover):
        diskio.unlink(leftover)
