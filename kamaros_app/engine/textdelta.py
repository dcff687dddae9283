"""Text detection and reverse text patches in diff-match-patch `patch_toText` format."""

from __future__ import annotations

import codecs
import re
import time
import urllib.parse
from itertools import accumulate, chain, count, repeat
from operator import add
from typing import Any

from diff_match_patch import diff_match_patch, patch_obj

from .errors import DamagedContainerError
from .native import native_allowed

_native: Any
try:  # the C++ port of the same diff algorithm; see `_diff_main`
    import fast_diff_match_patch as _native  # type: ignore[no-redef]
except ImportError:  # pragma: no cover - a dependency; pure Python is the fallback
    _native = None

__all__ = [
    "DIFF_TIMEOUT_SECONDS",
    "LINE_MODE_MIN_CHARS",
    "PATCH_MARGIN",
    "PatchError",
    "TextSniffer",
    "apply_patch",
    "decode_text",
    "is_text",
    "make_patch",
]

# Upper bound for the diff itself; a diff cut short is larger, never wrong.
DIFF_TIMEOUT_SECONDS = 1.0
# Below this total size the diff runs character by character; above it line by line first.
LINE_MODE_MIN_CHARS = 8 * 1024
# Context kept around each change (the JCF / diff-match-patch default).
PATCH_MARGIN = 4

_DELETE = diff_match_patch.DIFF_DELETE
_INSERT = diff_match_patch.DIFF_INSERT
_EQUAL = diff_match_patch.DIFF_EQUAL
# Line-mode diffs map each distinct line to one code point; stay well below chr()'s limit.
_MAX_LINE_IDS = 1_000_000

_Diff = tuple[int, str]
_NATIVE_OPS = {"=": _EQUAL, "-": _DELETE, "+": _INSERT}


class PatchError(DamagedContainerError):
    """A text patch is malformed or does not fit the text it is applied to."""


def _dmp() -> diff_match_patch:
    dmp = diff_match_patch()
    dmp.Diff_Timeout = DIFF_TIMEOUT_SECONDS
    dmp.Patch_Margin = PATCH_MARGIN
    return dmp


# --------------------------------------------------------------------------- text detection


class TextSniffer:
    """Decides, chunk by chunk, whether a byte stream is text.

    Text means valid UTF-8 (strict: no overlong forms, no encoded surrogates, nothing cut
    short at the end) without any NUL byte. Sequences split across chunks are handled.
    Text is never normalised: `bytes -> str -> bytes` with strict UTF-8 gives back exactly
    the same bytes (BOM, CRLF, lone CR all kept).
    """

    __slots__ = ("_decoder", "_ok")

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._ok = True

    def feed(self, chunk: bytes | bytearray | memoryview) -> None:
        """Look at the next chunk; cheap once the stream is known not to be text."""
        if not self._ok:
            return
        if b"\x00" in chunk:
            self._ok = False
            return
        try:
            self._decoder.decode(chunk, False)
        except UnicodeDecodeError:
            self._ok = False

    @property
    def is_text(self) -> bool:
        """Whether everything fed so far, taken as the whole stream, is text."""
        return self._ok and not self._decoder.getstate()[0]


def is_text(data: bytes | bytearray | memoryview) -> bool:
    """Whether `data` is valid UTF-8 without NUL bytes (see `TextSniffer`)."""
    sniffer = TextSniffer()
    sniffer.feed(data)
    return sniffer.is_text


def decode_text(data: bytes, what: str = "text") -> str:
    """Strict UTF-8 decode (no BOM stripping, no newline changes); PatchError if invalid."""
    try:
        return data.decode("utf-8", "strict")
    except UnicodeDecodeError as exc:
        raise PatchError(f"{what}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None


# --------------------------------------------------------------------------- making patches


def _line_codes(text1: str, text2: str) -> tuple[str, str, list[int], list[int]] | None:
    """Each text as one character per line (equal lines, equal characters; lines split on
    "\\n" only), plus where each line starts, for dmp-style line-mode diffs.

    Returns None when the texts have too many distinct lines to map. Built from C-level
    dict and map calls: this runs over every line of both texts.
    """
    keys1 = text1.split("\n")
    keys2 = text2.split("\n")
    # The keys are the lines without their "\n". A last line without one is no separate
    # line when empty, and otherwise gets "\n" appended: a key no terminated line can have.
    for keys in (keys1, keys2):
        last = keys.pop()
        if last:
            keys.append(last + "\n")
    codes = dict(zip(dict.fromkeys(chain(keys1, keys2)), count(1), strict=False))
    if len(codes) > _MAX_LINE_IDS:
        return None
    chars1 = "".join(map(chr, map(codes.__getitem__, keys1)))
    chars2 = "".join(map(chr, map(codes.__getitem__, keys2)))
    return chars1, chars2, _line_starts(keys1, len(text1)), _line_starts(keys2, len(text2))


def _line_starts(keys: list[str], length: int) -> list[int]:
    starts = list(accumulate(map(add, map(len, keys), repeat(1)), initial=0))
    starts[-1] = length  # the last line may have had no "\n" (its key is one longer)
    return starts


def _diff_counts(
    dmp: diff_match_patch, text1: str, text2: str, deadline: float
) -> list[tuple[int, int]]:
    """dmp's `diff_main(text1, text2, checklines=False)` as (operation, length) pairs: in
    C++ when available (the same algorithm and clean-up, so the same result unless the
    deadline cuts either short), else in Python."""
    if _native is None or not native_allowed():
        return [(op, len(text)) for op, text in dmp.diff_main(text1, text2, False, deadline)]
    limit = max(deadline - time.time(), 0.001)
    counts = _native.diff(text1, text2, timelimit=limit, checklines=False, cleanup="No")
    return [(_NATIVE_OPS[op], length) for op, length in counts]


def _spans(
    counts: list[tuple[int, int]], text1: str, text2: str, starts1: list[int], starts2: list[int]
) -> list[_Diff]:
    """Turn (operation, length) pairs into (operation, text) diffs; lengths are counted in
    the units `starts1` / `starts2` map to positions in `text1` / `text2`."""
    out: list[_Diff] = []
    at1 = at2 = 0
    for op, length in counts:
        if op == _INSERT:
            out.append((op, text2[starts2[at2] : starts2[at2 + length]]))
            at2 += length
        else:
            out.append((op, text1[starts1[at1] : starts1[at1 + length]]))
            at1 += length
            if op == _EQUAL:
                at2 += length
    return out


def _diff_main(dmp: diff_match_patch, text1: str, text2: str, deadline: float) -> list[_Diff]:
    """Character-level diff, as (operation, text) pairs."""
    out: list[_Diff] = []
    at1 = at2 = 0
    for op, length in _diff_counts(dmp, text1, text2, deadline):
        if op == _INSERT:
            out.append((op, text2[at2 : at2 + length]))
            at2 += length
        else:
            out.append((op, text1[at1 : at1 + length]))
            at1 += length
            if op == _EQUAL:
                at2 += length
    return out


def _rediff_replacements(dmp: diff_match_patch, diffs: list[_Diff], deadline: float) -> list[_Diff]:
    """Diff each replaced block of lines character by character (as dmp's line mode does)."""
    out: list[_Diff] = []
    deleted: list[str] = []
    inserted: list[str] = []
    for op, text in [*diffs, (_EQUAL, "")]:
        if op == _INSERT:
            inserted.append(text)
        elif op == _DELETE:
            deleted.append(text)
        else:
            if deleted and inserted:
                out.extend(_diff_main(dmp, "".join(deleted), "".join(inserted), deadline))
            elif deleted:
                out.append((_DELETE, "".join(deleted)))
            elif inserted:
                out.append((_INSERT, "".join(inserted)))
            deleted.clear()
            inserted.clear()
            if text:
                out.append((op, text))
    return out


def _diff(dmp: diff_match_patch, source: str, target: str) -> list[_Diff]:
    deadline = time.time() + DIFF_TIMEOUT_SECONDS
    diffs: list[_Diff]
    mapped = (
        _line_codes(source, target) if len(source) + len(target) > LINE_MODE_MIN_CHARS else None
    )
    if mapped is None:
        diffs = _diff_main(dmp, source, target, deadline)
    else:
        chars1, chars2, starts1, starts2 = mapped
        counts = _diff_counts(dmp, chars1, chars2, deadline)
        diffs = _spans(counts, source, target, starts1, starts2)
        dmp.diff_cleanupSemantic(diffs)  # drop freak matches such as blank lines
        diffs = _rediff_replacements(dmp, diffs, deadline)
    dmp.diff_cleanupSemantic(diffs)
    if len(diffs) > 2:
        dmp.diff_cleanupEfficiency(diffs)
    return diffs


def _make_patches(source: str, target: str, diffs: list[_Diff]) -> list[object]:
    """dmp's `patch_make(text1, diffs)` with a fixed context of PATCH_MARGIN characters.

    dmp grows each context until it is unique in the text, which needs the whole partly
    patched text for every hunk (quadratic: ~190 ms for 1 MB with 1% of lines changed).
    Uniqueness only helps fuzzy matching; `apply_patch` places hunks by position. The
    result is still a valid patch list: hunk positions follow dmp's rolling convention
    (each hunk's position counts in the text with all earlier hunks applied), so dmp's own
    `patch_apply` also applies it to the exact base.
    """
    patches: list[object] = []
    margin = PATCH_MARGIN
    patch = patch_obj()
    pos1 = 0  # position in `source`
    pos2 = 0  # position in `target` == position in the partly patched text
    patch_pos1 = 0
    last = len(diffs) - 1

    def finish(patch: patch_obj, start1: int) -> None:
        # Before the hunk, the partly patched text equals `target`; after it, `source`.
        prefix = target[max(0, patch.start2 - margin) : patch.start2]
        end1 = start1 + patch.length1
        suffix = source[end1 : end1 + margin]
        if prefix:
            patch.diffs.insert(0, (_EQUAL, prefix))
        if suffix:
            patch.diffs.append((_EQUAL, suffix))
        patch.start1 -= len(prefix)
        patch.start2 -= len(prefix)
        patch.length1 += len(prefix) + len(suffix)
        patch.length2 += len(prefix) + len(suffix)
        patches.append(patch)

    for index, (op, text) in enumerate(diffs):
        if not patch.diffs and op != _EQUAL:
            patch.start1 = patch.start2 = pos2
            patch_pos1 = pos1
        if op == _INSERT:
            patch.diffs.append((op, text))
            patch.length2 += len(text)
        elif op == _DELETE:
            patch.diffs.append((op, text))
            patch.length1 += len(text)
        elif len(text) <= 2 * margin and patch.diffs and index != last:
            # A small equality inside a hunk.
            patch.diffs.append((op, text))
            patch.length1 += len(text)
            patch.length2 += len(text)
        if op == _EQUAL and len(text) >= 2 * margin and patch.diffs:
            finish(patch, patch_pos1)
            patch = patch_obj()
        if op != _INSERT:
            pos1 += len(text)
        if op != _DELETE:
            pos2 += len(text)
    if patch.diffs:
        finish(patch, patch_pos1)
    return patches


def make_patch(source: str, target: str) -> str:
    """Patch text (dmp `patch_toText` format) that turns `source` into `target`.

    For the reverse patches of the store, `source` is the newer text and `target` the
    older. Fast on large texts: above LINE_MODE_MIN_CHARS the diff runs on lines first, and
    the diff stops refining after DIFF_TIMEOUT_SECONDS (a coarser patch, never a wrong one).
    Positions and lengths count Python code points (like the Python diff-match-patch; the
    JavaScript and Java ports count UTF-16 units, which differ for characters beyond the
    BMP such as emoji).
    """
    if source == target:
        return ""
    dmp = _dmp()
    patches = _make_patches(source, target, _diff(dmp, source, target))
    text: str = dmp.patch_toText(patches)
    return text


# --------------------------------------------------------------------------- applying patches


_HUNK_HEADER = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _coordinates(start: str, length: str | None) -> tuple[int, int]:
    # patch_toText writes "start+1" for one character, "start,0" for none, else
    # "start+1,length".
    if length is None:
        return int(start) - 1, 1
    if int(length) == 0:
        return int(start), 0
    return int(start) - 1, int(length)


def _parse(patch_text: str) -> list[tuple[int, str, str]]:
    """Parse patch text into (position, expected text, replacement) hunks, strictly.

    Same format as dmp's `patch_fromText`, but linear time (dmp deletes from the front of
    a list per line), and stricter: no blank lines inside, no malformed %-escapes, escapes
    must decode to UTF-8, and each hunk's lengths must match its body.
    """
    lines = patch_text.split("\n")
    if lines and not lines[-1]:
        lines.pop()
    hunks: list[tuple[int, str, str]] = []
    index = 0
    while index < len(lines):
        header = _HUNK_HEADER.fullmatch(lines[index])
        number = len(hunks) + 1
        if header is None:
            raise PatchError(f"malformed patch: bad hunk header {lines[index][:80]!r}")
        _, length1 = _coordinates(header[1], header[2])
        start2, length2 = _coordinates(header[3], header[4])
        if start2 < 0:
            raise PatchError(f"malformed patch: hunk {number} starts before the text")
        index += 1
        old: list[str] = []
        new: list[str] = []
        while index < len(lines) and not lines[index].startswith("@"):
            line = lines[index]
            sign = line[:1]
            body = line[1:]
            if "%" in body:
                if _BAD_ESCAPE.search(body):
                    raise PatchError(f"malformed patch: bad %-escape in hunk {number}")
                try:
                    body = urllib.parse.unquote(body, errors="strict")
                except UnicodeDecodeError:
                    raise PatchError(f"malformed patch: bad UTF-8 in hunk {number}") from None
            if sign == " ":
                old.append(body)
                new.append(body)
            elif sign == "-":
                old.append(body)
            elif sign == "+":
                new.append(body)
            else:
                raise PatchError(f"malformed patch: bad line {line[:80]!r} in hunk {number}")
            index += 1
        old_text = "".join(old)
        new_text = "".join(new)
        if len(old_text) != length1 or len(new_text) != length2:
            raise PatchError(
                f"malformed patch: hunk {number} header says {length1}/{length2} "
                f"characters but its body has {len(old_text)}/{len(new_text)}"
            )
        if not old and not new:
            raise PatchError(f"malformed patch: hunk {number} is empty")
        hunks.append((start2, old_text, new_text))
    return hunks


def apply_patch(base: str, patch_text: str) -> str:
    """Apply patch text to `base` strictly: every hunk exactly where it says, or PatchError.

    Hunks are applied in order; each one's position counts in the text with all earlier
    hunks applied (dmp's rolling convention, as `patch_make` writes it). The text found
    there must equal the hunk's expected text (its context and deletions) exactly. There is
    no fuzzy matching: dmp's `patch_apply` would "succeed" on a slightly wrong base and
    return wrong text.
    """
    hunks = _parse(patch_text)
    if not hunks:
        return base
    # The patched text is built as `done` (finished pieces, `done_len` characters) followed
    # by base[cursor:]. A hunk may start inside text an earlier hunk produced (contexts of
    # neighbouring hunks can overlap); then the tail of `done` is taken back.
    done: list[str] = []
    done_len = 0
    cursor = 0
    for number, (start, old, new) in enumerate(hunks, 1):
        if start < 0:
            raise PatchError(f"patch hunk {number} starts before the text")
        if start >= done_len:
            begin = cursor + (start - done_len)
            end = begin + len(old)
            if end > len(base) or base[begin:end] != old:
                raise PatchError(f"patch hunk {number} does not match the text at {start}")
            done.append(base[cursor:begin])
            done.append(new)
            done_len = start + len(new)
            cursor = end
            continue
        # Take back produced text from `start` on, then match against it plus the base.
        taken: list[str] = []
        while done_len > start:
            piece = done.pop()
            done_len -= len(piece)
            taken.append(piece)
        taken.reverse()
        produced = "".join(taken)
        keep = start - done_len
        if keep:
            done.append(produced[:keep])
            done_len += keep
        produced = produced[keep:]
        need_from_base = len(old) - len(produced)
        if need_from_base < 0:
            if produced[: len(old)] != old:
                raise PatchError(f"patch hunk {number} does not match the text at {start}")
            done.append(new)
            done.append(produced[len(old) :])
            done_len += len(new) + len(produced) - len(old)
            continue
        end = cursor + need_from_base
        if end > len(base) or produced + base[cursor:end] != old:
            raise PatchError(f"patch hunk {number} does not match the text at {start}")
        done.append(new)
        done_len += len(new)
        cursor = end
    done.append(base[cursor:])
    return "".join(done)
