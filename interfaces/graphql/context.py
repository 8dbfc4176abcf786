"""What every resolver receives, and how it calls the (synchronous) application."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
import strawberry
from strawberry.fastapi import BaseContext

from interfaces.container import Container

T = TypeVar("T")


class Context(BaseContext):
    def __init__(self, container: Container, actor: str = "local") -> None:
        super().__init__()
        self.container, self.actor = container, actor

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """The application is synchronous (eventsourcing, SQLAlchemy): keep it off the loop."""
        return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs))


Info = strawberry.Info[Context, None]
