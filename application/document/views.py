"""Documents as queries and subscriptions see them, whether read from the table or live."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.document import Document, DocumentIndex, DocumentStatus, follows
from domain.knowledge_base import IndexSettings


def topic(workflow_id: UUID) -> str:
    return f"documents:{workflow_id}"


@dataclass(frozen=True)
class DocumentProgress:
    """How far the indexing of a pending document is; live only, never stored."""

    # extracting, then loading (the embedding model, on its first use), then embedding
    # (which includes indexing)
    stage: str
    index_key: str | None = None  # the generation being built
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
    """A document as its Knowledge Base panel shows it: `status` and the counts are those of
    the generation of the draft's settings; `indexes` lists every generation it has."""

    id: UUID
    workflow_id: UUID
    node_id: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    status: DocumentStatus
    settings: IndexSettings  # the shown ones: the draft's (or the published version's)
    created_at: datetime
    updated_at: datetime
    draft: IndexSettings | None = None
    published: IndexSettings | None = None
    indexes: tuple[DocumentIndex, ...] = ()
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
            settings=doc.settings,
            created_at=doc.created_on,
            updated_at=doc.modified_on,
            draft=doc.draft,
            published=doc.published,
            indexes=tuple(doc.indexes.values()),
        )

    @property
    def shown(self) -> DocumentIndex | None:
        return next((i for i in self.indexes if i.key == self.settings.key), None)

    @property
    def page_count(self) -> int | None:
        return self.shown.page_count if self.shown else None

    @property
    def chunk_count(self) -> int | None:
        return self.shown.chunk_count if self.shown else None

    @property
    def embedding_model(self) -> str | None:
        return self.shown.embedding_model if self.shown else None

    @property
    def failed_stage(self) -> str | None:
        return self.shown.failed_stage if self.shown else None

    @property
    def error(self) -> str | None:
        return self.shown.error if self.shown else None

    def is_live(self, index: DocumentIndex) -> bool:
        """Whether the published version answers from this generation."""
        return self.published is not None and index.key == self.published.key

    def is_draft(self, index: DocumentIndex) -> bool:
        return self.draft is not None and index.key == self.draft.key

    def follows(self, draft: IndexSettings | None, published: IndexSettings | None) -> bool:
        """Whether the document already has what its knowledge base asks for, as the row says
        (Document.index_for decides on the aggregate itself)."""
        indexes = {i.key: i for i in self.indexes}
        return follows((self.draft, self.published), indexes, draft, published)

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
            "settings": self.settings.to_dict(),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "draft": _settings_dict(self.draft),
            "published": _settings_dict(self.published),
            "indexes": [i.to_dict() for i in self.indexes],
            "progress": None if self.progress is None else asdict(self.progress),
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
            settings=IndexSettings.from_dict(data["settings"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            updated_at=datetime.fromisoformat(data["updated_at"]),
            draft=_settings_or_none(data["draft"]),
            published=_settings_or_none(data["published"]),
            indexes=tuple(DocumentIndex.from_dict(i) for i in data["indexes"]),
            progress=DocumentProgress(**progress) if progress else None,
        )


def _settings_dict(settings: IndexSettings | None) -> dict[str, Any] | None:
    return None if settings is None else settings.to_dict()


def _settings_or_none(data: Mapping[str, Any] | None) -> IndexSettings | None:
    return None if data is None else IndexSettings.from_dict(data)


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

    def indexed(
        self, workflow_id: UUID, node_id: str, key: str
    ) -> list[tuple[UUID, DocumentIndex]]:
        """The node's documents, not removed, whose generation `key` is complete, each with
        that index."""
        ...

    def workflows_with_documents(self) -> list[UUID]:
        """The workflows having documents that are not removed."""
        ...

    def file_in_use(self, sha256: str, other_than: UUID) -> bool:
        """Whether a document not removed, other than `other_than`, holds the file with
        these bytes (uploads are stored by their content: two documents may share one)."""
        ...
