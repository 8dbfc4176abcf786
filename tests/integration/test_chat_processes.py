"""Chats across real `genai-stack serve` processes sharing one PostgreSQL database: tokens
reach a subscriber on another process, and a question whose answering process died is
failed by a live one, but only once that process's lease has run out."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from infrastructure.settings import Settings
from tests.fakes import Failure, FakeOpenAIServer
from tests.integration.chat_ops import EVENTS, SEND, SESSION, START, fake_llm, is_final
from tests.integration.servers import env_for, running
from tests.integration.workflow_ops import ADD, CONNECT, CREATE, PUBLISH
from tests.integration.ws import next_payload, subscribe

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.parametrize("backend", ["postgres"], indirect=True),
]

LEASE = 1.0


def server(settings: Settings) -> AbstractContextManager[tuple[str, subprocess.Popen[bytes]]]:
    """`genai-stack serve` on PostgreSQL with short chat leases, with its process."""
    assert settings.database_url
    env = env_for(settings, GENAI_CHAT_LEASE_SECONDS=str(LEASE))
    return running(env, Path(settings.genai_data_dir).parent)


def call(base: str, query: str, **variables: Any) -> dict[str, Any]:
    body = httpx.post(
        f"{base}/graphql", json={"query": query, "variables": variables}, timeout=30
    ).json()
    assert "errors" not in body, body
    return body["data"]


def published(base: str, llm: dict[str, Any]) -> str:
    w = call(base, CREATE, name="Across processes")["createWorkflow"]["id"]
    for kind, node_id, config in (
        ("USER_QUERY", "q", None),
        ("LLM_ENGINE", "llm", llm),
        ("OUTPUT", "out", None),
    ):
        call(base, ADD, w=w, kind=kind, x=0, y=0, id=node_id, config=config)
    call(base, CONNECT, w=w, s="q", t="llm")
    call(base, CONNECT, w=w, s="llm", t="out")
    call(base, PUBLISH, w=w)
    return w


async def watch(base: str, session: str) -> Any:
    """A chatEvents socket on `base`, surely in place: the server says so in the
    subscription's first event."""
    ws = await subscribe(base.replace("http", "ws") + "/graphql", EVENTS, {"s": session})
    first = await asyncio.wait_for(next_payload(ws), 30)
    assert first["data"]["chatEvents"]["__typename"] == "ChatListening", first
    return ws


async def collect(ws: Any, until: Any, timeout: float = 30) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while not events or not until(events[-1]):
        payload = await asyncio.wait_for(next_payload(ws), timeout)
        events.append(payload["data"]["chatEvents"])
    return events


def test_a_subscriber_on_one_process_receives_the_tokens_of_an_answer_run_by_another(
    settings: Settings,
) -> None:
    reply = " ".join(f"word{i}" for i in range(40))
    with (
        FakeOpenAIServer(reply=reply, token_delay=0.02) as fake,
        server(settings) as (first, _),
        server(settings) as (second, _),
    ):
        w = published(second, fake_llm(fake))
        s = call(second, START, w=w, v=None)["startChat"]["id"]

        async def scenario() -> list[dict[str, Any]]:
            ws = await watch(first, s)
            try:
                await asyncio.to_thread(call, second, SEND, s=s, c="Count for me")
                return await collect(ws, is_final)
            finally:
                await ws.close()

        events = asyncio.run(scenario())
    kinds = [e["__typename"] for e in events]
    assert kinds[0] == "ChatMessageAdded" and events[0]["message"]["role"] == "USER"
    assert kinds[-1] == "ChatMessageAdded" and events[-1]["message"]["role"] == "ASSISTANT"
    assert "ChatThinking" in kinds
    tokens = [e for e in events if e["__typename"] == "ChatToken"]
    assert len(tokens) > 1  # streamed, not delivered at the end
    assert "".join(t["delta"] for t in tokens) == reply == events[-1]["message"]["content"]
    assert kinds.index("ChatThinking") < kinds.index("ChatToken")


def test_a_question_whose_process_died_is_failed_by_another_once_its_lease_ran_out(
    settings: Settings,
) -> None:
    with (
        FakeOpenAIServer(reply="too late") as fake,
        server(settings) as (survivor, _),
        server(settings) as (doomed, doomed_process),
    ):
        fake.fail_next(Failure.hang(4), Failure.hang(120))
        w = published(survivor, fake_llm(fake))
        s = call(survivor, START, w=w, v=None)["startChat"]["id"]

        async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            ws = await watch(survivor, s)
            try:
                # 1. A live process answering slowly keeps its lease: nobody fails its question,
                #    though it takes four times as long as a lease lasts.
                await asyncio.to_thread(call, doomed, SEND, s=s, c="slow but alive")
                slow = await collect(ws, is_final, timeout=20)
                # 2. Its process dies mid-answer: once the lease has run out, the survivor
                #    fails the question.
                await asyncio.to_thread(call, doomed, SEND, s=s, c="never answered")
                asked = time.monotonic()
                while len(fake.chat_requests()) < 2:
                    assert time.monotonic() - asked < 60, (
                        "the second question never reached the model"
                    )
                    await asyncio.sleep(0.05)
                doomed_process.send_signal(signal.SIGKILL)
                died = time.monotonic()
                failed = await collect(ws, is_final, timeout=30)
                assert time.monotonic() - died >= LEASE * 0.5  # not at once
                return slow, failed
            finally:
                await ws.close()

        slow, failed = asyncio.run(scenario())
        history = call(survivor, SESSION, s=s)["chatSession"]["messages"]
    assert slow[-1]["__typename"] == "ChatMessageAdded"
    assert slow[-1]["message"]["content"] == "too late"
    final = failed[-1]
    assert final["__typename"] == "ChatFailed" and final["code"] == "INTERNAL"
    assert "stopped before this question was answered" in final["error"]
    assert [(m["role"], m["status"]) for m in history][-1] == ("USER", "failed")
    assert json.dumps(history).count("never answered") == 1
