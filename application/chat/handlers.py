"""Chat use cases: start a session on a published version or on the draft, send a message
(stored here, answered by application.chat.answering), and the reads of sessions and usage."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import replace
from uuid import UUID

import anyio

from application import telemetry
from application.chat import commands as c
from application.chat.answering import ChatAnswering
from application.chat.sessions import ChatSessions
from application.chat.views import (
    AnswerFeedbackView,
    ChatMessageView,
    ChatReadModel,
    ChatSessionView,
    FeedbackView,
    UsageView,
)
from application.errors import Forbidden
from application.eventlog.log import EventLog
from application.workflow.handlers import WorkflowService
from domain.chat import ChatSession
from domain.errors import InvalidCommand

MAX_FEEDBACK_PAGE = 100


class ChatService:
    def __init__(
        self,
        store: EventLog,
        workflows: WorkflowService,
        read_model: ChatReadModel,
        answering: ChatAnswering,
        caught_up: Callable[[], object] = lambda: None,
        within_budget: Callable[[UUID], None] = lambda workflow_id: None,
    ) -> None:
        """`caught_up` waits (briefly) until the read model holds every event stored so far,
        so reads show one's own writes. `within_budget(workflow_id)` raises when the stack's
        workspace has used its month's budget (application.account.budgets)."""
        self.store, self.chats = store, ChatSessions(store)
        self.workflows, self.read_model = workflows, read_model
        self.answering, self.caught_up = answering, caught_up
        self.within_budget = within_budget

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
        with telemetry.tracer.start_as_current_span("chat.send") as span:
            span.set_attribute(telemetry.SESSION_ID, str(cmd.session_id))
            span.set_attribute("genai.question.chars", len(cmd.content))
            message, chat = await anyio.to_thread.run_sync(self._record_question, cmd)
            span.set_attribute(telemetry.STACK_ID, str(chat.workflow_id))
            # the answer's span links to this one (ChatAnswering.answer_soon keeps it)
            self.answering.answer_soon(cmd.session_id, chat)
        return message

    def _record_question(self, cmd: c.SendMessage) -> tuple[ChatMessageView, ChatSession]:
        message_id = uuid.uuid4()

        def ask(chat: ChatSession) -> None:
            self.within_budget(chat.workflow_id)  # every question, whichever way it came
            chat.ask(message_id, cmd.content, cmd.actor, cmd.conversation, cmd.instructions)

        chat = self.chats.change(cmd.session_id, ask)
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

    def rate(self, cmd: c.RateAnswer) -> AnswerFeedbackView:
        """Rates an answer of the session (or withdraws its rating); the rating it has now."""
        chat = self.chats.change(
            cmd.session_id,
            lambda chat: chat.rate(cmd.message_id, cmd.rating, cmd.note, cmd.actor),
        )
        found, by = chat.rating_of(cmd.message_id), chat.rated_by(cmd.message_id)
        if found is None or by is None:
            return AnswerFeedbackView(
                cmd.message_id, cmd.session_id, None, "", cmd.actor, chat.modified_on
            )
        (rating, note), (actor, at) = found, by
        return AnswerFeedbackView(cmd.message_id, cmd.session_id, rating, note, actor, at)

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

    def feedback(
        self, workflow_id: UUID, author: str | None, offset: int = 0, limit: int = 20
    ) -> FeedbackView:
        """The stack's ratings (of every session, or of those `author` started): counts,
        and a page of the answers rated down, newest first."""
        if offset < 0 or not 1 <= limit <= MAX_FEEDBACK_PAGE:
            raise InvalidCommand(
                f"a page starts at 0 or later and holds 1 to {MAX_FEEDBACK_PAGE} answers"
            )
        self.caught_up()
        # one more than asked says whether more follow
        found = self.read_model.feedback(workflow_id, author, offset, limit + 1)
        return replace(
            found, rated_down=found.rated_down[:limit], has_more=len(found.rated_down) > limit
        )

    def version_of(self, session_id: UUID) -> int:
        """The session's version now (raises NotFound), where a live subscription starts."""
        return self.chats.load(session_id).version
