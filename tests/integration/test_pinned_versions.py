"""A published version is pinned: what it answers from changes only with the next Build.

Through GraphQL and chats, on the embedded default (SQLite, embedded Chroma) and on
PostgreSQL with a Chroma server; embeddings from the fake OpenAI server (a hashed bag of
words), whose requests a test can count and hold in flight."""

# ruff: noqa: F811  (the backend fixtures are imported, then named as parameters)

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from starlette.testclient import TestClient

from application.document.chunk_layout import INDEX_KEY, legacy_chunks
from application.document.ingestion import EMBED_BATCH
from infrastructure.chunking import chunk_pages
from infrastructure.pdf import extract_pages
from tests import pdfs
from tests.fakes import FakeOpenAIServer, RecordedRequest
from tests.integration.chat_ops import fake_llm, published_workflow, start_chat, turn
from tests.integration.documents_client import (  # noqa: F401  (fixtures)
    ClientFactory,
    chunk_count,
    configure,
    make_client,
    retrieve,
    service,
    services,
    settings,
    settle,
    upload,
)
from tests.integration.gql import GQL
from tests.integration.workflow_ops import GET, PUBLISH, ROLLBACK, wait_for

pytestmark = pytest.mark.timeout(300)

QUESTION = "How tall is the Skerryvore lighthouse?"
INDEXES = """query($id: UUID!) { document(id: $id) { id status chunkCount
  indexes { key status chunkCount embeddingModel embedder chunkSize chunkOverlap draft live } } }"""


def knowledge_base(fake: FakeOpenAIServer, **config: Any) -> dict[str, Any]:
    return {
        "embedder": "openai",
        "embeddingModel": "text-embedding-3-small",
        "baseUrl": fake.base_url,
        "chunkSize": 300,
        "chunkOverlap": 0,
        "topK": 2,
        **config,
    }


def model_of(fake: FakeOpenAIServer) -> str:
    return f"openai/text-embedding-3-small@127.0.0.1:{fake.port}"


def texts(data: bytes, size: int, overlap: int = 0) -> set[str]:
    return {c.text for c in chunk_pages(extract_pages(io.BytesIO(data)), size, overlap)}


def indexing(request: RecordedRequest) -> bool:
    """An embedding request of the ingestion (a question's own embedding is not)."""
    return request.path.endswith("/embeddings") and QUESTION not in str(request.body)


def embed_calls(fake: FakeOpenAIServer) -> int:
    return len([r for r in fake.requests_to("/embeddings") if indexing(r)])


def indexes_of(gql: GQL, document_id: str) -> dict[int, dict[str, Any]]:
    """The document's generations by chunk size."""
    found = gql(INDEXES, id=document_id)["document"]
    return {i["chunkSize"]: i for i in found["indexes"]}


def until_indexes(
    gql: GQL, document_id: str, wanted: Callable[[dict[int, dict[str, Any]]], bool]
) -> dict[int, dict[str, Any]]:
    return wait_for(
        lambda: (lambda found: found if wanted(found) else None)(indexes_of(gql, document_id)), 90
    )  # type: ignore[no-any-return]


def sources(client: TestClient, gql: GQL, session: str, question: str = QUESTION) -> list[Any]:
    """The passages the answer to `question` was given."""
    events = turn(client, gql, session, question)
    final = events[-1]
    assert final["__typename"] == "ChatMessageAdded", final
    return list(final["message"]["sources"])


def published_stack(
    client: TestClient, gql: GQL, fake: FakeOpenAIServer, data: bytes, **config: Any
) -> tuple[str, str]:
    """Query → Knowledge Base → LLM (the fake) → Output, with one PDF indexed, published as
    v2 (v1 before the upload); returns the workflow and document ids."""
    w = published_workflow(gql, fake_llm(fake), knowledge_base(fake, **config))
    doc = upload(client, w, data)["id"]
    until_indexes(gql, doc, lambda found: all(i["status"] == "INDEXED" for i in found.values()))
    gql(PUBLISH, w=w)
    return w, doc


def generation_vectors(client: TestClient, fake: FakeOpenAIServer, key: str) -> int:
    return services(client).index.count_model(model_of(fake), {INDEX_KEY: key})


# ---------------------------------------------------------------- the draft and a Build


def test_a_published_version_answers_from_its_own_index_while_and_after_the_draft_changes(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    data = pdfs.multi_page_pdf(10)
    old, new = texts(data, 300), texts(data, 1000)
    w, doc = published_stack(client, gql, fake_openai, data)
    pinned = start_chat(gql, w)
    [before] = indexes_of(gql, doc).values()
    assert (before["status"], before["draft"], before["live"]) == ("INDEXED", True, True)

    with fake_openai.hold(indexing) as gate:
        configure(gql, w, "kb", chunkSize=1000)  # in the draft: no Build
        gate.wait_arrived()  # the new generation is being embedded

        during = sources(client, gql, pinned)
        found = indexes_of(gql, doc)
        panel = gql(INDEXES, id=doc)["document"]["status"]  # read while the gate holds it

    assert during and {s["text"] for s in during} <= old
    assert during[0]["page"] == 1
    assert (found[300]["status"], found[300]["live"], found[300]["draft"]) == (
        "INDEXED",
        True,
        False,
    )
    assert (found[1000]["status"], found[1000]["live"], found[1000]["draft"]) == (
        "PENDING",
        False,
        True,
    )
    assert panel == "PENDING"  # what the panel shows
    after = until_indexes(gql, doc, lambda f: f.get(1000, {}).get("status") == "INDEXED")
    assert after[300]["status"] == "INDEXED"
    assert {s["text"] for s in sources(client, gql, pinned)} <= old
    preview = start_chat(gql, w, draft=True)  # a preview of the draft asks the draft's
    assert {s["text"] for s in sources(client, gql, preview)} <= new
    old_key = after[300]["key"]
    assert generation_vectors(client, fake_openai, old_key) == len(old)

    gql(PUBLISH, w=w)  # v3: the new settings

    [kept] = until_indexes(gql, doc, lambda f: set(f) == {1000}).values()
    assert (kept["status"], kept["draft"], kept["live"]) == ("INDEXED", True, True)
    assert {s["text"] for s in sources(client, gql, start_chat(gql, w))} <= new
    # a chat pinned to the older version answers from the index that is kept
    assert {s["text"] for s in sources(client, gql, pinned)} <= new
    settle(client)
    assert generation_vectors(client, fake_openai, old_key) == 0
    history = services(client).event_log.events.get(UUID(doc))
    dropped = [e for e in history if type(e).__name__ == "DocumentIndexDropped"]
    assert [(e.key, e.settings["chunk_size"]) for e in dropped] == [(old_key, 300)]


def test_rolling_the_draft_back_to_settings_still_indexed_embeds_nothing_again(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    data = pdfs.multi_page_pdf(10)
    w, doc = published_stack(client, gql, fake_openai, data)
    before_edit = gql(GET, w=w, v=None)["workflow"]["version"]
    configure(gql, w, "kb", chunkSize=1000)
    edited = until_indexes(gql, doc, lambda f: f.get(1000, {}).get("status") == "INDEXED")
    settle(client)
    calls = embed_calls(fake_openai)

    gql(ROLLBACK, w=w, v=before_edit)

    [back] = until_indexes(gql, doc, lambda f: set(f) == {300}).values()
    assert (back["status"], back["draft"], back["live"]) == ("INDEXED", True, True)
    settle(client)
    assert embed_calls(fake_openai) == calls  # the generation still present was reused
    assert generation_vectors(client, fake_openai, edited[1000]["key"]) == 0
    assert {p.text for p in retrieve(client, w, QUESTION, 2)} <= texts(data, 300)


# ---------------------------------------------------------------- uploads and removals


def test_a_new_upload_answers_only_once_it_is_fully_indexed(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    w, first = published_stack(
        client, gql, fake_openai, pdfs.multi_page_pdf(3), chunkSize=100, topK=3
    )
    manual = pdfs.large_pdf(12)
    assert chunk_count(manual, 100, 0) > EMBED_BATCH  # more than one batch to embed
    question = "What cools the Zephyr reactor?"
    session = start_chat(gql, w)

    with fake_openai.hold(
        lambda r: r.path.endswith("/embeddings") and question not in str(r.body), nth=2
    ) as gate:
        second = upload(client, w, manual, "manual.pdf")["id"]
        gate.wait_arrived()  # its first batch is in the index, the second in flight
        assert (
            services(client).index.count_model(model_of(fake_openai), {"document_id": second}) > 0
        )

        during = sources(client, gql, session, question)

    assert during and {s["documentId"] for s in during} == {first}
    until_indexes(gql, second, lambda f: f.get(100, {}).get("status") == "INDEXED")
    after = sources(client, gql, session, question)
    assert after[0]["documentId"] == second


def test_a_removed_pdf_is_not_quoted_by_the_very_next_question(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    w, removed = published_stack(client, gql, fake_openai, pdfs.multi_page_pdf(10), topK=4)
    kept = upload(
        client,
        w,
        pdfs.text_pdf(["The Skerryvore lighthouse keeper keeps a cat called Marmalade."]),
        "keeper.pdf",
    )["id"]
    until_indexes(gql, kept, lambda f: f[300]["status"] == "INDEXED")
    session = start_chat(gql, w)
    assert {s["documentId"] for s in sources(client, gql, session)} == {removed, kept}
    # the read table and the vectors lag as far as they can: nothing follows the log now
    services = client.app.state.services  # type: ignore[attr-defined]
    for name in ("documents", "ingestion"):
        services.worker(name).stop()

    gql("mutation($id: UUID!) { removeDocument(id: $id) }", id=removed)

    assert services.index.count_model(model_of(fake_openai), {"document_id": removed}) > 0
    assert {s["documentId"] for s in sources(client, gql, session)} == {kept}


# ---------------------------------------------------------------- stored before generations


def test_documents_and_vectors_stored_before_generations_still_answer(
    make_client: ClientFactory, fake_openai: FakeOpenAIServer
) -> None:
    """An upgrade: the log holds a document's events as the version before generations wrote
    them (indexed in place for the draft's chunk size while v1 was published with another),
    the index holds its vectors in the old layout, and the old ingestion had followed the
    whole log. This version answers from those vectors, builds what v1 answers from, and
    deletes the old vectors once no version asks for them."""
    from tests.integration.legacy_documents import write_legacy_document

    client = make_client(genai_run_projections=False)
    gql = GQL(client)
    data = pdfs.multi_page_pdf(10)
    w = published_workflow(gql, fake_llm(fake_openai), knowledge_base(fake_openai))  # v1: 300
    configure(gql, w, "kb", chunkSize=1000)
    doc = write_legacy_document(
        client, w, "kb", data, knowledge_base(fake_openai, chunkSize=1000), fake_openai
    )

    for worker in client.app.state.services.workers:  # type: ignore[attr-defined]
        worker.start()

    found = until_indexes(gql, doc, lambda f: f.get(300, {}).get("status") == "INDEXED")
    assert (found[1000]["status"], found[1000]["draft"], found[1000]["live"]) == (
        "INDEXED",
        True,
        False,
    )
    assert found[300]["live"]
    v1 = start_chat(gql, w)
    assert {s["text"] for s in sources(client, gql, v1)} <= texts(data, 300)
    assert {p.text for p in retrieve(client, w, QUESTION, 2)} <= texts(data, 1000)  # old vectors

    gql(PUBLISH, w=w)  # v2 answers from the old vectors
    until_indexes(gql, doc, lambda f: set(f) == {1000})
    assert {s["text"] for s in sources(client, gql, start_chat(gql, w))} <= texts(data, 1000)
    model = model_of(fake_openai)
    assert services(client).index.count_model(model, legacy_chunks(doc)) == 3

    configure(gql, w, "kb", chunkSize=300)
    gql(PUBLISH, w=w)  # v3: nothing asks for the old layout any more

    until_indexes(gql, doc, lambda f: set(f) == {300})
    settle(client)
    assert services(client).index.count_model(model, legacy_chunks(doc)) == 0
    assert {s["text"] for s in sources(client, gql, start_chat(gql, w))} <= texts(data, 300)
