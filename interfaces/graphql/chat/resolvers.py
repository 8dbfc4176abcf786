"""Chat queries, mutations and the chatEvents subscription."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from uuid import UUID

import strawberry

from application.account.access import Resource
from application.chat import commands as c
from application.chat.handlers import ChatService
from application.chat.live import ordered_updates
from application.chat.views import chat_topic
from domain.policy import Action
from interfaces.graphql.authorize import needs
from interfaces.graphql.chat.feedback import AnswerFeedback, AnswerRating, StackFeedback
from interfaces.graphql.chat.types import (
    ChatEvent,
    ChatListening,
    ChatMessage,
    ChatSession,
    UsageEntry,
    chat_event,
)
from interfaces.graphql.context import Info
from interfaces.graphql.resolve import execute, read
from interfaces.limits import Kind


def _service(info: Info) -> ChatService:
    return info.context.services.chats


@strawberry.type
class ChatQueries:
    @strawberry.field(
        extensions=needs(Action.CHAT, Resource.CHAT_SESSION, "id", unseen_is_null=True)
    )
    async def chat_session(self, info: Info, id: UUID) -> ChatSession | None:
        view = await read(_service(info).get, id)
        return None if view is None else ChatSession.of(view)

    @strawberry.field(extensions=needs(Action.LIST_CHATS, Resource.WORKFLOW, "workflow_id"))
    async def chat_sessions(self, info: Info, workflow_id: UUID) -> list[ChatSession]:
        context = info.context
        everyone = await read(
            context.services.access.may_read_all_sessions, context.principal, workflow_id
        )
        views = await read(
            _service(info).sessions, workflow_id, None if everyone else context.actor
        )
        return [ChatSession.of(v) for v in views]

    @strawberry.field(
        extensions=needs(Action.OPEN, Resource.WORKFLOW, "workflow_id"),
        description="Tokens and estimated cost of answers by workflow, model and day (UTC), "
        "newest first; all workflows without workflowId.",
    )
    async def usage(self, info: Info, workflow_id: UUID | None = None) -> list[UsageEntry]:
        among = None
        if workflow_id is None:  # all: of the workflows the asker may open
            context = info.context
            mine = await read(context.services.access.visible_workspaces, context.principal)
            stacks = await read(context.services.workflows.list_all, mine)
            among = {s.id for s in stacks}
        entries = await read(_service(info).usage, workflow_id, among)
        return [UsageEntry.of(u) for u in entries]

    @strawberry.field(
        extensions=needs(Action.CHAT, Resource.WORKFLOW, "workflow_id"),
        description="How the stack's answers were rated: counts, and the answers rated down "
        "with their questions and notes, newest first, `first` (at most 100) from `offset`. "
        "Of every chat for the workspace's admins, of one's own for anyone else.",
    )
    async def feedback(
        self, info: Info, workflow_id: UUID, first: int = 20, offset: int = 0
    ) -> StackFeedback:
        context = info.context
        everyone = await read(
            context.services.access.may_read_all_sessions, context.principal, workflow_id
        )
        author = None if everyone else context.actor
        view = await read(_service(info).feedback, workflow_id, author, offset, first)
        return StackFeedback.of(view)


@strawberry.type
class ChatMutations:
    @strawberry.mutation(
        extensions=needs(Action.CHAT, Resource.WORKFLOW, "workflow_id"),
        description="Without publishedVersion: the latest published version. With draft: a "
        "preview of the draft, which needs no published version (and takes none).",
    )
    async def start_chat(
        self,
        info: Info,
        workflow_id: UUID,
        published_version: int | None = None,
        draft: bool = False,
    ) -> ChatSession:
        view = await execute(
            info,
            _service(info).start,
            c.StartChat,
            workflow_id=workflow_id,
            published_version=published_version,
            draft=draft,
            principal=info.context.principal,
        )
        return ChatSession.of(view)

    @strawberry.mutation(
        extensions=needs(Action.CHAT, Resource.CHAT_SESSION, "session_id", limit=Kind.QUESTION),
        description="Records the user's message and starts the answer, which arrives on chatEvents.",
    )
    async def send_message(self, info: Info, session_id: UUID, content: str) -> ChatMessage:
        message = await execute(
            info, _service(info).send, c.SendMessage, session_id=session_id, content=content
        )
        return ChatMessage.of(message)

    @strawberry.mutation(
        extensions=needs(Action.CHAT, Resource.CHAT_SESSION, "session_id"),
        description="Thumbs up or down on an answer of the session, with an optional note (at "
        "most 1000 characters); rating it again replaces the rating, a null rating withdraws "
        "it. Answers the rating it has now.",
    )
    async def rate_answer(
        self,
        info: Info,
        session_id: UUID,
        message_id: UUID,
        rating: AnswerRating | None,
        note: str = "",
    ) -> AnswerFeedback:
        view = await execute(
            info,
            _service(info).rate,
            c.RateAnswer,
            session_id=session_id,
            message_id=message_id,
            rating=rating,
            note=note,
        )
        return AnswerFeedback.of(view)


@strawberry.type
class ChatSubscriptions:
    @strawberry.subscription(extensions=needs(Action.CHAT, Resource.CHAT_SESSION, "session_id"))
    async def chat_events(self, info: Info, session_id: UUID) -> AsyncGenerator[ChatEvent, None]:
        async with info.context.services.live(chat_topic(session_id)) as updates:
            # read after joining: whatever happens from this version on reaches us, which
            # the client learns here (graphql-transport-ws does not acknowledge a subscribe)
            seen = await read(_service(info).version_of, session_id)
            yield ChatListening(session_id=session_id, version=seen)
            async for update in ordered_updates(updates, seen):
                yield chat_event(update)
