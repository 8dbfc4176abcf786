"""Production shapes through the API: a 150-node stack built node by node and edge by edge
(about 450 events, past four snapshots) opens, travels back to version 250, diffs, rolls back
and publishes, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from application.eventlog.log import SNAPSHOT_EVERY
from tests.integration.gql import GQL
from tests.integration.workflow_ops import DIFF, GET, HISTORY, PUBLISH, ROLLBACK, listed

LLMS = 148  # with a User Query and an Output: 150 nodes
ADD = """mutation($w: UUID!, $kind: NodeKind!, $id: String!, $x: Float!) {
  addNode(workflowId: $w, kind: $kind, nodeId: $id, position: {x: $x, y: 0.5}) { version } }"""
CONNECT = """mutation($w: UUID!, $s: String!, $t: String!) {
  connectNodes(workflowId: $w, source: $s, target: $t) { version } }"""


def build_a_wide_stack(gql: GQL) -> tuple[str, int]:
    """User Query → 148 LLM Engines → Output: every node added with addNode, every edge
    with connectNodes. Returns the workflow's id and the version the last node made."""
    w = gql('mutation { createWorkflow(name: "Wide") { id } }')["createWorkflow"]["id"]
    nodes = [("q", "USER_QUERY"), ("out", "OUTPUT")] + [
        (f"llm{i}", "LLM_ENGINE") for i in range(LLMS)
    ]
    for x, (node_id, kind) in enumerate(nodes):
        nodes_done = gql(ADD, w=w, kind=kind, id=node_id, x=float(x))["addNode"]["version"]
    for i in range(LLMS):
        gql(CONNECT, w=w, s="q", t=f"llm{i}")
        gql(CONNECT, w=w, s=f"llm{i}", t="out")
    return w, nodes_done


def test_a_150_node_stack_opens_travels_diffs_rolls_back_and_publishes(gql: GQL) -> None:
    w, nodes_done = build_a_wide_stack(gql)
    last = nodes_done + 2 * LLMS
    assert nodes_done == 151 and last > 4 * SNAPSHOT_EVERY

    now = gql(GET, w=w)["workflow"]
    assert now["version"] == last and len(now["nodes"]) == 150 and len(now["edges"]) == 2 * LLMS
    assert now["validation"] == {"valid": True, "issues": []}
    assert {n["kind"] for n in now["nodes"]} == {"USER_QUERY", "LLM_ENGINE", "OUTPUT"}
    assert gql(PUBLISH, w=w, note="wide")["publishWorkflow"]["number"] == 1

    at_250 = gql(GET, w=w, v=250)["workflow"]
    assert at_250["version"] == 250 and len(at_250["nodes"]) == 150
    assert len(at_250["edges"]) == 250 - nodes_done
    assert at_250["nodes"][2] == {
        "id": "llm0",
        "kind": "LLM_ENGINE",
        "label": "LLM Engine",
        "position": {"x": 2.0, "y": 0.5},
        "config": now["nodes"][2]["config"],
    }
    assert not at_250["validation"]["valid"]  # some engines are not wired yet

    diff = gql(DIFF, w=w, a=SNAPSHOT_EVERY, b=3 * SNAPSHOT_EVERY + 1)["workflowDiff"]
    assert len(diff["addedNodes"]) == nodes_done - SNAPSHOT_EVERY
    assert len(diff["addedEdges"]) == 3 * SNAPSHOT_EVERY + 1 - nodes_done
    assert diff["removedNodes"] == diff["removedEdges"] == diff["changedNodes"] == []

    rolled = gql(ROLLBACK, w=w, v=250)["rollbackWorkflow"]
    assert rolled["version"] == last + 2 and len(rolled["edges"]) == len(at_250["edges"])
    assert rolled["nodes"] == at_250["nodes"]
    restored = gql(ROLLBACK, w=w, v=last)["rollbackWorkflow"]
    assert restored["nodes"] == now["nodes"] and restored["edges"] == now["edges"]
    assert gql(PUBLISH, w=w, note="again")["publishWorkflow"]["number"] == 2

    history: list[dict[str, Any]] = gql(HISTORY, w=w)["workflowHistory"]
    assert [e["version"] for e in history] == list(range(1, last + 5))
    assert [e["type"] for e in history[-4:]] == [
        "WorkflowPublished",
        "WorkflowRolledBack",
        "WorkflowRolledBack",
        "WorkflowPublished",
    ]
    summary = listed(gql, w)
    assert summary is not None and summary["version"] == last + 4
    assert [p["number"] for p in summary["publishedVersions"]] == [1, 2]
