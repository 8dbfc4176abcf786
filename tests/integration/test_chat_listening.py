"""chatEvents says when it listens: its first event carries the session's version then, so a
client that reads the session after it misses nothing, however fast a turn went before."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.fakes import FakeOpenAIServer
from tests.integration.chat_ops import (
    EVENTS,
    SEND,
    SESSION,
    fake_llm,
    kinds,
    published_workflow,
    start_chat,
    stored,
)
from tests.integration.gql import GQL
from tests.integration.ws import InProcessSubscription

pytestmark = pytest.mark.timeout(120)


def test_the_first_event_is_listening_at_the_sessions_version_and_the_next_turn_follows_it(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply = "Ready."
    w = published_workflow(gql, fake_llm(fake_openai))
    s = start_chat(gql, w)
    # a whole turn done before anyone listens: started, asked, answered are versions 1-3
    gql(SEND, s=s, c="Before you listened?")
    assert [m["status"] for m in stored(gql, s, 2)] == ["answered", "answered"]

    sub = InProcessSubscription(client, EVENTS, {"s": s})
    try:
        first = sub.next()["data"]["chatEvents"]
        assert first == {"__typename": "ChatListening", "sessionId": s, "version": 3}
        # what was stored up to that version is the read's; what follows comes as events
        assert len(gql(SESSION, s=s)["chatSession"]["messages"]) == 2
        gql(SEND, s=s, c="And now?")
        events = [sub.next()["data"]["chatEvents"]]
        while kinds(events)[-1] != "assistant":
            events.append(sub.next()["data"]["chatEvents"])
    finally:
        sub.close()
    assert kinds(events)[0] == "user" and events[0]["message"]["content"] == "And now?"
    assert "ChatListening" not in [e["__typename"] for e in events]
    assert events[-1]["message"]["content"] == "Ready."


def test_a_missing_session_is_refused_without_listening(client: TestClient) -> None:
    sub = InProcessSubscription(client, EVENTS, {"s": "0b9d6c3e-5a4f-4d6b-9e1a-2f3c4d5e6f70"})
    try:
        refusal = sub.ws.receive_json()  # refused before the stream starts: no ChatListening
    finally:
        sub.close()
    assert refusal["type"] == "error"
    assert [e["extensions"]["code"] for e in refusal["payload"]] == ["NOT_FOUND"]
