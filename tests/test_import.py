"""Import: original Kamaros archives (built here from their description) and hostile files."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zipfile
from pathlib import Path

import pytest

from kamaros_app.engine import (
    ContainerError,
    DamagedContainerError,
    DiskFullError,
    HostileContainerError,
    UnsupportedFormatError,
    import_container,
)

# ---------------------------------------------------------------- original Kamaros archives

FILES_V1 = {"src/main.js": b"console.log('v1');\r\n", "assets/logo.png": os.urandom(700)}
FILES_V2 = {
    "src/main.js": b"console.log('v2');\r\n",
    "assets/logo.png": FILES_V1["assets/logo.png"],
    "config.json": b'{"a": 1}\n',
}
FILES_V3 = {  # main.js moved, logo deleted
    "src/app.js": FILES_V2["src/main.js"],
    "config.json": b'{"a": 2}\n',
}
INODES = {
    "src/main.js": "550e8400-e29b-41d4-a716-446655440000",
    "src/app.js": "550e8400-e29b-41d4-a716-446655440000",
    "assets/logo.png": "660e8400-e29b-41d4-a716-446655440001",
    "config.json": "770e8400-e29b-41d4-a716-446655440002",
}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def kamaros_manifest(deleted_logo: bool = True) -> dict:
    history = []
    parent = None
    for n, files in enumerate([FILES_V1, FILES_V2, FILES_V3], 1):
        states = {
            path: {
                "inodeId": INODES[path],
                "hash": sha(data),
                "contentRef": f".store/blobs/{sha(data)}",
            }
            for path, data in files.items()
        }
        if n == 3 and deleted_logo:
            logo = FILES_V1["assets/logo.png"]
            states["assets/logo.png"] = {
                "inodeId": INODES["assets/logo.png"],
                "hash": sha(logo),
                "contentRef": f".store/blobs/{sha(logo)}",
                "deleted": True,
            }
        vid = f"v{n}-abc{n}"
        history.append(
            {
                "id": vid,
                "timestamp": f"2025-01-1{n}T10:00:00Z",
                "message": f"version {n}",
                "author": "Jan",
                "parentId": parent,
                "fileStates": states,
            }
        )
        parent = vid
    return {
        "formatVersion": "1.0.0",
        "metadata": {
            "name": "demo",
            "description": "d",
            "created": "2025-01-11T10:00:00Z",
            "lastModified": "2025-01-13T10:00:00Z",
            "author": "Jan",
        },
        "fileMap": {
            p: {
                "inodeId": INODES[p],
                "type": "text",
                "currentHash": sha(d),
                "created": "2025-01-11T10:00:00Z",
                "modified": "2025-01-13T10:00:00Z",
            }
            for p, d in FILES_V3.items()
        },
        "versionHistory": history,
        "refs": {"head": parent, "stable": "v2-abc2"},
        "renameLog": [
            {
                "from": "src/main.js",
                "to": "src/app.js",
                "timestamp": "2025-01-13T10:00:00Z",
                "versionId": "v3-abc3",
            }
        ],
    }


def all_blobs() -> dict[str, bytes]:
    return {sha(d): d for files in (FILES_V1, FILES_V2, FILES_V3) for d in files.values()}


def build_export_archive(path: Path) -> None:
    """`.store/manifest.json`, `.store/blobs/<sha256>`, `.store/deltas/*.patch`, content/**,
    no mimetype, every entry deflated, dated 1980."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:

        def put(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)

        put(".store/manifest.json", json.dumps(kamaros_manifest()).encode())
        for digest, data in all_blobs().items():
            put(f".store/blobs/{digest}", data)
        put(".store/deltas/v2_src_main.js.patch", b"--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n")
        for p, d in FILES_V3.items():
            put(f"content/{p}", d)


def build_save_archive(path: Path, with_store: bool = True) -> None:
    """mimetype (deflated, not stored), root manifest.json, content/**, sometimes .store/**."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/x-jcf")
        z.writestr("manifest.json", json.dumps(kamaros_manifest()))
        for p, d in FILES_V3.items():
            z.writestr(f"content/{p}", d)
        if with_store:
            for digest, data in all_blobs().items():
                z.writestr(f".store/blobs/{digest}", data)


@pytest.mark.parametrize("builder", [build_export_archive, build_save_archive])
def test_import_original_kamaros_archives(tmp_path: Path, builder) -> None:
    archive = tmp_path / "old.jcf"
    builder(archive)
    with import_container(archive, tmp_path / "work") as project:
        log = list(reversed(project.log()))
        assert [v.message for v in log] == ["version 1", "version 2", "version 3"]
        for version, files in zip(log, [FILES_V1, FILES_V2, FILES_V3], strict=True):
            assert {f.path for f in project.files(version.id)} == set(files)
            for path, data in files.items():
                assert project.read_file(version.id, path) == data
        # the working folder holds the newest version, byte for byte
        for path, data in FILES_V3.items():
            assert (project.root / path).read_bytes() == data
        assert log[2].renamed == 1 and log[2].deleted == 1
        assert project.resolve("stable") == log[1].id
        assert [v.message for v in project.log("src/app.js")] == [
            "version 3",
            "version 2",
            "version 1",
        ]
        assert project.verify().ok
        assert project.status().is_clean


def test_save_archive_without_store_cannot_restore_old_versions(tmp_path: Path) -> None:
    archive = tmp_path / "old.jcf"
    build_save_archive(archive, with_store=False)
    with pytest.raises(DamagedContainerError, match="cannot be recovered"):
        import_container(archive, tmp_path / "work")
    assert not (tmp_path / "work").exists()


def test_encrypted_kamaros_archive_is_refused(tmp_path: Path) -> None:
    manifest = kamaros_manifest()
    first = manifest["versionHistory"][0]["fileStates"]
    next(iter(first.values()))["encrypted"] = True
    archive = tmp_path / "enc.jcf"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(".store/manifest.json", json.dumps(manifest))
    with pytest.raises(UnsupportedFormatError, match="encrypted"):
        import_container(archive, tmp_path / "work")


# ---------------------------------------------------------------- hostile containers


def snapshot_tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def zip_with(path: Path, entries: list[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries:
            info = zipfile.ZipInfo("placeholder")
            info.filename = name  # bypass zipfile's own sanitising
            z.writestr(info, data)


def our_manifest(paths: list[str]) -> bytes:
    return json.dumps(
        {
            "formatVersion": "2.0.0",
            "hashAlgorithm": "blake3",
            "metadata": {"created_at": "x", "last_modified": "x"},
            "fileMap": {},
            "versionHistory": [],
            "refs": {"head": ""},
        }
    ).encode()


HOSTILE_NAMES = [
    "../escape.txt",
    "/etc/evil",
    "C:\\evil.txt",
    "content/a\\..\\..\\b",
    "content/nul\x00byte",
    "content/../../x",
    "C:relative",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_bad_entry_names_are_rejected_before_writing(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "evil.jcf"
    zip_with(archive, [("manifest.json", our_manifest([])), (name, b"boom")])
    before = snapshot_tree(tmp_path)
    with pytest.raises(HostileContainerError):
        import_container(archive, tmp_path / "dest")
    assert snapshot_tree(tmp_path) == before


def test_symlink_entry_is_rejected(tmp_path: Path) -> None:
    archive = tmp_path / "link.jcf"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("manifest.json", our_manifest([]))
        info = zipfile.ZipInfo("content/link")
        info.create_system = 3
        info.external_attr = (0o120777) << 16
        z.writestr(info, "/etc/passwd")
    with pytest.raises(HostileContainerError, match="link"):
        import_container(archive, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_duplicate_entries_are_rejected(tmp_path: Path) -> None:
    archive = tmp_path / "dup.jcf"
    with pytest.warns(UserWarning):
        zip_with(archive, [("manifest.json", our_manifest([])), ("manifest.json", b"{}")])
    with pytest.raises(HostileContainerError, match="uplicate"):
        import_container(archive, tmp_path / "dest")


def test_overlapping_entries_are_rejected(tmp_path: Path) -> None:
    """Two central directory records pointing at the same local header (a classic bomb)."""
    archive = tmp_path / "overlap.jcf"
    zip_with(archive, [("manifest.json", our_manifest([])), ("content/a", b"x" * 100)])
    data = bytearray(archive.read_bytes())
    cd = data.rfind(b"PK\x01\x02")  # second central record: point it at the first entry
    struct.pack_into("<I", data, cd + 42, 0)
    archive.write_bytes(bytes(data))
    with pytest.raises(ContainerError):
        import_container(archive, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_lying_sizes_are_rejected(tmp_path: Path) -> None:
    archive = tmp_path / "lie.jcf"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", our_manifest([]))
    data = bytearray(archive.read_bytes())
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 10)  # declared uncompressed size: far too small
    archive.write_bytes(bytes(data))
    with pytest.raises(ContainerError):
        import_container(archive, tmp_path / "dest")


def test_zip_bomb_larger_than_the_disk_is_rejected(tmp_path: Path, monkeypatch) -> None:
    """A 200 KB file that expands to 200 MB, imported onto a disk with 100 MB free."""
    archive = tmp_path / "bomb.jcf"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("manifest.json", our_manifest([]))
        z.writestr("content/zeros", b"\0" * (200 * 1024 * 1024))
    assert archive.stat().st_size < 1024 * 1024
    import shutil

    real = shutil.disk_usage
    monkeypatch.setattr(
        "kamaros_app.engine.importer.shutil.disk_usage",
        lambda p: real(p)._replace(free=100 * 1024 * 1024),
    )
    with pytest.raises(DiskFullError, match="unpacks to"):
        import_container(archive, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_garbage_and_unknown_versions(tmp_path: Path) -> None:
    junk = tmp_path / "junk.jcf"
    junk.write_bytes(os.urandom(5000))
    with pytest.raises(DamagedContainerError):
        import_container(junk, tmp_path / "d1")
    newer = tmp_path / "newer.jcf"
    with zipfile.ZipFile(newer, "w") as z:
        z.writestr(
            "manifest.json", json.dumps({"formatVersion": "9.0.0", "hashAlgorithm": "blake3"})
        )
    with pytest.raises(UnsupportedFormatError):
        import_container(newer, tmp_path / "d2")
    bad_json = tmp_path / "badjson.jcf"
    with zipfile.ZipFile(bad_json, "w") as z:
        z.writestr("manifest.json", "{not json")
    with pytest.raises(DamagedContainerError, match="JSON"):
        import_container(bad_json, tmp_path / "d3")


def test_manifest_paths_cannot_escape(tmp_path: Path) -> None:
    """A well-formed ZIP whose manifest names a path outside the folder."""
    archive = tmp_path / "escape.jcf"
    manifest = json.loads(our_manifest([]))
    manifest["fileMap"] = {
        "../../outside.txt": {
            "type": "text",
            "inodeId": "550e8400-e29b-41d4-a716-446655440000",
            "currentHash": "0" * 64,
            "size": 1,
        }
    }
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("manifest.json", json.dumps(manifest))
    before = snapshot_tree(tmp_path)
    with pytest.raises(ContainerError):
        import_container(archive, tmp_path / "dest")
    assert snapshot_tree(tmp_path) == before
