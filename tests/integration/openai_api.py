"""The app served on a loopback port by uvicorn in a thread of the test, so that a real HTTP
client (the `openai` SDK) calls it while the test can still read the process's services."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import uvicorn
from fastapi import FastAPI

from infrastructure.settings import Settings
from interfaces.app import create_app
from interfaces.bootstrap import Services
from tests.integration.gql import GQL
from tests.integration.workflow_ops import wait_for

DEFAULT_WORKSPACE = "0b1d2c9e-6a47-4c1e-9f0a-3d5e2a7c4b10"
CREATE_TOKEN = """
mutation($ws: UUID!, $name: String!, $scopes: [TokenScope!]!, $stack: UUID) {
  createApiToken(workspaceId: $ws, name: $name, scopes: $scopes, stackId: $stack) { token }
}"""


@dataclass
class Served:
    url: str
    app: FastAPI
    http: httpx.Client  # no credentials: on loopback, the local owner

    @property
    def services(self) -> Services:
        return self.app.state.services  # type: ignore[no-any-return]

    @property
    def owner(self) -> GQL:
        return GQL(self.http)  # type: ignore[arg-type]  # the same calls as a TestClient

    def token(self, *scopes: str, stack: str | None = None) -> str:
        """A new API token of the default workspace, issued by the local owner."""
        created = self.owner(
            CREATE_TOKEN, ws=DEFAULT_WORKSPACE, name="sdk", scopes=list(scopes), stack=stack
        )
        return str(created["createApiToken"]["token"])

    def sdk(self, api_key: str, **options: Any) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=api_key, **options)


@contextmanager
def serving(settings: Settings) -> Iterator[Served]:
    """The app on a free loopback port (the system picks it), until the block ends."""
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started or not thread.is_alive(), timeout=60)
        assert server.started, "the server did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=60) as http:
            yield Served(url, app, http)
    finally:
        server.should_exit = True
        thread.join(30)
