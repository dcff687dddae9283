"""The image comparison: modes render what they promise (checked on grabbed pixels)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from kamaros_app.ui.diffview import DiffWidget, prepare_diff
from kamaros_app.ui.diffview.image_canvas import ImageCanvas, difference_image
from kamaros_app.ui.diffview.image_view import ImageDiffView
from tests.ui.test_diffview_support import encode, solid

# 120 x 80, light grey; the new version has a red 30 x 20 patch at (60, 40).
PATCH = QRect(60, 40, 30, 20)


@pytest.fixture
def widget(qtbot: QtBot) -> Iterator[DiffWidget]:
    w = DiffWidget()
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    with qtbot.waitExposed(w):
        pass
    yield w


def show_images(w: DiffWidget, old: QImage | None, new: QImage | None) -> ImageDiffView:
    w.show_prepared(
        prepare_diff(
            None if old is None else encode(old),
            None if new is None else encode(new),
            path="picture.png",
            old_label="Checkpoint 1",
            new_label="Now",
        )
    )
    QTest.qWait(10)
    assert w.stack.currentWidget() is w.image_view
    return w.image_view


def pair() -> tuple[QImage, QImage]:
    return solid(120, 80, "#c0c0c0"), solid(120, 80, "#c0c0c0", (PATCH, "#ff0000"))


def pixel(canvas: ImageCanvas, rect: QRectF | None, x: float, y: float) -> QColor:
    """Colour on screen of image pixel (x, y) of the image drawn in `rect`."""
    assert rect is not None
    scale = rect.width() / 120
    grabbed = canvas.grab().toImage()
    point = QPointF(rect.left() + (x + 0.5) * scale, rect.top() + (y + 0.5) * scale)
    return grabbed.pixelColor(int(point.x()), int(point.y()))


def near(colour: QColor, hex_colour: str, tolerance: int = 12) -> bool:
    other = QColor(hex_colour)
    return all(
        abs(a - b) <= tolerance
        for a, b in (
            (colour.red(), other.red()),
            (colour.green(), other.green()),
            (colour.blue(), other.blue()),
        )
    )


def test_difference_mode_is_black_where_equal_and_bright_where_changed(
    widget: DiffWidget,
) -> None:
    view = show_images(widget, *pair())
    view.set_mode("difference")
    QTest.qWait(10)
    canvas = view.canvas
    _old_rect, new_rect = canvas.image_rects()
    assert near(pixel(canvas, new_rect, 10, 10), "#000000")
    assert near(pixel(canvas, new_rect, 110, 70), "#000000")
    changed = pixel(canvas, new_rect, 75, 50)
    # |red - grey| = (255-192, 0-192, 0-192) in absolute values
    assert near(changed, "#3fc0c0")
    assert "Black means unchanged" in view.note_label.text()


def test_difference_image_itself() -> None:
    old, new = pair()
    diff = difference_image(old, new)
    assert diff.pixelColor(0, 0).name() == "#000000"
    assert diff.pixelColor(PATCH.center()).name() == "#3fc0c0"


def test_side_by_side_shows_both_versions(widget: DiffWidget) -> None:
    view = show_images(widget, *pair())
    assert view.mode == "side"
    canvas = view.canvas
    old_rect, new_rect = canvas.image_rects()
    assert old_rect is not None and new_rect is not None
    assert new_rect.left() > old_rect.right()
    assert near(pixel(canvas, old_rect, 75, 50), "#c0c0c0")
    assert near(pixel(canvas, new_rect, 75, 50), "#ff0000")
    assert "120 × 80 px" in view.old_caption.text()
    assert view.old_caption.text().startswith("Before — Checkpoint 1")
    assert view.new_caption.text().startswith("After — Now")


def test_onion_skin_blends_by_the_slider(widget: DiffWidget) -> None:
    view = show_images(widget, *pair())
    view.set_mode("onion")
    assert view.slider.isVisible()
    canvas = view.canvas
    rect = canvas.image_rects()[1]
    view.slider.setValue(0)
    assert near(pixel(canvas, rect, 75, 50), "#c0c0c0")
    view.slider.setValue(100)
    assert near(pixel(canvas, rect, 75, 50), "#ff0000")
    view.slider.setValue(50)
    assert near(pixel(canvas, rect, 75, 50), "#e06060", tolerance=16)
    assert near(pixel(canvas, rect, 5, 5), "#c0c0c0")


def test_swipe_shows_old_left_of_the_line_and_new_right(widget: DiffWidget) -> None:
    view = show_images(widget, *pair())
    view.set_mode("swipe")
    canvas = view.canvas
    rect = canvas.image_rects()[1]
    view.slider.setValue(100)  # line at the right edge: all old
    assert near(pixel(canvas, rect, 75, 50), "#c0c0c0")
    view.slider.setValue(0)  # all new
    assert near(pixel(canvas, rect, 75, 50), "#ff0000")
    assert rect is not None
    # Dragging on the picture moves the line and the slider follows.
    x = int(rect.left() + rect.width() * 0.9)
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(x, int(rect.center().y())))
    assert 85 <= view.slider.value() <= 95
    assert near(pixel(canvas, rect, 75, 50), "#c0c0c0")  # now left of the line


def test_sizes_that_differ_are_explained(widget: DiffWidget) -> None:
    old = solid(120, 80, "#c0c0c0")
    new = solid(100, 90, "#c0c0c0")
    view = show_images(widget, old, new)
    view.set_mode("difference")
    text = view.note_label.text()
    assert "sizes differ" in text and "120 × 80" in text and "100 × 90" in text
    assert view.note_label.isVisible()


def test_added_image_shows_only_the_new_one(widget: DiffWidget) -> None:
    view = show_images(widget, None, solid(120, 80, "#00ff00"))
    assert view.canvas.single() is not None
    assert not any(button.isEnabled() for button in view.mode_buttons.values())
    assert view.note_label.text() == "New image. Checkpoint 1: it did not exist yet."
    assert not view.old_caption.isVisible() and view.new_caption.isVisible()
    old_rect, new_rect = view.canvas.image_rects()
    assert old_rect is None
    assert near(pixel(view.canvas, new_rect, 60, 40), "#00ff00")
    view = show_images(widget, solid(120, 80, "#0000ff"), None)
    assert view.note_label.text() == "Deleted image. Now: it no longer exists."
    assert near(pixel(view.canvas, view.canvas.image_rects()[0], 60, 40), "#0000ff")


def test_fit_shrinks_large_images_and_zoom_enlarges(widget: DiffWidget) -> None:
    big = solid(3000, 2000, "#808080")
    view = show_images(widget, big, big)
    canvas = view.canvas
    assert canvas.scale() < 0.5  # fitted into the window
    rect = canvas.image_rects()[0]
    assert rect is not None and rect.right() <= canvas.width()
    view.zoom.setCurrentIndex(view.zoom.findText("100%"))
    assert canvas.scale() == 1.0
    assert view.scroll_area.horizontalScrollBar().maximum() > 0
    view.zoom.setCurrentIndex(view.zoom.findText("Fit"))
    assert canvas.scale() < 0.5
