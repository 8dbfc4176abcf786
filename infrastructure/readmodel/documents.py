"""The `documents` read table: its projection and its queries."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from sqlalchemy import Connection, Engine, insert, select, update

from application.document_views import DocumentView
from application.eventstore import EventStore
from domain.document import Document, DocumentStatus, IndexSettings
from infrastructure.readmodel.tables import documents
from infrastructure.readmodel.tracking import SqlTrackingView
from infrastructure.readmodel.workflows import aware


class DocumentsProjection(Projection[SqlTrackingView]):
    name = "documents"
    tables = (documents,)

    def __init__(self, view: SqlTrackingView, store: EventStore) -> None:
        super().__init__(view)
        self.store = store

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)  # not ours: only the position moves

    @process_event.register
    def _document_changed(self, domain_event: Document.Event, tracking: Tracking) -> None:
        # Documents have a handful of events: the state after this one is a short replay.
        if domain_event.originator_version == 1:
            doc = domain_event.mutate(None)
        else:
            doc = self.store.repository.get(
                domain_event.originator_id, version=domain_event.originator_version
            )
        assert isinstance(doc, Document)
        with self.view.transaction(tracking) as conn:
            _upsert(conn, doc)

    def forget(self) -> None:
        pass  # keeps nothing between events


def _upsert(conn: Connection, doc: Document) -> None:
    row = {
        "workflow_id": doc.workflow_id,
        "node_id": doc.node_id,
        "filename": doc.filename,
        "content_type": doc.content_type,
        "size_bytes": doc.size,
        "sha256": doc.sha256,
        "status": doc.status.value,
        "generation": doc.generation,
        "settings": doc.settings.to_dict(),
        "page_count": doc.page_count,
        "chunk_count": doc.chunk_count,
        "embedding_model": doc.embedding_model,
        "failed_stage": doc.failed_stage,
        "error": doc.error,
        "created_at": doc.created_on,
        "updated_at": doc.modified_on,
        "last_actor": doc.last_actor,
    }
    if conn.execute(update(documents).where(documents.c.id == doc.id).values(**row)).rowcount == 0:
        conn.execute(insert(documents).values(id=doc.id, **row))


class SqlDocumentReadModel:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, document_id: UUID) -> DocumentView | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(documents).where(documents.c.id == document_id)).first()
        return None if row is None else _view(row)

    def list_for_workflow(self, workflow_id: UUID) -> list[DocumentView]:
        return self.list_for_workflows([workflow_id])[workflow_id]

    def list_for_workflows(self, workflow_ids: list[UUID]) -> dict[UUID, list[DocumentView]]:
        found: dict[UUID, list[DocumentView]] = {w: [] for w in workflow_ids}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(documents)
                .where(documents.c.workflow_id.in_(workflow_ids))
                .where(documents.c.status != DocumentStatus.REMOVED.value)
                .order_by(documents.c.created_at, documents.c.id)
            ).all()
        for row in rows:
            found[row.workflow_id].append(_view(row))
        return found

    def document_ids(self, workflow_id: UUID) -> list[UUID]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(documents.c.id)
                    .where(documents.c.workflow_id == workflow_id)
                    .order_by(documents.c.created_at, documents.c.id)
                ).scalars()
            )

    def indexed(self, workflow_id: UUID, node_id: str, embedding_model: str) -> list[UUID]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(documents.c.id)
                    .where(documents.c.workflow_id == workflow_id)
                    .where(documents.c.node_id == node_id)
                    .where(documents.c.status == DocumentStatus.INDEXED.value)
                    .where(documents.c.embedding_model == embedding_model)
                ).scalars()
            )


def _view(row: Any) -> DocumentView:
    return DocumentView(
        id=row.id,
        workflow_id=row.workflow_id,
        node_id=row.node_id,
        filename=row.filename,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        status=DocumentStatus(row.status),
        generation=row.generation,
        settings=IndexSettings.from_dict(row.settings),
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
        page_count=row.page_count,
        chunk_count=row.chunk_count,
        embedding_model=row.embedding_model,
        failed_stage=row.failed_stage,
        error=row.error,
    )
