"""`python -m bench.breakdown`: every byte of a container is accounted for, live or dead."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from bench.breakdown import breakdown, main
from kamaros_app.engine import Project


def _project(root: Path) -> Project:
    (root / "docs").mkdir(parents=True)
    for n in range(5):
        (root / "docs" / f"note{n}.md").write_text(f"note {n}\n" + "some words again\n" * 200)
    (root / "blob.bin").write_bytes(os.urandom(300_000))
    project = Project.init(root)
    project.checkpoint("first")
    (root / "docs" / "note1.md").write_text("note 1, edited\n" + "some words again\n" * 200)
    (root / "blob.bin").write_bytes(os.urandom(300_000))  # replaced: the old bytes go dead
    project.checkpoint("edit")
    return project


def test_every_byte_is_counted_once(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    project.close()
    result = breakdown(tmp_path / "p")
    jcf = tmp_path / "p" / ".kamaros" / "project.jcf"
    assert result.unparsed == 0
    assert sum(row.total for row in result.rows.values()) == jcf.stat().st_size
    assert result.container == jcf.stat().st_size
    with zipfile.ZipFile(jcf) as archive:
        infos = archive.infolist()
    live = [r for n, r in result.rows.items() if n.startswith("live ") and "directory" not in n]
    assert sum(r.entries for r in live) == len(infos)
    stored = [i for i in infos if i.filename.startswith("content/") and i.compress_type == 0]
    assert result.rows["live content, stored"].payload == sum(i.compress_size for i in stored)
    assert result.rows["dead content, stored"].entries == 1  # the replaced binary
    assert result.rows["dead content, stored"].payload == 300_000
    assert result.rows["live blobs"].entries == 1  # its old version
    assert result.rows["live deltas"].entries == 1  # the edited note's old text
    assert result.rows["dead central directory"].entries == 2  # init and first
    assert result.rows["dead manifest.json"].entries == 2
    assert result.dead == sum(r.total for n, r in result.rows.items() if n.startswith("dead"))
    assert result.outside > 0  # the stat cache


def test_command_prints_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _project(tmp_path / "p").close()
    assert main([str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    assert "live content, deflated" in out and "of which dead" in out
