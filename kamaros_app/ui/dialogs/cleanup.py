"""Clean Up Storage: the history file's size now, what cleaning up would give back, then
the result."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from kamaros_app.engine import History, InvalidArgumentError, Project
from kamaros_app.ui.contents_model import human_size

__all__ = ["CleanupDialog", "cleanup_text", "measure_cleanup"]


def measure_cleanup(history: History) -> tuple[int, int]:
    """The history file's size now, and about how small cleaning up makes it (a worker)."""
    if not isinstance(history, Project):
        raise InvalidArgumentError("only a project folder can be cleaned up")
    result = history.gc(dry_run=True)
    return result.size_before, result.size_after


def cleanup_text(before: int, after: int, *, done: bool) -> str:
    saved = max(0, before - after)
    if done:
        if saved == 0:
            return f"The history file takes {human_size(after)}; there was nothing to free."
        return (
            f"Done. The history file went from {human_size(before)} to "
            f"{human_size(after)}: {human_size(saved)} freed."
        )
    if saved == 0:
        return (
            f"The history file takes {human_size(before)}. It is already compact: "
            "cleaning up would not free any space."
        )
    return (
        f"The history file takes {human_size(before)}. Cleaning up would bring it to about "
        f"{human_size(after)}, freeing about {human_size(saved)}.\n\n"
        "Every checkpoint is kept; only space nothing refers to is given back."
    )


class CleanupDialog(QDialog):
    """Before (done=False: asks) or after (done=True: reports) cleaning up."""

    def __init__(self, parent: QWidget | None, before: int, after: int, *, done: bool) -> None:
        super().__init__(parent)
        self.setWindowTitle("Clean Up Storage")
        self.setMinimumWidth(420)
        self.text = cleanup_text(before, after, done=done)
        label = QLabel(self.text)
        label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        buttons = QDialogButtonBox()
        self.clean_button = None
        if done or before <= after:
            buttons.addButton(QDialogButtonBox.StandardButton.Close)
        else:
            self.clean_button = buttons.addButton(
                "Clean Up", QDialogButtonBox.ButtonRole.AcceptRole
            )
            self.clean_button.setDefault(True)
            buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
