"""Published stacks as OpenAI-compatible models: the real `openai` SDK calls the server over
HTTP (streamed and not, multi-turn, pinned versions, the models list, every refusal in
OpenAI's error shape), the stack's LLM is the fake OpenAI server on loopback, and each call
is a chat turn that GraphQL shows afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from domain.chat import ChatSession
from infrastructure.settings import Settings
from tests.conftest import make_settings
from tests.fakes import Failure, FakeOpenAIServer
from tests.integration.chat_ops import (
    MESSAGE_FIELDS,
    draft_workflow,
    fake_llm,
    published_workflow,
    upload,
    wait_indexed,
)
from tests.integration.openai_api import Served, serving
from tests.integration.workflow_ops import ADD, CONFIGURE, CONNECT, CREATE, PUBLISH, wait_for
from tests.pdfs import FACTS, multi_page_pdf

pytestmark = pytest.mark.timeout(180)

REPLY = "Paris is the capital of France."
SESSIONS = f"""query($w: UUID!) {{ chatSessions(workflowId: $w) {{ id publishedVersion draft
  messages {{ {MESSAGE_FIELDS} }} }} }}"""


@pytest.fixture
def served(settings: Settings) -> Iterator[Served]:
    with serving(settings) as s:
        yield s


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Served]:
    """On SQLite only: for what does not depend on the store."""
    with serving(make_settings(tmp_path / "data", None)) as s:
        yield s


def ask(question: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}]


def sessions(served: Served, workflow_id: str) -> list[dict[str, Any]]:
    return list(served.owner(SESSIONS, w=workflow_id)["chatSessions"])


def stored_session(served: Served, session_id: str) -> ChatSession:
    return served.services.chats.chats.load(UUID(session_id))


def error_of(refused: pytest.ExceptionInfo[openai.APIStatusError]) -> dict[str, Any]:
    """The `error` object of the refusal's body, which must be OpenAI's shape exactly."""
    body = refused.value.response.json()
    assert list(body) == ["error"]
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return dict(body["error"])


# ---------------------------------------------------------------- answers


def test_a_published_stack_answers_the_sdk_with_a_chat_completion_stored_as_a_turn(
    served: Served, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply = REPLY
    w = published_workflow(served.owner, fake_llm(fake_openai), name="Geography Helper")
    token = served.token("CHAT")

    completion = served.sdk(token).chat.completions.create(
        model="geography-helper", messages=ask("What is the capital of France?")
    )

    assert type(completion) is ChatCompletion
    assert completion.object == "chat.completion"
    assert completion.model == "geography-helper@v1"
    [choice] = completion.choices
    assert (choice.index, choice.finish_reason) == (0, "stop")
    assert (choice.message.role, choice.message.content) == ("assistant", REPLY)
    # the stack's LLM got the question alone, and counted 6 prompt and 6 reply words
    [request] = fake_openai.chat_requests()
    assert request.body["messages"] == ask("What is the capital of France?")
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (6, 6)
    assert completion.usage.total_tokens == 12
    # what OpenAI clients ignore: the sources (none: no knowledge base) and the session
    extra = choice.message.model_extra or {}
    assert (extra["sources"], extra["web_sources"]) == ([], [])

    # the call is a turn of a session pinned to version 1, like any other
    [session] = sessions(served, w)
    assert session["id"] == (completion.model_extra or {})["session_id"]
    assert (session["publishedVersion"], session["draft"]) == (1, False)
    question, answer = session["messages"]
    assert (question["role"], question["content"], question["status"]) == (
        "USER",
        "What is the capital of France?",
        "answered",
    )
    assert (answer["role"], answer["content"], answer["replyTo"]) == (
        "ASSISTANT",
        REPLY,
        question["id"],
    )
    assert completion.id == f"chatcmpl-{UUID(answer['id']).hex}"
    assert answer["usage"] == {"promptTokens": 6, "completionTokens": 6}
    assert (answer["publishedVersion"], answer["model"]) == (1, "gpt-4o-mini")
    # asked by the token: its events name it
    assert stored_session(served, session["id"]).author.startswith("token:")


def test_a_streamed_answer_comes_as_openai_chunks_with_usage_then_done(
    served: Served, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply = REPLY
    w = published_workflow(served.owner, fake_llm(fake_openai), name="Geography Helper")
    sdk = served.sdk(served.token("CHAT"))

    chunks = list(
        sdk.chat.completions.create(
            model="geography-helper",
            messages=ask("What is the capital of France?"),
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    assert all(type(c) is ChatCompletionChunk for c in chunks)
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert len({c.id for c in chunks}) == 1 and {c.model for c in chunks} == {"geography-helper@v1"}
    first, *deltas, last_choice, usage = chunks
    assert (first.choices[0].delta.role, first.choices[0].delta.content) == ("assistant", "")
    assert "".join(c.choices[0].delta.content or "" for c in deltas) == REPLY
    assert all(c.choices[0].finish_reason is None for c in [first, *deltas])
    assert last_choice.choices[0].finish_reason == "stop"
    assert last_choice.choices[0].delta.content is None
    assert (last_choice.model_extra or {})["sources"] == []
    # include_usage: every chunk has usage null but the last, which has no choices
    assert all(c.usage is None for c in chunks[:-1])
    assert usage.choices == [] and usage.usage is not None
    assert (usage.usage.prompt_tokens, usage.usage.completion_tokens) == (6, 6)

    [session] = sessions(served, w)
    answer = session["messages"][1]
    assert answer["content"] == REPLY and first.id == f"chatcmpl-{UUID(answer['id']).hex}"
    assert answer["usage"] == {"promptTokens": 6, "completionTokens": 6}


def test_the_stream_on_the_wire_is_server_sent_events_ending_in_done(
    local: Served, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply = REPLY
    published_workflow(local.owner, fake_llm(fake_openai), name="Geography Helper")
    token = local.token("CHAT")
    body = {"model": "geography-helper", "messages": ask("Capital?"), "stream": True}

    with local.http.stream(
        "POST", "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {token}"}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = response.read().decode()

    events = raw.split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-2]]
    assert all(e.startswith("data: {") for e in events[:-2])
    assert [c["object"] for c in chunks] == ["chat.completion.chunk"] * len(chunks)
    # without include_usage, no chunk carries usage
    assert all("usage" not in c for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == REPLY


def test_a_conversation_reaches_the_stacks_llm_and_the_log_records_it_with_the_question(
    served: Served, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply = "It has about 2.1 million."
    w = published_workflow(served.owner, fake_llm(fake_openai), name="Geography Helper")
    messages = [
        {"role": "system", "content": "Answer in one sentence."},
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": REPLY},
        {"role": "user", "content": [{"type": "text", "text": "How many people live there?"}]},
    ]

    completion = served.sdk(served.token("CHAT")).chat.completions.create(
        model="geography-helper",
        messages=messages,  # type: ignore[arg-type]
    )

    assert completion.choices[0].message.content == "It has about 2.1 million."
    # the stack's LLM saw the whole conversation: instructions, earlier turns, question
    [request] = fake_openai.chat_requests()
    assert request.body["messages"] == [
        {"role": "system", "content": "Answer in one sentence."},
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": REPLY},
        {"role": "user", "content": "How many people live there?"},
    ]
    # the session holds what was asked and what the stack answered, nothing it did not
    [session] = sessions(served, w)
    assert [(m["role"], m["content"]) for m in session["messages"]] == [
        ("USER", "How many people live there?"),
        ("ASSISTANT", "It has about 2.1 million."),
    ]
    # and the question's event records the conversation it came with, as the caller gave it
    events = list(served.services.event_log.events.get(UUID(session["id"])))
    [asked] = [e for e in events if isinstance(e, ChatSession.UserAsked)]
    assert asked.conversation == [
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": REPLY},
    ]
    assert asked.instructions == "Answer in one sentence."


def test_a_pinned_model_answers_from_that_published_version(
    local: Served, fake_openai: FakeOpenAIServer
) -> None:
    w = published_workflow(local.owner, fake_llm(fake_openai), name="Helper")  # gpt-4o-mini
    local.owner(CONFIGURE, w=w, n="llm", c={"model": "gpt-4.1"})
    local.owner(PUBLISH, w=w)
    sdk = local.sdk(local.token("CHAT"))

    def answered_by(model: str) -> tuple[str, str]:
        completion = sdk.chat.completions.create(model=model, messages=ask("Hi?"))
        return completion.model, fake_openai.chat_requests()[-1].body["model"]

    assert answered_by("helper@v1") == ("helper@v1", "gpt-4o-mini")
    assert answered_by("helper") == ("helper@v2", "gpt-4.1")  # the latest
    assert answered_by(f"{w}@2") == ("helper@v2", "gpt-4.1")  # by id, and without the v
    assert answered_by("Helper@V1") == ("helper@v1", "gpt-4o-mini")  # by its name
    assert sorted(s["publishedVersion"] for s in sessions(local, w)) == [1, 1, 2, 2]

    with pytest.raises(openai.NotFoundError) as refused:
        sdk.chat.completions.create(model="helper@v3", messages=ask("Hi?"))
    assert error_of(refused)["code"] == "model_not_found"
    assert "v1, v2" in error_of(refused)["message"]


def test_sources_come_back_in_fields_openai_clients_ignore(
    local: Served, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply = "It is 48 metres tall [1]."
    knowledge_base = {
        "embedder": "openai",
        "embeddingModel": "text-embedding-3-small",
        "baseUrl": fake_openai.base_url,
        "topK": 2,
    }
    owner = local.owner
    w = owner(CREATE, name="Lighthouses")["createWorkflow"]["id"]
    for kind, node_id, config in (
        ("USER_QUERY", "q", None),
        ("KNOWLEDGE_BASE", "kb", knowledge_base),
        ("LLM_ENGINE", "llm", fake_llm(fake_openai)),
        ("OUTPUT", "out", None),
    ):
        owner(ADD, w=w, kind=kind, x=0, y=0, id=node_id, config=config)
    for source, target in (("q", "kb"), ("q", "llm"), ("kb", "llm"), ("llm", "out")):
        owner(CONNECT, w=w, s=source, t=target)
    document = upload(local.http, w, "facts.pdf", multi_page_pdf(10))  # type: ignore[arg-type]
    wait_indexed(owner, document)
    owner(PUBLISH, w=w)
    sdk = local.sdk(local.token("CHAT"))
    question = ask("How tall is the Skerryvore lighthouse?")

    completion = sdk.chat.completions.create(model="lighthouses", messages=question)
    chunks = list(sdk.chat.completions.create(model="lighthouses", messages=question, stream=True))

    sources = (completion.choices[0].message.model_extra or {})["sources"]
    assert len(sources) == 2
    assert set(sources[0]) == {"document_id", "filename", "page", "chunk", "score", "text", "ocr"}
    assert sources[0]["ocr"] is False  # read from the text layer, not by OCR
    assert (sources[0]["document_id"], sources[0]["filename"], sources[0]["page"]) == (
        document,
        "facts.pdf",
        1,
    )
    assert FACTS[1][1] in sources[0]["text"]
    assert (chunks[-1].model_extra or {})["sources"] == sources


def test_a_client_that_leaves_mid_stream_stops_the_report_not_the_answer(
    local: Served, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply = "One two three four five six seven eight nine ten."
    fake_openai.token_delay = 0.05
    w = published_workflow(local.owner, fake_llm(fake_openai), name="Helper")
    sdk = local.sdk(local.token("CHAT"))

    stream = sdk.chat.completions.create(model="helper", messages=ask("Count?"), stream=True)
    chunks = iter(stream)
    assert next(chunks).choices[0].delta.role == "assistant"
    stream.close()  # gone before the answer ends

    def stored_answer() -> dict[str, Any] | None:
        [session] = sessions(local, w)
        done = [m for m in session["messages"] if m["role"] == "ASSISTANT"]
        return done[0] if done else None

    answer = wait_for(stored_answer, timeout=30)
    assert answer["content"] == "One two three four five six seven eight nine ten."


# ---------------------------------------------------------------- models


def test_the_models_are_the_published_stacks_the_token_may_use(
    local: Served, fake_openai: FakeOpenAIServer
) -> None:
    owner = local.owner
    manuals = published_workflow(owner, fake_llm(fake_openai), name="Ask the Manuals")
    café = published_workflow(owner, fake_llm(fake_openai), name="Café Guide")
    draft_workflow(owner, fake_llm(fake_openai), name="Not Built Yet")
    twins = [published_workflow(owner, fake_llm(fake_openai), name="Twin") for _ in range(2)]
    owner(PUBLISH, w=manuals)

    listed = local.sdk(local.token("CHAT")).models.list().data

    by_id = {m.id: m for m in listed}
    # a slug two stacks share names neither: both go by their ids
    assert set(by_id) == {"ask-the-manuals", "cafe-guide", *twins}
    manual = by_id["ask-the-manuals"]
    assert (manual.object, manual.owned_by) == ("model", "My workspace")
    extra = manual.model_extra or {}
    assert (extra["name"], extra["stack_id"], extra["published_versions"]) == (
        "Ask the Manuals",
        manuals,
        [1, 2],
    )

    limited = local.sdk(local.token("CHAT", stack=café))
    assert [m.id for m in limited.models.list().data] == ["cafe-guide"]
    pinned = limited.models.retrieve("cafe-guide@v1")
    assert (pinned.id, (pinned.model_extra or {})["stack_id"]) == ("cafe-guide@v1", café)
    with pytest.raises(openai.NotFoundError) as refused:
        limited.models.retrieve("ask-the-manuals")
    assert error_of(refused)["code"] == "model_not_found"


# ---------------------------------------------------------------- refusals


def test_refusals_come_in_openais_error_shape_and_store_nothing(
    local: Served, fake_openai: FakeOpenAIServer
) -> None:
    owner = local.owner
    w = published_workflow(owner, fake_llm(fake_openai), name="Helper")
    other = published_workflow(owner, fake_llm(fake_openai), name="Other")
    draft_workflow(owner, fake_llm(fake_openai), name="Drafty")
    chat = local.sdk(local.token("CHAT"), max_retries=0)

    def refused(
        kind: type[openai.APIStatusError], sdk: openai.OpenAI, model: str, messages: Any
    ) -> dict[str, Any]:
        with pytest.raises(kind) as caught:
            sdk.chat.completions.create(model=model, messages=messages)
        return error_of(caught)

    assert refused(openai.NotFoundError, chat, "no-such-stack", ask("Hi?")) == {
        "message": "The model 'no-such-stack' does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }
    unpublished = refused(openai.NotFoundError, chat, "drafty", ask("Hi?"))
    assert (unpublished["code"], unpublished["param"]) == ("model_not_published", "model")
    assert "no published version" in unpublished["message"]

    reader = local.sdk(local.token("READ"), max_retries=0)
    forbidden = refused(openai.PermissionDeniedError, reader, "helper", ask("Hi?"))
    assert (forbidden["type"], forbidden["code"]) == (
        "invalid_request_error",
        "insufficient_permissions",
    )
    with pytest.raises(openai.PermissionDeniedError):
        reader.models.list()

    # a token limited to one stack knows no other model
    only_other = local.sdk(local.token("CHAT", stack=other), max_retries=0)
    assert refused(openai.NotFoundError, only_other, "helper", ask("Hi?"))["code"] == (
        "model_not_found"
    )

    nobody = local.sdk("gst_not-a-token-of-this-server", max_retries=0)
    unknown = refused(openai.AuthenticationError, nobody, "helper", ask("Hi?"))
    assert (unknown["type"], unknown["code"]) == ("invalid_request_error", "invalid_api_key")
    assert "gst_not-a-token" not in json.dumps(unknown)  # the key is never echoed

    bad = {
        "last is the assistant's": [*ask("Hi?"), {"role": "assistant", "content": "Hello"}],
        "a tool's message": [{"role": "tool", "content": "42", "tool_call_id": "x"}, *ask("?")],
        "an image": [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}
        ],
        "a NUL character": ask("Hi\x00?"),
        "no message": [],
        "an empty question": ask("   "),
    }
    for why, messages in bad.items():
        error = refused(openai.BadRequestError, chat, "helper", messages)
        assert error["type"] == "invalid_request_error", why

    with pytest.raises(openai.BadRequestError) as caught:
        chat.chat.completions.create(
            model="helper",
            messages=ask("Hi?"),
            tools=[{"type": "function", "function": {"name": "f"}}],
        )
    assert error_of(caught)["param"] == "tools"

    token = local.token("CHAT")
    missing = local.http.post(
        "/v1/chat/completions",
        json={"model": "helper"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "missing_required_parameter"
    assert missing.json()["error"]["param"] == "messages"
    # a body that is not JSON, as another site's page could post one without asking
    form = local.http.post(
        "/v1/chat/completions",
        content=json.dumps({"model": "helper", "messages": ask("Hi?")}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
    )
    assert form.status_code == 400 and form.json()["error"]["type"] == "invalid_request_error"

    # what a stack does not offer is an OpenAI error too, not the web app's page
    with pytest.raises(openai.NotFoundError) as caught:
        chat.embeddings.create(model="helper", input="Hi")
    assert error_of(caught)["code"] == "unknown_url"
    assert local.http.get("/v1/chat/completions").json()["error"]["code"] == "unknown_url"

    # nothing was asked: no session, no request to the stack's LLM
    assert sessions(local, w) == [] and fake_openai.chat_requests() == []


def test_questions_past_the_limit_are_refused_with_retry_after(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    settings = make_settings(tmp_path / "data", None, genai_question_limit="2/minute")
    with serving(settings) as served:
        w = published_workflow(served.owner, fake_llm(fake_openai), name="Helper")
        sdk = served.sdk(served.token("CHAT"), max_retries=0)
        for _ in range(2):
            sdk.chat.completions.create(model="helper", messages=ask("Hi?"))

        with pytest.raises(openai.RateLimitError) as refused:
            sdk.chat.completions.create(model="helper", messages=ask("Hi?"))

        assert refused.value.status_code == 429
        assert 0 < int(refused.value.response.headers["retry-after"]) <= 60
        error = error_of(refused)  # type: ignore[arg-type]
        assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")
        # another token counts apart
        served.sdk(served.token("CHAT")).chat.completions.create(model="helper", messages=ask("?"))
        assert len(sessions(served, w)) == 3


def test_a_failed_answer_is_an_openai_error_and_a_stored_failure(
    local: Served, fake_openai: FakeOpenAIServer
) -> None:
    w = published_workflow(local.owner, fake_llm(fake_openai), name="Helper")
    sdk = local.sdk(local.token("CHAT"))  # the SDK's own retries stay on: we say not to

    fake_openai.fail_next(Failure.http(400, "The model is not available"))
    with pytest.raises(openai.InternalServerError) as refused:
        sdk.chat.completions.create(model="helper", messages=ask("Hi?"))
    assert refused.value.status_code == 502
    error = error_of(refused)  # type: ignore[arg-type]
    assert (error["type"], error["code"]) == ("server_error", "provider_error")

    fake_openai.fail_next(Failure.http(400, "The model is not available"))
    stream = sdk.chat.completions.create(model="helper", messages=ask("Hi?"), stream=True)
    with pytest.raises(openai.APIError) as mid_stream:
        list(stream)

    # two questions asked (the SDK did not ask again), both stored as failed, in the words
    # the caller got
    assert len(fake_openai.chat_requests()) == 2
    found = sessions(local, w)
    assert [[m["status"] for m in s["messages"]] for s in found] == [["failed"]] * 2
    stored = {(m["error"]["code"], m["error"]["message"]) for s in found for m in s["messages"]}
    assert stored == {("PROVIDER_ERROR", error["message"])}
    assert mid_stream.value.message == error["message"]
    assert error["message"].startswith("OpenAI: the server refused the request")


# ---------------------------------------------------------------- the local owner


def test_on_loopback_the_owner_calls_with_any_key_of_no_meaning(
    local: Served, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply = REPLY
    w = published_workflow(local.owner, fake_llm(fake_openai), name="Helper")

    completion = local.sdk("local").chat.completions.create(model="helper", messages=ask("?"))
    without_key = local.http.post(
        "/v1/chat/completions", json={"model": "helper", "messages": ask("Again?")}
    )

    assert completion.choices[0].message.content == REPLY
    assert without_key.status_code == 200 and without_key.json()["model"] == "helper@v1"
    authors = {stored_session(local, s["id"]).author for s in sessions(local, w)}
    assert authors == {"local"}
    # a credential of ours that is not valid is nobody, on loopback too
    for key in ("gst_revoked-or-never-issued", "a.b.c"):
        with pytest.raises(openai.AuthenticationError):
            local.sdk(key, max_retries=0).models.list()


def test_where_sign_in_is_required_a_key_of_no_meaning_is_refused(tmp_path: Path) -> None:
    network = make_settings(tmp_path / "data", None, genai_host="0.0.0.0")
    with serving(network) as served:
        with pytest.raises(openai.AuthenticationError) as refused:
            served.sdk("local", max_retries=0).models.list()
        assert error_of(refused)["code"] == "invalid_api_key"  # type: ignore[arg-type]
        bare = served.http.get("/v1/models")
        assert bare.status_code == 401
        assert bare.json()["error"]["message"] == "You didn't provide an API key."
