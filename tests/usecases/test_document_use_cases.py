"""Document use cases on the in-memory log: an upload is stored and indexed by the ingestion
process (fake embedder, in-memory index), a removal takes its vectors, a failure is recorded."""

from __future__ import annotations

import io
from uuid import UUID

import pytest

from application.document import commands as d
from application.ports import UnsupportedMediaType
from application.workflow import commands as c
from domain.document import Document, DocumentStatus
from domain.errors import InvalidCommand
from domain.graph import Position
from domain.knowledge_base import IndexSettings
from interfaces.bootstrap import Services
from tests.pdfs import text_pdf
from tests.usecases.conftest import ACTOR

PDF = text_pdf(["Tidal power turns the energy of tides into electricity.", "It is predictable."])


def with_knowledge_base(app: Services, **config: object) -> UUID:
    wid = app.workflows.create(c.CreateWorkflow(name="Manuals", actor=ACTOR)).id
    app.workflows.add_node(
        c.AddNode(
            workflow_id=wid,
            node_id="kb",
            kind="KNOWLEDGE_BASE",
            position=Position(0, 0),
            config=config,
            actor=ACTOR,
        )
    )
    return wid


def upload(app: Services, wid: UUID, data: bytes = PDF) -> UUID:
    view = app.documents.upload(
        d.UploadDocument(
            workflow_id=wid, filename="tides.pdf", stream=io.BytesIO(data), actor=ACTOR
        )
    )
    return view.id


def ingest(app: Services, document_id: UUID) -> Document:
    """What the ingestion follower does on DocumentUploaded."""
    doc = app.documents.load(document_id)
    assert doc is not None
    app.ingestion.process(document_id, doc.settings.key, 1)
    after = app.documents.load(document_id)
    assert after is not None
    return after


def test_an_upload_is_stored_pending_and_the_same_file_again_is_the_same_document(
    app: Services,
) -> None:
    wid = with_knowledge_base(app)
    first = app.documents.upload(
        d.UploadDocument(workflow_id=wid, filename="tides.pdf", stream=io.BytesIO(PDF), actor=ACTOR)
    )
    assert (first.status, first.node_id, first.size_bytes) == (
        DocumentStatus.PENDING,
        "kb",
        len(PDF),
    )
    assert upload(app, wid) == first.id
    assert [type(e).__name__ for e in app.event_log.events.get(first.id)] == ["DocumentUploaded"]


def test_a_file_that_is_not_a_pdf_is_refused_and_nothing_stored(app: Services) -> None:
    wid = with_knowledge_base(app)
    with pytest.raises(UnsupportedMediaType):
        upload(app, wid, b"hello, not a pdf")
    assert list(app.event_log.aggregate_ids()) == [wid]  # the workflow only


def test_a_workflow_without_a_knowledge_base_takes_no_upload(app: Services) -> None:
    wid = app.workflows.create(c.CreateWorkflow(name="Bare", actor=ACTOR)).id
    with pytest.raises(InvalidCommand):
        upload(app, wid)


def test_ingestion_indexes_the_document_and_records_its_counts(app: Services) -> None:
    wid = with_knowledge_base(app)
    doc = ingest(app, upload(app, wid))
    [generation] = doc.indexes.values()
    assert generation.status is DocumentStatus.INDEXED
    assert generation.page_count == 1 and generation.chunk_count == 1
    assert generation.embedding_model == "local/all-MiniLM-L6-v2"
    assert app.index.count_model("local/all-MiniLM-L6-v2", {"document_id": str(doc.id)}) == 1
    assert type(list(app.event_log.events.get(doc.id))[-1]).__name__ == "DocumentIndexed"


def test_an_embedder_that_cannot_be_made_fails_the_document_at_embedding(app: Services) -> None:
    wid = with_knowledge_base(app, embedder="openai", embeddingModel="missing")
    doc = ingest(app, upload(app, wid))
    [generation] = doc.indexes.values()
    assert (generation.status, generation.failed_stage) == (DocumentStatus.FAILED, "embed")
    assert "missing" in (generation.error or "")
    assert app.index.collections == {}


def test_removing_a_document_records_it_and_its_vectors_go(app: Services) -> None:
    wid = with_knowledge_base(app)
    doc = ingest(app, upload(app, wid))
    app.documents.remove(d.RemoveDocument(document_id=doc.id, actor=ACTOR))
    app.ingestion.purge(doc.id)  # what the follower does on DocumentRemoved
    removed = app.documents.load(doc.id)
    assert removed is not None and removed.removed
    assert app.index.count_model("local/all-MiniLM-L6-v2", {"document_id": str(doc.id)}) == 0


def test_reindexing_a_failed_document_asks_for_its_settings_again(app: Services) -> None:
    wid = with_knowledge_base(app, embedder="openai", embeddingModel="missing")
    doc = ingest(app, upload(app, wid))
    app.workflows.configure_node(
        c.ConfigureNode(
            workflow_id=wid, node_id="kb", patch={"embeddingModel": "small"}, actor=ACTOR
        )
    )
    view = app.documents.reindex(d.ReindexDocument(document_id=doc.id, actor=ACTOR))
    assert view.settings == IndexSettings("openai", "small", 1000, 150)
    assert view.status is DocumentStatus.PENDING
