"""Property: whatever happened to a workflow's documents (uploads, settings their knowledge
base asks for in the draft and the published version, requests to index again, outcomes of
indexing, current or stale, removals; up to 400 events a document, across several snapshot
intervals), each load of a document, from its snapshot or not, is the document those commands
made, its index generations of their own types; and a process that never held the documents
in memory shows them the same through the GraphQL API (`document`, `Workflow.documents`,
whose table its projection fills from loads at each version) whether it loads from snapshots
or replays every event."""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from application.document import commands as d
from application.eventlog.log import SNAPSHOT_EVERY
from application.workflow import commands as c
from domain.document import Document, DocumentIndex, DocumentStatus, Stage
from domain.errors import DomainError
from domain.graph import Position
from domain.knowledge_base import IndexSettings
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
# the most events one step of a rule records on a document: the settings asked for, two
# generations dropped, two requested, an outcome
ROOM = 6
INDEX_FIELDS = """key status pageCount chunkCount embeddingModel embedder chunkSize chunkOverlap
  failedStage error draft live"""
FIELDS = f"{DOCUMENT_FIELDS} contentType sha256 updatedAt indexes {{ {INDEX_FIELDS} }}"
DOCUMENT = f"query($id: UUID!) {{ document(id: $id) {{ {FIELDS} }} }}"
LISTED = f"query($w: UUID!) {{ workflow(id: $w) {{ documents {{ {FIELDS} }} }} }}"

reasons = (
    st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=1200)
    .map(str.strip)
    .filter(bool)
)


@dataclass
class Index:
    settings: IndexSettings
    request: int
    status: str = "PENDING"
    page_count: int | None = None
    chunk_count: int | None = None
    embedding_model: str | None = None
    failed_stage: str | None = None
    error: str | None = None


@dataclass
class Doc:
    """A document as its commands made it; the rules of generations, written out again."""

    id: UUID
    draft: IndexSettings | None
    published: IndexSettings | None = None
    version: int = 1
    requests: int = 1
    removed: bool = False
    indexes: dict[str, Index] = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert self.draft is not None
        self.indexes = {self.draft.key: Index(self.draft, 1)}

    @property
    def shown(self) -> IndexSettings:
        shown = self.draft or self.published
        assert shown is not None
        return shown

    def index_for(self, draft: IndexSettings | None, published: IndexSettings | None) -> list[str]:
        """What Document.index_for records (no API key changes here); the keys requested."""
        wanted: dict[str, IndexSettings] = {}
        for settings in (draft, published):
            if settings is not None and settings.key not in wanted:
                wanted[settings.key] = settings  # the draft's first: its API key wins
        if not wanted:
            return []
        to_request = [s for k, s in wanted.items() if k not in self.indexes]
        to_drop = [k for k in self.indexes if k not in wanted]
        if self.removed or (
            (draft, published) == (self.draft, self.published) and not to_request and not to_drop
        ):
            return []
        if (draft, published) != (self.draft, self.published):
            self.draft, self.published = draft, published
            self.version += 1
        for key in to_drop:
            del self.indexes[key]
            self.version += 1
        for settings in to_request:
            self.request(settings)
        return [s.key for s in to_request]

    def request(self, settings: IndexSettings) -> None:
        self.requests += 1
        self.indexes[settings.key] = Index(settings, self.requests)
        self.version += 1

    def outcome(self, key: str, request: int, status: str, **changes: Any) -> bool:
        index = self.indexes.get(key)
        if self.removed or index is None or index.request != request or index.status == status:
            return False
        self.indexes[key] = replace(index, status=status, **changes)
        self.version += 1
        return True

    def api(self) -> dict[str, Any]:
        shown = self.indexes.get(self.shown.key)
        status = "REMOVED" if self.removed else (shown.status if shown else "PENDING")
        return {
            "id": str(self.id),
            "status": status,
            "pageCount": shown.page_count if shown else None,
            "chunkCount": shown.chunk_count if shown else None,
            "embeddingModel": shown.embedding_model if shown else None,
            "failedStage": shown.failed_stage if shown else None,
            "error": shown.error if shown else None,
            "indexes": [
                {
                    "key": key,
                    "status": i.status,
                    "pageCount": i.page_count,
                    "chunkCount": i.chunk_count,
                    "embeddingModel": i.embedding_model,
                    "embedder": i.settings.embedder,
                    "chunkSize": i.settings.chunk_size,
                    "chunkOverlap": i.settings.chunk_overlap,
                    "failedStage": i.failed_stage,
                    "error": i.error,
                    "draft": self.draft is not None and key == self.draft.key,
                    "live": self.published is not None and key == self.published.key,
                }
                for key, i in self.indexes.items()
            ],
        }


class DocumentHistory(OnAFreshStore):
    def __init__(self) -> None:
        super().__init__()
        services = self.builder.services
        self.documents, self.store = services.documents, services.event_log
        workflows = services.workflows
        self.workflow_id = workflows.create(c.CreateWorkflow(name="Manuals", actor=ACTOR)).id
        workflows.add_node(
            c.AddNode(
                workflow_id=self.workflow_id,
                node_id="kb",
                kind="KNOWLEDGE_BASE",
                position=Position(0, 0),
                actor=ACTOR,
            )
        )
        self.asked = IndexSettings.of_node({})  # what the (never published) node asks for
        self.docs: list[Doc] = []
        self.upload(0)

    def live(self) -> list[Doc]:
        return [d for d in self.docs if not d.removed and d.version + ROOM <= MAX_EVENTS]

    # ---------------------------------------------------------------- what happens

    @precondition(lambda self: len(self.docs) < 3)
    @rule(n=st.integers(0, 10**6))
    def upload(self, n: int) -> None:
        content = b"%PDF-1.4\n" + f"document {len(self.docs)} {n}".encode()
        view = self.documents.upload(
            d.UploadDocument(
                actor=ACTOR,
                workflow_id=self.workflow_id,
                node_id="kb",
                filename=f"manual {len(self.docs)}.pdf",
                stream=io.BytesIO(content),
            )
        )
        assert view.settings == self.asked
        self.docs.append(Doc(view.id, self.asked))

    @initialize(data=st.data(), cycles=st.integers(50, 150))
    def a_long_life(self, data: st.DataObject, cycles: int) -> None:
        """The first document goes past a snapshot or three before anything else happens."""
        succeed = data.draw(st.lists(st.booleans(), min_size=cycles, max_size=cycles))
        self.index_again_and_again(data, succeed)

    @precondition(lambda self: self.live())
    @rule(data=st.data(), succeed=st.lists(st.booleans(), min_size=1, max_size=25))
    def index_again_and_again(self, data: st.DataObject, succeed: list[bool]) -> None:
        """Asks to index again and records an outcome for the generation shown, once for
        each of `succeed`: a success or a failure."""
        doc = data.draw(st.sampled_from(self.live()))
        for ok in succeed:
            if doc.version + ROOM > MAX_EVENTS:
                return
            self.reindex(doc)
            index = doc.indexes[doc.shown.key]
            if ok:
                self.indexed(doc, doc.shown.key, index.request, data.draw(st.integers(0, 400)))
            else:
                stage = data.draw(st.sampled_from(list(Stage)))
                self.failed(doc, doc.shown.key, index.request, stage, "boom")

    @precondition(lambda self: self.live())
    @rule(
        data=st.data(),
        draft=st.one_of(st.none(), st.integers(100, 8000)),
        published=st.one_of(st.none(), st.integers(100, 8000)),
    )
    def knowledge_base_asks(
        self, data: st.DataObject, draft: int | None, published: int | None
    ) -> None:
        """Its knowledge base asks for other settings in the draft (chunk size `draft`) and in
        the published version (chunk size `published`); None: the version has no such node."""
        doc = data.draw(st.sampled_from(self.live()))
        settings = [
            None if size is None else replace(self.asked, chunk_size=size)
            for size in (draft, published)
        ]
        self.documents.index_for(
            d.IndexFor(
                actor=INGESTION,
                document_id=doc.id,
                draft=settings[0],
                published=settings[1],
                reason="settings changed",
            )
        )
        doc.index_for(settings[0], settings[1])

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
        """The ingestion's word on a request of any generation: the current request, or one
        already superseded."""
        doc = data.draw(st.sampled_from(self.live()))
        key = data.draw(st.sampled_from([*doc.indexes, "0" * 12]))
        request = doc.indexes[key].request if key in doc.indexes else 1
        if stale:
            request -= 1
        if success:
            self.indexed(doc, key, request, pages)
        else:
            self.failed(doc, key, request, data.draw(st.sampled_from(list(Stage))), reason)

    @precondition(lambda self: self.live())
    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        doc = data.draw(st.sampled_from(self.live()))
        self.documents.remove(d.RemoveDocument(actor=ACTOR, document_id=doc.id))
        doc.removed = True
        doc.version += 1

    @rule(data=st.data())
    def command_a_removed_document(self, data: st.DataObject) -> None:
        """Refused, or (an outcome that comes late) recorded as nothing."""
        removed = [d for d in self.docs if d.removed]
        if not removed:
            return
        doc = data.draw(st.sampled_from(removed))
        with pytest.raises(DomainError):
            self.documents.reindex(d.ReindexDocument(actor=ACTOR, document_id=doc.id))
        key = next(iter(doc.indexes), "0" * 12)
        self.documents.record_indexed(
            d.RecordIndexed(
                actor=INGESTION,
                document_id=doc.id,
                key=key,
                request=doc.requests,
                page_count=1,
                chunk_count=1,
                embedding_model="local/x",
            )
        )

    # ---------------------------------------------------------------- one command, as modelled

    def reindex(self, doc: Doc) -> None:
        """As the panel's retry does: the generations the knowledge base asks for (the node
        as it is, never published), and the shown one indexed again unless just requested."""
        self.documents.reindex(d.ReindexDocument(actor=ACTOR, document_id=doc.id))
        requested = doc.index_for(self.asked, None)
        if doc.shown.key not in requested:  # shown as index_for left it
            doc.request(doc.shown)

    def indexed(self, doc: Doc, key: str, request: int, pages: int) -> None:
        self.documents.record_indexed(
            d.RecordIndexed(
                actor=INGESTION,
                document_id=doc.id,
                key=key,
                request=request,
                page_count=pages,
                chunk_count=pages * 2,
                embedding_model="local/m",
            )
        )
        doc.outcome(
            key,
            request,
            "INDEXED",
            page_count=pages,
            chunk_count=pages * 2,
            embedding_model="local/m",
            failed_stage=None,
            error=None,
        )

    def failed(self, doc: Doc, key: str, request: int, stage: Stage, reason: str) -> None:
        self.documents.record_failed(
            d.RecordFailed(
                actor=INGESTION,
                document_id=doc.id,
                key=key,
                request=request,
                stage=stage,
                reason=reason,
            )
        )
        doc.outcome(
            key,
            request,
            "FAILED",
            page_count=None,
            chunk_count=None,
            failed_stage=stage.value,
            error=reason.strip()[:1000],
        )

    # ---------------------------------------------------------------- checks

    @invariant()
    def a_load_is_the_document_its_commands_made(self) -> None:
        for doc in self.docs:
            loaded = self.store.repository.get(doc.id)
            assert isinstance(loaded, Document) and loaded.version == doc.version
            assert (loaded.draft, loaded.published) == (doc.draft, doc.published)
            assert (loaded.requests, loaded.removed) == (doc.requests, doc.removed)
            for settings in (loaded.draft, loaded.published):
                assert settings is None or type(settings) is IndexSettings
            assert list(loaded.indexes) == list(doc.indexes)
            for key, index in loaded.indexes.items():
                assert type(index) is DocumentIndex and type(index.status) is DocumentStatus
                assert type(index.settings) is IndexSettings
                expected = doc.indexes[key]
                assert (index.settings, index.request, index.status.value) == (
                    expected.settings,
                    expected.request,
                    expected.status,
                )

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
        assert sorted(listed) == sorted(str(d.id) for d in self.docs if not d.removed)

    def ask_the_api(self, gql: Any) -> dict[str, Any]:
        return {
            "documents": [gql(DOCUMENT, id=str(d.id))["document"] for d in self.docs],
            "listed": gql(LISTED, w=str(self.workflow_id))["workflow"]["documents"],
        }


@pytest.mark.slow
def test_documents_read_the_same_from_their_snapshots_as_from_a_full_replay(
    backend: str,
) -> None:
    run_on(DocumentHistory, backend, examples=3, steps=40)
