"""Every root field of the served schema is authorized by one mechanism: the test walks the
schema itself (so a new field without a declared action fails it) and checks each field on a
server that requires sign-in: without credentials UNAUTHENTICATED; a viewer's mutation
FORBIDDEN (but for those a viewer may do); another workspace's resource NOT_FOUND, exactly as
a resource that does not exist (or null, for a field that answers null for one). And a
subscription ends once the token it authenticated with is revoked."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import (
    GraphQLField,
    GraphQLNonNull,
    get_named_type,
    is_composite_type,
    is_enum_type,
)
from starlette.testclient import TestClient

from application.account.access import Resource
from domain.policy import ROLE_ACTIONS, Action
from domain.workspace import Role
from interfaces.graphql.authorize import Needs
from interfaces.graphql.schema import schema
from tests.conftest import make_settings
from tests.integration.accounts_client import (
    NETWORK,
    AsPrincipal,
    register,
    served,
    signed_in_gql,
)
from tests.integration.documents_client import add_knowledge_base, new_workflow, upload_raw
from tests.integration.ws import PROTOCOL
from tests.pdfs import multi_page_pdf

ROOTS = {
    "query": schema._schema.query_type,
    "mutation": schema._schema.mutation_type,
    "subscription": schema._schema.subscription_type,
}
# what anyone signed in may do whatever their role: for themselves, or what a viewer may
VIEWERS_MAY = {"startChat", "sendMessage", "rateAnswer", "createWorkspace", "acceptInvitation"}


def every_field() -> list[tuple[str, str, GraphQLField]]:
    return [
        (kind, name, field)
        for kind, root in ROOTS.items()
        if root is not None
        for name, field in root.fields.items()
    ]


def needs_of(field: GraphQLField) -> Needs:
    declared = [
        e for e in field.extensions["strawberry-definition"].extensions if isinstance(e, Needs)
    ]
    assert len(declared) == 1, "declare the action the field needs: interfaces/graphql/authorize"
    return declared[0]


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@pytest.mark.parametrize(("kind", "name", "field"), every_field(), ids=lambda v: str(v)[:40])
def test_every_field_declares_the_action_it_needs(
    kind: str, name: str, field: GraphQLField
) -> None:
    needs = needs_of(field)
    assert isinstance(needs.action, Action)
    if needs.argument is not None:
        assert camel(needs.argument) in field.args, f"{name} has no argument {needs.argument}"
    if needs.resource is None:  # only being signed in: what is read is limited by who asks
        assert kind == "query" or needs.action is Action.ACCOUNT, name


@dataclass
class World:
    client: TestClient
    ids: dict[Resource, str]  # the resources of the team's workspace
    anonymous: AsPrincipal
    viewer: AsPrincipal
    stranger: AsPrincipal


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = make_settings(
        tmp_path_factory.mktemp("data"), None, genai_auth_recheck_seconds=0.2, **NETWORK
    )
    with served(settings) as client:
        for email in ("ada@example.com", "vic@example.com", "oz@example.com"):
            register(client, email)
        ada = signed_in_gql(client, "ada@example.com")
        team = ada('mutation { createWorkspace(name: "Team") { id } }')["createWorkspace"]["id"]
        invited = ada(
            "mutation($w: UUID!) { inviteMember(workspaceId: $w, role: VIEWER) { token } }",
            w=team,
        )["inviteMember"]["token"]
        viewer = signed_in_gql(client, "vic@example.com")
        viewer("mutation($t: String!) { acceptInvitation(token: $t) { id } }", t=invited)
        stranger = signed_in_gql(client, "oz@example.com")
        stranger('mutation { createWorkspace(name: "Elsewhere") { id } }')
        stack = new_workflow(ada, "Team stack")
        add_knowledge_base(ada, stack)
        uploaded = upload_raw(
            client,
            stack,
            multi_page_pdf(1),
            headers={
                "Apollo-Require-Preflight": "true",
                "Authorization": f"Bearer {ada.credential}",
            },
        ).json()
        session = ada(
            "mutation($w: UUID!) { startChat(workflowId: $w, draft: true) { id } }", w=stack
        )["startChat"]["id"]
        token = ada(
            """mutation($w: UUID!) { createApiToken(workspaceId: $w, name: "p", scopes: [READ])
                 { apiToken { id } } }""",
            w=team,
        )["createApiToken"]["apiToken"]["id"]
        ids = {
            Resource.WORKFLOW: stack,
            Resource.DOCUMENT: uploaded["data"]["uploadDocument"]["id"],
            Resource.CHAT_SESSION: session,
            Resource.WORKSPACE: team,
            Resource.API_TOKEN: token,
        }
        yield World(client, ids, AsPrincipal(client, None), viewer, stranger)


def value_of(type_name: str) -> Any:
    named = schema._schema.get_type(type_name.strip("[]!"))
    if is_enum_type(named):
        return next(iter(named.values))  # type: ignore[union-attr]
    return {
        "UUID": str(uuid.uuid4()),
        "String": "x",
        "Int": 1,
        "Boolean": False,
        "JSON": {},
        "PositionInput": {"x": 0, "y": 0},
        "Upload": None,
    }[named.name]  # type: ignore[union-attr]


def ask(
    world: World, gql: AsPrincipal, kind: str, name: str, field: GraphQLField, resource_id: str
) -> dict[str, Any]:
    """The field asked with its required arguments, its resource's argument `resource_id`."""
    needs = needs_of(field)
    resource_arg = camel(needs.argument) if needs.argument else None
    variables: dict[str, Any] = {}
    types: dict[str, str] = {}
    for arg_name, arg in field.args.items():
        if arg_name == resource_arg:
            variables[arg_name] = resource_id
        elif isinstance(arg.type, GraphQLNonNull):
            value = value_of(str(arg.type))
            variables[arg_name] = [value] if str(arg.type).startswith("[") else value
        else:
            continue
        types[arg_name] = str(arg.type)
    definitions = ", ".join(f"${n}: {t}" for n, t in types.items())
    arguments = ", ".join(f"{n}: ${n}" for n in types)
    selection = " { __typename }" if is_composite_type(get_named_type(field.type)) else ""
    query = (
        f"{kind}{f'({definitions})' if definitions else ''} "
        f"{{ {name}{f'({arguments})' if arguments else ''}{selection} }}"
    )
    headers = {"Authorization": f"Bearer {gql.credential}"} if gql.credential else {}
    world.client.cookies.clear()
    if kind == "subscription":
        return subscribe_once(world.client, query, variables, headers)
    if any(t.startswith("Upload") for t in types.values()):
        upload = next(n for n, t in types.items() if t.startswith("Upload"))
        operations = {"query": query, "variables": variables}
        return world.client.post(
            "/graphql",
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": [f"variables.{upload}"]}),
            },
            files={"0": ("facts.pdf", multi_page_pdf(1), "application/pdf")},
            headers={"Apollo-Require-Preflight": "true", **headers},
        ).json()
    return world.client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    ).json()


def subscribe_once(
    client: TestClient, query: str, variables: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    with client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        payload = {"authorization": headers["Authorization"]} if headers else {}
        ws.send_json({"type": "connection_init", "payload": payload})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
        message = ws.receive_json()
        if message["type"] == "error":
            return {"errors": message["payload"]}
        return dict(message["payload"])


def code_of(body: dict[str, Any]) -> str | None:
    errors = body.get("errors")
    return errors[0]["extensions"]["code"] if errors else None


FIELDS = every_field()
IDS = [f"{kind}-{name}" for kind, name, _ in FIELDS]


@pytest.mark.parametrize(("kind", "name", "field"), FIELDS, ids=IDS)
def test_without_credentials_every_field_is_unauthenticated(
    world: World, kind: str, name: str, field: GraphQLField
) -> None:
    resource = needs_of(field).resource
    resource_id = world.ids.get(resource, str(uuid.uuid4())) if resource else ""
    body = ask(world, world.anonymous, kind, name, field, resource_id)
    assert code_of(body) == "UNAUTHENTICATED", body


MUTATIONS = [(n, f) for kind, n, f in FIELDS if kind == "mutation"]


def test_the_mutations_a_viewer_may_do_are_few() -> None:
    allowed = {n for n, f in MUTATIONS if needs_of(f).action in ROLE_ACTIONS[Role.VIEWER]}
    assert allowed == VIEWERS_MAY


@pytest.mark.parametrize(
    ("name", "field"),
    [(n, f) for n, f in MUTATIONS if n not in VIEWERS_MAY],
    ids=[n for n, _ in MUTATIONS if n not in VIEWERS_MAY],
)
def test_a_viewers_mutation_is_forbidden(world: World, name: str, field: GraphQLField) -> None:
    resource = needs_of(field).resource
    resource_id = world.ids.get(resource, "") if resource else ""
    body = ask(world, world.viewer, "mutation", name, field, resource_id)
    assert code_of(body) == "FORBIDDEN", body


FOREIGN = [
    (kind, n, f) for kind, n, f in FIELDS if needs_of(f).resource not in (None, Resource.HOME)
]


@pytest.mark.parametrize(
    ("kind", "name", "field"), FOREIGN, ids=[f"{k}-{n}" for k, n, _ in FOREIGN]
)
def test_another_workspaces_resource_is_not_found_as_if_it_did_not_exist(
    world: World, kind: str, name: str, field: GraphQLField
) -> None:
    needs = needs_of(field)
    assert needs.resource is not None
    theirs = world.ids[needs.resource]
    nowhere = str(uuid.uuid4())
    seen = ask(world, world.stranger, kind, name, field, theirs)
    unknown = ask(world, world.stranger, kind, name, field, nowhere)
    if needs.unseen_is_null:
        assert seen == unknown == {"data": {name: None}}
        return
    assert code_of(seen) == code_of(unknown) == "NOT_FOUND", seen
    assert re.sub(theirs, "ID", seen["errors"][0]["message"]) == re.sub(
        nowhere, "ID", unknown["errors"][0]["message"]
    )


def test_a_subscription_ends_when_its_token_is_revoked(world: World) -> None:
    ada = signed_in_gql(world.client, "ada@example.com")
    made = ada(
        """mutation($w: UUID!) { createApiToken(workspaceId: $w, name: "watch", scopes: [READ])
             { token apiToken { id } } }""",
        w=world.ids[Resource.WORKSPACE],
    )["createApiToken"]
    with world.client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        ws.send_json(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {made['token']}"}}
        )
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {
                    "query": "subscription($w: UUID!) { workflowEvents(workflowId: $w) "
                    "{ __typename } }",
                    "variables": {"w": world.ids[Resource.WORKFLOW]},
                },
            }
        )
        ada(
            "mutation($t: UUID!) { revokeApiToken(id: $t) { revokedAt } }",
            t=made["apiToken"]["id"],
        )
        message = ws.receive_json()  # nothing else happens to the stack: the end comes next
        assert message["type"] == "next", message
        assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert ws.receive_json()["type"] == "complete"
