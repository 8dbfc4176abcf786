"""Previewing the draft in chat, and answers that say which workflow version gave them.

A draft session answers each question from the draft as it stands when the question is
answered (no Build needed); a draft that does not validate fails the answer with its issues.
A published session keeps answering from its pinned version. Every answer and failure
records the workflow version (and published number) whose graph gave it.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.fakes import FakeOpenAIServer
from tests.fakes.openai_server import RecordedRequest
from tests.integration.chat_ops import (
    SESSION,
    SESSIONS,
    START,
    draft_workflow,
    fake_llm,
    published_workflow,
    start_chat,
    stored,
    turn,
)
from tests.integration.gql import GQL, GraphQLError
from tests.integration.workflow_ops import (
    CONFIGURE,
    CONNECT,
    DISCONNECT,
    GET,
    PUBLISH,
    wait_for,
)

pytestmark = pytest.mark.timeout(120)


def by_model(request: RecordedRequest) -> str:
    return f"Answered by {request.body['model']}."


def version_of(gql: GQL, workflow_id: str) -> int:
    version: int = gql(GET, w=workflow_id, v=None)["workflow"]["version"]
    return version


def answered_by(message: dict[str, Any]) -> tuple[Any, Any]:
    return message["workflowVersion"], message["publishedVersion"]


def test_a_draft_chat_answers_each_question_from_the_draft_as_it_stands_then(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply = by_model
    w = draft_workflow(gql, fake_llm(fake_openai))  # never built
    started = gql(START, w=w, v=None, d=True)["startChat"]
    assert (started["draft"], started["publishedVersion"], started["messages"]) == (True, 0, [])
    s = started["id"]

    first = turn(client, gql, s, "Who answers?")
    before = version_of(gql, w)
    gql(CONFIGURE, w=w, n="llm", c={"model": "gpt-4.1-mini"})  # an edit, no Build
    second = turn(client, gql, s, "And now?")
    after = version_of(gql, w)

    assert first[-1]["message"]["content"] == "Answered by gpt-4o-mini."
    assert second[-1]["message"]["content"] == "Answered by gpt-4.1-mini."
    # live and stored, each answer names the draft version that gave it
    assert answered_by(first[-1]["message"]) == (before, None)
    assert answered_by(second[-1]["message"]) == (after, None) and after == before + 1
    q1, a1, q2, a2 = stored(gql, s, 4)
    assert [answered_by(m) for m in (q1, a1, q2, a2)] == [
        (None, None),
        (before, None),
        (None, None),
        (after, None),
    ]
    assert (a1["model"], a2["model"]) == ("gpt-4o-mini", "gpt-4.1-mini")
    session = gql(SESSION, s=s)["chatSession"]
    assert (session["draft"], session["publishedVersion"]) == (True, 0)
    assert gql(PUBLISH, w=w)["publishWorkflow"]["number"] == 1  # the preview published nothing


def test_a_published_chat_stays_on_its_version_while_a_draft_chat_follows_the_edits(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply = by_model
    w = published_workflow(gql, fake_llm(fake_openai))
    [v1] = gql(GET, w=w, v=None)["workflow"]["publishedVersions"]
    gql(CONFIGURE, w=w, n="llm", c={"model": "gpt-4.1-mini"})  # unpublished
    published, draft = start_chat(gql, w), start_chat(gql, w, draft=True)

    on_published = turn(client, gql, published, "Who answers?")[-1]["message"]
    on_draft = turn(client, gql, draft, "Who answers?")[-1]["message"]

    assert on_published["content"] == "Answered by gpt-4o-mini."
    assert answered_by(on_published) == (v1["workflowVersion"], 1)
    assert on_draft["content"] == "Answered by gpt-4.1-mini."
    assert answered_by(on_draft) == (version_of(gql, w), None)
    assert on_draft["workflowVersion"] > v1["workflowVersion"]
    sessions = wait_for(lambda: len(s := gql(SESSIONS, w=w)["chatSessions"]) == 2 and s)
    assert {(c["id"], c["draft"], c["publishedVersion"]) for c in sessions} == {
        (published, False, 1),
        (draft, True, 0),
    }


def test_a_draft_that_does_not_validate_fails_the_answer_with_its_issues_and_recovers(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    w = published_workflow(gql, fake_llm(fake_openai))
    s = start_chat(gql, w, draft=True)
    gql(DISCONNECT, w=w, e="e-llm-out")  # the Output is cut off, in the draft only
    broken = version_of(gql, w)

    [question, failed] = turn(client, gql, s, "Still there?")

    assert failed["__typename"] == "ChatFailed"
    assert failed["code"] == "INVALID_WORKFLOW"
    assert failed["questionId"] == question["message"]["id"]
    assert failed["error"].startswith("The draft cannot answer until it is fixed:")
    assert "Output needs its answer input connected." in failed["error"]
    assert "LLM Engine does not lead to the Output." in failed["error"]
    assert (failed["workflowVersion"], failed["publishedVersion"]) == (broken, None)
    [stored_question] = stored(gql, s, 1)
    assert stored_question["status"] == "failed"
    assert stored_question["error"] == {"code": "INVALID_WORKFLOW", "message": failed["error"]}
    assert answered_by(stored_question) == (broken, None)
    assert fake_openai.chat_requests() == []

    # the published version is untouched, and once the draft is mended the preview answers
    published = turn(client, gql, start_chat(gql, w), "And you?")
    assert published[-1]["__typename"] == "ChatMessageAdded"
    gql(CONNECT, w=w, s="llm", t="out", id="e-llm-out")
    mended = turn(client, gql, s, "Now?")
    assert mended[-1]["__typename"] == "ChatMessageAdded"
    assert answered_by(mended[-1]["message"]) == (version_of(gql, w), None)


def test_a_draft_chat_takes_no_published_version_and_needs_a_workflow(gql: GQL) -> None:
    w = draft_workflow(gql, {"provider": "extractive"})
    with pytest.raises(GraphQLError) as both:
        gql(START, w=w, v=1, d=True)
    assert both.value.code == "BAD_USER_INPUT"
    assert "give no published version" in both.value.message
    with pytest.raises(GraphQLError) as missing:
        gql(START, w=str(uuid.uuid4()), v=None, d=True)
    assert missing.value.code == "NOT_FOUND"
    with pytest.raises(GraphQLError) as unpublished:
        gql(START, w=w, v=None)  # without draft: a published version it has not got
    assert unpublished.value.code == "INVALID_WORKFLOW"


def test_draft_sessions_and_recorded_versions_survive_a_rebuild_of_the_read_model(
    client: TestClient, gql: GQL, fake_openai: FakeOpenAIServer
) -> None:
    w = published_workflow(gql, fake_llm(fake_openai))
    draft, published = start_chat(gql, w, draft=True), start_chat(gql, w)
    turn(client, gql, draft, "one")
    turn(client, gql, published, "two")
    gql(DISCONNECT, w=w, e="e-llm-out")
    turn(client, gql, draft, "three")  # fails: the draft does not validate
    before = [gql(SESSION, s=s)["chatSession"] for s in (draft, published)]
    assert stored(gql, draft, 3)[2]["error"]["code"] == "INVALID_WORKFLOW"

    client.app.state.services.worker("chats").rebuild()  # type: ignore[attr-defined]

    assert stored(gql, draft, 3) == before[0]["messages"]
    assert [gql(SESSION, s=s)["chatSession"] for s in (draft, published)] == before
