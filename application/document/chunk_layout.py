"""How a document's chunks lie in the vector index: their partition, their ids, their
metadata, and the filters that find one generation's chunks.

Each generation of a knowledge base, under one embedding model, has a partition of its own
(`Partition`): a query asks one partition only, so the knowledge base and generation need no
filter. Every generation of a document has its own chunk ids (`{document}:{key}:{chunk}`)
and carries its key in the metadata. Chunks written before generations (a *legacy* index)
have ids `{document}:{chunk}` and neither the key nor the `keyed` mark; they answer as they
are, from the partition of their generation, until it is dropped. Chroma's `$ne` matches
chunks that lack the key (since 0.5.12, tested in tests/integration), which is how legacy
chunks are told from the others.

A partition may also hold chunks that must not answer: those of a document still being
indexed, or removed a moment ago. Chroma's metadata filter costs tens of milliseconds at
10k chunks and seconds at 100k, its plain search a few milliseconds: so the closest chunks
are asked unfiltered, a few more than wanted, and those that do not answer are set aside
here (`closest_answering`); the filter is only the last resort.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

from application.ports import Hit, Partition, Passage, VectorIndex
from domain.document import DocumentIndex

INDEX_KEY = "index_key"
KEYED = "keyed"
_NOT_KEYED = {KEYED: {"$ne": True}}
# How many closest chunks an unfiltered query may ask for, growing fourfold while those
# that answer are too few, before the filter is used instead.
MAX_UNFILTERED = 1024


def partition(model_id: str, workflow_id: UUID | str, node_id: str, key: str) -> Partition:
    """Where generation `key` of knowledge base `node_id`, embedded by `model_id`, lies."""
    return Partition(model_id, str(workflow_id), node_id, key)


def old_chunk_partition(
    model_id: str, metadata: Mapping[str, Any], legacy_key: Callable[[str], str | None]
) -> Partition | None:
    """The partition of a chunk stored in the layout before partitions (one collection per
    model): a keyed chunk names its generation; a legacy one belongs to its document's
    legacy generation, which `legacy_key` (document id → key, None when the document is
    removed or has none) reads from the log."""
    workflow_id, node_id = metadata.get("workflow_id"), metadata.get("node_id")
    document_id = metadata.get("document_id")
    if not isinstance(workflow_id, str) or not isinstance(node_id, str):
        return None
    key = metadata.get(INDEX_KEY)
    if metadata.get(KEYED) is not True:
        key = legacy_key(str(document_id)) if document_id is not None else None
    return partition(model_id, workflow_id, node_id, key) if isinstance(key, str) else None


def chunk_id(document_id: str, index: DocumentIndex, chunk: int) -> str:
    if index.legacy:
        return f"{document_id}:{chunk}"
    return f"{document_id}:{index.key}:{chunk}"


def chunk_metadata(
    document_id: str, index: DocumentIndex, page: int | None, chunk: int
) -> dict[str, Any]:
    """What each chunk carries besides the workflow, node and filename."""
    own: dict[str, Any] = {"document_id": document_id, "page": page, "chunk": chunk}
    if not index.legacy:
        own |= {INDEX_KEY: index.key, KEYED: True}
    return own


def generation_chunks(document_id: str, index: DocumentIndex) -> dict[str, Any]:
    """The filter for the chunks of one generation of one document."""
    if index.legacy:
        return {"$and": [{"document_id": document_id}, _NOT_KEYED]}
    return {"$and": [{"document_id": document_id}, {INDEX_KEY: index.key}]}


def legacy_chunks(document_id: str) -> dict[str, Any]:
    """The filter for a document's chunks written before generations, whatever their index."""
    return {"$and": [{"document_id": document_id}, _NOT_KEYED]}


def answering_chunks(
    documents: Iterable[tuple[UUID, DocumentIndex]],
    where: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The filter, within a generation's partition, for the chunks that answer for it:
    those of the given documents (each with its complete index of that generation),
    narrowed by `where`."""
    keyed: list[str] = []
    legacy: list[str] = []
    for document_id, index in documents:
        (legacy if index.legacy else keyed).append(str(document_id))
    parts = []
    if keyed:
        parts.append({"$and": [{KEYED: True}, {"document_id": {"$in": keyed}}]})
    if legacy:
        parts.append({"$and": [{"document_id": {"$in": legacy}}, _NOT_KEYED]})
    clauses: list[dict[str, Any]] = [parts[0] if len(parts) == 1 else {"$or": parts}]
    clauses += narrowing(where)
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def narrowing(where: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """A caller's `where` (`{"page": {"$gte": 4}}`, `{"filename": ["a.pdf", "b.pdf"]}`) as
    chroma clauses."""
    clauses = []
    for name, value in (where or {}).items():
        if name.startswith("$"):
            clauses.append({name: value})
        else:
            clauses.append({name: {"$in": list(value)} if isinstance(value, list) else value})
    return clauses


def closest_answering(
    index: VectorIndex,
    part: Partition,
    embedding: list[float],
    top_k: int,
    documents: Sequence[tuple[UUID, DocumentIndex]],
    where: Mapping[str, Any] | None = None,
) -> list[Hit]:
    """The `top_k` chunks of the partition closest to `embedding` that answer for it (those
    of `documents`, in their index's layout), narrowed by `where`, closest first.

    Asked without a filter (a caller's `where` aside), a few more each time while too few
    of those found answer; with the filter when even `MAX_UNFILTERED` are not enough (a
    large document being indexed in the same knowledge base, say)."""
    if top_k <= 0:
        return []
    legacy = {str(d): i.legacy for d, i in documents}
    if not legacy:
        return []

    def answers(hit: Hit) -> bool:
        document = document_of(hit)
        keyed = hit.metadata.get(KEYED) is True
        return document in legacy and legacy[document] != keyed

    clauses = narrowing(where)
    narrowed = clauses[0] if len(clauses) == 1 else ({"$and": clauses} if clauses else {})
    # with a caller's filter each query costs as the last resort's does: one try only
    most = top_k * 4 if clauses else MAX_UNFILTERED
    asked = top_k
    while asked <= most:
        hits = index.query(part, embedding, asked, narrowed)
        kept = [hit for hit in hits if answers(hit)]
        if len(kept) >= top_k or len(hits) < asked:
            return kept[:top_k]
        asked *= 4
    return index.query(part, embedding, top_k, answering_chunks(documents, where))


def document_of(hit: Hit) -> str:
    return str(hit.metadata.get("document_id", hit.id.split(":")[0]))


def passage_of(hit: Hit) -> Passage:
    return Passage(
        document_id=document_of(hit),
        filename=str(hit.metadata.get("filename", "")),
        page=_int_or_none(hit.metadata.get("page")),
        chunk=int(hit.metadata.get("chunk", 0)),
        score=hit.score,
        text=hit.text,
        ocr=bool(hit.metadata.get("ocr", False)),
    )


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None
