"""The side-by-side text view: rows, colours, highlighting, navigation, scroll sync."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from kamaros_app.ui.diffview import DiffWidget, prepare_diff
from kamaros_app.ui.diffview.colours import syntax_formats
from kamaros_app.ui.diffview.display import MAX_SHOWN_CHARS
from kamaros_app.ui.diffview.text_pane import DiffPane
from kamaros_app.ui.diffview.text_view import TextDiffView
from kamaros_app.ui.theme import dark_palette


@pytest.fixture
def widget(qtbot: QtBot) -> Iterator[DiffWidget]:
    w = DiffWidget()
    qtbot.addWidget(w)
    w.resize(1000, 600)
    w.show()
    with qtbot.waitExposed(w):
        pass
    yield w


def show_text(w: DiffWidget, old: str | None, new: str | None, path: str = "notes.txt") -> None:
    old_bytes = None if old is None else old.encode()
    new_bytes = None if new is None else new.encode()
    w.show_prepared(
        prepare_diff(old_bytes, new_bytes, path=path, old_label="Checkpoint 1", new_label="Now")
    )
    QTest.qWait(10)


def block_texts(pane: DiffPane) -> list[str]:
    doc = pane.document()
    return [doc.findBlockByNumber(i).text() for i in range(doc.blockCount())]


def row_pixels(pane: DiffPane, row: int) -> list[QColor]:
    """Colours across the right part of a row, past any text."""
    image: QImage = pane.viewport().grab().toImage()
    block = pane.document().findBlockByNumber(row)
    geometry = pane.blockBoundingGeometry(block).translated(pane.contentOffset())
    y = int(geometry.center().y())
    return [image.pixelColor(x, y) for x in range(image.width() - 40, image.width() - 4)]


def tint(pane: DiffPane, row: int) -> tuple[int, int, int]:
    """(red, green, blue) of a row's background minus the plain base colour."""
    base = pane.palette().color(QPalette.ColorRole.Base)
    colour = row_pixels(pane, row)[0]
    return (
        colour.red() - base.red(),
        colour.green() - base.green(),
        colour.blue() - base.blue(),
    )


OLD = "alpha\nbeta\ngamma\ndelta\nepsilon\n"
NEW = "alpha\nBETA two\ngamma\nepsilon\nzeta\n"


def test_aligned_rows_with_padding_on_the_side_without_a_line(widget: DiffWidget) -> None:
    show_text(widget, OLD, NEW)
    view = widget.text_view
    assert widget.stack.currentWidget() is view
    old, new = view.old_pane, view.new_pane
    assert block_texts(old) == ["alpha", "beta", "gamma", "delta", "epsilon", ""]
    assert block_texts(new) == ["alpha", "BETA two", "gamma", "", "epsilon", "zeta"]
    assert [old.row_kind(i) for i in range(6)] == [
        "equal",
        "replace",
        "equal",
        "delete",
        "equal",
        "padding",
    ]
    assert [new.row_kind(i) for i in range(6)] == [
        "equal",
        "replace",
        "equal",
        "padding",
        "equal",
        "insert",
    ]
    assert [old.line_number(i) for i in range(6)] == [1, 2, 3, 4, 5, None]
    assert [new.line_number(i) for i in range(6)] == [1, 2, 3, None, 4, 5]
    assert view.summary_label.text() == "3 changes: 1 line added, 1 removed, 1 changed"
    assert view.old_header.text() == "Checkpoint 1" and view.new_header.text() == "Now"


def test_row_colours_are_at_the_right_lines(widget: DiffWidget) -> None:
    show_text(widget, OLD, NEW)
    old, new = widget.text_view.old_pane, widget.text_view.new_pane
    assert tint(old, 0) == (0, 0, 0)  # unchanged: plain base
    red, green, blue = tint(old, 3)  # deleted line: red-ish
    assert green < -20 and blue < -20 and red - green > 20
    red, green, blue = tint(new, 5)  # inserted line: green-ish
    assert green - red > 20 and green - blue > 5
    red, green, blue = tint(old, 1)  # changed line: amber (red and green above blue)
    assert red - blue > 20 and green - blue > 20
    padding = row_pixels(new, 3)  # hatched: some pixels tinted, some plain
    base = new.palette().color(QPalette.ColorRole.Base)
    assert any(c == base for c in padding) and any(c != base for c in padding)


def test_changed_characters_and_syntax_get_formats(widget: DiffWidget) -> None:
    show_text(widget, "def greet(name):\n    return 1\n", "def greet(who):\n    return 1\n", "a.py")
    new = widget.text_view.new_pane
    new.highlighter.rehighlight()
    formats = new.document().findBlockByNumber(0).layout().formats()
    keyword = syntax_formats(new.palette())["keyword"].foreground().color()
    assert any(
        f.start == 0 and f.length == 3 and f.format.foreground().color() == keyword for f in formats
    )
    changed = [f for f in formats if f.format.background().style() != Qt.BrushStyle.NoBrush]
    assert [(f.start, f.length) for f in changed] == [(10, 3)]  # "who"
    assert changed[0].format.background().color().green() > 150
    old_formats = widget.text_view.old_pane.document().findBlockByNumber(0).layout().formats()
    old_changed = [f for f in old_formats if f.format.background().style() != Qt.BrushStyle.NoBrush]
    assert [(f.start, f.length) for f in old_changed] == [(10, 4)]  # "name"
    assert old_changed[0].format.background().color().red() > 150


def test_spans_after_an_emoji_use_qt_string_positions(widget: DiffWidget) -> None:
    show_text(widget, "😀 old word\n", "😀 new word\n")
    pane = widget.text_view.new_pane
    pane.highlighter.rehighlight()
    formats = pane.document().findBlockByNumber(0).layout().formats()
    changed = [
        (f.start, f.length)
        for f in formats
        if f.format.background().style() != Qt.BrushStyle.NoBrush
    ]
    assert changed == [(3, 3)]  # the emoji is two UTF-16 units: "new" starts at 3


def test_crlf_is_hidden_when_both_sides_use_it_and_shown_when_it_changes(
    widget: DiffWidget,
) -> None:
    show_text(widget, "a\r\nb\r\n", "a\r\nc\r\n")
    assert block_texts(widget.text_view.old_pane) == ["a", "b"]
    show_text(widget, "a\r\nb\r\n", "a\nb\n")
    assert block_texts(widget.text_view.old_pane) == ["a↵", "b↵"]
    assert block_texts(widget.text_view.new_pane) == ["a", "b"]
    assert "Line endings changed" in widget.text_view.notes_label.text()
    assert widget.text_view.notes_label.isVisible()


def test_very_long_lines_are_cut(widget: DiffWidget) -> None:
    show_text(widget, "short\n", "x" * (MAX_SHOWN_CHARS + 1000) + "\n")
    text = block_texts(widget.text_view.new_pane)[0]
    assert text.startswith("x" * MAX_SHOWN_CHARS) and text.endswith("1,000 more characters")


def test_identical_text_says_so(widget: DiffWidget) -> None:
    show_text(widget, "same\n", "same\n")
    view = widget.text_view
    assert view.identical_label.isVisible()
    assert view.summary_label.text() == "No differences in the text"
    assert not view.next_button.isEnabled() and not view.previous_button.isEnabled()


def test_added_file_shows_only_the_new_side(widget: DiffWidget) -> None:
    show_text(widget, None, "one\ntwo\n")
    view = widget.text_view
    assert not view.old_side.isVisible() and view.new_side.isVisible()
    assert view.summary_label.text() == "New file: 2 lines"
    assert view.old_header.text() == "Checkpoint 1 — did not exist"
    show_text(widget, "one\n", None)
    assert view.old_side.isVisible() and not view.new_side.isVisible()
    assert view.summary_label.text() == "Deleted file: 1 line"


# ---- navigation and scrolling -----------------------------------------------------------


def long_pair() -> tuple[str, str, list[int]]:
    old = [f"line {i}" for i in range(1, 1001)]
    new = list(old)
    new[99] = "changed 100"
    new[399] = "changed 400"
    new[799] = "changed 800"
    return "\n".join(old) + "\n", "\n".join(new) + "\n", [99, 399, 799]


def visible(pane: DiffPane, row: int) -> bool:
    top = pane.verticalScrollBar().value()
    lines = pane.viewport().height() // pane.fontMetrics().lineSpacing()
    return top <= row < top + lines


def test_next_and_previous_change_move_cursor_and_scroll(widget: DiffWidget) -> None:
    old, new, rows = long_pair()
    show_text(widget, old, new)
    view: TextDiffView = widget.text_view
    assert view.change_count == 3
    # It opens on the first change.
    assert view.current_change == 0 and visible(view.new_pane, rows[0])
    assert view.position_label.text() == "Change 1 of 3"
    for index in (1, 2):
        view.next_change()
        assert view.current_change == index
        for pane in (view.old_pane, view.new_pane):
            assert pane.textCursor().blockNumber() == rows[index]
            assert visible(pane, rows[index])
    assert not view.next_button.isEnabled()
    view.next_change()  # at the last change: stays
    assert view.current_change == 2
    view.previous_change()
    assert view.current_change == 1 and visible(view.old_pane, rows[1])
    view.previous_button.click()
    assert view.current_change == 0 and view.new_pane.textCursor().blockNumber() == rows[0]


def test_navigation_starts_from_where_the_user_scrolled(widget: DiffWidget) -> None:
    old, new, _rows = long_pair()
    show_text(widget, old, new)
    view = widget.text_view
    view.new_pane.verticalScrollBar().setValue(600)  # between the 2nd and 3rd change
    view.next_change()
    assert view.current_change == 2
    view.old_pane.verticalScrollBar().setValue(500)
    view.previous_change()
    assert view.current_change == 1


def test_keyboard_shortcuts_navigate(widget: DiffWidget, qtbot: QtBot) -> None:
    old, new, _rows = long_pair()
    show_text(widget, old, new)
    view = widget.text_view
    widget.activateWindow()
    view.new_pane.setFocus()
    qtbot.waitUntil(view.new_pane.hasFocus)
    for key, modifier, expected in (
        (Qt.Key.Key_F8, Qt.KeyboardModifier.NoModifier, 1),
        (Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier, 2),
        (Qt.Key.Key_F8, Qt.KeyboardModifier.ShiftModifier, 1),
        (Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier, 0),
    ):
        QTest.keyClick(view.new_pane, key, modifier)
        assert view.current_change == expected, (key, modifier)


def test_scrolling_one_side_scrolls_the_other(widget: DiffWidget) -> None:
    old, new, _rows = long_pair()
    wide = "w" * 400
    show_text(widget, old + wide + "\n", new + wide + "\n")
    view = widget.text_view
    view.old_pane.verticalScrollBar().setValue(321)
    assert view.new_pane.verticalScrollBar().value() == 321
    view.new_pane.verticalScrollBar().setValue(42)
    assert view.old_pane.verticalScrollBar().value() == 42
    view.new_pane.horizontalScrollBar().setValue(150)
    assert view.old_pane.horizontalScrollBar().value() == 150
    assert view.old_pane.firstVisibleBlock().blockNumber() == 42


def test_a_new_palette_recolours_syntax(widget: DiffWidget) -> None:
    show_text(widget, "def a():\n    pass\n", "def b():\n    pass\n", "a.py")
    pane = widget.text_view.new_pane
    widget.setPalette(dark_palette())
    QTest.qWait(10)
    formats = pane.document().findBlockByNumber(0).layout().formats()
    keyword = [f for f in formats if f.start == 0 and f.length == 3]
    dark_keyword = syntax_formats(dark_palette())["keyword"].foreground().color()
    assert keyword and keyword[0].format.foreground().color() == dark_keyword


def test_a_5_mb_text_shows_quickly(widget: DiffWidget) -> None:
    lines = [
        f"{i:07d} some words of text on this line, repeated a few times" for i in range(90_000)
    ]
    old = "\n".join(lines) + "\n"
    for k in range(0, 90_000, 90):
        lines[k] += " edited"
    new = "\n".join(lines) + "\n"
    assert len(old) > 5_000_000
    start = time.perf_counter()
    prepared = prepare_diff(old.encode(), new.encode(), path="big.txt", old_label="", new_label="")
    middle = time.perf_counter()
    widget.show_prepared(prepared)
    QTest.qWait(1)
    end = time.perf_counter()
    print(
        f"5 MB text, 1,000 changed lines: prepare {middle - start:.2f} s (worker thread), "
        f"show {end - middle:.2f} s (UI thread)"
    )
    assert widget.text_view.change_count == 1_000
    assert widget.text_view.new_pane.blockCount() == 90_000
    assert end - middle < 3.0


def test_a_change_far_right_on_a_long_line_is_scrolled_into_view(widget: DiffWidget) -> None:
    prefix = "word " * 80
    show_text(widget, "start\n" + prefix + "old ending\n", "start\n" + prefix + "new ending\n")
    pane = widget.text_view.new_pane
    hbar = pane.horizontalScrollBar()
    assert hbar.value() > 0
    x = pane.span_x(1) - hbar.value()  # the change, in viewport coordinates
    assert 0 < x < pane.viewport().width()
    assert widget.text_view.old_pane.horizontalScrollBar().value() == hbar.value()
    show_text(widget, "a\nb\n", "a\nc\n")  # a change near the left edge: no sideways scroll
    assert widget.text_view.new_pane.horizontalScrollBar().value() == 0


def test_long_labels_are_shortened_not_widening_the_view(widget: DiffWidget) -> None:
    label = "Checkpoint 1a2b3c4d — " + "a very long description " * 20
    widget.show_prepared(
        prepare_diff(b"a\n", b"b\n", path="a.txt", old_label=label, new_label="Now")
    )
    header = widget.text_view.old_header
    assert header.text() == label and header.toolTip() == label
    assert widget.text_view.old_side.width() < widget.width()
    assert header.minimumSizeHint().width() == 0
