"""Selecting a file shows its difference; Compare with… the folder or another checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel
from pytestqt.qtbot import QtBot

from kamaros_app.ui.dialogs.compare_with import CompareTarget, CompareWithDialog, TooLarge
from tests.ui.test_project_helpers import (
    make_context,
    make_history,
    open_window,
    tree_paths,
    wait_for,
    wait_idle,
)


def _select_file(qtbot: QtBot, window, path: str):  # type: ignore[no-untyped-def]
    wait_for(qtbot, lambda: path in tree_paths(window))
    index = window.contents_model.index_of(path)
    window.contents_view.selectionModel().setCurrentIndex(
        index,
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    wait_for(qtbot, lambda: window.diff_outcome is not None and window.checkpoint.diff_path == path)
    return window.diff_outcome


def _text_rows(prepared) -> list[tuple[str | None, str | None]]:  # type: ignore[no-untyped-def]
    return [(row.old_text, row.new_text) for row in prepared.text.rows]


def test_text_file_against_previous_checkpoint(qtbot: QtBot, tmp_path: Path) -> None:
    ids = make_history(tmp_path / "book")
    context, recorder = make_context(tmp_path)
    window = open_window(qtbot, context, tmp_path / "book")
    window.select_version(ids["second"])
    prepared = _select_file(qtbot, window, "notes.txt")
    assert prepared.kind == "text"
    assert not prepared.identical
    assert prepared.old_label.startswith("Start the notes")
    assert prepared.new_label.startswith("Edit the notes")
    assert _text_rows(prepared) == [
        ("first line", "first line"),
        ("second line", "second line, edited"),
    ]
    assert recorder.errors == []


def test_first_selection_is_a_changed_file(qtbot: QtBot, tmp_path: Path) -> None:
    ids = make_history(tmp_path / "book")
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, tmp_path / "book")
    window.select_version(ids["second"])
    wait_for(qtbot, lambda: window.diff_outcome is not None)
    assert window.checkpoint.diff_path == "notes.txt"  # the only change, selected by itself


def test_moving_to_another_checkpoint_shows_what_it_changed(qtbot: QtBot, tmp_path: Path) -> None:
    """A file picked in one checkpoint stays picked only if the next one changed it too."""
    ids = make_history(tmp_path / "book")
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, tmp_path / "book")
    window.select_version(ids["third"])
    assert _select_file(qtbot, window, "cover.png").kind == "image"  # changed in "third"
    window.select_version(ids["second"])  # changed only notes.txt
    wait_for(qtbot, lambda: window.checkpoint.diff_path == "notes.txt")
    wait_for(qtbot, lambda: window.diff_outcome is not None and window.diff_outcome.kind == "text")
    window.select_version(ids["first"])  # added everything: cover.png changed there too
    _select_file(qtbot, window, "cover.png")
    window.select_version(ids["third"])
    wait_for(qtbot, lambda: window.diff_outcome is not None)
    assert window.checkpoint.diff_path == "cover.png"  # changed here too: it stays


def test_image_file_shows_both_pictures(qtbot: QtBot, tmp_path: Path) -> None:
    ids = make_history(tmp_path / "book")
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, tmp_path / "book")
    window.select_version(ids["third"])
    prepared = _select_file(qtbot, window, "cover.png")
    assert prepared.kind == "image"
    assert prepared.old_image.image is not None and prepared.new_image.image is not None
    assert prepared.old_image.image.size() == prepared.new_image.image.size()
    assert prepared.old_image.image != prepared.new_image.image


def test_renamed_and_deleted_files(qtbot: QtBot, tmp_path: Path) -> None:
    ids = make_history(tmp_path / "book")
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, tmp_path / "book")
    window.select_version(ids["third"])
    renamed = _select_file(qtbot, window, "chapters/opening.md")
    assert renamed.kind == "text" and renamed.identical  # renamed, same words
    deleted = _select_file(qtbot, window, "old-draft.txt")
    assert deleted.kind == "text"
    assert deleted.new_size is None and deleted.old_size == len(b"to be deleted\n")


def test_compare_with_current_folder(qtbot: QtBot, tmp_path: Path) -> None:
    folder = tmp_path / "book"
    ids = make_history(folder)
    (folder / "notes.txt").write_text("first line\nwritten today\n")
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, folder)
    window.select_version(ids["second"])
    _select_file(qtbot, window, "notes.txt")
    folder_item = window.compare_combo.findText("Current folder")
    assert folder_item >= 0
    window.compare_combo.setCurrentIndex(folder_item)
    window.compare_combo.activated.emit(folder_item)
    assert window.compare_target == CompareTarget("folder")
    wait_for(qtbot, lambda: window.diff_outcome is not None)
    prepared = window.diff_outcome
    assert prepared.new_label == "Current folder"
    assert prepared.old_label.startswith("Edit the notes")
    assert ("second line, edited", "written today") in _text_rows(prepared)


def test_compare_with_another_checkpoint(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = make_history(tmp_path / "book")
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, tmp_path / "book")
    window.select_version(ids["third"])
    _select_file(qtbot, window, "notes.txt")
    assert window.diff_outcome.identical  # notes.txt did not change in the third checkpoint

    def pick_first(dialog: CompareWithDialog) -> int:
        dialog.search.setText("start")
        assert dialog.proxy.rowCount() == 1
        dialog.list.setCurrentIndex(dialog.proxy.index(0, 0))
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(CompareWithDialog, "exec", pick_first)
    another = window.compare_combo.findText("Another checkpoint…")
    window.compare_combo.activated.emit(another)
    assert window.compare_target.kind == "version"
    assert window.compare_target.version_id == ids["first"]
    assert window.compare_combo.currentText() == "“Start the notes”"
    wait_for(qtbot, lambda: window.diff_outcome is not None)
    prepared = window.diff_outcome
    assert not prepared.identical
    assert prepared.old_label.startswith("Start the notes")  # the older one on the left
    assert prepared.new_label.startswith("Rename the opening")
    # The choice stays while another file is selected.
    other = _select_file(qtbot, window, "chapters/opening.md")
    assert other.old_label.startswith("Start the notes")


def test_too_large_file_offers_open_externally(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kamaros_app.ui.dialogs import compare_with
    from kamaros_app.ui.flows import files

    ids = make_history(tmp_path / "book")
    monkeypatch.setattr(compare_with, "MAX_DIFF_BYTES", 10)
    opened: list[Path] = []
    monkeypatch.setattr(files, "_open_local", opened.append)
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, tmp_path / "book")
    window.select_version(ids["second"])
    outcome = _select_file(qtbot, window, "notes.txt")
    assert isinstance(outcome, TooLarge)
    assert outcome.old_size == len(b"first line\nsecond line\n")
    window.diff.sig_open_externally.emit()
    wait_for(qtbot, lambda: opened)
    assert opened[0].read_bytes() == b"first line\nsecond line, edited\n"
    wait_idle(qtbot, window)
