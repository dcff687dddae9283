"""TaskRunner: reads in parallel, writes in order, throttled progress, real cancel, late results."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from kamaros_app.engine import CancelledError, CancelToken, Progress, Project
from kamaros_app.ui.worker import PROGRESS_INTERVAL_S, TaskRunner, describe_progress

TIMEOUT_MS = 60_000


class Recorder:
    """Collects callback results, and the thread each callback ran on."""

    def __init__(self) -> None:
        self.results: list[object] = []
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []

    def ok(self, value: object) -> None:
        self.threads.append(threading.current_thread())
        self.results.append(value)

    def fail(self, exc: BaseException) -> None:
        self.threads.append(threading.current_thread())
        self.errors.append(exc)

    @property
    def count(self) -> int:
        return len(self.results) + len(self.errors)


@pytest.fixture
def owner(qtbot: QtBot) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def runner(owner: QWidget):  # type: ignore[no-untyped-def]
    runner = TaskRunner(owner)
    yield runner
    if shiboken6.isValid(runner):
        runner.shutdown(10_000)


def test_reads_run_in_parallel_off_the_ui_thread(qtbot: QtBot, runner: TaskRunner) -> None:
    barrier = threading.Barrier(2, timeout=10)  # breaks unless both reads run at once
    workers: list[threading.Thread] = []
    rec = Recorder()

    def read(n: int) -> int:
        workers.append(threading.current_thread())
        barrier.wait()
        return n

    runner.run_read(lambda: read(1), rec.ok, rec.fail)
    runner.run_read(lambda: read(2), rec.ok, rec.fail)
    assert not runner.busy, "reads do not make the runner busy"
    qtbot.waitUntil(lambda: rec.count == 2, timeout=TIMEOUT_MS)
    assert rec.errors == []
    assert sorted(rec.results) == [1, 2]  # type: ignore[type-var]
    assert all(t is not threading.main_thread() for t in workers)
    assert all(t is threading.main_thread() for t in rec.threads)


def test_writes_run_one_at_a_time_in_order(qtbot: QtBot, runner: TaskRunner) -> None:
    running = 0
    most = 0
    order: list[int] = []
    lock = threading.Lock()
    rec = Recorder()
    busy: list[bool] = []
    finished: list[None] = []
    runner.sig_busy_changed.connect(busy.append)
    runner.sig_finished.connect(lambda: finished.append(None))

    def write(n: int, _progress: object, token: CancelToken) -> int:
        nonlocal running, most
        assert threading.current_thread() is not threading.main_thread()
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02 * (5 - n))  # the first ones take longest: order must not depend on it
        order.append(n)
        with lock:
            running -= 1
        return n

    for n in range(5):
        runner.run_write(f"write {n}", lambda p, t, n=n: write(n, p, t), rec.ok, rec.fail)
    assert runner.busy
    assert busy == [True], "busy is announced once, at once"
    qtbot.waitUntil(lambda: rec.count == 5, timeout=TIMEOUT_MS)
    assert order == [0, 1, 2, 3, 4]
    assert rec.results == [0, 1, 2, 3, 4]
    assert most == 1
    assert busy == [True, False]
    assert len(finished) == 5
    assert not runner.busy


def test_a_failure_reaches_on_failure_with_its_traceback(qtbot: QtBot, runner: TaskRunner) -> None:
    rec = Recorder()

    def broken(_p: object, _t: CancelToken) -> None:
        raise ValueError("bad value")

    runner.run_write("broken", broken, rec.ok, rec.fail)
    runner.run_read(lambda: 1 // 0, rec.ok, rec.fail)
    qtbot.waitUntil(lambda: rec.count == 2, timeout=TIMEOUT_MS)
    assert rec.results == []
    kinds = sorted(type(e).__name__ for e in rec.errors)
    assert kinds == ["ValueError", "ZeroDivisionError"]
    assert all(e.__traceback__ is not None for e in rec.errors)
    assert not runner.busy


def test_progress_is_throttled_and_ends_at_100_percent(qtbot: QtBot, runner: TaskRunner) -> None:
    seen: list[tuple[float, str, int, int]] = []
    runner.sig_progress.connect(
        lambda text, done, total: seen.append((time.monotonic(), text, done, total))
    )
    rec = Recorder()
    total = 3_000_000_000  # bytes: more than a C int holds
    calls = 0

    def busy_write(progress, _token: CancelToken) -> None:  # type: ignore[no-untyped-def]
        nonlocal calls
        end = time.monotonic() + 0.6
        step = 0
        while time.monotonic() < end:
            step = min(step + 1_000_000, total - 1)
            progress(Progress("Saving files", step, total))
            calls += 1
        progress(Progress("Saving files", total, total))  # the final report
        calls += 1

    start = time.monotonic()
    runner.run_write("Save Checkpoint", busy_write, rec.ok, rec.fail)
    qtbot.waitUntil(lambda: rec.count == 1, timeout=TIMEOUT_MS)
    elapsed = time.monotonic() - start
    reports = seen[1:]  # the first signal announces the title
    assert seen[0][1:] == ("Save Checkpoint", 0, 0)
    assert calls > 1000, "the engine reported often"
    assert 5 <= len(reports) <= elapsed / PROGRESS_INTERVAL_S + 2
    assert reports[-1][2:] == (total, total), "the final 100% always arrives"
    assert reports[-1][1] == "Saving files: 3.0 GB of 3.0 GB"
    per_second = [t for t, *_ in reports if t < reports[0][0] + 1.0]
    assert len(per_second) <= 21


def test_describe_progress() -> None:
    assert describe_progress(Progress("Checking files", 3, None)) == "Checking files"
    assert describe_progress(Progress("Checking files", 3, 10, unit="files")) == (
        "Checking files: 3 of 10"
    )
    assert describe_progress(Progress("Saving", 1500, 2_000_000)) == "Saving: 1.5 KB of 2.0 MB"


def test_cancel_stops_a_real_checkpoint_and_changes_nothing(
    qtbot: QtBot, runner: TaskRunner, project_dir: Path
) -> None:
    (project_dir / "notes.txt").write_text("the first checkpoint\n", encoding="utf-8")
    with Project.init(project_dir) as project:
        project.checkpoint("First")
        before = project.log()
    big = project_dir / "big"
    big.mkdir()
    for i in range(20):  # ~200 MB that does not compress
        (big / f"part-{i:02}.bin").write_bytes(os.urandom(10 * 1024 * 1024))

    progressed: list[int] = []

    def cancel_on_first_progress(_text: str, done: int, total: int) -> None:
        if total and not progressed:
            progressed.append(done)
            runner.cancel()

    runner.sig_progress.connect(cancel_on_first_progress)
    rec = Recorder()

    def save(progress, token: CancelToken):  # type: ignore[no-untyped-def]
        with Project.open(project_dir) as project:
            return project.checkpoint("Huge", progress=progress, cancel=token)

    runner.run_write("Save Checkpoint", save, rec.ok, rec.fail)
    qtbot.waitUntil(lambda: rec.count == 1, timeout=TIMEOUT_MS)
    assert progressed, "progress arrived before the end"
    assert rec.results == []
    assert isinstance(rec.errors[0], CancelledError)
    assert not runner.busy
    with Project.open(project_dir, read_only=True) as project:
        assert [v.id for v in project.log()] == [v.id for v in before]
        assert project.verify().ok
        assert len(project.status().added) == 20


def test_cancel_is_ignored_for_writes_that_cannot_be_cancelled(
    qtbot: QtBot, runner: TaskRunner
) -> None:
    started = threading.Event()
    release = threading.Event()
    rec = Recorder()

    def write(_p: object, token: CancelToken) -> bool:
        started.set()
        release.wait(10)
        return token.cancelled

    runner.run_write("Starting the history", write, rec.ok, rec.fail, cancellable=False)
    assert started.wait(10)
    assert not runner.can_cancel
    runner.cancel()
    release.set()
    qtbot.waitUntil(lambda: rec.count == 1, timeout=TIMEOUT_MS)
    assert rec.results == [False]


def test_late_results_after_the_owner_is_deleted_are_dropped(qtbot: QtBot) -> None:
    owner = QWidget()
    runner = TaskRunner(owner)
    release = threading.Event()
    reached: list[str] = []

    class Panel(QWidget):
        def shown(self, value: object) -> None:
            reached.append(f"panel {value}")

    panel = Panel(owner)
    runner.run_read(lambda: release.wait(10), panel.shown, panel.shown)
    runner.run_write("w", lambda _p, _t: release.wait(10), panel.shown, panel.shown)
    owner.close()
    start = time.monotonic()
    shiboken6.delete(owner)  # the window is gone while its work is still running
    assert time.monotonic() - start < 1, "deleting a window does not wait for its work"
    assert not shiboken6.isValid(runner)
    release.set()
    qtbot.wait(300)  # the results arrive now: a call on the deleted panel would raise
    assert reached == []


def test_results_after_shutdown_are_dropped(qtbot: QtBot, owner: QWidget) -> None:
    runner = TaskRunner(owner)
    release = threading.Event()
    rec = Recorder()
    ran: list[str] = []

    def slow_read() -> str:
        release.wait(10)
        return "read"

    def slow_write(_p: object, _t: CancelToken) -> str:
        release.wait(10)
        ran.append("first")
        return "first"

    def queued_write(_p: object, _t: CancelToken) -> str:
        ran.append("queued")
        return "queued"

    runner.run_read(slow_read, rec.ok, rec.fail)
    runner.run_write("first", slow_write, rec.ok, rec.fail)
    runner.run_write("queued", queued_write, rec.ok, rec.fail)
    threading.Timer(0.2, release.set).start()
    runner.shutdown(10_000)  # waits for the running work
    assert ran == ["first", "queued"], "a queued write still runs: the person asked for it"
    qtbot.wait(200)
    assert rec.count == 0
    runner.run_read(lambda: "late", rec.ok, rec.fail)
    qtbot.wait(100)
    assert rec.count == 0, "a closed runner takes no new work"
