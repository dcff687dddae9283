"""What `prepare_diff` hands to the views: plain immutable data (QImage is the only Qt type)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from PySide6.QtGui import QImage

from kamaros_app.ui.diffview.syntax import LineTokens
from kamaros_app.ui.diffview.text_align import Row

__all__ = [
    "MAX_DIFF_BYTES",
    "BinarySide",
    "DiffKind",
    "ImageSide",
    "PreparedDiff",
    "TextDiff",
]

MAX_DIFF_BYTES = 8 * 1024 * 1024
"""Per side. Above this the caller shows `DiffWidget.show_too_large` instead of loading."""

DiffKind = Literal["text", "image", "binary", "too_large"]
Change = Literal["added", "deleted", "modified", "unchanged", "missing"]


@dataclass(frozen=True, slots=True, eq=False)
class TextDiff:
    rows: tuple[Row, ...]
    blocks: tuple[int, ...]  # row index where each change block starts
    language: str  # "Python", "Plain text"
    old_tokens: LineTokens | None  # syntax colour runs per line, None: no colours
    new_tokens: LineTokens | None
    show_cr: bool  # show "\r" as a visible mark (False: all lines end in CRLF, hide it)
    notes: tuple[str, ...]  # plain-words remarks: line endings, final line break, BOM
    lines_added: int
    lines_removed: int
    lines_changed: int


@dataclass(frozen=True, slots=True, eq=False)
class ImageSide:
    image: QImage | None  # None: present but not readable as an image
    format: str  # "PNG", "" when unknown
    error: str  # why it could not be read, "" when it could


@dataclass(frozen=True, slots=True)
class BinarySide:
    size: int
    type: str  # "PDF document", "binary data"
    hash: str  # BLAKE3, 64 hex digits


@dataclass(frozen=True, slots=True, eq=False)
class PreparedDiff:
    """Everything a view needs to show one file's change; built on a worker thread.

    A side's size is None when the file does not exist on that side (added or deleted).
    """

    kind: DiffKind
    path: str
    old_label: str
    new_label: str
    old_size: int | None
    new_size: int | None
    identical: bool
    text: TextDiff | None = None
    old_image: ImageSide | None = None
    new_image: ImageSide | None = None
    old_binary: BinarySide | None = None
    new_binary: BinarySide | None = None

    @property
    def change(self) -> Change:
        if self.old_size is None and self.new_size is None:
            return "missing"
        if self.old_size is None:
            return "added"
        if self.new_size is None:
            return "deleted"
        return "unchanged" if self.identical else "modified"
