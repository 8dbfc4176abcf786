"""Property: whatever happened to a workflow's documents (uploads, requests to index again,
outcomes of indexing, current or stale, removals; up to 400 events a document, across several
snapshot intervals), each load of a document, from its snapshot or not, is the document those
commands made, its status and settings of their own types; and a process that never held the
documents in memory shows them the same through the GraphQL API (`document`,
`Workflow.documents`, whose table its projection fills from loads at each version) whether it
loads from snapshots or replays every event."""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from application.eventstore import SNAPSHOT_EVERY
from domain.document import Document, DocumentStatus, IndexSettings, Stage
from domain.errors import DomainError
from domain.graph import Position
from tests.integration.documents_client import DOCUMENT_FIELDS
from tests.integration.reopen import (
    MAX_EVENTS,
    OnAFreshStore,
    assert_same_json,
    both_ways,
    expected_snapshots,
    run_on,
    snapshot_versions,
)

ACTOR, INGESTION = "tester", "ingestion"
FIELDS = f"{DOCUMENT_FIELDS} contentType sha256 updatedAt"
DOCUMENT = f"query($id: UUID!) {{ document(id: $id) {{ {FIELDS} }} }}"
LISTED = f"query($w: UUID!) {{ workflow(id: $w) {{ documents {{ {FIELDS} }} }} }}"

reasons = (
    st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=1200)
    .map(str.strip)
    .filter(bool)
)


@dataclass
class Doc:
    """A document as its commands made it."""

    id: UUID
    version: int
    settings: IndexSettings
    status: str = "PENDING"
    generation: int = 1
    page_count: int | None = None
    chunk_count: int | None = None
    embedding_model: str | None = None
    failed_stage: str | None = None
    error: str | None = None
    shown: dict[str, Any] = field(default_factory=dict)

    def api(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "status": self.status,
            "pageCount": self.page_count,
            "chunkCount": self.chunk_count,
            "embeddingModel": self.embedding_model,
            "failedStage": self.failed_stage,
            "error": self.error,
        }


class DocumentHistory(OnAFreshStore):
    def __init__(self) -> None:
        super().__init__()
        container = self.builder.container
        assert container.documents is not None
        self.documents, self.store = container.documents, container.store
        workflows = container.workflows
        self.workflow_id = workflows.create("Manuals", "", ACTOR).id
        workflows.add_node(self.workflow_id, "kb", "KNOWLEDGE_BASE", Position(0, 0), ACTOR)
        self.docs: list[Doc] = []
        self.upload(0)

    def live(self) -> list[Doc]:
        return [d for d in self.docs if d.status != "REMOVED" and d.version < MAX_EVENTS]

    def changed(self, doc: Doc, **state: Any) -> None:
        for name, value in state.items():
            setattr(doc, name, value)
        doc.version += 1

    # ---------------------------------------------------------------- what happens

    @precondition(lambda self: len(self.docs) < 3)
    @rule(n=st.integers(0, 10**6))
    def upload(self, n: int) -> None:
        content = b"%PDF-1.4\n" + f"document {len(self.docs)} {n}".encode()
        view = self.documents.upload(
            self.workflow_id, "kb", f"manual {len(self.docs)}.pdf", io.BytesIO(content), ACTOR
        )
        self.docs.append(Doc(view.id, 1, view.settings))

    @initialize(data=st.data(), cycles=st.integers(50, 150))
    def a_long_life(self, data: st.DataObject, cycles: int) -> None:
        """The first document goes past a snapshot or three before anything else happens."""
        succeed = data.draw(st.lists(st.booleans(), min_size=cycles, max_size=cycles))
        self.index_again_and_again(data, succeed)

    @precondition(lambda self: self.live())
    @rule(data=st.data(), succeed=st.lists(st.booleans(), min_size=1, max_size=25))
    def index_again_and_again(self, data: st.DataObject, succeed: list[bool]) -> None:
        """Asks to index again and records an outcome, once for each of `succeed`: a
        success or a failure."""
        doc = data.draw(st.sampled_from(self.live()))
        for ok in succeed:
            if doc.version + 2 > MAX_EVENTS:
                return
            self.reindex(doc)
            if ok:
                self.indexed(doc, doc.generation, data.draw(st.integers(0, 400)))
            else:
                self.failed(doc, doc.generation, data.draw(st.sampled_from(list(Stage))), "boom")

    @precondition(lambda self: self.live())
    @rule(data=st.data(), chunk_size=st.integers(100, 8000))
    def settings_change(self, data: st.DataObject, chunk_size: int) -> None:
        """A knowledge base's settings changed: only a document they give other vectors is
        asked to index again."""
        doc = data.draw(st.sampled_from(self.live()))
        wanted = replace(doc.settings, chunk_size=chunk_size)
        self.documents.request_reindex(doc.id, wanted, "settings changed", INGESTION)
        if not doc.settings.same_vectors(wanted):
            self.changed(doc, generation=doc.generation + 1, settings=wanted, **pending_outcome())

    @precondition(lambda self: self.live())
    @rule(
        data=st.data(),
        stale=st.booleans(),
        pages=st.integers(0, 400),
        success=st.booleans(),
        reason=reasons,
    )
    def outcome(
        self, data: st.DataObject, stale: bool, pages: int, success: bool, reason: str
    ) -> None:
        """The ingestion's word on a request: the current one, or one already superseded."""
        doc = data.draw(st.sampled_from(self.live()))
        generation = doc.generation - 1 if stale else doc.generation
        if success:
            self.indexed(doc, generation, pages)
        else:
            self.failed(doc, generation, data.draw(st.sampled_from(list(Stage))), reason)

    @precondition(lambda self: self.live())
    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        doc = data.draw(st.sampled_from(self.live()))
        self.documents.remove(doc.id, ACTOR)
        self.changed(doc, status="REMOVED")

    @rule(data=st.data())
    def command_a_removed_document(self, data: st.DataObject) -> None:
        """Refused, or (an outcome that comes late) recorded as nothing."""
        removed = [d for d in self.docs if d.status == "REMOVED"]
        if not removed:
            return
        doc = data.draw(st.sampled_from(removed))
        with pytest.raises(DomainError):
            self.documents.reindex(doc.id, ACTOR, "asked for")
        self.documents.record_indexed(doc.id, doc.generation, 1, 1, "local/x", INGESTION)

    # ---------------------------------------------------------------- one command, as modelled

    def reindex(self, doc: Doc) -> None:
        view = self.documents.reindex(doc.id, ACTOR, "asked for")
        self.changed(
            doc, generation=doc.generation + 1, settings=view.settings, **pending_outcome()
        )

    def indexed(self, doc: Doc, generation: int, pages: int) -> None:
        self.documents.record_indexed(doc.id, generation, pages, pages * 2, "local/m", INGESTION)
        if generation == doc.generation and doc.status != "INDEXED":
            self.changed(
                doc,
                status="INDEXED",
                page_count=pages,
                chunk_count=pages * 2,
                embedding_model="local/m",
                failed_stage=None,
                error=None,
            )

    def failed(self, doc: Doc, generation: int, stage: Stage, reason: str) -> None:
        self.documents.record_failed(doc.id, generation, stage, reason, INGESTION)
        if generation == doc.generation and doc.status != "FAILED":
            self.changed(doc, status="FAILED", failed_stage=stage.value, error=reason[:1000])

    # ---------------------------------------------------------------- checks

    @invariant()
    def a_load_is_the_document_its_commands_made(self) -> None:
        for doc in self.docs:
            loaded = self.store.repository.get(doc.id)
            assert isinstance(loaded, Document) and loaded.version == doc.version
            assert type(loaded.status) is DocumentStatus and type(loaded.settings) is IndexSettings
            assert loaded.settings == doc.settings and loaded.generation == doc.generation
            assert {
                "id": str(loaded.id),
                "status": loaded.status.value,
                "pageCount": loaded.page_count,
                "chunkCount": loaded.chunk_count,
                "embeddingModel": loaded.embedding_model,
                "failedStage": loaded.failed_stage,
                "error": loaded.error,
            } == doc.api()

    def happened(self) -> bool:
        return any(d.version > 1 for d in self.docs)  # more than the upload

    def check_through_the_api(self) -> None:
        for doc in self.docs:
            assert snapshot_versions(self.store, doc.id) == expected_snapshots(
                doc.version, SNAPSHOT_EVERY
            )
        from_snapshots, replayed = both_ways(self.builder.settings, self.ask_the_api)
        assert_same_json(from_snapshots, replayed)
        for doc, shown in zip(self.docs, from_snapshots["documents"], strict=True):
            assert_same_json({k: shown[k] for k in doc.api()}, doc.api())
        listed = [d["id"] for d in from_snapshots["listed"]]
        assert sorted(listed) == sorted(str(d.id) for d in self.docs if d.status != "REMOVED")

    def ask_the_api(self, gql: Any) -> dict[str, Any]:
        return {
            "documents": [gql(DOCUMENT, id=str(d.id))["document"] for d in self.docs],
            "listed": gql(LISTED, w=str(self.workflow_id))["workflow"]["documents"],
        }


def pending_outcome() -> dict[str, Any]:
    return {
        "status": "PENDING",
        "page_count": None,
        "chunk_count": None,
        "failed_stage": None,
        "error": None,
    }


@pytest.mark.slow
def test_documents_read_the_same_from_their_snapshots_as_from_a_full_replay(
    backend: str,
) -> None:
    run_on(DocumentHistory, backend, examples=3, steps=40)
