"""The right-hand pane of a project window: the selected checkpoint.

Its header (message, date, author, tags), its files as a tree with change markers, the
Compare with… control and the difference of the selected file. Everything is read through
the window's ProjectTasks; when the selection moves on, results of older requests are
dropped. The window tells the view which checkpoint to show; the view tells the window,
through its `sig_*` signals, when what it shows has changed.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from kamaros_app.engine import VersionInfo
from kamaros_app.ui.contents_model import Contents, ContentsModel, Node, load_contents
from kamaros_app.ui.dialogs.compare_with import (
    CompareTarget,
    CompareWithDialog,
    DiffMessage,
    DiffOutcome,
    TooLarge,
    load_file_diff,
)
from kamaros_app.ui.diffview import DiffWidget, PreparedDiff
from kamaros_app.ui.errors import explain
from kamaros_app.ui.history_model import meta_html, title_of
from kamaros_app.ui.project_tasks import ProjectTasks
from kamaros_app.ui.widgets import action_button

__all__ = ["SELECT_DELAY_MS", "CheckpointView"]

SELECT_DELAY_MS = 120
"""Moving through the history with the arrow keys loads only where the person stops."""

_ROWS = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows


class CheckpointView(QWidget):
    """The selected checkpoint: header, file tree, Compare with… and the difference."""

    sig_files_changed = Signal()
    """The current file or the selected files changed (the actions on them may change)."""
    sig_shown = Signal()
    """What was asked for is on screen: a difference, an empty state or an error."""
    sig_open_externally = Signal()
    """The person asked to open the file shown (`diff_path` of `version`) in another app."""
    sig_menu_requested = Signal(object, QPoint)
    """A context menu for the file tree: the Node under the mouse (or None), where (global)."""

    def __init__(
        self,
        tasks: ProjectTasks,
        restore_files_action: QAction,
        *,
        has_folder: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._has_folder = has_folder
        self._version: VersionInfo | None = None
        self._versions: Sequence[VersionInfo] = ()
        self._contents: Contents | None = None
        self._contents_generation = 0
        self._diff_generation = 0
        self._diff_path: str | None = None
        self._compare = CompareTarget()
        self.diff_outcome: DiffOutcome | None = None
        """What the difference view shows now (for tests and accessibility checks)."""
        self._select_timer = QTimer(self)
        self._select_timer.setSingleShot(True)
        self._select_timer.setInterval(SELECT_DELAY_MS)
        self._select_timer.timeout.connect(self._load_checkpoint)
        self._build(restore_files_action)

    def _build(self, restore_files_action: QAction) -> None:
        self.header_title = QLabel("")
        title_font = self.header_title.font()
        title_font.setBold(True)
        title_font.setPointSizeF(title_font.pointSizeF() * 1.25)
        self.header_title.setFont(title_font)
        self.header_title.setWordWrap(True)
        self.header_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.header_meta = QLabel("")
        self.header_meta.setWordWrap(True)
        self.header_meta.setTextFormat(Qt.TextFormat.RichText)
        self.header_body = QLabel("")
        self.header_body.setWordWrap(True)
        self.header_body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.header_body.hide()

        self.contents_model = ContentsModel()
        self.contents_view = QTreeView()
        self.contents_view.setModel(self.contents_model)
        self.contents_view.setAccessibleName("Files of this checkpoint")
        self.contents_view.setUniformRowHeights(True)
        self.contents_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.contents_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.contents_view.customContextMenuRequested.connect(self._contents_menu)
        self.contents_view.selectionModel().currentChanged.connect(self._file_changed)
        self.contents_view.selectionModel().selectionChanged.connect(
            lambda *_: self.sig_files_changed.emit()
        )
        self.contents_view.activated.connect(self._file_activated)
        self.contents_view.setExpandsOnDoubleClick(False)  # _file_activated toggles folders
        header = self.contents_view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, header.ResizeMode.Stretch)
        header.setSectionResizeMode(1, header.ResizeMode.ResizeToContents)
        self.show_combo = QComboBox()
        self.show_combo.addItems(["All files", "Only changed files"])
        self.show_combo.setAccessibleName("Show")
        self.show_combo.currentIndexChanged.connect(lambda _i: self._show_tree())
        show_label = QLabel("&Show:")
        show_label.setBuddy(self.show_combo)
        self.restore_files_button = action_button(restore_files_action)
        contents_bar = QHBoxLayout()
        contents_bar.addWidget(show_label)
        contents_bar.addWidget(self.show_combo, 1)
        files_bar = QHBoxLayout()
        files_bar.addStretch(1)
        files_bar.addWidget(self.restore_files_button)
        contents_box = QWidget()
        contents_layout = QVBoxLayout(contents_box)
        contents_layout.setContentsMargins(0, 0, 0, 0)
        contents_layout.addLayout(contents_bar)
        contents_layout.addWidget(self.contents_view, 1)
        contents_layout.addLayout(files_bar)

        self.compare_combo = QComboBox()
        self.compare_combo.setAccessibleName("Compare with")
        self.compare_combo.activated.connect(self._compare_chosen)
        compare_label = QLabel("&Compare with:")
        compare_label.setBuddy(self.compare_combo)
        self.diff_title = QLabel("")
        self.diff_title.setTextFormat(Qt.TextFormat.PlainText)
        bold = self.diff_title.font()
        bold.setBold(True)
        self.diff_title.setFont(bold)
        compare_bar = QHBoxLayout()
        compare_bar.addWidget(self.diff_title, 1)
        compare_bar.addWidget(compare_label)
        compare_bar.addWidget(self.compare_combo)
        self.diff = DiffWidget()
        self.diff.sig_open_externally.connect(self.sig_open_externally)
        self.diff.show_message("Select a file", "Its changes in this checkpoint show here.")
        diff_box = QWidget()
        diff_layout = QVBoxLayout(diff_box)
        diff_layout.setContentsMargins(0, 0, 0, 0)
        diff_layout.addLayout(compare_bar)
        diff_layout.addWidget(self.diff, 1)
        self._fill_compare_combo()

        self.right_split = QSplitter(Qt.Orientation.Horizontal)
        self.right_split.setObjectName("rightSplit")
        self.right_split.addWidget(contents_box)
        self.right_split.addWidget(diff_box)
        self.right_split.setStretchFactor(1, 3)
        self.right_split.setSizes([280, 620])

        header_row = QHBoxLayout()
        header_texts = QVBoxLayout()
        header_texts.setSpacing(2)
        header_texts.addWidget(self.header_title)
        header_texts.addWidget(self.header_meta)
        header_texts.addWidget(self.header_body)
        header_row.addLayout(header_texts, 1)
        checkpoint_box = QWidget()
        checkpoint_layout = QVBoxLayout(checkpoint_box)
        checkpoint_layout.setContentsMargins(8, 8, 8, 8)
        checkpoint_layout.addLayout(header_row)
        checkpoint_layout.addWidget(self.right_split, 1)
        self.empty = QLabel("")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setEnabled(False)
        self.stack = QStackedWidget()
        self.stack.addWidget(checkpoint_box)
        self.stack.addWidget(self.empty)
        self.stack.setCurrentWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    # ================================================================== state

    @property
    def version(self) -> VersionInfo | None:
        """The checkpoint shown (None before the first one, or with no history)."""
        return self._version

    @property
    def diff_path(self) -> str | None:
        """The file whose difference shows (or is loading)."""
        return self._diff_path

    @property
    def compare_target(self) -> CompareTarget:
        return self._compare

    def set_versions(self, versions: Sequence[VersionInfo]) -> None:
        """The whole history, newest first: the choices of Compare with… Another checkpoint."""
        self._versions = versions

    def current_file(self) -> str | None:
        index = self.contents_view.currentIndex()
        if not index.isValid():
            return None
        node = self.contents_model.node(index)
        return None if node.is_dir else node.path

    def selected_nodes(self) -> list[Node]:
        rows = self.contents_view.selectionModel().selectedRows(0)
        return [self.contents_model.node(index) for index in rows]

    def selected_paths(self) -> list[str]:
        return [node.path for node in self.selected_nodes()]

    def focus_files(self) -> None:
        self.contents_view.setFocus()

    def stop(self) -> None:
        """The window closes: load nothing more."""
        self._select_timer.stop()

    # ================================================================== one checkpoint

    def show_version(self, version: VersionInfo) -> None:
        """Show `version`'s header now and its files once the selection rests."""
        self._version = version
        self.diff_outcome = None
        self._show_header(version)
        self.stack.setCurrentIndex(0)
        if self._compare.kind == "version" and self._compare.version_id == version.id:
            self.set_compare_target(CompareTarget())
        self._select_timer.start()

    def show_empty(self, text: str) -> None:
        """No checkpoint to show: `text` says why, or what to do next."""
        self.empty.setText(text)
        self.stack.setCurrentWidget(self.empty)

    def clear(self, text: str) -> None:
        """There is no checkpoint at all: forget the one shown, and show `text`."""
        self._version = None
        self.show_empty(text)

    def _show_header(self, version: VersionInfo) -> None:
        lines = version.message.strip().splitlines()
        self.header_title.setText(title_of(version))
        body = "\n".join(lines[1:]).strip()
        self.header_body.setText(body)
        self.header_body.setVisible(bool(body))
        self.header_meta.setText(meta_html(version))
        self.header_meta.setToolTip(f"Checkpoint {version.short_id}")

    def _load_checkpoint(self) -> None:
        version = self._version
        if version is None:
            return
        self._contents_generation += 1
        generation = self._contents_generation
        self.contents_model.set_tree(Node("", "", True))
        self.diff.show_message("Loading…")
        self._tasks.read(
            lambda history: load_contents(history, version.id),
            lambda contents: self._contents_loaded(generation, contents),
            lambda exc: self._contents_failed(generation, exc),
        )

    def _contents_loaded(self, generation: int, contents: Contents) -> None:
        if generation != self._contents_generation:
            return
        self._contents = contents
        self._show_tree(new_checkpoint=True)

    def _contents_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._contents_generation:
            self.diff.show_message("Could not read this checkpoint", explain(exc))
            self.sig_shown.emit()

    def _show_tree(self, *, new_checkpoint: bool = False) -> None:
        """Fill the file tree and pick the file to show: the one shown before if it is still
        of interest, else the first file this checkpoint changed."""
        contents = self._contents
        if contents is None:
            return
        keep = self._diff_path
        only_changed = self.show_combo.currentIndex() == 1
        self.contents_model.set_tree(contents.changed if only_changed else contents.all_files)
        self._expand_changed(QModelIndex())
        index = self.contents_model.index_of(keep) if keep else QModelIndex()
        if keep and not index.isValid() and self._compare.kind == "folder":
            self.show_path(keep)  # a new file: only in the folder
            return
        unchanged_here = index.isValid() and self.contents_model.node(index).change is None
        if new_checkpoint and unchanged_here and self._compare.kind == "previous":
            index = QModelIndex()  # moving to another checkpoint: show what it changed
        if not index.isValid():
            first = next(
                (n for n in self.contents_model.root.iter_files() if n.change is not None), None
            )
            index = self.contents_model.index_of(first.path) if first else QModelIndex()
        if index.isValid():
            self.contents_view.selectionModel().setCurrentIndex(index, _ROWS)
            self.contents_view.scrollTo(index)
        else:
            self._diff_path = None
            message = (
                "This checkpoint changed no files"
                if only_changed
                else "Select a file to see what changed"
            )
            self.diff.show_message(message, "Files marked with a colour changed here.")
            self.sig_shown.emit()
        self.sig_files_changed.emit()

    def _expand_changed(self, parent: QModelIndex) -> None:
        model = self.contents_model
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            node = model.node(index)
            if node.is_dir and node.change == "inside":
                self.contents_view.expand(index)
                self._expand_changed(index)

    def show_path(self, path: str) -> None:
        """Select `path` in the tree, or (a file only in the folder) show its difference."""
        index = self.contents_model.index_of(path)
        if index.isValid():
            already = self.contents_view.currentIndex() == index
            self.contents_view.selectionModel().setCurrentIndex(index, _ROWS)
            self.contents_view.scrollTo(index)
            if already:  # no currentChanged: load the (new) comparison here
                self._load_diff()
        else:
            self.contents_view.selectionModel().clearSelection()
            self._diff_path = path
            self._load_diff()
        self.sig_files_changed.emit()

    def _contents_menu(self, pos: QPoint) -> None:
        index = self.contents_view.indexAt(pos)
        node = self.contents_model.node(index) if index.isValid() else None
        self.sig_menu_requested.emit(node, self.contents_view.viewport().mapToGlobal(pos))

    def _file_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.sig_files_changed.emit()
        if not current.isValid():
            return
        node = self.contents_model.node(current)
        if node.is_dir:
            self.diff_title.setText(node.path + "/")
            self.diff.show_message("A folder", "Select a file in it to see what changed.")
            return
        self._diff_path = node.path
        self._load_diff()

    def _file_activated(self, index: QModelIndex) -> None:
        node = self.contents_model.node(index)
        if node.is_dir:  # Enter on a folder opens or closes it
            first = index.siblingAtColumn(0)
            self.contents_view.setExpanded(first, not self.contents_view.isExpanded(first))
        else:
            self.diff.setFocus()

    # ================================================================== the difference

    def _load_diff(self) -> None:
        version, path = self._version, self._diff_path
        if version is None or path is None:
            return
        self._diff_generation += 1
        generation = self._diff_generation
        target = self._compare
        self.diff_outcome = None
        self.diff_title.setText(path)
        self.diff.show_message("Loading…")
        self._tasks.read(
            lambda history: load_file_diff(history, version.id, path, target),
            lambda outcome: self._diff_loaded(generation, outcome),
            lambda exc: self._diff_loaded(
                generation, DiffMessage("Could not show this file", explain(exc))
            ),
        )

    def _diff_loaded(self, generation: int, outcome: DiffOutcome) -> None:
        if generation != self._diff_generation:
            return
        self.diff_outcome = outcome
        self.sig_shown.emit()
        if isinstance(outcome, TooLarge):
            self.diff.show_too_large(outcome.path, outcome.old_size, outcome.new_size)
        elif isinstance(outcome, DiffMessage):
            self.diff.show_message(outcome.title, outcome.detail)
        elif isinstance(outcome, PreparedDiff):
            self.diff.show_prepared(outcome)

    # ------------------------------------------------------------------ compare with

    def _fill_compare_combo(self) -> None:
        combo = self.compare_combo
        combo.blockSignals(True)
        combo.clear()
        combo.addItem("Previous checkpoint", CompareTarget())
        if self._has_folder:
            combo.addItem("Current folder", CompareTarget("folder"))
        if self._compare.kind == "version":
            combo.addItem(f"“{self._compare.label}”", self._compare)
        combo.addItem("Another checkpoint…", None)
        for i in range(combo.count()):
            data = combo.itemData(i)
            if isinstance(data, CompareTarget) and data == self._compare:
                combo.setCurrentIndex(i)
        combo.blockSignals(False)

    def _compare_chosen(self, index: int) -> None:
        target = self.compare_combo.itemData(index)
        if isinstance(target, CompareTarget):
            self.set_compare_target(target)
        else:
            self.choose_compare_version()

    def choose_compare_version(self) -> None:
        """Pick another checkpoint to compare the selected file with."""
        exclude = self._version.id if self._version else None
        dialog = CompareWithDialog(self.window(), self._versions, exclude)
        if dialog.exec() and (target := dialog.target()) is not None:
            self.set_compare_target(target)
        else:
            self._fill_compare_combo()  # back to what was chosen before

    def set_compare_target(self, target: CompareTarget) -> None:
        """Compare the selected file with `target` from now on."""
        self._compare = target
        self._fill_compare_combo()
        self._load_diff()

    def show_folder_change(self, path: str, newest: VersionInfo) -> bool:
        """Compare `path` in `newest` with the folder; False: select `newest` first (its tree
        then keeps `path`, see _show_tree)."""
        self._compare = CompareTarget("folder")
        self._fill_compare_combo()
        self._diff_path = path
        if self._version is not None and self._version.id == newest.id:
            self.show_path(path)
            return True
        return False
