"""The open index: what opening a container learns, kept in the user cache for the next
process. It may only make opens faster: every answer must equal a full parse, and any
doubt (torn file, other commit, changed manifest bytes) must fall back to one."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kamaros_app.engine import Project, manifest_cache, open_index
from kamaros_app.engine.errors import DamagedContainerError
from kamaros_app.engine.layout import CONTAINER_FILE, MANIFEST_ENTRY
from kamaros_app.engine.manifest import Manifest
from kamaros_app.engine.open_index import OpenIndex, index_folder
from kamaros_app.engine.zipcontainer import ContainerReader


def _project(root: Path, files: int = 30, checkpoints: int = 3) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    with Project.init(root) as project:
        for n in range(checkpoints):
            for i in range(files):
                if i % (n + 1) == 0:
                    (root / f"d{i % 4}" / f"f{i}.txt").parent.mkdir(exist_ok=True)
                    (root / f"d{i % 4}" / f"f{i}.txt").write_text(f"file {i} version {n}\n" * 20)
            (root / "bin.dat").write_bytes(os.urandom(2000))
            project.checkpoint(f"save {n}")
            project.tag("HEAD", f"tag-{n}")
    return root / CONTAINER_FILE


def _parsed(container: Path) -> tuple[ContainerReader, Manifest]:
    """What a full parse gives, ignoring every cache."""
    reader = ContainerReader.open(container)
    return reader, Manifest.from_json_bytes(reader.read_entry(MANIFEST_ENTRY, 1 << 30))


def _indexed(container: Path) -> tuple[ContainerReader, Manifest | None, OpenIndex]:
    index = OpenIndex()
    reader = ContainerReader.open(container, known_entries=index.entries)
    return reader, index.manifest(reader), index


def _same_entries(a: ContainerReader, b: ContainerReader) -> None:
    assert list(a.entries) == list(b.entries)
    for name, entry in a.entries.items():
        other = b.entries[name]
        assert entry == other
        assert (entry.cd_record, entry.damage) == (other.cd_record, other.damage)
    assert a.location == b.location


def _answers_as_a_parse(container: Path) -> tuple[ContainerReader, ContainerReader, Manifest]:
    """Open `container` through the index and by a full parse; both must agree on every
    entry and on the manifest, down to the bytes it writes. Returns both readers (open)."""
    reader, manifest, index = _indexed(container)
    parsed_reader, parsed = _parsed(container)
    assert index.hits == 2
    _same_entries(reader, parsed_reader)
    assert manifest == parsed
    assert manifest is not None
    assert manifest.to_json_bytes() == reader.read_entry(MANIFEST_ENTRY, 1 << 30)
    return reader, parsed_reader, manifest


def test_second_open_answers_from_the_index_with_what_a_parse_gives(tmp_path: Path) -> None:
    container = _project(tmp_path / "p")
    # The checkpoint saved an index of its commit (from the writer's own entries).
    assert len(list(index_folder().glob("*.idx"))) >= 1
    reader, parsed_reader, manifest = _answers_as_a_parse(container)
    with reader, parsed_reader:
        assert set(manifest.tags) == {"tag-0", "tag-1", "tag-2"}
        # Reading through the indexed entries gives the same bytes.
        for name in reader.entries:
            assert reader.read_entry(name, 1 << 30) == parsed_reader.read_entry(name, 1 << 30)


_CHILD = """
import sys
from pathlib import Path
from kamaros_app.engine import Project, open_index
hits = []
save = open_index.OpenIndex.save
def counting_save(self, reader, manifest, parent=None):
    hits.append(self.hits)
    save(self, reader, manifest, parent)
open_index.OpenIndex.save = counting_save
with Project.open(Path(sys.argv[1]), read_only=True) as project:
    data = project.read_file(project.manifest.versions[0].id, "d0/f0.txt")
print(hits, data == b"file 0 version 0\\n" * 20)
"""


def test_a_fresh_process_uses_the_index_and_reads_byte_for_byte(tmp_path: Path) -> None:
    root = tmp_path / "p"
    _project(root)
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(root)], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["[2]", "True"]  # directory and manifest both from the index


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_a_damaged_index_file_is_ignored(tmp_path: Path, damage: str) -> None:
    container = _project(tmp_path / "p")
    for path in index_folder().glob("*.idx"):
        data = bytearray(path.read_bytes())
        if damage == "truncate":
            data = data[: len(data) // 2]
        elif damage == "flip":
            data[len(data) // 2] ^= 0x10
        elif damage == "garbage":
            data = bytearray(os.urandom(len(data)))
        else:
            data = bytearray()
        path.write_bytes(bytes(data))
    reader, manifest, index = _indexed(container)
    with reader:
        assert index.hits == 0 and manifest is None
    manifest_cache._cache.clear()
    with Project.open(container.parent.parent, read_only=True) as project:
        assert len(project.manifest.versions) == 3
    # ... and that open wrote a good one again.
    reader, manifest, index = _indexed(container)
    with reader:
        assert index.hits == 2


def test_an_index_of_another_commit_is_never_used(tmp_path: Path) -> None:
    root = tmp_path / "p"
    container = _project(root)
    before = sorted(index_folder().glob("*.idx"))
    (root / "new.txt").write_text("one more\n")
    with Project.open(root) as project:
        project.checkpoint("one more")
    reader, manifest, index = _indexed(container)
    parsed_reader, parsed = _parsed(container)
    with reader, parsed_reader:
        assert index.hits == 2  # the new commit's own index
        assert "content/new.txt" in reader.entries
        assert manifest == parsed
    # Every index file of an older commit, presented as the newest, is refused.
    newest = max(index_folder().glob("*.idx"), key=lambda p: p.stat().st_mtime_ns)
    for old in before:
        newest.write_bytes(old.read_bytes())
        reader, manifest, index = _indexed(container)
        with reader:
            assert index.hits == 0


def test_changed_manifest_bytes_are_parsed_not_taken_from_the_index(tmp_path: Path) -> None:
    """The index pins the manifest by a hash of its stored bytes: damage to them is found
    by the open exactly as without an index."""
    root = tmp_path / "p"
    container = _project(root)
    with ContainerReader.open(container) as reader:
        entry = reader.entries[MANIFEST_ENTRY]
    with open(container, "r+b") as handle:
        handle.seek(entry.data_offset + entry.compressed_size // 2)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0x01]))
    reader, manifest, index = _indexed(container)
    with reader:
        assert index.hits == 1 and manifest is None  # the directory still matches
    manifest_cache._cache.clear()
    with Project.open(root, read_only=True) as project:
        assert any("damaged" in n for n in project.notices)


def test_imported_containers_and_other_users_indexes_are_not_trusted(tmp_path: Path) -> None:
    container = _project(tmp_path / "p")
    index = OpenIndex()
    with ContainerReader.open(container, untrusted=True, known_entries=index.entries) as reader:
        assert index.hits == 0
        index.save(reader, Manifest.from_json_bytes(reader.read_entry(MANIFEST_ENTRY, 1 << 30)))
    # The index lives in this user's cache folder, not in the project: a copied project
    # brings none along.
    assert not list((tmp_path / "p").rglob("*.idx"))
    assert index_folder().is_relative_to(Path(os.environ["XDG_CACHE_HOME"]))


def test_old_index_files_are_pruned(tmp_path: Path) -> None:
    root = tmp_path / "p"
    container = _project(root, files=3, checkpoints=1)
    with Project.open(root) as project:
        for n in range(25):
            (root / "f.txt").write_text(f"{n}\n")
            project.checkpoint(f"n{n}")
    assert len(list(index_folder().glob("*.idx"))) <= open_index._KEEP
    reader, _manifest, index = _indexed(container)
    with reader:
        assert index.hits == 2  # the newest commit's index is kept


def test_an_unusable_cache_folder_costs_only_speed(tmp_path: Path) -> None:
    cache = Path(os.environ["XDG_CACHE_HOME"])
    (cache / "kamaros").write_text("a file where the cache folder should be")
    root = tmp_path / "p"
    _project(root, files=3, checkpoints=2)
    with Project.open(root, read_only=True) as project:
        assert len(project.manifest.versions) == 2
    assert not index_folder().exists()


def test_local_headers_are_still_checked_when_the_index_answers(tmp_path: Path) -> None:
    """A damaged local header makes its entry unreadable with or without an index."""
    container = _project(tmp_path / "p")
    with ContainerReader.open(container) as reader:
        entry = reader.entries["content/d0/f0.txt"]
    with open(container, "r+b") as handle:
        handle.seek(entry.header_offset + 30 + 1)  # a letter of the stored name
        handle.write(b"X")
    reader, _manifest, index = _indexed(container)
    parsed_reader, _parsed_manifest = _parsed(container)
    with reader, parsed_reader:
        assert index.hits == 2
        _same_entries(reader, parsed_reader)
        assert reader.entries["content/d0/f0.txt"].damage
        with pytest.raises(DamagedContainerError):
            reader.read_entry("content/d0/f0.txt", 1 << 20)


@pytest.mark.parametrize(
    ("column", "kind", "codec"),
    [
        (["a", "", "päth/ü"], "str", "s"),
        ([""], "str", "s"),
        ([], "str", "l"),
        (["has\0nul", "b"], "str", "l"),  # a NUL cannot be joined on: kept as a list
        ([b"x", b"y/z"], "bytes", "y"),
        ([0, -1, 2**63 - 1], "int", "q"),
        ([2**64], "int", "l"),  # beyond int64
        ([True, False], "bool", "b"),
        ([True, 1], "bool", "l"),  # an int among bools keeps its type
        ([(1980, 1, 1, 0, 0, 0), (2107, 12, 31, 23, 59, 58)], "when", "w"),
        (["a", None], "str | None", "l"),
    ],
)
def test_columns_pack_to_one_object_and_back_exactly(
    column: list[object], kind: str, codec: str
) -> None:
    packed = open_index._pack(list(column), kind)
    assert packed[0] == codec
    back = open_index._unpack(marshal.loads(marshal.dumps(packed)), len(column))
    assert back == column
    assert [type(v) for v in back] == [type(v) for v in column]
    with pytest.raises(ValueError):
        open_index._unpack(packed, len(column) + 1)


def _whole_tables(manifest: Manifest) -> tuple[object, ...]:
    """A manifest's index part (stored hash left out) with every table whole."""
    return (None, *open_index._manifest_tables(manifest, None))


def _unpacked(part: tuple[object, ...]) -> tuple[object, ...]:
    part = marshal.loads(marshal.dumps(part))
    files = open_index._unpack_table(part[2], None)
    versions = open_index._unpack_table(part[3], None)[0]
    return (part[0], part[1], files, versions, *part[4:])


def test_a_real_manifest_packs_every_typed_column(tmp_path: Path) -> None:
    """Each typed field of the file records becomes one object (only `fromPath`, which
    may be None, stays a list): a field whose declared type stops being recognised would
    silently make every checkpoint slower again."""
    container = _project(tmp_path / "p", files=5, checkpoints=2)
    reader, manifest = _parsed(container)
    with reader:
        part = _whole_tables(manifest)
    file_codecs = [codec for codec, _data in part[2][2]]
    assert file_codecs == ["s", "s", "s", "s", "q", "s", "s", "b", "s", "q"]  # path first
    _head, _count, state_columns, _json = _unpacked(part)[3][-1]
    assert [codec for codec, _data in state_columns] == ["s", "s", "s", "q", "s", "s", "b", "l"]
    assert open_index._manifest_from_tables(_unpacked(part)) == manifest


def test_versions_from_the_index_write_the_manifest_a_parse_would(tmp_path: Path) -> None:
    """The index also keeps each version's JSON (`Version.encoded`), so the next
    checkpoint does not encode the old versions again: what it writes must be exactly what
    the parsed manifest writes, and a tag added since must appear in it."""
    container = _project(tmp_path / "p")
    reader, manifest, _index = _indexed(container)
    parsed_reader, parsed = _parsed(container)
    with reader, parsed_reader:
        assert manifest is not None
        assert all({"json", "rows"} <= set(v.encoded) for v in manifest.versions)
        assert not any(v.encoded for v in parsed.versions)
        assert manifest.to_json_bytes() == parsed.to_json_bytes()
        raw = reader.read_entry(MANIFEST_ENTRY, 1 << 30)
        assert manifest.to_json_bytes() == raw  # and what the checkpoint wrote
        first = manifest.versions[0]
        tagged = manifest.with_changes(tags={**manifest.tags, "new": first.id})
        assert tagged.versions[0] is first  # same object, so the cached JSON is offered
        assert tagged.to_json_bytes() == parsed.with_changes(tags=tagged.tags).to_json_bytes()
        assert Manifest.from_json_bytes(tagged.to_json_bytes()).tags["new"] == first.id


def test_a_version_row_with_a_malformed_json_part_is_rebuilt(tmp_path: Path) -> None:
    container = _project(tmp_path / "p", files=5, checkpoints=2)
    reader, manifest = _parsed(container)
    with reader:
        part = _unpacked(_whole_tables(manifest))
        versions = [(*row[:3], ("not a list", 42)) for row in part[3]]
        back = open_index._manifest_from_tables((*part[:3], versions, *part[4:]))
    assert back == manifest
    assert all("json" not in v.encoded for v in back.versions)
    assert back.to_json_bytes() == manifest.to_json_bytes()


def _newest_index() -> tuple[Path, tuple[object, ...]]:
    path = max(index_folder().glob("*.idx"), key=lambda p: p.stat().st_mtime_ns)
    payload = open_index._read(path)
    assert payload is not None
    return path, payload


def _depth(path: Path) -> int:
    depth = 0
    payload = open_index._read(path)
    while payload is not None and payload[1] is not None:
        depth += 1
        payload = open_index._read(path.parent / str(payload[1]))
    assert payload is not None, "a delta whose parent is gone"
    return depth


def test_a_checkpoint_writes_its_index_as_a_delta_that_reads_as_a_parse(tmp_path: Path) -> None:
    """After a checkpoint, the new commit's index only holds what changed since the
    commit before (runs over that index plus the new rows), for at most _MAX_DEPTH
    commits in a row; every one of them must answer exactly what a full parse gives."""
    root = tmp_path / "p"
    container = _project(root, files=200, checkpoints=1)
    _path, payload = _newest_index()
    assert payload[1] is None  # a project's first index stands alone
    whole_size = _path.stat().st_size
    depths = []
    with Project.open(root) as project:
        for n in range(open_index._MAX_DEPTH + 3):
            (root / "d1" / "f1.txt").write_text(f"edit {n}\n")  # modified
            (root / f"new{n}.txt").write_text("added\n")  # added
            if n == 2:
                (root / "d2" / "f2.txt").unlink()  # deleted
                (root / "d3" / "f3.txt").rename(root / "d3" / "moved.txt")  # renamed
            project.checkpoint(f"edit {n}")
            path, payload = _newest_index()
            depths.append(_depth(path))
            if payload[1] is not None:
                assert path.stat().st_size < whole_size / 4
            reader, parsed_reader, _manifest = _answers_as_a_parse(container)
            reader.close()
            parsed_reader.close()
    # Deltas build on deltas up to the limit, then a whole index starts a new chain.
    assert depths[: open_index._MAX_DEPTH] == list(range(1, open_index._MAX_DEPTH + 1))
    assert depths[open_index._MAX_DEPTH :] == [0, 1, 2]


def test_a_delta_whose_parent_is_gone_costs_a_parse_not_a_wrong_answer(tmp_path: Path) -> None:
    root = tmp_path / "p"
    container = _project(root, files=50, checkpoints=1)
    with Project.open(root) as project:
        (root / "d0" / "f0.txt").write_text("changed\n")
        project.checkpoint("edit")
    path, payload = _newest_index()
    assert payload[1] is not None
    (path.parent / str(payload[1])).unlink()
    reader, manifest, index = _indexed(container)
    with reader:
        assert index.hits == 0 and manifest is None  # parsed as if there were no index
    # The next open of this commit writes a whole index again.
    with Project.open(root, read_only=True) as project:
        assert project.manifest == _parsed(container)[1]
    reader, manifest, index = _indexed(container)
    with reader:
        assert index.hits == 2


@pytest.mark.parametrize(
    "spans",
    [
        [0, 0, 3, 9, 0, 1],  # a source that is neither the parent nor the new rows
        [0, 0, 4],  # past the end of the parent
        [0, 2, 1, 1, 0, 1],  # a run that ends before it starts
        [0, 0, 2],  # too few rows
        [0, 0, 3, 1, 0],  # not whole triples
    ],
)
def test_malformed_delta_runs_are_refused(spans: list[int]) -> None:
    from array import array

    parent = [["a", "b", "c"]]
    table = ("d", array("q", spans).tobytes(), 1, [open_index._pack(["n"], "str")], 4)
    with pytest.raises(ValueError):
        open_index._unpack_table(table, parent)
    good = ("d", array("q", [0, 0, 3, 1, 0, 1]).tobytes(), 1, table[3], 4)
    assert open_index._unpack_table(good, parent) == [["a", "b", "c", "n"]]
    with pytest.raises(ValueError):
        open_index._unpack_table(good, None)  # a delta without its parent


def test_old_versions_file_states_are_built_only_when_read(tmp_path: Path) -> None:
    """Opening from the index leaves each version's states as columns until something
    reads them (a checkpoint never does); once read they equal the parse."""
    container = _project(tmp_path / "p", files=20, checkpoints=2)
    reader, manifest, _index = _indexed(container)
    parsed_reader, parsed = _parsed(container)
    with reader, parsed_reader:
        assert manifest is not None
        first = manifest.versions[0].changes
        assert isinstance(first, open_index._LazyStates) and first._states is None
        assert len(first) == len(parsed.versions[0].changes)
        assert list(first) == list(parsed.versions[0].changes)  # still not built
        assert first._states is None
        assert dict(first.items()) == dict(parsed.versions[0].changes)
        assert first == parsed.versions[0].changes and first._states is not None
