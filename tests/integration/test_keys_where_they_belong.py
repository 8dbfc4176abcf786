"""Keys go only where they belong (issue 10, item 6), through GraphQL with the real SDKs
against the fake provider servers: the server's key only to its provider's own address or
one an admin allows, a node's key only to the address it was entered for, no request to
private, link-local or (unless allowed) loopback addresses, no credentials in URLs, and
no provider's own error text in a chat answer."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from interfaces.app import create_app
from tests.conftest import make_settings
from tests.fakes import FakeGeminiServer, FakeOpenAIServer
from tests.integration.chat_ops import (
    DOCUMENT,
    fake_llm,
    published_workflow,
    start_chat,
    text_of,
    turn,
    upload,
)
from tests.integration.gql import GQL, GraphQLError
from tests.integration.workflow_ops import (
    ADD,
    CONFIGURE,
    CREATE,
    GET,
    HISTORY,
    PUBLISH,
    wait_for,
)
from tests.pdfs import multi_page_pdf

pytestmark = pytest.mark.timeout(120)

SERVER_OPENAI_KEY = "sk-server-wide-key-0123456789abcdef"
SERVER_GEMINI_KEY = "AIza-server-wide-key-0123456789abcdef"


@contextmanager
def app(tmp_path: Path, **settings: Any) -> Iterator[tuple[TestClient, GQL]]:
    with TestClient(create_app(make_settings(tmp_path / "data", None, **settings))) as client:
        yield client, GQL(client)


def authorizations(fake: FakeOpenAIServer) -> list[str]:
    return [r.headers.get("authorization", "") for r in fake.requests]


def node(gql: GQL, w: str, node_id: str) -> dict[str, Any]:
    nodes = gql(GET, w=w)["workflow"]["nodes"]
    return next(n for n in nodes if n["id"] == node_id)


def issues(gql: GQL, w: str) -> list[str]:
    return [i["message"] for i in gql(GET, w=w)["workflow"]["validation"]["issues"]]


# ---------------------------------------------------------------- the server's key


def test_the_server_key_is_not_sent_to_a_nodes_own_base_url(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply = "Answered without the server's key."
    with app(tmp_path, openai_api_key=SecretStr(SERVER_OPENAI_KEY)) as (client, gql):
        w = published_workflow(gql, fake_llm(fake_openai))  # its own baseUrl, no key
        events = turn(client, gql, start_chat(gql, w), "hello")
    assert text_of(events) == "Answered without the server's key."
    assert fake_openai.chat_requests()
    assert all(SERVER_OPENAI_KEY not in a for a in authorizations(fake_openai))


def test_the_server_key_goes_to_a_base_url_an_admin_allows(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    allowed = {"openai": [fake_openai.base_url + "/"]}  # a trailing slash is the same address
    with app(
        tmp_path, openai_api_key=SecretStr(SERVER_OPENAI_KEY), genai_server_key_urls=allowed
    ) as (client, gql):
        w = published_workflow(gql, fake_llm(fake_openai))
        turn(client, gql, start_chat(gql, w), "hello")
    assert authorizations(fake_openai) == [f"Bearer {SERVER_OPENAI_KEY}"]


def test_a_node_that_needs_a_key_at_its_own_address_is_told_to_give_one(
    tmp_path: Path, fake_gemini: FakeGeminiServer
) -> None:
    with app(tmp_path, gemini_api_key=SecretStr(SERVER_GEMINI_KEY)) as (client, gql):
        w = gql(CREATE, name="Gemini elsewhere")["createWorkflow"]["id"]
        gql(ADD, w=w, kind="LLM_ENGINE", x=0, y=0, id="llm", config=fake_llm(fake_gemini, "gemini"))
        expected = (
            "LLM Engine: give a Gemini API key for its base URL; "
            "the server's key goes only to Gemini itself."
        )
        assert expected in issues(gql, w)
        with pytest.raises(GraphQLError) as refused:
            gql(PUBLISH, w=w)
        assert refused.value.code == "INVALID_WORKFLOW"
    assert fake_gemini.requests == []


# ---------------------------------------------------------------- a node's key


def test_changing_the_base_url_clears_the_nodes_key_and_asks_for_it_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first_key, second_key = "sk-node-first-0123456789", "sk-node-second-9876543210"
    with (
        FakeOpenAIServer(reply="From the first.") as first,
        FakeOpenAIServer(reply="From the second.") as second,
        app(tmp_path) as (client, gql),
        caplog.at_level(logging.DEBUG),
    ):
        w = published_workflow(gql, fake_llm(first, apiKey=first_key))
        assert node(gql, w, "llm")["config"]["apiKey"]["hint"].endswith(first_key[-4:])

        moved = gql(CONFIGURE, w=w, n="llm", c={"baseUrl": second.base_url})["configureNode"]
        config = next(n for n in moved["nodes"] if n["id"] == "llm")["config"]
        assert config["baseUrl"] == second.base_url
        assert "secretRef" not in config["apiKey"]  # the stored key is gone from the node
        assert "LLM Engine: enter the API key again for the new address." in issues(gql, w)
        with pytest.raises(GraphQLError) as refused:
            gql(PUBLISH, w=w)
        assert refused.value.code == "INVALID_WORKFLOW"
        draft = turn(client, gql, start_chat(gql, w, draft=True), "hello")
        assert draft[-1]["__typename"] == "ChatFailed"
        assert "enter the API key again" in draft[-1]["error"]

        # recorded like any change of settings, and never the key itself
        history = gql(HISTORY, w=w)["workflowHistory"]
        configured = [e for e in history if e["type"] == "NodeConfigured"][-1]
        assert json.loads(json.dumps(configured["data"]))["config"]["apiKey"] == config["apiKey"]
        assert first_key not in json.dumps(history)

        gql(CONFIGURE, w=w, n="llm", c={"apiKey": second_key})
        gql(PUBLISH, w=w)
        events = turn(client, gql, start_chat(gql, w), "hello")
        assert text_of(events) == "From the second."
    assert authorizations(second) == [f"Bearer {second_key}"]  # the first key never went
    assert authorizations(first) == []  # the first version was never asked
    assert first_key not in caplog.text and second_key not in caplog.text


def test_a_stored_key_cannot_be_moved_to_another_node(tmp_path: Path) -> None:
    with app(tmp_path) as (_, gql):
        w = gql(CREATE, name="Thief")["createWorkflow"]["id"]
        config = {"provider": "openai", "model": "m", "apiKey": "sk-victim-0123456789"}
        gql(ADD, w=w, kind="LLM_ENGINE", x=0, y=0, id="victim", config=config)
        reference = node(gql, w, "victim")["config"]["apiKey"]
        stolen = {"provider": "openai", "model": "m", "baseUrl": "https://evil.example/v1"}
        with pytest.raises(GraphQLError) as refused:
            gql(
                ADD,
                w=w,
                kind="LLM_ENGINE",
                x=0,
                y=0,
                id="thief",
                config=stolen | {"apiKey": reference},
            )
        assert refused.value.code == "BAD_USER_INPUT"
        assert "stays with the node it was entered for" in refused.value.message
        gql(ADD, w=w, kind="LLM_ENGINE", x=0, y=0, id="thief", config=stolen)
        with pytest.raises(GraphQLError) as refused:
            gql(CONFIGURE, w=w, n="thief", c={"apiKey": reference})
        assert refused.value.code == "BAD_USER_INPUT"


def test_credentials_in_a_base_url_are_refused_and_never_echoed_or_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with app(tmp_path) as (client, gql), caplog.at_level(logging.DEBUG):
        w = gql(CREATE, name="Userinfo")["createWorkflow"]["id"]
        gql(ADD, w=w, kind="LLM_ENGINE", x=0, y=0, id="llm")
        url = "https://admin:pa55w0rd-xyz@llm.example.com/v1"
        body = gql.raw(CONFIGURE, w=w, n="llm", c={"baseUrl": url})
        [error] = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert "must not carry a user name or password" in error["message"]
        assert "pa55w0rd" not in json.dumps(body)
        assert "baseUrl" not in node(gql, w, "llm")["config"]  # nothing half-applied
    assert "pa55w0rd" not in caplog.text


# ---------------------------------------------------------------- where requests may go


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("http://10.0.0.1:11434/v1", "private or link-local"),
        ("http://169.254.169.254/v1", "private or link-local"),  # a cloud's metadata address
        ("http://[fd00::1]:8080/v1", "private or link-local"),
    ],
)
def test_requests_to_private_addresses_are_refused_before_any_connection(
    tmp_path: Path, address: str, reason: str
) -> None:
    llm = {"provider": "openai", "model": "llama3", "baseUrl": address}
    with app(tmp_path) as (client, gql):
        w = published_workflow(gql, llm)
        failed = turn(client, gql, start_chat(gql, w), "hello")[-1]
    assert (failed["__typename"], failed["code"]) == ("ChatFailed", "PROVIDER_ERROR")
    assert reason in failed["error"] and "GENAI_OUTBOUND_PRIVATE" in failed["error"]


def test_a_name_that_resolves_to_loopback_is_refused_unless_loopback_is_allowed(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    # "localhost" is a name: the check is on the address it resolves to
    llm = fake_llm(fake_openai) | {
        "baseUrl": fake_openai.base_url.replace("127.0.0.1", "localhost")
    }
    with app(tmp_path / "strict", genai_outbound_loopback=False) as (client, gql):
        w = published_workflow(gql, llm)
        failed = turn(client, gql, start_chat(gql, w), "hello")[-1]
    assert failed["__typename"] == "ChatFailed"
    assert "on this machine (loopback)" in failed["error"]
    assert fake_openai.requests == []
    allowed = ["127.0.0.0/8", "::1"]
    with app(tmp_path / "allowed", genai_outbound_loopback=False, genai_outbound_allow=allowed) as (
        client,
        gql,
    ):
        w = published_workflow(gql, llm)
        assert (
            turn(client, gql, start_chat(gql, w), "hello")[-1]["__typename"] == "ChatMessageAdded"
        )
    assert len(fake_openai.chat_requests()) == 1


def test_an_embedder_at_a_link_local_address_fails_the_document_with_the_reason(
    tmp_path: Path,
) -> None:
    kb = {"embedder": "openai", "baseUrl": "http://169.254.169.254/v1"}
    with app(tmp_path) as (client, gql):
        w = published_workflow(gql, {"provider": "extractive"}, kb)
        document = upload(client, w, "facts.pdf", multi_page_pdf(1))

        def failed() -> dict[str, Any] | None:
            doc = gql(DOCUMENT, d=document)["document"]
            return doc if doc["status"] == "FAILED" else None

        doc = wait_for(failed, 60)
    assert "private or link-local" in doc["error"]
