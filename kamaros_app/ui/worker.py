"""Run engine calls off the UI thread, one at a time, and deliver results back on it."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

__all__ = ["TaskRunner"]

Success = Callable[[Any], None]
Failure = Callable[[BaseException], None]


class _JobSignals(QObject):
    """Lives on the UI thread, so the runner's slot runs there (queued connection)."""

    sig_done = Signal(int, bool, object)
    """(job id, succeeded, result or exception) emitted from the worker thread."""


class _Job(QRunnable):
    def __init__(self, job_id: int, fn: Callable[[], Any], signals: _JobSignals) -> None:
        super().__init__()
        self._id = job_id
        self._fn = fn
        self._signals = signals

    def run(self) -> None:
        try:
            result = self._fn()
        except BaseException as exc:
            self._signals.sig_done.emit(self._id, False, exc)
        else:
            self._signals.sig_done.emit(self._id, True, result)


class TaskRunner(QObject):
    """A single-worker QThreadPool: engine calls run in order and never on the UI thread.

    `fn` must not touch widgets; `on_success` / `on_failure` are called on the UI thread.
    """

    sig_busy_changed = Signal(bool)
    """True when the first job starts, False when the last one has finished."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # writes to a project are serialised
        self._signals = _JobSignals(self)
        self._signals.sig_done.connect(self._on_done)
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[_Job, Success, Failure]] = {}

    def submit(self, fn: Callable[[], Any], on_success: Success, on_failure: Failure) -> None:
        job_id = next(self._ids)
        job = _Job(job_id, fn, self._signals)
        job.setAutoDelete(False)  # kept alive in _pending until its result arrives
        self._pending[job_id] = (job, on_success, on_failure)
        if len(self._pending) == 1:
            self.sig_busy_changed.emit(True)
        self._pool.start(job)

    def is_busy(self) -> bool:
        return bool(self._pending)

    def wait(self, msecs: int = -1) -> bool:
        """Block until the worker is idle (for shutdown); results are still delivered later."""
        return self._pool.waitForDone(msecs)

    @Slot(int, bool, object)
    def _on_done(self, job_id: int, ok: bool, payload: object) -> None:
        _job, on_success, on_failure = self._pending.pop(job_id)
        try:
            if ok:
                on_success(payload)
            else:
                assert isinstance(payload, BaseException)
                on_failure(payload)
        finally:
            if not self._pending:
                self.sig_busy_changed.emit(False)
