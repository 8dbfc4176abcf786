"""The ingestion process as a follower of the log.

Tracked like a projection (a killed process resumes where its tracking says; with
PostgreSQL one process at a time works it, by its advisory lock) and run by its own worker
thread, so a long document delays only the documents after it, never another projection nor
the API. Its effects are idempotent (application.document.ingestion): an event processed twice after
a crash changes nothing the second time.
"""

from __future__ import annotations

import time
from typing import Any

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from application.document.ingestion import Ingestion
from application.eventlog.log import EventLog
from application.ports import VectorIndex
from domain.document import Document, DocumentIndex
from domain.knowledge_base import IndexSettings
from domain.workflow import Workflow
from infrastructure.log_watcher import LogWatcher
from infrastructure.readmodel.runner import AdvisoryLock, ProjectionWorker
from infrastructure.readmodel.tracking import SqlTrackingView

# Rebuilds and catch-ups replay the documents table first; a live one follows closely.
DOCUMENTS_WAIT_SECONDS = 60.0


class IngestionProjection(Projection[SqlTrackingView]):
    name = "ingestion"
    tables = ()

    def __init__(
        self,
        view: SqlTrackingView,
        ingestion: Ingestion,
        documents_view: SqlTrackingView,
        application_name: str,
    ) -> None:
        super().__init__(view)
        self.ingestion, self.documents_view = ingestion, documents_view
        self.application_name = application_name

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)  # not ours: only the position moves

    @process_event.register(Document.DocumentUploaded)
    def _uploaded(self, domain_event: Any, tracking: Tracking) -> None:
        key = IndexSettings.from_dict(domain_event.settings).key
        self.ingestion.process(domain_event.originator_id, key, 1)
        self.view.insert_tracking(tracking)

    @process_event.register(Document.DocumentIndexRequested)
    def _index_requested(self, domain_event: Any, tracking: Tracking) -> None:
        key = IndexSettings.from_dict(domain_event.settings).key
        self.ingestion.process(domain_event.originator_id, key, domain_event.request)
        self.view.insert_tracking(tracking)

    @process_event.register(Document.DocumentReindexRequested)
    def _reindex_requested(self, domain_event: Any, tracking: Tracking) -> None:
        # stored before generations: the one index, rebuilt in place
        key = IndexSettings.from_dict(domain_event.settings).key
        self.ingestion.process(domain_event.originator_id, key, domain_event.generation)
        self.view.insert_tracking(tracking)

    @process_event.register(Document.DocumentIndexDropped)
    def _index_dropped(self, domain_event: Any, tracking: Tracking) -> None:
        dropped = DocumentIndex(
            IndexSettings.from_dict(domain_event.settings),
            request=0,
            embedding_model=domain_event.embedding_model,
            legacy=domain_event.legacy,
        )
        self.ingestion.drop(domain_event.originator_id, dropped)
        self.view.insert_tracking(tracking)

    @process_event.register(Document.DocumentRemoved)
    def _removed(self, domain_event: Any, tracking: Tracking) -> None:
        self._documents_caught_up(tracking.notification_id)  # who else holds its file
        self.ingestion.purge(domain_event.originator_id)
        self.view.insert_tracking(tracking)

    # Any change of a workflow may change what its knowledge bases ask for: a node's
    # settings in the draft (edited, added, removed, imported, rolled back, undone…) or
    # in the published version (a Build). Events of other kinds cost a read of its
    # documents (usually none) and change nothing.
    @process_event.register(Workflow.Event)
    def _workflow_changed(self, domain_event: Any, tracking: Tracking) -> None:
        self._documents_caught_up(tracking.notification_id)
        self.ingestion.reconcile(domain_event.originator_id)
        self.view.insert_tracking(tracking)

    @process_event.register(Workflow.WorkflowDeleted)
    def _workflow_deleted(self, domain_event: Any, tracking: Tracking) -> None:
        self._documents_caught_up(tracking.notification_id)
        self.ingestion.forget_workflow(domain_event.originator_id)
        self.view.insert_tracking(tracking)

    def forget(self) -> None:
        pass  # keeps nothing between events

    def reconcile_all(self, notification_id: int) -> None:
        """Reconciles every workflow that has documents, as of the log up to here."""
        self._documents_caught_up(notification_id)
        for workflow_id in self.ingestion.read_model.workflows_with_documents():
            self.ingestion.reconcile(workflow_id)

    def _documents_caught_up(self, notification_id: int) -> None:
        """Reconciling reads the documents table: it must have seen everything up to here."""
        deadline = time.monotonic() + DOCUMENTS_WAIT_SECONDS
        while (self.documents_view.max_tracking_id(self.application_name) or 0) < notification_id:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the documents table has not reached event {notification_id}")
            time.sleep(0.05)


class IngestionWorker(ProjectionWorker):
    """Its rebuild starts from an empty vector index and indexes every document again from
    the log and the blobs. Before it first follows the log, it reconciles every workflow's
    documents with what their knowledge bases ask for: documents stored by an earlier
    version of this server get the generation their published version answers from."""

    def __init__(
        self,
        store: EventLog,
        projection: IngestionProjection,
        watcher: LogWatcher,
        index: VectorIndex,
        lock: AdvisoryLock | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        super().__init__(store, projection, watcher, lock, poll_seconds)
        self.index, self.ingestion_projection = index, projection
        self._reconciled = False

    def catch_up(self, limit: int | None = None) -> int:
        if not self._reconciled:
            self.ingestion_projection.reconcile_all(self.store.max_notification_id())
            self._reconciled = True
        return super().catch_up(limit)

    def rebuild(self) -> int:
        self.index.reset()
        return super().rebuild()
