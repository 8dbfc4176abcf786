"""The audit log of a workspace through GraphQL and as a JSON Lines export: every change in
it (stacks, chats, access), in words and by name, filtered and paged, for its admins only,
with no secret in it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from infrastructure.settings import Settings
from tests.fakes.openai_server import FakeOpenAIServer
from tests.integration.accounts_client import (
    NETWORK,
    AsPrincipal,
    register,
    served,
    signed_in_gql,
)
from tests.integration.chat_ops import SEND, draft_workflow, fake_llm, start_chat
from tests.integration.gql import GQL, GraphQLError
from tests.integration.workflow_ops import CONFIGURE, wait_for

AUDIT = """query($ws: UUID!, $actor: String, $stack: UUID, $kinds: [String!], $since: DateTime,
  $until: DateTime, $after: String, $limit: Int! = 50) {
  auditLog(workspaceId: $ws, actor: $actor, stackId: $stack, kinds: $kinds, since: $since,
           until: $until, after: $after, limit: $limit) {
    entries { position at actor { id name } kind subject subjectId subjectVersion
              stack { id name } summary }
    nextCursor
  }
}"""
FILTERS = """query($ws: UUID!) { auditFilters(workspaceId: $ws) {
  actors { id name } stacks { id name } kinds } }"""
TEAM = 'mutation { createWorkspace(name: "Team") { id } }'
INVITE = """mutation($ws: UUID!) { inviteMember(workspaceId: $ws, role: VIEWER,
  email: "bob@example.com") { token } }"""
ACCEPT = "mutation($t: String!) { acceptInvitation(token: $t) { id } }"
CHANGE = """mutation($ws: UUID!, $u: String!) { changeRole(workspaceId: $ws, userId: $u,
  role: EDITOR) { userId } }"""
TOKEN = """mutation($ws: UUID!) { createApiToken(workspaceId: $ws, name: "bot", scopes: [EDIT])
  { token apiToken { id } } }"""
REVOKE = "mutation($id: UUID!) { revokeApiToken(id: $id) { id } }"
RENAME = "mutation($w: UUID!, $n: String!) { renameWorkflow(id: $w, name: $n) { version } }"
SETTLED = ("AssistantAnswered", "AnswerFailed")
KEY = "sk-test-secret-0123456789abcdef"


@pytest.fixture
def team(settings: Settings, fake_openai: FakeOpenAIServer) -> Iterator[dict[str, Any]]:
    """A workspace where an admin, an invited member and an API token made changes."""
    with served(settings, **NETWORK, genai_outbound_loopback=True) as client:
        ada_id = register(client, "ada@example.com", name="Ada Lovelace")
        bob_id = register(client, "bob@example.com", name="Bob Builder")
        register(client, "carol@example.com", name="Carol")
        ada = signed_in_gql(client, "ada@example.com")
        bob = signed_in_gql(client, "bob@example.com")
        carol = signed_in_gql(client, "carol@example.com")
        ws = ada(TEAM)["createWorkspace"]["id"]
        invitation = ada(INVITE, ws=ws)["inviteMember"]["token"]
        bob(ACCEPT, t=invitation)
        ada(CHANGE, ws=ws, u=bob_id)
        made = ada(TOKEN, ws=ws)["createApiToken"]
        kept = ada(TOKEN.replace('"bot"', '"kept"'), ws=ws)["createApiToken"]["token"]

        stack = draft_workflow(ada, fake_llm(fake_openai), name="Support bot")
        ada(CONFIGURE, w=stack, n="llm", c={"apiKey": KEY})
        bob(RENAME, w=stack, n="Helpdesk")
        bot = AsPrincipal(client, made["token"])
        bot(RENAME, w=stack, n="Helpdesk 2")
        ada(REVOKE, id=made["apiToken"]["id"])
        chat = start_chat(ada, stack, draft=True)
        ada(SEND, s=chat, c="What is the refund policy?")

        carol(TEAM)  # another workspace, with a stack of its own
        carol('mutation { createWorkflow(name: "Carol private") { id } }')
        yield {
            "client": client,
            "ws": ws,
            "stack": stack,
            "chat": chat,
            "ada": ada,
            "bob": bob,
            "carol": carol,
            "bot": AsPrincipal(client, kept),
            "ada_id": ada_id,
            "bob_id": bob_id,
            "token_actor": f"token:{made['apiToken']['id']}",
            "secrets": [KEY, invitation, made["token"], kept],
        }


def every_entry(gql: GQL, ws: str, limit: int = 50, **filters: Any) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    after = None
    while True:
        page = gql(AUDIT, ws=ws, after=after, limit=limit, **filters)["auditLog"]
        entries += page["entries"]
        if page["nextCursor"] is None:
            return entries
        after = page["nextCursor"]


def test_an_admin_reads_every_change_in_words_by_name_newest_first(team: dict[str, Any]) -> None:
    ada, ws = team["ada"], team["ws"]
    # the answer comes in the background: wait for its entry

    def answered() -> list[dict[str, Any]] | None:
        found = every_entry(ada, ws)
        return found if any(e["kind"] in SETTLED for e in found) else None

    entries = wait_for(answered, timeout=60)
    positions = [int(e["position"]) for e in entries]
    assert positions == sorted(positions, reverse=True)
    said = [(e["kind"], e["actor"]["name"] if e["actor"] else None, e["summary"]) for e in entries]
    oldest_first = list(reversed(said))
    assert oldest_first[:4] == [
        ("WorkspaceCreated", "Ada Lovelace", "Created the workspace “Team”"),
        ("MemberInvited", "Ada Lovelace", "Invited someone (bob@example.com) as viewer"),
        (
            "InvitationAccepted",
            "Bob Builder",
            "Bob Builder accepted an invitation and joined as viewer",
        ),
        ("MemberRoleChanged", "Ada Lovelace", "Made Bob Builder editor"),
    ]
    assert ("ApiTokenIssued", "Ada Lovelace", "Issued the API token “bot” (edit)") in said
    assert ("ApiTokenRevoked", "Ada Lovelace", "Revoked the API token “bot”") in said
    assert ("WorkflowCreated", "Ada Lovelace", "Created “Support bot”") in said
    assert ("WorkflowRenamed", "Bob Builder", "Renamed “Support bot” → “Helpdesk”") in said
    assert ("WorkflowRenamed", "API token “bot”", "Renamed “Helpdesk” → “Helpdesk 2”") in said
    assert ("NodeConfigured", "Ada Lovelace", "LLM Engine: API key added") in said
    assert ("UserAsked", "Ada Lovelace", "Asked “What is the refund policy?”") in said
    assert ("ChatStarted", "Ada Lovelace", "Started a chat with the draft") in said
    [outcome] = [e for e in entries if e["kind"] in SETTLED]
    assert outcome["kind"] == "AssistantAnswered", outcome
    assert outcome["summary"].startswith("Answered with gpt-4o-mini (")

    by_kind = {e["kind"]: e for e in entries}
    renamed = next(e for e in entries if e["summary"].endswith("“Helpdesk”"))
    assert renamed["actor"] == {"id": team["bob_id"], "name": "Bob Builder"}
    assert renamed["stack"] == {"id": team["stack"], "name": "Helpdesk"}
    assert (renamed["subject"], renamed["subjectId"]) == ("stack", team["stack"])
    asked = by_kind["UserAsked"]
    assert (asked["subject"], asked["subjectId"], asked["subjectVersion"]) == (
        "chat",
        team["chat"],
        2,
    )
    assert asked["stack"] == {"id": team["stack"], "name": "Helpdesk 2"}
    assert by_kind["MemberInvited"]["stack"] is None
    assert by_kind["MemberInvited"]["subject"] == "workspace"
    # nothing of the other workspace
    assert not any("Carol" in e["summary"] for e in entries)

    filters = ada(FILTERS, ws=ws)["auditFilters"]
    assert filters["stacks"] == [{"id": team["stack"], "name": "Helpdesk 2"}]
    assert {"id": team["bob_id"], "name": "Bob Builder"} in filters["actors"]
    assert {"id": team["token_actor"], "name": "API token “bot”"} in filters["actors"]
    assert filters["kinds"] == sorted({e["kind"] for e in entries})


def test_filters_and_pages_select_in_the_database(team: dict[str, Any]) -> None:
    ada, ws = team["ada"], team["ws"]
    everything = every_entry(ada, ws)

    for limit in (1, 2, 3, 7):  # any page size walks the same entries, each once
        assert every_entry(ada, ws, limit=limit) == everything

    bobs = every_entry(ada, ws, actor=team["bob_id"])
    assert [e["kind"] for e in bobs] == ["WorkflowRenamed", "InvitationAccepted"]
    assert every_entry(ada, ws, actor=team["token_actor"]) == [
        e for e in everything if e["actor"] and e["actor"]["id"] == team["token_actor"]
    ]

    stack = every_entry(ada, ws, stack=team["stack"])
    assert stack == [e for e in everything if e["stack"]]
    assert {e["subject"] for e in stack} == {"stack", "chat"}

    kinds = every_entry(ada, ws, kinds=["MemberInvited", "MemberRoleChanged"])
    assert [e["kind"] for e in kinds] == ["MemberRoleChanged", "MemberInvited"]

    # a time range, from the entries' own times: since inclusive, until exclusive
    oldest_first = list(reversed(everything))
    middle = oldest_first[len(oldest_first) // 2]["at"]
    since = every_entry(ada, ws, since=middle)
    until = every_entry(ada, ws, until=middle)
    assert since + until == everything
    assert since and until and all(e["at"] >= middle for e in since)

    # a stack of another workspace selects nothing here
    other = team["carol"]("{ workflows { id } }")["workflows"][0]["id"]
    assert every_entry(ada, ws, stack=other) == []


BAD = [
    ({"limit": 0}, "limit must be 1 to 200"),
    ({"limit": 201}, "limit must be 1 to 200"),
    ({"after": "not-a-cursor"}, "that cursor is not one this log gave"),
    ({"actor": ""}, "a filter must be 1 to 200 characters"),
    ({"since": "2026-12-02T00:00:00Z", "until": "2026-12-01T00:00:00Z"}, "the time range"),
    ({"since": "2026-12-02T00:00:00"}, "time zone"),
]


def test_only_the_workspaces_admins_read_it_and_bad_arguments_are_refused_clearly(
    team: dict[str, Any],
) -> None:
    ws = team["ws"]
    for variables, message in BAD:
        with pytest.raises(GraphQLError) as refused:
            team["ada"](AUDIT, ws=ws, **variables)
        assert refused.value.code == "BAD_USER_INPUT"
        assert message in str(refused.value)

    for who, code in (
        (team["bob"], "FORBIDDEN"),  # an editor of the workspace
        (team["bot"], "FORBIDDEN"),  # an API token of the workspace
        (team["carol"], "NOT_FOUND"),  # not of the workspace: it does not exist for her
        (AsPrincipal(team["client"], None), "UNAUTHENTICATED"),
    ):
        for query in (AUDIT, FILTERS):
            with pytest.raises(GraphQLError) as refused:
                who(query, ws=ws)
            assert refused.value.code == code


def export(client: TestClient, credential: str | None, **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    return client.get("/audit/export.jsonl", params=params, headers=headers)


def test_the_export_is_the_log_as_json_lines_with_the_same_filters(team: dict[str, Any]) -> None:
    ada, ws, client = team["ada"], team["ws"], team["client"]
    everything = every_entry(ada, ws)
    response = export(client, ada.credential, workspace=ws)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jsonl")
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    lines = [json.loads(line) for line in response.text.splitlines()]
    # the answer may have come in between: compare what both hold
    lines = [line for line in lines if line["position"] <= int(everything[0]["position"])]
    assert [
        (str(x["position"]), x["kind"], x["summary"], x["actor"], x["stack"]) for x in lines
    ] == [(e["position"], e["kind"], e["summary"], e["actor"], e["stack"]) for e in everything]
    assert all(line["workspaceId"] == ws for line in lines)

    bobs = export(client, ada.credential, workspace=ws, actor=team["bob_id"]).text.splitlines()
    assert [json.loads(line)["kind"] for line in bobs] == ["WorkflowRenamed", "InvitationAccepted"]
    kinds = export(
        client, ada.credential, workspace=ws, kind=["MemberInvited", "MemberRoleChanged"]
    ).text.splitlines()
    assert [json.loads(line)["kind"] for line in kinds] == ["MemberRoleChanged", "MemberInvited"]
    nothing = export(client, ada.credential, workspace=ws, **{"from": "2999-01-01T00:00:00Z"})
    assert (nothing.status_code, nothing.text) == (200, "")

    # no secret, in the log or its export: the node's API key, the invitation, the tokens
    answer = json.dumps(every_entry(ada, ws))
    for secret in team["secrets"]:
        assert secret not in answer and secret not in response.text


def test_the_export_refuses_as_the_query_does(team: dict[str, Any]) -> None:
    client, ws = team["client"], team["ws"]
    for credential, status, code in (
        (team["bob"].credential, 403, "FORBIDDEN"),
        (team["carol"].credential, 404, "NOT_FOUND"),
        (None, 401, "UNAUTHENTICATED"),
    ):
        refused = export(client, credential, workspace=ws)
        assert refused.status_code == status
        assert refused.json()["errors"][0]["extensions"]["code"] == code
    ada = team["ada"].credential
    for params in (
        {},
        {"workspace": "nope"},
        {"workspace": ws, "from": "yesterday"},
        {"workspace": ws, "limit": "5"},
        {"workspace": ws, "workspace_": ws},
    ):
        bad = export(client, ada, **params)
        assert bad.status_code == 400, params
        assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_rebuild_writes_the_same_entries(team: dict[str, Any]) -> None:
    """The entries are a projection of the log: dropped and replayed, they come back as
    they were (the names read then are the stacks' names then, not now)."""
    ada, ws = team["ada"], team["ws"]
    services = team["client"].app.state.services
    worker = services.worker("audit_log")
    before = wait_for(
        lambda: (
            (found := every_entry(ada, ws)) and any(e["kind"] in SETTLED for e in found) and found
        ),
        timeout=60,
    )
    worker.stop()  # alone, as `genai-stack projections rebuild` runs it
    worker.rebuild()
    assert every_entry(ada, ws) == before
