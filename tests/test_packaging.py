"""Packaging: the bundle's dispatch, the Linux desktop files, `kamaros install-desktop`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kamaros_app import cli, desktop
from kamaros_app.engine import Project

ROOT = Path(__file__).resolve().parent.parent
LINUX = ROOT / "packaging" / "linux"
METAINFO = LINUX / f"{desktop.APP_ID}.metainfo.xml"


def test_cli_commands_are_the_parsers_subcommands() -> None:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    assert set(action.choices) == desktop.CLI_COMMANDS  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("argv", "is_cli"),
    [
        ([], False),
        (["/some/folder"], False),
        (["project.jcf"], False),
        (["--demo"], False),
        (["--self-test"], False),
        (["--version"], False),
        (["status"], True),
        (["checkpoint", "-m", "x"], True),
        (["install-desktop"], True),
        (["-C", "dir", "log"], True),
        (["-Cdir", "log"], True),
        (["-q", "verify"], True),
    ],
)
def test_bundle_dispatch(argv: list[str], is_cli: bool) -> None:
    assert desktop.is_cli_invocation(argv) is is_cli


def test_bundle_main_runs_the_command_line(
    project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project_dir / "a.txt").write_text("a\n")
    assert desktop.bundle_main(["init", str(project_dir)]) == 0
    assert desktop.bundle_main(["-C", str(project_dir), "status", "--json"]) == 0
    assert '"added"' in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils")
def test_bundle_help_explains_both_window_and_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert desktop.bundle_main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "open the window" in out and "checkpoint" in out and "install-desktop" in out


def test_desktop_entry_validates() -> None:
    result = subprocess.run(
        ["desktop-file-validate", str(LINUX / "kamaros.desktop")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstream not installed")
def test_metainfo_validates() -> None:
    result = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(METAINFO)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_metainfo_matches_the_app() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == desktop.APP_ID
    versions = [r.get("version") for r in root.iter("release")]
    from kamaros_app import __version__

    assert __version__ in versions


def test_mime_magic_matches_a_real_container(project_dir: Path) -> None:
    """The shared-mime-info magic (name at 30, type at 38) is what the engine writes."""
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    root = ET.parse(LINUX / "kamaros-mime.xml").getroot()
    mime = root.find("m:mime-type", ns)
    assert mime is not None and mime.get("type") == desktop.MIME_TYPE
    outer = mime.find("m:magic/m:match", ns)
    assert outer is not None
    inner = outer.find("m:match", ns)
    assert inner is not None
    (project_dir / "a.txt").write_text("a\n")
    with Project.init(project_dir) as project:
        project.checkpoint("first")
        data = project.container_path.read_bytes()[:64]
    for match in (outer, inner):
        offset, value = int(match.get("offset", "-1")), match.get("value", "").encode()
        assert data[offset : offset + len(value)] == value


def test_desktop_entry_exec_is_quoted() -> None:
    text = desktop.desktop_entry("Exec=kamaros %F\nTryExec=kamaros\n", ["/opt/My Apps/kamaros"])
    assert 'Exec="/opt/My Apps/kamaros" %F' in text
    assert "TryExec=/opt/My Apps/kamaros" in text


def _gio_env(data_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["XDG_DATA_HOME"] = str(data_home)
    env["XDG_CURRENT_DESKTOP"] = "GNOME"  # xdg-mime asks gio, which reads the user database
    return env


def test_install_desktop(
    tmp_path: Path, project_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_home = Path(os.environ["XDG_DATA_HOME"])  # a tmp folder (conftest)
    assert cli.main(["install-desktop"]) == 0
    out = capsys.readouterr().out
    entry = data_home / "applications" / f"{desktop.APP_ID}.desktop"
    assert entry.is_file()
    assert (data_home / "mime" / "packages" / "kamaros-mime.xml").is_file()
    assert (data_home / "metainfo" / f"{desktop.APP_ID}.metainfo.xml").is_file()
    for size in desktop.ICON_SIZES:
        png = data_home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "kamaros.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    exec_line = next(line for line in entry.read_text().splitlines() if line.startswith("Exec="))
    launcher = desktop.launcher_command()
    assert launcher[0] in exec_line and exec_line.endswith(" %F")
    assert "Opens with" in out
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True)
        assert result.returncode == 0, result.stdout
    if not (shutil.which("update-mime-database") and shutil.which("xdg-mime")):
        pytest.skip("shared-mime-info / xdg-utils not installed: file type not checked")
    assert (data_home / "mime" / "mime.cache").is_file()
    (project_dir / "a.txt").write_text("a\n")
    with Project.init(project_dir) as project:
        project.checkpoint("first")
    jcf = tmp_path / "some.jcf"
    assert cli.main(["-C", str(project_dir), "export", str(jcf)]) == 0
    no_suffix = tmp_path / "renamed-project"
    shutil.copyfile(jcf, no_suffix)  # recognised by its magic alone
    for path in (jcf, no_suffix):
        result = subprocess.run(
            ["xdg-mime", "query", "filetype", str(path)],
            capture_output=True,
            text=True,
            env=_gio_env(data_home),
        )
        assert result.stdout.strip() == desktop.MIME_TYPE, (path, result)
    if shutil.which("update-desktop-database"):
        result = subprocess.run(
            ["xdg-mime", "query", "default", desktop.MIME_TYPE],
            capture_output=True,
            text=True,
            env=_gio_env(data_home),
        )
        assert result.stdout.strip() == f"{desktop.APP_ID}.desktop", result


def test_render_icons(tmp_path: Path) -> None:
    desktop.render_icons(tmp_path, sizes=(16, 48))
    from PySide6.QtGui import QImage

    image = QImage(str(tmp_path / "48x48" / "apps" / "kamaros.png"))
    assert (image.width(), image.height()) == (48, 48)
    assert image.pixelColor(24, 24).alpha() == 255  # the tile, not transparency
    assert (tmp_path / "scalable" / "apps" / "kamaros.svg").is_file()


def test_bundle_entry_module_imports() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import runpy; runpy.run_path('packaging/entry.py')"],
        cwd=ROOT,
        capture_output=True,
    )
    assert result.returncode == 0


def test_smoke_test_without_a_path_saves_and_restores_a_fresh_demo(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_RUNTIME_DIR": str(tmp_path),
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from kamaros_app.ui.app import main; raise SystemExit(main(['--smoke-test']))",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "saved checkpoint" in output and "restored it" in output
    assert not (tmp_path / "data" / "kamaros" / "demo-project").exists()  # yours is untouched
