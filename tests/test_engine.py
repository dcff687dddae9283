"""End-to-end engine behaviour on real folders and real containers."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from kamaros_app.engine import (
    InvalidArgumentError,
    LockedError,
    NotAProjectError,
    NothingToSaveError,
    Project,
    ProjectExistsError,
    ReadOnlyError,
    VersionNotFoundError,
    import_container,
)
from kamaros_app.engine.layout import CONTAINER_FILE


def write(root: Path, rel: str, data: bytes | str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def folder_files(root: Path) -> dict[str, bytes]:
    out = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(".kamaros") or not path.is_file():
            continue
        out[rel] = path.read_bytes()
    return out


@pytest.fixture
def project(tmp_path: Path):
    root = tmp_path / "proj"
    root.mkdir()
    with Project.init(root) as p:
        yield p


def test_init_twice_and_not_a_project(tmp_path: Path) -> None:
    Project.init(tmp_path / "a").close()
    with pytest.raises(ProjectExistsError):
        Project.init(tmp_path / "a")
    with pytest.raises(NotAProjectError):
        Project.open(tmp_path / "elsewhere")


def test_checkpoint_status_log_show(project: Project) -> None:
    root = project.root
    write(root, "story.md", "Once upon a time\r\nthere was a folder.\n")
    write(root, "img/pic.bin", os.urandom(5000))
    status = project.status()
    assert status.added == ["img/pic.bin", "story.md"]
    v1 = project.checkpoint("First draft", tag="draft")
    assert project.status().is_clean
    with pytest.raises(NothingToSaveError):
        project.checkpoint("again")
    write(root, "story.md", "Once upon a time\r\nthere was a folder with history.\n")
    (root / "img/pic.bin").rename(root / "img/picture.bin")
    status = project.status()
    assert status.modified == ["story.md"]
    assert status.renamed == [("img/pic.bin", "img/picture.bin")]
    v2 = project.checkpoint("Second")
    log = project.log()
    assert [v.id for v in log] == [v2.id, v1.id]
    assert log[1].tags == ("draft",)
    assert (log[0].modified, log[0].renamed) == (1, 1)
    assert [f.path for f in project.files("draft")] == ["img/pic.bin", "story.md"]
    assert project.resolve("HEAD~1") == v1.id
    assert project.resolve(v2.id[:6]) == v2.id
    with pytest.raises(VersionNotFoundError):
        project.resolve("HEAD~5")
    # history of one file follows the rename
    assert [v.id for v in project.log("img/picture.bin")] == [v2.id, v1.id]


def test_restore_any_direction_with_safety_checkpoint(project: Project) -> None:
    root = project.root
    write(root, "a.txt", "one\n")
    write(root, "b.txt", "bee\n")
    v1 = project.checkpoint("v1")
    write(root, "a.txt", "two\n")
    (root / "b.txt").unlink()
    write(root, "c/d.txt", "dee\n")
    v2 = project.checkpoint("v2")
    write(root, "Thumbs.db", "x")  # ignored by default: never touched
    write(root, "a.txt", "unsaved edit\n")
    result = project.restore(v1.id)
    assert result.safety_id is not None
    assert folder_files(root) == {"a.txt": b"one\n", "b.txt": b"bee\n", "Thumbs.db": b"x"}
    assert not (root / "c").exists()
    # undo: back to the state before the restore, unsaved edit included
    project.restore(result.previous_id)
    assert (root / "a.txt").read_bytes() == b"unsaved edit\n"
    assert (root / "c/d.txt").read_bytes() == b"dee\n"
    # forward again, to v2
    project.restore(v2.id)
    assert (root / "a.txt").read_bytes() == b"two\n"
    log = project.log()
    assert [v.automatic for v in log] == [False, False, False, True, False, False]
    assert log[0].message == "Restored to “v2”"
    assert log[3].id == result.safety_id == result.previous_id
    assert project.status().is_clean


def test_partial_restore(project: Project) -> None:
    root = project.root
    write(root, "keep.txt", "k1")
    write(root, "dir/x.txt", "x1")
    v1 = project.checkpoint("v1")
    write(root, "keep.txt", "k2")
    write(root, "dir/x.txt", "x2")
    write(root, "dir/new.txt", "n")
    project.checkpoint("v2")
    project.restore(v1.id, ["dir"])
    assert folder_files(root) == {"keep.txt": b"k2", "dir/x.txt": b"x1"}


def test_restore_never_deletes_untracked_files(project: Project) -> None:
    root = project.root
    write(root, "a.txt", "a")
    v1 = project.checkpoint("v1")
    write(root, "later.txt", "made later, never saved")
    result = project.restore(v1.id)
    # later.txt was saved by the safety checkpoint, so it may go; undo brings it back
    assert result.safety_id is not None and not (root / "later.txt").exists()
    project.restore(result.previous_id)
    assert (root / "later.txt").read_bytes() == b"made later, never saved"


def test_bytes_are_never_normalised(project: Project) -> None:
    root = project.root
    samples = {
        "crlf.txt": b"a\r\nb\r\n",
        "cr.txt": b"a\rb\r",
        "mixed.txt": b"a\nb\r\nc\r",
        "bom.txt": b"\xef\xbb\xbfhello\n",
        "latin1.txt": "caf\xe9\n".encode("latin-1"),
        "utf16.txt": "hi\n".encode("utf-16"),
        "empty.txt": b"",
    }
    for name, data in samples.items():
        write(root, name, data)
    v1 = project.checkpoint("odd encodings")
    for name, data in samples.items():
        write(root, name, data + data[::-1] + b"\n")
    project.checkpoint("changed")
    project.restore(v1.id)
    assert folder_files(root) == samples


def test_text_history_uses_bounded_patch_chains(project: Project) -> None:
    root = project.root
    lines = [f"line {i} of a long text file\n" for i in range(2000)]
    versions = []
    for round_ in range(40):
        lines[round_ * 7 % 2000] = f"edited in round {round_}\n"
        write(root, "long.txt", "".join(lines))
        versions.append((project.checkpoint(f"round {round_}").id, "".join(lines)))
    names = project.store.reader.entries
    deltas = [n for n in names if n.startswith(".store/deltas/")]
    blobs = [n for n in names if n.startswith(".store/blobs/")]
    assert len(deltas) >= 30 and len(blobs) >= 1
    for version_id, text in versions:
        assert project.read_file(version_id, "long.txt") == text.encode()
    assert project.verify().ok


def test_tags(project: Project) -> None:
    write(project.root, "a", "1")
    v1 = project.checkpoint("one")
    project.tag(v1.id, "release")
    assert project.resolve("release") == v1.id
    with pytest.raises(InvalidArgumentError):
        project.tag(v1.id, "HEAD")
    write(project.root, "a", "2")
    v2 = project.checkpoint("two")
    with pytest.raises(InvalidArgumentError):
        project.tag(v2.id, "release")
    project.tag(v2.id, "release", force=True)
    assert project.resolve("release") == v2.id
    project.untag("release")
    with pytest.raises(VersionNotFoundError):
        project.resolve("release")


def test_second_writer_is_locked_out(project: Project) -> None:
    with pytest.raises(LockedError):
        Project.open(project.root)
    with Project.open(project.root, read_only=True) as reader, pytest.raises(ReadOnlyError):
        reader.checkpoint("nope")


def test_unzip_sees_exactly_the_newest_files(project: Project) -> None:
    root = project.root
    write(root, "a.txt", "first")
    write(root, "bin/b.dat", os.urandom(3000))
    project.checkpoint("one")
    write(root, "a.txt", "second")
    (root / "bin/b.dat").unlink()
    write(root, "c.txt", "new")
    project.checkpoint("two")
    with zipfile.ZipFile(root / CONTAINER_FILE) as archive:
        assert archive.testzip() is None
        content = {
            n[len("content/") :]: archive.read(n)
            for n in archive.namelist()
            if n.startswith("content/")
        }
        assert archive.namelist()[0] == "mimetype"
    assert content == folder_files(root)


def test_gc_keeps_every_version(project: Project) -> None:
    root = project.root
    history = []
    for i in range(6):
        write(root, "t.txt", f"text {i}\n" * 50)
        write(root, "b.bin", os.urandom(2000) if i % 2 else b"\0" * 2000)
        history.append((project.checkpoint(f"v{i}").id, folder_files(root)))
    before = (root / CONTAINER_FILE).stat().st_size
    dry = project.gc(dry_run=True)
    assert (root / CONTAINER_FILE).stat().st_size == before
    result = project.gc()
    assert result.size_after < before and dry.dry_run
    assert project.verify().ok
    for version_id, files in history:
        for path, data in files.items():
            assert project.read_file(version_id, path) == data


def test_export_and_import_round_trip(project: Project, tmp_path: Path) -> None:
    root = project.root
    write(root, "a.txt", "one")
    v1 = project.checkpoint("one")
    write(root, "a.txt", "two")
    write(root, "sub/b.txt", "bee")
    project.checkpoint("two", tag="final")
    out = tmp_path / "standalone.jcf"
    project.export_container(out)
    with import_container(out, tmp_path / "copy") as copy:
        assert folder_files(copy.root) == folder_files(root)
        assert [v.id for v in copy.log()] == [v.id for v in project.log()]
        assert copy.read_file(v1.id, "a.txt") == b"one"
        assert copy.resolve("final") == project.resolve("final")
        assert copy.status().is_clean
    project.export_version(v1.id, tmp_path / "v1-files")
    assert folder_files(tmp_path / "v1-files") == {"a.txt": b"one"}
    project.export_version("HEAD", tmp_path / "head.zip")
    with zipfile.ZipFile(tmp_path / "head.zip") as archive:
        assert sorted(archive.namelist()) == ["a.txt", "sub/b.txt"]


def test_verify_names_damage_and_other_versions_still_restore(project: Project) -> None:
    root = project.root
    write(root, "a.bin", b"A" * 1000 + os.urandom(1000))
    v1 = project.checkpoint("one")
    write(root, "a.bin", os.urandom(2000))
    write(root, "b.txt", "bee\n")
    v2 = project.checkpoint("two")
    container = root / CONTAINER_FILE
    blob = next(n for n in project.store.reader.entries if n.startswith(".store/blobs/"))
    entry = project.store.reader.entries[blob]
    project.close()
    with open(container, "r+b") as handle:
        handle.seek(entry.data_offset + entry.compressed_size // 2)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0x40]))
    with Project.open(root) as reopened:
        report = reopened.verify()
        assert not report.ok
        assert report.damaged_versions == [v1.id]
        assert reopened.read_file(v2.id, "b.txt") == b"bee\n"
        with pytest.raises(Exception, match=r"blobs|damaged|match|checksum"):
            reopened.read_file(v1.id, "a.bin")


def test_executable_bit_round_trips(project: Project) -> None:
    root = project.root
    write(root, "run.sh", "#!/bin/sh\necho hi\n")
    (root / "run.sh").chmod(0o755)
    v1 = project.checkpoint("exec")
    (root / "run.sh").chmod(0o644)
    assert project.status().modified == ["run.sh"]
    project.checkpoint("not exec")
    project.restore(v1.id)
    assert os.stat(root / "run.sh").st_mode & 0o111


def test_symlinks_are_skipped_and_reported(project: Project, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    (project.root / "link").symlink_to(outside)
    write(project.root, "real.txt", "r")
    status = project.status()
    assert status.added == ["real.txt"] and "link" in status.skipped


def test_torn_tail_is_rolled_back_and_damaged_last_commit_is_kept_aside(
    project: Project,
) -> None:
    root = project.root
    write(root, "a.txt", "one")
    v1 = project.checkpoint("one")
    write(root, "a.txt", "two")
    project.checkpoint("two")
    container = root / CONTAINER_FILE
    good = container.read_bytes()
    project.close()
    # 1. a crash mid-save: junk after the last commit -> rolled back silently
    container.write_bytes(good + os.urandom(5000))
    with Project.open(root) as reopened:
        assert len(reopened.manifest.versions) == 2
        assert any("rolled back" in n for n in reopened.notices)
    assert container.read_bytes() == good
    # 2. bit rot in the newest central directory: opened at the commit before, bytes kept
    damaged = bytearray(good)
    cd = damaged.rfind(b"PK\x01\x02")
    damaged[cd + 50] ^= 0xFF
    container.write_bytes(bytes(damaged))
    with Project.open(root) as reopened:
        assert [v.id for v in reopened.manifest.versions] == [v1.id]
        assert any("damaged" in n for n in reopened.notices)
    kept = list((root / ".kamaros").glob("damaged-commit-*.bin"))
    assert len(kept) == 1 and kept[0].read_bytes() == bytes(damaged)[-kept[0].stat().st_size :]


def test_cancel_token_leaves_the_project_as_it_was(project: Project) -> None:
    from kamaros_app.engine import CancelledError, CancelToken

    root = project.root
    write(root, "a.txt", "a")
    project.checkpoint("one")
    for n in range(20):
        write(root, f"big{n}.bin", os.urandom(1_000_000))
    container = root / CONTAINER_FILE
    before = container.read_bytes()
    token = CancelToken()
    seen = []

    def on_progress(progress) -> None:
        seen.append(progress)
        if len(seen) == 5:
            token.cancel()

    with pytest.raises(CancelledError):
        project.checkpoint("two", progress=on_progress, cancel=token)
    assert container.read_bytes() == before
    assert len(project.log()) == 1
    assert project.verify().ok
    assert len(project.status().added) == 20


def test_kamarosignore_and_defaults(project: Project) -> None:
    root = project.root
    write(root, ".kamarosignore", "renders/\n*.log\n!keep.log\n")
    write(root, "renders/frame1.png", b"\x89PNG")
    write(root, "debug.log", "noise")
    write(root, "keep.log", "wanted")
    write(root, ".DS_Store", b"\0")
    write(root, "~$report.docx", b"lock")
    write(root, "chapter.md", "text")
    assert project.status().added == [".kamarosignore", "chapter.md", "keep.log"]


def _mount_tmpfs(where: Path, size: str) -> bool:
    import subprocess

    where.mkdir()
    if os.geteuid() != 0:
        return False
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
    )
    return result.returncode == 0


def test_disk_full_fails_cleanly_and_keeps_everything(tmp_path: Path) -> None:
    import subprocess

    from kamaros_app.engine import DiskFullError

    mount = tmp_path / "small"
    if not _mount_tmpfs(mount, "3m"):
        pytest.skip("needs root and tmpfs to make a really full disk")
    try:
        root = mount / "proj"
        root.mkdir()
        with Project.init(root) as project:
            write(root, "a.txt", "first")
            v1 = project.checkpoint("one")
            container = root / CONTAINER_FILE
            before = container.read_bytes()
            write(root, "huge.bin", os.urandom(1_200_000))  # the folder fits, the save not
            with pytest.raises(DiskFullError):
                write(root, "huge2.bin", os.urandom(1_200_000))
                project.checkpoint("too big")
            assert container.read_bytes() == before
            assert [v.id for v in project.log()] == [v1.id]
            assert project.verify().ok
            leftovers = [p.name for p in (root / ".kamaros").iterdir() if "tmp" in p.name]
            assert leftovers == []
            (root / "huge2.bin").unlink(missing_ok=True)
            (root / "huge.bin").unlink()
            write(root, "a.txt", "second")
            project.checkpoint("fits again")
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_newer_format_version_opens_read_only(project: Project) -> None:
    import json

    from kamaros_app.engine.zipcontainer import DEFLATED, ContainerReader, ContainerWriter

    write(project.root, "a.txt", "a")
    project.checkpoint("one")
    root = project.root
    project.close()
    with ContainerReader.open(root / CONTAINER_FILE) as reader:
        manifest = json.loads(reader.read_entry("manifest.json", 1 << 20))
        manifest["formatVersion"] = "2.7.0"
        manifest["someFutureField"] = {"x": 1}
        writer = ContainerWriter.append_to(reader)
        writer.add_bytes("manifest.json", json.dumps(manifest).encode(), method=DEFLATED)
        writer.commit()
        writer.close()
    with Project.open(root) as reopened:
        assert reopened.read_only
        assert any("newer Kamaros" in n and "2.7.0" in n for n in reopened.notices)
        assert reopened.read_file("HEAD", "a.txt") == b"a"
        with pytest.raises(ReadOnlyError):
            reopened.checkpoint("must not write")
    # and a second writer is not locked out by the read-only window
    with Project.open(root):
        pass


def test_verify_reports_a_damaged_newest_save(project: Project) -> None:
    root = project.root
    write(root, "a.txt", "one")
    project.checkpoint("one")
    write(root, "a.txt", "two")
    project.checkpoint("two")
    project.close()
    container = root / CONTAINER_FILE
    data = bytearray(container.read_bytes())
    data[data.rfind(b"PK\x01\x02") + 50] ^= 0xFF
    container.write_bytes(bytes(data))
    with Project.open(root, read_only=True) as reader:
        assert any("damaged" in n for n in reader.notices)
        report = reader.verify()
        assert not report.ok and "damaged save" in report.problems[0]


def test_diff_keeps_lone_cr_inside_lines(project: Project) -> None:
    write(project.root, "cr.txt", b"a\rb\nc\n")
    project.checkpoint("one")
    write(project.root, "cr.txt", b"a\rb\nC\n")
    [item] = project.diff("HEAD", None)
    text = project.unified_diff(item, "HEAD", None)
    assert "-a\rb\n" not in text and "-c\n+C\n" in text
    assert "No newline" not in text


def test_tag_names_that_look_like_ids_are_refused(project: Project) -> None:
    write(project.root, "a", "1")
    project.checkpoint("one")
    with pytest.raises(InvalidArgumentError, match="looks like a checkpoint id"):
        project.tag("HEAD", "beef")
    project.tag("HEAD", "beef-2")


def test_restore_file_and_folder_swap_places(project: Project) -> None:
    root = project.root
    write(root, "thing", "a file")
    v1 = project.checkpoint("file")
    (root / "thing").unlink()
    write(root, "thing/inner/deep.txt", "now a folder")
    v2 = project.checkpoint("folder")
    result = project.restore(v1.id)
    assert (root / "thing").read_bytes() == b"a file"
    project.restore(v2.id)
    assert (root / "thing/inner/deep.txt").read_bytes() == b"now a folder"
    project.restore(result.previous_id)
    assert (root / "thing/inner/deep.txt").is_file()


def test_dry_run_matches_the_real_restore(project: Project) -> None:
    root = project.root
    write(root, "a.txt", "a")
    v1 = project.checkpoint("one")
    write(root, "b.txt", "b")
    project.checkpoint("two")
    write(root, "unsaved.txt", "u")
    dry = project.restore(v1.id, dry_run=True)
    assert dry.previous_id is None  # the undo point would be the safety checkpoint
    real = project.restore(v1.id)
    assert (dry.plan.remove, [s.path for s in dry.plan.write]) == (
        real.plan.remove,
        [s.path for s in real.plan.write],
    )
    assert real.plan.remove == ["b.txt", "unsaved.txt"]


def test_automatic_compaction_keeps_the_container_near_its_live_size(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kamaros_app.engine.project as project_module

    monkeypatch.setattr(project_module, "AUTO_GC_MIN_DEAD_BYTES", 64 * 1024)
    root = project.root
    for i in range(50):
        write(root, f"f{i}.txt", f"file {i}\n" * 40)
    project.checkpoint("base")
    history = []
    for n in range(150):
        write(root, f"f{n % 50}.txt", f"edit {n}\n" * 40)
        history.append((project.checkpoint(f"c{n}").id, n))
    size = project.container_path.stat().st_size
    assert project.dead_bytes() <= max(64 * 1024, size // 2)
    assert project.verify().ok
    for version_id, n in history[::25]:
        assert project.read_file(version_id, f"f{n % 50}.txt") == f"edit {n}\n".encode() * 40


def test_new_files_get_distinct_random_version_4_inode_ids() -> None:
    import uuid

    from kamaros_app.engine.checkpoint import _new_inode_id

    ids = [_new_inode_id() for _ in range(2000)]  # more than one batch
    assert len(set(ids)) == len(ids)
    for value in ids[:50] + ids[-50:]:
        parsed = uuid.UUID(value)
        assert str(parsed) == value and parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_reads_after_a_checkpoint_use_the_new_commit_and_closed_history_refuses(
    project: Project,
) -> None:
    root = project.root
    write(root, "a.txt", "one\n")
    v1 = project.checkpoint("one")
    write(root, "a.txt", "two\n")
    write(root, "b.bin", b"\x00\x01")
    v2 = project.checkpoint("two")
    # The content index is built on first use after each commit, from that commit.
    assert project.read_file(v1.id, "a.txt") == b"one\n"
    assert project.read_file(v2.id, "a.txt") == b"two\n"
    assert project.read_file(v2.id, "b.bin") == b"\x00\x01"
    project.close()
    with pytest.raises(InvalidArgumentError, match="closed"):
        project.read_file(v2.id, "a.txt")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_process_draws_inode_ids_of_its_own() -> None:
    from kamaros_app.engine.checkpoint import _new_inode_id

    _new_inode_id()  # the pool now holds ids a forked child would inherit
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write_end, _new_inode_id().encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        child_id = pipe.read().decode()
    os.waitpid(pid, 0)
    assert len(child_id) == 36
    assert child_id != _new_inode_id()


def test_mime_types_are_guessed_once_per_path_and_kind(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    (tmp_path / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (tmp_path / "data.kamarostest").write_text("text for now\n")
    with Project.init(tmp_path) as project:
        project.checkpoint("first")
        mimes = {p: e.mime for p, e in project.manifest.fileMap.items()}
        assert mimes == {
            "notes.txt": "text/plain",
            "picture.png": "image/png",
            "data.kamarostest": "text/plain",  # no guess: the kind decides
        }
        (tmp_path / "notes.txt").write_text("hello again\n")
        (tmp_path / "data.kamarostest").write_bytes(b"\x00binary now")
        project.checkpoint("second")
        mimes = {p: e.mime for p, e in project.manifest.fileMap.items()}
        assert mimes["notes.txt"] == "text/plain"
        assert mimes["data.kamarostest"] == "application/octet-stream"  # the kind changed


def test_a_checkpoint_of_modified_files_does_not_load_the_mime_tables(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "notes.txt").write_text("hello\n")
    with Project.init(tmp_path) as project:
        project.checkpoint("first")
    (tmp_path / "notes.txt").write_text("hello again\n")
    probe = (
        "import mimetypes, sys\n"
        "from pathlib import Path\n"
        "from kamaros_app.engine import Project\n"
        "with Project.open(Path(sys.argv[1])) as project:\n"
        "    project.checkpoint('modified only')\n"
        "    print(mimetypes.inited)\n"
        "    (Path(sys.argv[1]) / 'new.md').write_text('# new')\n"
        "    project.checkpoint('one added')\n"
        "    print(mimetypes.inited)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def test_a_file_that_vanishes_after_it_was_read_leaves_nothing_behind(
    project: Project,
) -> None:
    """Two large files (streamed, not prepared in parallel) are deleted while they are
    being read: the new one leaves no `content/` entry, the known one is saved as deleted,
    and the container verifies (CI once found the new one's bytes left in `content/`)."""
    root = project.root
    big = 9 << 20  # above prepare.PARALLEL_MAX_BYTES
    write(root, "known.bin", os.urandom(big))
    write(root, "kept.txt", "kept\n")
    first = project.checkpoint("one")
    write(root, "known.bin", os.urandom(big))
    write(root, "fresh.bin", os.urandom(big))
    write(root, "kept.txt", "kept, edited\n")

    def delete_while_read(progress) -> None:
        if progress.item in ("known.bin", "fresh.bin"):
            (root / progress.item).unlink(missing_ok=True)

    info = project.checkpoint("two", progress=delete_while_read)
    changes = project.version_changes(info.id)
    assert changes["known.bin"].changeType == "deleted"
    assert "fresh.bin" not in changes and changes["kept.txt"].changeType == "modified"
    assert [f.path for f in project.files("HEAD")] == ["kept.txt"]
    with zipfile.ZipFile(root / CONTAINER_FILE) as archive:
        content = sorted(n for n in archive.namelist() if n.startswith("content/"))
    assert content == ["content/kept.txt"]
    assert project.verify().ok
    assert len(project.read_file(first.id, "known.bin")) == big  # the first save is kept
