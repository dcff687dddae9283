"""Engine work for one project window, run on the window's TaskRunner.

Reads open the project read-only inside the task and close it there; writes open it for
writing inside the write, so the writer lock is held only while writing. Failures are
reported on the window: a read in its status bar, a write with the error dialog (a
cancelled one in the status bar: the engine left the project exactly as before).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from kamaros_app.engine import CancelledError, CancelToken, History, Progress, Project
from kamaros_app.ui.errors import explain

if TYPE_CHECKING:
    from kamaros_app.ui.project_window import ProjectWindow

__all__ = ["ProgressFn", "ProjectTasks", "open_history"]

T = TypeVar("T")
ProgressFn = Callable[[Progress], None]


def open_history(path: Path, standalone: bool) -> History:
    """A read-only view: the standalone file, or the project folder without the lock."""
    return History.open_file(path) if standalone else Project.open(path, read_only=True)


class ProjectTasks:
    """Reads and writes of one window's project (its folder or its standalone file)."""

    def __init__(self, window: ProjectWindow) -> None:
        self._window = window

    def opener(self) -> Callable[[], History]:
        """Opens the project read-only; safe to call on a worker thread."""
        window = self._window
        return partial(open_history, window.root or window.path, window.standalone)

    def read(
        self,
        fn: Callable[[History], T],
        on_success: Callable[[T], None],
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        """`fn(history)` on a worker thread; a failure goes to the status bar by default."""
        opener = self.opener()

        def task() -> T:
            with opener() as history:
                return fn(history)

        self._window.runner.run_read(task, on_success, on_failure or self.read_failed)

    def write(
        self,
        title: str,
        fn: Callable[[Project, ProgressFn, CancelToken], T],
        on_success: Callable[[T], None],
        failure_title: str,
        *,
        cancellable: bool = True,
        after: Callable[[], None] | None = None,
    ) -> None:
        """`fn(project, progress, cancel)` with the project open for writing.

        `after` runs once the write has ended, whether it succeeded or not.
        """
        window = self._window
        root = window.root
        assert root is not None

        def task(progress: ProgressFn, cancel: CancelToken) -> T:
            with Project.open(root) as project:
                return fn(project, progress, cancel)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, CancelledError):
                window.statusBar().showMessage(
                    "Cancelled. " + (str(exc)[0].upper() + str(exc)[1:] if str(exc) else ""),
                    10000,
                )
            else:
                window.context.show_error(window, failure_title, exc)
            if after is not None:
                after()

        def succeeded(result: T) -> None:
            on_success(result)
            if after is not None:
                after()

        window.runner.run_write(title, task, succeeded, failed, cancellable=cancellable)
        window.update_actions()

    def queue_task(
        self,
        title: str,
        fn: Callable[[ProgressFn, CancelToken], T],
        on_success: Callable[[T], None],
        failure_title: str,
    ) -> None:
        """`fn(progress, cancel)`, a long task that does not change the project (export,
        check, extract): queued with the writes, so it shows progress and can be cancelled."""
        self._window.runner.run_write(
            title, fn, on_success, lambda exc: self.write_failed(failure_title, exc)
        )

    def read_failed(self, exc: BaseException) -> None:
        self._window.statusBar().showMessage(explain(exc), 10000)

    def write_failed(self, title: str, exc: BaseException) -> None:
        if isinstance(exc, CancelledError):
            self._window.statusBar().showMessage("Cancelled; nothing was written.", 8000)
        else:
            self._window.context.show_error(self._window, title, exc)
