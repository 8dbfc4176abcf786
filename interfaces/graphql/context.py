"""What every resolver receives: the process's services, the actor, per-request loaders."""

from __future__ import annotations

from functools import cached_property
from uuid import UUID

import anyio
import strawberry
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from application.document.views import DocumentView
from domain.policy import LOCAL_ACTOR, Principal
from interfaces.bootstrap import Services


class Context(BaseContext):
    def __init__(
        self,
        services: Services,
        principal: Principal | None = None,
        credential: str | None = None,
    ) -> None:
        super().__init__()
        self.services = services
        self.principal = principal  # who the request acts as (interfaces/principal.py)
        self.credential = credential  # what it presented: checked again by subscriptions
        self.connection_key: str | None = None  # a WebSocket's count in services.connections
        # why every field of this request is refused (a publishable token from a site it does
        # not list), or None
        self.refusal: str | None = None

    @property
    def client_host(self) -> str | None:
        """The address the request came from (an embedded chat's visitor)."""
        connection = self.request
        client = connection.client if connection is not None else None
        return client.host if client is not None else None

    @property
    def actor(self) -> str:
        """The name the events of this request record: the principal's (a user id,
        `token:<id>`, or `local` for the local owner)."""
        return self.principal.actor if self.principal is not None else LOCAL_ACTOR

    @cached_property
    def actor_names(self) -> DataLoader[str, str]:
        """Who each actor is, by name; the actors of one request are looked up together."""

        async def load(actors: list[str]) -> list[str]:
            names = await anyio.to_thread.run_sync(self.services.accounts.actors.names, actors)
            return [names[a] for a in actors]

        return DataLoader(load_fn=load)

    @cached_property
    def documents_of(self) -> DataLoader[UUID, list[DocumentView]]:
        """Each workflow's documents; the workflows of one request are read in one query."""

        async def load(workflow_ids: list[UUID]) -> list[list[DocumentView]]:
            read = self.services.documents.list_for_workflows
            found = await anyio.to_thread.run_sync(read, workflow_ids)
            return [found[w] for w in workflow_ids]

        return DataLoader(load_fn=load)


Info = strawberry.Info[Context, None]
