"""The file tree of one checkpoint, with what that checkpoint changed marked on each file.

`build_tree` is pure (runs on a worker); `ContentsModel` shows its result. Files the
checkpoint deleted are listed too, greyed and struck through. `change_icon` is the small
coloured marker used here, in the changes panel and in the dialogs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from kamaros_app.engine import FileInfo, History
from kamaros_app.engine.manifest import FileState
from kamaros_app.ui.icons import icon
from kamaros_app.units import human_size

__all__ = [
    "CHANGE_ROLE",
    "CHANGE_WORDS",
    "IS_DIR_ROLE",
    "PATH_ROLE",
    "Contents",
    "ContentsModel",
    "Node",
    "build_tree",
    "change_icon",
    "human_size",
    "load_contents",
]

_Index = QModelIndex | QPersistentModelIndex
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
CHANGE_ROLE = Qt.ItemDataRole.UserRole + 2
IS_DIR_ROLE = Qt.ItemDataRole.UserRole + 3

CHANGE_WORDS = {
    "added": "added",
    "modified": "edited",
    "deleted": "deleted",
    "renamed": "renamed",
}


def change_icon(kind: str) -> QIcon:
    """The coloured marker of a kind of change (added, modified, deleted, renamed)."""
    return icon(kind if kind in CHANGE_WORDS else "file")


@dataclass(eq=False)
class Node:
    """A file or folder in the tree; folders are sorted before files."""

    name: str
    path: str
    is_dir: bool
    size: int = 0
    change: str | None = None
    from_path: str | None = None
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    row: int = 0

    @property
    def deleted(self) -> bool:
        return self.change == "deleted"

    def iter_files(self) -> Iterable[Node]:
        for child in self.children:
            if child.is_dir:
                yield from child.iter_files()
            else:
                yield child


def build_tree(
    files: Iterable[FileInfo], changes: Mapping[str, FileState], *, only_changed: bool = False
) -> Node:
    """The tree of a checkpoint's files plus the files it deleted; folders holding changes
    are marked "inside"."""
    root = Node("", "", True)
    folders: dict[str, Node] = {"": root}

    def folder(path: str) -> Node:
        node = folders.get(path)
        if node is None:
            parent_path, _, name = path.rpartition("/")
            parent = folder(parent_path)
            node = Node(name, path, True, parent=parent)
            parent.children.append(node)
            folders[path] = node
        return node

    def add(path: str, size: int, change: str | None, from_path: str | None) -> None:
        parent_path, _, name = path.rpartition("/")
        parent = folder(parent_path)
        parent.children.append(Node(name, path, False, size, change, from_path, parent))
        if change is not None:
            walk: Node | None = parent
            while walk is not None and walk.path and walk.change is None:
                walk.change = "inside"
                walk = walk.parent

    for info in files:
        state = changes.get(info.path)
        change = state.changeType if state is not None else None
        if only_changed and change is None:
            continue
        add(info.path, info.size, change, state.fromPath if state is not None else None)
    for path, state in changes.items():
        if state.deleted:
            add(path, state.size, "deleted", None)
    _sort(root)
    return root


@dataclass(frozen=True)
class Contents:
    """A checkpoint's tree, with all files and with only the changed ones."""

    version_id: str
    all_files: Node
    changed: Node


def load_contents(history: History, version_id: str) -> Contents:
    """Read and build both trees of a checkpoint (on a worker)."""
    files = history.files(version_id)
    changes = history.version_changes(version_id)
    return Contents(
        version_id,
        build_tree(files, changes),
        build_tree(files, changes, only_changed=True),
    )


def _sort(node: Node) -> None:
    node.children.sort(key=lambda n: (not n.is_dir, n.name.casefold(), n.name))
    for row, child in enumerate(node.children):
        child.row = row
        if child.is_dir:
            _sort(child)


class ContentsModel(QAbstractItemModel):
    """Columns: name (with change marker), size."""

    HEADERS = ("Name", "Size")

    def __init__(self) -> None:
        super().__init__()
        self._root = Node("", "", True)

    def set_tree(self, root: Node) -> None:
        self.beginResetModel()
        self._root = root
        self.endResetModel()

    @property
    def root(self) -> Node:
        return self._root

    def node(self, index: _Index) -> Node:
        if not index.isValid():
            return self._root
        node = index.internalPointer()
        assert isinstance(node, Node)
        return node

    def index_of(self, path: str) -> QModelIndex:
        """The index of a file or folder by path (invalid when it is not in the tree)."""
        node = self._root
        for part in path.split("/") if path else []:
            found = next((c for c in node.children if c.name == part), None)
            if found is None:
                return QModelIndex()
            node = found
        return QModelIndex() if node is self._root else self.createIndex(node.row, 0, node)

    # ------------------------------------------------------------ model

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        node = self.node(parent)
        if 0 <= row < len(node.children) and 0 <= column < len(self.HEADERS):
            return self.createIndex(row, column, node.children[row])
        return QModelIndex()

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        parent = self.node(index).parent
        if parent is None or parent is self._root:
            return QModelIndex()
        return self.createIndex(parent.row, 0, parent)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self.node(parent).children)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return len(self.HEADERS)

    def hasChildren(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return self.rowCount(parent) > 0

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        node = self.node(index)
        column = index.column()
        if role == PATH_ROLE:
            return node.path
        if role == CHANGE_ROLE:
            return node.change
        if role == IS_DIR_ROLE:
            return node.is_dir
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return node.name
            return "" if node.is_dir else human_size(node.size)
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            if node.change is not None and node.change != "inside":
                return change_icon(node.change)
            return icon("folder" if node.is_dir else "file")
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(node)
        if role == Qt.ItemDataRole.FontRole and node.deleted:
            font = QFont()
            font.setStrikeOut(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and node.deleted:
            palette = QApplication.palette()
            return palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _tooltip(node: Node) -> str:
        if node.is_dir:
            return node.path + ("\nholds changed files" if node.change == "inside" else "")
        if node.change is None:
            return f"{node.path}\nunchanged in this checkpoint"
        text = f"{node.path}\n{CHANGE_WORDS[node.change]} in this checkpoint"
        if node.change == "renamed" and node.from_path:
            text += f" (was {node.from_path})"
        if node.deleted:
            text += "\nThe file is no longer part of this checkpoint"
        return text
