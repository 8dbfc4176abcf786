"""The ingestion process as a follower of the log.

Tracked like a projection (a killed process resumes where its tracking says; with
PostgreSQL one process at a time works it, by its advisory lock) and run by its own worker
thread, so a long document never delays another projection nor the API. Its effects are
idempotent (application.document.ingestion): an event processed twice after a crash changes
nothing the second time.

Fair scheduling: the follower reads the log ahead of its tracked position. An event that asks
for a document's index (uploaded, index or reindex requested) becomes a job: the steps of
`Ingestion.steps`, run one slice at a time (a few pages extracted, or one batch embedded),
taking turns with the other jobs, round robin, so a small document uploaded after a large
one is indexed after a few of the large one's slices, not after all of them. Other events
(drops, removals, workflow changes) are applied as they are read. The tracked position moves
to just before the oldest unfinished job: after a crash, the jobs not finished are read
again and run from their start (the finished ones after them find their vectors there).
At most `MAX_JOBS` run at once (each holds its document's text): the log is read no further
until one ends. That is the embedded default's (SQLite) ingestion, in the server's process.

With PostgreSQL, `QueuedIngestionWorker` follows the log instead: a job event becomes a job
in the task queue (infrastructure/task_queue.py), deferred idempotently, and the tracked
position moves past it once it is queued; worker processes run the jobs. The other events
are applied as they are read, as above.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

import structlog
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
from infrastructure.readmodel import failures
from infrastructure.readmodel.runner import (
    BATCH,
    TRIES,
    AdvisoryLock,
    LogRead,
    ProjectionWorker,
)
from infrastructure.readmodel.tracking import SqlTrackingView

if TYPE_CHECKING:
    from infrastructure.task_queue import IngestionQueue

log = structlog.get_logger(__name__)

# Rebuilds and catch-ups replay the documents table first; a live one follows closely.
DOCUMENTS_WAIT_SECONDS = 60.0
MAX_JOBS = 8  # documents indexed at once, taking turns


@dataclass
class Job:
    """One generation of one document to index, asked by the event at `position`."""

    position: int
    document_id: UUID
    key: str
    request: int
    steps: Generator[None, None, None] | None = None
    tries: int = 0
    notification: Any = field(default=None, repr=False)


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
        self.queue: IngestionQueue | None = None  # with PostgreSQL: jobs are queued there

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self._track(tracking)  # not ours: only the position moves

    @process_event.register(Document.DocumentUploaded)
    @process_event.register(Document.DocumentIndexRequested)
    @process_event.register(Document.DocumentReindexRequested)
    def _index_asked(self, domain_event: Any, tracking: Tracking) -> None:
        """Queued when there is a queue; else all at once (IngestionWorker runs them as jobs,
        in slices, instead)."""
        job = self.job_of(domain_event, tracking.notification_id)
        if self.queue is not None:
            self._enqueue(job)
        else:
            self.ingestion.process(job.document_id, job.key, job.request)
        self._track(tracking)

    def _enqueue(self, job: Job) -> None:
        """The job, with what orders it fairly (its stack, its file's size). Replayed after
        a crash, it is not queued twice (the queue's lock: document, generation, request)."""
        from infrastructure.task_queue import IndexJob

        assert self.queue is not None
        doc = self.ingestion.documents.load(job.document_id)
        if doc is None:
            return
        self.queue.defer(IndexJob(job.document_id, job.key, job.request, doc.workflow_id, doc.size))

    JOB_EVENTS = (
        Document.DocumentUploaded,
        Document.DocumentIndexRequested,
        Document.DocumentReindexRequested,
    )

    @staticmethod
    def job_of(domain_event: Any, position: int) -> Job:
        key = IndexSettings.from_dict(domain_event.settings).key
        if isinstance(domain_event, Document.DocumentUploaded):
            request = 1
        elif isinstance(domain_event, Document.DocumentIndexRequested):
            request = domain_event.request
        else:  # stored before generations: the one index, rebuilt in place
            request = domain_event.generation
        return Job(position, domain_event.originator_id, key, request)

    @process_event.register(Document.DocumentIndexDropped)
    def _index_dropped(self, domain_event: Any, tracking: Tracking) -> None:
        dropped = DocumentIndex(
            IndexSettings.from_dict(domain_event.settings),
            request=0,
            embedding_model=domain_event.embedding_model,
            legacy=domain_event.legacy,
        )
        self.ingestion.drop(domain_event.originator_id, dropped)
        self._track(tracking)

    @process_event.register(Document.DocumentRemoved)
    def _removed(self, domain_event: Any, tracking: Tracking) -> None:
        self._documents_caught_up(tracking.notification_id)  # who else holds its file
        self.ingestion.purge(domain_event.originator_id)
        self._track(tracking)

    # Any change of a workflow may change what its knowledge bases ask for: a node's
    # settings in the draft (edited, added, removed, imported, rolled back, undone…) or
    # in the published version (a Build). Events of other kinds cost a read of its
    # documents (usually none) and change nothing.
    @process_event.register(Workflow.Event)
    def _workflow_changed(self, domain_event: Any, tracking: Tracking) -> None:
        self._documents_caught_up(tracking.notification_id)
        self.ingestion.reconcile(domain_event.originator_id)
        self._track(tracking)

    @process_event.register(Workflow.WorkflowDeleted)
    def _workflow_deleted(self, domain_event: Any, tracking: Tracking) -> None:
        self._documents_caught_up(tracking.notification_id)
        self.ingestion.forget_workflow(domain_event.originator_id)
        self._track(tracking)

    def forget(self) -> None:
        pass  # keeps nothing between events

    # The worker reads ahead and moves the position itself, once the jobs before it are done.
    tracks = True

    def _track(self, tracking: Tracking) -> None:
        if self.tracks:
            self.view.insert_tracking(tracking)

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
    version of this server get the generation their published version answers from.
    Documents are indexed as jobs taking turns (see the module's docstring)."""

    def __init__(
        self,
        store: EventLog,
        projection: IngestionProjection,
        watcher: LogWatcher,
        index: VectorIndex,
        lock: AdvisoryLock | None = None,
        poll_seconds: float = 1.0,
        max_jobs: int = MAX_JOBS,
    ) -> None:
        super().__init__(store, projection, watcher, lock, poll_seconds)
        self.index, self.ingestion_projection = index, projection
        projection.tracks = False
        self.max_jobs = max_jobs
        self._reconciled = False
        self._jobs: deque[Job] = deque()  # their turns: the first goes next
        self._read: int | None = None  # the last event read (the position, or past it)
        self._log_end = False  # the last read reached the end of the log
        self._inline_tries: tuple[int, int] = (0, 0)

    def catch_up(self, limit: int | None = None) -> int:
        """Reads the log and runs the jobs' slices, taking turns, until nothing is left to
        read or run (or `limit` events were read and their jobs run); how many events."""
        if not self._reconciled:
            self.ingestion_projection.reconcile_all(self.store.max_notification_id())
            self._reconciled = True
        done = 0
        self.reached_end = False
        while not self._stop.is_set():
            read = self._read_ahead() if limit is None or done < limit else 0
            ran = self._run_slice()
            self._record_position()
            if not read and not ran:
                break
            done += read
            if self._log_end and not self._jobs:  # read to the end, nothing left to run
                self.reached_end = True
                break
        self._write_position(due=False)
        return done

    def recover(self) -> None:
        """Starts again from the tracked position: the jobs not finished are read again."""
        super().recover()
        for job in self._jobs:
            if job.steps is not None:
                job.steps.close()
        self._jobs.clear()
        self._read = None

    def rebuild(self, known: LogRead | None = None) -> int:
        self.index.reset()
        self.recover()
        return super().rebuild(known)

    @property
    def jobs(self) -> list[tuple[UUID, str]]:
        """The documents (and generations) being indexed, the next to go on first."""
        return [(job.document_id, job.key) for job in self._jobs]

    # ---------------------------------------------------------------- reading ahead

    def _read_ahead(self) -> int:
        """Reads events after the last one read while there is room for jobs: a job event
        becomes a job, any other is applied at once. How many were read."""
        if self._read is None:
            self._read = self._start() - 1
        read = 0
        self._log_end = False
        size = min(BATCH, self.max_jobs * 4)
        while len(self._jobs) < self.max_jobs:
            notifications = self._read_log(self._read + 1, size)
            if not notifications:
                self._log_end = True
                break
            for n in notifications:
                if len(self._jobs) >= self.max_jobs:
                    return read
                if self._handles(n.topic):
                    self._take(n)
                self._read = n.id
                read += 1
            if len(notifications) < size:  # the end of the log as it was read
                self._log_end = True
                break
        return read

    def _take(self, notification: Any) -> None:
        event = self.store.mapper.to_domain_event(notification)
        projection = self.ingestion_projection
        if isinstance(event, IngestionProjection.JOB_EVENTS):
            job = projection.job_of(event, notification.id)
            job.notification = notification
            # a newer request for the same generation replaces one not finished
            for older in [
                j for j in self._jobs if (j.document_id, j.key) == (job.document_id, job.key)
            ]:
                self._end(older)
            self._jobs.append(job)
            return
        if isinstance(event, Document.DocumentRemoved):
            for gone in [j for j in self._jobs if j.document_id == event.originator_id]:
                self._end(gone)
        try:
            projection.process_event(event, Tracking(self.store.name, notification.id))
        except Exception as error:
            if failures.is_transient(error) or self._inline_tried(notification.id) < TRIES:
                raise
            self._record_failure(notification, error)
        self._inline_tries = (0, 0)

    def _inline_tried(self, notification_id: int) -> int:
        last, tries = self._inline_tries
        self._inline_tries = (notification_id, tries + 1 if last == notification_id else 1)
        return self._inline_tries[1]

    # ---------------------------------------------------------------- the jobs' turns

    def _run_slice(self) -> int:
        """Runs the next job's next slice; 1 when there was one to run."""
        if not self._jobs:
            return 0
        job = self._jobs.popleft()
        if job.steps is None:
            job.steps = self.ingestion_projection.ingestion.steps(
                job.document_id, job.key, job.request
            )
        try:
            next(job.steps)
        except StopIteration:
            return 1  # finished: out of the turns
        except Exception as error:
            job.steps = None
            if failures.is_transient(error):
                self._jobs.appendleft(job)  # the database is away: all start again
                raise
            job.tries += 1
            if job.tries < TRIES:
                log.warning("indexing a document failed; trying again", job=job, exc_info=True)
                self._jobs.append(job)
            else:
                self._record_failure(job.notification, error)
                self._give_up(job, error)
            return 1
        self._jobs.append(job)
        return 1

    def _end(self, job: Job) -> None:
        if job.steps is not None:
            job.steps.close()
        self._jobs.remove(job)

    def _record_position(self) -> None:
        """Moves the position to just before the oldest job not finished (written once
        the log is quiet for a moment, or within UNWRITTEN_SECONDS: after a crash, the
        events since the written one are read again, which changes nothing)."""
        if self._read is None:
            return
        self._defer(min((job.position - 1 for job in self._jobs), default=self._read))

    def _give_up(self, job: Job, error: BaseException) -> None:
        """The document is told its generation failed, rather than left pending."""
        try:
            self.ingestion_projection.ingestion.give_up(
                job.document_id, job.key, job.request, job.tries, error
            )
        except Exception:
            log.warning("the document's failure was not recorded", job=job, exc_info=True)

    def _record_failure(self, notification: Any, error: BaseException) -> None:
        """An event that fails the same way again and again is recorded (visible in /readyz
        and the metrics), and the others go on."""
        log.error(
            "ingestion skips an event it cannot apply",
            notification_id=notification.id,
            aggregate=str(notification.originator_id),
            exc_info=error,
        )
        try:
            with self.projection.view.engine.begin() as conn:
                failures.record(conn, self.projection.name, notification, error)
        except Exception:
            log.warning("the failure was not recorded", exc_info=True)


class QueuedIngestionWorker(ProjectionWorker):
    """The ingestion follower with PostgreSQL: one process at a time (its advisory lock)
    turns the log's requests for an index into queued jobs, and applies the other events
    (drops, removals, workflow changes) as it reads them. Like IngestionWorker, it reconciles
    every workflow's documents before it first follows the log, and its rebuild starts from
    an empty vector index (the jobs queued again are run by the worker processes)."""

    def __init__(
        self,
        store: EventLog,
        projection: IngestionProjection,
        watcher: LogWatcher,
        index: VectorIndex,
        queue: IngestionQueue,
        lock: AdvisoryLock | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        super().__init__(store, projection, watcher, lock, poll_seconds)
        self.index, self.ingestion_projection, self.queue = index, projection, queue
        projection.queue = queue
        self._reconciled = False

    def catch_up(self, limit: int | None = None) -> int:
        if not self._reconciled:
            self.ingestion_projection.reconcile_all(self.store.max_notification_id())
            self._reconciled = True
        return super().catch_up(limit)

    def rebuild(self, known: LogRead | None = None) -> int:
        self.index.reset()
        return super().rebuild(known)

    @property
    def jobs(self) -> list[tuple[UUID, str]]:
        """None held here: they are in the queue (`queue.depth()`)."""
        return []
