"""Settings persist in an INI file in the config folder; themes switch every window's palette."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette, QStyleHints
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from kamaros_app.ui import theme
from kamaros_app.ui.icons import ICON_NAMES, icon, icon_path
from kamaros_app.ui.settings import MAX_RECENT, Settings, settings_path


@pytest.fixture
def restore_theme(qapp: QApplication):  # type: ignore[no-untyped-def]
    yield
    theme.apply_theme("light", qapp)


def test_settings_round_trip_through_the_ini_file(tmp_path: Path) -> None:
    settings = Settings()
    assert settings.path == settings_path()
    assert settings.path.parent == Path(os.environ["XDG_CONFIG_HOME"]) / "kamaros"
    assert settings.theme == "system"
    assert settings.email == ""
    assert settings.author, "defaults to the system account's name"
    settings.author = "  Ada Lovelace "
    settings.email = "ada@example.org"
    settings.theme = "dark"
    settings.save_window_state("project", QByteArray(b"geometry"), QByteArray(b"\x00state"))

    again = Settings()
    assert (again.author, again.email, again.theme) == ("Ada Lovelace", "ada@example.org", "dark")
    assert again.window_state("project") == (QByteArray(b"geometry"), QByteArray(b"\x00state"))
    assert again.window_state("another") == (None, None)
    assert "[person]" in settings.path.read_text(encoding="utf-8")
    with pytest.raises(ValueError):
        settings.theme = "purple"


def test_window_state_keys_may_be_paths(tmp_path: Path) -> None:
    settings = Settings()
    key = str(tmp_path / "my project/with = odd, [chars]")
    settings.save_window_state(key, QByteArray(b"g"), QByteArray(b"s"))
    assert Settings().window_state(key) == (QByteArray(b"g"), QByteArray(b"s"))
    assert Settings().window_state(key + "x") == (None, None)


def test_recent_projects_newest_first_unique_bounded_and_present(tmp_path: Path) -> None:
    settings = Settings()
    assert settings.recent_projects == []
    folders = []
    for i in range(MAX_RECENT + 3):
        folder = tmp_path / f"p{i}"
        folder.mkdir()
        folders.append(folder)
        settings.add_recent(folder)
    settings.add_recent(folders[5])  # opened again: moves to the top
    recent = Settings().recent_projects
    assert len(recent) == MAX_RECENT
    assert recent[0] == folders[5]
    assert recent[1:4] == [folders[12], folders[11], folders[10]]
    assert len(set(recent)) == MAX_RECENT

    folders[12].rmdir()
    assert folders[12] not in Settings().recent_projects
    single = tmp_path / "single.jcf"
    single.write_bytes(b"x")
    settings.recent_projects = [single]
    assert Settings().recent_projects == [single], "a one-item list stays a list"


def test_dark_and_light_palettes_switch_every_window(
    qtbot: QtBot, qapp: QApplication, restore_theme: None
) -> None:
    label = QLabel("Some text")
    qtbot.addWidget(label)
    label.resize(120, 40)
    label.show()

    theme.apply_theme("dark", qapp)
    assert qapp.style().name().lower() == "fusion"
    assert theme.current_theme() == "dark"
    assert theme.is_dark()
    qtbot.waitUntil(lambda: theme.is_dark(label.palette()))  # delivered as an event
    window = label.palette().color(QPalette.ColorRole.Window)
    text = label.palette().color(QPalette.ColorRole.WindowText)
    assert window.lightness() < 80 and text.lightness() > 200
    assert label.grab().toImage().pixelColor(2, 2) == window, "the window repainted dark"
    disabled = qapp.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
    assert 60 < disabled.lightness() < text.lightness(), "disabled text is dimmer but readable"

    theme.apply_theme("light", qapp)
    assert not theme.is_dark()
    qtbot.waitUntil(lambda: not theme.is_dark(label.palette()))
    light = label.palette().color(QPalette.ColorRole.Window)
    assert light.lightness() > 200
    assert label.grab().toImage().pixelColor(2, 2) == light


def test_system_theme_follows_the_platform_and_falls_back_to_light(
    qapp: QApplication, restore_theme: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    theme.apply_theme("system", qapp)  # offscreen the platform says nothing: light
    assert not theme.is_dark()
    monkeypatch.setattr(QStyleHints, "colorScheme", lambda _self: Qt.ColorScheme.Dark)
    assert theme.resolve_theme("system") == "dark"
    theme.apply_theme("system", qapp)
    assert theme.is_dark()
    assert theme.resolve_theme("light") == "light"


def test_line_icons_follow_the_theme(qapp: QApplication, restore_theme: None) -> None:
    def darkest_and_lightest(name: str) -> tuple[int, int]:
        image = icon(name).pixmap(QSize(32, 32)).toImage()
        values = [
            QColor(image.pixelColor(x, y)).lightness()
            for x in range(32)
            for y in range(32)
            if image.pixelColor(x, y).alpha() > 200
        ]
        assert values, f"{name} draws something"
        return min(values), max(values)

    theme.apply_theme("light", qapp)
    assert darkest_and_lightest("search")[0] < 60
    theme.apply_theme("dark", qapp)
    assert darkest_and_lightest("search")[1] > 200, "the same QIcon redraws light on dark"
    for name in ICON_NAMES:
        assert icon_path(name).read_text(encoding="utf-8").startswith("<svg")
        assert not icon(name).pixmap(QSize(24, 24), 2.0).isNull()
    assert QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 80
