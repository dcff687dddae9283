"""DiffWidget: the interface of docs/UI.md, its states, and the binary summary."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from kamaros_app.engine.hashing import hash_bytes
from kamaros_app.ui.diffview import MAX_DIFF_BYTES, DiffWidget, PreparedDiff, prepare_diff
from kamaros_app.ui.diffview.binary_view import SHORT_HASH
from kamaros_app.ui.diffview.diff_widget import EMPTY_TITLE
from tests.ui.test_diffview_support import encode, solid


@pytest.fixture
def widget(qtbot: QtBot) -> Iterator[DiffWidget]:
    w = DiffWidget()
    qtbot.addWidget(w)
    w.resize(800, 500)
    w.show()
    with qtbot.waitExposed(w):
        pass
    yield w


def prep(old: bytes | None, new: bytes | None, path: str) -> PreparedDiff:
    return prepare_diff(old, new, path=path, old_label="Checkpoint 1", new_label="Now")


def test_exports() -> None:
    import kamaros_app.ui.diffview as diffview

    assert set(diffview.__all__) == {"DiffWidget", "PreparedDiff", "prepare_diff", "MAX_DIFF_BYTES"}
    assert MAX_DIFF_BYTES == 8 * 1024 * 1024


def test_starts_empty_and_says_what_to_do(widget: DiffWidget) -> None:
    assert widget.stack.currentWidget() is widget.message_view
    assert widget.message_view.title_label.text() == EMPTY_TITLE
    assert not widget.message_view.open_button.isVisible()
    assert widget.prepared is None


def test_show_message(widget: DiffWidget) -> None:
    widget.show_prepared(prep(b"a\n", b"b\n", "a.txt"))
    widget.show_message("Could not read the file", "Permission denied")
    assert widget.stack.currentWidget() is widget.message_view
    assert widget.message_view.title_label.text() == "Could not read the file"
    assert widget.message_view.detail_label.text() == "Permission denied"
    assert widget.prepared is None
    widget.show_message("Only a title")
    assert not widget.message_view.detail_label.isVisible()


def test_too_large_offers_to_open_externally(widget: DiffWidget, qtbot: QtBot) -> None:
    widget.show_too_large("videos/holiday.mov", 9_000_000_000, None)
    view = widget.message_view
    assert widget.stack.currentWidget() is view
    assert "too large" in view.title_label.text()
    assert "holiday.mov (9.0 GB before)" in view.detail_label.text()
    assert view.open_button.isVisible() and view.open_button.text() == "Open externally…"
    with qtbot.waitSignal(widget.sig_open_externally, timeout=1000):
        view.open_button.click()


def test_too_large_prepared_diff_shows_the_same_state(widget: DiffWidget) -> None:
    widget.show_prepared(prep(b"x", b"y" * (MAX_DIFF_BYTES + 1), "big.log"))
    assert widget.stack.currentWidget() is widget.message_view
    assert widget.message_view.open_button.isVisible()
    assert "big.log" in widget.message_view.detail_label.text()


def test_binary_summary_shows_both_hashes(widget: DiffWidget, qtbot: QtBot) -> None:
    old = b"%PDF-1.4\x00" + bytes(range(256)) * 10
    new = b"%PDF-1.5\x00" + bytes(range(256)) * 12
    widget.show_prepared(prep(old, new, "report.pdf"))
    view = widget.binary_view
    assert widget.stack.currentWidget() is view
    assert view.verdict_label.text() == "Different content"
    old_hash, new_hash = view.cells["hash"]
    assert old_hash.text() == hash_bytes(old)[:SHORT_HASH] + "…"
    assert new_hash.text() == hash_bytes(new)[:SHORT_HASH] + "…"
    assert hash_bytes(old) in old_hash.toolTip() and hash_bytes(new) in new_hash.toolTip()
    assert [c.text() for c in view.cells["size"]] == [
        "2.6 KB (2,569 bytes)",
        "3.1 KB (3,081 bytes)",
    ]
    assert [c.text() for c in view.cells["type"]] == ["PDF document", "PDF document"]
    assert view.headers[0].text() == "Before — Checkpoint 1"
    with qtbot.waitSignal(widget.sig_open_externally, timeout=1000):
        view.open_button.click()


def test_binary_identical_and_added(widget: DiffWidget) -> None:
    data = bytes(range(256))
    widget.show_prepared(prep(data, data, "blob.bin"))
    assert widget.binary_view.verdict_label.text() == "Identical content"
    widget.show_prepared(prep(None, data, "blob.bin"))
    assert widget.binary_view.verdict_label.text() == "New file"
    assert widget.binary_view.cells["size"][0].text() == "does not exist"


def test_switches_between_views(widget: DiffWidget) -> None:
    widget.show_prepared(prep(b"a\n", b"b\n", "a.txt"))
    assert widget.stack.currentWidget() is widget.text_view
    widget.show_prepared(prep(encode(solid(4, 4, "red")), encode(solid(4, 4, "blue")), "a.png"))
    assert widget.stack.currentWidget() is widget.image_view
    widget.show_prepared(prep(b"\x00\x01", b"\x00\x02", "a.bin"))
    assert widget.stack.currentWidget() is widget.binary_view
    widget.show_prepared(prep(None, None, "gone.txt"))
    assert widget.stack.currentWidget() is widget.message_view


def test_prepared_in_a_thread_pool_and_shown_on_the_ui_thread(
    widget: DiffWidget, qtbot: QtBot
) -> None:
    results: list[PreparedDiff] = []
    png_old = encode(solid(30, 20, "white"))
    png_new = encode(solid(30, 20, "black"))

    def task() -> None:
        results.append(prep(png_old, png_new, "art/cover.png"))

    QThreadPool.globalInstance().start(task)
    qtbot.waitUntil(lambda: bool(results), timeout=10_000)
    widget.show_prepared(results[0])
    QTest.qWait(10)
    assert widget.stack.currentWidget() is widget.image_view
    assert "30 × 20 px" in widget.image_view.old_caption.text()


def test_next_change_methods_forward_to_the_text_view(widget: DiffWidget) -> None:
    old = "".join(f"{i}\n" for i in range(300))
    new = old.replace("10\n", "ten\n").replace("250\n", "two fifty\n")
    widget.show_prepared(prep(old.encode(), new.encode(), "n.txt"))
    assert widget.text_view.current_change == 0
    widget.next_change()
    assert widget.text_view.current_change == 1
    widget.previous_change()
    assert widget.text_view.current_change == 0
