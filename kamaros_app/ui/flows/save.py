"""Save Checkpoint: ask for a message (and a tag, author, e-mail), then save the folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kamaros_app.engine import CancelToken, Project, VersionInfo
from kamaros_app.ui.dialogs.save_checkpoint import SaveCheckpointDialog
from kamaros_app.ui.history_model import title_of
from kamaros_app.ui.project_tasks import ProgressFn

if TYPE_CHECKING:
    from kamaros_app.ui.project_window import ProjectWindow

__all__ = ["save_checkpoint"]


def save_checkpoint(window: ProjectWindow) -> None:
    """Ask, save, then select the new checkpoint; when it cannot be saved now, say why."""
    if not window.act_save.isEnabled():
        window.statusBar().showMessage(window.act_save.toolTip(), 5000)
        return
    status = window.changes.status
    total = status.total if status else 0
    summary = (
        f"Save the folder as it is now: {total} change{'s' if total != 1 else ''} "
        "since the last checkpoint."
        if window.versions
        else "Save the folder as it is now, as the first checkpoint."
    )
    settings = window.context.settings
    dialog = SaveCheckpointDialog(
        window,
        summary=summary,
        author=settings.author,
        email=settings.email,
        existing_tags=window.tags,
    )
    if not dialog.exec():
        return
    message, tag, author, email = dialog.message, dialog.tag, dialog.author, dialog.email
    settings.author = author
    settings.email = email

    def work(project: Project, progress: ProgressFn, cancel: CancelToken) -> VersionInfo:
        return project.checkpoint(
            message,
            tag=tag,
            author=author or None,
            email=email or None,
            progress=progress,
            cancel=cancel,
        )

    def saved(info: VersionInfo) -> None:
        window.restorer.forget_undo()  # a new checkpoint: "undo the restore" no longer applies
        window.history.clear_search()
        window.reload_history(select_id=info.id)
        window.statusBar().showMessage(f"Saved the checkpoint “{title_of(info)}”", 8000)

    window.tasks.write(
        "Saving a checkpoint",
        work,
        saved,
        "Could not save the checkpoint",
        after=window.refresh_changes,
    )
