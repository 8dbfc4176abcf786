"""Tracking of projections in the read database, committed with the rows they change.

An event's rows and its tracking position are written in one transaction, and the position
moves only from the exact position this writer last saw (compare-and-set), so each event is
applied exactly once: if another worker moved it, or a rebuild reset it, the transaction fails
with IntegrityError and rolls back, and the writer starts again from the stored position.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from sqlalchemy import Connection, Engine, insert, select, update

from infrastructure.readmodel.tables import projection_tracking as t


class SqlTrackingView(TrackingRecorder):
    """A view whose tables live in the SQLAlchemy read database, named by its projection."""

    def __init__(self, engine: Engine, projection_name: str) -> None:
        self.engine, self.name = engine, projection_name
        self._seen: int | None = None  # the position this writer last read or wrote

    def ensure(self, application_name: str) -> None:
        with self.engine.begin() as conn:
            found = conn.execute(select(t.c.projection).where(t.c.projection == self.name)).first()
            if found is None:
                conn.execute(
                    insert(t).values(
                        projection=self.name, application_name=application_name, notification_id=0
                    )
                )

    @contextmanager
    def transaction(self, tracking: Tracking) -> Iterator[Connection]:
        """Yields a connection whose work commits together with the tracking position."""
        expected = self._seen if self._seen is not None else self.max_tracking_id("")
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
            try:
                yield conn
            except BaseException:
                self._seen = None
                raise
        self._seen = tracking.notification_id

    def insert_tracking(self, tracking: Tracking) -> None:
        with self.transaction(tracking):
            pass

    def max_tracking_id(self, application_name: str) -> int | None:
        with self.engine.connect() as conn:
            self._seen = conn.execute(
                select(t.c.notification_id).where(t.c.projection == self.name)
            ).scalar()
        return self._seen

    def last_seen(self) -> int:
        """The position this writer last read or wrote, read from the table when it has none:
        a writer that follows the log alone need not ask the database where it is each time
        (if someone else moved it, the writer's next compare-and-set fails and it reads again)."""
        return self._seen if self._seen is not None else (self.max_tracking_id("") or 0)

    def has_tracking_id(self, application_name: str, notification_id: int | None) -> bool:
        if notification_id is None:
            return True
        return (self.max_tracking_id(application_name) or 0) >= notification_id

    def reset(self, conn: Connection) -> None:
        """Back to the start of the log; call first in the rebuild's transaction."""
        conn.execute(update(t).where(t.c.projection == self.name).values(notification_id=0))
        self._seen = None
