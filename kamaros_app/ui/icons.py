"""Icons from `kamaros_app/resources/icons/*.svg`, sharp at any size and in either theme.

Line icons draw with `currentColor`: an icon engine renders them at paint time in the
palette's text colour (disabled, selected and normal each get theirs), so a theme switch
recolours every icon already on screen. Coloured icons (the change markers, the app icon)
keep their own colours.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QIconEngine, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

__all__ = ["ICON_NAMES", "app_icon", "icon", "icon_path"]

ICON_NAMES = (
    "added",
    "check",
    "clean-up",
    "compare",
    "deleted",
    "demo",
    "export",
    "file",
    "folder",
    "history",
    "modified",
    "open-external",
    "open-file",
    "open-folder",
    "refresh",
    "renamed",
    "restore",
    "save-checkpoint",
    "search",
    "settings",
    "tag",
    "undo",
)
_CURRENT = b"currentColor"
_PIXMAP_CACHE_LIMIT = 512
_pixmaps: dict[tuple[str, str, int, int, int, float], QPixmap] = {}


def _icons_dir() -> Path:
    return Path(str(files("kamaros_app") / "resources" / "icons"))


def icon_path(name: str) -> Path:
    """The SVG file of icon `name` (raises FileNotFoundError for an unknown name)."""
    path = _icons_dir() / f"{name}.svg"
    if not path.is_file():
        raise FileNotFoundError(f"no icon named {name!r} in {_icons_dir()}")
    return path


@cache
def _svg(name: str) -> bytes:
    return icon_path(name).read_bytes()


def _color_for(mode: QIcon.Mode) -> str:
    palette = QGuiApplication.palette()
    if mode == QIcon.Mode.Disabled:
        return palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText).name()
    if mode == QIcon.Mode.Selected:
        return palette.color(QPalette.ColorRole.HighlightedText).name()
    return palette.color(QPalette.ColorRole.WindowText).name()


class _SvgEngine(QIconEngine):
    """Renders one SVG, replacing currentColor with the palette colour for the mode."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name
        self._data = _svg(name)
        self._tinted = _CURRENT in self._data

    def _renderer(self, mode: QIcon.Mode) -> QSvgRenderer:
        data = self._data
        if self._tinted:
            data = data.replace(_CURRENT, _color_for(mode).encode())
        return QSvgRenderer(QByteArray(data))

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        renderer = self._renderer(mode)
        if not self._tinted and mode == QIcon.Mode.Disabled:
            painter.save()
            painter.setOpacity(painter.opacity() * 0.4)
            renderer.render(painter, QRectF(rect))
            painter.restore()
        else:
            renderer.render(painter, QRectF(rect))

    def scaledPixmap(
        self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float
    ) -> QPixmap:
        scale = max(scale, 1.0)
        color = _color_for(mode) if self._tinted else ""
        key = (self._name, color, mode.value, size.width(), size.height(), scale)
        pixmap = _pixmaps.get(key)
        if pixmap is None:
            if len(_pixmaps) >= _PIXMAP_CACHE_LIMIT:
                _pixmaps.clear()
            pixmap = _pixmaps[key] = self._render(size, mode, state, scale)
        return pixmap

    def _render(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:
        pixmap = QPixmap(max(1, round(size.width() * scale)), max(1, round(size.height() * scale)))
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.paint(painter, QRect(0, 0, pixmap.width(), pixmap.height()), mode, state)
        painter.end()
        pixmap.setDevicePixelRatio(scale)
        return pixmap

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def clone(self) -> QIconEngine:
        return _SvgEngine(self._name)

    def key(self) -> str:
        return "kamaros-svg"

    def iconName(self) -> str:
        return self._name


@cache
def icon(name: str) -> QIcon:
    """The icon `name` (one of ICON_NAMES), drawn in the current palette's colours."""
    return QIcon(_SvgEngine(name))


def app_icon() -> QIcon:
    """The application icon (kamaros.svg)."""
    return QIcon(str(icon_path("kamaros")))
