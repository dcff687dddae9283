"""prepare_diff: the kind of view, its data, limits, speed, and use on a worker thread."""

from __future__ import annotations

import random
import threading
import time

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QImage

from kamaros_app.engine.hashing import hash_bytes
from kamaros_app.ui.diffview import MAX_DIFF_BYTES, PreparedDiff, prepare_diff
from kamaros_app.ui.diffview.describe import file_type, human_size
from kamaros_app.ui.diffview.syntax import HIGHLIGHT_MAX_CHARS, category, line_tokens
from tests.ui.test_diffview_support import GIF_2x1, encode, solid


def prep(old: bytes | None, new: bytes | None, path: str = "notes.txt") -> PreparedDiff:
    return prepare_diff(old, new, path=path, old_label="Before", new_label="Now")


# ---- text -------------------------------------------------------------------------------


def test_utf8_text_gets_aligned_rows_and_change_blocks() -> None:
    diff = prep(b"one\ntwo\nthree\n", b"one\n2\nthree\nfour\n")
    assert diff.kind == "text" and diff.change == "modified" and not diff.identical
    assert diff.text is not None
    assert [r.kind for r in diff.text.rows] == ["equal", "replace", "equal", "insert"]
    assert diff.text.blocks == (1, 3)
    assert (diff.text.lines_added, diff.text.lines_removed, diff.text.lines_changed) == (1, 0, 1)
    assert diff.text.language == "Plain text" and diff.text.new_tokens is None
    assert (diff.old_label, diff.new_label, diff.old_size, diff.new_size) == (
        "Before",
        "Now",
        14,
        17,
    )


def test_text_with_nul_or_invalid_utf8_is_binary() -> None:
    assert prep(b"abc\x00def", b"abc").kind == "binary"
    assert prep(b"caf\xe9", b"cafe").kind == "binary"  # Latin-1, not UTF-8


def test_added_and_deleted_text() -> None:
    added = prep(None, b"a\nb\n")
    assert added.kind == "text" and added.change == "added" and added.old_size is None
    assert added.text is not None and [r.kind for r in added.text.rows] == ["insert", "insert"]
    deleted = prep(b"a\n", None)
    assert deleted.change == "deleted" and deleted.text is not None
    assert deleted.text.rows[0].kind == "delete"


def test_identical_and_empty_texts() -> None:
    same = prep(b"x\n", b"x\n")
    assert same.identical and same.change == "unchanged" and same.text is not None
    assert same.text.blocks == ()
    empty = prep(b"", b"")
    assert empty.kind == "text" and empty.identical and empty.text is not None
    assert empty.text.notes == ("Both versions are empty.",)
    assert prep(None, None).change == "missing"


def test_syntax_tokens_follow_the_file_name() -> None:
    diff = prep(b"def f():\n    return 1\n", b"def g():\n    return 2\n", path="src/app.py")
    assert diff.text is not None and diff.text.language == "Python"
    tokens = diff.text.new_tokens
    assert tokens is not None and len(tokens) == 2
    assert (0, 3, "keyword") in tokens[0]  # def
    assert (4, 5, "function") in tokens[0]  # g
    assert (11, 12, "number") in tokens[1]  # 2


def test_syntax_tokens_keep_columns_with_crlf_and_bom() -> None:
    tokens = line_tokens("\ufeffx = 1\r\ny = 'a'\r\n", "a.py")
    assert tokens == (((5, 6, "number"),), ((4, 7, "string"),))  # the BOM is column 0


def test_no_syntax_colours_for_unknown_names_or_huge_texts() -> None:
    assert line_tokens("a = 1\n", "data.csv") is None
    assert line_tokens("x = 1\n" * (HIGHLIGHT_MAX_CHARS // 6 + 1), "a.py") is None


def test_category_mapping() -> None:
    from pygments.token import Comment, Keyword, Name, String, Text

    assert category(Keyword.Namespace) == "keyword"
    assert category(String.Double) == "string"
    assert category(Comment.Single) == "comment"
    assert category(Name.Function) == "function"
    assert category(Text) is None


def test_remarks_about_line_endings_final_break_and_bom() -> None:
    crlf = prep(b"a\r\nb\r\n", b"a\nb\n")
    assert crlf.text is not None and crlf.text.show_cr
    assert crlf.text.notes == (
        "Line endings changed from Windows line endings (CRLF) to Unix line endings (LF).",
    )
    both_crlf = prep(b"a\r\n", b"b\r\n")
    assert both_crlf.text is not None and not both_crlf.text.show_cr
    final = prep(b"a\nb\n", b"a\nb")
    assert final.text is not None
    assert "The last line no longer ends with a line break." in final.text.notes
    bom = prep(b"\xef\xbb\xbfhello\n", b"hello\n")
    assert bom.text is not None
    assert any("byte-order mark" in note and "removed" in note for note in bom.text.notes)


# ---- images -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "WEBP"])
def test_images_qt_can_read_are_decoded(fmt: str) -> None:
    old = encode(solid(40, 30, "white"), fmt)
    new = encode(solid(40, 30, "white", (QRect(5, 5, 10, 10), "red")), fmt)
    diff = prep(old, new, path=f"picture.{fmt.lower()}")
    assert diff.kind == "image"
    assert diff.old_image is not None and diff.new_image is not None
    assert diff.old_image.image is not None and diff.old_image.image.size().width() == 40
    assert diff.new_image.format == ("JPEG" if fmt == "JPEG" else fmt)


def test_gif_is_an_image() -> None:
    diff = prep(None, GIF_2x1, path="dot.gif")
    assert diff.kind == "image" and diff.change == "added"
    assert diff.new_image is not None and diff.new_image.image is not None
    assert diff.new_image.image.pixelColor(1, 0).name() == "#0000ff"


def test_image_kind_when_only_one_side_is_readable() -> None:
    png = encode(solid(8, 8, "blue"))
    diff = prep(png[:20], png, path="x.png")  # the old version is a cut file
    assert diff.kind == "image"
    assert diff.old_image is not None and diff.old_image.image is None
    assert diff.old_image.error


# ---- binary -----------------------------------------------------------------------------


def test_binary_sides_have_size_type_and_hash() -> None:
    old = b"%PDF-1.4\x00" + bytes(range(256))
    new = b"%PDF-1.5\x00" + bytes(range(200))
    diff = prep(old, new, path="report.pdf")
    assert diff.kind == "binary" and not diff.identical
    assert diff.old_binary is not None and diff.new_binary is not None
    assert diff.old_binary.size == len(old) and diff.new_binary.size == len(new)
    assert diff.old_binary.hash == hash_bytes(old)
    assert diff.new_binary.hash == hash_bytes(new)
    assert diff.old_binary.type == "PDF document"
    same = prep(old, old, path="report.pdf")
    assert same.identical and same.old_binary == same.new_binary


def test_file_types_and_sizes_in_plain_words() -> None:
    assert file_type("a.docx", b"PK\x03\x04rest") == "Word document"
    assert file_type("archive.bin", b"PK\x03\x04rest") == "ZIP archive"
    assert file_type("blob", b"\x01\x02") == "binary data"
    assert file_type("song.mp3", b"\xff\xfb") == "MPEG audio"
    assert human_size(0) == "0 bytes" and human_size(1) == "1 byte"
    assert human_size(999) == "999 bytes" and human_size(1234) == "1.2 KB"
    assert human_size(8 * 1024 * 1024) == "8.4 MB" and human_size(999_999) == "1.0 MB"


# ---- limits -----------------------------------------------------------------------------


def test_more_than_max_diff_bytes_is_refused_gracefully() -> None:
    big = b"a" * (MAX_DIFF_BYTES + 1)
    diff = prep(b"small", big)
    assert diff.kind == "too_large"
    assert (diff.old_size, diff.new_size) == (5, MAX_DIFF_BYTES + 1)
    assert diff.text is None and diff.old_binary is None
    assert prep(b"a" * MAX_DIFF_BYTES, b"b").kind == "text"  # the limit itself is fine


def test_a_5_mb_text_prepares_well_under_2_seconds() -> None:
    rnd = random.Random(3)
    words = [
        "the",
        "quick",
        "brown",
        "fox",
        "jumps",
        "over",
        "lazy",
        "dog",
        "alpha",
        "beta",
        "gamma",
        "return",
    ]
    lines = [" ".join(rnd.choice(words) for _ in range(rnd.randint(3, 16))) for _ in range(112_000)]
    old = ("\n".join(lines) + "\n").encode()
    for _ in range(1_100):
        k = rnd.randrange(len(lines))
        lines[k] = lines[k] + " changed" if rnd.random() < 0.5 else "new " + lines[k]
    new = ("\n".join(lines) + "\n").encode()
    assert len(old) > 5_000_000
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        diff = prep(old, new, path="big.py")
        timings.append(time.perf_counter() - start)
    print(f"prepare_diff: {len(old) / 1e6:.1f} MB text, 1% lines edited: {min(timings):.2f} s")
    assert diff.text is not None and len(diff.text.blocks) > 900
    assert diff.text.old_tokens is None  # too long to colour
    assert min(timings) < 2.0


# ---- worker thread ----------------------------------------------------------------------


def test_prepare_runs_on_a_worker_thread() -> None:
    png_old = encode(solid(16, 16, "white"))
    png_new = encode(solid(16, 16, "black"))
    results: list[PreparedDiff] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(prepare_diff(png_old, png_new, path="a.png", old_label="", new_label=""))
            results.append(prepare_diff(b"x\n", b"y\n", path="a.py", old_label="", new_label=""))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(30)
    assert not errors and [r.kind for r in results] == ["image", "text"]
    image = results[0].new_image
    assert image is not None and isinstance(image.image, QImage)
    assert image.image.pixelColor(3, 3).name() == "#000000"
