"""Settings: the name and email written on checkpoints, and the theme (applied at once)."""

from __future__ import annotations

import re

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from kamaros_app.ui.context import AppContext

__all__ = ["SettingsDialog", "email_looks_valid"]

THEME_CHOICES = (("System", "system"), ("Light", "light"), ("Dark", "dark"))
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def email_looks_valid(text: str) -> bool:
    """Empty, or something@somewhere (loosely: no spaces, one @ with text on both sides)."""
    text = text.strip()
    return not text or bool(_EMAIL.fullmatch(text))


class SettingsDialog(QDialog):
    """OK saves to the settings; Cancel puts the theme back as it was."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        settings = context.settings
        self._original_theme = settings.theme
        self.setWindowTitle("Settings")
        self.setMinimumWidth(420)

        self.author_edit = QLineEdit(settings.author)
        self.author_edit.setPlaceholderText("Your name")
        self.author_edit.setToolTip("Written on every checkpoint you save")
        self.email_edit = QLineEdit(settings.email)
        self.email_edit.setPlaceholderText("you@example.com (optional)")
        self.email_edit.textChanged.connect(self._validate)
        self.email_hint = QLabel("This does not look like an email address.")
        self.email_hint.setVisible(False)
        self.theme_combo = QComboBox()
        for label, value in THEME_CHOICES:
            self.theme_combo.addItem(label, value)
        self.theme_combo.setCurrentIndex(self.theme_combo.findData(self._original_theme))
        self.theme_combo.currentIndexChanged.connect(self._theme_changed)

        form = QFormLayout()
        form.addRow("&Name:", self.author_edit)
        form.addRow("&Email:", self.email_edit)
        form.addRow("", self.email_hint)
        form.addRow("&Theme:", self.theme_combo)
        note = QLabel("Your name and email are written on the checkpoints you save.")
        note.setWordWrap(True)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.buttons)
        self._validate()

    @property
    def theme(self) -> str:
        value = self.theme_combo.currentData()
        return value if isinstance(value, str) else "system"

    def _theme_changed(self) -> None:
        self.context.apply_theme(self.theme)

    def _validate(self) -> None:
        valid = email_looks_valid(self.email_edit.text())
        self.email_hint.setVisible(not valid)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(valid)

    def accept(self) -> None:
        if not email_looks_valid(self.email_edit.text()):
            return
        settings = self.context.settings
        settings.author = self.author_edit.text()
        settings.email = self.email_edit.text()
        settings.theme = self.theme
        super().accept()

    def reject(self) -> None:
        if self.theme != self._original_theme:
            self.context.apply_theme(self._original_theme)
        super().reject()
