"""The application's use cases as `bootstrap` wires them, on eventsourcing's in-memory
persistence (POPO), the read tables and secrets on an in-memory SQLite, blobs in a temporary
directory, and fakes for what is off the machine: the LLM, the embedder and the vector index.
Fast; no database server, no file database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from application.eventlog.log import EventLog
from application.ports import (
    Embedder,
    EmbedderSpec,
    Hit,
    IndexedChunk,
    LLMRequest,
    LLMStreamEnd,
    Locate,
    Partition,
    ProviderError,
    Usage,
)
from interfaces.bootstrap import Services, bootstrap
from tests.conftest import make_settings
from tests.fakes.embedding import cosine, hashed_embedding

ACTOR = "ada"
DIMENSIONS = 32


# ---------------------------------------------------------------- fakes of what is off-machine


class FakeLLM:
    """Answers with its `reply`, word by word, or fails as a provider would."""

    def __init__(self, reply: str = "Tides turn turbines.", fail: str | None = None) -> None:
        self.reply, self.fail = reply, fail
        self.requests: list[LLMRequest] = []

    async def stream(self, request: LLMRequest) -> AsyncIterator[str | LLMStreamEnd]:
        self.requests.append(request)
        if self.fail is not None:
            raise ProviderError(self.fail, status=429)
        words = self.reply.split(" ")
        for i, word in enumerate(words):
            yield word if i == 0 else f" {word}"
        yield LLMStreamEnd(model=request.model or "fake", usage=Usage(3, len(words)))


@dataclass
class FakeLLMs:
    llm: FakeLLM = field(default_factory=FakeLLM)

    def for_provider(self, provider: str) -> FakeLLM:
        return self.llm


@dataclass(frozen=True)
class HashedEmbedder:
    model_id: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [hashed_embedding(text, DIMENSIONS) for text in texts]


class FakeEmbedders:
    """Every embedder and model, except a model called `missing`."""

    def for_spec(self, spec: EmbedderSpec) -> Embedder:
        if spec.model == "missing":
            raise ValueError(f"this server has no {spec.embedder} model {spec.model!r}")
        return HashedEmbedder(f"{spec.embedder}/{spec.model or 'default'}")


class MemoryIndex:
    """A vector index in a dict of partitions, filtering as Chroma does ($and, $or, $in, $ne,
    $gte)."""

    def __init__(self) -> None:
        self.collections: dict[Partition, dict[str, IndexedChunk]] = {}

    def upsert(self, partition: Partition, chunks: Sequence[IndexedChunk]) -> None:
        self.collections.setdefault(partition, {}).update({c.id: c for c in chunks})

    def query(
        self, partition: Partition, embedding: list[float], top_k: int, where: dict[str, Any]
    ) -> list[Hit]:
        found = [c for c in self._matching(partition, where)]
        hits = [Hit(c.id, c.text, cosine(embedding, c.embedding), c.metadata) for c in found]
        return sorted(hits, key=lambda h: -h.score)[:top_k]

    def delete(self, partition: Partition, where: dict[str, Any]) -> None:
        for chunk in self._matching(partition, where):
            del self.collections[partition][chunk.id]

    def count(self, partition: Partition, where: dict[str, Any]) -> int:
        return len(self._matching(partition, where))

    def count_model(self, model_id: str, where: dict[str, Any]) -> int:
        return sum(self.count(p, where) for p in self.collections if p.model_id == model_id)

    def reset(self) -> None:
        self.collections.clear()

    def upgrade(self, locate: Locate) -> int:
        return 0  # this index never had another layout

    def _matching(self, partition: Partition, where: dict[str, Any]) -> list[IndexedChunk]:
        chunks = self.collections.get(partition, {}).values()
        return [c for c in chunks if _matches(c.metadata, where)]


def _matches(metadata: dict[str, Any], where: dict[str, Any]) -> bool:
    for key, condition in where.items():
        if key == "$and":
            if not all(_matches(metadata, c) for c in condition):
                return False
        elif key == "$or":
            if not any(_matches(metadata, c) for c in condition):
                return False
        elif isinstance(condition, dict):
            value = metadata.get(key)
            for op, operand in condition.items():
                if op == "$in" and value not in operand:
                    return False
                if op == "$ne" and value == operand:
                    return False
                if op == "$gte" and (value is None or value < operand):
                    return False
        elif metadata.get(key) != condition:
            return False
    return True


# ---------------------------------------------------------------- the wiring


@pytest.fixture
def llms() -> FakeLLMs:
    return FakeLLMs()


@pytest.fixture
def app(tmp_path: Path, llms: FakeLLMs) -> Iterator[Services]:
    """The production wiring (nothing started: no projections, no live feed), on an event
    log in memory and a read database in memory."""
    services = bootstrap(
        make_settings(tmp_path, None),
        event_log=EventLog(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        read_db=create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        ),
        llms=llms,
        embedders=FakeEmbedders(),
        index=MemoryIndex(),
    )
    yield services
    services.stop()
