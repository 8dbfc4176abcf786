"""A thread that follows the event log on behalf of one process at a time: it takes its lock
(with PostgreSQL, an advisory lock, so that of several processes one works and the others
stand by until it dies), catches up, then waits until the log grows."""

from __future__ import annotations

import threading
from typing import Protocol

import structlog

from infrastructure.log_watcher import LogWatcher

log = structlog.get_logger(__name__)


class Lock(Protocol):
    def acquire(self, stop: threading.Event) -> bool: ...

    def release(self) -> None: ...


class Follower:
    # Set by `catch_up` when it read to the end of the log as it stood (a page shorter than
    # it asked for): the follower then waits for the log to grow instead of asking again.
    reached_end = False

    def __init__(
        self, name: str, watcher: LogWatcher, lock: Lock | None, poll_seconds: float
    ) -> None:
        self.follower_name, self.watcher = name, watcher
        self.lock, self.poll_seconds = lock, poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def catch_up(self, limit: int | None = None) -> int:
        """Moves past pending events (at most `limit`); returns how many."""
        raise NotImplementedError

    def recover(self) -> None:
        """After a failure: drop what this process believed about its position."""

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=self.follower_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.watcher.poke()
        if self._thread:
            self._thread.join(10)
        if self.lock:
            self.lock.release()

    def run(self) -> None:
        while not self._stop.is_set():
            if self.lock and not self.lock.acquire(self._stop):
                return
            try:
                seen = self.watcher.ticks
                # anything stored since `seen` was read has moved the watcher on
                waits = self.catch_up() == 0 or self.reached_end
                if waits and self.watcher.wait(seen, self.wait_seconds()) == seen:
                    self.idle()
            except Exception:
                log.exception("following the log failed; retrying", follower=self.follower_name)
                self.recover()
                self._stop.wait(1)
        try:
            self.idle()  # stopping: what waited for a quiet moment is done now
        except Exception:
            log.warning("a follower's last work before stopping failed", exc_info=True)

    def wait_seconds(self) -> float:
        """How long to wait for the log to grow before `idle` is called."""
        return self.poll_seconds

    def idle(self) -> None:
        """Called when the log has not grown for `wait_seconds`, and at the end."""
