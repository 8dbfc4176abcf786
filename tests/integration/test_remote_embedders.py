"""The OpenAI and Gemini embedders through the real SDKs, against the fake servers."""

from __future__ import annotations

import socket
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from application.ports import EmbedderSpec, IndexedChunk, Partition, ProviderError
from infrastructure.embedders.factory import DefaultEmbedderFactory
from infrastructure.embedders.gemini import GeminiEmbedder
from infrastructure.embedders.openai import OpenAIEmbedder
from infrastructure.vector_index import ChromaVectorIndex
from tests.fakes import Failure, FakeGeminiServer, FakeOpenAIServer, hashed_embedding
from tests.fakes._server import Exchange

KEY = "sk-test-0123456789-secret"
TEXTS = [f"text number {i} about glaciers and owls" for i in range(7)]


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(api_key=KEY) as server:
        yield server


@pytest.fixture
def gemini_server() -> Iterator[FakeGeminiServer]:
    with FakeGeminiServer(api_key=KEY) as server:
        yield server


@pytest.fixture(autouse=True)
def no_provider_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def assert_close(vectors: list[list[float]], texts: list[str]) -> None:
    assert len(vectors) == len(texts)
    for vector, text in zip(vectors, texts, strict=True):
        assert vector == pytest.approx(hashed_embedding(text, len(vector)), abs=1e-6)


def full_report(error: BaseException) -> str:
    """All a log line with a traceback would show."""
    return "".join(traceback.format_exception(error)) + repr(error)


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


# ---------------------------------------------------------------- OpenAI


def test_openai_embeds_in_batches_in_order(openai_server: FakeOpenAIServer) -> None:
    embedder = OpenAIEmbedder(KEY, base_url=openai_server.base_url, batch_size=3)

    vectors = embedder.embed(TEXTS)

    assert_close(vectors, TEXTS)
    requests = openai_server.requests_to("/v1/embeddings")
    assert [len(r.body["input"]) for r in requests] == [3, 3, 1]
    assert {r.body["model"] for r in requests} == {"text-embedding-3-small"}
    assert {r.body["encoding_format"] for r in requests} == {"float"}
    assert requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_openai_model_id_names_the_server_unless_it_is_openai(
    openai_server: FakeOpenAIServer,
) -> None:
    local = OpenAIEmbedder(KEY, "nomic-embed-text", base_url=openai_server.base_url)
    official = OpenAIEmbedder(KEY, base_url="https://api.openai.com/v1")

    assert local.model_id == f"openai/nomic-embed-text@127.0.0.1:{openai_server.port}"
    assert official.model_id == OpenAIEmbedder(KEY).model_id == "openai/text-embedding-3-small"


def test_openai_transient_failures_are_retried(openai_server: FakeOpenAIServer) -> None:
    openai_server.fail_next(Failure.http(429, retry_after=0.01), Failure.http(503, retry_after=0))
    embedder = OpenAIEmbedder(KEY, base_url=openai_server.base_url, max_retries=3)

    assert_close(embedder.embed(TEXTS[:2]), TEXTS[:2])
    assert len(openai_server.requests_to("/v1/embeddings")) == 3


def test_openai_retries_are_bounded(openai_server: FakeOpenAIServer) -> None:
    openai_server.fail_next(Failure.http(500, retry_after=0), times=10)
    embedder = OpenAIEmbedder(KEY, base_url=openai_server.base_url, max_retries=2)

    with pytest.raises(ProviderError) as raised:
        embedder.embed(TEXTS[:1])

    assert raised.value.status == 500
    assert str(raised.value) == "OpenAI embeddings failed: the server failed (HTTP 500)."
    assert len(openai_server.requests_to("/v1/embeddings")) == 3


def test_a_refused_openai_key_never_appears_in_the_error(openai_server: FakeOpenAIServer) -> None:
    wrong = "sk-wrong-key-that-must-not-leak"
    embedder = OpenAIEmbedder(wrong, base_url=openai_server.base_url)

    with pytest.raises(ProviderError) as raised:
        embedder.embed(TEXTS[:1])

    assert raised.value.status == 401
    assert "key was refused" in str(raised.value)
    assert wrong not in full_report(raised.value)


def test_an_unreachable_openai_server_is_a_clear_error() -> None:
    embedder = OpenAIEmbedder(None, base_url=closed_port_url() + "/v1", max_retries=0)

    with pytest.raises(ProviderError, match="unreachable"):
        embedder.embed(["hello"])


def test_a_slow_openai_server_times_out(openai_server: FakeOpenAIServer) -> None:
    openai_server.fail_next(Failure.hang(3))
    embedder = OpenAIEmbedder(KEY, base_url=openai_server.base_url, max_retries=0, timeout=0.3)

    with pytest.raises(ProviderError, match="timed out"):
        embedder.embed(["hello"])


def test_openai_without_a_key_or_server_is_refused_at_once() -> None:
    with pytest.raises(ProviderError, match="No OpenAI API key"):
        OpenAIEmbedder(None)


def test_a_keyless_compatible_server_needs_no_key() -> None:
    with FakeOpenAIServer() as server:
        embedder = OpenAIEmbedder(None, "all-minilm", base_url=server.base_url)

        assert_close(embedder.embed(["no key needed"]), ["no key needed"])


class ScriptedEmbeddings(FakeOpenAIServer):
    """Answers every embeddings request with `reply`, as a compatible server might."""

    def __init__(self, reply: Any) -> None:
        super().__init__()
        self.reply = reply

    def route(self, exchange: Exchange, cut: int | None) -> bool:
        if exchange.request.path != "/v1/embeddings":
            return super().route(exchange, cut)
        exchange.send_json(200, self.reply)
        return True


def test_openai_vectors_are_floats_in_index_order_whatever_order_the_server_sends() -> None:
    reply = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 1, "embedding": [0, 1.5]},
            {"object": "embedding", "index": 0, "embedding": [-2, 0.25]},
        ],
        "model": "m",
        "usage": {"prompt_tokens": 2, "total_tokens": 2},
    }
    with ScriptedEmbeddings(reply) as server:
        vectors = OpenAIEmbedder(None, base_url=server.base_url).embed(["first", "second"])

    assert vectors == [[-2.0, 0.25], [0.0, 1.5]]
    assert all(type(x) is float for vector in vectors for x in vector)


@pytest.mark.parametrize(
    "reply",
    [
        {"data": [{"index": 0, "embedding": "AACAPwAAAEA="}]},  # base64, though float was asked
        {"data": [{"index": 0, "embedding": [1.0, "high"]}]},
        {"data": [{"embedding": [1.0]}]},
        {"error": "no data"},
        ["not", "an", "object"],
    ],
)
def test_an_openai_reply_that_is_not_a_list_of_embeddings_is_a_clear_error(reply: Any) -> None:
    with ScriptedEmbeddings(reply) as server:
        embedder = OpenAIEmbedder(None, base_url=server.base_url, max_retries=0)

        with pytest.raises(ProviderError, match="no list of embeddings"):
            embedder.embed(["one"])


def test_an_openai_reply_with_too_few_vectors_is_a_clear_error() -> None:
    reply = {"data": [{"index": 0, "embedding": [1.0, 2.0]}]}
    with ScriptedEmbeddings(reply) as server:
        embedder = OpenAIEmbedder(None, base_url=server.base_url, max_retries=0)

        with pytest.raises(ProviderError, match="returned 1 vectors for 2 texts"):
            embedder.embed(["one", "two"])


# ---------------------------------------------------------------- Gemini


def test_gemini_embeds_in_batches_in_order(gemini_server: FakeGeminiServer) -> None:
    embedder = GeminiEmbedder(KEY, base_url=gemini_server.url, batch_size=3)

    vectors = embedder.embed(TEXTS)

    assert_close(vectors, TEXTS)
    requests = gemini_server.requests_to(":batchEmbedContents")
    assert [len(r.body["requests"]) for r in requests] == [3, 3, 1]
    assert requests[0].path == "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    assert requests[0].headers["x-goog-api-key"] == KEY


def test_gemini_model_id_names_the_server_unless_it_is_google(
    gemini_server: FakeGeminiServer,
) -> None:
    embedder = GeminiEmbedder(KEY, "models/text-embedding-004", base_url=gemini_server.url)

    assert embedder.model_id == f"gemini/text-embedding-004@127.0.0.1:{gemini_server.port}"
    assert GeminiEmbedder(KEY).model_id == "gemini/gemini-embedding-001"


def test_gemini_transient_failures_are_retried(gemini_server: FakeGeminiServer) -> None:
    gemini_server.fail_next(Failure.http(503))
    embedder = GeminiEmbedder(KEY, base_url=gemini_server.url, attempts=2)

    assert_close(embedder.embed(TEXTS[:2]), TEXTS[:2])
    assert len(gemini_server.requests_to(":batchEmbedContents")) == 2


def test_gemini_retries_are_bounded(gemini_server: FakeGeminiServer) -> None:
    gemini_server.fail_next(Failure.http(500), times=10)
    embedder = GeminiEmbedder(KEY, base_url=gemini_server.url, attempts=2)

    with pytest.raises(ProviderError) as raised:
        embedder.embed(TEXTS[:1])

    assert raised.value.status == 500
    assert len(gemini_server.requests_to(":batchEmbedContents")) == 2


def test_a_refused_gemini_key_never_appears_in_the_error(gemini_server: FakeGeminiServer) -> None:
    wrong = "AIza-wrong-key-that-must-not-leak"
    embedder = GeminiEmbedder(wrong, base_url=gemini_server.url)

    with pytest.raises(ProviderError) as raised:
        embedder.embed(TEXTS[:1])

    assert "key was refused" in str(raised.value)
    assert wrong not in full_report(raised.value)


def test_an_unreachable_gemini_server_is_a_clear_error() -> None:
    embedder = GeminiEmbedder(KEY, base_url=closed_port_url(), attempts=1)

    with pytest.raises(ProviderError, match="unreachable"):
        embedder.embed(["hello"])


def test_gemini_without_a_key_is_refused_at_once() -> None:
    with pytest.raises(ProviderError, match="No Gemini API key"):
        GeminiEmbedder(None)


# ---------------------------------------------------------------- together


def test_the_factory_keeps_one_embedder_per_spec_and_server(
    openai_server: FakeOpenAIServer, gemini_server: FakeGeminiServer
) -> None:
    factory = DefaultEmbedderFactory()
    spec = EmbedderSpec("openai", "text-embedding-3-small", KEY, openai_server.base_url)

    openai_embedder = factory.for_spec(spec)
    gemini_embedder = factory.for_spec(EmbedderSpec("gemini", "", KEY, gemini_server.url))

    assert factory.for_spec(spec) is openai_embedder
    assert factory.for_spec(EmbedderSpec("openai", "text-embedding-3-small", KEY)) is not (
        openai_embedder
    )
    assert gemini_embedder.model_id.startswith("gemini/gemini-embedding-001@127.0.0.1:")
    assert_close(gemini_embedder.embed(["via the factory"]), ["via the factory"])


def test_remote_vectors_index_and_find_the_right_chunk(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    embedder = OpenAIEmbedder(KEY, base_url=openai_server.base_url)
    index = ChromaVectorIndex.embedded(tmp_path / "chroma")
    texts = [
        "The Zephyr reactor's coolant is molten lead.",
        "Sourdough from Tannby rises for nineteen hours.",
        "The snowy owl hunts during the polar day.",
    ]
    chunks = [
        IndexedChunk(f"doc:{i}", text, vector, {"document_id": "doc", "chunk": i})
        for i, (text, vector) in enumerate(zip(texts, embedder.embed(texts), strict=True))
    ]
    partition = Partition(embedder.model_id, "w", "kb", "key")
    index.upsert(partition, chunks)

    (question,) = embedder.embed(["what is the reactor coolant"])
    hits = index.query(partition, question, top_k=1, where={"document_id": "doc"})

    assert [h.id for h in hits] == ["doc:0"]
