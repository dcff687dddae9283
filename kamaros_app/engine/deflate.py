"""Raw deflate for ZIP entries: ISA-L when installed, the standard library's zlib otherwise.

Both write standard deflate streams that any unzip tool reads; they differ in speed and
size. On the benchmark's texts ISA-L at level 2 compresses 4-12x faster than zlib at level 6
and its output is 5-10% larger (docs/PERFORMANCE.md, "Repository size"); the speed decides
how fast a first checkpoint is, and level 3 (1-2% smaller) cost it ~10% more time. Set
KAMAROS_NATIVE=0 to use only the standard library (for tests and debugging): results on
disk then differ byte-wise inside the deflate streams, never in what they decompress to.
"""

from __future__ import annotations

import zlib
from typing import Any, Protocol

from .native import NATIVE_ENV, native_allowed

__all__ = [
    "INFLATE_ERRORS",
    "NATIVE_ENV",
    "Deflater",
    "Inflater",
    "compressor",
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


def compressor() -> Deflater:
    if _isal is not None and native_allowed():
        deflater: Deflater = _isal.compressobj(_ISAL_LEVEL, _isal.DEFLATED, _RAW)
        return deflater
    return zlib.compressobj(_ZLIB_LEVEL, zlib.DEFLATED, _RAW)


def deflate(data: bytes) -> bytes:
    """`data` as one raw deflate stream."""
    if _isal is not None and native_allowed():
        result: bytes = _isal.compress(data, _ISAL_LEVEL, _RAW)
        return result
    return zlib.compress(data, _ZLIB_LEVEL, _RAW)


def decompressor() -> Inflater:
    """A raw deflate stream reader with zlib's interface (ISA-L's inflates ~3x faster)."""
    if _isal is not None and native_allowed():
        inflater: Inflater = _isal.decompressobj(_RAW)
        return inflater
    return zlib.decompressobj(_RAW)
