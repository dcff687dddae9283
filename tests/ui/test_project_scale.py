"""10,000 checkpoints: the history list stays lazy, searching and selecting stay quick."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QModelIndex, QTimer
from pytestqt.qtbot import QtBot

from kamaros_app.engine import Project
from kamaros_app.engine.manifest import Version
from kamaros_app.ui.history_model import BATCH
from tests.ui.test_project_helpers import make_context, open_window, wait_for

COUNT = 10_000


def make_long_history(folder: Path, count: int) -> None:
    """`count` checkpoints, written as one manifest (real checkpoints would take minutes).

    Every checkpoint after the first records the same notes.txt again, so the history is
    consistent with the folder and the stored contents.
    """
    folder.mkdir()
    (folder / "notes.txt").write_text("the notes\n")
    with Project.init(folder) as project:
        project.checkpoint("Checkpoint number 0", author="Robot")
    with Project.open(folder) as project:
        manifest = project.manifest
        first = manifest.versions[0]
        state = first.changes["notes.txt"]._replace(changeType="modified")
        start = datetime.now(UTC) - timedelta(seconds=count)
        versions = [first]
        for i in range(1, count):
            versions.append(
                Version(
                    id=f"{i:032x}",
                    timestamp=(start + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
                    message=f"Checkpoint number {i}",
                    author="Robot",
                    email="",
                    parentId=versions[-1].id,
                    changes={"notes.txt": state},
                    automatic=i % 100 == 0,
                )
            )
        tags = {"milestone": versions[1234].id}
        project._commit_manifest(manifest.with_changes(versions=tuple(versions), tags=tags))


def test_ten_thousand_checkpoints_stay_lazy_and_smooth(qtbot: QtBot, tmp_path: Path) -> None:
    started = time.perf_counter()
    make_long_history(tmp_path / "long", COUNT)
    built = time.perf_counter() - started

    # Measure the longest gap between ticks of a 10 ms timer while the window works.
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()

    context, recorder = make_context(tmp_path)
    started = time.perf_counter()
    window = open_window(qtbot, context, tmp_path / "long")
    loaded = time.perf_counter() - started
    model, proxy, view = window.history_model, window.history_proxy, window.history_view
    assert model.total == COUNT
    # Lazy: the view holds a page, not ten thousand rows.
    assert BATCH <= model.rowCount() < COUNT
    first_rows = model.rowCount()
    assert proxy.version_at(0).message == f"Checkpoint number {COUNT - 1}"
    assert window.selected_version is not None

    # Scrolling to the end fetches the next page, and only that.
    view.scrollToBottom()
    wait_for(qtbot, lambda: model.rowCount() > first_rows)
    assert model.rowCount() < COUNT

    # Search finds a checkpoint far down the list, by message and by tag.
    started = time.perf_counter()
    window.search.setText("number 9876")
    searched = time.perf_counter() - started
    assert [proxy.version_at(r).message for r in range(proxy.rowCount())] == [
        "Checkpoint number 9876"
    ]
    window.search.setText("987")
    assert proxy.rowCount() == 20  # 987, 1987, ..., 9987 and 9870-9879
    window.search.setText("milestone")
    assert proxy.rowCount() == 1
    assert proxy.version_at(0).message == "Checkpoint number 1234"
    view.setCurrentIndex(proxy.index(0, 0))
    wait_for(qtbot, lambda: window.header_title.text() == "Checkpoint number 1234")
    wait_for(qtbot, lambda: window.contents_model.rowCount(QModelIndex()) == 1)
    window.search.clear()
    assert proxy.rowCount() == COUNT  # everything was fetched for the search, nothing lost

    timer.stop()
    worst = max(gaps)
    print(
        f"\n10k: built {built:.2f}s, window loaded {loaded:.2f}s, search {searched * 1000:.0f}"
        f" ms, longest event-loop gap {worst:.0f} ms"
    )
    assert searched < 1.0
    assert worst < 500, f"the event loop stalled for {worst} ms"
    assert recorder.errors == []
