"""Restore: the whole folder or the selected files, after showing what would change; then a
notice with Undo Restore, which brings the folder back as it was before."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kamaros_app.engine import CancelToken, Project, RestoreResult, VersionInfo
from kamaros_app.ui.dialogs.restore_confirm import (
    RestoreConfirmDialog,
    RestorePreview,
    preview_restore,
)
from kamaros_app.ui.project_tasks import ProgressFn

if TYPE_CHECKING:
    from kamaros_app.ui.project_window import ProjectWindow

__all__ = ["RestoreFlow"]


class RestoreFlow:
    """Restores for one window; remembers the checkpoint Undo Restore goes back to."""

    def __init__(self, window: ProjectWindow) -> None:
        self._window = window
        self.undo_id: str | None = None
        """The automatic checkpoint made before the last restore (None: nothing to undo)."""

    def restore_checkpoint(self) -> None:
        window = self._window
        if window.selected_version is not None and window.act_restore.isEnabled():
            self._restore(window.selected_version, None)

    def restore_selected_files(self) -> None:
        window = self._window
        selected = window.selected_version
        if selected is None or not window.act_restore_files.isEnabled():
            return
        nodes = window.checkpoint.selected_nodes()
        present = [n.path for n in nodes if not n.deleted]
        if present:
            self._restore(selected, present)
            return
        # Only files this checkpoint deleted: bring them back as they were just before.
        parent_id = selected.parent_id
        parent = next((v for v in window.versions if v.id == parent_id), None)
        if parent is not None:
            self._restore(parent, [n.path for n in nodes])

    def _restore(self, version: VersionInfo, paths: Sequence[str] | None) -> None:
        window = self._window
        window.statusBar().showMessage("Working out what would change…")
        window.tasks.read(
            lambda history: preview_restore(history, version.id, paths),
            self._confirm,
            lambda exc: window.context.show_error(window, "Could not prepare the restore", exc),
        )

    def _confirm(self, preview: RestorePreview) -> None:
        window = self._window
        window.statusBar().clearMessage()
        dialog = RestoreConfirmDialog(window, preview)
        window.restore_dialog = dialog
        if not dialog.exec() or preview.is_empty:
            return
        paths = list(preview.paths) if preview.paths is not None else None

        def work(project: Project, progress: ProgressFn, cancel: CancelToken) -> RestoreResult:
            return project.restore(preview.version_id, paths, progress=progress, cancel=cancel)

        def restored(result: RestoreResult) -> None:
            self.undo_id = result.previous_id
            what = "the selected files" if paths is not None else "the folder"
            window.notice.show_message(
                f"Restored {what} to “{preview.title}”.", undo=result.previous_id is not None
            )
            window.reload_history(select_id=result.checkpoint_id or result.target_id)

        window.tasks.write(
            "Restoring",
            work,
            restored,
            "Could not restore",
            after=self._after_folder_write,
        )

    def undo(self) -> None:
        window = self._window
        undo_id = self.undo_id
        if undo_id is None or window.runner.busy or window.read_only:
            return

        def work(project: Project, progress: ProgressFn, cancel: CancelToken) -> RestoreResult:
            return project.restore(undo_id, progress=progress, cancel=cancel)

        def undone(result: RestoreResult) -> None:
            self.undo_id = None
            window.notice.show_message("Undone: the folder is back as it was before the restore.")
            window.reload_history(select_id=result.checkpoint_id or result.target_id)

        window.tasks.write(
            "Undoing the restore",
            work,
            undone,
            "Could not undo the restore",
            after=self._after_folder_write,
        )

    def forget_undo(self) -> None:
        """A new checkpoint was saved: there is no restore to undo any more."""
        self.undo_id = None
        self._window.notice.hide()

    def _after_folder_write(self) -> None:
        self._window.refresh_changes()
        self._window.update_actions()
