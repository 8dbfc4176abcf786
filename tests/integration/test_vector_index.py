from __future__ import annotations

import math
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from application.ports import IndexedChunk, Partition
from infrastructure.vector_index import (
    ChromaVectorIndex,
    collection_name,
    partition_name,
    to_where,
)
from tests.chroma_server import chroma_remote_index, chroma_server_url  # noqa: F401
from tests.integration.legacy_documents import write_old_layout

MODEL = Partition("test/model-a", "w1", "kb", "k1")
OTHER_MODEL = Partition("test/model-b", "w1", "kb", "k1")
OTHER_GENERATION = Partition("test/model-a", "w1", "kb", "k2")
OTHER_KNOWLEDGE_BASE = Partition("test/model-a", "w1", "kb2", "k1")
OTHER_WORKFLOW = Partition("test/model-a", "w2", "kb", "k1")


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
    never = Partition("never/indexed", "w1", "kb", "k1")
    assert index.query(never, unit(1, 0), top_k=3, where={}) == []
    assert index.count(never, {"document_id": "x"}) == 0
    index.delete(never, {"document_id": "x"})

    index.reset()
    index.upsert(MODEL, three_documents())
    assert index.count(never, {}) == 0
    assert index.count(OTHER_GENERATION, {}) == 0


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
    valid = r"[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]"
    name = collection_name(model_id)

    assert 3 <= len(name) <= 512
    assert re.fullmatch(valid, name)
    assert ".." not in name
    assert name != collection_name(model_id + "x")
    assert collection_name("a/b") != collection_name("a-b")
    partition = Partition(model_id, "w", model_id, "k")
    assert re.fullmatch(valid, partition_name(partition))
    assert len(partition_name(partition)) <= 512
    # each part counts, and none can spill into another
    names = {
        partition_name(p)
        for p in (
            partition,
            Partition(model_id, "w", model_id, "k2"),
            Partition(model_id, "w2", model_id, "k"),
            Partition(model_id + "x", "w", model_id, "k"),
            Partition(model_id, "w", model_id + "x", "k"),
            Partition(model_id, "w", "", model_id + "k"),
        )
    }
    assert len(names) == 6


def test_filters_translate_to_chroma_where() -> None:
    assert to_where({}) is None
    assert to_where({"document_id": "d1"}) == {"document_id": "d1"}
    assert to_where({"page": 2, "document_id": "d1"}) == {
        "$and": [{"document_id": "d1"}, {"page": 2}]
    }
    assert to_where({"document_id": ["a", "b"]}) == {"document_id": {"$in": ["a", "b"]}}


# ---------------------------------------------------------------- partitions


def test_partitions_are_isolated_from_each_other(index: ChromaVectorIndex) -> None:
    """Knowledge bases, workflows and generations each have their own: the same chunk ids
    in two do not meet, a query sees its own only, a delete touches its own only."""
    partitions = [MODEL, OTHER_GENERATION, OTHER_KNOWLEDGE_BASE, OTHER_WORKFLOW]
    for n, partition in enumerate(partitions):
        index.upsert(
            partition,
            [chunk("d1", 0, unit(1, 0, 0)), chunk(f"only{n}", 0, unit(1, 0.1 * n, 0))],
        )

    for n, partition in enumerate(partitions):
        hits = index.query(partition, unit(1, 0, 0), top_k=10, where={})
        assert {h.id for h in hits} == {"d1:0", f"only{n}:0"}
        assert index.count(partition, {}) == 2

    index.delete(OTHER_GENERATION, {"document_id": "d1"})

    assert [h.id for h in index.query(OTHER_GENERATION, unit(1, 0, 0), 10, {})] == ["only1:0"]
    for partition in (MODEL, OTHER_KNOWLEDGE_BASE, OTHER_WORKFLOW):
        assert index.count(partition, {"document_id": "d1"}) == 1
    assert index.count_model(MODEL.model_id, {"document_id": "d1"}) == 3
    assert index.count_model(OTHER_MODEL.model_id, {}) == 0


def test_a_query_asks_chroma_without_a_filter_when_given_none(index: ChromaVectorIndex) -> None:
    index.upsert(MODEL, three_documents())
    index.upsert(OTHER_KNOWLEDGE_BASE, [chunk("elsewhere", 0, unit(1, 0, 0))])

    hits = index.query(MODEL, unit(1, 0, 0), top_k=4, where={})

    assert [h.id for h in hits] == ["d1:0", "d1:1", "d2:0", "d3:0"]


def test_reset_drops_the_partitions_and_the_old_layout_but_not_others(
    index: ChromaVectorIndex,
) -> None:
    index.upsert(MODEL, three_documents())
    write_old_layout(index, "test/old", three_documents())
    foreign = index._client.create_collection("not-ours", embedding_function=None)
    foreign.upsert(ids=["x"], embeddings=[unit(1, 0)])

    try:
        index.reset()

        names = {c.name for c in index._client.list_collections()}
        assert names == {"not-ours"}
        assert index.count(MODEL, {}) == 0
    finally:  # the server outlives the test
        index._client.delete_collection("not-ours")


# ---------------------------------------------------------------- the layout before partitions


def old_chunk(
    document: str, number: int, embedding: list[float], node: str = "kb", key: str | None = "k1"
) -> IndexedChunk:
    """A chunk as ingestion laid them in one collection per model: keyed by its generation,
    or (key None) legacy, written before generations."""
    keyed = {"index_key": key, "keyed": True} if key else {}
    return IndexedChunk(
        id=f"{document}:{key}:{number}" if key else f"{document}:{number}",
        text=f"text {number} of {document}",
        embedding=embedding,
        metadata={
            "workflow_id": "w1",
            "node_id": node,
            "filename": f"{document}.pdf",
            "document_id": document,
            "chunk": number,
            "page": 1,
            **keyed,
        },
    )


def locate(model_id: str, metadata: dict[str, object]) -> Partition | None:
    """Keyed chunks name their generation; legacy ones belong to k1, and `gone`'s nowhere."""
    if metadata.get("document_id") == "gone":
        return None
    key = metadata.get("index_key", "k1")
    return Partition(model_id, str(metadata["workflow_id"]), str(metadata["node_id"]), str(key))


def test_the_old_layout_is_moved_into_partitions_and_dropped(new_index: IndexFactory) -> None:
    old = new_index()
    model = MODEL.model_id
    chunks = [
        old_chunk("d1", 0, unit(1, 0, 0)),
        old_chunk("d1", 1, unit(1, 1, 0)),
        old_chunk("d1", 0, unit(1, 0, 0), key="k2"),
        old_chunk("d2", 0, unit(0, 1, 0), node="kb2"),
        old_chunk("legacy", 0, unit(0, 0, 1), key=None),
        old_chunk("gone", 0, unit(1, 0, 0), key=None),
    ]
    write_old_layout(old, model, chunks)
    write_old_layout(old, OTHER_MODEL.model_id, [old_chunk("d9", 0, [0.5] * 5)])

    index = new_index()  # the new version, started on the same store
    moved = index.upgrade(locate)

    assert moved == 6
    assert {c.name for c in index._client.list_collections()} == {
        partition_name(p) for p in (MODEL, OTHER_GENERATION, OTHER_KNOWLEDGE_BASE, OTHER_MODEL)
    }
    hits = index.query(MODEL, unit(1, 0, 0), top_k=10, where={})
    assert [h.id for h in hits] == ["d1:k1:0", "d1:k1:1", "legacy:0"]
    assert hits[0].text == "text 0 of d1"
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[0].metadata == {**chunks[0].metadata}
    assert [h.id for h in index.query(OTHER_GENERATION, unit(1, 0, 0), 10, {})] == ["d1:k2:0"]
    assert [h.id for h in index.query(OTHER_KNOWLEDGE_BASE, unit(1, 0, 0), 10, {})] == ["d2:k1:0"]
    assert [h.id for h in index.query(OTHER_MODEL, [0.5] * 5, 10, {})] == ["d9:k1:0"]
    assert index.upgrade(locate) == 0  # nothing left to move
    assert old.count(MODEL, {}) == 3  # a process that had opened it before sees the same


def test_an_upgrade_interrupted_and_run_again_ends_with_each_chunk_once(
    new_index: IndexFactory,
) -> None:
    index = new_index()
    chunks = [old_chunk("d1", n, unit(1, n, 0)) for n in range(30)]
    write_old_layout(index, MODEL.model_id, chunks)
    index.upsert(MODEL, chunks[:10])  # as far as a crashed upgrade went

    assert index.upgrade(locate) == 30

    assert index.count(MODEL, {}) == 30
    assert index.count(MODEL, {"document_id": "d1"}) == 30


def test_an_upgrade_moves_text_kept_in_chromas_documents_into_the_metadata(
    index: ChromaVectorIndex,
) -> None:
    """Versions before that kept the text in `documents` (full-text indexed, never searched)."""
    collection = index._client.create_collection(
        collection_name(MODEL.model_id),
        embedding_function=None,
        metadata={"hnsw:space": "cosine", "model_id": MODEL.model_id, "genai_stack": "v1"},
    )
    old = old_chunk("d1", 0, unit(1, 0))
    collection.upsert(
        ids=[old.id],
        embeddings=[old.embedding],
        documents=["kept the old way"],
        metadatas=[old.metadata],
    )

    assert index.upgrade(locate) == 1

    (hit,) = index.query(MODEL, unit(1, 0), top_k=1, where={})
    assert (hit.text, hit.metadata) == ("kept the old way", old.metadata)


def test_an_upgrade_spans_many_pages_of_the_old_collection(
    index: ChromaVectorIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("infrastructure.vector_index.UPGRADE_PAGE", 7)
    write_old_layout(
        index, MODEL.model_id, [old_chunk(f"d{n % 3}", n, unit(1, n, 1)) for n in range(40)]
    )

    assert index.upgrade(locate) == 40

    assert index.count(MODEL, {}) == 40
    assert index.count(MODEL, {"document_id": "d0"}) == 14
