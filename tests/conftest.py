"""Shared fixtures. Qt runs offscreen unless QT_QPA_PLATFORM says otherwise."""

from __future__ import annotations

import os

# Before anything imports Qt: no window may need a display in the test suite.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Keep every platformdirs location (data, config, cache, state) inside the test's tmp."""
    base = tmp_path_factory.mktemp("xdg")
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        folder = base / name.removeprefix("XDG_").removesuffix("_HOME").lower()
        folder.mkdir()
        monkeypatch.setenv(name, str(folder))
    return base


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """An empty folder for a project (not yet initialised)."""
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--long",
        action="store_true",
        default=False,
        help="reliability campaign: thousands of iterations instead of the CI budget",
    )
