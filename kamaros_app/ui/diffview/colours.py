"""Diff and syntax colours derived from the palette: translucent, readable light or dark."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPalette, QTextCharFormat

__all__ = ["DiffColours", "diff_colours", "is_dark", "syntax_formats"]


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


@dataclass(frozen=True)
class DiffColours:
    deleted: QColor  # row background: a line only the old side has
    inserted: QColor  # a line only the new side has
    changed: QColor  # a line changed in place (both sides)
    removed_text: QColor  # in-line changed characters, old side
    added_text: QColor  # in-line changed characters, new side
    padding: QBrush  # rows where this side has no line (hatched)
    marker: QColor  # visible marks: ↵ (carriage return), "… more characters"

    def row(self, kind: str) -> QColor | None:
        """Background of a row kind; None for unchanged rows."""
        if kind == "delete":
            return self.deleted
        if kind == "insert":
            return self.inserted
        if kind == "replace":
            return self.changed
        return None


def diff_colours(palette: QPalette) -> DiffColours:
    dark = is_dark(palette)
    # Alpha over the Base colour: stronger on dark backgrounds, where tints look weaker.
    row_alpha, text_alpha = (70, 150) if dark else (48, 110)
    text = palette.color(QPalette.ColorRole.Text)
    hatch = QColor(text)
    hatch.setAlpha(40 if dark else 32)
    marker = QColor(text)
    marker.setAlpha(120)
    return DiffColours(
        deleted=QColor(235, 60, 60, row_alpha),
        inserted=QColor(40, 180, 70, row_alpha),
        changed=QColor(240, 180, 20, row_alpha - 18 if dark else row_alpha),
        removed_text=QColor(235, 50, 50, text_alpha),
        added_text=QColor(30, 180, 60, text_alpha),
        padding=QBrush(hatch, Qt.BrushStyle.BDiagPattern),
        marker=marker,
    )


# category: (light-theme colour, dark-theme colour, bold, italic)
_SYNTAX: dict[str, tuple[str, str, bool, bool]] = {
    "keyword": ("#0033b3", "#c678dd", True, False),
    "type": ("#00737a", "#e5c07b", False, False),
    "builtin": ("#7a3e9d", "#56b6c2", False, False),
    "function": ("#00627a", "#61afef", False, False),
    "string": ("#067d17", "#98c379", False, False),
    "number": ("#1750eb", "#d19a66", False, False),
    "comment": ("#707070", "#8b929e", False, True),
    "preproc": ("#9e880d", "#e5c07b", False, False),
    "decorator": ("#9e880d", "#e5c07b", False, False),
    "tag": ("#0033b3", "#e06c75", False, False),
    "attribute": ("#174ad4", "#d19a66", False, False),
    "heading": ("#0033b3", "#61afef", True, False),
    "emph": ("", "", False, True),
    "strong": ("", "", True, False),
    "inserted": ("#067d17", "#98c379", False, False),
    "deleted": ("#b31d28", "#e06c75", False, False),
}


def syntax_formats(palette: QPalette) -> dict[str, QTextCharFormat]:
    """One character format per syntax category, with colours for this palette."""
    dark = is_dark(palette)
    formats: dict[str, QTextCharFormat] = {}
    for name, (light_colour, dark_colour, bold, italic) in _SYNTAX.items():
        fmt = QTextCharFormat()
        colour = dark_colour if dark else light_colour
        if colour:
            fmt.setForeground(QColor(colour))
        if bold:
            fmt.setFontWeight(QFont.Weight.Bold)
        if italic:
            fmt.setFontItalic(True)
        formats[name] = fmt
    return formats
