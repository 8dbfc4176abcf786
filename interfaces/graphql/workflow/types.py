"""The GraphQL types of a workflow, mirroring the contract (../shared/contract/schema.graphql),
each mapped from its application view or domain value field by field."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from application.ports import ModelInfo
from application.workflow.views import PublishedInfo, UndoState, WorkflowView
from domain import components, graph
from domain.errors import ValidationIssue as DomainIssue
from interfaces.graphql.component_forms import form_schema
from interfaces.graphql.context import Info
from interfaces.graphql.document.types import Document
from interfaces.graphql.resolve import read

NodeKind = strawberry.enum(components.NodeKind, name="NodeKind")


@strawberry.type
class Position:
    x: float
    y: float


@strawberry.input
class PositionInput:
    x: float
    y: float


@strawberry.type
class Node:
    id: str
    kind: NodeKind
    label: str
    position: Position
    config: JSON = strawberry.field(
        description="Secrets never appear here: an API key shows only as a reference and a "
        "hint such as '…abcd'."
    )

    @classmethod
    def of(cls, n: graph.Node) -> Node:
        return cls(
            id=n.id,
            kind=n.kind,
            label=n.label,
            position=Position(x=n.position.x, y=n.position.y),
            config=n.config,
        )


@strawberry.type
class Edge:
    id: str
    source: str
    target: str
    source_handle: str | None
    target_handle: str | None

    @classmethod
    def of(cls, e: graph.Edge) -> Edge:
        return cls(
            id=e.id,
            source=e.source,
            target=e.target,
            source_handle=e.source_handle,
            target_handle=e.target_handle,
        )


@strawberry.type
class ValidationIssue:
    code: str
    message: str
    node_id: str | None
    edge_id: str | None

    @classmethod
    def of(cls, i: DomainIssue) -> ValidationIssue:
        return cls(code=i.code, message=i.message, node_id=i.node_id, edge_id=i.edge_id)


@strawberry.type
class Validation:
    valid: bool
    issues: list[ValidationIssue]


@strawberry.type
class PublishedVersion:
    number: int = strawberry.field(description="1, 2, 3 … in the order of publication.")
    workflow_version: int = strawberry.field(
        description="The workflow's version (its event count) at publication."
    )
    published_at: datetime
    note: str

    @classmethod
    def of(cls, p: PublishedInfo) -> PublishedVersion:
        return cls(
            number=p.number,
            workflow_version=p.workflow_version,
            published_at=p.published_at,
            note=p.note,
        )


@strawberry.type(description="One person's undo and redo, named as their history names them.")
class Undo:
    can_undo: bool
    can_redo: bool
    undo_label: str | None = strawberry.field(
        description="What undo takes back, e.g. Moved Output."
    )
    redo_label: str | None = strawberry.field(description="What redo does again.")

    @classmethod
    def of(cls, u: UndoState) -> Undo:
        return cls(
            can_undo=u.can_undo,
            can_redo=u.can_redo,
            undo_label=u.undo_label,
            redo_label=u.redo_label,
        )


@strawberry.type
class Workflow:
    view: strawberry.Private[WorkflowView]
    id: UUID
    name: str
    description: str
    version: int = strawberry.field(
        description="The number of events in the workflow's history; every change adds one."
    )
    created_at: datetime
    updated_at: datetime

    @strawberry.field
    def nodes(self) -> list[Node]:
        return [Node.of(n) for n in self.view.nodes]

    @strawberry.field
    def edges(self) -> list[Edge]:
        return [Edge.of(e) for e in self.view.edges]

    @strawberry.field
    def validation(self, info: Info) -> Validation:
        issues = info.context.services.workflows.validate(self.view)
        return Validation(valid=not issues, issues=[ValidationIssue.of(i) for i in issues])

    @strawberry.field
    def published_versions(self) -> list[PublishedVersion]:
        return [PublishedVersion.of(p) for p in self.view.published]

    @strawberry.field(description="The number of the latest published version, if any.")
    def latest_published_version(self) -> int | None:
        return self.view.published[-1].number if self.view.published else None

    @strawberry.field(
        description="Changes a Build would publish: each node or connection added or removed, "
        "each setting or node name changed since the latest published version (moves, the "
        "stack's name and description do not count). Never built: every node and connection."
    )
    def unpublished_changes(self) -> int:
        return self.view.unpublished_changes

    @strawberry.field(description="What the person asking can undo and redo of their own changes.")
    async def undo(self, info: Info) -> Undo:
        ctx = info.context
        if self.view.undo is not None:
            return Undo.of(self.view.undo.get(ctx.actor, UndoState()))
        state = await read(ctx.services.workflows.undo_state, self.id, ctx.actor)
        return Undo.of(state)

    @strawberry.field(description="The workflow's documents, removed ones excepted.")
    async def documents(self, info: Info) -> list[Document]:
        return [Document.of(d) for d in await info.context.documents_of.load(self.id)]

    @classmethod
    def of(cls, v: WorkflowView) -> Workflow:
        return cls(
            view=v,
            id=v.id,
            name=v.name,
            description=v.description,
            version=v.version,
            created_at=v.created_at,
            updated_at=v.updated_at,
        )


@strawberry.type
class ComponentSpec:
    kind: NodeKind
    title: str
    description: str
    config_schema: JSON = strawberry.field(
        description="A JSON Schema of the node's config, from which the SPA draws its form."
    )
    inputs: list[str]
    outputs: list[str]

    @classmethod
    def of(cls, s: components.ComponentSpec) -> ComponentSpec:
        return cls(
            kind=s.kind,
            title=s.title,
            description=s.description,
            config_schema=form_schema(s),
            inputs=list(s.inputs),
            outputs=list(s.outputs),
        )


@strawberry.type(description="A model a provider's server has, for an LLM node's model picker.")
class ProviderModel:
    name: str = strawberry.field(description="What the node's model setting takes.")
    size_bytes: float | None = strawberry.field(description="On disk (bytes; may pass 2^31).")
    parameter_size: str | None = strawberry.field(description='e.g. "8.0B".')
    quantization: str | None = strawberry.field(description='e.g. "Q4_K_M".')
    family: str | None
    modified_at: datetime | None

    @classmethod
    def of(cls, m: ModelInfo) -> ProviderModel:
        return cls(
            name=m.name,
            size_bytes=None if m.size_bytes is None else float(m.size_bytes),
            parameter_size=m.parameter_size,
            quantization=m.quantization,
            family=m.family,
            modified_at=m.modified_at,
        )
