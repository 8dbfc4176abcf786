"""The ingestion process survives being killed, and the index can be rebuilt from the log and
the blobs: on the embedded default and on PostgreSQL with a Chroma server."""

# ruff: noqa: F811  (the backend fixtures are imported, then named as parameters)

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from application.document.ingestion import EMBED_BATCH
from infrastructure import task_queue
from infrastructure.readmodel import runner
from infrastructure.settings import Settings
from interfaces import cli
from interfaces.app import create_app
from tests import pdfs
from tests.fakes import FakeOpenAIServer
from tests.integration.documents_client import (  # noqa: F401  (fixtures)
    ClientFactory,
    add_knowledge_base,
    chunk_count,
    configure,
    document,
    make_client,
    new_workflow,
    pages_for,
    retrieve,
    services,
    settings,
    settle,
    upload,
    vectors,
    wait_for_status,
)
from tests.integration.gql import GQL
from tests.integration.servers import GENAI_STACK

LOCAL_MODEL = "local/all-MiniLM-L6-v2"
HEARTBEAT = 0.5


def environment(settings: Settings) -> dict[str, str]:
    return {
        "GENAI_DATA_DIR": str(settings.genai_data_dir),
        "GENAI_POLL_SECONDS": "0.2",
        "GENAI_OUTBOUND_LOOPBACK": "true",  # the fake embedder listens on loopback
        **({"DATABASE_URL": settings.database_url} if settings.database_url else {}),
        **({"CHROMA_URL": settings.chroma_url} if settings.chroma_url else {}),
        # PostgreSQL: a killed worker's job goes back to the queue after three of these
        "GENAI_INGESTION_HEARTBEAT_SECONDS": str(HEARTBEAT),
    }


def test_a_killed_ingestion_worker_is_resumed_without_duplicate_or_stale_vectors(
    make_client: ClientFactory, settings: Settings, fake_openai: FakeOpenAIServer
) -> None:
    # the API; workers run apart (with PostgreSQL the queued jobs too)
    client = make_client(
        genai_run_projections=False,
        genai_ingestion_workers=0,
        genai_ingestion_heartbeat_seconds=HEARTBEAT,
    )
    gql = GQL(client)
    wid = new_workflow(gql)
    add_knowledge_base(
        gql, wid, embedder="openai", baseUrl=fake_openai.base_url, chunkSize=100, chunkOverlap=0
    )
    data = pdfs.large_pdf(12)
    assert chunk_count(data, 100, 0) > EMBED_BATCH  # more than one batch to embed
    # the second batch's request is held (only an embeddings request: any other the fake
    # may see is answered), so the worker dies with the first batch stored
    second_batch = fake_openai.hold(lambda r: "/embeddings" in r.path, nth=2)
    log = (settings.genai_data_dir.parent / "worker.log").open("wb")
    worker = subprocess.Popen(
        [GENAI_STACK, "projections", "run"],
        env={**os.environ, **environment(settings)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    with second_batch:
        try:
            doc = upload(client, wid, data)
            deadline = time.monotonic() + 90
            while not second_batch.arrived.wait(0.05):
                assert worker.poll() is None, (
                    settings.genai_data_dir.parent / "worker.log"
                ).read_text()
                assert time.monotonic() < deadline, "the worker never asked for the second batch"
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            log.close()

    model = f"openai/text-embedding-3-small@127.0.0.1:{fake_openai.port}"
    assert vectors(client, model, doc["id"]) == EMBED_BATCH  # half done when it died
    assert document(gql, doc["id"])["status"] == "PENDING"  # type: ignore[index]
    # while no worker runs, the knowledge base is set to far fewer, larger chunks
    configure(gql, wid, "kb", chunkSize=2000)
    services = client.app.state.services  # type: ignore[attr-defined]
    for projection_worker in services.workers:
        projection_worker.start()
    services.start_ingestion_jobs(1)  # PostgreSQL: the killed worker's job, once it is stalled

    indexed = wait_for_status(gql, doc["id"])
    assert indexed["status"] == "INDEXED", indexed
    assert indexed["chunkCount"] == chunk_count(data, 2000, 0) < EMBED_BATCH
    assert vectors(client, model, doc["id"]) == indexed["chunkCount"]


def test_rebuild_restores_the_documents_table_and_the_index_from_the_log_and_the_blobs(
    settings: Settings,
) -> None:
    with TestClient(create_app(settings)) as client:
        gql = GQL(client)
        wid = new_workflow(gql)
        add_knowledge_base(gql, wid, chunkSize=300, chunkOverlap=0)
        kept = upload(client, wid, pdfs.multi_page_pdf(4), "kept.pdf")
        locked = upload(client, wid, pdfs.encrypted_pdf(), "locked.pdf")
        gone = upload(client, wid, pdfs.multi_page_pdf(2), "gone.pdf")
        before = {d["id"]: wait_for_status(gql, d["id"]) for d in (kept, locked, gone)}
        gql("mutation($id: UUID!) { removeDocument(id: $id) }", id=gone["id"])
        wait_for_status(gql, gone["id"], ("REMOVED",))
        settle(client)
        services = client.app.state.services  # type: ignore[attr-defined]
        events = services.event_log.max_notification_id()
        services.index.reset()  # the index is lost

    done = CliRunner().invoke(cli.app, ["projections", "rebuild"], env=environment(settings))

    assert done.exit_code == 0, done.output
    assert f"documents: replayed {events} events" in done.output
    assert f"ingestion: replayed {events} events" in done.output
    with TestClient(create_app(settings.model_copy(update={"genai_run_projections": False}))) as c:
        gql = GQL(c)
        rebuilt = {key: document(gql, key) for key in before}
        assert rebuilt[kept["id"]] == before[kept["id"]]
        assert rebuilt[locked["id"]] == before[locked["id"]]
        assert rebuilt[gone["id"]]["status"] == "REMOVED"  # type: ignore[index]
        chunks = before[kept["id"]]["chunkCount"]
        assert vectors(c, LOCAL_MODEL, kept["id"]) == chunks
        assert vectors(c, LOCAL_MODEL, gone["id"]) == 0
        assert pages_for(c, wid, "Which opening sacrifices the queen's knight?")[0] == 4
        # the rebuild put vectors back without recording anything new
        assert c.app.state.services.event_log.max_notification_id() == events  # type: ignore[attr-defined]
        passages = retrieve(c, wid, "lighthouse", 10)
        assert {p.document_id for p in passages} == {kept["id"]}


def test_a_document_whose_indexing_fails_unexpectedly_every_time_ends_failed_not_pending(
    make_client: ClientFactory,
    fake_openai: FakeOpenAIServer,
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The vector store fails on every try (its upsert raising, as a server that went away
    does): after the last try the document is FAILED, saying so without the error's text
    (which may quote an address or a key), instead of pending for good. Embedded, the
    ingestion follower tries; on PostgreSQL, the queued job's tries."""
    client = make_client()
    tries = task_queue.TRIES if backend == "postgres" else runner.TRIES
    upserts: list[Any] = []

    def away(*args: Any, **kwargs: Any) -> None:
        upserts.append(args)
        raise RuntimeError("no answer from http://admin:sk-secret-0000@chroma.internal:8000")

    monkeypatch.setattr(services(client).index, "upsert", away)
    gql = GQL(client)
    wid = new_workflow(gql)
    add_knowledge_base(
        gql, wid, embedder="openai", baseUrl=fake_openai.base_url, chunkSize=300, chunkOverlap=0
    )
    doc = upload(client, wid, pdfs.multi_page_pdf(2))["id"]

    failed = wait_for_status(gql, doc, timeout=120)
    assert (failed["status"], failed["failedStage"]) == ("FAILED", "index"), failed
    assert f"RuntimeError) {tries} times" in failed["error"]
    assert "sk-secret" not in failed["error"] and "chroma.internal" not in failed["error"]
    assert len(upserts) == tries
