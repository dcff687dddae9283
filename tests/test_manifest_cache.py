"""The manifest a checkpoint keeps in memory is exactly what reading it back gives."""

from __future__ import annotations

from pathlib import Path

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
