"""Read models: what queries return, whether read from a table or replayed from the log."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from application.eventlog.log import event_payload
from application.workflow.describe import FieldChange, names_of, step_summary
from domain.changes import Graph, diff, unbuilt
from domain.graph import Edge, Node
from domain.workflow import PublishedVersion, Workflow


@dataclass(frozen=True)
class PublishedInfo:
    number: int
    workflow_version: int
    published_at: datetime
    note: str


@dataclass(frozen=True)
class UndoState:
    """What one person can undo and redo, named as their history entries name it."""

    undo_label: str | None = None
    redo_label: str | None = None

    @property
    def can_undo(self) -> bool:
        return self.undo_label is not None

    @property
    def can_redo(self) -> bool:
        return self.redo_label is not None

    @classmethod
    def of(cls, wf: Workflow, actor: str) -> UndoState:
        undo, redo = wf.undo_step(actor), wf.redo_step(actor)
        names = names_of(wf.nodes)
        return cls(
            step_summary(undo, names, wf.published) if undo else None,
            step_summary(redo, names, wf.published) if redo else None,
        )


@dataclass(frozen=True)
class WorkflowView:
    id: UUID
    name: str
    description: str
    version: int
    created_at: datetime
    updated_at: datetime
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    published: tuple[PublishedInfo, ...]
    unpublished_changes: int = 0
    # Each person's undo state, when read from the aggregate (a read table has none).
    undo: Mapping[str, UndoState] | None = None

    @classmethod
    def of(cls, wf: Workflow) -> WorkflowView:
        actors = [*wf.undo_steps, *wf.redo_steps]
        return cls(
            id=wf.id,
            name=wf.name,
            description=wf.description,
            version=wf.version,
            created_at=wf.created_on,
            updated_at=wf.modified_on,
            nodes=tuple(wf.nodes.values()),
            edges=tuple(wf.edges.values()),
            published=tuple(
                PublishedInfo(p.number, p.workflow_version, p.published_at, p.note)
                for p in wf.published
            ),
            unpublished_changes=unpublished_changes(
                wf.published[-1] if wf.published else None, wf.nodes, wf.edges
            ),
            undo={actor: UndoState.of(wf, actor) for actor in actors},
        )


def unpublished_changes(
    published: PublishedVersion | None, nodes: Mapping[str, Node], edges: Mapping[str, Edge]
) -> int:
    """Changes a Build would publish (nothing published: every node and connection)."""
    old_nodes = {n.id: n for n in published.nodes} if published else {}
    old_edges = {e.id: e for e in published.edges} if published else {}
    return unbuilt(diff(Graph(old_nodes, old_edges, ""), Graph(dict(nodes), dict(edges), "")))


class ChangeCategory(StrEnum):
    """Kinds of change, to filter a history by."""

    STRUCTURE = "STRUCTURE"  # nodes and connections added or removed, imports
    SETTINGS = "SETTINGS"  # settings, labels, the stack's name and description
    LAYOUT = "LAYOUT"  # nodes moved
    VERSIONS = "VERSIONS"  # builds and rollbacks
    DOCUMENTS = "DOCUMENTS"  # PDFs uploaded, indexed, failed, removed


@dataclass(frozen=True)
class HistoryEntry:
    workflow_id: UUID
    version: int  # the workflow's change; for a document's event, the change then current
    type: str
    timestamp: datetime
    actor: str | None
    event: Any  # the stored event; its data is read only when asked for
    summary: str = ""
    changes: tuple[FieldChange, ...] = ()
    category: ChangeCategory = ChangeCategory.STRUCTURE
    published: int | None = None  # the published number in force (None: never built)
    undone: bool = False
    document_id: UUID | None = None
    document_version: int | None = field(default=None)
    filename: str | None = None  # a document's

    @property
    def data(self) -> dict[str, Any]:
        """The event's own data, as recorded (a document's names its file too)."""
        data = event_payload(self.event)
        if self.document_id is not None:
            data.setdefault("filename", self.filename)
        return data

    @property
    def id(self) -> str:
        if self.document_id is None:
            return f"change-{self.version}"
        return f"document-{self.document_id}-{self.document_version}"


class WorkflowReadModel(Protocol):
    """The `workflows` and `published_versions` tables, as filled by their projection."""

    def list_workflows(
        self, workspace_ids: Collection[UUID] | None = None
    ) -> list[WorkflowView]: ...

    def get_workflow(self, workflow_id: UUID) -> WorkflowView | None: ...
