"""Things to do with one file of a checkpoint: its history, its context menu, opening it
with another program, and showing where it lives in the file manager."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMenu

from kamaros_app.ui.contents_model import Node
from kamaros_app.ui.dialogs.compare_with import write_temp_copy
from kamaros_app.ui.dialogs.file_history import FileHistoryDialog

if TYPE_CHECKING:
    from kamaros_app.ui.project_window import ProjectWindow

__all__ = [
    "open_containing_folder",
    "open_externally",
    "show_contents_menu",
    "show_file_history",
]


def show_file_history(window: ProjectWindow) -> None:
    """Every checkpoint that changed the current file (following renames), in a window."""
    path = window.checkpoint.current_file()
    selected = window.selected_version
    if path is None or selected is None:
        return
    dialog = FileHistoryDialog(window, window.runner, window.tasks.opener(), selected.id, path)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.file_history_dialog = dialog
    dialog.destroyed.connect(lambda *_: setattr(window, "file_history_dialog", None))
    dialog.show()


def show_contents_menu(window: ProjectWindow, node: Node | None, pos: QPoint) -> None:
    """The context menu of the file tree, for `node` (None: empty space) at `pos` (global)."""
    menu = QMenu(window)
    if node is not None:
        if not node.is_dir:
            menu.addAction(window.act_file_history)
        menu.addAction(window.act_restore_files)
        open_folder = menu.addAction("Open Containing Folder")
        open_folder.triggered.connect(lambda: open_containing_folder(window, node.path))
        open_folder.setEnabled(not window.standalone)
        menu.addSeparator()
    menu.addAction(window.act_export_version)
    window.context_menu = menu
    menu.popup(pos)


def open_containing_folder(window: ProjectWindow, path: str | None = None) -> None:
    """The project folder (or the folder of `path` in it) in the file manager."""
    if window.standalone:
        folder = window.path.parent
    else:
        folder = window.root or window.path
        if path:
            folder = (folder / path).parent
            while not folder.exists() and folder != window.root:
                folder = folder.parent
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def open_externally(window: ProjectWindow) -> None:
    """Write the shown file of the selected checkpoint to a temp file and open it."""
    version, path = window.selected_version, window.checkpoint.diff_path
    if version is None or path is None:
        return

    window.tasks.read(
        lambda history: write_temp_copy(history, version.id, path),
        _open_local,
        lambda exc: window.context.show_error(window, "Could not open the file", exc),
    )


def _open_local(path: Path) -> None:
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
