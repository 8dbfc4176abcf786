"""Long-lived aggregates load from a snapshot plus the events after it, to the state a full
replay gives, of the same types; a store holding snapshots an older version wrote (a node's
kind as a plain string, an undecodable state, an older layout) still opens, loads by replay
and says so once; `genai-stack snapshots rebuild` rewrites them. On SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eventsourcing.application import project_aggregate
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent
from starlette.testclient import TestClient

from application.eventlog.log import SNAPSHOT_EVERY, EventLog
from application.eventlog.transcodings import dataclass_transcoding
from domain.chat import ChatSession
from domain.components import NodeKind
from domain.document import Document, DocumentIndex, DocumentStatus, Stage
from domain.graph import Edge, Node, Position
from domain.knowledge_base import IndexSettings
from domain.workflow import PublishedVersion, Workflow
from infrastructure.settings import Settings
from infrastructure.snapshots import snapshot_deleter
from interfaces.app import create_app
from tests.integration.gql import GQL
from tests.integration.servers import GENAI_STACK
from tests.integration.workflow_ops import DIFF, GET, PUBLISH, ROLLBACK

ACTOR = "local"


@pytest.fixture
def store(settings: Settings) -> Iterator[EventLog]:
    store = EventLog(env=settings.event_store_env())
    yield store
    store.close()


def full_replay(store: EventLog, aggregate_id: uuid.UUID) -> Any:
    aggregate = None
    for event in store.events.get(aggregate_id):
        aggregate = event.mutate(aggregate)
    return aggregate


def snapshot_versions(store: EventLog, aggregate_id: uuid.UUID) -> list[int]:
    assert store.snapshots is not None
    return [s.originator_version for s in store.snapshots.get(aggregate_id)]


def long_workflow(store: EventLog, events: int = SNAPSHOT_EVERY + 3) -> Workflow:
    """A publishable workflow, published once, whose User Query was then dragged about."""
    workflow = Workflow.create("Long lived", "", ACTOR)
    for node_id, kind, x in (
        ("q", "USER_QUERY", 0),
        ("llm", "LLM_ENGINE", 1),
        ("out", "OUTPUT", 2),
    ):
        workflow.add_node(node_id, kind, Position(x, 0), ACTOR)
    workflow.connect("e1", "q", "llm", ACTOR)
    workflow.connect("e2", "llm", "out", ACTOR)
    workflow.publish("first", ACTOR)
    store.save(workflow)
    while workflow.version < events:
        workflow.move_node("q", Position(workflow.version, 2.5), ACTOR)
        store.save(workflow)
    return workflow


def assert_typed_workflow(workflow: Workflow) -> None:
    for n in [*workflow.nodes.values(), *(n for p in workflow.published for n in p.nodes)]:
        assert type(n.kind) is NodeKind and type(n.position) is Position
        assert type(n.position.x) is float
    for p in workflow.published:
        assert type(p.nodes) is tuple and type(p.edges) is tuple
        assert all(type(e) is Edge for e in p.edges)


def rewrite_snapshots(store: EventLog, aggregate_id: uuid.UUID, change: Callable[..., Any]) -> None:
    """Replaces the aggregate's snapshots by what `change(stored snapshot)` makes of them."""
    assert store.snapshots is not None
    recorder = store.snapshots.recorder
    stored = list(recorder.select_events(aggregate_id))
    assert stored, "the aggregate has snapshots to rewrite"
    snapshot_deleter(recorder)(aggregate_id)
    recorder.insert_events([change(s) for s in stored])


def as_the_broken_version_wrote_it(store: EventLog) -> Callable[[StoredEvent], StoredEvent]:
    """Its encoder wrote string enums (a node's kind) as plain strings."""
    old = JSONTranscoder()
    for t in store.mapper.transcoder.types.values():  # type: ignore[attr-defined]
        if t.type not in (NodeKind, DocumentStatus, Stage, IndexSettings, DocumentIndex):
            old.register(t)
    for value_object in (Position, Node, Edge, PublishedVersion):
        old.register(dataclass_transcoding(value_object))
    old_mapper: Mapper[uuid.UUID] = Mapper(transcoder=old)

    def rewrite(stored: StoredEvent) -> StoredEvent:
        written = old_mapper.to_stored_event(store.mapper.to_domain_event(stored))
        assert b'"kind":"USER_QUERY"' in written.state
        return written

    return rewrite


def with_state(store: EventLog, change: Callable[[dict[str, Any]], None]) -> Callable[..., Any]:
    def rewrite(stored: StoredEvent) -> StoredEvent:
        snapshot = store.mapper.to_domain_event(stored)
        change(snapshot.state)  # type: ignore[attr-defined]
        return store.mapper.to_stored_event(snapshot)

    return rewrite


def ignored(caplog: pytest.LogCaptureFixture, aggregate_id: uuid.UUID) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if f"snapshot of {aggregate_id}" in r.getMessage()
    ]


# ---------------------------------------------------------------- loads from snapshots


def test_a_long_chat_loads_from_its_snapshot_with_its_waiting_questions(
    store: EventLog,
) -> None:
    chat = ChatSession.start(uuid.uuid4(), 1, ACTOR)
    while chat.version < SNAPSHOT_EVERY + 5:
        question = chat.ask(uuid.uuid4(), f"question {chat.version}", ACTOR)
        if chat.version % 7:  # some stay waiting, across the snapshot
            chat.answer(question.id, "an answer", [], "extractive", {}, 12, "answerer")
        store.save(chat)

    assert snapshot_versions(store, chat.id) == [SNAPSHOT_EVERY]
    loaded = store.repository.get(chat.id)
    replayed = full_replay(store, chat.id)
    for copy in (loaded, replayed):
        assert copy.version == chat.version
        assert copy.pending == chat.pending and copy.pending
        assert (copy.answered, copy.failed) == (chat.answered, chat.failed)
        assert all(type(q.id) is uuid.UUID for q in copy.pending)
        assert copy.pending[0].asked_at == chat.pending[0].asked_at


def test_a_snapshot_taken_at_a_save_holds_what_a_replay_of_the_recorded_events_gives(
    store: EventLog,
) -> None:
    """The snapshot due at a save is taken from the aggregate just saved, not reloaded from
    the log as the library does: its state is, byte for byte, that of the library's snapshot
    of a full replay of the events recorded up to it."""
    chat = ChatSession.start(uuid.uuid4(), 1, ACTOR)
    while chat.version < SNAPSHOT_EVERY + 2:
        question = chat.ask(uuid.uuid4(), f"question {chat.version}", ACTOR)
        if chat.version % 3:
            chat.answer(question.id, "an answer", [], "extractive", {}, 12, "answerer")
        store.save(chat)
    workflow = long_workflow(store)
    assert store.snapshots is not None
    encode = store.mapper.transcoder.encode
    for aggregate in (chat, workflow):
        (stored,) = store.snapshots.recorder.select_events(aggregate.id)
        taken = store.mapper.to_domain_event(stored)
        replayed = project_aggregate(None, store.events.get(aggregate.id, lte=SNAPSHOT_EVERY))
        assert replayed is not None
        expected = Snapshot.take(replayed)
        assert taken.originator_version == expected.originator_version == SNAPSHOT_EVERY
        assert encode(taken.state) == encode(expected.state)  # type: ignore[attr-defined]


def test_a_long_edited_workflow_loads_from_its_snapshot_with_its_types(store: EventLog) -> None:
    workflow = long_workflow(store)

    assert snapshot_versions(store, workflow.id) == [SNAPSHOT_EVERY]
    loaded = store.repository.get(workflow.id)
    earlier = store.repository.get(workflow.id, version=SNAPSHOT_EVERY + 1)
    assert loaded.version == workflow.version and earlier.version == SNAPSHOT_EVERY + 1
    for copy in (loaded, earlier):
        assert_typed_workflow(copy)
    assert [n.to_dict() for n in loaded.nodes.values()] == [
        n.to_dict() for n in full_replay(store, workflow.id).nodes.values()
    ]


SETTINGS = IndexSettings("local", "", 1000, 150)


def retried_document(store: EventLog, events: int, sha256: str) -> Document:
    """A document indexed again and again, each try failing, saved a few events at a time."""
    doc = Document.upload(
        uuid.uuid4(), uuid.uuid4(), "kb", "a.pdf", "application/pdf", 10, sha256, SETTINGS, ACTOR
    )
    store.save(doc)
    while doc.version < events:
        index = doc.reindex("again", ACTOR)
        doc.mark_failed(index.key, index.request, Stage.EMBED, "no key", "ingestion")
        store.save(doc)
    return doc


def test_a_document_past_a_hundred_events_is_snapshotted_and_loads_with_its_types(
    store: EventLog,
) -> None:
    doc = retried_document(store, SNAPSHOT_EVERY + 2, "a" * 64)

    assert snapshot_versions(store, doc.id) == [SNAPSHOT_EVERY]
    loaded = store.repository.get(doc.id)
    [index] = loaded.indexes.values()
    assert type(loaded.draft) is IndexSettings and type(index) is DocumentIndex
    assert type(index.status) is DocumentStatus and type(index.settings) is IndexSettings
    assert (loaded.status, index.failed_stage, loaded.requests) == (
        DocumentStatus.FAILED,
        "embed",
        doc.requests,
    )


# ---------------------------------------------------------------- snapshots of older versions


def test_a_workflow_whose_snapshot_the_broken_version_wrote_opens_diffs_rolls_back_and_publishes(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    store = EventLog(env=settings.event_store_env())
    workflow = long_workflow(store, events=2 * SNAPSHOT_EVERY + 5)
    rewrite_snapshots(store, workflow.id, as_the_broken_version_wrote_it(store))
    store.close()
    w, last = str(workflow.id), workflow.version

    with TestClient(create_app(settings)) as client:
        gql = GQL(client)
        now = gql(GET, w=w)["workflow"]
        assert now["version"] == last and {n["kind"] for n in now["nodes"]} == {
            "USER_QUERY",
            "LLM_ENGINE",
            "OUTPUT",
        }
        # at version v the User Query stands where the move to v put it: x = v - 1
        assert gql(GET, w=w, v=SNAPSHOT_EVERY + 1)["workflow"]["nodes"][0]["position"] == {
            "x": float(SNAPSHOT_EVERY),
            "y": 2.5,
        }
        moved = gql(DIFF, w=w, a=SNAPSHOT_EVERY - 1, b=2 * SNAPSHOT_EVERY + 1)["workflowDiff"]
        assert [n["id"] for n in moved["changedNodes"]] == ["q"]
        rolled = gql(ROLLBACK, w=w, v=SNAPSHOT_EVERY + 1)["rollbackWorkflow"]
        assert rolled["nodes"][0]["position"]["x"] == float(SNAPSHOT_EVERY)
        assert gql(PUBLISH, w=w, note="again")["publishWorkflow"]["number"] == 2
    assert not ignored(caplog, workflow.id)  # it decodes, to the real types


@pytest.mark.parametrize(
    "breakage",
    ["undecodable", "unknown value", "older layout", "before undo"],
)
def test_a_snapshot_that_cannot_be_trusted_is_ignored_replayed_and_reported_once(
    store: EventLog, caplog: pytest.LogCaptureFixture, breakage: str
) -> None:
    workflow = long_workflow(store, events=SNAPSHOT_EVERY + 10)

    def undecodable(stored: StoredEvent) -> StoredEvent:
        return StoredEvent(stored.originator_id, stored.originator_version, stored.topic, b"{")

    def unknown_value(stored: StoredEvent) -> StoredEvent:
        state = stored.state.replace(b'"_data_":"USER_QUERY"', b'"_data_":"USER_QUESTION"')
        assert state != stored.state
        return StoredEvent(stored.originator_id, stored.originator_version, stored.topic, state)

    change = {
        "undecodable": undecodable,
        "unknown value": unknown_value,
        "older layout": with_state(store, lambda state: state.pop("published")),
        "before undo": with_state(store, lambda state: state.pop("undo_steps")),
    }[breakage]
    rewrite_snapshots(store, workflow.id, change)

    caplog.set_level(logging.WARNING, logger="application.eventlog.snapshots")
    for _ in range(3):
        loaded = store.repository.get(workflow.id)
        earlier = store.repository.get(workflow.id, version=SNAPSHOT_EVERY + 2)
        assert loaded.version == workflow.version and earlier.version == SNAPSHOT_EVERY + 2
        assert [p.number for p in loaded.published] == [1]
        assert_typed_workflow(loaded)
        assert loaded.nodes["q"].position == Position(SNAPSHOT_EVERY + 9, 2.5)
        assert loaded.undo_steps == workflow.undo_steps  # as the replay derives them
    [line] = ignored(caplog, workflow.id)
    assert f"at version {SNAPSHOT_EVERY} ignored" in line and "\n" not in line
    assert not any(r.exc_info for r in caplog.records)


def as_before_generations(state: dict[str, Any]) -> None:
    """A document's state as it was before index generations: one status, one generation."""
    for name in ("draft", "published", "requests", "indexes", "removed"):
        del state[name]
    state.update(status="FAILED", generation=50, settings=SETTINGS, failed_stage="embed")


@pytest.mark.parametrize(
    "change",
    [as_before_generations, lambda state: state.update(requests=str(state["requests"]))],
    ids=["layout before generations", "a count as a string"],
)
def test_a_document_snapshot_of_another_layout_is_not_trusted(
    store: EventLog, caplog: pytest.LogCaptureFixture, change: Callable[..., None]
) -> None:
    doc = retried_document(store, SNAPSHOT_EVERY + 1, "b" * 64)
    rewrite_snapshots(store, doc.id, with_state(store, change))

    caplog.set_level(logging.WARNING, logger="application.eventlog.snapshots")
    for version in (SNAPSHOT_EVERY, None):  # the snapshot's own state, and after it
        loaded = store.repository.get(doc.id, version=version)
        assert type(loaded.requests) is int and type(loaded.draft) is IndexSettings
        assert all(type(i.status) is DocumentStatus for i in loaded.indexes.values())
    assert loaded.requests == doc.requests and loaded.status == DocumentStatus.FAILED
    assert len(ignored(caplog, doc.id)) == 1


def test_snapshots_rebuild_rewrites_every_aggregates_snapshots_from_a_full_replay(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    store = EventLog(env=settings.event_store_env())
    broken = long_workflow(store, events=2 * SNAPSHOT_EVERY + 1)
    rewrite_snapshots(store, broken.id, with_state(store, lambda s: s.pop("nodes")))
    unsnapshotted = long_workflow(store, events=SNAPSHOT_EVERY + 1)
    assert store.snapshots is not None
    snapshot_deleter(store.snapshots.recorder)(unsnapshotted.id)
    short = long_workflow(store, events=10)
    chat = ChatSession.start(uuid.uuid4(), 1, ACTOR)
    while chat.version < SNAPSHOT_EVERY:
        chat.ask(uuid.uuid4(), "and?", ACTOR)
    store.save(chat)
    store.close()

    env = {
        **os.environ,
        "GENAI_DATA_DIR": str(settings.genai_data_dir),
        **({"DATABASE_URL": settings.database_url} if settings.database_url else {}),
    }
    done = subprocess.run(
        [GENAI_STACK, "snapshots", "rebuild"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "ChatSession: replayed 1, snapshots written 1",
        "Workflow: replayed 3, snapshots written 3",
        "snapshots deleted: 3",
    ]

    store = EventLog(env=settings.event_store_env())
    try:
        caplog.set_level(logging.WARNING, logger="application.eventlog.snapshots")
        caplog.clear()
        expected = {
            broken.id: [SNAPSHOT_EVERY, 2 * SNAPSHOT_EVERY],
            unsnapshotted.id: [SNAPSHOT_EVERY],
            short.id: [],
            chat.id: [SNAPSHOT_EVERY],
        }
        for aggregate_id, versions in expected.items():
            assert snapshot_versions(store, aggregate_id) == versions
            loaded = store.repository.get(aggregate_id)
            replayed = full_replay(store, aggregate_id)
            assert loaded.version == replayed.version
            if isinstance(loaded, Workflow):
                assert_typed_workflow(loaded)
                assert [n.to_dict() for n in loaded.nodes.values()] == [
                    n.to_dict() for n in replayed.nodes.values()
                ]
        assert not caplog.records
    finally:
        store.close()
