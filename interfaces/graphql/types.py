"""GraphQL types mirroring the contract (../shared/contract/schema.graphql)."""

from __future__ import annotations

import dataclasses
import enum
from datetime import date, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from application.chat_views import ChatMessageView, ChatSessionView, ChatUpdate, UsageView
from application.document_views import DocumentProgress as ProgressView
from application.document_views import DocumentView
from application.ports import Passage, SearchResult
from application.views import PublishedInfo, UndoState, WorkflowView
from domain import graph
from domain.components import ComponentSpec as DomainSpec
from domain.document import DocumentIndex as DomainIndex
from domain.errors import ValidationIssue as DomainIssue
from interfaces.graphql.component_forms import form_schema
from interfaces.graphql.context import Info

T = TypeVar("T")


def copied(cls: type[T], source: object, **given: Any) -> T:
    """The GraphQL object `cls` for an application view or domain value: each of its fields
    not `given` is the source's attribute of the same name."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]  # strawberry types are dataclasses
    names = [f.name for f in fields if f.init and f.name not in given]
    return cls(**given, **{name: getattr(source, name) for name in names})


@strawberry.enum
class NodeKind(enum.Enum):
    USER_QUERY = "USER_QUERY"
    KNOWLEDGE_BASE = "KNOWLEDGE_BASE"
    LLM_ENGINE = "LLM_ENGINE"
    OUTPUT = "OUTPUT"


@strawberry.type
class Position:
    x: float
    y: float


@strawberry.input
class PositionInput:
    x: float
    y: float


@strawberry.type
class Node:
    id: str
    kind: NodeKind
    label: str
    position: Position
    config: JSON = strawberry.field(
        description="Secrets never appear here: an API key shows only as a reference and a "
        "hint such as '…abcd'."
    )

    @classmethod
    def of(cls, n: graph.Node) -> Node:
        position = Position(x=n.position.x, y=n.position.y)
        return copied(cls, n, kind=NodeKind(n.kind.value), position=position)


@strawberry.type
class Edge:
    id: str
    source: str
    target: str
    source_handle: str | None
    target_handle: str | None

    @classmethod
    def of(cls, e: graph.Edge) -> Edge:
        return copied(cls, e)


@strawberry.type
class ValidationIssue:
    code: str
    message: str
    node_id: str | None
    edge_id: str | None

    @classmethod
    def of(cls, i: DomainIssue) -> ValidationIssue:
        return copied(cls, i)


@strawberry.type
class Validation:
    valid: bool
    issues: list[ValidationIssue]


@strawberry.type
class PublishedVersion:
    number: int = strawberry.field(description="1, 2, 3 … in the order of publication.")
    workflow_version: int = strawberry.field(
        description="The workflow's version (its event count) at publication."
    )
    published_at: datetime
    note: str

    @classmethod
    def of(cls, p: PublishedInfo) -> PublishedVersion:
        return copied(cls, p)


@strawberry.enum
class DocumentStatus(enum.Enum):
    PENDING = "PENDING"
    INDEXED = "INDEXED"
    FAILED = "FAILED"
    REMOVED = "REMOVED"


@strawberry.type(description="How far the indexing of a pending document is (live only).")
class DocumentProgress:
    stage: str = strawberry.field(description="extracting or embedding")
    index_key: str | None = strawberry.field(
        description="The generation being built (DocumentIndex.key)."
    )
    pages_extracted: int
    page_total: int
    chunks_embedded: int
    chunk_total: int | None
    fraction: float = strawberry.field(description="From 0 to 1, for a progress bar.")

    @classmethod
    def of(cls, p: ProgressView) -> DocumentProgress:
        return copied(cls, p)


@strawberry.type(
    description="One generation of a document's index: its chunks and vectors under one set "
    "of Knowledge Base settings. A document has one for the draft's settings and one for the "
    "published version's, when they differ."
)
class DocumentIndex:
    key: str = strawberry.field(
        description="A fingerprint of what decides the vectors: embedder, model, chunk size, "
        "overlap, base URL (not the API key)."
    )
    status: DocumentStatus = strawberry.field(description="PENDING, INDEXED or FAILED.")
    page_count: int | None
    chunk_count: int | None
    embedding_model: str | None
    embedder: str
    chunk_size: int
    chunk_overlap: int
    failed_stage: str | None
    error: str | None
    draft: bool = strawberry.field(description="The draft's Knowledge Base settings make it.")
    live: bool = strawberry.field(description="The published version answers from it.")

    @classmethod
    def of(cls, d: DocumentView, index: DomainIndex) -> DocumentIndex:
        return copied(
            cls,
            index,
            status=DocumentStatus(index.status.value),
            embedder=index.settings.embedder,
            chunk_size=index.settings.chunk_size,
            chunk_overlap=index.settings.chunk_overlap,
            draft=d.is_draft(index),
            live=d.is_live(index),
        )


@strawberry.type
class Document:
    id: UUID
    workflow_id: UUID
    node_id: str | None
    filename: str
    size_bytes: int
    status: DocumentStatus
    page_count: int | None
    chunk_count: int | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    content_type: str
    sha256: str
    embedding_model: str | None = strawberry.field(
        description="The vector space of the document's vectors, e.g. local/all-MiniLM-L6-v2."
    )
    failed_stage: str | None = strawberry.field(
        description="Where indexing failed: read, extract, chunk, embed or index."
    )
    progress: DocumentProgress | None = strawberry.field(
        description="Set on live events (documentEvents) while the document is processed."
    )
    indexes: list[DocumentIndex] = strawberry.field(
        description="Its index generations. status, pageCount, chunkCount and error above are "
        "those of the draft's (what the Knowledge Base panel shows)."
    )

    @classmethod
    def of(cls, d: DocumentView) -> Document:
        return copied(
            cls,
            d,
            status=DocumentStatus(d.status.value),
            progress=DocumentProgress.of(d.progress) if d.progress else None,
            indexes=[DocumentIndex.of(d, i) for i in d.indexes],
        )


@strawberry.type(description="One person's undo and redo, named as their history names them.")
class Undo:
    can_undo: bool
    can_redo: bool
    undo_label: str | None = strawberry.field(
        description="What undo takes back, e.g. Moved Output."
    )
    redo_label: str | None = strawberry.field(description="What redo does again.")

    @classmethod
    def of(cls, u: UndoState) -> Undo:
        return copied(cls, u)


@strawberry.type
class Workflow:
    view: strawberry.Private[WorkflowView]
    id: UUID
    name: str
    description: str
    version: int = strawberry.field(
        description="The number of events in the workflow's history; every change adds one."
    )
    created_at: datetime
    updated_at: datetime

    @strawberry.field
    def nodes(self) -> list[Node]:
        return [Node.of(n) for n in self.view.nodes]

    @strawberry.field
    def edges(self) -> list[Edge]:
        return [Edge.of(e) for e in self.view.edges]

    @strawberry.field
    def validation(self, info: Info) -> Validation:
        issues = info.context.container.workflows.validate(self.view)
        return Validation(valid=not issues, issues=[ValidationIssue.of(i) for i in issues])

    @strawberry.field
    def published_versions(self) -> list[PublishedVersion]:
        return [PublishedVersion.of(p) for p in self.view.published]

    @strawberry.field(description="The number of the latest published version, if any.")
    def latest_published_version(self) -> int | None:
        return self.view.published[-1].number if self.view.published else None

    @strawberry.field(
        description="Changes a Build would publish: each node or connection added or removed, "
        "each setting or node name changed since the latest published version (moves, the "
        "stack's name and description do not count). Never built: every node and connection."
    )
    def unpublished_changes(self) -> int:
        return self.view.unpublished_changes

    @strawberry.field(description="What the person asking can undo and redo of their own changes.")
    async def undo(self, info: Info) -> Undo:
        ctx = info.context
        if self.view.undo is not None:
            return Undo.of(self.view.undo.get(ctx.actor, UndoState()))
        state = await ctx.run(ctx.container.workflows.undo_state, self.id, ctx.actor)
        return Undo.of(state)

    @strawberry.field(description="The workflow's documents, removed ones excepted.")
    async def documents(self, info: Info) -> list[Document]:
        return [Document.of(d) for d in await info.context.documents_of.load(self.id)]

    @classmethod
    def of(cls, v: WorkflowView) -> Workflow:
        return copied(cls, v, view=v)


@strawberry.type
class ComponentSpec:
    kind: NodeKind
    title: str
    description: str
    config_schema: JSON = strawberry.field(
        description="A JSON Schema of the node's config, from which the SPA draws its form."
    )
    inputs: list[str]
    outputs: list[str]

    @classmethod
    def of(cls, s: DomainSpec) -> ComponentSpec:
        return copied(
            cls,
            s,
            kind=NodeKind(s.kind.value),
            config_schema=form_schema(s),
            inputs=list(s.inputs),
            outputs=list(s.outputs),
        )


# ---------------------------------------------------------------- chats


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

    @classmethod
    def of(cls, p: Passage) -> Source:
        return copied(cls, p, document_id=UUID(p.document_id))


@strawberry.type(description="A web page a web search gave the answer, as the search found it.")
class WebSource:
    title: str = strawberry.field(description="The page's title.")
    url: str = strawberry.field(
        description="The page's address, as the search returned it (not checked to be http(s))."
    )
    snippet: str = strawberry.field(description="The words of the page the search quoted.")

    @classmethod
    def of(cls, r: SearchResult) -> WebSource:
        return copied(cls, r)


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
        return copied(cls, s, messages=[ChatMessage.of(m) for m in s.messages])


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


ChatEvent = Annotated[
    ChatMessageAdded | ChatThinking | ChatToken | ChatFailed, strawberry.union("ChatEvent")
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
        return copied(cls, u)
