"""The history pane of a project window: every checkpoint, newest first, and a search field.

The list is filled lazily (see history_model). The pane says which checkpoint became current
through `sig_version_selected`; the window decides what to do with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QListView,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kamaros_app.engine import VersionInfo
from kamaros_app.ui.history_model import HistoryDelegate, HistoryFilterProxy, HistoryModel

__all__ = ["HistoryPane"]


class HistoryPane(QWidget):
    """The checkpoints with a search field, and a message instead when there are none."""

    sig_version_selected = Signal(object)
    """The current checkpoint changed: its VersionInfo."""
    sig_activated = Signal()
    """Enter (or a double click) on a checkpoint: the person wants to go on to its files."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._has_versions = False
        self.model = HistoryModel()
        self.proxy = HistoryFilterProxy(self.model)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search messages, tags, files")
        self.search.setToolTip("Find checkpoints by message, tag or file name (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search the checkpoints")
        self.search.textChanged.connect(self._search_changed)
        self.view = QListView()
        self.view.setModel(self.proxy)
        self.view.setItemDelegate(HistoryDelegate(self.view))
        self.view.setUniformItemSizes(True)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setAccessibleName("Checkpoints")
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.view.activated.connect(lambda _index: self.sig_activated.emit())
        self.search.returnPressed.connect(self.view.setFocus)
        self.empty = QLabel("Loading the history…")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setEnabled(False)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)
        self.stack.setCurrentWidget(self.empty)
        title = QLabel("History")
        bold = title.font()
        bold.setBold(True)
        title.setFont(bold)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 8)
        layout.setSpacing(4)
        layout.addWidget(title)
        layout.addWidget(self.search)
        layout.addWidget(self.stack, 1)

    def set_versions(self, versions: Sequence[VersionInfo], keep: str | None) -> None:
        """Show `versions` (newest first) and make `keep` current (else the newest)."""
        self._has_versions = bool(versions)
        self.model.set_versions(versions)
        self.model.fetchMore(QModelIndex())  # the first page, to select in it
        if not versions:
            self.show_message(
                "No checkpoints yet.\n\nA checkpoint keeps this version of your files. "
                "Click Save Checkpoint (Ctrl+S) to make the first one."
            )
            return
        self._apply_search_state()
        row = self.proxy.row_of(keep) if keep else None
        self.select_row(row if row is not None else 0)

    def show_message(self, text: str) -> None:
        """Instead of the list: why it is empty, or why it could not be read."""
        self.empty.setText(text)
        self.stack.setCurrentWidget(self.empty)

    def select_row(self, row: int) -> None:
        if self.proxy.rowCount() == 0:
            return
        row = max(0, min(row, self.proxy.rowCount() - 1))
        index = self.proxy.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        self.view.scrollTo(index)

    def select_version(self, version_id: str) -> bool:
        """Select a checkpoint by id (clearing a search that hides it)."""
        row = self.proxy.row_of(version_id)
        if row is None and self.search.text():
            self.search.clear()
            row = self.proxy.row_of(version_id)
        if row is None:
            return False
        self.select_row(row)
        return True

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def clear_search(self) -> None:
        if self.search.text():
            self.search.clear()

    def _search_changed(self, text: str) -> None:
        self.proxy.set_search(text)
        self._apply_search_state()
        if self.proxy.rowCount() and not self.view.currentIndex().isValid():
            self.select_row(0)

    def _apply_search_state(self) -> None:
        if not self._has_versions:
            return
        if self.proxy.rowCount() == 0 and self.proxy.search_text:
            self.show_message(
                f"No checkpoint matches “{self.proxy.search_text}”.\n\n"
                "Search looks in messages, tags and the names of changed files."
            )
        else:
            self.stack.setCurrentWidget(self.view)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.sig_version_selected.emit(self.proxy.version_at(current.row()))
