"""What chat queries and the chatEvents subscription return.

Stored chat events reach a subscriber as `ChatUpdate`s made by the live feed's router; the
ephemeral ones (thinking stages, token deltas) travel through the event bus as small dicts
(PostgreSQL NOTIFY carries JSON) and become `ChatUpdate`s on arrival. Every update names
the session version it follows, so a subscriber can keep them in the order they happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, Protocol
from uuid import UUID

from application.ports import Passage, SearchResult, Usage
from domain.chat import Rating

Role = Literal["USER", "ASSISTANT"]
# A user message waits for its answer, has it, or its answer failed.
Status = Literal["pending", "answered", "failed"]


@dataclass(frozen=True)
class AnswerFeedbackView:
    """An answer's rating now; `rating` None once it was withdrawn."""

    message_id: UUID
    session_id: UUID
    rating: Rating | None
    note: str
    actor: str
    rated_at: datetime


@dataclass(frozen=True)
class ChatMessageView:
    id: UUID
    session_id: UUID
    role: Role
    content: str
    created_at: datetime
    sources: tuple[Passage, ...] = ()
    reply_to: UUID | None = None  # an answer's question
    model: str | None = None
    usage: Usage | None = None
    latency_ms: int | None = None
    status: Status = "answered"
    error_code: str | None = None
    error_message: str | None = None
    web_sources: tuple[SearchResult, ...] = ()  # web pages a web search gave the answer
    # The graph that answered (an answer) or failed (a failed question): the workflow
    # version it stood at and, in a published session, the published number.
    workflow_version: int | None = None
    published_version: int | None = None
    feedback: AnswerFeedbackView | None = None  # an answer's rating, if it has one


@dataclass(frozen=True)
class RatedAnswerView:
    """An answer of a stack's feedback: the question it answered, the answer, its rating."""

    feedback: AnswerFeedbackView
    question: str
    answer: str
    asked_at: datetime | None
    model: str | None
    published_version: int | None  # None: the draft answered


@dataclass(frozen=True)
class FeedbackView:
    """A stack's feedback: how many answers have each rating, and one page of the answers
    rated down, newest rating first."""

    up: int
    down: int
    rated_down: tuple[RatedAnswerView, ...]
    offset: int
    has_more: bool = False  # whether more answers rated down follow this page


@dataclass(frozen=True)
class ChatSessionView:
    id: UUID
    workflow_id: UUID
    published_version: int  # 0 for a draft session
    created_at: datetime
    updated_at: datetime
    messages: tuple[ChatMessageView, ...] = ()
    draft: bool = False
    author: str = "local"  # the actor who started it


@dataclass(frozen=True)
class UsageView:
    workflow_id: UUID
    day: date
    model: str
    answers: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None  # None when the price table has no price for the model


class ChatReadModel(Protocol):
    """The `chat_sessions`, `chat_messages` and `usage` tables, as filled by their projection."""

    def get_session(self, session_id: UUID) -> ChatSessionView | None: ...

    def list_sessions(self, workflow_id: UUID) -> list[ChatSessionView]: ...

    def usage(self, workflow_id: UUID | None) -> list[UsageView]: ...

    def feedback(
        self, workflow_id: UUID, author: str | None, offset: int, limit: int
    ) -> FeedbackView:
        """The stack's ratings: of every session, or of those `author` started."""
        ...

    def sessions_waiting(self) -> list[UUID]:
        """Sessions with a question that has neither an answer nor a failure."""
        ...


# ---------------------------------------------------------------- live updates

UpdateKind = Literal["message", "thinking", "token", "failed"]


@dataclass(frozen=True)
class ChatUpdate:
    """One item of a session's live stream. `version` is the session version of a stored
    event, or for an ephemeral update the version of the last stored event before it."""

    kind: UpdateKind
    session_id: UUID
    version: int
    stored: bool
    message: ChatMessageView | None = None
    stage: str = ""
    message_id: UUID | None = None
    delta: str = ""
    code: str = ""
    error: str = ""
    question_id: UUID | None = None
    workflow_version: int | None = None  # a failure's, as in ChatMessageView
    published_version: int | None = None

    def to_bus(self) -> dict[str, Any]:
        """The JSON form of an ephemeral update."""
        return {
            "kind": self.kind,
            "sessionId": str(self.session_id),
            "after": self.version,
            "stage": self.stage,
            "messageId": str(self.message_id) if self.message_id else None,
            "delta": self.delta,
        }

    @classmethod
    def from_bus(cls, data: dict[str, Any]) -> ChatUpdate:
        return cls(
            kind=data["kind"],
            session_id=UUID(data["sessionId"]),
            version=int(data["after"]),
            stored=False,
            stage=data.get("stage") or "",
            message_id=UUID(data["messageId"]) if data.get("messageId") else None,
            delta=data.get("delta") or "",
        )


def chat_topic(session_id: UUID) -> str:
    return f"chat:{session_id}"


def passage_of(data: dict[str, Any]) -> Passage:
    """A source as recorded in an AssistantAnswered event."""
    return Passage(
        document_id=str(data["document_id"]),
        filename=str(data["filename"]),
        page=data.get("page"),
        chunk=int(data["chunk"]),
        score=float(data["score"]),
        text=str(data["text"]),
        ocr=bool(data.get("ocr", False)),
    )


def web_source_of(data: dict[str, Any]) -> SearchResult:
    """A web page as recorded in an AssistantAnswered event."""
    return SearchResult(
        title=str(data.get("title") or ""),
        url=str(data.get("url") or ""),
        snippet=str(data.get("snippet") or ""),
    )
