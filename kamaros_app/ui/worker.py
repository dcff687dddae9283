"""Run engine calls off the UI thread: reads in parallel, writes one at a time, in order.

Jobs run on one thread pool shared by every runner and living as long as the application;
each runner's writes form a lane that runs them one after another. Results, failures and
progress reach the UI thread through one queued signal of an application-long dispatcher.
So deleting a window never blocks on, or crashes because of, work it started: that work
finishes (a write the person asked for is never dropped half-way) and its result is dropped.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThreadPool, Signal, Slot

from kamaros_app.engine import CancelToken, Progress
from kamaros_app.units import human_size

__all__ = [
    "PROGRESS_INTERVAL_S",
    "ProgressCallback",
    "TaskRunner",
    "describe_progress",
]

T = TypeVar("T")
ProgressCallback = Callable[[Progress], None]
Success = Callable[[Any], None]
Failure = Callable[[BaseException], None]

PROGRESS_INTERVAL_S = 0.05
"""At most one progress signal per 50 ms (20 per second), plus each phase's final 100%."""
POOL_THREADS = 8


class _Dispatcher(QObject):
    """Runs closures on the UI thread; emitted from any thread (queued connection)."""

    sig_deliver = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.sig_deliver.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, fn: Callable[[], None]) -> None:
        fn()


_dispatcher: _Dispatcher | None = None


def _ui_dispatcher() -> _Dispatcher:
    """The dispatcher, created on the application's (UI) thread on first use."""
    global _dispatcher
    if _dispatcher is None or not shiboken6.isValid(_dispatcher):
        app = QCoreApplication.instance()
        if app is None:
            raise RuntimeError("TaskRunner needs a QApplication")
        dispatcher = _Dispatcher()
        if dispatcher.thread() is not app.thread():
            dispatcher.moveToThread(app.thread())
        _dispatcher = dispatcher
    return _dispatcher


_pool: QThreadPool | None = None


def _shared_pool() -> QThreadPool:
    """The pool every runner uses (parentless: it lives until the application ends)."""
    global _pool
    if _pool is None or not shiboken6.isValid(_pool):
        _pool = QThreadPool()
        _pool.setMaxThreadCount(POOL_THREADS)
    return _pool


class _Lane:
    """One runner's writes: run one at a time, in order, by a single pool job that drains
    the queue. Thread-safe; independent of the runner's QObject, so it outlives it."""

    def __init__(self, pool: QThreadPool) -> None:
        self._pool = pool
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._queue: deque[Callable[[], None]] = deque()
        self._draining = False

    def submit(self, body: Callable[[], None]) -> None:
        with self._lock:
            self._queue.append(body)
            if self._draining:
                return
            self._draining = True
        self._pool.start(self._drain)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._draining = False
                    self._changed.notify_all()
                    return
                body = self._queue.popleft()
            body()

    def wait(self, timeout: float | None) -> bool:
        with self._lock:
            return self._changed.wait_for(lambda: not self._draining, timeout)


class _Counter:
    """Reads in flight, to wait for them."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0

    def add(self, n: int) -> None:
        with self._changed:
            self._count += n
            self._changed.notify_all()

    def wait(self, timeout: float | None) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._count == 0, timeout)


def _seconds(msecs: int) -> float | None:
    return None if msecs < 0 else msecs / 1000


def _alive(callback: Callable[..., object]) -> bool:
    """False when `callback` is a method of a Qt object whose C++ side was deleted."""
    owner = getattr(callback, "__self__", None)
    return not isinstance(owner, QObject) or shiboken6.isValid(owner)


def describe_progress(progress: Progress) -> str:
    """'Saving files: 12.3 MB of 210.0 MB' (the phase, plus amounts when known)."""
    if not progress.total:
        return progress.phase
    if progress.unit == "bytes":
        return f"{progress.phase}: {human_size(progress.done)} of {human_size(progress.total)}"
    return f"{progress.phase}: {progress.done:,} of {progress.total:,}"


class _Throttle:
    """Decides, on the worker thread, which progress reports are worth a signal."""

    def __init__(self, interval: float = PROGRESS_INTERVAL_S) -> None:
        self._interval = interval
        self._last = 0.0
        self._finished_phases: set[str] = set()

    def wanted(self, progress: Progress) -> bool:
        final = bool(progress.total) and progress.done >= (progress.total or 0)
        if final and progress.phase not in self._finished_phases:
            self._finished_phases.add(progress.phase)
            self._last = time.monotonic()
            return True
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            return True
        return False


@dataclass
class _Write:
    title: str
    cancellable: bool
    token: CancelToken = field(default_factory=CancelToken)
    started: bool = False


class TaskRunner(QObject):
    """Runs engine work on worker threads; callbacks run on the UI thread.

    Reads (`run_read`) run in parallel on a shared pool of several threads. Writes
    (`run_write`) run one at a time in the order they were asked for, each with its own
    CancelToken and a progress callback. `fn` must never touch widgets. After `shutdown()`
    (or once the runner or the object owning a callback is deleted) late results are
    dropped silently. Deleting the runner does not wait: call `shutdown()` to wait.
    """

    sig_busy_changed = Signal(bool)
    """True when a write is asked for while none is queued; False when the last one ends."""
    sig_started = Signal(str, bool)
    """A write started running: its title, and whether it can be cancelled."""
    sig_progress = Signal(str, "qint64", "qint64")  # type: ignore[arg-type]
    """The running write's phase text, done, total (0 = unknown); throttled to <= 20/s.
    64-bit counts (bytes of a large project do not fit in a C int)."""
    sig_finished = Signal()
    """A write finished (succeeded, failed or was cancelled), before its callback runs."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._dispatcher = _ui_dispatcher()
        self._pool = _shared_pool()
        self._lane = _Lane(self._pool)
        self._reads = _Counter()
        self._closing = threading.Event()  # read by jobs that have not started yet
        self._writes: list[_Write] = []  # queued writes; the first is (or is about to be) running
        self._closed = False

    # -- properties ------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """True while any write is running or waiting to run."""
        return bool(self._writes)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def current_title(self) -> str:
        """The title of the write that is running (or about to), "" when idle."""
        return self._writes[0].title if self._writes else ""

    @property
    def can_cancel(self) -> bool:
        """True while the running write accepts cancel() and has not been cancelled yet."""
        return bool(self._writes) and self._writes[0].cancellable and not self.cancelling

    @property
    def cancelling(self) -> bool:
        return bool(self._writes) and self._writes[0].token.cancelled

    # -- reads -----------------------------------------------------------------------------

    def run_read(
        self,
        fn: Callable[[], T],
        on_success: Callable[[T], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        """Run `fn` on the read pool; then `on_success(result)` or `on_failure(exc)`."""
        if self._closed:
            return
        deliver = self._dispatcher.sig_deliver.emit
        closing, reads = self._closing, self._reads

        def body() -> None:
            try:
                if closing.is_set():
                    return  # the runner shut down before this read started
                ok, payload = _call(fn)
                deliver(lambda: self._read_done(ok, payload, on_success, on_failure))
            finally:
                reads.add(-1)

        reads.add(1)
        self._pool.start(body)

    def _read_done(self, ok: bool, payload: Any, on_success: Success, on_failure: Failure) -> None:
        if not shiboken6.isValid(self) or self._closed:
            return
        _call_back(ok, payload, on_success, on_failure)

    # -- writes ----------------------------------------------------------------------------

    def run_write(
        self,
        title: str,
        fn: Callable[[ProgressCallback, CancelToken], T],
        on_success: Callable[[T], None],
        on_failure: Callable[[BaseException], None],
        *,
        cancellable: bool = True,
    ) -> None:
        """Queue a write: `fn(progress, cancel_token)` runs after every earlier write.

        A cancelled write ends in `on_failure(CancelledError(...))`.
        """
        if self._closed:
            return
        write = _Write(title, cancellable)
        self._writes.append(write)
        if len(self._writes) == 1:
            self.sig_busy_changed.emit(True)
        deliver = self._dispatcher.sig_deliver.emit

        def body() -> None:
            deliver(lambda: self._write_started(write))
            throttle = _Throttle()
            lock = threading.Lock()  # the engine may report from more than one thread

            def progress(report: Progress) -> None:
                with lock:
                    if not throttle.wanted(report):
                        return
                text, done, total = describe_progress(report), report.done, report.total or 0
                deliver(lambda: self._write_progress(write, text, done, total))

            ok, payload = _call(lambda: fn(progress, write.token))
            deliver(lambda: self._write_done(write, ok, payload, on_success, on_failure))

        self._lane.submit(body)

    def cancel(self) -> None:
        """Ask the running write to stop; it ends with CancelledError, nothing changed."""
        if self._writes and self._writes[0].cancellable:
            self._writes[0].token.cancel()

    def _write_started(self, write: _Write) -> None:
        if not shiboken6.isValid(self):
            return
        write.started = True
        self.sig_started.emit(write.title, write.cancellable)
        self.sig_progress.emit(write.title, 0, 0)

    def _write_progress(self, write: _Write, text: str, done: int, total: int) -> None:
        if not shiboken6.isValid(self) or not self._writes or self._writes[0] is not write:
            return
        self.sig_progress.emit(text, min(done, total) if total else done, total)

    def _write_done(
        self, write: _Write, ok: bool, payload: Any, on_success: Success, on_failure: Failure
    ) -> None:
        if not shiboken6.isValid(self):
            return
        if write in self._writes:
            self._writes.remove(write)
        self.sig_finished.emit()
        if not self._writes:
            self.sig_busy_changed.emit(False)
        if not self._closed:
            _call_back(ok, payload, on_success, on_failure)

    # -- the end ---------------------------------------------------------------------------

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Stop taking work and wait (at most `timeout_ms`) for this runner's running work.

        Reads that have not started are skipped; queued writes still run (they are what the
        person asked for). Results arriving after this are dropped.
        """
        self._closed = True
        self._closing.set()
        deadline = time.monotonic() + max(0, timeout_ms) / 1000
        self._lane.wait(max(0.0, deadline - time.monotonic()))
        self._reads.wait(max(0.0, deadline - time.monotonic()))


def _call(fn: Callable[[], Any]) -> tuple[bool, Any]:
    try:
        return True, fn()
    except BaseException as exc:  # delivered to on_failure, never lost on the worker
        return False, exc


def _call_back(ok: bool, payload: Any, on_success: Success, on_failure: Failure) -> None:
    callback: Callable[[Any], None] = on_success if ok else on_failure
    if _alive(callback):
        callback(payload)
