"""The Workflow aggregate: a canvas graph, its edits and its published versions.

Checks live in the public methods, before the event exists; the decorated methods are the
events' mutators, re-run on replay, so they only change state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain import undo
from domain.changes import Delta, Graph, apply, of_event, relative
from domain.components import COMPONENTS, config_problems, parse_kind
from domain.errors import InvalidCommand, InvalidWorkflow, NotFound, ValidationIssue
from domain.graph import Edge, Node, Position, resolve_ports, validation_issues
from domain.key_policy import NO_SERVER_KEYS, KeyPolicy
from domain.node_settings import rebind_keys
from domain.undo import Step
from domain.workspace import DEFAULT_WORKSPACE

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
    def __init__(
        self, name: str, description: str, actor: str, workspace_id: UUID | None = None
    ) -> None:
        self.name, self.description = name, description
        # the workspace the stack belongs to; created before workspaces: the default one
        self.workspace_id = workspace_id or DEFAULT_WORKSPACE
        self.nodes: dict[str, Node] = {}
        self.edges: dict[str, Edge] = {}
        self.published: list[PublishedVersion] = []
        self.deleted = False
        self.last_actor = actor
        # Each person's undo and redo, derived from the events like the rest. A snapshot
        # written before they existed lacks them: it is not trusted, and the events replayed.
        self.undo_steps: undo.Stacks = {}
        self.redo_steps: undo.Stacks = {}

    @classmethod
    def create(
        cls, name: str, description: str, actor: str, workspace_id: UUID | None = None
    ) -> Workflow:
        return cls(
            _text(name, "the name", MAX_NAME),
            _text(description, "the description", MAX_DESCRIPTION, empty_ok=True),
            actor,
            workspace_id,
        )

    # ---------------------------------------------------------------- naming

    def rename(self, name: str, actor: str) -> None:
        self._renamed(_text(name, "the name", MAX_NAME), actor)

    @event("WorkflowRenamed")
    def _renamed(self, name: str, actor: str) -> None:
        self._record("WorkflowRenamed", actor, name=name)

    def describe(self, description: str, actor: str) -> None:
        self._described(
            _text(description, "the description", MAX_DESCRIPTION, empty_ok=True), actor
        )

    @event("WorkflowDescribed")
    def _described(self, description: str, actor: str) -> None:
        self._record("WorkflowDescribed", actor, description=description)

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
        self._record(
            "NodeAdded",
            actor,
            node_id=node_id,
            kind=kind,
            label=label,
            position=position,
            config=config,
        )

    def move_node(self, node_id: str, position: Position, actor: str) -> None:
        self._node(node_id)
        self._node_moved(node_id, _position(position), actor)

    @event("NodeMoved")
    def _node_moved(self, node_id: str, position: dict[str, float], actor: str) -> None:
        self._record("NodeMoved", actor, node_id=node_id, position=position)

    def relabel_node(self, node_id: str, label: str, actor: str) -> None:
        self._node(node_id)
        self._node_relabelled(node_id, _text(label, "the label", MAX_LABEL), actor)

    @event("NodeRelabelled")
    def _node_relabelled(self, node_id: str, label: str, actor: str) -> None:
        self._record("NodeRelabelled", actor, node_id=node_id, label=label)

    def configure_node(self, node_id: str, patch: Mapping[str, Any], actor: str) -> None:
        node = self._node(node_id)
        config = rebind_keys(node.config, merge_config(node.config, patch))
        self._check_config(node_id, node.kind, config)
        self._node_configured(node_id, config, actor)

    @event("NodeConfigured")
    def _node_configured(self, node_id: str, config: dict[str, Any], actor: str) -> None:
        self._record("NodeConfigured", actor, node_id=node_id, config=config)

    def remove_node(self, node_id: str, actor: str) -> None:
        self._node(node_id)
        self._node_removed(node_id, actor)

    @event("NodeRemoved")
    def _node_removed(self, node_id: str, actor: str) -> None:
        self._record("NodeRemoved", actor, node_id=node_id)

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
        self._record(
            "NodesConnected", actor, edge_id=edge_id, source=source, target=target, handles=handles
        )

    def disconnect(self, edge_id: str, actor: str) -> None:
        if edge_id not in self.edges:
            raise NotFound(f"there is no edge {edge_id!r}")
        self._disconnected(edge_id, actor)

    @event("NodesDisconnected")
    def _disconnected(self, edge_id: str, actor: str) -> None:
        self._record("NodesDisconnected", actor, edge_id=edge_id)

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
        self._record("GraphImported", actor, nodes=nodes, edges=edges)

    def validate(self, keys: KeyPolicy = NO_SERVER_KEYS) -> list[ValidationIssue]:
        return validation_issues(self.nodes, self.edges, keys)

    def publish(self, note: str, actor: str, keys: KeyPolicy = NO_SERVER_KEYS) -> int:
        issues = self.validate(keys)
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
        """Restores all that `earlier` (this workflow as it stood at to_version) held: its
        graph, labels, configs, name and description."""
        if earlier.id != self.id or earlier.version != to_version or to_version >= self.version:
            raise InvalidCommand(f"version {to_version} is not an earlier version of this workflow")
        self._rolled_back(
            to_version,
            [n.to_dict() for n in earlier.nodes.values()],
            [e.to_dict() for e in earlier.edges.values()],
            earlier.name,
            earlier.description,
            actor,
        )

    class WorkflowRolledBack(Aggregate.Event):
        to_version: int
        nodes: list[dict[str, Any]]
        edges: list[dict[str, Any]]
        name: str | None
        description: str | None
        actor: str

        # Version 2 restores the name and description too; a version 1 rollback left them.
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["name"] = state["description"] = None

    @event(WorkflowRolledBack)
    def _rolled_back(
        self,
        to_version: int,
        nodes: list[dict[str, Any]],
        edges: list[dict[str, Any]],
        name: str | None,
        description: str | None,
        actor: str,
    ) -> None:
        self._record(
            "WorkflowRolledBack",
            actor,
            to_version=to_version,
            nodes=nodes,
            edges=edges,
            name=name,
            description=description,
        )

    # ---------------------------------------------------------------- undo and redo

    def undo_step(self, actor: str) -> Step | None:
        """The actor's latest change not taken back yet, if any."""
        return undo.top(self.undo_steps, actor)

    def redo_step(self, actor: str) -> Step | None:
        """The actor's latest change taken back, if they have made none since."""
        return undo.top(self.redo_steps, actor)

    def undo(self, actor: str) -> None:
        """Takes back the actor's latest change, as it applies to the workflow now: what
        others changed since, elsewhere, stays."""
        step = self.undo_step(actor)
        if step is None:
            raise InvalidCommand("there is no change of yours to undo")
        self._undone(step.version, relative(step.delta.reversed(), self._graph()).to_dict(), actor)

    @event("ChangeUndone")
    def _undone(self, change: int, delta: dict[str, Any], actor: str) -> None:
        self._apply(Delta.from_dict(delta), actor)
        undo.move(self.undo_steps, self.redo_steps, actor, change)

    def redo(self, actor: str) -> None:
        """Makes the actor's latest undone change again, as it applies to the workflow now."""
        step = self.redo_step(actor)
        if step is None:
            raise InvalidCommand("there is no undone change of yours to redo")
        self._redone(step.version, relative(step.delta, self._graph()).to_dict(), actor)

    @event("ChangeRedone")
    def _redone(self, change: int, delta: dict[str, Any], actor: str) -> None:
        self._apply(Delta.from_dict(delta), actor)
        undo.move(self.redo_steps, self.undo_steps, actor, change)

    def delta_of(self, event: Aggregate.Event) -> Delta:
        """What `event` changes in this workflow as it stands just before the event (what
        history describes). Publishing, creating and deleting change no graph."""
        return of_event(self._graph(), type(event).__name__, event.__dict__)

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

    def _graph(self) -> Graph:
        """The workflow's own dicts (not copies): applying a delta to it changes this workflow."""
        return Graph(self.nodes, self.edges, self.name, self.description)

    def _apply(self, delta: Delta, actor: str) -> None:
        graph = self._graph()
        apply(delta, graph)
        self.name, self.description = graph.name, graph.description
        self.last_actor = actor

    def _record(self, event_type: str, actor: str, /, **data: Any) -> None:
        """Every edit's mutator: what its event changes is applied, and put on its actor's
        undo stack (a new change of theirs ends what they could redo)."""
        delta = of_event(self._graph(), event_type, data)
        self._apply(delta, actor)
        if "nodes" in data:  # a whole graph (import, rollback): in the order it gives
            self.nodes = {n["id"]: self.nodes[n["id"]] for n in data["nodes"]}
            self.edges = {e["id"]: self.edges[e["id"]] for e in data["edges"]}
        if delta.empty:
            return  # nothing to take back
        about = {"to_version": data["to_version"]} if "to_version" in data else {}
        undo.push(self.undo_steps, actor, Step(self.version + 1, event_type, delta, about))
        self.redo_steps.pop(actor, None)


def _position(position: Position) -> dict[str, float]:
    x, y = float(position.x), float(position.y)
    if not (abs(x) < 1e7 and abs(y) < 1e7):  # also refuses NaN and infinities
        raise InvalidCommand("a position must be finite and within ±10,000,000")
    return {"x": x, "y": y}


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
