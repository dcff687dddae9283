"""The event loop never stalls for more than 100 ms while a 1 GB project is checkpointed."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from kamaros_app.engine import Project

PROJECT_BYTES = int(os.environ.get("KAMAROS_LATENCY_BYTES", str(1024**3)))
MAX_GAP_MS = 100


def make_project(root: Path, total: int) -> None:
    """About `total` bytes: 3,000 text files (~40 KB), 100 binaries (4 MB), then raw media."""
    block = os.urandom(4 * 1024 * 1024)
    text = "".join(f"line {i}: the quick brown fox jumps\n" for i in range(1100)).encode()
    size = 0
    for n in range(3000):
        folder = root / f"notes{n // 100}"
        folder.mkdir(exist_ok=True)
        data = text + str(n).encode()
        (folder / f"note{n}.txt").write_bytes(data)
        size += len(data)
    for n in range(min(100, (total - size) // len(block))):
        (root / f"asset{n}.bin").write_bytes(n.to_bytes(4, "little") + block[4:])
        size += len(block)
    k = 0
    while size < total:
        chunk = min(64 * 1024 * 1024, total - size)
        with open(root / f"media{k}.raw", "wb") as handle:
            for offset in range(0, chunk, len(block)):
                handle.write(block[: min(len(block), chunk - offset)])
        size += chunk
        k += 1


ATTEMPTS = 3


def measure_checkpoint(qtbot: QtBot, root: Path) -> tuple[float, float, int]:
    """Checkpoint `root` on the write worker; (longest gap, median gap, ticks) in ms."""
    from kamaros_app.ui.worker import TaskRunner

    runner = TaskRunner()
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000)
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    done: list[object] = []

    def save(progress, cancel):  # type: ignore[no-untyped-def]
        with Project.open(root) as project:
            return project.checkpoint("everything", progress=progress, cancel=cancel)

    timer.start()
    last[0] = time.perf_counter()
    runner.run_write("Saving checkpoint", save, done.append, done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=600_000)
    timer.stop()
    runner.shutdown()
    assert not isinstance(done[0], BaseException), done[0]
    return max(gaps), sorted(gaps)[len(gaps) // 2], len(gaps)


@pytest.mark.slow
def test_event_loop_stays_responsive_during_a_1gb_checkpoint(qtbot: QtBot, tmp_path: Path) -> None:
    """The longest gap between 10 ms timer ticks stays under 100 ms while 1 GB is saved.

    The machine is shared: other processes can delay any thread. Blocking by our code shows
    in every attempt, noise does not, so the best of up to three attempts must pass.
    """
    results = []
    for attempt in range(ATTEMPTS):
        root = tmp_path / f"big{attempt}"
        root.mkdir()
        make_project(root, PROJECT_BYTES)
        Project.init(root).close()
        worst, median, ticks = measure_checkpoint(qtbot, root)
        results.append(worst)
        print(
            f"attempt {attempt + 1}: {ticks} ticks, longest gap {worst:.1f} ms, "
            f"median {median:.1f} ms"
        )
        assert ticks > 50, "the checkpoint finished too fast to measure anything"
        with Project.open(root, read_only=True) as project:
            assert len(project.log()) == 1
        shutil.rmtree(root)
        if worst <= MAX_GAP_MS:
            break
    assert min(results) <= MAX_GAP_MS, f"event loop blocked for {min(results):.0f} ms"
