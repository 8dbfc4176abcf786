"""What can be asked of a document, one small frozen dataclass per use case: by a person
(upload, remove, reindex) and by the ingestion process (the outcome of its work)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO
from uuid import UUID

from domain.document import Stage
from domain.knowledge_base import IndexSettings


@dataclass(frozen=True, kw_only=True)
class UploadDocument:
    """A PDF to the workflow's Knowledge Base `node_id` (None: its only one)."""

    actor: str
    workflow_id: UUID
    filename: str | None
    stream: BinaryIO
    node_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class OnDocument:
    actor: str
    document_id: UUID


@dataclass(frozen=True, kw_only=True)
class RemoveDocument(OnDocument):
    pass


@dataclass(frozen=True, kw_only=True)
class ReindexDocument(OnDocument):
    reason: str = "asked for"


@dataclass(frozen=True, kw_only=True)
class IndexFor(OnDocument):
    """Gives the document the generations its knowledge base asks for, and only those."""

    draft: IndexSettings | None
    published: IndexSettings | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class RecordIndexed(OnDocument):
    key: str  # the generation
    request: int  # the request of it that was worked on
    page_count: int
    chunk_count: int
    embedding_model: str


@dataclass(frozen=True, kw_only=True)
class RecordFailed(OnDocument):
    key: str
    request: int
    stage: Stage
    reason: str
