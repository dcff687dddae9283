"""Image comparison: mode switch (side by side, onion skin, swipe, difference), zoom,
and each side's pixel size and file size."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kamaros_app.ui.diffview.describe import human_size
from kamaros_app.ui.diffview.image_canvas import ImageCanvas, Mode
from kamaros_app.ui.diffview.model import ImageSide, PreparedDiff

__all__ = ["MODES", "ImageDiffView"]

MODES: tuple[tuple[Mode, str, str], ...] = (
    ("side", "Side by side", "Both versions next to each other"),
    ("onion", "Onion skin", "The new version over the old one; the slider sets its opacity"),
    ("swipe", "Swipe", "Old on the left of the line, new on the right; drag to move it"),
    ("difference", "Difference", "Black where nothing changed, bright where pixels differ"),
)
ZOOMS: tuple[tuple[str, float | None], ...] = (
    ("Fit", None),
    ("50%", 0.5),
    ("100%", 1.0),
    ("200%", 2.0),
    ("400%", 4.0),
    ("800%", 8.0),
)


class ImageDiffView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._prepared: PreparedDiff | None = None
        self.mode_buttons: dict[Mode, QToolButton] = {}
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        modes = QHBoxLayout()
        modes.setSpacing(0)
        for mode, text, tip in MODES:
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setCheckable(True)
            button.clicked.connect(lambda _checked=False, m=mode: self.set_mode(m))
            self._group.addButton(button)
            self.mode_buttons[mode] = button
            modes.addWidget(button)
        self.mode_buttons["side"].setChecked(True)

        self.slider_label = QLabel()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 100)
        self.slider.setValue(50)
        self.slider.setMaximumWidth(220)
        self.slider.valueChanged.connect(self._slider_moved)
        self.zoom = QComboBox()
        for text, _value in ZOOMS:
            self.zoom.addItem(text)
        self.zoom.setToolTip("Zoom (Fit shrinks large images to the window)")
        self.zoom.currentIndexChanged.connect(self._zoom_changed)

        self.controls = QWidget()
        bar = QHBoxLayout(self.controls)
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addLayout(modes)
        bar.addSpacing(12)
        bar.addWidget(self.slider_label)
        bar.addWidget(self.slider)
        bar.addStretch(1)
        bar.addWidget(QLabel("Zoom:"))
        bar.addWidget(self.zoom)

        self.note_label = QLabel()
        self.note_label.setObjectName("image_note")
        self.note_label.setWordWrap(True)
        self.note_label.setContentsMargins(6, 2, 6, 2)
        self.canvas = ImageCanvas()
        self.canvas.setAccessibleName("Image comparison")
        self.canvas.sig_split_dragged.connect(self._split_dragged)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidget(self.canvas)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.old_caption = _caption()
        self.new_caption = _caption()
        captions = QHBoxLayout()
        captions.setContentsMargins(4, 2, 4, 2)
        captions.addWidget(self.old_caption, 1)
        captions.addWidget(self.new_caption, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.controls)
        layout.addWidget(self.note_label)
        layout.addWidget(self.scroll_area, 1)
        layout.addLayout(captions)
        self._update_controls()

    # ---- content -------------------------------------------------------------------------

    def show_diff(self, prepared: PreparedDiff) -> None:
        self._prepared = prepared
        old = _image(prepared.old_image)
        new = _image(prepared.new_image)
        both = old is not None and new is not None
        self.canvas.set_images(old, new)
        self.controls.setEnabled(True)
        for button in self.mode_buttons.values():
            button.setEnabled(both)
        self.old_caption.setText(
            _describe("Before", prepared.old_label, prepared.old_image, prepared.old_size)
        )
        self.new_caption.setText(
            _describe("After", prepared.new_label, prepared.new_image, prepared.new_size)
        )
        self.old_caption.setVisible(prepared.old_size is not None)
        self.new_caption.setVisible(prepared.new_size is not None)
        self._update_controls()

    def clear(self) -> None:
        self._prepared = None
        self.canvas.set_images(None, None)

    def set_mode(self, mode: Mode) -> None:
        self.canvas.set_mode(mode)
        self.mode_buttons[mode].setChecked(True)
        self.slider.blockSignals(True)
        self.slider.setValue(50)
        self.slider.blockSignals(False)
        self.canvas.set_opacity(0.5)
        self.canvas.set_split(0.5)
        self._update_controls()

    @property
    def mode(self) -> Mode:
        return self.canvas.mode

    # ---- controls ------------------------------------------------------------------------

    def _update_controls(self) -> None:
        prepared = self._prepared
        single = self.canvas.single() is not None
        mode = self.canvas.mode
        slider = not single and mode in ("onion", "swipe")
        self.slider.setVisible(slider)
        self.slider_label.setVisible(slider)
        self.slider_label.setText("Opacity of the new version:" if mode == "onion" else "Split:")
        self.note_label.setText(self._note(prepared, single))
        self.note_label.setVisible(bool(self.note_label.text()))

    def _note(self, prepared: PreparedDiff | None, single: bool) -> str:
        if prepared is None:
            return ""
        if single:
            return _single_note(prepared)
        notes = []
        if prepared.identical:
            notes.append("The two versions are identical.")
        old = _image(prepared.old_image)
        new = _image(prepared.new_image)
        if old is not None and new is not None:
            if self.canvas.mode == "difference":
                notes.append("Black means unchanged; the brighter a pixel, the more it changed.")
            if old.size() != new.size():
                notes.append(
                    f"The sizes differ ({old.width()} × {old.height()} before, "
                    f"{new.width()} × {new.height()} after): the images are lined up at "
                    "their top-left corners."
                )
        return " ".join(notes)

    def _slider_moved(self, value: int) -> None:
        if self.canvas.mode == "onion":
            self.canvas.set_opacity(value / 100)
        else:
            self.canvas.set_split(value / 100)

    def _split_dragged(self, split: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round(split * 100))
        self.slider.blockSignals(False)

    def _zoom_changed(self, index: int) -> None:
        zoom = ZOOMS[index][1]
        self.scroll_area.setWidgetResizable(zoom is None)
        self.canvas.set_zoom(zoom)
        if zoom is not None:
            hint = self.canvas.sizeHint()
            viewport = self.scroll_area.viewport().size()
            self.canvas.resize(
                max(hint.width(), viewport.width()), max(hint.height(), viewport.height())
            )


def _image(side: ImageSide | None) -> QImage | None:
    return None if side is None else side.image


def _single_note(prepared: PreparedDiff) -> str:
    if prepared.old_size is None:
        return f"New image. {prepared.old_label}: it did not exist yet."
    if prepared.new_size is None:
        return f"Deleted image. {prepared.new_label}: it no longer exists."
    broken = prepared.old_image if _image(prepared.old_image) is None else prepared.new_image
    which = "old" if broken is prepared.old_image else "new"
    reason = broken.error if broken is not None else ""
    return f"The {which} version could not be read as an image. {reason}".strip()


def _describe(title: str, label: str, side: ImageSide | None, size: int | None) -> str:
    if size is None:
        return ""
    parts = [human_size(size)]
    if side is not None and side.image is not None:
        parts.insert(0, f"{side.image.width()} × {side.image.height()} px")
    if side is not None and side.format:
        parts.append(side.format)
    if side is not None and side.image is None:
        parts.append("not readable as an image")
    return f"{title} — {label}: {', '.join(parts)}"


def _caption() -> QLabel:
    caption = QLabel()
    caption.setTextFormat(Qt.TextFormat.PlainText)
    caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    caption.setWordWrap(True)
    return caption
