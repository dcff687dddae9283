"""Errors in plain words: explain(), the ErrorDialog (Details, Copy), the log and excepthook."""

from __future__ import annotations

import contextlib
import errno
import logging
import logging.handlers
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import platformdirs
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kamaros_app import __version__
from kamaros_app.engine import (
    CancelledError,
    ContainerError,
    DamagedContainerError,
    DiskFullError,
    FileChangedError,
    HostileContainerError,
    InvalidArgumentError,
    KamarosError,
    LockedError,
    NotAProjectError,
    NothingToSaveError,
    ProjectExistsError,
    ReadOnlyError,
    UnsupportedFormatError,
    VersionNotFoundError,
)

if TYPE_CHECKING:
    from kamaros_app.ui.context import AppContext

__all__ = [
    "ErrorDialog",
    "configure_logging",
    "details_text",
    "explain",
    "install_excepthook",
    "log_path",
]

logger = logging.getLogger("kamaros")
logger.addHandler(logging.NullHandler())  # silent until the app configures the log file

LOCKED = (
    "Another Kamaros window or command is saving this project right now. Try again in a moment."
)
_SIMPLE: list[tuple[type[BaseException], str]] = [
    (LockedError, LOCKED),
    (CancelledError, "Cancelled. Nothing was changed."),
    (
        NothingToSaveError,
        "Nothing has changed since the last checkpoint, so there is nothing to save.",
    ),
    (NotAProjectError, "This folder has no Kamaros history yet."),
    (ProjectExistsError, "There is already a Kamaros history (or a folder) there."),
    (
        VersionNotFoundError,
        "That checkpoint could not be found in this project's history. It may have been removed "
        "in another window; reopen the project to see its current history.",
    ),
    (
        ReadOnlyError,
        "This history is open for viewing only, so it cannot be changed here. Use "
        '"Extract to Folder…" to start working on a copy.',
    ),
    (
        DiskFullError,
        "The disk is full, so nothing was changed. Free some space on the disk and try again.",
    ),
    (
        FileChangedError,
        "A file kept changing while Kamaros was saving it, so nothing was saved. Close the "
        "program that is writing to it (or wait until it has finished) and try again.",
    ),
    (
        HostileContainerError,
        "This project file contains something unsafe (for example a file name that points "
        "outside its folder, or data that would expand to an enormous size), so Kamaros will "
        "not open it.",
    ),
    (
        DamagedContainerError,
        "This project's history file is damaged: some stored data no longer matches what was "
        "saved. Nothing was changed. Use Check Project to see which checkpoints are affected; "
        "the files in your folder are not touched.",
    ),
    (ContainerError, "This project file could not be read: it may be damaged or incomplete."),
]


def explain(exc: BaseException) -> str:
    """Plain, non-technical words for what went wrong and what to do next."""
    if isinstance(exc, UnsupportedFormatError):
        if "original Kamaros" in str(exc):
            return (
                "This is an archive from the original Kamaros. Import it to turn it into a "
                "project folder."
            )
        return (
            "This project file was made by a newer version of Kamaros. Update Kamaros to "
            "work with it."
        )
    for kind, text in _SIMPLE:
        if isinstance(exc, kind):
            return text
    if isinstance(exc, InvalidArgumentError):
        message = str(exc).strip() or "That request could not be carried out"
        return message[0].upper() + message[1:] + ("" if message.endswith(".") else ".")
    if isinstance(exc, KamarosError):
        return "Kamaros could not finish this. Nothing was changed."
    if isinstance(exc, OSError):
        return _explain_os_error(exc)
    if isinstance(exc, MemoryError):
        return "The computer ran out of memory. Close some programs and try again."
    return (
        "Something unexpected went wrong inside Kamaros. The details below can help to find "
        "the cause; please include them if you report the problem."
    )


def _explain_os_error(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    if isinstance(exc, PermissionError):
        return f"Kamaros is not allowed to read or change this place{where}. Check its permissions."
    if isinstance(exc, FileNotFoundError):
        return f"A file or folder could not be found{where}. It may have been moved or deleted."
    if exc.errno == errno.ENOSPC:
        return "The disk is full. Free some space on the disk and try again."
    if exc.errno == errno.EROFS:
        return f"The disk is read-only, so nothing can be written there{where}."
    reason = exc.strerror or str(exc) or "unknown reason"
    return f"The computer could not read or write a file{where}: {reason}."


def details_text(exc: BaseException) -> str:
    """Type, message and traceback, plus versions: what a bug report needs."""
    lines = [
        f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}",
        "",
        "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip(),
        "",
        f"Kamaros {__version__}, Python {sys.version.split()[0]}, {sys.platform}",
    ]
    return "\n".join(lines)


class ErrorDialog(QDialog):
    """A plain explanation; Details (type, message, traceback) folded away; Copy; Close."""

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        exc: BaseException,
        explanation: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.exception = exc
        self.setWindowTitle(title or "Kamaros")
        self.setMinimumWidth(460)

        icon = QLabel()
        kind = (
            QStyle.StandardPixmap.SP_MessageBoxInformation
            if isinstance(exc, (LockedError, CancelledError, NothingToSaveError))
            else QStyle.StandardPixmap.SP_MessageBoxWarning
        )
        icon.setPixmap(self.style().standardIcon(kind).pixmap(48, 48))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.title_label = QLabel(title)
        font = self.title_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title_label.setFont(font)
        self.title_label.setWordWrap(True)
        self.explanation_label = QLabel(explanation or explain(exc))
        self.explanation_label.setWordWrap(True)
        self.explanation_label.setMinimumWidth(380)  # wrap to the dialog's width, not less
        self.explanation_label.setTextFormat(Qt.TextFormat.PlainText)
        self.explanation_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_button.setArrowType(Qt.ArrowType.RightArrow)
        self.details_button.setAutoRaise(True)
        self.details_button.toggled.connect(self.set_details_visible)
        self.details_view = QPlainTextEdit(details_text(exc))
        self.details_view.setReadOnly(True)
        self.details_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details_view.setMinimumHeight(180)
        self.details_view.setVisible(False)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the details, to paste them into a message or report")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_details)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setDefault(True)
        close.setFocus()

        texts = QVBoxLayout()
        texts.addWidget(self.title_label)
        texts.addWidget(self.explanation_label)
        texts.addStretch(1)  # the words stay together at the top
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addLayout(texts, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.details_view, 1)
        layout.addWidget(buttons)
        self.adjustSize()

    def details(self) -> str:
        return self.details_view.toPlainText()

    def set_details_visible(self, visible: bool) -> None:
        self.details_view.setVisible(visible)
        self.details_button.setArrowType(
            Qt.ArrowType.DownArrow if visible else Qt.ArrowType.RightArrow
        )
        if self.details_button.isChecked() != visible:
            self.details_button.setChecked(visible)
        if visible:
            self.resize(max(self.width(), 640), max(self.height(), 420))
        else:
            self.adjustSize()

    def copy_details(self) -> None:
        text = f"{self.windowTitle()}\n{self.explanation_label.text()}\n\n{self.details()}"
        QGuiApplication.clipboard().setText(text)
        self.copy_button.setText("Copied")


# -- the log and the last-resort hook ---------------------------------------------------------


def log_path() -> Path:
    """`kamaros.log` in the user log folder (e.g. ~/.local/state/kamaros/log/)."""
    return platformdirs.user_log_path("kamaros") / "kamaros.log"


def configure_logging(path: Path | None = None) -> Path:
    """Send the `kamaros` logger to a rotating file (1 MB x 3); safe to call again."""
    path = path or log_path()
    for handler in logger.handlers:
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == path:
            return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return path


ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


def install_excepthook(context: AppContext, *, path: Path | None = None) -> Callable[[], None]:
    """Log uncaught exceptions (with traceback) and show them in an ErrorDialog.

    Returns a function that puts the previous hook back. The app does not install it under
    pytest: pytest-qt relies on its own hook to fail a test whose slot raised.
    """
    configure_logging(path)
    previous: ExceptHook = sys.excepthook
    showing = threading.Lock()

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, exc, tb)
            return
        if exc.__traceback__ is None:
            exc = exc.with_traceback(tb)
        logger.error("Uncaught exception", exc_info=(kind, exc, tb))
        with contextlib.suppress(AttributeError, TypeError):
            exc.kamaros_logged = True  # type: ignore[attr-defined]  # show_error: no second copy
        app = QApplication.instance()
        on_ui_thread = app is not None and threading.current_thread() is threading.main_thread()
        if not on_ui_thread or not showing.acquire(blocking=False):
            return  # one dialog at a time: a failing paint must not open hundreds
        try:
            context.show_error(None, "Something went wrong", exc)
        except Exception:  # the dialog itself failed: the log still has the error
            logger.exception("Could not show the error dialog")
        finally:
            showing.release()

    sys.excepthook = hook

    def uninstall() -> None:
        if sys.excepthook is hook:
            sys.excepthook = previous

    return uninstall
