"""What a person can ask of a workflow, one small frozen dataclass per use case.

Every command names its actor; an edit may name the version the client saw (`expected`):
the change is then refused with CONFLICT if the workflow moved on, instead of being applied
to the latest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from uuid import UUID

from domain.graph import Position


@dataclass(frozen=True, kw_only=True)
class Command:
    actor: str


@dataclass(frozen=True, kw_only=True)
class CreateWorkflow(Command):
    name: str
    description: str = ""
    workspace_id: UUID | None = None  # None: the default workspace


@dataclass(frozen=True, kw_only=True)
class CreateWithGraph(CreateWorkflow):
    """A new stack with its graph at once (a template, an imported file): one save, so a
    graph that is refused leaves no empty stack behind."""

    nodes: Sequence[Any]
    edges: Sequence[Any]


@dataclass(frozen=True, kw_only=True)
class CreateFromTemplate(Command):
    template_id: str
    name: str | None = None  # None: the template's title
    workspace_id: UUID | None = None


@dataclass(frozen=True, kw_only=True)
class ImportStack(Command):
    """A stack file (JSON) or archive (zip with its PDFs) made into a new stack."""

    stream: BinaryIO
    name: str | None = None  # None: the name the file holds
    workspace_id: UUID | None = None


@dataclass(frozen=True, kw_only=True)
class OnWorkflow(Command):
    workflow_id: UUID


@dataclass(frozen=True, kw_only=True)
class Edit(OnWorkflow):
    expected: int | None = None  # the version the client saw; None: the latest


@dataclass(frozen=True, kw_only=True)
class RenameWorkflow(Edit):
    name: str


@dataclass(frozen=True, kw_only=True)
class DescribeWorkflow(Edit):
    description: str


@dataclass(frozen=True, kw_only=True)
class DeleteWorkflow(OnWorkflow):
    pass


@dataclass(frozen=True, kw_only=True)
class AddNode(Edit):
    kind: str
    position: Position
    node_id: str | None = None  # chosen by the client, or made from the kind
    label: str | None = None  # None: the component's title
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class MoveNode(Edit):
    node_id: str
    position: Position


@dataclass(frozen=True, kw_only=True)
class RelabelNode(Edit):
    node_id: str
    label: str


@dataclass(frozen=True, kw_only=True)
class ConfigureNode(Edit):
    """Merges `patch` into the node's config: keys given replace, None removes a key."""

    node_id: str
    patch: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class RemoveNode(Edit):
    node_id: str


@dataclass(frozen=True, kw_only=True)
class ConnectNodes(Edit):
    source: str
    target: str
    edge_id: str | None = None  # chosen by the client, or made up
    source_handle: str | None = None
    target_handle: str | None = None


@dataclass(frozen=True, kw_only=True)
class DisconnectNodes(Edit):
    edge_id: str


@dataclass(frozen=True, kw_only=True)
class ImportGraph(Edit):
    """Replaces the graph; nodes and edges as JSON objects (see application.workflow.imports)."""

    nodes: Sequence[Any]
    edges: Sequence[Any]


@dataclass(frozen=True, kw_only=True)
class Publish(OnWorkflow):
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class RollBack(OnWorkflow):
    to_version: int


@dataclass(frozen=True, kw_only=True)
class Undo(Edit):
    pass


@dataclass(frozen=True, kw_only=True)
class Redo(Edit):
    pass


@dataclass(frozen=True, kw_only=True)
class ListModels(OnWorkflow):
    """The models of an LLM node's provider, from the server at `base_url`."""

    provider: str
    base_url: str | None = None
