"""Offline answers through GraphQL, on PostgreSQL with the Chroma server: the extractive
answerer quotes the sentences that answer, each cited inline by its source's number; says so
when nothing answers; and a scanned page is read with OCR and marked so in the sources."""

# ruff: noqa: F811  (the backend fixtures are imported, then named as parameters)

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests import pdfs
from tests.fakes import FakeOpenAIServer
from tests.integration.chat_ops import (
    ChatWatcher,
    published_workflow,
    start_chat,
    upload,
    wait_indexed,
)
from tests.integration.documents_client import settings  # noqa: F401  (fixture)
from tests.integration.gql import GQL

pytestmark = pytest.mark.timeout(300)

SEND = """mutation($s: UUID!, $c: String!) { sendMessage(sessionId: $s, content: $c) { id } }"""
ANSWER = """query($s: UUID!) { chatSession(id: $s) { messages { role status content model
  sources { documentId filename page chunk score text ocr } } } }"""
_CITED = re.compile(r" \[(\d+)\](?= |$)")


@pytest.fixture
def backend() -> str:
    return "postgres"


def offline_stack(gql: GQL, client: TestClient, fake: FakeOpenAIServer, data: bytes) -> str:
    """The extractive answerer over one PDF; embeddings from the fake (a bag of words)."""
    knowledge_base = {
        "embedder": "openai",
        "embeddingModel": "text-embedding-3-small",
        "baseUrl": fake.base_url,
        "topK": 3,
    }
    w = published_workflow(gql, {"provider": "extractive"}, knowledge_base, name="Offline")
    wait_indexed(gql, upload(client, w, "facts.pdf", data))
    return w


def ask(client: TestClient, gql: GQL, session: str, question: str) -> dict[str, Any]:
    """The stored answer, once the streamed one has arrived; the stream must spell it."""
    with ChatWatcher(client, session) as watcher:
        gql(SEND, s=session, c=question)
        events = watcher.until_final()
    streamed = "".join(e["delta"] for e in events if e["__typename"] == "ChatToken")
    answer = events[-1]["message"]
    assert answer["role"] == "ASSISTANT" and answer["content"] == streamed
    messages = gql(ANSWER, s=session)["chatSession"]["messages"]
    stored = next(m for m in messages if m["role"] == "ASSISTANT" and m["content"] == streamed)
    return dict(stored)


def citations(content: str) -> list[tuple[str, int]]:
    found = []
    for paragraph in content.split("\n\n"):
        pieces = _CITED.split(paragraph)
        assert pieces[-1] == "", f"a sentence without its citation in {content!r}"
        for sentence, number in zip(pieces[0::2], pieces[1::2], strict=False):
            found.append((re.sub(r"\\(.)", r"\1", sentence.strip()), int(number)))
    return found


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_offline_answer_quotes_the_sentence_that_answers_and_cites_it(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    w = offline_stack(gql, client, fake_openai, pdfs.multi_page_pdf(10))
    session = start_chat(gql, w)

    answer = ask(client, gql, session, "How tall is the Skerryvore lighthouse?")

    assert answer["model"] == "extractive"
    quoted = citations(answer["content"])
    assert (pdfs.FACTS[1][1], 1) in quoted
    assert pdfs.FILLER.split(". ")[0] not in answer["content"]  # not whole chunks
    sources = answer["sources"]
    assert sources[0]["page"] == 1 and sources[0]["ocr"] is False
    assert {n for _, n in quoted} == set(range(1, len(sources) + 1))
    for sentence, number in quoted:
        assert flat(sentence) in flat(sources[number - 1]["text"])


def test_a_question_the_documents_do_not_answer_is_told_so_with_no_sources(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    w = offline_stack(gql, client, fake_openai, pdfs.multi_page_pdf(3))
    session = start_chat(gql, w)

    answer = ask(client, gql, session, "What is the boiling point of mercury?")

    assert answer["content"].startswith(
        "I found nothing in the documents about “What is the boiling point of mercury”."
    )
    assert answer["sources"] == []


def test_a_scanned_page_is_read_with_ocr_and_its_source_says_so(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    w = offline_stack(gql, client, fake_openai, pdfs.scanned_text_pdf())
    session = start_chat(gql, w)

    answer = ask(client, gql, session, "How much water does the Quillmoor dam hold back?")

    source = answer["sources"][0]
    assert source["ocr"] is True and source["page"] == 1
    assert {"Quillmoor", "seventy", "million"} <= set(source["text"].split())
    assert "Quillmoor" in answer["content"] and answer["content"].rstrip().endswith("[1]")
