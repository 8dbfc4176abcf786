"""Read models: what queries return, whether read from a table or replayed from the log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from domain.graph import Edge, Node
from domain.workflow import Workflow


@dataclass(frozen=True)
class PublishedInfo:
    number: int
    workflow_version: int
    published_at: datetime
    note: str


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

    @classmethod
    def of(cls, wf: Workflow) -> WorkflowView:
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
        )


@dataclass(frozen=True)
class HistoryEntry:
    workflow_id: UUID
    version: int
    type: str
    timestamp: datetime
    actor: str | None
    data: dict[str, Any]


class WorkflowReadModel(Protocol):
    """The `workflows` and `published_versions` tables, as filled by their projection."""

    def list_workflows(self) -> list[WorkflowView]: ...

    def get_workflow(self, workflow_id: UUID) -> WorkflowView | None: ...
