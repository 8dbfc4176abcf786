"""What a change did to a workflow, node by node and field by field, and how to take it back.

A `Delta` names each node and edge a change touched as it was before and after it (None:
absent), and the stack's name and description when they changed. Undo reverses one, history
describes one, and a comparison of two versions is one. Taking a change back (or doing it
again) applies only what it changed to the workflow as it is now, so that undoing one's own
change leaves alone what others changed since.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from domain.components import COMPONENTS
from domain.graph import Edge, Node, Position

Text = tuple[str, str]  # (before, after)


@dataclass(frozen=True)
class NodeChange:
    before: Node | None
    after: Node | None

    @property
    def id(self) -> str:
        node = self.after or self.before
        assert node is not None
        return node.id

    def reversed(self) -> NodeChange:
        return NodeChange(self.after, self.before)

    def changed_keys(self) -> list[str]:
        """The config keys whose value differs, in the order the settings are listed."""
        old = self.before.config if self.before else {}
        new = self.after.config if self.after else {}
        node = self.after or self.before
        assert node is not None
        listed = COMPONENTS[node.kind].config_schema["properties"]
        keys = dict.fromkeys([*listed, *old, *new])
        return [k for k in keys if old.get(k) != new.get(k)]


@dataclass(frozen=True)
class EdgeChange:
    before: Edge | None
    after: Edge | None

    @property
    def id(self) -> str:
        edge = self.after or self.before
        assert edge is not None
        return edge.id

    def reversed(self) -> EdgeChange:
        return EdgeChange(self.after, self.before)


@dataclass(frozen=True)
class Delta:
    nodes: tuple[NodeChange, ...] = ()
    edges: tuple[EdgeChange, ...] = ()
    name: Text | None = None
    description: Text | None = None

    def reversed(self) -> Delta:
        return Delta(
            tuple(c.reversed() for c in self.nodes),
            tuple(c.reversed() for c in self.edges),
            _swap(self.name),
            _swap(self.description),
        )

    @property
    def empty(self) -> bool:
        return not (self.nodes or self.edges or self.name or self.description)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON, as events and snapshots hold it."""
        return {
            "nodes": [[_dict(c.before), _dict(c.after)] for c in self.nodes],
            "edges": [[_dict(c.before), _dict(c.after)] for c in self.edges],
            "name": list(self.name) if self.name else None,
            "description": list(self.description) if self.description else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Delta:
        return cls(
            tuple(NodeChange(_node(b), _node(a)) for b, a in data.get("nodes") or ()),
            tuple(EdgeChange(_edge(b), _edge(a)) for b, a in data.get("edges") or ()),
            _text(data.get("name")),
            _text(data.get("description")),
        )


@dataclass
class Graph:
    """The parts of a workflow a change can touch (the aggregate's own dicts, or copies)."""

    nodes: dict[str, Node]
    edges: dict[str, Edge]
    name: str
    description: str = ""


def diff(old: Graph, new: Graph) -> Delta:
    """Everything that differs between two graphs: nodes in the newer one's order, then the
    ones only the older had."""
    node_ids = dict.fromkeys([*new.nodes, *old.nodes])
    edge_ids = dict.fromkeys([*new.edges, *old.edges])
    return Delta(
        tuple(
            NodeChange(old.nodes.get(i), new.nodes.get(i))
            for i in node_ids
            if old.nodes.get(i) != new.nodes.get(i)
        ),
        tuple(
            EdgeChange(old.edges.get(i), new.edges.get(i))
            for i in edge_ids
            if old.edges.get(i) != new.edges.get(i)
        ),
        (old.name, new.name) if old.name != new.name else None,
        (old.description, new.description) if old.description != new.description else None,
    )


def of_event(graph: Graph, event_type: str, d: Mapping[str, Any]) -> Delta:
    """What a workflow event of that type, with data `d`, changes in the graph as it stands
    just before it. Publishing, creating and deleting change no graph."""
    match event_type:
        case "WorkflowRenamed" if d["name"] != graph.name:
            return Delta(name=(graph.name, d["name"]))
        case "WorkflowDescribed" if d["description"] != graph.description:
            return Delta(description=(graph.description, d["description"]))
        case "NodeAdded":
            return Delta(nodes=(NodeChange(None, Node.from_dict({**d, "id": d["node_id"]})),))
        case "NodeMoved":
            position = Position(d["position"]["x"], d["position"]["y"])
            return _node_delta(graph, d["node_id"], position=position)
        case "NodeRelabelled":
            return _node_delta(graph, d["node_id"], label=d["label"])
        case "NodeConfigured":
            return _node_delta(graph, d["node_id"], config=d["config"])
        case "NodeRemoved":
            node_id = d["node_id"]
            return Delta(
                nodes=(NodeChange(graph.nodes[node_id], None),),
                edges=node_edges(node_id, graph.edges.values()),  # its edges go with it
            )
        case "NodesConnected":
            h = d["handles"]
            edge = Edge(d["edge_id"], d["source"], d["target"], h["source"], h["target"])
            return Delta(edges=(EdgeChange(None, edge),))
        case "NodesDisconnected":
            return Delta(edges=(EdgeChange(graph.edges[d["edge_id"]], None),))
        case "GraphImported" | "WorkflowRolledBack":  # a rollback restores the names too
            name, description = d.get("name"), d.get("description")
            new = Graph(
                {n["id"]: Node.from_dict(n) for n in d["nodes"]},
                {e["id"]: Edge.from_dict(e) for e in d["edges"]},
                graph.name if name is None else name,
                graph.description if description is None else description,
            )
            return diff(graph, new)
        case "ChangeUndone" | "ChangeRedone":
            return Delta.from_dict(d["delta"])
    return Delta()


def _node_delta(graph: Graph, node_id: str, **changes: Any) -> Delta:
    node = graph.nodes[node_id]
    changed = replace(node, **changes)
    return Delta(nodes=(NodeChange(node, changed),)) if changed != node else Delta()


def apply(delta: Delta, graph: Graph) -> None:
    """Makes the delta's `after` true of the graph (which must be in its `before` state)."""
    for n in delta.nodes:
        if n.after is None:
            graph.nodes.pop(n.id, None)
        else:
            graph.nodes[n.id] = n.after
    for e in delta.edges:
        if e.after is None:
            graph.edges.pop(e.id, None)
        else:
            graph.edges[e.id] = e.after
    if delta.name:
        graph.name = delta.name[1]
    if delta.description:
        graph.description = delta.description[1]


def relative(delta: Delta, now: Graph) -> Delta:
    """The delta that makes what `delta` changed true of the graph as it is `now`, and
    nothing else: a node added is added unless it is there, a node removed is removed with
    whatever edges it has now, a node changed gets only the fields the delta changed (a node
    since removed is left alone), an edge comes back only if both its ends are there and no
    edge already joins the same ports. Its `before`s are the graph's values now."""
    nodes: dict[str, NodeChange] = {}
    result = dict(now.nodes)
    for change in delta.nodes:
        current = now.nodes.get(change.id)
        wanted = _wanted_node(change, current)
        if wanted != current:
            nodes[change.id] = NodeChange(current, wanted)
            if wanted is None:
                del result[change.id]
            else:
                result[change.id] = wanted

    edges: dict[str, EdgeChange] = {}
    kept: dict[str, Edge] = {}
    for edge in now.edges.values():  # edges of nodes that went (or changed kind) go too
        if _fits(edge, result):
            kept[edge.id] = edge
        else:
            edges[edge.id] = EdgeChange(edge, None)
    for link in delta.edges:
        edge_now = kept.get(link.id)
        edge_wanted = link.after
        if edge_wanted is not None and not _joinable(edge_wanted, result, kept):
            edge_wanted = edge_now
        if edge_wanted != edge_now:
            # `before` is the edge as it is now, even if it was to go with a node
            edges[link.id] = EdgeChange(now.edges.get(link.id), edge_wanted)
            if edge_wanted is None:
                del kept[link.id]
            else:
                kept[link.id] = edge_wanted
    return Delta(
        tuple(nodes.values()),
        tuple(edges.values()),
        _relative_text(delta.name, now.name),
        _relative_text(delta.description, now.description),
    )


def _wanted_node(change: NodeChange, current: Node | None) -> Node | None:
    before, after = change.before, change.after
    if before is None:  # the change added it
        return current if current is not None else after
    if after is None:  # the change removed it
        return None
    if current is None:  # changed, but removed since: nothing to change
        return None
    if before.kind != after.kind or current.kind != after.kind:  # replaced by an import
        return after
    config = dict(current.config)
    for key in change.changed_keys():
        if key in after.config:
            config[key] = after.config[key]
        else:
            config.pop(key, None)
    return replace(
        current,
        label=after.label if before.label != after.label else current.label,
        position=after.position if before.position != after.position else current.position,
        config=config,
    )


def _fits(edge: Edge, nodes: Mapping[str, Node]) -> bool:
    source, target = nodes.get(edge.source), nodes.get(edge.target)
    return (
        source is not None
        and target is not None
        and edge.source_handle in COMPONENTS[source.kind].outputs
        and edge.target_handle in COMPONENTS[target.kind].inputs
    )


def _joinable(edge: Edge, nodes: Mapping[str, Node], kept: Mapping[str, Edge]) -> bool:
    ports = (edge.source, edge.target, edge.source_handle, edge.target_handle)
    return _fits(edge, nodes) and not any(
        (e.source, e.target, e.source_handle, e.target_handle) == ports
        for i, e in kept.items()
        if i != edge.id
    )


def _relative_text(change: Text | None, now: str) -> Text | None:
    return (now, change[1]) if change and change[1] != now else None


def node_edges(node_id: str, edges: Iterable[Edge]) -> tuple[EdgeChange, ...]:
    """The edges that go when a node goes."""
    return tuple(EdgeChange(e, None) for e in edges if node_id in (e.source, e.target))


def _swap(text: Text | None) -> Text | None:
    return (text[1], text[0]) if text else None


def _dict(value: Node | Edge | None) -> dict[str, Any] | None:
    return None if value is None else value.to_dict()


def _node(data: Mapping[str, Any] | None) -> Node | None:
    return None if data is None else Node.from_dict(data)


def _edge(data: Mapping[str, Any] | None) -> Edge | None:
    return None if data is None else Edge.from_dict(data)


def _text(data: Any) -> Text | None:
    return (str(data[0]), str(data[1])) if data else None


def unbuilt(delta: Delta) -> int:
    """How many of a delta's changes alter what a published version answers with: each node
    or connection added or removed, each setting or label changed. Moving a node does not
    count, nor do the stack's name and description (a published version holds neither)."""
    count = len(delta.edges)
    for change in delta.nodes:
        before, after = change.before, change.after
        if before is None or after is None or before.kind != after.kind:
            count += 1
        else:
            count += len(change.changed_keys()) + (before.label != after.label)
    return count
