"""One large document cannot hold the others: the embedded server's indexer works on
documents in slices, taking turns, and with PostgreSQL the queue's workers run several jobs at
once (and large documents in a lane of their own), so a small PDF uploaded right after a large
one is indexed while the large one is still being embedded. The fake OpenAI server holds the large one's embedding batches one
at a time; the small one must be INDEXED after a few of them, long before the last."""

# ruff: noqa: F811  (the backend fixtures are imported, then named as parameters)

from __future__ import annotations

import json
import math

import pytest

from tests import pdfs
from tests.fakes import FakeOpenAIServer, RecordedRequest
from tests.fakes._server import Gate
from tests.integration.documents_client import (  # noqa: F401  (fixtures)
    ClientFactory,
    add_knowledge_base,
    chunk_count,
    document,
    make_client,
    new_workflow,
    services,
    settings,
    upload,
    wait_for_status,
)
from tests.integration.gql import GQL
from tests.integration.workflow_ops import wait_for

pytestmark = pytest.mark.timeout(300)

BATCH = 4  # passages embedded at once: the large document's slices
CHUNK = 300
SMALL_WORD = "Zanzibar"


def held_or_indexed(gql: GQL, gate: Gate, document_id: str) -> bool:
    """The large one's next batch is held, or the small one is indexed."""
    found = document(gql, document_id)
    return gate.arrived.is_set() or (found is not None and found["status"] == "INDEXED")


def of_large(request: RecordedRequest) -> bool:
    return request.path.endswith("/embeddings") and SMALL_WORD not in json.dumps(request.body)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_small_pdf_uploaded_after_a_large_one_is_indexed_before_the_large_one_finishes(
    make_client: ClientFactory, fake_openai: FakeOpenAIServer
) -> None:
    client = make_client(genai_embed_batch=BATCH)
    gql = GQL(client)
    workflow = new_workflow(gql)
    add_knowledge_base(
        gql,
        workflow,
        embedder="openai",
        embeddingModel="text-embedding-3-small",
        baseUrl=fake_openai.base_url,
        chunkSize=CHUNK,
        chunkOverlap=0,
    )
    large_pdf = pdfs.large_pdf(30)
    small_pdf = pdfs.text_pdf([f"{SMALL_WORD} has a lighthouse on its northern tip."])
    batches = math.ceil(chunk_count(large_pdf, CHUNK, 0) / BATCH)
    assert batches >= 20

    gate = fake_openai.hold(of_large)  # the large one's first batch, in flight
    large = upload(client, workflow, large_pdf, "large.pdf")["id"]
    gate.wait_arrived()
    small = upload(client, workflow, small_pdf, "small.pdf")["id"]

    released = 0
    try:
        while document(gql, small)["status"] != "INDEXED":  # type: ignore[index]
            assert released < 8, "the small document waits behind the large one"
            following = fake_openai.hold(of_large)  # the large one's next batch
            gate.release()
            released += 1
            gate = following
            wait_for(lambda g=following: held_or_indexed(gql, g, small), 60)
        during = document(gql, large)
    finally:
        gate.release()  # the batches after it are not held

    assert during is not None and during["status"] == "PENDING"
    assert len([r for r in fake_openai.requests if of_large(r)]) <= released + 1 < batches
    done = wait_for_status(gql, large, timeout=120)
    assert (done["status"], done["chunkCount"]) == ("INDEXED", chunk_count(large_pdf, CHUNK, 0))
    assert wait_for_status(gql, small)["chunkCount"] == 1


@pytest.mark.parametrize("backend", ["sqlite"])  # with PostgreSQL: a queue, test_ingestion_queue
def test_jobs_take_turns_and_the_position_waits_for_the_oldest_unfinished(
    make_client: ClientFactory, fake_openai: FakeOpenAIServer
) -> None:
    """While the large one is held, the embedded server's follower has both documents among
    its jobs, and its tracked position stays before the large one's upload (a crash would
    index it again)."""
    client = make_client(genai_embed_batch=BATCH)
    gql = GQL(client)
    workflow = new_workflow(gql)
    add_knowledge_base(
        gql,
        workflow,
        embedder="openai",
        embeddingModel="text-embedding-3-small",
        baseUrl=fake_openai.base_url,
        chunkSize=CHUNK,
        chunkOverlap=0,
    )
    worker = services(client).worker("ingestion")
    log = services(client).event_log
    with fake_openai.hold(of_large) as gate:
        before = log.max_notification_id()
        large = upload(client, workflow, pdfs.large_pdf(30), "large.pdf")["id"]
        gate.wait_arrived()
        small = upload(client, workflow, pdfs.text_pdf([f"{SMALL_WORD} facts."]), "small.pdf")
        after = log.max_notification_id()
        assert worker.position < after
        assert before <= worker.position
    assert wait_for_status(gql, large, timeout=120)["status"] == "INDEXED"
    assert wait_for_status(gql, small["id"])["status"] == "INDEXED"
    assert worker.wait_until(log.max_notification_id(), 60)
