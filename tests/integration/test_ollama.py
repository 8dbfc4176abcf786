"""Ollama as a provider of its own (issue 11, item 5), through GraphQL with the real `ollama`
client against a fake that speaks Ollama's wire format on loopback: no key, models listed
from the server, answers streamed from NDJSON, usage from its counts at no cost, and its
errors (an error reply, a stream that is not Ollama's) as clear failed answers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from interfaces.app import create_app
from tests.conftest import make_settings
from tests.fakes import Failure, FakeOllamaServer
from tests.integration.chat_ops import (
    USAGE,
    kinds,
    published_workflow,
    start_chat,
    stored,
    text_of,
    turn,
)
from tests.integration.gql import GQL, GraphQLError
from tests.integration.workflow_ops import ADD, CREATE, GET, wait_for

pytestmark = pytest.mark.timeout(120)

REPLY = "The warranty lasts two years."
SERVER_OPENAI_KEY = "sk-server-wide-key-0123456789abcdef"
MODELS = """query($w: UUID!, $p: String!, $u: String) {
  providerModels(workflowId: $w, provider: $p, baseUrl: $u) {
    name sizeBytes parameterSize quantization family modifiedAt } }"""


@pytest.fixture
def ollama() -> Iterator[FakeOllamaServer]:
    with FakeOllamaServer(reply=REPLY, models=("qwen2.5:7b", "llama3.2:latest")) as server:
        yield server


@contextmanager
def app(tmp_path: Path, **settings: Any) -> Iterator[tuple[TestClient, GQL]]:
    with TestClient(create_app(make_settings(tmp_path / "data", None, **settings))) as client:
        yield client, GQL(client)


def ollama_llm(server: FakeOllamaServer, **extra: Any) -> dict[str, Any]:
    return {"provider": "ollama", "model": "llama3.2:latest", "baseUrl": server.url, **extra}


def test_a_stack_answers_with_an_ollama_model_streamed_and_its_usage_recorded_at_no_cost(
    client: TestClient, gql: GQL, ollama: FakeOllamaServer
) -> None:
    w = published_workflow(gql, ollama_llm(ollama, temperature=0.3, maxTokens=64))
    session = start_chat(gql, w)
    events = turn(client, gql, session, "How long is the warranty?")

    assert kinds(events) == ["user", "generating", "tokens", "assistant"]
    assert text_of(events) == REPLY
    answer = stored(gql, session, 2)[1]
    assert (answer["content"], answer["model"]) == (REPLY, "ollama/llama3.2:latest")
    # Ollama's own counts: the fake counts the words of the prompt and of the reply
    [request] = ollama.chat_requests()
    prompt = request.body["messages"][0]["content"]
    assert answer["usage"] == {
        "promptTokens": len(prompt.split()),
        "completionTokens": len(REPLY.split()),
    }
    assert request.body["stream"] is True
    assert request.body["model"] == "llama3.2:latest"
    assert request.body["options"] == {"temperature": 0.3, "num_predict": 64}

    def usage() -> list[dict[str, Any]] | None:
        rows = gql(USAGE, w=w)["usage"]
        return rows or None

    [row] = wait_for(usage)
    assert row["model"] == "ollama/llama3.2:latest"
    assert (row["answers"], row["costUsd"]) == (1, 0.0)
    assert type(row["costUsd"]) is float


def test_an_ollama_node_needs_no_key_and_never_carries_the_servers_or_the_environments(
    tmp_path: Path, ollama: FakeOllamaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the client library would send OLLAMA_API_KEY from the environment to any address
    monkeypatch.setenv("OLLAMA_API_KEY", "ollama-cloud-key-0123456789")
    with app(tmp_path, openai_api_key=SERVER_OPENAI_KEY) as (client, gql):
        w = gql(CREATE, name="Local")["createWorkflow"]["id"]
        added = gql(ADD, w=w, kind="LLM_ENGINE", x=0, y=0, id="llm", config=ollama_llm(ollama))
        issues = added["addNode"]["validation"]["issues"]
        assert [i["code"] for i in issues if i["nodeId"] == "llm"] == ["MISSING_INPUT"]
        w = published_workflow(gql, ollama_llm(ollama))
        events = turn(client, gql, start_chat(gql, w), "hello")
    assert text_of(events) == REPLY
    assert [r.headers.get("authorization") for r in ollama.requests] == [None]


def test_the_models_of_an_ollama_server_are_listed_for_the_model_picker(
    client: TestClient, gql: GQL, ollama: FakeOllamaServer
) -> None:
    w = gql(CREATE, name="Local")["createWorkflow"]["id"]
    models = gql(MODELS, w=w, p="ollama", u=ollama.url)["providerModels"]
    assert [m["name"] for m in models] == ["llama3.2:latest", "qwen2.5:7b"]
    assert models[0] == {
        "name": "llama3.2:latest",
        "sizeBytes": 2019393189.0,
        "parameterSize": "3.2B",
        "quantization": "Q4_K_M",
        "family": "llama",
        "modifiedAt": "2026-11-29T08:00:00+00:00",
    }
    assert [r.path for r in ollama.requests] == ["/api/tags"]


def test_listing_models_refuses_clearly_what_it_cannot_do(
    tmp_path: Path, ollama: FakeOllamaServer
) -> None:
    with app(tmp_path, genai_outbound_loopback=False) as (_, gql):
        w = gql(CREATE, name="Local")["createWorkflow"]["id"]
        with pytest.raises(GraphQLError) as refused:
            gql(MODELS, w=w, p="ollama", u=ollama.url)
        assert refused.value.code == "PROVIDER_ERROR"
        assert "on this machine (loopback)" in refused.value.message
        assert ollama.requests == []  # refused before any connection
        with pytest.raises(GraphQLError) as other:
            gql(MODELS, w=w, p="gemini", u=None)
        assert other.value.code == "BAD_USER_INPUT"
        assert "type the model's name" in other.value.message
        with pytest.raises(GraphQLError) as bad_url:
            gql(MODELS, w=w, p="ollama", u="ftp://user:secret@example.com")
        assert bad_url.value.code == "BAD_USER_INPUT"
        assert "secret" not in bad_url.value.message


def test_an_ollama_server_that_is_not_there_is_a_provider_error(tmp_path: Path) -> None:
    with FakeOllamaServer() as gone:
        address = gone.url  # a free port nobody listens on once the fake stops
    with app(tmp_path) as (_, gql):
        w = gql(CREATE, name="Local")["createWorkflow"]["id"]
        with pytest.raises(GraphQLError) as refused:
            gql(MODELS, w=w, p="ollama", u=address)
    assert refused.value.code == "PROVIDER_ERROR"
    assert "could not reach the server" in refused.value.message


@pytest.mark.parametrize(
    ("misbehaviour", "said"),
    [
        ("error reply", "the server failed (HTTP 500)"),
        ("error line", "the server reported an error"),
        ("garbage", "not in Ollama's format"),
        ("unknown model", "the model or the address was not found (HTTP 404)"),
    ],
)
def test_ollama_errors_are_clear_failed_answers_not_internal_ones(
    tmp_path: Path, ollama: FakeOllamaServer, misbehaviour: str, said: str
) -> None:
    llm = ollama_llm(ollama)
    if misbehaviour == "error reply":
        ollama.fail_next(Failure.http(500, "llama runner process has terminated"), times=3)
    elif misbehaviour == "error line":
        ollama.fail_next(Failure.stream_error(2, "out of memory"))
    elif misbehaviour == "garbage":
        ollama.garbage_next(times=3)
    else:
        llm["model"] = "mistral:7b"
    with app(tmp_path, genai_llm_retries=0) as (client, gql):
        w = published_workflow(gql, llm)
        failed = turn(client, gql, start_chat(gql, w), "hello")[-1]
    assert failed["__typename"] == "ChatFailed"
    assert failed["code"] == "PROVIDER_ERROR"
    assert failed["error"].startswith("Ollama: ")
    assert said in failed["error"]
    # the server's own words stay in the server's log
    assert "out of memory" not in failed["error"] and "llama runner" not in failed["error"]


def test_an_openai_compatible_server_still_answers_through_the_openai_provider(
    client: TestClient, gql: GQL, fake_openai: Any
) -> None:
    llm = {"provider": "openai", "model": "llama3.1", "baseUrl": fake_openai.base_url}
    w = published_workflow(gql, llm)
    events = turn(client, gql, start_chat(gql, w), "hello")
    assert events[-1]["message"]["content"] == fake_openai.default_reply, events
    assert gql(GET, w=w)["workflow"]["validation"]["valid"] is True
