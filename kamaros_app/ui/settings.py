"""The person's preferences, kept in an INI file where `platformdirs` puts configuration."""

from __future__ import annotations

import getpass
import hashlib
import os
import re
from pathlib import Path

import platformdirs
from PySide6.QtCore import QByteArray, QSettings

__all__ = ["MAX_RECENT", "THEMES", "Settings", "default_author", "settings_path"]

MAX_RECENT = 10
THEMES = ("system", "light", "dark")

_AUTHOR = "person/author"
_EMAIL = "person/email"
_THEME = "appearance/theme"
_RECENT = "recent_projects"


def settings_path() -> Path:
    """`settings.ini` in the user configuration folder (e.g. ~/.config/kamaros/)."""
    return platformdirs.user_config_path("kamaros") / "settings.ini"


def default_author() -> str:
    """The person's full name from the system account, else the login name."""
    try:
        import pwd  # POSIX only

        full = pwd.getpwuid(os.getuid()).pw_gecos.split(",")[0].strip()
        if full:
            return full
    except (ImportError, AttributeError, KeyError, OSError):
        pass
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _window_key(key: str) -> str:
    """A QSettings-safe group name for `key` (which may be a path)."""
    if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", key):
        return key
    return "k" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:24]


class Settings:
    """Typed access to the settings file; every change is written to disk at once."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or settings_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._qs = QSettings(str(self.path), QSettings.Format.IniFormat)

    def _str(self, key: str, default: str) -> str:
        value = self._qs.value(key, default)
        return value if isinstance(value, str) else default

    def _set(self, key: str, value: object) -> None:
        self._qs.setValue(key, value)
        self._qs.sync()

    # -- the person ------------------------------------------------------------------------

    @property
    def author(self) -> str:
        """Name written on new checkpoints (defaults to the system account's name)."""
        return self._str(_AUTHOR, "") or default_author()

    @author.setter
    def author(self, value: str) -> None:
        self._set(_AUTHOR, value.strip())

    @property
    def email(self) -> str:
        return self._str(_EMAIL, "")

    @email.setter
    def email(self, value: str) -> None:
        self._set(_EMAIL, value.strip())

    # -- appearance ------------------------------------------------------------------------

    @property
    def theme(self) -> str:
        """ "system", "light" or "dark"."""
        value = self._str(_THEME, "system")
        return value if value in THEMES else "system"

    @theme.setter
    def theme(self, value: str) -> None:
        if value not in THEMES:
            raise ValueError(f"unknown theme {value!r}; expected one of {THEMES}")
        self._set(_THEME, value)

    # -- recent projects -------------------------------------------------------------------

    @property
    def recent_projects(self) -> list[Path]:
        """Newest first, at most MAX_RECENT; folders or files that no longer exist are left
        out (and forgotten)."""
        stored = self._read_recent()
        present = [p for p in stored if p.exists()]
        if len(present) != len(stored):
            self._write_recent(present)
        return present

    @recent_projects.setter
    def recent_projects(self, paths: list[Path]) -> None:
        self._write_recent(paths)

    def add_recent(self, path: Path) -> None:
        path = Path(path).expanduser().absolute()
        rest = [p for p in self._read_recent() if p != path]
        self._write_recent([path, *rest])

    def remove_recent(self, path: Path) -> None:
        path = Path(path).expanduser().absolute()
        self._write_recent([p for p in self._read_recent() if p != path])

    def _read_recent(self) -> list[Path]:
        size = self._qs.beginReadArray(_RECENT)
        paths: list[Path] = []
        for i in range(size):
            self._qs.setArrayIndex(i)
            value = self._qs.value("path", "")
            if isinstance(value, str) and value:
                paths.append(Path(value))
        self._qs.endArray()
        return paths

    def _write_recent(self, paths: list[Path]) -> None:
        unique = list(dict.fromkeys(paths))[:MAX_RECENT]
        self._qs.remove(_RECENT)
        self._qs.beginWriteArray(_RECENT, len(unique))
        for i, path in enumerate(unique):
            self._qs.setArrayIndex(i)
            self._qs.setValue("path", str(path))
        self._qs.endArray()
        self._qs.sync()

    # -- window layout ---------------------------------------------------------------------

    def save_window_state(self, key: str, geometry: QByteArray, state: QByteArray) -> None:
        """Remember a window's geometry and QMainWindow state under `key` (any string)."""
        group = f"windows/{_window_key(key)}"
        self._qs.setValue(f"{group}/geometry", geometry)
        self._qs.setValue(f"{group}/state", state)
        self._qs.sync()

    def window_state(self, key: str) -> tuple[QByteArray | None, QByteArray | None]:
        group = f"windows/{_window_key(key)}"
        geometry = self._qs.value(f"{group}/geometry")
        state = self._qs.value(f"{group}/state")
        return (
            geometry if isinstance(geometry, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def sync(self) -> None:
        self._qs.sync()
