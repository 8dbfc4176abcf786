"""GraphiQL, introspection and /metrics describe the server: they answer clients on this
machine, and clients elsewhere only when GENAI_PUBLIC_TOOLS is set."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from infrastructure.settings import Settings
from interfaces.app import create_app
from tests.conftest import make_settings
from tests.integration.accounts_client import NETWORK, register, signed_in_gql
from tests.integration.workflow_ops import wait_for

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


def test_a_workspace_admin_elsewhere_gets_them_and_a_member_does_not(settings: Settings) -> None:
    """Signed in from another machine, a workspace's admin may use the tools with their
    access token; a member who administers nothing may not, nor an API token, nor nobody."""
    app = create_app(settings.model_copy(update={**NETWORK, "genai_public_tools": False}))
    with TestClient(app, client=ELSEWHERE) as client:
        register(client, "ada@example.com")
        bob_id = register(client, "bob@example.com")
        ada = signed_in_gql(client, "ada@example.com")
        bob = signed_in_gql(client, "bob@example.com")
        ws = ada('mutation { createWorkspace(name: "Team") { id } }')["createWorkspace"]["id"]
        invitation = ada(
            "mutation($ws: UUID!) { inviteMember(workspaceId: $ws, role: EDITOR) { token } }",
            ws=ws,
        )["inviteMember"]["token"]
        bob("mutation($t: String!) { acceptInvitation(token: $t) { id } }", t=invitation)
        token = ada(
            """mutation($ws: UUID!) { createApiToken(workspaceId: $ws, name: "ci",
                 scopes: [READ, EDIT, CHAT]) { token } }""",
            ws=ws,
        )["createApiToken"]["token"]

        def tools(credential: str | None) -> tuple[int, int, str | None]:
            headers = {"Authorization": f"Bearer {credential}"} if credential else {}
            metrics = client.get("/metrics", headers=headers).status_code
            page = client.get("/graphql", headers={**HTML, **headers}).status_code
            answer = client.post("/graphql", json={"query": INTROSPECTION}, headers=headers)
            errors = answer.json().get("errors")
            return metrics, page, errors[0]["extensions"]["code"] if errors else None

        assert tools(ada.credential) == (200, 200, None)
        assert tools(bob.credential) == (403, 403, "FORBIDDEN")
        assert tools(token) == (403, 403, "FORBIDDEN")
        assert tools(None) == (403, 403, "FORBIDDEN")

        ada(
            """mutation($ws: UUID!, $u: String!) { changeRole(workspaceId: $ws, userId: $u,
                 role: ADMIN) { userId } }""",
            ws=ws,
            u=bob_id,
        )
        # made an admin, the member may too (once the workspaces' table has it)
        wait_for(lambda: tools(bob.credential) == (200, 200, None))
