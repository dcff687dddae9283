"""Side-by-side text comparison: two synchronised panes, headers, change navigation."""

from __future__ import annotations

from bisect import bisect_left

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QScrollBar,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kamaros_app.ui.diffview.elided_label import ElidedLabel
from kamaros_app.ui.diffview.model import PreparedDiff, TextDiff
from kamaros_app.ui.diffview.text_pane import DiffPane

__all__ = ["TextDiffView", "change_summary"]

NEXT_KEYS = (QKeySequence(Qt.Key.Key_F8), QKeySequence("Alt+Down"))
PREVIOUS_KEYS = (QKeySequence("Shift+F8"), QKeySequence("Alt+Up"))


def change_summary(diff: TextDiff, change: str) -> str:
    """The status line, e.g. "3 changes: 5 lines added, 2 removed, 1 changed"."""
    if change == "added":
        return f"New file: {_lines(diff.lines_added)}"
    if change == "deleted":
        return f"Deleted file: {_lines(diff.lines_removed)}"
    count = len(diff.blocks)
    if count == 0:
        return "No differences in the text"
    parts = []
    if diff.lines_added:
        parts.append(f"{_lines(diff.lines_added)} added")
    if diff.lines_removed:
        parts.append(f"{_lines(diff.lines_removed) if not parts else diff.lines_removed} removed")
    if diff.lines_changed:
        parts.append(f"{_lines(diff.lines_changed) if not parts else diff.lines_changed} changed")
    head = "1 change" if count == 1 else f"{count:,} changes"
    return f"{head}: {', '.join(parts)}" if parts else head


def _lines(count: int) -> str:
    return "1 line" if count == 1 else f"{count:,} lines"


class TextDiffView(QWidget):
    sig_current_change = Signal(int)
    """Index of the change block just navigated to."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._diff: TextDiff | None = None
        self._current = -1
        self._syncing = False

        self.previous_button = QToolButton()
        self.previous_button.setText("Previous change")
        self.next_button = QToolButton()
        self.next_button.setText("Next change")
        self.previous_button.setArrowType(Qt.ArrowType.UpArrow)
        self.next_button.setArrowType(Qt.ArrowType.DownArrow)
        for button, keys in ((self.previous_button, PREVIOUS_KEYS), (self.next_button, NEXT_KEYS)):
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setAutoRaise(True)
            button.setToolTip(f"{button.text()} ({' or '.join(k.toString() for k in keys)})")
        self.previous_button.clicked.connect(self.previous_change)
        self.next_button.clicked.connect(self.next_change)
        self.position_label = QLabel()
        self.position_label.setObjectName("diff_position")
        self.summary_label = QLabel()
        self.summary_label.setObjectName("diff_summary")
        self.language_label = QLabel()
        self.language_label.setEnabled(False)  # secondary information: greyed text
        self.notes_label = QLabel()
        self.notes_label.setObjectName("diff_notes")
        self.notes_label.setWordWrap(True)
        self.notes_label.setContentsMargins(6, 2, 6, 2)
        self.identical_label = QLabel("No differences in the text: both versions are the same.")
        self.identical_label.setObjectName("diff_identical")
        font = self.identical_label.font()
        font.setBold(True)
        self.identical_label.setFont(font)
        self.identical_label.setContentsMargins(6, 2, 6, 2)

        toolbar = QHBoxLayout()
        toolbar.setContentsMargins(4, 2, 4, 2)
        toolbar.addWidget(self.previous_button)
        toolbar.addWidget(self.next_button)
        toolbar.addWidget(self.position_label)
        toolbar.addSpacing(12)
        toolbar.addWidget(self.summary_label, 1)
        toolbar.addWidget(self.language_label)

        self.old_pane = DiffPane("old")
        self.new_pane = DiffPane("new")
        self.old_header = _header()
        self.new_header = _header()
        self.old_side = _side(self.old_header, self.old_pane)
        self.new_side = _side(self.new_header, self.new_pane)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.old_side)
        splitter.addWidget(self.new_side)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(toolbar)
        layout.addWidget(self.notes_label)
        layout.addWidget(self.identical_label)
        layout.addWidget(splitter, 1)

        self._sync(self.old_pane.verticalScrollBar(), self.new_pane.verticalScrollBar())
        self._sync(self.old_pane.horizontalScrollBar(), self.new_pane.horizontalScrollBar())
        self.old_pane.verticalScrollBar().valueChanged.connect(self._update_buttons)
        self.new_pane.verticalScrollBar().valueChanged.connect(self._update_buttons)
        self.old_pane.cursorPositionChanged.connect(lambda: self._follow(self.old_pane))
        self.new_pane.cursorPositionChanged.connect(lambda: self._follow(self.new_pane))
        self._add_action("Next change", NEXT_KEYS, self.next_change)
        self._add_action("Previous change", PREVIOUS_KEYS, self.previous_change)

    def _add_action(self, text: str, keys: tuple[QKeySequence, ...], slot: object) -> None:
        action = QAction(text, self)
        action.setShortcuts(list(keys))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self.addAction(action)

    # ---- content -------------------------------------------------------------------------

    def show_diff(self, prepared: PreparedDiff) -> None:
        diff = prepared.text
        assert diff is not None
        self._diff = diff
        self._current = -1
        change = prepared.change
        self.old_header.setText(
            _label(prepared.old_label, "did not exist" if change == "added" else "")
        )
        self.new_header.setText(
            _label(prepared.new_label, "does not exist" if change == "deleted" else "")
        )
        self.old_pane.setAccessibleName(f"Before: {prepared.old_label}")
        self.new_pane.setAccessibleName(f"After: {prepared.new_label}")
        self.old_side.setVisible(change != "added")
        self.new_side.setVisible(change != "deleted")
        self.summary_label.setText(change_summary(diff, change))
        self.language_label.setText(diff.language)
        self.notes_label.setText("\n".join(diff.notes))
        self.notes_label.setVisible(bool(diff.notes))
        self.identical_label.setVisible(prepared.identical and change == "unchanged")
        for pane, shown in (
            (self.old_pane, change != "added"),
            (self.new_pane, change != "deleted"),
        ):
            if shown:
                pane.show_diff(diff)
            else:
                pane.clear_diff()  # a hidden side of padding rows only: not worth building
        self._update_buttons()
        if diff.blocks:
            self.go_to_change(0)

    def clear(self) -> None:
        self._diff = None
        self._current = -1
        self.old_pane.clear_diff()
        self.new_pane.clear_diff()

    @property
    def change_count(self) -> int:
        return 0 if self._diff is None else len(self._diff.blocks)

    @property
    def current_change(self) -> int:
        return self._current

    # ---- navigation ----------------------------------------------------------------------

    def next_change(self) -> None:
        target = self._next_target()
        if target is not None:
            self.go_to_change(target)

    def previous_change(self) -> None:
        target = self._previous_target()
        if target is not None:
            self.go_to_change(target)

    def _next_target(self) -> int | None:
        """The change after the current one if it is in view, else the first one in view."""
        blocks = self._blocks()
        if self._current >= 0 and self._is_visible(blocks[self._current]):
            target = self._current + 1
        else:
            target = bisect_left(blocks, self._first_visible_row())
        return target if target < len(blocks) else None

    def _previous_target(self) -> int | None:
        blocks = self._blocks()
        if self._current >= 0 and self._is_visible(blocks[self._current]):
            target = self._current - 1
        else:
            target = bisect_left(blocks, self._first_visible_row()) - 1
        return target if target >= 0 else None

    def go_to_change(self, index: int) -> None:
        """Put change block `index` about a quarter down the view, cursor on its first row."""
        blocks = self._blocks()
        row = blocks[index]
        self._current = index
        pane = self._main_pane()
        visible = max(1, pane.viewport().height() // max(1, pane.fontMetrics().lineSpacing()))
        for each in self._shown_panes():
            cursor = QTextCursor(each.document().findBlockByNumber(row))
            each.blockSignals(True)
            each.setTextCursor(cursor)
            each.blockSignals(False)
        top = 0 if row < visible * 3 // 4 else row - visible // 4
        pane.verticalScrollBar().setValue(top)  # the other side follows
        self._scroll_to_span(index)
        # The horizontal range settles once the new rows are laid out: once more, later.
        QTimer.singleShot(0, self, lambda: self._scroll_to_span(index))
        self._update_buttons()
        self.sig_current_change.emit(index)

    def _scroll_to_span(self, index: int) -> None:
        """A change far right on a long line: scroll so that it shows, a third from the left."""
        if index != self._current or index >= self.change_count:
            return
        pane = self._main_pane()
        x = pane.span_x(self._blocks()[index])
        width = pane.viewport().width()
        pane.horizontalScrollBar().setValue(0 if x < width * 0.8 else round(x - width / 3))

    def _blocks(self) -> tuple[int, ...]:
        return () if self._diff is None else self._diff.blocks

    def _shown_panes(self) -> list[DiffPane]:
        sides = ((self.old_pane, self.old_side), (self.new_pane, self.new_side))
        return [pane for pane, side in sides if not side.isHidden()]

    def _main_pane(self) -> DiffPane:
        """The pane that is shown (an added file hides the old side, a deleted one the new)."""
        return self.old_pane if self.new_side.isHidden() else self.new_pane

    def _first_visible_row(self) -> int:
        return self._main_pane().verticalScrollBar().value()

    def _is_visible(self, row: int) -> bool:
        pane = self._main_pane()
        top = pane.verticalScrollBar().value()
        visible = max(1, pane.viewport().height() // max(1, pane.fontMetrics().lineSpacing()))
        return top <= row < top + visible

    def _update_buttons(self) -> None:
        count = self.change_count
        self.previous_button.setEnabled(self._previous_target() is not None)
        self.next_button.setEnabled(self._next_target() is not None)
        if self._current >= 0 and count and self._is_visible(self._blocks()[self._current]):
            self.position_label.setText(f"Change {self._current + 1:,} of {count:,}")
        else:
            self.position_label.setText("")

    # ---- synchronised scrolling ----------------------------------------------------------

    def _sync(self, a: QScrollBar, b: QScrollBar) -> None:
        a.valueChanged.connect(lambda value: self._mirror(b, value))
        b.valueChanged.connect(lambda value: self._mirror(a, value))

    def _mirror(self, target: QScrollBar, value: int) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            target.setValue(value)
        finally:
            self._syncing = False

    def _follow(self, source: DiffPane) -> None:
        """Clicking a row on one side puts the other side's cursor on the same row."""
        other = self.new_pane if source is self.old_pane else self.old_pane
        if other.blockCount() != source.blockCount():
            return
        row = source.textCursor().blockNumber()
        if other.textCursor().blockNumber() != row:
            other.blockSignals(True)
            other.setTextCursor(QTextCursor(other.document().findBlockByNumber(row)))
            other.blockSignals(False)


def _label(label: str, note: str) -> str:
    return f"{label} — {note}" if note else label


def _header() -> QLabel:
    header = ElidedLabel()
    header.setContentsMargins(6, 2, 6, 2)
    font = header.font()
    font.setBold(True)
    header.setFont(font)
    return header


def _side(header: QLabel, pane: DiffPane) -> QWidget:
    side = QWidget()
    layout = QVBoxLayout(side)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(header)
    layout.addWidget(pane, 1)
    return side
