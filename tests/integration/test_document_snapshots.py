"""A Document's generations come back from a snapshot as a full replay gives them, types
included, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from application.document.views import DocumentView
from application.eventlog.log import EventLog
from domain.document import Document, DocumentStatus, Stage
from domain.knowledge_base import IndexSettings
from infrastructure.settings import Settings

LOCAL = IndexSettings("local", "all-MiniLM-L6-v2", 1000, 150)
SMALL = IndexSettings("openai", "", 500, 50, "http://x", api_key_ref="sec_1")


@pytest.fixture
def store(settings: Settings) -> Iterator[EventLog]:
    store = EventLog(env=settings.event_store_env())
    yield store
    store.close()


def test_a_documents_generations_load_from_its_snapshot_as_from_its_events(
    store: EventLog,
) -> None:
    doc = Document.upload(
        uuid.uuid4(), uuid.uuid4(), "kb", "a.pdf", "application/pdf", 9, "ab" * 32, SMALL, "ada",
        LOCAL,
    )  # fmt: skip
    doc.mark_indexed(LOCAL.key, 2, 3, 7, "local/all-MiniLM-L6-v2", "ingestion")
    doc.mark_failed(SMALL.key, 1, Stage.EMBED, "refused", "ingestion")
    store.save(doc)
    store.take_snapshot(doc.id)

    loaded = store.repository.get(doc.id)
    replayed = None
    for event in store.events.get(doc.id):
        replayed = event.mutate(replayed)

    assert isinstance(loaded, Document) and isinstance(replayed, Document)
    assert store.snapshots is not None and list(store.snapshots.get(doc.id))
    assert DocumentView.of(loaded).to_message() == DocumentView.of(replayed).to_message()
    for index in loaded.indexes.values():
        assert type(index.status) is DocumentStatus
        assert type(index.settings) is IndexSettings
    assert (loaded.draft, loaded.published) == (SMALL, LOCAL)
    assert loaded.status == DocumentStatus.FAILED
