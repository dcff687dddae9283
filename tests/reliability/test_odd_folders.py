"""Odd folders: names, sizes and shapes a person's project really has. Every case is a
round trip: checkpoint, change, restore the old version, and compare byte for byte
(names included, to the last code point and permission bit)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest

from kamaros_app.engine import InvalidArgumentError, Project
from tests.reliability.workload import REPO, Tally, child_env, snapshot, write


def modes(root: Path) -> dict[str, int]:
    return {
        p.relative_to(root).as_posix(): stat.S_IMODE(p.stat().st_mode) & 0o111
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink() and ".kamaros" not in p.parts
    }


def round_trip(root: Path, build, change) -> None:
    """Save what `build` made, let `change` alter it, save, restore the first version:
    the folder must be exactly as `build` left it (bytes, names and executable bits)."""
    build(root)
    want, want_modes = snapshot(root), modes(root)
    with Project.init(root) as project:
        first = project.checkpoint("as built")
        assert project.status().is_clean, project.status().to_json()
        change(root)
        project.checkpoint("changed")
        project.restore(first.id)
        assert snapshot(root) == want
        assert modes(root) == want_modes
        assert project.verify().ok
        assert project.status().is_clean


NFC = unicodedata.normalize("NFC", "café")
NFD = unicodedata.normalize("NFD", "café")


def unicode_names(root: Path) -> None:
    write(root, f"{NFC}.txt", "composed\n")
    write(root, f"{NFD}.txt", "decomposed\n")  # a different name on Linux
    write(root, "日本語/ファイル.md", "テキスト\n")
    write(root, "emoji 🎉/ok.txt", "party\n")
    write(root, "spaces and 'quotes' & ; $x.txt", "shell-hostile\n")


def long_paths(root: Path) -> None:
    deep = "/".join(f"folder-{n:03d}-" + "d" * 40 for n in range(40))  # ~2,000 bytes
    write(root, f"{deep}/end.txt", "deep\n")
    write(root, "n" * 255, "longest name\n")
    write(root, "é" * 126 + ".t", "254 bytes of UTF-8\n")


def shapes(root: Path) -> None:
    write(root, "empty.txt", b"")
    write(root, "tool.sh", "#!/bin/sh\necho hi\n").chmod(0o755)
    write(root, "data.bin", os.urandom(2000))
    write(root, "crlf.txt", b"a\r\nb\rc\n\x00binary-ish")


def scramble(root: Path) -> None:
    for path in list(root.rglob("*")):
        if path.is_file() and ".kamaros" not in path.parts:
            if path.stat().st_size % 2:
                path.unlink()
            else:
                path.write_bytes(b"changed")
                path.chmod(0o644)
    write(root, "new file.txt", "new\n")


@pytest.mark.parametrize(
    "case", [("unicode NFC/NFD names", unicode_names), ("very long paths", long_paths)]
)
def test_names(tmp_path: Path, case, campaign) -> None:
    name, build = case
    tally = Tally(campaign, "odd folders: names and shapes")
    with tally.run(name):
        round_trip(tmp_path / "p", build, scramble)
    tally.finish()


def test_zero_length_executable_and_binary(tmp_path: Path, campaign) -> None:
    tally = Tally(campaign, "odd folders: names and shapes")
    with tally.run("zero-length, executable, binary"):
        round_trip(tmp_path / "p", shapes, scramble)
    tally.finish()


def test_case_only_rename(tmp_path: Path, campaign) -> None:
    tally = Tally(campaign, "odd folders: names and shapes")
    root = tmp_path / "p"
    with tally.run("case-only rename"):
        write(root, "Readme.md", "hello\n")
        with Project.init(root) as project:
            first = project.checkpoint("one")
            (root / "Readme.md").rename(root / "README.md")
            assert project.status().renamed == [("Readme.md", "README.md")]
            project.checkpoint("renamed")
            project.restore(first.id)
            assert sorted(os.listdir(root)) == [".kamaros", "Readme.md"]
            assert [v.renamed for v in project.log()][1] == 1
    tally.finish()


def test_empty_folders_are_not_versioned_and_not_removed(tmp_path: Path, campaign) -> None:
    """Documented: empty folders are not part of a checkpoint; a restore leaves a person's
    empty folder alone, and removes a folder it emptied itself."""
    tally = Tally(campaign, "odd folders: names and shapes")
    root = tmp_path / "p"
    with tally.run("empty folders"):
        write(root, "kept/a.txt", "a")
        (root / "mine").mkdir()
        with Project.init(root) as project:
            first = project.checkpoint("one")
            assert project.status().is_clean
            write(root, "later/b.txt", "b")
            project.checkpoint("two")
            project.restore(first.id)
            assert (root / "mine").is_dir() and not (root / "later").exists()
    tally.finish()


def test_symlinks_never_lead_outside(tmp_path: Path, campaign) -> None:
    """Documented: links are skipped and reported, never followed, never written through.
    A restore that would have to write through a link (a folder or a file replaced by a
    link to somewhere else) refuses before touching anything."""
    tally = Tally(campaign, "odd folders: symlinks in the project")
    root, outside = tmp_path / "p", tmp_path / "outside"
    write(outside, "secret.txt", "outside\n")
    write(root, "sub/file.txt", "inside\n")
    write(root, "a.txt", "a\n")
    with Project.init(root) as project:
        first = project.checkpoint("one")
        (root / "link-to-dir").symlink_to(outside)
        (root / "link-to-file").symlink_to(outside / "secret.txt")
        (root / "dangling").symlink_to(tmp_path / "nowhere")
        with tally.run("links are skipped and reported"):
            status = project.status()
            assert status.is_clean
            assert {"link-to-dir", "link-to-file", "dangling"} <= set(status.skipped)
        write(root, "sub/file.txt", "changed\n")
        write(root, "a.txt", "changed\n")
        project.checkpoint("two")
        with tally.run("a folder replaced by a link"):
            for child in (root / "sub").iterdir():
                child.unlink()
            (root / "sub").rmdir()
            (root / "sub").symlink_to(outside)
            with pytest.raises(InvalidArgumentError, match="links"):
                project.restore(first.id)
            assert (outside / "secret.txt").read_text() == "outside\n"
            assert sorted(os.listdir(outside)) == ["secret.txt"]
        with tally.run("a file replaced by a link"):
            (root / "sub").unlink()
            (root / "a.txt").unlink()
            (root / "a.txt").symlink_to(outside / "secret.txt")
            with pytest.raises(InvalidArgumentError):
                project.restore(first.id)
            assert (outside / "secret.txt").read_text() == "outside\n"
    tally.finish()


SPARSE_CHILD = """
import os, sys, time
from pathlib import Path
from kamaros_app.engine import Project
root, size = Path(sys.argv[1]), int(sys.argv[2])
with open(root / "disk.img", "wb") as f:
    f.truncate(size)
    f.seek(size // 2)
    f.write(b"a few real bytes in the middle")
began = time.perf_counter()
with Project.init(root) as project:
    project.checkpoint("sparse")
    (root / "disk.img").unlink()
    project.restore("HEAD")
print(time.perf_counter() - began)
for line in open("/proc/self/status"):
    if line.startswith("VmHWM"):
        print(int(line.split()[1]) // 1024)
"""


def test_huge_sparse_file_in_bounded_memory(tmp_path: Path, campaign, long_mode: bool) -> None:
    """A sparse file (5 GB in --long, 1 GB in CI) saved and restored with the peak memory
    of the process (VmHWM) under 128 MB: contents are streamed, never held whole."""
    size = (5 if long_mode else 1) * 1000**3
    tally = Tally(campaign, f"odd folders: {size // 1000**3} GB sparse file, peak memory")
    root = tmp_path / "p"
    root.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", SPARSE_CHILD, str(root), str(size)],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=REPO,
        timeout=900,
    )
    with tally.run(f"{size} bytes"):
        assert done.returncode == 0, done.stderr[-3000:]
        seconds, peak_mb = done.stdout.split()
        tally.note = f"{float(seconds):.1f} s, peak {peak_mb} MB"
        assert int(peak_mb) <= 128, f"peak memory {peak_mb} MB"
        restored = root / "disk.img"
        assert restored.stat().st_size == size
        with open(restored, "rb") as handle:
            handle.seek(size // 2)
            assert handle.read(30) == b"a few real bytes in the middle"
    tally.finish()


def test_many_files(tmp_path: Path, campaign, long_mode: bool) -> None:
    """100,000 files in --long, 20,000 in CI: checkpoint, one edit, restore, status."""
    count = 100_000 if long_mode else 20_000
    tally = Tally(campaign, f"odd folders: {count:,} files")
    root = tmp_path / "p"
    for n in range(count):
        write(root, f"d{n % 100:02d}/f{n}.txt", f"file {n}\n")
    with tally.run(f"{count} files"), Project.init(root) as project:
        began = time.perf_counter()
        first = project.checkpoint("all")
        saved = time.perf_counter() - began
        write(root, "d00/f0.txt", "edited\n")
        (root / "d01/f1.txt").unlink()
        project.checkpoint("edit")
        began = time.perf_counter()
        project.restore(first.id)
        restored = time.perf_counter() - began
        assert (root / "d00/f0.txt").read_text() == "file 0\n"
        assert (root / "d01/f1.txt").read_text() == "file 1\n"
        assert len(project.files("HEAD")) == count
        assert project.status().is_clean
        tally.note = f"first checkpoint {saved:.1f} s, restore of 2 files {restored:.1f} s"
    tally.finish()
