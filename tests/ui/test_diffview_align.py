"""text_align: rows, in-line ranges, change blocks (pure Python, no Qt)."""

from __future__ import annotations

import random
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from kamaros_app.ui.diffview.display import MAX_SHOWN_CHARS, shown_line
from kamaros_app.ui.diffview.text_align import (
    Row,
    align_lines,
    align_texts,
    change_blocks,
    inline_spans,
    split_lines,
)

# ---- splitting ----------------------------------------------------------------------------


def test_split_lines_on_newline_only() -> None:
    assert split_lines("") == ([], False)
    assert split_lines("a") == (["a"], False)
    assert split_lines("a\n") == (["a"], True)
    assert split_lines("\n") == ([""], True)
    assert split_lines("a\r\nb\r\n") == (["a\r", "b\r"], True)
    assert split_lines("a\rb\rc") == (["a\rb\rc"], False)  # old Mac: one line, CR kept
    assert split_lines("a\u2028b\x0cc\n") == (["a\u2028b\x0cc"], True)


# ---- rows ---------------------------------------------------------------------------------


def kinds(rows: list[Row]) -> list[str]:
    return [r.kind for r in rows]


def test_identical_texts_are_all_equal_rows() -> None:
    rows = align_texts("a\nb\nc\n", "a\nb\nc\n")
    assert kinds(rows) == ["equal"] * 3
    assert [(r.old_no, r.new_no) for r in rows] == [(1, 1), (2, 2), (3, 3)]
    assert change_blocks(rows) == []


def test_inserted_and_deleted_lines_have_one_side_only() -> None:
    rows = align_texts("a\nb\nc\nd\n", "a\nc\nNEW\nd\n")
    assert kinds(rows) == ["equal", "delete", "equal", "insert", "equal"]
    deleted, inserted = rows[1], rows[3]
    assert (deleted.old_no, deleted.old_text, deleted.new_no, deleted.new_text) == (
        2,
        "b",
        None,
        None,
    )
    assert (inserted.old_no, inserted.new_no, inserted.new_text) == (None, 3, "NEW")
    assert change_blocks(rows) == [1, 3]


def test_replaced_line_has_word_level_spans() -> None:
    rows = align_texts("the quick brown fox\n", "the slow brown fox\n")
    assert kinds(rows) == ["replace"]
    assert rows[0].old_spans == ((4, 9),)  # "quick"
    assert rows[0].new_spans == ((4, 8),)  # "slow"


def test_inline_spans_pure_insertion_marks_only_the_new_side() -> None:
    old_spans, new_spans = inline_spans("print(x)", "print(x, y)")
    assert old_spans == ()
    assert new_spans == ((7, 10),)  # ", y"


def test_inline_spans_on_very_long_lines_use_prefix_and_suffix() -> None:
    a = "x" * 20_000 + "A" + "y" * 20_000
    b = "x" * 20_000 + "BB" + "y" * 20_000
    assert inline_spans(a, b) == (((20_000, 20_001),), ((20_000, 20_002),))


def test_replaced_region_pairs_similar_lines_not_positions() -> None:
    old = ["The cat sat on the warm mat today."]
    new = ["A brand new opening line.", "The cat sat on the cold mat today."]
    rows = align_lines(old, new)
    assert kinds(rows) == ["insert", "replace"]
    assert rows[1].old_text == old[0] and rows[1].new_text == new[1]
    assert rows[1].old_spans == ((19, 23),)  # "warm"


def test_crlf_is_kept_and_a_line_ending_change_is_a_change() -> None:
    rows = align_texts("a\r\nb\r\n", "a\nb\n")
    assert kinds(rows) == ["replace", "replace"]
    assert rows[0].old_text == "a\r" and rows[0].new_text == "a"
    assert rows[0].old_spans == ((1, 2),)  # the CR
    assert rows[0].new_spans == ()


def test_lone_cr_stays_inside_the_line() -> None:
    rows = align_texts("one\rtwo\n", "one\rTWO\n")
    assert kinds(rows) == ["replace"]
    assert rows[0].old_text == "one\rtwo"
    assert rows[0].old_spans == ((4, 7),)


def test_final_line_break_change_marks_the_last_row() -> None:
    rows = align_texts("a\nb", "a\nb\n")
    assert kinds(rows) == ["equal", "replace"]
    assert change_blocks(rows) == [1]


def test_empty_sides() -> None:
    assert align_texts("", "") == []
    added = align_texts("", "x\ny\n")
    assert kinds(added) == ["insert", "insert"]
    assert change_blocks(added) == [0]
    deleted = align_texts("x\n", "")
    assert kinds(deleted) == ["delete"] and deleted[0].old_text == "x"


def test_unicode_spans_count_code_points() -> None:
    rows = align_texts("Grüße 😀 an alle\n", "Grüße 😀 an Sie\n")
    assert kinds(rows) == ["replace"]
    assert rows[0].old_spans == ((11, 15),)  # "alle" after the emoji (one code point)
    assert rows[0].new_spans == ((11, 14),)


def test_change_blocks_start_each_run_of_changes() -> None:
    def row(kind: str) -> Row:
        return Row(kind, None, None, None, None)  # type: ignore[arg-type]

    rows = [row(k) for k in ("insert", "delete", "equal", "replace", "equal", "equal", "delete")]
    assert change_blocks(rows) == [0, 3, 6]


# ---- every line appears once, in order, on its side ---------------------------------------

lines = st.lists(st.sampled_from(["a", "b", "c", "", "a b", "x\r", "é😀"]), max_size=30)


@given(lines, lines)
@settings(max_examples=300, deadline=None)
def test_rows_reproduce_both_sides(old: list[str], new: list[str]) -> None:
    rows = align_lines(old, new)
    assert [r.old_text for r in rows if r.old_text is not None] == old
    assert [r.new_text for r in rows if r.new_text is not None] == new
    assert [r.old_no for r in rows if r.old_no is not None] == list(range(1, len(old) + 1))
    assert [r.new_no for r in rows if r.new_no is not None] == list(range(1, len(new) + 1))
    for r in rows:
        assert (r.kind == "equal") == (r.old_text is not None and r.old_text == r.new_text)
        assert (r.old_text is None) == (r.kind == "insert")
        assert (r.new_text is None) == (r.kind == "delete")
        for start, end in r.old_spans:
            assert r.old_text is not None and 0 <= start < end <= len(r.old_text)


# ---- display of lines ---------------------------------------------------------------------


def test_shown_line_makes_carriage_returns_visible_or_hides_crlf() -> None:
    assert shown_line("a\r", True) == ("a↵", ((1, 2),), 2)
    assert shown_line("a\r", False) == ("a", (), 1)
    assert shown_line("a\rb\r", False) == ("a↵b", ((1, 2),), 3)
    shown, marks, kept = shown_line("p\u2029q", True)
    assert shown == "p¶q" and marks == ((1, 2),) and kept == 3


def test_shown_line_cuts_very_long_lines() -> None:
    shown, marks, kept = shown_line("z" * (MAX_SHOWN_CHARS + 5), True)
    assert kept == MAX_SHOWN_CHARS
    assert shown.startswith("z" * MAX_SHOWN_CHARS) and shown.endswith("5 more characters")
    assert marks == ((MAX_SHOWN_CHARS, len(shown)),)


# ---- large inputs -------------------------------------------------------------------------

WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "alpha",
    "beta",
    "gamma",
    "return",
    "value",
]


def random_lines(rnd: random.Random, count: int) -> list[str]:
    return [" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 14))) for _ in range(count)]


def edited(rnd: random.Random, lines: list[str], edits: int) -> list[str]:
    result = list(lines)
    for _ in range(edits):
        k = rnd.randrange(len(result))
        op = rnd.random()
        if op < 0.4:
            result[k] += " edited"
        elif op < 0.7:
            result.insert(k, "a brand new line")
        else:
            del result[k]
    return result


def best_time(fn: object, runs: int = 2) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def test_large_texts_align_quickly_whatever_their_shape() -> None:
    rnd = random.Random(7)
    base = random_lines(rnd, 100_000)  # about 4.6 MB
    pool = random_lines(rnd, 150)
    cases = {
        "1% of lines edited": (base, edited(rnd, base, 1_000)),
        "completely different": (base, random_lines(rnd, 100_000)),
        "few distinct lines, shuffled": (
            [rnd.choice(pool) for _ in range(100_000)],
            [rnd.choice(pool) for _ in range(100_000)],
        ),
    }
    for name, (old, new) in cases.items():
        seconds = best_time(lambda old=old, new=new: align_lines(old, new))
        print(f"align {name}: {len(old):,} vs {len(new):,} lines in {seconds:.2f} s")
        assert seconds < 3.0, name
