"""The real all-MiniLM-L6-v2, offline, loaded once for the module (torch takes seconds)."""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from application.ports import EmbedderSpec
from infrastructure.embedders.factory import DefaultEmbedderFactory
from infrastructure.embedders.local import DIMENSIONS, MODEL_ID, LocalEmbedder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    local = LocalEmbedder(batch_size=32)
    started = time.perf_counter()
    local.load()
    print(f"\nlocal model load: {time.perf_counter() - started:.2f} s")
    return local


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_vectors_have_384_dimensions_and_unit_length(embedder: LocalEmbedder) -> None:
    vectors = embedder.embed(["The cat sat on the mat.", "Молния ударила в дерево."])

    assert len(vectors) == 2
    assert all(len(v) == DIMENSIONS for v in vectors)
    assert all(math.isclose(math.sqrt(dot(v, v)), 1.0, abs_tol=1e-4) for v in vectors)
    assert embedder.model_id == MODEL_ID == "local/all-MiniLM-L6-v2"


def test_similar_sentences_are_closer_than_unrelated_ones(embedder: LocalEmbedder) -> None:
    query, similar, unrelated = embedder.embed(
        [
            "What cools the Zephyr reactor?",
            "The Zephyr reactor's coolant is molten lead.",
            "Sourdough bread rises for nineteen hours.",
        ]
    )

    assert dot(query, similar) > dot(query, unrelated) + 0.2


def test_the_same_text_gives_the_same_vector_whatever_the_batch(embedder: LocalEmbedder) -> None:
    alone = embedder.embed(["A lighthouse 48 metres tall."])[0]
    in_batch = embedder.embed(["Something else entirely.", "A lighthouse 48 metres tall."])[1]

    assert dot(alone, in_batch) == pytest.approx(1.0, abs=1e-5)


def test_no_texts_need_no_model() -> None:
    assert LocalEmbedder().embed([]) == []


def test_threads_share_one_model_safely(embedder: LocalEmbedder) -> None:
    texts = [f"Sentence number {i} about owls and trains." for i in range(8)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda t: embedder.embed([t])[0], texts))

    expected = embedder.embed(texts)
    assert all(
        dot(a, b) == pytest.approx(1.0, abs=1e-5) for a, b in zip(results, expected, strict=True)
    )


def test_loading_set_the_hub_offline(embedder: LocalEmbedder) -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"


def test_the_factory_gives_one_local_embedder_per_spec(embedder: LocalEmbedder) -> None:
    factory = DefaultEmbedderFactory()
    spec = EmbedderSpec(embedder="local", model="all-MiniLM-L6-v2")

    first = factory.for_spec(spec)

    assert first is factory.for_spec(EmbedderSpec(embedder="local", model="all-MiniLM-L6-v2"))
    assert first.model_id == MODEL_ID
    assert len(first.embed(["x"])[0]) == DIMENSIONS
    with pytest.raises(ValueError, match="only all-MiniLM-L6-v2"):
        factory.for_spec(EmbedderSpec(embedder="local", model="bge-large"))
    with pytest.raises(ValueError, match="Unknown embedder"):
        factory.for_spec(EmbedderSpec(embedder="cohere", model="x"))


def test_a_batch_of_chunks_embeds_in_reasonable_time(embedder: LocalEmbedder) -> None:
    # 200, not thousands: two cores are shared with everything else the suite runs
    chunks = [
        f"Chunk {i}. The Zephyr reactor's coolant is molten lead, section {i % 37} of the "
        f"manual, which also covers pumps, valves and the inspection of weld number {i}. " * 3
        for i in range(200)
    ]

    started = time.perf_counter()
    vectors = embedder.embed(chunks)
    elapsed = time.perf_counter() - started

    print(f"\n200 chunks of {len(chunks[0])} chars: {elapsed:.1f} s")
    assert len(vectors) == 200
    assert elapsed < 120  # a hang, or a model download, would take far longer
