"""Pure-Python versioning engine: no Qt, usable from the command line and the API."""

# Exports other than the errors are imported on first use (PEP 562), so a command that only
# needs a quick look at the folder (`kamaros checkpoint` with nothing changed) does not pay
# for zstd, the ZIP layer and the manifest parser at start-up.
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    CancelledError,
    ContainerError,
    DamagedContainerError,
    DiskFullError,
    FileChangedError,
    HostileContainerError,
    InvalidArgumentError,
    KamarosError,
    LockedError,
    NotAProjectError,
    NothingToSaveError,
    ProjectExistsError,
    ReadOnlyError,
    UnsupportedFormatError,
    VersionNotFoundError,
)

if TYPE_CHECKING:
    from .diff import FileDiff, Side
    from .history import History
    from .importer import import_container
    from .progress import CancelToken, Progress
    from .project import FileInfo, GcResult, Project, RestoreResult, VersionInfo
    from .status import Status
    from .verify import VerifyReport

_LAZY = {
    "FileDiff": "diff",
    "Side": "diff",
    "History": "history",
    "import_container": "importer",
    "CancelToken": "progress",
    "Progress": "progress",
    "FileInfo": "project",
    "GcResult": "project",
    "Project": "project",
    "RestoreResult": "project",
    "VersionInfo": "project",
    "Status": "status",
    "VerifyReport": "verify",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "CancelToken",
    "CancelledError",
    "ContainerError",
    "DamagedContainerError",
    "DiskFullError",
    "FileChangedError",
    "FileDiff",
    "FileInfo",
    "GcResult",
    "History",
    "HostileContainerError",
    "InvalidArgumentError",
    "KamarosError",
    "LockedError",
    "NotAProjectError",
    "NothingToSaveError",
    "Progress",
    "Project",
    "ProjectExistsError",
    "ReadOnlyError",
    "RestoreResult",
    "Side",
    "Status",
    "UnsupportedFormatError",
    "VerifyReport",
    "VersionInfo",
    "VersionNotFoundError",
    "import_container",
]
