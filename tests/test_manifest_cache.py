"""The manifest a checkpoint keeps in memory is exactly what reading it back gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from kamaros_app.engine import Project
from kamaros_app.engine.layout import MANIFEST_ENTRY
from kamaros_app.engine.manifest import Manifest


def test_remembered_manifest_equals_the_one_on_disk(project_dir: Path) -> None:
    (project_dir / "b.txt").write_text("b\n" * 50)
    (project_dir / "a.bin").write_bytes(bytes(range(256)))
    with Project.init(project_dir) as project:
        project.checkpoint("first")
        (project_dir / "b.txt").write_text("b\n" * 49 + "changed\n")
        (project_dir / "0-new.txt").write_text("new\n")
        (project_dir / "a.bin").rename(project_dir / "z.bin")
        project.checkpoint("second", tag="v2")
        in_memory = project.manifest
        raw = project.store.reader.read_entry(MANIFEST_ENTRY, 1 << 30)
    assert Manifest.from_json_bytes(raw) == in_memory
    assert list(in_memory.fileMap) == sorted(in_memory.fileMap)
    with Project.open(project_dir, read_only=True) as again:
        assert again.manifest == in_memory


def test_native_and_pure_json_give_the_same_manifest_and_bytes(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kamaros_app.engine.native import NATIVE_ENV

    (project_dir / "grüße 😀.txt").write_text("ünïcödé\n")
    with Project.init(project_dir) as project:
        project.checkpoint("first — with “quotes” and emoji 😀")
        raw = project.store.reader.read_entry(MANIFEST_ENTRY, 1 << 30)
    monkeypatch.setenv(NATIVE_ENV, "1")
    native = Manifest.from_json_bytes(raw)
    native_bytes = native.to_json_bytes()
    monkeypatch.setenv(NATIVE_ENV, "0")
    pure = Manifest.from_json_bytes(raw)
    assert native == pure
    assert native_bytes == pure.to_json_bytes() == raw


def test_integers_beyond_64_bits_stay_exact() -> None:
    golden = Path(__file__).parent / "golden" / "format-2.0.0.jcf"
    from kamaros_app.engine.zipcontainer import ContainerReader

    with ContainerReader.open(golden) as reader:
        raw = reader.read_entry(MANIFEST_ENTRY, 1 << 30)
    # A big integer inside `config`: orjson would make it a float; json keeps it exact.
    tweaked = raw.replace(b'"config":{}', b'"config":{"big":123456789012345678901234567890}')
    assert tweaked != raw
    assert Manifest.from_json_bytes(tweaked).config["big"] == 123456789012345678901234567890
