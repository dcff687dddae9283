"""Files that are neither text nor images: a before/after table of size, type and hash."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kamaros_app.ui.diffview.describe import human_size
from kamaros_app.ui.diffview.model import BinarySide, PreparedDiff

__all__ = ["SHORT_HASH", "BinaryDiffView", "verdict"]

SHORT_HASH = 16  # hex digits shown; the full hash is in the tooltip and copied with it


def verdict(prepared: PreparedDiff) -> str:
    change = prepared.change
    if change == "added":
        return "New file"
    if change == "deleted":
        return "Deleted file"
    return "Identical content" if prepared.identical else "Different content"


class BinaryDiffView(QWidget):
    sig_open_externally = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.verdict_label = QLabel()
        self.verdict_label.setObjectName("binary_verdict")
        font = self.verdict_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.verdict_label.setFont(font)
        self.explain_label = QLabel(
            "Kamaros cannot show the inside of this kind of file. "
            "Open it in its own application to look at it."
        )
        self.explain_label.setWordWrap(True)
        self.open_button = QPushButton("Open externally…")
        self.open_button.clicked.connect(self.sig_open_externally)

        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(24)
        self.grid.setVerticalSpacing(6)
        self.headers = (_cell("", bold=True), _cell("", bold=True))
        self.cells: dict[str, tuple[QLabel, QLabel]] = {}
        self.grid.addWidget(self.headers[0], 0, 1)
        self.grid.addWidget(self.headers[1], 0, 2)
        for row, (key, title) in enumerate(
            (("size", "Size"), ("type", "Type"), ("hash", "Fingerprint (BLAKE3)")), start=1
        ):
            self.grid.addWidget(_cell(title, bold=True), row, 0)
            pair = (_cell(""), _cell(""))
            for label in pair:
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.grid.addWidget(pair[0], row, 1)
            self.grid.addWidget(pair[1], row, 2)
            self.cells[key] = pair
        for label in self.cells["hash"]:
            label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.grid.setColumnStretch(3, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 24)
        layout.setSpacing(12)
        layout.addWidget(self.verdict_label)
        layout.addLayout(self.grid)
        layout.addWidget(self.explain_label)
        layout.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)

    def show_diff(self, prepared: PreparedDiff) -> None:
        self.verdict_label.setText(verdict(prepared))
        self.headers[0].setText(f"Before — {prepared.old_label}")
        self.headers[1].setText(f"After — {prepared.new_label}")
        for column, side in enumerate((prepared.old_binary, prepared.new_binary)):
            self._fill(column, side)

    def _fill(self, column: int, side: BinarySide | None) -> None:
        size, kind, digest = (self.cells[key][column] for key in ("size", "type", "hash"))
        if side is None:
            size.setText("does not exist")
            kind.setText("—")
            digest.setText("—")
            digest.setToolTip("")
            return
        exact = f" ({side.size:,} bytes)" if side.size >= 1000 else ""
        size.setText(human_size(side.size) + exact)
        kind.setText(side.type)
        digest.setText(side.hash[:SHORT_HASH] + "…")
        digest.setToolTip(f"{side.hash}\nIdentical fingerprints mean identical content.")


def _cell(text: str, *, bold: bool = False) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if bold:
        font = label.font()
        font.setBold(True)
        label.setFont(font)
    return label
