"""ProgressPanel: hidden when idle, appears after a delay, determinate bar, Cancel and Esc."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from kamaros_app.engine import CancelledError, CancelToken, Progress
from kamaros_app.ui.progress import SHOW_DELAY_MS, ProgressPanel
from kamaros_app.ui.worker import TaskRunner

TIMEOUT_MS = 30_000


@pytest.fixture
def window(qtbot: QtBot) -> QWidget:
    window = QWidget()
    QVBoxLayout(window)
    qtbot.addWidget(window)
    window.resize(600, 200)
    window.show()
    return window


@pytest.fixture
def panel(window: QWidget):  # type: ignore[no-untyped-def]
    runner = TaskRunner(window)
    panel = ProgressPanel(runner, window)
    window.layout().addWidget(panel)
    yield panel
    runner.cancel()  # a test that failed half-way must not leave a write running
    runner.shutdown(10_000)


def test_hidden_when_idle_and_quick_writes_never_show_it(
    qtbot: QtBot, panel: ProgressPanel
) -> None:
    assert not panel.isVisible()
    appeared: list[bool] = []
    panel.runner.sig_progress.connect(lambda *_: appeared.append(panel.isVisible()))
    done: list[object] = []
    panel.runner.run_write("Quick save", lambda _p, _t: time.sleep(0.05), done.append, done.append)
    qtbot.waitUntil(lambda: len(done) == 1, timeout=TIMEOUT_MS)
    qtbot.wait(SHOW_DELAY_MS + 100)
    assert not panel.isVisible()
    assert appeared and not any(appeared)


def wait_cancelled(token: CancelToken, release: threading.Event) -> None:
    while not token.cancelled and not release.is_set():
        time.sleep(0.01)
    token.raise_if_cancelled()


def test_a_long_write_shows_progress_then_cancel_stops_it(
    qtbot: QtBot, panel: ProgressPanel
) -> None:
    release = threading.Event()
    step = threading.Event()
    failures: list[BaseException] = []

    def long_write(progress, token: CancelToken) -> None:  # type: ignore[no-untyped-def]
        progress(Progress("Checking files", 3, None))
        step.wait(10)
        progress(Progress("Saving files", 250, 1000))
        wait_cancelled(token, release)

    start = time.monotonic()
    panel.runner.run_write("Save Checkpoint", long_write, failures.append, failures.append)
    qtbot.waitUntil(lambda: panel.phase_label.text() == "Checking files", timeout=TIMEOUT_MS)
    if time.monotonic() - start < SHOW_DELAY_MS / 1000 - 0.05:
        assert not panel.isVisible(), "not before the delay"
    assert panel.bar.maximum() == 0, "unknown total: indeterminate"
    qtbot.waitUntil(panel.isVisible, timeout=TIMEOUT_MS)
    assert time.monotonic() - start >= SHOW_DELAY_MS / 1000 - 0.02
    assert panel.title_label.text() == "Save Checkpoint"
    assert panel.cancel_button.isVisible() and panel.cancel_button.isEnabled()

    step.set()
    qtbot.waitUntil(lambda: panel.bar.maximum() > 0, timeout=TIMEOUT_MS)
    assert panel.bar.value() * 4 == panel.bar.maximum()  # 25 %
    assert panel.phase_label.text() == "Saving files: 250 bytes of 1.0 KB"

    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert panel.phase_label.text() == "Cancelling…"
    assert not panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: len(failures) == 1, timeout=TIMEOUT_MS)
    assert isinstance(failures[0], CancelledError)
    assert not panel.isVisible()


def test_escape_cancels(qtbot: QtBot, window: QWidget, panel: ProgressPanel) -> None:
    release = threading.Event()
    failures: list[BaseException] = []
    panel.runner.run_write(
        "Restore",
        lambda _p, token: wait_cancelled(token, release),
        failures.append,
        failures.append,
    )
    qtbot.waitUntil(panel.isVisible, timeout=TIMEOUT_MS)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT_MS)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: len(failures) == 1, timeout=TIMEOUT_MS)
    release.set()
    assert isinstance(failures[0], CancelledError)


def test_writes_that_cannot_be_cancelled_show_no_cancel_button(
    qtbot: QtBot, panel: ProgressPanel
) -> None:
    release = threading.Event()
    done: list[object] = []
    panel.runner.run_write(
        "Starting the history",
        lambda _p, _t: release.wait(10),
        done.append,
        done.append,
        cancellable=False,
    )
    qtbot.waitUntil(panel.isVisible, timeout=TIMEOUT_MS)
    assert not panel.cancel_button.isVisible()
    panel.cancel()
    assert not panel.runner.cancelling
    release.set()
    qtbot.waitUntil(lambda: done == [True], timeout=TIMEOUT_MS)
    assert not panel.isVisible()
