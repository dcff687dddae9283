"""Paints two versions of an image in one of four comparison modes, scaled to fit or zoomed.

Both images share one coordinate frame (top-left aligned, the larger width and height), so
a pixel of one lies over the same pixel of the other in every mode.
"""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

__all__ = ["GAP", "ImageCanvas", "Mode", "difference_image"]

Mode = Literal["side", "onion", "swipe", "difference"]
GAP = 16  # pixels between the two images side by side (not scaled)
_CHECKER = 8


def difference_image(old: QImage, new: QImage) -> QImage:
    """|new - old| per channel over an opaque black frame: black where nothing changed."""
    size = QSize(max(old.width(), new.width()), max(old.height(), new.height()))
    result = QImage(size, QImage.Format.Format_RGB32)
    result.fill(QColor(0, 0, 0))
    painter = QPainter(result)
    painter.drawImage(0, 0, old)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Difference)
    painter.drawImage(0, 0, new)
    painter.end()
    return result


class ImageCanvas(QWidget):
    sig_split_dragged = Signal(float)
    """The user dragged the swipe line: new split, 0.0 (left edge) to 1.0 (right edge)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(64, 64)
        self._old: QImage | None = None
        self._new: QImage | None = None
        self._difference: QImage | None = None
        self._mode: Mode = "side"
        self._opacity = 0.5
        self._split = 0.5
        self._zoom: float | None = None  # None: fit (shrink only)
        self._shrunk: dict[tuple[int, int, int], QImage] = {}

    # ---- state ---------------------------------------------------------------------------

    def set_images(self, old: QImage | None, new: QImage | None) -> None:
        self._old = old
        self._new = new
        self._difference = None
        self._shrunk.clear()
        self.updateGeometry()
        self.update()

    def set_mode(self, mode: Mode) -> None:
        self._mode = mode
        self.updateGeometry()
        self.update()

    def set_opacity(self, opacity: float) -> None:
        self._opacity = min(1.0, max(0.0, opacity))
        self.update()

    def set_split(self, split: float) -> None:
        self._split = min(1.0, max(0.0, split))
        self.update()

    def set_zoom(self, zoom: float | None) -> None:
        self._zoom = zoom
        self.updateGeometry()
        self.update()

    @property
    def mode(self) -> Mode:
        return self._mode

    def single(self) -> QImage | None:
        """The only image when one side is missing, else None."""
        if self._old is None:
            return self._new
        if self._new is None:
            return self._old
        return None

    # ---- geometry ------------------------------------------------------------------------

    def _frame(self) -> QSize:
        images = [i for i in (self._old, self._new) if i is not None]
        return QSize(
            max((i.width() for i in images), default=0),
            max((i.height() for i in images), default=0),
        )

    def content_size(self) -> QSize:
        """Unscaled size of what is drawn (without the gap between side-by-side images)."""
        single = self.single()
        if single is not None:
            return single.size()
        if self._old is None or self._new is None:
            return QSize(0, 0)
        if self._mode == "side":
            return QSize(self._old.width() + self._new.width(), self._frame().height())
        return self._frame()

    def _gap(self) -> int:
        return GAP if self.single() is None and self._mode == "side" else 0

    def scale(self) -> float:
        content = self.content_size()
        if content.isEmpty():
            return 1.0
        if self._zoom is not None:
            return self._zoom
        available_w = max(1, self.width() - self._gap())
        fit = min(available_w / content.width(), self.height() / content.height())
        return min(1.0, fit)

    def sizeHint(self) -> QSize:
        content = self.content_size()
        if self._zoom is None or content.isEmpty():
            return QSize(400, 300)
        return QSize(
            round(content.width() * self._zoom) + self._gap(), round(content.height() * self._zoom)
        )

    def _origin(self, scale: float) -> QPointF:
        content = self.content_size()
        width = content.width() * scale + self._gap()
        height = content.height() * scale
        return QPointF(max(0.0, (self.width() - width) / 2), max(0.0, (self.height() - height) / 2))

    # ---- painting ------------------------------------------------------------------------

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Window))
        scale = self.scale()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 1.0)
        origin = self._origin(scale)
        single = self.single()
        if single is not None:
            self._draw(painter, single, origin, scale, checker=True)
        elif self._old is not None and self._new is not None:
            if self._mode == "side":
                self._draw(painter, self._old, origin, scale, checker=True)
                right = QPointF(origin.x() + self._old.width() * scale + GAP, origin.y())
                self._draw(painter, self._new, right, scale, checker=True)
            elif self._mode == "onion":
                self._checker(painter, self._frame_rect(origin, scale))
                self._draw(painter, self._old, origin, scale)
                painter.setOpacity(self._opacity)
                self._draw(painter, self._new, origin, scale)
                painter.setOpacity(1.0)
            elif self._mode == "swipe":
                self._paint_swipe(painter, origin, scale)
            else:
                if self._difference is None:
                    self._difference = difference_image(self._old, self._new)
                self._draw(painter, self._difference, origin, scale)
        painter.end()

    def _frame_rect(self, origin: QPointF, scale: float) -> QRectF:
        frame = self._frame()
        return QRectF(origin.x(), origin.y(), frame.width() * scale, frame.height() * scale)

    def image_rects(self) -> tuple[QRectF | None, QRectF | None]:
        """Where the old and the new image are drawn now, in widget coordinates."""
        scale = self.scale()
        origin = self._origin(scale)

        def rect(image: QImage | None, at: QPointF) -> QRectF | None:
            if image is None:
                return None
            return QRectF(at.x(), at.y(), image.width() * scale, image.height() * scale)

        single = self.single()
        if single is not None:
            return (
                rect(self._old, origin) if single is self._old else None,
                rect(self._new, origin) if single is self._new else None,
            )
        if self._mode == "side" and self._old is not None:
            right = QPointF(origin.x() + self._old.width() * scale + GAP, origin.y())
            return rect(self._old, origin), rect(self._new, right)
        return rect(self._old, origin), rect(self._new, origin)

    def split_x(self) -> float:
        """Widget x coordinate of the swipe line."""
        scale = self.scale()
        rect = self._frame_rect(self._origin(scale), scale)
        return rect.left() + rect.width() * self._split

    def _paint_swipe(self, painter: QPainter, origin: QPointF, scale: float) -> None:
        assert self._old is not None and self._new is not None
        rect = self._frame_rect(origin, scale)
        x = self.split_x()
        self._checker(painter, rect)
        painter.save()
        painter.setClipRect(QRectF(rect.left(), rect.top(), x - rect.left(), rect.height()))
        self._draw(painter, self._old, origin, scale)
        painter.setClipRect(QRectF(x, rect.top(), rect.right() - x, rect.height()))
        self._draw(painter, self._new, origin, scale)
        painter.restore()
        pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), 2)
        painter.setPen(pen)
        painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
        self._tag(painter, "Before", QPointF(rect.left() + 4, rect.top() + 4), left=True)
        self._tag(painter, "After", QPointF(rect.right() - 4, rect.top() + 4), left=False)

    def _tag(self, painter: QPainter, text: str, at: QPointF, *, left: bool) -> None:
        """A small label on the picture, in tooltip colours."""
        metrics = painter.fontMetrics()
        box = QRectF(0, 0, metrics.horizontalAdvance(text) + 10, metrics.height() + 4)
        box.moveTop(at.y())
        if left:
            box.moveLeft(at.x())
        else:
            box.moveRight(at.x())
        palette = self.palette()
        painter.fillRect(box, palette.color(QPalette.ColorRole.ToolTipBase))
        painter.setPen(palette.color(QPalette.ColorRole.ToolTipText))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _draw(
        self, painter: QPainter, image: QImage, at: QPointF, scale: float, *, checker: bool = False
    ) -> None:
        target = QRectF(at.x(), at.y(), image.width() * scale, image.height() * scale)
        if checker and image.hasAlphaChannel():
            self._checker(painter, target)
        if scale < 1.0:
            # Shrinking a large picture on every paint is slow: keep the shrunk copy.
            size = QSize(max(1, round(target.width())), max(1, round(target.height())))
            key = (image.cacheKey(), size.width(), size.height())
            shrunk = self._shrunk.get(key)
            if shrunk is None:
                if len(self._shrunk) > 8:
                    self._shrunk.clear()
                shrunk = image.scaled(
                    size,
                    Qt.AspectRatioMode.IgnoreAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
                self._shrunk[key] = shrunk
            painter.drawImage(target.topLeft(), shrunk)
        else:
            painter.drawImage(target, image)

    def _checker(self, painter: QPainter, rect: QRectF) -> None:
        """A light/dark checkerboard where transparent pixels will show."""
        palette = self.palette()
        light = palette.color(QPalette.ColorRole.Base)
        dark = palette.color(QPalette.ColorRole.AlternateBase)
        if dark == light:
            dark = light.darker(112)
        tile = QImage(2 * _CHECKER, 2 * _CHECKER, QImage.Format.Format_RGB32)
        tile.fill(light)
        tile_painter = QPainter(tile)
        tile_painter.fillRect(0, 0, _CHECKER, _CHECKER, dark)
        tile_painter.fillRect(_CHECKER, _CHECKER, _CHECKER, _CHECKER, dark)
        tile_painter.end()
        painter.save()
        painter.setBrushOrigin(rect.topLeft())
        painter.fillRect(rect, QBrush(tile))
        painter.restore()

    # ---- swipe by dragging ---------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._drag(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._drag(event)

    def _drag(self, event: QMouseEvent) -> None:
        if self._mode != "swipe" or self.single() is not None:
            return
        scale = self.scale()
        rect = self._frame_rect(self._origin(scale), scale)
        if rect.width() <= 0:
            return
        split = (event.position().x() - rect.left()) / rect.width()
        self.set_split(split)
        self.sig_split_dragged.emit(self._split)
