"""Regenerate tests/golden/format-2.0.0.jcf (only when the format version changes)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from kamaros_app.engine import Project

GOLDEN = Path(__file__).with_name("golden") / "format-2.0.0.jcf"


def versions() -> list[tuple[str, dict[str, bytes]]]:
    """The folder at each checkpoint; the golden test checks every byte of each."""
    story = [f"Line {i} of the story.\r\n" for i in range(200)]
    v1 = {
        "story.txt": "".join(story).encode(),
        "art/cover.bin": bytes(range(256)) * 8,
        "notes/é ü.md": "ünïcödé\n".encode(),
    }
    story[10] = "An edited line.\r\n"
    v2 = {**v1, "story.txt": "".join(story).encode(), "run.sh": b"#!/bin/sh\necho hi\n"}
    v3 = {k: v for k, v in v2.items() if k != "art/cover.bin"}
    v3["notes/renamed.md"] = v3.pop("notes/é ü.md")
    story[150] = "Another edit, no newline at the end"
    v3["story.txt"] = "".join(story).encode()
    return [("first", v1), ("second", v2), ("third", v3)]


def set_folder(root: Path, files: dict[str, bytes]) -> None:
    """Make the project folder hold exactly `files` (its history folder aside)."""
    for old in [
        p for p in root.rglob("*") if p.is_file() and ".kamaros" not in p.relative_to(root).parts
    ]:
        old.unlink()
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "p"
        root.mkdir()
        with Project.init(root) as project:
            for message, files in versions():
                set_folder(root, files)
                project.checkpoint(message, tag=message)
            GOLDEN.parent.mkdir(exist_ok=True)
            shutil.copyfile(project.container_path, GOLDEN)
    print(f"wrote {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    main()
