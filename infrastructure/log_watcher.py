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
# The notifications of the last reads kept to serve followers that read from before its
# end: a read after a save asks only for what is past them.
KEPT = 1000


class Notifications(Protocol):
    def select_notifications(self, start: int | None, limit: int) -> Sequence[Notification]: ...


@dataclass(frozen=True)
class _Read:
    """The log's notifications from `start` up to `end`, all of them (none between is
    missing); `at_end`: `end` was the end of the log when the counter stood at `ticks`."""

    ticks: int
    at: float
    start: int
    end: int
    notifications: Sequence[Notification]
    at_end: bool


class LogWatcher:
    """A counter that moves whenever the log may have grown; followers wait on it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._ticks = 0
        self._last_read: _Read | None = None
        # one read of the log at a time: followers woken together by one save wait for the
        # first one's read and share it rather than each reading the same events
        self._reading = threading.Lock()

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
        """The log's notifications from `start` (at most `limit`). From the last read when it
        covers `start` and reached the end of the log with nothing stored since it began,
        less than SHARED_READ_SECONDS ago; else what the last read holds from `start` and,
        from the recorder, only what is past it."""
        with self._reading:
            with self._cond:
                ticks = self._ticks
            now, last = time.monotonic(), self._last_read
            if last is None or not last.start <= start <= last.end + 1:
                notifications = recorder.select_notifications(start=start, limit=limit)
                if (
                    last is None or len(notifications) < limit
                ):  # not a page of a follower far behind
                    self._keep(ticks, now, start, [], notifications, len(notifications) < limit)
                return notifications
            held = [n for n in last.notifications if n.id >= start]
            if len(held) >= limit:
                return held[:limit]
            if last.at_end and last.ticks == ticks and now - last.at < SHARED_READ_SECONDS:
                return held
            more = limit - len(held)
            past = recorder.select_notifications(start=last.end + 1, limit=more)
            self._keep(ticks, now, last.start, last.notifications, past, len(past) < more)
            return [*held, *past]

    def _keep(
        self,
        ticks: int,
        at: float,
        start: int,
        held: Sequence[Notification],
        past: Sequence[Notification],
        at_end: bool,
    ) -> None:
        """Keeps `held` (the log from `start`, all of it) and `past` (what follows it) for the
        next reads: the last KEPT of them."""
        kept = [*held, *past]
        if len(kept) > KEPT:
            kept = kept[-KEPT:]
            start = kept[0].id
        end = kept[-1].id if kept else start - 1
        self._last_read = _Read(ticks, at, start, end, kept, at_end)
