"""Hands each newly stored event to this process's subscribers, whichever process stored it.

Every API process runs one: it starts at the end of the log, wakes on the LogWatcher, and
delivers events in log order on topics that subscriptions listen to. Untracked by design:
a subscriber sees what happens while it is connected; history comes from the log.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import structlog

from application.eventlog.log import EventLog
from infrastructure.log_watcher import LogWatcher
from infrastructure.notify_bus import Hub

log = structlog.get_logger(__name__)

# an event → (topic, message) pairs to deliver
Router = Callable[[Any], list[tuple[str, Any]]]


class LiveFeed:
    def __init__(
        self, store: EventLog, watcher: LogWatcher, hub: Hub, routers: list[Router], poll: float
    ) -> None:
        self.store, self.watcher, self.hub, self.routers = store, watcher, hub, routers
        self.poll = poll
        self.position = store.max_notification_id()
        self.delivered = self.position  # handed to the hub (`position` is read before that)
        self._stop = threading.Event()
        self._advanced = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="live-feed", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.watcher.poke()
        self._thread.join(5)

    def wait_caught_up(self, position: int, timeout: float) -> bool:
        """Waits until every event up to `position` was handed to the subscribers (at a
        graceful stop: the last answers reach them before their sockets close)."""
        with self._advanced:
            return self._advanced.wait_for(lambda: self.delivered >= position, timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            seen = self.watcher.ticks
            try:
                if not self._deliver_new():
                    self.watcher.wait(seen, self.poll)
            except Exception:
                log.exception("live feed failed; retrying")
                self._stop.wait(1)

    def _deliver_new(self) -> int:
        # through the watcher: a read the followers woken by the same save share
        notifications = self.watcher.read(self.store.recorder, self.position + 1, 500)
        for n in notifications:
            self.position = n.id
            try:
                event = self.store.mapper.to_domain_event(n)
                for route in self.routers:
                    for topic, message in route(event):
                        self.hub.deliver(topic, message, position=n.id)
            finally:
                with self._advanced:
                    self.delivered = n.id
                    self._advanced.notify_all()
        return len(notifications)
