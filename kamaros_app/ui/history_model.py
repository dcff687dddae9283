"""The table of checkpoints shown in the main window (newest first)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from kamaros_app.engine import VersionInfo

__all__ = ["CheckpointModel", "change_summary", "relative_time"]

_Index = QModelIndex | QPersistentModelIndex


def relative_time(when: datetime, now: datetime | None = None) -> str:
    """'just now', '5 minutes ago', 'yesterday', '3 days ago', then the date."""
    now = now or datetime.now(UTC)
    seconds = int((now - when).total_seconds())
    if seconds < 60:
        return "just now"

    def ago(n: int, unit: str) -> str:
        return f"{n} {unit}{'' if n == 1 else 's'} ago"

    if seconds < 3600:
        return ago(seconds // 60, "minute")
    if seconds < 86400:
        return ago(seconds // 3600, "hour")
    days = seconds // 86400
    if days == 1:
        return "yesterday"
    if days < 30:
        return ago(days, "day")
    return when.astimezone().strftime("%d %b %Y")


def change_summary(version: VersionInfo) -> str:
    """'2 added, 1 edited' in words a non-programmer reads at a glance."""
    parts = [
        (version.added, "added"),
        (version.modified, "edited"),
        (version.deleted, "deleted"),
        (version.renamed, "renamed"),
    ]
    text = ", ".join(f"{n} {word}" for n, word in parts if n)
    return text or "no changes"


class CheckpointModel(QAbstractTableModel):
    """One row per checkpoint: short id, message, relative time, tags, changes."""

    HEADERS = ("Checkpoint", "Message", "Saved", "Tags", "Changes")

    def __init__(self) -> None:
        super().__init__()
        self._versions: list[VersionInfo] = []
        self._now = datetime.now(UTC)

    def set_versions(self, versions: Sequence[VersionInfo], now: datetime | None = None) -> None:
        self.beginResetModel()
        self._versions = list(versions)
        self._now = now or datetime.now(UTC)
        self.endResetModel()

    def version_at(self, row: int) -> VersionInfo:
        return self._versions[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self._versions)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        version = self._versions[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(version, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            saved = version.timestamp.astimezone().strftime("%A %d %B %Y, %H:%M:%S")
            who = f"{version.author} <{version.email}>" if version.email else version.author
            return f"{version.message}\n{saved}\nby {who}\nid {version.id}"
        if role == Qt.ItemDataRole.FontRole and column == 0:
            font = QFont("monospace")
            font.setStyleHint(QFont.StyleHint.Monospace)
            return font
        if role == Qt.ItemDataRole.FontRole and version.automatic:
            font = QFont()
            font.setItalic(True)
            return font
        return None

    def _display(self, version: VersionInfo, column: int) -> str:
        if column == 0:
            return version.short_id
        if column == 1:
            return f"{version.message} (automatic)" if version.automatic else version.message
        if column == 2:
            return relative_time(version.timestamp, self._now)
        if column == 3:
            return ", ".join(version.tags)
        return change_summary(version)
