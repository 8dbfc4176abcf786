"""The ingestion task queue, on PostgreSQL: procrastinate's tables (migration 0015).

The ingestion follower (one process at a time) turns the log's requests for a document's
index into queued jobs (`IngestionQueue.defer`); any number of processes on any number of
machines run them (`IngestionJobs`: `genai-stack worker`, and the API process unless
GENAI_INGESTION_WORKERS=0). A job is a generation of a document to index; running it is
`Ingestion.process`, idempotent, which records the outcome through DocumentService (a
generation already complete, or no longer asked for, is left alone).

Deferring is idempotent: a job's queueing lock is its document, generation and request, so
the follower replaying an event after a crash finds the job still waiting and queues no
second one (one already run runs again and changes nothing). Its lock is the document and
generation: two workers never index the same generation at once.

Fair order: jobs of documents larger than GENAI_INGESTION_LARGE_MB go to a lane of their own
(`ingestion_large`, one job at a time per process), so large PDFs never occupy every slot
of the small ones' lane (`ingestion`). Within a lane, the priority takes the stacks in turn
and smaller documents first: a job's tier is the number of its stack's jobs already
waiting, so each stack's first waiting job goes before any stack's second; within a tier,
the smaller document goes first.

A worker that dies (killed, its machine gone) stops sending procrastinate's heartbeats;
every running `IngestionJobs` looks for jobs of workers silent for three heartbeats and puts
them back in the queue, where another worker takes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import procrastinate
import psycopg
import structlog
from procrastinate import exceptions
from procrastinate.retry import RetryDecision

from application.document.ingestion import Interrupted

log = structlog.get_logger(__name__)

TASK = "genai.ingestion.index"
QUEUE, LARGE_QUEUE = "ingestion", "ingestion_large"
MAX_TIER = 2000  # a stack's waiting jobs counted for its priority (beyond: all last)
MAX_KIB = 999_999  # a document's size counted for its priority, in KiB
TRIES = 3  # of a job that fails unexpectedly (a document that cannot be read fails itself)
WAIT_BETWEEN_TRIES = 2  # seconds
STALLED_HEARTBEATS = 3  # heartbeats missed before a worker's jobs go back to the queue
RESTART_SECONDS = 1.0  # before a worker that stopped by itself starts again

WAITING_OF_STACK = (
    "SELECT count(*) AS waiting FROM procrastinate_jobs"
    " WHERE status = 'todo' AND task_name = %(task)s AND args->>'stack' = %(stack)s"
)
DEPTH = (
    "SELECT count(*) AS depth FROM procrastinate_jobs"
    " WHERE status IN ('todo', 'doing') AND task_name = %(task)s"
)


@dataclass(frozen=True)
class IndexJob:
    """One generation of one document to index, as asked by the log."""

    document_id: UUID
    key: str
    request: int
    stack: UUID
    size: int  # bytes of the document's file


def priority(tier: int, size: int) -> int:
    """Higher runs first: stacks in turn (`tier`: the stack's jobs already waiting), then
    smaller documents first."""
    return -(min(tier, MAX_TIER) * (MAX_KIB + 1) + min(size // 1024, MAX_KIB))


class IngestionQueue:
    """Where the ingestion follower queues jobs, and /metrics reads the queue's depth."""

    def __init__(self, conninfo: str, large_bytes: int) -> None:
        connector = procrastinate.SyncPsycopgConnector(conninfo=conninfo, min_size=1, max_size=2)
        self.app = procrastinate.App(connector=connector)
        self.large_bytes = large_bytes
        self._opened = False
        self._lock = threading.Lock()

    def defer(self, job: IndexJob) -> bool:
        """Queues the job; False when the same one is already waiting. A database away
        raises ConnectionError (transient: the follower tries again, never skips it)."""
        with self._connected():
            large = job.size > self.large_bytes
            tier = self._waiting_of(job.stack)
            deferrer = self.app.configure_task(
                TASK,
                queue=LARGE_QUEUE if large else QUEUE,
                priority=priority(tier, job.size),
                lock=f"{job.document_id}:{job.key}",
                queueing_lock=f"{job.document_id}:{job.key}:{job.request}",
            )
            try:
                deferrer.defer(
                    document_id=str(job.document_id),
                    key=job.key,
                    request=job.request,
                    stack=str(job.stack),
                )
            except exceptions.AlreadyEnqueued:
                return False
            return True

    def depth(self) -> int:
        """Jobs waiting or running."""
        with self._connected():
            row = self.app.connector.execute_query_one(DEPTH, task=TASK)  # type: ignore[arg-type]
            return int(row["depth"])

    def wait_empty(self, timeout: float, poll: float = 0.2) -> bool:
        """Waits until no job waits or runs (a rebuild's, run by this or other processes)."""
        deadline = time.monotonic() + timeout
        while self.depth() > 0:
            if time.monotonic() > deadline:
                return False
            time.sleep(poll)
        return True

    def close(self) -> None:
        with self._lock:
            if self._opened:
                self.app.close()
                self._opened = False

    def _waiting_of(self, stack: UUID) -> int:
        row = self.app.connector.execute_query_one(  # type: ignore[arg-type]
            WAITING_OF_STACK, task=TASK, stack=str(stack)
        )
        return int(row["waiting"])

    @contextlib.contextmanager
    def _connected(self) -> Any:
        with self._lock:
            if not self._opened:
                self.app.open()
                self._opened = True
        try:
            yield
        except exceptions.AlreadyEnqueued:
            raise
        except exceptions.ConnectorException as error:
            raise ConnectionError(f"the task queue is away: {error}") from error


class _Retry(procrastinate.RetryStrategy):
    """procrastinate's strategy, except that a job stopped with its process (or by a
    stalled-job retry) always goes back to the queue: only its own failures count."""

    def get_retry_decision(self, *, exception: BaseException, job: Any) -> Any:
        if isinstance(exception, Stopping | Interrupted):
            return RetryDecision(retry_in={"seconds": 0})
        return super().get_retry_decision(exception=exception, job=job)


class Stopping(Exception):
    """The process stops: the job goes back to the queue for another (no try counted)."""


RunJob = Callable[[UUID, str, int, threading.Event], None]
# a generation whose last try failed: (document, generation, request, tries, the error)
GiveUp = Callable[[UUID, str, int, int, BaseException], None]


class _PatientConnection(psycopg.AsyncConnection):  # type: ignore[type-arg]
    """psycopg wakes every wait on a connection ten times a second to look for a Ctrl-C,
    which asyncio sees anyway (and which never reaches this thread): the workers' LISTEN
    connections, waiting for new jobs, cost an idle server a few milliseconds of CPU a
    second. Their waits wake for the socket, a timeout or a cancellation only."""

    async def wait(self, gen: Any, interval: float = 60.0, timeout: float | None = None) -> Any:
        return await super().wait(gen, interval=interval, timeout=timeout)


class IngestionJobs:
    """Runs queued ingestion jobs in this process: a thread with its own event loop, where
    procrastinate's workers take jobs from both lanes (`concurrency` small documents and
    one large at once) and run each on a thread of their own, and where stalled jobs of
    dead workers are put back in the queue."""

    def __init__(
        self,
        conninfo: str,
        run: RunJob,
        give_up: GiveUp,
        concurrency: int,
        heartbeat_seconds: float = 10.0,
        name: str = "ingestion",
    ) -> None:
        self.conninfo, self.run, self.concurrency = conninfo, run, concurrency
        self.give_up = give_up
        self.heartbeat_seconds, self.name = heartbeat_seconds, name
        self.stopping = threading.Event()  # jobs in flight see it between two slices
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name=f"jobs-{self.name}", daemon=True)
        self._thread.start()
        self._started.wait(30)

    def stop(self, timeout: float = 30.0) -> None:
        """Jobs in flight stop at their next slice and go back to the queue."""
        self.stopping.set()
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except Exception:
            log.exception("the ingestion jobs' worker ended", worker=self.name)
        finally:
            self._started.set()

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        connector = procrastinate.PsycopgConnector(
            conninfo=self.conninfo,
            min_size=1,
            max_size=self.concurrency + 3,
            connection_class=_PatientConnection,
        )
        app = procrastinate.App(connector=connector)
        app.task(
            name=TASK,
            retry=_Retry(max_attempts=TRIES - 1, wait=WAIT_BETWEEN_TRIES),
            pass_context=True,
        )(self._job)
        async with app.open_async():
            self._workers: set[Any] = set()
            running = [
                asyncio.create_task(self._keep_running(app, QUEUE, self.concurrency)),
                asyncio.create_task(self._keep_running(app, LARGE_QUEUE, 1)),
            ]
            retrier = asyncio.create_task(self._retry_stalled(app))
            self._started.set()
            log.info("ingestion jobs running", worker=self.name, concurrency=self.concurrency)
            await self._stop.wait()
            retrier.cancel()
            for worker in list(self._workers):
                worker.stop()
            await asyncio.gather(*running, retrier, return_exceptions=True)

    async def _keep_running(self, app: procrastinate.App, queue: str, concurrency: int) -> None:
        """A procrastinate worker on `queue`, started again when it stops by itself (it
        does when the database goes away under one of its side tasks)."""
        assert self._stop is not None
        while not self._stop.is_set():
            worker = self._worker(app, queue, concurrency)
            self._workers.add(worker)
            try:
                await worker.run()
            except Exception:
                log.warning("an ingestion worker stopped", queue=queue, exc_info=True)
            finally:
                self._workers.discard(worker)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), RESTART_SECONDS)

    def _worker(self, app: procrastinate.App, queue: str, concurrency: int) -> Any:
        from procrastinate.worker import Worker

        return Worker(
            app,
            queues=[queue],
            name=f"{self.name}-{queue}",
            concurrency=concurrency,
            install_signal_handlers=False,
            update_heartbeat_interval=self.heartbeat_seconds,
            stalled_worker_timeout=self.heartbeat_seconds * STALLED_HEARTBEATS,
            fetch_job_polling_interval=max(self.heartbeat_seconds, 1.0),
            delete_jobs="successful",
        )

    async def _retry_stalled(self, app: procrastinate.App) -> None:
        """Puts the jobs of workers silent for a while back in the queue (any process may:
        a job another retried first is no longer running, and is passed over)."""
        silent = self.heartbeat_seconds * STALLED_HEARTBEATS
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=silent)
                for job in stalled:
                    with contextlib.suppress(exceptions.ConnectorException):
                        await app.job_manager.retry_job(job)
                        log.warning("a stalled ingestion job goes back to the queue", job=job.id)
            except Exception:  # the database away: look again next time
                log.warning("looking for stalled jobs failed", exc_info=True)

    def _job(
        self,
        context: procrastinate.JobContext,
        document_id: str,
        key: str,
        request: int,
        stack: str,
    ) -> None:
        if self.stopping.is_set():
            raise Stopping()
        try:
            self.run(UUID(document_id), key, request, self.stopping)
        except Exception as error:
            tries = context.job.attempts + 1
            if tries >= TRIES and not isinstance(error, Stopping | Interrupted):
                self._give_up(UUID(document_id), key, request, tries, error)
            raise

    def _give_up(
        self, document_id: UUID, key: str, request: int, tries: int, error: BaseException
    ) -> None:
        """The job's last try failed: the document is told, rather than left pending."""
        try:
            self.give_up(document_id, key, request, tries, error)
        except Exception:
            log.warning("the document's failure was not recorded", document=str(document_id))
