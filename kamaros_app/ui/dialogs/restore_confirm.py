"""Before a restore: exactly what will be replaced, brought back and removed in the folder.

`preview_restore` runs on a worker (a dry run of the engine's restore); the dialog shows
its result and asks for confirmation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kamaros_app.engine import History, InvalidArgumentError, Project
from kamaros_app.ui.contents_model import change_icon

__all__ = ["RestoreConfirmDialog", "RestorePreview", "preview_restore"]


@dataclass(frozen=True)
class RestorePreview:
    version_id: str
    title: str
    paths: tuple[str, ...] | None  # None: the whole checkpoint
    replaced: tuple[str, ...]
    brought_back: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int
    unsaved: bool

    @property
    def is_empty(self) -> bool:
        return not (self.replaced or self.brought_back or self.removed)


def preview_restore(history: History, ref: str, paths: Sequence[str] | None) -> RestorePreview:
    """What restoring `ref` (or `paths` of it) would do, without changing anything."""
    if not isinstance(history, Project):
        raise InvalidArgumentError("a project file has no folder to restore into")
    project = history
    result = project.restore(ref, list(paths) if paths is not None else None, dry_run=True)
    written = [state.path for state in result.plan.write]
    replaced = tuple(p for p in written if (project.root / p).exists())
    info = project.version_info(result.target_id)
    title = (info.message.strip().splitlines() or [""])[0]
    return RestorePreview(
        version_id=result.target_id,
        title=title,
        paths=tuple(paths) if paths is not None else None,
        replaced=replaced,
        brought_back=tuple(p for p in written if p not in replaced),
        removed=tuple(result.plan.remove),
        unchanged=result.plan.unchanged,
        # In a dry run with unsaved changes the engine cannot yet name the undo point.
        unsaved=result.previous_id is None,
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class RestoreConfirmDialog(QDialog):
    def __init__(self, parent: QWidget | None, preview: RestorePreview) -> None:
        super().__init__(parent)
        self.preview = preview
        what = "the whole folder" if preview.paths is None else "the selected files"
        self.setWindowTitle("Restore" if preview.paths is None else "Restore Selected Files")
        self.setMinimumSize(480, 360)
        layout = QVBoxLayout(self)
        heading = QLabel(f"<b>Bring back {what} as in “{preview.title}”?</b>")
        heading.setWordWrap(True)
        layout.addWidget(heading)
        notes: list[str] = []
        if preview.is_empty:
            notes.append("Nothing to do: these files are already exactly as in that checkpoint.")
        else:
            if preview.unsaved:
                notes.append(
                    "Your unsaved changes are saved first, as an automatic checkpoint, "
                    "so nothing is lost."
                )
            notes.append("You can undo this afterwards with Undo Restore (Ctrl+Z).")
        if preview.unchanged and not preview.is_empty:
            one = preview.unchanged == 1
            notes.append(
                f"{_plural(preview.unchanged, 'other file')} already "
                f"{'matches' if one else 'match'} and {'is' if one else 'are'} left alone."
            )
        self.notes = QLabel("\n".join(notes))
        self.notes.setWordWrap(True)
        layout.addWidget(self.notes)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setAccessibleName("What will change in the folder")
        self._group("Will be replaced", preview.replaced, "modified")
        self._group("Will be brought back", preview.brought_back, "added")
        self._group("Will be removed from the folder", preview.removed, "deleted")
        self.tree.setVisible(not preview.is_empty)
        layout.addWidget(self.tree, 1)
        buttons = QDialogButtonBox()
        if preview.is_empty:
            buttons.addButton(QDialogButtonBox.StandardButton.Close)
            self.restore_button = None
        else:
            self.restore_button = buttons.addButton(
                "Restore", QDialogButtonBox.ButtonRole.AcceptRole
            )
            buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
            self.restore_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _group(self, title: str, paths: Sequence[str], kind: str) -> None:
        if not paths:
            return
        group = QTreeWidgetItem(self.tree, [f"{title} ({len(paths)})"])
        font = group.font(0)
        font.setBold(True)
        group.setFont(0, font)
        for path in paths:
            item = QTreeWidgetItem(group, [path])
            item.setIcon(0, change_icon(kind))
        group.setExpanded(True)

    def listed(self) -> dict[str, list[str]]:
        """Group title -> paths, as shown (for tests and accessibility checks)."""
        out: dict[str, list[str]] = {}
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            assert group is not None
            children = (group.child(j) for j in range(group.childCount()))
            out[group.text(0)] = [child.text(0) for child in children if child is not None]
        return out
