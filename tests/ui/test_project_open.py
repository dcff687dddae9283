"""Open a project: its history, its changes, Save Checkpoint, search."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from kamaros_app.engine import Project
from kamaros_app.ui.dialogs.save_checkpoint import SaveCheckpointDialog
from tests.ui.test_project_helpers import (
    make_context,
    make_history,
    open_window,
    tree_paths,
    wait_for,
    wait_idle,
)


def test_open_shows_history_newest_first_with_header_and_tree(qtbot: QtBot, tmp_path: Path) -> None:
    ids = make_history(tmp_path / "book")
    context, recorder = make_context(tmp_path)
    window = open_window(qtbot, context, tmp_path / "book")

    assert window.history_model.total == 3
    proxy = window.history_proxy
    assert [proxy.version_at(r).id for r in range(proxy.rowCount())] == [
        ids["third"],
        ids["second"],
        ids["first"],
    ]
    # The newest checkpoint is selected; its header and its files show.
    assert window.selected_version is not None
    assert window.selected_version.id == ids["third"]
    assert window.header_title.text() == "Rename the opening, dusk cover"
    wait_for(qtbot, lambda: tree_paths(window))
    assert tree_paths(window) == [
        "chapters/opening.md",
        "cover.png",
        "notes.txt",
        "old-draft.txt",  # deleted by this checkpoint: listed, struck through
    ]
    model = window.contents_model
    deleted = model.index_of("old-draft.txt")
    assert model.data(deleted, Qt.ItemDataRole.FontRole).strikeOut()
    assert model.node(model.index_of("chapters/opening.md")).change == "renamed"
    assert model.node(model.index_of("cover.png")).change == "modified"
    assert model.node(model.index_of("notes.txt")).change is None
    # "Only changed files" hides the unchanged notes.
    window.show_combo.setCurrentIndex(1)
    assert tree_paths(window) == ["chapters/opening.md", "cover.png", "old-draft.txt"]
    assert recorder.errors == []


def test_header_shows_tags_and_description(qtbot: QtBot, tmp_path: Path) -> None:
    ids = make_history(tmp_path / "book")
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, tmp_path / "book")
    assert window.select_version(ids["second"])
    assert window.header_title.text() == "Edit the notes"
    assert "draft-2" in window.header_meta.text()
    assert window.header_body.text() == "A longer description."
    assert not window.header_body.isHidden()


def test_changes_panel_counts_and_f5_refresh(qtbot: QtBot, tmp_path: Path) -> None:
    make_history(tmp_path / "book")
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, tmp_path / "book")
    wait_idle(qtbot, window)
    assert window.changes.title.text() == "Everything is saved"
    assert not window.act_save.isEnabled()
    assert "Nothing changed since the last checkpoint" in window.act_save.toolTip()
    assert window.save_state.text() == "Nothing changed since the last checkpoint"

    (tmp_path / "book" / "notes.txt").write_text("changed\n")
    (tmp_path / "book" / "new.txt").write_text("new\n")
    (tmp_path / "book" / "cover.png").unlink()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    wait_for(qtbot, lambda: window.changes.title.text().startswith("3 changes"))
    assert window.changes.title.text() == "3 changes since the last checkpoint"
    assert window.changes.counts.text() == "1 added  ·  1 edited  ·  1 deleted"
    listed = [
        window.changes.model.data(window.changes.model.index(r, 0))
        for r in range(window.changes.model.rowCount())
    ]
    assert listed == ["cover.png", "new.txt", "notes.txt"]
    assert window.act_save.isEnabled()


def test_new_project_empty_states(qtbot: QtBot, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    Project.init(folder).close()
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, folder)
    wait_idle(qtbot, window)
    assert "Save Checkpoint" in window.history_empty.text()
    assert window.history_stack.currentWidget() is window.history_empty
    assert window.changes.empty.text() == "Add files to the folder, then Save Checkpoint"
    assert not window.act_save.isEnabled()


def _answer_save(
    monkeypatch: pytest.MonkeyPatch, message: str, tag: str = "", author: str = "Ann Author"
) -> list[SaveCheckpointDialog]:
    seen: list[SaveCheckpointDialog] = []

    def fake_exec(dialog: SaveCheckpointDialog) -> int:
        seen.append(dialog)
        dialog.message_edit.setPlainText(message)
        dialog.tag_edit.setText(tag)
        dialog.author_edit.setText(author)
        dialog.email_edit.setText("ann@example.org")
        if not dialog.save_button.isEnabled():
            return QDialog.DialogCode.Rejected.value
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(SaveCheckpointDialog, "exec", fake_exec)
    return seen


def test_save_checkpoint_with_ctrl_s(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_history(tmp_path / "book")
    context, recorder = make_context(tmp_path)
    window = open_window(qtbot, context, tmp_path / "book")
    (tmp_path / "book" / "notes.txt").write_text("a new thought\n")
    window.refresh_changes()
    wait_for(qtbot, window.act_save.isEnabled)
    seen = _answer_save(monkeypatch, "A new thought\n\nWritten on the train.", tag="train")

    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert len(seen) == 1
    assert seen[0].author_edit.text() == "Ann Author"
    wait_for(qtbot, lambda: window.history_model.total == 4)
    wait_for(qtbot, lambda: window.header_title.text() == "A new thought")
    wait_idle(qtbot, window)
    assert window.selected_version is not None
    assert window.selected_version.tags == ("train",)
    assert window.changes.title.text() == "Everything is saved"
    assert not window.act_save.isEnabled()
    assert recorder.errors == []
    # The author and e-mail are remembered for next time.
    assert context.settings.author == "Ann Author"
    assert context.settings.email == "ann@example.org"
    with Project.open(tmp_path / "book", read_only=True) as project:
        newest = project.log()[0]
    assert (newest.message, newest.author, newest.email) == (
        "A new thought\n\nWritten on the train.",
        "Ann Author",
        "ann@example.org",
    )


def test_save_dialog_refuses_empty_message_and_used_tag(qtbot: QtBot) -> None:
    dialog = SaveCheckpointDialog(None, summary="", author="a", email="", existing_tags={"draft-2"})
    qtbot.addWidget(dialog)
    assert not dialog.save_button.isEnabled()
    dialog.message_edit.setPlainText("Something")
    assert dialog.save_button.isEnabled()
    dialog.tag_edit.setText("draft-2")
    assert not dialog.save_button.isEnabled()
    assert "already used" in dialog.problem.text()
    dialog.tag_edit.setText("two words")
    assert not dialog.save_button.isEnabled()
    dialog.tag_edit.setText("draft-3")
    assert dialog.save_button.isEnabled()
    assert (dialog.message, dialog.tag) == ("Something", "draft-3")


def test_save_is_disabled_when_nothing_changed(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_history(tmp_path / "book")
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, tmp_path / "book")
    wait_idle(qtbot, window)
    seen = _answer_save(monkeypatch, "should not be saved")
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    window.save_checkpoint()
    QApplication.processEvents()
    assert seen == []
    assert window.history_model.total == 3
    assert "Nothing changed" in window.statusBar().currentMessage()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dusk", ["Rename the opening, dusk cover"]),  # message
        ("DRAFT-2", ["Edit the notes"]),  # tag, any case
        ("old-draft", ["Rename the opening, dusk cover", "Start the notes"]),  # file name
        ("one.md", ["Rename the opening, dusk cover", "Start the notes"]),  # renamed from
        ("notes edit", ["Edit the notes"]),  # every word
        ("nothing like this", []),
    ],
)
def test_search_filters_by_message_tag_and_file_name(
    qtbot: QtBot, tmp_path: Path, text: str, expected: list[str]
) -> None:
    make_history(tmp_path / "book")
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, tmp_path / "book")
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search.hasFocus() or QApplication.focusWidget() is window.search
    qtbot.keyClicks(window.search, text)
    proxy = window.history_proxy
    shown = [proxy.version_at(r).message.splitlines()[0] for r in range(proxy.rowCount())]
    assert shown == expected
    if not expected:
        assert window.history_stack.currentWidget() is window.history_empty
        assert "No checkpoint matches" in window.history_empty.text()
    window.search.clear()
    assert proxy.rowCount() == 3
    assert proxy.index(0, 0) != QModelIndex()


def test_activating_the_window_looks_for_changes_and_new_checkpoints(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QWidget

    from tests.ui.test_project_helpers import activate

    folder = tmp_path / "book"
    make_history(folder)
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, folder)
    wait_idle(qtbot, window)
    other = QWidget()
    qtbot.addWidget(other)
    other.show()
    activate(qtbot, other)
    # Meanwhile, in another program: an edit, and a checkpoint from the command line.
    (folder / "new.txt").write_text("new\n")
    with Project.open(folder) as project:
        project.checkpoint("Saved from the command line")
    (folder / "notes.txt").write_text("edited again\n")
    activate(qtbot, window)
    wait_for(qtbot, lambda: window.history_model.total == 4)
    wait_for(qtbot, lambda: window.changes.title.text() == "1 change since the last checkpoint")
    assert window.history_proxy.version_at(0).message == "Saved from the command line"


def test_choosing_a_change_compares_the_newest_checkpoint_with_the_folder(
    qtbot: QtBot, tmp_path: Path
) -> None:
    folder = tmp_path / "book"
    ids = make_history(folder)
    (folder / "notes.txt").write_text("first line\nchanged in the folder\n")
    (folder / "brand-new.txt").write_text("hello\n")
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, folder)
    window.select_version(ids["first"])
    wait_idle(qtbot, window)
    for path, old_size in (("notes.txt", 31), ("brand-new.txt", None)):
        row = next(
            r
            for r in range(window.changes.model.rowCount())
            if window.changes.model.change_at(r).path == path
        )
        window.changes.list.activated.emit(window.changes.model.index(row, 0))
        wait_for(
            qtbot,
            lambda p=path: window.diff_outcome is not None and window.checkpoint.diff_path == p,
        )
        assert window.selected_version is not None
        assert window.selected_version.id == ids["third"]
        assert window.compare_target.kind == "folder"
        prepared = window.diff_outcome
        assert prepared.new_label == "Current folder"
        assert prepared.old_size == old_size
    assert prepared.new_size == len(b"hello\n")


def test_a_project_from_a_newer_kamaros_is_read_only(qtbot: QtBot, tmp_path: Path) -> None:
    folder = tmp_path / "book"
    make_history(folder)
    with Project.open(folder) as project:
        project._commit_manifest(project.manifest.with_changes(formatVersion="2.1.0"))
    (folder / "notes.txt").write_text("changed\n")
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, folder)
    wait_idle(qtbot, window)
    assert window.history_model.total == 3
    assert window.read_only
    for action in (window.act_save, window.act_restore, window.act_cleanup):
        assert not action.isEnabled()
        assert "newer version of Kamaros" in action.toolTip()


def test_keyboard_moves_through_the_history_and_into_the_files(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from tests.ui.test_project_helpers import activate

    ids = make_history(tmp_path / "book")
    context, _ = make_context(tmp_path)
    window = open_window(qtbot, context, tmp_path / "book")
    activate(qtbot, window)
    assert QApplication.focusWidget() is window.history_view  # ready for the arrow keys
    qtbot.keyClick(window.history_view, Qt.Key.Key_Down)
    wait_for(qtbot, lambda: window.header_title.text() == "Edit the notes")
    assert window.selected_version is not None
    assert window.selected_version.id == ids["second"]
    qtbot.keyClick(window.history_view, Qt.Key.Key_Return)
    assert QApplication.focusWidget() is window.contents_view
    wait_for(qtbot, lambda: window.diff_outcome is not None)
    window.focusNextChild()  # Tab from the files goes on to the restore button, then compare
    assert QApplication.focusWidget() is window.restore_files_button
    window.focusNextChild()
    assert QApplication.focusWidget() is window.compare_combo


def test_layout_is_remembered_between_windows(qtbot: QtBot, tmp_path: Path) -> None:
    make_history(tmp_path / "book")
    context, recorder = make_context(tmp_path)
    window = open_window(qtbot, context, tmp_path / "book")
    window.resize(780, 560)  # fits the offscreen screen, so it comes back unchanged
    qtbot.wait(50)  # the first layout settles
    window.main_split.setSizes([330, 420])
    wanted = window.main_split.sizes()
    window.close()
    assert recorder.errors == []

    again = open_window(qtbot, context, tmp_path / "book")
    qtbot.wait(50)
    assert again.size() == window.size()
    assert again.main_split.sizes() == wanted
