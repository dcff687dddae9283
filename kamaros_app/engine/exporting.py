"""Write the plain files of one version to a `.zip` file or an empty folder."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from . import diskio
from .compact import new_container
from .errors import InvalidArgumentError
from .fsutil import atomic_write_chunks
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
        for path, state in sorted(states.items()):
            target = staging / path
            diskio.makedirs(target.parent)
            atomic_write_chunks(
                target, store.iter_content(state.hash), mode=_mode(state.executable), durable=False
            )
            done += state.size
            reporter.report("Exporting", done, total, item=path)
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


def _remove(leftover: Path) -> None:
    """Remove what an interrupted export left at `leftover`, if anything."""
    if leftover.is_dir() and not leftover.is_symlink():
        diskio.rmtree(leftover)
    elif os.path.lexists(leftover):
        diskio.unlink(leftover)


def _mode(executable: bool) -> int:
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if executable else 0o666) & ~umask
