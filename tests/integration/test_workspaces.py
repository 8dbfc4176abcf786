"""Workspaces through GraphQL: invitations accepted by signed-in users, role changes and
removals, each an event in the log naming who did it; and the principal of a WebSocket from
its connection_init."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from infrastructure.settings import Settings
from tests.integration.accounts_client import (
    ME,
    NETWORK,
    WORKSPACES,
    AsPrincipal,
    every_stored_byte,
    register,
    served,
    sign_in,
    signed_in_gql,
    stored_events,
)
from tests.integration.gql import GQL, GraphQLError
from tests.integration.ws import PROTOCOL

CREATE = 'mutation { createWorkspace(name: "Team") { id name role version } }'
INVITE = """mutation($ws: UUID!, $role: Role!, $email: String) {
  inviteMember(workspaceId: $ws, role: $role, email: $email) { id role email expiresAt token }
}"""
ACCEPT = "mutation($t: String!) { acceptInvitation(token: $t) { id name role } }"
CHANGE = """mutation($ws: UUID!, $user: String!, $role: Role!) {
  changeRole(workspaceId: $ws, userId: $user, role: $role) { userId email role }
}"""
REMOVE = """mutation($ws: UUID!, $user: String!) {
  removeMember(workspaceId: $ws, userId: $user) { userId email role }
}"""
DETAIL = """query($ws: UUID!) {
  workspace(id: $ws) { name role members { userId email role } invitations { id role email } }
}"""


def code(gql: GQL, query: str, **variables: Any) -> str:
    with pytest.raises(GraphQLError) as refused:
        gql(query, **variables)
    return str(refused.value.code)


@pytest.fixture
def network(settings: Settings) -> Iterator[TestClient]:
    with served(settings, **NETWORK) as client:
        yield client


def test_an_invited_user_joins_changes_role_and_is_removed_all_as_events(
    network: TestClient,
) -> None:
    ada_id = register(network, "ada@example.com")
    bob_id = register(network, "bob@example.com")
    ada = signed_in_gql(network, "ada@example.com")
    bob = signed_in_gql(network, "bob@example.com")

    team = ada(CREATE)["createWorkspace"]
    assert (team["name"], team["role"]) == ("Team", "ADMIN")
    ws = team["id"]
    assert code(bob, DETAIL, ws=ws) == "NOT_FOUND"

    invitation = ada(INVITE, ws=ws, role="VIEWER", email="Bob@Example.com")["inviteMember"]
    assert invitation["token"].startswith("gsi_")
    assert (invitation["role"], invitation["email"]) == ("VIEWER", "bob@example.com")
    pending = ada(DETAIL, ws=ws)["workspace"]["invitations"]
    assert pending == [{"id": invitation["id"], "role": "VIEWER", "email": "bob@example.com"}]

    joined = bob(ACCEPT, t=invitation["token"])["acceptInvitation"]
    assert joined == {"id": ws, "name": "Team", "role": "VIEWER"}
    assert code(bob, ACCEPT, t=invitation["token"]) == "NOT_FOUND"  # good once
    assert bob(WORKSPACES)["workspaces"] == [{"id": ws, "name": "Team", "role": "VIEWER"}]

    detail = bob(DETAIL.replace("invitations { id role email }", ""), ws=ws)["workspace"]
    assert sorted((m["email"], m["role"]) for m in detail["members"]) == [
        ("ada@example.com", "ADMIN"),
        ("bob@example.com", "VIEWER"),
    ]
    assert code(bob, DETAIL, ws=ws) == "FORBIDDEN"  # pending invitations: admins only
    assert code(bob, INVITE, ws=ws, role="ADMIN") == "FORBIDDEN"
    assert code(bob, CHANGE, ws=ws, user=bob_id, role="ADMIN") == "FORBIDDEN"

    members = ada(CHANGE, ws=ws, user=bob_id, role="EDITOR")["changeRole"]
    assert {m["userId"]: m["role"] for m in members} == {ada_id: "ADMIN", bob_id: "EDITOR"}
    assert bob(WORKSPACES)["workspaces"][0]["role"] == "EDITOR"
    assert code(ada, CHANGE, ws=ws, user=ada_id, role="VIEWER") == "BAD_USER_INPUT"  # last admin

    remaining = ada(REMOVE, ws=ws, user=bob_id)["removeMember"]
    assert [m["userId"] for m in remaining] == [ada_id]
    assert bob(WORKSPACES)["workspaces"] == []
    assert code(bob, DETAIL, ws=ws) == "NOT_FOUND"

    events = [(type(e).__name__, e.actor) for e in stored_events(network, ws)]
    assert events == [
        ("WorkspaceCreated", ada_id),
        ("MemberInvited", ada_id),
        ("InvitationAccepted", bob_id),
        ("MemberRoleChanged", ada_id),
        ("MemberRemoved", ada_id),
    ]
    secret = invitation["token"][len("gsi_") + 64 :]
    assert secret.encode() not in every_stored_byte(network)


def test_an_invitation_is_accepted_only_when_signed_in_and_only_as_given(
    network: TestClient,
) -> None:
    register(network, "ada@example.com")
    ada = signed_in_gql(network, "ada@example.com")
    ws = ada(CREATE)["createWorkspace"]["id"]
    token = ada(INVITE, ws=ws, role="EDITOR")["inviteMember"]["token"]
    assert code(AsPrincipal(network, None), ACCEPT, t=token) == "UNAUTHENTICATED"
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    register(network, "bob@example.com")
    bob = signed_in_gql(network, "bob@example.com")
    for bad in (tampered, "gsi_nonsense", "", "x" * 300):
        assert code(bob, ACCEPT, t=bad) == "NOT_FOUND"
    assert bob(ACCEPT, t=token)["acceptInvitation"]["role"] == "EDITOR"


def test_bad_workspace_input_is_refused_cleanly(network: TestClient) -> None:
    register(network, "ada@example.com")
    ada = signed_in_gql(network, "ada@example.com")
    assert code(ada, 'mutation { createWorkspace(name: "  ") { id } }') == "BAD_USER_INPUT"
    ws = ada(CREATE)["createWorkspace"]["id"]
    assert code(ada, INVITE, ws=ws, role="OWNER") == "BAD_USER_INPUT"
    assert code(ada, INVITE, ws=ws, role="VIEWER", email="not an email") == "BAD_USER_INPUT"
    assert code(ada, CHANGE, ws=ws, user="nobody", role="VIEWER") == "NOT_FOUND"
    assert code(AsPrincipal(network, None), CREATE) == "UNAUTHENTICATED"


def test_a_websocket_acts_as_the_credentials_of_its_connection_init(network: TestClient) -> None:
    register(network, "ada@example.com")
    access = sign_in(network, "ada@example.com").json()["accessToken"]

    with network.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {access}"}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": ME}})
        message = ws.receive_json()
        assert message["type"] == "next"
        assert message["payload"]["data"]["me"]["email"] == "ada@example.com"

    with network.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"authorization": "Bearer forged"}})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4403

    with network.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": {}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": ME}})
        message = ws.receive_json()
        assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
