"""The "nothing changed" shortcut: it may only ever say clean when a full status would."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kamaros_app.engine import NothingToSaveError, Project
from kamaros_app.engine.layout import JOURNAL_FILE
from kamaros_app.engine.quickstatus import folder_matches_head

OLD = time.time() - 3600  # older than the stat cache's racy window


def _write(root: Path, rel: str, data: bytes, mtime: float = OLD) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


@pytest.fixture
def clean_project(project_dir: Path) -> Path:
    for i in range(20):
        _write(project_dir, f"dir{i % 3}/file{i}.txt", f"line {i}\n".encode() * 10)
    with Project.init(project_dir) as project:
        project.checkpoint("first")
    return project_dir


def test_proven_clean_after_a_checkpoint(clean_project: Path) -> None:
    assert folder_matches_head(clean_project)
    with Project.open(clean_project) as project:
        assert project.status().is_clean  # the full check agrees


def test_the_mark_comes_back_after_a_full_check_found_nothing(clean_project: Path) -> None:
    (clean_project / ".kamaros" / "cache" / "stat-cache.bin").unlink()
    assert not folder_matches_head(clean_project)
    with Project.open(clean_project) as project, pytest.raises(NothingToSaveError):
        project.checkpoint("again")
    assert folder_matches_head(clean_project)


@pytest.mark.parametrize(
    "change",
    [
        "edit_same_size_and_mtime_apart",
        "add",
        "delete",
        "chmod",
        "ignore_a_tracked_file",
        "symlink",
        "journal",
    ],
)
def test_any_change_defeats_the_shortcut(clean_project: Path, change: str) -> None:
    target = clean_project / "dir0" / "file0.txt"
    if change == "edit_same_size_and_mtime_apart":
        data = target.read_bytes()
        target.write_bytes(data.replace(b"line 0", b"line X"))
        os.utime(target, (OLD + 1, OLD + 1))
    elif change == "add":
        _write(clean_project, "dir9/new.txt", b"new\n")
    elif change == "delete":
        target.unlink()
    elif change == "chmod":
        target.chmod(0o755)
    elif change == "ignore_a_tracked_file":
        _write(clean_project, ".kamarosignore", b"dir0/\n")
    elif change == "symlink":
        (clean_project / "link").symlink_to(target)
    elif change == "journal":
        (clean_project / JOURNAL_FILE).write_text("{}")
    assert not folder_matches_head(clean_project)


def test_a_new_commit_by_someone_else_defeats_the_shortcut(clean_project: Path) -> None:
    other = clean_project / "dir1" / "file1.txt"
    _write(clean_project, "dir1/file1.txt", b"changed\n")
    with Project.open(clean_project) as project:
        project.checkpoint("second")
    assert folder_matches_head(clean_project)
    # Put the old bytes back on disk with the old stat: only the container changed since.
    cache = clean_project / ".kamaros" / "cache" / "stat-cache.bin"
    saved_cache = cache.read_bytes()
    with Project.open(clean_project) as project:
        project.tag("HEAD", "v1")
    cache.write_bytes(saved_cache)
    assert not folder_matches_head(clean_project)
    assert other.read_bytes() == b"changed\n"


def test_files_changed_just_now_are_never_trusted(project_dir: Path) -> None:
    now = time.time()
    _write(project_dir, "a.txt", b"fresh\n", mtime=now)
    with Project.init(project_dir) as project:
        project.checkpoint("first")
    assert not folder_matches_head(project_dir)  # racy: could change within the tick


def test_cli_says_nothing_changed_either_way(clean_project: Path) -> None:
    from tests.test_cli import kamaros

    fast = kamaros("checkpoint", "-m", "again", cwd=clean_project / "dir1")
    assert fast.returncode == 7 and "nothing changed" in fast.stderr
    (clean_project / ".kamaros" / "cache" / "stat-cache.bin").unlink()
    slow = kamaros("checkpoint", "-m", "again", cwd=clean_project)
    assert slow.returncode == 7 and slow.stderr == fast.stderr


def test_the_quick_path_loads_no_writing_code() -> None:
    """ "Nothing changed" must stay cheap to start: the quick path imports neither the I/O
    layer nor the file helpers (their imports cost ~6 ms of a 0.15 s budget)."""
    import subprocess
    import sys

    code = (
        "import sys, kamaros_app.cli, kamaros_app.engine.quickstatus;"
        "print(sorted(m for m in ('kamaros_app.engine.fsutil', 'kamaros_app.engine.diskio',"
        " 'queue', 'kamaros_app.engine.manifest') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_nothing_changed_command_loads_only_the_quick_path(clean_project: Path) -> None:
    """The whole command, parser included: argparse's default help formatter would import
    `shutil` (with `bz2` and `lzma`, ~5 ms) for every argument added."""
    import subprocess
    import sys

    code = (
        "import sys; from kamaros_app import cli;"
        f"code = cli.main(['-q', '-C', {str(clean_project)!r}, 'checkpoint', '-m', 'x']);"
        "print(code, sorted(m for m in ('shutil', 'kamaros_app.engine.fsutil',"
        " 'kamaros_app.engine.manifest', 'kamaros_app.engine.project') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "nothing changed" in out.stderr
    assert out.stdout.strip() == "7 []"
