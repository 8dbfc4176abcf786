"""Document use cases: upload, remove, the read side, and retrieval for knowledge bases.

Indexing itself is the ingestion process's (application.ingestion); it records its outcomes
through the `record_*` methods here, so every change to a Document goes through one place.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from itertools import chain, count
from typing import Any, BinaryIO
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from application.chunk_layout import answering_chunks, document_of, passage_of
from application.document_views import DocumentReadModel, DocumentView, topic
from application.eventstore import EventStore, change_with_retry
from application.keys import KeyUnavailable, NodeKeys
from application.ports import (
    BlobStore,
    Embedder,
    EmbedderFactory,
    EmbedderSpec,
    Passage,
    ProviderError,
    Sniffer,
    UnsupportedMediaType,
    VectorIndex,
)
from application.workflows import WorkflowService
from domain.components import NodeKind
from domain.document import Document, DocumentStatus, Stage
from domain.errors import InvalidCommand, NotFound
from domain.graph import Node
from domain.knowledge_base import IndexSettings, answering_settings, asked_settings
from domain.node_settings import LOCAL_EMBEDDER, ProviderAccess
from domain.workflow import Workflow

PDF = "application/pdf"
SNIFF_BYTES = 1024
READ_CHUNK = 64 * 1024
MAX_ATTEMPTS = 20
# The same bytes uploaded to one workflow are one document: its id derives from both.
_DOCUMENT_IDS = uuid.UUID("5b0f4a8e-2f8c-4d0e-9c55-0d7c1f3e6a21")


# ---------------------------------------------------------------- embedders


class Embedders:
    """The embedder that a knowledge base's settings ask for, with its key resolved (see
    application.keys: the node's own, else the server's where it may go)."""

    def __init__(self, factory: EmbedderFactory, keys: NodeKeys) -> None:
        self.factory, self.keys = factory, keys

    def for_settings(self, settings: IndexSettings) -> Embedder:
        """Raises ProviderError, with a reason a person can act on, when none can be made."""
        key = None
        if settings.embedder != LOCAL_EMBEDDER:
            access = ProviderAccess(settings.embedder, settings.base_url, settings.api_key_ref)
            try:
                key = self.keys.key_for("The knowledge base", access)
            except KeyUnavailable as e:
                raise ProviderError(f"{e}.") from None
        spec = EmbedderSpec(
            embedder=settings.embedder,
            model=settings.model,
            api_key=key,
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
        wf, node = self._knowledge_base(workflow_id, node_id)
        head = stream.read(SNIFF_BYTES)
        if not self.sniff(head):
            raise UnsupportedMediaType(
                "only PDF files can be uploaded, and this file's content is not a PDF"
            )
        rest: Iterator[bytes] = iter(lambda: stream.read(READ_CHUNK), b"")
        blob = self.blobs.put(chain([head], rest), self.max_upload_bytes)
        settings = IndexSettings.of_node(node.config)
        _, published = asked_settings(wf, node.id)
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
                    published,
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
        """Indexes the document again with its Knowledge Base's settings as they are now."""

        def again(doc: Document) -> None:
            draft, published = self.asked(doc.workflow_id, doc.node_id)
            requested = doc.index_for(draft, published, reason, actor)
            if doc.settings.key not in {i.key for i in requested}:
                doc.reindex(reason, actor)

        return DocumentView.of(self._change(document_id, again))

    # ---------------------------------------------------------------- for the ingestion

    def load(self, document_id: UUID) -> Document | None:
        return self._get(document_id)

    def record_indexed(
        self,
        document_id: UUID,
        key: str,
        request: int,
        page_count: int,
        chunk_count: int,
        embedding_model: str,
        actor: str,
    ) -> Document:
        return self._change(
            document_id,
            lambda doc: doc.mark_indexed(
                key, request, page_count, chunk_count, embedding_model, actor
            ),
            allow_removed=True,
        )

    def record_failed(
        self, document_id: UUID, key: str, request: int, stage: Stage, reason: str, actor: str
    ) -> Document:
        return self._change(
            document_id,
            lambda doc: doc.mark_failed(key, request, stage, reason, actor),
            allow_removed=True,
        )

    def index_for(
        self,
        document_id: UUID,
        draft: IndexSettings | None,
        published: IndexSettings | None,
        reason: str,
        actor: str,
    ) -> Document:
        """Gives the document the generations its knowledge base asks for, and only those."""
        return self._change(
            document_id,
            lambda doc: doc.index_for(draft, published, reason, actor),
            allow_removed=True,
        )

    def asked(
        self, workflow_id: UUID, node_id: str
    ) -> tuple[IndexSettings | None, IndexSettings | None]:
        """The settings of the workflow's Knowledge Base `node_id` in the draft and in the
        published version that answers from it (see domain.document.asked_settings)."""
        try:
            wf = self.workflows.load(workflow_id)
        except NotFound:
            return None, None
        return asked_settings(wf, node_id)

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
        node: Node,
        query: str,
        top_k: int,
        where: dict[str, Any] | None = None,
    ) -> list[Passage]:
        """The `top_k` passages of the node's documents closest to `query`, closest first.
        `node` is the Knowledge Base being run, as the published version (or the draft, for
        a preview) has it: its settings choose the generation, so a published version
        answers from its own until a Build publishes others. `where` narrows by metadata
        (`{"page": {"$gte": 4}}`, `{"filename": "a.pdf"}`).

        Only documents whose generation is complete are asked (never a half-indexed one).
        The read table may lag behind the log: a document it still lists is checked against
        the log before its passages are given, so that one removed a moment ago is never
        quoted."""
        if top_k <= 0 or not query.strip():
            return []
        settings = answering_settings(self.workflows.load(workflow_id), node)
        candidates = self.read_model.indexed(workflow_id, node.id, settings.key)
        if not candidates:
            return []
        embedder = self.embedders.for_settings(settings)
        vector = embedder.embed([query])[0]
        while candidates:
            hits = self.index.query(
                embedder.model_id,
                vector,
                top_k,
                answering_chunks(workflow_id, node.id, settings.key, candidates, where),
            )
            quoted = {document_of(h) for h in hits}
            gone = quoted - self._still_answering(quoted, settings.key)
            if not gone:
                return [passage_of(h) for h in hits]
            candidates = [(d, i) for d, i in candidates if str(d) not in gone]
        return []

    def _still_answering(self, document_ids: set[str], key: str) -> set[str]:
        """Those of the documents whose generation `key` the log says is complete (the read
        table said so, but it may lag behind a removal or a drop)."""
        answering = set()
        for document_id in document_ids:
            doc = self._get(UUID(document_id))
            index = None if doc is None or doc.removed else doc.indexes.get(key)
            if index is not None and index.complete:
                answering.add(document_id)
        return answering

    # ---------------------------------------------------------------- mechanics

    def _knowledge_base(self, workflow_id: UUID, node_id: str | None) -> tuple[Workflow, Node]:
        """The workflow and its draft's Knowledge Base that an upload goes to."""
        wf = self.workflows.load(workflow_id)
        if node_id is None:
            bases = [n for n in wf.nodes.values() if n.kind == NodeKind.KNOWLEDGE_BASE]
            if len(bases) != 1:
                raise InvalidCommand(
                    "the workflow has no Knowledge Base: add one before uploading documents"
                    if not bases
                    else "the workflow has several Knowledge Bases: say which one (nodeId)"
                )
            return wf, bases[0]
        node = wf.nodes.get(node_id)
        if node is None:
            raise NotFound(f"there is no node {node_id!r}")
        if node.kind != NodeKind.KNOWLEDGE_BASE:
            raise InvalidCommand(f"{node.label} is not a Knowledge Base: documents go to one")
        return wf, node

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
