"""Remembering a window's size, position and splitter positions between sessions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow, QSplitter

    from kamaros_app.ui.settings import Settings

__all__ = ["WindowLayout"]


class WindowLayout:
    """Saves and restores `window`'s geometry and state, and each named splitter's state,
    under `key` (a splitter under "<key>-<name>")."""

    def __init__(
        self,
        window: QMainWindow,
        settings: Settings,
        key: str,
        splitters: Mapping[str, QSplitter],
    ) -> None:
        self._window = window
        self._settings = settings
        self._key = key
        self._splitters = splitters
        self.splitters_restored = False
        """False on the first run: the window then shares its width once it is laid out."""

    def restore(self, default_width: int, default_height: int) -> None:
        geometry, state = self._settings.window_state(self._key)
        if geometry is not None:
            self._window.restoreGeometry(geometry)
        else:
            self._window.resize(default_width, default_height)
        if state is not None:
            self._window.restoreState(state)
        self.splitters_restored = False
        for name, splitter in self._splitters.items():
            _, split_state = self._settings.window_state(f"{self._key}-{name}")
            if split_state is not None and not split_state.isEmpty():
                self.splitters_restored |= splitter.restoreState(split_state)

    def save(self) -> None:
        self._settings.save_window_state(
            self._key, self._window.saveGeometry(), self._window.saveState()
        )
        for name, splitter in self._splitters.items():
            self._settings.save_window_state(
                f"{self._key}-{name}", QByteArray(), splitter.saveState()
            )
