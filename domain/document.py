"""The Document aggregate: one file of a workflow's knowledge base, and how far its indexing got.

The bytes live in a content-addressed blob store; the events only name them. The ingestion
process records the outcome of each indexing request; its progress is never stored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.components import COMPONENTS, NodeKind, is_secret_reference
from domain.errors import InvalidCommand, NotFound

MAX_FILENAME = 255
MAX_REASON = 1000
LOCAL_EMBEDDER = "local"
_SHA256 = re.compile(r"[0-9a-f]{64}")


class DocumentStatus(StrEnum):
    PENDING = "PENDING"
    INDEXED = "INDEXED"
    FAILED = "FAILED"
    REMOVED = "REMOVED"


class Stage(StrEnum):
    """Where indexing failed, in the order the ingestion goes."""

    READ = "read"
    EXTRACT = "extract"
    CHUNK = "chunk"
    EMBED = "embed"
    INDEX = "index"


@dataclass(frozen=True)
class IndexSettings:
    """How a knowledge base turns a document into vectors: its node's settings that matter."""

    embedder: str
    model: str  # "" means the provider's default model
    chunk_size: int
    chunk_overlap: int
    base_url: str | None = None
    api_key_ref: str | None = None

    @classmethod
    def of_node(cls, config: Mapping[str, Any]) -> IndexSettings:
        merged = {**COMPONENTS[NodeKind.KNOWLEDGE_BASE].defaults(), **config}
        embedder = str(merged["embedder"])
        model = str(merged.get("embeddingModel") or "")
        # The form's default model is the local one: a person who switches the embedder to
        # OpenAI or Gemini and leaves the model alone means that provider's default.
        if embedder != LOCAL_EMBEDDER and model == _default_model():
            model = ""
        key = merged.get("apiKey")
        return cls(
            embedder=embedder,
            model=model,
            chunk_size=int(merged["chunkSize"]),
            chunk_overlap=int(merged["chunkOverlap"]),
            base_url=merged.get("baseUrl") or None,
            api_key_ref=key["secretRef"]
            if isinstance(key, dict) and is_secret_reference(key)
            else None,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IndexSettings:
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def same_vectors(self, other: IndexSettings) -> bool:
        """Whether both settings give the same chunks and vectors (the key changes neither)."""
        return replace(self, api_key_ref=None) == replace(other, api_key_ref=None)


def _default_model() -> str:
    schema = COMPONENTS[NodeKind.KNOWLEDGE_BASE].config_schema
    return str(schema["properties"]["embeddingModel"]["default"])


def clean_filename(name: str | None) -> str:
    """The name a person gave the file, without any path or control characters."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return base[:MAX_FILENAME] or "document.pdf"


def needs_reindex(
    settings: IndexSettings, status: str, failed_stage: str | None, wanted: IndexSettings
) -> bool:
    """Whether a document indexed with `settings` must be indexed again now that its knowledge
    base asks for `wanted`: they give other vectors, or a new key may mend a failed embedding."""
    if status == DocumentStatus.REMOVED:
        return False
    if not settings.same_vectors(wanted):
        return True
    return (
        status == DocumentStatus.FAILED
        and failed_stage == Stage.EMBED
        and settings.api_key_ref != wanted.api_key_ref
    )


class Document(Aggregate):
    @event("DocumentUploaded")
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002  (chosen by the caller: see application.documents)
        workflow_id: UUID,
        node_id: str,
        filename: str,
        content_type: str,
        size: int,
        sha256: str,
        blob_key: str,
        settings: dict[str, Any],
        actor: str,
    ) -> None:
        self.workflow_id, self.node_id = workflow_id, node_id
        self.filename, self.content_type = filename, content_type
        self.size, self.sha256, self.blob_key = size, sha256, blob_key
        self.settings = IndexSettings.from_dict(settings)
        self.status = DocumentStatus.PENDING
        self.generation = 1  # counts indexing requests: an outcome names the one it answers
        self.page_count: int | None = None
        self.chunk_count: int | None = None
        self.embedding_model: str | None = None  # where the vectors of the last success are
        self.failed_stage: str | None = None
        self.error: str | None = None
        self.last_actor = actor

    @classmethod
    def upload(
        cls,
        document_id: UUID,
        workflow_id: UUID,
        node_id: str,
        filename: str | None,
        content_type: str,
        size: int,
        sha256: str,
        settings: IndexSettings,
        actor: str,
    ) -> Document:
        if size <= 0:
            raise InvalidCommand("the file is empty")
        if not _SHA256.fullmatch(sha256):
            raise InvalidCommand("a document is named by the sha256 of its bytes")
        return cls(
            id=document_id,
            workflow_id=workflow_id,
            node_id=node_id,
            filename=clean_filename(filename),
            content_type=content_type,
            size=size,
            sha256=sha256,
            blob_key=sha256,
            settings=settings.to_dict(),
            actor=actor,
        )

    @property
    def removed(self) -> bool:
        return self.status == DocumentStatus.REMOVED

    # ---------------------------------------------------------------- outcomes of indexing

    def mark_indexed(
        self, generation: int, page_count: int, chunk_count: int, embedding_model: str, actor: str
    ) -> bool:
        """Records a success; False (and no event) when it answers a request that no longer
        stands: the document was removed or asked to be indexed again since."""
        if not self._current(generation) or self.status == DocumentStatus.INDEXED:
            return False
        self._indexed(generation, page_count, chunk_count, embedding_model, actor)
        return True

    @event("DocumentIndexed")
    def _indexed(
        self, generation: int, page_count: int, chunk_count: int, embedding_model: str, actor: str
    ) -> None:
        self.status = DocumentStatus.INDEXED
        self.page_count, self.chunk_count = page_count, chunk_count
        self.embedding_model = embedding_model
        self.failed_stage = self.error = None
        self.last_actor = actor

    def mark_failed(self, generation: int, stage: Stage, reason: str, actor: str) -> bool:
        """Records a failure, with a reason written for a person; False as in mark_indexed."""
        if not self._current(generation) or self.status == DocumentStatus.FAILED:
            return False
        self._failed(generation, stage.value, reason.strip()[:MAX_REASON], actor)
        return True

    @event("DocumentFailed")
    def _failed(self, generation: int, stage: str, reason: str, actor: str) -> None:
        self.status = DocumentStatus.FAILED
        self.failed_stage, self.error = stage, reason
        self.last_actor = actor

    def _current(self, generation: int) -> bool:
        return not self.removed and generation == self.generation

    # ---------------------------------------------------------------- commands

    def reindex(self, settings: IndexSettings, reason: str, actor: str) -> int:
        """Asks for the document to be indexed again (its knowledge base changed, or a failed
        one is retried); returns the generation that the outcome must name."""
        if self.removed:
            raise NotFound(f"there is no document {self.id}")
        self._reindex_requested(self.generation + 1, settings.to_dict(), reason, actor)
        return self.generation

    @event("DocumentReindexRequested")
    def _reindex_requested(
        self, generation: int, settings: dict[str, Any], reason: str, actor: str
    ) -> None:
        self.generation = generation
        self.settings = IndexSettings.from_dict(settings)
        self.status = DocumentStatus.PENDING
        self.page_count = self.chunk_count = None
        self.failed_stage = self.error = None
        self.last_actor = actor

    def needs_reindex(self, wanted: IndexSettings) -> bool:
        return needs_reindex(self.settings, self.status, self.failed_stage, wanted)

    def remove(self, actor: str) -> None:
        if self.removed:
            raise NotFound(f"there is no document {self.id}")
        self._removed(actor)

    @event("DocumentRemoved")
    def _removed(self, actor: str) -> None:
        self.status = DocumentStatus.REMOVED
        self.last_actor = actor
