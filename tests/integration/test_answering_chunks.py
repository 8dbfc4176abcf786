"""What retrieval asks of the index (`closest_answering`), on real Chroma (embedded and a
server): a knowledge base's partition holds chunks that must not answer (a document still
being indexed, one just removed, the other layout of a document being indexed again), and
the closest that do answer come back all the same."""

# ruff: noqa: F811  (the index fixtures are imported, then named as parameters)

from __future__ import annotations

import uuid
from uuid import UUID

import pytest

from application.document import chunk_layout
from application.document.chunk_layout import (
    chunk_id,
    chunk_metadata,
    closest_answering,
    partition,
)
from application.ports import IndexedChunk
from domain.document import DocumentIndex, DocumentStatus
from domain.knowledge_base import IndexSettings
from infrastructure.vector_index import ChromaVectorIndex
from tests.integration.test_vector_index import index, new_index, unit  # noqa: F401

SETTINGS = IndexSettings.of_node({})
OWN = partition("test/model", "w1", "kb", SETTINGS.key)


def generation(legacy: bool = False) -> DocumentIndex:
    return DocumentIndex(SETTINGS, request=1, status=DocumentStatus.INDEXED, legacy=legacy)


def chunks_of(
    document: UUID, vectors: list[list[float]], legacy: bool = False, first_page: int = 1
) -> list[IndexedChunk]:
    layout = generation(legacy)
    return [
        IndexedChunk(
            id=chunk_id(str(document), layout, n),
            text=f"{'legacy' if legacy else 'keyed'} {n} of {document}",
            embedding=vector,
            metadata={
                "workflow_id": "w1",
                "node_id": "kb",
                "filename": f"{document}.pdf",
                **chunk_metadata(str(document), layout, first_page + n, n),
            },
        )
        for n, vector in enumerate(vectors)
    ]


def near(n: int) -> list[float]:
    """Vectors ever closer to (1, 0, 0) as n grows."""
    return unit(1, 1 / (n + 1), 0)


def test_the_closest_chunks_of_documents_that_do_not_answer_are_set_aside(
    index: ChromaVectorIndex,
) -> None:
    answering, indexing = uuid.uuid4(), uuid.uuid4()
    index.upsert(OWN, chunks_of(answering, [unit(1, 3 + n, 1) for n in range(5)]))
    index.upsert(OWN, chunks_of(indexing, [unit(1, 0, 0.01 * n) for n in range(30)]))

    hits = closest_answering(index, OWN, unit(1, 0, 0), 3, [(answering, generation())])

    assert [h.id for h in hits] == [chunk_id(str(answering), generation(), n) for n in range(3)]
    assert {chunk_layout.document_of(h) for h in hits} == {str(answering)}


def test_the_filter_is_the_last_resort_when_too_many_closest_do_not_answer(
    index: ChromaVectorIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunk_layout, "MAX_UNFILTERED", 8)
    answering, indexing = uuid.uuid4(), uuid.uuid4()
    index.upsert(OWN, chunks_of(answering, [unit(1, 3 + n, 1) for n in range(5)]))
    index.upsert(OWN, chunks_of(indexing, [unit(1, 0, 0.01 * n) for n in range(30)]))

    hits = closest_answering(index, OWN, unit(1, 0, 0), 3, [(answering, generation())])

    assert [h.id for h in hits] == [chunk_id(str(answering), generation(), n) for n in range(3)]


def test_a_document_answers_with_the_layout_of_its_complete_index_only(
    index: ChromaVectorIndex,
) -> None:
    """A document indexed before generations, being indexed again under the same settings,
    has both layouts in the partition for a while: each document answers from the one its
    complete index has."""
    old, new = uuid.uuid4(), uuid.uuid4()
    for document in (old, new):
        index.upsert(OWN, chunks_of(document, [near(n) for n in range(3)], legacy=True))
        index.upsert(OWN, chunks_of(document, [near(n + 10) for n in range(3)]))

    hits = closest_answering(
        index, OWN, unit(1, 0, 0), 6, [(old, generation(legacy=True)), (new, generation())]
    )

    assert sorted(h.id for h in hits) == sorted(
        [chunk_id(str(old), generation(legacy=True), n) for n in range(3)]
        + [chunk_id(str(new), generation(), n) for n in range(3)]
    )


def test_a_callers_filter_narrows_the_answering_chunks(index: ChromaVectorIndex) -> None:
    answering, indexing = uuid.uuid4(), uuid.uuid4()
    index.upsert(OWN, chunks_of(answering, [near(n) for n in range(6)]))
    index.upsert(OWN, chunks_of(indexing, [near(n + 20) for n in range(6)]))

    hits = closest_answering(
        index, OWN, unit(1, 0, 0), 10, [(answering, generation())], {"page": {"$gte": 4}}
    )

    assert sorted(h.metadata["page"] for h in hits) == [4, 5, 6]
    assert {chunk_layout.document_of(h) for h in hits} == {str(answering)}


def test_nothing_answers_from_an_empty_or_unknown_partition(index: ChromaVectorIndex) -> None:
    document = uuid.uuid4()
    assert closest_answering(index, OWN, unit(1, 0, 0), 3, [(document, generation())]) == []
    index.upsert(OWN, chunks_of(document, [near(0)]))
    assert closest_answering(index, OWN, unit(1, 0, 0), 3, []) == []
