"""Compare two file lists (versions or the folder) and render text differences."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["FileDiff", "Side", "compare_sides", "unified_text"]

MAX_DIFF_TEXT_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Side:
    """What one side knows about a file: content hash, size, text or not, identity."""

    hash: str
    size: int
    is_text: bool
    executable: bool
    inode: str | None = None


@dataclass(frozen=True, slots=True)
class FileDiff:
    path: str
    change: str  # added | modified | deleted | renamed
    old: Side | None
    new: Side | None
    old_path: str | None = None

    @property
    def is_text(self) -> bool:
        return all(s is None or s.is_text for s in (self.old, self.new))

    def to_json(self) -> dict[str, object]:
        def side(s: Side | None) -> dict[str, object] | None:
            return None if s is None else {"hash": s.hash, "size": s.size, "text": s.is_text}

        return {
            "path": self.path,
            "change": self.change,
            "oldPath": self.old_path,
            "old": side(self.old),
            "new": side(self.new),
        }


def _selected(path: str, selectors: list[str] | None) -> bool:
    return selectors is None or any(path == s or path.startswith(s + "/") for s in selectors)


def compare_sides(
    old: Mapping[str, Side], new: Mapping[str, Side], paths: list[str] | None = None
) -> list[FileDiff]:
    """Differences from `old` to `new`, pairing renames by identity or identical content."""
    selectors = None if paths is None else [p.strip("/") for p in paths]
    diffs: list[FileDiff] = []
    gone = [p for p in old if p not in new]
    came = [p for p in new if p not in old]
    by_inode = {old[p].inode: p for p in gone if old[p].inode}
    by_hash: dict[str, list[str]] = {}
    for p in gone:
        by_hash.setdefault(old[p].hash, []).append(p)
    paired: set[str] = set()
    for path in sorted(came):
        side = new[path]
        source = by_inode.get(side.inode) if side.inode else None
        if source is None or source in paired:
            candidates = [c for c in by_hash.get(side.hash, []) if c not in paired]
            source = candidates[0] if candidates else None
        if source is not None:
            paired.add(source)
            if _selected(path, selectors) or _selected(source, selectors):
                diffs.append(FileDiff(path, "renamed", old[source], side, source))
        elif _selected(path, selectors):
            diffs.append(FileDiff(path, "added", None, side))
    for path in sorted(gone):
        if path not in paired and _selected(path, selectors):
            diffs.append(FileDiff(path, "deleted", old[path], None))
    for path in sorted(set(old) & set(new)):
        a, b = old[path], new[path]
        if (a.hash != b.hash or a.executable != b.executable) and _selected(path, selectors):
            diffs.append(FileDiff(path, "modified", a, b))
    diffs.sort(key=lambda d: d.path)
    return diffs


def _lines(text: str) -> list[str]:
    """Split after each "\\n" only: a lone CR or form feed stays inside its line."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def unified_text(old: bytes, new: bytes, old_label: str, new_label: str) -> str:
    """A unified diff of two texts; line endings are shown as they are, never normalised."""
    a = _lines(old.decode("utf-8", "replace"))
    b = _lines(new.decode("utf-8", "replace"))
    lines = difflib.unified_diff(a, b, old_label, new_label, n=3)
    out = []
    for line in lines:
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)
