"""An in-database rebuild builds its tables' indexes after their rows (`without_indexes`):
every index and key dropped in the rebuild's transaction, made again as it was after, a key
that a foreign key refers to left alone, and rows that break a key refused when it is made."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, create_engine, table, text
from sqlalchemy.exc import IntegrityError

from infrastructure.readmodel.rebuild import without_indexes
from tests.conftest import PG_ADMIN


@pytest.fixture
def conn() -> Iterator[Connection]:
    """A connection in a transaction, in a schema of its own, rolled back after."""
    engine: Engine = create_engine(PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn, conn.begin() as transaction:
        schema = f"rebuild_{uuid.uuid4().hex[:10]}"
        conn.execute(text(f"CREATE SCHEMA {schema}"))
        conn.execute(text(f"SET LOCAL search_path = {schema}"))
        conn.execute(text("CREATE TABLE entries (id uuid PRIMARY KEY, n int NOT NULL UNIQUE)"))
        conn.execute(text("CREATE INDEX entries_n_down ON entries (n DESC)"))
        conn.execute(text("CREATE TABLE kept (id int PRIMARY KEY, at int)"))
        conn.execute(text("CREATE INDEX kept_at ON kept (at)"))
        conn.execute(text("CREATE TABLE refers (kept_id int REFERENCES kept (id))"))
        yield conn
        transaction.rollback()
    engine.dispose()


def indexes(conn: Connection) -> list[tuple[str, str]]:
    return sorted(
        conn.execute(
            text(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indrelid IN ('entries'::regclass, 'kept'::regclass)"
            )
        ).all()
    )


def test_every_index_is_dropped_for_the_rows_and_made_again_as_it_was(conn: Connection) -> None:
    before = indexes(conn)
    with without_indexes(conn, [table("entries"), table("kept")]):
        assert [name for name, _ in indexes(conn)] == ["kept_pkey"]  # a foreign key's
        conn.execute(
            text("INSERT INTO entries VALUES (gen_random_uuid(), 1), (gen_random_uuid(), 2)")
        )
    assert indexes(conn) == before
    constraints = conn.execute(
        text("SELECT conname, contype FROM pg_constraint WHERE conrelid = 'entries'::regclass")
    ).all()
    assert sorted(constraints) == [("entries_n_key", "u"), ("entries_pkey", "p")]


def test_rows_that_break_a_key_fail_as_it_is_made_again(conn: Connection) -> None:
    with pytest.raises(IntegrityError), without_indexes(conn, [table("entries")]):
        conn.execute(
            text("INSERT INTO entries VALUES (gen_random_uuid(), 7), (gen_random_uuid(), 7)")
        )
