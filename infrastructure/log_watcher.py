"""Knowing when the log may have grown: whoever follows the log waits on a `LogWatcher`,
poked after a save in this process and, with PostgreSQL, on the NOTIFY the event log sends
after each insert by any process (see infrastructure.notify_bus.PostgresListener)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from eventsourcing.persistence import Notification

# A read of the log that reached its end serves the other followers for this long, while
# nothing is stored (nothing pokes the watcher): the seven followers, woken together by one
# save, read it once instead of seven times. Events of another process that does not poke
# (SQLite has no notifications) are seen this much later, as by a later poll.
SHARED_READ_SECONDS = 0.05


class Notifications(Protocol):
    def select_notifications(self, start: int | None, limit: int) -> Sequence[Notification]: ...


@dataclass(frozen=True)
class _Read:
    ticks: int
    at: float
    start: int
    notifications: Sequence[Notification]


class LogWatcher:
    """A counter that moves whenever the log may have grown; followers wait on it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._ticks = 0
        self._last_read: _Read | None = None  # the last read that reached the log's end

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

    def read(self, recorder: Notifications, start: int, limit: int) -> Sequence[Notification]:
        """The log's notifications from `start` (at most `limit`), from the last read that
        reached the end of the log from no later than `start`, when nothing was stored
        since it began, less than SHARED_READ_SECONDS ago; else read from the recorder."""
        with self._cond:
            ticks, last = self._ticks, self._last_read
        now = time.monotonic()
        if (
            last is not None
            and last.ticks == ticks
            and now - last.at < SHARED_READ_SECONDS
            and last.start <= start
        ):
            found = [n for n in last.notifications if n.id >= start]
            if len(found) <= limit:
                return found
        notifications = recorder.select_notifications(start=start, limit=limit)
        if len(notifications) < limit:  # the end of the log, as it was when `ticks` was read
            with self._cond:
                self._last_read = _Read(ticks, now, start, notifications)
        return notifications
