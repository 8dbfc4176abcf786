"""Every event names a real actor: the user, the API token, or the local owner who did it;
history and diffs show them by name."""

from __future__ import annotations

from starlette.testclient import TestClient

from infrastructure.settings import Settings
from interfaces.app import create_app
from tests.integration.accounts_client import (
    NETWORK,
    AsPrincipal,
    register,
    served,
    signed_in_gql,
    stored_events,
)
from tests.integration.gql import GQL

HISTORY = "query($w: UUID!) { workflowHistory(id: $w) { version type actor actorName } }"
DIFF = "query($w: UUID!, $a: Int!, $b: Int!) { workflowDiff(id: $w, fromVersion: $a, toVersion: $b) { authors } }"
CREATE = 'mutation { createWorkflow(name: "Named") { id } }'
RENAME = "mutation($w: UUID!, $n: String!) { renameWorkflow(id: $w, name: $n) { version } }"


def test_history_and_diffs_name_the_user_and_the_token_that_changed_a_stack(
    settings: Settings,
) -> None:
    with served(settings, **NETWORK) as client:
        ada_id = register(client, "ada@example.com", name="Ada Lovelace")
        ada = signed_in_gql(client, "ada@example.com")
        team = ada('mutation { createWorkspace(name: "Team") { id } }')["createWorkspace"]["id"]
        made = ada(
            """mutation($w: UUID!) { createApiToken(workspaceId: $w, name: "bot", scopes: [EDIT])
                 { token apiToken { id } } }""",
            w=team,
        )["createApiToken"]
        bot = AsPrincipal(client, made["token"])
        w = ada(CREATE)["createWorkflow"]["id"]
        bot(RENAME, w=w, n="Renamed by the bot")
        token_actor = f"token:{made['apiToken']['id']}"

        assert [e.actor for e in stored_events(client, w)] == [ada_id, token_actor]
        assert ada(HISTORY, w=w)["workflowHistory"] == [
            {"version": 1, "type": "WorkflowCreated", "actor": ada_id, "actorName": "Ada Lovelace"},
            {
                "version": 2,
                "type": "WorkflowRenamed",
                "actor": token_actor,
                "actorName": "API token “bot”",
            },
        ]
        ada(RENAME, w=w, n="Renamed by Ada")
        assert ada(DIFF, w=w, a=1, b=2)["workflowDiff"]["authors"] == ["API token “bot”"]
        assert ada(DIFF, w=w, a=3, b=1)["workflowDiff"]["authors"] == [
            "API token “bot”",
            "Ada Lovelace",
        ]


def test_the_local_owner_is_named_as_such(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        gql = GQL(client)
        w = gql(CREATE)["createWorkflow"]["id"]
        assert gql(HISTORY, w=w)["workflowHistory"] == [
            {"version": 1, "type": "WorkflowCreated", "actor": "local", "actorName": "local (you)"}
        ]
