"""Signing in over HTTP, and GraphQL as a signed-in user or an API token, for the account
tests. Users are made through the application's own use case, as the console does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import httpx
from starlette.testclient import TestClient

from infrastructure.settings import Settings
from interfaces.app import create_app
from interfaces.auth_routes import REFRESH_COOKIE
from tests.integration.gql import GQL

PASSWORD = "correct horse battery"
NETWORK = {"genai_host": "0.0.0.0"}  # a server bound to every address: sign-in required

ME = "{ me { id email name admin local } }"
WORKSPACES = "{ workspaces { id name role } }"


@contextmanager
def served(settings: Settings, **overrides: Any) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update=overrides))) as client:
        yield client


def register(client: TestClient, email: str, password: str = PASSWORD, **kw: Any) -> str:
    """A new user's id."""
    accounts = client.app.state.services.accounts  # type: ignore[attr-defined]
    return str(accounts.users.register(email, password, kw.get("name", ""), "tests").id)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> httpx.Response:
    client.cookies.clear()
    return client.post("/auth/sign-in", json={"email": email, "password": password})


def refresh(client: TestClient, refresh_token: str | None) -> httpx.Response:
    """POST /auth/refresh with exactly this refresh cookie (or none)."""
    client.cookies.clear()
    if refresh_token is not None:
        client.cookies.set(REFRESH_COOKIE, refresh_token, path="/auth")
    return client.post("/auth/refresh")


def refresh_cookie(response: httpx.Response) -> str:
    return response.cookies[REFRESH_COOKIE]


class AsPrincipal(GQL):
    """GraphQL with `Authorization: Bearer <credential>` (an access or an API token)."""

    def __init__(self, client: TestClient, credential: str | None) -> None:
        super().__init__(client)
        self.credential = credential

    def raw(self, query: str, **variables: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.credential}"} if self.credential else {}
        self.client.cookies.clear()
        response = self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        return response.json()


def signed_in_gql(client: TestClient, email: str, password: str = PASSWORD) -> AsPrincipal:
    response = sign_in(client, email, password)
    assert response.status_code == 200, response.text
    return AsPrincipal(client, response.json()["accessToken"])


def error_code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


def stored_events(client: TestClient, originator_id: Any) -> list[Any]:
    """An aggregate's events as the event log holds them."""
    store = client.app.state.services.event_log  # type: ignore[attr-defined]
    return list(store.events.get(UUID(str(originator_id))))


def every_stored_byte(client: TestClient) -> bytes:
    """Every event in the log, as stored: to show what never reaches it."""
    store = client.app.state.services.event_log  # type: ignore[attr-defined]
    found = store.recorder.select_notifications(start=1, limit=100_000)
    return b"\n".join(n.state for n in found)
