"""What a checkpoint's file is compared with, the picker of another checkpoint, and the
loading of one file's difference (`load_file_diff`, pure: runs on a worker)."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QModelIndex
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListView,
    QVBoxLayout,
    QWidget,
)

from kamaros_app.engine import FileDiff, History, InvalidArgumentError, Project, VersionInfo
from kamaros_app.ui.diffview import MAX_DIFF_BYTES, PreparedDiff, prepare_diff
from kamaros_app.ui.history_model import (
    VERSION_ROLE,
    HistoryDelegate,
    HistoryFilterProxy,
    HistoryModel,
    relative_time,
    title_of,
)

__all__ = [
    "CompareTarget",
    "CompareWithDialog",
    "DiffMessage",
    "DiffOutcome",
    "TooLarge",
    "load_file_diff",
    "version_label",
    "write_temp_copy",
]


@dataclass(frozen=True)
class CompareTarget:
    """The other side: the previous checkpoint, a chosen checkpoint, or the folder now."""

    kind: Literal["previous", "version", "folder"] = "previous"
    version_id: str | None = None
    label: str = ""

    @property
    def description(self) -> str:
        if self.kind == "previous":
            return "the previous checkpoint"
        if self.kind == "folder":
            return "the current folder"
        return f"“{self.label}”"


@dataclass(frozen=True)
class TooLarge:
    path: str
    old_size: int | None
    new_size: int | None


@dataclass(frozen=True)
class DiffMessage:
    title: str
    detail: str = ""


DiffOutcome = PreparedDiff | TooLarge | DiffMessage


def version_label(info: VersionInfo) -> str:
    return f"{title_of(info)} ({relative_time(info.timestamp)})"


def _find(items: Sequence[FileDiff], path: str) -> FileDiff | None:
    return next((d for d in items if path in (d.path, d.old_path)), None)


def load_file_diff(
    history: History, ref: str, path: str, target: CompareTarget, *, max_bytes: int | None = None
) -> DiffOutcome:
    """The difference of `path` (as named in checkpoint `ref`) against `target`.

    The older side is on the left: the previous checkpoint, the older of two checkpoints;
    the folder is always on the right.
    """
    limit = MAX_DIFF_BYTES if max_bytes is None else max_bytes
    ref = history.resolve(ref)
    this = history.version_info(ref)
    if target.kind == "folder":
        if not isinstance(history, Project):
            return DiffMessage("A project file has no folder to compare with")
        old_ref: str | None = ref
        new_ref: str | None = None
        labels = (version_label(this), "Current folder")
        items = history.diff(ref, None, [path])
    else:
        if target.kind == "previous":
            old_ref, new_ref = history.parent_of(ref), ref
        else:
            other = history.resolve(target.version_id or "")
            order = {v.id: i for i, v in enumerate(history.manifest.versions)}
            old_ref, new_ref = sorted((other, ref), key=order.__getitem__)
        old_label = (
            version_label(history.version_info(old_ref))
            if old_ref is not None
            else "Before the first checkpoint"
        )
        labels = (old_label, version_label(history.version_info(new_ref or ref)))
        items = history.diff_versions(old_ref, new_ref or ref, [path])
    item = _find(items, path)
    if item is None:  # the same on both sides: show the file as it is
        state = history.file_states(ref).get(path)
        if state is None:
            return DiffMessage(
                f"{path} is not in either version", "Pick another file or another comparison."
            )
        if state.size > limit:
            return TooLarge(path, state.size, state.size)
        data = history.read_file(ref, path)
        return prepare_diff(data, data, path=path, old_label=labels[0], new_label=labels[1])
    old_size = item.old.size if item.old is not None else None
    new_size = item.new.size if item.new is not None else None
    if max(old_size or 0, new_size or 0) > limit:
        return TooLarge(item.path, old_size, new_size)
    try:
        old = (
            None
            if item.old is None
            else history.side_bytes(old_ref, item.old_path or item.path, item.old.hash)
        )
        new = None if item.new is None else history.side_bytes(new_ref, item.path, item.new.hash)
    except FileNotFoundError:
        return DiffMessage(f"{path} changed while it was being read", "Press F5 and try again.")
    except InvalidArgumentError as exc:
        return DiffMessage("This comparison is not possible", str(exc))
    return prepare_diff(old, new, path=item.path, old_label=labels[0], new_label=labels[1])


def write_temp_copy(history: History, ref: str, path: str) -> Path:
    """Write one file of a checkpoint (or, if that checkpoint deleted it, of the one before)
    to a read-only temporary file, to open in another program."""
    if path not in history.file_states(ref):
        ref = history.parent_of(ref) or ref
    folder = Path(tempfile.mkdtemp(prefix="kamaros-"))
    target = folder / f"{history.resolve(ref)[:8]}-{Path(path).name}"
    with open(target, "wb") as handle:
        for chunk in history.iter_file(ref, path):
            handle.write(chunk)
    target.chmod(0o444)
    return target


class CompareWithDialog(QDialog):
    """Pick another checkpoint to compare with (with the same search as the history)."""

    def __init__(
        self, parent: QWidget | None, versions: Sequence[VersionInfo], exclude: str | None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare With Another Checkpoint")
        self.setMinimumSize(440, 420)
        self.model = HistoryModel()
        self.model.set_versions([v for v in versions if v.id != exclude])
        self.proxy = HistoryFilterProxy(self.model)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by message, tag or file name")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.set_search)
        self.list = QListView()
        self.list.setModel(self.proxy)
        self.list.setItemDelegate(HistoryDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setAccessibleName("Checkpoints")
        self.list.activated.connect(self._activated)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Compare")
        self.ok_button.setEnabled(False)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.list.selectionModel().currentChanged.connect(
            lambda current, _previous: self.ok_button.setEnabled(current.isValid())
        )
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Compare the selected file with the file in:"))
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.list.setFocus()
        if self.proxy.rowCount() == 0 and self.proxy.canFetchMore(QModelIndex()):
            self.proxy.fetchMore(QModelIndex())
        if self.proxy.rowCount():
            self.list.setCurrentIndex(self.proxy.index(0, 0))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Find):
            self.search.setFocus()
            return
        super().keyPressEvent(event)

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.list.setCurrentIndex(index)
            self.accept()

    def selected(self) -> VersionInfo | None:
        index = self.list.currentIndex()
        if not index.isValid():
            return None
        version = index.data(VERSION_ROLE)
        return version if isinstance(version, VersionInfo) else None

    def target(self) -> CompareTarget | None:
        version = self.selected()
        if version is None:
            return None
        return CompareTarget("version", version.id, title_of(version))
