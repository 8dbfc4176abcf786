"""A real `genai-stack serve` process stopped by SIGTERM (Kubernetes stopping a pod) while a
chat's subscription is open and its answer is streaming from a fake OpenAI server held
mid-stream: /readyz answers 503 at once, a question asked meanwhile is not started here
(it is failed cleanly at the stop), the streaming answer finishes and reaches the subscriber
and the store, and then the socket closes with 1012 (Service Restart), a code the SPA's
graphql-ws client reconnects on."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from infrastructure.settings import Settings
from tests.fakes import FakeOpenAIServer
from tests.integration.chat_ops import SEND, SESSION, START, fake_llm, is_final
from tests.integration.servers import env_for, running
from tests.integration.test_chat_processes import call, collect, published, watch

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.parametrize("backend", ["postgres"], indirect=True),
]

SERVICE_RESTART = 1012


def server(settings: Settings) -> Any:
    env = env_for(settings, GENAI_SHUTDOWN_GRACE_SECONDS="120")
    return running(env, Path(settings.genai_data_dir).parent)


def wait_draining(base: str, process: subprocess.Popen[bytes]) -> httpx.Response:
    """/readyz once it says 503 (the drain has begun), polled while the process lives."""
    while True:
        assert process.poll() is None, "the server exited before draining"
        response = httpx.get(f"{base}/readyz", timeout=10)
        if response.status_code == 503:
            return response
        assert response.status_code == 200


def test_sigterm_drains_the_answer_in_flight_then_closes_subscriptions_with_1012(
    settings: Settings,
) -> None:
    reply = " ".join(f"word{i}" for i in range(12))
    with FakeOpenAIServer(reply=reply) as fake:
        with server(settings) as (base, process):
            w = published(base, fake_llm(fake))
            s = call(base, START, w=w, v=None)["startChat"]["id"]
            other = call(base, START, w=w, v=None)["startChat"]["id"]
            gate = fake.hold_stream(after_pieces=2)

            async def scenario() -> tuple[list[dict[str, Any]], Any, httpx.Response]:
                ws = await watch(base, s)
                other_ws = await watch(base, other)
                try:
                    await asyncio.to_thread(call, base, SEND, s=s, c="Count for me")
                    await asyncio.to_thread(gate.wait_arrived)
                    # the answer is streaming (two pieces out), the stream held there
                    events = await collect(ws, lambda e: e["__typename"] == "ChatToken")
                    process.send_signal(signal.SIGTERM)
                    drained = await asyncio.to_thread(wait_draining, base, process)
                    # new work is not started here: its question waits, then is failed
                    await asyncio.to_thread(call, base, SEND, s=other, c="Too late")
                    gate.release()
                    events += await collect(ws, is_final)
                    with pytest.raises(websockets.ConnectionClosed) as closed:
                        while True:  # the socket stays open until the drain is done
                            await ws.recv()
                    return events, closed.value, drained
                finally:
                    await ws.close()
                    await other_ws.close()

            events, closed, drained = asyncio.run(scenario())
            # uvicorn's way: the signal raised again once shut down, for the supervisor
            assert process.wait(60) == -signal.SIGTERM
        # after the stop, another server on the same database shows what was stored
        with server(settings) as (again, _):
            history = call(again, SESSION, s=s)["chatSession"]["messages"]
            other_history = call(again, SESSION, s=other)["chatSession"]["messages"]

    assert drained.json() == {"ready": False, "draining": True}
    final = events[-1]
    assert final["__typename"] == "ChatMessageAdded", final
    assert final["message"]["content"] == reply
    tokens = "".join(e["delta"] for e in events if e["__typename"] == "ChatToken")
    assert tokens == reply
    assert closed.rcvd is not None and closed.rcvd.code == SERVICE_RESTART
    assert [(m["role"], m["status"]) for m in history][-1][0] == "ASSISTANT"
    assert history[-1]["content"] == reply
    # the question asked while draining: never sent to the model, failed cleanly at the
    # stop (not left to another process's recovery sweep, a lease later)
    assert len(fake.chat_requests()) == 1
    assert [(m["role"], m["status"]) for m in other_history] == [("USER", "failed")]
