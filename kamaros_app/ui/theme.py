"""Light and dark palettes on the Fusion style; "system" follows the platform's colour scheme.

Qt's own colour-scheme hint does nothing without a desktop theme (offscreen, bare X11), so
both palettes are built here and set on the application; every widget repaints with it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

__all__ = [
    "THEMES",
    "apply_theme",
    "current_theme",
    "dark_palette",
    "is_dark",
    "light_palette",
    "resolve_theme",
]

THEMES = ("system", "light", "dark")
_THEME_PROPERTY = "kamarosTheme"
_FOLLOWING_PROPERTY = "kamarosFollowsSystem"

Role = QPalette.ColorRole
Group = QPalette.ColorGroup


def _palette(colors: dict[Role, str], disabled: dict[Role, str]) -> QPalette:
    palette = QPalette()
    for role, value in colors.items():
        palette.setColor(role, QColor(value))
    for role, value in disabled.items():
        palette.setColor(Group.Disabled, role, QColor(value))
    return palette


def light_palette() -> QPalette:
    """Fusion's light look, with Kamaros's blue for selections and links."""
    return _palette(
        {
            Role.Window: "#efeff1",
            Role.WindowText: "#1d1d20",
            Role.Base: "#ffffff",
            Role.AlternateBase: "#f4f5f7",
            Role.ToolTipBase: "#ffffe8",
            Role.ToolTipText: "#1d1d20",
            Role.PlaceholderText: "#6e6e76",
            Role.Text: "#1d1d20",
            Role.Button: "#efeff1",
            Role.ButtonText: "#1d1d20",
            Role.BrightText: "#ffffff",
            Role.Light: "#ffffff",
            Role.Midlight: "#e2e2e6",
            Role.Mid: "#b8b8be",
            Role.Dark: "#9d9da4",
            Role.Shadow: "#767680",
            Role.Highlight: "#2f6f9f",
            Role.HighlightedText: "#ffffff",
            Role.Link: "#1f62a8",
            Role.LinkVisited: "#6b3fa0",
            Role.Accent: "#2f6f9f",
        },
        {
            Role.WindowText: "#9a9aa0",
            Role.Text: "#9a9aa0",
            Role.ButtonText: "#9a9aa0",
            Role.Base: "#f4f4f6",
            Role.Highlight: "#c8c8ce",
            Role.HighlightedText: "#f4f4f6",
            Role.PlaceholderText: "#b0b0b6",
        },
    )


def dark_palette() -> QPalette:
    """A dark palette with enough contrast for text, selections and disabled items."""
    return _palette(
        {
            Role.Window: "#2b2c30",
            Role.WindowText: "#e8e8ea",
            Role.Base: "#1e1f22",
            Role.AlternateBase: "#26272b",
            Role.ToolTipBase: "#3a3b40",
            Role.ToolTipText: "#e8e8ea",
            Role.PlaceholderText: "#8d8e95",
            Role.Text: "#e8e8ea",
            Role.Button: "#36373c",
            Role.ButtonText: "#e8e8ea",
            Role.BrightText: "#ffffff",
            Role.Light: "#4a4b51",
            Role.Midlight: "#404146",
            Role.Mid: "#2f3034",
            Role.Dark: "#18191b",
            Role.Shadow: "#0b0b0c",
            Role.Highlight: "#3a79b0",
            Role.HighlightedText: "#ffffff",
            Role.Link: "#7ab8ef",
            Role.LinkVisited: "#b99cf0",
            Role.Accent: "#3a79b0",
        },
        {
            Role.WindowText: "#75767c",
            Role.Text: "#75767c",
            Role.ButtonText: "#75767c",
            Role.Base: "#25262a",
            Role.Button: "#303136",
            Role.Highlight: "#44464c",
            Role.HighlightedText: "#9a9ba0",
            Role.PlaceholderText: "#5e5f65",
        },
    )


def resolve_theme(theme: str) -> str:
    """ "light" or "dark": what `theme` means now ("system" asks the platform; light if it
    does not say)."""
    if theme in ("light", "dark"):
        return theme
    app = QGuiApplication.instance()
    if isinstance(app, QGuiApplication) and app.styleHints().colorScheme() == Qt.ColorScheme.Dark:
        return "dark"
    return "light"


def is_dark(palette: QPalette | None = None) -> bool:
    """True when the window background is dark (for the few colours chosen in code)."""
    palette = palette or QGuiApplication.palette()
    return palette.color(Role.Window).lightness() < 128


def current_theme() -> str:
    """The theme last given to apply_theme ("system" before any)."""
    app = QApplication.instance()
    value = app.property(_THEME_PROPERTY) if app is not None else None
    return value if isinstance(value, str) and value in THEMES else "system"


def apply_theme(theme: str, app: QApplication | None = None) -> None:
    """Set Fusion and the palette for `theme` on the application; every window repaints."""
    if theme not in THEMES:
        theme = "system"
    app = app or _application()
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setProperty(_THEME_PROPERTY, theme)
    palette = dark_palette() if resolve_theme(theme) == "dark" else light_palette()
    app.setPalette(palette)
    if not app.property(_FOLLOWING_PROPERTY):
        app.setProperty(_FOLLOWING_PROPERTY, True)
        app.styleHints().colorSchemeChanged.connect(lambda _scheme: _system_changed(app))
    for window in app.topLevelWidgets():
        window.update()


def _system_changed(app: QApplication) -> None:
    if current_theme() == "system":
        apply_theme("system", app)


def _application() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("apply_theme needs a QApplication")
    return app
