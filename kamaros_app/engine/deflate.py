"""Raw deflate and CRC-32 for ZIP entries: ISA-L when installed, the standard library's
zlib otherwise.

Both write standard deflate streams that any unzip tool reads; they differ in speed and
size. On the benchmark's texts ISA-L at level 2 compresses 4-12x faster than zlib at level 6
and its output is 5-10% larger (docs/PERFORMANCE.md, "Repository size"); the speed decides
how fast a first checkpoint is, and level 3 (1-2% smaller) cost it ~10% more time. Set
KAMAROS_NATIVE=0 to use only the standard library (for tests and debugging): results on
disk then differ byte-wise inside the deflate streams, never in what they decompress to.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any, Protocol

from .native import NATIVE_ENV, native_allowed

__all__ = [
    "INFLATE_ERRORS",
    "NATIVE_ENV",
    "Deflater",
    "Inflater",
    "compressor",
    "crc32",
    "crc32_function",
    "decompressor",
    "deflate",
]

_isal: Any
try:
    from isal import isal_zlib as _isal
except ImportError:  # pragma: no cover - isal is a dependency; this is the documented fallback
    _isal = None

_ISAL_LEVEL = 2  # ISA-L offers 0-3; see the module docstring for why 2
_ZLIB_LEVEL = 6
_RAW = -15  # raw deflate (ZIP entries carry no zlib header)
_Bytes = bytes | bytearray | memoryview


INFLATE_ERRORS: tuple[type[Exception], ...] = (
    (zlib.error,) if _isal is None else (zlib.error, _isal.error)
)
"""What a corrupt stream raises from either inflater."""


class Inflater(Protocol):
    @property
    def eof(self) -> bool: ...
    @property
    def unconsumed_tail(self) -> bytes: ...
    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = 0, /) -> bytes: ...


class Deflater(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...
    def flush(self) -> bytes: ...


def _use_isal(native: bool | None = None) -> bool:
    """ISA-L is installed and allowed; `native` is `native_allowed()` if already read."""
    return _isal is not None and (native_allowed() if native is None else native)


def compressor() -> Deflater:
    if _use_isal():
        deflater: Deflater = _isal.compressobj(_ISAL_LEVEL, _isal.DEFLATED, _RAW)
        return deflater
    return zlib.compressobj(_ZLIB_LEVEL, zlib.DEFLATED, _RAW)


def deflate(data: bytes) -> bytes:
    """`data` as one raw deflate stream."""
    if _use_isal():
        result: bytes = _isal.compress(data, _ISAL_LEVEL, _RAW)
        return result
    return zlib.compress(data, _ZLIB_LEVEL, _RAW)


def crc32(data: _Bytes, value: int = 0, /) -> int:
    """zlib's `crc32(data, value)`, the same number from ISA-L at ~5x the speed (20 GB/s
    against 4 here): every byte written or read back is summed, ~0.1 s per 500 MB."""
    return crc32_function()(data, value)


def crc32_function(native: bool | None = None) -> Callable[[_Bytes, int], int]:
    """The function `crc32` calls, for loops that sum many pieces: the switch is read once
    (reading the environment costs ~1 µs, as much as summing a small file). `native` is
    `native_allowed()` when the caller already knows it."""
    if _use_isal(native):
        function: Callable[[_Bytes, int], int] = _isal.crc32
        return function
    return zlib.crc32


def decompressor(native: bool | None = None) -> Inflater:
    """A raw deflate stream reader with zlib's interface (ISA-L's inflates ~3x faster);
    `native` as for `crc32_function`."""
    if _use_isal(native):
        inflater: Inflater = _isal.decompressobj(_RAW)
        return inflater
    return zlib.decompressobj(_RAW)
