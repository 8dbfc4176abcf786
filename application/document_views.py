"""Documents as queries and subscriptions see them, whether read from the table or live."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.document import Document, DocumentStatus, IndexSettings, needs_reindex


def topic(workflow_id: UUID) -> str:
    return f"documents:{workflow_id}"


@dataclass(frozen=True)
class DocumentProgress:
    """How far the indexing of a pending document is; live only, never stored."""

    stage: str  # extracting, then embedding (which includes indexing)
    pages_extracted: int = 0
    page_total: int = 0
    chunks_embedded: int = 0
    chunk_total: int | None = None

    @property
    def fraction(self) -> float:
        """Extraction counts for a fifth of the work, embedding and indexing for the rest."""
        read = self.pages_extracted / self.page_total if self.page_total else 0.0
        embedded = self.chunks_embedded / self.chunk_total if self.chunk_total else 0.0
        return round(0.2 * read + 0.8 * embedded, 4)


@dataclass(frozen=True)
class DocumentView:
    id: UUID
    workflow_id: UUID
    node_id: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    status: DocumentStatus
    generation: int
    settings: IndexSettings
    created_at: datetime
    updated_at: datetime
    page_count: int | None = None
    chunk_count: int | None = None
    embedding_model: str | None = None
    failed_stage: str | None = None
    error: str | None = None
    progress: DocumentProgress | None = None

    @classmethod
    def of(cls, doc: Document) -> DocumentView:
        return cls(
            id=doc.id,
            workflow_id=doc.workflow_id,
            node_id=doc.node_id,
            filename=doc.filename,
            content_type=doc.content_type,
            size_bytes=doc.size,
            sha256=doc.sha256,
            status=doc.status,
            generation=doc.generation,
            settings=doc.settings,
            created_at=doc.created_on,
            updated_at=doc.modified_on,
            page_count=doc.page_count,
            chunk_count=doc.chunk_count,
            embedding_model=doc.embedding_model,
            failed_stage=doc.failed_stage,
            error=doc.error,
        )

    def needs_reindex(self, wanted: IndexSettings) -> bool:
        return needs_reindex(self.settings, self.status, self.failed_stage, wanted)

    def with_progress(self, progress: DocumentProgress) -> DocumentView:
        return replace(self, progress=progress)

    def to_message(self) -> dict[str, Any]:
        """As the event bus carries it (JSON, small enough for a PostgreSQL NOTIFY)."""
        data = {
            "id": str(self.id),
            "workflow_id": str(self.workflow_id),
            "node_id": self.node_id,
            "filename": self.filename,
            "content_type": self.content_type,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "status": self.status.value,
            "generation": self.generation,
            "settings": self.settings.to_dict(),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "page_count": self.page_count,
            "chunk_count": self.chunk_count,
            "embedding_model": self.embedding_model,
            "failed_stage": self.failed_stage,
            "error": self.error,
            "progress": None,
        }
        if self.progress is not None:
            p = self.progress
            data["progress"] = {
                "stage": p.stage,
                "pages_extracted": p.pages_extracted,
                "page_total": p.page_total,
                "chunks_embedded": p.chunks_embedded,
                "chunk_total": p.chunk_total,
            }
        return data

    @classmethod
    def from_message(cls, data: Mapping[str, Any]) -> DocumentView:
        progress = data.get("progress")
        return cls(
            id=UUID(data["id"]),
            workflow_id=UUID(data["workflow_id"]),
            node_id=data["node_id"],
            filename=data["filename"],
            content_type=data["content_type"],
            size_bytes=data["size_bytes"],
            sha256=data["sha256"],
            status=DocumentStatus(data["status"]),
            generation=data["generation"],
            settings=IndexSettings.from_dict(data["settings"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            updated_at=datetime.fromisoformat(data["updated_at"]),
            page_count=data["page_count"],
            chunk_count=data["chunk_count"],
            embedding_model=data["embedding_model"],
            failed_stage=data["failed_stage"],
            error=data["error"],
            progress=DocumentProgress(**progress) if progress else None,
        )


class DocumentReadModel(Protocol):
    """The `documents` table, as filled by its projection."""

    def get(self, document_id: UUID) -> DocumentView | None: ...

    def list_for_workflow(self, workflow_id: UUID) -> list[DocumentView]:
        """The workflow's documents that are not removed, oldest first."""
        ...

    def list_for_workflows(self, workflow_ids: list[UUID]) -> dict[UUID, list[DocumentView]]:
        """The same for several workflows at once (each one's list, empty when it has none)."""
        ...

    def document_ids(self, workflow_id: UUID) -> list[UUID]:
        """Every document the workflow ever had, removed ones too, oldest first."""
        ...

    def indexed(self, workflow_id: UUID, node_id: str, embedding_model: str) -> list[UUID]:
        """Ids of the node's documents indexed with that model."""
        ...
