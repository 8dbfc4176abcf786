"""Knowledge-base documents end to end, through GraphQL: on the embedded default (SQLite,
embedded Chroma) and on PostgreSQL with a Chroma server started for the session."""

# ruff: noqa: F811  (the backend fixtures are imported, then named as parameters)

from __future__ import annotations

import io
from typing import Any
from uuid import UUID

import pytest
from pydantic import SecretStr
from sqlalchemy import event
from starlette.testclient import TestClient

from application.document.commands import UploadDocument
from application.ports import BlobTooLarge
from infrastructure.settings import Settings
from tests import pdfs
from tests.fakes import FakeGeminiServer, FakeOpenAIServer
from tests.integration.documents_client import (  # noqa: F401  (fixtures)
    ClientFactory,
    add_knowledge_base,
    chunk_count,
    configure,
    document_events,
    draft_node,
    make_client,
    new_workflow,
    pages_for,
    retrieve,
    service,
    services,
    settings,
    settle,
    upload,
    upload_raw,
    vectors,
    wait_for_status,
)
from tests.integration.gql import GQL, GraphQLError

LOCAL_MODEL = "local/all-MiniLM-L6-v2"
OPENAI_KEY = "sk-test-0123456789abcdef"


# ---------------------------------------------------------------- the whole path


def test_an_uploaded_pdf_shows_progress_is_indexed_and_answers_with_its_page(
    client: TestClient, gql: GQL
) -> None:
    wid = new_workflow(gql)
    add_knowledge_base(gql, wid, chunkSize=400, chunkOverlap=50)
    data = pdfs.multi_page_pdf()

    with document_events(client, wid) as events:
        uploaded = upload(client, wid, data)
        seen = events.until(lambda d: d["status"] != "PENDING")

    assert uploaded["status"] == "PENDING"
    assert (uploaded["filename"], uploaded["sizeBytes"], uploaded["nodeId"]) == (
        "facts.pdf",
        len(data),
        "kb",
    )
    indexed = seen[-1]
    assert indexed["status"] == "INDEXED", indexed
    assert indexed["pageCount"] == 10
    assert indexed["chunkCount"] == chunk_count(data, 400, 50)
    assert indexed["embeddingModel"] == LOCAL_MODEL
    progress = [d["progress"] for d in seen if d["progress"]]
    assert {"extracting", "embedding"} <= {p["stage"] for p in progress}
    assert progress[-1]["chunksEmbedded"] == progress[-1]["chunkTotal"] == indexed["chunkCount"]
    assert [p["fraction"] for p in progress] == sorted(p["fraction"] for p in progress)
    assert progress[-1]["fraction"] == 1.0
    assert all(d["id"] == uploaded["id"] for d in seen)

    stored = wait_for_status(gql, uploaded["id"], ("INDEXED",))
    for field in ("id", "workflowId", "nodeId", "filename", "sizeBytes", "pageCount", "chunkCount"):
        assert stored[field] == indexed[field]
    assert stored["progress"] is None
    listed = gql("query($w: UUID!) { workflow(id: $w) { documents { id status } } }", w=wid)
    assert listed["workflow"]["documents"] == [{"id": uploaded["id"], "status": "INDEXED"}]
    assert pages_for(client, wid, "How tall is the Skerryvore lighthouse?")[0] == 1
    assert pages_for(client, wid, "What is the coolant of the Zephyr reactor?")[0] == 7
    passage = retrieve(client, wid, "How many bridges does it cross?", 1)[0]
    assert (passage.document_id, passage.filename, passage.page) == (uploaded["id"], "facts.pdf", 9)
    assert "41 bridges" in passage.text
    assert pages_for(client, wid, "lighthouse", top_k=10)  # filters narrow it down:
    narrowed = retrieve(client, wid, "lighthouse", 10, {"page": {"$gte": 4}})
    assert narrowed and all(p.page is not None and p.page >= 4 for p in narrowed)


def test_the_same_file_twice_in_a_workflow_is_one_document(client: TestClient, gql: GQL) -> None:
    wid, other = new_workflow(gql), new_workflow(gql, "Other")
    add_knowledge_base(gql, wid)
    add_knowledge_base(gql, other)
    data = pdfs.multi_page_pdf(2)

    first = upload(client, wid, data, "a.pdf")
    again = upload(client, wid, data, "renamed.pdf")
    elsewhere = upload(client, other, data, "a.pdf")

    assert again["id"] == first["id"] and again["filename"] == "a.pdf"
    assert elsewhere["id"] != first["id"]
    wait_for_status(gql, first["id"])
    listed = gql("query($w: UUID!) { workflow(id: $w) { documents { id } } }", w=wid)
    assert listed["workflow"]["documents"] == [{"id": first["id"]}]


def test_the_workflows_list_reads_every_workflows_documents_in_one_query(
    client: TestClient, gql: GQL
) -> None:
    ids = [new_workflow(gql, f"Stack {i}") for i in range(3)]
    for wid in ids[:2]:
        add_knowledge_base(gql, wid)
    first = upload(client, ids[0], pdfs.multi_page_pdf(1), "one.pdf")
    second = upload(client, ids[1], pdfs.multi_page_pdf(2), "two.pdf")
    wait_for_status(gql, first["id"])
    wait_for_status(gql, second["id"])

    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if "FROM documents" in statement:
            statements.append(statement)

    engine = client.app.state.services.read_db  # type: ignore[attr-defined]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        listed = gql("{ workflows { id documents { filename } } }")["workflows"]
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    documents = {w["id"]: [d["filename"] for d in w["documents"]] for w in listed}
    assert documents == {ids[0]: ["one.pdf"], ids[1]: ["two.pdf"], ids[2]: []}
    assert len(statements) == 1, statements


def test_removing_a_document_deletes_its_vectors(client: TestClient, gql: GQL) -> None:
    wid = new_workflow(gql)
    add_knowledge_base(gql, wid)
    data = pdfs.multi_page_pdf(3)
    doc = upload(client, wid, data)
    assert wait_for_status(gql, doc["id"])["status"] == "INDEXED"
    assert vectors(client, LOCAL_MODEL, doc["id"]) > 0

    assert gql("mutation($id: UUID!) { removeDocument(id: $id) }", id=doc["id"]) == {
        "removeDocument": True
    }

    assert wait_for_status(gql, doc["id"], ("REMOVED",))["status"] == "REMOVED"
    settle(client)
    assert vectors(client, LOCAL_MODEL, doc["id"]) == 0
    assert pages_for(client, wid, "How tall is the Skerryvore lighthouse?") == []
    listed = gql("query($w: UUID!) { workflow(id: $w) { documents { id } } }", w=wid)
    assert listed["workflow"]["documents"] == []
    with pytest.raises(GraphQLError) as gone:
        gql("mutation($id: UUID!) { removeDocument(id: $id) }", id=doc["id"])
    assert gone.value.code == "NOT_FOUND"

    back = upload(client, wid, data)  # the same file after its removal: a new document
    assert back["id"] != doc["id"]
    assert wait_for_status(gql, back["id"])["status"] == "INDEXED"


def test_deleting_a_workflow_removes_its_documents_and_their_vectors(
    client: TestClient, gql: GQL
) -> None:
    wid, kept = new_workflow(gql), new_workflow(gql, "Kept")
    add_knowledge_base(gql, wid)
    add_knowledge_base(gql, kept)
    doc = upload(client, wid, pdfs.multi_page_pdf(2))
    other = upload(client, kept, pdfs.multi_page_pdf(2))
    assert wait_for_status(gql, doc["id"])["status"] == "INDEXED"
    assert wait_for_status(gql, other["id"])["status"] == "INDEXED"
    assert vectors(client, LOCAL_MODEL, doc["id"]) > 0

    assert gql("mutation($id: UUID!) { deleteWorkflow(id: $id) }", id=wid)["deleteWorkflow"]

    assert wait_for_status(gql, doc["id"], ("REMOVED",))["status"] == "REMOVED"
    settle(client)
    assert vectors(client, LOCAL_MODEL, doc["id"]) == 0
    assert vectors(client, LOCAL_MODEL, other["id"]) > 0  # another workflow's are left alone
    still = gql("query($id: UUID!) { document(id: $id) { status } }", id=other["id"])["document"]
    assert still == {"status": "INDEXED"}


def test_knowledge_bases_with_the_same_settings_answer_from_their_own_documents_only(
    client: TestClient, gql: GQL
) -> None:
    """Each knowledge base's generation is a partition of its own in the index: two nodes
    of one workflow, and a node of the same id in another workflow, never answer with
    each other's passages, and removing one's document leaves the others'."""
    wid, other = new_workflow(gql), new_workflow(gql, "Other")
    add_knowledge_base(gql, wid, "kb")
    add_knowledge_base(gql, wid, "kb2")
    add_knowledge_base(gql, other, "kb")
    placed = {
        (wid, "kb"): "The Skerryvore lighthouse is forty-eight metres tall.",
        (wid, "kb2"): "The Bell Rock lighthouse is thirty-five metres tall.",
        (other, "kb"): "The Eddystone lighthouse is forty-nine metres tall.",
    }
    docs = {
        place: upload(client, place[0], pdfs.text_pdf([fact]), node_id=place[1])["id"]
        for place, fact in placed.items()
    }
    for doc in docs.values():
        assert wait_for_status(gql, doc)["status"] == "INDEXED"

    def answering(workflow_id: str, node_id: str) -> set[str]:
        node = draft_node(client, workflow_id, node_id)
        found = services(client).retrieval.retrieve(
            UUID(workflow_id), node, "How tall is the lighthouse?", 10
        )
        return {p.document_id for p in found}

    for (workflow_id, node_id), doc in docs.items():
        assert answering(workflow_id, node_id) == {doc}

    gql("mutation($id: UUID!) { removeDocument(id: $id) }", id=docs[(wid, "kb")])
    assert wait_for_status(gql, docs[(wid, "kb")], ("REMOVED",))["status"] == "REMOVED"
    settle(client)

    assert answering(wid, "kb") == set()
    assert vectors(client, LOCAL_MODEL, docs[(wid, "kb")]) == 0
    assert answering(wid, "kb2") == {docs[(wid, "kb2")]}
    assert answering(other, "kb") == {docs[(other, "kb")]}


# ---------------------------------------------------------------- refusals


def upload_error(client: TestClient, wid: str, data: bytes, **kwargs: Any) -> tuple[str, str]:
    body = upload_raw(client, wid, data, **kwargs).json()
    error = body["errors"][0]
    return error["extensions"]["code"], error["message"]


def test_uploads_are_refused_with_their_contract_codes(client: TestClient, gql: GQL) -> None:
    wid = new_workflow(gql)
    pdf = pdfs.multi_page_pdf(1)

    assert upload_error(client, wid, pdf)[0] == "BAD_USER_INPUT"  # no Knowledge Base yet
    add_knowledge_base(gql, wid)
    gql(
        """mutation($w: UUID!) { addNode(workflowId: $w, kind: OUTPUT, position: {x: 1, y: 1},
           nodeId: "out") { id } }""",
        w=wid,
    )
    csv = b"Name,Amount\nAda,3\n" * 100
    code, message = upload_error(client, wid, csv, filename="report.pdf")
    assert code == "UNSUPPORTED_MEDIA_TYPE" and "not a PDF" in message
    assert upload_error(client, str(UUID(int=7)), pdf)[0] == "NOT_FOUND"
    assert upload_error(client, wid, pdf, node_id="nowhere")[0] == "NOT_FOUND"
    assert upload_error(client, wid, pdf, node_id="out")[0] == "BAD_USER_INPUT"
    refused = upload_raw(client, wid, pdf, headers={})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    listed = gql("query($w: UUID!) { workflow(id: $w) { documents { id } } }", w=wid)
    assert listed["workflow"]["documents"] == []


def test_a_file_over_the_limit_is_refused_as_too_large(
    make_client: ClientFactory, settings: Settings
) -> None:
    client = make_client(max_upload_mb=1)
    gql = GQL(client)
    wid = new_workflow(gql)
    add_knowledge_base(gql, wid)
    one_mb = 1024 * 1024
    padded = b"%PDF-1.7\n" + b"0" * (one_mb + 1000)  # within the request's envelope

    code, message = upload_error(client, wid, padded)
    declared = upload_raw(client, wid, b"%PDF-1.7\n" + b"0" * (3 * one_mb))

    assert (code, message) == ("PAYLOAD_TOO_LARGE", "the file is larger than 1 MB")
    assert declared.status_code == 413
    assert declared.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    blobs = settings.data_dir() / "blobs"
    assert not [p for p in blobs.rglob("*") if p.is_file()]  # nothing half-stored


class Trickle(io.RawIOBase):
    """A body that would go on for ever, counting what was read of it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        head = b"%PDF-1.7\n" if self.read_bytes == 0 else b""
        view = memoryview(buffer)
        view[: len(head)] = head
        view[len(head) :] = b"0" * (len(view) - len(head))
        self.read_bytes += len(view)
        return len(view)


def test_an_endless_upload_is_cut_off_at_the_limit_not_read_whole(
    make_client: ClientFactory,
) -> None:
    client = make_client(max_upload_mb=1)
    gql = GQL(client)
    wid = new_workflow(gql)
    add_knowledge_base(gql, wid)
    body = Trickle()

    with pytest.raises(BlobTooLarge):
        service(client).upload(
            UploadDocument(
                actor="test",
                workflow_id=UUID(wid),
                filename="endless.pdf",
                stream=io.BufferedReader(body),
            )
        )

    assert body.read_bytes < 2 * 1024 * 1024


# ---------------------------------------------------------------- failures


def test_unreadable_pdfs_fail_with_a_reason_a_person_understands(
    client: TestClient, gql: GQL
) -> None:
    wid = new_workflow(gql)
    add_knowledge_base(gql, wid)
    files = {
        "locked.pdf": (pdfs.encrypted_pdf(), "password protected"),
        "cut.pdf": (pdfs.truncated_pdf(), "incomplete"),
        "scan.pdf": (pdfs.image_only_pdf(), "no extractable text"),
    }

    uploaded = {name: upload(client, wid, data, name)["id"] for name, (data, _) in files.items()}

    for name, (_, reason) in files.items():
        failed = wait_for_status(gql, uploaded[name])
        assert failed["status"] == "FAILED", failed
        assert failed["failedStage"] == "extract"
        assert reason in failed["error"]
        assert failed["chunkCount"] is None


# ---------------------------------------------------------------- remote embedders


def test_the_openai_embedder_indexes_and_answers_through_the_sdk(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.api_key = OPENAI_KEY
    wid = new_workflow(gql)
    add_knowledge_base(
        gql,
        wid,
        embedder="openai",
        embeddingModel="text-embedding-3-small",
        baseUrl=fake_openai.base_url,
        apiKey="sk-wrong-key-0000000000",
        chunkSize=300,
        chunkOverlap=0,
    )
    data = pdfs.multi_page_pdf(4)
    doc = upload(client, wid, data)

    failed = wait_for_status(gql, doc["id"])
    assert (failed["status"], failed["failedStage"]) == ("FAILED", "embed")
    assert failed["error"] == "The OpenAI API key was refused."

    configure(gql, wid, "kb", apiKey=OPENAI_KEY)  # mending the key indexes it again

    indexed = wait_for_status(gql, doc["id"], ("INDEXED",))
    model = f"openai/text-embedding-3-small@127.0.0.1:{fake_openai.port}"
    assert indexed["embeddingModel"] == model
    assert indexed["chunkCount"] == chunk_count(data, 300, 0)
    assert vectors(client, model, doc["id"]) == indexed["chunkCount"]
    sent = fake_openai.requests_to("/embeddings")
    assert sent[-1].headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert sent[-1].body["model"] == "text-embedding-3-small"
    assert pages_for(client, wid, "Which lighthouse is 48 metres tall?")[0] == 1
    assert pages_for(client, wid, "Which opening sacrifices the queen's knight?")[0] == 4


def test_the_gemini_embedder_uses_the_servers_key_when_the_node_has_none(
    make_client: ClientFactory, fake_gemini: FakeGeminiServer
) -> None:
    fake_gemini.api_key = "gemini-server-key-0123"
    # the fake stands in for Google's own address, where the server's key may go
    client = make_client(
        gemini_api_key=SecretStr(fake_gemini.api_key),
        genai_server_key_urls={"gemini": [fake_gemini.url]},
    )
    gql = GQL(client)
    wid = new_workflow(gql)
    add_knowledge_base(gql, wid, embedder="gemini", baseUrl=fake_gemini.url, chunkSize=300)

    doc = upload(client, wid, pdfs.multi_page_pdf(5))

    indexed = wait_for_status(gql, doc["id"])
    assert indexed["status"] == "INDEXED", indexed
    assert indexed["embeddingModel"] == f"gemini/gemini-embedding-001@127.0.0.1:{fake_gemini.port}"
    assert fake_gemini.requests_to(":batchEmbedContents")[0].headers["x-goog-api-key"] == (
        "gemini-server-key-0123"
    )
    assert pages_for(client, wid, "How long does the glacier of Orvik retreat?")[0] == 5


def test_changing_the_embedder_re_embeds_the_documents_and_drops_the_old_vectors(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    wid = new_workflow(gql)
    add_knowledge_base(gql, wid, chunkSize=300, chunkOverlap=0)
    data = pdfs.multi_page_pdf(3)
    doc = upload(client, wid, data)
    local = wait_for_status(gql, doc["id"])
    assert local["embeddingModel"] == LOCAL_MODEL

    model = f"openai/text-embedding-3-small@127.0.0.1:{fake_openai.port}"

    with document_events(client, wid) as events:
        configure(gql, wid, "kb", embedder="openai", baseUrl=fake_openai.base_url)
        # (the live feed may still bring the first indexing's event before these)
        seen = events.until(lambda d: d["status"] == "INDEXED" and d["embeddingModel"] == model)

    assert "PENDING" in [d["status"] for d in seen]
    remote = seen[-1]
    settle(client)
    assert remote["chunkCount"] == local["chunkCount"]
    assert vectors(client, model, doc["id"]) == remote["chunkCount"]
    assert vectors(client, LOCAL_MODEL, doc["id"]) == 0
    assert pages_for(client, wid, "Where do honey bees collect?")[0] == 2
    history = client.app.state.services.event_log.events.get(UUID(doc["id"]))  # type: ignore[attr-defined]
    assert [type(e).__name__ for e in history] == [
        "DocumentUploaded",
        "DocumentIndexed",
        "DocumentSettingsChanged",
        "DocumentIndexDropped",  # nothing published answers from the local generation
        "DocumentIndexRequested",
        "DocumentIndexed",
    ]


# ---------------------------------------------------------------- the done-when


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_hundred_page_pdf_is_indexed_offline_and_its_pages_are_found(
    client: TestClient, gql: GQL
) -> None:
    wid = new_workflow(gql)
    add_knowledge_base(gql, wid)
    data = pdfs.large_pdf(100)

    with document_events(client, wid) as events:
        doc = upload(client, wid, data, "manual.pdf")
        seen = events.until(lambda d: d["status"] != "PENDING", timeout=240)

    assert seen[-1]["status"] == "INDEXED", seen[-1]
    assert seen[-1]["pageCount"] == 100
    assert len([d for d in seen if d["progress"]]) >= 3
    wait_for_status(gql, doc["id"], ("INDEXED",))  # retrieval reads the documents table
    # every tenth page tells of the Zephyr reactor (pages 7, 17, ... 97)
    [best] = retrieve(client, wid, "What cools the Zephyr reactor?", 1)
    assert best.document_id == doc["id"] and best.page is not None and best.page % 10 == 7
    assert "molten lead" in best.text
