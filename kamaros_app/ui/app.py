"""`kamaros-app [PATH]`: the application, its windows, and the welcome screen."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from kamaros_app import __version__
from kamaros_app.demo import default_demo_path, ensure_demo_project
from kamaros_app.engine import (
    CancelToken,
    History,
    InvalidArgumentError,
    KamarosError,
    NotAProjectError,
    Project,
    ProjectExistsError,
)
from kamaros_app.ui import theme
from kamaros_app.ui.context import AppContext
from kamaros_app.ui.errors import ErrorDialog, configure_logging, install_excepthook
from kamaros_app.ui.icons import app_icon
from kamaros_app.ui.settings import THEMES, Settings
from kamaros_app.ui.welcome import PathDropFilter, WelcomeWindow
from kamaros_app.ui.worker import TaskRunner

__all__ = ["WindowFactory", "WindowManager", "main"]

SMOKE_TEST_TIMEOUT_MS = 120_000
SETTLE_MS = 300
"""After a window says it has loaded, let it paint once before the picture is taken."""
NO_LOADED_SIGNAL_MS = 2_000
"""Windows without `sig_loaded` / `loaded` get this long before the smoke test ends."""


logger = logging.getLogger("kamaros.app")

WindowFactory = Callable[..., QWidget]
"""`factory(context, path, standalone=bool) -> window`; the window has `sig_closed(object)`."""


def project_window_factory(context: AppContext, path: Path, *, standalone: bool) -> QWidget:
    """The real project window (imported here, so the rest works without it)."""
    from kamaros_app.ui.project_window import ProjectWindow

    return ProjectWindow(context, path, standalone=standalone)


def ask_start_history(parent: QWidget | None, folder: Path) -> bool:
    """ "Start keeping the history of FOLDER?" Yes / Not Now."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Start keeping history?")
    box.setText(f"Start keeping the history of {folder.name or folder}?")
    box.setInformativeText(
        f"{folder}\n\nKamaros will keep its history in a .kamaros folder inside it. "
        "Your files are not changed."
    )
    yes = box.addButton(QMessageBox.StandardButton.Yes)
    box.addButton("Not Now", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(yes)
    box.exec()
    return box.clickedButton() is yes


def _start_history(folder: Path, author: str) -> Path:
    try:
        with Project.init(folder, author=author or None) as project:
            return project.root
    except ProjectExistsError:  # someone else started it meanwhile: just open it
        return folder


class WindowManager(QObject):
    """One window per open project; the welcome window when none is open.

    Owns the AppContext every window gets. Opening a project that is already open raises
    its window; the welcome window hides once a project opens and comes back when the
    last project window closes; closing the welcome window with no project open quits.
    """

    sig_window_opened = Signal(object, object)
    """A project window was created and shown: the window, its path."""
    sig_welcome_shown = Signal(object)
    """The welcome window was shown (it is passed along)."""

    def __init__(
        self,
        settings: Settings,
        *,
        window_factory: WindowFactory | None = None,
        ask_start: Callable[[QWidget | None, Path], bool] = ask_start_history,
        quit_app: Callable[[], None] | None = None,
        demo_base: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.runner = TaskRunner(self)
        self._factory = window_factory
        self._ask_start = ask_start
        self._quit_app = quit_app or QApplication.quit
        self._demo_base = demo_base
        self.windows: dict[Path, QWidget] = {}
        self.welcome: WelcomeWindow | None = None
        self.error_dialogs: list[ErrorDialog] = []
        self._starting: set[Path] = set()
        self._leaving = False
        self.on_error: Callable[[str], None] | None = None
        """When set (the smoke test), errors go here instead of to a dialog."""
        self.context = AppContext(
            settings=settings,
            open_path=self.open_path,
            demo_path=self.demo_path,
            show_error=self.show_error,
            apply_theme=self.apply_theme,
            open_demo=self.open_demo,
            quit=self.quit,
        )

    # -- opening ---------------------------------------------------------------------------

    def start(self, path: Path) -> None:
        """Open `path` at start-up; the welcome window shows if nothing opens."""
        self.open_path(path)
        self._show_welcome_if_alone()

    def open_path(self, path: Path) -> None:
        """A folder (with or without history) or a `.jcf` file, each in its own window."""
        path = Path(path).expanduser().absolute()
        if not path.exists():
            self.settings.remove_recent(path)
            error = FileNotFoundError(errno.ENOENT, "No such file or folder", str(path))
            self.show_error(self._dialog_parent(), f"Could not open {path.name}", error)
            return
        path = path.resolve()
        if path.is_file():
            self._open_file(path)
            return
        try:
            root = Project.find_root(path)
        except NotAProjectError:
            self._offer_to_start(path)
            return
        self._open_window(root, standalone=False)

    def _open_file(self, path: Path) -> None:
        if path.suffix.lower() != ".jcf":
            error = InvalidArgumentError(
                f"{path.name} is not a Kamaros project file: open its folder, or a .jcf file"
            )
            self.show_error(self._dialog_parent(), f"Could not open {path.name}", error)
            return
        if path.name == "project.jcf" and path.parent.name == ".kamaros":
            self._open_window(path.parent.parent, standalone=False)  # a project's own file
        else:
            self._open_window(path, standalone=True)

    def _offer_to_start(self, folder: Path) -> None:
        if folder in self._starting:
            return
        self._starting.add(folder)  # one question at a time per folder (double clicks, drops)
        accepted = False
        try:
            accepted = self._ask_start(self._dialog_parent(), folder)
        finally:
            if not accepted:
                self._starting.discard(folder)
        if not accepted:
            return
        author = self.settings.author

        def done(root: Path) -> None:
            self._starting.discard(folder)
            self._open_window(root, standalone=False)

        def failed(exc: BaseException) -> None:
            self._starting.discard(folder)
            self.show_error(
                self._dialog_parent(), f"Could not start the history of {folder.name}", exc
            )
            self._show_welcome_if_alone()

        self.runner.run_write(
            f"Starting the history of {folder.name}",
            lambda _progress, _cancel: _start_history(folder, author),
            done,
            failed,
            cancellable=False,
        )

    def open_from_another_start(self, paths: list[Path]) -> None:
        """Paths handed over by a second start of Kamaros (single instance): each opens
        in its own window; none brings this instance to the front."""
        for path in paths:
            self.open_path(path)
        if paths:
            return
        front = next((w for w in self.windows.values() if shiboken6.isValid(w)), None)
        if front is not None:
            _bring_to_front(front)
        else:
            self.show_welcome()

    def window_for(self, path: Path) -> QWidget | None:
        return self.windows.get(Path(path).expanduser().absolute().resolve())

    def _open_window(self, path: Path, *, standalone: bool) -> QWidget | None:
        existing = self.windows.get(path)
        if existing is not None and shiboken6.isValid(existing):
            _bring_to_front(existing)
            return existing
        try:
            factory = self._factory or project_window_factory
            window = factory(self.context, path, standalone=standalone)
        except Exception as exc:
            logger.exception("Could not create the window for %s", path)
            self.show_error(self._dialog_parent(), f"Could not open {path.name}", exc)
            self._show_welcome_if_alone()
            return None
        self.windows[path] = window
        window.sig_closed.connect(self._window_closed)  # type: ignore[attr-defined]
        PathDropFilter.install(window, self.context)
        window.show()
        _bring_to_front(window)
        self.settings.add_recent(path)
        if self.welcome is not None:
            self.welcome.hide()
        self.sig_window_opened.emit(window, path)
        return window

    def _window_closed(self, window: object) -> None:
        for path, open_window in list(self.windows.items()):
            if open_window is window:
                del self.windows[path]
        if isinstance(window, QWidget) and shiboken6.isValid(window):
            window.deleteLater()
        self._show_welcome_if_alone()

    # -- the demo --------------------------------------------------------------------------

    def demo_path(self) -> Path:
        """The demo project's folder, built now if it does not exist yet."""
        return ensure_demo_project(self._demo_base)

    def open_demo(self) -> None:
        """Open the demo project, building it on the worker the first time."""
        target = (
            self._demo_base / "demo-project" if self._demo_base is not None else default_demo_path()
        )
        if target.exists():
            self.open_path(target)
            return
        base = self._demo_base

        def build(_progress: object, _cancel: CancelToken) -> Path:
            return ensure_demo_project(base)

        def failed(exc: BaseException) -> None:
            self.show_error(self._dialog_parent(), "Could not create the demo project", exc)
            self._show_welcome_if_alone()

        self.runner.run_write(
            "Preparing the demo project", build, self.open_path, failed, cancellable=False
        )

    # -- the welcome window ----------------------------------------------------------------

    def show_welcome(self) -> WelcomeWindow:
        if self.welcome is None or not shiboken6.isValid(self.welcome):
            self.welcome = WelcomeWindow(self.context)
            self.welcome.sig_closed_by_user.connect(self._welcome_closed)
        self.welcome.show()
        _bring_to_front(self.welcome)
        self.sig_welcome_shown.emit(self.welcome)
        return self.welcome

    def _show_welcome_if_alone(self) -> None:
        if not self.windows and not self.runner.busy and not self._leaving:
            self.show_welcome()

    def _welcome_closed(self) -> None:
        if not self.windows and not self._leaving:
            self.quit()

    def _dialog_parent(self) -> QWidget | None:
        active = QApplication.activeWindow()
        if active is not None:
            return active
        if (
            self.welcome is not None
            and shiboken6.isValid(self.welcome)
            and self.welcome.isVisible()
        ):
            return self.welcome
        return next(iter(self.windows.values()), None)

    # -- errors, theme, quitting -----------------------------------------------------------

    def show_error(self, parent: QWidget | None, title: str, exc: BaseException) -> None:
        """An ErrorDialog (window-modal on `parent`); the same error is not shown twice."""
        if isinstance(exc, KamarosError):
            logger.warning("%s: %s: %s", title, type(exc).__name__, exc)
        elif not getattr(exc, "kamaros_logged", False):
            logger.error("%s", title, exc_info=(type(exc), exc, exc.__traceback__))
        if self.on_error is not None:
            self.on_error(f"{title}: {type(exc).__name__}: {exc}")
            return
        self.error_dialogs = [d for d in self.error_dialogs if shiboken6.isValid(d)]
        for dialog in self.error_dialogs:
            same = dialog.windowTitle() == title and type(dialog.exception) is type(exc)
            if same and str(dialog.exception) == str(exc) and dialog.isVisible():
                _bring_to_front(dialog)
                return
        dialog = ErrorDialog(parent, title, exc)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: self._show_welcome_if_alone())
        self.error_dialogs.append(dialog)
        if parent is not None:
            dialog.open()
        else:
            dialog.show()

    def apply_theme(self, name: str) -> None:
        theme.apply_theme(name)

    def quit(self) -> None:
        """Close every project window (each may refuse), then the welcome window, then leave."""
        self._leaving = True  # no welcome window flashing up as the last project closes
        for window in list(self.windows.values()):
            if shiboken6.isValid(window) and not window.close():
                self._leaving = False
                return
        if self.windows:
            self._leaving = False
            return
        if self.welcome is not None and shiboken6.isValid(self.welcome):
            self.welcome.close()
        self._quit_app()

    def shutdown(self) -> None:
        """At the end: wait for the manager's own writes (starting a history, building the
        demo), then close and delete every window it made."""
        self.runner.shutdown()
        self._leaving = True
        self.on_error = None
        windows: list[QWidget] = [*self.windows.values(), *self.error_dialogs]
        if self.welcome is not None and shiboken6.isValid(self.welcome):
            windows.append(self.welcome)
        for window in windows:
            if shiboken6.isValid(window):
                window.close()
                window.deleteLater()
        self.windows.clear()
        self.welcome = None

    def describe_history(self, path: Path) -> str:
        """' (4 checkpoints)' for the smoke test's report; '' if it cannot tell."""
        try:
            if path.is_file():
                with History.open_file(path) as history:
                    count = len(history.log())
            else:
                with Project.open(path, read_only=True) as project:
                    count = len(project.log())
        except (KamarosError, OSError):
            return ""
        return f" ({count} checkpoint{'' if count == 1 else 's'})"


def _bring_to_front(window: QWidget) -> None:
    if window.isMinimized():
        window.showNormal()
    window.raise_()
    window.activateWindow()


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="kamaros-app",
        description="Kamaros: a visual version history for any project folder.",
    )
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        help="project folder or .jcf project file to open (default: the welcome screen)",
    )
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="check that the app works, then quit (exit 0 if so, 1 on an error, 2 on a "
        "timeout): with PATH, open it and wait until it has loaded; without, open a fresh "
        "copy of the demo project in a temporary folder, save a checkpoint and restore it",
    )
    parser.add_argument("--self-test", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--new-instance",
        action="store_true",
        help="do not hand PATH to a Kamaros that is already running: start another one",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="save a picture of the window to PNG after loading (implies --smoke-test)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the bundled demo project (made in your data folder on first use)",
    )
    parser.add_argument(
        "--welcome",
        action="store_true",
        help="with --smoke-test / --screenshot: show the welcome screen instead of a project",
    )
    parser.add_argument(
        "--theme", choices=THEMES, help="use this theme for this run (the setting is kept)"
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
    app.setApplicationDisplayName("Kamaros")
    app.setOrganizationName("Kamaros")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("kamaros")
    app.setWindowIcon(app_icon())
    return app


def _no_display() -> bool:
    """True on X11/Wayland systems with no screen to show a window on (and no platform set)."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _under_pytest() -> bool:
    return "pytest" in sys.modules or "PYTEST_CURRENT_TEST" in os.environ


def main(argv: list[str] | None = None) -> int:
    """Start the application; returns the exit code."""
    args = _parse(sys.argv[1:] if argv is None else argv)
    smoke = args.smoke_test or args.self_test or args.screenshot is not None
    single = not smoke and not args.new_instance and not _under_pytest()
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
    app.setQuitOnLastWindowClosed(False)  # the window manager decides when to leave
    if single:
        from kamaros_app import desktop

        if desktop.hand_off([args.path] if args.path is not None else []):
            print("kamaros-app: handed over to the Kamaros that is already running")
            return 0
    settings = Settings()
    theme.apply_theme(args.theme or settings.theme, app)
    # The full check (no PATH): a throw-away demo, so a person's own demo is never touched.
    full = args.self_test or (
        args.smoke_test and args.path is None and args.screenshot is None and not args.welcome
    )
    demo_base = Path(tempfile.mkdtemp(prefix="kamaros-self-test-")) if full else None
    manager = WindowManager(settings, quit_app=app.quit, demo_base=demo_base)
    if single:
        desktop.start_instance_server(manager.open_from_another_start, parent=manager)
    uninstall_hook = None
    if not _under_pytest():
        configure_logging()
        uninstall_hook = install_excepthook(manager.context)
    if smoke:
        _arm_smoke_test(app, manager, args.screenshot, welcome=args.welcome, full=full)
    if args.path is not None and not args.welcome:
        manager.start(args.path)
    elif (smoke or args.demo) and not args.welcome:
        manager.context.open_demo_project()
    else:
        manager.show_welcome()
    try:
        code = app.exec()
    finally:
        manager.shutdown()
        if uninstall_hook is not None:
            uninstall_hook()
        shiboken6.delete(manager)  # with its timers; the windows close with the application
        if demo_base is not None:
            shutil.rmtree(demo_base, ignore_errors=True)
    return code


def _arm_smoke_test(
    app: QApplication,
    manager: WindowManager,
    screenshot: Path | None,
    *,
    welcome: bool,
    full: bool = False,
) -> None:
    """Quit once the first window has loaded (saving its picture); 1 on an error, 2 late.

    Timers belong to the manager, and exits are posted, so an error found before the event
    loop runs still ends it.
    """

    def leave(code: int) -> None:
        QTimer.singleShot(0, manager, lambda: app.exit(code))

    def finish(window: QWidget, what: str) -> None:
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            if not window.grab().save(str(screenshot)):
                print(f"kamaros-app: could not write {screenshot}", file=sys.stderr)
                leave(1)
                return
        print(f"kamaros-app: {what}")
        leave(0)

    def opened(window: QWidget, path: Path) -> None:
        finished = False

        def settle() -> None:
            nonlocal finished
            if not finished:
                finished = True
                what = f"opened {path}{manager.describe_history(path)}"
                if full:
                    _self_test_writes(window, path, lambda done: finish(window, f"{what}; {done}"))
                    return
                QTimer.singleShot(SETTLE_MS, manager, lambda: finish(window, what))

        signal = getattr(window, "sig_loaded", None)
        if getattr(window, "loaded", None) is True:
            settle()
        elif signal is not None and hasattr(signal, "connect"):
            signal.connect(settle)
        else:
            QTimer.singleShot(NO_LOADED_SIGNAL_MS, manager, settle)

    def failed(message: str) -> None:
        print(f"kamaros-app: {message}", file=sys.stderr)
        leave(1)

    def timed_out() -> None:
        print("kamaros-app: the project did not load in time", file=sys.stderr)
        leave(2)

    manager.on_error = failed
    if welcome:
        manager.sig_welcome_shown.connect(
            lambda window: QTimer.singleShot(
                SETTLE_MS, manager, lambda: finish(window, "welcome shown")
            )
        )
    else:
        manager.sig_window_opened.connect(opened)
    QTimer.singleShot(SMOKE_TEST_TIMEOUT_MS, manager, timed_out)


SELF_TEST_FILE = "kamaros-self-test.txt"


def _self_test_writes(window: QWidget, root: Path, done: Callable[[str], None]) -> None:
    """--self-test: save a checkpoint through the window's own writer, change the file,
    restore the checkpoint, check the file came back; then reload the history and call
    `done(report)`. Failures reach the manager's `on_error` (exit 1)."""
    tasks = getattr(window, "tasks", None)
    if tasks is None:
        done("no project window to test writes with")
        return
    marker = root / SELF_TEST_FILE
    original = f"Kamaros {__version__} self-test\n"

    def work(project: Project, progress: object, cancel: CancelToken) -> str:
        marker.write_text(original, encoding="utf-8")
        saved = project.checkpoint("Self-test checkpoint", cancel=cancel)
        marker.write_text("changed after the checkpoint\n", encoding="utf-8")
        project.restore(saved.id, cancel=cancel)
        if marker.read_text(encoding="utf-8") != original:
            raise RuntimeError(f"restoring the checkpoint did not bring back {marker.name}")
        count = len(project.log())
        return f"saved checkpoint {saved.id[:12]} and restored it ({count} checkpoints)"

    def saved(report: str) -> None:
        reload = getattr(window, "reload_history", None)
        if callable(reload):
            reload()
        QTimer.singleShot(SETTLE_MS, window, lambda: done(report))

    tasks.write("Self-test: save and restore", work, saved, "Self-test failed", cancellable=False)


if __name__ == "__main__":
    sys.exit(main())
