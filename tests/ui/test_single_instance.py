"""One Kamaros per user: a second start hands its path to the running instance."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QMainWindow
from pytestqt.qtbot import QtBot

from kamaros_app import desktop
from kamaros_app.engine import Project
from kamaros_app.ui.app import WindowManager
from kamaros_app.ui.context import AppContext
from kamaros_app.ui.settings import Settings

TIMEOUT_MS = 30_000


class StubWindow(QMainWindow):
    sig_closed = Signal(object)
    sig_loaded = Signal()

    def __init__(self, context: AppContext, path: Path, *, standalone: bool) -> None:
        super().__init__()
        self.path = path
        QTimer.singleShot(10, self, self.sig_loaded.emit)


@pytest.fixture
def manager(qtbot: QtBot, tmp_path: Path):  # type: ignore[no-untyped-def]
    manager = WindowManager(
        Settings(), window_factory=StubWindow, quit_app=lambda: None, demo_base=tmp_path / "d"
    )
    yield manager
    manager.shutdown()
    shiboken6.delete(manager)


def _project(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "a.txt").write_text("hello\n")
    with Project.init(folder) as project:
        project.checkpoint("first")
    return folder


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTEST_CURRENT_TEST", None)  # the child is a real start, not a test
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def _wait_for(qtbot: QtBot, proc: subprocess.Popen[bytes]) -> int:
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=TIMEOUT_MS)
    return proc.returncode


def test_hand_off_opens_the_path_in_a_new_window(
    qtbot: QtBot, manager: WindowManager, tmp_path: Path
) -> None:
    name = f"kamaros-test-{uuid.uuid4().hex}"
    server = desktop.start_instance_server(manager.open_from_another_start, name, manager)
    assert server is not None
    first, second = _project(tmp_path, "first"), _project(tmp_path, "second")
    manager.open_path(first)
    code = (
        "import sys; from kamaros_app.desktop import hand_off; "
        "sys.exit(0 if hand_off(sys.argv[2:], sys.argv[1]) else 3)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, name, str(second)], env=_child_env())
    assert _wait_for(qtbot, proc) == 0
    qtbot.waitUntil(lambda: manager.window_for(second) is not None, timeout=TIMEOUT_MS)
    assert manager.window_for(first) is not None  # a new window; the first one stays
    assert manager.window_for(first) is not manager.window_for(second)


def test_second_server_does_not_take_over(qtbot: QtBot, manager: WindowManager) -> None:
    name = f"kamaros-test-{uuid.uuid4().hex}"
    server = desktop.start_instance_server(manager.open_from_another_start, name, manager)
    assert server is not None
    assert desktop.start_instance_server(lambda _paths: None, name, manager) is None


def test_no_running_instance_means_no_hand_off(qtbot: QtBot) -> None:
    assert desktop.hand_off([], f"kamaros-test-{uuid.uuid4().hex}") is False


def test_second_kamaros_app_start_hands_over_and_exits(
    qtbot: QtBot, manager: WindowManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`kamaros-app FILE.jcf` while Kamaros runs: the running one opens it, the new one
    leaves with 0 (this is what a file manager's double click does)."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    server = desktop.start_instance_server(manager.open_from_another_start, parent=manager)
    assert server is not None
    folder = _project(tmp_path, "p")
    standalone = tmp_path / "copy.jcf"
    subprocess.run(
        [sys.executable, "-m", "kamaros_app", "-C", str(folder), "export", str(standalone)],
        check=True,
        capture_output=True,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "kamaros_app.ui.app", str(standalone)],
        env=_child_env(),
        stdout=subprocess.PIPE,
    )
    assert _wait_for(qtbot, proc) == 0
    assert proc.stdout is not None
    assert b"handed over" in proc.stdout.read()
    qtbot.waitUntil(lambda: manager.window_for(standalone) is not None, timeout=TIMEOUT_MS)
