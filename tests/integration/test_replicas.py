"""Replicas start together: `genai-stack serve` processes started at the same moment on one
PostgreSQL database, fresh or made by an older version, all become ready (creating and
migrating the schema is serialised by an advisory lock), and serve the same stacks.

Processes started together still reach the schema a few hundred milliseconds apart (imports
take seconds), which mostly hides the race; so the test holds the migrations' lock until every
process waits at the schema's door, and lets them all in at once, as a slow database or a
crowded node does. Without the schema lock about one round in two then fails."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

import migrations
from infrastructure.database import MIGRATIONS_LOCK
from tests.conftest import fresh_postgres_database
from tests.integration.servers import Server

REPLICAS = 3
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@contextmanager
def replicas(database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    """REPLICAS servers on one database, each with its own disk and the one secret key, as
    a Kubernetes deployment runs them, let in to the schema at the same moment."""
    key = Fernet.generate_key().decode()
    gate = psycopg.connect(database_url, autocommit=True)
    gate.execute("SELECT pg_advisory_lock(%s)", (MIGRATIONS_LOCK,))
    servers = [
        Server(
            {
                **os.environ,
                "DATABASE_URL": database_url,
                "GENAI_DATA_DIR": str(tmp_path / f"replica-{i}"),
                "GENAI_SECRET_KEY": key,
                "GENAI_POLL_SECONDS": "0.2",
            },
            tmp_path,
        )
        for i in range(REPLICAS)
    ]
    try:
        wait_until_waiting(gate, REPLICAS, servers)
        gate.close()  # all in at once
        yield [server.wait_ready() for server in servers]
        for server in servers:
            assert "Traceback" not in server.log_text(), server.log_text()
    finally:
        gate.close()
        for server in servers:
            server.stop()


def wait_until_waiting(conn: psycopg.Connection, count: int, servers: list[Server]) -> None:
    """Until `count` sessions wait for an advisory lock (the schema's or the migrations')."""
    deadline = time.monotonic() + 90
    while True:
        waiting = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchone()
        if waiting and waiting[0] >= count:
            return
        for server in servers:
            assert server.process.poll() is None, server.log_text()
        assert time.monotonic() < deadline, "the servers never reached the schema"
        time.sleep(0.05)  # polling interval while waiting for the condition above


def create_and_read_across(bases: list[str]) -> None:
    """A stack created through one replica is read through every one."""
    created = httpx.post(
        f"{bases[0]}/graphql",
        json={"query": 'mutation { createWorkflow(name: "Shared") { id } }'},
        timeout=10,
    ).json()
    w = created["data"]["createWorkflow"]["id"]
    for base in bases:
        body = httpx.post(
            f"{base}/graphql",
            json={"query": "query($w: UUID!) { workflow(id: $w) { name } }", "variables": {"w": w}},
            timeout=10,
        ).json()
        assert body == {"data": {"workflow": {"name": "Shared"}}}


@pytest.mark.parametrize("round_", range(3))
def test_replicas_started_at_once_on_a_fresh_database_all_become_ready(
    round_: int, tmp_path: Path
) -> None:
    with fresh_postgres_database() as url, replicas(url, tmp_path) as bases:
        create_and_read_across(bases)


def test_replicas_started_at_once_on_an_older_database_all_migrate_it_and_become_ready(
    tmp_path: Path,
) -> None:
    with fresh_postgres_database() as url:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        config = Config()
        config.set_main_option("script_location", str(Path(migrations.__file__).parent))
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0003")  # as the version before web sources left it
        with replicas(url, tmp_path) as bases:
            create_and_read_across(bases)
        with engine.connect() as conn:
            head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        engine.dispose()
        assert head == ScriptDirectory.from_config(config).get_current_head()
