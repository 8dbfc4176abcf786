"""Tracking of projections in the read database, committed with the rows they change.

An event's rows and its tracking position are written in one transaction, and the position
moves only from the exact position this writer last saw (compare-and-set), so each event is
applied exactly once: if another worker moved it, or a rebuild reset it, the transaction fails
with IntegrityError and rolls back, and the writer starts again from the stored position.

A worker may apply a page of events in one transaction (`batch`): each event's
`transaction` then writes on the batch's connection and moves the position in memory, and
the position is written once, with the compare-and-set that opens the batch when the page's
end is known (or when the batch commits). One commit (and one tracking write) per page
instead of per event; an exception anywhere rolls the whole page back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from sqlalchemy import Connection, Engine, insert, select, update

from infrastructure.database import one_statement
from infrastructure.readmodel.tables import projection_tracking as t


class Buffer(Protocol):
    """Writes a projection gathers in a transaction and makes at once before it commits."""

    def __init__(self, conn: Connection) -> None: ...

    def flush(self) -> None: ...


B = TypeVar("B", bound=Buffer)


@dataclass
class _Batch:
    conn: Connection
    position: int  # of the last event applied in it (uncommitted until the batch commits)
    thread: int  # the writer's: another thread's transaction is not part of it
    buffers: dict[type, Buffer] = field(default_factory=dict)

    def flush(self) -> None:
        for buffer in self.buffers.values():
            buffer.flush()


class _InBatch:
    """One event's part of a batch (a class, not a generator: it runs for every event of
    a rebuild): its position moves the batch's once its work is done without error."""

    __slots__ = ("batch", "name", "position")

    def __init__(self, name: str, batch: _Batch, position: int) -> None:
        self.name, self.batch, self.position = name, batch, position

    def __enter__(self) -> Connection:
        if self.position <= self.batch.position:
            raise IntegrityError(
                f"{self.name} is at {self.batch.position} in this batch; "
                f"not applying notification {self.position}"
            )
        return self.batch.conn

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.batch.position = self.position


class SqlTrackingView(TrackingRecorder):
    """A view whose tables live in the SQLAlchemy read database, named by its projection."""

    def __init__(self, engine: Engine, projection_name: str) -> None:
        self.engine, self.name = engine, projection_name
        self._seen: int | None = None  # the position this writer last read or wrote
        self._batch: _Batch | None = None

    def ensure(self, application_name: str) -> None:
        with self.engine.begin() as conn:
            found = conn.execute(select(t.c.projection).where(t.c.projection == self.name)).first()
            if found is None:
                conn.execute(
                    insert(t).values(
                        projection=self.name, application_name=application_name, notification_id=0
                    )
                )

    def transaction(self, tracking: Tracking) -> AbstractContextManager[Connection]:
        """A connection whose work commits together with the tracking position (in a
        batch: the batch's, committed with the batch)."""
        batch = self._batch
        if batch is not None and batch.thread == threading.get_ident():
            return _InBatch(self.name, batch, tracking.notification_id)
        return self._own_transaction(tracking)

    @contextmanager
    def _own_transaction(self, tracking: Tracking) -> Iterator[Connection]:
        expected = self.last_seen()
        with self.engine.begin() as conn:
            # first statement of the transaction: it takes the row lock that serialises writers
            moved = conn.execute(
                update(t)
                .where(t.c.projection == self.name)
                .where(t.c.notification_id == expected)
                .values(notification_id=tracking.notification_id)
            )
            if moved.rowcount != 1 or tracking.notification_id <= (expected or 0):
                self._seen = None
                raise IntegrityError(
                    f"{self.name} moved past {expected} elsewhere; "
                    f"not applying notification {tracking.notification_id}"
                )
            self._batch = own = _Batch(conn, tracking.notification_id, threading.get_ident())
            try:
                yield conn
                own.flush()
            except BaseException:
                self._seen = None
                raise
            finally:
                self._batch = None
        self._seen = tracking.notification_id

    @contextmanager
    def batch(self, until: int | None = None) -> Iterator[None]:
        """One transaction for several events, in this thread: their rows, and the position
        of the last one applied, commit together or not at all. Its first statement takes
        the tracking row's lock and checks that the position is still the one this writer
        last saw (compare-and-set, as for one event): IntegrityError if it moved. `until`:
        where the page ends when all of it is applied, written by that first statement (in
        the transaction: nobody sees it before the commit, and a rollback takes it back), so
        that a page applied whole needs no second write of the row before its commit; a
        page that ends elsewhere writes where it ended."""
        expected = self.last_seen()
        written = expected if until is None or until <= expected else until
        with self.engine.begin() as conn:
            held = conn.execute(
                update(t)
                .where(t.c.projection == self.name)
                .where(t.c.notification_id == expected)
                .values(notification_id=written)
            )
            if held.rowcount != 1:
                self._seen = None
                raise IntegrityError(f"{self.name} moved past {expected} elsewhere")
            batch = self._batch = _Batch(conn, expected, threading.get_ident())
            try:
                yield
                batch.flush()
                if batch.position != written:
                    conn.execute(
                        update(t)
                        .where(t.c.projection == self.name)
                        .values(notification_id=batch.position)
                    )
            except BaseException:
                self._seen = None
                raise
            finally:
                self._batch = None
        self._seen = batch.position

    @contextmanager
    def writing_on(self, conn: Connection) -> Iterator[None]:
        """Events applied in it write on `conn`, in its caller's transaction, whose caller
        writes the position (a rebuild made on the database's side): each event's
        `transaction` is a part of it, as of a batch, and the buffers are written at its end."""
        batch = self._batch = _Batch(conn, 0, threading.get_ident())
        try:
            yield
            batch.flush()
        finally:
            self._batch = None
            self._seen = None

    def buffer(self, kind: type[B]) -> B:
        """The open transaction's buffer of this kind (made on first use, with its
        connection): what it gathers is written by its `flush`, once, before the
        transaction (a page's, in a batch) commits. Inside `transaction` only."""
        batch = self._batch
        assert batch is not None and batch.thread == threading.get_ident(), "no transaction"
        found = batch.buffers.get(kind)
        if found is None:
            found = batch.buffers[kind] = kind(batch.conn)
        assert isinstance(found, kind)
        return found

    def insert_tracking(self, tracking: Tracking) -> None:
        """Moves the position alone (compare-and-set, as `transaction` does), in one
        statement that commits by itself; in a batch, with the batch."""
        batch = self._batch
        if batch is not None and batch.thread == threading.get_ident():
            with self.transaction(tracking):
                return
        expected = self.last_seen()
        moved = None
        if tracking.notification_id > expected:
            with one_statement(self.engine) as conn:
                moved = conn.execute(
                    update(t)
                    .where(t.c.projection == self.name)
                    .where(t.c.notification_id == expected)
                    .values(notification_id=tracking.notification_id)
                )
        if moved is None or moved.rowcount != 1:
            self._seen = None
            raise IntegrityError(
                f"{self.name} moved past {expected} elsewhere; "
                f"not moving to notification {tracking.notification_id}"
            )
        self._seen = tracking.notification_id

    def max_tracking_id(self, application_name: str) -> int | None:
        """The committed position (any thread may ask: readers waiting for their writes)."""
        with self.engine.connect() as conn:
            position: int | None = conn.execute(
                select(t.c.notification_id).where(t.c.projection == self.name)
            ).scalar()
        return position

    def last_seen(self) -> int:
        """The position this writer last read or wrote, read from the table when it has none:
        a writer that follows the log alone need not ask the database where it is each time
        (if someone else moved it, the writer's next compare-and-set fails and it reads again)."""
        if self._seen is None:
            self._seen = self.max_tracking_id("") or 0
        return self._seen

    def has_tracking_id(self, application_name: str, notification_id: int | None) -> bool:
        if notification_id is None:
            return True
        return (self.max_tracking_id(application_name) or 0) >= notification_id

    def reset(self, conn: Connection) -> None:
        """Back to the start of the log; call first in the rebuild's transaction."""
        conn.execute(update(t).where(t.c.projection == self.name).values(notification_id=0))
        self._seen = None
