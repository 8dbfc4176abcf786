"""Connections to PostgreSQL are kept, not opened per use: the read pool keeps what a burst
opened, and a process standing by for a follower's advisory lock tries again on the
connection it tried on. Each connection opened is a server process started and set up."""

from __future__ import annotations

from contextlib import ExitStack
from urllib.parse import urlsplit

import psycopg
from sqlalchemy import text

from infrastructure.database import create_read_engine
from infrastructure.readmodel.runner import AdvisoryLock
from tests.conftest import PG_ADMIN


def _backends(url: str) -> set[int]:
    """The server processes connected to the URL's database, but for the one asking."""
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return {int(row[0]) for row in rows}


def _burst(engine, size: int) -> set[int]:  # type: ignore[no-untyped-def]
    """`size` connections checked out at once; their server process ids."""
    with ExitStack() as held:
        conns = [held.enter_context(engine.connect()) for _ in range(size)]
        return {c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in conns}


def test_the_read_pool_keeps_the_connections_a_burst_opened(postgres_url: str) -> None:
    engine = create_read_engine(
        postgres_url.replace("postgresql://", "postgresql+psycopg://", 1), pool_size=2
    )
    try:
        first = _burst(engine, 4)  # twice the pool size: the most it opens
        assert len(first) == 4
        assert _backends(postgres_url) == first  # all four still open, idle in the pool
        assert _burst(engine, 4) == first  # the next burst is served by the same four
        assert _burst(engine, 1) <= first
    finally:
        engine.dispose()
    assert _backends(postgres_url) == set()


def test_a_process_standing_by_for_a_lock_keeps_one_connection(postgres_url: str) -> None:
    holder, waiter = AdvisoryLock(postgres_url, "chats"), AdvisoryLock(postgres_url, "chats")
    try:
        assert holder.try_acquire()
        held = _backends(postgres_url)
        assert len(held) == 1
        tried = [waiter.try_acquire() for _ in range(5)]
        assert tried == [False] * 5
        standing_by = _backends(postgres_url) - held
        assert len(standing_by) == 1  # five tries, one connection

        holder.release()  # the holder goes away: the lock is the waiter's at its next try
        assert _backends(postgres_url) == standing_by
        assert waiter.try_acquire()
        assert waiter.held()
        assert _backends(postgres_url) == standing_by  # taken on the connection it waited on
        assert not holder.try_acquire()
    finally:
        holder.release()
        waiter.release()
    assert _backends(postgres_url) == set()
