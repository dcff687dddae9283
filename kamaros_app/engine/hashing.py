"""Content hashes: BLAKE3, 256-bit, lower-case hex."""

from __future__ import annotations

from collections.abc import Iterable

import blake3

__all__ = ["HASH_ALGORITHM", "HASH_HEX_LENGTH", "ContentHasher", "hash_bytes", "hash_chunks"]

HASH_ALGORITHM = "blake3"
HASH_HEX_LENGTH = 64

# Above this size one call may use both cores; below it threads only cost overhead.
_THREADED_HASH_MIN = 8 * 1024 * 1024


class ContentHasher:
    """Incremental BLAKE3 over a stream of chunks."""

    def __init__(self) -> None:
        self._hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        self._hasher.update(chunk)

    def hexdigest(self) -> str:
        return self._hasher.hexdigest()


def hash_bytes(data: bytes | bytearray | memoryview) -> str:
    if len(data) >= _THREADED_HASH_MIN:
        return blake3.blake3(data, max_threads=blake3.blake3.AUTO).hexdigest()
    return blake3.blake3(data).hexdigest()


def hash_chunks(chunks: Iterable[bytes]) -> str:
    hasher = ContentHasher()
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.hexdigest()
