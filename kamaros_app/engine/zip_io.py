"""Positioned reads and writes on file descriptors, shared by the ZIP reader and writer."""

from __future__ import annotations

import os
import threading

from . import diskio

__all__ = []

_SEEK_LOCK = threading.Lock()  # only for platforms without os.pread / os.pwrite


def _pread_once(fd: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    with _SEEK_LOCK:  # pragma: no cover - Windows
        os.lseek(fd, offset, os.SEEK_SET)
        return os.read(fd, size)


def _pwrite_once(fd: int, data: memoryview, offset: int) -> int:
    return diskio.pwrite(fd, data, offset)  # every write goes through the I/O layer


def _pread(fd: int, size: int, offset: int) -> bytes:
    """Read up to `size` bytes at `offset`; shorter only at end of file."""
    if size <= 0:
        return b""
    data = _pread_once(fd, size, offset)
    if len(data) == size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        more = _pread_once(fd, size - got, offset + got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)
