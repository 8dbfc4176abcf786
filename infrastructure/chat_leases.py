"""Chat leases in the `chat_leases` table: which process answers which session.

A lease is a row with an owner and an expiry; the owner renews it while it works and
deletes it when done. A process that dies stops renewing, so its leases expire and its
sessions can be taken over. Rows rather than PostgreSQL advisory locks: a lock is held by an
open connection, so thirty chats answered at once would hold thirty connections, and rows
work the same on the embedded SQLite. The price is that a dead process is noticed only when
its leases expire (30 s by default), not at once.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, delete, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from infrastructure.database import one_statement
from infrastructure.readmodel.tables import chat_leases as t


class SqlChatLeases:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(self, session_id: UUID, owner: str, seconds: float) -> bool:
        """One statement (a claim per chat turn): inserts the lease, or takes over an
        expired one; a lease held and not expired is left as it is, and no row comes back."""
        now = datetime.now(UTC)
        values = {"session_id": session_id, "owner": owner}
        upsert = _insert_for(self.engine)(t).values(
            **values, expires_at=now + timedelta(seconds=seconds)
        )
        upsert = upsert.on_conflict_do_update(
            index_elements=[t.c.session_id],
            set_={"owner": upsert.excluded.owner, "expires_at": upsert.excluded.expires_at},
            where=t.c.expires_at < now,
        ).returning(t.c.session_id)
        with one_statement(self.engine) as conn:
            return conn.execute(upsert).first() is not None

    def renew(self, session_ids: list[UUID], owner: str, seconds: float) -> None:
        if not session_ids:
            return
        with one_statement(self.engine) as conn:
            conn.execute(
                update(t)
                .where(t.c.owner == owner, t.c.session_id.in_(session_ids))
                .values(expires_at=datetime.now(UTC) + timedelta(seconds=seconds))
            )

    def release(self, session_id: UUID, owner: str) -> None:
        with one_statement(self.engine) as conn:
            conn.execute(delete(t).where(t.c.session_id == session_id, t.c.owner == owner))

    def clear(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(t))


def _insert_for(engine: Engine) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (PostgreSQL, and SQLite for tests)."""
    return sqlite_insert if engine.dialect.name == "sqlite" else postgresql_insert


class LocalChatLeases:
    """Leases for a process that is alone on its store (the embedded default): nobody else
    can answer, so a set in memory says which sessions are being answered here."""

    def __init__(self) -> None:
        self._held: set[UUID] = set()
        self._lock = threading.Lock()

    def claim(self, session_id: UUID, owner: str, seconds: float) -> bool:
        with self._lock:
            if session_id in self._held:
                return False
            self._held.add(session_id)
            return True

    def renew(self, session_ids: list[UUID], owner: str, seconds: float) -> None:
        pass

    def release(self, session_id: UUID, owner: str) -> None:
        with self._lock:
            self._held.discard(session_id)

    def clear(self) -> None:
        with self._lock:
            self._held.clear()
