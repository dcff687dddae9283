"""Plain explanations for every engine error; ErrorDialog; the excepthook and its log file."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from kamaros_app import engine
from kamaros_app.engine import KamarosError, LockedError, Project
from kamaros_app.ui.app import WindowManager
from kamaros_app.ui.errors import (
    LOCKED,
    ErrorDialog,
    configure_logging,
    explain,
    install_excepthook,
    log_path,
    logger,
)
from kamaros_app.ui.settings import Settings

JARGON = ("commit", "HEAD", "branch", "repository", "Error", "exception", "None", "errno")


def engine_error_classes() -> list[type[KamarosError]]:
    return [
        getattr(engine, name)
        for name in engine.__all__
        if isinstance(getattr(engine, name), type)
        and issubclass(getattr(engine, name), KamarosError)
    ]


def test_every_engine_error_has_its_own_plain_explanation() -> None:
    classes = engine_error_classes()
    assert len(classes) >= 14
    texts = {cls: explain(cls("internal detail /x/y")) for cls in classes}
    for cls, text in texts.items():
        assert text and text[0].isupper() and text.endswith("."), cls
        assert not any(word in text for word in JARGON), (cls, text)
        if cls is not engine.InvalidArgumentError:  # that one is a message for people
            assert "internal detail" not in text, cls
    specific = {
        c: t for c, t in texts.items() if c not in (KamarosError, engine.InvalidArgumentError)
    }
    assert len(set(specific.values())) == len(specific), "each kind says something different"
    assert explain(LockedError("x is being changed by another ...")) == (
        "Another Kamaros window or command is saving this project right now. Try again in a moment."
    )
    assert explain(LockedError()) == LOCKED


def test_specific_wording() -> None:
    assert "nothing to save" in explain(engine.NothingToSaveError("clean")).lower()
    assert "disk is full" in explain(engine.DiskFullError("ENOSPC")).lower()
    assert "damaged" in explain(engine.DamagedContainerError("crc")).lower()
    assert "newer version" in explain(engine.UnsupportedFormatError("format 3.0"))
    assert "Import" in explain(
        engine.UnsupportedFormatError("an archive from the original Kamaros")
    )
    assert "Cancelled" in explain(engine.CancelledError("cancelled"))
    assert explain(engine.InvalidArgumentError("tag 'v1' already exists")) == (
        "Tag 'v1' already exists."
    )
    assert "permissions" in explain(PermissionError(errno.EACCES, "denied", "/root/x"))
    assert "/gone" in explain(FileNotFoundError(errno.ENOENT, "missing", "/gone"))
    assert "disk is full" in explain(OSError(errno.ENOSPC, "No space left"))
    assert "unexpected" in explain(RuntimeError("boom"))


def test_a_real_lock_error_is_explained(project_dir: Path) -> None:
    with Project.init(project_dir), pytest.raises(LockedError) as caught:
        Project.open(project_dir)
    assert explain(caught.value) == LOCKED


def raise_inside() -> None:
    def deeper() -> None:
        raise engine.DamagedContainerError("entry content/a.txt: CRC mismatch")

    deeper()


def test_error_dialog_explains_with_details_and_copy(qtbot: QtBot) -> None:
    try:
        raise_inside()
    except engine.DamagedContainerError as exc:
        error = exc
    dialog = ErrorDialog(None, "Could not restore", error)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.windowTitle() == "Could not restore"
    assert dialog.explanation_label.text() == explain(error)
    assert not dialog.details_view.isVisible(), "details are folded away at first"
    qtbot.mouseClick(dialog.details_button, qtbot_left())
    assert dialog.details_view.isVisible()
    details = dialog.details()
    assert "kamaros_app.engine.errors.DamagedContainerError" in details
    assert "CRC mismatch" in details
    assert "Traceback" in details and "in deeper" in details
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(dialog.copy_button, qtbot_left())
    copied = QGuiApplication.clipboard().text()
    assert "Could not restore" in copied and explain(error) in copied and details in copied
    qtbot.mouseClick(dialog.details_button, qtbot_left())
    assert not dialog.details_view.isVisible()


def qtbot_left():  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


@pytest.fixture
def no_log_file():  # type: ignore[no-untyped-def]
    yield
    for handler in list(logger.handlers):
        if isinstance(handler, logging.FileHandler):
            logger.removeHandler(handler)
            handler.close()


@pytest.mark.qt_no_exception_capture
def test_excepthook_logs_and_shows_the_error_dialog(
    qtbot: QtBot, no_log_file: None, tmp_path: Path
) -> None:
    manager = WindowManager(Settings(), window_factory=lambda *a, **k: QWidget())
    uninstall = install_excepthook(manager.context)
    try:

        def broken_slot() -> None:
            raise ZeroDivisionError("the slot divided by zero")

        QTimer.singleShot(0, broken_slot)
        qtbot.waitUntil(lambda: bool(manager.error_dialogs), timeout=10_000)
    finally:
        uninstall()
    dialog = manager.error_dialogs[-1]
    assert dialog.isVisible()
    assert "unexpected" in dialog.explanation_label.text()
    assert "the slot divided by zero" in dialog.details()
    path = log_path()
    assert path == Path(os.environ["XDG_STATE_HOME"]) / "kamaros" / "log" / "kamaros.log"
    for handler in logger.handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "Uncaught exception" in text
    assert "Traceback" in text and "in broken_slot" in text
    assert "ZeroDivisionError: the slot divided by zero" in text
    assert text.count("in broken_slot") == 1, "logged once"
    dialog.close()
    manager.shutdown()


def test_configure_logging_is_idempotent(no_log_file: None, tmp_path: Path) -> None:
    path = tmp_path / "logs" / "k.log"
    assert configure_logging(path) == path
    configure_logging(path)
    files = [h for h in logger.handlers if isinstance(h, logging.FileHandler)]
    assert len(files) == 1
    logger.warning("hello log")
    files[0].flush()
    assert "WARNING kamaros: hello log" in path.read_text(encoding="utf-8")
