"""The minimal main window: open a folder, list its checkpoints, Save Checkpoint."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from kamaros_app.demo import ensure_demo_project
from kamaros_app.engine import KamarosError, NotAProjectError, VersionInfo
from kamaros_app.ui import snapshot
from kamaros_app.ui.history_model import CheckpointModel
from kamaros_app.ui.worker import TaskRunner

__all__ = ["MainWindow"]


def _shortcut(action: QAction, standard: QKeySequence.StandardKey, fallback: str) -> None:
    """Use the platform's shortcut, or `fallback` where the platform defines none."""
    keys = QKeySequence.keyBindings(standard) or [QKeySequence(fallback)]
    action.setShortcuts(keys)


class MainWindow(QMainWindow):
    """One project: its checkpoints (newest first) and what changed since the last one."""

    sig_loaded = Signal()
    """A project's history and status are on screen (after open, refresh or save)."""
    sig_failed = Signal(str)
    """An operation failed; carries the message shown to the user."""

    def __init__(self, runner: TaskRunner | None = None, *, show_dialogs: bool = True) -> None:
        super().__init__()
        self.runner = runner or TaskRunner(self)
        self.show_dialogs = show_dialogs
        self.root: Path | None = None
        self.model = CheckpointModel()
        self.setWindowTitle("Kamaros")
        self.resize(920, 560)
        self._build_actions()
        self._build_widgets()
        self.runner.sig_busy_changed.connect(self._set_busy)
        self._update_actions()

    # -- building -------------------------------------------------------------------------

    def _build_actions(self) -> None:
        self.open_action = QAction("&Open Folder...", self)
        _shortcut(self.open_action, QKeySequence.StandardKey.Open, "Ctrl+O")
        self.open_action.triggered.connect(self.choose_folder)
        self.demo_action = QAction("Open the &Demo Project", self)
        self.demo_action.triggered.connect(self.open_demo)
        self.save_action = QAction("&Save Checkpoint", self)
        _shortcut(self.save_action, QKeySequence.StandardKey.Save, "Ctrl+S")
        self.save_action.setToolTip("Save the folder as it is now, with a short description")
        self.save_action.triggered.connect(self.save_checkpoint)
        self.refresh_action = QAction("&Refresh", self)
        _shortcut(self.refresh_action, QKeySequence.StandardKey.Refresh, "F5")
        self.refresh_action.triggered.connect(self.refresh)
        quit_action = QAction("&Quit", self)
        _shortcut(quit_action, QKeySequence.StandardKey.Quit, "Ctrl+Q")
        quit_action.triggered.connect(self.close)
        menu = self.menuBar().addMenu("&File")
        menu.addActions([self.open_action, self.demo_action])
        menu.addSeparator()
        menu.addActions([self.save_action, self.refresh_action])
        menu.addSeparator()
        menu.addAction(quit_action)

    def _build_widgets(self) -> None:
        self.title_label = QLabel("No project open")
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title_label.setFont(font)
        self.path_label = QLabel("")
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # secondary
        names = QVBoxLayout()
        names.addWidget(self.title_label)
        names.addWidget(self.path_label)
        header = QHBoxLayout()
        header.addLayout(names, 1)
        for action in (self.open_action, self.save_action):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setMinimumHeight(32)
            header.addWidget(button)
        bold = button.font()  # the last one, Save Checkpoint, is the main action
        bold.setBold(True)
        button.setFont(bold)

        self.status_label = QLabel("Open a folder to see its history.")
        self.view = QTreeView()
        self.view.setModel(self.model)
        self.view.setRootIsDecorated(False)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setAllColumnsShowFocus(True)
        head = self.view.header()
        head.setStretchLastSection(False)
        for column in range(self.model.columnCount()):
            head.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.empty_label = QLabel("Open a folder to see its history.")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(self.view)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(header)
        layout.addWidget(self.status_label)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.busy_label = QLabel("")
        self.statusBar().addPermanentWidget(self.busy_label)

    # -- operations ---------------------------------------------------------------------

    def choose_folder(self) -> None:
        start = str(self.root) if self.root else str(Path.home())
        chosen = QFileDialog.getExistingDirectory(self, "Open Folder", start)
        if chosen:
            self.open_folder(Path(chosen))

    def open_folder(self, folder: Path) -> None:
        folder = folder.expanduser().absolute()
        self.runner.submit(
            lambda: snapshot.load(folder), self._show, lambda exc: self._open_failed(folder, exc)
        )

    def open_demo(self) -> None:
        self.runner.submit(lambda: snapshot.load(ensure_demo_project()), self._show, self._fail)

    def refresh(self) -> None:
        if self.root is not None:
            root = self.root
            self.runner.submit(lambda: snapshot.load(root), self._show, self._fail)

    def save_checkpoint(self) -> None:
        """Ask for a description, then save a checkpoint on the worker."""
        if self.root is None:
            return
        message, ok = QInputDialog.getText(
            self, "Save Checkpoint", "Describe what changed since the last checkpoint:"
        )
        if ok and message.strip():
            self.save_checkpoint_with_message(message.strip())

    def save_checkpoint_with_message(self, message: str) -> None:
        if self.root is None:
            return
        root = self.root
        self.runner.submit(lambda: snapshot.save_and_load(root, message), self._saved, self._fail)

    # -- results (UI thread) --------------------------------------------------------------

    def _show(self, result: object) -> None:
        assert isinstance(result, snapshot.Snapshot)
        self.root = result.root
        self.setWindowTitle(f"{result.root.name} - Kamaros")
        self.title_label.setText(result.root.name)
        self.path_label.setText(str(result.root))
        self.model.set_versions(result.versions)
        self.status_label.setText(snapshot.status_text(result))
        if result.versions:
            self.stack.setCurrentWidget(self.view)
            self.view.setCurrentIndex(self.model.index(0, 0))
        else:
            self.empty_label.setText(
                "No checkpoints yet.\nClick Save Checkpoint to save the folder as it is now."
            )
            self.stack.setCurrentWidget(self.empty_label)
        self._update_actions()
        self.sig_loaded.emit()

    def _saved(self, result: object) -> None:
        assert isinstance(result, tuple)
        version, snap = result
        assert isinstance(version, VersionInfo)
        self._show(snap)
        self.statusBar().showMessage(f"Saved checkpoint {version.short_id}", 5000)

    def _open_failed(self, folder: Path, exc: BaseException) -> None:
        if isinstance(exc, NotAProjectError) and self.show_dialogs and folder.is_dir():
            answer = QMessageBox.question(
                self,
                "Start keeping history?",
                f"{folder} has no history yet.\n\nStart keeping its history with Kamaros?",
            )
            if answer == QMessageBox.StandardButton.Yes:
                self.runner.submit(lambda: snapshot.init_and_load(folder), self._show, self._fail)
            return
        self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        if isinstance(exc, KamarosError):
            message = str(exc)
        else:
            message = f"Unexpected error: {type(exc).__name__}: {exc}"
            traceback.print_exception(exc, file=sys.stderr)
        self.sig_failed.emit(message)
        if self.show_dialogs:
            QMessageBox.critical(self, "Kamaros", message)

    def _set_busy(self, busy: bool) -> None:
        self.busy_label.setText("Working..." if busy else "")
        self._update_actions()

    def _update_actions(self) -> None:
        idle = not self.runner.is_busy()
        self.open_action.setEnabled(idle)
        self.demo_action.setEnabled(idle)
        self.save_action.setEnabled(idle and self.root is not None)
        self.refresh_action.setEnabled(idle and self.root is not None)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.runner.wait()  # let a checkpoint in progress finish before the window goes
        super().closeEvent(event)
