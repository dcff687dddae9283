"""Crash-safe, append-only ZIP container (JCF): a validating reader and an appending writer."""

from __future__ import annotations

from .zip_commit import _SCAN_CHUNK as _SCAN_CHUNK  # used by the tests
from .zip_commit import COMMIT_MARKER_PREFIX, CommitLocation, find_last_commit
from .zip_reader import ContainerReader, Limits
from .zip_records import DEFLATED, STORED, ZipEntry, validate_entry_name
from .zip_records import _cd_record as _cd_record  # used by the tests
from .zip_records import _zip64_extra as _zip64_extra  # used by the tests
from .zip_writer import ContainerWriter

__all__ = [
    "COMMIT_MARKER_PREFIX",
    "DEFLATED",
    "STORED",
    "CommitLocation",
    "ContainerReader",
    "ContainerWriter",
    "Limits",
    "ZipEntry",
    "find_last_commit",
    "validate_entry_name",
]
