"""The window manager: one window per project, the welcome window, starting a history."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest
import shiboken6
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QCloseEvent, QImage
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from kamaros_app.engine import Project
from kamaros_app.ui import theme
from kamaros_app.ui.app import WindowManager, main
from kamaros_app.ui.context import AppContext
from kamaros_app.ui.dialogs.settings_dialog import SettingsDialog
from kamaros_app.ui.settings import Settings
from kamaros_app.ui.welcome import WelcomeWindow

TIMEOUT_MS = 30_000


class FakeWindow(QMainWindow):
    """Stands in for ProjectWindow: same constructor and signals."""

    sig_closed = Signal(object)
    sig_loaded = Signal()
    created: ClassVar[list[FakeWindow]] = []

    def __init__(self, context: AppContext, path: Path, *, standalone: bool) -> None:
        super().__init__()
        self.context = context
        self.path = path
        self.standalone = standalone
        self.raised = 0
        self.refuse_close = False
        FakeWindow.created.append(self)
        QTimer.singleShot(50, self, self.sig_loaded.emit)

    def raise_(self) -> None:
        self.raised += 1
        super().raise_()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.refuse_close:
            event.ignore()
            return
        super().closeEvent(event)
        self.sig_closed.emit(self)


class Quits:
    count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
def quits() -> Quits:
    return Quits()


@pytest.fixture
def manager(qtbot: QtBot, quits: Quits, tmp_path: Path):  # type: ignore[no-untyped-def]
    FakeWindow.created = []
    manager = WindowManager(
        Settings(), window_factory=FakeWindow, quit_app=quits, demo_base=tmp_path / "demo"
    )
    manager.show_welcome()
    yield manager
    manager.shutdown()
    for window in [*FakeWindow.created, manager.welcome, *manager.error_dialogs]:
        if window is not None and shiboken6.isValid(window):
            window.close()
            window.deleteLater()


def make_project(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("hello\n", encoding="utf-8")
    with Project.init(folder) as project:
        project.checkpoint("First")
    return folder


def test_two_projects_open_in_two_windows_and_the_welcome_window_hides(
    qtbot: QtBot, manager: WindowManager, tmp_path: Path
) -> None:
    assert manager.welcome is not None and manager.welcome.isVisible()
    first = make_project(tmp_path / "first")
    second = make_project(tmp_path / "second")
    manager.open_path(first)
    assert not manager.welcome.isVisible()
    manager.open_path(second)
    assert [w.path for w in FakeWindow.created] == [first, second]
    assert all(w.isVisible() and not w.standalone for w in FakeWindow.created)
    assert manager.window_for(first) is FakeWindow.created[0]
    assert isinstance(FakeWindow.created[0].context, AppContext)
    assert manager.settings.recent_projects == [second, first]


def test_opening_an_open_project_again_raises_its_window(
    qtbot: QtBot, manager: WindowManager, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "p")
    (project / "chapter").mkdir()
    manager.open_path(project)
    window = FakeWindow.created[0]
    raised = window.raised
    manager.open_path(project)
    manager.open_path(project / "chapter")  # a folder inside the project: the project
    manager.open_path(project / ".kamaros" / "project.jcf")  # its own history file
    assert len(FakeWindow.created) == 1
    assert window.raised == raised + 3


def test_a_standalone_project_file_opens_read_only(
    qtbot: QtBot, manager: WindowManager, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "p")
    jcf = tmp_path / "copy.jcf"
    with Project.open(project) as opened:
        opened.export_container(jcf)
    manager.open_path(jcf)
    assert [(w.path, w.standalone) for w in FakeWindow.created] == [(jcf, True)]
    assert manager.describe_history(jcf) == " (1 checkpoint)"


def test_welcome_comes_back_when_the_last_project_window_closes(
    qtbot: QtBot, manager: WindowManager, quits: Quits, tmp_path: Path
) -> None:
    first = make_project(tmp_path / "first")
    second = make_project(tmp_path / "second")
    manager.open_path(first)
    manager.open_path(second)
    one, two = FakeWindow.created
    one.close()
    assert manager.welcome is not None and not manager.welcome.isVisible()
    two.close()
    assert manager.welcome.isVisible()
    assert manager.windows == {}
    assert manager.welcome.welcome.recent_paths() == [second, first]
    assert quits.count == 0
    manager.welcome.close()  # closing the welcome window with nothing open quits
    assert quits.count == 1


def test_quit_closes_every_window_unless_one_refuses(
    qtbot: QtBot, manager: WindowManager, quits: Quits, tmp_path: Path
) -> None:
    manager.open_path(make_project(tmp_path / "a"))
    manager.open_path(make_project(tmp_path / "b"))
    busy, idle = FakeWindow.created
    busy.refuse_close = True  # e.g. it is saving a checkpoint
    manager.context.quit()
    assert quits.count == 0 and busy.isVisible()
    busy.refuse_close = False
    manager.context.quit()
    assert quits.count == 1
    assert not busy.isVisible() and not idle.isVisible()
    assert manager.welcome is not None and not manager.welcome.isVisible(), "no flash at exit"


def answer_question(qtbot: QtBot, button_text: str, seen: list[str]) -> None:
    """Click `button_text` in the next message box, once it is on screen."""

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen.append(box.text())
        for button in box.findChildren(QPushButton):
            if button.text().replace("&", "") == button_text:
                button.click()
                return
        raise AssertionError(f"no {button_text!r} button in {box.text()!r}")

    QTimer.singleShot(0, answer)


def test_an_unversioned_folder_asks_once_then_starts_its_history(
    qtbot: QtBot, manager: WindowManager, tmp_path: Path
) -> None:
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.md").write_text("# One\n", encoding="utf-8")
    seen: list[str] = []
    answer_question(qtbot, "Yes", seen)
    manager.open_path(folder)
    assert seen == ["Start keeping the history of thesis?"]
    qtbot.waitUntil(lambda: len(FakeWindow.created) == 1, timeout=TIMEOUT_MS)
    assert FakeWindow.created[0].path == folder.resolve()
    with Project.open(folder, read_only=True) as project:
        assert project.log() == []
        assert project.status().added == ["chapter1.md"]
    manager.open_path(folder)
    assert len(seen) == 1, "a folder with history is not asked about"


def test_not_now_leaves_the_folder_alone(
    qtbot: QtBot, manager: WindowManager, tmp_path: Path
) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    seen: list[str] = []
    answer_question(qtbot, "Not Now", seen)
    manager.open_path(folder)
    assert len(seen) == 1
    qtbot.wait(100)
    assert FakeWindow.created == []
    assert not (folder / ".kamaros").exists()
    assert manager.welcome is not None and manager.welcome.isVisible()
    assert manager.settings.recent_projects == []
    answer_question(qtbot, "Not Now", seen)
    manager.open_path(folder)
    assert len(seen) == 2, "asked again next time it is opened"


def test_a_missing_path_shows_a_plain_error(
    qtbot: QtBot, manager: WindowManager, tmp_path: Path
) -> None:
    manager.open_path(tmp_path / "nowhere")
    assert FakeWindow.created == []
    (dialog,) = manager.error_dialogs
    assert dialog.isVisible()
    assert dialog.windowTitle() == "Could not open nowhere"
    assert "could not be found" in dialog.explanation_label.text()
    manager.open_path(tmp_path / "nowhere")
    assert len([d for d in manager.error_dialogs if shiboken6.isValid(d)]) == 1, "not twice"
    text = tmp_path / "notes.txt"
    text.write_text("x", encoding="utf-8")
    manager.open_path(text)
    assert "not a Kamaros project file" in manager.error_dialogs[-1].explanation_label.text()


def test_the_demo_is_built_off_the_ui_thread_then_opened(
    qtbot: QtBot, manager: WindowManager, tmp_path: Path
) -> None:
    manager.context.open_demo_project()
    assert manager.runner.busy
    qtbot.waitUntil(lambda: len(FakeWindow.created) == 1, timeout=TIMEOUT_MS)
    demo = tmp_path / "demo" / "demo-project"
    assert FakeWindow.created[0].path == demo.resolve()
    assert manager.describe_history(demo) == " (4 checkpoints)"


def test_settings_dialog_applies_the_theme_at_once_and_saves_on_ok(
    qtbot: QtBot, manager: WindowManager, qapp: QApplication
) -> None:
    theme.apply_theme("light", qapp)
    dialog = SettingsDialog(manager.context)
    qtbot.addWidget(dialog)
    dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("dark"))
    assert theme.is_dark(), "applied before OK"
    dialog.reject()
    assert not theme.is_dark(), "Cancel puts the theme back"
    assert manager.settings.theme == "system"

    dialog = SettingsDialog(manager.context)
    qtbot.addWidget(dialog)
    dialog.author_edit.setText("Grace Hopper")
    dialog.email_edit.setText("not an email")
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled()
    dialog.email_edit.setText("grace@example.org")
    assert ok.isEnabled()
    dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("dark"))
    dialog.accept()
    saved = Settings()
    assert (saved.author, saved.email, saved.theme) == ("Grace Hopper", "grace@example.org", "dark")
    theme.apply_theme("light", qapp)


def run_main(
    monkeypatch: pytest.MonkeyPatch, qapp: QApplication, argv: list[str]
) -> tuple[int, list[FakeWindow]]:
    import kamaros_app.ui.app as app_module

    FakeWindow.created = []
    monkeypatch.setattr(app_module, "project_window_factory", FakeWindow)
    try:
        return main(argv), list(FakeWindow.created)
    finally:
        qapp.setQuitOnLastWindowClosed(True)
        theme.apply_theme("light", qapp)


def close_all(windows: list[FakeWindow]) -> None:
    for window in windows:
        if shiboken6.isValid(window):
            window.close()


def test_main_smoke_test_opens_the_path_waits_for_it_and_saves_a_picture(
    qapp: QApplication,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = make_project(tmp_path / "p")
    shot = tmp_path / "shots" / "window.png"
    code, windows = run_main(monkeypatch, qapp, ["--screenshot", str(shot), str(project)])
    close_all(windows)
    assert code == 0
    assert [w.path for w in windows] == [project]
    assert shot.read_bytes().startswith(b"\x89PNG")
    assert f"opened {project} (1 checkpoint)" in capsys.readouterr().out


def test_main_smoke_test_fails_on_an_error(
    qapp: QApplication,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, windows = run_main(monkeypatch, qapp, ["--smoke-test", str(tmp_path / "missing")])
    close_all(windows)
    assert code == 1
    assert "Could not open missing" in capsys.readouterr().err


def test_main_shows_the_welcome_window_when_asked(
    qapp: QApplication,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shot = tmp_path / "welcome.png"
    code, windows = run_main(
        monkeypatch, qapp, ["--welcome", "--theme", "dark", "--screenshot", str(shot)]
    )
    assert code == 0 and windows == []
    assert "welcome shown" in capsys.readouterr().out
    image = QImage(str(shot))
    assert image.width() > 400
    assert image.pixelColor(image.width() - 5, image.height() - 5).lightness() < 80, "dark"
    leftovers = [w for w in QApplication.topLevelWidgets() if isinstance(w, WelcomeWindow)]
    assert not [w for w in leftovers if w.isVisible()], "main() closes its windows"


def test_the_app_starts_and_quits_in_its_own_process(tmp_path: Path) -> None:
    shot = tmp_path / "welcome.png"
    result = subprocess.run(
        [sys.executable, "-m", "kamaros_app.ui.app", "--welcome", "--screenshot", str(shot)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stderr
    assert "welcome shown" in result.stdout
    assert shot.read_bytes().startswith(b"\x89PNG")
