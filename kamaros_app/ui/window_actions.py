"""The actions of a project window: what each is called, its key, tip and icon, where it
shows (menus, toolbar), and when it is enabled (a disabled action's tooltip says why, in
plain words)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolBar

from kamaros_app.ui import flows
from kamaros_app.ui.icons import icon

if TYPE_CHECKING:
    from kamaros_app.ui.project_window import ProjectWindow

__all__ = ["NOTHING_CHANGED", "build_actions", "build_menus", "build_toolbar", "update_actions"]

NOTHING_CHANGED = "Nothing changed since the last checkpoint"
BUSY = "wait until the current task has finished"


def build_actions(window: ProjectWindow) -> None:
    """Create `window.act_*`, each added to the window so its shortcut works anywhere in it."""
    w = window

    def add(
        text: str,
        slot: Callable[[], object],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        tip: str = "",
        icon_name: str = "",
    ) -> QAction:
        action = QAction(text, w)
        if shortcut is not None:
            keys = QKeySequence(shortcut)
            if keys.isEmpty() and isinstance(shortcut, QKeySequence.StandardKey):
                keys = QKeySequence()
            action.setShortcut(keys)
        action.setStatusTip(tip)
        action.setToolTip(tip or text.rstrip("…"))
        action.triggered.connect(lambda _checked=False: slot())
        w.addAction(action)
        if icon_name:
            action.setIcon(icon(icon_name))
        return action

    w.act_open_folder = add(
        "Open Folder…", lambda: flows.open_folder(w), "Ctrl+O", icon_name="open-folder"
    )
    w.act_open_file = add(
        "Open Project File…", lambda: flows.open_file(w), "Ctrl+Shift+O", icon_name="open-file"
    )
    w.act_export_project = add(
        "Export Project File…",
        lambda: flows.export_project_file(w),
        tip="Write the whole history into one file you can send or back up",
        icon_name="export",
    )
    w.act_open_containing = add(
        "Open Containing Folder",
        lambda: flows.open_containing_folder(w),
        tip="Show the project folder in your file manager",
        icon_name="open-folder",
    )
    w.act_close = add("Close Window", w.close, "Ctrl+W")
    w.act_quit = add("Quit", w.context.quit, "Ctrl+Q")
    w.act_undo = add("Undo Restore", w.undo_restore, "Ctrl+Z", icon_name="undo")
    w.act_find = add(
        "Find",
        lambda: w.history.focus_search(),
        "Ctrl+F",
        "Search the checkpoints",
        icon_name="search",
    )
    w.act_save = add(
        "Save Checkpoint…",
        w.save_checkpoint,
        "Ctrl+S",
        "Keep the folder as it is now, with a message",
        icon_name="save-checkpoint",
    )
    w.act_restore = add(
        "Restore This Checkpoint…",
        w.restore_checkpoint,
        tip="Bring the whole folder back to the selected checkpoint",
        icon_name="restore",
    )
    w.act_restore_files = add(
        "Restore Selected Files…",
        w.restore_selected_files,
        tip="Bring back only the selected files and folders",
    )
    w.act_file_history = add(
        "History of This File…",
        lambda: flows.show_file_history(w),
        "Ctrl+H",
        "Every change to this file",
        icon_name="history",
    )
    w.act_export_version = add(
        "Export This Version…",
        lambda: flows.export_version(w),
        tip="Copy the files of the selected checkpoint to a folder or a zip file",
        icon_name="export",
    )
    w.act_compare = add(
        "Compare With…",
        w.choose_compare_version,
        tip="Compare with another checkpoint",
        icon_name="compare",
    )
    w.act_refresh = add("Refresh", w.refresh, "F5", "Look again for changes", icon_name="refresh")
    w.act_verify = add(
        "Check Project…",
        lambda: flows.check_project(w),
        tip="Read back every stored file and report",
        icon_name="check",
    )
    w.act_cleanup = add(
        "Clean Up Storage…",
        lambda: flows.clean_up(w),
        tip="Give back space the history no longer needs",
        icon_name="clean-up",
    )
    w.act_settings = add(
        "Settings…", lambda: flows.open_settings(w), "Ctrl+,", icon_name="settings"
    )
    w.act_about = add("About Kamaros", lambda: flows.show_about(w))
    w.act_help = add(
        "How Kamaros Works",
        lambda: flows.show_how_it_works(w),
        QKeySequence.StandardKey.HelpContents,
    )
    w.act_extract = add(
        "Extract to Folder…",
        lambda: flows.extract_to_folder(w),
        tip="Make a project folder from this file, to work on it",
        icon_name="open-folder",
    )


def build_menus(window: ProjectWindow) -> None:
    w = window
    menus = w.menuBar()
    file_menu = menus.addMenu("&File")
    file_menu.addActions([w.act_open_folder, w.act_open_file])
    file_menu.addSeparator()
    if w.standalone:
        file_menu.addAction(w.act_extract)
    file_menu.addActions([w.act_export_project, w.act_open_containing])
    file_menu.addSeparator()
    file_menu.addActions([w.act_close, w.act_quit])
    edit_menu = menus.addMenu("&Edit")
    edit_menu.addActions([w.act_undo, w.act_find])
    checkpoint_menu = menus.addMenu("&Checkpoint")
    checkpoint_menu.addAction(w.act_save)
    checkpoint_menu.addSeparator()
    checkpoint_menu.addActions([w.act_restore, w.act_restore_files, w.act_file_history])
    checkpoint_menu.addSeparator()
    checkpoint_menu.addActions([w.act_export_version, w.act_compare])
    project_menu = menus.addMenu("&Project")
    project_menu.addAction(w.act_refresh)
    project_menu.addSeparator()
    project_menu.addActions([w.act_verify, w.act_cleanup])
    project_menu.addSeparator()
    project_menu.addAction(w.act_settings)
    help_menu = menus.addMenu("&Help")
    help_menu.addActions([w.act_help, w.act_about])


def build_toolbar(window: ProjectWindow) -> QToolBar:
    """The main toolbar, added to `window`; Save Checkpoint in bold."""
    w = window
    toolbar = QToolBar("Main")
    toolbar.setObjectName("mainToolbar")
    toolbar.setMovable(False)
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for action in (
        w.act_save,
        None,
        w.act_restore,
        w.act_undo,
        None,
        w.act_export_version,
        w.act_open_containing,
        None,
        w.act_refresh,
    ):
        if action is None:
            toolbar.addSeparator()
        else:
            toolbar.addAction(action)
    w.addToolBar(toolbar)
    save_button = toolbar.widgetForAction(w.act_save)
    if save_button is not None:
        font = save_button.font()
        font.setBold(True)
        save_button.setFont(font)
    return toolbar


def update_actions(window: ProjectWindow) -> None:
    """Enable what can be done now; a disabled action's tooltip says why not."""
    w = window
    busy = w.runner.busy
    writable = not w.read_only
    has_version = w.selected_version is not None
    why_not = w.read_only_reason

    def enable(action: QAction, ok: bool, reason: str, tip: str) -> None:
        action.setEnabled(ok)
        action.setToolTip(tip if ok else reason[:1].upper() + reason[1:])

    if not writable:
        save_reason = why_not
    elif w.changes.status is None:
        save_reason = "looking for changes…"
    elif not w.changes.has_changes and not w.versions:
        save_reason = "Add files to the folder, then Save Checkpoint"
    elif not w.changes.has_changes:
        save_reason = NOTHING_CHANGED
    elif busy:
        save_reason = BUSY
    else:
        save_reason = ""
    enable(
        w.act_save,
        not save_reason,
        save_reason,
        "Keep the folder as it is now, with a message (Ctrl+S)",
    )
    w.save_state.setText(save_reason if writable and w.changes.status else "")
    write_reason = why_not or (BUSY if busy else "")
    enable(
        w.act_restore,
        has_version and not write_reason,
        write_reason or "select a checkpoint first",
        "Bring the whole folder back to the selected checkpoint",
    )
    files = w.checkpoint.selected_paths()
    enable(
        w.act_restore_files,
        has_version and bool(files) and not write_reason,
        write_reason or "select files or folders in the list first",
        "Bring back only the selected files and folders",
    )
    enable(
        w.act_undo,
        w.undo_available and not busy and writable,
        "there is no restore to undo",
        "Bring the folder back as it was before the restore",
    )
    enable(
        w.act_file_history,
        has_version and w.checkpoint.current_file() is not None,
        "select a file first",
        "Every checkpoint that changed this file",
    )
    enable(
        w.act_export_version,
        has_version,
        "select a checkpoint first",
        "Copy the files of the selected checkpoint to a folder or a zip file",
    )
    enable(
        w.act_compare,
        has_version and len(w.versions) > 1,
        "there is no other checkpoint",
        "Compare with another checkpoint",
    )
    enable(
        w.act_export_project,
        bool(w.versions),
        "there are no checkpoints yet",
        "Write the whole history into one file you can send or back up",
    )
    enable(w.act_cleanup, not write_reason, write_reason, "Give back unused space")
    enable(w.act_refresh, True, "", "Look again for changes (F5)")
