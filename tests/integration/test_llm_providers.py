"""The LLM, embedding and web search SDKs for real, against the fake servers on loopback."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import openai
import pytest
from google import genai
from google.genai import types

from application.ports import LLM, LLMRequest, LLMStreamEnd, ProviderError, Usage
from domain.chat import Turn
from infrastructure.llm.extractive import ExtractiveLLM
from infrastructure.llm.factory import ProviderLLMFactory
from infrastructure.llm.gemini import GeminiLLM
from infrastructure.llm.openai import KEYLESS_PLACEHOLDER, OpenAILLM
from infrastructure.websearch import SerpApiSearch
from tests.fakes import (
    Failure,
    FakeGeminiServer,
    FakeOpenAIServer,
    FakeSearchServer,
    RecordedRequest,
    hashed_embedding,
)
from tests.fakes._server import FakeServer
from tests.fakes.embedding import cosine
from tests.fakes.openai_server import split_reply

OPENAI_KEY = "sk-test-0123456789abcdefghijklmnop"
GEMINI_KEY = "AIzaSyTEST0123456789abcdefghijklmn"
SERP_KEY = "serp-secret-0123456789abcdef"
REPLY = "The warranty lasts two years from the date of purchase."
PROMPT = "Answer from the context.\nContext: warranty is two years.\nQuestion: how long?"

# Retries without waiting; the idle timeout stays generous (a loaded machine may take its time
# to answer), and the tests about timeouts set their own.
FAST: dict[str, Any] = {"timeout": 30.0, "retries": 2, "backoff": 0.01}


@dataclass
class Provider:
    """One real SDK and its fake, seen the same way by the tests that apply to both."""

    name: str
    server: FakeServer
    key: str
    make: Callable[..., LLM]
    sent_key: Callable[[RecordedRequest], str]
    sent_prompt: Callable[[RecordedRequest], str]
    calls: Callable[[], list[RecordedRequest]]

    def llm(self, **options: Any) -> LLM:
        return self.make(base_url=self.base_url, **{**FAST, **options})

    @property
    def base_url(self) -> str:
        return self.server.url + ("/v1" if self.name == "openai" else "")

    def request(self, **changes: Any) -> LLMRequest:
        model = "gpt-test" if self.name == "openai" else "gemini-test"
        base = LLMRequest(
            provider=self.name, model=model, prompt=PROMPT, query="how long?", api_key=self.key
        )
        return replace(base, **changes)


def _openai_case(server: FakeOpenAIServer) -> Provider:
    return Provider(
        name="openai",
        server=server,
        key=OPENAI_KEY,
        make=OpenAILLM,
        sent_key=lambda r: r.headers["authorization"].removeprefix("Bearer "),
        sent_prompt=lambda r: r.body["messages"][0]["content"],
        calls=server.chat_requests,
    )


def _gemini_case(server: FakeGeminiServer) -> Provider:
    return Provider(
        name="gemini",
        server=server,
        key=GEMINI_KEY,
        make=GeminiLLM,
        sent_key=lambda r: r.headers["x-goog-api-key"],
        sent_prompt=lambda r: r.body["contents"][0]["parts"][0]["text"],
        calls=server.generate_requests,
    )


@pytest.fixture(params=["openai", "gemini"])
def provider(request: pytest.FixtureRequest) -> Iterator[Provider]:
    if request.param == "openai":
        with FakeOpenAIServer(reply=REPLY, api_key=OPENAI_KEY) as server:
            yield _openai_case(server)
    else:
        with FakeGeminiServer(reply=REPLY, api_key=GEMINI_KEY) as server:
            yield _gemini_case(server)


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(reply=REPLY, api_key=OPENAI_KEY) as server:
        yield server


@pytest.fixture
def fake_gemini() -> Iterator[FakeGeminiServer]:
    with FakeGeminiServer(reply=REPLY, api_key=GEMINI_KEY) as server:
        yield server


@pytest.fixture
def fake_search() -> Iterator[FakeSearchServer]:
    with FakeSearchServer(api_key=SERP_KEY) as server:
        yield server


async def collect(llm: LLM, request: LLMRequest) -> tuple[list[str], LLMStreamEnd]:
    items = [item async for item in llm.stream(request)]
    *deltas, end = items
    assert all(isinstance(d, str) for d in deltas)
    assert isinstance(end, LLMStreamEnd)
    return deltas, end  # type: ignore[return-value]


async def failure_of(llm: LLM, request: LLMRequest) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        async for _ in llm.stream(request):
            pass
    return caught.value


# ---------------------------------------------------------------- both providers


async def test_deltas_arrive_in_order_and_join_to_the_reply(provider: Provider) -> None:
    deltas, end = await collect(provider.llm(), provider.request())
    assert deltas == split_reply(REPLY)
    assert "".join(deltas) == REPLY
    assert end.model == provider.request().model
    assert end.usage == Usage(prompt_tokens=len(PROMPT.split()), completion_tokens=len(deltas))


async def test_deltas_are_relayed_as_they_come_not_at_the_end(provider: Provider) -> None:
    # OpenAI's first piece is the assistant's role, without text: hold after the first word
    with provider.server.hold_stream(after_pieces=2) as gate:
        stream = provider.llm(retries=0).stream(provider.request())  # no second try to hide in
        # the server holds the rest of the answer back: the first delta arrives all the same
        first = await asyncio.wait_for(anext(stream), 60)
        await asyncio.to_thread(gate.wait_arrived)  # it has been holding the rest back
        assert not gate.released.is_set()
        gate.release()
        rest = [item async for item in stream]
    assert isinstance(first, str) and first
    assert first + "".join(d for d in rest if isinstance(d, str)) == REPLY


async def test_the_prompt_and_key_reach_the_server(provider: Provider) -> None:
    await collect(provider.llm(), provider.request())
    (sent,) = provider.calls()
    assert provider.sent_prompt(sent) == PROMPT
    assert provider.sent_key(sent) == provider.key


async def test_a_rate_limit_is_retried_and_then_answered(provider: Provider) -> None:
    provider.server.fail_next(Failure.http(429, "Slow down.", retry_after=0.05))
    deltas, _ = await collect(provider.llm(), provider.request())
    assert "".join(deltas) == REPLY
    assert len(provider.calls()) == 2


async def test_a_lasting_server_error_ends_in_provider_error_after_bounded_tries(
    provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    provider.server.fail_next(Failure.http(500, "The model is on fire."), times=5)
    with caplog.at_level(logging.INFO):
        error = await failure_of(provider.llm(retries=2), provider.request())
    assert error.status == 500
    # the server's own words go to the log, the reader gets a safe sentence
    assert str(error).endswith(": the server failed (HTTP 500)")
    assert "The model is on fire." in caplog.text
    assert len(provider.calls()) == 3


async def test_a_server_that_never_answers_ends_in_provider_error(provider: Provider) -> None:
    # Each hang ends in a full answer: a client that waited it out would not fail.
    # The timeout covers sending the request too: 1 s could end the retry before it left a
    # machine busy with parallel test workers, and the fake would never see it.
    provider.server.fail_next(Failure.hang(120), times=5)
    error = await failure_of(provider.llm(timeout=5.0, retries=1), provider.request())
    assert "timed out" in str(error)
    # on a loaded machine the retried request can reach the fake just after the client gave up
    deadline = time.monotonic() + 30
    while len(provider.calls()) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert len(provider.calls()) == 2


async def test_a_stream_stalling_between_deltas_times_out(provider: Provider) -> None:
    provider.server.token_delay = 120.0  # the first delta, then silence
    error = await failure_of(provider.llm(timeout=0.3, retries=0), provider.request())
    assert "no response within 0.3 s" in str(error)


async def test_a_connection_cut_mid_answer_is_reported_not_repeated(provider: Provider) -> None:
    provider.server.fail_next(Failure.cut(after_chunks=3))
    received: list[str] = []
    with pytest.raises(ProviderError):
        async for item in provider.llm().stream(provider.request()):
            if isinstance(item, str):
                received.append(item)
    assert received and REPLY.startswith("".join(received))
    assert len(provider.calls()) == 1  # a retry would have repeated what was shown


async def test_a_refused_key_is_reported_without_the_key(provider: Provider) -> None:
    wrong = provider.key[:-6] + "WRONG1"
    error = await failure_of(provider.llm(), provider.request(api_key=wrong))
    assert wrong not in str(error)
    assert error.status in (400, 401)
    assert len(provider.calls()) == 1  # refusals are not retried


async def test_a_provider_message_is_not_echoed_and_is_logged_without_the_key(
    provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    provider.server.fail_next(Failure.http(503, f"overloaded for {provider.key}"), times=3)
    with caplog.at_level(logging.INFO):
        error = await failure_of(provider.llm(), provider.request())
    assert "overloaded" not in str(error) and provider.key[4:] not in str(error)
    assert "overloaded for" in caplog.text
    assert provider.key not in caplog.text and provider.key[4:] not in caplog.text


async def test_without_a_key_nothing_is_sent(provider: Provider) -> None:
    llm = provider.make(**FAST)  # no base URL: the real endpoint, never reached
    error = await failure_of(llm, provider.request(api_key=None))
    assert "no API key" in str(error)
    assert provider.server.requests == []


async def test_the_request_base_url_wins_over_the_adapters(provider: Provider) -> None:
    llm = provider.make(base_url="http://127.0.0.1:9/nowhere", **FAST)
    deltas, _ = await collect(llm, provider.request(base_url=provider.base_url))
    assert "".join(deltas) == REPLY


# ---------------------------------------------------------------- provider specifics


async def test_openai_wire_request_asks_for_streamed_usage(fake_openai: FakeOpenAIServer) -> None:
    llm = OpenAILLM(**FAST)
    request = LLMRequest(
        provider="openai",
        model="llama3",
        prompt="Hi",
        query="Hi",
        temperature=0.2,
        max_tokens=50,
        api_key=OPENAI_KEY,
        base_url=fake_openai.base_url,
    )
    await collect(llm, request)
    (sent,) = fake_openai.chat_requests()
    assert sent.path == "/v1/chat/completions"
    assert sent.body["stream"] is True
    assert sent.body["stream_options"] == {"include_usage": True}
    assert sent.body["model"] == "llama3"
    assert sent.body["temperature"] == 0.2
    assert sent.body["max_tokens"] == 50  # what compatible servers understand


async def test_an_openai_error_event_mid_stream_ends_in_provider_error_with_its_message(
    fake_openai: FakeOpenAIServer,
) -> None:
    case = _openai_case(fake_openai)
    fake_openai.fail_next(Failure.stream_error(after_chunks=3, message="The model is overloaded."))
    received: list[str] = []
    with pytest.raises(ProviderError) as failed:
        async for item in case.llm().stream(case.request()):
            if isinstance(item, str):
                received.append(item)
    assert str(failed.value) == "OpenAI: the server reported an error"
    assert received and REPLY.startswith("".join(received))
    assert len(fake_openai.chat_requests()) == 1  # shown text is never repeated by a retry


async def test_openai_compatible_server_without_key_gets_a_placeholder() -> None:
    with FakeOpenAIServer(reply="Local model here.") as server:
        llm = OpenAILLM(**FAST)
        request = LLMRequest(
            provider="openai", model="llama3", prompt="Hi", query="Hi", base_url=server.base_url
        )
        deltas, _ = await collect(llm, request)
    assert "".join(deltas) == "Local model here."
    assert server.requests[0].headers["authorization"] == f"Bearer {KEYLESS_PLACEHOLDER}"


async def test_gemini_wire_request_streams_over_sse(fake_gemini: FakeGeminiServer) -> None:
    llm = GeminiLLM(base_url=fake_gemini.url, **FAST)
    request = LLMRequest(
        provider="gemini",
        model="gemini-2.5-flash",
        prompt="Hi",
        query="Hi",
        temperature=0.3,
        max_tokens=64,
        api_key=GEMINI_KEY,
    )
    await collect(llm, request)
    (sent,) = fake_gemini.generate_requests()
    assert sent.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert sent.query == {"alt": "sse"}
    assert sent.body["generationConfig"] == {"temperature": 0.3, "maxOutputTokens": 64}


async def test_openai_gets_the_conversation_and_instructions_as_messages(
    fake_openai: FakeOpenAIServer,
) -> None:
    request = LLMRequest(
        provider="openai",
        model="gpt-4o-mini",
        prompt="Context: …\nQuestion: and the weight?",
        query="and the weight?",
        api_key=OPENAI_KEY,
        base_url=fake_openai.base_url,
        history=(Turn("user", "What is the torque?"), Turn("assistant", "40 Nm.")),
        instructions="Answer briefly.",
    )
    await collect(OpenAILLM(**FAST), request)
    (sent,) = fake_openai.chat_requests()
    assert sent.body["messages"] == [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "What is the torque?"},
        {"role": "assistant", "content": "40 Nm."},
        {"role": "user", "content": "Context: …\nQuestion: and the weight?"},
    ]


async def test_gemini_gets_the_conversation_as_contents_and_instructions_as_system(
    fake_gemini: FakeGeminiServer,
) -> None:
    llm = GeminiLLM(base_url=fake_gemini.url, **FAST)
    request = LLMRequest(
        provider="gemini",
        model="gemini-2.5-flash",
        prompt="Question: and the weight?",
        query="and the weight?",
        api_key=GEMINI_KEY,
        history=(Turn("user", "What is the torque?"), Turn("assistant", "40 Nm.")),
        instructions="Answer briefly.",
    )
    deltas, _ = await collect(llm, request)
    assert "".join(deltas) == REPLY
    (sent,) = fake_gemini.generate_requests()
    assert sent.body["contents"] == [
        {"role": "user", "parts": [{"text": "What is the torque?"}]},
        {"role": "model", "parts": [{"text": "40 Nm."}]},
        {"role": "user", "parts": [{"text": "Question: and the weight?"}]},
    ]
    assert sent.body["systemInstruction"]["parts"] == [{"text": "Answer briefly."}]


# ---------------------------------------------------------------- the factory


def test_the_factory_finds_each_provider_and_refuses_unknown_ones() -> None:
    factory = ProviderLLMFactory(timeout=5, retries=1)
    assert isinstance(factory.for_provider("openai"), OpenAILLM)
    assert isinstance(factory.for_provider("Gemini"), GeminiLLM)
    assert isinstance(factory.for_provider("extractive"), ExtractiveLLM)
    assert factory.for_provider("openai") is factory.for_provider("openai")
    with pytest.raises(ValueError, match="unknown LLM provider 'claude'"):
        factory.for_provider("claude")


def test_the_factory_takes_extra_adapters() -> None:
    mine = ExtractiveLLM(max_quotes=1)
    factory = ProviderLLMFactory({"offline": mine})
    assert factory.for_provider("offline") is mine
    assert "offline" in factory.providers


# ---------------------------------------------------------------- embeddings of the fakes


async def test_openai_embeddings_come_from_the_fake(fake_openai: FakeOpenAIServer) -> None:
    texts = ["the warranty lasts two years", "warranty of two years", "bananas are yellow"]
    async with openai.AsyncOpenAI(api_key=OPENAI_KEY, base_url=fake_openai.base_url) as client:
        default = await client.embeddings.create(model="text-embedding-3-small", input=texts)
        floats = await client.embeddings.create(
            model="text-embedding-3-small", input=texts[0], encoding_format="float", dimensions=8
        )
    vectors = [item.embedding for item in default.data]
    assert vectors[0] == pytest.approx(hashed_embedding(texts[0], 64), abs=1e-6)
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])
    assert floats.data[0].embedding == pytest.approx(hashed_embedding(texts[0], 8))
    assert default.usage.prompt_tokens == sum(len(t.split()) for t in texts)


async def test_gemini_embeddings_come_from_the_fake(fake_gemini: FakeGeminiServer) -> None:
    options = types.HttpOptions(base_url=fake_gemini.url, api_version="v1beta")
    client = genai.Client(api_key=GEMINI_KEY, enterprise=False, http_options=options)
    texts: list[Any] = ["the warranty lasts", "bananas"]
    try:
        result = await client.aio.models.embed_content(
            model="text-embedding-004",
            contents=texts,
            config=types.EmbedContentConfig(output_dimensionality=16),
        )
    finally:
        await client.aio.aclose()
        client.close()
    assert [e.values for e in result.embeddings or []] == [
        pytest.approx(hashed_embedding("the warranty lasts", 16)),
        pytest.approx(hashed_embedding("bananas", 16)),
    ]
    (sent,) = fake_gemini.requests
    assert sent.path == "/v1beta/models/text-embedding-004:batchEmbedContents"
    assert sent.headers["x-goog-api-key"] == GEMINI_KEY


# ---------------------------------------------------------------- web search


async def test_web_search_returns_the_organic_results(fake_search: FakeSearchServer) -> None:
    search = SerpApiSearch(base_url=fake_search.url, timeout=30)
    results = await search.search("event sourcing", SERP_KEY, limit=3)
    assert [r.title for r in results] == [f"Result {i} for event sourcing" for i in (1, 2, 3)]
    assert results[0].url == "https://example.test/1"
    assert results[0].snippet == "About event sourcing: finding 1."
    (sent,) = fake_search.requests
    assert sent.path == "/search"
    assert sent.query == {
        "q": "event sourcing",
        "api_key": SERP_KEY,
        "engine": "google",
        "num": "3",
    }


async def test_web_search_keeps_the_key_out_of_the_logs(
    fake_search: FakeSearchServer, caplog: pytest.LogCaptureFixture
) -> None:
    fake_search.fail_next(Failure.http(500, "Oops."))
    with caplog.at_level(logging.DEBUG):
        await SerpApiSearch(base_url=fake_search.url, backoff=0.01).search("q", SERP_KEY, 2)
    assert "/search?" in caplog.text  # httpx did log the URLs
    assert SERP_KEY not in caplog.text


async def test_web_search_with_no_results_is_empty(fake_search: FakeSearchServer) -> None:
    fake_search.results = []
    assert await SerpApiSearch(base_url=fake_search.url).search("zxqv", SERP_KEY, 5) == []


async def test_web_search_refusal_hides_the_key(fake_search: FakeSearchServer) -> None:
    wrong = "serp-wrong-key-9876543210"
    with pytest.raises(ProviderError) as caught:
        await SerpApiSearch(base_url=fake_search.url).search("q", wrong, 3)
    assert caught.value.status == 401
    assert "refused the API key" in str(caught.value) and wrong not in str(caught.value)


async def test_web_search_retries_a_rate_limit(fake_search: FakeSearchServer) -> None:
    fake_search.fail_next(Failure.http(429, "Too many searches.", retry_after=0.01))
    results = await SerpApiSearch(base_url=fake_search.url, backoff=0.01).search("q", SERP_KEY, 2)
    assert len(results) == 2 and len(fake_search.requests) == 2


async def test_web_search_failures_end_in_provider_error(fake_search: FakeSearchServer) -> None:
    # a 502 comes at once: a short timeout could turn a slow one (busy machine) into a timeout
    search = SerpApiSearch(base_url=fake_search.url, timeout=30, retries=1, backoff=0.01)
    fake_search.fail_next(Failure.http(502, "Bad gateway."), times=2)
    with pytest.raises(ProviderError, match=r"the server failed \(HTTP 502\)"):
        await search.search("q", SERP_KEY, 2)
    hurried = SerpApiSearch(base_url=fake_search.url, timeout=0.3, retries=1, backoff=0.01)
    fake_search.fail_next(Failure.hang(120), times=2)  # each ends in a full answer
    with pytest.raises(ProviderError, match="timed out"):
        await hurried.search("q", SERP_KEY, 2)


async def test_web_search_without_a_key_sends_nothing(fake_search: FakeSearchServer) -> None:
    with pytest.raises(ProviderError, match="no SerpAPI key"):
        await SerpApiSearch(base_url=fake_search.url).search("q", None, 2)
    assert fake_search.requests == []
