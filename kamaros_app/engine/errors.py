"""One exception hierarchy for everything the engine can refuse or fail at.

Each class carries the process exit code the command line uses for it, so a script can tell
"locked" from "damaged" without parsing messages.
"""

from __future__ import annotations

__all__ = [
    "CancelledError",
    "ContainerError",
    "DamagedContainerError",
    "DiskFullError",
    "FileChangedError",
    "HostileContainerError",
    "InvalidArgumentError",
    "KamarosError",
    "LockedError",
    "NotAProjectError",
    "NothingToSaveError",
    "ProjectExistsError",
    "ReadOnlyError",
    "UnsupportedFormatError",
    "VersionNotFoundError",
]


class KamarosError(Exception):
    """Base of every error the engine raises on purpose."""

    exit_code = 1


class InvalidArgumentError(KamarosError):
    """A caller passed something that makes no sense (bad tag name, bad path...)."""

    exit_code = 2


class NotAProjectError(KamarosError):
    """The folder has no `.kamaros/` history."""

    exit_code = 3


class ProjectExistsError(KamarosError):
    """`init` or `import` would overwrite an existing project or folder."""

    exit_code = 4


class LockedError(KamarosError):
    """Another process is writing to this project right now."""

    exit_code = 5


class VersionNotFoundError(KamarosError):
    """A version reference matches no version, or more than one."""

    exit_code = 6


class NothingToSaveError(KamarosError):
    """A checkpoint was asked for but the folder equals the newest checkpoint."""

    exit_code = 7


class ContainerError(KamarosError):
    """Something is wrong with a JCF container."""

    exit_code = 8


class DamagedContainerError(ContainerError):
    """Stored bytes do not match their checksums or the container structure is broken."""

    exit_code = 8


class HostileContainerError(ContainerError):
    """A container from elsewhere tries something unsafe (path traversal, zip bomb...)."""

    exit_code = 9


class UnsupportedFormatError(ContainerError):
    """The container was written by a newer or unknown format version."""

    exit_code = 10


class ReadOnlyError(KamarosError):
    """A write was attempted on a project opened read-only."""

    exit_code = 11


class DiskFullError(KamarosError, OSError):
    """The disk filled up; nothing was changed.

    Also an OSError (with errno ENOSPC or EDQUOT when the system said so), so code that
    shrugs off a failed write of something optional (`except OSError`) shrugs off a full
    disk too, instead of failing an operation that already succeeded.
    """

    exit_code = 12


class FileChangedError(KamarosError):
    """A file kept changing while it was being saved."""

    exit_code = 13


class CancelledError(KamarosError):
    """The operation was cancelled; the project is as it was before."""

    exit_code = 130
