"""API tokens: created by a workspace admin and shown once, stored as a hash, used as a
Bearer credential with their scopes, last use recorded, revocable, expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.integration.accounts_client import (
    ME,
    NETWORK,
    WORKSPACES,
    AsPrincipal,
    every_stored_byte,
    register,
    served,
    signed_in_gql,
    stored_events,
)
from tests.integration.gql import GQL, GraphQLError

DEFAULT = "0b1d2c9e-6a47-4c1e-9f0a-3d5e2a7c4b10"

CREATE = """
mutation($ws: UUID!, $name: String!, $scopes: [TokenScope!]!, $stack: UUID, $expires: DateTime) {
  createApiToken(workspaceId: $ws, name: $name, scopes: $scopes, stackId: $stack,
                 expiresAt: $expires) {
    token
    apiToken { id workspaceId name scopes stackId expiresAt revokedAt lastUsedAt createdAt }
  }
}"""
LIST = """query($ws: UUID!) {
  apiTokens(workspaceId: $ws) { id name scopes revokedAt lastUsedAt }
}"""
REVOKE = "mutation($id: UUID!) { revokeApiToken(id: $id) { id revokedAt } }"


def create(
    gql: GQL, name: str = "ci", scopes: tuple[str, ...] = ("READ",), **kw: Any
) -> dict[str, Any]:
    return gql(CREATE, ws=kw.pop("ws", DEFAULT), name=name, scopes=list(scopes), **kw)[
        "createApiToken"
    ]


def codes(gql: GQL, query: str, **variables: Any) -> str:
    with pytest.raises(GraphQLError) as refused:
        gql(query, **variables)
    return str(refused.value.code)


@pytest.fixture
def owner(client: TestClient) -> GQL:
    return GQL(client)  # the local owner of a loopback server: admin of the default workspace


def test_a_token_is_shown_once_and_stored_only_as_a_hash(client: TestClient, owner: GQL) -> None:
    created = create(owner, scopes=("READ", "CHAT"))
    token, view = created["token"], created["apiToken"]
    assert token.startswith("gst_") and len(token) > 40
    assert view["name"] == "ci" and view["workspaceId"] == DEFAULT
    assert sorted(view["scopes"]) == ["CHAT", "READ"]
    assert (view["revokedAt"], view["lastUsedAt"], view["expiresAt"]) == (None, None, None)

    listed = owner(LIST, ws=DEFAULT)["apiTokens"]
    assert listed == [
        {
            "id": view["id"],
            "name": "ci",
            "scopes": view["scopes"],
            "revokedAt": None,
            "lastUsedAt": None,
        }
    ]
    assert token.encode() not in every_stored_byte(client)
    issued = stored_events(client, DEFAULT)[-1]
    assert (type(issued).__name__, issued.actor, issued.token_id) == (
        "ApiTokenIssued",
        "local",
        view["id"],
    )


def test_a_token_acts_with_its_scopes_and_its_use_is_recorded(
    client: TestClient, owner: GQL
) -> None:
    created = create(owner, scopes=("READ",))
    program = AsPrincipal(client, created["token"])
    assert program(WORKSPACES)["workspaces"] == [
        {"id": DEFAULT, "name": "My workspace", "role": "VIEWER"}
    ]
    assert codes(program, ME) == "UNAUTHENTICATED"  # a token is not a user
    # no token manages tokens or members, whatever its scopes
    assert codes(program, CREATE, ws=DEFAULT, name="x", scopes=["READ"]) == "FORBIDDEN"
    assert (
        codes(
            program,
            "mutation($ws: UUID!) { inviteMember(workspaceId: $ws, role: VIEWER) { id } }",
            ws=DEFAULT,
        )
        == "FORBIDDEN"
    )
    assert codes(program, 'mutation { createWorkspace(name: "Mine") { id } }') == "FORBIDDEN"
    [listed] = owner(LIST, ws=DEFAULT)["apiTokens"]
    assert listed["lastUsedAt"] is not None


def test_a_revoked_token_is_nobody(client: TestClient, owner: GQL) -> None:
    created = create(owner)
    program = AsPrincipal(client, created["token"])
    program(WORKSPACES)
    revoked = owner(REVOKE, id=created["apiToken"]["id"])["revokeApiToken"]
    assert revoked["revokedAt"] is not None
    assert codes(program, WORKSPACES) == "UNAUTHENTICATED"
    names = [type(e).__name__ for e in stored_events(client, DEFAULT)]
    assert names[-2:] == ["ApiTokenIssued", "ApiTokenRevoked"]
    assert codes(owner, REVOKE, id="00000000-0000-0000-0000-000000000000") == "NOT_FOUND"


def test_a_token_expires(client: TestClient, owner: GQL) -> None:
    in_an_hour = datetime.now(UTC) + timedelta(hours=1)
    created = create(owner, expires=in_an_hour.isoformat())
    assert created["apiToken"]["expiresAt"] is not None
    program = AsPrincipal(client, created["token"])
    assert program(WORKSPACES)["workspaces"]
    tokens = client.app.state.services.accounts.api_tokens  # type: ignore[attr-defined]
    tokens.clock = lambda: in_an_hour + timedelta(seconds=1)  # two hours on
    assert codes(program, WORKSPACES) == "UNAUTHENTICATED"


def test_bad_token_requests_are_refused_cleanly(client: TestClient, owner: GQL) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert (
        codes(owner, CREATE, ws=DEFAULT, name="old", scopes=["READ"], expires=past)
        == "BAD_USER_INPUT"
    )
    assert codes(owner, CREATE, ws=DEFAULT, name="none", scopes=[]) == "BAD_USER_INPUT"
    assert codes(owner, CREATE, ws=DEFAULT, name="   ", scopes=["READ"]) == "BAD_USER_INPUT"
    other = "11111111-1111-1111-1111-111111111111"
    assert codes(owner, CREATE, ws=other, name="x", scopes=["READ"]) == "NOT_FOUND"
    assert owner(LIST, ws=DEFAULT)["apiTokens"] == []  # nothing half-made


def test_only_admins_manage_tokens_and_other_workspaces_stay_hidden(settings: Any) -> None:
    with served(settings, **NETWORK) as client:
        register(client, "ada@example.com")
        register(client, "bob@example.com")
        ada = signed_in_gql(client, "ada@example.com")
        bob = signed_in_gql(client, "bob@example.com")
        team = ada('mutation { createWorkspace(name: "Team") { id } }')["createWorkspace"]["id"]
        invitation = ada(
            "mutation($ws: UUID!) { inviteMember(workspaceId: $ws, role: EDITOR) { token } }",
            ws=team,
        )["inviteMember"]["token"]
        assert codes(bob, LIST, ws=team) == "NOT_FOUND"  # not a member: no such workspace
        bob("mutation($t: String!) { acceptInvitation(token: $t) { id } }", t=invitation)
        assert codes(bob, LIST, ws=team) == "FORBIDDEN"
        assert codes(bob, CREATE, ws=team, name="x", scopes=["EDIT"]) == "FORBIDDEN"
        mine = create(ada, ws=team, scopes=("EDIT",))
        assert codes(bob, REVOKE, id=mine["apiToken"]["id"]) == "FORBIDDEN"


def test_a_token_is_limited_only_to_a_stack_of_its_own_workspace(settings: Any) -> None:
    with served(settings, **NETWORK) as client:
        register(client, "ada@example.com")
        ada = signed_in_gql(client, "ada@example.com")
        own = ada('mutation { createWorkspace(name: "Own") { id } }')["createWorkspace"]["id"]
        home = ada('mutation { createWorkflow(name: "Home stack") { id } }')["createWorkflow"]
        team = ada('mutation { createWorkspace(name: "Team") { id } }')["createWorkspace"]["id"]
        # the stack is in ada's home workspace, not in Team: for Team it does not exist
        assert codes(ada, CREATE, ws=team, name="x", scopes=["READ"], stack=home["id"]) == (
            "NOT_FOUND"
        )
        nowhere = "22222222-2222-2222-2222-222222222222"
        assert codes(ada, CREATE, ws=team, name="x", scopes=["READ"], stack=nowhere) == (
            "NOT_FOUND"
        )
        assert ada(LIST, ws=team)["apiTokens"] == []  # nothing half-made
        scoped = create(ada, ws=own, scopes=("READ",), stack=home["id"])["apiToken"]
        assert (scoped["stackId"], scoped["workspaceId"]) == (home["id"], own)
