"""Kamaros as a desktop program: the bundle's entry point, desktop integration, one instance.

- `bundle_main()`: the one executable of the PyInstaller bundle. A first argument that is a
  `kamaros` subcommand (or `-C` / `-q`) runs the command line; anything else (nothing, a
  folder, a `.jcf` file, window options) opens the window.
- `install_desktop()`: `kamaros install-desktop` copies the menu entry, the `.jcf` file type
  (shared-mime-info), the icons and the AppStream metainfo into the user's XDG data folder,
  with `Exec=` pointing at the running program, then refreshes the desktop's caches.
- `SingleInstance`: one Kamaros per user. A second start hands its path to the running
  instance over a per-user local socket (QLocalServer) and leaves; the running instance
  opens it in a new window.

Qt is imported lazily: the command line never loads it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtCore import QObject

__all__ = [
    "APP_ID",
    "CLI_COMMANDS",
    "ICON_SIZES",
    "MIME_TYPE",
    "InstallReport",
    "bundle_main",
    "hand_off",
    "install_desktop",
    "instance_name",
    "is_cli_invocation",
    "render_icons",
    "start_instance_server",
]

APP_ID = "io.kamaros.Kamaros"
"""Reverse-DNS id: AppStream component id, macOS bundle identifier."""
MIME_TYPE = "application/x-jcf"
ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)
CLI_COMMANDS = frozenset(
    {
        "init",
        "status",
        "checkpoint",
        "log",
        "show",
        "diff",
        "restore",
        "tag",
        "verify",
        "gc",
        "export",
        "import",
        "cat",
        "install-desktop",
    }
)
"""First arguments that make the bundle's executable run the command line."""
_CLI_GLOBAL_OPTIONS = frozenset({"-C", "-q", "--quiet"})

HAND_OFF_TIMEOUT_MS = 3_000


# ---------------------------------------------------------------- the bundle's entry point


def is_cli_invocation(argv: Sequence[str]) -> bool:
    """True when `argv` (without the program name) asks for the command line."""
    if not argv:
        return False
    first = argv[0]
    return first in CLI_COMMANDS or first in _CLI_GLOBAL_OPTIONS or first.startswith("-C")


def bundle_main(argv: Sequence[str] | None = None) -> int:
    """`kamaros [COMMAND ...]`: the command line for a subcommand, otherwise the window."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["-h"], ["--help"]):
        print("kamaros [PATH | --demo]          open the window (on a folder or a .jcf file)")
        print("kamaros COMMAND [OPTIONS ...]    the command line; its commands are:\n")
        from kamaros_app.cli import build_parser

        build_parser().print_help()
        return 0
    if is_cli_invocation(args):
        from kamaros_app.cli import main as cli_main

        return cli_main(args)
    from kamaros_app.ui.app import main as app_main

    return app_main(args)


# ---------------------------------------------------------------- desktop integration


def _linux_dir() -> Path:
    """`packaging/linux/` of the source tree, or its copy inside the bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "packaging" / "linux"
    return Path(__file__).resolve().parent.parent / "packaging" / "linux"


def _svg_path() -> Path:
    return Path(__file__).resolve().parent / "resources" / "icons" / "kamaros.svg"


def launcher_command() -> list[str]:
    """The command a desktop entry runs: the bundle's executable, or `kamaros-app`."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    script = Path(sys.executable).parent / "kamaros-app"
    if script.exists():
        return [str(script)]
    found = shutil.which("kamaros-app")
    if found:
        return [found]
    return [sys.executable, "-m", "kamaros_app.ui.app"]


def _desktop_quote(arg: str) -> str:
    """Quote one Exec argument as the Desktop Entry Specification asks."""
    if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`="):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
    escaped = escaped.replace("$", "\\$")
    return f'"{escaped}"'


def desktop_entry(template: str, command: Sequence[str]) -> str:
    """The `.desktop` text with `Exec=` (and `TryExec=`) pointing at `command`."""
    exec_line = " ".join(_desktop_quote(a) for a in command).replace("%", "%%") + " %F"
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_line}"
        elif line.startswith("TryExec="):
            line = f"TryExec={command[0]}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def render_icons(out_dir: Path, sizes: Sequence[int] = ICON_SIZES, name: str = "kamaros") -> None:
    """Render the app icon SVG to `out_dir/NxN/apps/NAME.png` (hicolor layout) with Qt."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(_svg_path()))
    if not renderer.isValid():
        raise RuntimeError(f"cannot read the icon {_svg_path()}")
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        target = out_dir / f"{size}x{size}" / "apps" / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(target)):
            raise OSError(f"could not write {target}")
    scalable = out_dir / "scalable" / "apps" / f"{name}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_svg_path(), scalable)


def _data_home() -> Path:
    value = os.environ.get("XDG_DATA_HOME")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".local" / "share"


@dataclass
class InstallReport:
    data_home: Path
    files: list[Path] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    command: list[str] = field(default_factory=list)


def install_desktop(
    data_home: Path | None = None,
    *,
    command: Sequence[str] | None = None,
    run_tools: bool = True,
    log: Callable[[str], None] | None = None,
) -> InstallReport:
    """Register Kamaros with the desktop for the current user (XDG data folder)."""
    data_home = data_home or _data_home()
    source = _linux_dir()
    command = list(command or launcher_command())
    report = InstallReport(data_home=data_home, command=command)

    def write(target: Path, text: str | None = None, copy_from: Path | None = None) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        if copy_from is not None:
            shutil.copyfile(copy_from, target)
        else:
            assert text is not None
            target.write_text(text, encoding="utf-8")
        report.files.append(target)

    template = (source / "kamaros.desktop").read_text(encoding="utf-8")
    write(data_home / "applications" / f"{APP_ID}.desktop", desktop_entry(template, command))
    write(
        data_home / "mime" / "packages" / "kamaros-mime.xml",
        copy_from=source / "kamaros-mime.xml",
    )
    write(
        data_home / "metainfo" / f"{APP_ID}.metainfo.xml",
        copy_from=source / f"{APP_ID}.metainfo.xml",
    )
    icons = data_home / "icons" / "hicolor"
    prebuilt = source / "icons" / "hicolor"
    if prebuilt.is_dir():  # rendered at build time (the bundle)
        for png in sorted(prebuilt.rglob("*")):
            if png.is_file():
                write(icons / png.relative_to(prebuilt), copy_from=png)
    else:
        render_icons(icons)
        report.files.extend(sorted(p for p in icons.rglob("kamaros.*") if p.is_file()))
    # The MIME type's icon: desktops look for application-x-jcf, then the generic one.
    for size in ICON_SIZES:
        app_png = icons / f"{size}x{size}" / "apps" / "kamaros.png"
        if app_png.exists():
            mime_png = icons / f"{size}x{size}" / "mimetypes" / "application-x-jcf.png"
            write(mime_png, copy_from=app_png)

    tools: list[list[str]] = [
        ["update-mime-database", str(data_home / "mime")],
        ["update-desktop-database", "-q", str(data_home / "applications")],
        ["gtk-update-icon-cache", "-q", "-t", "-f", str(icons)],
    ]
    if run_tools:
        for tool in tools:
            if shutil.which(tool[0]) is None:
                continue
            result = subprocess.run(tool, capture_output=True, text=True, check=False)
            report.ran.append(tool[0] if result.returncode == 0 else f"{tool[0]} (failed)")
            if result.returncode != 0 and log is not None:
                log(f"{tool[0]} failed: {result.stderr.strip()}")
    return report


# ---------------------------------------------------------------- one instance per user


def instance_name() -> str:
    """The per-user local socket: in $XDG_RUNTIME_DIR when there is one."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime) and sys.platform != "win32":
        return os.path.join(runtime, "kamaros-app.sock")
    user = str(os.getuid()) if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return f"kamaros-app-{user}"


def _encode(paths: Sequence[Path | str]) -> bytes:
    absolute = [os.path.abspath(os.path.expanduser(str(p))) for p in paths]
    return json.dumps({"open": absolute}).encode("utf-8") + b"\n"


def hand_off(paths: Sequence[Path | str], name: str | None = None) -> bool:
    """Give `paths` (none: just show yourself) to a running instance; False if none runs."""
    from PySide6.QtNetwork import QLocalSocket

    socket = QLocalSocket()
    socket.connectToServer(name or instance_name())
    if not socket.waitForConnected(HAND_OFF_TIMEOUT_MS // 3):
        return False
    socket.write(_encode(paths))
    socket.flush()
    answered = False
    while socket.waitForReadyRead(HAND_OFF_TIMEOUT_MS):
        if socket.canReadLine():
            answered = bytes(socket.readLine().data()).strip() == b"ok"
            break
    socket.disconnectFromServer()
    return answered


def start_instance_server(
    open_paths: Callable[[list[Path]], None],
    name: str | None = None,
    parent: QObject | None = None,
) -> Any:
    """Listen for other starts; `open_paths(paths)` runs on the UI thread for each.

    Returns the QLocalServer, or None when another instance holds the name.
    """
    from PySide6.QtNetwork import QLocalServer, QLocalSocket

    name = name or instance_name()
    # Ask first: with access options Qt binds elsewhere and renames over the name, so
    # listen() would silently take the name from a live instance.
    probe = QLocalSocket()
    probe.connectToServer(name)
    if probe.waitForConnected(300):
        probe.disconnectFromServer()
        return None
    server = QLocalServer(parent)
    server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
    if not server.listen(name):
        QLocalServer.removeServer(name)  # a stale socket left by a crashed instance
        if not server.listen(name):
            server.deleteLater()
            return None

    def connection() -> None:
        while server.hasPendingConnections():
            client = server.nextPendingConnection()
            buffer = bytearray()

            def ready(client: Any = client, buffer: bytearray = buffer) -> None:
                buffer.extend(bytes(client.readAll().data()))
                if b"\n" not in buffer:
                    return
                line = bytes(buffer).split(b"\n", 1)[0]
                try:
                    message = json.loads(line.decode("utf-8"))
                    paths = [Path(p) for p in message.get("open", []) if isinstance(p, str)]
                except (ValueError, AttributeError):
                    client.write(b"error\n")
                    client.disconnectFromServer()
                    return
                client.write(b"ok\n")
                client.flush()
                client.disconnectFromServer()
                open_paths(paths)

            client.readyRead.connect(ready)
            client.disconnected.connect(client.deleteLater)
            if client.bytesAvailable():
                ready()

    server.newConnection.connect(connection)
    return server
