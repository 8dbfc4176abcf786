"""Messages to this process's live subscribers, and across processes by PostgreSQL NOTIFY.

`Hub` delivers messages to the asyncio subscribers of this process. `InProcessBus` publishes
to it; `PostgresBus` publishes by NOTIFY, so that every process's hub gets the message. The
one `PostgresListener` connection of a process receives those, and the NOTIFY the event log
sends after each insert by any process, which pokes the `LogWatcher`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import structlog
from prometheus_client import Gauge

from infrastructure.log_watcher import LogWatcher

log = structlog.get_logger(__name__)

LIVE_CHANNEL = "genai_live"
# Every listener holds this shared advisory lock (the two-key form: apart from the one-key
# locks of projections and leases) while it listens, so that a bus can count who listens.
PRESENCE = (0x6E41, 0x4C495645)
# How long a bus believes its count of other processes' listeners before counting again.
PRESENCE_SECONDS = 1.0
HELLO = '{"hello": true}'  # a listener that starts listening says so: others count it at once
SUBSCRIBER_QUEUE = 10_000
BATCH_OVERHEAD = 16  # the bytes of `{"batch": […]}` around the messages of one NOTIFY

SUBSCRIBERS = Gauge(
    "genai_live_subscribers", "Live subscriptions of this process, fully joined (floor read)"
)


class Hub:
    """In-process publish/subscribe for asyncio consumers; publish is safe from any thread.

    Messages made from stored events carry their notification id (`position`). A subscriber
    opened with a `floor` (a function that reads the log's current end) sees exactly the events
    stored after it joined: it registers first, then reads the floor, drops what is at or below
    it, and only then counts as subscribed. Ephemeral messages have no position and always pass.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[_Subscriber]] = defaultdict(set)

    def deliver(self, topic: str, message: Any, position: int | None = None) -> None:
        with self._lock:
            targets = list(self._subscribers.get(topic, ()))
        if not targets:
            return
        try:
            here: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # another thread: the live feed's, a listener's
            here = None
        for subscriber in targets:
            if subscriber.loop is here:
                # On the subscriber's own loop (a token published by an answer of this
                # process): into its queue now, without waking the loop through its pipe.
                _offer(subscriber.queue, (position, message))
                continue
            with contextlib.suppress(RuntimeError):  # the subscriber's loop has closed
                subscriber.loop.call_soon_threadsafe(_offer, subscriber.queue, (position, message))

    @asynccontextmanager
    async def subscribe(
        self, topic: str, floor: Callable[[], int] | None = None
    ) -> AsyncIterator[AsyncIterator[Any]]:
        subscriber = _Subscriber(asyncio.get_running_loop(), asyncio.Queue(SUBSCRIBER_QUEUE))
        with self._lock:
            self._subscribers[topic].add(subscriber)
        try:
            after = await asyncio.to_thread(floor) if floor else None
            subscriber.ready = True
            SUBSCRIBERS.inc()
            yield _drain(subscriber.queue, after)
        finally:
            if subscriber.ready:
                SUBSCRIBERS.dec()
            with self._lock:
                self._subscribers[topic].discard(subscriber)
                if not self._subscribers[topic]:
                    del self._subscribers[topic]

    def subscriber_count(self, topic: str) -> int:
        """Subscribers that are fully joined (their floor read)."""
        with self._lock:
            return sum(1 for s in self._subscribers.get(topic, ()) if s.ready)


@dataclass(eq=False)
class _Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue
    ready: bool = False


def _offer(queue: asyncio.Queue, item: tuple[int | None, Any]) -> None:
    if queue.full():  # a stalled subscriber loses its oldest messages, not the process
        queue.get_nowait()
    queue.put_nowait(item)


async def _drain(queue: asyncio.Queue, after: int | None) -> AsyncIterator[Any]:
    while True:
        position, message = await queue.get()
        if after is None or position is None or position > after:
            yield message


class _PatientConnection(psycopg.Connection):  # type: ignore[type-arg]
    """psycopg wakes a wait ten times a second to look for a Ctrl-C, which only the main
    thread receives: the listener's waits wake for a notification or their timeout."""

    def wait(self, gen: Any, interval: float = 60.0, timeout: float | None = None) -> Any:
        return super().wait(gen, interval=interval, timeout=timeout)


class PostgresListener:
    """One LISTEN connection per process: log NOTIFYs poke the watcher, live messages go
    to the hub. Reconnects after a lost connection."""

    def __init__(
        self,
        conninfo: str,
        log_channel: str,
        watcher: LogWatcher,
        on_live: Callable[[str, int], None],
        saved_here: Callable[[int], bool] | None = None,
        on_listening: Callable[[int], None] | None = None,
    ) -> None:
        """`saved_here(pid)`: whether a log NOTIFY from that server process is a save of this
        process, which poked the watcher itself when it returned: followers woken twice by
        each save read the log twice. `on_listening(pid)`: the listening connection's server
        process id, each time it (re)connects (this process's bus does not count it)."""
        self.conninfo, self.log_channel = conninfo, log_channel
        self.watcher, self.on_live = watcher, on_live
        self.saved_here, self.on_listening = saved_here, on_listening
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with _PatientConnection.connect(self.conninfo, autocommit=True) as conn:
                    if self.on_listening is not None:
                        self.on_listening(conn.info.backend_pid)
                    conn.execute("SELECT pg_advisory_lock_shared(%s, %s)", PRESENCE)
                    conn.execute(f'LISTEN "{self.log_channel}"')
                    conn.execute(f'LISTEN "{LIVE_CHANNEL}"')
                    conn.execute("SELECT pg_notify(%s, %s)", (LIVE_CHANNEL, HELLO))
                    self._ready.set()
                    self.watcher.poke()  # we may have missed something while away
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            if note.channel == LIVE_CHANNEL:
                                self.on_live(note.payload, note.pid)
                            elif self.saved_here is None or not self.saved_here(note.pid):
                                self.watcher.poke()
            except psycopg.Error as e:
                log.warning("listen connection lost, reconnecting", error=str(e))
                self._stop.wait(1)


class InProcessBus:
    """The EventBus of the embedded default: one process, so the hub is the bus."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def publish(self, topic: str, message: dict[str, Any]) -> None:
        self.hub.deliver(topic, message)

    def publish_many(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        """Publishes (topic, message) pairs in order."""
        for topic, message in messages:
            self.publish(topic, message)

    def subscribe(self, topic: str):  # type: ignore[no-untyped-def]
        return self.hub.subscribe(topic)


class PostgresBus(InProcessBus):
    """Ephemeral messages through NOTIFY, so every API process's subscribers see them; each
    process's listener hands them to its own hub. This process's own are handed to its hub
    as they are published, and left out when its listener receives them: an answer's last
    tokens, published before the answer is stored, then reach this process's subscribers
    before the stored answer does (the live feed, poked by the save as it returns, could
    hand the answer over before the listener had the tokens' NOTIFY: a subscriber met the
    tokens after the answer). Other processes get both in commit order on one connection.

    With no other process listening (one API process: the common case), nothing is
    NOTIFYed: a NOTIFY per token batch, and its delivery to this process's own listener,
    were a round trip and a wake-up per update for nobody. Listeners hold a shared advisory
    lock (`PRESENCE`) that the bus counts, at most once every PRESENCE_SECONDS; a listener
    that starts NOTIFYs a hello as it starts listening (before its process serves anyone),
    on which every bus counts it at once, and one that goes away is counted out within
    PRESENCE_SECONDS."""

    MAX_PAYLOAD = 7900  # PostgreSQL refuses NOTIFY payloads of 8000 bytes and more

    def __init__(self, hub: Hub, conninfo: str) -> None:
        super().__init__(hub)
        self.conninfo = conninfo
        self._local = threading.local()
        # the server process id of each connection this bus sends on: its NOTIFYs are ours
        self._sending: dict[int, weakref.ref[psycopg.Connection[Any]]] = {}
        self._listener: int | None = None  # this process's listening connection's
        # whether another process listens, as counted (True until counted), and until when
        # that is believed
        self._others, self._others_until = True, float("-inf")

    def listening(self, backend_pid: int) -> None:
        """This process's listener (re)connected on that server process: not another one."""
        self._listener, self._others_until = backend_pid, float("-inf")

    def publish(self, topic: str, message: dict[str, Any]) -> None:
        self.publish_many([(topic, message)])

    def publish_many(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        """Publishes in order, as few NOTIFYs as fit: one carries one message, or a `batch`
        of them (the updates of many chats queued together), each under the payload limit.
        A round trip and a wake-up of every process's listener per NOTIFY, not per message."""
        group: list[str] = []
        size = 0
        for topic, message in messages:
            entry = json.dumps({"topic": topic, "message": message}, default=str)
            length = len(entry.encode())
            if length > self.MAX_PAYLOAD - BATCH_OVERHEAD:
                self._notify(group)  # the ones before it go first
                group, size = [], 0
                log.warning(
                    "live message too large for NOTIFY, delivered locally only", topic=topic
                )
                self.hub.deliver(topic, message)
                continue
            if group and size + length + 1 > self.MAX_PAYLOAD - BATCH_OVERHEAD:
                self._notify(group)
                group, size = [], 0
            group.append(entry)
            size += length + 1
        self._notify(group)

    def publish_here(self, topic: str, message: dict[str, Any]) -> bool:
        """Publishes to this process's subscribers alone, and says so, when no other process
        listens as last counted and that count still holds: no I/O. False (nothing done)
        when knowing would take a count: `publish` then."""
        if self._others or time.monotonic() >= self._others_until:
            return False
        item = json.loads(json.dumps({"topic": topic, "message": message}, default=str))
        self.hub.deliver(item["topic"], item["message"])  # JSON's types, as `_notify` gives
        return True

    def _notify(self, entries: list[str]) -> None:
        if not entries:
            return
        payload = entries[0] if len(entries) == 1 else '{"batch": [' + ",".join(entries) + "]}"
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._local.conn = psycopg.connect(self.conninfo, autocommit=True)
            self._sending[conn.info.backend_pid] = weakref.ref(conn)
        for entry in entries:  # as the listener would hand them over: JSON's types
            item = json.loads(entry)
            self.hub.deliver(item["topic"], item["message"])
        if self._others_listen(conn):
            conn.execute("SELECT pg_notify(%s, %s)", (LIVE_CHANNEL, payload))

    def _others_listen(self, conn: psycopg.Connection[Any]) -> bool:
        """Whether a listener other than this process's holds the presence lock (counted
        again once the last count is PRESENCE_SECONDS old)."""
        now = time.monotonic()
        if now < self._others_until:
            return self._others
        row = conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
            " WHERE d.datname = current_database() AND l.locktype = 'advisory'"
            " AND l.classid = %s AND l.objid = %s AND l.objsubid = 2 AND l.granted"
            " AND l.pid <> %s",
            (*PRESENCE, self._listener or 0),
        ).fetchone()
        self._others = bool(row and row[0])
        self._others_until = now + PRESENCE_SECONDS
        return self._others

    def receive(self, payload: str, sender: int | None = None) -> None:
        """A NOTIFY's messages to this process's hub, unless this bus sent it (`sender`, the
        server process id it came from: this process's subscribers have them already)."""
        if sender is not None and self._sent_here(sender):
            return
        if payload == HELLO:
            if sender != self._listener:  # another process's listener has started
                self._others, self._others_until = True, time.monotonic() + PRESENCE_SECONDS
            return
        data = json.loads(payload)
        for item in data.get("batch") or [data]:
            self.hub.deliver(item["topic"], item["message"])

    def _sent_here(self, backend_pid: int) -> bool:
        ref = self._sending.get(backend_pid)
        conn = ref() if ref is not None else None
        return conn is not None and not conn.closed  # a closed one's id may be reused
