"""One side of the side-by-side text view: a read-only editor with a line-number gutter.

Block n of the document is row n of the alignment; rows where this side has no line are
empty, hatched blocks, so both sides always have the same number of blocks.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any, Literal

from PySide6.QtCore import QEvent, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QBrush,
    QFontDatabase,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from kamaros_app.ui.diffview.colours import DiffColours, diff_colours, syntax_formats
from kamaros_app.ui.diffview.display import shown_line
from kamaros_app.ui.diffview.highlighter import BlockMarks, DiffHighlighter
from kamaros_app.ui.diffview.model import TextDiff
from kamaros_app.ui.diffview.syntax import TokenRun
from kamaros_app.ui.diffview.text_align import Row, Span

__all__ = ["DiffPane", "Side"]

Side = Literal["old", "new"]
_SIGNS = {"delete": "−", "insert": "+", "replace": "~"}


class DiffPane(QPlainTextEdit):
    def __init__(self, side: Side, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.side: Side = side
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setTabStopDistance(4 * self.fontMetrics().horizontalAdvance(" "))
        self.setObjectName(f"diff_pane_{side}")
        self._numbers: list[int | None] = []
        self._looks: list[str] = []  # per block: equal, replace, insert, delete, padding
        self._rows: tuple[Row, ...] = ()  # shown now (empty: nothing)
        self._colours: DiffColours = diff_colours(self.palette())
        self._highlighter = DiffHighlighter(self.document())
        self._gutter = _Gutter(self)
        self.blockCountChanged.connect(self._update_margins)
        self.updateRequest.connect(self._update_gutter)
        self._update_margins()

    # ---- content -------------------------------------------------------------------------

    def show_diff(self, diff: TextDiff) -> None:
        """Show this side of the aligned rows, with colours for the current palette."""
        self._colours = diff_colours(self.palette())
        old = self.side == "old"
        tokens = diff.old_tokens if old else diff.new_tokens
        lines: list[str] = []
        marks: dict[int, BlockMarks] = {}
        numbers: list[int | None] = []
        looks: list[str] = []
        for index, row in enumerate(diff.rows):
            text = row.old_text if old else row.new_text
            number = row.old_no if old else row.new_no
            numbers.append(number)
            if text is None or number is None:
                lines.append("")
                looks.append("padding")
                continue
            looks.append(row.kind)
            shown, signs, kept = shown_line(text, diff.show_cr)
            runs: tuple[TokenRun, ...] = ()
            if tokens is not None and number <= len(tokens):
                runs = tokens[number - 1]
            spans: tuple[Span, ...] = row.old_spans if old else row.new_spans
            if kept < len(text):
                runs = tuple((a, min(b, kept), c) for a, b, c in runs if a < kept)
                spans = tuple((a, min(b, kept)) for a, b in spans if a < kept)
            if runs or spans or signs:
                marks[index] = (runs, spans, signs)
            lines.append(shown)
        self._numbers = numbers
        self._looks = looks
        self._rows = diff.rows
        self._highlighter.setDocument(None)
        self._highlighter.set_marks(marks, *self._char_formats())
        self.setPlainText("\n".join(lines))
        self._mark_rows(looks)
        if marks:
            # Attached last, so every block is coloured once, as soon as the event loop runs;
            # without marks it stays off: highlighting visits every block.
            self._highlighter.setDocument(self.document())
        self.moveCursor(QTextCursor.MoveOperation.Start)
        self._update_margins()

    def _char_formats(self) -> tuple[dict[str, QTextCharFormat], QTextCharFormat]:
        formats = syntax_formats(self.palette())
        marker = QTextCharFormat()
        marker.setForeground(self._colours.marker)
        formats["marker"] = marker
        span = QTextCharFormat()
        old = self.side == "old"
        span.setBackground(self._colours.removed_text if old else self._colours.added_text)
        return formats, span

    def changeEvent(self, event: QEvent) -> None:
        """A new theme: recolour rows, changed characters and syntax for the new palette."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._rows:
            self._colours = diff_colours(self.palette())
            self._highlighter.set_formats(*self._char_formats())
            self.viewport().update()
            if self._highlighter.document() is not None:
                self._highlighter.rehighlight()
            self._gutter.update()

    def clear_diff(self) -> None:
        self._numbers = []
        self._looks = []
        self._rows = ()
        self._highlighter.setDocument(None)
        self.setPlainText("")

    def _mark_rows(self, looks: list[str]) -> None:
        """Record each block's row kind in its format (one cursor operation per run).

        The backgrounds themselves are painted in paintEvent, across the whole width.
        """
        doc = self.document()
        cursor = QTextCursor(doc)
        start = 0
        for kind, run in groupby(looks):
            count = sum(1 for _ in run)
            if kind != "equal":
                fmt = QTextBlockFormat()
                fmt.setProperty(QTextFormat.Property.UserProperty, kind)
                cursor.setPosition(doc.findBlockByNumber(start).position())
                end = doc.findBlockByNumber(start + count - 1).position()
                cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
                cursor.mergeBlockFormat(fmt)
            start += count

    def row_brush(self, look: str) -> QBrush | None:
        """Background of a row: translucent colour, hatching for padding, None if equal."""
        if look == "padding":
            return self._colours.padding
        colour = self._colours.row(look)
        return None if colour is None else QBrush(colour)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self.viewport())
        width = self.viewport().width()
        bottom = event.rect().bottom()
        offset = self.contentOffset()
        block = self.firstVisibleBlock()
        while block.isValid():
            geometry = self.blockBoundingGeometry(block).translated(offset)
            if geometry.top() > bottom:
                break
            index = block.blockNumber()
            brush = self.row_brush(self._looks[index]) if index < len(self._looks) else None
            if brush is not None:
                painter.fillRect(QRectF(0, geometry.top(), width, geometry.height()), brush)
            block = block.next()
        painter.end()
        super().paintEvent(event)

    def row_kind(self, block_number: int) -> str:
        """How block `block_number` looks: equal, replace, insert, delete or padding."""
        block = self.document().findBlockByNumber(block_number)
        value = block.blockFormat().property(QTextFormat.Property.UserProperty)
        return str(value) if value else "equal"

    def span_x(self, block_number: int) -> float:
        """Content x of the first changed character in a block (0 without one)."""
        marks = self._highlighter.marks(block_number)
        if marks is None or not marks[1]:
            return 0.0
        block = self.document().findBlockByNumber(block_number)
        self.blockBoundingRect(block)  # makes sure the block is laid out
        layout = block.layout()
        if layout is None or layout.lineCount() == 0:
            return 0.0
        text = block.text()
        start = min(marks[1][0][0], len(text))
        position = len(text[:start].encode("utf-16-le")) // 2  # Qt counts UTF-16 units
        result: Any = layout.lineAt(0).cursorToX(position)  # PySide: (x, position)
        return float(result[0] if isinstance(result, tuple) else result)

    def line_number(self, block_number: int) -> int | None:
        if 0 <= block_number < len(self._numbers):
            return self._numbers[block_number]
        return None

    @property
    def highlighter(self) -> DiffHighlighter:
        return self._highlighter

    # ---- gutter --------------------------------------------------------------------------

    def gutter_width(self) -> int:
        digits = len(str(max((n for n in self._numbers if n is not None), default=0)))
        metrics = self.fontMetrics()
        return metrics.horizontalAdvance("9") * (max(digits, 2) + 2) + 12

    def _update_margins(self, _count: int = 0) -> None:
        width = self.gutter_width()
        self.setViewportMargins(width, 0, 0, 0)
        area = self.contentsRect()
        self._gutter.setGeometry(QRect(area.left(), area.top(), width, area.height()))

    def _update_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_margins()

    def paint_gutter(self, event: QPaintEvent) -> None:
        painter = QPainter(self._gutter)
        palette = self.palette()
        painter.fillRect(event.rect(), palette.alternateBase())
        painter.setFont(self.font())
        metrics = self.fontMetrics()
        width = self._gutter.width()
        sign_width = metrics.horizontalAdvance("+") + 8
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        number_colour = palette.placeholderText().color()
        while block.isValid() and top <= event.rect().bottom():
            height = round(self.blockBoundingRect(block).height())
            index = block.blockNumber()
            if block.isVisible() and top + height >= event.rect().top():
                kind = self._looks[index] if index < len(self._looks) else "equal"
                brush = self.row_brush(kind)
                if brush is not None:
                    painter.fillRect(0, top, width, height, brush)
                number = self.line_number(index)
                if number is not None:
                    painter.setPen(number_colour)
                    painter.drawText(
                        0,
                        top,
                        width - sign_width,
                        height,
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                        str(number),
                    )
                sign = _SIGNS.get(kind)
                if sign is not None:
                    painter.setPen(palette.text().color())
                    painter.drawText(
                        width - sign_width,
                        top,
                        sign_width,
                        height,
                        Qt.AlignmentFlag.AlignCenter,
                        sign,
                    )
            block = block.next()
            top += height
        painter.end()


class _Gutter(QWidget):
    def __init__(self, pane: DiffPane) -> None:
        super().__init__(pane)
        self._pane = pane

    def sizeHint(self) -> QSize:
        return QSize(self._pane.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._pane.paint_gutter(event)
