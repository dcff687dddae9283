"""How a line of text is shown: invisible or block-breaking characters made visible, and
very long lines cut (Qt lays out a whole line at once). Pure Python (no Qt).

Every replacement is one character for one, so offsets before the cut stay valid.
"""

from __future__ import annotations

import re

from kamaros_app.ui.diffview.text_align import Span

__all__ = ["MAX_SHOWN_CHARS", "shown_line"]

MAX_SHOWN_CHARS = 10_000
"""Characters of a line shown; the rest is summarised ("… 12,345 more characters")."""

# Symbols found in common monospace fonts (the Control Pictures block, ␍, often is not).
_VISIBLE = str.maketrans(
    {
        "\r": "↵",  # carriage return (CR of CRLF, or a lone CR)
        "\u2028": "⏎",  # Unicode line separator: Qt would break the line
        "\u2029": "¶",  # Unicode paragraph separator: Qt would start a new block
        "\ufdd0": "\ufffd",  # Qt's frame markers
        "\ufdd1": "\ufffd",
        "\x0b": "↓",  # vertical tab
        "\x0c": "↡",  # form feed (page break)
    }
)
_SPECIAL = re.compile("[\r\u2028\u2029\ufdd0\ufdd1\x0b\x0c]")


def shown_line(text: str, show_cr: bool) -> tuple[str, tuple[Span, ...], int]:
    """(text to show, ranges of visible marks in it, how many characters of `text` it shows).

    With `show_cr` False one trailing "\\r" (of a CRLF ending) is hidden.
    """
    if not show_cr and text.endswith("\r"):
        text = text[:-1]
    if len(text) <= MAX_SHOWN_CHARS and _SPECIAL.search(text) is None:
        return text, (), len(text)
    kept = text[:MAX_SHOWN_CHARS]
    marks = [(m.start(), m.start() + 1) for m in _SPECIAL.finditer(kept)]
    shown = kept.translate(_VISIBLE)
    if len(text) > len(kept):
        suffix = f"  … {len(text) - len(kept):,} more characters"
        marks.append((len(shown), len(shown) + len(suffix)))
        shown += suffix
    return shown, tuple(marks), len(kept)
