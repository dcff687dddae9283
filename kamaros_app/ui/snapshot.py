"""What the window shows of a project, gathered off the UI thread (no widgets here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kamaros_app.engine import InvalidArgumentError, Project, VersionInfo

__all__ = ["Snapshot", "init_and_load", "load", "save_and_load", "status_text"]


@dataclass(frozen=True)
class Snapshot:
    """A project's history and its folder's changes since the newest checkpoint."""

    root: Path
    versions: list[VersionInfo]
    added: int
    modified: int
    deleted: int
    renamed: int

    @property
    def changed(self) -> int:
        return self.added + self.modified + self.deleted + self.renamed


def _snapshot(project: Project) -> Snapshot:
    status = project.status()
    return Snapshot(
        root=project.root,
        versions=project.log(),
        added=len(status.added),
        modified=len(status.modified),
        deleted=len(status.deleted),
        renamed=len(status.renamed),
    )


def load(folder: Path) -> Snapshot:
    if not folder.is_dir():
        raise InvalidArgumentError(f"{folder} does not exist or is not a folder")
    # Read-only: looking must not take the writer lock away from the command line.
    with Project.open(folder, read_only=True) as project:
        return _snapshot(project)


def init_and_load(folder: Path) -> Snapshot:
    with Project.init(folder) as project:
        return _snapshot(project)


def save_and_load(folder: Path, message: str) -> tuple[VersionInfo, Snapshot]:
    with Project.open(folder) as project:
        version = project.checkpoint(message)
        return version, _snapshot(project)


def status_text(snapshot: Snapshot) -> str:
    """One line for the window: how many files changed since the last checkpoint."""

    def files(n: int) -> str:
        return f"{n} file{'' if n == 1 else 's'}"

    if not snapshot.versions:
        if snapshot.changed == 0:
            return "No checkpoints yet. Add some files to the folder, then Save Checkpoint."
        return f"No checkpoints yet: {files(snapshot.changed)} to save."
    if snapshot.changed == 0:
        return "No changes since the last checkpoint."
    counts = {
        "added": snapshot.added,
        "edited": snapshot.modified,
        "deleted": snapshot.deleted,
        "renamed": snapshot.renamed,
    }
    kinds = [(word, n) for word, n in counts.items() if n]
    if len(kinds) == 1:
        return f"{files(snapshot.changed)} {kinds[0][0]} since the last checkpoint."
    detail = ", ".join(f"{n} {word}" for word, n in kinds)
    return f"{files(snapshot.changed)} changed since the last checkpoint: {detail}."
