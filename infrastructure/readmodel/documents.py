"""The `documents` read table: its projection and its queries."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from sqlalchemy import Connection, Engine, insert, select, update

from application.document.views import DocumentView
from application.eventlog.log import EventLog
from domain.document import Document, DocumentIndex, DocumentStatus
from domain.knowledge_base import IndexSettings
from infrastructure.readmodel.tables import documents
from infrastructure.readmodel.tracking import SqlTrackingView
from infrastructure.readmodel.workflows import aware


class DocumentsProjection(Projection[SqlTrackingView]):
    name = "documents"
    tables = (documents,)
    batched = True  # writes only through its view: a page of events is one transaction

    def __init__(self, view: SqlTrackingView, store: EventLog) -> None:
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
    shown = doc.shown
    row = {
        "workflow_id": doc.workflow_id,
        "node_id": doc.node_id,
        "filename": doc.filename,
        "content_type": doc.content_type,
        "size_bytes": doc.size,
        "sha256": doc.sha256,
        "status": doc.status.value,
        "generation": shown.request if shown else 0,
        "settings": doc.settings.to_dict(),
        "page_count": shown.page_count if shown else None,
        "chunk_count": shown.chunk_count if shown else None,
        "embedding_model": shown.embedding_model if shown else None,
        "failed_stage": shown.failed_stage if shown else None,
        "error": shown.error if shown else None,
        "draft_settings": _dict_or_none(doc.draft),
        "published_settings": _dict_or_none(doc.published),
        "indexes": [i.to_dict() for i in doc.indexes.values()],
        "created_at": doc.created_on,
        "updated_at": doc.modified_on,
        "last_actor": doc.last_actor,
    }
    if conn.execute(update(documents).where(documents.c.id == doc.id).values(**row)).rowcount == 0:
        conn.execute(insert(documents).values(id=doc.id, **row))


def _dict_or_none(settings: IndexSettings | None) -> dict[str, Any] | None:
    return None if settings is None else settings.to_dict()


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

    def indexed(
        self, workflow_id: UUID, node_id: str, key: str
    ) -> list[tuple[UUID, DocumentIndex]]:
        # A node has tens or hundreds of documents: their generations are sifted here
        # rather than by each database's JSON operators.
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(documents.c.id, documents.c.indexes)
                .where(documents.c.workflow_id == workflow_id)
                .where(documents.c.node_id == node_id)
                .where(documents.c.status != DocumentStatus.REMOVED.value)
            ).all()
        found = []
        for row in rows:
            for data in row.indexes:
                index = DocumentIndex.from_dict(data)
                if index.key == key and index.complete:
                    found.append((row.id, index))
        return found

    def file_in_use(self, sha256: str, other_than: UUID) -> bool:
        query = (
            select(documents.c.id)
            .where(documents.c.sha256 == sha256)
            .where(documents.c.id != other_than)
            .where(documents.c.status != DocumentStatus.REMOVED.value)
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def workflows_with_documents(self) -> list[UUID]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(documents.c.workflow_id)
                    .where(documents.c.status != DocumentStatus.REMOVED.value)
                    .distinct()
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
        settings=IndexSettings.from_dict(row.settings),
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
        draft=_settings_or_none(row.draft_settings),
        published=_settings_or_none(row.published_settings),
        indexes=tuple(DocumentIndex.from_dict(i) for i in row.indexes),
    )


def _settings_or_none(data: Any) -> IndexSettings | None:
    return None if data is None else IndexSettings.from_dict(data)
