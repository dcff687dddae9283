"""Hostile and odd containers, through every door a file from elsewhere comes in.

Each crafted file is given to `import_container` (a new folder) and to `History.open_file`
(the read-only viewer, whose exports are then tried too). The rule: an error of our own
(KamarosError) with a message, and nothing written anywhere outside the target; a failed
import leaves no target behind. The ZIP-level checks themselves are unit-tested in
tests/test_zipcontainer.py and tests/test_import.py; this is the end-to-end table.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from kamaros_app.engine import (
    DiskFullError,
    History,
    KamarosError,
    Project,
    UnsupportedFormatError,
    import_container,
)
from kamaros_app.engine.hashing import hash_bytes
from kamaros_app.engine.zipcontainer import ContainerReader, ContainerWriter
from tests.reliability.workload import Tally, can_mount, tmpfs
from tests.test_import import our_manifest, snapshot_tree, zip_with
from tests.test_zipcontainer import Member, build_zip

UUID = "550e8400-e29b-41d4-a716-44665544{:04d}"


def good_container(tmp: Path) -> Path:
    """A genuine exported container with two checkpoints (the base for manifest attacks)."""
    root = tmp / "genuine"
    root.mkdir()
    (root / "a.txt").write_text("hello\n")
    with Project.init(root) as project:
        project.checkpoint("one")
        (root / "a.txt").write_text("hello again\n")
        (root / "b.bin").write_bytes(os.urandom(300))
        project.checkpoint("two")
        project.export_container(tmp / "genuine.jcf")
    return tmp / "genuine.jcf"


def rebuilt(
    tmp: Path, name: str, edit: Callable[[dict], None], extra: dict[str, bytes] | None = None
) -> Path:
    """The genuine container with its manifest edited (and entries added): a well-formed
    ZIP with a valid commit marker, so only the manifest's content is hostile."""
    out = tmp / f"{name}.jcf"
    with ContainerReader.open(good_container_path(tmp)) as reader:
        manifest = json.loads(reader.read_entry("manifest.json", 1 << 20))
        edit(manifest)
        writer = ContainerWriter.create(out)
        for entry_name, entry in reader.entries.items():
            if entry_name not in ("mimetype", "manifest.json"):
                writer.copy_entry(reader, entry)
        for entry_name, data in (extra or {}).items():
            writer.add_bytes(entry_name, data, method=0)
        writer.add_bytes("manifest.json", json.dumps(manifest).encode(), method=8)
        writer.commit()
        writer.close()
    return out


def good_container_path(tmp: Path) -> Path:
    path = tmp / "genuine.jcf"
    return path if path.exists() else good_container(tmp)


def add_file(manifest: dict, path: str, data: bytes, n: int) -> dict[str, bytes]:
    """List `path` in the newest checkpoint (file map and its first version)."""
    entry = dict(next(iter(manifest["fileMap"].values())))
    entry.update(currentHash=hash_bytes(data), size=len(data), inodeId=UUID.format(n))
    manifest["fileMap"][path] = entry
    state = dict(next(iter(manifest["versionHistory"][0]["fileStates"].values())))
    state.update(path=path, hash=hash_bytes(data), size=len(data), inodeId=UUID.format(n))
    state.update(changeType="added")
    manifest["versionHistory"][0]["fileStates"][path] = state
    return {f"content/{path}": data}


def manifest_path_attack(path: str) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        extra: dict[str, bytes] = {}

        def edit(manifest: dict) -> None:
            extra.update(add_file(manifest, path, b"evil\n", 90))

        edit({"fileMap": {"x": {}}, "versionHistory": [{"fileStates": {"x": {}}}]})
        return rebuilt(tmp, "path", edit, extra if _entry_name_ok(path) else {})

    return build


def _entry_name_ok(path: str) -> bool:
    """Whether our own writer would store `content/<path>` (else only the manifest lies)."""
    bad = path.startswith(("/", "../")) or any(c in path for c in ("\\", "\0", "..", "//"))
    return not bad and len(path) < 4000


def plain_zip(entries: list[tuple[str, bytes]]) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        out = tmp / "plain.jcf"
        zip_with(out, entries)
        return out

    return build


def raw_zip(members: list[Member], trailing: bytes = b"") -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        out = tmp / "raw.jcf"
        out.write_bytes(build_zip(members, trailing=trailing))
        return out

    return build


def manifest_json(raw: bytes) -> Callable[[Path], Path]:
    return raw_zip([Member(b"manifest.json", raw)])


def edited(edit: Callable[[dict], None]) -> Callable[[Path], Path]:
    return lambda tmp: rebuilt(tmp, "edited", edit)


def set_key(key: str, value: object) -> Callable[[dict], None]:
    return lambda manifest: manifest.__setitem__(key, value)


def huge_count(tmp: Path) -> Path:
    data = bytearray(build_zip([Member(b"manifest.json", our_manifest([]))]))
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 0xFFFF, 0xFFFF)  # 65,535 entries, 1 present
    out = tmp / "count.jcf"
    out.write_bytes(bytes(data))
    return out


def overlapping(tmp: Path) -> Path:
    return raw_zip(
        [
            Member(b"manifest.json", our_manifest([])),
            Member(b"content/a", b"x" * 100, write_local=False, cd_offset=0),
        ]
    )(tmp)


def tampered_content(tmp: Path) -> Path:
    def edit(manifest: dict) -> None:
        manifest["fileMap"]["a.txt"]["currentHash"] = hash_bytes(b"something else\n")

    return rebuilt(tmp, "tampered", edit)


def legacy_traversal(tmp: Path) -> Path:
    manifest = {
        "formatVersion": "1.0.0",
        "metadata": {"name": "x", "created": "2025-01-01T00:00:00Z", "author": "x"},
        "fileMap": {},
        "versionHistory": [
            {
                "id": "v1",
                "timestamp": "2025-01-01T00:00:00Z",
                "message": "m",
                "parentId": None,
                "fileStates": {
                    "../../escape.txt": {
                        "inodeId": UUID.format(1),
                        "hash": "0" * 64,
                        "contentRef": "../../../etc/passwd",
                    }
                },
            }
        ],
        "refs": {"head": "v1"},
    }
    out = tmp / "legacy.jcf"
    zip_with(out, [(".store/manifest.json", json.dumps(manifest).encode())])
    return out


def deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


CASES: dict[str, Callable[[Path], Path]] = {
    # entry names
    "entry ../": plain_zip([("manifest.json", our_manifest([])), ("../escape.txt", b"x")]),
    "entry absolute": plain_zip([("manifest.json", our_manifest([])), ("/tmp/evil", b"x")]),
    "entry drive letter": plain_zip([("manifest.json", our_manifest([])), ("C:\\evil", b"x")]),
    "entry drive-relative": plain_zip([("manifest.json", our_manifest([])), ("C:evil", b"x")]),
    "entry backslashes": plain_zip([("manifest.json", our_manifest([])), ("a\\..\\..\\b", b"")]),
    "entry NUL": plain_zip([("manifest.json", our_manifest([])), ("content/a\0b", b"x")]),
    "entry symlink": raw_zip(
        [
            Member(b"manifest.json", our_manifest([])),
            Member(b"content/link", b"/etc/passwd", external_attr=0o120777 << 16),
        ]
    ),
    "duplicate entries": raw_zip(
        [Member(b"manifest.json", our_manifest([])), Member(b"manifest.json", b"{}")]
    ),
    "overlapping entries": overlapping,
    "stored size lies": raw_zip([Member(b"manifest.json", our_manifest([]), usize=5)]),
    "deflate size too small": raw_zip(
        [Member(b"manifest.json", deflate(our_manifest([])), method=8, usize=10)]
    ),
    "deflate size too large": raw_zip(
        [Member(b"manifest.json", deflate(our_manifest([])), method=8, usize=100_000)]
    ),
    "ratio bomb": raw_zip(
        [
            Member(b"manifest.json", our_manifest([])),
            Member(b"content/z", deflate(b"\0" * 1000), method=8, usize=2_000_000_000),
        ]
    ),
    "entry count lies": huge_count,
    "encrypted entry": raw_zip([Member(b"manifest.json", our_manifest([]), flags=1)]),
    "unknown method": raw_zip([Member(b"manifest.json", our_manifest([]), method=14)]),
    "trailing data": raw_zip([Member(b"manifest.json", our_manifest([]))], trailing=b"x" * 99),
    "not a zip": lambda tmp: (tmp / "junk.jcf").write_bytes(os.urandom(4000)) and tmp / "junk.jcf",
    "empty file": lambda tmp: (tmp / "empty.jcf").write_bytes(b"") or tmp / "empty.jcf",
    # format versions and JSON
    "format 3.0.0": edited(set_key("formatVersion", "3.0.0")),
    "format 2.9.0 (newer minor)": edited(set_key("formatVersion", "2.9.0")),
    "format not semver": edited(set_key("formatVersion", "two")),
    "format a number": edited(set_key("formatVersion", 2)),
    "hash sha1": edited(set_key("hashAlgorithm", "sha1")),
    "JSON broken": manifest_json(b'{"formatVersion": "2.0.0", "hashAlgorithm": '),
    "JSON a list": manifest_json(b"[]"),
    "JSON null": manifest_json(b"null"),
    "JSON deep nesting": manifest_json(b"[" * 100_000 + b"]" * 100_000),
    "JSON not UTF-8": manifest_json(b'{"formatVersion": "\xff\xfe"}'),
    "JSON NaN size": edited(lambda m: m["fileMap"]["a.txt"].__setitem__("size", float("nan"))),
    "JSON negative size": edited(lambda m: m["fileMap"]["a.txt"].__setitem__("size", -1)),
    "JSON huge size": edited(lambda m: m["fileMap"]["a.txt"].__setitem__("size", 10**30)),
    "fileMap wrong type": edited(set_key("fileMap", ["a.txt"])),
    "versionHistory wrong type": edited(set_key("versionHistory", {"a": 1})),
    "head names no version": edited(lambda m: m["refs"].__setitem__("head", "f" * 32)),
    "version id reused": edited(
        lambda m: m["versionHistory"][1].__setitem__("id", m["versionHistory"][0]["id"])
    ),
    "parent loop": edited(
        lambda m: m["versionHistory"][0].__setitem__("parentId", m["versionHistory"][1]["id"])
    ),
    "content tampered": tampered_content,
    # paths in the manifest
    "path ../": manifest_path_attack("../../outside.txt"),
    "path absolute": manifest_path_attack("/etc/evil"),
    "path drive letter": manifest_path_attack("C:/evil.txt"),
    "path backslash": manifest_path_attack("a\\..\\..\\evil"),
    "path NUL": manifest_path_attack("a\0b"),
    "path empty component": manifest_path_attack("a//b"),
    "path too long (5000 bytes)": manifest_path_attack("d/" * 2500 + "x"),
    "name too long for the disk": manifest_path_attack("n" * 300),
    "file and folder of one name": manifest_path_attack("a.txt/inside.txt"),
    "rename from outside": edited(
        lambda m: m["renameLog"].append(
            {
                "inodeId": UUID.format(5),
                "fromPath": "../../x",
                "toPath": "a.txt",
                "versionId": m["versionHistory"][0]["id"],
                "timestamp": m["versionHistory"][0]["timestamp"],
            }
        )
    ),
    "legacy archive with traversal": legacy_traversal,
}


def outside_of(tmp: Path, *targets: Path) -> set[str]:
    return {p for p in snapshot_tree(tmp) if not any(p.startswith(t.name) for t in targets)}


@pytest.mark.parametrize("case", sorted(CASES))
def test_crafted_container(tmp_path: Path, case: str, campaign) -> None:
    tally = Tally(campaign, "crafted containers (import and viewer)", note=f"{len(CASES)} kinds")
    crafted = tmp_path / "crafted"
    crafted.mkdir()
    source = CASES[case](crafted)
    dest, out = tmp_path / "dest", tmp_path / "out"
    before = outside_of(tmp_path, dest, out)
    with tally.run(f"{case}: import"):
        began = time.perf_counter()
        try:
            import_container(source, dest).close()
        except KamarosError as exc:
            assert str(exc), "an error without a message"
            assert not dest.exists(), "a failed import left its folder behind"
        else:
            assert case in ACCEPTED, f"{case} was imported"
        assert time.perf_counter() - began < 10, "took too long to refuse"
        assert outside_of(tmp_path, dest, out) == before, "something was written outside"
    with tally.run(f"{case}: viewer"):
        try:
            history = History.open_file(source)
        except KamarosError as exc:
            assert str(exc)
        else:
            with history:  # a viewer may open it: then every read is right or refused
                for version in history.log():
                    try:
                        states = history.file_states(version.id)
                    except KamarosError:
                        continue
                    for path, state in states.items():
                        try:
                            data = history.read_file(version.id, path)
                        except KamarosError:
                            continue
                        assert hash_bytes(data) == state.hash, f"wrong bytes for {path}"
                with contextlib.suppress(KamarosError):
                    history.export_version("HEAD", out)
        assert outside_of(tmp_path, dest, out) == before, "something was written outside"
    tally.finish()


ACCEPTED = {"format 2.9.0 (newer minor)"}  # opens read-only in the viewer, with a notice


def test_newer_minor_version_is_refused_by_import_but_shown_by_the_viewer(
    tmp_path: Path,
) -> None:
    source = CASES["format 2.9.0 (newer minor)"](tmp_path)
    with pytest.raises(UnsupportedFormatError):
        import_container(source, tmp_path / "dest")
    with History.open_file(source) as history:
        assert any("newer" in n for n in history.notices)


def test_a_file_that_is_also_a_folder_is_refused_before_writing(tmp_path: Path) -> None:
    """Regression (found by this table): a history listing `a.txt` and `a.txt/inside.txt`
    was imported, then extraction stopped half-way and every later open failed with
    "a.txt is a file that no checkpoint knows". Now verify names it and import refuses."""
    source = CASES["file and folder of one name"](tmp_path)
    with pytest.raises(KamarosError, match="no folder can hold both"):
        import_container(source, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_a_name_too_long_for_the_disk_is_refused_before_writing(tmp_path: Path) -> None:
    """Regression (found by this table): a 300-byte file name made the import fail with a
    raw OSError after the history had landed, and every later open failed the same way."""
    source = CASES["name too long for the disk"](tmp_path)
    with pytest.raises(KamarosError, match="longer than this file system allows"):
        import_container(source, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_zip_bomb_onto_a_really_small_disk(tmp_path: Path, campaign) -> None:
    """A 200 KB file that unpacks to 200 MB, imported onto a real 3 MB file system."""
    if not can_mount():
        pytest.skip("needs root to mount a small tmpfs")
    tally = Tally(campaign, "crafted containers (import and viewer)")
    bomb = tmp_path / "bomb.jcf"
    bomb.write_bytes(
        build_zip(
            [
                Member(b"manifest.json", our_manifest([])),
                Member(
                    b"content/zeros",
                    deflate(b"\0" * 200_000_000),
                    method=8,
                    usize=200_000_000,
                    crc=zlib.crc32(b"\0" * 200_000_000),
                ),
            ]
        )
    )
    assert bomb.stat().st_size < 300_000
    with tmpfs(tmp_path / "small", "3m") as small, tally.run("bomb on a 3 MB disk"):
        with pytest.raises(DiskFullError, match="unpacks to"):
            import_container(bomb, small / "dest")
        assert os.listdir(small) == []
    tally.finish()


def test_exporting_a_crafted_version_refuses_before_writing(tmp_path: Path) -> None:
    """Regression (found by this table): the viewer's "export these files" let a raw
    FileExistsError / OSError (name too long) escape, after writing part of the files."""
    for case in ("file and folder of one name", "name too long for the disk"):
        crafted = tmp_path / case.replace(" ", "-")
        crafted.mkdir()
        with (
            History.open_file(CASES[case](crafted)) as history,
            pytest.raises(KamarosError, match="cannot be written"),
        ):
            history.export_version("HEAD", crafted / "out")
        assert not (crafted / "out").exists() or not any((crafted / "out").iterdir())


def test_a_file_map_that_lies_about_sizes_is_refused(tmp_path: Path) -> None:
    """Regression (found by this table): verify compared only the hashes of the file map
    with the replayed history, so a file map with a wrong size was imported as it was."""
    with pytest.raises(KamarosError, match="does not match the file map"):
        import_container(CASES["JSON huge size"](tmp_path), tmp_path / "dest")
