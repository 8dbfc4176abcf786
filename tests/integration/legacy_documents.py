"""A document as the version before index generations left it: its events in their old
shape in the log, its vectors in the old layout in the index, and the old ingestion's
position at the end of the log. Written through the stores' own interfaces (recorder,
vector index, tracking view), as that version would have."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import StoredEvent, Tracking
from starlette.testclient import TestClient

from application.ports import IndexedChunk
from domain.document import Document
from domain.knowledge_base import IndexSettings
from infrastructure.chunking import chunk_pages
from infrastructure.pdf import extract_pages
from infrastructure.vector_index import OWNER_KEY, OWNER_V1, TEXT_KEY, collection_name
from tests.fakes import FakeOpenAIServer, hashed_embedding

INDEXED_V1 = "domain.document:Document.DocumentIndexed"


def write_old_layout(index: Any, model: str, chunks: list[IndexedChunk]) -> None:
    """Chunks stored as the version before partitions did: in one collection per model,
    their text in the metadata (`index` is a ChromaVectorIndex, or the services' lazy one)."""
    collection = index._client.get_or_create_collection(
        name=collection_name(model),
        embedding_function=None,
        metadata={"hnsw:space": "cosine", "model_id": model, OWNER_KEY: OWNER_V1},
    )
    collection.upsert(
        ids=[c.id for c in chunks],
        embeddings=[c.embedding for c in chunks],
        metadatas=[{**c.metadata, TEXT_KEY: c.text} for c in chunks],
    )


def write_legacy_document(
    client: TestClient,
    workflow_id: str,
    node_id: str,
    data: bytes,
    knowledge_base: dict[str, Any],
    fake: FakeOpenAIServer,
    filename: str = "facts.pdf",
) -> str:
    """Stores an indexed document of `data` (embedded by `fake`) with the settings of the
    `knowledge_base` config; returns its id."""
    services = client.app.state.services  # type: ignore[attr-defined]
    store, documents = services.event_log, services.documents
    settings = IndexSettings.of_node(knowledge_base)
    blob = documents.blobs.put([data], len(data))
    document_id = uuid.uuid4()
    # DocumentUploaded has kept its shape: the class of today writes it as it was written
    uploaded = Document(
        id=document_id,
        workflow_id=uuid.UUID(workflow_id),
        node_id=node_id,
        filename=filename,
        content_type="application/pdf",
        size=blob.size,
        sha256=blob.key,
        blob_key=blob.key,
        settings=settings.to_dict(),
        actor="local",
    ).collect_events()[0]
    pages = extract_pages(io.BytesIO(data))
    chunks = chunk_pages(pages, settings.chunk_size, settings.chunk_overlap)
    model = f"openai/text-embedding-3-small@127.0.0.1:{fake.port}"
    indexed = StoredEvent(  # version 1: a `generation`, no key, no class_version
        originator_id=document_id,
        originator_version=2,
        topic=INDEXED_V1,
        state=store.mapper.transcoder.encode(
            {
                "timestamp": datetime.now(UTC),
                "generation": 1,
                "page_count": len(pages),
                "chunk_count": len(chunks),
                "embedding_model": model,
                "actor": "ingestion",
            }
        ),
    )
    store.recorder.insert_events([store.mapper.to_stored_event(uploaded), indexed])
    write_old_layout(
        services.index,
        model,
        [
            IndexedChunk(
                id=f"{document_id}:{c.index}",
                text=c.text,
                embedding=hashed_embedding(c.text, fake.embedding_dim),
                metadata={
                    "workflow_id": workflow_id,
                    "node_id": node_id,
                    "filename": filename,
                    "document_id": str(document_id),
                    "page": c.page,
                    "chunk": c.index,
                },
            )
            for c in chunks
        ],
    )
    # the server now starts again: it moves the vectors into their partitions
    services.index.upgrade_layout()
    # the old ingestion had followed the whole log
    ingestion = services.worker("ingestion").projection.view
    ingestion.insert_tracking(Tracking(store.name, store.max_notification_id()))
    return str(document_id)
