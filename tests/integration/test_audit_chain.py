"""The audit hash chain over the event log: built by the server as it runs, verified by
`genai-stack audit verify`, which names the first stored event altered, removed or inserted
behind the application's back (raw SQL on the event store)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from application.eventlog.audit import extend
from application.eventlog.log import EventLog
from application.workflow.commands import AddNode, CreateWorkflow, MoveNode
from domain.graph import Position
from infrastructure.audit_chain import AuditChainWorker, SqlAuditChain, stored_events
from infrastructure.database import create_read_engine
from infrastructure.readmodel.tables import audit_chain
from infrastructure.settings import Settings
from interfaces.bootstrap import Services, bootstrap
from tests.integration.gql import GQL
from tests.integration.servers import GENAI_STACK
from tests.integration.workflow_ops import CONFIGURE, PUBLISH, RENAME, build_pipeline, wait_for


def cli_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "GENAI_DATA_DIR": str(settings.genai_data_dir),
        "GENAI_POLL_SECONDS": "0.2",
        **({"DATABASE_URL": settings.database_url} if settings.database_url else {}),
    }


def audit_verify(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GENAI_STACK, "audit", "verify", *args],
        env=cli_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


def verdict(settings: Settings) -> tuple[int, dict[str, Any]]:
    done = audit_verify(settings, "--json")
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def fully_chained(services: Services) -> None:
    chain = SqlAuditChain(services.read_db)
    last = services.event_log.max_notification_id()
    wait_for(lambda: (head := chain.head()) is not None and head.notification_id >= last)


class EventTable:
    """The event store's own table, reached with raw SQL as someone with database access."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @contextmanager
    def _sql(self) -> Iterator[Any]:
        if self.settings.uses_postgres:
            with psycopg.connect(self.settings.database_url, autocommit=True) as conn:
                yield conn
        else:
            conn = sqlite3.connect(self.settings.data_dir() / "events.sqlite3")
            try:
                yield conn
                conn.commit()
            finally:
                conn.close()

    @property
    def _pg(self) -> bool:
        return self.settings.uses_postgres

    def notification_id(self, originator_id: str, version: int) -> int:
        query = (
            "SELECT notification_id FROM genai_events WHERE originator_id=%s AND originator_version=%s"
            if self._pg
            else "SELECT rowid FROM stored_events WHERE originator_id=? AND originator_version=?"
        )
        stored_id = originator_id if self._pg else UUID(originator_id).hex  # SQLite keeps hex
        with self._sql() as conn:
            return int(conn.execute(query, (stored_id, version)).fetchone()[0])

    def state(self, notification_id: int) -> bytes:
        query = (
            "SELECT state FROM genai_events WHERE notification_id=%s"
            if self._pg
            else "SELECT state FROM stored_events WHERE rowid=?"
        )
        with self._sql() as conn:
            return bytes(conn.execute(query, (notification_id,)).fetchone()[0])

    def set_state(self, notification_id: int, state: bytes) -> None:
        query = (
            "UPDATE genai_events SET state=%s WHERE notification_id=%s"
            if self._pg
            else "UPDATE stored_events SET state=? WHERE rowid=?"
        )
        with self._sql() as conn:
            assert conn.execute(query, (state, notification_id)).rowcount == 1

    def delete(self, notification_id: int) -> None:
        query = (
            "DELETE FROM genai_events WHERE notification_id=%s"
            if self._pg
            else "DELETE FROM stored_events WHERE rowid=?"
        )
        with self._sql() as conn:
            assert conn.execute(query, (notification_id,)).rowcount == 1


def a_published_stack(gql: GQL) -> str:
    wf = build_pipeline(gql, name="Manual Q&A")
    gql(CONFIGURE, w=wf["id"], n="llm", c={"prompt": "Answer from {context}: {query}"})
    gql(PUBLISH, w=wf["id"], note="first")
    gql(RENAME, w=wf["id"], name="Manual Q&A, audited")
    return str(wf["id"])


def test_a_stack_built_through_graphql_verifies(
    gql: GQL, client: TestClient, settings: Settings
) -> None:
    a_published_stack(gql)
    services = client.app.state.services  # type: ignore[attr-defined]
    fully_chained(services)
    events = list(stored_events(services.event_log))
    head = SqlAuditChain(services.read_db).head()
    assert head is not None

    code, body = verdict(settings)
    assert code == 0
    assert body == {
        "ok": True,
        "verified": len(events),
        "lastNotificationId": events[-1].id,
        "lastHash": head.hash,
        "checkpoints": 0,
        "pending": 0,
        "finding": None,
    }
    words = audit_verify(settings)
    assert words.returncode == 0
    assert words.stdout.startswith(
        f"OK: {len(events)} events match the chain; last hash {head.hash}"
    )
    metrics = client.get("/metrics").text
    assert f"genai_audit_chained_notification_id {float(events[-1].id)}" in metrics


def test_an_altered_event_is_named(gql: GQL, client: TestClient, settings: Settings) -> None:
    workflow = a_published_stack(gql)
    fully_chained(client.app.state.services)  # type: ignore[attr-defined]
    table = EventTable(settings)
    altered = table.notification_id(workflow, 4)  # the LLM node added
    state = table.state(altered)
    assert b'"llm"' in state
    table.set_state(altered, state.replace(b'"llm"', b'"mal"'))

    code, body = verdict(settings)
    assert code == 1 and body["ok"] is False
    assert body["finding"] == {
        "problem": "altered",
        "notificationId": altered,
        "originatorId": workflow,
        "originatorVersion": 4,
        "topic": "domain.workflow:Workflow.NodeAdded",
        "detail": "the stored event does not match its hash (changed since it was chained)",
    }
    assert body["verified"] == altered - 1
    words = audit_verify(settings)
    assert words.returncode == 1
    assert words.stdout.splitlines()[0] == (
        f"FAILED: event altered at notification {altered}: Workflow.NodeAdded of aggregate "
        f"{workflow}, version 4"
    )


def test_a_deleted_event_is_named_as_removed(
    gql: GQL, client: TestClient, settings: Settings
) -> None:
    workflow = a_published_stack(gql)
    fully_chained(client.app.state.services)  # type: ignore[attr-defined]
    table = EventTable(settings)
    removed = table.notification_id(workflow, 6)
    table.delete(removed)

    code, body = verdict(settings)
    assert code == 1
    assert body["finding"]["problem"] == "removed"
    assert (body["finding"]["notificationId"], body["finding"]["originatorId"]) == (
        removed,
        workflow,
    )
    assert body["finding"]["originatorVersion"] == 6
    assert "FAILED: event removed at notification" in audit_verify(settings).stdout


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
def test_an_event_slipped_into_a_gap_is_named_as_inserted(
    gql: GQL, client: TestClient, settings: Settings
) -> None:
    a_published_stack(gql)
    # a notification id taken and never used, as a failed insert leaves one
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        (gap,) = conn.execute("SELECT nextval('genai_events_notification_id_seq')").fetchone()
    later = a_published_stack(gql)
    fully_chained(client.app.state.services)  # type: ignore[attr-defined]
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO genai_events (originator_id, originator_version, topic, state, notification_id)"
            " SELECT originator_id, 99, topic, state, %s FROM genai_events"
            " WHERE originator_id=%s AND originator_version=2",
            (gap, later),
        )

    code, body = verdict(settings)
    assert code == 1
    assert body["finding"]["problem"] == "inserted"
    assert (body["finding"]["notificationId"], body["finding"]["originatorId"]) == (gap, later)
    assert body["finding"]["originatorVersion"] == 99
    assert body["verified"] == gap - 1


def test_the_chain_resumes_where_it_stopped(settings: Settings) -> None:
    services = bootstrap(settings)
    try:
        wf = services.workflows.create(CreateWorkflow(actor="tester", name="Resumed"))
        for i in range(6):
            services.workflows.add_node(
                AddNode(
                    actor="tester",
                    workflow_id=wf.id,
                    node_id=f"q{i}",
                    kind="USER_QUERY",
                    position=Position(i, 0),
                )
            )
        assert services.audit.catch_up(limit=3) == 3
    finally:
        services.stop()  # as a process that stopped part way
    services = bootstrap(settings)
    try:
        assert services.audit.catch_up() == 4
        assert SqlAuditChain(services.read_db).length() == 7
    finally:
        services.stop()
    code, body = verdict(settings)
    assert (code, body["verified"], body["pending"]) == (0, 7, 0)


def _history(settings: Settings, moves: int) -> None:
    services = bootstrap(settings)
    try:
        flows = services.workflows
        wf = flows.create(CreateWorkflow(actor="tester", name="Audited"))
        on = {"actor": "tester", "workflow_id": wf.id, "node_id": "q"}
        flows.add_node(AddNode(**on, kind="USER_QUERY", position=Position(0, 0)))  # type: ignore[arg-type]
        for i in range(moves):
            flows.move_node(MoveNode(**on, position=Position(i, i)))  # type: ignore[arg-type]
    finally:
        services.stop()


def _projection_processes(settings: Settings, count: int, log_dir: Path) -> list[Any]:
    return [
        subprocess.Popen(
            [GENAI_STACK, "projections", "run"],
            env=cli_env(settings),
            stdout=(log_dir / f"projections-{i}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for i in range(count)
    ]


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgres"])
def test_processes_started_at_once_build_one_chain_and_a_new_one_resumes_it(
    settings: Settings, tmp_path: Path
) -> None:
    _history(settings, moves=40)
    engine = create_read_engine(settings.read_database_url(), 2)
    chain = SqlAuditChain(engine)
    processes = _projection_processes(settings, 3, tmp_path)
    try:
        wait_for(lambda: (h := chain.head()) is not None and h.notification_id >= 42, 90)
        for process in processes:
            process.kill()  # no goodbye: their locks go with their connections
            process.wait(10)
        _history(settings, moves=10)
        [restarted] = _projection_processes(settings, 1, tmp_path)
        processes.append(restarted)
        wait_for(lambda: (h := chain.head()) is not None and h.notification_id >= 54, 90)
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(15)
    assert chain.length() == 54
    engine.dispose()
    code, body = verdict(settings)
    assert (code, body["verified"], body["pending"]) == (0, 54, 0)


def test_a_chain_rewritten_to_hide_an_alteration_is_caught_by_its_checkpoints(
    settings: Settings,
) -> None:
    _history(settings, moves=10)
    services = bootstrap(settings)
    try:
        chain = SqlAuditChain(services.read_db, checkpoint_every=4)
        worker = AuditChainWorker(services.event_log, chain, services.watcher)
        assert worker.catch_up() == 12
        wf = services.event_log.recorder.select_notifications(start=1, limit=1)[0].originator_id
    finally:
        services.stop()
    code, body = verdict(settings)
    assert (code, body["verified"], body["checkpoints"]) == (0, 12, 3)

    # someone alters event 6 and recomputes every link after it to match
    table = EventTable(settings)
    state = table.state(6)  # the node moved to (3, 3)
    assert b'"x":3.0' in state
    table.set_state(6, state.replace(b'"x":3.0', b'"x":300.0'))
    store = EventLog(env=settings.event_store_env())
    rewritten = extend(None, stored_events(store))
    store.close()
    engine = create_read_engine(settings.read_database_url(), 1)
    with engine.begin() as conn:
        for link in rewritten:
            conn.execute(
                update(audit_chain).where(audit_chain.c.seq == link.seq).values(hash=link.hash)
            )
    engine.dispose()
    code, body = verdict(settings)
    assert code == 1
    assert body["finding"]["problem"] == "chain_altered"
    assert body["finding"]["notificationId"] == 8  # the first checkpoint after the change
    assert body["finding"]["originatorId"] == str(wf)
    assert "checkpoint 8 differs" in body["finding"]["detail"]
