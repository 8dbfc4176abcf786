"""Moving a stack between servers, through the API only: export it (JSON, or a zip with its
PDFs) from one server, import it on another with another database, and compare what the two
servers' GraphQL APIs say; refusals of files of a newer format, malformed or changed since
the export; keys never in an export nor in the history; another workspace's stack unseen."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from domain.components import SECRET_FIELDS
from infrastructure.settings import Settings
from interfaces.app import create_app
from tests.conftest import make_settings
from tests.fakes import FakeOpenAIServer
from tests.integration.accounts_client import (
    NETWORK,
    AsPrincipal,
    register,
    served,
    signed_in_gql,
)
from tests.integration.chat_ops import upload, wait_indexed
from tests.integration.gql import GQL, GraphQLError
from tests.integration.workflow_ops import ADD, CONNECT, CREATE, LIST
from tests.pdfs import multi_page_pdf, text_pdf

pytestmark = pytest.mark.timeout(300)

OPENAI_KEY = "sk-proj-TRANSFERtest0123456789abcdefXYZ"
SEARCH_KEY = "serp-TRANSFER-0123456789abcdef"

STACK = """query($w: UUID!) { workflow(id: $w) { id name description
  nodes { id kind label position { x y } config }
  edges { id source target sourceHandle targetHandle }
  documents { filename nodeId status chunkCount pageCount sizeBytes } } }"""

IMPORT = """mutation($f: Upload!, $n: String) { importStack(file: $f, name: $n) {
  workflow { id name } documents { id filename status }
  keysToReenter { nodeId label setting } documentsLeftOut } }"""


def import_raw(
    client: TestClient,
    data: bytes,
    filename: str,
    name: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    operations = {"query": IMPORT, "variables": {"f": None, "n": name}}
    response = client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
        files={"0": (filename, data, "application/octet-stream")},
        headers={"Apollo-Require-Preflight": "true", **(headers or {})},
    )
    return dict(response.json())


def import_stack(client: TestClient, data: bytes, filename: str = "stack.json") -> dict[str, Any]:
    body = import_raw(client, data, filename)
    if body.get("errors"):
        raise GraphQLError(body["errors"])
    return dict(body["data"]["importStack"])


def refused(client: TestClient, data: bytes, filename: str = "stack.json") -> GraphQLError:
    before = len(GQL(client)(LIST)["workflows"])
    body = import_raw(client, data, filename)
    assert body.get("errors"), body
    assert body.get("data") is None
    assert len(GQL(client)(LIST)["workflows"]) == before  # nothing half made
    return GraphQLError(body["errors"])


def download(client: TestClient, workflow_id: str, what: str, **headers: str) -> httpx.Response:
    return client.get(f"/stacks/{workflow_id}/{what}", headers=headers)


def comparable(stack: dict[str, Any]) -> dict[str, Any]:
    """A stack as the API shows it, but for what cannot move: its id, keys, document state."""
    nodes = [
        {**n, "config": {k: v for k, v in n["config"].items() if k not in SECRET_FIELDS}}
        for n in stack["nodes"]
    ]
    documents = sorted(
        (d["filename"], d["nodeId"], d["sizeBytes"], d["chunkCount"], d["pageCount"])
        for d in stack["documents"]
    )
    return {**stack, "id": None, "nodes": nodes, "documents": documents}


def build_stack(client: TestClient, gql: GQL, fake: FakeOpenAIServer) -> str:
    """User Query → Knowledge Base (embeddings from the fake, with a key) → LLM (the fake,
    with a key and web search with its own key) → Output, and one PDF indexed."""
    w = gql(CREATE, name="Lighthouses", d="Questions about Scottish lighthouses")["createWorkflow"][
        "id"
    ]
    kb = {
        "embedder": "openai",
        "embeddingModel": "text-embedding-3-small",
        "baseUrl": fake.base_url,
        "apiKey": OPENAI_KEY,
        "chunkSize": 600,
        "topK": 3,
    }
    llm = {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "baseUrl": fake.base_url,
        "apiKey": OPENAI_KEY,
        "temperature": 0.4,
        "prompt": "Answer from:\n{context}\n\nQ: {query}",
        "webSearch": True,
        "webSearchApiKey": SEARCH_KEY,
    }
    for kind, node_id, config, x in (
        ("USER_QUERY", "q", None, 0),
        ("KNOWLEDGE_BASE", "kb", kb, 250),
        ("LLM_ENGINE", "llm", llm, 500),
        ("OUTPUT", "out", None, 750),
    ):
        gql(ADD, w=w, kind=kind, x=x, y=x / 5, id=node_id, config=config)
    for source, target in (("q", "kb"), ("q", "llm"), ("kb", "llm"), ("llm", "out")):
        gql(CONNECT, w=w, s=source, t=target)
    wait_indexed(gql, upload(client, w, "lighthouses.pdf", multi_page_pdf(4)))
    return str(w)


@pytest.fixture
def second_server(tmp_path: Path) -> Iterator[TestClient]:
    """Another server: its own data directory and its own (embedded) database."""
    with TestClient(create_app(make_settings(tmp_path / "elsewhere", None))) as other:
        yield other


def test_a_stack_moves_to_another_server_with_its_settings_and_documents(
    client: TestClient, gql: GQL, second_server: TestClient, fake_openai: FakeOpenAIServer
) -> None:
    w = build_stack(client, gql, fake_openai)
    original = gql(STACK, w=w)["workflow"]
    archive = download(client, w, "export.zip")
    assert archive.status_code == 200, archive.text
    assert archive.headers["content-type"] == "application/zip"
    assert "Lighthouses.genai-stack.zip" in archive.headers["content-disposition"]

    made = import_stack(second_server, archive.content, "Lighthouses.genai-stack.zip")
    assert made["workflow"]["name"] == "Lighthouses"
    assert made["documentsLeftOut"] == 0
    assert sorted((k["nodeId"], k["setting"]) for k in made["keysToReenter"]) == [
        ("kb", "apiKey"),
        ("llm", "apiKey"),
        ("llm", "webSearchApiKey"),
    ]
    there = GQL(second_server)
    for document in made["documents"]:
        wait_indexed(there, document["id"])
    moved = there(STACK, w=made["workflow"]["id"])["workflow"]
    assert comparable(moved) == comparable(original)
    assert moved["id"] != original["id"]
    assert [d["status"] for d in moved["documents"]] == ["INDEXED"]
    for node in moved["nodes"]:  # the keys stayed behind
        assert not set(node["config"]) & set(SECRET_FIELDS)
    assert type(moved["nodes"][1]["position"]["x"]) is float


def test_a_json_export_moves_the_graph_and_lists_the_documents_left_out(
    client: TestClient, gql: GQL, second_server: TestClient, fake_openai: FakeOpenAIServer
) -> None:
    w = build_stack(client, gql, fake_openai)
    exported = download(client, w, "export.json")
    assert exported.status_code == 200
    document = json.loads(exported.content)
    assert (document["format"], document["formatVersion"]) == ("genai-stack.stack", 1)
    assert document["digest"].startswith("sha256:")
    assert [d["filename"] for d in document["stack"]["documents"]] == ["lighthouses.pdf"]

    made = import_stack(second_server, exported.content)
    assert (made["documents"], made["documentsLeftOut"]) == ([], 1)
    moved = GQL(second_server)(STACK, w=made["workflow"]["id"])["workflow"]
    original = gql(STACK, w=w)["workflow"]
    assert comparable({**moved, "documents": []}) == comparable({**original, "documents": []})
    # imported again, it is another stack, under the name given
    again = import_raw(client, exported.content, "stack.json", name="Lighthouses (copy)")
    assert again["data"]["importStack"]["workflow"]["name"] == "Lighthouses (copy)"
    assert again["data"]["importStack"]["workflow"]["id"] != w


def test_no_key_reaches_an_export_or_the_history(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    w = build_stack(client, gql, fake_openai)
    kb = next(n for n in gql(STACK, w=w)["workflow"]["nodes"] if n["id"] == "kb")
    reference, hint = kb["config"]["apiKey"]["secretRef"], kb["config"]["apiKey"]["hint"]
    exported = [download(client, w, what) for what in ("export.json", "export.zip")]
    history = download(client, w, "history.jsonl")
    assert [r.status_code for r in (*exported, history)] == [200, 200, 200]
    with zipfile.ZipFile(io.BytesIO(exported[1].content)) as archive:
        inside = b"".join(archive.read(name) for name in archive.namelist())
    for data in (exported[0].content, inside, history.content):
        for secret in (OPENAI_KEY, SEARCH_KEY, reference, hint):
            assert secret.encode() not in data
    for node in json.loads(exported[0].content)["stack"]["nodes"]:
        assert not set(node["config"]) & set(SECRET_FIELDS)

    lines = [json.loads(line) for line in history.content.decode().splitlines()]
    assert history.headers["content-type"].startswith("application/jsonl")
    types = [line["type"] for line in lines]
    assert types[0] == "WorkflowCreated" and "DocumentIndexed" in types
    assert {"NodeAdded", "NodesConnected", "DocumentUploaded"} <= set(types)
    added_kb = next(x for x in lines if x["type"] == "NodeAdded" and x["data"]["node_id"] == "kb")
    assert added_kb["data"]["config"]["apiKey"] == "[redacted]"
    assert all(line["stackId"] == w for line in lines)
    assert [line["version"] for line in lines if line["documentId"] is None] == list(
        range(1, len([x for x in lines if x["documentId"] is None]) + 1)
    )


def _resigned(document: dict[str, Any]) -> bytes:
    """`document` with its digest made to match its content again, as a forger would."""
    payload = document["stack"]
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    return json.dumps({**document, "digest": digest}).encode()


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_files_of_a_newer_format_malformed_or_changed_are_refused_and_make_nothing(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    w = build_stack(client, gql, fake_openai)
    exported = download(client, w, "export.json").content
    document = json.loads(exported)
    archive = download(client, w, "export.zip").content
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        entries = {name: z.read(name) for name in z.namelist()}
    (pdf_entry,) = [name for name in entries if name.endswith(".pdf")]

    newer = _resigned({**document, "formatVersion": 2})
    error = refused(client, newer)
    assert error.code == "BAD_USER_INPUT"
    assert "format version 2" in error.message and "newer GenAI Stack" in error.message

    renamed = {**document, "stack": {**document["stack"], "name": "Tampered"}}
    error = refused(client, json.dumps(renamed).encode())
    assert error.code == "BAD_USER_INPUT" and "changed after it was exported" in error.message

    other_pdf = {**entries, pdf_entry: text_pdf(["Not the document that was exported."])}
    error = refused(client, _zip(other_pdf), "stack.zip")
    assert error.code == "BAD_USER_INPUT" and "does not hold the bytes" in error.message

    missing_pdf = {k: v for k, v in entries.items() if k != pdf_entry}
    assert "lacks the document" in refused(client, _zip(missing_pdf), "stack.zip").message
    extra = {**entries, "documents/../../evil.sh": b"#!/bin/sh"}
    assert "does not list" in refused(client, _zip(extra), "stack.zip").message

    # a listed document must be a PDF, for a Knowledge Base of the stack
    not_pdf = b"just some text, not a PDF"
    sha = hashlib.sha256(not_pdf).hexdigest()
    listed = json.loads(exported)
    listed["stack"]["documents"] = [
        {"filename": "notes.pdf", "nodeId": "kb", "sha256": sha, "size": len(not_pdf)}
    ]
    text_zip = {"stack.json": _resigned(listed), f"documents/{sha}.pdf": not_pdf}
    assert "notes.pdf is not a PDF" in refused(client, _zip(text_zip), "stack.zip").message
    listed["stack"]["documents"][0]["nodeId"] = "llm"
    wrong_node = {**text_zip, "stack.json": _resigned(listed)}
    assert "not a Knowledge Base" in refused(client, _zip(wrong_node), "stack.zip").message

    key_added = json.loads(exported)
    key_added["stack"]["nodes"][2]["config"]["apiKey"] = "sk-smuggled-in-0123456789"
    assert "never holds an API key" in refused(client, _resigned(key_added)).message

    for data, words in (
        (b"\xff\xfe not json", "not valid JSON"),
        (b'{"format": "something else"}', "not a stack file"),
        (json.dumps({**document, "formatVersion": "1"}).encode(), "no valid formatVersion"),
        (b"PK\x03\x04 broken zip", "not a valid zip"),
        (_zip({"readme.txt": b"hello"}), "holds no stack.json"),
    ):
        error = refused(client, data)
        assert error.code == "BAD_USER_INPUT" and words in error.message, error.message

    graph_broken = json.loads(exported)
    graph_broken["stack"]["edges"].append({"source": "out", "target": "q"})
    error = refused(client, _resigned(graph_broken))
    assert error.code == "BAD_USER_INPUT" and "out" in error.message


MISSING = "00000000-0000-4000-8000-000000000000"


def test_another_workspaces_stack_cannot_be_downloaded(settings: Settings) -> None:
    with served(settings, **NETWORK) as network:
        register(network, "ada@example.com")
        register(network, "bob@example.com")
        ada, bob = (
            signed_in_gql(network, "ada@example.com"),
            signed_in_gql(network, "bob@example.com"),
        )
        for person, team in ((ada, "Ada's"), (bob, "Bob's")):
            person("mutation($n: String!) { createWorkspace(name: $n) { id } }", n=team)
        w = ada(CREATE, name="Ada's stack")["createWorkflow"]["id"]

        def as_(person: AsPrincipal | None, what: str, stack: str = w) -> httpx.Response:
            headers = {"Authorization": f"Bearer {person.credential}"} if person else {}
            return download(network, stack, what, **headers)

        for what in ("export.json", "export.zip", "history.jsonl"):
            assert as_(ada, what).status_code == 200
            theirs, nobody = as_(bob, what), as_(None, what)
            missing = as_(bob, what, MISSING)
            assert (theirs.status_code, nobody.status_code) == (404, 401)
            # the same as a stack that does not exist
            unseen = theirs.json()["errors"][0]["message"].replace(w, "ID")
            assert unseen == missing.json()["errors"][0]["message"].replace(MISSING, "ID")
            assert theirs.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
            assert as_(bob, what, "not-a-uuid").status_code == 404

        exported = as_(ada, "export.json").content
        body = import_raw(
            network, exported, "stack.json", headers={"Authorization": f"Bearer {bob.credential}"}
        )
        made = body["data"]["importStack"]["workflow"]
        assert made["name"] == "Ada's stack"
        assert [s["id"] for s in bob(LIST)["workflows"]] == [made["id"]]  # in Bob's workspace
        anonymous = import_raw(network, exported, "stack.json")
        assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
