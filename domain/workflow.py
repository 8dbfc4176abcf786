"""The Workflow aggregate: a canvas graph, its edits and its published versions.

Checks live in the public methods, before the event exists; the decorated methods are the
events' mutators, re-run on replay, so they only change state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain.components import COMPONENTS, config_problems, parse_kind
from domain.errors import InvalidCommand, InvalidWorkflow, NotFound, ValidationIssue
from domain.graph import Edge, Node, Position, resolve_ports, validation_issues

MAX_NAME = 200
MAX_DESCRIPTION = 2000
MAX_LABEL = 200
MAX_ID = 100


@dataclass(frozen=True)
class PublishedVersion:
    number: int
    workflow_version: int
    published_at: datetime
    note: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def __post_init__(self) -> None:
        # JSON has no tuples: a decoder gives lists, and maybe the values as dicts
        nodes = tuple(n if isinstance(n, Node) else Node.from_dict(n) for n in self.nodes)
        edges = tuple(e if isinstance(e, Edge) else Edge.from_dict(e) for e in self.edges)
        object.__setattr__(self, "nodes", nodes)
        object.__setattr__(self, "edges", edges)


def _text(value: str, what: str, limit: int, *, empty_ok: bool = False) -> str:
    value = value.strip()
    if not value and not empty_ok:
        raise InvalidCommand(f"{what} must not be empty")
    if len(value) > limit:
        raise InvalidCommand(f"{what} is longer than {limit} characters")
    return value


def _identifier(value: str, what: str) -> str:
    if not value or len(value) > MAX_ID or not value.isprintable() or value != value.strip():
        raise InvalidCommand(f"{what} must be 1 to {MAX_ID} printable characters")
    return value


def merge_config(current: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """Keys given replace, a key given as None is removed, keys absent are kept."""
    merged = {**current, **patch}
    return {k: v for k, v in merged.items() if v is not None}


class Workflow(Aggregate):
    @event("WorkflowCreated")
    def __init__(self, name: str, description: str, actor: str) -> None:
        self.name, self.description = name, description
        self.nodes: dict[str, Node] = {}
        self.edges: dict[str, Edge] = {}
        self.published: list[PublishedVersion] = []
        self.deleted = False
        self.last_actor = actor

    @classmethod
    def create(cls, name: str, description: str, actor: str) -> Workflow:
        return cls(
            _text(name, "the name", MAX_NAME),
            _text(description, "the description", MAX_DESCRIPTION, empty_ok=True),
            actor,
        )

    # ---------------------------------------------------------------- naming

    def rename(self, name: str, actor: str) -> None:
        self._renamed(_text(name, "the name", MAX_NAME), actor)

    @event("WorkflowRenamed")
    def _renamed(self, name: str, actor: str) -> None:
        self.name, self.last_actor = name, actor

    def describe(self, description: str, actor: str) -> None:
        self._described(
            _text(description, "the description", MAX_DESCRIPTION, empty_ok=True), actor
        )

    @event("WorkflowDescribed")
    def _described(self, description: str, actor: str) -> None:
        self.description, self.last_actor = description, actor

    # ---------------------------------------------------------------- nodes

    def add_node(
        self,
        node_id: str,
        kind: str,
        position: Position,
        actor: str,
        label: str | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        node_kind = parse_kind(kind)
        _identifier(node_id, "a node id")
        if node_id in self.nodes:
            raise InvalidCommand(f"there is already a node {node_id!r}")
        spec = COMPONENTS[node_kind]
        full = merge_config(spec.defaults(), config or {})
        self._check_config(node_id, node_kind, full)
        title = _text(label if label is not None else spec.title, "the label", MAX_LABEL)
        self._node_added(node_id, node_kind.value, title, _position(position), full, actor)

    @event("NodeAdded")
    def _node_added(
        self,
        node_id: str,
        kind: str,
        label: str,
        position: dict[str, float],
        config: dict[str, Any],
        actor: str,
    ) -> None:
        self.nodes[node_id] = Node.from_dict(
            {"id": node_id, "kind": kind, "label": label, "position": position, "config": config}
        )
        self.last_actor = actor

    def move_node(self, node_id: str, position: Position, actor: str) -> None:
        self._node(node_id)
        self._node_moved(node_id, _position(position), actor)

    @event("NodeMoved")
    def _node_moved(self, node_id: str, position: dict[str, float], actor: str) -> None:
        node = self.nodes[node_id]
        self.nodes[node_id] = _replace(node, position=Position(position["x"], position["y"]))
        self.last_actor = actor

    def relabel_node(self, node_id: str, label: str, actor: str) -> None:
        self._node(node_id)
        self._node_relabelled(node_id, _text(label, "the label", MAX_LABEL), actor)

    @event("NodeRelabelled")
    def _node_relabelled(self, node_id: str, label: str, actor: str) -> None:
        self.nodes[node_id] = _replace(self.nodes[node_id], label=label)
        self.last_actor = actor

    def configure_node(self, node_id: str, patch: Mapping[str, Any], actor: str) -> None:
        node = self._node(node_id)
        config = merge_config(node.config, patch)
        self._check_config(node_id, node.kind, config)
        self._node_configured(node_id, config, actor)

    @event("NodeConfigured")
    def _node_configured(self, node_id: str, config: dict[str, Any], actor: str) -> None:
        self.nodes[node_id] = _replace(self.nodes[node_id], config=config)
        self.last_actor = actor

    def remove_node(self, node_id: str, actor: str) -> None:
        self._node(node_id)
        self._node_removed(node_id, actor)

    @event("NodeRemoved")
    def _node_removed(self, node_id: str, actor: str) -> None:
        del self.nodes[node_id]
        # its edges go with it
        for edge_id in [i for i, e in self.edges.items() if node_id in (e.source, e.target)]:
            del self.edges[edge_id]
        self.last_actor = actor

    # ---------------------------------------------------------------- edges

    def connect(
        self,
        edge_id: str,
        source: str,
        target: str,
        actor: str,
        source_handle: str | None = None,
        target_handle: str | None = None,
    ) -> None:
        _identifier(edge_id, "an edge id")
        if edge_id in self.edges:
            raise InvalidCommand(f"there is already an edge {edge_id!r}")
        src, dst = self._node(source), self._node(target)
        if source == target:
            raise InvalidCommand(f"{src.label} cannot be connected to itself")
        out, inp = resolve_ports(src, dst, source_handle, target_handle)
        for e in self.edges.values():
            if (e.source, e.target, e.source_handle, e.target_handle) == (source, target, out, inp):
                raise InvalidCommand(f"{src.label} is already connected to {dst.label}")
        self._connected(edge_id, source, target, {"source": out, "target": inp}, actor)

    @event("NodesConnected")
    def _connected(
        self, edge_id: str, source: str, target: str, handles: dict[str, str], actor: str
    ) -> None:
        self.edges[edge_id] = Edge(edge_id, source, target, handles["source"], handles["target"])
        self.last_actor = actor

    def disconnect(self, edge_id: str, actor: str) -> None:
        if edge_id not in self.edges:
            raise NotFound(f"there is no edge {edge_id!r}")
        self._disconnected(edge_id, actor)

    @event("NodesDisconnected")
    def _disconnected(self, edge_id: str, actor: str) -> None:
        del self.edges[edge_id]
        self.last_actor = actor

    # ---------------------------------------------------------------- whole graphs

    def import_graph(self, nodes: list[Node], edges: list[Edge], actor: str) -> None:
        """Replaces the graph (import, templates); checked as if built edit by edit."""
        scratch: dict[str, Node] = {}
        for n in nodes:
            _identifier(n.id, "a node id")
            if n.id in scratch:
                raise InvalidCommand(f"there is already a node {n.id!r}")
            self._check_config(n.id, n.kind, n.config)
            _text(n.label, "the label", MAX_LABEL)
            _position(n.position)
            scratch[n.id] = n
        checked = _checked_edges(scratch, edges)
        self._graph_imported([n.to_dict() for n in nodes], [e.to_dict() for e in checked], actor)

    @event("GraphImported")
    def _graph_imported(
        self, nodes: list[dict[str, Any]], edges: list[dict[str, Any]], actor: str
    ) -> None:
        self._set_graph(nodes, edges)
        self.last_actor = actor

    def validate(self, server_keys: frozenset[str] = frozenset()) -> list[ValidationIssue]:
        return validation_issues(self.nodes, self.edges, server_keys)

    def publish(self, note: str, actor: str, server_keys: frozenset[str] = frozenset()) -> int:
        issues = self.validate(server_keys)
        if issues:
            raise InvalidWorkflow(
                f"the workflow cannot be published: {issues[0].message}", tuple(issues)
            )
        number = len(self.published) + 1
        self.trigger_event(
            self.WorkflowPublished,
            number=number,
            note=_text(note, "the note", MAX_DESCRIPTION, empty_ok=True),
            nodes=[n.to_dict() for n in self.nodes.values()],
            edges=[e.to_dict() for e in self.edges.values()],
            actor=actor,
        )
        return number

    class WorkflowPublished(Aggregate.Event):
        number: int
        note: str
        nodes: list[dict[str, Any]]
        edges: list[dict[str, Any]]
        actor: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Workflow)
            aggregate.published.append(
                PublishedVersion(
                    number=self.number,
                    workflow_version=self.originator_version,
                    published_at=self.timestamp,
                    note=self.note,
                    nodes=tuple(Node.from_dict(n) for n in self.nodes),
                    edges=tuple(Edge.from_dict(e) for e in self.edges),
                )
            )
            aggregate.last_actor = self.actor

    def published_version(self, number: int | None) -> PublishedVersion:
        if not self.published:
            raise InvalidWorkflow("the workflow has never been published: build it first")
        if number is None:
            return self.published[-1]
        if not 1 <= number <= len(self.published):
            raise NotFound(f"there is no published version {number}")
        return self.published[number - 1]

    def roll_back(self, to_version: int, earlier: Workflow, actor: str) -> None:
        """Restores the graph of `earlier` (this workflow as it stood at to_version)."""
        if earlier.id != self.id or earlier.version != to_version or to_version >= self.version:
            raise InvalidCommand(f"version {to_version} is not an earlier version of this workflow")
        self._rolled_back(
            to_version,
            [n.to_dict() for n in earlier.nodes.values()],
            [e.to_dict() for e in earlier.edges.values()],
            actor,
        )

    @event("WorkflowRolledBack")
    def _rolled_back(
        self, to_version: int, nodes: list[dict[str, Any]], edges: list[dict[str, Any]], actor: str
    ) -> None:
        self._set_graph(nodes, edges)
        self.last_actor = actor

    def delete(self, actor: str) -> None:
        self._deleted(actor)

    @event("WorkflowDeleted")
    def _deleted(self, actor: str) -> None:
        self.deleted, self.last_actor = True, actor

    # ---------------------------------------------------------------- helpers

    def _node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise NotFound(f"there is no node {node_id!r}") from None

    @staticmethod
    def _check_config(node_id: str, kind: Any, config: Mapping[str, Any]) -> None:
        problems = config_problems(kind, dict(config))
        if problems:
            raise InvalidCommand(f"node {node_id!r}: " + "; ".join(problems))

    def _set_graph(self, nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> None:
        self.nodes = {n["id"]: Node.from_dict(n) for n in nodes}
        self.edges = {e["id"]: Edge.from_dict(e) for e in edges}


def _position(position: Position) -> dict[str, float]:
    x, y = float(position.x), float(position.y)
    if not (abs(x) < 1e7 and abs(y) < 1e7):  # also refuses NaN and infinities
        raise InvalidCommand("a position must be finite and within ±10,000,000")
    return {"x": x, "y": y}


def _replace(node: Node, **changes: Any) -> Node:
    return replace(node, **changes)


def _checked_edges(nodes: Mapping[str, Node], edges: list[Edge]) -> list[Edge]:
    seen: dict[str, Edge] = {}
    for e in edges:
        _identifier(e.id, "an edge id")
        if e.id in seen:
            raise InvalidCommand(f"there is already an edge {e.id!r}")
        for end in (e.source, e.target):
            if end not in nodes:
                raise NotFound(f"edge {e.id!r} names no node {end!r}")
        if e.source == e.target:
            raise InvalidCommand(f"edge {e.id!r} joins a node to itself")
        out, inp = resolve_ports(nodes[e.source], nodes[e.target], e.source_handle, e.target_handle)
        if any(
            (s.source, s.target, s.target_handle) == (e.source, e.target, inp)
            for s in seen.values()
        ):
            raise InvalidCommand(f"edge {e.id!r} duplicates another edge")
        seen[e.id] = Edge(e.id, e.source, e.target, out, inp)
    return list(seen.values())
