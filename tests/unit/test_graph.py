"""Graph rules that need no aggregate."""

from __future__ import annotations

from domain.components import COMPONENTS, NodeKind
from domain.graph import (
    Edge,
    Node,
    Position,
    find_cycle,
    topological_order,
    validation_issues,
)
from domain.key_policy import KeyPolicy


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


def test_what_stops_a_publish_is_said_in_plain_english() -> None:
    llm = Node(
        "llm", NodeKind.LLM_ENGINE, "Writer", Position(0, 0), {"provider": "openai", "model": "m"}
    )
    gem = Node(
        "gem", NodeKind.LLM_ENGINE, "Poet", Position(0, 0), {"provider": "gemini", "model": "m"}
    )
    kb = Node("kb", NodeKind.KNOWLEDGE_BASE, "Docs", Position(0, 0), {"embedder": "openai"})
    messages = {
        i.message for i in validation_issues({n.id: n for n in (llm, gem, kb)}, {}, KeyPolicy())
    }
    assert "Add a User Query node." in messages and "Add an Output node." in messages
    assert "Writer: give an OpenAI API key." in messages
    assert "Poet: give a Gemini API key." in messages
    assert "Docs: give an OpenAI API key." in messages
