"""Helpers shared by the diff view tests (no tests here)."""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect
from PySide6.QtGui import QColor, QImage, QPainter


def encode(image: QImage, fmt: str = "PNG") -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, fmt)  # type: ignore[call-overload]
    buffer.close()
    return bytes(data.data())


def solid(width: int, height: int, colour: str, patch: tuple[QRect, str] | None = None) -> QImage:
    """An opaque image of one colour, optionally with a rectangle of another."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    if patch is not None:
        painter = QPainter(image)
        painter.fillRect(patch[0], QColor(patch[1]))
        painter.end()
    return image


# A 2x1 GIF (Qt reads GIF but cannot write it): red pixel, blue pixel.
GIF_2x1 = bytes.fromhex("47494638396102000100800000ff00000000ff2c0000000002000100000202440a003b")
