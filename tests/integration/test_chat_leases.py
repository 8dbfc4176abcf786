"""SqlChatLeases: a claim is one statement that takes a free or expired lease, never a held one."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, make_url, select

from infrastructure.chat_leases import SqlChatLeases
from infrastructure.readmodel.tables import chat_leases
from tests.conftest import fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        made = create_engine(f"sqlite:///{tmp_path / 'leases.db'}")
        chat_leases.create(made)
        yield made
        made.dispose()
        return
    with fresh_postgres_database() as url:
        made = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
        chat_leases.create(made)
        yield made
        made.dispose()


def owner_of(engine: Engine, session: uuid.UUID) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            select(chat_leases.c.owner).where(chat_leases.c.session_id == session)
        ).scalar()


def test_a_held_lease_is_refused_and_a_released_one_taken(engine: Engine) -> None:
    leases, session = SqlChatLeases(engine), uuid.uuid4()
    assert leases.claim(session, "a", 30)
    assert not leases.claim(session, "b", 30)
    assert not leases.claim(session, "a", 30)  # held, even by its owner: one answerer
    assert owner_of(engine, session) == "a"
    leases.release(session, "b")  # not b's to release
    assert owner_of(engine, session) == "a"
    leases.release(session, "a")
    assert leases.claim(session, "b", 30)
    assert owner_of(engine, session) == "b"


def test_an_expired_lease_is_taken_over(engine: Engine) -> None:
    leases, session = SqlChatLeases(engine), uuid.uuid4()
    assert leases.claim(session, "died", 0.05)
    deadline = time.monotonic() + 10
    while not leases.claim(session, "alive", 30):  # once the lease has run out
        assert time.monotonic() < deadline
        time.sleep(0.02)  # polling interval while waiting for the expiry
    assert owner_of(engine, session) == "alive"
    assert not leases.claim(session, "another", 30)
