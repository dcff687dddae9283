"""Build a TextDiff from two decoded texts: rows, change blocks, colours and remarks."""

from __future__ import annotations

from kamaros_app.ui.diffview.model import TextDiff
from kamaros_app.ui.diffview.syntax import language_for, line_tokens
from kamaros_app.ui.diffview.text_align import align_texts, change_blocks

__all__ = ["decode_text", "line_endings", "prepare_text"]

_EOL_NAMES = {
    "crlf": "Windows line endings (CRLF)",
    "lf": "Unix line endings (LF)",
    "cr": "old Mac line endings (CR)",
    "mixed": "mixed line endings",
}


def decode_text(data: bytes) -> str | None:
    """The text of `data` if it is UTF-8 without NUL bytes, else None."""
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def line_endings(text: str) -> str:
    """The line ending style: "none", "lf", "crlf", "cr" or "mixed"."""
    crlf = text.count("\r\n")
    cr = text.count("\r") - crlf
    lf = text.count("\n") - crlf
    kinds = [name for name, count in (("crlf", crlf), ("lf", lf), ("cr", cr)) if count]
    if not kinds:
        return "none"
    return kinds[0] if len(kinds) == 1 else "mixed"


def prepare_text(old: str | None, new: str | None, path: str) -> TextDiff:
    rows = tuple(align_texts(old or "", new or ""))
    added = sum(1 for r in rows if r.kind == "insert")
    removed = sum(1 for r in rows if r.kind == "delete")
    changed = sum(1 for r in rows if r.kind == "replace")
    old_eol = line_endings(old or "")
    new_eol = line_endings(new or "")
    return TextDiff(
        rows=rows,
        blocks=tuple(change_blocks(rows)),
        language=language_for(path),
        old_tokens=None if old is None else line_tokens(old, path),
        new_tokens=None if new is None else line_tokens(new, path),
        show_cr=not {old_eol, new_eol} <= {"crlf", "none"},
        notes=tuple(_notes(old, new, old_eol, new_eol)),
        lines_added=added,
        lines_removed=removed,
        lines_changed=changed,
    )


def _notes(old: str | None, new: str | None, old_eol: str, new_eol: str) -> list[str]:
    notes: list[str] = []
    if old is None or new is None:
        present = new if old is None else old
        if present == "":
            notes.append("The file is empty.")
        return notes
    if old == "" and new == "":
        notes.append("Both versions are empty.")
    if "none" not in (old_eol, new_eol) and old_eol != new_eol:
        notes.append(f"Line endings changed from {_EOL_NAMES[old_eol]} to {_EOL_NAMES[new_eol]}.")
    elif "mixed" in (old_eol, new_eol):
        notes.append("The text mixes line ending styles; ↵ marks a carriage return.")
    if old and new and old.endswith("\n") != new.endswith("\n"):
        if new.endswith("\n"):
            notes.append("The last line now ends with a line break.")
        else:
            notes.append("The last line no longer ends with a line break.")
    old_bom, new_bom = old.startswith("\ufeff"), new.startswith("\ufeff")
    if old_bom != new_bom:
        what = "added" if new_bom else "removed"
        notes.append(f"An invisible byte-order mark (BOM) at the start was {what}.")
    return notes
