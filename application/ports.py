"""What the application needs from the world outside, as protocols.

Adapters in `infrastructure/` implement these; the composition root in `interfaces/` picks
them from settings. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, Protocol, runtime_checkable
from uuid import UUID

from domain.chat import Turn
from domain.graph import Node

# ---------------------------------------------------------------- secrets


@dataclass(frozen=True)
class StoredSecret:
    """Where a secret went: the reference kept in a node's config and a hint for people."""

    ref: str
    hint: str  # e.g. "…abcd"


class SecretStore(Protocol):
    def put(self, value: str) -> StoredSecret: ...

    def get(self, ref: str) -> str:
        """The plain value; raises KeyError for an unknown reference."""
        ...

    def exists(self, ref: str) -> bool: ...


# ---------------------------------------------------------------- live updates


class EventBus(Protocol):
    """Carries messages to subscribers, across processes where the adapter can.

    Topics: `workflow:{id}`, `documents:{workflow_id}`, `chat:{session_id}`.
    Messages are JSON-able dicts; keep them small (PostgreSQL NOTIFY allows ~8 kB).
    """

    def publish(self, topic: str, message: dict[str, Any]) -> None: ...

    def subscribe(
        self, topic: str
    ) -> AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...


# ---------------------------------------------------------------- chats


class ChatLeases(Protocol):
    """Which process answers which session; a lease not renewed in time has expired."""

    def claim(self, session_id: UUID, owner: str, seconds: float) -> bool:
        """Takes the lease if nobody holds it or its holder let it expire."""
        ...

    def renew(self, session_ids: list[UUID], owner: str, seconds: float) -> None: ...

    def release(self, session_id: UUID, owner: str) -> None: ...

    def clear(self) -> None:
        """Forgets every lease (a process that knows it is alone, at start-up)."""
        ...


# ---------------------------------------------------------------- documents


@dataclass(frozen=True)
class BlobInfo:
    key: str  # the sha256 of the bytes, hex
    size: int


class BlobTooLarge(Exception):
    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"the file is larger than {limit_bytes // (1024 * 1024)} MB")
        self.limit_bytes = limit_bytes


class BlobStore(Protocol):
    """Content-addressed bytes: the key is the sha256 of the content."""

    def put(self, chunks: Iterable[bytes], max_bytes: int) -> BlobInfo:
        """Streams chunks to the store; raises BlobTooLarge as soon as max_bytes is passed."""
        ...

    def open(self, key: str) -> BinaryIO: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class PageText:
    number: int  # 1-based
    text: str
    ocr: bool = False  # read from a scanned picture by OCR, not from a text layer


class ExtractionFailed(Exception):
    """A PDF whose text cannot be had; `reason` is written for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TextChunk:
    index: int  # 0-based position of the chunk within its document
    page: int  # the page the chunk starts on, 1-based
    text: str
    ocr: bool = False  # its page was read by OCR


class UnsupportedMediaType(Exception):
    """An upload whose bytes are not of a type we take, whatever its name says."""


PageProgress = Callable[[int, int], None]
"""Called as `on_page(done, total)` after each page is read."""

Sniffer = Callable[[bytes], bool]
"""Whether the first bytes of a file are those of a document we can read."""

Extractor = Callable[[BinaryIO, PageProgress | None], Iterable[PageText]]
"""The text of every page of a (seekable) file, in order (a list, or pages as they are read);
raises ExtractionFailed."""

Chunker = Callable[[Sequence[PageText], int, int], list[TextChunk]]
"""Pages into chunks of at most `size` characters sharing up to `overlap`: (pages, size, overlap)."""


class Embedder(Protocol):
    """Turns texts into vectors; called from worker threads, never on the event loop."""

    @property
    def model_id(self) -> str:
        """Names the vector space, e.g. `local/all-MiniLM-L6-v2`; vectors of two ids never mix."""
        ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


@runtime_checkable
class LoadsModel(Protocol):
    """An embedder that must load a model into memory before its first vectors (seconds)."""

    @property
    def loaded(self) -> bool: ...

    def load(self) -> None:
        """Returns once the model is in memory (waits for a loading begun elsewhere)."""
        ...


@dataclass(frozen=True)
class EmbedderSpec:
    """What a knowledge-base node asks for: `embedder` is local | openai | gemini."""

    embedder: str
    model: str
    api_key: str | None = None
    base_url: str | None = None


class EmbedderFactory(Protocol):
    def for_spec(self, spec: EmbedderSpec) -> Embedder: ...


@dataclass(frozen=True)
class IndexedChunk:
    id: str  # "{document_id}:{chunk}"
    text: str
    embedding: list[float]
    metadata: dict[str, str | int | float]


@dataclass(frozen=True)
class Hit:
    id: str
    text: str
    score: float  # similarity, higher is closer (1 - cosine distance)
    metadata: dict[str, Any]


@dataclass(frozen=True)
class Partition:
    """The vectors one query may look at, kept apart from all others: one index generation
    (`key`) of one knowledge base (`workflow_id`, `node_id`), embedded by one model. A
    query is always restricted to one, so none needs a filter to find its own."""

    model_id: str
    workflow_id: str
    node_id: str
    key: str


# Where a chunk of the layout before partitions belongs (its model and metadata given);
# None when it answers for nothing any more.
Locate = Callable[[str, Mapping[str, Any]], Partition | None]


class VectorIndex(Protocol):
    """One collection per partition, so that a query needs no filter to stay in its own
    knowledge base and generation, and vectors of two models never share one."""

    def upsert(self, partition: Partition, chunks: Sequence[IndexedChunk]) -> None: ...

    def query(
        self, partition: Partition, embedding: list[float], top_k: int, where: dict[str, Any]
    ) -> list[Hit]: ...

    def delete(self, partition: Partition, where: dict[str, Any]) -> None: ...

    def count(self, partition: Partition, where: dict[str, Any]) -> int: ...

    def reset(self) -> None:
        """Drops every collection (for a rebuild from the log)."""
        ...

    def upgrade(self, locate: Locate) -> int:
        """Moves the vectors of an earlier layout (one collection per model) into their
        partitions, as `locate` places each chunk, and drops the old collections; how many
        chunks moved. Nothing to do (0) once done."""
        ...


# ---------------------------------------------------------------- answering


@dataclass(frozen=True)
class Passage:
    """A retrieved piece of a document, as the LLM and the sources see it."""

    document_id: str
    filename: str
    page: int | None
    chunk: int
    score: float
    text: str
    ocr: bool = False  # read from a scanned page by OCR


@dataclass(frozen=True)
class LLMRequest:
    provider: str  # openai | gemini | extractive
    model: str
    prompt: str  # the node's template with {query} and {context} filled
    query: str
    passages: tuple[Passage, ...] = ()
    temperature: float | None = None
    max_tokens: int | None = None
    api_key: str | None = None
    base_url: str | None = None
    # The conversation before this question (oldest first) and the asker's instructions,
    # which a chat model gets as earlier messages and as a system message.
    history: tuple[Turn, ...] = ()
    instructions: str = ""


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class LLMStreamEnd:
    model: str
    usage: Usage = field(default_factory=Usage)
    # The passages the answer cites (indexes into the request's), in the order of its
    # citation numbers; None when the provider cites by the context's own numbering.
    cited: tuple[int, ...] | None = None


class ProviderError(Exception):
    """A provider refused or failed after retries; the message is safe to show (no secrets)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class LLM(Protocol):
    def stream(self, request: LLMRequest) -> AsyncIterator[str | LLMStreamEnd]:
        """Yields text deltas, then exactly one LLMStreamEnd; raises ProviderError."""
        ...


class LLMFactory(Protocol):
    def for_provider(self, provider: str) -> LLM: ...


@dataclass(frozen=True)
class ModelInfo:
    """A model a provider's server has, as its model picker shows it."""

    name: str
    size_bytes: int | None = None
    parameter_size: str | None = None  # e.g. "8.0B"
    quantization: str | None = None  # e.g. "Q4_K_M"
    family: str | None = None
    modified_at: datetime | None = None


class ModelCatalog(Protocol):
    async def models(self, base_url: str | None) -> list[ModelInfo]:
        """The models of the server at `base_url` (None: the provider's default address);
        raises ProviderError when it cannot be asked."""
        ...


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    snippet: str


class WebSearch(Protocol):
    async def search(self, query: str, api_key: str | None, limit: int) -> list[SearchResult]: ...


class Retriever(Protocol):
    """Finds the passages of a knowledge-base node's documents closest to a query; called
    from worker threads, never on the event loop."""

    def retrieve(
        self,
        workflow_id: UUID,
        node: Node,
        query: str,
        top_k: int,
        where: dict[str, Any] | None = None,
    ) -> list[Passage]:
        """`node`: the Knowledge Base being run, as the published version (or the draft, for
        a preview) has it; its settings choose the index generation asked."""
        ...


class Meter(Protocol):
    """Where the application counts what operators watch (Prometheus in
    infrastructure/metrics.py). Labels stay few: providers, models, codes — never a stack."""

    def first_token(self, provider: str, seconds: float) -> None: ...

    def generated(self, provider: str, model: str, usage: Usage) -> None: ...

    def provider_error(self, provider: str, code: str) -> None: ...

    def turn(self, outcome: str) -> None: ...

    def ingested(self, pages: int, chunks: int, outcome: str) -> None: ...


class NoMeter:
    """Counts nothing (tests and tools that build the application without a server)."""

    def first_token(self, provider: str, seconds: float) -> None:
        pass

    def generated(self, provider: str, model: str, usage: Usage) -> None:
        pass

    def provider_error(self, provider: str, code: str) -> None:
        pass

    def turn(self, outcome: str) -> None:
        pass

    def ingested(self, pages: int, chunks: int, outcome: str) -> None:
        pass
