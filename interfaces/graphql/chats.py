"""Chat queries, mutations and the chatEvents subscription."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from uuid import UUID

import strawberry

from application.chat import ChatService, ordered_updates
from application.chat_views import chat_topic
from interfaces.graphql.context import Info
from interfaces.graphql.types import (
    ChatEvent,
    ChatMessage,
    ChatSession,
    UsageEntry,
    chat_event,
)


def _chats(info: Info) -> ChatService:
    chats = info.context.container.chats
    assert chats is not None, "the container was built without chats"
    return chats


@strawberry.type
class ChatQueries:
    @strawberry.field
    async def chat_session(self, info: Info, id: UUID) -> ChatSession | None:
        view = await info.context.run(_chats(info).get, id)
        return None if view is None else ChatSession.of(view)

    @strawberry.field
    async def chat_sessions(self, info: Info, workflow_id: UUID) -> list[ChatSession]:
        views = await info.context.run(_chats(info).sessions, workflow_id)
        return [ChatSession.of(v) for v in views]

    @strawberry.field(
        description="Tokens and estimated cost of answers by workflow, model and day (UTC), "
        "newest first; all workflows without workflowId."
    )
    async def usage(self, info: Info, workflow_id: UUID | None = None) -> list[UsageEntry]:
        entries = await info.context.run(_chats(info).usage, workflow_id)
        return [UsageEntry.of(u) for u in entries]


@strawberry.type
class ChatMutations:
    @strawberry.mutation(
        description="Without publishedVersion: the latest published version. With draft: a "
        "preview of the draft, which needs no published version (and takes none)."
    )
    async def start_chat(
        self,
        info: Info,
        workflow_id: UUID,
        published_version: int | None = None,
        draft: bool = False,
    ) -> ChatSession:
        ctx = info.context
        view = await ctx.run(
            _chats(info).start, workflow_id, published_version, ctx.actor, draft=draft
        )
        return ChatSession.of(view)

    @strawberry.mutation(
        description="Records the user's message and starts the answer, which arrives on chatEvents."
    )
    async def send_message(self, info: Info, session_id: UUID, content: str) -> ChatMessage:
        ctx = info.context
        return ChatMessage.of(await _chats(info).send(session_id, content, ctx.actor))


@strawberry.type
class ChatSubscriptions:
    @strawberry.subscription
    async def chat_events(self, info: Info, session_id: UUID) -> AsyncGenerator[ChatEvent, None]:
        ctx = info.context
        async with ctx.container.live(chat_topic(session_id)) as updates:
            # read after subscribing: whatever happens from this version on reaches us
            seen = await ctx.run(_chats(info).version_of, session_id)
            async for update in ordered_updates(updates, seen):
                yield chat_event(update)
