"""Changes, questions and uploads are rate limited per user, per API token and per client
address: past a limit, RATE_LIMITED with `retryAfter` (and `Retry-After`), nothing applied;
an upload is refused with 429 before its body is read. The local owner of a loopback server
is not limited unless asked to be."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from infrastructure.settings import Settings
from tests import pdfs
from tests.integration.accounts_client import (
    NETWORK,
    AsPrincipal,
    register,
    served,
    signed_in_gql,
)
from tests.integration.chat_ops import fake_llm, published_workflow, start_chat
from tests.integration.documents_client import add_knowledge_base, new_workflow, upload_raw
from tests.integration.gql import GQL
from tests.integration.ws import PROTOCOL

pytestmark = pytest.mark.parametrize("backend", ["postgres"])

CREATE_WORKSPACE = "mutation($n: String!) { createWorkspace(name: $n) { id name } }"
WORKSPACES = "{ workspaces { id name } }"
SEND = """mutation($s: UUID!, $c: String!) { sendMessage(sessionId: $s, content: $c) {
  id content } }"""
SESSION = "query($s: UUID!) { chatSession(id: $s) { messages { role content } } }"
TOKEN = """mutation($ws: UUID!) { createApiToken(workspaceId: $ws, name: "ci",
  scopes: [EDIT, READ]) { token } }"""
WORKFLOWS = "{ workflows { id } }"


def limits(**rules: str) -> dict[str, Any]:
    return {"genai_rate_limit_namespace": f"test-{uuid.uuid4().hex}", **rules}


def refused(body: dict[str, Any], message_part: str) -> int:
    """The retryAfter of a RATE_LIMITED answer (no data)."""
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED", error
    assert message_part in error["message"]
    wait = error["extensions"]["retryAfter"]
    assert type(wait) is int and 1 <= wait <= 60
    assert body.get("data") is None
    return wait


def post(client: TestClient, credential: str | None, query: str, **variables: Any) -> Any:
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    client.cookies.clear()
    return client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


def test_a_user_past_the_change_limit_is_refused_and_nothing_is_applied(
    settings: Settings,
) -> None:
    rules = limits(genai_mutation_limit="3/minute", genai_mutation_limit_per_address="100/minute")
    with served(settings, **NETWORK, **rules) as client:
        register(client, "ada@example.com")
        register(client, "bob@example.com")
        ada = signed_in_gql(client, "ada@example.com")
        for n in range(3):
            ada(CREATE_WORKSPACE, n=f"ada {n}")

        response = post(client, ada.credential, CREATE_WORKSPACE, n="one too many")

        wait = refused(response.json(), "too many changes")
        assert response.headers["retry-after"] == str(wait)
        assert sorted(w["name"] for w in ada(WORKSPACES)["workspaces"]) == [
            "ada 0",
            "ada 1",
            "ada 2",
        ]
        # reads are not changes; another user from the same address has a count of their own
        assert ada(WORKSPACES)["workspaces"]
        bob = signed_in_gql(client, "bob@example.com")
        assert bob(CREATE_WORKSPACE, n="bob's")["createWorkspace"]["name"] == "bob's"


def test_the_users_behind_one_address_share_its_limit(settings: Settings) -> None:
    rules = limits(genai_mutation_limit="100/minute", genai_mutation_limit_per_address="3/minute")
    with served(settings, **NETWORK, **rules) as client:
        register(client, "ada@example.com")
        register(client, "bob@example.com")
        ada = signed_in_gql(client, "ada@example.com")
        bob = signed_in_gql(client, "bob@example.com")
        ada(CREATE_WORKSPACE, n="a1")
        bob(CREATE_WORKSPACE, n="b1")
        ada(CREATE_WORKSPACE, n="a2")

        refused(post(client, bob.credential, CREATE_WORKSPACE, n="b2").json(), "too many")
        assert [w["name"] for w in bob(WORKSPACES)["workspaces"]] == ["b1"]


def test_an_api_token_is_limited_apart_from_the_user_who_made_it(settings: Settings) -> None:
    rules = limits(
        genai_mutation_limit="2/minute",
        genai_mutation_limit_per_address="100/minute",
        genai_rate_limit_local_owner=True,
    )
    with served(settings, **rules) as client:  # on loopback: the local owner, counted too
        owner = GQL(client)
        workspace = owner(WORKSPACES)["workspaces"][0]["id"]
        token = owner(TOKEN, ws=workspace)["createApiToken"]["token"]  # the owner's 1st
        as_token = AsPrincipal(client, token)
        as_token(new_workflow_query(), n="by token 1")
        as_token(new_workflow_query(), n="by token 2")

        refused(post(client, token, new_workflow_query(), n="by token 3").json(), "too many")
        new_workflow(owner, "by the owner")  # the owner's 2nd: still within theirs
        refused(post(client, None, new_workflow_query(), n="owner's 3rd").json(), "too many")
        assert len(owner(WORKFLOWS)["workflows"]) == 3


def new_workflow_query() -> str:
    return "mutation($n: String!) { createWorkflow(name: $n) { id } }"


def test_the_local_owner_is_not_limited_by_default(settings: Settings) -> None:
    rules = limits(genai_mutation_limit="2/minute", genai_mutation_limit_per_address="2/minute")
    with served(settings, **rules) as client:
        owner = GQL(client)
        for n in range(6):
            new_workflow(owner, f"stack {n}")
        assert len(owner(WORKFLOWS)["workflows"]) == 6


def test_questions_have_their_own_limit(settings: Settings, fake_openai: Any) -> None:
    rules = limits(
        genai_question_limit="2/minute",
        genai_question_limit_per_address="100/minute",
        genai_rate_limit_local_owner=True,
    )
    with served(settings, **rules) as client:
        gql = GQL(client)
        session = start_chat(gql, published_workflow(gql, fake_llm(fake_openai)))
        gql(SEND, s=session, c="first?")
        gql(SEND, s=session, c="second?")

        response = post(client, None, SEND, s=session, c="third?")

        wait = refused(response.json(), "too many questions")
        assert response.headers["retry-after"] == str(wait)
        asked = [
            m["content"]
            for m in gql(SESSION, s=session)["chatSession"]["messages"]
            if m["role"] == "USER"
        ]
        assert asked == ["first?", "second?"]
        start_chat(gql, gql(WORKFLOWS)["workflows"][0]["id"])  # changes are counted apart


def test_an_upload_past_the_limit_is_refused_before_its_body_is_read(settings: Settings) -> None:
    rules = limits(
        genai_upload_limit="1/minute",
        genai_upload_limit_per_address="100/minute",
        genai_rate_limit_local_owner=True,
    )
    with served(settings, **rules) as client:
        gql = GQL(client)
        workflow = new_workflow(gql)
        add_knowledge_base(gql, workflow)
        first = upload_raw(client, workflow, pdfs.multi_page_pdf(2), "one.pdf")
        assert first.status_code == 200 and "errors" not in first.json(), first.text

        second = upload_raw(client, workflow, pdfs.multi_page_pdf(3), "two.pdf")

        assert second.status_code == 429
        wait = refused(second.json(), "too many uploads")
        assert second.headers["retry-after"] == str(wait)
        documents = gql(
            "query($w: UUID!) { workflow(id: $w) { documents { filename } } }", w=workflow
        )["workflow"]["documents"]
        assert [d["filename"] for d in documents] == ["one.pdf"]


def test_with_redis_the_processes_count_together(settings: Settings) -> None:
    rules = limits(
        redis_url="redis://127.0.0.1:6379/0",
        genai_mutation_limit="3/minute",
        genai_mutation_limit_per_address="100/minute",
        genai_rate_limit_local_owner=True,
    )
    with served(settings, **rules) as first:
        new_workflow(GQL(first), "one")
        new_workflow(GQL(first), "two")
    with served(settings, **rules) as second:  # a new process: nothing in its memory
        new_workflow(GQL(second), "three")
        response = post(second, None, new_workflow_query(), n="four")
        wait = refused(response.json(), "too many changes")
        assert response.headers["retry-after"] == str(wait)
    with served(settings, **{**rules, "redis_url": None}) as alone:  # memory: its own count
        new_workflow(GQL(alone), "four")


def test_a_change_sent_over_a_websocket_is_counted_too(settings: Settings) -> None:
    rules = limits(
        genai_mutation_limit="1/minute",
        genai_mutation_limit_per_address="100/minute",
        genai_rate_limit_local_owner=True,
    )
    with (
        served(settings, **rules) as client,
        client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws,
    ):
        ws.send_json({"type": "connection_init", "payload": {}})
        assert ws.receive_json()["type"] == "connection_ack"
        answers = []
        for op in ("1", "2"):
            ws.send_json(
                {
                    "id": op,
                    "type": "subscribe",
                    "payload": {"query": new_workflow_query(), "variables": {"n": f"ws {op}"}},
                }
            )
            message = ws.receive_json()
            while message["type"] == "complete":
                message = ws.receive_json()
            answers.append(message)
        assert answers[0]["payload"]["data"]["createWorkflow"]["id"]
        [error] = answers[1]["payload"]["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert type(error["extensions"]["retryAfter"]) is int
