"""What every window gets from the application: settings and the app-wide verbs (no widgets)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from kamaros_app.ui.settings import Settings

__all__ = ["AppContext"]


def _quit_application() -> None:
    QCoreApplication.quit()


@dataclass
class AppContext:
    """Passed explicitly to every window and dialog; there are no module-level singletons.

    The application's window manager fills it in; tests build one with fakes.
    """

    settings: Settings
    open_path: Callable[[Path], None]
    """Open a folder (versioned or not) or a `.jcf` in its own window (or raise its window)."""
    demo_path: Callable[[], Path]
    """The demo project's folder, created (synchronously) on first use."""
    show_error: Callable[[QWidget | None, str, BaseException], None]
    """Show an ErrorDialog: parent, title, exception (plain words + Details + Copy)."""
    apply_theme: Callable[[str], None]
    """Apply "system", "light" or "dark" to every window now (does not save the setting)."""
    open_demo: Callable[[], None] | None = None
    """Build the demo off the UI thread if needed, then open it (None: open demo_path())."""
    quit: Callable[[], None] = field(default=_quit_application)
    """Close every window (each may refuse, e.g. while saving), then leave the application."""

    def open_demo_project(self) -> None:
        """Open the demo project (through `open_demo` when the application provides it)."""
        if self.open_demo is not None:
            self.open_demo()
        else:
            self.open_path(self.demo_path())
