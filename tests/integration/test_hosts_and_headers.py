"""DNS rebinding finds nothing: a request names a host this server answers as, and a
WebSocket's Origin is one of the configured origins (never compared with the Host the page
chose). Every response carries the security headers, which the built SPA and GraphiQL load
under (the browser tests in tests/e2e load both)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from interfaces.http_guards import CONTENT_SECURITY_POLICY
from tests.conftest import make_settings
from tests.integration.servers import serve
from tests.integration.ws import PROTOCOL


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("hosts") / "data"
    extra = {
        "GENAI_ALLOWED_HOSTS": '["stack.example.com"]',
        "GENAI_ALLOWED_ORIGINS": '["https://app.example.org"]',
    }
    with serve(make_settings(data, None), extra) as url:
        yield url


def port_of(base: str) -> str:
    return base.rsplit(":", 1)[1]


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "[::1]", "stack.example.com", "app.example.org"]
)
def test_the_hosts_it_answers_as_are_served_with_security_headers(base: str, host: str) -> None:
    for path in ("/healthz", "/", "/graphql"):
        response = httpx.get(f"{base}{path}", headers={"Host": f"{host}:{port_of(base)}"})
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("host", ["rebound.attacker.test", "192.168.1.20", ""])
def test_a_request_for_another_host_is_refused(base: str, host: str) -> None:
    response = httpx.post(
        f"{base}/graphql", json={"query": "{ workflows { id } }"}, headers={"Host": host}
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "GENAI_ALLOWED_HOSTS" in error["message"]
    assert response.headers["x-frame-options"] == "DENY"


def connect(base: str, host: str, origin: str | None) -> str:
    """'ack' when the socket opens and acknowledges, else the handshake's HTTP status."""

    async def run() -> str:
        name = f"[{host}]" if ":" in host else host
        try:
            async with websockets.connect(
                f"ws://{name}:{port_of(base)}/graphql",  # the Host the page would send
                host="127.0.0.1",  # where the name leads: this server
                port=int(port_of(base)),
                subprotocols=[PROTOCOL],
                origin=origin,
            ) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
                return str(json.loads(await ws.recv())["type"]).replace("connection_", "")
        except websockets.exceptions.InvalidStatus as refused:
            return str(refused.response.status_code)

    return asyncio.run(run())


def test_a_websocket_origin_is_checked_against_the_configured_origins(base: str) -> None:
    port = port_of(base)
    assert connect(base, "127.0.0.1", None) == "ack"  # not a browser
    assert connect(base, "127.0.0.1", f"http://127.0.0.1:{port}") == "ack"
    assert connect(base, "localhost", f"http://localhost:{port}") == "ack"
    assert connect(base, "stack.example.com", "https://app.example.org") == "ack"
    # a rebinding page: its own name as Host and as Origin
    assert connect(base, "rebound.attacker.test", "http://rebound.attacker.test") == "403"
    # a page elsewhere, through a name this server answers as
    assert connect(base, "127.0.0.1", "http://attacker.test") == "403"


def test_the_cdn_graphiql_page_has_its_own_policy(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from interfaces import app as app_module

    original = app_module.SPA_DIR
    app_module.SPA_DIR = tmp_path / "not-built"
    try:
        with TestClient(app_module.create_app(make_settings(tmp_path / "data", None))) as client:
            page = client.get("/graphql", headers={"Accept": "text/html"})
    finally:
        app_module.SPA_DIR = original
    assert "https://unpkg.com" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
