"""Drives the real app on a real X server like a person would; run by test_e2e_xvfb.py.

open -> edit a file -> Save Checkpoint (typed into the real dialog) -> select the checkpoint
-> diff -> restore the first checkpoint (confirmed in the real dialog). After each step the
whole X screen is captured to SCREENS/NN-step.png. Prints one JSON line of facts at the end.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from kamaros_app.demo import cover_png
from kamaros_app.engine import Project
from kamaros_app.ui.settings import Settings

TIMEOUT_S = 60


def wait_until(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        QApplication.processEvents()
        time.sleep(0.02)


def settle(seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.02)


def when_dialog(action: Callable[[QWidget], None]) -> None:
    """Run `action` on the next modal dialog, from inside its own event loop."""

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None or not dialog.isVisible():
            QTimer.singleShot(50, poll)
            return
        action(dialog)

    QTimer.singleShot(50, poll)


def main() -> None:
    folder, screens = Path(sys.argv[1]), Path(sys.argv[2])
    screens.mkdir(parents=True, exist_ok=True)
    folder.mkdir(parents=True)
    (folder / "story.md").write_text("# A story\n\nIt was a quiet evening.\nThe end.\n")
    (folder / "cover.png").write_bytes(cover_png(dusk=False))
    with Project.init(folder) as project:
        first = project.checkpoint("First draft", author="E2E").id

    from kamaros_app.ui import app as app_module

    facts: dict[str, object] = {"first": first}
    shots: list[str] = []

    def shoot(name: str) -> None:
        settle()
        screen = QApplication.primaryScreen()
        path = screens / f"{len(shots) + 1:02d}-{name}.png"
        assert screen.grabWindow(0).save(str(path)), path
        shots.append(str(path))

    qapp = app_module._application()  # the real application object, Fusion and theme
    manager = app_module.WindowManager(Settings())
    opened: list[QWidget] = []
    manager.sig_window_opened.connect(lambda window, _path: opened.append(window))
    manager.open_path(folder)
    wait_until(lambda: opened and getattr(opened[0], "loaded", False), "the project window")
    window = opened[0]
    window.resize(1360, 860)
    window.activateWindow()
    shoot("open")

    # A person edits a file with their own editor...
    (folder / "story.md").write_text("# A story\n\nIt was a stormy evening.\nThe end.\n")
    QTest.keyClick(window, Qt.Key.Key_F5)
    wait_until(lambda: window.act_save.isEnabled(), "Save Checkpoint to become available")
    shoot("edited")

    def fill_save(dialog: QWidget) -> None:
        QTest.keyClicks(dialog.message_edit, "Make it stormy")
        shoot("save-dialog")
        QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    when_dialog(fill_save)
    QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_until(lambda: window.history_model.total == 2, "the new checkpoint in the history")
    wait_until(lambda: window.header_title.text() == "Make it stormy", "the new checkpoint shown")
    wait_until(lambda: window.diff_outcome is not None, "the diff of the changed file")
    shoot("checkpoint-and-diff")
    facts["diff_kind"] = getattr(window.diff_outcome, "kind", None)

    assert window.select_version(first)
    wait_until(lambda: window.header_title.text() == "First draft", "the first checkpoint")
    # show_version() clears the outcome with the header: this waits for the new diff.
    wait_until(lambda: window.diff_outcome is not None, "the diff in the first checkpoint")
    shoot("first-checkpoint")

    def confirm_restore(dialog: QWidget) -> None:
        shoot("restore-confirm")
        QTest.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)

    when_dialog(confirm_restore)
    window.act_restore.trigger()
    wait_until(lambda: window.notice.isVisible(), "the notice after restoring")
    wait_until(lambda: window.history_model.total == 3, "the restore recorded in the history")
    shoot("restored")
    facts["story_after_restore"] = (folder / "story.md").read_text()
    facts["notice"] = window.notice_label.text()
    facts["shots"] = shots
    print(json.dumps(facts), flush=True)
    manager.quit()
    qapp.processEvents()


if __name__ == "__main__":
    main()
