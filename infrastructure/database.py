"""The read-side database: its engine, and bringing its schema up to date with Alembic."""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError

import migrations

SCHEMA_LOCK = zlib.crc32(b"genai:schema")
# A pooled PostgreSQL connection that came back this recently is handed out without a ping:
# the pool's pre-ping was a round trip before every transaction (on a chat turn, one for
# each of the projections' and leases' several transactions). One idle for longer is
# pinged first, and replaced if it does not answer (a restarted server, a dropped
# connection); a connection that fails in use invalidates the pool's older ones.
PING_AFTER_IDLE_SECONDS = 1.0
MIGRATIONS_LOCK = 724501


def make_private(directory: Path, pattern: str = "*.sqlite3*") -> None:
    """SQLite makes its files (and their -wal and -shm) with the process's umask: readable
    by anyone. Ours hold every event and the encrypted keys: the owner's alone."""
    for path in directory.glob(pattern):
        path.chmod(0o600)


def create_read_engine(url: str, pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _wal(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            # WAL lets readers go on while the projection writes
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            dbapi_conn.execute("PRAGMA synchronous=NORMAL")

        return engine
    # Up to twice `pool_size` connections, each kept once opened: with overflow connections
    # (closed as they come back to a full pool) 32 chats made a connection per lease claim
    # or release, about one every three turns, each a server process started and a
    # connection set up for one statement.
    engine = create_engine(url, pool_size=2 * pool_size, max_overflow=0)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _opened(_dbapi_conn, record) -> None:  # type: ignore[no-untyped-def]
        record.info["returned"] = time.monotonic()  # just answered: no ping at its checkout

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn, record) -> None:  # type: ignore[no-untyped-def]
        record.info["returned"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        returned = record.info.get("returned")
        if returned is not None and time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dbapi_conn.execute("SELECT 1")
            dbapi_conn.rollback()
        except psycopg.Error as error:
            raise DisconnectionError() from error


@contextmanager
def one_statement(engine: Engine) -> Iterator[Connection]:
    """A connection whose statements each commit by themselves: on PostgreSQL a statement
    made alone in `engine.begin()` costs three round trips (BEGIN, it, COMMIT), here one.
    For a single statement, atomic by itself."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        yield conn


@contextmanager
def schema_lock(conninfo: str | None) -> Iterator[None]:
    """Holds a session-level PostgreSQL advisory lock, so that processes started at the same
    moment create and migrate the schema one after the other: `CREATE TABLE IF NOT EXISTS`
    run by two sessions at once can fail with a unique violation in the catalogue, and
    rows made once (a projection's tracking row) would be made twice. Nothing to hold for
    the embedded SQLite, which one process owns."""
    if conninfo is None:
        yield
        return
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


def migrate(engine: Engine) -> None:
    """Applies pending migrations (idempotent; PostgreSQL serialises concurrent callers)."""
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATIONS_LOCK})")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
