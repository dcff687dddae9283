"""The list of checkpoints (newest first): a lazily filled model, its search and its look.

The whole list of `VersionInfo` arrives at once from a worker; the model shows it to views
200 rows at a time (`canFetchMore` / `fetchMore`), so 10,000 checkpoints cost the view no
more than 200. Search filters through `HistoryFilterProxy` by message, tag and file name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from kamaros_app.engine import History, VersionInfo

__all__ = [
    "VERSION_ROLE",
    "HistoryDelegate",
    "HistoryFilterProxy",
    "HistoryLoad",
    "HistoryModel",
    "change_summary",
    "exact_time",
    "file_stamp",
    "meta_html",
    "relative_time",
    "title_of",
]

_Index = QModelIndex | QPersistentModelIndex
VERSION_ROLE = Qt.ItemDataRole.UserRole + 1
BATCH = 200


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


def exact_time(when: datetime) -> str:
    return when.astimezone().strftime("%A %d %B %Y, %H:%M:%S")


def title_of(version: VersionInfo) -> str:
    """The first line of the message (the rest is the description)."""
    lines = version.message.strip().splitlines()
    return lines[0] if lines else "(no message)"


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


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def meta_html(version: VersionInfo) -> str:
    """One line under a checkpoint's title: when, who, what changed, then its tags."""
    meta = [
        f"{relative_time(version.timestamp)} ({exact_time(version.timestamp)})",
        f"by {_html(version.author or 'someone')}",
        change_summary(version),
    ]
    if version.automatic:
        meta.insert(0, "<i>saved automatically before a restore</i>")
    chips = "".join(
        f"&nbsp;<span style='background-color: palette(highlight); "
        f"color: palette(highlighted-text)'>&nbsp;{_html(tag)}&nbsp;</span>"
        for tag in version.tags
    )
    return " · ".join(meta) + (f"&nbsp;&nbsp;{chips}" if chips else "")


def _tooltip(version: VersionInfo) -> str:
    who = f"{version.author} <{version.email}>" if version.email else version.author
    lines = [version.message.strip(), "", f"Saved {exact_time(version.timestamp)} by {who}"]
    if version.automatic:
        lines.append("Saved automatically, before a restore")
    if version.tags:
        lines.append("Tags: " + ", ".join(version.tags))
    lines.append(change_summary(version))
    return "\n".join(lines)


class HistoryLoad:
    """What a history load brings back from the worker (built inside the task)."""

    def __init__(self, history: History) -> None:
        self.versions = history.log()
        self.notices = list(history.notices)
        self.root: Path | None = getattr(history, "root", None)
        self.newer_format = history.manifest.is_newer_format
        self.tags = set(history.manifest.tags)
        self.source = history.source
        self.stamp = file_stamp(history.source)


def file_stamp(path: Path) -> tuple[int, int] | None:
    """Size and modification time of the history file: they change with every write."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


class HistoryModel(QAbstractListModel):
    """All checkpoints, newest first, shown to views in batches of 200."""

    def __init__(self) -> None:
        super().__init__()
        self._all: list[VersionInfo] = []
        self._shown = 0
        self._haystacks: list[str] | None = None

    # ------------------------------------------------------------ filling

    def set_versions(self, versions: Sequence[VersionInfo]) -> None:
        self.beginResetModel()
        self._all = list(versions)
        self._shown = 0
        self._haystacks = None
        self.endResetModel()

    @property
    def total(self) -> int:
        """Every checkpoint, shown or not yet."""
        return len(self._all)

    @property
    def versions(self) -> Sequence[VersionInfo]:
        return self._all

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._shown < len(self._all)

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid():
            return
        self._show_up_to(self._shown + BATCH)

    def fetch_all(self) -> None:
        self._show_up_to(len(self._all))

    def _show_up_to(self, count: int) -> None:
        count = min(count, len(self._all))
        if count <= self._shown:
            return
        self.beginInsertRows(QModelIndex(), self._shown, count - 1)
        self._shown = count
        self.endInsertRows()

    def row_of(self, version_id: str) -> int | None:
        """The row of a checkpoint, fetching rows up to it when needed."""
        for row, version in enumerate(self._all):
            if version.id == version_id:
                self._show_up_to(max(row + 1, self._shown))
                return row
        return None

    def version_at(self, row: int) -> VersionInfo:
        return self._all[row]

    # ------------------------------------------------------------ search

    def matching_rows(self, text: str) -> set[int]:
        """Rows whose message, tags or changed file names contain every word of `text`."""
        if self._haystacks is None:
            self._haystacks = [
                "\n".join((v.message, *v.tags, *v.paths)).casefold() for v in self._all
            ]
        words = text.casefold().split()
        return {row for row, hay in enumerate(self._haystacks) if all(w in hay for w in words)}

    # ------------------------------------------------------------ model

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._shown

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.row() >= self._shown:
            return None
        version = self._all[index.row()]
        if role == VERSION_ROLE:
            return version
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{title_of(version)}, {relative_time(version.timestamp)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(version)
        return None


class HistoryFilterProxy(QSortFilterProxyModel):
    """Keeps the checkpoints matching the search text (all rows when it is empty)."""

    def __init__(self, source: HistoryModel) -> None:
        super().__init__()
        self._history = source
        self._matches: set[int] | None = None
        self._text = ""
        self.setSourceModel(source)
        source.modelReset.connect(self._recompute)

    @property
    def search_text(self) -> str:
        return self._text

    def set_search(self, text: str) -> None:
        self._text = text.strip()
        self._recompute()

    def _recompute(self) -> None:
        text = self._text
        if text:
            self._history.fetch_all()  # the data is in memory already; only matches show
        self.beginFilterChange()
        self._matches = self._history.matching_rows(text) if text else None
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        return self._matches is None or source_row in self._matches

    def version_at(self, row: int) -> VersionInfo:
        return self._history.version_at(self.mapToSource(self.index(row, 0)).row())

    def row_of(self, version_id: str) -> int | None:
        source_row = self._history.row_of(version_id)
        if source_row is None:
            return None
        row = self.mapFromSource(self._history.index(source_row, 0)).row()
        return row if row >= 0 else None


class HistoryDelegate(QStyledItemDelegate):
    """Two lines per checkpoint: title, tag chips; then time and what changed."""

    PAD = 6

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        metrics = QFontMetrics(option.font)
        return QSize(200, metrics.height() * 2 + self.PAD * 3)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        version = index.data(VERSION_ROLE)
        if not isinstance(version, VersionInfo):
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget: QWidget | None = opt.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        palette: QPalette = opt.palette
        text_color = palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        dim = QColor(text_color)
        dim.setAlphaF(0.65)
        rect: QRect = opt.rect.adjusted(self.PAD + 2, self.PAD, -self.PAD, -self.PAD)
        font = QFont(opt.font)
        metrics = QFontMetrics(font)
        line = metrics.height()
        painter.save()
        # Line 1: tag chips on the right, the title in what is left.
        right = rect.right()
        chip_font = QFont(font)
        chip_font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        chip_metrics = QFontMetrics(chip_font)
        for tag in reversed(version.tags[:3]):
            width = chip_metrics.horizontalAdvance(tag) + 12
            chip = QRect(right - width, rect.top() + 1, width, line - 2)
            right -= width + 4
            fill = QColor(palette.color(QPalette.ColorRole.Highlight))
            fill.setAlphaF(0.25 if not selected else 0.45)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(chip, chip.height() / 2, chip.height() / 2)
            painter.setFont(chip_font)
            painter.setPen(text_color)
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, tag)
        title_font = QFont(font)
        title_font.setBold(not version.automatic)
        title_font.setItalic(version.automatic)
        painter.setFont(title_font)
        painter.setPen(dim if version.automatic else text_color)
        title_rect = QRect(rect.left(), rect.top(), right - rect.left(), line)
        title = QFontMetrics(title_font).elidedText(
            title_of(version), Qt.TextElideMode.ElideRight, title_rect.width()
        )
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignVCenter, title)
        # Line 2: when, how much changed, and the automatic marker.
        parts = [relative_time(version.timestamp), change_summary(version)]
        if version.automatic:
            parts.insert(0, "automatic")
        painter.setFont(font)
        painter.setPen(dim)
        detail_rect = QRect(rect.left(), rect.top() + line + self.PAD, rect.width(), line)
        detail = metrics.elidedText(
            "  ·  ".join(parts), Qt.TextElideMode.ElideRight, detail_rect.width()
        )
        painter.drawText(detail_rect, Qt.AlignmentFlag.AlignVCenter, detail)
        painter.restore()


# ---------------------------------------------------------------- stop-gap window's table
