"""Writes that go wrong or are stopped: the lock held elsewhere, Cancel; Check Project and
Clean Up Storage."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from kamaros_app.engine import LockedError, Project
from kamaros_app.ui.dialogs.cleanup import CleanupDialog
from kamaros_app.ui.dialogs.save_checkpoint import SaveCheckpointDialog
from kamaros_app.ui.dialogs.verify_report import VerifyReportDialog
from tests.ui.test_project_helpers import (
    make_context,
    make_history,
    open_window,
    wait_for,
    wait_idle,
)


def _answer_save(monkeypatch: pytest.MonkeyPatch, message: str) -> None:
    def fake_exec(dialog: SaveCheckpointDialog) -> int:
        dialog.message_edit.setPlainText(message)
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(SaveCheckpointDialog, "exec", fake_exec)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_locked_project_shows_a_friendly_error(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "book"
    make_history(folder)
    (folder / "notes.txt").write_text("changed\n")
    context, recorder = make_context(tmp_path)
    window = open_window(qtbot, context, folder)
    wait_for(qtbot, window.act_save.isEnabled)
    _answer_save(monkeypatch, "will not get in")
    with Project.open(folder):  # another window or the command line is writing
        window.act_save.trigger()
        wait_for(qtbot, lambda: recorder.errors)
    title, exc = recorder.errors[0]
    assert title == "Could not save the checkpoint"
    assert isinstance(exc, LockedError)
    wait_idle(qtbot, window)
    assert window.history_model.total == 3
    assert window.act_save.isEnabled()  # once the other writer is gone, try again
    window.act_save.trigger()
    wait_for(qtbot, lambda: window.history_model.total == 4)
    assert len(recorder.errors) == 1


@pytest.mark.slow
def test_cancel_a_long_checkpoint_leaves_the_project_as_it_was(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "book"
    make_history(folder)
    container = folder / ".kamaros" / "project.jcf"
    before = _digest(container)
    block = os.urandom(1024 * 1024)
    for n in range(20):  # 200 MB that does not compress
        with open(folder / f"video{n}.raw", "wb") as handle:
            for k in range(10):
                handle.write(bytes([n, k]) + block[2:])
    context, recorder = make_context(tmp_path)
    window = open_window(qtbot, context, folder)
    wait_for(qtbot, window.act_save.isEnabled, timeout=60_000)
    _answer_save(monkeypatch, "a big save")
    reports: list[tuple[str, int, int]] = []

    def progress(text: str, done: int, total: int) -> None:
        reports.append((text, done, total))
        # Stop in the middle of writing the new contents into the history file.
        if text.startswith("Saving files") and done * 4 > total and not window.progress.cancelling:
            window.progress.cancel()

    window.runner.sig_progress.connect(progress)
    window.act_save.trigger()
    wait_for(qtbot, lambda: not window.runner.busy, timeout=120_000)
    assert window.progress.isHidden()
    assert any(t.startswith("Saving files") and 0 < d < n for t, d, n in reports)
    assert window.statusBar().currentMessage().startswith("Cancelled")
    assert recorder.errors == []
    wait_idle(qtbot, window)
    assert window.history_model.total == 3
    assert window.changes.title.text() == "20 changes since the last checkpoint"
    assert _digest(container) == before
    with Project.open(folder, read_only=True) as project:
        assert len(project.log()) == 3
        assert project.verify().ok


def test_check_project_reports_in_plain_words(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_history(tmp_path / "book")
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, tmp_path / "book")
    shown: list[VerifyReportDialog] = []
    monkeypatch.setattr(
        VerifyReportDialog, "exec", lambda d: shown.append(d) or QDialog.DialogCode.Accepted.value
    )
    window.act_verify.trigger()
    wait_for(qtbot, lambda: shown)
    assert shown[0].text.startswith("All 3 checkpoints are intact")


def test_check_project_names_damaged_checkpoints() -> None:
    from kamaros_app.engine.verify import Damage, VerifyReport
    from kamaros_app.ui.dialogs.verify_report import report_text

    report = VerifyReport(versions=3, contents=5, entries=9)
    report.damage.append(Damage("content 0123456789abcdef (cover.png)", "wrong bytes", ["v2"]))
    headline, text = report_text(report, {"v2": "Add the cover"})
    assert headline == "Some checkpoints are damaged"
    assert "“Add the cover”" in text
    assert "cover.png: wrong bytes" in text
    assert "0123456789abcdef" not in text


def test_clean_up_shows_space_before_and_after(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "book"
    ids = make_history(folder)
    with Project.open(folder) as project:  # leave replaced bytes behind
        for n in range(5):
            project.tag(ids["first"], f"t{n}")
    container = folder / ".kamaros" / "project.jcf"
    size_before = container.stat().st_size
    context, recorder = make_context(tmp_path)
    window = open_window(qtbot, context, folder)
    wait_idle(qtbot, window)
    shown: list[CleanupDialog] = []

    def fake_exec(dialog: CleanupDialog) -> int:
        shown.append(dialog)
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(CleanupDialog, "exec", fake_exec)
    window.act_cleanup.trigger()
    wait_for(qtbot, lambda: len(shown) == 2)
    assert "Cleaning up would bring it to about" in shown[0].text
    assert shown[1].text.startswith("Done. The history file went from")
    assert container.stat().st_size < size_before
    assert recorder.errors == []
