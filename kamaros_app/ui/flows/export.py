"""Copies out of the history: one version (to a zip file or a folder), the whole project
(to one .jcf file), and a standalone .jcf file back into a project folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

from kamaros_app.engine import CancelToken, import_container
from kamaros_app.ui.history_model import title_of
from kamaros_app.ui.project_tasks import ProgressFn

if TYPE_CHECKING:
    from kamaros_app.ui.project_window import ProjectWindow

__all__ = ["export_project_file", "export_version", "extract_to_folder"]


def export_version(window: ProjectWindow) -> None:
    """Copy the files of the selected checkpoint to a zip file or a new folder."""
    version = window.selected_version
    if version is None:
        return
    base = (window.root or window.path.parent) if not window.standalone else window.path.parent
    suggested = str(base.parent / f"{base.name}-{version.short_id}.zip")
    chosen, chosen_filter = QFileDialog.getSaveFileName(
        window,
        "Export This Version",
        suggested,
        "Zip file (*.zip);;Folder (a new folder with this name)",
    )
    if not chosen:
        return
    dest = Path(chosen)
    if chosen_filter.startswith("Zip") and dest.suffix.lower() != ".zip":
        dest = dest.with_suffix(".zip")
    opener = window.tasks.opener()

    def work(progress: ProgressFn, cancel: CancelToken) -> int:
        with opener() as history:
            return history.export_version(version.id, dest, progress=progress, cancel=cancel)

    window.tasks.queue_task(
        "Exporting a version",
        work,
        lambda _size: window.statusBar().showMessage(
            f"Exported “{title_of(version)}” to {dest}", 10000
        ),
        "Could not export this version",
    )


def export_project_file(window: ProjectWindow) -> None:
    """Write the whole history into one .jcf file."""
    base = window.root or window.path
    suggested = str(base.parent / f"{base.stem}.jcf")
    chosen, _ = QFileDialog.getSaveFileName(
        window, "Export Project File", suggested, "Kamaros project file (*.jcf)"
    )
    if not chosen:
        return
    dest = Path(chosen)
    if dest.suffix.lower() != ".jcf":
        dest = dest.with_suffix(".jcf")
    opener = window.tasks.opener()

    def work(progress: ProgressFn, cancel: CancelToken) -> int:
        with opener() as history:
            return history.export_container(dest, progress=progress, cancel=cancel)

    window.tasks.queue_task(
        "Exporting the project file",
        work,
        lambda _size: window.statusBar().showMessage(f"Exported the project to {dest}", 10000),
        "Could not export the project file",
    )


def extract_to_folder(window: ProjectWindow) -> None:
    """A standalone project file: make a project folder from it and open that."""
    if not window.standalone:
        return
    parent = QFileDialog.getExistingDirectory(
        window, "Extract to Folder: choose where to put the project", str(window.path.parent)
    )
    if not parent:
        return
    dest = Path(parent) / window.path.stem
    if dest.exists() and any(dest.iterdir()):
        dest = _free_name(dest)
    source = window.path

    def work(progress: ProgressFn, cancel: CancelToken) -> Path:
        project = import_container(source, dest, progress=progress, cancel=cancel)
        project.close()
        return dest

    def extracted(folder: Path) -> None:
        window.statusBar().showMessage(f"Extracted to {folder}", 10000)
        window.context.open_path(folder)

    window.tasks.queue_task(
        "Extracting the project", work, extracted, "Could not extract the project"
    )


def _free_name(folder: Path) -> Path:
    for number in range(2, 1000):
        candidate = folder.with_name(f"{folder.name} ({number})")
        if not candidate.exists():
            return candidate
    return folder
