"""The one way a field is authorized: each Query, Mutation and Subscription field declares
the action it needs and the argument naming its resource, in its decorator:

    @strawberry.mutation(extensions=[needs(Action.EDIT, Resource.WORKFLOW, "workflow_id")])

Before the resolver runs, `Access.check` resolves the resource to its workspace and decides
(UNAUTHENTICATED, NOT_FOUND or FORBIDDEN). A subscription is checked when it starts and again
every `GENAI_AUTH_RECHECK_SECONDS` while it runs: once its credentials are revoked (a token
revoked, a user disabled, an access token expired), it ends with UNAUTHENTICATED.
`tests/integration/test_authorization.py` walks the served schema and fails for a field that
declares nothing.

The same extension counts the request against the asker's rate limits (`interfaces/limits.py`)
once it is authorized: every mutation as a change, unless its `needs` says it is a question
(`limit=Kind.QUESTION`) or an upload (`limit=Kind.UPLOAD`: counted before its body was read,
by the upload route, so not again here).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any
from uuid import UUID

from graphql import OperationType
from starlette.responses import Response
from strawberry.extensions import FieldExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver, SyncExtensionResolver

from application.account.access import Resource
from application.errors import Forbidden, RateLimited, Unauthenticated
from domain.errors import NotFound
from domain.policy import Action
from interfaces.graphql.context import Info
from interfaces.graphql.resolve import read
from interfaces.limits import Kind


class Needs(FieldExtension):
    def __init__(
        self,
        action: Action,
        resource: Resource | None = None,
        argument: str | None = None,
        *,
        unseen_is_null: bool = False,
        limit: Kind | None = None,
    ) -> None:
        """`argument`: the resolver's argument that holds the resource's id (none for
        `Resource.HOME`; an argument given as null checks only that someone signed in).
        `unseen_is_null`: a field that answers null for a resource that does not exist
        answers null, too, for one the principal may not see. `limit`: the kind of request
        it counts as (a mutation's default: a change)."""
        self.action, self.resource, self.argument = action, resource, argument
        self.unseen_is_null = unseen_is_null
        self.limit = limit

    def resolve(self, next_: SyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        raise TypeError("authorized fields are resolved asynchronously")

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, /, **kwargs: Any
    ) -> Any:
        resource_id: UUID | None = kwargs.get(self.argument) if self.argument else None
        resource = self.resource
        if self.argument and resource_id is None:
            resource = None
        if info.context.refusal is not None:
            raise Forbidden(info.context.refusal)
        access = info.context.services.access
        try:
            await read(access.check, info.context.principal, self.action, resource, resource_id)
        except NotFound:
            if self.unseen_is_null:
                return None
            raise
        kind = self._kind(info)
        if kind is not None and kind is not Kind.UPLOAD:
            await _count(info, kind)
        result = next_(source, info, **kwargs)
        if inspect.isasyncgen(result):
            return _until_revoked(result, info)
        return await result

    def _kind(self, info: Info) -> Kind | None:
        if self.limit is not None:
            return self.limit
        return Kind.MUTATION if info.operation.operation is OperationType.MUTATION else None


async def _count(info: Info, kind: Kind) -> None:
    """Counts the request; past a limit, RATE_LIMITED (and `Retry-After` on an HTTP answer)."""
    context = info.context
    client = context.request.client if context.request is not None else None
    limits, host = context.services.limits, client.host if client else None
    try:
        if limits.shared:  # a round trip to Redis: off the event loop
            await read(limits.check, kind, context.principal, host)
        else:
            limits.check(kind, context.principal, host)
    except RateLimited as refused:
        response = getattr(context, "response", None)
        if isinstance(response, Response):  # over HTTP (a WebSocket has no answer headers)
            response.headers["Retry-After"] = str(refused.retry_after)
        raise


def needs(
    action: Action,
    resource: Resource | None = None,
    argument: str | None = None,
    *,
    unseen_is_null: bool = False,
    limit: Kind | None = None,
) -> list[FieldExtension]:
    return [Needs(action, resource, argument, unseen_is_null=unseen_is_null, limit=limit)]


async def _until_revoked(stream: AsyncGenerator[Any, None], info: Info) -> AsyncIterator[Any]:
    """The stream's items while the request's credentials hold."""
    context = info.context
    every = context.services.settings.genai_auth_recheck_seconds
    principals = context.services.accounts.principals
    iterator = stream.__aiter__()
    pending: asyncio.Future[Any] | None = None
    try:
        while True:
            pending = asyncio.ensure_future(iterator.__anext__())
            while not pending.done():
                await asyncio.wait({pending}, timeout=every)
                if pending.done():
                    break
                if not await read(principals.still_valid, context.principal, context.credential):
                    raise Unauthenticated("the credentials of this subscription were revoked")
            try:
                item = pending.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        # the client left, or the credentials went: stop waiting for the stream's next item
        # before closing it (a generator cannot be closed while it runs)
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
        await stream.aclose()
