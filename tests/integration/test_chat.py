"""Chatting with a published workflow through GraphQL: streamed answers from real SDKs
against the fake provider servers, failures, queueing, usage and recovery."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from application.chat.commands import SendMessage
from infrastructure.settings import Settings
from interfaces.app import create_app
from interfaces.bootstrap import bootstrap
from tests.fakes import Failure, FakeGeminiServer, FakeOpenAIServer, FakeSearchServer
from tests.fakes.openai_server import prompt_text
from tests.integration.chat_ops import (
    SEND,
    SESSIONS,
    START,
    USAGE,
    ChatWatcher,
    fake_llm,
    kinds,
    published_workflow,
    start_chat,
    stored,
    text_of,
    turn,
)
from tests.integration.gql import GQL, GraphQLError
from tests.integration.old_events import stored_as_version_1
from tests.integration.workflow_ops import ADD, CONFIGURE, CREATE, PUBLISH, wait_for

pytestmark = pytest.mark.timeout(120)


@contextmanager
def app_with(settings: Settings, **changes: object) -> Iterator[tuple[TestClient, GQL]]:
    with TestClient(create_app(settings.model_copy(update=changes))) as client:
        yield client, GQL(client)


@pytest.fixture
def quick(settings: Settings) -> Iterator[tuple[TestClient, GQL]]:
    """The app with two retries (its tests' fake answers at once: the timeout only bounds a
    failure, and a short one would time out on a busy machine and retry once too often)."""
    with app_with(settings, genai_llm_timeout=30.0, genai_llm_retries=2) as app:
        yield app


def test_an_answer_streams_then_is_stored_with_model_usage_and_latency(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply = "Paris is the capital of France."
    w = published_workflow(gql, fake_llm(fake_openai))
    s = start_chat(gql, w)

    events = turn(client, gql, s, "What is the capital of France?")

    assert kinds(events) == ["user", "generating", "tokens", "assistant"]
    assert text_of(events) == "Paris is the capital of France."
    answer = events[-1]["message"]
    assert answer["content"] == "Paris is the capital of France."
    tokens = [e for e in events if e["__typename"] == "ChatToken"]
    assert {t["messageId"] for t in tokens} == {answer["id"]}
    # a graph without a knowledge base sends the question alone
    [request] = fake_openai.chat_requests()
    assert prompt_text(request) == "What is the capital of France?"
    assert request.body["model"] == "gpt-4o-mini" and request.body["stream"] is True

    question, stored_answer = stored(gql, s, 2)
    assert (question["role"], question["status"]) == ("USER", "answered")
    assert stored_answer["replyTo"] == question["id"] == events[0]["message"]["id"]
    assert stored_answer["model"] == "gpt-4o-mini"
    assert stored_answer["usage"] == {"promptTokens": 6, "completionTokens": 6}
    assert stored_answer["latencyMs"] >= 0
    # no web search: no web pages, live or stored, on the answer or the question
    assert answer["webSources"] == stored_answer["webSources"] == question["webSources"] == []


def test_sending_returns_the_stored_question_at_once(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.fail_next(Failure.hang(3))  # the answer takes seconds; the mutation must not
    w = published_workflow(gql, fake_llm(fake_openai))
    s = start_chat(gql, w)
    with ChatWatcher(client, s) as watcher:
        message = gql(SEND, s=s, c="  Are you there?  ")["sendMessage"]
        assert (message["role"], message["content"], message["status"]) == (
            "USER",
            "Are you there?",
            "pending",
        )
        events = watcher.until_final()
    assert events[-1]["__typename"] == "ChatMessageAdded"


def test_the_prompt_template_gets_the_web_results_as_context(
    settings: Settings, fake_openai: FakeOpenAIServer, fake_search: FakeSearchServer
) -> None:
    with app_with(settings, genai_web_search_url=fake_search.url) as (client, gql):
        llm = fake_llm(
            fake_openai,
            webSearch=True,
            webSearchApiKey="serp-key-123456",
            prompt="Context:\n{context}\n---\nQ: {query}",
        )
        w = published_workflow(gql, llm)
        events = turn(client, gql, start_chat(gql, w), "tidal power")
        assert kinds(events) == ["user", "searching", "generating", "tokens", "assistant"]
    [search] = fake_search.requests
    assert search.query["q"] == "tidal power" and search.query["api_key"] == "serp-key-123456"
    prompt = prompt_text(fake_openai.chat_requests()[0])
    assert prompt.startswith("Context:\n[W1] Result 1 for tidal power (https://example.test/1)")
    assert "About tidal power: finding 5." in prompt
    assert prompt.endswith("---\nQ: tidal power")


def test_an_answer_with_web_search_cites_the_web_pages_it_was_given(
    settings: Settings, fake_openai: FakeOpenAIServer, fake_search: FakeSearchServer
) -> None:
    fake_search.results = [
        {
            "title": "Tidal power",
            "link": "https://encyclopedia.test/wiki/Tidal_power",
            "snippet": "Tidal power converts the energy of tides into electricity.",
        },
        {
            "title": "La Rance",
            "link": "http://rance.test/station?lang=en",
            "snippet": "The first tidal power station, opened in 1966.",
        },
    ]
    pages = [
        {"title": r["title"], "url": r["link"], "snippet": r["snippet"]}
        for r in fake_search.results
    ]
    with app_with(settings, genai_web_search_url=fake_search.url) as (client, gql):
        llm = fake_llm(fake_openai, webSearch=True, webSearchApiKey="serp-key-123456")
        s = start_chat(gql, published_workflow(gql, llm))
        events = turn(client, gql, s, "tidal power")
        question, answer = stored(gql, s, 2)

        assert events[-1]["message"]["webSources"] == pages  # the live ChatMessageAdded
        assert answer["webSources"] == pages
        assert answer["sources"] == []  # no knowledge base: no document passages
        assert events[0]["message"]["webSources"] == question["webSources"] == []

        client.app.state.services.worker("chats").rebuild()  # type: ignore[attr-defined]
        assert stored(gql, s, 2) == [question, answer]


def test_an_answer_stored_before_answers_cited_web_pages_still_loads(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    s = start_chat(gql, published_workflow(gql, fake_llm(fake_openai)))
    chat = services.event_log.repository.get(uuid.UUID(s))
    question = chat.ask(uuid.uuid4(), "Asked last year", "local")
    services.event_log.save(chat)  # stored as a server of last year did; never answered
    chat.answer(question.id, "Answered last year", [], "gpt-4o-mini", {}, 9, "assistant")
    [answered] = chat.collect_events()

    with ChatWatcher(client, s) as watcher:
        services.event_log.recorder.insert_events(
            [
                stored_as_version_1(
                    services.event_log,
                    answered,
                    "web_sources",
                    "workflow_version",
                    "published_version",
                )
            ]
        )
        services.watcher.poke()  # written behind the store's back: wake the followers
        [live] = watcher.until_final()

    old_fields = ("content", "webSources", "workflowVersion", "publishedVersion")
    assert [live["message"][f] for f in old_fields] == ["Answered last year", [], None, None]
    _, answer = stored(gql, s, 2)
    assert [answer[f] for f in old_fields] == ["Answered last year", [], None, None]
    loaded = services.event_log.repository.get(uuid.UUID(s))
    assert (loaded.answered, loaded.pending) == (1, [])
    [old] = [e for e in services.event_log.events.get(uuid.UUID(s)) if e.originator_version == 3]
    assert old.web_sources == []


def test_a_rate_limit_is_retried_and_the_answer_arrives(
    quick: tuple[TestClient, GQL], fake_openai: FakeOpenAIServer
) -> None:
    client, gql = quick
    fake_openai.fail_next(Failure.http(429, "Rate limit reached", retry_after=0.05))
    w = published_workflow(gql, fake_llm(fake_openai))
    events = turn(client, gql, start_chat(gql, w), "hello")
    assert events[-1]["__typename"] == "ChatMessageAdded"
    assert len(fake_openai.chat_requests()) == 2


def test_a_server_error_that_persists_ends_in_chat_failed(
    quick: tuple[TestClient, GQL], fake_openai: FakeOpenAIServer
) -> None:
    client, gql = quick
    fake_openai.fail_next(Failure.http(500, "The engine is on fire"), times=3)
    w = published_workflow(gql, fake_llm(fake_openai))
    s = start_chat(gql, w)
    events = turn(client, gql, s, "hello")
    failed = events[-1]
    assert failed["__typename"] == "ChatFailed"
    assert failed["code"] == "PROVIDER_ERROR"
    assert failed["error"] == "OpenAI: the server failed (HTTP 500)"  # not the server's words
    assert len(fake_openai.chat_requests()) == 3  # the first try and two retries
    [question] = stored(gql, s, 1)
    assert question["status"] == "failed"
    assert question["error"] == {"code": "PROVIDER_ERROR", "message": failed["error"]}
    assert failed["questionId"] == question["id"]


def test_a_provider_that_says_nothing_times_out_into_chat_failed(
    settings: Settings, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.fail_next(Failure.hang(10), times=2)
    with app_with(settings, genai_llm_timeout=0.5, genai_llm_retries=1) as (client, gql):
        w = published_workflow(gql, fake_llm(fake_openai))
        events = turn(client, gql, start_chat(gql, w), "hello")
    failed = events[-1]
    assert (failed["__typename"], failed["code"]) == ("ChatFailed", "PROVIDER_ERROR")
    assert "timed out" in failed["error"] or "no response" in failed["error"]


def test_a_refused_key_is_reported_without_the_key(client: TestClient, gql: GQL) -> None:
    key = "sk-node-key-" + uuid.uuid4().hex
    with FakeOpenAIServer(api_key="sk-the-right-one") as fake:
        w = published_workflow(gql, fake_llm(fake, apiKey=key))
        events = turn(client, gql, start_chat(gql, w), "hello")
        assert fake.chat_requests()[0].headers["authorization"] == f"Bearer {key}"
    failed = events[-1]
    assert (failed["__typename"], failed["code"]) == ("ChatFailed", "PROVIDER_ERROR")
    assert "HTTP 401" in failed["error"] and key not in failed["error"]
    assert key[-8:] not in failed["error"]


def test_gemini_answers_with_the_key_from_the_server_environment(
    settings: Settings,
) -> None:
    with FakeGeminiServer(reply="Bonjour tout le monde", api_key="AIza-server-key") as fake:
        # the fake stands in for Google's own address, where the server's key may go
        allowed = {"gemini": [fake.url]}
        server_key = SecretStr("AIza-server-key")
        with app_with(settings, gemini_api_key=server_key, genai_server_key_urls=allowed) as (
            client,
            gql,
        ):
            w = published_workflow(gql, fake_llm(fake, "gemini"))
            s = start_chat(gql, w)
            events = turn(client, gql, s, "Say hello in French")
            assert text_of(events) == "Bonjour tout le monde"
            answer = stored(gql, s, 2)[1]
        [request] = fake.generate_requests()
    assert request.headers["x-goog-api-key"] == "AIza-server-key"
    assert answer["model"] == "gemini-2.5-flash"
    assert answer["usage"] == {"promptTokens": 4, "completionTokens": 4}


def test_a_second_message_waits_for_the_first_answer(client: TestClient, gql: GQL) -> None:
    with FakeOpenAIServer(reply=lambda r: f"Answer to {prompt_text(r)}", token_delay=0.05) as fake:
        w = published_workflow(gql, fake_llm(fake))
        s = start_chat(gql, w)
        with ChatWatcher(client, s) as watcher:
            gql(SEND, s=s, c="first")
            gql(SEND, s=s, c="second")
            events = watcher.until_final(answers=2)
    seen = kinds(events)
    # the second question may arrive while the first answer streams, but its own answer
    # starts only once the first is stored
    second = seen.index("user", 1)
    rest = seen[:second] + seen[second + 1 :]
    # a question arriving mid-answer splits its run of tokens in two: one run again
    rest = [k for i, k in enumerate(rest) if not (k == "tokens" and rest[i - 1 : i] == [k])]
    assert rest == [
        "user",
        "generating",
        "tokens",
        "assistant",
        "generating",
        "tokens",
        "assistant",
    ]
    assert second < seen.index("assistant")
    answers = [e["message"]["content"] for e in events if e["__typename"] == "ChatMessageAdded"]
    assert answers[2:] == ["Answer to first", "Answer to second"]
    first, second = (r.body["messages"][0]["content"] for r in fake.chat_requests())
    assert (first, second) == ("first", "second")
    messages = stored(gql, s, 4)
    assert [m["content"] for m in messages] == [
        "first",
        "second",
        "Answer to first",
        "Answer to second",
    ]


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_question_asked_as_the_answerer_finishes_is_answered_not_left_waiting(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    """The answerer's last look for more work (on PostgreSQL, a read of the log) may miss a
    question stored a moment later, whose `send` then finds the answerer still registered:
    it must be answered at once, not left for the recovery sweep to fail."""
    services = client.app.state.services  # type: ignore[attr-defined]
    chats, answering = services.chats, services.answering
    s = start_chat(gql, published_workflow(gql, fake_llm(fake_openai)))
    look_once = answering._moved_on
    loop = client.portal.call(asyncio.get_running_loop)  # type: ignore[union-attr]

    def look_then_a_question_arrives(chat: object) -> bool:
        moved = look_once(chat)
        answering._moved_on = look_once  # only the first time
        second = SendMessage(actor="local", session_id=uuid.UUID(s), content="second")
        _, latest = chats._record_question(second)  # stored after the look
        loop.call_soon_threadsafe(answering.answer_soon, uuid.UUID(s), latest)
        return moved

    answering._moved_on = look_then_a_question_arrives
    with ChatWatcher(client, s) as watcher:
        gql(SEND, s=s, c="first")
        events = watcher.until_final(answers=2)
    assert [e["message"]["role"] for e in events if e["__typename"] == "ChatMessageAdded"] == [
        "USER",
        "ASSISTANT",
        "USER",
        "ASSISTANT",
    ]  # within seconds: left waiting, the second would be failed by the sweep after 30 s
    assert not any(e["__typename"] == "ChatFailed" for e in events)


def test_starting_a_chat_takes_the_latest_published_version_or_the_one_named(
    gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    w = published_workflow(gql, fake_llm(fake_openai))
    gql(CONFIGURE, w=w, n="llm", c={"temperature": 0.7})
    gql(PUBLISH, w=w)
    latest = gql(START, w=w, v=None)["startChat"]
    pinned = gql(START, w=w, v=1)["startChat"]
    assert (latest["publishedVersion"], pinned["publishedVersion"]) == (2, 1)
    assert latest["workflowId"] == w and latest["messages"] == []
    sessions = wait_for(lambda: len(gql(SESSIONS, w=w)["chatSessions"]) == 2 and gql(SESSIONS, w=w))
    assert {c["id"] for c in sessions["chatSessions"]} == {latest["id"], pinned["id"]}


def test_a_chat_answers_with_its_pinned_version_not_the_draft(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    w = published_workflow(gql, fake_llm(fake_openai, temperature=0.1))
    s = start_chat(gql, w)
    gql(CONFIGURE, w=w, n="llm", c={"temperature": 1.5, "model": "gpt-4.1"})
    turn(client, gql, s, "hi")
    [request] = fake_openai.chat_requests()
    assert (request.body["model"], request.body["temperature"]) == ("gpt-4o-mini", 0.1)


def test_chatting_with_a_workflow_never_published_is_refused(gql: GQL) -> None:
    w = gql(CREATE, name="Draft only")["createWorkflow"]["id"]
    gql(ADD, w=w, kind="USER_QUERY", x=0, y=0, id="q")
    with pytest.raises(GraphQLError) as refused:
        gql(START, w=w, v=None)
    assert refused.value.code == "INVALID_WORKFLOW"
    with pytest.raises(GraphQLError) as missing:
        gql(START, w=str(uuid.uuid4()), v=None)
    assert missing.value.code == "NOT_FOUND"


def test_bad_messages_are_refused(gql: GQL, fake_openai: FakeOpenAIServer) -> None:
    s = start_chat(gql, published_workflow(gql, fake_llm(fake_openai)))
    with pytest.raises(GraphQLError) as empty:
        gql(SEND, s=s, c="   ")
    assert empty.value.code == "BAD_USER_INPUT"
    with pytest.raises(GraphQLError) as unknown:
        gql(SEND, s=str(uuid.uuid4()), c="hello")
    assert unknown.value.code == "NOT_FOUND"


def test_usage_counts_tokens_and_cost_by_workflow_model_and_day(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply = "one two three four"
    w = published_workflow(gql, fake_llm(fake_openai))
    s = start_chat(gql, w)
    turn(client, gql, s, "a b")
    turn(client, gql, s, "c d e")
    usage = wait_for(lambda: (u := gql(USAGE, w=w)["usage"]) and u[0]["answers"] == 2 and u)
    [entry] = usage
    assert entry["model"] == "gpt-4o-mini" and entry["workflowId"] == w
    assert (entry["promptTokens"], entry["completionTokens"]) == (5, 8)
    # gpt-4o-mini: $0.15 per million prompt tokens, $0.60 per million completion tokens
    assert entry["costUsd"] == pytest.approx((5 * 0.15 + 8 * 0.60) / 1e6)
    assert any(u["workflowId"] == w for u in gql(USAGE, w=None)["usage"])


def test_a_question_left_unanswered_by_a_crash_is_failed_at_start_up(
    settings: Settings, fake_openai: FakeOpenAIServer
) -> None:
    settings = settings.model_copy(update={"genai_chat_lease_seconds": 0.5})
    with app_with(settings) as (client, gql):
        w = published_workflow(gql, fake_llm(fake_openai))
        s = start_chat(gql, w)
    # A server that stored the question and died before answering it: the question is in
    # the log, its answering process holds a lease that it will never renew.
    crashed = bootstrap(settings)
    chat = crashed.event_log.repository.get(uuid.UUID(s))
    question = chat.ask(uuid.uuid4(), "Anyone?", "local")
    crashed.event_log.save(chat)
    crashed.answering.leases.claim(uuid.UUID(s), "a-process-that-died", 0.5)
    crashed.event_log.close()
    crashed.read_db.dispose()

    with app_with(settings) as (client, gql):
        [message] = wait_for(lambda: stored(gql, s, 1), timeout=20)
        assert message["id"] == str(question.id)
        assert message["status"] == "failed"
        assert message["error"]["code"] == "INTERNAL"
        assert "stopped before this question was answered" in message["error"]["message"]
        assert fake_openai.chat_requests() == []
        # and the session goes on
        events = turn(client, gql, s, "Now?")
        assert events[-1]["__typename"] == "ChatMessageAdded"


def test_the_chat_read_model_is_rebuilt_from_the_log(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    w = published_workflow(gql, fake_llm(fake_openai))
    s = start_chat(gql, w)
    turn(client, gql, s, "one")
    turn(client, gql, s, "two")
    before = stored(gql, s, 4)
    usage = wait_for(lambda: (u := gql(USAGE, w=w)["usage"]) and u[0]["answers"] == 2 and u)

    worker = client.app.state.services.worker("chats")  # type: ignore[attr-defined]
    worker.rebuild()

    assert stored(gql, s, 4) == before
    assert gql(USAGE, w=w)["usage"] == usage


def test_the_session_list_shows_a_chat_its_client_just_started(
    settings: Settings, fake_openai: FakeOpenAIServer
) -> None:
    with app_with(settings, genai_run_projections=False) as (client, gql):
        worker = client.app.state.services.worker("chats")  # type: ignore[attr-defined]
        w = published_workflow(gql, fake_llm(fake_openai))
        s = start_chat(gql, w)
        late = threading.Timer(0.3, worker.catch_up)  # the projection, a little behind
        late.start()
        try:
            listed = gql(SESSIONS, w=w)["chatSessions"]
        finally:
            late.join()
        assert [session["id"] for session in listed] == [s]
