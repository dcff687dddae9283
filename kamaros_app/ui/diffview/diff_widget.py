"""DiffWidget: shows one file's change with the view that suits it (docs/UI.md)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from kamaros_app.ui.diffview.binary_view import BinaryDiffView
from kamaros_app.ui.diffview.image_view import ImageDiffView
from kamaros_app.ui.diffview.message_view import MessageView, too_large_text
from kamaros_app.ui.diffview.model import PreparedDiff
from kamaros_app.ui.diffview.text_view import TextDiffView

__all__ = ["EMPTY_TITLE", "DiffWidget"]

EMPTY_TITLE = "Select a file to see what changed"
TOO_LARGE_TITLE = "This file is too large to compare"


class DiffWidget(QWidget):
    """Text side by side, image comparison, a binary summary, or a message.

    Fed on the UI thread with what `prepare_diff` built on a worker thread.
    """

    sig_open_externally = Signal()
    """The user asked to open the file in its own application ("Open externally…")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message_view = MessageView()
        self.text_view = TextDiffView()
        self.image_view = ImageDiffView()
        self.binary_view = BinaryDiffView()
        self.stack = QStackedWidget()
        for view in (self.message_view, self.text_view, self.image_view, self.binary_view):
            self.stack.addWidget(view)
        self.message_view.sig_open_externally.connect(self.sig_open_externally)
        self.binary_view.sig_open_externally.connect(self.sig_open_externally)
        self._prepared: PreparedDiff | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.show_message(EMPTY_TITLE, "Pick a file in the list to compare its two versions.")

    @property
    def prepared(self) -> PreparedDiff | None:
        """What is shown now; None for a message."""
        return self._prepared

    def show_prepared(self, prepared: PreparedDiff) -> None:
        if prepared.kind == "too_large":
            self.show_too_large(prepared.path, prepared.old_size, prepared.new_size)
            return
        if prepared.change == "missing":
            self.show_message("Nothing to compare", "The file exists in neither version.")
            return
        self._release()
        self._prepared = prepared
        if prepared.kind == "text":
            self.text_view.show_diff(prepared)
            self.stack.setCurrentWidget(self.text_view)
        elif prepared.kind == "image":
            self.image_view.show_diff(prepared)
            self.stack.setCurrentWidget(self.image_view)
        else:
            self.binary_view.show_diff(prepared)
            self.stack.setCurrentWidget(self.binary_view)

    def show_message(self, title: str, detail: str = "") -> None:
        self._release()
        self.message_view.show_message(title, detail)
        self.stack.setCurrentWidget(self.message_view)

    def show_too_large(self, path: str, old_size: int | None, new_size: int | None) -> None:
        self._release()
        self.message_view.show_message(
            TOO_LARGE_TITLE, too_large_text(path, old_size, new_size), open_button=True
        )
        self.stack.setCurrentWidget(self.message_view)

    def next_change(self) -> None:
        """Go to the next change of a text comparison (F8, Alt+Down inside the widget)."""
        if self.stack.currentWidget() is self.text_view:
            self.text_view.next_change()

    def previous_change(self) -> None:
        """Go to the previous change of a text comparison (Shift+F8, Alt+Up)."""
        if self.stack.currentWidget() is self.text_view:
            self.text_view.previous_change()

    def _release(self) -> None:
        """Drop the previous content (large documents and images) before showing anything."""
        self._prepared = None
        self.text_view.clear()
        self.image_view.clear()
