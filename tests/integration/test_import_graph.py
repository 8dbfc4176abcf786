"""importGraph through GraphQL: what an imported graph may leave out, and clear refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.gql import GQL, GraphQLError
from tests.integration.workflow_ops import CREATE, GET

IMPORT = """mutation($w: UUID!, $nodes: JSON!, $edges: JSON!) {
  importGraph(workflowId: $w, nodes: $nodes, edges: $edges) {
    version nodes { id kind label position { x y } } edges { id source target sourceHandle targetHandle } } }"""


def imported(gql: GQL, nodes: Any, edges: Any) -> dict[str, Any]:
    w = gql(CREATE, name="Imported")["createWorkflow"]["id"]
    return gql(IMPORT, w=w, nodes=nodes, edges=edges)["importGraph"]


def test_edges_without_ids_or_handles_get_ids_and_their_one_port_pair(gql: GQL) -> None:
    graph = imported(
        gql,
        [
            {"id": "q", "kind": "USER_QUERY", "position": {"x": 0, "y": 0}},
            {"id": "llm", "kind": "LLM_ENGINE", "position": {"x": 300, "y": 0}},
            {"id": "out", "kind": "OUTPUT", "position": {"x": 600, "y": 0}},
        ],
        [{"source": "q", "target": "llm"}, {"source": "llm", "target": "out"}],
    )
    assert [
        (e["source"], e["sourceHandle"], e["target"], e["targetHandle"]) for e in graph["edges"]
    ] == [
        ("q", "query", "llm", "query"),
        ("llm", "answer", "out", "answer"),
    ]
    ids = [e["id"] for e in graph["edges"]]
    assert all(isinstance(i, str) and i.startswith("edge-") for i in ids) and len(set(ids)) == 2


def test_nodes_may_leave_out_id_label_and_position(gql: GQL) -> None:
    graph = imported(gql, [{"kind": "USER_QUERY"}, {"kind": "OUTPUT", "label": "Answer"}], [])
    first, second = graph["nodes"]
    assert first["kind"] == "USER_QUERY" and first["label"] == "User Query"
    assert first["id"].startswith("user_query-") and second["label"] == "Answer"
    assert first["position"] != second["position"]  # side by side, not stacked


@pytest.mark.parametrize(
    ("nodes", "edges", "words"),
    [
        ([{"id": 7, "kind": "OUTPUT"}], [], "imported node 1: id must be a string"),
        ([{"id": "a"}], [], "imported node 1: kind must be a string"),
        ([{"id": "a", "kind": "OUTPUT", "position": {"x": "NaN", "y": 0}}], [], "position"),
        ([{"id": "a", "kind": "OUTPUT", "position": {"x": 1e12, "y": 0}}], [], "position"),
        ([{"id": "a", "kind": "OUTPUT", "config": []}], [], "config must be an object"),
        (["a"], [], "imported node 1 must be an object"),
        ([{"id": "a", "kind": "OUTPUT"}], [{"source": "a"}], "imported edge 1: target must be"),
        ([{"id": "a", "kind": "OUTPUT"}], [{"source": "a", "target": "zz"}], "names no node"),
        ({"id": "a"}, [], "nodes and edges must be lists"),
    ],
)
def test_a_malformed_graph_is_refused_in_words_and_changes_nothing(
    gql: GQL, nodes: Any, edges: Any, words: str
) -> None:
    w = gql(CREATE, name="Refused")["createWorkflow"]["id"]
    with pytest.raises(GraphQLError) as refused:
        gql(IMPORT, w=w, nodes=nodes, edges=edges)
    assert refused.value.code in ("BAD_USER_INPUT", "NOT_FOUND")
    assert words in refused.value.message
    assert "Error(" not in refused.value.message  # no exception reprs
    assert gql(GET, w=w)["workflow"]["version"] == 1


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "1e999"])
def test_a_position_that_is_not_a_finite_number_is_refused(gql: GQL, literal: str) -> None:
    w = gql(CREATE, name="Not finite")["createWorkflow"]["id"]
    node = '{"id": "a", "kind": "OUTPUT", "position": {"x": LITERAL, "y": 0}}'
    variables = f'{{"w": "{w}", "edges": [], "nodes": [{node.replace("LITERAL", literal)}]}}'
    body = f'{{"query": {json.dumps(IMPORT)}, "variables": {variables}}}'
    response = gql.client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert gql(GET, w=w)["workflow"]["version"] == 1
