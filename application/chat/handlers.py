"""Chat use cases: start a session on a published version or on the draft, send a message
(stored here, answered by application.chat.answering), and the reads of sessions and usage."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from uuid import UUID

import anyio

from application.chat import commands as c
from application.chat.answering import ChatAnswering
from application.chat.sessions import ChatSessions
from application.chat.views import ChatMessageView, ChatReadModel, ChatSessionView, UsageView
from application.errors import Forbidden
from application.eventlog.log import EventLog
from application.workflow.handlers import WorkflowService
from domain.chat import ChatSession
from domain.errors import InvalidCommand


class ChatService:
    def __init__(
        self,
        store: EventLog,
        workflows: WorkflowService,
        read_model: ChatReadModel,
        answering: ChatAnswering,
        caught_up: Callable[[], object] = lambda: None,
    ) -> None:
        """`caught_up` waits (briefly) until the read model holds every event stored so far,
        so reads show one's own writes."""
        self.store, self.chats = store, ChatSessions(store)
        self.workflows, self.read_model = workflows, read_model
        self.answering, self.caught_up = answering, caught_up

    # ---------------------------------------------------------------- commands

    def start(self, cmd: c.StartChat) -> ChatSessionView:
        """A session on published version `number` (the latest when None), or on the draft."""
        if cmd.draft and cmd.principal is not None and cmd.principal.publishable:
            raise Forbidden("an embedded chat answers from the published stack, not the draft")
        workflow = self.workflows.load(cmd.workflow_id)
        if cmd.draft and cmd.published_version is not None:
            raise InvalidCommand("a draft chat answers from the draft: give no published version")
        pinned = None if cmd.draft else workflow.published_version(cmd.published_version).number
        chat = ChatSession.start(cmd.workflow_id, pinned, cmd.actor)
        self.store.save(chat)
        return ChatSessionView(
            chat.id,
            cmd.workflow_id,
            chat.published_version,
            chat.created_on,
            chat.modified_on,
            draft=chat.draft,
        )

    async def send(self, cmd: c.SendMessage) -> ChatMessageView:
        """Stores the question and has this process answer it (call on the event loop)."""
        message, chat = await anyio.to_thread.run_sync(self._record_question, cmd)
        self.answering.answer_soon(cmd.session_id, chat)
        return message

    def _record_question(self, cmd: c.SendMessage) -> tuple[ChatMessageView, ChatSession]:
        message_id = uuid.uuid4()
        chat = self.chats.change(
            cmd.session_id, lambda chat: chat.ask(message_id, cmd.content, cmd.actor)
        )
        question = next(q for q in chat.pending if q.id == message_id)
        view = ChatMessageView(
            question.id,
            cmd.session_id,
            "USER",
            question.content,
            question.asked_at,
            status="pending",
        )
        return view, chat

    # ---------------------------------------------------------------- reads

    def get(self, session_id: UUID) -> ChatSessionView | None:
        self.caught_up()
        return self.read_model.get_session(session_id)

    def sessions(self, workflow_id: UUID, author: str | None = None) -> list[ChatSessionView]:
        """The workflow's sessions: all, or those `author` started."""
        self.caught_up()
        found = self.read_model.list_sessions(workflow_id)
        return found if author is None else [s for s in found if s.author == author]

    def usage(
        self, workflow_id: UUID | None, among: Collection[UUID] | None = None
    ) -> list[UsageView]:
        """Of one workflow, or of all (those `among`, when given)."""
        found = self.read_model.usage(workflow_id)
        return found if among is None else [u for u in found if u.workflow_id in among]

    def version_of(self, session_id: UUID) -> int:
        """The session's version now (raises NotFound), where a live subscription starts."""
        return self.chats.load(session_id).version
