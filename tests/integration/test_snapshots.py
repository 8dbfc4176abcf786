"""Long-lived aggregates are loaded from a snapshot plus the events after it, to the same
state a full replay gives, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from application.eventstore import SNAPSHOT_EVERY, EventStore
from domain.chat import ChatSession
from domain.components import NodeKind
from domain.graph import Position
from domain.workflow import Workflow
from infrastructure.settings import Settings


@pytest.fixture
def store(settings: Settings) -> Iterator[EventStore]:
    store = EventStore(env=settings.event_store_env())
    yield store
    store.close()


def full_replay(store: EventStore, aggregate_id: uuid.UUID) -> Any:
    aggregate = None
    for event in store.events.get(aggregate_id):
        aggregate = event.mutate(aggregate)
    return aggregate


def snapshot_versions(store: EventStore, aggregate_id: uuid.UUID) -> list[int]:
    assert store.snapshots is not None
    return [s.originator_version for s in store.snapshots.get(aggregate_id)]


def test_a_long_chat_loads_from_its_snapshot_with_its_waiting_questions(
    store: EventStore,
) -> None:
    chat = ChatSession.start(uuid.uuid4(), 1, "local")
    while chat.version < SNAPSHOT_EVERY + 5:
        question = chat.ask(uuid.uuid4(), f"question {chat.version}", "local")
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
        assert copy.pending[0].asked_at == chat.pending[0].asked_at


def test_a_long_edited_workflow_loads_from_its_snapshot(store: EventStore) -> None:
    workflow = Workflow.create("Long lived", "", "local")
    workflow.add_node("q", NodeKind.USER_QUERY.value, Position(0, 0), "local")
    workflow.add_node(
        "llm", NodeKind.LLM_ENGINE.value, Position(1, 0), "local", config={"provider": "extractive"}
    )
    workflow.connect("e1", "q", "llm", "local")
    store.save(workflow)
    while workflow.version < SNAPSHOT_EVERY + 3:
        workflow.move_node("q", Position(workflow.version, 2.5), "local")
        store.save(workflow)

    assert snapshot_versions(store, workflow.id) == [SNAPSHOT_EVERY]
    loaded = store.repository.get(workflow.id)
    assert loaded.version == workflow.version
    assert loaded.nodes == workflow.nodes == full_replay(store, workflow.id).nodes
    assert loaded.edges == workflow.edges
