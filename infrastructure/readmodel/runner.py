"""Runs projections: follows the log from each view's tracked position, one worker per
projection at a time across processes (a PostgreSQL advisory lock), resuming after a crash."""

from __future__ import annotations

import contextlib
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg
import structlog
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.utils import resolve_topic
from sqlalchemy import Table, delete

from application.eventlog.log import EventLog
from infrastructure.follower import Follower
from infrastructure.log_watcher import LogWatcher
from infrastructure.readmodel import failures
from infrastructure.readmodel.tracking import SqlTrackingView

log = structlog.get_logger(__name__)

# A page of the log: read at once and, for a batched projection, applied in one transaction
# (ended early after BATCH_SECONDS, so that the rows already applied need not wait long).
BATCH = 500
BATCH_SECONDS = 0.1
# Tries of an event that fails the same way before the projection records it and goes on
# (a failure of the database itself is tried again without end).
TRIES = 3
# How long a list query waits for its read model to hold what was stored before it.
FRESH_READ_SECONDS = 2.0
# A position moved past events a projection has nothing to do with is written with its next
# page of events it applies, or once the log has been quiet (or the position unwritten) for
# this long: a write transaction per projection and event was most of the followers' CPU,
# and at 0.2 s still one per idle projection and chat turn on a chat asked now and then.
UNWRITTEN_SECONDS = 1.0
# Readers waiting for a projection look at the events between its written position and the
# one they wait for (when there are at most this many) for one it applies.
LOOK_AHEAD = 200
# How long a lock's connection that answered is believed still held without asking again: a
# follower asks at every wake-up (seven followers, several saves a turn), and each ask was a
# round trip. A connection the server dropped is found within this long, and meanwhile a
# worker of another process that took over is seen by the positions (IntegrityError).
HELD_CHECK_SECONDS = 1.0


@dataclass
class LogRead:
    """What a pass over the log read: every topic of its events, up to `last` (the last
    notification read; None: the log was empty), `count` events."""

    topics: set[str] = field(default_factory=set)
    last: Any = None
    count: int = 0


class TrackedProjection(Protocol):
    name: str
    tables: Sequence[Table]
    # Optional `batched = True`: every write of the projection goes through its view's
    # `transaction` (no other side effect), so that a page of events can be one transaction.

    @property
    def view(self) -> SqlTrackingView: ...

    def process_event(self, domain_event: Any, tracking: Tracking) -> None: ...

    def forget(self) -> None: ...


def handled_types(projection: object) -> tuple[type, ...] | None:
    """The event classes a projection's `process_event` dispatches on (its fallback for
    `object` aside), or None when it has no such dispatch and must see every event."""
    getattr(projection, "process_event")  # noqa: B009 (flushes deferred registrations)
    for klass in type(projection).__mro__:
        method = klass.__dict__.get("process_event")
        if isinstance(method, singledispatchmethod):
            return tuple(t for t in method.dispatcher.registry if t is not object)
    return None


class AdvisoryLock:
    """A session-level PostgreSQL advisory lock held by one open connection: if the holding
    process dies, its connection closes and another process takes over."""

    def __init__(self, conninfo: str, name: str) -> None:
        self.conninfo, self.key = conninfo, zlib.crc32(f"genai:{name}".encode())
        self._conn: psycopg.Connection | None = None
        self._waiting: psycopg.Connection | None = None  # tried on, lock not granted
        self._checked = float("-inf")  # when the connection last answered

    def try_acquire(self) -> bool:
        if self.held():
            return True
        # A process standing by tries again on the connection it tried on, instead of
        # starting a server process per try (every lock, twice a second).
        conn, self._waiting = self._waiting, None
        self.release()
        if conn is None or conn.closed:
            try:
                conn = psycopg.connect(self.conninfo, autocommit=True)
            except psycopg.OperationalError as error:  # a busy server: tried again, not fatal
                log.warning("no connection for an advisory lock", error=str(error))
                return False
        try:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        except psycopg.Error as error:
            log.warning("an advisory lock's connection failed", error=str(error))
            conn.close()
            return False
        if row and row[0]:
            self._conn, self._checked = conn, time.monotonic()
            return True
        self._waiting = conn
        return False

    def acquire(self, stop: threading.Event, retry: float = 0.5) -> bool:
        while not stop.is_set():
            if self.try_acquire():
                return True
            stop.wait(retry)
        return False

    def held(self) -> bool:
        if self._conn is None or self._conn.closed:
            return False
        now = time.monotonic()
        if now - self._checked < HELD_CHECK_SECONDS:
            return True
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        self._checked = now
        return True

    def release(self) -> None:
        """Lets the lock go (or stops waiting for it)."""
        for conn in (self._conn, self._waiting):
            if conn is not None:
                with contextlib.suppress(psycopg.Error):
                    conn.close()
        self._conn = self._waiting = None


class ProjectionWorker(Follower):
    def __init__(
        self,
        store: EventLog,
        projection: TrackedProjection,
        watcher: LogWatcher,
        lock: AdvisoryLock | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        super().__init__(f"projection-{projection.name}", watcher, lock, poll_seconds)
        self.store, self.projection = store, projection
        self._handled_types = handled_types(projection)
        # writes only through its view's transactions: a page may go in one
        self._batched = bool(getattr(projection, "batched", False))
        self._topics: dict[str, bool] = {}
        self._tries = TRIES
        self._failing: tuple[int, int] = (0, 0)  # the event failing, and its tries so far
        # past the written position: events after it up to here need nothing of this
        # projection (0: nothing unwritten), since when
        self._unwritten, self._unwritten_since = 0, 0.0
        # in a rebuild after a pass over the log (`rebuild_all`): what it read there
        self._known: LogRead | None = None
        self._known_read = 0  # of its events, how many were read (those of its topics)
        projection.view.ensure(store.name)

    @property
    def position(self) -> int:
        """The position the projection's rows stand at: written, or moved past events it
        has nothing to do with by this process's worker and not written yet."""
        written = self.projection.view.max_tracking_id(self.store.name) or 0
        return max(written, self._unwritten)

    def _start(self) -> int:
        """The first event not read yet."""
        return max(self.projection.view.last_seen(), self._unwritten) + 1

    def _defer(self, position: int) -> None:
        """Moves the position past events that need nothing of the projection, in memory."""
        if position > self._unwritten:
            if not self._unwritten:
                self._unwritten_since = time.monotonic()
            self._unwritten = position

    def _write_position(self, due: bool = True) -> None:
        """Writes the position moved in memory (when `due`: unwritten for long enough)."""
        unwritten = self._unwritten
        if not unwritten:
            return
        view = self.projection.view
        if unwritten <= view.last_seen():
            self._unwritten = 0  # a page applied since has written past it
            return
        if not due and time.monotonic() - self._unwritten_since < UNWRITTEN_SECONDS:
            return
        self._unwritten = 0
        try:
            view.insert_tracking(Tracking(self.store.name, unwritten))
        except IntegrityError:
            self.recover()  # another worker or a rebuild moved it: again from the stored one

    def wait_seconds(self) -> float:
        return min(self.poll_seconds, UNWRITTEN_SECONDS) if self._unwritten else self.poll_seconds

    def idle(self) -> None:
        self._write_position()

    def catch_up(self, limit: int | None = None) -> int:
        """Follows the log past pending events (at most `limit`), applying those the projection
        handles; returns how many it moved past. A projection that writes only through its
        view (`batched`) has each page applied in one transaction (`_apply_page`); a page
        that fails there is rolled back whole and goes again one event at a time, where each
        event's failures are counted and, past the tries, recorded and skipped."""
        done = 0
        self.reached_end = False
        while limit is None or done < limit:
            batch = BATCH if limit is None else min(BATCH, limit - done)
            notifications = self._read_log(self._start(), batch)
            if not notifications:
                self.reached_end = True
                break
            applied = self._apply_page(notifications) if self._batched else None
            moved = self._apply_each(notifications) if applied is None else applied
            done += moved
            if moved == len(notifications) < batch:  # the end of the log as it was read
                self.reached_end = True
                break
        self._write_position(due=False)
        return done

    def _read_log(self, start: int, limit: int) -> Sequence[Any]:
        """The log's events from `start`, at most `limit`. In a rebuild after a pass that
        read the log up to `last` (`LogRead`), up to there only the events of the topics
        this projection handles (read by topic in SQL), then `last` itself: the page ends
        where a page of every event would, and whatever needs nothing of the projection is
        gone past as when it is read. A page that is not full reads on past `last`."""
        known = self._known
        if known is None or known.last is None or start > known.last.id:
            self._known = None
            return self.watcher.read(self.store.recorder, start, limit)
        last = known.last
        topics = [t for t in known.topics if self._handles(t)]
        found = (
            list(
                self.store.recorder.select_notifications(
                    start=start, limit=limit, stop=last.id, topics=topics
                )
            )
            if topics
            else []
        )
        if len(found) < limit and (not found or found[-1].id != last.id):
            found.append(last)
        self._known_read += len(found)
        if found[-1].id != last.id:
            return found
        self._known = None
        if len(found) < limit:
            found.extend(self.watcher.read(self.store.recorder, last.id + 1, limit - len(found)))
        return found

    def _apply_page(
        self,
        notifications: Sequence[Any],
        events: Sequence[Any] | None = None,
        timed: bool = True,
    ) -> int | None:
        """Applies the page's events in one transaction with the position of the last one
        applied (fewer if it took longer than BATCH_SECONDS, when `timed`); how many. None when an event
        failed: nothing of the page was applied. `events`: the page's events already
        decoded (a rebuild decodes each once for every projection), None where not."""
        view = self.projection.view
        if timed and not any(self._handles(n.topic) for n in notifications):
            self._defer(notifications[-1].id)  # only the position moves: written later
            return len(notifications)
        deadline = time.monotonic() + BATCH_SECONDS if timed else None
        name = self.store.name
        process, decode = self.projection.process_event, self.store.mapper.to_domain_event
        done = 0
        passed = 0  # an event of no interest after the last applied (its id)
        try:
            with view.batch(until=notifications[-1].id):
                for i, n in enumerate(notifications):
                    if self._handles(n.topic):
                        event = events[i] if events is not None else None
                        process(decode(n) if event is None else event, Tracking(name, n.id))
                        passed = 0
                    else:
                        passed = n.id
                    done += 1
                    if deadline is not None and time.monotonic() > deadline:
                        break
                if passed:  # in the batch: only the position moves
                    view.insert_tracking(Tracking(name, passed))
        except IntegrityError:
            # another worker or a rebuild moved the position: start from the stored one
            self._forget()
            return 0
        except Exception as error:
            self.projection.forget()  # its caches may hold what was rolled back
            if failures.is_transient(error):
                raise
            return None
        return done

    def _forget(self) -> None:
        """Drops what this worker believed about its position and the projection's caches."""
        self._unwritten = 0
        self.projection.forget()

    def _apply_each(self, notifications: Sequence[Any]) -> int:
        """Applies the page's events one transaction each; how many it moved past."""
        done = 0
        skipped = 0
        for n in notifications:
            if not self._handles(n.topic):
                skipped = n.id  # no decoding, no transaction: the next write jumps over it
                done += 1
                continue
            skipped = 0
            try:
                event = self.store.mapper.to_domain_event(n)
                self.projection.process_event(event, Tracking(self.store.name, n.id))
            except IntegrityError:
                # another worker or a rebuild moved the position: start from the stored one
                self._forget()
                skipped = 0
                break
            except Exception as error:
                if failures.is_transient(error) or self._tried(n.id) < self._tries:
                    raise
                if not self._skip(n, error):
                    break
            done += 1
        if skipped:  # the page ended with events of no interest: written later
            self._defer(skipped)
        return done

    def _tried(self, notification_id: int) -> int:
        """Counts a failed try of this event; how many it has had in a row."""
        last, tries = self._failing
        self._failing = (notification_id, tries + 1 if last == notification_id else 1)
        return self._failing[1]

    def _skip(self, notification: Any, error: Exception) -> bool:
        """Records the event as one this projection cannot apply and moves past it, so
        that every other aggregate goes on; False when another worker moved first."""
        name = self.projection.name
        log.error(
            "projection skips an event it cannot apply",
            projection=name,
            notification_id=notification.id,
            aggregate=str(notification.originator_id),
            exc_info=error,
        )
        self.projection.forget()
        try:
            with self.projection.view.transaction(
                Tracking(self.store.name, notification.id)
            ) as conn:
                failures.record(conn, name, notification, error)
        except IntegrityError:
            self.projection.forget()
            return False
        return True

    def _handles(self, topic: str) -> bool:
        """Whether the projection has a handler for events of this topic (resolved once)."""
        known = self._topics.get(topic)
        if known is None:
            handled = self._handled_types
            known = handled is None or issubclass(resolve_topic(topic), handled)
            self._topics[topic] = known
        return known

    def rebuild(self, known: LogRead | None = None) -> int:
        """Drops the view's rows and replays the whole log into it. Safe while other workers
        run: the reset comes first in its transaction, so it waits for their transaction in
        flight, and their next one fails its compare-and-set and starts again from zero.
        A batched projection is replayed in large pages (`rebuild.replay`). `known`: what a
        pass over the log just read of it (its topics, up to where): up to there only the
        events of the topics this projection handles are read (`_read_log`)."""
        if self._batched:
            from infrastructure.readmodel.rebuild import replay

            return replay(self.store, [self])[self.projection.name]
        self.start_over()
        self._known, self._known_read = known, 0
        self._tries = 1  # alone, in a command: what fails is recorded at once
        try:
            done = self.catch_up()
            self._write_position()
            if known is not None and self._known is None:  # read past what the pass read
                done += known.count - self._known_read
            return done
        finally:
            self._tries = TRIES
            self._known = None

    def start_over(self) -> None:
        """Empty tables and no failures at position 0, as a rebuild begins."""
        view = self.projection.view
        with view.engine.begin() as conn:
            view.reset(conn)
            failures.forget(conn, self.projection.name)
            for table in self.projection.tables:
                conn.execute(delete(table))
        self._forget()

    @property
    def batched(self) -> bool:
        return self._batched

    def handles(self, topic: str) -> bool:
        return self._handles(topic)

    def apply_rebuild_page(self, notifications: Sequence[Any], events: Sequence[Any]) -> int:
        """In a rebuild, alone: the page in one transaction, however long it takes; a page
        that fails goes again one event at a time, where what fails is recorded at once."""
        applied = self._apply_page(notifications, events, timed=False)
        if applied == len(notifications):
            return applied
        self._tries = 1
        try:
            done = 0 if applied is None else applied
            while done < len(notifications):  # the rest, from the stored position
                start = self._start()
                rest = [n for n in notifications if n.id >= start]
                if not rest:
                    break
                moved = self._apply_each(rest)
                if moved == 0:  # another worker moves it meanwhile: it applies them
                    break
                done = len(notifications) - len(rest) + moved
            self._write_position()  # a rebuild's page leaves its position written
            return done
        finally:
            self._tries = TRIES

    def recover(self) -> None:
        self._forget()

    def caught_up(self, timeout: float = FRESH_READ_SECONDS) -> bool:
        """Waits until the view holds every event stored so far (in any process), for
        `timeout` seconds at most, so that a client reads its own writes in a list."""
        return self.wait_until(self.store.max_notification_id(), timeout)

    def wait_until(self, notification_id: int, timeout: float = 10.0) -> bool:
        """Blocks until the view holds what the events up to notification_id make of it, or
        timeout seconds have passed: its position is there, or none of the events between
        (the worker of another process may not have written its position past them yet)
        is one the projection applies."""
        deadline = time.monotonic() + timeout
        while True:
            position = self.position
            if position >= notification_id or self._nothing_to_apply(position, notification_id):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def _nothing_to_apply(self, position: int, notification_id: int) -> bool:
        if notification_id - position > LOOK_AHEAD:
            return False
        between = self.store.recorder.select_notifications(
            start=position + 1, limit=notification_id - position, stop=notification_id
        )
        return not any(self._handles(n.topic) for n in between)
