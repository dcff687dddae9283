"""What every window offers whatever project it shows: open another folder or project file,
the settings, and the help texts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMessageBox

from kamaros_app import __version__
from kamaros_app.ui.dialogs.settings_dialog import SettingsDialog

if TYPE_CHECKING:
    from kamaros_app.ui.project_window import ProjectWindow

__all__ = ["open_file", "open_folder", "open_settings", "show_about", "show_how_it_works"]


def open_folder(window: ProjectWindow) -> None:
    folder = QFileDialog.getExistingDirectory(window, "Open Folder", str(window.path.parent))
    if folder:
        window.context.open_path(Path(folder))


def open_file(window: ProjectWindow) -> None:
    chosen, _ = QFileDialog.getOpenFileName(
        window,
        "Open Project File",
        str(window.path.parent),
        "Kamaros project files (*.jcf);;All files (*)",
    )
    if chosen:
        window.context.open_path(Path(chosen))


def open_settings(window: ProjectWindow) -> None:
    SettingsDialog(window.context, window).exec()


def show_about(window: ProjectWindow) -> None:
    QMessageBox.about(
        window,
        "About Kamaros",
        f"<b>Kamaros {__version__}</b><p>A visual version history for any project "
        "folder: save checkpoints, look back, compare and bring back any version.</p>",
    )


def show_how_it_works(window: ProjectWindow) -> None:
    QMessageBox.information(
        window,
        "How Kamaros Works",
        "<p><b>Save Checkpoint</b> (Ctrl+S) keeps the folder as it is now, with a "
        "message.</p><p><b>History</b> lists every checkpoint; select one to see its "
        "files and what changed. Coloured marks: + added, • edited, − deleted, "
        "→ renamed.</p><p><b>Restore</b> brings back a whole checkpoint or the selected "
        "files. Unsaved changes are saved first, and Undo Restore (Ctrl+Z) goes back.</p>",
    )
