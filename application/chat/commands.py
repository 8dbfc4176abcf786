"""What a person can ask of a chat, one small frozen dataclass per use case."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.chat import Rating, Turn
from domain.policy import Principal


@dataclass(frozen=True, kw_only=True)
class StartChat:
    """On published version `published_version` (None: the latest), or with `draft` on the
    draft as it stands when each question is answered."""

    actor: str
    workflow_id: UUID
    published_version: int | None = None
    draft: bool = False
    principal: Principal | None = None  # who asks (an embedded chat never sees the draft)


@dataclass(frozen=True, kw_only=True)
class SendMessage:
    """`conversation`: earlier turns the asker brings along (a program that keeps the
    conversation itself); `instructions`: theirs for the model. Both reach the stack's LLM."""

    actor: str
    session_id: UUID
    content: str
    conversation: tuple[Turn, ...] = ()
    instructions: str = ""


@dataclass(frozen=True, kw_only=True)
class RateAnswer:
    """Thumbs up or down on an answer of the session, with an optional note; `rating` None
    withdraws the rating."""

    actor: str
    session_id: UUID
    message_id: UUID
    rating: Rating | None
    note: str = ""
