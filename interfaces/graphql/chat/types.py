"""The GraphQL types of a chat: sessions, messages, live events and usage, mapped from the
application's chat views field by field."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import strawberry

from application.chat.views import ChatMessageView, ChatSessionView, ChatUpdate, UsageView
from application.ports import Passage, SearchResult
from interfaces.graphql.chat.feedback import AnswerFeedback


@strawberry.enum
class MessageRole(enum.Enum):
    USER = "USER"
    ASSISTANT = "ASSISTANT"


@strawberry.type
class Source:
    document_id: UUID
    filename: str
    page: int | None
    chunk: int
    score: float
    text: str
    ocr: bool = strawberry.field(
        description="Whether the passage was read from a scanned page by OCR (no text layer)."
    )

    @classmethod
    def of(cls, p: Passage) -> Source:
        return cls(
            document_id=UUID(p.document_id),
            filename=p.filename,
            page=p.page,
            chunk=p.chunk,
            score=p.score,
            text=p.text,
            ocr=p.ocr,
        )


@strawberry.type(description="A web page a web search gave the answer, as the search found it.")
class WebSource:
    title: str = strawberry.field(description="The page's title.")
    url: str = strawberry.field(
        description="The page's address, as the search returned it (not checked to be http(s))."
    )
    snippet: str = strawberry.field(description="The words of the page the search quoted.")

    @classmethod
    def of(cls, r: SearchResult) -> WebSource:
        return cls(title=r.title, url=r.url, snippet=r.snippet)


@strawberry.type
class TokenUsage:
    prompt_tokens: int
    completion_tokens: int


@strawberry.type(description="Why a question got no answer.")
class ChatError:
    code: str
    message: str


@strawberry.type
class ChatMessage:
    id: UUID
    role: MessageRole
    content: str
    sources: list[Source]
    created_at: datetime
    reply_to: UUID | None = strawberry.field(description="An answer's question.")
    model: str | None
    usage: TokenUsage | None
    latency_ms: int | None
    status: str = strawberry.field(
        description="A question is pending, answered or failed; an answer is answered."
    )
    error: ChatError | None
    web_sources: list[WebSource] = strawberry.field(
        description="The web pages the answer was given by a web search; empty for questions "
        "and for answers without one."
    )
    workflow_version: int | None = strawberry.field(
        description="The workflow version (its change number) whose graph gave this answer, or "
        "failed this question; null for a question not answered yet and for messages stored "
        "before versions were recorded."
    )
    published_version: int | None = strawberry.field(
        description="The published version that gave this answer, or failed this question; "
        "null in a draft session (the draft answered) and where workflowVersion is null."
    )
    feedback: AnswerFeedback | None = strawberry.field(
        description="An answer's rating (thumbs up or down), if it has one.", default=None
    )

    @classmethod
    def of(cls, m: ChatMessageView) -> ChatMessage:
        return cls(
            id=m.id,
            role=MessageRole(m.role),
            content=m.content,
            sources=[Source.of(p) for p in m.sources if _is_uuid(p.document_id)],
            created_at=m.created_at,
            reply_to=m.reply_to,
            model=m.model,
            usage=TokenUsage(
                prompt_tokens=m.usage.prompt_tokens, completion_tokens=m.usage.completion_tokens
            )
            if m.usage
            else None,
            latency_ms=m.latency_ms,
            status=m.status,
            error=ChatError(code=m.error_code, message=m.error_message or "")
            if m.error_code
            else None,
            web_sources=[WebSource.of(r) for r in m.web_sources],
            workflow_version=m.workflow_version,
            published_version=m.published_version,
            feedback=None if m.feedback is None else AnswerFeedback.of(m.feedback),
        )


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


@strawberry.type
class ChatSession:
    id: UUID
    workflow_id: UUID
    published_version: int = strawberry.field(
        description="The published version that answers in this session; 0 for a draft "
        "session, where the draft answers each question as it stands then."
    )
    created_at: datetime
    updated_at: datetime
    messages: list[ChatMessage]
    draft: bool = strawberry.field(
        description="A preview of the draft: each question is answered from the unpublished "
        "graph as it stands when it is answered (no Build needed)."
    )

    @classmethod
    def of(cls, s: ChatSessionView) -> ChatSession:
        return cls(
            id=s.id,
            workflow_id=s.workflow_id,
            published_version=s.published_version,
            created_at=s.created_at,
            updated_at=s.updated_at,
            messages=[ChatMessage.of(m) for m in s.messages],
            draft=s.draft,
        )


@strawberry.type
class ChatMessageAdded:
    session_id: UUID
    message: ChatMessage


@strawberry.type
class ChatThinking:
    session_id: UUID
    stage: str = strawberry.field(
        description="What the workflow is doing now, e.g. retrieving or generating."
    )


@strawberry.type
class ChatToken:
    session_id: UUID
    message_id: UUID
    delta: str


@strawberry.type
class ChatFailed:
    session_id: UUID
    message_id: UUID | None = strawberry.field(
        description="The id the answer would have had (the one its tokens carried)."
    )
    code: str
    message: str
    question_id: UUID | None = strawberry.field(description="The question left unanswered.")
    workflow_version: int | None = strawberry.field(
        description="The workflow version whose graph failed, as ChatMessage.workflowVersion."
    )
    published_version: int | None = strawberry.field(
        description="As ChatMessage.publishedVersion: null when the draft failed."
    )


@strawberry.type(
    description="The subscription's first event: the server listens to the session from "
    "here on. Every change after `version` will come as an event, so a read of the session "
    "made after this event misses nothing."
)
class ChatListening:
    session_id: UUID
    version: int = strawberry.field(description="The session's version when listening began.")


ChatEvent = Annotated[
    ChatMessageAdded | ChatThinking | ChatToken | ChatFailed | ChatListening,
    strawberry.union("ChatEvent"),
]


def chat_event(u: ChatUpdate) -> ChatMessageAdded | ChatThinking | ChatToken | ChatFailed:
    if u.kind == "message" and u.message is not None:
        return ChatMessageAdded(session_id=u.session_id, message=ChatMessage.of(u.message))
    if u.kind == "thinking":
        return ChatThinking(session_id=u.session_id, stage=u.stage)
    if u.kind == "token" and u.message_id is not None:
        return ChatToken(session_id=u.session_id, message_id=u.message_id, delta=u.delta)
    return ChatFailed(
        session_id=u.session_id,
        message_id=u.message_id,
        code=u.code,
        message=u.error,
        question_id=u.question_id,
        workflow_version=u.workflow_version,
        published_version=u.published_version,
    )


@strawberry.type(description="Tokens and cost of the answers of one workflow, model and day.")
class UsageEntry:
    workflow_id: UUID
    day: date
    model: str
    answers: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None = strawberry.field(
        description="Estimated from the server's price table; null for a model it has no price for."
    )

    @classmethod
    def of(cls, u: UsageView) -> UsageEntry:
        return cls(
            workflow_id=u.workflow_id,
            day=u.day,
            model=u.model,
            answers=u.answers,
            prompt_tokens=u.prompt_tokens,
            completion_tokens=u.completion_tokens,
            cost_usd=u.cost_usd,
        )
