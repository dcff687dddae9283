"""Small widgets the parts of a project window share."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QPushButton

__all__ = ["action_button"]


def action_button(action: QAction) -> QPushButton:
    """A push button that triggers `action` and follows its enabled state and tooltip."""
    button = QPushButton(action.text())
    button.clicked.connect(action.trigger)

    def sync() -> None:
        button.setEnabled(action.isEnabled())
        button.setToolTip(action.toolTip())

    action.changed.connect(sync)
    sync()
    return button
