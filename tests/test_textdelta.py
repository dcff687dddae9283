"""Tests for text detection and strict reverse text patches."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from diff_match_patch import diff_match_patch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kamaros_app.engine.errors import DamagedContainerError
from kamaros_app.engine.textdelta import (
    PatchError,
    TextSniffer,
    apply_patch,
    decode_text,
    is_text,
    make_patch,
)

# Text as it can come out of a strict UTF-8 decode: any code point but lone surrogates,
# with plenty of line-ending variety, BOMs and characters beyond the BMP.
_pieces = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
    st.sampled_from(["\n", "\r\n", "\r", "\ufeff", "😀", "𝄞", "é", "e\u0301", "line\n", "\t"]),
    st.text(alphabet="ab\n", max_size=8),
)
texts = st.lists(_pieces, max_size=25).map("".join)


def _dmp_apply(base: str, patch_text: str) -> str:
    dmp = diff_match_patch()
    result, applied = dmp.patch_apply(dmp.patch_fromText(patch_text), base)
    assert all(applied)
    return str(result)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, texts)
def test_round_trip_and_dmp_compatibility(a: str, b: str) -> None:
    patch = make_patch(a, b)
    assert apply_patch(a, patch) == b
    # The patch text is ordinary dmp: dmp applies it to the exact base too.
    assert _dmp_apply(a, patch) == b
    # And what dmp itself writes (contexts grown until unique, which makes neighbouring
    # hunks overlap) is applied strictly as well.
    dmp = diff_match_patch()
    assert apply_patch(a, dmp.patch_toText(dmp.patch_make(a, b))) == b


@settings(max_examples=200, deadline=None)
@given(texts, texts, st.data())
def test_changed_base_inside_a_hunk_raises(a: str, b: str, data: st.DataObject) -> None:
    patch = make_patch(a, b)
    patches = diff_match_patch().patch_fromText(patch)
    if not patches or patches[0].length1 == 0:
        return  # pure insertion into an empty text: nothing to check against
    first = patches[0]
    # The first hunk's position is a position in `a` itself.
    pos = data.draw(st.integers(first.start2, first.start2 + first.length1 - 1))
    replacement = "X" if a[pos] != "X" else "Y"
    wrong = a[:pos] + replacement + a[pos + 1 :]
    with pytest.raises(PatchError):
        apply_patch(wrong, patch)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("😀", "😁"),
        ("a😀b", "a😀😀b"),
        ("𝄞 music 𝄞\n", "𝄞 musik 🎵\n"),
        ("👩‍👩‍👧 family", "👩‍👩‍👦 family"),
        ("x" * 100 + "😀" + "y" * 100, "x" * 100 + "y" * 100),
    ],
)
def test_astral_characters_both_directions(a: str, b: str) -> None:
    for src, dst in ((a, b), (b, a)):
        patch = make_patch(src, dst)
        assert apply_patch(src, patch) == dst
        assert _dmp_apply(src, patch) == dst
        # What the store keeps is the UTF-8 of the patch text; it is plain ASCII.
        assert patch.encode("utf-8").isascii()


def test_line_endings_and_bom_preserved() -> None:
    a = "\ufeffone\r\ntwo\rthree\nfour\r\n"
    b = "\ufeffone\ntwo\r\nthree\rfour"
    for src, dst in ((a, b), (b, a), ("", a), (a, "")):
        assert apply_patch(src, make_patch(src, dst)) == dst
    assert make_patch(a, a) == ""
    assert apply_patch(a, "") == a


def _big_text(seed: int, size: int = 1_000_000) -> tuple[str, str]:
    rnd = random.Random(seed)
    words = ["def", "return", "self", "value", "(", ")", ":", "=", "+", "1", "name", "if"]
    lines: list[str] = []
    total = 0
    while total < size:
        line = "    " * rnd.randint(0, 3) + " ".join(rnd.choices(words, k=rnd.randint(3, 12)))
        line += "\r\n" if rnd.random() < 0.1 else "\n"
        lines.append(line)
        total += len(line)
    edited = list(lines)
    for i in rnd.sample(range(len(lines)), len(lines) // 100):
        edited[i] = edited[i].replace("self", "this") + ("extra line\n" if i % 3 else "")
    return "".join(lines), "".join(edited)


def test_large_text_speed(capsys: pytest.CaptureFixture[str]) -> None:
    new, old = _big_text(1)
    start = time.perf_counter()
    patch = make_patch(new, old)
    made = time.perf_counter()
    assert apply_patch(new, patch) == old
    applied = time.perf_counter()
    with capsys.disabled():
        print(
            f"\n1 MB text, 1% of lines edited: make_patch {1000 * (made - start):.0f} ms, "
            f"apply_patch {1000 * (applied - made):.0f} ms, patch {len(patch)} chars"
        )
    assert len(patch) < len(new) // 20
    assert made - start < 5  # generous: the target is ~100 ms on a quiet machine


def test_completely_different_large_texts_are_bounded() -> None:
    rnd = random.Random(4)
    a = "".join(rnd.choice("abc\n") for _ in range(200_000))
    b = "".join(rnd.choice("abd\n") for _ in range(200_000))
    start = time.perf_counter()
    patch = make_patch(a, b)
    assert time.perf_counter() - start < 10
    assert apply_patch(a, patch) == b


def test_overlapping_hunks_from_dmp() -> None:
    # dmp grows contexts until unique; in a repetitive text the second hunk's context
    # reaches back into the first hunk's output (positions count in the partly patched text).
    dmp = diff_match_patch()
    a = "abcd" * 50
    b = a[:40] + "X" + a[41:52] + "Y" + a[53:]
    patches = dmp.patch_make(a, b)
    assert len(patches) == 2
    assert patches[1].start2 < patches[0].start2 + patches[0].length2
    assert apply_patch(a, dmp.patch_toText(patches)) == b


def test_hunks_apply_in_sequence_on_the_patched_text() -> None:
    # Hand-written: the second hunk lies entirely inside what the first one produced.
    patch = "@@ -1,3 +1,4 @@\n-abc\n+XYZW\n@@ -2,2 +2,1 @@\n-YZ\n+Q\n"
    assert apply_patch("abcdef", patch) == "XQWdef"
    with pytest.raises(PatchError):
        apply_patch("abcdef", "@@ -1,3 +1,4 @@\n-abc\n+XYZW\n@@ -2,2 +2,1 @@\n-YY\n+Q\n")


def test_wrong_base_raises() -> None:
    new, old = _big_text(2, 50_000)
    patch = make_patch(new, old)
    with pytest.raises(PatchError):
        apply_patch(old, patch)
    with pytest.raises(PatchError):
        apply_patch("", patch)
    # One changed character in the middle of the first hunk's expected text.
    first = diff_match_patch().patch_fromText(patch)[0]
    pos = first.start2 + first.length1 // 2
    damaged = new[:pos] + ("#" if new[pos] != "#" else "%") + new[pos + 1 :]
    with pytest.raises(PatchError):
        apply_patch(damaged, patch)
    assert issubclass(PatchError, DamagedContainerError)


@pytest.mark.parametrize(
    "patch",
    [
        "garbage",
        "@@ -1,3 +1,3 @@\n?abc\n",
        "@@ -1,3 +1,3 @@\n abc\n\n abc\n",  # blank line inside
        "@@ -1,3 +1,3 @@\n a%G1\n",  # malformed escape
        "@@ -1,3 +1,3 @@\n a%FFb\n",  # escape that is not UTF-8
        "@@ -1,4 +1,3 @@\n abc\n",  # header length does not match body
        "@@ -1,3 +1,4 @@\n abc\n",
        "@@ -0,5 +0,5 @@\n abcde\n",  # starts before the text
        "@@ -1,3 +1,3 @@\n",  # empty hunk
        "@@ -1,3 +1,3 @@\n abc\n@@ broken\n",
        "@@ -9,3 +9,3 @@\n abc\n",  # beyond the end of the text
    ],
)
def test_malformed_patches_raise(patch: str) -> None:
    with pytest.raises(PatchError):
        apply_patch("abcdef", patch)


def test_text_detection() -> None:
    assert is_text(b"")
    assert is_text(b"plain\r\nascii\r")
    assert is_text("\ufeffBOM, é, 😀, 中文".encode())
    assert not is_text(b"nul\x00inside")
    assert not is_text(b"\xff\xfe")
    assert not is_text(b"\xc0\xaf")  # overlong "/"
    assert not is_text(b"\xed\xa0\x80")  # an encoded surrogate
    assert not is_text("😀".encode()[:-1])  # cut short at the end
    assert not is_text(b"\xef\xbb\xbfutf-16?\x00")


def test_sniffer_handles_sequences_split_across_chunks() -> None:
    data = "a😀é中\r\n€".encode() * 3
    for size in range(1, 9):
        sniffer = TextSniffer()
        for i in range(0, len(data), size):
            sniffer.feed(data[i : i + size])
        assert sniffer.is_text
    sniffer = TextSniffer()
    sniffer.feed("😀".encode()[:2])
    assert not sniffer.is_text  # incomplete so far
    sniffer.feed("😀".encode()[2:])
    assert sniffer.is_text
    sniffer.feed(b"\x80")
    assert not sniffer.is_text
    sniffer.feed(b"more text")
    assert not sniffer.is_text  # stays binary


def test_bytes_round_trip_exactly(tmp_path: Path) -> None:
    samples = [
        b"\xef\xbb\xbfwith BOM\r\nCRLF\rCR\nLF",
        b"no final newline",
        b"\r\r\n\n\r",
        "mixed \u2028 separators \x0b\x0c\x1c\x85 kept".encode(),
        "e\u0301 vs \u00e9, 😀".encode(),
    ]
    for i, data in enumerate(samples):
        path = tmp_path / f"f{i}.txt"
        path.write_bytes(data)
        raw = path.read_bytes()
        assert is_text(raw)
        assert decode_text(raw).encode("utf-8") == data
    with pytest.raises(PatchError):
        decode_text(b"\xff")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64), st.integers(1, 8))
def test_sniffer_agrees_with_strict_decode(data: bytes, size: int) -> None:
    sniffer = TextSniffer()
    for i in range(0, len(data), size):
        sniffer.feed(data[i : i + size])
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        expected = False
    else:
        expected = b"\x00" not in data
    assert sniffer.is_text == expected == is_text(data)


def test_many_distinct_lines() -> None:
    # Over 55,296 distinct lines: line ids run through the surrogate code points.
    a = "".join(f"line {i}\n" for i in range(70_000))
    b = a.replace("line 60000\n", "changed\n").replace("line 100\n", "")
    patch = make_patch(a, b)
    assert len(patch) < 500
    assert apply_patch(a, patch) == b
    assert apply_patch(b, make_patch(b, a)) == a


def _both_ways(monkeypatch: pytest.MonkeyPatch, a: str, b: str) -> tuple[str, str]:
    from kamaros_app.engine.native import NATIVE_ENV

    monkeypatch.setenv(NATIVE_ENV, "1")
    native = make_patch(a, b)
    monkeypatch.setenv(NATIVE_ENV, "0")
    pure = make_patch(a, b)
    return native, pure


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts, texts)
def test_native_and_pure_diffs_give_identical_patches(
    monkeypatch: pytest.MonkeyPatch, a: str, b: str
) -> None:
    native, pure = _both_ways(monkeypatch, a, b)
    assert native == pure
    assert apply_patch(a, native) == b


@pytest.mark.parametrize("seed", range(4))
def test_native_and_pure_agree_on_large_edited_texts(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    new, old = _big_text(seed)
    native, pure = _both_ways(monkeypatch, new, old)
    assert native == pure
    assert apply_patch(new, native) == old
    many_a = "".join(f"line {i}\n" for i in range(70_000))  # line ids through surrogates
    many_b = many_a.replace("line 60000\n", "changed\n").replace("line 100\n", "")
    native, pure = _both_ways(monkeypatch, many_a, many_b)
    assert native == pure
