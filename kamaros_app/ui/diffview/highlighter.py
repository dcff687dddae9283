"""Colours inside each line of a diff pane: syntax runs, changed characters, visible marks.

The runs are computed beforehand (pygments on the worker thread, spans by the aligner);
this highlighter only maps them to QTextCharFormats, block by block.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from PySide6.QtGui import QSyntaxHighlighter, QTextCharFormat, QTextDocument

from kamaros_app.ui.diffview.syntax import TokenRun
from kamaros_app.ui.diffview.text_align import Span

__all__ = ["BlockMarks", "DiffHighlighter"]

BlockMarks = tuple[Sequence[TokenRun], Sequence[Span], Sequence[Span]]
"""For one block, in code points of the shown text, each sorted and non-overlapping:
(syntax category runs, changed-character spans, visible marks such as ↵ for a carriage return)."""


class DiffHighlighter(QSyntaxHighlighter):
    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self._marks: dict[int, BlockMarks] = {}
        self._formats: dict[str, QTextCharFormat] = {}
        self._span_format = QTextCharFormat()
        self._combined: dict[tuple[str | None, bool], QTextCharFormat | None] = {}

    def set_marks(
        self,
        marks: dict[int, BlockMarks],
        formats: dict[str, QTextCharFormat],
        span_format: QTextCharFormat,
    ) -> None:
        """Runs and spans per block number; takes effect at the next (re)highlight."""
        self._marks = marks
        self.set_formats(formats, span_format)

    def set_formats(
        self, formats: dict[str, QTextCharFormat], span_format: QTextCharFormat
    ) -> None:
        """Formats per category and for changed characters (call rehighlight() after)."""
        self._formats = formats
        self._span_format = span_format
        self._combined = {}

    def marks(self, block_number: int) -> BlockMarks | None:
        return self._marks.get(block_number)

    def _format(self, category: str | None, in_span: bool) -> QTextCharFormat | None:
        key = (category, in_span)
        if key not in self._combined:
            base = self._formats.get(category) if category else None
            if base is None and not in_span:
                self._combined[key] = None
            else:
                fmt = QTextCharFormat(base) if base is not None else QTextCharFormat()
                if in_span:
                    fmt.merge(self._span_format)
                self._combined[key] = fmt
        return self._combined[key]

    def highlightBlock(self, text: str) -> None:
        marks = self._marks.get(self.currentBlock().blockNumber())
        if marks is None:
            return
        runs, spans, signs = marks
        length = len(text)
        cuts = {0, length}
        for start, end, _name in runs:
            cuts.add(min(start, length))
            cuts.add(min(end, length))
        for start, end in (*spans, *signs):
            cuts.add(min(start, length))
            cuts.add(min(end, length))
        points = sorted(cuts)
        units = _utf16_offsets(text)
        run_i = span_i = sign_i = 0
        for a, b in itertools.pairwise(points):
            if a == b:
                continue
            while run_i < len(runs) and runs[run_i][1] <= a:
                run_i += 1
            while span_i < len(spans) and spans[span_i][1] <= a:
                span_i += 1
            while sign_i < len(signs) and signs[sign_i][1] <= a:
                sign_i += 1
            category = runs[run_i][2] if run_i < len(runs) and runs[run_i][0] <= a else None
            if sign_i < len(signs) and signs[sign_i][0] <= a:
                category = "marker"
            in_span = span_i < len(spans) and spans[span_i][0] <= a
            fmt = self._format(category, in_span)
            if fmt is not None:
                start = a if units is None else units[a]
                end = b if units is None else units[b]
                self.setFormat(start, end - start, fmt)


def _utf16_offsets(text: str) -> list[int] | None:
    """UTF-16 offset of each code point (Qt counts UTF-16 units); None when they agree."""
    if text.isascii() or all(ord(ch) < 0x10000 for ch in text):
        return None
    offsets = [0]
    for ch in text:
        offsets.append(offsets[-1] + (2 if ord(ch) >= 0x10000 else 1))
    return offsets
