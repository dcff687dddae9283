"""Compatibility: golden containers of every released format still open, and unzip works."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kamaros_app.engine import History, Project, import_container

from .make_golden import GOLDEN, set_folder, versions


def test_golden_format_2_0_0_container_opens_and_restores(tmp_path: Path) -> None:
    with History.open_file(GOLDEN) as history:
        assert history.manifest.formatVersion == "2.0.0"
        assert [v.message for v in history.log()] == ["third", "second", "first"]
        first = history.resolve("first")
        assert history.read_file(first, "notes/é ü.md") == versions()[0][1]["notes/é ü.md"]
        assert {d.change for d in history.diff_versions(None, first)} == {"added"}
    with import_container(GOLDEN, tmp_path / "work") as project:
        assert project.verify().ok
        for message, files in versions():
            version_id = project.resolve(message)
            assert {f.path for f in project.files(version_id)} == set(files)
            for path, data in files.items():
                assert project.read_file(version_id, path) == data
        assert [v.message for v in project.log("notes/renamed.md")] == ["third", "first"]


@pytest.mark.skipif(shutil.which("unzip") is None, reason="Info-ZIP unzip is not installed")
def test_info_zip_unzip_extracts_exactly_the_newest_checkpoint(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    with Project.init(root) as project:
        for message, files in versions():
            set_folder(root, files)
            if (root / "run.sh").exists():
                (root / "run.sh").chmod(0o755)
            project.checkpoint(message)
        container = project.container_path
    out = tmp_path / "unzipped"
    test = subprocess.run(["unzip", "-t", str(container)], capture_output=True, text=True)
    assert test.returncode == 0 and "No errors detected" in test.stdout, test.stdout
    result = subprocess.run(
        ["unzip", "-q", str(container), "content/*", "-d", str(out)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    extracted = {
        p.relative_to(out / "content").as_posix(): p.read_bytes()
        for p in (out / "content").rglob("*")
        if p.is_file()
    }
    assert extracted == versions()[-1][1]
    assert (out / "content" / "run.sh").stat().st_mode & 0o111
    manifest = subprocess.run(["unzip", "-p", str(container), "manifest.json"], capture_output=True)
    assert manifest.returncode == 0 and b'"formatVersion":"2.0.0"' in manifest.stdout
