"""Knowing when the log may have grown: whoever follows the log waits on a `LogWatcher`,
poked after a save in this process and, with PostgreSQL, on the NOTIFY the event log sends
after each insert by any process (see infrastructure.notify_bus.PostgresListener)."""

from __future__ import annotations

import threading
from typing import Any


class LogWatcher:
    """A counter that moves whenever the log may have grown; followers wait on it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._ticks = 0

    def poke(self, *_: Any) -> None:
        with self._cond:
            self._ticks += 1
            self._cond.notify_all()

    @property
    def ticks(self) -> int:
        with self._cond:
            return self._ticks

    def wait(self, seen: int, timeout: float) -> int:
        """Returns as soon as the counter passes `seen`, or after timeout."""
        with self._cond:
            self._cond.wait_for(lambda: self._ticks != seen, timeout)
            return self._ticks
