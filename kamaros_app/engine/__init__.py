"""Pure-Python versioning engine: no Qt, usable from the command line and the API."""

from .diff import FileDiff, Side
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
from .history import History
from .importer import import_container
from .progress import CancelToken, Progress
from .project import FileInfo, GcResult, Project, RestoreResult, VersionInfo
from .status import Status
from .verify import VerifyReport

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
