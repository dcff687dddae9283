"""Files read, hashed and compressed on worker threads come back right, in order."""

from __future__ import annotations

import os
import random
import zlib
from pathlib import Path

import pytest

from kamaros_app.engine import Project, deflate
from kamaros_app.engine.hashing import hash_bytes
from kamaros_app.engine.prepare import (
    Changed,
    ParallelPreparer,
    PreparedFile,
    prepare_file,
)
from kamaros_app.engine.zipcontainer import DEFLATED, STORED

TEXT = "".join(f"line {i} of some source-like text\r\n" for i in range(5000)).encode()


def _inflate(prepared: PreparedFile) -> bytes:
    if prepared.method == STORED:
        return prepared.payload
    return zlib.decompress(prepared.payload, -15)


@pytest.mark.parametrize("native", ["1", "0"])
def test_text_is_deflated_hashed_and_kept_on_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, native: str
) -> None:
    monkeypatch.setenv(deflate.NATIVE_ENV, native)
    (tmp_path / "a.txt").write_bytes(TEXT)
    prepared = prepare_file(tmp_path, "a.txt", keep_text=True)
    assert isinstance(prepared, PreparedFile)
    assert prepared.method == DEFLATED and len(prepared.payload) < len(TEXT) / 3
    assert _inflate(prepared) == TEXT  # CRLF untouched
    assert prepared.digest == hash_bytes(TEXT)
    assert prepared.crc == zlib.crc32(TEXT)
    assert prepared.is_text and prepared.text == TEXT.decode()
    assert prepare_file(tmp_path, "a.txt", keep_text=False).text is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("noise.bin", random.Random(1).randbytes(400_000)),
        ("small-noise.dat", random.Random(2).randbytes(3_000)),
        ("photo.PNG", TEXT),  # a known compressed format is never recompressed
        ("empty.txt", b""),
    ],
)
def test_what_does_not_shrink_is_stored(tmp_path: Path, name: str, data: bytes) -> None:
    (tmp_path / name).write_bytes(data)
    prepared = prepare_file(tmp_path, name, keep_text=False)
    assert isinstance(prepared, PreparedFile)
    assert prepared.method == STORED and prepared.payload == data
    if name.endswith((".bin", ".dat")):
        assert not prepared.is_text


def test_results_come_in_order_with_vanished_files_reported(tmp_path: Path) -> None:
    rng = random.Random(3)
    names = [f"f{i:03d}.txt" for i in range(300)]
    sizes = {}
    for name in names:
        data = TEXT[: rng.randrange(1, len(TEXT))]
        (tmp_path / name).write_bytes(data)
        sizes[name] = len(data)
    (tmp_path / "f150.txt").unlink()
    with ParallelPreparer(tmp_path, names, sizes, frozenset()) as prepared:
        results = list(prepared)
    assert [path for path, _ in results] == names
    for path, outcome in results:
        if path == "f150.txt":
            assert isinstance(outcome, FileNotFoundError)
        else:
            assert isinstance(outcome, PreparedFile)
            assert _inflate(outcome) == (tmp_path / path).read_bytes()


def test_unreadable_file_is_an_error_not_a_skip(tmp_path: Path) -> None:
    (tmp_path / "was-a-file").mkdir()  # replaced by a folder between status and save
    with ParallelPreparer(tmp_path, ["was-a-file"], {"was-a-file": 1}, frozenset()) as p:
        [(_, outcome)] = list(p)
    assert isinstance(outcome, IsADirectoryError)


def test_a_file_that_changes_while_read_is_handed_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "moving.txt").write_bytes(b"before\n")
    real_stat = os.stat
    calls = {"n": 0}

    def stat_that_sees_a_change(path: object, *args: object, **kwargs: object) -> os.stat_result:
        st = real_stat(path, *args, **kwargs)  # type: ignore[arg-type]
        calls["n"] += 1
        if calls["n"] == 2:  # the stat after reading: pretend a write landed meanwhile
            (tmp_path / "moving.txt").write_bytes(b"after, longer\n")
            return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]
        return st

    monkeypatch.setattr(os, "stat", stat_that_sees_a_change)
    assert isinstance(prepare_file(tmp_path, "moving.txt", keep_text=False), Changed)


def test_checkpoints_with_and_without_native_deflate_restore_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for native in ("1", "0"):
        monkeypatch.setenv(deflate.NATIVE_ENV, native)
        root = tmp_path / native
        root.mkdir()
        (root / "a.txt").write_bytes(TEXT)
        (root / "b.bin").write_bytes(random.Random(4).randbytes(70_000))
        with Project.init(root) as project:
            first = project.checkpoint("first")
            (root / "a.txt").write_bytes(TEXT.replace(b"line 7 ", b"LINE 7 "))
            project.checkpoint("second")
            project.restore(first.id)
            assert (root / "a.txt").read_bytes() == TEXT
            assert project.verify().ok
