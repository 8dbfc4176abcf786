"""GraphQL operations on chats, and building published workflows to chat with."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from tests.integration.gql import GQL
from tests.integration.workflow_ops import ADD, CONNECT, CREATE, PUBLISH, wait_for
from tests.integration.ws import InProcessSubscription

MESSAGE_FIELDS = """id role content status createdAt replyTo model latencyMs
  usage { promptTokens completionTokens } error { code message }
  sources { documentId filename page chunk score text } webSources { title url snippet }
  workflowVersion publishedVersion"""

START = """mutation($w: UUID!, $v: Int, $d: Boolean! = false) {
  startChat(workflowId: $w, publishedVersion: $v, draft: $d) {
  id workflowId publishedVersion draft createdAt messages { id } } }"""
SEND = f"""mutation($s: UUID!, $c: String!) {{ sendMessage(sessionId: $s, content: $c) {{
  {MESSAGE_FIELDS} }} }}"""
SESSION = f"""query($s: UUID!) {{ chatSession(id: $s) {{ id workflowId publishedVersion draft
  messages {{ {MESSAGE_FIELDS} }} }} }}"""
SESSIONS = """query($w: UUID!) { chatSessions(workflowId: $w) { id publishedVersion draft
  messages { id role status } } }"""
USAGE = """query($w: UUID) { usage(workflowId: $w) { workflowId day model answers promptTokens
  completionTokens costUsd } }"""
EVENTS = f"""subscription($s: UUID!) {{ chatEvents(sessionId: $s) {{
  __typename
  ... on ChatMessageAdded {{ sessionId message {{ {MESSAGE_FIELDS} }} }}
  ... on ChatThinking {{ sessionId stage }}
  ... on ChatToken {{ sessionId messageId delta }}
  ... on ChatFailed {{ sessionId failedId: messageId questionId code error: message
    workflowVersion publishedVersion }} }} }}"""
# ChatFailed's `message` (String!) and `messageId` (UUID) clash with ChatMessageAdded's `message`
# and ChatToken's `messageId` (UUID!) in one selection, so GraphQL wants them aliased.
UPLOAD = """mutation($w: UUID!, $f: Upload!, $n: String) { uploadDocument(workflowId: $w,
  file: $f, nodeId: $n) { id status } }"""
DOCUMENT = "query($d: UUID!) { document(id: $d) { id status pageCount chunkCount error } }"


def fake_llm(server: Any, provider: str = "openai", **extra: Any) -> dict[str, Any]:
    """An LLM node config that talks to a fake provider server."""
    base = server.base_url if provider == "openai" else server.url
    model = "gpt-4o-mini" if provider == "openai" else "gemini-2.5-flash"
    return {"provider": provider, "model": model, "baseUrl": base, **extra}


def published_workflow(
    gql: GQL,
    llm: dict[str, Any],
    knowledge_base: dict[str, Any] | None = None,
    name: str = "Chat test",
) -> str:
    """User Query → (Knowledge Base →) LLM Engine → Output, published; returns its id."""
    w = draft_workflow(gql, llm, knowledge_base, name)
    gql(PUBLISH, w=w)
    return w


def draft_workflow(
    gql: GQL,
    llm: dict[str, Any],
    knowledge_base: dict[str, Any] | None = None,
    name: str = "Chat test",
) -> str:
    """The graph of `published_workflow`, never published; returns its id."""
    w = gql(CREATE, name=name)["createWorkflow"]["id"]
    nodes = [("USER_QUERY", "q", None), ("LLM_ENGINE", "llm", llm), ("OUTPUT", "out", None)]
    edges = [("q", "llm", "e-q-llm"), ("llm", "out", "e-llm-out")]
    if knowledge_base is not None:
        nodes.append(("KNOWLEDGE_BASE", "kb", knowledge_base))
        edges += [("q", "kb", "e-q-kb"), ("kb", "llm", "e-kb-llm")]
    for kind, node_id, config in nodes:
        gql(ADD, w=w, kind=kind, x=0, y=0, id=node_id, config=config)
    for source, target, edge in edges:
        gql(CONNECT, w=w, s=source, t=target, id=edge)
    return w


def start_chat(
    gql: GQL, workflow_id: str, version: int | None = None, *, draft: bool = False
) -> str:
    return gql(START, w=workflow_id, v=version, d=draft)["startChat"]["id"]


def upload(client: TestClient, workflow_id: str, filename: str, data: bytes) -> str:
    """uploadDocument as a GraphQL multipart request; returns the document id."""
    operations = {"query": UPLOAD, "variables": {"w": workflow_id, "f": None, "n": "kb"}}
    response = client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
        files={"0": (filename, data, "application/pdf")},
        headers={"Apollo-Require-Preflight": "true"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["uploadDocument"]["id"]


def wait_indexed(gql: GQL, document_id: str, timeout: float = 120) -> dict[str, Any]:
    def indexed() -> dict[str, Any] | None:
        doc = gql(DOCUMENT, d=document_id)["document"]
        assert doc is None or doc["status"] != "FAILED", doc
        return doc if doc and doc["status"] == "INDEXED" else None

    return wait_for(indexed, timeout)


def is_final(event: dict[str, Any]) -> bool:
    kind = event["__typename"]
    return kind == "ChatFailed" or (
        kind == "ChatMessageAdded" and event["message"]["role"] == "ASSISTANT"
    )


class ChatWatcher:
    """A chatEvents subscription on the in-process app, in place before it returns."""

    def __init__(self, client: TestClient, session_id: str) -> None:
        self.sub = InProcessSubscription(client, EVENTS, {"s": session_id})
        hub = client.app.state.services.hub  # type: ignore[attr-defined]
        try:
            wait_for(lambda: hub.subscriber_count(f"chat:{session_id}") >= 1, timeout=5)
        except AssertionError:
            self.sub.close()  # an open socket would hold the test client's exit forever
            raise

    def until_final(self, answers: int = 1) -> list[dict[str, Any]]:
        """Events up to and including the `answers`-th answer or failure."""
        events: list[dict[str, Any]] = []
        while answers:
            events.append(self.sub.next()["data"]["chatEvents"])
            answers -= is_final(events[-1])
        return events

    def close(self) -> None:
        self.sub.close()

    def __enter__(self) -> ChatWatcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def turn(client: TestClient, gql: GQL, session_id: str, content: str) -> list[dict[str, Any]]:
    """Sends one message and returns the chatEvents it caused, up to the answer."""
    with ChatWatcher(client, session_id) as watcher:
        gql(SEND, s=session_id, c=content)
        return watcher.until_final()


def kinds(events: list[dict[str, Any]]) -> list[str]:
    """The event kinds with runs of tokens collapsed, e.g. [user, retrieving, generating, …]."""
    out: list[str] = []
    for e in events:
        kind = e["__typename"]
        if kind == "ChatMessageAdded":
            label = e["message"]["role"].lower()
        elif kind == "ChatThinking":
            label = e["stage"]
        elif kind == "ChatToken":
            label = "tokens"
        else:
            label = "failed"
        if not out or out[-1] != label or label != "tokens":
            out.append(label)
    return out


def text_of(events: list[dict[str, Any]]) -> str:
    return "".join(e["delta"] for e in events if e["__typename"] == "ChatToken")


def stored(gql: GQL, session_id: str, count: int) -> list[dict[str, Any]]:
    """The session's messages once the read model holds `count` settled ones."""

    def ready() -> list[dict[str, Any]] | None:
        session = gql(SESSION, s=session_id)["chatSession"]
        if session is None:
            return None
        messages = session["messages"]
        settled = [m for m in messages if m["status"] != "pending"]
        return messages if len(messages) >= count and len(settled) == len(messages) else None

    return wait_for(ready)
