"""How a document's chunks lie in the vector index: their ids, their metadata, and the
filters that find one generation's chunks.

Every generation of a document has its own chunk ids (`{document}:{key}:{chunk}`) and
carries its key in the metadata, so two generations live side by side, in one collection
when they share an embedding model, and never overwrite each other. Chunks written before
generations (a *legacy* index) have ids `{document}:{chunk}` and neither the key nor the
`keyed` mark; they answer as they are until their generation is dropped. Chroma's `$ne`
matches chunks that lack the key (since 0.5.12, tested in tests/integration), which is how
legacy chunks are told from the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from application.ports import Hit, Passage
from domain.document import DocumentIndex

INDEX_KEY = "index_key"
KEYED = "keyed"
_NOT_KEYED = {KEYED: {"$ne": True}}


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
    workflow_id: UUID,
    node_id: str,
    key: str,
    documents: Iterable[tuple[UUID, DocumentIndex]],
    where: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The filter for the chunks that answer for generation `key`: those of the given
    documents (each with its complete index of that generation), narrowed by `where`."""
    keyed: list[str] = []
    legacy: list[str] = []
    for document_id, index in documents:
        (legacy if index.legacy else keyed).append(str(document_id))
    parts = []
    if keyed:
        parts.append({"$and": [{INDEX_KEY: key}, {"document_id": {"$in": keyed}}]})
    if legacy:
        parts.append({"$and": [{"document_id": {"$in": legacy}}, _NOT_KEYED]})
    clauses: list[dict[str, Any]] = [
        {"workflow_id": str(workflow_id)},
        {"node_id": node_id},
        parts[0] if len(parts) == 1 else {"$or": parts},
    ]
    for name, value in (where or {}).items():
        if name.startswith("$"):
            clauses.append({name: value})
        else:
            clauses.append({name: {"$in": list(value)} if isinstance(value, list) else value})
    return {"$and": clauses}


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
