"""Byte-for-byte comparison of a restored folder with the tree it came from."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["RestoreMismatch", "compare_trees"]

_CHUNK = 1 << 20
SKIP_TOP = frozenset({".git", ".kamaros"})


class RestoreMismatch(AssertionError):
    """A restore did not give back exactly the files that were saved."""


def _files(root: Path, skip_top: frozenset[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for folder, dirs, files in os.walk(root):
        if folder == str(root):
            dirs[:] = [d for d in dirs if d not in skip_top]
        rel = os.path.relpath(folder, root)
        for name in files:
            path = name if rel == "." else f"{rel}/{name}"
            out[path] = os.lstat(os.path.join(folder, name)).st_size
    return out


def _same_bytes(a: Path, b: Path) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x = fa.read(_CHUNK)
            if x != fb.read(_CHUNK):
                return False
            if not x:
                return True


def compare_trees(source: Path, restored: Path) -> int:
    """Raise RestoreMismatch unless `restored` holds exactly the files of `source` (the
    tools' own `.git`/`.kamaros` folders at the top of `source` aside); returns the count."""
    want = _files(source, SKIP_TOP)
    got = _files(restored, frozenset())
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    if missing or extra:
        raise RestoreMismatch(
            f"restore of {source} into {restored}: {len(missing)} missing "
            f"({missing[:3]}), {len(extra)} unexpected ({extra[:3]})"
        )
    for path, size in want.items():
        if got[path] != size or not _same_bytes(source / path, restored / path):
            raise RestoreMismatch(f"restore into {restored}: {path} differs from the source")
    return len(want)
