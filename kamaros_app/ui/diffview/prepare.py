"""`prepare_diff`: two versions of a file (bytes) -> what the views show. Worker-thread safe.

It touches no widget and no QPixmap; QImage (reentrant) is the only Qt class it creates.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage, QImageReader

from kamaros_app.engine.hashing import hash_bytes
from kamaros_app.ui.diffview.describe import file_type
from kamaros_app.ui.diffview.model import MAX_DIFF_BYTES, BinarySide, ImageSide, PreparedDiff
from kamaros_app.ui.diffview.text_prepare import decode_text, prepare_text

__all__ = ["MAX_DIFF_BYTES", "PreparedDiff", "load_image", "prepare_diff"]


def prepare_diff(
    old: bytes | None, new: bytes | None, *, path: str, old_label: str, new_label: str
) -> PreparedDiff:
    """Decide how to show the change of `path` from `old` to `new` and compute it.

    None means the file does not exist on that side. Text (UTF-8 without NUL on every
    present side) gets aligned rows; images (anything Qt reads) decoded QImages; anything
    else sizes, types and content hashes. Above MAX_DIFF_BYTES on a side: kind "too_large".
    """
    old_size = None if old is None else len(old)
    new_size = None if new is None else len(new)
    make = partial(
        PreparedDiff,
        path=path,
        old_label=old_label,
        new_label=new_label,
        old_size=old_size,
        new_size=new_size,
    )
    if any(size is not None and size > MAX_DIFF_BYTES for size in (old_size, new_size)):
        return make(kind="too_large", identical=False)
    identical = old == new
    old_text = None if old is None else decode_text(old)
    new_text = None if new is None else decode_text(new)
    if (old is None or old_text is not None) and (new is None or new_text is not None):
        text = prepare_text(old_text, new_text, path)
        return make(kind="text", identical=identical, text=text)
    old_image = None if old is None else load_image(old)
    new_image = None if new is None else load_image(new)
    if any(side is not None and side.image is not None for side in (old_image, new_image)):
        return make(kind="image", identical=identical, old_image=old_image, new_image=new_image)
    return make(
        kind="binary",
        identical=identical,
        old_binary=None if old is None else _binary_side(path, old),
        new_binary=None if new is None else _binary_side(path, new),
    )


def load_image(data: bytes) -> ImageSide:
    """Decode an image with Qt's readers (PNG, JPEG, GIF, BMP, WebP, ...); first frame only."""
    if not data:
        return ImageSide(None, "", "The file is empty.")
    array = QByteArray(data)
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)  # honour JPEG orientation, as image viewers do
    fmt = bytes(reader.format().data()).decode("ascii", "replace").upper()
    image = reader.read()
    buffer.close()
    if image.isNull():
        return ImageSide(None, fmt, reader.errorString() or "Not a readable image.")
    return ImageSide(QImage(image), fmt, "")


def _binary_side(path: str, data: bytes) -> BinarySide:
    return BinarySide(size=len(data), type=file_type(path, data), hash=hash_bytes(data))
