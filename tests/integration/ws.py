"""graphql-transport-ws clients: over Starlette's TestClient, and over a real socket."""

from __future__ import annotations

import json
from typing import Any

import websockets
from starlette.testclient import TestClient

PROTOCOL = "graphql-transport-ws"


class InProcessSubscription:
    """A subscription on the in-process app (Starlette's TestClient websocket)."""

    def __init__(self, client: TestClient, query: str, variables: dict[str, Any]) -> None:
        self._cm = client.websocket_connect("/graphql", subprotocols=[PROTOCOL])
        self.ws = self._cm.__enter__()
        self.ws.send_json({"type": "connection_init", "payload": {}})
        assert self.ws.receive_json()["type"] == "connection_ack"
        self.ws.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )

    def next(self) -> dict[str, Any]:
        while True:
            message = self.ws.receive_json()
            if message["type"] == "next":
                return message["payload"]
            if message["type"] == "error":
                raise AssertionError(message)

    def close(self) -> None:
        self.ws.send_json({"id": "1", "type": "complete"})
        self._cm.__exit__(None, None, None)


async def subscribe(url: str, query: str, variables: dict[str, Any]) -> Any:
    """Opens a socket to a running server and starts one subscription; returns the socket."""
    ws = await websockets.connect(url, subprotocols=[PROTOCOL])
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(
        json.dumps(
            {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
    )
    return ws


async def next_payload(ws: Any) -> dict[str, Any]:
    while True:
        message = json.loads(await ws.recv())
        if message["type"] == "next":
            return message["payload"]
        if message["type"] == "error":
            raise AssertionError(message)
