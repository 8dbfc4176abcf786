"""Workflow queries, mutations and the workflowEvents subscription: each builds a command
or a query from its arguments, runs it, and maps the result."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from application.account.access import Resource
from application.workflow import commands as c
from application.workflow.handlers import WorkflowService
from application.workflow.live import topic
from domain.graph import Position
from domain.policy import Action
from interfaces.graphql.authorize import needs
from interfaces.graphql.context import Info
from interfaces.graphql.resolve import execute, read
from interfaces.graphql.workflow.history import WorkflowDiff, WorkflowEvent
from interfaces.graphql.workflow.types import (
    ComponentSpec,
    NodeKind,
    PositionInput,
    ProviderModel,
    PublishedVersion,
    Workflow,
)


def _position(p: PositionInput) -> Position:
    return Position(p.x, p.y)


def _service(info: Info) -> WorkflowService:
    return info.context.services.workflows


@strawberry.type
class WorkflowQueries:
    @strawberry.field(extensions=needs(Action.OPEN))
    async def workflows(self, info: Info) -> list[Workflow]:
        mine = await read(info.context.services.access.visible_workspaces, info.context.principal)
        views = await read(_service(info).list_all, mine)
        return [Workflow.of(v) for v in views]

    @strawberry.field(
        extensions=needs(Action.OPEN, Resource.WORKFLOW, "id", unseen_is_null=True),
        description="With version: the workflow as it stood after that many events.",
    )
    async def workflow(self, info: Info, id: UUID, version: int | None = None) -> Workflow | None:
        view = await read(_service(info).get, id, version)
        return None if view is None else Workflow.of(view)

    @strawberry.field(
        extensions=needs(Action.READ_HISTORY, Resource.WORKFLOW, "id"),
        description="Every change, oldest first, each in words. withDocuments adds the events "
        "of the stack's documents (uploads, indexing and its outcome, removals) where they "
        "happened.",
    )
    async def workflow_history(
        self, info: Info, id: UUID, with_documents: bool = False
    ) -> list[WorkflowEvent]:
        entries = await read(info.context.services.history.history, id, with_documents)
        return [WorkflowEvent.of(e) for e in entries]

    @strawberry.field(
        extensions=needs(Action.READ_HISTORY, Resource.WORKFLOW, "id"),
        description="What differs from fromVersion to toVersion, field by field.",
    )
    async def workflow_diff(
        self, info: Info, id: UUID, from_version: int, to_version: int
    ) -> WorkflowDiff:
        history = info.context.services.history
        comparison = await read(history.compare, id, from_version, to_version)
        return WorkflowDiff.of(id, comparison)

    @strawberry.field(extensions=needs(Action.ACCOUNT))
    async def components(self, info: Info) -> list[ComponentSpec]:
        return [ComponentSpec.of(s) for s in _service(info).components()]

    @strawberry.field(
        extensions=needs(Action.EDIT, Resource.WORKFLOW, "workflow_id"),
        description="The models an LLM node's provider has, asked of its server (Ollama's "
        "GET /api/tags) at baseUrl, or its default address without one. PROVIDER_ERROR when "
        "the server cannot be asked.",
    )
    async def provider_models(
        self, info: Info, workflow_id: UUID, provider: str, base_url: str | None = None
    ) -> list[ProviderModel]:
        models = await execute(
            info,
            info.context.services.models.list,
            c.ListModels,
            workflow_id=workflow_id,
            provider=provider,
            base_url=base_url,
        )
        return [ProviderModel.of(m) for m in models]


@strawberry.type
class WorkflowMutations:
    @strawberry.mutation(extensions=needs(Action.EDIT, Resource.HOME))
    async def create_workflow(
        self, info: Info, name: str, description: str | None = None
    ) -> Workflow:
        command = c.CreateWorkflow
        home = await read(info.context.services.access.home, info.context.principal)
        view = await execute(
            info,
            _service(info).create,
            command,
            name=name,
            description=description or "",
            workspace_id=home,
        )
        return Workflow.of(view)

    @strawberry.mutation(extensions=needs(Action.EDIT, Resource.WORKFLOW, "id"))
    async def rename_workflow(
        self, info: Info, id: UUID, name: str, expected_version: int | None = None
    ) -> Workflow:
        view = await execute(
            info,
            _service(info).rename,
            c.RenameWorkflow,
            workflow_id=id,
            name=name,
            expected=expected_version,
        )
        return Workflow.of(view)

    @strawberry.mutation(extensions=needs(Action.EDIT, Resource.WORKFLOW, "id"))
    async def describe_workflow(
        self, info: Info, id: UUID, description: str, expected_version: int | None = None
    ) -> Workflow:
        view = await execute(
            info,
            _service(info).describe,
            c.DescribeWorkflow,
            workflow_id=id,
            description=description,
            expected=expected_version,
        )
        return Workflow.of(view)

    @strawberry.mutation(extensions=needs(Action.EDIT, Resource.WORKFLOW, "id"))
    async def delete_workflow(self, info: Info, id: UUID) -> bool:
        await execute(info, _service(info).delete, c.DeleteWorkflow, workflow_id=id)
        return True

    @strawberry.mutation(
        extensions=needs(Action.EDIT, Resource.WORKFLOW, "workflow_id"),
        description="nodeId may be chosen by the client, so that it can update its canvas "
        "before the answer.",
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
        view = await execute(
            info,
            _service(info).add_node,
            c.AddNode,
            workflow_id=workflow_id,
            node_id=node_id,
            kind=kind.value,
            position=_position(position),
            config=config or {},
            label=label,
            expected=expected_version,
        )
        return Workflow.of(view)

    @strawberry.mutation(extensions=needs(Action.EDIT, Resource.WORKFLOW, "workflow_id"))
    async def move_node(
        self,
        info: Info,
        workflow_id: UUID,
        node_id: str,
        position: PositionInput,
        expected_version: int | None = None,
    ) -> Workflow:
        view = await execute(
            info,
            _service(info).move_node,
            c.MoveNode,
            workflow_id=workflow_id,
            node_id=node_id,
            position=_position(position),
            expected=expected_version,
        )
        return Workflow.of(view)

    @strawberry.mutation(
        extensions=needs(Action.EDIT, Resource.WORKFLOW, "workflow_id"),
        description="Sets a node's label, as shown on the canvas.",
    )
    async def relabel_node(
        self,
        info: Info,
        workflow_id: UUID,
        node_id: str,
        label: str,
        expected_version: int | None = None,
    ) -> Workflow:
        view = await execute(
            info,
            _service(info).relabel_node,
            c.RelabelNode,
            workflow_id=workflow_id,
            node_id=node_id,
            label=label,
            expected=expected_version,
        )
        return Workflow.of(view)

    @strawberry.mutation(
        extensions=needs(Action.EDIT, Resource.WORKFLOW, "workflow_id"),
        description="Merges config into the node's: keys given replace, null removes a key, "
        "keys absent are kept (so a stored API key is kept by leaving it out).",
    )
    async def configure_node(
        self,
        info: Info,
        workflow_id: UUID,
        node_id: str,
        config: JSON,
        expected_version: int | None = None,
    ) -> Workflow:
        view = await execute(
            info,
            _service(info).configure_node,
            c.ConfigureNode,
            workflow_id=workflow_id,
            node_id=node_id,
            patch=config,
            expected=expected_version,
        )
        return Workflow.of(view)

    @strawberry.mutation(extensions=needs(Action.EDIT, Resource.WORKFLOW, "workflow_id"))
    async def remove_node(
        self, info: Info, workflow_id: UUID, node_id: str, expected_version: int | None = None
    ) -> Workflow:
        view = await execute(
            info,
            _service(info).remove_node,
            c.RemoveNode,
            workflow_id=workflow_id,
            node_id=node_id,
            expected=expected_version,
        )
        return Workflow.of(view)

    @strawberry.mutation(extensions=needs(Action.EDIT, Resource.WORKFLOW, "workflow_id"))
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
        view = await execute(
            info,
            _service(info).connect,
            c.ConnectNodes,
            workflow_id=workflow_id,
            edge_id=edge_id,
            source=source,
            target=target,
            source_handle=source_handle,
            target_handle=target_handle,
            expected=expected_version,
        )
        return Workflow.of(view)

    @strawberry.mutation(extensions=needs(Action.EDIT, Resource.WORKFLOW, "workflow_id"))
    async def disconnect_nodes(
        self, info: Info, workflow_id: UUID, edge_id: str, expected_version: int | None = None
    ) -> Workflow:
        view = await execute(
            info,
            _service(info).disconnect,
            c.DisconnectNodes,
            workflow_id=workflow_id,
            edge_id=edge_id,
            expected=expected_version,
        )
        return Workflow.of(view)

    @strawberry.mutation(
        extensions=needs(Action.EDIT, Resource.WORKFLOW, "workflow_id"),
        description="Replaces the graph (import, templates). Edges may omit handles.",
    )
    async def import_graph(
        self,
        info: Info,
        workflow_id: UUID,
        nodes: JSON,
        edges: JSON,
        expected_version: int | None = None,
    ) -> Workflow:
        view = await execute(
            info,
            _service(info).import_graph,
            c.ImportGraph,
            workflow_id=workflow_id,
            nodes=nodes,
            edges=edges,
            expected=expected_version,
        )
        return Workflow.of(view)

    @strawberry.mutation(
        extensions=needs(Action.PUBLISH, Resource.WORKFLOW, "workflow_id"),
        description="Validates, then pins the current graph as the next published version; "
        "INVALID_WORKFLOW otherwise.",
    )
    async def publish_workflow(
        self, info: Info, workflow_id: UUID, note: str | None = None
    ) -> PublishedVersion:
        published = await execute(
            info, _service(info).publish, c.Publish, workflow_id=workflow_id, note=note or ""
        )
        return PublishedVersion.of(published)

    @strawberry.mutation(
        extensions=needs(Action.EDIT, Resource.WORKFLOW, "workflow_id"),
        description="Restores all that the workflow held at toVersion (graph, labels, settings, "
        "name and description), as a new event; nothing is erased.",
    )
    async def rollback_workflow(self, info: Info, workflow_id: UUID, to_version: int) -> Workflow:
        view = await execute(
            info,
            _service(info).roll_back,
            c.RollBack,
            workflow_id=workflow_id,
            to_version=to_version,
        )
        return Workflow.of(view)

    @strawberry.mutation(
        extensions=needs(Action.EDIT, Resource.WORKFLOW, "workflow_id"),
        description="Takes back the asker's latest change not yet undone, as a new event: only "
        "what that change changed goes back, so others' later changes elsewhere stay. "
        "Publishing is not undone. BAD_USER_INPUT when there is nothing to undo.",
    )
    async def undo_workflow(
        self, info: Info, workflow_id: UUID, expected_version: int | None = None
    ) -> Workflow:
        view = await execute(
            info, _service(info).undo, c.Undo, workflow_id=workflow_id, expected=expected_version
        )
        return Workflow.of(view)

    @strawberry.mutation(
        extensions=needs(Action.EDIT, Resource.WORKFLOW, "workflow_id"),
        description="Makes the asker's latest undone change again, as a new event (until they "
        "make a new change). BAD_USER_INPUT when there is nothing to redo.",
    )
    async def redo_workflow(
        self, info: Info, workflow_id: UUID, expected_version: int | None = None
    ) -> Workflow:
        view = await execute(
            info, _service(info).redo, c.Redo, workflow_id=workflow_id, expected=expected_version
        )
        return Workflow.of(view)


@strawberry.type
class WorkflowSubscriptions:
    @strawberry.subscription(extensions=needs(Action.OPEN, Resource.WORKFLOW, "workflow_id"))
    async def workflow_events(
        self, info: Info, workflow_id: UUID
    ) -> AsyncGenerator[WorkflowEvent, None]:
        async with info.context.services.live(topic(workflow_id)) as entries:
            async for entry in entries:
                yield WorkflowEvent.of(entry)
