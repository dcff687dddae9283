"""Guard against Qt bindings that corrupt reference counts (seen with PySide6 6.12 on 3.11)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QPoint


def test_void_qt_calls_do_not_steal_references_to_none() -> None:
    point = QPoint()
    before = sys.getrefcount(None)
    for i in range(10_000):
        point.setX(i)  # a C++ method returning void
    # 6.12.0's abi3 wheels lost one reference per call on Python 3.11, then aborted with
    # "Fatal Python error: none_dealloc"; a healthy binding leaves the count (nearly) alone.
    assert abs(sys.getrefcount(None) - before) < 100
