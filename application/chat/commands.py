"""What a person can ask of a chat, one small frozen dataclass per use case."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

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
    actor: str
    session_id: UUID
    content: str
