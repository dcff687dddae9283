"""Sizes in words people read, shared by the command line and the window."""

from __future__ import annotations

__all__ = ["human_size"]


def human_size(size: int) -> str:
    """Like file managers, in powers of 1000: "1 byte", "999 bytes", "1.2 KB", "3.4 MB"."""
    if size == 1:
        return "1 byte"
    if size < 1000:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 999.95 or unit == "TB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")
