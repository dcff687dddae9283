"""Looking after the storage: Check Project (read back every stored file and report) and
Clean Up Storage (measure, confirm, give back space the history no longer needs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kamaros_app.engine import CancelToken, VerifyReport
from kamaros_app.ui.dialogs.cleanup import CleanupDialog, measure_cleanup
from kamaros_app.ui.dialogs.verify_report import VerifyReportDialog
from kamaros_app.ui.history_model import title_of
from kamaros_app.ui.project_tasks import ProgressFn

if TYPE_CHECKING:
    from kamaros_app.ui.project_window import ProjectWindow

__all__ = ["check_project", "clean_up"]


def check_project(window: ProjectWindow) -> None:
    """Read back every stored file, then show the report."""
    opener = window.tasks.opener()

    def work(progress: ProgressFn, cancel: CancelToken) -> tuple[VerifyReport, dict[str, str]]:
        with opener() as history:
            report = history.verify(progress=progress, cancel=cancel)
            titles = {v.id: title_of(v) for v in history.log()}
            return report, titles

    def done(result: tuple[VerifyReport, dict[str, str]]) -> None:
        dialog = VerifyReportDialog(window, *result)
        window.verify_dialog = dialog
        dialog.exec()

    window.tasks.queue_task("Checking the project", work, done, "Could not check the project")


def clean_up(window: ProjectWindow) -> None:
    """Measure what a clean-up would give back, ask, clean up, then show what it gave back."""
    if window.read_only:
        return
    window.tasks.read(
        measure_cleanup,
        lambda sizes: _confirm_clean_up(window, sizes),
        lambda exc: window.context.show_error(window, "Could not measure the storage", exc),
    )


def _confirm_clean_up(window: ProjectWindow, sizes: tuple[int, int]) -> None:
    before, estimate = sizes
    dialog = CleanupDialog(window, before, estimate, done=False)
    window.cleanup_dialog = dialog
    if not dialog.exec() or dialog.clean_button is None:
        return

    def done(result: Any) -> None:
        after = CleanupDialog(window, result.size_before, result.size_after, done=True)
        window.cleanup_dialog = after
        after.exec()

    window.tasks.write(
        "Cleaning up storage",
        lambda project, progress, cancel: project.gc(progress=progress, cancel=cancel),
        done,
        "Could not clean up",
    )
