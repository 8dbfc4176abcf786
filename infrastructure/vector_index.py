"""The vector index in ChromaDB: embedded (a directory) or a Chroma server."""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings
from chromadb.errors import NotFoundError

from application.ports import Hit, IndexedChunk

# Marks the collections this application made, so `reset` drops those and no others.
OWNER_KEY, OWNER = "genai_stack", "v1"
_SLUG_MAX = 48
# The chunk's text, kept in its metadata under this key (chunk metadata never uses it).
TEXT_KEY = "text"
T = TypeVar("T")


def collection_name(model_id: str) -> str:
    """A name chroma accepts (3-512 of [a-zA-Z0-9._-], alphanumeric at both ends, no `..`),
    readable, and distinct per model id: the slug alone could collide (`a/b` and `a-b`),
    the hash makes it unique."""
    slug = re.sub(r"[^a-zA-Z0-9._-]+", "-", model_id)
    slug = re.sub(r"\.{2,}", ".", slug).strip("-._")[:_SLUG_MAX].strip("-._")
    digest = hashlib.sha256(model_id.encode()).hexdigest()[:10]
    return f"{slug}-{digest}" if slug else f"model-{digest}"


def to_where(filters: dict[str, Any]) -> dict[str, Any] | None:
    """Our filters as chroma's `where`: equal by default, a list means "one of", an
    operator dict (`{"$gte": 4}`) passes through, and several keys are all required."""
    if not filters:
        return None
    if any(key.startswith("$") for key in filters):
        return filters  # already chroma's language ($and / $or)
    clauses = [
        {key: {"$in": list(value)} if isinstance(value, list | tuple) else value}
        for key, value in sorted(filters.items())
    ]
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _upsert(collection: Collection, batch: Sequence[IndexedChunk]) -> None:
    embeddings: list[Sequence[float] | Sequence[int]] = [chunk.embedding for chunk in batch]
    # The text rides in the metadata, not in chroma's `documents`: those feed a full-text
    # index we never search, which made an upsert take about three times as long.
    metadatas: Any = [{**chunk.metadata, TEXT_KEY: chunk.text} for chunk in batch]
    collection.upsert(ids=[chunk.id for chunk in batch], embeddings=embeddings, metadatas=metadatas)


def _hit(id_: str, document: str | None, metadata: Any, distance: float) -> Hit:
    meta = dict(metadata or {})
    text = meta.pop(TEXT_KEY, None)
    if not isinstance(text, str):
        text = document or ""  # indexed before the text moved to the metadata
    return Hit(id=id_, text=text, score=1.0 - float(distance), metadata=meta)


class ChromaVectorIndex:
    """One cosine collection per embedding model; we always pass the vectors ourselves.

    Calls are serialised by a lock: chroma does not promise that its embedded client is
    safe across threads, and the work is in short batches, so a query waits at most one.
    """

    def __init__(self, client: ClientAPI, max_batch_size: int | None = None) -> None:
        """`max_batch_size` caps an upsert request below the client's own limit (asked of
        the client, or server, on first upsert when not given)."""
        self._client = client
        self._lock = threading.RLock()
        self._collections: dict[str, Collection] = {}
        self._requested_batch = max_batch_size
        self._batch: int | None = None

    @classmethod
    def embedded(cls, path: Path | str, max_batch_size: int | None = None) -> ChromaVectorIndex:
        """Chroma inside this process, persisted under `path`."""
        settings = Settings(anonymized_telemetry=False, allow_reset=True)
        client = chromadb.PersistentClient(path=str(path), settings=settings)
        return cls(client, max_batch_size)

    @classmethod
    def remote(cls, url: str, max_batch_size: int | None = None) -> ChromaVectorIndex:
        """A Chroma server, e.g. `http://chroma:8000`."""
        parts = urlsplit(url if "//" in url else f"//{url}")
        ssl = parts.scheme == "https"
        client = chromadb.HttpClient(
            host=parts.hostname or "localhost",
            port=parts.port or (443 if ssl else 8000),
            ssl=ssl,
            settings=Settings(anonymized_telemetry=False),
        )
        return cls(client, max_batch_size)

    def upsert(self, model_id: str, chunks: Sequence[IndexedChunk]) -> None:
        """Adds chunks, or replaces them by id: the same chunks twice leave the index as it
        was. Chroma merges metadata on upsert: a key missing from the new chunk keeps its
        old value, so delete a document's chunks first when its metadata keys change."""
        if not chunks:
            return
        with self._lock:
            step = self._batch_size()
        for start in range(0, len(chunks), step):
            batch = chunks[start : start + step]
            with self._lock:  # per batch, so queries slip in between batches
                self._on_collection(model_id, True, partial(_upsert, batch=batch))

    def query(
        self, model_id: str, embedding: list[float], top_k: int, where: dict[str, Any]
    ) -> list[Hit]:
        """The `top_k` closest chunks matching `where`, closest first; [] for a model
        nothing was indexed with."""
        if top_k <= 0:
            return []
        queries: list[Sequence[float] | Sequence[int]] = [embedding]
        with self._lock:
            result = self._on_collection(
                model_id,
                False,
                lambda c: c.query(
                    query_embeddings=queries,
                    n_results=top_k,
                    where=to_where(where),
                    include=["documents", "metadatas", "distances"],
                ),
            )
        if result is None or not result["ids"]:
            return []
        ids = result["ids"][0]
        documents = (result["documents"] or [[]])[0]
        metadatas = (result["metadatas"] or [[]])[0]
        distances = (result["distances"] or [[]])[0]
        return [
            _hit(id_, document, meta, distance)
            for id_, document, meta, distance in zip(
                ids, documents, metadatas, distances, strict=True
            )
        ]

    def delete(self, model_id: str, where: dict[str, Any]) -> None:
        """Deletes the chunks matching `where`; an empty `where` is refused, not "all"."""
        chroma_where = to_where(where)
        if chroma_where is None:
            raise ValueError("delete needs a filter; use reset() to drop everything")
        with self._lock:
            self._on_collection(model_id, False, lambda c: c.delete(where=chroma_where))

    def count(self, model_id: str, where: dict[str, Any]) -> int:
        chroma_where = to_where(where)
        with self._lock:
            if chroma_where is None:
                found = self._on_collection(model_id, False, lambda c: c.count())
            else:
                found = self._on_collection(
                    model_id, False, lambda c: len(c.get(where=chroma_where, include=[])["ids"])
                )
        return found or 0

    def reset(self) -> None:
        """Drops every collection this application made (others on a shared server stay)."""
        with self._lock:
            self._collections.clear()
            for collection in self._client.list_collections():
                if (collection.metadata or {}).get(OWNER_KEY) == OWNER:
                    # another process may have dropped it first
                    with contextlib.suppress(NotFoundError):
                        self._client.delete_collection(collection.name)

    def _on_collection(
        self, model_id: str, create: bool, action: Callable[[Collection], T]
    ) -> T | None:
        """Runs `action` on the model's collection; None when it does not exist and
        `create` is false. A handle gone stale (another process reset) is fetched again."""
        for attempt in range(2):
            collection = self._collection(model_id, create)
            if collection is None:
                return None
            try:
                return action(collection)
            except NotFoundError:
                self._collections.pop(model_id, None)
                if attempt:
                    raise
        return None

    def _collection(self, model_id: str, create: bool) -> Collection | None:
        collection = self._collections.get(model_id)
        if collection is not None:
            return collection
        name = collection_name(model_id)
        if create:
            collection = self._client.get_or_create_collection(
                name=name,
                # None keeps chroma's default embedder (it downloads a model) out of it.
                embedding_function=None,
                metadata={"hnsw:space": "cosine", "model_id": model_id, OWNER_KEY: OWNER},
            )
        else:
            try:
                collection = self._client.get_collection(name=name, embedding_function=None)
            except NotFoundError:
                return None
        self._collections[model_id] = collection
        return collection

    def _batch_size(self) -> int:
        if self._batch is None:
            limit = max(1, self._client.get_max_batch_size())
            self._batch = min(limit, self._requested_batch or limit)
        return self._batch
