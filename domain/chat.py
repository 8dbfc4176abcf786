"""The ChatSession aggregate: a conversation with one published version of a workflow.

A session is pinned to the version it was started on, so republishing the workflow never
changes the answers of a conversation under way. Questions are answered in the order they
were asked; each ends in exactly one answer or one failure.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidCommand, NotFound

MAX_QUESTION = 20_000

# Answers get ids derived from their question's, so every process (and a replay) agrees on
# the id that streamed tokens and the stored answer carry.
_ANSWERS = UUID("6f0e3c4e-2b7d-4f55-9a43-2f3c2b8f1d10")


def answer_id_for(question_id: UUID) -> UUID:
    return uuid.uuid5(_ANSWERS, str(question_id))


@dataclass(frozen=True)
class Question:
    id: UUID
    content: str
    asked_at: datetime

    def __post_init__(self) -> None:
        # whatever decoded it, the id and the time keep their types (a str id would never
        # match the UUID an answer names)
        if not isinstance(self.id, UUID):
            object.__setattr__(self, "id", UUID(str(self.id)))
        if not isinstance(self.asked_at, datetime):
            object.__setattr__(self, "asked_at", datetime.fromisoformat(str(self.asked_at)))


class ChatSession(Aggregate):
    @event("ChatStarted")
    def __init__(self, workflow_id: UUID, published_version: int, actor: str) -> None:
        self.workflow_id, self.published_version = workflow_id, published_version
        self.pending: list[Question] = []
        self.answered = 0
        self.failed = 0
        self.last_actor = actor

    @classmethod
    def start(cls, workflow_id: UUID, published_version: int, actor: str) -> ChatSession:
        if published_version < 1:
            raise InvalidCommand("a chat starts on a published version (1, 2, …)")
        return cls(workflow_id, published_version, actor)

    # ---------------------------------------------------------------- asking

    def ask(self, message_id: UUID, content: str, actor: str) -> Question:
        text = content.strip()
        if not text:
            raise InvalidCommand("the message must not be empty")
        if len(text) > MAX_QUESTION:
            raise InvalidCommand(f"the message is longer than {MAX_QUESTION} characters")
        if any(q.id == message_id for q in self.pending):
            raise InvalidCommand(f"there is already a message {message_id}")
        self.trigger_event(self.UserAsked, message_id=message_id, content=text, actor=actor)
        return self.pending[-1]

    class UserAsked(Aggregate.Event):
        message_id: UUID
        content: str
        actor: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, ChatSession)
            aggregate.pending.append(Question(self.message_id, self.content, self.timestamp))
            aggregate.last_actor = self.actor

    @property
    def next_question(self) -> Question | None:
        """The question to answer now: the oldest one without an answer."""
        return self.pending[0] if self.pending else None

    # ---------------------------------------------------------------- answering

    def answer(
        self,
        question_id: UUID,
        content: str,
        sources: list[dict[str, Any]],
        model: str,
        usage: dict[str, int],
        latency_ms: int,
        actor: str,
        web_sources: Sequence[dict[str, Any]] = (),
    ) -> UUID:
        """`sources` are the document passages the answer was given, `web_sources` the web
        pages (title, url, snippet) a web search put in its prompt."""
        self._pending(question_id)
        answer_id = answer_id_for(question_id)
        self.trigger_event(
            self.AssistantAnswered,
            message_id=answer_id,
            question_id=question_id,
            content=content,
            sources=sources,
            model=model,
            usage=usage,
            latency_ms=max(0, latency_ms),
            actor=actor,
            web_sources=list(web_sources),
        )
        return answer_id

    class AssistantAnswered(Aggregate.Event):
        message_id: UUID  # the answer's own id, derived from the question's
        question_id: UUID
        content: str
        sources: list[dict[str, Any]]
        model: str
        usage: dict[str, int]
        latency_ms: int
        actor: str
        web_sources: list[dict[str, Any]] = field(default_factory=list)

        # Version 1, stored before answers cited web pages, has no web_sources. The mapper
        # sets a stored event's state on the object without running its constructor, so a
        # default alone would leave the attribute missing: the upcast fills it in.
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["web_sources"] = []

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, ChatSession)
            aggregate.pending = [q for q in aggregate.pending if q.id != self.question_id]
            aggregate.answered += 1
            aggregate.last_actor = self.actor

    def fail(self, question_id: UUID, code: str, message: str, actor: str) -> UUID:
        self._pending(question_id)
        answer_id = answer_id_for(question_id)
        self.trigger_event(
            self.AnswerFailed,
            message_id=answer_id,
            question_id=question_id,
            code=code,
            message=message,
            actor=actor,
        )
        return answer_id

    class AnswerFailed(Aggregate.Event):
        message_id: UUID  # the id the answer would have had (the one its tokens carried)
        question_id: UUID
        code: str
        message: str
        actor: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, ChatSession)
            aggregate.pending = [q for q in aggregate.pending if q.id != self.question_id]
            aggregate.failed += 1
            aggregate.last_actor = self.actor

    def _pending(self, question_id: UUID) -> Question:
        for q in self.pending:
            if q.id == question_id:
                return q
        raise NotFound(f"no question {question_id} is waiting for an answer in this chat")
