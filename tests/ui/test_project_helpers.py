"""Shared helpers for the project window tests (no tests here): a real AppContext with
recording verbs, real projects made with the engine, and waiting for the window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from kamaros_app.demo import cover_png
from kamaros_app.engine import Project
from kamaros_app.ui.context import AppContext
from kamaros_app.ui.project_window import ProjectWindow
from kamaros_app.ui.settings import Settings

LOAD_MS = 30_000


@dataclass
class Recorder:
    """What the window asked of the application."""

    opened: list[Path] = field(default_factory=list)
    errors: list[tuple[str, BaseException]] = field(default_factory=list)


def make_context(tmp_path: Path) -> tuple[AppContext, Recorder]:
    recorder = Recorder()

    def show_error(_parent: QWidget | None, title: str, exc: BaseException) -> None:
        recorder.errors.append((title, exc))

    context = AppContext(
        settings=Settings(tmp_path / "settings.ini"),
        open_path=recorder.opened.append,
        demo_path=lambda: tmp_path / "demo",
        show_error=show_error,
        apply_theme=lambda _theme: None,
        quit=lambda: None,
    )
    return context, recorder


def make_history(folder: Path) -> dict[str, str]:
    """Three checkpoints: notes + picture; edit notes, tag; rename + delete + new image.

    Returns the ids by name: first, second, third.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_text("first line\nsecond line\n", encoding="utf-8")
    (folder / "chapters").mkdir()
    (folder / "chapters" / "one.md").write_text("# One\n\nIt was a dark night.\n")
    (folder / "cover.png").write_bytes(cover_png(dusk=False))
    (folder / "old-draft.txt").write_text("to be deleted\n")
    ids = {}
    with Project.init(folder) as project:
        ids["first"] = project.checkpoint("Start the notes", author="Tess Ter").id
    (folder / "notes.txt").write_text("first line\nsecond line, edited\n", encoding="utf-8")
    with Project.open(folder) as project:
        ids["second"] = project.checkpoint(
            "Edit the notes\n\nA longer description.", tag="draft-2", author="Tess Ter"
        ).id
    (folder / "chapters" / "one.md").rename(folder / "chapters" / "opening.md")
    (folder / "old-draft.txt").unlink()
    (folder / "cover.png").write_bytes(cover_png(dusk=True))
    with Project.open(folder) as project:
        ids["third"] = project.checkpoint("Rename the opening, dusk cover").id
    return ids


def open_window(
    qtbot: QtBot, context: AppContext, path: Path, *, standalone: bool = False
) -> ProjectWindow:
    window = ProjectWindow(context, path, standalone=standalone)
    qtbot.addWidget(window)
    window.show()
    wait_for(qtbot, lambda: window.loaded)
    return window


def wait_for(qtbot: QtBot, condition: Callable[[], object], timeout: int = LOAD_MS) -> None:
    qtbot.waitUntil(lambda: bool(condition()), timeout=timeout)


def wait_idle(qtbot: QtBot, window: ProjectWindow) -> None:
    """Until no write runs and the changes panel knows the folder's status."""
    wait_for(qtbot, lambda: not window.runner.busy)
    wait_for(qtbot, lambda: window.changes.status is not None or window.standalone)
    wait_for(qtbot, lambda: not window._status_running and not window._status_pending)
    QApplication.processEvents()


def activate(qtbot: QtBot, window: QWidget) -> None:
    """Make the window active again (a dialog answered by a test can leave none active)."""
    window.activateWindow()
    wait_for(qtbot, window.isActiveWindow, timeout=5000)


def tree_paths(window: ProjectWindow) -> list[str]:
    return sorted(node.path for node in window.contents_model.root.iter_files())
