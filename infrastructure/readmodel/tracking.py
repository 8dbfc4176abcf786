"""Tracking of projections in the read database, committed with the rows they change.

An event's rows and its tracking position are written in one transaction, and the position
moves only forward from where the writer found it, so each event is applied exactly once even
if two workers ever raced: the second one's transaction fails and rolls back.
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
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(t)
                .where(t.c.projection == self.name)
                .where(t.c.notification_id < tracking.notification_id)
                .values(notification_id=tracking.notification_id)
            )
            if moved.rowcount != 1:
                raise IntegrityError(
                    f"{self.name} already processed notification {tracking.notification_id}"
                )
            yield conn

    def insert_tracking(self, tracking: Tracking) -> None:
        with self.transaction(tracking):
            pass

    def max_tracking_id(self, application_name: str) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(t.c.notification_id).where(t.c.projection == self.name)
            ).scalar()

    def has_tracking_id(self, application_name: str, notification_id: int | None) -> bool:
        if notification_id is None:
            return True
        return (self.max_tracking_id(application_name) or 0) >= notification_id

    def reset(self, conn: Connection) -> None:
        conn.execute(update(t).where(t.c.projection == self.name).values(notification_id=0))
