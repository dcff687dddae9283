"""Zstandard frames for `.store/` objects: compress, and decompress with every check."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Protocol

import zstandard

from .errors import DamagedContainerError, FileChangedError, InvalidArgumentError
from .hashing import ContentHasher

__all__ = [
    "DEFAULT_LEVEL",
    "SupportsRead",
    "compress_bytes",
    "compress_chunks",
    "decompress_bytes_verified",
    "decompress_verified",
]

DEFAULT_LEVEL = 3

_MAGIC = b"\x28\xb5\x2f\xfd"
# Largest block content the format allows; also the most one decoder call can produce.
_BLOCK_MAX = 128 * 1024
_DID_SIZES = (0, 1, 2, 4)
_FCS_SIZES = (0, 2, 4, 8)
# The window the decoder may allocate: always enough for what zstd levels 1-19 write, and
# more only when the caller expects that much output anyway (levels 20-22 on big inputs).
_MIN_WINDOW_LIMIT = 1 << 23
_MAX_WINDOW_LIMIT = 1 << 27

_local = threading.local()


class SupportsRead(Protocol):
    """Anything with a binary `read(size)`: an open file, a zip member, a socket file..."""

    def read(self, size: int, /) -> bytes: ...


def _compressor(level: int) -> zstandard.ZstdCompressor:
    return zstandard.ZstdCompressor(level=level, write_checksum=True, write_content_size=True)


def compress_chunks(
    chunks: Iterable[bytes], *, size: int, level: int = DEFAULT_LEVEL
) -> Iterator[bytes]:
    """Compress `chunks` (exactly `size` bytes in all) into one zstd frame, piece by piece.

    The frame records its content size and a content checksum.

    Raises:
        FileChangedError: the chunks add up to more or fewer than `size` bytes (the file
            changed while it was read). Raised before the frame is finished, so a caller
            that writes the pieces to a temp file just discards it.
    """
    if size < 0:
        raise InvalidArgumentError(f"size must not be negative, got {size}")
    cobj = _compressor(level).compressobj(size=size)
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > size:
            raise FileChangedError(f"expected {size} bytes but got more; the file changed")
        if chunk:
            piece = cobj.compress(chunk)
            if piece:
                yield piece
    if total != size:
        raise FileChangedError(f"expected {size} bytes but got {total}; the file changed")
    tail = cobj.flush()
    if tail:
        yield tail


def compress_bytes(data: bytes, level: int = DEFAULT_LEVEL) -> bytes:
    """Compress `data` into one zstd frame with content size and checksum."""
    # A compressor is reused per thread and level: creating one costs ~5x a small compress.
    cache: dict[int, zstandard.ZstdCompressor] | None = getattr(_local, "compressors", None)
    if cache is None:
        cache = {}
        _local.compressors = cache
    compressor = cache.get(level)
    if compressor is None:
        compressor = cache[level] = _compressor(level)
    return compressor.compress(data)


class _FrameWalker:
    """Follows the structure of one zstd frame through a byte stream, without decoding.

    It knows exactly where the frame ends (so a cut frame and trailing bytes are both
    detected, which zstandard's stream readers do not do) and splits the input so that each
    piece handed to the decoder completes at most one block: one decoder call can then
    produce at most 128 KiB, whatever the data claims.
    """

    _HEADER, _BLOCK_HEADER, _BLOCK_BODY, _CHECKSUM, _DONE = range(5)

    def __init__(self, what: str, expected_size: int) -> None:
        self._what = what
        self._expected_size = expected_size
        self._state = self._HEADER
        self._buf = bytearray()
        self._header_len = 5  # grows once the descriptor byte is known
        self._body_left = 0
        self._last_block = False

    @property
    def done(self) -> bool:
        return self._state == self._DONE

    def _fail(self, reason: str) -> DamagedContainerError:
        return DamagedContainerError(f"{self._what}: {reason}")

    def _check_header(self) -> None:
        header = self._buf
        if bytes(header[:4]) != _MAGIC:
            raise self._fail("not a zstd frame (bad magic number)")
        fhd = header[4]
        fcs_flag = fhd >> 6
        single_segment = bool(fhd & 0x20)
        if fhd & 0x10 or fhd & 0x08:
            raise self._fail("zstd frame header has reserved bits set")
        if not fhd & 0x04:
            raise self._fail("zstd frame has no content checksum")
        if fhd & 0x03:
            raise self._fail("zstd frame needs a dictionary")
        fcs_len = _FCS_SIZES[fcs_flag] if fcs_flag or not single_segment else 1
        self._header_len = 5 + (0 if single_segment else 1) + _DID_SIZES[fhd & 3] + fcs_len
        if len(header) < self._header_len or fcs_len == 0:
            return
        fcs = int.from_bytes(header[self._header_len - fcs_len : self._header_len], "little")
        if fcs_len == 2:
            fcs += 256
        if fcs != self._expected_size:
            raise self._fail(
                f"zstd frame header claims {fcs} bytes, expected {self._expected_size}"
            )

    def split(self, data: memoryview) -> Iterator[memoryview | bytes]:
        """Yield `data` back in pieces for the decoder; raise on any structural error."""
        pos = 0
        end = len(data)
        while pos < end:
            state = self._state
            if state == self._BLOCK_BODY:
                take = min(self._body_left, end - pos)
                yield data[pos : pos + take]
                pos += take
                self._body_left -= take
                if self._body_left == 0:
                    self._end_block()
            elif state == self._HEADER:
                need = self._header_len - len(self._buf)
                self._buf += data[pos : pos + need]
                pos += min(need, end - pos)
                if len(self._buf) >= 5:
                    self._check_header()  # may grow _header_len
                if len(self._buf) == self._header_len:
                    yield bytes(self._buf)
                    self._buf.clear()
                    self._state = self._BLOCK_HEADER
            elif state == self._BLOCK_HEADER:
                need = 3 - len(self._buf)
                self._buf += data[pos : pos + need]
                pos += min(need, end - pos)
                if len(self._buf) == 3:
                    header = bytes(self._buf)
                    self._buf.clear()
                    self._start_block(header)
                    yield header
            elif state == self._CHECKSUM:
                need = 4 - len(self._buf)
                self._buf += data[pos : pos + need]
                pos += min(need, end - pos)
                if len(self._buf) == 4:
                    yield bytes(self._buf)
                    self._buf.clear()
                    self._state = self._DONE
            else:
                raise self._fail(f"{end - pos}+ bytes of unexpected data after the zstd frame")

    def _start_block(self, header_bytes: bytes) -> None:
        header = int.from_bytes(header_bytes, "little")
        self._last_block = bool(header & 1)
        block_type = (header >> 1) & 3
        block_size = header >> 3
        if block_type == 3:
            raise self._fail("zstd block of reserved type")
        if block_size > _BLOCK_MAX:
            raise self._fail(f"zstd block of {block_size} bytes is larger than allowed")
        # An RLE block stores one byte however many it regenerates.
        self._body_left = 1 if block_type == 1 else block_size
        self._state = self._BLOCK_BODY
        if self._body_left == 0:
            self._end_block()

    def _end_block(self) -> None:
        self._state = self._CHECKSUM if self._last_block else self._BLOCK_HEADER


def _window_limit(expected_size: int) -> int:
    limit = _MIN_WINDOW_LIMIT
    while limit < expected_size and limit < _MAX_WINDOW_LIMIT:
        limit <<= 1
    return limit


def _input_chunks(
    compressed: Iterable[bytes] | SupportsRead, chunk_size: int
) -> Iterator[bytes | bytearray | memoryview]:
    if isinstance(compressed, bytes | bytearray | memoryview):
        yield compressed
    elif hasattr(compressed, "read"):
        reader: SupportsRead = compressed  # type: ignore[assignment]
        while True:
            chunk = reader.read(chunk_size)
            if not chunk:
                return
            yield chunk
    else:
        yield from compressed


def decompress_verified(
    compressed: Iterable[bytes] | SupportsRead,
    *,
    expected_size: int,
    expected_hash: str | None,
    what: str,
    chunk_size: int = 1 << 20,
) -> Iterator[bytes]:
    """Decompress one zstd frame, yielding the output piece by piece, checking everything.

    `compressed` is an iterable of byte chunks or a binary file-like object (read
    `chunk_size` bytes at a time). Memory stays bounded whatever the frame claims: the header
    must declare exactly `expected_size` bytes (if it declares a size at all) before anything
    is decoded, the decoder's window is capped, each decoder call can produce at most one
    block (128 KiB), and decoding stops as soon as the output would exceed `expected_size`.

    Checked: magic, header flags (a content checksum is required), frame completeness (a cut
    frame is an error, unlike zstandard's stream readers), no bytes after the frame, the zstd
    content checksum, total size == `expected_size`, and, if `expected_hash` is given, the
    BLAKE3 hex digest of the output.

    The size and BLAKE3 checks can only complete at the end of the stream, after the last
    piece was yielded. Callers writing the output to disk must write to a temp file and only
    publish it (rename into place) after this iterator finished without raising.

    Raises:
        DamagedContainerError: "`what`: <reason>" for any mismatch or zstd error.
    """
    if expected_size < 0:
        raise InvalidArgumentError(f"expected_size must not be negative, got {expected_size}")

    def fail(reason: str) -> DamagedContainerError:
        return DamagedContainerError(f"{what}: {reason}")

    walker = _FrameWalker(what, expected_size)
    decompressor = zstandard.ZstdDecompressor(max_window_size=_window_limit(expected_size))
    dobj = decompressor.decompressobj()
    hasher = ContentHasher() if expected_hash is not None else None
    produced = 0
    for chunk in _input_chunks(compressed, chunk_size):
        if not chunk:
            continue
        for piece in walker.split(memoryview(chunk)):
            try:
                out = dobj.decompress(piece)
            except zstandard.ZstdError as exc:
                raise fail(f"zstd error: {exc}") from None
            if out:
                produced += len(out)
                if produced > expected_size:
                    raise fail(f"decompresses to more than the expected {expected_size} bytes")
                if hasher is not None:
                    hasher.update(out)
                yield out
    if not walker.done or not dobj.eof:
        raise fail("zstd frame is truncated")
    if produced != expected_size:
        raise fail(f"decompressed to {produced} bytes, expected {expected_size}")
    if hasher is not None and hasher.hexdigest() != expected_hash:
        raise fail(f"content hash {hasher.hexdigest()} does not match {expected_hash}")


def decompress_bytes_verified(
    data: bytes, *, expected_size: int, expected_hash: str | None, what: str
) -> bytes:
    """`decompress_verified` for a frame held in memory; returns the whole output."""
    return b"".join(
        decompress_verified(
            [data], expected_size=expected_size, expected_hash=expected_hash, what=what
        )
    )
