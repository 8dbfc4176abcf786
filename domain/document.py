"""The Document aggregate: one file of a workflow's knowledge base, and its indexes.

A document is indexed once for each set of settings in use (an index *generation*): the
settings of its Knowledge Base node in the draft, and in the published version that answers
from that node. An edit to the draft's settings builds a new generation beside the one the
published version answers from; a Build (or a rollback) that leaves a generation unused drops
it. The bytes live in a content-addressed blob store; the events only name them. The
ingestion process records the outcome of each indexing request; its progress is never stored.
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

from domain.errors import InvalidCommand, NotFound
from domain.knowledge_base import IndexSettings

MAX_FILENAME = 255
MAX_REASON = 1000
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


def clean_filename(name: str | None) -> str:
    """The name a person gave the file, without any path or control characters."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return base[:MAX_FILENAME] or "document.pdf"


@dataclass(frozen=True)
class DocumentIndex:
    """One generation of a document's index: its chunks and vectors under one IndexSettings."""

    settings: IndexSettings  # as requested (its API key is the one the build uses)
    request: int  # the indexing request it stands for: an outcome names the one it answers
    status: DocumentStatus = DocumentStatus.PENDING
    page_count: int | None = None
    chunk_count: int | None = None
    embedding_model: str | None = None  # the vector space of its vectors, once indexed
    failed_stage: str | None = None
    error: str | None = None
    # Indexed before generations existed: its vectors have ids `{document}:{chunk}` and no
    # index key in their metadata (infrastructure keeps them answering as they are).
    legacy: bool = False

    def __post_init__(self) -> None:
        # whatever decoded it (a snapshot's decoder too), the status is the enum
        object.__setattr__(self, "status", DocumentStatus(self.status))

    @property
    def key(self) -> str:
        return self.settings.key

    @property
    def complete(self) -> bool:
        return self.status == DocumentStatus.INDEXED

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DocumentIndex:
        return cls(
            **{
                **data,
                "settings": IndexSettings.from_dict(data["settings"]),
                "status": DocumentStatus(data["status"]),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}


def wanted_settings(
    draft: IndexSettings | None, published: IndexSettings | None
) -> list[IndexSettings]:
    """The generations a document of a knowledge base must have: the draft's settings and the
    published version's, one per key (the draft's API key wins: it is the newer)."""
    found: dict[str, IndexSettings] = {}
    for settings in (draft, published):
        if settings is not None and settings.key not in found:
            found[settings.key] = settings
    return list(found.values())


def index_plan(
    indexes: Mapping[str, DocumentIndex], wanted: list[IndexSettings]
) -> tuple[list[IndexSettings], list[DocumentIndex]]:
    """What to request and what to drop so that a document has exactly the wanted generations.

    A generation already present is kept as it is (a rollback reuses it, nothing is embedded
    again), unless it failed or is still pending with an API key that has since changed:
    a new key may mend it."""
    keys = {s.key for s in wanted}
    to_request = [
        s
        for s in wanted
        if s.key not in indexes
        or (not indexes[s.key].complete and indexes[s.key].settings.api_key_ref != s.api_key_ref)
    ]
    to_drop = [index for key, index in indexes.items() if key not in keys]
    return to_request, to_drop


def follows(
    has: tuple[IndexSettings | None, IndexSettings | None],
    indexes: Mapping[str, DocumentIndex],
    draft: IndexSettings | None,
    published: IndexSettings | None,
) -> bool:
    """Whether a document that `has` these (draft, published) settings and these indexes
    already is what its knowledge base asks for: Document.index_for would change nothing."""
    if draft is None and published is None:
        return True
    to_request, to_drop = index_plan(indexes, wanted_settings(draft, published))
    return has == (draft, published) and not to_request and not to_drop


def _upcast_outcome(state: dict[str, Any]) -> None:
    """An outcome (DocumentIndexed, DocumentFailed) of version 1, stored before generations,
    named its request `generation` and no key: it was the outcome for the one index."""
    state["request"] = state.pop("generation")
    state["key"] = None


def _apply_outcome(event: Any, aggregate: Aggregate, **changes: Any) -> None:
    assert isinstance(aggregate, Document)
    key = event.key or aggregate.settings.key
    aggregate.indexes[key] = replace(aggregate.indexes[key], **changes)
    aggregate.last_actor = event.actor


class Document(Aggregate):
    @event("DocumentUploaded")
    def __init__(
        self,
        *,
        id: UUID,  # noqa: A002  (chosen by the caller: see application.document.handlers)
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
        first = IndexSettings.from_dict(settings)
        # What its knowledge base asks for: the node's settings in the draft, and in the
        # published version that answers from it (None: not published, or not yet known for
        # a document uploaded before generations; the ingestion fills it in).
        self.draft: IndexSettings | None = first
        self.published: IndexSettings | None = None
        self.requests = 1  # indexing requests so far; each index names the one it stands for
        self.indexes: dict[str, DocumentIndex] = {first.key: DocumentIndex(first, 1)}
        self.removed = False
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
        published: IndexSettings | None = None,
    ) -> Document:
        """A new document, to be indexed with the draft's `settings` and, when the node is
        published with other ones, with those too."""
        if size <= 0:
            raise InvalidCommand("the file is empty")
        if not _SHA256.fullmatch(sha256):
            raise InvalidCommand("a document is named by the sha256 of its bytes")
        doc = cls(
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
        doc.index_for(settings, published, "uploaded", actor)
        return doc

    # ---------------------------------------------------------------- what it shows

    @property
    def settings(self) -> IndexSettings:
        """The settings the document is shown with: the draft's (the Knowledge Base panel's),
        or the published version's when the draft no longer has the node."""
        shown = self.draft or self.published
        assert shown is not None  # an upload sets the draft's; neither is ever unset at once
        return shown

    @property
    def shown(self) -> DocumentIndex | None:
        return self.indexes.get(self.settings.key)

    @property
    def status(self) -> DocumentStatus:
        if self.removed:
            return DocumentStatus.REMOVED
        shown = self.shown
        return DocumentStatus.PENDING if shown is None else shown.status

    @property
    def live_key(self) -> str | None:
        """The generation the published version answers from."""
        return None if self.published is None else self.published.key

    # ---------------------------------------------------------------- outcomes of indexing

    def mark_indexed(
        self,
        key: str,
        request: int,
        page_count: int,
        chunk_count: int,
        embedding_model: str,
        actor: str,
    ) -> bool:
        """Records a success; False (and no event) when it answers a request that no longer
        stands: the document was removed, or the generation dropped or asked for again."""
        index = self._standing(key, request)
        if index is None or index.status == DocumentStatus.INDEXED:
            return False
        self.trigger_event(
            self.DocumentIndexed,
            key=key,
            request=request,
            page_count=page_count,
            chunk_count=chunk_count,
            embedding_model=embedding_model,
            actor=actor,
        )
        return True

    class DocumentIndexed(Aggregate.Event):
        key: str | None
        request: int
        page_count: int
        chunk_count: int
        embedding_model: str
        actor: str

        class_version = 2
        upcast_v1_v2 = staticmethod(_upcast_outcome)

        def apply(self, aggregate: Aggregate) -> None:
            _apply_outcome(
                self,
                aggregate,
                status=DocumentStatus.INDEXED,
                page_count=self.page_count,
                chunk_count=self.chunk_count,
                embedding_model=self.embedding_model,
                failed_stage=None,
                error=None,
                legacy=self.key is None,  # version 1 wrote the vectors in the old layout
            )

    def mark_failed(self, key: str, request: int, stage: Stage, reason: str, actor: str) -> bool:
        """Records a failure, with a reason written for a person; False as in mark_indexed."""
        index = self._standing(key, request)
        if index is None or index.status == DocumentStatus.FAILED:
            return False
        self.trigger_event(
            self.DocumentFailed,
            key=key,
            request=request,
            stage=stage.value,
            reason=reason.strip()[:MAX_REASON],
            actor=actor,
        )
        return True

    class DocumentFailed(Aggregate.Event):
        key: str | None
        request: int
        stage: str
        reason: str
        actor: str

        class_version = 2
        upcast_v1_v2 = staticmethod(_upcast_outcome)

        def apply(self, aggregate: Aggregate) -> None:
            _apply_outcome(
                self,
                aggregate,
                status=DocumentStatus.FAILED,
                page_count=None,
                chunk_count=None,
                failed_stage=self.stage,
                error=self.reason,
            )

    def _standing(self, key: str, request: int) -> DocumentIndex | None:
        index = self.indexes.get(key)
        if self.removed or index is None or index.request != request:
            return None
        return index

    # ---------------------------------------------------------------- commands

    def follows(self, draft: IndexSettings | None, published: IndexSettings | None) -> bool:
        return self.removed or follows((self.draft, self.published), self.indexes, draft, published)

    def index_for(
        self,
        draft: IndexSettings | None,
        published: IndexSettings | None,
        reason: str,
        actor: str,
    ) -> list[DocumentIndex]:
        """Its knowledge base now asks for `draft` (the node's settings in the draft) and
        `published` (in the published version answering from it): requests the generations
        it lacks and drops those no longer asked for. Returns the requested ones. Nothing
        happens when neither asks (the node is in no version: undo may bring it back)."""
        if self.follows(draft, published):
            return []
        if (draft, published) != (self.draft, self.published):
            self._settings_changed(_dict_or_none(draft), _dict_or_none(published), actor)
        to_request, to_drop = index_plan(self.indexes, wanted_settings(draft, published))
        for index in to_drop:
            self._index_dropped(
                index.key,
                index.settings.to_dict(),
                index.embedding_model,
                index.legacy,
                reason,
                actor,
            )
        for wanted in to_request:
            self._index_requested(wanted.to_dict(), self.requests + 1, reason, actor)
        return [self.indexes[s.key] for s in to_request]

    @event("DocumentSettingsChanged")
    def _settings_changed(
        self, draft: dict[str, Any] | None, published: dict[str, Any] | None, actor: str
    ) -> None:
        self.draft = None if draft is None else IndexSettings.from_dict(draft)
        self.published = None if published is None else IndexSettings.from_dict(published)
        self.last_actor = actor

    @event("DocumentIndexRequested")
    def _index_requested(
        self, settings: dict[str, Any], request: int, reason: str, actor: str
    ) -> None:
        wanted = IndexSettings.from_dict(settings)
        self.requests = request
        self.indexes[wanted.key] = DocumentIndex(wanted, request)
        self.last_actor = actor

    @event("DocumentIndexDropped")
    def _index_dropped(
        self,
        key: str,
        settings: dict[str, Any],
        embedding_model: str | None,
        legacy: bool,
        reason: str,
        actor: str,
    ) -> None:
        # The vectors go after it, deleted by the ingestion process (it reads them here).
        del self.indexes[key]
        self.last_actor = actor

    def reindex(self, reason: str, actor: str) -> DocumentIndex:
        """Asks for the shown generation to be indexed again (a failed one retried)."""
        if self.removed:
            raise NotFound(f"there is no document {self.id}")
        self._index_requested(self.settings.to_dict(), self.requests + 1, reason, actor)
        return self.indexes[self.settings.key]

    def remove(self, actor: str) -> None:
        if self.removed:
            raise NotFound(f"there is no document {self.id}")
        self._removed(actor)

    @event("DocumentRemoved")
    def _removed(self, actor: str) -> None:
        self.removed = True
        self.last_actor = actor

    class DocumentReindexRequested(Aggregate.Event):
        """Stored before generations, no longer recorded: the document's one index was to be
        rebuilt in place with `settings`, replacing the one it had."""

        generation: int
        settings: dict[str, Any]
        reason: str
        actor: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Document)
            settings = IndexSettings.from_dict(self.settings)
            aggregate.draft = settings
            aggregate.requests = self.generation
            aggregate.indexes = {settings.key: DocumentIndex(settings, self.generation)}
            aggregate.last_actor = self.actor


def _dict_or_none(settings: IndexSettings | None) -> dict[str, Any] | None:
    return None if settings is None else settings.to_dict()
