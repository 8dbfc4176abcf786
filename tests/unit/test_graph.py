"""Graph rules that need no aggregate."""

from __future__ import annotations

from domain.components import COMPONENTS, NodeKind
from domain.graph import Edge, Node, Position, find_cycle, topological_order


def node(i: str, kind: NodeKind = NodeKind.LLM_ENGINE, x: float = 0) -> Node:
    return Node(i, kind, i, Position(x, 0), {})


def test_find_cycle_names_the_nodes_that_cannot_be_ordered() -> None:
    edges = [
        Edge("1", "a", "b", "o", "i"),
        Edge("2", "b", "a", "o", "i"),
        Edge("3", "b", "c", "o", "i"),
        Edge("4", "d", "a", "o", "i"),
    ]
    assert find_cycle(["a", "b", "c", "d"], edges) == ["a", "b", "c"]
    assert find_cycle(["a", "b", "c"], edges[2:3]) == []


def test_topological_order_puts_sources_first() -> None:
    nodes = {i: node(i) for i in ("out", "llm", "q")}
    edges = [Edge("1", "llm", "out", "answer", "answer"), Edge("2", "q", "llm", "query", "query")]
    assert topological_order(nodes, edges) == ["q", "llm", "out"]


def test_every_component_has_a_config_schema_whose_defaults_pass_it() -> None:
    from domain.components import config_problems

    for kind, spec in COMPONENTS.items():
        assert spec.config_schema["type"] == "object"
        assert config_problems(kind, spec.defaults()) == []
