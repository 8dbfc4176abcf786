"""GraphiQL, introspection and /metrics describe the server: they answer clients on this
machine, and clients elsewhere only when GENAI_PUBLIC_TOOLS is set."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from interfaces.app import create_app
from tests.conftest import make_settings

INTROSPECTION = '{ __schema { queryType { name } } __type(name: "Workflow") { name } }'
HTML = {"Accept": "text/html"}
ELSEWHERE, HERE = ("203.0.113.9", 40000), ("127.0.0.1", 40000)


@contextmanager
def client_at(tmp_path: Path, address: tuple[str, int], public: bool) -> Iterator[TestClient]:
    settings = make_settings(tmp_path / "data", None, genai_public_tools=public)
    with TestClient(create_app(settings), client=address) as client:
        yield client


def test_a_client_elsewhere_gets_none_of_the_tools(tmp_path: Path) -> None:
    with client_at(tmp_path, ELSEWHERE, public=False) as client:
        assert client.get("/metrics").status_code == 403
        page = client.get("/graphql", headers=HTML)
        assert page.status_code == 403 and "GENAI_PUBLIC_TOOLS" in page.text
        for _ in range(2):  # the second time from the validation cache
            [error] = client.post("/graphql", json={"query": INTROSPECTION}).json()["errors"]
            assert error["extensions"]["code"] == "FORBIDDEN"
        # the API itself answers, __typename included
        answer = client.post("/graphql", json={"query": "{ __typename workflows { id } }"})
        assert answer.json() == {"data": {"__typename": "Query", "workflows": []}}


@pytest.mark.parametrize(("address", "public"), [(HERE, False), (ELSEWHERE, True)])
def test_a_client_here_or_any_when_public_gets_them(
    tmp_path: Path, address: tuple[str, int], public: bool
) -> None:
    with client_at(tmp_path, address, public) as client:
        assert client.get("/metrics").status_code == 200
        assert client.get("/graphql", headers=HTML).status_code == 200
        data = client.post("/graphql", json={"query": INTROSPECTION}).json()["data"]
        assert data == {
            "__schema": {"queryType": {"name": "Query"}},
            "__type": {"name": "Workflow"},
        }
