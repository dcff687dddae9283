"""The window of one project folder (or of a standalone project file, read-only).

It composes its parts, loads the history and the folder's changes, and hands what the person
asks for to the flows. Every engine call runs through `tasks` on the window's TaskRunner:
reads open the project read-only inside the task, writes open it for writing inside the
write, so the lock is held only while writing.

    changes_panel.ChangesPanel       what changed since the last checkpoint (top left)
    history_pane.HistoryPane         the checkpoints and the search field (bottom left)
    checkpoint_view.CheckpointView   the selected checkpoint: header, files, difference
    window_bars                      the project file banner, the notice after a restore
    window_actions                   the actions, their menus and toolbar, when each is enabled
    flows/                           save, restore and undo, export, check, clean up, ...
    project_tasks.ProjectTasks       reads and writes on the TaskRunner, failures reported
    window_layout.WindowLayout       size and splitter positions, remembered
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kamaros_app.engine import Status, VersionInfo
from kamaros_app.ui import flows
from kamaros_app.ui.changes_panel import ChangesPanel, load_status
from kamaros_app.ui.checkpoint_view import CheckpointView
from kamaros_app.ui.dialogs.compare_with import CompareTarget, DiffOutcome
from kamaros_app.ui.dialogs.file_history import FileHistoryDialog
from kamaros_app.ui.errors import explain
from kamaros_app.ui.history_model import HistoryLoad, file_stamp
from kamaros_app.ui.history_pane import HistoryPane
from kamaros_app.ui.progress import ProgressPanel
from kamaros_app.ui.project_tasks import ProjectTasks, open_history
from kamaros_app.ui.window_actions import (
    build_actions,
    build_menus,
    build_toolbar,
    update_actions,
)
from kamaros_app.ui.window_bars import ProjectFileBanner, RestoreNotice
from kamaros_app.ui.window_layout import WindowLayout
from kamaros_app.ui.worker import TaskRunner

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMenu

    from kamaros_app.ui.context import AppContext
    from kamaros_app.ui.dialogs.cleanup import CleanupDialog
    from kamaros_app.ui.dialogs.restore_confirm import RestoreConfirmDialog
    from kamaros_app.ui.dialogs.verify_report import VerifyReportDialog

__all__ = ["ProjectWindow", "open_history"]

FIRST_VIEW_MAX_MS = 10_000
"""`sig_loaded` waits for the first difference to show, but no longer than this."""


class ProjectWindow(QMainWindow):
    """Composes the changes panel, the history pane and the checkpoint view."""

    sig_closed = Signal(object)
    """Emitted with the window itself once it has closed."""
    sig_loaded = Signal()
    """Emitted once, when the history has loaded and the newest checkpoint's first changed
    file is shown (or the load failed, or there is nothing to show)."""

    # The parts (made by _build_widgets).
    changes: ChangesPanel
    history: HistoryPane
    checkpoint: CheckpointView
    left_split: QSplitter
    main_split: QSplitter
    # Made by window_actions.build_actions.
    act_open_folder: QAction
    act_open_file: QAction
    act_export_project: QAction
    act_open_containing: QAction
    act_close: QAction
    act_quit: QAction
    act_undo: QAction
    act_find: QAction
    act_save: QAction
    act_restore: QAction
    act_restore_files: QAction
    act_file_history: QAction
    act_export_version: QAction
    act_compare: QAction
    act_refresh: QAction
    act_verify: QAction
    act_cleanup: QAction
    act_settings: QAction
    act_about: QAction
    act_help: QAction
    act_extract: QAction
    # The last of each, kept by the flows (for tests and accessibility checks).
    restore_dialog: RestoreConfirmDialog
    verify_dialog: VerifyReportDialog
    cleanup_dialog: CleanupDialog
    context_menu: QMenu

    def __init__(self, context: AppContext, path: Path, *, standalone: bool) -> None:
        super().__init__()
        self.context = context
        self.path = Path(path)
        self.standalone = standalone
        self.root: Path | None = None if standalone else self.path
        self.runner = TaskRunner(self)
        self.tasks = ProjectTasks(self)
        self.restorer = flows.RestoreFlow(self)
        self.load_error: BaseException | None = None
        self._loaded = False
        self._history_done = False
        self._source: Path | None = None
        self._stamp: tuple[int, int] | None = None
        self._closing = False
        self._versions: list[VersionInfo] = []
        self._tags: set[str] = set()
        self._selected: VersionInfo | None = None
        self._select_after_load: str | None = None
        self._status_pending = False
        self._status_running = False
        self._read_only_reason = (
            "This is a project file. Extract to Folder… to work on it." if standalone else ""
        )
        self.file_history_dialog: FileHistoryDialog | None = None

        title = f"{self.path.name} (read-only)" if standalone else self.path.name
        self.setWindowTitle(f"{title} — Kamaros")
        self.setMinimumSize(760, 480)
        build_actions(self)
        self._build_widgets()
        build_menus(self)
        splitters = {
            "main_split": self.main_split,
            "left_split": self.left_split,
            "right_split": self.checkpoint.right_split,
        }
        self._window_layout = WindowLayout(self, context.settings, "project-window", splitters)
        self._window_layout.restore(1200, 760)
        self.update_actions()
        self.reload_history()
        if standalone:
            self.changes.show_message(
                "A project file",
                "It holds the history of a project, but no folder to work in.\n"
                "Use Extract to Folder… to start working on it.",
            )
        else:
            self.refresh_changes()

    # ================================================================== construction

    def _build_widgets(self) -> None:
        # Left: changes on top, the history below.
        self.changes = ChangesPanel()
        self.changes.sig_file_activated.connect(self._show_folder_change)
        self.history = HistoryPane()
        self.history.sig_version_selected.connect(self._version_selected)
        self.history.sig_activated.connect(lambda: self.checkpoint.focus_files())
        self.left_split = QSplitter(Qt.Orientation.Vertical)
        self.left_split.setObjectName("leftSplit")
        self.left_split.addWidget(self.changes)
        self.left_split.addWidget(self.history)
        self.left_split.setStretchFactor(1, 3)
        self.left_split.setSizes([180, 460])
        self.left_split.setMinimumWidth(260)

        # Right: the selected checkpoint.
        self.checkpoint = CheckpointView(
            self.tasks, self.act_restore_files, has_folder=not self.standalone
        )
        view = self.checkpoint
        view.sig_files_changed.connect(self.update_actions)
        view.sig_shown.connect(self._first_view_shown)
        view.sig_open_externally.connect(lambda: flows.open_externally(self))
        view.sig_menu_requested.connect(lambda node, at: flows.show_contents_menu(self, node, at))

        # The parts' widgets that tests and accessibility checks reach through the window.
        history = self.history
        self.history_model, self.history_proxy = history.model, history.proxy
        self.history_view, self.search = history.view, history.search
        self.history_stack, self.history_empty = history.stack, history.empty
        self.header_title, self.header_meta = view.header_title, view.header_meta
        self.header_body, self.show_combo = view.header_body, view.show_combo
        self.contents_model, self.contents_view = view.contents_model, view.contents_view
        self.restore_files_button = view.restore_files_button
        self.compare_combo, self.diff = view.compare_combo, view.diff

        self.main_split = QSplitter(Qt.Orientation.Horizontal)
        self.main_split.setObjectName("mainSplit")
        self.main_split.addWidget(self.left_split)
        self.main_split.addWidget(view)
        self.main_split.setStretchFactor(1, 3)
        self.main_split.setSizes([330, 870])
        self.main_split.setChildrenCollapsible(False)

        # Bars above and below.
        self.banner = ProjectFileBanner(self.act_extract)
        self.banner_label = self.banner.label
        self.banner.setVisible(self.standalone)
        self.changes.setVisible(not self.standalone)  # a project file has no folder
        self.notice = RestoreNotice()
        self.notice_label, self.notice_undo = self.notice.label, self.notice.undo_button
        self.notice_undo.clicked.connect(self.undo_restore)
        self.progress = ProgressPanel(self.runner)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.notice)
        layout.addWidget(self.main_split, 1)
        layout.addWidget(self.progress)
        self.setCentralWidget(central)

        self.toolbar = build_toolbar(self)
        self.save_state = QLabel("")
        self.statusBar().addPermanentWidget(self.save_state)
        self.runner.sig_busy_changed.connect(lambda _busy: self.update_actions())

        QWidget.setTabOrder(self.changes.list, self.search)
        QWidget.setTabOrder(self.search, self.history_view)
        QWidget.setTabOrder(self.history_view, self.show_combo)
        QWidget.setTabOrder(self.show_combo, self.contents_view)
        QWidget.setTabOrder(self.contents_view, self.restore_files_button)
        QWidget.setTabOrder(self.restore_files_button, self.compare_combo)
        QWidget.setTabOrder(self.compare_combo, self.diff)

    # ================================================================== state

    @property
    def loaded(self) -> bool:
        return self._loaded

    @property
    def selected_version(self) -> VersionInfo | None:
        return self._selected

    @property
    def versions(self) -> list[VersionInfo]:
        """Every checkpoint, newest first (empty until the history has loaded)."""
        return self._versions

    @property
    def tags(self) -> set[str]:
        return self._tags

    @property
    def compare_target(self) -> CompareTarget:
        return self.checkpoint.compare_target

    @property
    def diff_outcome(self) -> DiffOutcome | None:
        """What the difference view shows now (for tests and accessibility checks)."""
        return self.checkpoint.diff_outcome

    @property
    def read_only(self) -> bool:
        return bool(self._read_only_reason)

    @property
    def read_only_reason(self) -> str:
        """Why nothing can be changed here, in plain words ("" when writable)."""
        return self._read_only_reason

    @property
    def undo_available(self) -> bool:
        return self.restorer.undo_id is not None

    def update_actions(self) -> None:
        update_actions(self)

    # ================================================================== history

    def reload_history(self, select_id: str | None = None) -> None:
        """Read the list of checkpoints again; select `select_id` (or keep the selection)."""
        if select_id is not None:
            self._select_after_load = select_id
        self.tasks.read(HistoryLoad, self._history_loaded, self._history_failed)

    def _history_loaded(self, load: HistoryLoad) -> None:
        if load.root is not None:
            self.root = load.root
        self._source, self._stamp = load.source, load.stamp
        if load.newer_format and not self.standalone:
            self._read_only_reason = (
                "this project was saved by a newer version of Kamaros; update Kamaros to change it"
            )
        self._versions = load.versions
        self._tags = load.tags
        self.checkpoint.set_versions(load.versions)
        keep = self._select_after_load or (self._selected.id if self._selected else None)
        self._select_after_load = None
        if not load.versions:
            self._selected = None
        self.history.set_versions(load.versions, keep)
        if not load.versions:
            self.checkpoint.clear(
                "Nothing to show yet.\n\nAfter your first checkpoint, its files and what "
                "changed show here."
            )
        elif not self._loaded:
            self.history_view.setFocus()
        for notice in load.notices:
            self.statusBar().showMessage(notice[0].upper() + notice[1:], 15000)
        self.update_actions()
        self._history_done = True
        if not load.versions:
            self._finish_first_load()
        elif not self._loaded:  # loaded = the first checkpoint's difference is on screen
            QTimer.singleShot(FIRST_VIEW_MAX_MS, self._finish_first_load)

    def _history_failed(self, exc: BaseException) -> None:
        self.history.show_message("The history could not be read.\n\n" + explain(exc))
        self.checkpoint.show_empty("")
        if not self._loaded:
            self.load_error = exc
        self.context.show_error(self, "Could not open the history", exc)
        self._finish_first_load()

    def _first_view_shown(self) -> None:
        if self._history_done:
            self._finish_first_load()

    def _finish_first_load(self) -> None:
        if not self._loaded:
            self._loaded = True
            self.sig_loaded.emit()

    def select_version(self, version_id: str) -> bool:
        """Select a checkpoint by id (clearing a search that hides it)."""
        return self.history.select_version(version_id)

    def _version_selected(self, version: VersionInfo) -> None:
        if self._selected is not None and version.id == self._selected.id:
            return
        self._selected = version
        self.checkpoint.show_version(version)
        self.update_actions()

    # ================================================================== compare with

    def choose_compare_version(self) -> None:
        """Pick another checkpoint to compare the selected file with."""
        self.checkpoint.choose_compare_version()

    def set_compare_target(self, target: CompareTarget) -> None:
        self.checkpoint.set_compare_target(target)

    def _show_folder_change(self, path: str) -> None:
        """A change in the panel was chosen: compare the newest checkpoint with the folder."""
        if not self._versions:
            return
        newest = self._versions[0]
        if not self.checkpoint.show_folder_change(path, newest):
            self.select_version(newest.id)  # its tree keeps `path`

    # ================================================================== changes

    def refresh(self) -> None:
        """F5: look for changes and read the history again."""
        self.refresh_changes()
        self.reload_history()

    def refresh_changes(self) -> None:
        if self.standalone or self._closing:
            return
        if self._status_running:
            self._status_pending = True
            return
        self._status_running = True
        self.tasks.read(load_status, self._status_loaded, self._status_failed)

    def _status_loaded(self, result: tuple[Status, bool]) -> None:
        status, has_checkpoints = result
        self._status_running = False
        self.changes.show_status(status, has_checkpoints=has_checkpoints)
        self._status_done()

    def _status_failed(self, exc: BaseException) -> None:
        self._status_running = False
        self.changes.show_message("Could not look for changes", explain(exc))
        self._status_done()

    def _status_done(self) -> None:
        self.update_actions()
        if self._status_pending:
            self._status_pending = False
            self.refresh_changes()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self.refresh_changes()
            # Another window or the command line may have saved: read the history again.
            if self._source is not None and file_stamp(self._source) != self._stamp:
                self.reload_history()

    # ================================================================== flows

    def save_checkpoint(self) -> None:
        flows.save_checkpoint(self)

    def restore_checkpoint(self) -> None:
        self.restorer.restore_checkpoint()

    def restore_selected_files(self) -> None:
        self.restorer.restore_selected_files()

    def undo_restore(self) -> None:
        self.restorer.undo()

    # ================================================================== layout, closing

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._window_layout.splitters_restored:  # first run: share the width once laid out
            self._window_layout.splitters_restored = True
            QTimer.singleShot(0, self._default_splits)

    def _default_splits(self) -> None:
        width = max(self.main_split.width(), 900)
        left = max(300, width // 4)
        self.main_split.setSizes([left, width - left])
        right = width - left
        tree = max(240, right // 4)
        self.checkpoint.right_split.setSizes([tree, right - tree])

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.runner.busy:
            answer = QMessageBox.question(
                self,
                "Still working",
                f"Kamaros is still busy ({self.runner.current_title.lower()}). "
                "Wait for it to finish, or cancel it and close?",
                QMessageBox.StandardButton.Cancel | QMessageBox.StandardButton.Close,
                QMessageBox.StandardButton.Cancel,
            )
            if answer != QMessageBox.StandardButton.Close:
                event.ignore()
                return
            self.runner.cancel()
        self._closing = True
        with contextlib.suppress(RuntimeError):
            self._window_layout.save()
        self.checkpoint.stop()
        self.runner.shutdown()
        super().closeEvent(event)
        self.sig_closed.emit(self)
