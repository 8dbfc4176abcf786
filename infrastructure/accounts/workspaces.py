"""The `workspaces` and `workspace_members` read tables: their projection and their queries."""

from __future__ import annotations

from typing import Any

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from sqlalchemy import Engine, delete, insert, select

from application.account.views import WorkspaceView
from application.eventlog.log import EventLog
from domain.workspace import Role, Workspace
from infrastructure.accounts.tables import workspace_members, workspaces
from infrastructure.readmodel.tracking import SqlTrackingView


class WorkspacesProjection(Projection[SqlTrackingView]):
    name = "workspaces"
    tables = (workspaces, workspace_members)
    batched = True  # writes only through its view: a page of events is one transaction

    def __init__(self, view: SqlTrackingView, store: EventLog) -> None:
        super().__init__(view)
        self.store = store

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)  # not ours: only the position moves

    @process_event.register
    def _workspace_changed(self, domain_event: Workspace.Event, tracking: Tracking) -> None:
        # few and small: the state after the event, replayed, rewrites the workspace's rows
        workspace = self.store.repository.get(
            domain_event.originator_id, version=domain_event.originator_version
        )
        with self.view.transaction(tracking) as conn:
            conn.execute(
                delete(workspace_members).where(workspace_members.c.workspace_id == workspace.id)
            )
            conn.execute(delete(workspaces).where(workspaces.c.id == workspace.id))
            conn.execute(
                insert(workspaces).values(
                    id=workspace.id, name=workspace.name, version=workspace.version
                )
            )
            if workspace.members:
                conn.execute(
                    insert(workspace_members),
                    [
                        {"workspace_id": workspace.id, "user_id": user, "role": role.value}
                        for user, role in workspace.members.items()
                    ],
                )

    def forget(self) -> None:
        """Nothing cached."""


class SqlWorkspaceReadModel:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def of_user(self, user_id: str) -> list[WorkspaceView]:
        m = workspace_members
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(workspaces, m.c.role)
                .join(m, m.c.workspace_id == workspaces.c.id)
                .where(m.c.user_id == user_id)
                .order_by(workspaces.c.name, workspaces.c.id)
            ).all()
        return [WorkspaceView(r.id, r.name, Role(r.role), r.version) for r in rows]
