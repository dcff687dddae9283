"""The first screen: what Kamaros is, the ways to open a project, and recent projects.

Also the application-wide actions (Open Folder…, Open Project File…, Open Demo, Recent,
Settings…, Quit, About) and the drop handling, which every window shares.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QFontMetrics,
    QHideEvent,
    QIcon,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionButton,
    QStyleOptionViewItem,
    QStylePainter,
    QVBoxLayout,
    QWidget,
)

from kamaros_app import __version__
from kamaros_app.demo import default_demo_path
from kamaros_app.ui.context import AppContext
from kamaros_app.ui.icons import app_icon, icon

__all__ = [
    "PROJECT_FILE_FILTER",
    "AppActions",
    "PathDropFilter",
    "WelcomeWidget",
    "WelcomeWindow",
    "choose_folder",
    "choose_project_file",
    "droppable_paths",
]

PROJECT_FILE_FILTER = "Kamaros project files (*.jcf)"
TAGLINE = (
    "Kamaros keeps a visual history of any folder: save checkpoints as you work, see what "
    "changed, and bring back any earlier version."
)
EMPTY_RECENT = "Projects you open will be listed here."
WINDOW_KEY = "welcome"


def _shortcut(action: QAction, standard: QKeySequence.StandardKey, fallback: str) -> None:
    """The platform's keys for `standard`, or `fallback` where the platform has none."""
    keys = QKeySequence.keyBindings(standard)
    fallback_key = QKeySequence(fallback)
    if fallback_key not in keys:
        keys = [*keys, fallback_key]
    action.setShortcuts(keys)


def choose_folder(parent: QWidget | None, context: AppContext) -> None:
    """Ask for a folder and open it."""
    chosen = QFileDialog.getExistingDirectory(parent, "Open Folder", str(Path.home()))
    if chosen:
        context.open_path(Path(chosen))


def choose_project_file(parent: QWidget | None, context: AppContext) -> None:
    """Ask for a standalone `.jcf` project file and open it (read-only history)."""
    chosen, _ = QFileDialog.getOpenFileName(
        parent, "Open Project File", str(Path.home()), f"{PROJECT_FILE_FILTER};;All files (*)"
    )
    if chosen:
        context.open_path(Path(chosen))


def droppable_paths(urls: list[QUrl]) -> list[Path]:
    """The local folders and `.jcf` files among dropped URLs."""
    paths = [Path(url.toLocalFile()) for url in urls if url.isLocalFile()]
    return [p for p in paths if p.is_dir() or (p.is_file() and p.suffix.lower() == ".jcf")]


class AppActions(QObject):
    """The application-wide actions of one window, with their shortcuts.

    Windows add them to their own menus: `fill_file_menu(menu)` and `fill_help_menu(menu)`.
    """

    def __init__(self, window: QWidget, context: AppContext) -> None:
        super().__init__(window)
        self.window = window
        self.context = context

        def action(text: str, icon_name: str | None, tip: str) -> QAction:
            act = QAction(text, window)
            if icon_name:
                act.setIcon(icon(icon_name))
            act.setToolTip(tip)
            act.setStatusTip(tip)
            return act

        self.open_folder = action(
            "Open &Folder…", "open-folder", "Open a folder to see its history"
        )
        _shortcut(self.open_folder, QKeySequence.StandardKey.Open, "Ctrl+O")
        self.open_folder.triggered.connect(lambda: choose_folder(window, context))
        self.open_file = action(
            "Open Project &File…", "open-file", "Look through the history in a .jcf file"
        )
        self.open_file.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.open_file.triggered.connect(lambda: choose_project_file(window, context))
        self.open_demo = action("Open &Demo Project", "demo", "A short story with some history")
        self.open_demo.triggered.connect(context.open_demo_project)
        self.settings = action("&Settings…", "settings", "Your name, email and the theme")
        self.settings.setMenuRole(QAction.MenuRole.PreferencesRole)
        _shortcut(self.settings, QKeySequence.StandardKey.Preferences, "Ctrl+,")
        self.settings.triggered.connect(self.show_settings)
        self.quit = action("&Quit", None, "Close every Kamaros window")
        self.quit.setMenuRole(QAction.MenuRole.QuitRole)
        _shortcut(self.quit, QKeySequence.StandardKey.Quit, "Ctrl+Q")
        self.quit.triggered.connect(context.quit)
        self.about = action("&About Kamaros", None, "Version and licence")
        self.about.setMenuRole(QAction.MenuRole.AboutRole)
        self.about.triggered.connect(self.show_about)
        self.recent_menu = QMenu("Open &Recent", window)
        self.recent_menu.aboutToShow.connect(self._fill_recent)

    def fill_file_menu(self, menu: QMenu) -> None:
        menu.addActions([self.open_folder, self.open_file])
        menu.addMenu(self.recent_menu)
        menu.addAction(self.open_demo)
        menu.addSeparator()
        menu.addAction(self.settings)
        menu.addSeparator()
        menu.addAction(self.quit)

    def fill_help_menu(self, menu: QMenu) -> None:
        menu.addAction(self.about)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.context.settings.recent_projects
        for path in recent:
            act = self.recent_menu.addAction(path.name or str(path))
            act.setToolTip(str(path))
            act.setStatusTip(str(path))
            act.triggered.connect(lambda _checked=False, p=path: self.context.open_path(p))
        if not recent:
            none = self.recent_menu.addAction("No recent projects")
            none.setEnabled(False)

    def show_settings(self) -> None:
        from kamaros_app.ui.dialogs.settings_dialog import SettingsDialog

        SettingsDialog(self.context, self.window).exec()

    def show_about(self) -> None:
        QMessageBox.about(
            self.window,
            "About Kamaros",
            f"<h3>Kamaros {__version__}</h3><p>{TAGLINE}</p>"
            "<p>Your history is kept in one file, <code>.kamaros/project.jcf</code>, inside "
            "the folder.</p><p>MIT licence.</p>",
        )


class PathDropFilter(QObject):
    """Lets a window accept drops of folders and `.jcf` files and open them.

    `PathDropFilter.install(window, context)`: the window accepts drops, and any part of it
    that does not take drops itself passes them up to the window.
    """

    def __init__(self, context: AppContext, parent: QObject) -> None:
        super().__init__(parent)
        self.context = context

    @classmethod
    def install(cls, window: QWidget, context: AppContext) -> PathDropFilter:
        handler = cls(context, window)
        window.setAcceptDrops(True)
        window.installEventFilter(handler)
        return handler

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, QDragEnterEvent | QDropEvent)
            if event.mimeData().hasUrls() and droppable_paths(event.mimeData().urls()):
                event.acceptProposedAction()
                return True
        elif kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            paths = droppable_paths(event.mimeData().urls()) if event.mimeData().hasUrls() else []
            if paths:
                event.acceptProposedAction()
                for path in paths:
                    self.context.open_path(path)
                return True
        return False


_LOCATION_ROLE = Qt.ItemDataRole.UserRole + 1


class _RecentDelegate(QStyledItemDelegate):
    """Two lines per project: its name (bold) and, dimmer, the folder it is in."""

    PADDING = 6

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        name, location = opt.text, str(index.data(_LOCATION_ROLE) or "")
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        palette = opt.palette
        main = palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        dim = QColor(main)
        dim.setAlphaF(0.72)
        icon_size = opt.decorationSize.width()
        left = opt.rect.left() + self.PADDING + icon_size + 2 * self.PADDING
        width = opt.rect.right() - left - self.PADDING
        metrics = QFontMetrics(opt.font)
        top = opt.rect.top() + self.PADDING
        painter.save()
        bold = QFont(opt.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(main)
        painter.drawText(
            QRect(left, top, width, metrics.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            QFontMetrics(bold).elidedText(name, Qt.TextElideMode.ElideRight, width),
        )
        painter.setFont(opt.font)
        painter.setPen(dim)
        painter.drawText(
            QRect(left, top + metrics.height() + 2, width, metrics.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            metrics.elidedText(location, Qt.TextElideMode.ElideMiddle, width),
        )
        painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        height = 2 * QFontMetrics(option.font).height() + 2 + 2 * self.PADDING
        return QSize(200, max(height, option.decorationSize.height() + 2 * self.PADDING))


class _BigButton(QPushButton):
    """A large button: icon, a bold title and a line of explanation under it."""

    PADDING = 10

    def __init__(self, title: str, detail: str, button_icon: QIcon) -> None:
        super().__init__(title)
        self.detail = detail
        self.setIcon(button_icon)
        self.setIconSize(QSize(28, 28))
        self.setAccessibleDescription(detail)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        height = 2 * metrics.height() + 4 + 2 * self.PADDING
        width = max(metrics.horizontalAdvance(self.text()), metrics.horizontalAdvance(self.detail))
        return QSize(width + self.iconSize().width() + 4 * self.PADDING, max(height, 56))

    def minimumSizeHint(self) -> QSize:
        return QSize(200, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionButton()
        self.initStyleOption(option)
        option.text = ""
        option.icon = QIcon()
        painter.drawControl(QStyle.ControlElement.CE_PushButton, option)
        rect = self.rect().adjusted(self.PADDING, self.PADDING, -self.PADDING, -self.PADDING)
        size = self.iconSize()
        mode = QIcon.Mode.Normal if self.isEnabled() else QIcon.Mode.Disabled
        icon_top = rect.top() + (rect.height() - size.height()) // 2
        self.icon().paint(
            painter, QRect(rect.left(), icon_top, size.width(), size.height()), mode=mode
        )
        left = rect.left() + size.width() + self.PADDING
        width = rect.right() - left
        metrics = self.fontMetrics()
        text_top = rect.top() + (rect.height() - 2 * metrics.height() - 4) // 2
        bold = QFont(self.font())
        bold.setBold(True)
        color = self.palette().color(QPalette.ColorRole.ButtonText)
        painter.setPen(color)
        painter.setFont(bold)
        painter.drawText(
            QRect(left, text_top, width, metrics.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            QFontMetrics(bold).elidedText(self.text(), Qt.TextElideMode.ElideRight, width),
        )
        dim = QColor(color)
        dim.setAlphaF(0.72)
        painter.setPen(dim)
        painter.setFont(self.font())
        painter.drawText(
            QRect(left, text_top + metrics.height() + 4, width, metrics.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            metrics.elidedText(self.detail, Qt.TextElideMode.ElideRight, width),
        )


class _RecentList(QListWidget):
    """Recent projects: a click or Enter opens one."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentItem():
            self.itemClicked.emit(self.currentItem())
            return
        super().keyPressEvent(event)


class WelcomeWidget(QWidget):
    """Shown when no project is open: name, one sentence, three big buttons, recent list."""

    def __init__(
        self, context: AppContext, actions: AppActions | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.app_actions = actions or AppActions(self, context)
        self.setAcceptDrops(True)

        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(QSize(72, 72)))
        name = QLabel("Kamaros")
        font = name.font()
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setBold(True)
        name.setFont(font)
        tagline = QLabel(TAGLINE)
        tagline.setWordWrap(True)
        heading = QVBoxLayout()
        heading.addWidget(name)
        heading.addWidget(tagline)
        top = QHBoxLayout()
        top.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        top.addSpacing(12)
        top.addLayout(heading, 1)

        self.open_folder_button = self._big_button(
            self.app_actions.open_folder,
            "Open Folder…",
            "Any folder you work in",
        )
        self.open_file_button = self._big_button(
            self.app_actions.open_file, "Open Project File…", "A .jcf file someone sent you"
        )
        self.demo_button = self._big_button(
            self.app_actions.open_demo, "Try the demo project", "A short story with some history"
        )
        buttons = QVBoxLayout()
        buttons.setSpacing(8)
        for button in (self.open_folder_button, self.open_file_button, self.demo_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        recent_title = QLabel("Recent projects")
        bold = recent_title.font()
        bold.setBold(True)
        recent_title.setFont(bold)
        self.recent_list = _RecentList()
        self.recent_list.setIconSize(QSize(24, 24))
        self.recent_list.setItemDelegate(_RecentDelegate(self.recent_list))
        self.recent_list.setUniformItemSizes(True)
        self.recent_list.itemClicked.connect(self._open_item)
        self.empty_label = QLabel(EMPTY_RECENT)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setFrameShape(QFrame.Shape.StyledPanel)
        self.empty_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.recent_stack = QStackedWidget()
        self.recent_stack.addWidget(self.empty_label)
        self.recent_stack.addWidget(self.recent_list)
        recent = QVBoxLayout()
        recent.addWidget(recent_title)
        recent.addWidget(self.recent_stack, 1)

        body = QHBoxLayout()
        body.addLayout(buttons, 2)
        body.addSpacing(24)
        body.addLayout(recent, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 32, 40, 32)
        layout.addLayout(top)
        layout.addSpacing(24)
        layout.addLayout(body, 1)
        self.addActions(
            [self.app_actions.open_folder, self.app_actions.open_file, self.app_actions.open_demo]
        )
        self.refresh()

    def _big_button(self, action: QAction, text: str, detail: str) -> QPushButton:
        button = _BigButton(text, detail, action.icon())
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        button.setToolTip(f"{detail} ({keys})" if keys else detail)
        button.clicked.connect(action.trigger)
        return button

    def refresh(self) -> None:
        """Re-read the recent projects (those that no longer exist are dropped)."""
        self.recent_list.clear()
        demo = default_demo_path()
        for path in self.context.settings.recent_projects:
            standalone = path.is_file()
            name = "Demo project" if path == demo else (path.name or str(path))
            item = QListWidgetItem(icon("open-file" if standalone else "folder"), name)
            item.setData(_LOCATION_ROLE, str(path if standalone else path.parent))
            item.setToolTip(str(path))
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            self.recent_list.addItem(item)
        has_any = self.recent_list.count() > 0
        self.recent_stack.setCurrentWidget(self.recent_list if has_any else self.empty_label)
        if has_any:  # Enter opens it once the list has focus; not shown as selected
            self.recent_list.setCurrentRow(0, QItemSelectionModel.SelectionFlag.NoUpdate)

    def recent_paths(self) -> list[Path]:
        return [
            Path(self.recent_list.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.recent_list.count())
        ]

    def _open_item(self, item: QListWidgetItem) -> None:
        path = Path(item.data(Qt.ItemDataRole.UserRole))
        if not path.exists():
            self.context.settings.remove_recent(path)
            self.refresh()
            return
        self.context.open_path(path)

    # -- drops -----------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and droppable_paths(event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasUrls() and droppable_paths(event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = droppable_paths(event.mimeData().urls()) if event.mimeData().hasUrls() else []
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        for path in paths:
            self.context.open_path(path)


class WelcomeWindow(QMainWindow):
    """The window around the WelcomeWidget, with the File and Help menus."""

    sig_closed_by_user = Signal()
    """The person closed the welcome window (not hidden because a project opened)."""

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.setWindowTitle("Kamaros")
        self.app_actions = AppActions(self, context)
        self.welcome = WelcomeWidget(context, self.app_actions)
        self.setCentralWidget(self.welcome)
        self.app_actions.fill_file_menu(self.menuBar().addMenu("&File"))
        self.app_actions.fill_help_menu(self.menuBar().addMenu("&Help"))
        PathDropFilter.install(self, context)
        geometry, _state = context.settings.window_state(WINDOW_KEY)
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(820, 520)

    def showEvent(self, event: QShowEvent) -> None:
        self.welcome.refresh()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self._remember()
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._remember()
        super().closeEvent(event)
        if event.isAccepted():
            self.sig_closed_by_user.emit()

    def _remember(self) -> None:
        self.context.settings.save_window_state(WINDOW_KEY, self.saveGeometry(), self.saveState())
