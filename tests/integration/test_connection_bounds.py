"""WebSocket connections per user and operations per connection are bounded, against a real
`genai-stack serve` with real WebSocket clients: past the bound a connection is closed with
4429 and a reason, a subscription gets an `error` message (RATE_LIMITED) while the
connection and its other subscriptions go on; a closed connection frees its place; the
server logs no exception."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets

from infrastructure.settings import Settings
from tests.integration.servers import serve
from tests.integration.ws import PROTOCOL

pytestmark = [pytest.mark.parametrize("backend", ["postgres"]), pytest.mark.timeout(180)]

EVENTS = "subscription($w: UUID!) { workflowEvents(workflowId: $w) { __typename } }"
BOUNDS = {
    "GENAI_MAX_CONNECTIONS_PER_USER": "2",
    "GENAI_MAX_SUBSCRIPTIONS_PER_CONNECTION": "2",
}


def new_workflow(base: str) -> str:
    response = httpx.post(
        f"{base}/graphql",
        json={"query": 'mutation { createWorkflow(name: "Live") { id } }'},
        timeout=30,
    )
    return str(response.json()["data"]["createWorkflow"]["id"])


def rename(base: str, workflow_id: str, name: str) -> None:
    body = httpx.post(
        f"{base}/graphql",
        json={
            "query": "mutation($w: UUID!, $n: String!) { renameWorkflow(id: $w, name: $n) { id } }",
            "variables": {"w": workflow_id, "n": name},
        },
        timeout=30,
    ).json()
    assert "errors" not in body, body


async def connect(url: str) -> Any:
    ws = await websockets.connect(url, subprotocols=[PROTOCOL])
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    return ws


async def acked(url: str) -> Any:
    ws = await connect(url)
    assert json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] == "connection_ack"
    return ws


async def subscribe(ws: Any, op: str, workflow_id: str) -> None:
    message = {"id": op, "type": "subscribe", "payload": {"query": EVENTS, "variables": {}}}
    message["payload"]["variables"] = {"w": workflow_id}
    await ws.send(json.dumps(message))


async def next_message(ws: Any) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), 30)))


async def ping_pong(ws: Any) -> None:
    """The server has handled everything sent before (it answers in order)."""
    await ws.send(json.dumps({"type": "ping"}))
    while (await next_message(ws))["type"] != "pong":
        pass


def test_connections_per_user_are_bounded_and_a_closed_one_frees_its_place(
    settings: Settings,
) -> None:
    with serve(settings, BOUNDS) as base:
        url = base.replace("http", "ws", 1) + "/graphql"

        async def scenario() -> None:
            first, second = await acked(url), await acked(url)
            third = await connect(url)
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await asyncio.wait_for(third.recv(), 30)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4429
            assert "too many connections: 2 are open for you already" in closed.value.rcvd.reason

            await first.close()
            again = await acked(url)  # the closed one's place is free
            await ping_pong(second)
            await again.close()
            await second.close()

        asyncio.run(scenario())
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200


def test_operations_per_connection_are_bounded_and_the_others_go_on(
    settings: Settings,
) -> None:
    with serve(settings, BOUNDS) as base:
        url = base.replace("http", "ws", 1) + "/graphql"
        workflow = new_workflow(base)

        async def scenario() -> None:
            ws = await acked(url)
            await subscribe(ws, "a", workflow)
            await subscribe(ws, "b", workflow)
            await subscribe(ws, "c", workflow)
            error = await next_message(ws)
            assert (error["type"], error["id"]) == ("error", "c")
            [payload] = error["payload"]
            assert payload["extensions"]["code"] == "RATE_LIMITED"
            assert "runs 2 operations already" in payload["message"]

            await ws.send(json.dumps({"id": "a", "type": "complete"}))
            await ping_pong(ws)
            await subscribe(ws, "d", workflow)  # a's place is free
            delivered: set[str] = set()
            for attempt in range(40):  # until both subscriptions are surely in place
                await asyncio.to_thread(rename, base, workflow, f"Renamed {attempt}")
                try:
                    while delivered != {"b", "d"}:
                        message = await asyncio.wait_for(next_message(ws), 0.5)
                        assert message["type"] == "next", message
                        delivered.add(message["id"])
                    break
                except TimeoutError:
                    continue
            assert delivered == {"b", "d"}
            await ws.close()

        asyncio.run(scenario())

    log = (settings.genai_data_dir.parent).glob("serve-*.log")
    for path in log:
        assert "Traceback" not in path.read_text(errors="replace")
