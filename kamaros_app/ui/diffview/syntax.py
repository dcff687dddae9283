"""Syntax colouring data, computed off the UI thread: pygments tokens cut into lines.

Pure Python (no Qt). The view maps each category to a colour that suits its palette.
"""

from __future__ import annotations

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_for_filename
from pygments.token import (
    Comment,
    Generic,
    Keyword,
    Literal,
    Name,
    Number,
    Operator,
    String,
    _TokenType,
)
from pygments.util import ClassNotFound

__all__ = [
    "HIGHLIGHT_MAX_CHARS",
    "LineTokens",
    "TokenRun",
    "category",
    "language_for",
    "line_tokens",
]

HIGHLIGHT_MAX_CHARS = 500_000
"""Texts longer than this (per side) are shown without syntax colours: pygments needs
about 0.4-1.8 s per million characters here, and both sides are lexed."""

TokenRun = tuple[int, int, str]
"""(start, end, category) inside one line, in code points."""
LineTokens = tuple[tuple[TokenRun, ...], ...]
"""Token runs of each line (index 0 = line 1)."""

# Most specific first: the first prefix a token type falls under decides its category.
_CATEGORIES: tuple[tuple[_TokenType, str], ...] = (
    (Comment.Preproc, "preproc"),
    (Comment, "comment"),
    (String.Doc, "comment"),
    (String, "string"),
    (Number, "number"),
    (Literal, "string"),
    (Keyword.Type, "type"),
    (Keyword, "keyword"),
    (Operator.Word, "keyword"),
    (Name.Builtin, "builtin"),
    (Name.Function, "function"),
    (Name.Class, "type"),
    (Name.Namespace, "type"),
    (Name.Decorator, "decorator"),
    (Name.Tag, "tag"),
    (Name.Attribute, "attribute"),
    (Name.Constant, "number"),
    (Name.Entity, "builtin"),
    (Name.Label, "decorator"),
    (Generic.Heading, "heading"),
    (Generic.Subheading, "heading"),
    (Generic.Emph, "emph"),
    (Generic.Strong, "strong"),
    (Generic.Inserted, "inserted"),
    (Generic.Deleted, "deleted"),
)


def category(token: _TokenType) -> str | None:
    """The colour category of a pygments token type, None for plain text."""
    for parent, name in _CATEGORIES:
        if token in parent:
            return name
    return None


def _lexer(path: str) -> Lexer | None:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    try:
        lexer = get_lexer_for_filename(name, stripnl=False, ensurenl=False, stripall=False)
    except (ClassNotFound, ValueError):
        return None
    return None if lexer.name == "Text only" else lexer


def language_for(path: str) -> str:
    """Human name of the language a file name suggests ("Python", "Plain text")."""
    lexer = _lexer(path)
    return "Plain text" if lexer is None else str(lexer.name)


def line_tokens(text: str, path: str) -> LineTokens | None:
    """Coloured token runs of each "\\n"-separated line; None without a lexer or too long."""
    if len(text) > HIGHLIGHT_MAX_CHARS:
        return None
    lexer = _lexer(path)
    if lexer is None:
        return None
    lines: list[tuple[TokenRun, ...]] = []
    current: list[TokenRun] = []
    column = 0
    cache: dict[_TokenType, str | None] = {}
    # pygments turns "\r" into "\n" and drops a leading BOM: keep columns and lines intact.
    safe = text.replace("\r", " ").replace("\ufeff", " ")
    for token, value in lexer.get_tokens(safe):
        if token not in cache:
            cache[token] = category(token)
        name = cache[token]
        parts = value.split("\n")
        for index, part in enumerate(parts):
            if index:
                lines.append(tuple(current))
                current = []
                column = 0
            if part and name is not None:
                if current and current[-1][1] == column and current[-1][2] == name:
                    current[-1] = (current[-1][0], column + len(part), name)
                else:
                    current.append((column, column + len(part), name))
            column += len(part)
    lines.append(tuple(current))
    if text.endswith("\n"):
        lines.pop()  # the empty "line" after the final line break
    return tuple(lines)
