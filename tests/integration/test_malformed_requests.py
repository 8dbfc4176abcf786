"""Malformed requests to a running server get a clean refusal (HTTP 400 with BAD_USER_INPUT, or
the protocol's close code 4400 on a WebSocket), never a 500 or a server exception."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.conftest import make_settings
from tests.integration.servers import serve
from tests.integration.ws import PROTOCOL

WORKFLOWS = "{ workflows { id } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One server for the module; yields its URL and its data dir (the log is beside it)."""
    data = tmp_path_factory.mktemp("malformed") / "data"
    with serve(make_settings(data, None)) as base:
        yield base, data.parent


def server_log(logs: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in logs.glob("serve-*.log"))


BODIES = {
    "invalid UTF-8": (b"\xff\xfe{}", "the body is not UTF-8 text (byte 0)"),
    "a JSON string": (b'"{ workflows { id } }"', "the body must be a JSON object with a query"),
    "a JSON list (batching is off)": (
        json.dumps([{"query": WORKFLOWS}]).encode(),
        "the body must be a JSON object with a query",
    ),
    "deeply nested JSON": (
        b'{"query": "{ workflows { id } }", "variables": {"a": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}}",
        "the body is JSON nested more than 64 levels deep",
    ),
    "a lone surrogate": (
        b'{"query": "{ workflow(id: \\"\\ud800\\") { id } }"}',
        "the body holds a lone surrogate (\\ud800 to \\udfff), which is not text",
    ),
    "NaN": (
        b'{"query": "{ workflows { id } }", "variables": {"x": NaN}}',
        "the body is not JSON: NaN is not a JSON number",
    ),
    "no query": (b'{"query": 5}', "the body needs a query, as a string"),
    "variables not an object": (
        b'{"query": "{ workflows { id } }", "variables": "x"}',
        "variables must be a JSON object",
    ),
    "nothing": (b"", "the body is not JSON: Expecting value: line 1 column 1 (char 0)"),
}


@pytest.mark.parametrize("case", BODIES)
def test_a_malformed_body_is_refused_cleanly(server: tuple[str, Path], case: str) -> None:
    base, logs = server
    body, message = BODIES[case]
    response = httpx.post(
        f"{base}/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]
    }
    assert "Traceback" not in server_log(logs)


def test_deep_variables_in_a_get_request_are_refused(server: tuple[str, Path]) -> None:
    base, logs = server
    response = httpx.get(
        f"{base}/graphql", params={"query": WORKFLOWS, "variables": "[" * 10_000 + "]" * 10_000}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Traceback" not in server_log(logs)


def test_an_integer_node_id_and_an_unnamed_upload_are_bad_input(server: tuple[str, Path]) -> None:
    base, logs = server
    with httpx.Client(base_url=base) as http:
        created = http.post(
            "/graphql", json={"query": 'mutation { createWorkflow(name: "Target") { id } }'}
        )
        w = created.json()["data"]["createWorkflow"]["id"]
        add = "mutation($w: UUID!, $id: String) { addNode(workflowId: $w, kind: OUTPUT, position: {x: 0, y: 0}, nodeId: $id) { id } }"
        [error] = http.post("/graphql", json={"query": add, "variables": {"w": w, "id": 7}}).json()[
            "errors"
        ]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        imported = "mutation($w: UUID!, $n: JSON!) { importGraph(workflowId: $w, nodes: $n, edges: []) { id } }"
        nodes = [{"id": 7, "kind": "OUTPUT"}]
        [error] = http.post(
            "/graphql", json={"query": imported, "variables": {"w": w, "n": nodes}}
        ).json()["errors"]
        assert (error["extensions"]["code"], error["message"]) == (
            "BAD_USER_INPUT",
            "imported node 1: id must be a string",
        )
        upload = (
            "mutation($w: UUID!, $f: Upload!) { uploadDocument(workflowId: $w, file: $f) { id } }"
        )
        response = http.post(
            "/graphql",
            headers={"apollo-require-preflight": "true"},
            files={
                "operations": (
                    None,
                    json.dumps({"query": upload, "variables": {"w": w, "f": None}}),
                ),
                "map": (None, '{"0": ["variables.f"]}'),
                "0": ("", b"%PDF-1.4 hello", "application/pdf"),
            },
        )
        [error] = response.json()["errors"]
        assert (error["extensions"]["code"], error["message"]) == (
            "BAD_USER_INPUT",
            "file: must be a file, sent with a file name",
        )
    assert "Traceback" not in server_log(logs)


FRAMES = {
    "binary": (b"\x00\x01", "a message must be text (JSON), not binary"),
    "not JSON": ("hello", "the message is not JSON: Expecting value: line 1 column 1 (char 0)"),
    "a JSON string": ('"subscribe"', "a message must be a JSON object"),
    "deeply nested": (
        "[" * 100_000 + "]" * 100_000,
        "the message is JSON nested more than 64 levels deep",
    ),
    "a number for a type": ('{"type": 5}', "a message needs a type"),
    "a number for an id": (
        '{"type": "subscribe", "id": 5, "payload": {"query": "{ __typename }"}}',
        "a message's id must be a string",
    ),
    "a string payload": (
        '{"type": "subscribe", "id": "1", "payload": "x"}',
        "a message's payload must be an object",
    ),
    "a lone surrogate": (
        '{"type": "subscribe", "id": "\\ud800", "payload": {"query": "{ __typename }"}}',
        "the message holds a lone surrogate (\\ud800 to \\udfff), which is not text",
    ),
}


@pytest.mark.parametrize("case", FRAMES)
def test_a_malformed_websocket_message_closes_with_4400(
    server: tuple[str, Path], case: str
) -> None:
    base, logs = server
    frame, reason = FRAMES[case]

    async def send() -> websockets.exceptions.ConnectionClosed:
        async with websockets.connect(
            base.replace("http", "ws") + "/graphql", subprotocols=[PROTOCOL]
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(frame)
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await ws.recv()
            return closed.value

    closed = asyncio.run(send())
    assert closed.rcvd is not None
    assert (closed.rcvd.code, closed.rcvd.reason) == (4400, reason)
    assert "Traceback" not in server_log(logs)
