"""Publishing live chat updates without blocking the event loop.

A bus may do I/O to publish (PostgreSQL NOTIFY), so updates are handed to one thread that
publishes them in order. When updates arrive faster than they can be published, adjacent
token deltas of one answer are joined, so a busy server sends fewer, larger deltas rather
than falling behind; the text a subscriber assembles is the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from application.ports import EventBus

log = logging.getLogger(__name__)

# Keeps a joined delta's NOTIFY payload under PostgreSQL's 8000 bytes even when every
# character is escaped as \\uXXXX.
MAX_DELTA = 1000


class _Flush:
    def __init__(self, loop: asyncio.AbstractEventLoop, done: asyncio.Future[None]) -> None:
        self.loop, self.done = loop, done

    def signal(self) -> None:
        def resolve() -> None:
            if not self.done.done():
                self.done.set_result(None)

        self.loop.call_soon_threadsafe(resolve)


_STOP = object()


class OffLoopPublisher:
    """`threaded=False` publishes at once, on the caller's thread: for a bus that only hands
    messages to this process's subscribers, a thread would only add latency.

    A threaded publisher whose bus can say, without I/O, that a message needs none (it has
    `publish_here`: PostgreSQL's bus while no other process listens) publishes it at once
    too, unless messages sent before are still on their way through the thread (order is
    kept: the thread's deliveries reach the loop before it counts them done). Call `send`
    on the event loop."""

    def __init__(self, bus: EventBus, max_delta: int = MAX_DELTA, threaded: bool = True) -> None:
        self.bus, self.max_delta, self.threaded = bus, max_delta, threaded
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._here: Callable[[str, dict[str, Any]], bool] | None = getattr(
            bus, "publish_here", None
        )
        # messages handed to the thread whose delivery the loop has not yet seen done (read
        # and written on the loop only)
        self._in_flight = 0

    def send(self, topic: str, message: dict[str, Any]) -> None:
        """Queues a message; returns at once. Token messages have `kind` "token" and `delta`."""
        if not self.threaded:
            self.bus.publish(topic, message)
            return
        if self._in_flight == 0 and self._here is not None and self._here(topic, message):
            return
        self._ensure_thread()
        self._in_flight += 1
        self._queue.put((topic, message, asyncio.get_running_loop()))

    async def flush(self) -> None:
        """Returns once everything sent before has been published."""
        if self._thread is None or self._in_flight == 0:
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queue.put(_Flush(loop, done))
        await done

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(5)
            self._thread = None

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="chat-publisher", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            sent: dict[asyncio.AbstractEventLoop, int] = {}
            for item in batch:
                if isinstance(item, tuple):
                    sent[item[2]] = sent.get(item[2], 0) + 1
            run: list[tuple[str, dict[str, Any]]] = []
            for item in self._joined([i[:2] if isinstance(i, tuple) else i for i in batch]):
                if isinstance(item, tuple):
                    run.append(item)
                    continue
                self._publish(run)  # what was queued before the marker goes out first
                run = []
                if item is _STOP:
                    return
                item.signal()
            self._publish(run)
            for loop, count in sent.items():
                # after the deliveries the bus scheduled on that loop
                with contextlib.suppress(RuntimeError):  # the loop has closed
                    loop.call_soon_threadsafe(self._delivered, count)

    def _delivered(self, count: int) -> None:
        self._in_flight -= count

    def _publish(self, run: list[tuple[str, dict[str, Any]]]) -> None:
        """Publishes updates in order; a bus that can send several at once (one NOTIFY for
        the updates of many chats) is given them together."""
        if not run:
            return
        many = getattr(self.bus, "publish_many", None)
        if many is not None and len(run) > 1:
            try:
                many(run)
            except Exception:
                log.exception("could not publish %d live updates", len(run))
            return
        for topic, message in run:
            try:
                self.bus.publish(topic, message)
            except Exception:
                log.exception("could not publish a live update on %s", topic)

    def _joined(self, batch: list[Any]) -> list[Any]:
        out: list[Any] = []
        for item in batch:
            if isinstance(item, tuple) and item[1].get("kind") == "token":
                for piece in _pieces(item[1]["delta"], self.max_delta):
                    last = out[-1] if out else None
                    if (
                        isinstance(last, tuple)
                        and last[0] == item[0]
                        and last[1].get("kind") == "token"
                        and last[1].get("messageId") == item[1].get("messageId")
                        and len(last[1]["delta"]) + len(piece) <= self.max_delta
                    ):
                        out[-1] = (last[0], {**last[1], "delta": last[1]["delta"] + piece})
                    else:
                        out.append((item[0], {**item[1], "delta": piece}))
            else:
                out.append(item)
        return out


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [text]


# How long the deltas after the first are gathered into one update: 20 updates a second
# read as smooth streaming, and a model that streams a token every 10 ms then costs a
# subscriber a fifth of the frames (and, on PostgreSQL, of the NOTIFYs).
DELTA_WINDOW = 0.05


class DeltaBatcher:
    """Sends the first delta at once, then what arrives within `interval` seconds as one.

    Each delta a subscriber receives costs a GraphQL execution and a WebSocket frame (with
    PostgreSQL, a NOTIFY and its delivery to every process too): on a chat turn that was
    most of the server's CPU that grows with the answer's length. A person sees no
    difference between 20 updates a second and 100, the server does. The first delta is
    not held (the time to the first token stays the model's), and `flush()` sends what is
    held before the answer is recorded, so the whole turn takes no longer. Call on the event
    loop.
    """

    def __init__(self, send: Callable[[str], None], interval: float = DELTA_WINDOW) -> None:
        self.send, self.interval = send, interval
        self._pending: list[str] = []
        self._timer: asyncio.TimerHandle | None = None
        self._last = float("-inf")

    def add(self, delta: str) -> None:
        loop = asyncio.get_running_loop()
        if self._timer is None and loop.time() - self._last >= self.interval:
            self._last = loop.time()
            self.send(delta)
            return
        self._pending.append(delta)
        if self._timer is None:
            self._timer = loop.call_at(self._last + self.interval, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            self._last = asyncio.get_running_loop().time()
            self.send(text)
