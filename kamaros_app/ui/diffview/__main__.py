"""Preview the diff views with sample data: `python -m kamaros_app.ui.diffview [--save DIR]`.

With --save, pictures of each view in a light and a dark Fusion palette are written to DIR
(text.png, image-*.png, binary.png, too-large.png, each with -light / -dark) and it quits.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication

from kamaros_app.ui.diffview import DiffWidget, prepare_diff
from kamaros_app.ui.theme import dark_palette

OLD_TEXT = '''"""Greeting helpers."""

import sys


def greet(name):
    print("Hello, " + name)
    return None


def main():
    greet(sys.argv[1])
    # TODO: more greetings
    return 0


class Greeter:
    pass
'''

NEW_TEXT = '''"""Greeting helpers, now with a farewell."""

import sys


def greet(name: str) -> None:
    print(f"Hello, {name}!")


def farewell(name: str) -> None:
    print(f"Goodbye, {name}.")


def main():
    greet(sys.argv[1])
    farewell(sys.argv[1])
    return 0


class Greeter:
    pass
'''


def _png(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stub says bytes, Qt wants str
    return bytes(data.data())


def sample_images() -> tuple[bytes, bytes]:
    """A small drawing, and the same with a moved sun and a new red square."""
    images = []
    for version in (0, 1):
        image = QImage(320, 200, QImage.Format.Format_ARGB32)
        image.fill(QColor("#9fd3ff"))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(QRect(0, 140, 320, 60), QColor("#4caf50"))
        painter.setBrush(QColor("#ffd54f"))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(QPoint(70 + 150 * version, 60), 30, 30)
        painter.setBrush(QColor("#795548"))
        painter.drawRect(200, 100, 60, 40)
        if version:
            painter.setBrush(QColor("#e53935"))
            painter.drawRect(40, 110, 40, 40)
        painter.end()
        images.append(_png(image))
    return images[0], images[1]


def samples() -> dict[str, object]:
    old_png, new_png = sample_images()
    text = prepare_diff(
        OLD_TEXT.encode(),
        NEW_TEXT.encode(),
        path="greet.py",
        old_label="Checkpoint 1a2b3c4d — 12 Mar 14:02",
        new_label="Your folder now",
    )
    image = prepare_diff(
        old_png,
        new_png,
        path="drawing.png",
        old_label="Checkpoint 1a2b3c4d",
        new_label="Your folder now",
    )
    binary = prepare_diff(
        b"%PDF-1.4 old" + bytes(range(256)),
        b"%PDF-1.5 new" + bytes(range(256)),
        path="report.pdf",
        old_label="Checkpoint 1a2b3c4d",
        new_label="Your folder now",
    )
    return {"text": text, "image": image, "binary": binary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kamaros_app.ui.diffview")
    parser.add_argument("--save", type=Path, metavar="DIR", help="write pictures and quit")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    widget = DiffWidget()
    widget.resize(1100, 560)
    data = samples()
    if args.save is None:
        widget.show_prepared(data["text"])  # type: ignore[arg-type]
        widget.show()
        return app.exec()
    args.save.mkdir(parents=True, exist_ok=True)
    light = app.style().standardPalette()
    for theme, palette in (("light", light), ("dark", dark_palette())):
        app.setPalette(palette)
        app.processEvents()
        widget.show()
        for name in ("text", "image", "binary"):
            widget.show_prepared(data[name])  # type: ignore[arg-type]
            if name == "image":
                for mode in ("side", "onion", "swipe", "difference"):
                    widget.image_view.set_mode(mode)
                    app.processEvents()
                    widget.grab().save(str(args.save / f"image-{mode}-{theme}.png"))
                continue
            app.processEvents()
            widget.grab().save(str(args.save / f"{name}-{theme}.png"))
        widget.show_too_large("videos/holiday.mov", 7_340_032_000, 7_400_000_000)
        app.processEvents()
        widget.grab().save(str(args.save / f"too-large-{theme}.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
