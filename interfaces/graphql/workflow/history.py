"""GraphQL types of a stack's history and of comparisons of two of its versions."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from application.workflow import describe, views
from application.workflow.history import Comparison
from application.workflow.history import EdgeDiff as EdgeDiffView
from application.workflow.history import NodeDiff as NodeDiffView
from application.workflow.views import HistoryEntry
from interfaces.graphql.context import Info
from interfaces.graphql.resolve import read
from interfaces.graphql.workflow.types import Edge, Node, NodeKind


@strawberry.type(description="One thing a change changed, in people's words.")
class FieldChange:
    field: str = strawberry.field(
        description="What changed: config.<setting>, label, position, node, edge, name or "
        "description."
    )
    label: str = strawberry.field(description="Its name for people, e.g. Passages per question.")
    before: str | None = strawberry.field(
        description="The value before, in words; null when absent, and always for a secret."
    )
    after: str | None = strawberry.field(description="The value after, as `before`.")
    text: str = strawberry.field(
        description="The whole change in words, e.g. Passages per question 4 → 3, API key changed."
    )
    node_id: str | None

    @classmethod
    def of(cls, c: describe.FieldChange) -> FieldChange:
        return cls(
            field=c.field,
            label=c.label,
            before=c.before,
            after=c.after,
            text=c.text,
            node_id=c.node_id,
        )


ChangeCategory = strawberry.enum(
    views.ChangeCategory,
    name="ChangeCategory",
    description="Kinds of change, to filter a history by.",
)


@strawberry.type(
    description="One entry of a workflow's audit trail: one stored event, as recorded, and "
    "in words."
)
class WorkflowEvent:
    entry: strawberry.Private[HistoryEntry]
    id: str = strawberry.field(description="Unique within the history: change-17, document-….")
    workflow_id: UUID
    version: int = strawberry.field(
        description="The change this event made (the workflow's version); for a document's "
        "event, the change current when it happened."
    )
    type: str = strawberry.field(description="The event's class name, e.g. NodeAdded.")
    timestamp: datetime
    actor: str | None
    summary: str = strawberry.field(
        description="What happened, in words, e.g. Knowledge Base: Passages per question 4 → 3."
    )
    changes: list[FieldChange] = strawberry.field(description="Each thing it changed.")
    category: ChangeCategory
    published_version: int | None = strawberry.field(
        description="The published version in force at this change (null: never built yet); "
        "with `version`, how people number it: v2 · change 17."
    )
    undone: bool = strawberry.field(description="Taken back by an undo (and not redone).")
    document_id: UUID | None = strawberry.field(description="Set on a document's events.")

    @strawberry.field(description="The event's own data, as recorded.")
    def data(self) -> JSON:
        return self.entry.data

    @strawberry.field(
        description="Who did it, by name: the user's name or email, the API token's name, "
        "or local (you) for the owner of a server on this machine."
    )
    async def actor_name(self, info: Info) -> str | None:
        return None if self.actor is None else await info.context.actor_names.load(self.actor)

    @classmethod
    def of(cls, h: HistoryEntry) -> WorkflowEvent:
        return cls(
            entry=h,
            id=h.id,
            workflow_id=h.workflow_id,
            version=h.version,
            type=h.type,
            timestamp=h.timestamp,
            actor=h.actor,
            summary=h.summary,
            changes=[FieldChange.of(c) for c in h.changes],
            category=h.category,
            published_version=h.published,
            undone=h.undone,
            document_id=h.document_id,
        )


@strawberry.enum
class DiffStatus(enum.Enum):
    ADDED = "ADDED"
    REMOVED = "REMOVED"
    CHANGED = "CHANGED"


@strawberry.type(description="A node that differs between two versions, field by field.")
class NodeDiff:
    node_id: str
    kind: NodeKind
    label: str = strawberry.field(description="Its name in the newer of the two it is in.")
    status: DiffStatus
    before: Node | None = strawberry.field(description="As in fromVersion (null: not there).")
    after: Node | None = strawberry.field(description="As in toVersion (null: not there).")
    fields: list[FieldChange] = strawberry.field(
        description="Each field that differs; for a node added or removed, all its settings."
    )

    @classmethod
    def of(cls, d: NodeDiffView) -> NodeDiff:
        before, after = d.change.before, d.change.after
        node = after or before
        assert node is not None
        return cls(
            node_id=node.id,
            kind=node.kind,
            label=node.label,
            status=DiffStatus(d.status),
            before=Node.of(before) if before else None,
            after=Node.of(after) if after else None,
            fields=[FieldChange.of(f) for f in d.fields],
        )


@strawberry.type(description="A connection that differs between two versions.")
class EdgeDiff:
    edge_id: str
    status: DiffStatus
    text: str = strawberry.field(description="e.g. Connected User Query → LLM Engine.")
    connection: str = strawberry.field(description="e.g. User Query → LLM Engine.")
    before: Edge | None
    after: Edge | None

    @classmethod
    def of(cls, d: EdgeDiffView) -> EdgeDiff:
        before, after = d.change.before, d.change.after
        return cls(
            edge_id=d.change.id,
            status=DiffStatus(d.status),
            text=d.line.text,
            connection=d.line.after or d.line.before or "",
            before=Edge.of(before) if before else None,
            after=Edge.of(after) if after else None,
        )


@strawberry.type
class WorkflowDiff:
    workflow_id: strawberry.Private[UUID]
    from_version: int
    to_version: int
    from_label: str = strawberry.field(
        description="fromVersion as people number it: v1 · change 13."
    )
    to_label: str
    added_nodes: list[Node]
    removed_nodes: list[Node]
    changed_nodes: list[Node]
    added_edges: list[Edge]
    removed_edges: list[Edge]
    node_changes: list[NodeDiff] = strawberry.field(
        description="Nodes added, removed or changed, field by field."
    )
    edge_changes: list[EdgeDiff]
    stack_changes: list[FieldChange] = strawberry.field(
        description="The stack's name and description, if they differ."
    )

    @classmethod
    def of(cls, workflow_id: UUID, c: Comparison) -> WorkflowDiff:
        nodes, edges = c.delta.nodes, c.delta.edges
        return cls(
            workflow_id=workflow_id,
            from_version=c.from_version,
            to_version=c.to_version,
            from_label=c.from_label,
            to_label=c.to_label,
            added_nodes=[Node.of(n.after) for n in nodes if n.before is None and n.after],
            removed_nodes=[Node.of(n.before) for n in nodes if n.after is None and n.before],
            changed_nodes=[Node.of(n.after) for n in nodes if n.before and n.after],
            added_edges=[Edge.of(e.after) for e in edges if e.before is None and e.after],
            removed_edges=[Edge.of(e.before) for e in edges if e.after is None and e.before],
            node_changes=[NodeDiff.of(n) for n in c.nodes],
            edge_changes=[EdgeDiff.of(e) for e in c.edges],
            stack_changes=[FieldChange.of(f) for f in c.stack],
        )

    @strawberry.field(
        description="Who made the changes between the two versions, each once, by name (as "
        "actorName in the history)."
    )
    async def authors(self, info: Info) -> list[str]:
        history = info.context.services.history
        entries = await read(history.history, self.workflow_id, False)
        low, high = sorted((self.from_version, self.to_version))
        actors = [e.actor for e in entries if low < e.version <= high and e.actor]
        return list(await info.context.actor_names.load_many(list(dict.fromkeys(actors))))
