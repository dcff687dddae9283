"""A strip that shows what a TaskRunner is writing, how far it got, and a Cancel button."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from kamaros_app.ui.worker import TaskRunner

__all__ = ["SHOW_DELAY_MS", "ProgressPanel"]

SHOW_DELAY_MS = 300
"""Quick writes finish before the panel appears, so a fast save does not flicker."""
_BAR_STEPS = 1000


class ProgressPanel(QWidget):
    """Hidden while the runner is idle; shows the running write ~300 ms after it starts."""

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.title_label = QLabel()
        font = self.title_label.font()
        font.setBold(True)
        self.title_label.setFont(font)
        self.phase_label = QLabel()
        self.phase_label.setTextFormat(Qt.TextFormat.PlainText)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.setMinimumWidth(220)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop now; the project stays exactly as it was (Esc)")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self.cancel_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.cancel_shortcut.activated.connect(self.cancel)

        texts = QVBoxLayout()
        texts.setSpacing(2)
        texts.addWidget(self.title_label)
        texts.addWidget(self.phase_label)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addLayout(texts, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SHOW_DELAY_MS)
        self._timer.timeout.connect(self._appear)
        runner.sig_started.connect(self._started)
        runner.sig_progress.connect(self._progress)
        runner.sig_busy_changed.connect(self._busy_changed)
        self.setVisible(False)
        if runner.busy:
            self._started(runner.current_title, runner.can_cancel)

    @property
    def cancelling(self) -> bool:
        return self.runner.cancelling

    def cancel(self) -> None:
        """Cancel the running write; the panel says "Cancelling…" until it has stopped."""
        if not self.runner.can_cancel:
            return
        self.runner.cancel()
        self.cancel_button.setEnabled(False)
        self.phase_label.setText("Cancelling…")
        self.bar.setRange(0, 0)

    def _started(self, title: str, cancellable: bool) -> None:
        self.title_label.setText(title)
        self.phase_label.setText("Starting…")
        self.bar.setRange(0, 0)  # indeterminate until the engine knows a total
        self.cancel_button.setVisible(cancellable)
        self.cancel_button.setEnabled(cancellable)
        self.cancel_shortcut.setEnabled(cancellable)
        if not self.isVisible() and not self._timer.isActive():
            self._timer.start()

    def _progress(self, text: str, done: int, total: int) -> None:
        if self.runner.cancelling:
            return
        self.phase_label.setText(text)
        if total > 0:
            self.bar.setRange(0, _BAR_STEPS)
            self.bar.setValue(min(_BAR_STEPS, done * _BAR_STEPS // total))
        else:
            self.bar.setRange(0, 0)

    def _busy_changed(self, busy: bool) -> None:
        if not busy:
            self._timer.stop()
            self.setVisible(False)

    def _appear(self) -> None:
        if self.runner.busy:
            self.setVisible(True)
