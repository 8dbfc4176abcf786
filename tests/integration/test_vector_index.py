from __future__ import annotations

import math
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from application.ports import IndexedChunk
from infrastructure.vector_index import ChromaVectorIndex, collection_name, to_where
from tests.chroma_server import chroma_remote_index, chroma_server_url  # noqa: F401

MODEL = "test/model-a"
OTHER_MODEL = "test/model-b"


def unit(*values: float) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def chunk(document: str, number: int, embedding: list[float], page: int = 1) -> IndexedChunk:
    return IndexedChunk(
        id=f"{document}:{number}",
        text=f"text {number} of {document}",
        embedding=embedding,
        metadata={"document_id": document, "chunk": number, "page": page},
    )


def three_documents() -> list[IndexedChunk]:
    return [
        chunk("d1", 0, unit(1, 0, 0), page=1),
        chunk("d1", 1, unit(1, 1, 0), page=4),
        chunk("d2", 0, unit(0, 1, 0), page=2),
        chunk("d3", 0, unit(0, 0, 1), page=7),
    ]


IndexFactory = Callable[[], ChromaVectorIndex]


@pytest.fixture(params=["embedded", "server"])
def new_index(request: pytest.FixtureRequest, tmp_path: Path) -> IndexFactory:
    """Makes indexes on one store: a second one stands for another process."""
    if request.param == "embedded":
        return lambda: ChromaVectorIndex.embedded(tmp_path / "chroma")
    url: str = request.getfixturevalue("chroma_server_url")
    request.getfixturevalue("chroma_remote_index")  # resets the server after the test
    return lambda: ChromaVectorIndex.remote(url)


@pytest.fixture
def index(new_index: IndexFactory) -> ChromaVectorIndex:
    return new_index()


def test_query_returns_the_closest_chunks_with_cosine_similarity(index: ChromaVectorIndex) -> None:
    index.upsert(MODEL, three_documents())

    hits = index.query(MODEL, unit(1, 0, 0), top_k=2, where={})

    assert [h.id for h in hits] == ["d1:0", "d1:1"]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[1].score == pytest.approx(math.sqrt(0.5), abs=1e-5)
    assert hits[0].text == "text 0 of d1"
    assert hits[0].metadata == {"document_id": "d1", "chunk": 0, "page": 1}


def test_upserting_the_same_chunks_twice_changes_nothing(index: ChromaVectorIndex) -> None:
    index.upsert(MODEL, three_documents())
    before = index.query(MODEL, unit(1, 1, 1), top_k=10, where={})

    index.upsert(MODEL, three_documents())

    assert index.count(MODEL, {}) == 4
    assert index.query(MODEL, unit(1, 1, 1), top_k=10, where={}) == before


def test_upserting_an_id_again_replaces_its_text_and_vector(index: ChromaVectorIndex) -> None:
    index.upsert(MODEL, three_documents())

    replacement = IndexedChunk("d3:0", "new text", unit(1, 0, 0), {"document_id": "d3", "page": 8})
    index.upsert(MODEL, [replacement])

    (hit,) = index.query(MODEL, unit(1, 0, 0), top_k=1, where={"document_id": "d3"})
    assert (hit.text, hit.metadata["page"]) == ("new text", 8)
    assert index.count(MODEL, {}) == 4
    assert hit.score == pytest.approx(1.0, abs=1e-5)


def test_a_chunk_may_have_no_metadata(index: ChromaVectorIndex) -> None:
    index.upsert(MODEL, [IndexedChunk("bare:0", "no metadata", unit(1, 0), {})])

    (hit,) = index.query(MODEL, unit(1, 0), top_k=1, where={})
    assert (hit.id, hit.metadata) == ("bare:0", {})


def test_chunks_indexed_with_their_text_in_chromas_documents_still_answer(
    index: ChromaVectorIndex,
) -> None:
    """Earlier versions kept the text in `documents` (full-text indexed, never searched):
    an index written then still answers with it until it is rebuilt."""
    collection = index._collection(MODEL, create=True)
    assert collection is not None
    collection.upsert(
        ids=["old:0"],
        embeddings=[unit(1, 0)],
        documents=["kept the old way"],
        metadatas=[{"document_id": "old", "page": 2}],
    )
    index.upsert(MODEL, [IndexedChunk("new:0", "kept the new way", unit(1, 1), {"page": 3})])

    hits = index.query(MODEL, unit(1, 0), top_k=2, where={})
    assert [(h.text, h.metadata) for h in hits] == [
        ("kept the old way", {"document_id": "old", "page": 2}),
        ("kept the new way", {"page": 3}),
    ]


def test_filters_on_one_key_several_keys_lists_and_operators(index: ChromaVectorIndex) -> None:
    index.upsert(MODEL, three_documents())

    def ids(where: dict[str, object]) -> set[str]:
        return {h.id for h in index.query(MODEL, unit(1, 1, 1), top_k=10, where=where)}

    assert ids({"document_id": "d1"}) == {"d1:0", "d1:1"}
    assert ids({"document_id": "d1", "page": 4}) == {"d1:1"}
    assert ids({"document_id": ["d2", "d3"]}) == {"d2:0", "d3:0"}
    assert ids({"page": {"$gte": 4}}) == {"d1:1", "d3:0"}
    assert ids({"$or": [{"page": 1}, {"page": 7}]}) == {"d1:0", "d3:0"}
    assert index.count(MODEL, {"document_id": "d1"}) == 2


def test_delete_removes_only_what_matches(index: ChromaVectorIndex) -> None:
    index.upsert(MODEL, three_documents())

    index.delete(MODEL, {"document_id": "d1"})

    assert index.count(MODEL, {}) == 2
    assert index.count(MODEL, {"document_id": "d1"}) == 0
    with pytest.raises(ValueError):
        index.delete(MODEL, {})


def test_each_model_has_its_own_collection(index: ChromaVectorIndex) -> None:
    index.upsert(MODEL, three_documents())
    index.upsert(OTHER_MODEL, [chunk("d9", 0, [0.5] * 5)])  # another model, another size

    assert index.count(MODEL, {}) == 4
    assert [h.id for h in index.query(OTHER_MODEL, [0.5] * 5, 5, {})] == ["d9:0"]


def test_a_model_never_indexed_answers_empty_without_creating_anything(
    index: ChromaVectorIndex,
) -> None:
    assert index.query("never/indexed", unit(1, 0), top_k=3, where={}) == []
    assert index.count("never/indexed", {"document_id": "x"}) == 0
    index.delete("never/indexed", {"document_id": "x"})

    index.reset()
    index.upsert(MODEL, three_documents())
    assert index.count("never/indexed", {}) == 0


def test_reset_drops_every_collection(index: ChromaVectorIndex) -> None:
    index.upsert(MODEL, three_documents())
    index.upsert(OTHER_MODEL, three_documents())

    index.reset()

    assert index.count(MODEL, {}) == 0
    assert index.query(OTHER_MODEL, unit(1, 0, 0), 3, {}) == []
    index.upsert(MODEL, three_documents())  # usable again after a reset
    assert index.count(MODEL, {}) == 4


def test_a_reset_by_another_process_is_survived(new_index: IndexFactory) -> None:
    index, other = new_index(), new_index()
    index.upsert(MODEL, three_documents())

    other.reset()
    index.upsert(MODEL, three_documents()[:1])

    assert index.count(MODEL, {}) == 1


def test_more_chunks_than_one_batch_are_all_stored(tmp_path: Path) -> None:
    # chroma's own limit is thousands; a small one shows the batching
    index = ChromaVectorIndex.embedded(tmp_path / "chroma", max_batch_size=7)
    chunks = [chunk("big", n, unit(1, n % 5, n % 3)) for n in range(50)]

    index.upsert(MODEL, chunks)

    assert index.count(MODEL, {"document_id": "big"}) == 50


def test_concurrent_upserts_and_queries_from_threads(index: ChromaVectorIndex) -> None:
    def work(n: int) -> int:
        index.upsert(MODEL, [chunk(f"t{n}", i, unit(1, n, i)) for i in range(20)])
        return len(index.query(MODEL, unit(1, n, 0), top_k=5, where={"document_id": f"t{n}"}))

    with ThreadPoolExecutor(max_workers=4) as pool:
        found = list(pool.map(work, range(8)))

    assert found == [5] * 8
    assert index.count(MODEL, {}) == 160


def test_the_index_persists_on_disk(tmp_path: Path) -> None:
    ChromaVectorIndex.embedded(tmp_path / "chroma").upsert(MODEL, three_documents())

    reopened = ChromaVectorIndex.embedded(tmp_path / "chroma")

    assert reopened.count(MODEL, {}) == 4


@pytest.mark.parametrize(
    "model_id",
    [
        "local/all-MiniLM-L6-v2",
        "openai/text-embedding-3-small@localhost:8080",
        "..",
        "é/ü",
        "a" * 600,
    ],
)
def test_collection_names_are_valid_for_chroma_and_distinct(model_id: str) -> None:
    name = collection_name(model_id)

    assert 3 <= len(name) <= 512
    assert re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]", name)
    assert ".." not in name
    assert name != collection_name(model_id + "x")
    assert collection_name("a/b") != collection_name("a-b")


def test_filters_translate_to_chroma_where() -> None:
    assert to_where({}) is None
    assert to_where({"document_id": "d1"}) == {"document_id": "d1"}
    assert to_where({"page": 2, "document_id": "d1"}) == {
        "$and": [{"document_id": "d1"}, {"page": 2}]
    }
    assert to_where({"document_id": ["a", "b"]}) == {"document_id": {"$in": ["a", "b"]}}
