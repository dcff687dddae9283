"""Save Checkpoint: a message (first line is the title), an optional tag, who saved it."""

from __future__ import annotations

from collections.abc import Collection

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from kamaros_app.engine import KamarosError
from kamaros_app.engine.manifest import validate_tag_name

__all__ = ["SaveCheckpointDialog"]


class SaveCheckpointDialog(QDialog):
    def __init__(
        self,
        parent: QWidget | None,
        *,
        summary: str,
        author: str,
        email: str,
        existing_tags: Collection[str] = (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Save Checkpoint")
        self.setMinimumWidth(460)
        self._existing_tags = set(existing_tags)
        intro = QLabel(summary)
        intro.setWordWrap(True)
        self.message_edit = QPlainTextEdit()
        self.message_edit.setPlaceholderText(
            "What did you change? The first line is the title; add details below it."
        )
        self.message_edit.setTabChangesFocus(True)
        self.message_edit.setMinimumHeight(90)
        self.message_edit.setMaximumHeight(160)
        self.message_edit.setAccessibleName("Message")
        self.tag_edit = QLineEdit()
        self.tag_edit.setPlaceholderText("optional, for example draft-2 or sent-to-editor")
        self.tag_edit.setAccessibleName("Tag")
        self.author_edit = QLineEdit(author)
        self.author_edit.setPlaceholderText("your name")
        self.email_edit = QLineEdit(email)
        self.email_edit.setPlaceholderText("optional")
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setObjectName("problem")
        self.problem.hide()
        form = QFormLayout()
        form.addRow("&Message:", self.message_edit)
        form.addRow("&Tag:", self.tag_edit)
        form.addRow("&Your name:", self.author_edit)
        form.addRow("E-&mail:", self.email_edit)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("Save Checkpoint")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        for edit in (self.tag_edit, self.author_edit, self.email_edit):
            edit.textChanged.connect(self._validate)
        self.message_edit.textChanged.connect(self._validate)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self._accept_if_valid)
        self.message_edit.setFocus()
        self._validate()

    @property
    def message(self) -> str:
        return self.message_edit.toPlainText().strip()

    @property
    def tag(self) -> str | None:
        return self.tag_edit.text().strip() or None

    @property
    def author(self) -> str:
        return self.author_edit.text().strip()

    @property
    def email(self) -> str:
        return self.email_edit.text().strip()

    def problem_text(self) -> str:
        """Why the checkpoint cannot be saved yet ("" when it can)."""
        if not self.message:
            return "Write a message: a few words about what changed."
        tag = self.tag
        if tag is not None:
            if tag in self._existing_tags:
                return f"The tag “{tag}” is already used by another checkpoint."
            try:
                validate_tag_name(tag)
            except KamarosError:
                return "This name cannot be a tag: use a short name without spaces, like draft-2."
        return ""

    def _validate(self) -> None:
        problem = self.problem_text()
        self.save_button.setEnabled(not problem)
        self.save_button.setToolTip(problem)
        # Only complain about the tag while typing; an empty message is obvious.
        show = bool(problem) and self.tag is not None and bool(self.message)
        self.problem.setText(problem)
        self.problem.setVisible(show)

    def _accept_if_valid(self) -> None:
        if not self.problem_text():
            self.accept()

    def accept(self) -> None:
        if self.problem_text():
            return
        super().accept()
