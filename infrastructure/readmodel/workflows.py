"""The `workflows` and `published_versions` read tables: their projection and their queries."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from sqlalchemy import Connection, Engine, delete, insert, or_, select, update

from application.eventlog.log import EventLog
from application.workflow.views import PublishedInfo, WorkflowView, unpublished_changes
from domain.graph import Edge, Node
from domain.workflow import PublishedVersion, Workflow
from domain.workspace import DEFAULT_WORKSPACE
from infrastructure.readmodel.tables import published_versions, workflows
from infrastructure.readmodel.tracking import SqlTrackingView

CACHE_SIZE = 256


class WorkflowsProjection(Projection[SqlTrackingView]):
    name = "workflows"
    tables = (workflows, published_versions)
    batched = True  # writes only through its view: a page of events is one transaction

    def __init__(self, view: SqlTrackingView, store: EventLog) -> None:
        super().__init__(view)
        self.store = store
        self._cache: OrderedDict[UUID, Workflow] = OrderedDict()

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)  # not ours: only the position moves

    @process_event.register
    def _workflow_changed(self, domain_event: Workflow.Event, tracking: Tracking) -> None:
        wf = self._state_after(domain_event)
        with self.view.transaction(tracking) as conn:
            if wf.deleted:
                conn.execute(delete(workflows).where(workflows.c.id == wf.id))
                conn.execute(
                    delete(published_versions).where(published_versions.c.workflow_id == wf.id)
                )
                return
            _upsert_workflow(conn, wf)
            if isinstance(domain_event, Workflow.WorkflowPublished):
                p = wf.published[-1]
                conn.execute(
                    insert(published_versions).values(
                        workflow_id=wf.id,
                        number=p.number,
                        workflow_version=p.workflow_version,
                        published_at=p.published_at,
                        note=p.note,
                        nodes=[n.to_dict() for n in p.nodes],
                        edges=[e.to_dict() for e in p.edges],
                    )
                )

    def _state_after(self, domain_event: Workflow.Event) -> Workflow:
        """The aggregate as the event left it: the cached one moved on by the event's own
        mutator when it is the next event, else replayed from the store."""
        wid, version = domain_event.originator_id, domain_event.originator_version
        cached = self._cache.pop(wid, None)
        if version == 1:
            wf = domain_event.mutate(None)
        elif cached is not None and cached.version == version - 1:
            wf = domain_event.mutate(cached)
        else:
            wf = self.store.repository.get(wid, version=version)
        assert isinstance(wf, Workflow)
        self._cache[wid] = wf
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return wf

    def forget(self) -> None:
        self._cache.clear()


def _upsert_workflow(conn: Connection, wf: Workflow) -> None:
    row = {
        "name": wf.name,
        "description": wf.description,
        "version": wf.version,
        "created_at": wf.created_on,
        "updated_at": wf.modified_on,
        "nodes": [n.to_dict() for n in wf.nodes.values()],
        "edges": [e.to_dict() for e in wf.edges.values()],
        "latest_published": wf.published[-1].number if wf.published else None,
        "last_actor": wf.last_actor,
        "workspace_id": wf.workspace_id,
    }
    if conn.execute(update(workflows).where(workflows.c.id == wf.id).values(**row)).rowcount == 0:
        conn.execute(insert(workflows).values(id=wf.id, **row))


class SqlWorkflowReadModel:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def list_workflows(self, workspace_ids: Collection[UUID] | None = None) -> list[WorkflowView]:
        """Every workflow, or those of `workspace_ids` (rows from before workspaces: the
        default one's)."""
        query = select(workflows).order_by(workflows.c.updated_at.desc())
        if workspace_ids is not None:
            ids = list(workspace_ids)
            held = workflows.c.workspace_id.in_(ids)
            if DEFAULT_WORKSPACE in ids:
                held = or_(held, workflows.c.workspace_id.is_(None))
            query = query.where(held)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            published = conn.execute(
                select(published_versions).order_by(published_versions.c.number)
            ).all()
        by_workflow: dict[UUID, list[Any]] = {}
        for p in published:
            by_workflow.setdefault(p.workflow_id, []).append(p)
        return [_view(r, by_workflow.get(r.id, [])) for r in rows]

    def get_workflow(self, workflow_id: UUID) -> WorkflowView | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(workflows).where(workflows.c.id == workflow_id)).first()
            published = conn.execute(
                select(published_versions)
                .where(published_versions.c.workflow_id == workflow_id)
                .order_by(published_versions.c.number)
            ).all()
        return None if row is None else _view(row, list(published))


def aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; ours are all UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _published(row: Any) -> PublishedInfo:
    return PublishedInfo(row.number, row.workflow_version, aware(row.published_at), row.note)


def _view(row: Any, published: list[Any]) -> WorkflowView:
    nodes = {n["id"]: Node.from_dict(n) for n in row.nodes}
    edges = {e["id"]: Edge.from_dict(e) for e in row.edges}
    latest = published[-1] if published else None
    return WorkflowView(
        id=row.id,
        name=row.name,
        description=row.description,
        version=row.version,
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
        nodes=tuple(nodes.values()),
        edges=tuple(edges.values()),
        published=tuple(_published(p) for p in published),
        unpublished_changes=unpublished_changes(
            PublishedVersion(
                latest.number,
                latest.workflow_version,
                aware(latest.published_at),
                latest.note,
                tuple(Node.from_dict(n) for n in latest.nodes),
                tuple(Edge.from_dict(e) for e in latest.edges),
            )
            if latest
            else None,
            nodes,
            edges,
        ),
    )
