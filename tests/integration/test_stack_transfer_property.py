"""Any stack survives the trip: a drawn graph (any kinds, labels, positions, settings, keys,
connections) imported through the API, exported as a stack file, and imported again reads
back the same through the API, its keys left behind and named."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from domain.components import COMPONENTS, SECRET_FIELDS, NodeKind
from tests.integration.gql import GQL
from tests.integration.test_stack_transfer import import_stack

GRAPH = """nodes { id kind label position { x y } config }
  edges { id source target sourceHandle targetHandle }"""
GET = f"query($w: UUID!) {{ workflow(id: $w) {{ name description {GRAPH} }} }}"
CREATE = "mutation($n: String!, $d: String) { createWorkflow(name: $n, description: $d) { id } }"
IMPORT = """mutation($w: UUID!, $n: JSON!, $e: JSON!) {
  importGraph(workflowId: $w, nodes: $n, edges: $e) { id } }"""

ids = st.from_regex(r"[a-z][a-z0-9_-]{0,11}", fullmatch=True)
words = (
    st.text(
        st.characters(codec="utf-8", exclude_categories=["Cs", "Cc", "Zl", "Zp"]),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)
coordinate = st.floats(min_value=-1e5, max_value=1e5, allow_nan=False, allow_infinity=False)
key = st.from_regex(r"sk-[A-Za-z0-9]{20,30}", fullmatch=True)


@st.composite
def configs(draw: st.DrawFn, kind: NodeKind) -> dict[str, Any]:
    if kind is NodeKind.KNOWLEDGE_BASE:
        drawn = {
            "embedder": draw(st.sampled_from(["local", "openai", "gemini"])),
            "chunkSize": draw(st.integers(100, 8000)),
            "chunkOverlap": draw(st.integers(0, 2000)),
            "topK": draw(st.integers(1, 50)),
            "apiKey": draw(st.none() | key),
        }
    elif kind is NodeKind.LLM_ENGINE:
        drawn = {
            "provider": draw(st.sampled_from(["openai", "gemini", "extractive"])),
            "model": draw(words),
            "temperature": draw(st.floats(0, 2, allow_nan=False)),
            "maxTokens": draw(st.integers(1, 32768)),
            "prompt": draw(words),
            "webSearch": draw(st.booleans()),
            "apiKey": draw(st.none() | key),
            "webSearchApiKey": draw(st.none() | key),
        }
    else:
        return {}
    chosen = draw(st.sets(st.sampled_from(sorted(drawn))))
    return {k: v for k, v in drawn.items() if k in chosen and v is not None}


@st.composite
def graphs(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    node_ids = draw(st.lists(ids, max_size=7, unique=True))
    nodes = []
    for node_id in node_ids:
        kind = draw(st.sampled_from(list(NodeKind)))
        nodes.append(
            {
                "id": node_id,
                "kind": kind.value,
                "label": draw(words),
                "position": {"x": draw(coordinate), "y": draw(coordinate)},
                "config": draw(configs(kind)),
            }
        )
    pairs = [
        (a["id"], port, b["id"])
        for a in nodes
        for b in nodes
        for port in COMPONENTS[NodeKind(a["kind"])].outputs
        if a is not b and port in COMPONENTS[NodeKind(b["kind"])].inputs
    ]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=10)) if pairs else []
    edges = [
        {"id": f"e{i}", "source": s, "target": t, "sourceHandle": p, "targetHandle": p}
        for i, (s, p, t) in enumerate(chosen)
    ]
    return nodes, edges


def _without_keys(stack: dict[str, Any]) -> dict[str, Any]:
    nodes = [
        {**n, "config": {k: v for k, v in n["config"].items() if k not in SECRET_FIELDS}}
        for n in stack["nodes"]
    ]
    return {**stack, "nodes": nodes}


def test_any_stack_reads_back_the_same_after_export_and_import(client: TestClient) -> None:
    gql = GQL(client)

    @settings(max_examples=25)
    @given(graph=graphs(), name=words, description=st.none() | words)
    def round_trip(
        graph: tuple[list[dict[str, Any]], list[dict[str, Any]]], name: str, description: str | None
    ) -> None:
        nodes, edges = graph
        w = gql(CREATE, n=name, d=description)["createWorkflow"]["id"]
        gql(IMPORT, w=w, n=nodes, e=edges)
        original = gql(GET, w=w)["workflow"]
        exported = client.get(f"/stacks/{w}/export.json")
        assert exported.status_code == 200, exported.text
        for node in nodes:
            for field in SECRET_FIELDS:
                if field in node["config"]:
                    assert node["config"][field].encode() not in exported.content
        made = import_stack(client, exported.content)
        moved = gql(GET, w=made["workflow"]["id"])["workflow"]
        assert _without_keys(moved) == _without_keys(original)
        assert json.dumps(moved, sort_keys=True) == json.dumps(_without_keys(moved), sort_keys=True)
        expected_keys = sorted(
            (n["id"], f) for n in nodes for f in SECRET_FIELDS if f in n["config"]
        )
        assert sorted((k["nodeId"], k["setting"]) for k in made["keysToReenter"]) == expected_keys

    round_trip()
