"""Ingestion on many workers (PostgreSQL): the ingestion follower queues each document's job
in a PostgreSQL task queue, and `genai-stack worker` processes run them. A job whose worker is
killed mid-way is finished by another; a large PDF held by the only worker does not hold a
small one of another stack (whose progress reaches the API's subscribers); a replayed request
is not queued twice."""

# ruff: noqa: F811  (the backend fixtures are imported, then named as parameters)

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest

from application.document.ingestion import EMBED_BATCH
from infrastructure.database import create_read_engine, migrate
from infrastructure.settings import Settings
from infrastructure.task_queue import QUEUE, IndexJob, IngestionQueue
from tests import pdfs
from tests.fakes import FakeOpenAIServer, RecordedRequest
from tests.integration.documents_client import (  # noqa: F401  (fixtures)
    ClientFactory,
    add_knowledge_base,
    chunk_count,
    document,
    document_events,
    make_client,
    new_workflow,
    services,
    settings,
    upload,
    vectors,
    wait_for_status,
)
from tests.integration.gql import GQL
from tests.integration.servers import GENAI_STACK

pytestmark = pytest.mark.timeout(300)
postgres = pytest.mark.parametrize("backend", ["postgres"])

HEARTBEAT = 0.5  # seconds: a killed worker's job goes back to the queue after three
SMALL_WORD = "Zanzibar"


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    assert settings.database_url and settings.chroma_url
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "CHROMA_URL": settings.chroma_url,
        "GENAI_DATA_DIR": str(settings.genai_data_dir),
        "GENAI_POLL_SECONDS": "0.2",
        "GENAI_OUTBOUND_LOOPBACK": "true",  # the fake embedder listens on loopback
        "GENAI_PRELOAD_EMBEDDER": "false",
        "GENAI_INGESTION_HEARTBEAT_SECONDS": str(HEARTBEAT),
        "GENAI_DB_POOL_SIZE": "3",  # PostgreSQL is shared by the tests running at once
        **extra,
    }


@contextmanager
def worker(settings: Settings, name: str, **extra: str) -> Iterator[subprocess.Popen[bytes]]:
    """`genai-stack worker` (one job at a time, no projections: the API process runs them),
    its output in `<name>.log` beside the data dir; stopped afterwards if still running."""
    log_path = Path(settings.genai_data_dir).parent / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [GENAI_STACK, "worker", "--concurrency", "1", "--no-projections"],
            env=worker_env(settings, **extra),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)


def embeddings(request: RecordedRequest) -> bool:
    return request.path.endswith("/embeddings")


def indexed_events(client: object, document_id: str) -> int:
    store = services(client).event_log  # type: ignore[arg-type]
    notifications = store.recorder.select_notifications(start=1, limit=100_000)
    return sum(
        1
        for n in notifications
        if str(n.originator_id) == document_id and n.topic.endswith("DocumentIndexed")
    )


@postgres
def test_a_job_whose_worker_is_killed_mid_way_is_finished_by_another_worker(
    make_client: ClientFactory, settings: Settings, fake_openai: FakeOpenAIServer
) -> None:
    client = make_client(genai_ingestion_workers=0)  # the API queues; workers run the jobs
    gql = GQL(client)
    wid = new_workflow(gql)
    add_knowledge_base(
        gql, wid, embedder="openai", baseUrl=fake_openai.base_url, chunkSize=100, chunkOverlap=0
    )
    data = pdfs.large_pdf(12)
    chunks = chunk_count(data, 100, 0)
    assert chunks > EMBED_BATCH  # more than one batch to embed

    # the second batch, held in flight
    with fake_openai.hold(embeddings, nth=2) as gate, worker(settings, "first") as first:
        doc = upload(client, wid, data)["id"]
        gate.wait_arrived(90)
        first.send_signal(signal.SIGKILL)  # mid-job: half its vectors written
        first.wait(10)
    model = f"openai/text-embedding-3-small@127.0.0.1:{fake_openai.port}"
    assert vectors(client, model, doc) == EMBED_BATCH
    assert document(gql, doc)["status"] == "PENDING"  # type: ignore[index]

    with worker(settings, "second"):  # finds the first one silent, and takes its job over
        indexed = wait_for_status(gql, doc, timeout=120)
    assert (indexed["status"], indexed["chunkCount"]) == ("INDEXED", chunks), indexed
    assert vectors(client, model, doc) == chunks
    assert indexed_events(client, doc) == 1


@postgres
def test_a_small_pdf_of_another_stack_is_indexed_while_the_only_worker_holds_a_large_one(
    make_client: ClientFactory, settings: Settings, fake_openai: FakeOpenAIServer
) -> None:
    threshold_mb = 20 / 1024  # 20 KiB: the large one (37 KiB) is large, the small one not
    # the follower (here, in the API process) chooses the lane when it queues the job
    client = make_client(
        genai_ingestion_workers=0, genai_embed_batch=4, genai_ingestion_large_mb=threshold_mb
    )
    gql = GQL(client)
    stacks = [new_workflow(gql, name) for name in ("Large", "Small")]
    for wid in stacks:
        add_knowledge_base(
            gql,
            wid,
            embedder="openai",
            baseUrl=fake_openai.base_url,
            chunkSize=300,
            chunkOverlap=0,
        )
    large_pdf = pdfs.large_pdf(30)
    small_pdf = pdfs.text_pdf([f"{SMALL_WORD} has a lighthouse on its northern tip."])
    assert len(small_pdf) < 20 * 1024 < len(large_pdf)

    def of_large(request: RecordedRequest) -> bool:
        return embeddings(request) and SMALL_WORD not in json.dumps(request.body)

    with (
        worker(settings, "only"),
        fake_openai.hold(of_large) as gate,
    ):
        large = upload(client, stacks[0], large_pdf, "large.pdf")["id"]
        gate.wait_arrived(90)  # the only worker is indexing the large one
        with document_events(client, stacks[1]) as events:
            small = upload(client, stacks[1], small_pdf, "small.pdf")["id"]
            seen = events.until(lambda d: d["status"] != "PENDING")
        indexed = seen[-1]
        assert indexed["id"] == small
        assert (indexed["status"], indexed["chunkCount"]) == ("INDEXED", 1)
        # the worker process's progress reached this process's subscribers (NOTIFY)
        stages = {d["progress"]["stage"] for d in seen if d["progress"]}
        assert {"extracting", "embedding"} <= stages
        assert document(gql, large)["status"] == "PENDING"  # type: ignore[index]
        gate.release()
        done = wait_for_status(gql, large, timeout=120)
    assert (done["status"], done["chunkCount"]) == ("INDEXED", chunk_count(large_pdf, 300, 0))


@postgres
def test_a_request_is_queued_once_and_stacks_take_turns_smaller_first(
    settings: Settings,
) -> None:
    assert settings.database_url
    engine = create_read_engine(settings.read_database_url(), 1)
    migrate(engine)
    migrate(engine)  # idempotent: the queue's schema is there once
    engine.dispose()
    url = settings.database_url
    queue = IngestionQueue(_conninfo(url), large_bytes=10**9)
    a, b = uuid4(), uuid4()
    jobs = {
        "a-large": IndexJob(uuid4(), "k", 1, a, 900_000),
        "a-small": IndexJob(uuid4(), "k", 1, a, 2_000),
        "b-large": IndexJob(uuid4(), "k", 1, b, 800_000),
        "a-medium": IndexJob(uuid4(), "k", 1, a, 50_000),
    }
    try:
        assert all(queue.defer(job) for job in jobs.values())
        assert not queue.defer(jobs["a-small"])  # replayed: still waiting, not queued again
        assert queue.defer(IndexJob(jobs["a-small"].document_id, "k", 2, a, 2_000))  # a newer one
        assert queue.depth() == 5
    finally:
        queue.close()
    with psycopg.connect(_conninfo(url)) as conn:
        rows = conn.execute(
            "SELECT args->>'document_id', (args->>'request')::int FROM procrastinate_jobs"
            " WHERE queue_name = %s ORDER BY priority DESC, id",
            (QUEUE,),
        ).fetchall()
    names = {str(job.document_id): name for name, job in jobs.items()}
    # each stack's first job goes before any stack's second; then the smaller first
    # (a stack's turn is counted when its job is queued: the second of `a` is its small one)
    assert [(names[d], r) for d, r in rows] == [
        ("b-large", 1),
        ("a-large", 1),
        ("a-small", 1),
        ("a-medium", 1),
        ("a-small", 2),
    ]


def test_the_worker_command_needs_postgresql(tmp_path: Path) -> None:
    done = subprocess.run(
        [GENAI_STACK, "worker"],
        env={**os.environ, "GENAI_DATA_DIR": str(tmp_path), "DATABASE_URL": ""},
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert b"need PostgreSQL" in done.stderr


def _conninfo(url: str) -> str:
    return psycopg.conninfo.make_conninfo(url.replace("postgresql+psycopg://", "postgresql://"))
