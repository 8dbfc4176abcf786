"""Deltas: what differs between two graphs, what a Build would publish, and a change made
relative to the graph as it is now."""

from __future__ import annotations

from domain.changes import Delta, EdgeChange, Graph, NodeChange, diff, relative, unbuilt
from domain.components import NodeKind
from domain.graph import Edge, Node, Position


def node(i: str, kind: NodeKind = NodeKind.LLM_ENGINE, x: float = 0, **config: object) -> Node:
    return Node(i, kind, i, Position(x, 0), dict(config))


def graph(*nodes: Node, edges: tuple[Edge, ...] = (), name: str = "S") -> Graph:
    return Graph({n.id: n for n in nodes}, {e.id: e for e in edges}, name)


def test_diff_tells_added_removed_and_changed_in_the_newer_graphs_order() -> None:
    old = graph(node("a"), node("b"))
    new = graph(node("c"), node("a", x=5), edges=(Edge("e", "a", "c", "answer", "answer"),))
    d = diff(old, new)
    assert [(c.id, c.before is None, c.after is None) for c in d.nodes] == [
        ("c", True, False),
        ("a", False, False),
        ("b", False, True),
    ]
    assert [e.id for e in d.edges] == ["e"] and d.name is None
    assert diff(old, old).empty


def test_the_delta_survives_its_json_form_with_its_types() -> None:
    d = diff(graph(node("a", topK=1)), graph(node("a", x=2, topK=2), name="T"))
    back = Delta.from_dict(d.to_dict())
    assert back == d
    assert type(back.nodes[0].after.kind) is NodeKind  # type: ignore[union-attr]
    assert back.name == ("S", "T") and isinstance(back.name, tuple)


def test_what_a_build_would_publish_counts_settings_and_structure_not_moves() -> None:
    published = graph(node("a", provider="x"), node("b"))
    now = graph(
        node("a", x=99, provider="y", model="m"),
        node("c"),
        edges=(Edge("e", "a", "c", "answer", "answer"),),
        name="renamed",
    )
    # a: two settings; b removed; c added; one connection added; the move and name not
    assert unbuilt(diff(published, now)) == 5
    assert unbuilt(diff(published, graph(node("a", x=5, provider="x"), node("b")))) == 0


def test_a_change_made_relative_touches_only_what_it_changed() -> None:
    before, after = node("a", topK=1, chunkSize=10), node("a", topK=2, chunkSize=10)
    now = graph(
        Node(
            "a", NodeKind.LLM_ENGINE, "renamed since", Position(7, 7), {"topK": 2, "chunkSize": 99}
        )
    )
    back = relative(Delta(nodes=(NodeChange(after, before),)), now)
    [change] = back.nodes
    assert change.after == Node(
        "a", NodeKind.LLM_ENGINE, "renamed since", Position(7, 7), {"topK": 1, "chunkSize": 99}
    )
    assert change.before == now.nodes["a"]


def test_an_edge_comes_back_only_if_its_ends_are_there() -> None:
    edge = Edge("e", "q", "kb", "query", "query")
    now = graph(node("q", NodeKind.USER_QUERY))
    assert relative(Delta(edges=(EdgeChange(None, edge),)), now).empty
