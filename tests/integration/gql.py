"""A small GraphQL client over the real FastAPI app (Starlette's TestClient, lifespan on)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient


class GraphQLError(AssertionError):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors
        self.code = errors[0].get("extensions", {}).get("code")
        self.message = errors[0]["message"]


class GQL:
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def raw(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self.client.post("/graphql", json={"query": query, "variables": variables})
        return response.json()

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self.raw(query, **variables)
        if body.get("errors"):
            raise GraphQLError(body["errors"])
        return body["data"]
