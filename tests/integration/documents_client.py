"""Documents through the real app: knowledge bases, multipart uploads, the documentEvents
subscription over graphql-transport-ws, waiting for the ingestion, and the fixtures of a
backend with its vector index (embedded Chroma, or PostgreSQL with the Chroma server).

Test modules import the fixtures: `from tests.integration.documents_client import settings`
overrides the root conftest's `settings` for that module."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio
import pytest
from starlette.testclient import TestClient

from application.document.handlers import DocumentService
from application.ports import Passage
from domain.graph import Node
from infrastructure.chunking import chunk_pages
from infrastructure.pdf import extract_pages
from infrastructure.settings import Settings
from interfaces.app import create_app
from interfaces.bootstrap import Services
from tests.conftest import make_settings
from tests.integration.gql import GQL, GraphQLError
from tests.integration.ws import InProcessSubscription

DOCUMENT_FIELDS = """
    id workflowId nodeId filename sizeBytes status pageCount chunkCount error createdAt
    embeddingModel failedStage
    progress { stage pagesExtracted pageTotal chunksEmbedded chunkTotal fraction }
"""

UPLOAD = f"""
mutation($w: UUID!, $f: Upload!, $n: String) {{
  uploadDocument(workflowId: $w, file: $f, nodeId: $n) {{ {DOCUMENT_FIELDS} }}
}}"""

DOCUMENT = f"query($id: UUID!) {{ document(id: $id) {{ {DOCUMENT_FIELDS} }} }}"

EVENTS = f"subscription($w: UUID!) {{ documentEvents(workflowId: $w) {{ {DOCUMENT_FIELDS} }} }}"


def new_workflow(gql: GQL, name: str = "Knowledge") -> str:
    return str(
        gql("mutation($n: String!) { createWorkflow(name: $n) { id } }", n=name)["createWorkflow"][
            "id"
        ]
    )


def add_knowledge_base(gql: GQL, workflow_id: str, node_id: str = "kb", **config: Any) -> str:
    gql(
        """mutation($w: UUID!, $n: String!, $c: JSON) {
             addNode(workflowId: $w, kind: KNOWLEDGE_BASE, position: {x: 0, y: 0},
                     nodeId: $n, config: $c) { id }
           }""",
        w=workflow_id,
        n=node_id,
        c=config or None,
    )
    return node_id


def configure(gql: GQL, workflow_id: str, node_id: str, **config: Any) -> None:
    gql(
        """mutation($w: UUID!, $n: String!, $c: JSON!) {
             configureNode(workflowId: $w, nodeId: $n, config: $c) { id }
           }""",
        w=workflow_id,
        n=node_id,
        c=config,
    )


def upload_raw(
    client: TestClient,
    workflow_id: str,
    data: bytes,
    filename: str = "facts.pdf",
    node_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    operations = {"query": UPLOAD, "variables": {"w": workflow_id, "f": None, "n": node_id}}
    return client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
        files={"0": (filename, data, "application/octet-stream")},
        headers={"Apollo-Require-Preflight": "true"} if headers is None else headers,
    )


def upload(
    client: TestClient,
    workflow_id: str,
    data: bytes,
    filename: str = "facts.pdf",
    node_id: str | None = None,
) -> dict[str, Any]:
    body = upload_raw(client, workflow_id, data, filename, node_id).json()
    if body.get("errors"):
        raise GraphQLError(body["errors"])
    return dict(body["data"]["uploadDocument"])


def document(gql: GQL, document_id: str) -> dict[str, Any] | None:
    return gql(DOCUMENT, id=document_id)["document"]  # type: ignore[no-any-return]


def wait_for_status(
    gql: GQL, document_id: str, statuses: tuple[str, ...] = ("INDEXED", "FAILED"), timeout=90.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = document(gql, document_id)
        if found is not None and found["status"] in statuses:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"document {document_id} still {found} after {timeout} s")
        time.sleep(0.05)


class Subscription(InProcessSubscription):
    """documentEvents on the in-process app, read with a timeout, so a missing event fails
    the test instead of hanging it."""

    def next_data(self, timeout: float = 60.0) -> dict[str, Any]:
        async def receive() -> Any:
            with anyio.fail_after(timeout):
                return await self.ws._send_rx.receive()

        message = json.loads(self.ws.portal.call(receive)["text"])
        assert message["type"] == "next", message
        return dict(message["payload"]["data"]["documentEvents"])

    def until(self, done: Callable[[dict[str, Any]], bool], timeout: float = 90.0) -> list[Any]:
        """Every document up to and including the first for which `done(document)` holds."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while not seen or not done(seen[-1]):
            seen.append(self.next_data(max(0.1, deadline - time.monotonic())))
        return seen


@contextmanager
def document_events(client: TestClient, workflow_id: str) -> Iterator[Subscription]:
    subscription = Subscription(client, EVENTS, {"w": workflow_id})
    try:
        hub = client.app.state.services.hub  # type: ignore[attr-defined]
        deadline = time.monotonic() + 10
        while hub.subscriber_count(f"documents:{workflow_id}") == 0:
            assert time.monotonic() < deadline, "the subscription did not start"
            time.sleep(0.01)
        yield subscription
    finally:
        subscription.close()


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    if backend == "postgres":
        request.getfixturevalue("chroma_remote_index")  # drops our collections afterwards
        return make_settings(
            tmp_path / "data",
            request.getfixturevalue("postgres_url"),
            chroma_url=request.getfixturevalue("chroma_server_url"),
        )
    return make_settings(tmp_path / "data", None)


ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(settings: Settings) -> Iterator[ClientFactory]:
    """Apps on the test's backend with some settings changed, stopped after the test."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        client = TestClient(create_app(settings.model_copy(update=overrides)))
        clients.append(client.__enter__())
        return client

    yield make
    for client in reversed(clients):
        client.__exit__(None, None, None)


# ---------------------------------------------------------------- the services behind


def services(client: TestClient) -> Services:
    return client.app.state.services  # type: ignore[attr-defined, no-any-return]


def service(client: TestClient) -> DocumentService:
    return services(client).documents


def vectors(client: TestClient, model: str, document_id: str) -> int:
    return services(client).index.count_model(model, {"document_id": document_id})


def chunk_count(data: bytes, size: int, overlap: int) -> int:
    return len(chunk_pages(extract_pages(io.BytesIO(data)), size, overlap))


def draft_node(client: TestClient, workflow_id: str, node_id: str = "kb") -> Node:
    """The Knowledge Base as the draft has it (what a draft preview runs)."""
    return service(client).workflows.load(UUID(workflow_id)).nodes[node_id]


def retrieve(
    client: TestClient,
    workflow_id: str,
    question: str,
    top_k: int,
    where: dict[str, Any] | None = None,
) -> list[Passage]:
    """Retrieval for the draft's Knowledge Base `kb`."""
    node = draft_node(client, workflow_id)
    return services(client).retrieval.retrieve(UUID(workflow_id), node, question, top_k, where)


def pages_for(client: TestClient, workflow_id: str, question: str, top_k: int = 3) -> list[int]:
    passages = retrieve(client, workflow_id, question, top_k)
    return [p.page for p in passages if p.page is not None]


def settle(client: TestClient) -> None:
    """Waits until the ingestion has followed the whole log (its clean-ups included)."""
    follower = services(client).worker("ingestion")
    assert follower.wait_until(services(client).event_log.max_notification_id(), 60)
