"""Values no store can hold (NUL, lone surrogates, non-finite numbers) and values past their
bounds are refused at the edge, for every command, with the argument's name: none reaches an
event, so the read side goes on (on PostgreSQL a NUL in an event stopped every projection)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from application.validation import MAX_NODES
from tests.integration.gql import GQL
from tests.integration.workflow_ops import CREATE, LIST

NUL, SURROGATE = "a\x00b", "a\ud800b"


def post(
    client: TestClient, query: str, infinite: str | None = None, **variables: Any
) -> dict[str, Any]:
    """A request as a client may send it: JSON escapes for what UTF-8 cannot carry, and
    `infinite` (a number JSON reads as infinite) written where a variable says "INFINITY"."""
    body = json.dumps({"query": query, "variables": variables})  # \ud800 stays an escape
    if infinite:
        body = body.replace('"INFINITY"', infinite)
    response = client.post("/graphql", content=body, headers={"content-type": "application/json"})
    # 200 with a GraphQL error, or 400 from the request guard (a lone surrogate in the body)
    assert response.status_code in (200, 400), response.text
    return response.json()


def refused(client: TestClient, query: str, **variables: Any) -> str:
    """The message of a refusal with the contract's BAD_USER_INPUT, with nothing applied."""
    body = post(client, query, **variables)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    return str(error["message"])


def stack(gql: GQL) -> str:
    return str(gql(CREATE, name="Target")["createWorkflow"]["id"])


ADD = """mutation($w: UUID!, $label: String, $id: String, $config: JSON) {
  addNode(workflowId: $w, kind: LLM_ENGINE, position: {x: 0, y: 0}, label: $label, nodeId: $id,
          config: $config) { version } }"""
IMPORT = "mutation($w: UUID!, $n: JSON!, $e: JSON!) { importGraph(workflowId: $w, nodes: $n, edges: $e) { version } }"


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "surrogate"])
def test_text_no_store_can_hold_is_refused_in_every_command(
    client: TestClient, gql: GQL, bad: str
) -> None:
    w = stack(gql)
    what = "NUL" if bad == NUL else "surrogate"
    commands: list[tuple[str, dict[str, Any], str]] = [
        ("mutation($v: String!) { createWorkflow(name: $v) { id } }", {}, "name"),
        (
            'mutation($v: String) { createWorkflow(name: "ok", description: $v) { id } }',
            {},
            "description",
        ),
        (
            "mutation($w: UUID!, $v: String!) { renameWorkflow(id: $w, name: $v) { id } }",
            {"w": w},
            "name",
        ),
        (
            "mutation($w: UUID!, $v: String!) { describeWorkflow(id: $w, description: $v) { id } }",
            {"w": w},
            "description",
        ),
        (
            ADD.replace("$label: String", "$v: String").replace("label: $label", "label: $v"),
            {"w": w},
            "label",
        ),
        (
            ADD.replace("$id: String", "$v: String").replace("nodeId: $id", "nodeId: $v"),
            {"w": w},
            "nodeId",
        ),
        (
            "mutation($w: UUID!, $v: String) { publishWorkflow(workflowId: $w, note: $v) { number } }",
            {"w": w},
            "note",
        ),
        (
            "mutation($s: UUID!, $v: String!) { sendMessage(sessionId: $s, content: $v) { id } }",
            {"s": w},
            "content",
        ),
    ]
    # A NUL is refused by the check of every argument, which names it; a lone surrogate
    # already by the request guard (no JSON body may hold one), which names none.
    named = bad == NUL
    for query, variables, argument in commands:
        message = refused(client, query, v=bad, **variables)
        assert message.startswith(f"{argument}: " if named else "the body") and what in message
    message = refused(client, ADD, w=w, config={"model": bad})
    assert message.startswith("config.model: " if named else "the body") and what in message
    message = refused(client, IMPORT, w=w, n=[{"kind": "OUTPUT", "label": bad}], e=[])
    assert message.startswith("nodes[0].label: " if named else "the body") and what in message
    # nothing was applied, and the read side still follows the log
    assert gql("query($w: UUID!) { workflow(id: $w) { version } }", w=w)["workflow"]["version"] == 1
    gql(CREATE, name="After")
    assert sorted(wf["name"] for wf in gql(LIST)["workflows"]) == ["After", "Target"]


def test_non_finite_positions_are_refused_in_import_and_move(client: TestClient, gql: GQL) -> None:
    w = stack(gql)
    node = {"id": "q", "kind": "USER_QUERY", "position": {"x": 0, "y": 0}}
    assert post(client, IMPORT, w=w, n=[node], e=[])["data"]["importGraph"]["version"] == 2
    # 1e999 is valid JSON and reads as infinity: the one spelling of a non-finite number JSON has
    far = [{"kind": "OUTPUT", "position": {"x": "INFINITY", "y": 0}}]
    [error] = post(client, IMPORT, w=w, n=far, e=[], infinite="1e999")["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "nodes[0].position.x: must be a finite number, not inf"
    move = 'mutation($w: UUID!, $x: Float!) { moveNode(workflowId: $w, nodeId: "q", position: {x: $x, y: 0}) { version } }'
    [error] = post(client, move, w=w, x="INFINITY", infinite="-1e999")["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert gql("query($w: UUID!) { workflow(id: $w) { version } }", w=w)["workflow"]["version"] == 2


def test_sizes_and_counts_are_bounded(client: TestClient, gql: GQL) -> None:
    w = stack(gql)
    too_many = [{"kind": "OUTPUT"}] * (MAX_NODES + 1)
    assert refused(client, IMPORT, w=w, n=too_many, e=[]) == f"nodes: more than {MAX_NODES} entries"
    assert "label: longer than 200 characters" in refused(
        client, IMPORT, w=w, n=[{"kind": "OUTPUT", "label": "x" * 201}], e=[]
    )
    assert refused(
        client, "mutation($v: String!) { createWorkflow(name: $v) { id } }", v="n" * 201
    ) == ("name: longer than 200 characters")
    assert (
        refused(
            client,
            "mutation($s: UUID!, $v: String!) { sendMessage(sessionId: $s, content: $v) { id } }",
            s=w,
            v="q" * 20_001,
        )
        == "content: longer than 20000 characters"
    )
    deep: Any = "leaf"
    for _ in range(13):
        deep = {"k": deep}
    assert "nested more than 12 levels deep" in refused(client, ADD, w=w, config=deep)
    assert "must be within ±2^53" in refused(client, ADD, w=w, config={"maxTokens": 2**62})
    assert gql("query($w: UUID!) { workflow(id: $w) { version } }", w=w)["workflow"]["version"] == 1
