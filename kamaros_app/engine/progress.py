"""Progress reporting and cooperative cancellation for long operations."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from .errors import CancelledError

__all__ = ["CancelToken", "Progress", "ProgressCallback", "Reporter"]


@dataclass(frozen=True)
class Progress:
    """One progress report: `done` of `total` units (bytes or files) in `phase`."""

    phase: str
    done: int
    total: int | None
    unit: str = "bytes"
    item: str = ""


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """Set from any thread; the engine checks it between safe points and stops cleanly."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise CancelledError("cancelled; nothing was changed")


class Reporter:
    """Bundles an optional callback and token; every engine loop calls `step`."""

    def __init__(
        self, callback: ProgressCallback | None = None, token: CancelToken | None = None
    ) -> None:
        self._callback = callback
        self._token = token

    def check(self) -> None:
        if self._token is not None:
            self._token.raise_if_cancelled()

    def report(
        self, phase: str, done: int, total: int | None, unit: str = "bytes", item: str = ""
    ) -> None:
        self.check()
        if self._callback is not None:
            self._callback(Progress(phase, done, total, unit, item))
