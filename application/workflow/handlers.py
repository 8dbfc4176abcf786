"""Workflow use cases: each command loads the workflow, calls the aggregate and saves; and
the reads of a workflow, from the log or from the read table."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from application.eventlog.log import EventLog, change_with_retry
from application.keys import refuse_moved_keys
from application.ports import SecretStore
from application.workflow import commands as c
from application.workflow.imports import imported_edge, imported_node, new_id
from application.workflow.views import PublishedInfo, UndoState, WorkflowReadModel, WorkflowView
from domain.components import (
    COMPONENTS,
    SECRET_FIELDS,
    ComponentSpec,
    is_secret_reference,
)
from domain.errors import Conflict, InvalidCommand, NotFound, ValidationIssue
from domain.graph import Edge, Node, validation_issues
from domain.key_policy import NO_SERVER_KEYS, KeyPolicy
from domain.workflow import Workflow

KNOWN_WORKSPACES = 10_000  # stacks whose workspace is remembered


class WorkflowService:
    def __init__(
        self,
        store: EventLog,
        secrets: SecretStore,
        read_model: WorkflowReadModel,
        server_keys: KeyPolicy = NO_SERVER_KEYS,
        caught_up: Callable[[], object] = lambda: None,
    ) -> None:
        """`caught_up` waits (briefly) until the read model holds every event stored so far:
        lists come from it, and must show a change the client has just made."""
        self.store, self.secrets, self.read_model = store, secrets, read_model
        self.server_keys, self.caught_up = server_keys, caught_up
        self._workspaces: dict[UUID, UUID] = {}  # stack → its workspace, once looked up

    # ---------------------------------------------------------------- commands

    def create(self, cmd: c.CreateWorkflow) -> WorkflowView:
        wf = Workflow.create(cmd.name, cmd.description, cmd.actor, cmd.workspace_id)
        self.store.save(wf)
        return WorkflowView.of(wf)

    def create_with_graph(self, cmd: c.CreateWithGraph) -> WorkflowView:
        nodes, edges = self._imported(cmd.nodes, cmd.edges)
        wf = Workflow.create(cmd.name, cmd.description, cmd.actor, cmd.workspace_id)
        wf.import_graph(nodes, edges, cmd.actor)
        self.store.save(wf)
        return WorkflowView.of(wf)

    def rename(self, cmd: c.RenameWorkflow) -> WorkflowView:
        return self._change(cmd, lambda wf: wf.rename(cmd.name, cmd.actor))

    def describe(self, cmd: c.DescribeWorkflow) -> WorkflowView:
        return self._change(cmd, lambda wf: wf.describe(cmd.description, cmd.actor))

    def add_node(self, cmd: c.AddNode) -> WorkflowView:
        refuse_moved_keys(cmd.config, None)
        sealed = self._seal(cmd.config)
        node_id = cmd.node_id or new_id(str(cmd.kind).lower())
        return self._change(
            cmd,
            lambda wf: wf.add_node(
                node_id, cmd.kind, cmd.position, cmd.actor, label=cmd.label, config=sealed
            ),
        )

    def move_node(self, cmd: c.MoveNode) -> WorkflowView:
        return self._change(cmd, lambda wf: wf.move_node(cmd.node_id, cmd.position, cmd.actor))

    def relabel_node(self, cmd: c.RelabelNode) -> WorkflowView:
        return self._change(cmd, lambda wf: wf.relabel_node(cmd.node_id, cmd.label, cmd.actor))

    def configure_node(self, cmd: c.ConfigureNode) -> WorkflowView:
        sealed = self._seal(cmd.patch)

        def configure(wf: Workflow) -> None:
            refuse_moved_keys(cmd.patch, wf.nodes.get(cmd.node_id))
            wf.configure_node(cmd.node_id, sealed, cmd.actor)

        return self._change(cmd, configure)

    def remove_node(self, cmd: c.RemoveNode) -> WorkflowView:
        return self._change(cmd, lambda wf: wf.remove_node(cmd.node_id, cmd.actor))

    def connect(self, cmd: c.ConnectNodes) -> WorkflowView:
        edge_id = cmd.edge_id or new_id("edge")
        return self._change(
            cmd,
            lambda wf: wf.connect(
                edge_id, cmd.source, cmd.target, cmd.actor, cmd.source_handle, cmd.target_handle
            ),
        )

    def disconnect(self, cmd: c.DisconnectNodes) -> WorkflowView:
        return self._change(cmd, lambda wf: wf.disconnect(cmd.edge_id, cmd.actor))

    def import_graph(self, cmd: c.ImportGraph) -> WorkflowView:
        nodes, edges = self._imported(cmd.nodes, cmd.edges)
        return self._change(cmd, lambda wf: wf.import_graph(nodes, edges, cmd.actor))

    def _imported(self, nodes: object, edges: object) -> tuple[list[Node], list[Edge]]:
        if not isinstance(nodes, list) or not isinstance(edges, list):
            raise InvalidCommand("nodes and edges must be lists")
        return (
            [imported_node(n, i, self._seal) for i, n in enumerate(nodes, start=1)],
            [imported_edge(e, i) for i, e in enumerate(edges, start=1)],
        )

    def publish(self, cmd: c.Publish) -> PublishedInfo:
        """Pins the graph as the next published version, and returns that version."""
        view = self._change(cmd, lambda wf: wf.publish(cmd.note, cmd.actor, self.server_keys))
        return view.published[-1]  # a publication always comes last

    def roll_back(self, cmd: c.RollBack) -> WorkflowView:
        def roll(wf: Workflow) -> None:
            if not 1 <= cmd.to_version < wf.version:
                raise InvalidCommand(
                    f"can roll back only to a version from 1 to {wf.version - 1}, "
                    f"not {cmd.to_version}"
                )
            wf.roll_back(cmd.to_version, self._at(cmd.workflow_id, cmd.to_version), cmd.actor)

        return self._change(cmd, roll)

    def undo(self, cmd: c.Undo) -> WorkflowView:
        return self._change(cmd, lambda wf: wf.undo(cmd.actor))

    def redo(self, cmd: c.Redo) -> WorkflowView:
        return self._change(cmd, lambda wf: wf.redo(cmd.actor))

    def delete(self, cmd: c.DeleteWorkflow) -> None:
        self._change(cmd, lambda wf: wf.delete(cmd.actor))

    # ---------------------------------------------------------------- reads

    def validate(self, view: WorkflowView) -> list[ValidationIssue]:
        """What stops this graph from being published, given the keys this server holds."""
        return validation_issues(
            {n.id: n for n in view.nodes}, {e.id: e for e in view.edges}, self.server_keys
        )

    def components(self) -> list[ComponentSpec]:
        return list(COMPONENTS.values())

    def list_all(self, workspace_ids: Collection[UUID] | None = None) -> list[WorkflowView]:
        """Every workflow, or those of `workspace_ids`."""
        self.caught_up()
        return self.read_model.list_workflows(workspace_ids)

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

    def workspace_of(self, wid: UUID) -> UUID:
        """The workspace a workflow belongs to (a deleted one too); NotFound for none. A
        stack never changes workspace, so once known it is not looked up again."""
        found = self._workspaces.get(wid)
        if found is None:
            found = self._load(wid, allow_deleted=True).workspace_id
            if len(self._workspaces) >= KNOWN_WORKSPACES:
                self._workspaces.clear()
            self._workspaces[wid] = found
        return found

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

    def _change(self, cmd: c.OnWorkflow, change: Callable[[Workflow], object]) -> WorkflowView:
        """Applies `change` (the command, on the aggregate) to the freshest state; on a version clash either refuses (the
        caller named the version it saw) or re-applies, so concurrent editors lose nothing."""
        wid = cmd.workflow_id
        expected = cmd.expected if isinstance(cmd, c.Edit) else None

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

        wf = change_with_retry(self.store, load, change, on_clash=clash, too_busy=too_busy)
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
