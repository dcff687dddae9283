"""Align two texts line by line into side-by-side rows, with in-line changed ranges.

Pure Python (no Qt), safe on a worker thread. Lines are split on "\\n" only: a "\\r" (of a
CRLF or CR line ending) stays in the line text, so line-ending changes show as changes.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

__all__ = [
    "Row",
    "RowKind",
    "Span",
    "align_lines",
    "align_texts",
    "change_blocks",
    "inline_spans",
    "split_lines",
]

RowKind = Literal["equal", "replace", "insert", "delete"]
Span = tuple[int, int]
"""A changed character range in a line: (start, end), end exclusive, in code points."""

# Regions up to this many line pairs go straight to difflib; larger ones without unique
# anchor lines only when difflib's matching work stays under the second bound.
_DIFFLIB_MAX_CELLS = 250_000
_DIFFLIB_MAX_WORK = 2_000_000
# Pair the lines of a replaced region by similarity only when it is small enough.
_PAIRING_MAX_CELLS = 4_000
_PAIRING_MAX_LINE = 2_000
_PAIRING_MIN_SIMILARITY = 0.45
# Characters of replaced lines that get word-level in-line ranges; after that (a wholesale
# rewrite) the cheaper common prefix/suffix ranges.
_WORD_SPANS_BUDGET = 400_000
_MAX_DEPTH = 60
# Word-level in-line differences only on lines up to this long; longer: prefix/suffix.
_INLINE_MAX_CHARS = 5_000
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the side-by-side view. A side is None where that side has no line."""

    kind: RowKind
    old_no: int | None  # 1-based line number
    old_text: str | None
    new_no: int | None
    new_text: str | None
    old_spans: tuple[Span, ...] = ()
    new_spans: tuple[Span, ...] = ()


def split_lines(text: str) -> tuple[list[str], bool]:
    """Lines without their "\\n", and whether the last line ended with one.

    "" has no lines; "a\\n" and "a" both have the line "a"; "\\r" is kept.
    """
    if not text:
        return [], False
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
        return lines, True
    return lines, False


def align_texts(old: str, new: str) -> list[Row]:
    """Rows aligning `old` to `new`. A change of the final line break marks the last row."""
    old_lines, old_eol = split_lines(old)
    new_lines, new_eol = split_lines(new)
    rows = align_lines(old_lines, new_lines)
    if old_eol != new_eol and old_lines and new_lines and rows[-1].kind == "equal":
        last = rows[-1]
        rows[-1] = Row("replace", last.old_no, last.old_text, last.new_no, last.new_text)
    return rows


def align_lines(old: list[str], new: list[str]) -> list[Row]:
    """Rows aligning two lists of lines (equal, replaced, inserted and deleted lines)."""
    return _RowBuilder(old, new).build()


class _RowBuilder:
    """Turns matched line regions into rows; spends a budget on word-level in-line ranges."""

    def __init__(self, old: list[str], new: list[str]) -> None:
        self.old = old
        self.new = new
        self.rows: list[Row] = []
        self.word_budget = _WORD_SPANS_BUDGET

    def build(self) -> list[Row]:
        old, new = self.old, self.new
        start = 0
        limit = min(len(old), len(new))
        while start < limit and old[start] == new[start]:
            start += 1
        end_old, end_new = len(old), len(new)
        while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
            end_old -= 1
            end_new -= 1
        self.equal(0, 0, start)
        if start < end_old and start < end_new:
            self.middle(start, end_old, start, end_new)
        else:
            self.unpaired(start, end_old, start, end_new)
        self.equal(end_old, end_new, len(old) - end_old)
        return self.rows

    def middle(self, i1: int, i2: int, j1: int, j2: int) -> None:
        # Lines as small integers: matching hashes and compares ints, not long strings.
        ids: dict[str, int] = {}
        a = [ids.setdefault(line, len(ids)) for line in self.old[i1:i2]]
        b = [ids.setdefault(line, len(ids)) for line in self.new[j1:j2]]
        opcodes: list[_Opcode] = []
        _match(a, b, 0, len(a), 0, len(b), opcodes, 0)
        for tag, a1, a2, b1, b2 in _merged(opcodes):
            if tag == "equal":
                self.equal(i1 + a1, j1 + b1, a2 - a1)
            elif a2 > a1 and b2 > b1:
                self.replace(i1 + a1, i1 + a2, j1 + b1, j1 + b2)
            else:
                self.unpaired(i1 + a1, i1 + a2, j1 + b1, j1 + b2)

    def equal(self, i: int, j: int, count: int) -> None:
        old, new, append = self.old, self.new, self.rows.append
        for k in range(count):
            append(Row("equal", i + k + 1, old[i + k], j + k + 1, new[j + k]))

    def unpaired(self, i1: int, i2: int, j1: int, j2: int) -> None:
        for i in range(i1, i2):
            self.rows.append(Row("delete", i + 1, self.old[i], None, None))
        for j in range(j1, j2):
            self.rows.append(Row("insert", None, None, j + 1, self.new[j]))

    def pair(self, i: int, j: int) -> None:
        a, b = self.old[i], self.new[j]
        if a == b:
            self.rows.append(Row("equal", i + 1, a, j + 1, b))
            return
        if self.word_budget > 0:
            self.word_budget -= len(a) + len(b)
            old_spans, new_spans = inline_spans(a, b)
        else:
            old_spans, new_spans = _affix_spans(a, b)
        self.rows.append(Row("replace", i + 1, a, j + 1, b, old_spans, new_spans))

    def replace(self, i1: int, i2: int, j1: int, j2: int) -> None:
        """Pair the most similar lines of a replaced region, in order; the rest unpaired."""
        n, m = i2 - i1, j2 - j1
        if n * m > _PAIRING_MAX_CELLS or n == m:
            common = min(n, m)
            for k in range(common):
                self.pair(i1 + k, j1 + k)
            self.unpaired(i1 + common, i2, j1 + common, j2)
            return
        pi, pj = i1, j1
        for a, b in _best_pairs(self.old[i1:i2], self.new[j1:j2]):
            self.unpaired(pi, i1 + a, pj, j1 + b)
            self.pair(i1 + a, j1 + b)
            pi, pj = i1 + a + 1, j1 + b + 1
        self.unpaired(pi, i2, pj, j2)


_Opcode = tuple[str, int, int, int, int]


def _match(
    a: list[int], b: list[int], i1: int, i2: int, j1: int, j2: int, out: list[_Opcode], depth: int
) -> None:
    """Matching lines of a[i1:i2] and b[j1:j2] as opcodes (patience anchors, then difflib).

    Lines unique on both sides anchor the alignment (their longest increasing sequence);
    regions between anchors recurse. Small regions go to difflib; a large region without
    anchors goes to difflib only when its matching work is bounded, else it is replaced.
    """
    while i1 < i2 and j1 < j2 and a[i1] == b[j1]:
        out.append(("equal", i1, i1 + 1, j1, j1 + 1))
        i1 += 1
        j1 += 1
    tail: list[_Opcode] = []
    while i2 > i1 and j2 > j1 and a[i2 - 1] == b[j2 - 1]:
        i2 -= 1
        j2 -= 1
        tail.append(("equal", i2, i2 + 1, j2, j2 + 1))
    if i1 == i2 or j1 == j2:
        if i1 < i2 or j1 < j2:
            out.append(("change", i1, i2, j1, j2))
    elif (i2 - i1) * (j2 - j1) <= _DIFFLIB_MAX_CELLS:
        _difflib(a, b, i1, i2, j1, j2, out)
    else:
        anchors = _anchors(a, b, i1, i2, j1, j2) if depth < _MAX_DEPTH else []
        if anchors:
            pi, pj = i1, j1
            for i, j in anchors:
                _match(a, b, pi, i, pj, j, out, depth + 1)
                out.append(("equal", i, i + 1, j, j + 1))
                pi, pj = i + 1, j + 1
            _match(a, b, pi, i2, pj, j2, out, depth + 1)
        elif _matching_work(a, b, i1, i2, j1, j2) <= _DIFFLIB_MAX_WORK:
            _difflib(a, b, i1, i2, j1, j2, out)
        else:
            out.append(("change", i1, i2, j1, j2))
    out.extend(reversed(tail))


def _difflib(
    a: list[int], b: list[int], i1: int, i2: int, j1: int, j2: int, out: list[_Opcode]
) -> None:
    matcher = SequenceMatcher(None, a[i1:i2], b[j1:j2], autojunk=True)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        out.append((tag if tag == "equal" else "change", i1 + a1, i1 + a2, j1 + b1, j1 + b2))


def _anchors(
    a: list[int], b: list[int], i1: int, i2: int, j1: int, j2: int
) -> list[tuple[int, int]]:
    """Longest in-order chain of lines that occur exactly once on each side (patience)."""
    count_a = Counter(a[i1:i2])
    count_b = Counter(b[j1:j2])
    where_b = {b[j]: j for j in range(j1, j2) if count_b[b[j]] == 1}
    pairs = [(i, where_b[a[i]]) for i in range(i1, i2) if count_a[a[i]] == 1 and a[i] in where_b]
    if not pairs:
        return []
    # Longest increasing subsequence of the b positions (patience sorting).
    tops: list[int] = []  # b position ending the best chain of each length
    ends: list[int] = []  # index into pairs of that chain's end
    back: list[int] = [-1] * len(pairs)
    for k, (_i, j) in enumerate(pairs):
        pos = bisect_left(tops, j)
        if pos == len(tops):
            tops.append(j)
            ends.append(k)
        else:
            tops[pos] = j
            ends[pos] = k
        back[k] = ends[pos - 1] if pos else -1
    chain: list[tuple[int, int]] = []
    k = ends[-1]
    while k >= 0:
        chain.append(pairs[k])
        k = back[k]
    chain.reverse()
    return chain


def _matching_work(a: list[int], b: list[int], i1: int, i2: int, j1: int, j2: int) -> int:
    """Rough cost of difflib on a region: candidate positions it visits (popular lines junk)."""
    count_b = Counter(b[j1:j2])
    popular = (j2 - j1) // 100 + 1 if j2 - j1 >= 200 else j2 - j1 + 1
    return sum(c for line in a[i1:i2] if (c := count_b.get(line, 0)) <= popular)


def _merged(opcodes: list[_Opcode]) -> list[_Opcode]:
    """Adjacent opcodes of the same tag joined into one."""
    merged: list[_Opcode] = []
    for op in opcodes:
        if op[2] == op[1] and op[4] == op[3]:
            continue
        if merged and merged[-1][0] == op[0]:
            tag, a1, _a2, b1, _b2 = merged[-1]
            merged[-1] = (tag, a1, op[2], b1, op[4])
        else:
            merged.append(op)
    return merged


def _words(line: str) -> Counter[str]:
    if len(line) > _PAIRING_MAX_LINE:
        return Counter()
    return Counter(t for t in _TOKEN.findall(line) if not t.isspace())


def _similarity(a: Counter[str], b: Counter[str]) -> float:
    total = a.total() + b.total()
    if total == 0:
        return 0.0
    return 2.0 * (a & b).total() / total


def _best_pairs(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """In-order pairs (i, j) of similar lines maximising the total similarity (DP)."""
    wa = [_words(line) for line in old]
    wb = [_words(line) for line in new]
    n, m = len(old), len(new)
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below = score[i], score[i + 1]
        for j in range(m - 1, -1, -1):
            best = max(below[j], row[j + 1])
            sim = 1.0 if old[i] == new[j] else _similarity(wa[i], wb[j])
            if sim >= _PAIRING_MIN_SIMILARITY:
                best = max(best, below[j + 1] + sim)
            row[j] = best
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < n and j < m:
        if score[i][j] == score[i + 1][j]:
            i += 1
        elif score[i][j] == score[i][j + 1]:
            j += 1
        else:
            pairs.append((i, j))
            i += 1
            j += 1
    return pairs


def inline_spans(old: str, new: str) -> tuple[tuple[Span, ...], tuple[Span, ...]]:
    """Changed character ranges of each line: word/punctuation/space tokens compared."""
    if len(old) > _INLINE_MAX_CHARS or len(new) > _INLINE_MAX_CHARS:
        return _affix_spans(old, new)
    ta = _TOKEN.findall(old)
    tb = _TOKEN.findall(new)
    oa = _offsets(ta)
    ob = _offsets(tb)
    # Common leading and trailing tokens cost nothing in the matcher.
    head = 0
    while head < min(len(ta), len(tb)) and ta[head] == tb[head]:
        head += 1
    tail = 0
    while tail < min(len(ta), len(tb)) - head and ta[-1 - tail] == tb[-1 - tail]:
        tail += 1
    old_spans: list[Span] = []
    new_spans: list[Span] = []
    matcher = SequenceMatcher(None, ta[head : len(ta) - tail], tb[head : len(tb) - tail], False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if a2 > a1:
            _add_span(old_spans, oa[head + a1], oa[head + a2])
        if b2 > b1:
            _add_span(new_spans, ob[head + b1], ob[head + b2])
    return tuple(old_spans), tuple(new_spans)


def _offsets(tokens: list[str]) -> list[int]:
    offsets = [0]
    for token in tokens:
        offsets.append(offsets[-1] + len(token))
    return offsets


def _add_span(spans: list[Span], start: int, end: int) -> None:
    if spans and spans[-1][1] >= start:
        spans[-1] = (spans[-1][0], max(spans[-1][1], end))
    else:
        spans.append((start, end))


def _affix_spans(old: str, new: str) -> tuple[tuple[Span, ...], tuple[Span, ...]]:
    """One changed range per side: everything between the common prefix and suffix."""
    p = _common_prefix(old, new)
    s = _common_prefix(old[p:][::-1], new[p:][::-1])
    old_span = ((p, len(old) - s),) if len(old) - s > p else ()
    new_span = ((p, len(new) - s),) if len(new) - s > p else ()
    return old_span, new_span


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix, by bisection on slices (fast on long strings)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def change_blocks(rows: list[Row] | tuple[Row, ...]) -> list[int]:
    """Row index of the first row of each run of changed (non-equal) rows."""
    starts: list[int] = []
    previous_equal = True
    for index, row in enumerate(rows):
        changed = row.kind != "equal"
        if changed and previous_equal:
            starts.append(index)
        previous_equal = not changed
    return starts
