"""Workflow queries, mutations and the workflowEvents subscription."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from typing import Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from application.history import HistoryService
from domain.graph import Position
from interfaces.graphql.context import Info
from interfaces.graphql.history import WorkflowDiff, WorkflowEvent
from interfaces.graphql.types import (
    ComponentSpec,
    NodeKind,
    PositionInput,
    PublishedVersion,
    Workflow,
)


def _position(p: PositionInput) -> Position:
    return Position(p.x, p.y)


def _maybe(view: Any) -> Workflow | None:
    return None if view is None else Workflow.of(view)


def _history(info: Info) -> HistoryService:
    service = info.context.container.history
    assert service is not None, "the container was built without history"
    return service


@strawberry.type
class WorkflowQueries:
    @strawberry.field
    async def workflows(self, info: Info) -> list[Workflow]:
        views = await info.context.run(info.context.container.workflows.list_all)
        return [Workflow.of(v) for v in views]

    @strawberry.field(description="With version: the workflow as it stood after that many events.")
    async def workflow(self, info: Info, id: UUID, version: int | None = None) -> Workflow | None:
        return _maybe(await info.context.run(info.context.container.workflows.get, id, version))

    @strawberry.field(
        description="Every change, oldest first, each in words. withDocuments adds the events "
        "of the stack's documents (uploads, indexing and its outcome, removals) where they "
        "happened."
    )
    async def workflow_history(
        self, info: Info, id: UUID, with_documents: bool = False
    ) -> list[WorkflowEvent]:
        entries = await info.context.run(_history(info).history, id, with_documents)
        return [WorkflowEvent.of(e) for e in entries]

    @strawberry.field(description="What differs from fromVersion to toVersion, field by field.")
    async def workflow_diff(
        self, info: Info, id: UUID, from_version: int, to_version: int
    ) -> WorkflowDiff:
        comparison = await info.context.run(_history(info).compare, id, from_version, to_version)
        return WorkflowDiff.of(comparison)

    @strawberry.field
    def components(self, info: Info) -> list[ComponentSpec]:
        return [ComponentSpec.of(s) for s in info.context.container.workflows.components()]


@strawberry.type
class WorkflowMutations:
    @strawberry.mutation
    async def create_workflow(
        self, info: Info, name: str, description: str | None = None
    ) -> Workflow:
        svc, ctx = info.context.container.workflows, info.context
        return Workflow.of(await ctx.run(svc.create, name, description or "", ctx.actor))

    @strawberry.mutation
    async def rename_workflow(
        self, info: Info, id: UUID, name: str, expected_version: int | None = None
    ) -> Workflow:
        svc, ctx = info.context.container.workflows, info.context
        return Workflow.of(await ctx.run(svc.rename, id, name, ctx.actor, expected_version))

    @strawberry.mutation
    async def describe_workflow(
        self, info: Info, id: UUID, description: str, expected_version: int | None = None
    ) -> Workflow:
        svc, ctx = info.context.container.workflows, info.context
        return Workflow.of(
            await ctx.run(svc.describe, id, description, ctx.actor, expected_version)
        )

    @strawberry.mutation
    async def delete_workflow(self, info: Info, id: UUID) -> bool:
        svc, ctx = info.context.container.workflows, info.context
        await ctx.run(svc.delete, id, ctx.actor)
        return True

    @strawberry.mutation(
        description="nodeId may be chosen by the client, so that it can update its canvas "
        "before the answer."
    )
    async def add_node(
        self,
        info: Info,
        workflow_id: UUID,
        kind: NodeKind,
        position: PositionInput,
        node_id: str | None = None,
        config: JSON | None = None,
        expected_version: int | None = None,
        label: str | None = None,
    ) -> Workflow:
        svc, ctx = info.context.container.workflows, info.context
        return Workflow.of(
            await ctx.run(
                svc.add_node,
                workflow_id,
                node_id or f"{kind.value.lower()}-{uuid.uuid4().hex[:8]}",
                kind.value,
                _position(position),
                ctx.actor,
                config=config,
                label=label,
                expected=expected_version,
            )
        )

    @strawberry.mutation
    async def move_node(
        self,
        info: Info,
        workflow_id: UUID,
        node_id: str,
        position: PositionInput,
        expected_version: int | None = None,
    ) -> Workflow:
        svc, ctx = info.context.container.workflows, info.context
        return Workflow.of(
            await ctx.run(
                svc.move_node,
                workflow_id,
                node_id,
                _position(position),
                ctx.actor,
                expected_version,
            )
        )

    @strawberry.mutation(description="Sets a node's label, as shown on the canvas.")
    async def relabel_node(
        self,
        info: Info,
        workflow_id: UUID,
        node_id: str,
        label: str,
        expected_version: int | None = None,
    ) -> Workflow:
        svc, ctx = info.context.container.workflows, info.context
        return Workflow.of(
            await ctx.run(
                svc.relabel_node, workflow_id, node_id, label, ctx.actor, expected_version
            )
        )

    @strawberry.mutation(
        description="Merges config into the node's: keys given replace, null removes a key, "
        "keys absent are kept (so a stored API key is kept by leaving it out)."
    )
    async def configure_node(
        self,
        info: Info,
        workflow_id: UUID,
        node_id: str,
        config: JSON,
        expected_version: int | None = None,
    ) -> Workflow:
        svc, ctx = info.context.container.workflows, info.context
        return Workflow.of(
            await ctx.run(
                svc.configure_node, workflow_id, node_id, config, ctx.actor, expected_version
            )
        )

    @strawberry.mutation
    async def remove_node(
        self, info: Info, workflow_id: UUID, node_id: str, expected_version: int | None = None
    ) -> Workflow:
        svc, ctx = info.context.container.workflows, info.context
        return Workflow.of(
            await ctx.run(svc.remove_node, workflow_id, node_id, ctx.actor, expected_version)
        )

    @strawberry.mutation
    async def connect_nodes(
        self,
        info: Info,
        workflow_id: UUID,
        source: str,
        target: str,
        source_handle: str | None = None,
        target_handle: str | None = None,
        edge_id: str | None = None,
        expected_version: int | None = None,
    ) -> Workflow:
        svc, ctx = info.context.container.workflows, info.context
        return Workflow.of(
            await ctx.run(
                svc.connect,
                workflow_id,
                edge_id or f"edge-{uuid.uuid4().hex[:8]}",
                source,
                target,
                ctx.actor,
                source_handle,
                target_handle,
                expected_version,
            )
        )

    @strawberry.mutation
    async def disconnect_nodes(
        self, info: Info, workflow_id: UUID, edge_id: str, expected_version: int | None = None
    ) -> Workflow:
        svc, ctx = info.context.container.workflows, info.context
        return Workflow.of(
            await ctx.run(svc.disconnect, workflow_id, edge_id, ctx.actor, expected_version)
        )

    @strawberry.mutation(
        description="Replaces the graph (import, templates). Edges may omit handles."
    )
    async def import_graph(
        self,
        info: Info,
        workflow_id: UUID,
        nodes: JSON,
        edges: JSON,
        expected_version: int | None = None,
    ) -> Workflow:
        svc, ctx = info.context.container.workflows, info.context
        return Workflow.of(
            await ctx.run(svc.import_graph, workflow_id, nodes, edges, ctx.actor, expected_version)
        )

    @strawberry.mutation(
        description="Validates, then pins the current graph as the next published version; "
        "INVALID_WORKFLOW otherwise."
    )
    async def publish_workflow(
        self, info: Info, workflow_id: UUID, note: str | None = None
    ) -> PublishedVersion:
        svc, ctx = info.context.container.workflows, info.context
        view, number = await ctx.run(svc.publish, workflow_id, note or "", ctx.actor)
        return PublishedVersion.of(view.published[number - 1])

    @strawberry.mutation(
        description="Restores all that the workflow held at toVersion (graph, labels, settings, "
        "name and description), as a new event; nothing is erased."
    )
    async def rollback_workflow(self, info: Info, workflow_id: UUID, to_version: int) -> Workflow:
        svc, ctx = info.context.container.workflows, info.context
        return Workflow.of(await ctx.run(svc.roll_back, workflow_id, to_version, ctx.actor))

    @strawberry.mutation(
        description="Takes back the asker's latest change not yet undone, as a new event: only "
        "what that change changed goes back, so others' later changes elsewhere stay. "
        "Publishing is not undone. BAD_USER_INPUT when there is nothing to undo."
    )
    async def undo_workflow(
        self, info: Info, workflow_id: UUID, expected_version: int | None = None
    ) -> Workflow:
        svc, ctx = info.context.container.workflows, info.context
        return Workflow.of(await ctx.run(svc.undo, workflow_id, ctx.actor, expected_version))

    @strawberry.mutation(
        description="Makes the asker's latest undone change again, as a new event (until they "
        "make a new change). BAD_USER_INPUT when there is nothing to redo."
    )
    async def redo_workflow(
        self, info: Info, workflow_id: UUID, expected_version: int | None = None
    ) -> Workflow:
        svc, ctx = info.context.container.workflows, info.context
        return Workflow.of(await ctx.run(svc.redo, workflow_id, ctx.actor, expected_version))


@strawberry.type
class WorkflowSubscriptions:
    @strawberry.subscription
    async def workflow_events(
        self, info: Info, workflow_id: UUID
    ) -> AsyncGenerator[WorkflowEvent, None]:
        async with info.context.container.live(f"workflow:{workflow_id}") as entries:
            async for entry in entries:
                yield WorkflowEvent.of(entry)
