"""What changed in the folder since the last checkpoint: counts per kind and a list.

The panel only shows; the window loads `Status` on a worker and hands it over with
`show_status` (on F5, on window activation and after every write).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QLabel,
    QListView,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kamaros_app.engine import History, InvalidArgumentError, Project, Status
from kamaros_app.ui.contents_model import CHANGE_WORDS, change_icon

__all__ = ["Change", "ChangesModel", "ChangesPanel", "load_status", "summary_counts"]

_Index = QModelIndex | QPersistentModelIndex
PATH_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class Change:
    kind: str  # added | modified | deleted | renamed
    path: str
    from_path: str | None = None


def load_status(history: History) -> tuple[Status, bool]:
    """The folder's changes, and whether there is any checkpoint yet (on a worker)."""
    if not isinstance(history, Project):
        raise InvalidArgumentError("a project file has no folder")
    return history.status(), bool(history.manifest.versions)


def changes_of(status: Status) -> list[Change]:
    items = [Change("added", p) for p in status.added]
    items += [Change("modified", p) for p in status.modified]
    items += [Change("deleted", p) for p in status.deleted]
    items += [Change("renamed", new, old) for old, new in status.renamed]
    items.sort(key=lambda c: c.path.casefold())
    return items


def summary_counts(status: Status) -> str:
    """'2 added · 1 edited' (kinds with no changes are left out)."""
    counts = [
        (len(status.added), "added"),
        (len(status.modified), "edited"),
        (len(status.deleted), "deleted"),
        (len(status.renamed), "renamed"),
    ]
    return "  ·  ".join(f"{n} {word}" for n, word in counts if n)


class ChangesModel(QAbstractListModel):
    def __init__(self) -> None:
        super().__init__()
        self._items: list[Change] = []

    def set_changes(self, items: list[Change]) -> None:
        self.beginResetModel()
        self._items = items
        self.endResetModel()

    def change_at(self, row: int) -> Change:
        return self._items[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.path
        if role == Qt.ItemDataRole.DecorationRole:
            return change_icon(item.kind)
        if role == PATH_ROLE:
            return item.path
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            text = f"{item.path}: {CHANGE_WORDS[item.kind]}"
            if item.from_path:
                text += f" (was {item.from_path})"
            return text
        return None


class ChangesPanel(QWidget):
    """Title with counts, then the list, or a sentence saying what to do next."""

    sig_file_activated = Signal(str)
    """A changed file was chosen (Enter or double click): its path."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status: Status | None = None
        self.title = QLabel("Looking for changes…")
        self.title.setObjectName("changesTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.counts = QLabel("")
        self.counts.setWordWrap(True)
        self.model = ChangesModel()
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setUniformItemSizes(True)
        self.list.setAccessibleName("Changes since the last checkpoint")
        self.list.activated.connect(self._activated)
        self.empty = QLabel("")
        self.empty.setObjectName("changesEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setEnabled(False)  # drawn in the palette's quieter text colour
        self.stack = QStackedWidget()
        self.stack.addWidget(self.list)
        self.stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.counts)
        layout.addWidget(self.stack, 1)

    @property
    def has_changes(self) -> bool:
        return self.status is not None and not self.status.is_clean

    def show_status(self, status: Status, *, has_checkpoints: bool) -> None:
        self.status = status
        self.model.set_changes(changes_of(status))
        total = status.total
        skipped = len(status.skipped)
        note = f"  ·  {skipped} could not be read" if skipped else ""
        if total:
            noun = "change" if total == 1 else "changes"
            since = "since the last checkpoint" if has_checkpoints else "not saved yet"
            self.title.setText(f"{total} {noun} {since}")
            self.counts.setText(summary_counts(status) + note)
            self.counts.show()
            self.stack.setCurrentWidget(self.list)
            return
        if has_checkpoints:
            self.title.setText("Everything is saved")
            self.empty.setText(
                "The folder is exactly as in the last checkpoint.\n"
                "Edit your files; changes show up here."
            )
        else:
            self.title.setText("No checkpoints yet")
            self.empty.setText("Add files to the folder, then Save Checkpoint")
        self.counts.setText(note.strip(" ·"))
        self.counts.setVisible(bool(note))
        self.stack.setCurrentWidget(self.empty)

    def show_message(self, title: str, detail: str = "") -> None:
        """For a project file (no folder) or when the folder could not be read."""
        self.status = None
        self.model.set_changes([])
        self.title.setText(title)
        self.counts.hide()
        self.empty.setText(detail)
        self.stack.setCurrentWidget(self.empty)

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.sig_file_activated.emit(self.model.change_at(index.row()).path)
