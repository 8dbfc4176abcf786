"""The vector index in ChromaDB: embedded (a directory) or a Chroma server.

One collection per partition (a knowledge base's index generation under one embedding
model): a query is always restricted to one, so it asks its collection with no filter
(unless its caller narrows by metadata). Chroma's metadata filter over a whole model's
collection cost seconds at 100k chunks (bench/scale.py); the unfiltered search, milliseconds.

The layout before (one collection per model, filtered by knowledge base and generation) is
moved into partitions by `upgrade`, which the composition root runs when it opens the index.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import chromadb
import structlog
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings
from chromadb.errors import NotFoundError

from application.ports import Hit, IndexedChunk, Locate, Partition

log = structlog.get_logger(__name__)

# Marks the collections this application made, so `reset` drops those and no others:
# OWNER_V1 one per model (the layout before partitions), OWNER one per partition.
OWNER_KEY, OWNER, OWNER_V1 = "genai_stack", "v2", "v1"
_SLUG_MAX = 48
# The chunk's text, kept in its metadata under this key (chunk metadata never uses it).
TEXT_KEY = "text"
# Chunks read at once from a collection of the old layout while it is moved.
UPGRADE_PAGE = 1000
# HNSW search breadth: chroma's default (100), written down so that a change of that
# default cannot change every query's recall or speed unseen.
EF_SEARCH = 100
T = TypeVar("T")


def collection_name(model_id: str) -> str:
    """The old layout's collection of a model: a name chroma accepts (3-512 of
    [a-zA-Z0-9._-], alphanumeric at both ends, no `..`), readable, and distinct per model id:
    the slug alone could collide (`a/b` and `a-b`), the hash makes it unique."""
    slug = re.sub(r"[^a-zA-Z0-9._-]+", "-", model_id)
    slug = re.sub(r"\.{2,}", ".", slug).strip("-._")[:_SLUG_MAX].strip("-._")
    digest = hashlib.sha256(model_id.encode()).hexdigest()[:10]
    return f"{slug}-{digest}" if slug else f"model-{digest}"


def partition_name(partition: Partition) -> str:
    """The partition's collection: a digest of all four parts (node ids and model ids may
    hold any character; the collection's metadata keeps them readable)."""
    parts = [partition.model_id, partition.workflow_id, partition.node_id, partition.key]
    digest = hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()
    return f"kb-{digest[:40]}"


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


def _hit(id_: str, metadata: Any, distance: float) -> Hit:
    meta = dict(metadata or {})
    text = meta.pop(TEXT_KEY, "")
    return Hit(id=id_, text=str(text), score=1.0 - float(distance), metadata=meta)


def _owned(collection: Any, owner: str) -> bool:
    return (collection.metadata or {}).get(OWNER_KEY) == owner


class ChromaVectorIndex:
    """One cosine collection per partition; we always pass the vectors ourselves.

    Calls are serialised by a lock: chroma does not promise that its embedded client is
    safe across threads, and the work is in short batches, so a query waits at most one.
    """

    def __init__(self, client: ClientAPI, max_batch_size: int | None = None) -> None:
        """`max_batch_size` caps an upsert request below the client's own limit (asked of
        the client, or server, on first upsert when not given)."""
        self._client = client
        self._lock = threading.RLock()
        self._collections: dict[Partition, Collection] = {}
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

    def upsert(self, partition: Partition, chunks: Sequence[IndexedChunk]) -> None:
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
                self._on_collection(partition, True, partial(_upsert, batch=batch))

    def query(
        self, partition: Partition, embedding: list[float], top_k: int, where: dict[str, Any]
    ) -> list[Hit]:
        """The `top_k` closest chunks of the partition matching `where` (none: all of
        them), closest first; [] for a partition nothing was indexed in."""
        if top_k <= 0:
            return []
        queries: list[Sequence[float] | Sequence[int]] = [embedding]
        with self._lock:
            result = self._on_collection(
                partition,
                False,
                lambda c: c.query(
                    query_embeddings=queries,
                    n_results=top_k,
                    where=to_where(where),
                    # the text is in the metadata: chroma's `documents` are empty
                    include=["metadatas", "distances"],
                ),
            )
        if result is None or not result["ids"]:
            return []
        ids = result["ids"][0]
        metadatas = (result["metadatas"] or [[]])[0]
        distances = (result["distances"] or [[]])[0]
        return [
            _hit(id_, meta, distance)
            for id_, meta, distance in zip(ids, metadatas, distances, strict=True)
        ]

    def delete(self, partition: Partition, where: dict[str, Any]) -> None:
        """Deletes the chunks matching `where`; an empty `where` is refused, not "all"."""
        chroma_where = to_where(where)
        if chroma_where is None:
            raise ValueError("delete needs a filter; use reset() to drop everything")
        with self._lock:
            self._on_collection(partition, False, lambda c: c.delete(where=chroma_where))

    def count(self, partition: Partition, where: dict[str, Any]) -> int:
        with self._lock:
            return self._count(partition, to_where(where))

    def count_model(self, model_id: str, where: dict[str, Any]) -> int:
        """The chunks matching `where` in every partition of a model (for a person, or a
        test, looking at the whole index: no query path asks this)."""
        chroma_where = to_where(where)
        with self._lock:
            return sum(
                self._count(partition, chroma_where)
                for partition in self._partitions()
                if partition.model_id == model_id
            )

    def reset(self) -> None:
        """Drops every collection this application made, in either layout (others on a
        shared server stay)."""
        with self._lock:
            self._collections.clear()
            for collection in self._client.list_collections():
                if _owned(collection, OWNER) or _owned(collection, OWNER_V1):
                    # another process may have dropped it first
                    with contextlib.suppress(NotFoundError):
                        self._client.delete_collection(collection.name)

    def upgrade(self, locate: Locate) -> int:
        """Moves every chunk of the layout before partitions (one collection per model) into
        the partition `locate` gives it, its text into the metadata where it was still in
        chroma's `documents`; then drops the old collection. A chunk located nowhere is
        left behind (it answered for nothing). Safe to run again after a crash (upserts by
        id), and by two processes at once (the second finds the collection gone)."""
        moved = 0
        with self._lock:
            old = [c for c in self._client.list_collections() if _owned(c, OWNER_V1)]
            for listed in old:
                model_id = str((listed.metadata or {}).get("model_id", ""))
                with contextlib.suppress(NotFoundError):
                    collection = self._client.get_collection(listed.name, embedding_function=None)
                    moved += self._move(collection, model_id, locate)
                    self._client.delete_collection(listed.name)
                    log.info("vector index upgraded", model=model_id, collection=listed.name)
        return moved

    # ---------------------------------------------------------------- mechanics

    def _move(self, collection: Collection, model_id: str, locate: Locate) -> int:
        moved, offset = 0, 0
        while True:
            page = collection.get(
                include=["embeddings", "metadatas", "documents"],
                limit=UPGRADE_PAGE,
                offset=offset,
            )
            ids = page["ids"]
            if not ids:
                return moved
            offset += len(ids)
            embeddings = page["embeddings"]
            metadatas = page["metadatas"] or [{}] * len(ids)
            nothing: list[str | None] = [None] * len(ids)
            documents: list[str | None] = list(page["documents"] or nothing)
            placed: dict[Partition, list[IndexedChunk]] = {}
            for n, id_ in enumerate(ids):
                meta: dict[str, Any] = dict(metadatas[n] or {})
                text = meta.pop(TEXT_KEY, None)
                partition = locate(model_id, meta)
                if partition is None or embeddings is None:
                    continue
                chunk = IndexedChunk(
                    id=id_,
                    text=str(text if isinstance(text, str) else documents[n] or ""),
                    embedding=[float(v) for v in embeddings[n]],
                    metadata=meta,
                )
                placed.setdefault(partition, []).append(chunk)
            for partition, chunks in placed.items():
                self.upsert(partition, chunks)
                moved += len(chunks)

    def _count(self, partition: Partition, chroma_where: Mapping[str, Any] | None) -> int:
        if chroma_where is None:
            found = self._on_collection(partition, False, lambda c: c.count())
        else:
            where: Any = chroma_where
            found = self._on_collection(
                partition, False, lambda c: len(c.get(where=where, include=[])["ids"])
            )
        return found or 0

    def _partitions(self) -> list[Partition]:
        found = []
        for collection in self._client.list_collections():
            if _owned(collection, OWNER):
                meta = collection.metadata or {}
                found.append(
                    Partition(
                        str(meta["model_id"]),
                        str(meta["workflow_id"]),
                        str(meta["node_id"]),
                        str(meta["index_key"]),
                    )
                )
        return found

    def _on_collection(
        self, partition: Partition, create: bool, action: Callable[[Collection], T]
    ) -> T | None:
        """Runs `action` on the partition's collection; None when it does not exist and
        `create` is false. A handle gone stale (another process reset) is fetched again."""
        for attempt in range(2):
            collection = self._collection(partition, create)
            if collection is None:
                return None
            try:
                return action(collection)
            except NotFoundError:
                self._collections.pop(partition, None)
                if attempt:
                    raise
        return None

    def _collection(self, partition: Partition, create: bool) -> Collection | None:
        collection = self._collections.get(partition)
        if collection is not None:
            return collection
        name = partition_name(partition)
        if create:
            collection = self._client.get_or_create_collection(
                name=name,
                # None keeps chroma's default embedder (it downloads a model) out of it.
                embedding_function=None,
                metadata={
                    "hnsw:space": "cosine",
                    "hnsw:search_ef": EF_SEARCH,
                    OWNER_KEY: OWNER,
                    "model_id": partition.model_id,
                    "workflow_id": partition.workflow_id,
                    "node_id": partition.node_id,
                    "index_key": partition.key,
                },
            )
        else:
            try:
                collection = self._client.get_collection(name=name, embedding_function=None)
            except NotFoundError:
                return None
        self._collections[partition] = collection
        return collection

    def _batch_size(self) -> int:
        if self._batch is None:
            limit = max(1, self._client.get_max_batch_size())
            self._batch = min(limit, self._requested_batch or limit)
        return self._batch
