"""File history (following renames), a read-only project file, Extract to Folder, export."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from kamaros_app.engine import Project
from tests.ui.test_project_helpers import (
    make_context,
    make_history,
    open_window,
    tree_paths,
    wait_for,
    wait_idle,
)


def _select(qtbot: QtBot, window, path: str) -> None:  # type: ignore[no-untyped-def]
    wait_for(qtbot, lambda: path in tree_paths(window))
    window.contents_view.selectionModel().setCurrentIndex(
        window.contents_model.index_of(path),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )


def test_file_history_follows_a_rename(qtbot: QtBot, tmp_path: Path) -> None:
    folder = tmp_path / "book"
    ids = make_history(folder)
    (folder / "chapters" / "opening.md").write_text("# Opening\n\nIt was a bright morning.\n")
    with Project.open(folder) as project:
        ids["fourth"] = project.checkpoint("Rewrite the opening").id
    context, recorder = make_context(tmp_path)
    window = open_window(qtbot, context, folder)
    _select(qtbot, window, "chapters/opening.md")
    assert window.act_file_history.isEnabled()

    window.act_file_history.trigger()
    dialog = window.file_history_dialog
    assert dialog is not None
    qtbot.addWidget(dialog)
    wait_for(qtbot, lambda: dialog.entries)
    entries = [(e.version.id, e.path, e.change) for e in dialog.entries]
    assert entries == [
        (ids["fourth"], "chapters/opening.md", "modified"),
        (ids["third"], "chapters/opening.md", "renamed"),
        (ids["first"], "chapters/one.md", "added"),
    ]
    assert dialog.list.count() == 3
    assert "renamed from one.md" in dialog.list.item(1).text()

    # Selecting an entry shows what that checkpoint changed in the file.
    shown = []
    dialog.diff.show_prepared = shown.append  # type: ignore[method-assign]
    dialog.list.setCurrentRow(2)
    wait_for(qtbot, lambda: shown)
    assert shown[-1].old_size is None  # added in the first checkpoint
    assert shown[-1].path == "chapters/one.md"
    dialog.list.setCurrentRow(0)
    wait_for(qtbot, lambda: len(shown) == 2)
    assert [r.new_text for r in shown[-1].text.rows if r.new_text is not None] == [
        "# Opening",
        "",
        "It was a bright morning.",
    ]
    dialog.close()
    assert recorder.errors == []


def test_read_only_project_file_and_extract_to_folder(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "book"
    ids = make_history(folder)
    jcf = tmp_path / "book.jcf"
    with Project.open(folder, read_only=True) as project:
        project.export_container(jcf)
    context, recorder = make_context(tmp_path)
    window = open_window(qtbot, context, jcf, standalone=True)

    assert window.history_model.total == 3
    assert window.read_only
    assert not window.banner.isHidden()
    assert "Extract to Folder" in window.banner_label.text()
    assert "(read-only)" in window.windowTitle()
    for action in (window.act_save, window.act_restore, window.act_cleanup):
        assert not action.isEnabled()
        assert "Extract to Folder" in action.toolTip()
    assert window.findChild(type(window.compare_combo)) is not None
    assert window.compare_combo.findText("Current folder") == -1  # no folder to compare with
    assert window.changes.title.text() == "A project file"
    # Browsing works.
    window.select_version(ids["second"])
    _select(qtbot, window, "notes.txt")
    wait_for(qtbot, lambda: window.diff_outcome is not None)
    assert window.diff_outcome.kind == "text"

    parent = tmp_path / "extracted"
    parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(parent))
    window.act_extract.trigger()
    wait_for(qtbot, lambda: recorder.opened)
    assert recorder.opened == [parent / "book"]
    assert (parent / "book" / "notes.txt").read_text() == "first line\nsecond line, edited\n"
    with Project.open(parent / "book", read_only=True) as project:
        assert [v.id for v in project.log()] == [ids["third"], ids["second"], ids["first"]]
    assert recorder.errors == []


def test_export_version_and_project_file(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "book"
    ids = make_history(folder)
    context, recorder = make_context(tmp_path)
    window = open_window(qtbot, context, folder)
    wait_idle(qtbot, window)
    window.select_version(ids["first"])
    zip_path = tmp_path / "out" / "first"
    zip_path.parent.mkdir()
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(zip_path), "Zip file (*.zip)")
    )
    window.act_export_version.trigger()
    wait_for(qtbot, lambda: zip_path.with_suffix(".zip").exists() and not window.runner.busy)

    import zipfile

    with zipfile.ZipFile(zip_path.with_suffix(".zip")) as archive:
        assert sorted(archive.namelist()) == [
            "chapters/one.md",
            "cover.png",
            "notes.txt",
            "old-draft.txt",
        ]
        assert archive.read("notes.txt") == b"first line\nsecond line\n"

    jcf = tmp_path / "out" / "whole"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(jcf), ""))
    window.act_export_project.trigger()
    wait_for(qtbot, lambda: jcf.with_suffix(".jcf").exists() and not window.runner.busy)
    from kamaros_app.engine import History

    with History.open_file(jcf.with_suffix(".jcf")) as history:
        assert len(history.log()) == 3
    assert recorder.errors == []
