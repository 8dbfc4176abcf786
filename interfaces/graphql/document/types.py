"""The GraphQL types of a document and its index generations, mapped from the application's
DocumentView field by field."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from application.document.views import DocumentProgress as ProgressView
from application.document.views import DocumentView
from domain import document

DocumentStatus = strawberry.enum(document.DocumentStatus, name="DocumentStatus")


@strawberry.type(description="How far the indexing of a pending document is (live only).")
class DocumentProgress:
    stage: str = strawberry.field(
        description="extracting, loading (the embedding model, on its first use) or embedding"
    )
    index_key: str | None = strawberry.field(
        description="The generation being built (DocumentIndex.key)."
    )
    pages_extracted: int
    page_total: int
    chunks_embedded: int
    chunk_total: int | None
    fraction: float = strawberry.field(description="From 0 to 1, for a progress bar.")

    @classmethod
    def of(cls, p: ProgressView) -> DocumentProgress:
        return cls(
            stage=p.stage,
            index_key=p.index_key,
            pages_extracted=p.pages_extracted,
            page_total=p.page_total,
            chunks_embedded=p.chunks_embedded,
            chunk_total=p.chunk_total,
            fraction=p.fraction,
        )


@strawberry.type(
    description="One generation of a document's index: its chunks and vectors under one set "
    "of Knowledge Base settings. A document has one for the draft's settings and one for the "
    "published version's, when they differ."
)
class DocumentIndex:
    key: str = strawberry.field(
        description="A fingerprint of what decides the vectors: embedder, model, chunk size, "
        "overlap, base URL (not the API key)."
    )
    status: DocumentStatus = strawberry.field(description="PENDING, INDEXED or FAILED.")
    page_count: int | None
    chunk_count: int | None
    embedding_model: str | None
    embedder: str
    chunk_size: int
    chunk_overlap: int
    failed_stage: str | None
    error: str | None
    draft: bool = strawberry.field(description="The draft's Knowledge Base settings make it.")
    live: bool = strawberry.field(description="The published version answers from it.")

    @classmethod
    def of(cls, d: DocumentView, index: document.DocumentIndex) -> DocumentIndex:
        return cls(
            key=index.key,
            status=index.status,
            page_count=index.page_count,
            chunk_count=index.chunk_count,
            embedding_model=index.embedding_model,
            failed_stage=index.failed_stage,
            error=index.error,
            embedder=index.settings.embedder,
            chunk_size=index.settings.chunk_size,
            chunk_overlap=index.settings.chunk_overlap,
            draft=d.is_draft(index),
            live=d.is_live(index),
        )


@strawberry.type
class Document:
    id: UUID
    workflow_id: UUID
    node_id: str | None
    filename: str
    size_bytes: int
    status: DocumentStatus
    page_count: int | None
    chunk_count: int | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    content_type: str
    sha256: str
    embedding_model: str | None = strawberry.field(
        description="The vector space of the document's vectors, e.g. local/all-MiniLM-L6-v2."
    )
    failed_stage: str | None = strawberry.field(
        description="Where indexing failed: read, extract, chunk, embed or index."
    )
    progress: DocumentProgress | None = strawberry.field(
        description="Set on live events (documentEvents) while the document is processed."
    )
    indexes: list[DocumentIndex] = strawberry.field(
        description="Its index generations. status, pageCount, chunkCount and error above are "
        "those of the draft's (what the Knowledge Base panel shows)."
    )

    @classmethod
    def of(cls, d: DocumentView) -> Document:
        return cls(
            id=d.id,
            workflow_id=d.workflow_id,
            node_id=d.node_id,
            filename=d.filename,
            size_bytes=d.size_bytes,
            status=d.status,
            page_count=d.page_count,
            chunk_count=d.chunk_count,
            error=d.error,
            created_at=d.created_at,
            updated_at=d.updated_at,
            content_type=d.content_type,
            sha256=d.sha256,
            embedding_model=d.embedding_model,
            failed_stage=d.failed_stage,
            progress=DocumentProgress.of(d.progress) if d.progress else None,
            indexes=[DocumentIndex.of(d, i) for i in d.indexes],
        )
