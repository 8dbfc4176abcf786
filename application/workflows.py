"""Workflow use cases: load, call the aggregate, save; and the audit reads of the log."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from application.eventstore import EventStore, change_with_retry
from application.ports import SecretStore
from application.views import UndoState, WorkflowReadModel, WorkflowView
from domain.components import (
    COMPONENTS,
    SECRET_FIELDS,
    ComponentSpec,
    is_secret_reference,
    parse_kind,
)
from domain.errors import Conflict, InvalidCommand, NotFound, ValidationIssue
from domain.graph import Edge, Node, Position, validation_issues
from domain.key_policy import NO_SERVER_KEYS, KeyPolicy
from domain.workflow import Workflow, merge_config


class WorkflowService:
    def __init__(
        self,
        store: EventStore,
        secrets: SecretStore,
        read_model: WorkflowReadModel,
        server_keys: KeyPolicy = NO_SERVER_KEYS,
        caught_up: Callable[[], object] = lambda: None,
    ) -> None:
        """`caught_up` waits (briefly) until the read model holds every event stored so far:
        lists come from it, and must show a change the client has just made."""
        self.store, self.secrets, self.read_model = store, secrets, read_model
        self.server_keys, self.caught_up = server_keys, caught_up

    # ---------------------------------------------------------------- commands

    def create(self, name: str, description: str, actor: str) -> WorkflowView:
        wf = Workflow.create(name, description, actor)
        self.store.save(wf)
        return WorkflowView.of(wf)

    def rename(self, wid: UUID, name: str, actor: str, expected: int | None) -> WorkflowView:
        return self._change(wid, expected, lambda wf: wf.rename(name, actor))

    def describe(self, wid: UUID, text: str, actor: str, expected: int | None) -> WorkflowView:
        return self._change(wid, expected, lambda wf: wf.describe(text, actor))

    def add_node(
        self,
        wid: UUID,
        node_id: str,
        kind: str,
        position: Position,
        actor: str,
        config: Mapping[str, Any] | None = None,
        label: str | None = None,
        expected: int | None = None,
    ) -> WorkflowView:
        _refuse_moved_keys(config or {}, None)
        sealed = self._seal(config or {})
        return self._change(
            wid, expected, lambda wf: wf.add_node(node_id, kind, position, actor, label, sealed)
        )

    def move_node(
        self, wid: UUID, node_id: str, position: Position, actor: str, expected: int | None
    ) -> WorkflowView:
        return self._change(wid, expected, lambda wf: wf.move_node(node_id, position, actor))

    def relabel_node(
        self, wid: UUID, node_id: str, label: str, actor: str, expected: int | None
    ) -> WorkflowView:
        return self._change(wid, expected, lambda wf: wf.relabel_node(node_id, label, actor))

    def configure_node(
        self, wid: UUID, node_id: str, patch: Mapping[str, Any], actor: str, expected: int | None
    ) -> WorkflowView:
        sealed = self._seal(patch)

        def configure(wf: Workflow) -> None:
            _refuse_moved_keys(patch, wf.nodes.get(node_id))
            wf.configure_node(node_id, sealed, actor)

        return self._change(wid, expected, configure)

    def remove_node(
        self, wid: UUID, node_id: str, actor: str, expected: int | None
    ) -> WorkflowView:
        return self._change(wid, expected, lambda wf: wf.remove_node(node_id, actor))

    def connect(
        self,
        wid: UUID,
        edge_id: str,
        source: str,
        target: str,
        actor: str,
        source_handle: str | None = None,
        target_handle: str | None = None,
        expected: int | None = None,
    ) -> WorkflowView:
        return self._change(
            wid,
            expected,
            lambda wf: wf.connect(edge_id, source, target, actor, source_handle, target_handle),
        )

    def disconnect(self, wid: UUID, edge_id: str, actor: str, expected: int | None) -> WorkflowView:
        return self._change(wid, expected, lambda wf: wf.disconnect(edge_id, actor))

    def import_graph(
        self,
        wid: UUID,
        nodes: list[Mapping[str, Any]],
        edges: list[Mapping[str, Any]],
        actor: str,
        expected: int | None = None,
    ) -> WorkflowView:
        if not isinstance(nodes, list) or not isinstance(edges, list):
            raise InvalidCommand("nodes and edges must be lists")
        parsed_nodes = [self._imported_node(n, i) for i, n in enumerate(nodes, start=1)]
        parsed_edges = [_imported_edge(e, i) for i, e in enumerate(edges, start=1)]
        return self._change(
            wid, expected, lambda wf: wf.import_graph(parsed_nodes, parsed_edges, actor)
        )

    def publish(self, wid: UUID, note: str, actor: str) -> tuple[WorkflowView, int]:
        numbers: list[int] = []
        view = self._change(
            wid, None, lambda wf: numbers.append(wf.publish(note, actor, self.server_keys))
        )
        return view, numbers[-1]

    def roll_back(self, wid: UUID, to_version: int, actor: str) -> WorkflowView:
        def roll(wf: Workflow) -> None:
            if not 1 <= to_version < wf.version:
                raise InvalidCommand(
                    f"can roll back only to a version from 1 to {wf.version - 1}, not {to_version}"
                )
            wf.roll_back(to_version, self._at(wid, to_version), actor)

        return self._change(wid, None, roll)

    def undo(self, wid: UUID, actor: str, expected: int | None) -> WorkflowView:
        return self._change(wid, expected, lambda wf: wf.undo(actor))

    def redo(self, wid: UUID, actor: str, expected: int | None) -> WorkflowView:
        return self._change(wid, expected, lambda wf: wf.redo(actor))

    def delete(self, wid: UUID, actor: str) -> None:
        self._change(wid, None, lambda wf: wf.delete(actor))

    # ---------------------------------------------------------------- reads

    def validate(self, view: WorkflowView) -> list[ValidationIssue]:
        """What stops this graph from being published, given the keys this server holds."""
        return validation_issues(
            {n.id: n for n in view.nodes}, {e.id: e for e in view.edges}, self.server_keys
        )

    def components(self) -> list[ComponentSpec]:
        return list(COMPONENTS.values())

    def list_all(self) -> list[WorkflowView]:
        self.caught_up()
        return self.read_model.list_workflows()

    def get(self, wid: UUID, version: int | None = None) -> WorkflowView | None:
        """The workflow now (read from the log, so a client reads its own writes) or at a version."""
        try:
            wf: Workflow = self.store.repository.get(wid)
        except AggregateNotFoundError:
            return None
        if version is None:
            return None if wf.deleted else WorkflowView.of(wf)
        if not 1 <= version <= wf.version:
            raise NotFound(f"the workflow has versions 1 to {wf.version}, not {version}")
        return WorkflowView.of(self._at(wid, version))

    def undo_state(self, wid: UUID, actor: str) -> UndoState:
        """What `actor` can undo and redo in the workflow now."""
        return UndoState.of(self._load(wid, allow_deleted=True), actor)

    def load(self, wid: UUID) -> Workflow:
        """The live aggregate, for other services (chat pins a published version from it)."""
        return self._load(wid)

    # ---------------------------------------------------------------- mechanics

    def _load(self, wid: UUID, *, allow_deleted: bool = False) -> Workflow:
        try:
            wf: Workflow = self.store.repository.get(wid)
        except AggregateNotFoundError:
            raise NotFound(f"there is no workflow {wid}") from None
        if not isinstance(wf, Workflow) or (wf.deleted and not allow_deleted):
            raise NotFound(f"there is no workflow {wid}")
        return wf

    def _at(self, wid: UUID, version: int) -> Workflow:
        wf: Workflow = self.store.repository.get(wid, version=version)
        assert isinstance(wf, Workflow)
        return wf

    def _change(
        self, wid: UUID, expected: int | None, command: Callable[[Workflow], object]
    ) -> WorkflowView:
        """Applies a command to the freshest state; on a version clash either refuses (the
        caller named the version it saw) or re-applies, so concurrent editors lose nothing."""

        def load() -> Workflow:
            wf = self._load(wid)
            if expected is not None and wf.version != expected:
                raise Conflict(expected, wf.version)
            return wf

        def clash() -> None:
            if expected is not None:
                raise Conflict(expected, self._load(wid).version)

        def too_busy() -> Exception:
            current = self._load(wid).version
            return Conflict(current, current)  # still moving: the caller reloads and retries

        wf = change_with_retry(self.store, load, command, on_clash=clash, too_busy=too_busy)
        return WorkflowView.of(wf)

    def _seal(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Takes API keys out of a config: stored encrypted, replaced by a reference and a hint."""
        if not isinstance(config, Mapping):
            raise InvalidCommand("a config must be a JSON object")
        sealed = dict(config)
        for name in SECRET_FIELDS:
            value = sealed.get(name)
            if isinstance(value, str):
                stored = self.secrets.put(value.strip()) if value.strip() else None
                sealed[name] = {"secretRef": stored.ref, "hint": stored.hint} if stored else None
            elif (
                isinstance(value, dict)
                and is_secret_reference(value)
                and not self.secrets.exists(value["secretRef"])
            ):
                raise InvalidCommand(f"{name}: unknown secret reference")
        return sealed

    def _imported_node(self, data: object, place: int) -> Node:
        """A node of an imported graph; `id`, `label`, `position` and `config` may be left out."""
        what = f"imported node {place}"
        if not isinstance(data, Mapping):
            raise InvalidCommand(f"{what} must be an object")
        kind = parse_kind(_string(data, "kind", what))
        spec = COMPONENTS[kind]
        config = data.get("config")
        if config is not None and not isinstance(config, Mapping):
            raise InvalidCommand(f"{what}: config must be an object")
        _refuse_moved_keys(config or {}, None)
        position = data.get("position")
        if position is None:
            position = {"x": 260.0 * (place - 1), "y": 0.0}  # side by side, in the given order
        if not isinstance(position, Mapping) or not all(
            _is_number(position.get(axis)) for axis in ("x", "y")
        ):
            raise InvalidCommand(f"{what}: position must be {{x, y}} with numbers")
        return Node(
            id=_string(data, "id", what, optional=True) or _new_id(kind.value.lower()),
            kind=kind,
            label=_string(data, "label", what, optional=True) or spec.title,
            position=Position(float(position["x"]), float(position["y"])),
            config=merge_config(spec.defaults(), self._seal(config or {})),
        )


def _refuse_moved_keys(config: Mapping[str, Any], node: Node | None) -> None:
    """A stored key stays with the node, and so the address, it was entered for: a command
    may give a key's reference back only as that node holds it, never move it elsewhere."""
    for name in SECRET_FIELDS:
        value = config.get(name)
        if is_secret_reference(value) and (node is None or node.config.get(name) != value):
            raise InvalidCommand(
                f"{name}: a stored key stays with the node it was entered for; enter the key"
            )


def _imported_edge(data: object, place: int) -> Edge:
    """An edge of an imported graph; `id` and the handles may be left out."""
    what = f"imported edge {place}"
    if not isinstance(data, Mapping):
        raise InvalidCommand(f"{what} must be an object")

    def handle(snake: str, camel: str) -> str:
        value = data.get(snake) if data.get(snake) is not None else data.get(camel)
        if value is not None and not isinstance(value, str):
            raise InvalidCommand(f"{what}: {camel} must be a string")
        return value or ""

    return Edge(
        _string(data, "id", what, optional=True) or _new_id("edge"),
        _string(data, "source", what),
        _string(data, "target", what),
        handle("source_handle", "sourceHandle"),
        handle("target_handle", "targetHandle"),
    )


def _string(data: Mapping[str, Any], key: str, what: str, *, optional: bool = False) -> str:
    value = data.get(key)
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise InvalidCommand(
            f"{what}: {key} must be a string" + ("" if optional else ", and given")
        )
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
