"""The welcome screen: recent projects, the three ways to open something, drops."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget
from pytestqt.qtbot import QtBot

from kamaros_app.engine import Project
from kamaros_app.ui.context import AppContext
from kamaros_app.ui.settings import Settings
from kamaros_app.ui.welcome import EMPTY_RECENT, PathDropFilter, WelcomeWidget


class Calls:
    def __init__(self) -> None:
        self.opened: list[Path] = []
        self.demos = 0

    def open_path(self, path: Path) -> None:
        self.opened.append(path)

    def open_demo(self) -> None:
        self.demos += 1


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def context(calls: Calls) -> AppContext:
    def no_error(_parent: object, title: str, exc: BaseException) -> None:
        raise AssertionError(f"unexpected error dialog {title}: {exc!r}")

    return AppContext(
        settings=Settings(),
        open_path=calls.open_path,
        demo_path=lambda: Path("/nonexistent"),
        show_error=no_error,
        apply_theme=lambda _name: None,
        open_demo=calls.open_demo,
    )


def make_widget(qtbot: QtBot, context: AppContext) -> WelcomeWidget:
    widget = WelcomeWidget(context)
    qtbot.addWidget(widget)
    widget.resize(800, 500)
    widget.show()
    return widget


def folders(tmp_path: Path, *names: str) -> list[Path]:
    made = []
    for name in names:
        folder = tmp_path / name
        folder.mkdir()
        made.append(folder)
    return made


def test_empty_recent_list_says_what_will_appear(qtbot: QtBot, context: AppContext) -> None:
    widget = make_widget(qtbot, context)
    assert widget.recent_stack.currentWidget() is widget.empty_label
    assert widget.empty_label.text() == EMPTY_RECENT
    assert widget.empty_label.isVisible()


def test_recent_projects_newest_first_missing_dropped_click_and_enter_open(
    qtbot: QtBot, context: AppContext, calls: Calls, tmp_path: Path
) -> None:
    old, gone, new = folders(tmp_path, "old", "gone", "new")
    for folder in (old, gone, new):
        context.settings.add_recent(folder)
    gone.rmdir()
    widget = make_widget(qtbot, context)
    assert widget.recent_paths() == [new, old]
    assert widget.recent_list.isVisible()
    assert widget.recent_list.item(0).text() == "new"
    assert widget.recent_list.item(0).toolTip() == str(new)

    rect = widget.recent_list.visualItemRect(widget.recent_list.item(1))
    qtbot.mouseClick(widget.recent_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert calls.opened == [old]

    widget.recent_list.setFocus()
    widget.recent_list.setCurrentRow(0)
    qtbot.keyClick(widget.recent_list, Qt.Key.Key_Return)
    assert calls.opened == [old, new]


def test_an_item_whose_folder_vanished_is_dropped_when_clicked(
    qtbot: QtBot, context: AppContext, calls: Calls, tmp_path: Path
) -> None:
    (folder,) = folders(tmp_path, "soon-gone")
    context.settings.add_recent(folder)
    widget = make_widget(qtbot, context)
    folder.rmdir()
    widget.recent_list.setCurrentRow(0)
    qtbot.keyClick(widget.recent_list, Qt.Key.Key_Return)
    assert calls.opened == []
    assert widget.empty_label.isVisible()


def test_buttons_and_shortcuts(
    qtbot: QtBot,
    context: AppContext,
    calls: Calls,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (folder,) = folders(tmp_path, "essay")
    jcf = tmp_path / "sent.jcf"
    jcf.write_bytes(b"")
    filters: list[str] = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))

    def get_file(_parent: object, _title: str, _start: str, file_filter: str) -> tuple[str, str]:
        filters.append(file_filter)
        return str(jcf), file_filter

    monkeypatch.setattr(QFileDialog, "getOpenFileName", get_file)
    widget = make_widget(qtbot, context)
    assert "Open Folder" in widget.open_folder_button.text()
    qtbot.mouseClick(widget.open_folder_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(widget.open_file_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(widget.demo_button, Qt.MouseButton.LeftButton)
    assert calls.opened == [folder, jcf]
    assert "*.jcf" in filters[0]
    assert calls.demos == 1

    actions = widget.app_actions
    assert QKeySequence("Ctrl+O") in actions.open_folder.shortcuts()
    assert actions.open_file.shortcut() == QKeySequence("Ctrl+Shift+O")
    assert QKeySequence("Ctrl+Q") in actions.quit.shortcuts()
    assert QKeySequence("Ctrl+,") in actions.settings.shortcuts()
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow)
    qtbot.keyClick(widget, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert calls.opened == [folder, jcf, folder]


def drop(target: QWidget, paths: list[Path]) -> tuple[bool, bool]:
    """Drag `paths` over `target` and drop them: (enter accepted, drop accepted)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    with warnings.catch_warnings():  # PySide marks the only constructor deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(
            QPoint(20, 20),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
    enter.setAccepted(False)
    QApplication.sendEvent(target, enter)
    event = QDropEvent(
        QPointF(20, 20),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    event.setAccepted(False)
    QApplication.sendEvent(target, event)
    return enter.isAccepted(), event.isAccepted()


def project_file(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    (source / "a.txt").write_text("a\n", encoding="utf-8")
    with Project.init(source) as project:
        project.checkpoint("First")
        project.export_container(tmp_path / "shared.jcf")
    return tmp_path / "shared.jcf"


def test_dropping_a_folder_or_a_project_file_opens_it(
    qtbot: QtBot, context: AppContext, calls: Calls, tmp_path: Path
) -> None:
    widget = make_widget(qtbot, context)
    assert widget.acceptDrops()
    (folder,) = folders(tmp_path, "dropped")
    jcf = project_file(tmp_path)
    assert drop(widget, [folder]) == (True, True)
    assert drop(widget, [jcf]) == (True, True)
    assert calls.opened == [folder, jcf]

    text = tmp_path / "notes.txt"
    text.write_text("not a project\n", encoding="utf-8")
    assert drop(widget, [text]) == (False, False)
    assert drop(widget, [tmp_path / "missing"]) == (False, False)
    assert calls.opened == [folder, jcf]


def test_any_window_accepts_drops_through_the_filter(
    qtbot: QtBot, context: AppContext, calls: Calls, tmp_path: Path
) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    PathDropFilter.install(window, context)
    assert window.acceptDrops()
    (folder,) = folders(tmp_path, "elsewhere")
    assert drop(window, [folder]) == (True, True)
    assert calls.opened == [folder]
