"""Publishable tokens (an embedded chat's, seen in web pages' source): issued for one published
stack and the sites its owner lists; from those sites they start a chat, ask, and read that
chat, over HTTP (with CORS) and over the WebSocket, at their own rate limit; from any other
site, or for anything else, they are refused. Every other request keeps the same-origin
protection it had."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from infrastructure.settings import Settings
from interfaces.app import create_app
from tests.fakes import FakeOpenAIServer
from tests.integration.accounts_client import every_stored_byte, stored_events
from tests.integration.chat_ops import (
    EVENTS,
    SEND,
    SESSION,
    SESSIONS,
    START,
    fake_llm,
    published_workflow,
)
from tests.integration.gql import GQL, GraphQLError
from tests.integration.workflow_ops import ADD, CREATE
from tests.integration.ws import PROTOCOL

DEFAULT = "0b1d2c9e-6a47-4c1e-9f0a-3d5e2a7c4b10"
SHOP = "https://shop.example.com"
BLOG = "http://blog.example.org:8080"
ELSEWHERE = "https://attacker.example.net"

PUBLISHABLE = """
mutation($stack: UUID!, $name: String!, $origins: [String!]!) {
  createPublishableToken(stackId: $stack, name: $name, allowedOrigins: $origins) {
    token
    apiToken { id name scopes stackId publishable allowedOrigins revokedAt }
  }
}"""
TOKENS = """query($ws: UUID!) {
  apiTokens(workspaceId: $ws) { id stackId publishable allowedOrigins }
}"""
STACK_TOKENS = """query($stack: UUID!) {
  publishableTokens(stackId: $stack) { id allowedOrigins revokedAt }
}"""
CREATE_TOKEN = """mutation($ws: UUID!) {
  createApiToken(workspaceId: $ws, name: "ci", scopes: [CHAT]) { token }
}"""
REVOKE = "mutation($id: UUID!) { revokeApiToken(id: $id) { id revokedAt } }"


class Page:
    """GraphQL as an embedded chat on a web page of `origin` sends it: the publishable token
    as a Bearer credential, and the page's Origin."""

    def __init__(self, client: TestClient, token: str, origin: str | None) -> None:
        self.client, self.token, self.origin = client, token, origin
        self.last: Any = None

    def raw(self, query: str, **variables: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        if self.origin is not None:
            headers["Origin"] = self.origin
        self.last = self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        return dict(self.last.json())

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self.raw(query, **variables)
        if body.get("errors"):
            raise GraphQLError(body["errors"])
        return dict(body["data"])

    def refusal(self, query: str, **variables: Any) -> tuple[str, str]:
        """The code and message of the request's first error."""
        with pytest.raises(GraphQLError) as refused:
            self(query, **variables)
        return str(refused.value.code), refused.value.message


@pytest.fixture
def limited(settings: Settings) -> Iterator[TestClient]:
    tight = settings.model_copy(update={"genai_embed_question_limit": "3/minute"})
    with TestClient(create_app(tight)) as client:
        yield client


def publish(gql: GQL, fake_openai: FakeOpenAIServer, name: str = "Shop help") -> str:
    return published_workflow(gql, fake_llm(fake_openai), name=name)


def issue(gql: GQL, stack: str, origins: list[str], name: str = "shop site") -> dict[str, Any]:
    return dict(gql(PUBLISHABLE, stack=stack, name=name, origins=origins)["createPublishableToken"])


def test_a_publishable_token_is_for_one_published_stack_and_the_sites_listed(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    stack = publish(gql, fake_openai)
    created = issue(gql, stack, [f"{SHOP}/", "HTTP://Blog.Example.org:8080", SHOP])
    token, view = created["token"], created["apiToken"]
    assert token.startswith("gsp_") and len(token) > 40
    assert view["publishable"] is True and view["stackId"] == stack
    assert view["scopes"] == ["CHAT"]
    assert view["allowedOrigins"] == [BLOG, SHOP]  # as browsers send them, once each
    listed = gql(TOKENS, ws=DEFAULT)["apiTokens"]
    assert listed == [
        {"id": view["id"], "stackId": stack, "publishable": True, "allowedOrigins": [BLOG, SHOP]}
    ]
    gql(CREATE_TOKEN, ws=DEFAULT)  # an ordinary token: not one of the stack's embed tokens
    of_stack = gql(STACK_TOKENS, stack=stack)["publishableTokens"]
    assert of_stack == [{"id": view["id"], "allowedOrigins": [BLOG, SHOP], "revokedAt": None}]
    [issued] = [
        e for e in stored_events(client, DEFAULT) if getattr(e, "token_id", 0) == view["id"]
    ]
    assert type(issued).__name__ == "ApiTokenIssued"
    assert issued.allowed_origins == [BLOG, SHOP] and issued.stack_id == stack
    assert token.encode() not in every_stored_byte(client)


@pytest.mark.parametrize(
    ("origins", "message"),
    [
        ([], "at least one site"),
        (["shop.example.com"], "not an origin"),
        (["https://shop.example.com/chat"], "no path"),
        (["ftp://shop.example.com"], "not an origin"),
        (["https://user@shop.example.com"], "no path, query or user"),
    ],
)
def test_a_publishable_token_needs_origins(
    gql: GQL, fake_openai: FakeOpenAIServer, origins: list[str], message: str
) -> None:
    stack = publish(gql, fake_openai)
    with pytest.raises(GraphQLError) as refused:
        issue(gql, stack, origins)
    assert refused.value.code == "BAD_USER_INPUT" and message in refused.value.message
    assert gql(TOKENS, ws=DEFAULT)["apiTokens"] == []  # nothing half-issued


def test_an_unpublished_stack_has_no_embed(gql: GQL) -> None:
    stack = gql(CREATE, name="Draft only")["createWorkflow"]["id"]
    with pytest.raises(GraphQLError) as refused:
        issue(gql, stack, [SHOP])
    assert refused.value.code == "BAD_USER_INPUT" and "publish the stack" in refused.value.message


def test_from_a_listed_site_it_chats_over_http_with_cors(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply = "We ship in two days."
    stack = publish(gql, fake_openai)
    page = Page(client, issue(gql, stack, [SHOP])["token"], SHOP)

    preflight = client.options(
        "/graphql",
        headers={
            "Origin": SHOP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == SHOP
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    assert "POST" in preflight.headers["access-control-allow-methods"]

    session = page(START, w=stack)["startChat"]
    assert page.last.headers["access-control-allow-origin"] == SHOP
    assert page.last.headers["vary"] == "Origin"
    # the embedding page's script may read how long to wait, and the id to report a problem by
    exposed = {h.strip() for h in page.last.headers["access-control-expose-headers"].split(",")}
    assert {"retry-after", "x-request-id"} <= exposed and page.last.headers["x-request-id"]
    assert (session["workflowId"], session["publishedVersion"], session["draft"]) == (
        stack,
        1,
        False,
    )
    asked = page(SEND, s=session["id"], c="When do you ship?")["sendMessage"]
    assert asked["role"] == "USER" and asked["content"] == "When do you ship?"
    messages = wait_for_answer(page, session["id"])
    assert [m["role"] for m in messages] == ["USER", "ASSISTANT"]
    assert messages[1]["content"] == "We ship in two days."
    # what it did is recorded as the token's
    [started] = [
        e for e in stored_events(client, session["id"]) if type(e).__name__ == "ChatStarted"
    ]
    assert started.actor.startswith("token:")


def wait_for_answer(page: Page, session_id: str) -> list[dict[str, Any]]:
    """The session's messages once the answer is stored (read through the page's token)."""
    from tests.integration.workflow_ops import wait_for

    def answered() -> list[dict[str, Any]] | None:
        messages = page(SESSION, s=session_id)["chatSession"]["messages"]
        return messages if messages and messages[-1]["role"] == "ASSISTANT" else None

    return wait_for(answered)  # type: ignore[no-any-return]


def test_from_another_site_or_no_site_it_is_refused_and_gets_no_cors(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    stack = publish(gql, fake_openai)
    token = issue(gql, stack, [SHOP])["token"]
    for origin in (ELSEWHERE, "https://shop.example.com:444", "null", None):
        page = Page(client, token, origin)
        code, message = page.refusal(START, w=stack)
        assert code == "FORBIDDEN" and "this site is not allowed to use this chat" in message
        assert "access-control-allow-origin" not in page.last.headers
    preflight = client.options(
        "/graphql", headers={"Origin": ELSEWHERE, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 403
    assert "access-control-allow-origin" not in preflight.headers
    # an ordinary request from another site is answered as before: without CORS headers
    other = client.post(
        "/graphql", json={"query": "{ workflows { id } }"}, headers={"Origin": SHOP}
    )
    assert "access-control-allow-origin" not in other.headers


def test_it_only_chats_with_its_stack_and_its_own_sessions(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    stack = publish(gql, fake_openai)
    other_stack = publish(gql, fake_openai, name="Internal")
    page = Page(client, issue(gql, stack, [SHOP])["token"], SHOP)
    owners_chat = gql(START, w=stack)["startChat"]["id"]

    refused = {
        "the graph": ("query($w: UUID!) { workflow(id: $w) { id nodes { id } } }", {"w": stack}),
        "the stacks": ("{ workflows { id name } }", {}),
        "the chats of the stack": (SESSIONS, {"w": stack}),
        "an edit": (
            ADD,
            {"w": stack, "kind": "OUTPUT", "x": 0, "y": 0, "id": "o2", "config": None},
        ),
        "a rename": (
            'mutation($w: UUID!) { renameWorkflow(id: $w, name: "Mine") { id } }',
            {"w": stack},
        ),
        "the draft": (START, {"w": stack, "d": True}),
        "another stack": (START, {"w": other_stack}),
        "the workspaces": ("{ workspaces { id } }", {}),
        "the usage": ("{ usage { workflowId } }", {}),
        "the tokens": (TOKENS, {"ws": DEFAULT}),
        "the history": (
            "query($w: UUID!) { workflowHistory(id: $w) { version } }",
            {"w": stack},
        ),
        "someone else's chat": (SEND, {"s": owners_chat, "c": "hi"}),
    }
    for what, (query, variables) in refused.items():
        code, _ = page.refusal(query, **variables)
        assert code in ("FORBIDDEN", "NOT_FOUND"), what
    assert page(SESSION, s=owners_chat)["chatSession"] is None  # as if it did not exist
    assert [m for m in gql(SESSION, s=owners_chat)["chatSession"]["messages"]] == []


def test_over_the_websocket_only_a_listed_site_with_the_token_is_let_in(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply = "Hello from the shop."
    stack = publish(gql, fake_openai)
    token = issue(gql, stack, [SHOP])["token"]
    issue(gql, stack, [BLOG], name="blog")  # BLOG is listed, but by another token
    session = Page(client, token, SHOP)(START, w=stack)["startChat"]["id"]

    with client.websocket_connect("/graphql", [PROTOCOL], headers={"origin": SHOP}) as ws:
        ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": EVENTS, "variables": {"s": session}},
            }
        )
        first = ws.receive_json()["payload"]["data"]["chatEvents"]
        assert first["__typename"] == "ChatListening"
        Page(client, token, SHOP)(SEND, s=session, c="Hi")
        kinds, answer = [], None
        while answer is None:
            event = ws.receive_json()["payload"]["data"]["chatEvents"]
            kinds.append(event["__typename"])
            if (
                event["__typename"] == "ChatMessageAdded"
                and event["message"]["role"] == "ASSISTANT"
            ):
                answer = event["message"]["content"]
        assert answer == "Hello from the shop." and "ChatToken" in kinds

    # a site listed by another token: let in to say why it is refused, and closed
    assert closed_at_init(client, BLOG, token) == (4403, "this site is not allowed")
    # a listed site, with no token or a user's credentials: closed too
    assert closed_at_init(client, SHOP, None)[0] == 4403
    # a site no token lists: refused at the handshake, as ever
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/graphql", [PROTOCOL], headers={"origin": ELSEWHERE}),
    ):
        pass
    assert refused.value.code == 1008


def closed_at_init(client: TestClient, origin: str, token: str | None) -> tuple[int, str]:
    payload = {"authorization": f"Bearer {token}"} if token else {}
    with client.websocket_connect("/graphql", [PROTOCOL], headers={"origin": origin}) as ws:
        ws.send_json({"type": "connection_init", "payload": payload})
        message = ws.receive()
    assert message["type"] == "websocket.close", message
    reason = str(message.get("reason", ""))
    return int(message["code"]), reason[: len("this site is not allowed")]


def test_a_revoked_token_is_refused_everywhere(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    stack = publish(gql, fake_openai)
    created = issue(gql, stack, [SHOP])
    page = Page(client, created["token"], SHOP)
    session = page(START, w=stack)["startChat"]["id"]
    gql(REVOKE, id=created["apiToken"]["id"])
    assert page.refusal(SEND, s=session, c="still there?")[0] == "UNAUTHENTICATED"
    preflight = client.options(
        "/graphql", headers={"Origin": SHOP, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 403  # no live token lists the site any more
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/graphql", [PROTOCOL], headers={"origin": SHOP}),
    ):
        pass
    assert refused.value.code == 1008


def test_an_embedded_chat_has_its_own_rate_limit(
    limited: TestClient, fake_openai: FakeOpenAIServer
) -> None:
    owner = GQL(limited)
    stack = publish(owner, fake_openai)
    page = Page(limited, issue(owner, stack, [SHOP])["token"], SHOP)
    session = page(START, w=stack)["startChat"]["id"]
    page(SEND, s=session, c="one")
    page(SEND, s=session, c="two")
    body = page.raw(SEND, s=session, c="three")
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 1 <= error["extensions"]["retryAfter"] <= 60
    # the owner's questions are counted by the ordinary rule, not the embed's
    mine = owner(START, w=stack)["startChat"]["id"]
    for n in range(4):
        owner(SEND, s=mine, c=f"mine {n}")
