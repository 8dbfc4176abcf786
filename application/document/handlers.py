"""Document use cases: upload, remove, reindex, and the read side.

Indexing itself is the ingestion process's (application.document.ingestion); it records its
outcomes through the `record_*` handlers here, so every change to a Document goes through one
place. Retrieval is application.document.retrieval.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from itertools import chain, count
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from application.document import commands as c
from application.document.views import DocumentReadModel, DocumentView
from application.eventlog.log import EventLog, change_with_retry
from application.ports import (
    BlobStore,
    Sniffer,
    UnsupportedMediaType,
)
from application.workflow.handlers import WorkflowService
from domain.components import NodeKind
from domain.document import Document, DocumentStatus
from domain.errors import InvalidCommand, NotFound
from domain.graph import Node
from domain.knowledge_base import IndexSettings, asked_settings
from domain.workflow import Workflow

PDF = "application/pdf"
SNIFF_BYTES = 1024
READ_CHUNK = 64 * 1024
MAX_ATTEMPTS = 20
# The same bytes uploaded to one workflow are one document: its id derives from both.
_DOCUMENT_IDS = uuid.UUID("5b0f4a8e-2f8c-4d0e-9c55-0d7c1f3e6a21")


class DocumentService:
    def __init__(
        self,
        store: EventLog,
        workflows: WorkflowService,
        blobs: BlobStore,
        read_model: DocumentReadModel,
        sniff: Sniffer,
        max_upload_bytes: int,
        caught_up: Callable[[], object] = lambda: None,
    ) -> None:
        """`caught_up` waits (briefly) until the read model holds every event stored so far,
        so that a list shows the client's own uploads and removals."""
        self.store, self.workflows = store, workflows
        self.blobs, self.read_model = blobs, read_model
        self.sniff = sniff
        self.max_upload_bytes, self.caught_up = max_upload_bytes, caught_up

    # ---------------------------------------------------------------- commands

    def upload(self, cmd: c.UploadDocument) -> DocumentView:
        """Streams the file to the blob store and records it; the same bytes uploaded to one
        workflow again give back the document they already are."""
        wf, node = self._knowledge_base(cmd.workflow_id, cmd.node_id)
        head = cmd.stream.read(SNIFF_BYTES)
        if not self.sniff(head):
            raise UnsupportedMediaType(
                "only PDF files can be uploaded, and this file's content is not a PDF"
            )
        rest: Iterator[bytes] = iter(lambda: cmd.stream.read(READ_CHUNK), b"")
        blob = self.blobs.put(chain([head], rest), self.max_upload_bytes)
        settings = IndexSettings.of_node(node.config)
        _, published = asked_settings(wf, node.id)
        for n in count():
            document_id = uuid.uuid5(_DOCUMENT_IDS, f"{cmd.workflow_id}:{blob.key}:{n}")
            existing = self._get(document_id)
            if existing is None:
                doc = Document.upload(
                    document_id,
                    cmd.workflow_id,
                    node.id,
                    cmd.filename,
                    PDF,
                    blob.size,
                    blob.key,
                    settings,
                    cmd.actor,
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
                    again = c.ReindexDocument(
                        document_id=existing.id, actor=cmd.actor, reason="uploaded again"
                    )
                    return self.reindex(again)
                return DocumentView.of(existing)
        raise AssertionError("unreachable")  # pragma: no cover

    def remove(self, cmd: c.RemoveDocument) -> None:
        """Records the removal; the ingestion process then deletes the document's vectors."""
        self._change(cmd.document_id, lambda doc: doc.remove(cmd.actor))

    def reindex(self, cmd: c.ReindexDocument) -> DocumentView:
        """Indexes the document again with its Knowledge Base's settings as they are now."""

        def again(doc: Document) -> None:
            draft, published = self.asked(doc.workflow_id, doc.node_id)
            requested = doc.index_for(draft, published, cmd.reason, cmd.actor)
            if doc.settings.key not in {i.key for i in requested}:
                doc.reindex(cmd.reason, cmd.actor)

        return DocumentView.of(self._change(cmd.document_id, again))

    # ---------------------------------------------------------------- for the ingestion

    def load(self, document_id: UUID) -> Document | None:
        return self._get(document_id)

    def record_indexed(self, cmd: c.RecordIndexed) -> Document:
        return self._change(
            cmd.document_id,
            lambda doc: doc.mark_indexed(
                cmd.key,
                cmd.request,
                cmd.page_count,
                cmd.chunk_count,
                cmd.embedding_model,
                cmd.actor,
            ),
            allow_removed=True,
        )

    def record_failed(self, cmd: c.RecordFailed) -> Document:
        return self._change(
            cmd.document_id,
            lambda doc: doc.mark_failed(cmd.key, cmd.request, cmd.stage, cmd.reason, cmd.actor),
            allow_removed=True,
        )

    def index_for(self, cmd: c.IndexFor) -> Document:
        """Gives the document the generations its knowledge base asks for, and only those."""
        return self._change(
            cmd.document_id,
            lambda doc: doc.index_for(cmd.draft, cmd.published, cmd.reason, cmd.actor),
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
