"""What every resolver receives, and how it calls the (synchronous) application."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property, partial
from typing import Any, TypeVar
from uuid import UUID

import anyio
import strawberry
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from application.document_views import DocumentView
from domain.policy import Principal
from interfaces.container import Container

T = TypeVar("T")


class Context(BaseContext):
    def __init__(
        self, container: Container, actor: str = "local", principal: Principal | None = None
    ) -> None:
        super().__init__()
        self.container, self.actor = container, actor
        self.principal = principal  # who the request acts as (interfaces/principal.py)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """The application is synchronous (eventsourcing, SQLAlchemy): keep it off the loop."""
        return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs))

    @cached_property
    def documents_of(self) -> DataLoader[UUID, list[DocumentView]]:
        """Each workflow's documents; the workflows of one request are read in one query."""

        async def load(workflow_ids: list[UUID]) -> list[list[DocumentView]]:
            service = self.container.documents
            assert service is not None
            found = await self.run(service.list_for_workflows, workflow_ids)
            return [found[w] for w in workflow_ids]

        return DataLoader(load_fn=load)


Info = strawberry.Info[Context, None]
