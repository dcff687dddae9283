"""Centred messages: empty states, errors, and "too large to compare" with a way out."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from kamaros_app.ui.diffview.describe import human_size

__all__ = ["MessageView", "too_large_text"]


def too_large_text(path: str, old_size: int | None, new_size: int | None) -> str:
    """The detail line of the "too large" state: which sizes, in plain words."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1] or path
    sizes = []
    if old_size is not None:
        sizes.append(f"{human_size(old_size)} before")
    if new_size is not None:
        sizes.append(f"{human_size(new_size)} now")
    size_text = f" ({', '.join(sizes)})" if sizes else ""
    return (
        f"{name}{size_text} is too large to compare here. "
        "Open it in its own application to look at it."
    )


class MessageView(QWidget):
    sig_open_externally = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title_label = QLabel()
        self.title_label.setObjectName("message_title")
        self.title_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title_label.setWordWrap(True)
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.title_label.setFont(font)
        self.detail_label = QLabel()
        self.detail_label.setObjectName("message_detail")
        self.detail_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail_label.setWordWrap(True)
        self.detail_label.setTextFormat(Qt.TextFormat.PlainText)
        self.detail_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("Open externally…")
        self.open_button.clicked.connect(self.sig_open_externally)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 32, 32, 32)
        layout.addStretch(1)
        layout.addWidget(self.title_label)
        layout.addWidget(self.detail_label)
        layout.addSpacing(8)
        layout.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)

    def show_message(self, title: str, detail: str = "", *, open_button: bool = False) -> None:
        self.title_label.setText(title)
        self.detail_label.setText(detail)
        self.detail_label.setVisible(bool(detail))
        self.open_button.setVisible(open_button)
