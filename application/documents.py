"""Document use cases: upload, remove, the read side, and retrieval for knowledge bases.

Indexing itself is the ingestion process's (application.ingestion); it records its outcomes
through the `record_*` methods here, so every change to a Document goes through one place.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from itertools import chain, count
from typing import Any, BinaryIO
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from application.document_views import DocumentReadModel, DocumentView, topic
from application.eventstore import EventStore, change_with_retry
from application.ports import (
    BlobStore,
    Embedder,
    EmbedderFactory,
    EmbedderSpec,
    Passage,
    ProviderError,
    SecretStore,
    Sniffer,
    UnsupportedMediaType,
    VectorIndex,
)
from application.workflows import WorkflowService
from domain.components import NodeKind
from domain.document import Document, DocumentStatus, IndexSettings, Stage
from domain.errors import InvalidCommand, NotFound
from domain.graph import Node

PDF = "application/pdf"
SNIFF_BYTES = 1024
READ_CHUNK = 64 * 1024
MAX_ATTEMPTS = 20
# The same bytes uploaded to one workflow are one document: its id derives from both.
_DOCUMENT_IDS = uuid.UUID("5b0f4a8e-2f8c-4d0e-9c55-0d7c1f3e6a21")


# ---------------------------------------------------------------- embedders


class Embedders:
    """The embedder that a knowledge base's settings ask for, with its key resolved: the
    node's own (a secret reference) or else the server's key for that provider."""

    def __init__(
        self, factory: EmbedderFactory, secrets: SecretStore, server_keys: Mapping[str, str]
    ) -> None:
        self.factory, self.secrets, self.server_keys = factory, secrets, server_keys

    def for_settings(self, settings: IndexSettings) -> Embedder:
        """Raises ProviderError, with a reason a person can act on, when none can be made."""
        key = None
        if settings.api_key_ref:
            try:
                key = self.secrets.get(settings.api_key_ref)
            except KeyError:
                raise ProviderError(
                    "The knowledge base's API key is no longer stored: enter it again."
                ) from None
        spec = EmbedderSpec(
            embedder=settings.embedder,
            model=settings.model,
            api_key=key or self.server_keys.get(settings.embedder),
            base_url=settings.base_url,
        )
        try:
            return self.factory.for_spec(spec)
        except ValueError as e:  # an embedder or model this server does not have
            raise ProviderError(str(e)) from None


# ---------------------------------------------------------------- the service


class DocumentService:
    def __init__(
        self,
        store: EventStore,
        workflows: WorkflowService,
        blobs: BlobStore,
        read_model: DocumentReadModel,
        embedders: Embedders,
        index: VectorIndex,
        sniff: Sniffer,
        max_upload_bytes: int,
        caught_up: Callable[[], object] = lambda: None,
    ) -> None:
        """`caught_up` waits (briefly) until the read model holds every event stored so far,
        so that a list shows the client's own uploads and removals."""
        self.store, self.workflows = store, workflows
        self.blobs, self.read_model = blobs, read_model
        self.embedders, self.index, self.sniff = embedders, index, sniff
        self.max_upload_bytes, self.caught_up = max_upload_bytes, caught_up

    # ---------------------------------------------------------------- commands

    def upload(
        self,
        workflow_id: UUID,
        node_id: str | None,
        filename: str | None,
        stream: BinaryIO,
        actor: str,
    ) -> DocumentView:
        """Streams the file to the blob store and records it; the same bytes uploaded to one
        workflow again give back the document they already are."""
        node = self._knowledge_base(workflow_id, node_id)
        head = stream.read(SNIFF_BYTES)
        if not self.sniff(head):
            raise UnsupportedMediaType(
                "only PDF files can be uploaded, and this file's content is not a PDF"
            )
        rest: Iterator[bytes] = iter(lambda: stream.read(READ_CHUNK), b"")
        blob = self.blobs.put(chain([head], rest), self.max_upload_bytes)
        settings = IndexSettings.of_node(node.config)
        for n in count():
            document_id = uuid.uuid5(_DOCUMENT_IDS, f"{workflow_id}:{blob.key}:{n}")
            existing = self._get(document_id)
            if existing is None:
                doc = Document.upload(
                    document_id,
                    workflow_id,
                    node.id,
                    filename,
                    PDF,
                    blob.size,
                    blob.key,
                    settings,
                    actor,
                )
                try:
                    self.store.save(doc)
                except IntegrityError:  # the same file, uploaded at the same moment
                    existing = self._get(document_id)
                    assert existing is not None
                else:
                    return DocumentView.of(doc)
            if not existing.removed:
                if existing.status == DocumentStatus.FAILED:
                    return self.reindex(existing.id, actor, "uploaded again")
                return DocumentView.of(existing)
        raise AssertionError("unreachable")  # pragma: no cover

    def remove(self, document_id: UUID, actor: str) -> None:
        """Records the removal; the ingestion process then deletes the document's vectors."""
        self._change(document_id, lambda doc: doc.remove(actor))

    def reindex(self, document_id: UUID, actor: str, reason: str) -> DocumentView:
        """Indexes the document again with its knowledge base's settings as they are now."""

        def again(doc: Document) -> None:
            wanted = self.knowledge_bases(doc.workflow_id).get(doc.node_id, doc.settings)
            doc.reindex(wanted, reason, actor)

        return DocumentView.of(self._change(document_id, again))

    # ---------------------------------------------------------------- for the ingestion

    def load(self, document_id: UUID) -> Document | None:
        return self._get(document_id)

    def record_indexed(
        self,
        document_id: UUID,
        generation: int,
        page_count: int,
        chunk_count: int,
        embedding_model: str,
        actor: str,
    ) -> Document:
        return self._change(
            document_id,
            lambda doc: doc.mark_indexed(
                generation, page_count, chunk_count, embedding_model, actor
            ),
            allow_removed=True,
        )

    def record_failed(
        self, document_id: UUID, generation: int, stage: Stage, reason: str, actor: str
    ) -> Document:
        return self._change(
            document_id,
            lambda doc: doc.mark_failed(generation, stage, reason, actor),
            allow_removed=True,
        )

    def request_reindex(
        self, document_id: UUID, settings: IndexSettings, reason: str, actor: str
    ) -> None:
        """Indexes again with these settings, unless the document already has them."""

        def again(doc: Document) -> None:
            if doc.needs_reindex(settings):
                doc.reindex(settings, reason, actor)

        self._change(document_id, again, allow_removed=True)

    def knowledge_bases(self, workflow_id: UUID) -> dict[str, IndexSettings]:
        """The settings each Knowledge Base of the workflow asks for now, by node id."""
        try:
            wf = self.workflows.load(workflow_id)
        except NotFound:
            return {}
        return {
            n.id: IndexSettings.of_node(n.config)
            for n in wf.nodes.values()
            if n.kind == NodeKind.KNOWLEDGE_BASE
        }

    # ---------------------------------------------------------------- reads

    def get(self, document_id: UUID) -> DocumentView | None:
        """From the read table; a document uploaded a moment ago is read from the log."""
        found = self.read_model.get(document_id)
        if found is not None:
            return found
        doc = self._get(document_id)
        return None if doc is None else DocumentView.of(doc)

    def list_for_workflows(self, workflow_ids: list[UUID]) -> dict[UUID, list[DocumentView]]:
        self.caught_up()
        return self.read_model.list_for_workflows(workflow_ids)

    def document_ids(self, workflow_id: UUID) -> list[UUID]:
        """Every document the workflow ever had, removed ones too (its history tells them)."""
        self.caught_up()
        return self.read_model.document_ids(workflow_id)

    def live_messages(self, event: Any) -> list[tuple[str, dict[str, Any]]]:
        """A stored Document event as the `documentEvents` subscription shows it."""
        if not isinstance(event, Document.Event):
            return []
        if event.originator_version == 1:
            doc: Any = event.mutate(None)
        else:
            doc = self.store.repository.get(event.originator_id, version=event.originator_version)
        assert isinstance(doc, Document)
        view = DocumentView.of(doc)
        return [(topic(view.workflow_id), view.to_message())]

    def retrieve(
        self,
        workflow_id: UUID,
        node_id: str,
        query: str,
        top_k: int,
        where: dict[str, Any] | None = None,
        published: Node | None = None,
    ) -> list[Passage]:
        """The `top_k` passages of the node's indexed documents closest to `query`, closest
        first. `where` narrows by metadata (`{"page": {"$gte": 4}}`, `{"filename": "a.pdf"}`).

        The documents are indexed under the draft's settings of the node (a change re-embeds
        them), so those choose the embedder; a chat on a published version whose node has
        since left the draft passes that node as `published`, and its documents still answer."""
        try:
            node = self._knowledge_base(workflow_id, node_id)
        except NotFound:
            if published is None or published.id != node_id:
                raise
            node = published
        if top_k <= 0 or not query.strip():
            return []
        embedder = self.embedders.for_settings(IndexSettings.of_node(node.config))
        model = embedder.model_id
        # Only documents whose indexing finished: a removed or half-indexed one is not asked.
        documents = self.read_model.indexed(workflow_id, node.id, model)
        if not documents:
            return []
        clauses: list[dict[str, Any]] = [
            {"workflow_id": str(workflow_id)},
            {"node_id": node.id},
            {"document_id": {"$in": [str(d) for d in documents]}},
        ]
        for key, value in (where or {}).items():
            if key.startswith("$"):
                clauses.append({key: value})
            else:
                clauses.append({key: {"$in": list(value)} if isinstance(value, list) else value})
        vector = embedder.embed([query])[0]
        hits = self.index.query(model, vector, top_k, {"$and": clauses})
        return [
            Passage(
                document_id=str(h.metadata.get("document_id", h.id.split(":")[0])),
                filename=str(h.metadata.get("filename", "")),
                page=_int_or_none(h.metadata.get("page")),
                chunk=int(h.metadata.get("chunk", 0)),
                score=h.score,
                text=h.text,
            )
            for h in hits
        ]

    # ---------------------------------------------------------------- mechanics

    def _knowledge_base(self, workflow_id: UUID, node_id: str | None) -> Node:
        wf = self.workflows.load(workflow_id)
        if node_id is None:
            bases = [n for n in wf.nodes.values() if n.kind == NodeKind.KNOWLEDGE_BASE]
            if len(bases) != 1:
                raise InvalidCommand(
                    "the workflow has no Knowledge Base: add one before uploading documents"
                    if not bases
                    else "the workflow has several Knowledge Bases: say which one (nodeId)"
                )
            return bases[0]
        node = wf.nodes.get(node_id)
        if node is None:
            raise NotFound(f"there is no node {node_id!r}")
        if node.kind != NodeKind.KNOWLEDGE_BASE:
            raise InvalidCommand(f"{node.label} is not a Knowledge Base: documents go to one")
        return node

    def _get(self, document_id: UUID) -> Document | None:
        try:
            doc: Any = self.store.repository.get(document_id)
        except AggregateNotFoundError:
            return None
        return doc if isinstance(doc, Document) else None

    def _change(
        self,
        document_id: UUID,
        command: Callable[[Document], object],
        *,
        allow_removed: bool = False,
    ) -> Document:
        """Applies a command to the freshest state, again after a version clash."""

        def load() -> Document:
            doc = self._get(document_id)
            if doc is None or (doc.removed and not allow_removed):
                raise NotFound(f"there is no document {document_id}")
            return doc

        return change_with_retry(
            self.store,
            load,
            command,
            too_busy=lambda: IntegrityError(
                f"document {document_id} kept changing under the command"
            ),
            attempts=MAX_ATTEMPTS,
        )


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None
