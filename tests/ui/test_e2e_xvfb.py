"""The whole app on a real X server (Xvfb), driven through the main flow, with screenshots.

Screenshots land in build/screens/e2e/ so CI keeps them next to the run and people can look.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "build" / "screens" / "e2e"


@pytest.fixture
def x_display():
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (scripts/test.sh installs it)")
    for number in range(90, 110):
        if not Path(f"/tmp/.X11-unix/X{number}").exists():
            break
    server = subprocess.Popen(
        [xvfb, f":{number}", "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            pytest.fail("Xvfb did not start")
        time.sleep(0.05)
    yield f":{number}"
    server.terminate()
    server.wait(10)


def test_open_edit_save_diff_restore_on_a_real_x_server(x_display: str, tmp_path: Path) -> None:
    shutil.rmtree(SCREENS, ignore_errors=True)
    env = {
        **os.environ,
        "DISPLAY": x_display,
        "QT_QPA_PLATFORM": "xcb",
        "PYTHONPATH": str(ROOT),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    result = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("xvfb_driver.py")),
            str(tmp_path / "project"),
            str(SCREENS),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    assert facts["story_after_restore"] == "# A story\n\nIt was a quiet evening.\nThe end.\n"
    assert "Restored" in facts["notice"] and "First draft" in facts["notice"]
    assert facts["diff_kind"] == "text"
    names = [Path(p).name for p in facts["shots"]]
    assert names == [
        "01-open.png",
        "02-edited.png",
        "03-save-dialog.png",
        "04-checkpoint-and-diff.png",
        "05-first-checkpoint.png",
        "06-restore-confirm.png",
        "07-restored.png",
    ]
    for shot in facts["shots"]:
        image = QImage(shot)
        assert image.width() == 1400 and image.height() == 900, shot
        # a real window, not an empty screen: many different colours
        colours = {image.pixel(x, y) for x in range(0, 1400, 37) for y in range(0, 900, 29)}
        assert len(colours) > 20, f"{shot} looks empty"
