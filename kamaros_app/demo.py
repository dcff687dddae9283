"""The bundled demo project: a short story with a few checkpoints of history.

The demo is built, not shipped as a container: `kamaros_app/resources/demo/` holds the text of
each stage, and `ensure_demo_project` replays the stages through the engine API into a fresh
folder, so the demo always matches the engine's current format. The cover picture is drawn
here with zlib and struct (no imaging library). Pure Python: no Qt.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import zlib
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

import platformdirs

from kamaros_app.engine import Project

__all__ = ["DEMO_AUTHOR", "DEMO_EMAIL", "cover_png", "default_demo_path", "ensure_demo_project"]

DEMO_AUTHOR = "Kamaros demo"
DEMO_EMAIL = "demo@kamaros.invalid"

_Color = tuple[int, int, int]


def default_demo_path() -> Path:
    """Where the demo project lives unless told otherwise (the user data folder)."""
    return platformdirs.user_data_path("kamaros") / "demo-project"


def ensure_demo_project(base: Path | None = None) -> Path:
    """Return the demo project folder, creating it with its history if it does not exist.

    Args:
        base: folder to create `demo-project` in; defaults to the user data folder.

    The project is built in a temporary sibling folder and renamed into place when complete,
    so an interrupted build never leaves a half-made demo behind. An existing folder is
    returned untouched (the user may have edited it: that is the point of the demo).
    """
    target = (base / "demo-project") if base is not None else default_demo_path()
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".demo-project-", dir=target.parent))
    try:
        _build(staging)
        try:
            staging.rename(target)
        except OSError:
            if not target.exists():  # lost a race only if someone else made it
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _build(folder: Path) -> None:
    res = files("kamaros_app") / "resources" / "demo"

    def put(name: str, resource: str) -> None:
        (folder / name).write_bytes((res / resource).read_bytes())

    def step(message: str, tag: str | None, change: Callable[[], None]) -> None:
        change()
        with Project.open(folder) as project:
            project.checkpoint(message, tag=tag, author=DEMO_AUTHOR, email=DEMO_EMAIL)

    def first_draft() -> None:
        put("about-this-demo.txt", "about-this-demo.txt")
        put("story.md", "story-1.md")
        put("characters.csv", "characters-1.csv")
        put("notes.txt", "notes.txt")
        put("titles.txt", "titles.txt")
        (folder / "cover.png").write_bytes(cover_png(dusk=False))

    def storm() -> None:
        put("story.md", "story-2.md")
        (folder / "cover.png").write_bytes(cover_png(dusk=True))

    def ferryman() -> None:
        os.rename(folder / "notes.txt", folder / "research.txt")
        put("characters.csv", "characters-2.csv")

    def morning() -> None:
        put("story.md", "story-3.md")
        (folder / "titles.txt").unlink()

    Project.init(folder).close()
    step("First draft", "first-draft", first_draft)
    step("Add the storm scene; cover at dusk", None, storm)
    step("Name the ferryman; rename notes to research.txt", None, ferryman)
    step("Add the morning ending; settle on a title", "draft-2", morning)
    # One unsaved edit, so the window has something to offer for "Save Checkpoint".
    put("story.md", "story-4.md")


def cover_png(*, dusk: bool, width: int = 192, height: int = 128) -> bytes:
    """Draw the story's cover: sky, sun, sea and a lighthouse, at dawn or at dusk."""
    sky_top, sky_low = (
        ((34, 40, 92), (247, 140, 92)) if dusk else ((120, 180, 235), (250, 226, 180))
    )
    sea: _Color = (30, 52, 86) if dusk else (46, 110, 160)
    sun: _Color = (255, 196, 90) if dusk else (255, 244, 200)
    sun_x, sun_y, sun_r = (112, 80, 16) if dusk else (52, 40, 13)
    horizon = height * 2 // 3
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # PNG filter type "None"
        for x in range(width):
            rows.extend(
                _pixel(x, y, width, horizon, sky_top, sky_low, sea, sun, sun_x, sun_y, sun_r)
            )
    return _png(width, height, bytes(rows))


def _pixel(
    x: int,
    y: int,
    width: int,
    horizon: int,
    sky_top: _Color,
    sky_low: _Color,
    sea: _Color,
    sun: _Color,
    sun_x: int,
    sun_y: int,
    sun_r: int,
) -> _Color:
    tower_left, tower_right, tower_top = width - 46, width - 34, horizon - 52
    if tower_left <= x < tower_right and tower_top <= y < horizon + 4:
        stripe = ((y - tower_top) // 9) % 2 == 0
        return (200, 40, 48) if stripe else (240, 236, 228)
    if tower_left - 3 <= x < tower_right + 3 and tower_top - 8 <= y < tower_top:
        return (255, 230, 120)  # the lamp room
    rock_x, rock_y = (tower_left + tower_right) // 2, horizon + 3
    if ((x - rock_x) / 24) ** 2 + ((y - rock_y) / 7) ** 2 <= 1:
        return (58, 54, 50) if (x * 7 + y * 3) % 11 else (84, 78, 70)  # the rock
    if y >= horizon:
        shade = (y - horizon) * 2
        wave = 10 if (x + 3 * y) % 23 == 0 else 0
        return (
            max(0, sea[0] - shade // 3 + wave),
            max(0, sea[1] - shade // 3 + wave),
            max(0, sea[2] - shade // 4 + wave),
        )
    if (x - sun_x) ** 2 + (y - sun_y) ** 2 <= sun_r**2:
        return sun
    t = y / horizon
    return (
        round(sky_top[0] + (sky_low[0] - sky_top[0]) * t),
        round(sky_top[1] + (sky_low[1] - sky_top[1]) * t),
        round(sky_top[2] + (sky_low[2] - sky_top[2]) * t),
    )


def _png(width: int, height: int, raw_rows: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw_rows, 9))
        + chunk(b"IEND", b"")
    )
