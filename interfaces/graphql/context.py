"""What every resolver receives: the process's services, the actor, per-request loaders."""

from __future__ import annotations

from functools import cached_property
from uuid import UUID

import anyio
import strawberry
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from application.document.views import DocumentView
from interfaces.bootstrap import Services


class Context(BaseContext):
    def __init__(self, services: Services, actor: str = "local") -> None:
        super().__init__()
        self.services, self.actor = services, actor

    @cached_property
    def documents_of(self) -> DataLoader[UUID, list[DocumentView]]:
        """Each workflow's documents; the workflows of one request are read in one query."""

        async def load(workflow_ids: list[UUID]) -> list[list[DocumentView]]:
            read = self.services.documents.list_for_workflows
            found = await anyio.to_thread.run_sync(read, workflow_ids)
            return [found[w] for w in workflow_ids]

        return DataLoader(load_fn=load)


Info = strawberry.Info[Context, None]
