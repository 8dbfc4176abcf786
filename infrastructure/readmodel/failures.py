"""Events a projection could not apply: recorded with the aggregate they belong to, so that
the projection goes on with every other aggregate instead of failing on one event forever.

What counts as such an event: one that fails the same way on every try, for a reason that is
not the database being away (a value the read table cannot hold, a bug in a handler).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
import sqlalchemy.exc
from eventsourcing import persistence
from prometheus_client import Counter
from sqlalchemy import Connection, Engine, delete, func, insert, select

from infrastructure.readmodel.tables import projection_failures as t

FAILED = Counter(
    "genai_projection_failed_events_total",
    "Events a projection could not apply and went on past",
    ["projection"],
)

# the database or a service being away: wait and try again, never skip for it
TRANSIENT: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    persistence.OperationalError,
    persistence.InterfaceError,
    ConnectionError,
    TimeoutError,
)
MAX_ERROR = 2000


def is_transient(error: BaseException) -> bool:
    return isinstance(error, TRANSIENT)


def record(conn: Connection, projection: str, notification: Any, error: BaseException) -> None:
    """Within the transaction that moves the projection past the event (the stored event,
    which may be one that does not even decode)."""
    text = f"{type(error).__name__}: {error}"
    conn.execute(
        insert(t).values(
            projection=projection,
            notification_id=notification.id,
            originator_id=notification.originator_id,
            originator_version=notification.originator_version,
            topic=str(notification.topic)[:300],
            error=_storable(text)[:MAX_ERROR],
            failed_at=datetime.now(UTC),
        )
    )
    FAILED.labels(projection).inc()


def forget(conn: Connection, projection: str) -> None:
    """In a rebuild's transaction: the replay finds again what fails."""
    conn.execute(delete(t).where(t.c.projection == projection))


def summary(engine: Engine) -> dict[str, dict[str, int]]:
    """For each projection with failures: how many aggregates and events it went past."""
    query = select(
        t.c.projection, func.count(func.distinct(t.c.originator_id)), func.count()
    ).group_by(t.c.projection)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return {name: {"aggregates": aggregates, "events": events} for name, aggregates, events in rows}


def _storable(text: str) -> str:
    """An error may quote the very value no column could hold."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")
