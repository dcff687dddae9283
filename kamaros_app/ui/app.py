"""`kamaros-app [PATH]`: start the desktop window on a project folder (default: the demo)."""

from __future__ import annotations

import argparse
import os
import sys
from importlib.resources import files
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from kamaros_app import __version__
from kamaros_app.ui.main_window import MainWindow

__all__ = ["main"]

SMOKE_TEST_TIMEOUT_MS = 120_000


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="kamaros-app",
        description="Kamaros: a visual version history for any project folder.",
    )
    parser.add_argument(
        "path", nargs="?", type=Path, help="project folder to open (default: the demo project)"
    )
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="open the project, show the window, then quit: exit 0 if it loaded, 1 if not",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="save a picture of the window to PNG after loading (implies --smoke-test)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser.parse_args(argv)


def _application() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    app.setApplicationName("Kamaros")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("kamaros")
    icon = files("kamaros_app") / "resources" / "icons" / "kamaros.svg"
    app.setWindowIcon(QIcon(str(icon)))
    return app


def _arm_smoke_test(app: QApplication, window: MainWindow, screenshot: Path | None) -> None:
    def loaded() -> None:
        QTimer.singleShot(300, finish)  # let the window paint once before the picture

    def finish() -> None:
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            if not window.grab().save(str(screenshot)):
                print(f"kamaros-app: could not write {screenshot}", file=sys.stderr)
                app.exit(1)
                return
        print(f"kamaros-app: opened {window.root} ({window.model.rowCount()} checkpoints)")
        app.exit(0)

    def failed(message: str) -> None:
        print(f"kamaros-app: {message}", file=sys.stderr)
        app.exit(1)

    def timed_out() -> None:
        print("kamaros-app: the project did not load in time", file=sys.stderr)
        app.exit(2)

    window.sig_loaded.connect(loaded)
    window.sig_failed.connect(failed)
    QTimer.singleShot(SMOKE_TEST_TIMEOUT_MS, timed_out)


def _no_display() -> bool:
    """True on X11/Wayland systems with no screen to show a window on (and no platform set)."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    smoke = args.smoke_test or args.screenshot is not None
    if _no_display() and QApplication.instance() is None:
        if not smoke:
            print(
                "kamaros-app: no display found ($DISPLAY and $WAYLAND_DISPLAY are unset).\n"
                "Run it in a desktop session (or over 'ssh -X'); to check that it works "
                "without a screen, run 'kamaros-app --smoke-test'.",
                file=sys.stderr,
            )
            return 2
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    app = _application()
    window = MainWindow(show_dialogs=not smoke)
    window.show()
    if args.path is not None:
        window.open_folder(args.path)
    else:
        window.open_demo()
    if smoke:
        _arm_smoke_test(app, window, args.screenshot)
    code = app.exec()
    window.runner.wait()
    return code


if __name__ == "__main__":
    sys.exit(main())
