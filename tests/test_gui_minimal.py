"""The minimal window: open a project, list checkpoints, Save Checkpoint, the demo project."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QInputDialog, QMessageBox
from pytestqt.qtbot import QtBot

from kamaros_app.demo import default_demo_path, ensure_demo_project
from kamaros_app.engine import Project
from kamaros_app.ui import snapshot
from kamaros_app.ui.history_model import relative_time
from kamaros_app.ui.main_window import MainWindow
from kamaros_app.ui.snapshot import Snapshot, status_text

LOAD_TIMEOUT_MS = 30_000


def make_history(folder: Path) -> None:
    """Two checkpoints (the second tagged), then one unsaved edit."""
    (folder / "notes.txt").write_text("first line\n", encoding="utf-8")
    with Project.init(folder) as project:
        project.checkpoint("Start the notes", author="Tess Ter")
    (folder / "picture.bin").write_bytes(bytes(range(256)) * 4)
    with Project.open(folder) as project:
        project.checkpoint("Add a picture", tag="with-picture", author="Tess Ter")
    (folder / "notes.txt").write_text("first line\nsecond line\n", encoding="utf-8")


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    win = MainWindow(show_dialogs=False)
    qtbot.addWidget(win)
    win.show()
    return win


def open_and_wait(qtbot: QtBot, window: MainWindow, folder: Path) -> None:
    with qtbot.waitSignal(window.sig_loaded, timeout=LOAD_TIMEOUT_MS):
        window.open_folder(folder)


def test_window_lists_checkpoints_newest_first(
    qtbot: QtBot, window: MainWindow, project_dir: Path
) -> None:
    make_history(project_dir)
    open_and_wait(qtbot, window, project_dir)

    model = window.model
    assert model.rowCount() == 2
    newest, oldest = model.version_at(0), model.version_at(1)
    assert (newest.message, oldest.message) == ("Add a picture", "Start the notes")
    assert model.index(0, 0).data() == newest.short_id
    assert model.index(0, 1).data() == "Add a picture"
    assert model.index(0, 2).data() == "just now"
    assert model.index(0, 3).data() == "with-picture"
    assert model.index(0, 4).data() == "1 added"
    assert window.status_label.text() == "1 file edited since the last checkpoint."
    assert window.title_label.text() == "project"
    assert window.stack.currentWidget() is window.view


def test_save_checkpoint_runs_on_the_worker(
    qtbot: QtBot, window: MainWindow, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_history(project_dir)
    open_and_wait(qtbot, window, project_dir)
    threads: list[threading.Thread] = []
    real_save = snapshot.save_and_load

    def recording_save(folder: Path, message: str):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread())
        return real_save(folder, message)

    monkeypatch.setattr(snapshot, "save_and_load", recording_save)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("  Second line  ", True))

    assert QKeySequence("Ctrl+S") in window.save_action.shortcuts()
    window.save_action.trigger()
    assert window.busy_label.text() == "Working..."
    assert not window.save_action.isEnabled()  # no second save while one is running
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=LOAD_TIMEOUT_MS)

    assert threads and threads[0] is not threading.main_thread()
    assert window.model.version_at(0).message == "Second line"
    assert window.status_label.text() == "No changes since the last checkpoint."
    qtbot.waitUntil(lambda: window.save_action.isEnabled())
    with Project.open(project_dir, read_only=True) as project:
        assert project.log()[0].message == "Second line"
        assert project.status().is_clean


def test_cancelled_dialog_saves_nothing(
    qtbot: QtBot, window: MainWindow, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_history(project_dir)
    open_and_wait(qtbot, window, project_dir)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("ignored", False))
    window.save_checkpoint()
    assert not window.runner.is_busy()
    with Project.open(project_dir, read_only=True) as project:
        assert len(project.log()) == 2


def test_engine_errors_are_shown_in_a_message_box(
    qtbot: QtBot, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_history(project_dir)
    with Project.open(project_dir) as project:
        project.checkpoint("Everything saved")
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _parent, _title, text: shown.append(text))
    win = MainWindow(show_dialogs=True)
    qtbot.addWidget(win)
    open_and_wait(qtbot, win, project_dir)

    with qtbot.waitSignal(win.sig_failed, timeout=LOAD_TIMEOUT_MS) as failed:
        win.save_checkpoint_with_message("Nothing new")
    assert shown == [failed.args[0]]
    assert shown[0]  # the engine's own one-line message
    assert win.model.rowCount() == 3


def test_opening_a_plain_folder_fails_quietly_without_dialogs(
    qtbot: QtBot, window: MainWindow, project_dir: Path
) -> None:
    with qtbot.waitSignal(window.sig_failed, timeout=LOAD_TIMEOUT_MS):
        window.open_folder(project_dir)
    assert not (project_dir / ".kamaros").exists()
    assert window.root is None
    assert not window.save_action.isEnabled()


def test_opening_a_plain_folder_offers_to_start_its_history(
    qtbot: QtBot, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project_dir / "essay.md").write_text("# Draft\n", encoding="utf-8")
    asked: list[str] = []

    def answer_yes(_parent, _title, text):  # type: ignore[no-untyped-def]
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer_yes)
    win = MainWindow(show_dialogs=True)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.sig_loaded, timeout=LOAD_TIMEOUT_MS):
        win.open_folder(project_dir)
    assert len(asked) == 1
    assert (project_dir / ".kamaros").is_dir()
    assert win.model.rowCount() == 0
    assert win.stack.currentWidget() is win.empty_label
    assert win.status_label.text() == "No checkpoints yet: 1 file to save."


def test_demo_project_is_built_with_its_history(tmp_path: Path) -> None:
    demo = ensure_demo_project(tmp_path)
    assert demo == tmp_path / "demo-project"
    with Project.open(demo, read_only=True) as project:
        log = project.log()
        status = project.status()
    assert len(log) == 4
    assert log[-1].message == "First draft"
    assert "first-draft" in log[-1].tags and "draft-2" in log[0].tags
    assert any(v.renamed for v in log), "the demo shows a renamed file"
    assert any(v.deleted for v in log), "the demo shows a deleted file"
    assert status.modified == ["story.md"] and status.total == 1
    assert (demo / "cover.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    size = sum(p.stat().st_size for p in demo.rglob("*") if p.is_file())
    assert size < 200_000
    assert not [p for p in tmp_path.iterdir() if p.name != "demo-project"], "no leftovers"

    (demo / "story.md").write_text("edited by the user\n", encoding="utf-8")
    assert ensure_demo_project(tmp_path) == demo
    assert (demo / "story.md").read_text(encoding="utf-8") == "edited by the user\n"


def test_demo_project_lives_in_the_user_data_folder() -> None:
    assert default_demo_path().parent.parent == Path(os.environ["XDG_DATA_HOME"])


def test_window_opens_the_demo_project(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.sig_loaded, timeout=LOAD_TIMEOUT_MS):
        window.open_demo()
    assert window.root == default_demo_path().resolve()
    assert window.model.rowCount() == 4
    assert window.status_label.text() == "1 file edited since the last checkpoint."


def test_smoke_test_flag_starts_and_quits(tmp_path: Path) -> None:
    shot = tmp_path / "window.png"
    result = subprocess.run(
        [sys.executable, "-m", "kamaros_app.ui.app", "--smoke-test", "--screenshot", str(shot)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stderr
    assert "(4 checkpoints)" in result.stdout
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_relative_time() -> None:
    now = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    assert relative_time(now - timedelta(seconds=5), now) == "just now"
    assert relative_time(now - timedelta(minutes=1), now) == "1 minute ago"
    assert relative_time(now - timedelta(hours=3), now) == "3 hours ago"
    assert relative_time(now - timedelta(days=1, hours=2), now) == "yesterday"
    assert relative_time(now - timedelta(days=6), now) == "6 days ago"
    assert relative_time(now - timedelta(days=90), now).endswith("2026")


def test_status_text() -> None:
    def text(versions: int, added: int = 0, edited: int = 0, deleted: int = 0) -> str:
        snap = Snapshot(Path("p"), [object()] * versions, added, edited, deleted, 0)  # type: ignore[list-item]
        return status_text(snap)

    assert text(1) == "No changes since the last checkpoint."
    assert text(1, added=2) == "2 files added since the last checkpoint."
    assert text(1, added=1, edited=2) == (
        "3 files changed since the last checkpoint: 1 added, 2 edited."
    )
    assert text(0) == "No checkpoints yet. Add some files to the folder, then Save Checkpoint."
    assert text(0, added=1) == "No checkpoints yet: 1 file to save."
