"""Restore a whole checkpoint or some files, with the confirmation listing; undo with Ctrl+Z."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from kamaros_app.demo import cover_png
from kamaros_app.ui.dialogs.restore_confirm import RestoreConfirmDialog
from tests.ui.test_project_helpers import (
    activate,
    make_context,
    make_history,
    open_window,
    tree_paths,
    wait_for,
    wait_idle,
)


def _answer_restore(monkeypatch: pytest.MonkeyPatch, accept: bool = True) -> list[dict]:
    shown: list[dict[str, list[str]]] = []

    def fake_exec(dialog: RestoreConfirmDialog) -> int:
        shown.append({"notes": [dialog.notes.text()], **dialog.listed()})
        if accept:
            dialog.accept()
        else:
            dialog.reject()
        return dialog.result()

    monkeypatch.setattr(RestoreConfirmDialog, "exec", fake_exec)
    return shown


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".kamaros" not in p.parts
    }


def test_restore_whole_checkpoint_then_undo_with_ctrl_z(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "book"
    ids = make_history(folder)
    (folder / "notes.txt").write_text("an unsaved thought\n")  # saved first, automatically
    before = _files(folder)
    context, recorder = make_context(tmp_path)
    window = open_window(qtbot, context, folder)
    wait_idle(qtbot, window)
    assert window.select_version(ids["first"])
    shown = _answer_restore(monkeypatch)

    window.act_restore.trigger()
    wait_for(qtbot, lambda: window.notice.isVisible())
    wait_idle(qtbot, window)
    assert len(shown) == 1
    listing = shown[0]
    assert "unsaved changes are saved first" in listing["notes"][0]
    assert listing["Will be replaced (2)"] == ["cover.png", "notes.txt"]
    assert listing["Will be brought back (2)"] == ["chapters/one.md", "old-draft.txt"]
    assert listing["Will be removed from the folder (1)"] == ["chapters/opening.md"]
    assert window.notice_label.text() == "Restored the folder to “Start the notes”."
    assert window.notice_undo.isVisible()
    assert _files(folder)["notes.txt"] == b"first line\nsecond line\n"
    assert not (folder / "chapters" / "opening.md").exists()
    # The safety checkpoint and the restored folder are both in the history now.
    wait_for(qtbot, lambda: window.history_model.total == 5)
    automatic = window.history_model.version_at(1)
    assert automatic.automatic
    assert window.changes.title.text() == "Everything is saved"

    activate(qtbot, window)
    qtbot.keyClick(window.history_view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_for(qtbot, lambda: "Undone" in window.notice_label.text())
    wait_idle(qtbot, window)
    assert _files(folder) == before  # including the unsaved thought
    assert not window.notice_undo.isVisible()
    assert not window.act_undo.isEnabled()
    assert recorder.errors == []


def test_restore_selected_files_only(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "book"
    ids = make_history(folder)
    before = _files(folder)
    context, recorder = make_context(tmp_path)
    window = open_window(qtbot, context, folder)
    wait_idle(qtbot, window)
    assert window.select_version(ids["first"])
    wait_for(qtbot, lambda: "notes.txt" in tree_paths(window))
    model, view = window.contents_model, window.contents_view
    selection = view.selectionModel()
    selection.clearSelection()
    for path in ("notes.txt", "chapters"):
        selection.select(
            model.index_of(path),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
    assert window.act_restore_files.isEnabled()
    shown = _answer_restore(monkeypatch)

    window.restore_files_button.click()
    wait_for(qtbot, lambda: window.notice.isVisible())
    wait_idle(qtbot, window)
    listing = shown[0]
    assert listing["Will be replaced (1)"] == ["notes.txt"]
    assert listing["Will be brought back (1)"] == ["chapters/one.md"]
    assert listing["Will be removed from the folder (1)"] == ["chapters/opening.md"]
    assert "unsaved" not in listing["notes"][0]
    after = _files(folder)
    assert after["notes.txt"] == b"first line\nsecond line\n"
    assert after["cover.png"] == before["cover.png"] == cover_png(dusk=True)  # not selected
    assert "chapters/one.md" in after and "chapters/opening.md" not in after
    assert window.notice_label.text() == "Restored the selected files to “Start the notes”."
    assert recorder.errors == []

    window.notice_undo.click()
    wait_for(qtbot, lambda: "Undone" in window.notice_label.text())
    wait_idle(qtbot, window)
    assert _files(folder) == before


def test_cancelled_confirmation_changes_nothing(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "book"
    ids = make_history(folder)
    before = _files(folder)
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, folder)
    wait_idle(qtbot, window)
    window.select_version(ids["first"])
    shown = _answer_restore(monkeypatch, accept=False)
    window.act_restore.trigger()
    wait_for(qtbot, lambda: shown)
    wait_idle(qtbot, window)
    assert _files(folder) == before
    assert window.history_model.total == 3
    assert not window.notice.isVisible()
    assert not window.act_undo.isEnabled()


def test_restore_of_what_the_folder_already_is_says_so(qtbot: QtBot, tmp_path: Path) -> None:
    folder = tmp_path / "book"
    ids = make_history(folder)
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, folder)
    wait_idle(qtbot, window)
    window.select_version(ids["third"])
    opened: list[RestoreConfirmDialog] = []

    def fake_exec(dialog: RestoreConfirmDialog) -> int:
        opened.append(dialog)
        return QDialog.DialogCode.Rejected.value

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RestoreConfirmDialog, "exec", fake_exec)
        window.act_restore.trigger()
        wait_for(qtbot, lambda: opened)
    assert opened[0].preview.is_empty
    assert opened[0].restore_button is None
    assert "Nothing to do" in opened[0].notes.text()
