"""History of This File: every checkpoint that changed one file (following its renames);
selecting one shows what that checkpoint changed in it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kamaros_app.engine import History, VersionInfo
from kamaros_app.ui.contents_model import CHANGE_WORDS, change_icon
from kamaros_app.ui.dialogs.compare_with import (
    CompareTarget,
    DiffMessage,
    DiffOutcome,
    TooLarge,
    load_file_diff,
)
from kamaros_app.ui.diffview import DiffWidget, PreparedDiff
from kamaros_app.ui.errors import explain
from kamaros_app.ui.history_model import exact_time, relative_time, title_of
from kamaros_app.ui.worker import TaskRunner

__all__ = ["FileHistoryDialog", "FileVersion", "file_versions"]

Opener = Callable[[], History]


@dataclass(frozen=True)
class FileVersion:
    version: VersionInfo
    path: str  # the file's name in that checkpoint
    change: str  # added | modified | deleted | renamed
    from_path: str | None


def file_versions(history: History, ref: str, path: str) -> list[FileVersion]:
    """The checkpoints that changed `path` (as named in `ref`), newest first."""
    state = history.file_states(ref).get(path) or history.version_changes(ref).get(path)
    inode = state.inodeId if state is not None else None
    out: list[FileVersion] = []
    for info in history.log(path):
        changes = history.version_changes(info.id)
        match = next((s for s in changes.values() if inode and s.inodeId == inode), None)
        match = match or changes.get(path)
        if match is None:  # a folder's history: not for this dialog
            continue
        out.append(FileVersion(info, match.path, match.changeType, match.fromPath))
    return out


class FileHistoryDialog(QDialog):
    def __init__(
        self, parent: QWidget | None, runner: TaskRunner, opener: Opener, ref: str, path: str
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"History of {path.rsplit('/', 1)[-1]}")
        self.resize(980, 620)
        self._runner = runner
        self._opener = opener
        self._generation = 0
        self.entries: list[FileVersion] = []
        self.title = QLabel(f"Checkpoints that changed <b>{path}</b>")
        self.title.setWordWrap(True)
        self.list = QListWidget()
        self.list.setAccessibleName("Checkpoints that changed this file")
        self.list.setSpacing(3)
        self.list.setWordWrap(True)
        self.list.currentRowChanged.connect(self._selected)
        self.diff = DiffWidget()
        self.diff.show_message("Loading…")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.list)
        split.addWidget(self.diff)
        split.setStretchFactor(1, 3)
        split.setSizes([300, 680])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(split, 1)
        layout.addWidget(buttons)

        def load() -> list[FileVersion]:
            with opener() as history:
                return file_versions(history, ref, path)

        runner.run_read(load, self._loaded, self._failed)

    @property
    def loaded(self) -> bool:
        return self.list.count() > 0 or bool(self.entries)

    def _loaded(self, entries: list[FileVersion]) -> None:
        self.entries = entries
        if not entries:
            self.diff.show_message("This file was never saved in a checkpoint")
            return
        for entry in entries:
            what = CHANGE_WORDS.get(entry.change, entry.change)
            if entry.change == "renamed" and entry.from_path:
                what += f" from {entry.from_path.rsplit('/', 1)[-1]}"
            text = f"{title_of(entry.version)}\n{relative_time(entry.version.timestamp)} · {what}"
            item = QListWidgetItem(change_icon(entry.change), text)
            item.setToolTip(
                f"{entry.version.message.strip()}\n{exact_time(entry.version.timestamp)}\n"
                f"{entry.path}: {what}"
            )
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.setFocus()

    def _failed(self, exc: BaseException) -> None:
        self.diff.show_message("Could not read the history of this file", explain(exc))

    def _selected(self, row: int) -> None:
        if not 0 <= row < len(self.entries):
            return
        entry = self.entries[row]
        self._generation += 1
        generation = self._generation
        opener = self._opener
        self.diff.show_message("Loading…")

        def load() -> DiffOutcome:
            with opener() as history:
                return load_file_diff(history, entry.version.id, entry.path, CompareTarget())

        self._runner.run_read(
            load,
            lambda outcome: self._show(generation, outcome),
            lambda exc: self._show(
                generation, DiffMessage("Could not show this change", explain(exc))
            ),
        )

    def _show(self, generation: int, outcome: DiffOutcome) -> None:
        if generation != self._generation:
            return
        if isinstance(outcome, TooLarge):
            self.diff.show_too_large(outcome.path, outcome.old_size, outcome.new_size)
        elif isinstance(outcome, DiffMessage):
            self.diff.show_message(outcome.title, outcome.detail)
        elif isinstance(outcome, PreparedDiff):
            self.diff.show_prepared(outcome)
