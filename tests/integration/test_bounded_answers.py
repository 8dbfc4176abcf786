"""What a provider sends back is bounded before it is stored: a huge answer is cut with a note,
a NUL in it is dropped, and token counts past reason are clamped, so `usage` keeps working."""

from __future__ import annotations

from starlette.testclient import TestClient

from application.chat.answer_bounds import CUT_NOTE, MAX_ANSWER, MAX_TOKENS
from tests.fakes import FakeOpenAIServer
from tests.integration.chat_ops import (
    USAGE,
    fake_llm,
    published_workflow,
    start_chat,
    stored,
    text_of,
    turn,
)
from tests.integration.gql import GQL
from tests.integration.workflow_ops import wait_for


def test_a_huge_answer_is_cut_with_a_note_and_stored_so(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply = "word\x00 " * (MAX_ANSWER // 2)  # 3 MAX_ANSWER characters, with NULs
    w = published_workflow(gql, fake_llm(fake_openai))
    s = start_chat(gql, w)

    events = turn(client, gql, s, "Say it all")

    kept = ("word " * (MAX_ANSWER // 5))[:MAX_ANSWER] + CUT_NOTE
    assert text_of(events) == kept  # what streamed stops where the stored answer does
    assert events[-1]["message"]["content"] == kept
    _, answer = stored(gql, s, 2)
    assert answer["content"] == kept


def test_token_counts_a_provider_inflates_are_clamped(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reported_usage = {
        "prompt_tokens": 2**62,
        "completion_tokens": -5,
        "total_tokens": 2**62,
    }
    w = published_workflow(gql, fake_llm(fake_openai))
    s = start_chat(gql, w)
    turn(client, gql, s, "How many?")

    _, answer = stored(gql, s, 2)
    assert answer["usage"] == {"promptTokens": MAX_TOKENS, "completionTokens": 0}
    [entry] = wait_for(lambda: gql(USAGE, w=w)["usage"])
    assert (entry["answers"], entry["promptTokens"], entry["completionTokens"]) == (
        1,
        MAX_TOKENS,
        0,
    )
