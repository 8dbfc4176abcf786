"""The whole path: upload a PDF, publish, chat, and get a streamed answer citing the page
that holds the fact; with a provider (the fake OpenAI server) and offline (extractive)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.fakes import FakeOpenAIServer
from tests.fakes.openai_server import prompt_text
from tests.integration.chat_ops import (
    fake_llm,
    kinds,
    published_workflow,
    start_chat,
    stored,
    text_of,
    turn,
    upload,
    wait_indexed,
)
from tests.integration.gql import GQL
from tests.integration.workflow_ops import ADD, CONNECT, CREATE, PUBLISH, REMOVE
from tests.pdfs import FACTS, multi_page_pdf

pytestmark = pytest.mark.timeout(300)

QUESTION = "How tall is the Skerryvore lighthouse?"
FACT_PAGE = 1


def knowledge_base_on(fake: FakeOpenAIServer) -> dict[str, object]:
    """Embeddings from the fake (a hashed bag of words: texts sharing words are close)."""
    return {
        "embedder": "openai",
        "embeddingModel": "text-embedding-3-small",
        "baseUrl": fake.base_url,
        "topK": 2,
    }


def test_upload_publish_chat_streams_an_answer_citing_the_right_page(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply = "It is 48 metres tall [1]."
    llm = fake_llm(fake_openai, prompt="Use this:\n{context}\n\nQuestion: {query}")
    w = gql(CREATE, name="Lighthouses")["createWorkflow"]["id"]
    for kind, node_id, config in (
        ("USER_QUERY", "q", None),
        ("KNOWLEDGE_BASE", "kb", knowledge_base_on(fake_openai)),
        ("LLM_ENGINE", "llm", llm),
        ("OUTPUT", "out", None),
    ):
        gql(ADD, w=w, kind=kind, x=0, y=0, id=node_id, config=config)
    for source, target in (("q", "kb"), ("q", "llm"), ("kb", "llm"), ("llm", "out")):
        gql(CONNECT, w=w, s=source, t=target)
    document = upload(client, w, "facts.pdf", multi_page_pdf(10))
    wait_indexed(gql, document)
    gql(PUBLISH, w=w)
    s = start_chat(gql, w)

    events = turn(client, gql, s, QUESTION)

    assert kinds(events) == ["user", "retrieving", "generating", "tokens", "assistant"]
    assert text_of(events) == "It is 48 metres tall [1]."
    answer = events[-1]["message"]
    top = answer["sources"][0]
    assert (top["documentId"], top["filename"], top["page"]) == (document, "facts.pdf", FACT_PAGE)
    assert FACTS[FACT_PAGE][1] in top["text"]
    assert len(answer["sources"]) == 2
    # the template was filled with the passages, numbered and paged, then the question
    prompt = prompt_text(fake_openai.chat_requests()[0])
    assert prompt.startswith("Use this:\n[1] facts.pdf, p. 1\n")
    assert FACTS[FACT_PAGE][1] in prompt
    assert prompt.endswith(f"\n\nQuestion: {QUESTION}")

    kept = stored(gql, s, 2)[1]
    assert kept["content"] == "It is 48 metres tall [1]."
    assert kept["sources"] == answer["sources"]


@pytest.mark.slow
def _offline_stack(client: TestClient, gql: GQL) -> str:
    """Everything at its defaults: local embeddings, the extractive provider, no key."""
    w = gql(CREATE, name="Offline")["createWorkflow"]["id"]
    for kind, node_id in (
        ("USER_QUERY", "q"),
        ("KNOWLEDGE_BASE", "kb"),
        ("LLM_ENGINE", "llm"),
        ("OUTPUT", "out"),
    ):
        gql(ADD, w=w, kind=kind, x=0, y=0, id=node_id)
    for source, target in (("q", "kb"), ("q", "llm"), ("kb", "llm"), ("llm", "out")):
        gql(CONNECT, w=w, s=source, t=target)
    document = upload(client, w, "facts.pdf", multi_page_pdf(10))
    wait_indexed(gql, document, timeout=240)
    gql(PUBLISH, w=w)
    return w


def test_offline_the_extractive_answerer_quotes_the_page_with_local_embeddings(
    client: TestClient, gql: GQL
) -> None:
    s = start_chat(gql, _offline_stack(client, gql))

    events = turn(client, gql, s, "How many bridges does the Marrow Line night train cross?")

    assert kinds(events) == ["user", "retrieving", "generating", "tokens", "assistant"]
    answer = events[-1]["message"]
    assert answer["content"] == text_of(events)
    assert f"{FACTS[9][1]} [1]" in answer["content"]  # the sentence, cited inline
    assert answer["sources"][0]["page"] == 9
    assert answer["model"] == "extractive"
    assert stored(gql, s, 2)[1]["content"] == answer["content"]


def test_a_published_version_keeps_its_knowledge_base_when_the_draft_drops_it(
    client: TestClient, gql: GQL
) -> None:
    w = _offline_stack(client, gql)
    gql(REMOVE, w=w, n="kb")  # the draft moves on; version 1 still has its knowledge base

    events = turn(client, gql, start_chat(gql, w), "How many bridges does the Marrow Line cross?")

    assert kinds(events)[-1] == "assistant", events[-1]
    assert events[-1]["message"]["sources"][0]["page"] == 9


def test_a_published_graph_without_documents_answers_that_nothing_is_known(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    w = published_workflow(gql, {"provider": "extractive"}, knowledge_base_on(fake_openai))
    events = turn(client, gql, start_chat(gql, w), QUESTION)
    assert kinds(events) == ["user", "retrieving", "generating", "tokens", "assistant"]
    assert "I found nothing in the documents about" in events[-1]["message"]["content"]
    assert events[-1]["message"]["sources"] == []
