"""Nodes, edges and the rules of a graph that need no aggregate state."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.components import COMPONENTS, REQUIRED_INPUTS, NodeKind
from domain.errors import InvalidCommand, ValidationIssue
from domain.key_policy import KeyPolicy
from domain.node_settings import KnowledgeBaseSettings, LlmSettings, parse_settings


@dataclass(frozen=True)
class Position:
    x: float
    y: float

    def __post_init__(self) -> None:
        _coerce(self, x=float(self.x), y=float(self.y))

    @classmethod
    def of(cls, value: Position | Mapping[str, Any]) -> Position:
        return value if isinstance(value, Position) else cls(value["x"], value["y"])


@dataclass(frozen=True)
class Node:
    id: str
    kind: NodeKind
    label: str
    position: Position
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Whatever built the node (a command, a stored event, a snapshot's decoder) gets the
        # real types: a kind given as its string equals the enum, so the drift would go
        # unnoticed until something asks for `kind.value`.
        _coerce(
            self,
            kind=NodeKind(self.kind),
            position=Position.of(self.position),
            config=self.config if type(self.config) is dict else dict(self.config),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "label": self.label,
            "position": {"x": self.position.x, "y": self.position.y},
            "config": dict(self.config),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Node:
        return cls(
            id=data["id"],
            kind=data["kind"],
            label=data["label"],
            position=data["position"],
            config=dict(data.get("config") or {}),
        )


@dataclass(frozen=True)
class Edge:
    id: str
    source: str
    target: str
    source_handle: str
    target_handle: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "target": self.target,
            "source_handle": self.source_handle,
            "target_handle": self.target_handle,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Edge:
        return cls(
            data["id"], data["source"], data["target"], data["source_handle"], data["target_handle"]
        )


def _coerce(value_object: object, **fields: Any) -> None:
    """Sets fields of a frozen dataclass from its __post_init__."""
    for name, field_value in fields.items():
        object.__setattr__(value_object, name, field_value)


def resolve_ports(
    source: Node, target: Node, source_handle: str | None, target_handle: str | None
) -> tuple[str, str]:
    """The one output→input port pair joining source to target, given the handles named
    (None or "" leaves a handle to be inferred)."""
    source_handle, target_handle = source_handle or None, target_handle or None
    outputs, inputs = COMPONENTS[source.kind].outputs, COMPONENTS[target.kind].inputs
    if source_handle is not None and source_handle not in outputs:
        raise InvalidCommand(
            f"{source.label} has no output port {source_handle!r} "
            f"(outputs: {', '.join(outputs) or 'none'})"
        )
    if target_handle is not None and target_handle not in inputs:
        raise InvalidCommand(
            f"{target.label} has no input port {target_handle!r} "
            f"(inputs: {', '.join(inputs) or 'none'})"
        )
    pairs = [
        (out, inp)
        for out in outputs
        for inp in inputs
        if out == inp  # a port accepts only its own type
        and source_handle in (None, out)
        and target_handle in (None, inp)
    ]
    if not pairs:
        raise InvalidCommand(
            f"{source.label} cannot feed {target.label}: it outputs "
            f"{', '.join(outputs) or 'nothing'} and {target.label} accepts "
            f"{', '.join(inputs) or 'nothing'}"
        )
    if len(pairs) > 1:
        raise InvalidCommand(
            f"{source.label} can feed {target.label} in several ways: name the handles"
        )
    return pairs[0]


def find_cycle(node_ids: Iterable[str], edges: Iterable[Edge]) -> list[str]:
    """The ids of nodes on a cycle or behind one, or [] for an acyclic graph (Kahn)."""
    ids = list(node_ids)
    indegree = dict.fromkeys(ids, 0)
    successors: dict[str, list[str]] = defaultdict(list)
    for e in edges:
        successors[e.source].append(e.target)
        indegree[e.target] += 1
    queue = deque(n for n in ids if indegree[n] == 0)
    seen = set()
    while queue:
        n = queue.popleft()
        seen.add(n)
        for m in successors[n]:
            indegree[m] -= 1
            if indegree[m] == 0:
                queue.append(m)
    return [n for n in ids if n not in seen]


def topological_order(nodes: Mapping[str, Node], edges: Iterable[Edge]) -> list[str]:
    """Node ids so that every edge points forward; ties keep the nodes' own order."""
    edge_list = list(edges)
    if find_cycle(nodes, edge_list):
        raise InvalidCommand("the graph has a cycle")
    indegree = dict.fromkeys(nodes, 0)
    for e in edge_list:
        indegree[e.target] += 1
    order, ready = [], deque(n for n in nodes if indegree[n] == 0)
    while ready:
        n = ready.popleft()
        order.append(n)
        for e in edge_list:
            if e.source == n:
                indegree[e.target] -= 1
                if indegree[e.target] == 0:
                    ready.append(e.target)
    return order


def _reachable(start: Iterable[str], step: Mapping[str, list[str]]) -> set[str]:
    seen, stack = set(), list(start)
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(step.get(n, ()))
    return seen


def validation_issues(
    nodes: Mapping[str, Node], edges: Mapping[str, Edge], keys: KeyPolicy
) -> list[ValidationIssue]:
    """What stops a publish. `keys` says which keys the server holds and where they may go."""
    if not nodes:
        return [ValidationIssue("EMPTY", "Add a User Query, an LLM Engine and an Output.")]
    issues = _count_issues(nodes)
    cycle = find_cycle(nodes, edges.values())
    issues += [
        ValidationIssue("CYCLE", f"{nodes[n].label} is on a cycle or fed by one.", node_id=n)
        for n in cycle
    ]
    issues += _flow_issues(nodes, edges)
    for node in nodes.values():
        issues += _config_issues(node, keys)
    return issues


def _count_issues(nodes: Mapping[str, Node]) -> list[ValidationIssue]:
    issues = []
    for kind, title in ((NodeKind.USER_QUERY, "a User Query"), (NodeKind.OUTPUT, "an Output")):
        of_kind = [n for n in nodes.values() if n.kind == kind]
        if not of_kind:
            issues.append(ValidationIssue(f"MISSING_{kind.value}", f"Add {title} node."))
        issues += [
            ValidationIssue(
                f"EXTRA_{kind.value}",
                f"A workflow has exactly one {title.split(' ', 1)[1]}: remove one.",
                n.id,
            )
            for n in of_kind[1:]
        ]
    return issues


def _flow_issues(nodes: Mapping[str, Node], edges: Mapping[str, Edge]) -> list[ValidationIssue]:
    forward: dict[str, list[str]] = defaultdict(list)
    backward: dict[str, list[str]] = defaultdict(list)
    connected_inputs: dict[str, set[str]] = defaultdict(set)
    for e in edges.values():
        forward[e.source].append(e.target)
        backward[e.target].append(e.source)
        connected_inputs[e.target].add(e.target_handle)
    starts = [n.id for n in nodes.values() if n.kind == NodeKind.USER_QUERY]
    ends = [n.id for n in nodes.values() if n.kind == NodeKind.OUTPUT]
    from_start, to_end = _reachable(starts, forward), _reachable(ends, backward)
    issues = []
    for node in nodes.values():
        missing = [p for p in REQUIRED_INPUTS[node.kind] if p not in connected_inputs[node.id]]
        if missing:
            issues.append(
                ValidationIssue(
                    "MISSING_INPUT",
                    f"{node.label} needs its {', '.join(missing)} input connected.",
                    node.id,
                )
            )
        elif starts and node.id not in from_start:
            issues.append(
                ValidationIssue(
                    "UNREACHABLE", f"{node.label} is not reached from the User Query.", node.id
                )
            )
        if ends and node.id not in to_end:
            issues.append(
                ValidationIssue("DEAD_END", f"{node.label} does not lead to the Output.", node.id)
            )
    return issues


def _config_issues(node: Node, keys: KeyPolicy) -> list[ValidationIssue]:
    try:
        settings = parse_settings(node.kind, node.config)
    except InvalidCommand as e:  # a config stored under older rules
        return [ValidationIssue("INVALID_CONFIG", f"{node.label}: {e}", node.id)]
    issues, calls = [], []
    if isinstance(settings, LlmSettings):
        if settings.access is not None:
            if not settings.model:
                issues.append(
                    ValidationIssue("MISSING_MODEL", f"{node.label}: choose a model.", node.id)
                )
            calls.append(settings.access)
        if settings.web_search is not None:
            calls.append(settings.web_search)
    elif isinstance(settings, KnowledgeBaseSettings) and settings.access is not None:
        calls.append(settings.access)
    for access in calls:
        problem = keys.key_problem(access)
        if problem:
            issues.append(ValidationIssue("MISSING_API_KEY", f"{node.label}: {problem}.", node.id))
    return issues
