"""Tests for zstd object frames: round trips, damage detection, bounded memory."""

from __future__ import annotations

import io
import os
import random
import tracemalloc
from pathlib import Path

import pytest

from kamaros_app.engine.errors import DamagedContainerError, FileChangedError
from kamaros_app.engine.hashing import hash_bytes
from kamaros_app.engine.objects import (
    compress_bytes,
    compress_chunks,
    decompress_bytes_verified,
    decompress_verified,
)

MAGIC = b"\x28\xb5\x2f\xfd"


def _text(n_words: int, seed: int = 1) -> bytes:
    rnd = random.Random(seed)
    words = [
        b"alpha",
        b"beta",
        b"gamma",
        b"delta",
        b"\n",
        b"(",
        b")",
        b"    ",
        b"\xc3\xa9t\xc3\xa9",
    ]
    return b" ".join(rnd.choice(words) for _ in range(n_words))


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def _decode(frame: bytes, data: bytes, *, with_hash: bool = True) -> bytes:
    return decompress_bytes_verified(
        frame,
        expected_size=len(data),
        expected_hash=hash_bytes(data) if with_hash else None,
        what="obj",
    )


SAMPLES = {
    "empty": b"",
    "one": b"x",
    "small": b"hello world\r\n" * 10,
    "random": random.Random(2).randbytes(5000),
    "multi_mb_text": _text(700_000),
    "multi_mb_random": random.Random(3).randbytes(3 << 20),
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_round_trip_through_files(tmp_path: Path, name: str) -> None:
    data = SAMPLES[name]
    path = tmp_path / "obj.zst"
    with path.open("wb") as f:
        for piece in compress_chunks(_chunks(data, 100_000) or [b""], size=len(data)):
            f.write(piece)
    assert _decode(path.read_bytes(), data) == data
    assert _decode(compress_bytes(data), data) == data
    with path.open("rb") as f:
        out = b"".join(
            decompress_verified(
                f,
                expected_size=len(data),
                expected_hash=hash_bytes(data),
                what="obj",
                chunk_size=7777,
            )
        )
    assert out == data


def test_frame_has_checksum_and_content_size() -> None:
    import zstandard

    for data in (b"", b"abc", SAMPLES["multi_mb_text"]):
        params = zstandard.get_frame_parameters(compress_bytes(data))
        assert params.has_checksum
        assert params.content_size == len(data)
        streamed = b"".join(compress_chunks([data], size=len(data)))
        params = zstandard.get_frame_parameters(streamed)
        assert params.has_checksum
        assert params.content_size == len(data)


def test_one_byte_input_chunks() -> None:
    data = SAMPLES["small"]
    frame = compress_bytes(data)
    out = b"".join(
        decompress_verified(
            [frame[i : i + 1] for i in range(len(frame))],
            expected_size=len(data),
            expected_hash=hash_bytes(data),
            what="obj",
        )
    )
    assert out == data


def test_compress_chunks_size_mismatch_raises() -> None:
    with pytest.raises(FileChangedError):
        list(compress_chunks([b"abc", b"def"], size=5))
    with pytest.raises(FileChangedError):
        list(compress_chunks([b"abc"], size=5))


def test_bit_flips_never_return_wrong_bytes() -> None:
    data = _text(8000, seed=7)
    frame = compress_bytes(data)
    rnd = random.Random(11)
    caught = 0
    flips = 200
    for bit in rnd.sample(range(len(frame) * 8), flips):
        damaged = bytearray(frame)
        damaged[bit // 8] ^= 1 << (bit % 8)
        for with_hash in (False, True):
            try:
                out = _decode(bytes(damaged), data, with_hash=with_hash)
            except DamagedContainerError as exc:
                assert str(exc).startswith("obj: ")
                caught += 1
            else:
                # A few bits of a compressed block (e.g. in entropy-table headers) do not
                # change what it decodes to; anything that decodes must decode exactly.
                assert out == data
    # Such harmless bits are rare; the zip entry's CRC over the stored frame catches them.
    assert caught >= 2 * flips * 0.95


def test_bit_flips_in_header_and_checksum_always_caught() -> None:
    data = _text(2000, seed=3)
    frame = compress_bytes(data)
    header_and_tail = list(range(0, 6 * 8)) + list(range((len(frame) - 4) * 8, len(frame) * 8))
    for bit in header_and_tail:
        damaged = bytearray(frame)
        damaged[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(DamagedContainerError):
            _decode(bytes(damaged), data, with_hash=False)


def test_truncation_at_every_offset_raises() -> None:
    data = _text(3000, seed=5) + random.Random(1).randbytes(3000)
    frame = compress_bytes(data)
    for cut in range(len(frame)):
        for with_hash in (False, True):
            with pytest.raises(DamagedContainerError):
                _decode(frame[:cut], data, with_hash=with_hash)
    empty = compress_bytes(b"")
    for cut in range(len(empty)):
        with pytest.raises(DamagedContainerError, match="truncated"):
            _decode(empty[:cut], b"", with_hash=False)


@pytest.mark.parametrize("junk", [b"\x00", b"junk", compress_bytes(b"second frame")])
def test_trailing_data_raises(junk: bytes) -> None:
    data = SAMPLES["small"]
    with pytest.raises(DamagedContainerError, match="after the zstd frame"):
        _decode(compress_bytes(data) + junk, data)
    with pytest.raises(DamagedContainerError, match="after the zstd frame"):
        list(
            decompress_verified(
                [compress_bytes(data), junk],
                expected_size=len(data),
                expected_hash=None,
                what="obj",
            )
        )


def test_wrong_expectations_raise() -> None:
    data = SAMPLES["random"]
    frame = compress_bytes(data)
    with pytest.raises(DamagedContainerError, match="claims"):
        decompress_bytes_verified(frame, expected_size=len(data) - 1, expected_hash=None, what="o")
    with pytest.raises(DamagedContainerError, match="hash"):
        decompress_bytes_verified(
            frame, expected_size=len(data), expected_hash=hash_bytes(b"other"), what="o"
        )
    with pytest.raises(DamagedContainerError, match="not a zstd frame"):
        decompress_bytes_verified(
            b"PK\x03\x04" + frame, expected_size=1, expected_hash=None, what="o"
        )
    with pytest.raises(DamagedContainerError):
        decompress_bytes_verified(b"", expected_size=0, expected_hash=None, what="o")


def test_frame_without_checksum_rejected() -> None:
    import zstandard

    frame = zstandard.ZstdCompressor(write_checksum=False).compress(b"abc")
    with pytest.raises(DamagedContainerError, match="checksum"):
        decompress_bytes_verified(frame, expected_size=3, expected_hash=None, what="o")


def _rle_blocks(count: int, *, last: bool = True) -> bytes:
    """`count` RLE blocks of 128 KiB of b"A" each: 4 bytes in, 128 KiB out."""
    block = ((128 * 1024) << 3 | 1 << 1).to_bytes(3, "little") + b"A"
    last_block = ((128 * 1024) << 3 | 1 << 1 | 1).to_bytes(3, "little") + b"A"
    return block * (count - 1) + (last_block if last else block)


def test_frame_claiming_1gib_is_rejected_before_decoding() -> None:
    # Single segment, 8-byte content size = 1 GiB, checksum flag: a one-shot decoder would
    # allocate 1 GiB for this 32 KB frame.
    header = MAGIC + bytes([0b1110_0100]) + (1 << 30).to_bytes(8, "little")
    frame = header + _rle_blocks(8192) + b"\0\0\0\0"
    tracemalloc.start()
    try:
        with pytest.raises(DamagedContainerError, match="claims 1073741824 bytes"):
            decompress_bytes_verified(frame, expected_size=1000, expected_hash=None, what="o")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 1024 * 1024


def test_bomb_without_declared_size_stops_at_expected_size() -> None:
    # No content size in the header, 128 KiB window, 8192 RLE blocks = 1 GiB of output.
    header = MAGIC + bytes([0b0000_0100, 7 << 3])
    frame = header + _rle_blocks(8192) + b"\0\0\0\0"
    assert len(frame) < 40_000
    tracemalloc.start()
    try:
        with pytest.raises(DamagedContainerError, match="more than the expected"):
            for _ in decompress_verified(
                io.BytesIO(frame), expected_size=1 << 20, expected_hash=None, what="o"
            ):
                pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 1024 * 1024


def test_huge_expected_size_streams_in_bounded_pieces() -> None:
    # The caller expects 1 GiB and the frame really claims it: output comes in pieces of at
    # most one block; nothing is allocated for the whole.
    header = MAGIC + bytes([0b1100_0100, 17 << 3]) + (1 << 30).to_bytes(8, "little")
    frame = header + _rle_blocks(8192) + b"\0\0\0\0"
    tracemalloc.start()
    try:
        stream = decompress_verified([frame], expected_size=1 << 30, expected_hash=None, what="o")
        for count, piece in enumerate(stream):
            assert len(piece) <= 128 * 1024
            if count == 50:
                break
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 1024 * 1024


def test_window_larger_than_allowed_rejected() -> None:
    # Window descriptor asking for 2 GiB: the decoder refuses instead of allocating it.
    header = MAGIC + bytes([0b0000_0100, 21 << 3])
    frame = header + _rle_blocks(1) + b"\0\0\0\0"
    with pytest.raises(DamagedContainerError, match="zstd error"):
        decompress_bytes_verified(frame, expected_size=128 * 1024, expected_hash=None, what="o")


def test_real_file_round_trip_with_os_randomness(tmp_path: Path) -> None:
    data = os.urandom(200_000) + _text(50_000)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    frame_path = tmp_path / "frame.zst"
    with src.open("rb") as f, frame_path.open("wb") as out:
        for piece in compress_chunks(iter(lambda: f.read(65536), b""), size=len(data)):
            out.write(piece)
    with frame_path.open("rb") as f:
        restored = b"".join(
            decompress_verified(
                f, expected_size=len(data), expected_hash=hash_bytes(data), what="obj"
            )
        )
    assert restored == data
