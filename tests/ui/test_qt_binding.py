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


def test_signal_emits_do_not_steal_references_to_true() -> None:
    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        sig_value = Signal(bool)

    emitter = Emitter()
    received: list[bool] = []
    emitter.sig_value.connect(received.append)
    before = sys.getrefcount(True)
    for _ in range(10_000):
        emitter.sig_value.emit(True)
    received.clear()
    # 6.12.0 lost a reference to True per emit on Python 3.11 ("bool_dealloc" abort)
    assert abs(sys.getrefcount(True) - before) < 100
