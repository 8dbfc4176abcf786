"""How a resolver calls the application: off the event loop (eventsourcing and SQLAlchemy
are synchronous), with a command that carries the asker as its actor."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar, cast

import anyio

from interfaces.graphql.context import Info

C = TypeVar("C")
R = TypeVar("R")


async def execute(
    info: Info, handler: Callable[[C], R | Awaitable[R]], command: type[C], **fields: Any
) -> R:
    """Builds `command` from the resolver's arguments (`expected` among them, for an edit)
    and the context's actor, and runs `handler` on it: in a worker thread, or on the loop
    when the handler is a coroutine (it keeps its own I/O off the loop)."""
    built = command(actor=info.context.actor, **fields)
    if inspect.iscoroutinefunction(handler):
        return cast(R, await handler(built))
    return cast(R, await anyio.to_thread.run_sync(handler, built))


async def read(fn: Callable[..., R], *args: Any) -> R:
    """A query of the application, in a worker thread."""
    return await anyio.to_thread.run_sync(partial(fn, *args))
