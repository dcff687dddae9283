"""Event-loop responsiveness while the window's worker checkpoints a folder (own process).

Usage: `python -m bench.latency FOLDER` (FOLDER: files without history yet). Starts an
offscreen Qt application with a 10 ms timer, checkpoints FOLDER through
`kamaros_app.ui.worker.TaskRunner` (as the window does) and prints one JSON object:
longest and median gap between timer ticks in ms, tick count, checkpoint seconds.
Runs in its own process so the harness never imports Qt.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def measure(root: Path) -> dict[str, Any]:
    """Checkpoint `root` on the write worker while a 10 ms timer ticks; gaps in ms."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from kamaros_app.engine import Project
    from kamaros_app.ui.worker import TaskRunner

    app = QApplication.instance() or QApplication([])
    Project.init(root).close()
    runner = TaskRunner()
    gaps: list[float] = []
    last = [time.perf_counter()]
    done: list[object] = []

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000)
        last[0] = now
        if done:
            app.quit()

    def save(progress: Any, cancel: Any) -> object:
        with Project.open(root) as project:
            return project.checkpoint("everything", progress=progress, cancel=cancel)

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    start = time.perf_counter()
    last[0] = start
    runner.run_write("Saving checkpoint", save, done.append, done.append)
    app.exec()
    seconds = time.perf_counter() - start
    timer.stop()
    runner.shutdown()
    if isinstance(done[0], BaseException):
        raise done[0]
    import kamaros_app

    ordered = sorted(gaps)
    return {
        "kamaros_app": str(Path(kamaros_app.__file__).parent),
        "max_gap_ms": ordered[-1],
        "median_gap_ms": ordered[len(ordered) // 2],
        "ticks": len(gaps),
        "checkpoint_s": seconds,
    }


def main() -> int:
    print(json.dumps(measure(Path(sys.argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
