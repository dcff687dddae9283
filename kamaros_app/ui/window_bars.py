"""The bars above a project window's contents: the banner of a standalone project file
(read-only, with Extract to Folder…) and the notice after a restore (with Undo Restore)."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton

from kamaros_app.ui.widgets import action_button

__all__ = ["MessageBar", "ProjectFileBanner", "RestoreNotice"]


class MessageBar(QFrame):
    """A bar in the alternate base colour: a wrapping `label`, then whatever is added to
    `row`."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(self.backgroundRole(), palette.color(palette.ColorRole.AlternateBase))
        self.setPalette(palette)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(12, 6, 8, 6)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.row.addWidget(self.label, 1)


class ProjectFileBanner(MessageBar):
    """Says that a project file is read-only, with a button to extract it to a folder."""

    def __init__(self, extract_action: QAction) -> None:
        super().__init__("banner")
        self.label.setText("<b>This is a project file.</b> Extract to Folder… to work on it.")
        self.row.addWidget(action_button(extract_action))


class RestoreNotice(MessageBar):
    """What a restore (or its undo) did; hidden until there is something to say."""

    def __init__(self) -> None:
        super().__init__("notice")
        self.undo_button = QPushButton("Undo Restore")
        self.undo_button.setToolTip("Bring the folder back as it was before (Ctrl+Z)")
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Hide this message")
        close.setAccessibleName("Hide this message")
        close.clicked.connect(self.hide)
        self.row.addWidget(self.undo_button)
        self.row.addWidget(close)
        self.hide()

    def show_message(self, text: str, *, undo: bool = False) -> None:
        """Show `text`, with the Undo Restore button when `undo`."""
        self.label.setText(text)
        self.undo_button.setVisible(undo)
        self.show()
