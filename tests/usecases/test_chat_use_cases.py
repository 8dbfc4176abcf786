"""Chat use cases on the in-memory log: a session starts, a question is stored at once and
answered in the background by the (fake) LLM, or fails with the provider's reason."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest

from application.chat import commands as chat
from application.workflow import commands as c
from domain.chat import ChatSession, Rating
from domain.errors import InvalidCommand, InvalidWorkflow
from interfaces.bootstrap import Services
from tests.usecases.conftest import ACTOR, FakeLLM, FakeLLMs
from tests.usecases.test_workflow_use_cases import new_pipeline


def published(app: Services) -> UUID:
    wid = new_pipeline(app)
    app.workflows.publish(c.Publish(workflow_id=wid, actor=ACTOR))
    return wid


async def settled(app: Services, session_id: UUID, timeout: float = 60.0) -> ChatSession:
    """The session once no question waits (a condition, polled on the loop; the timeout is
    generous for a machine busy with parallel test workers)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        session = app.answering.chats.load(session_id)
        if not session.pending or loop.time() > deadline:
            return session
        await asyncio.sleep(0.01)


def event_names(app: Services, session_id: UUID) -> list[str]:
    return [type(e).__name__ for e in app.event_log.events.get(session_id)]


def test_a_session_pins_the_latest_published_version(app: Services) -> None:
    wid = published(app)
    view = app.chats.start(chat.StartChat(workflow_id=wid, actor=ACTOR))
    assert (view.published_version, view.draft) == (1, False)
    assert event_names(app, view.id) == ["ChatStarted"]


def test_a_draft_session_takes_no_published_version(app: Services) -> None:
    wid = new_pipeline(app)
    with pytest.raises(InvalidCommand):
        app.chats.start(
            chat.StartChat(workflow_id=wid, published_version=1, draft=True, actor=ACTOR)
        )
    view = app.chats.start(chat.StartChat(workflow_id=wid, draft=True, actor=ACTOR))
    assert (view.published_version, view.draft) == (0, True)


def test_a_workflow_never_published_has_no_session_to_start(app: Services) -> None:
    with pytest.raises(InvalidWorkflow):
        app.chats.start(chat.StartChat(workflow_id=new_pipeline(app), actor=ACTOR))


async def test_a_question_is_stored_then_answered_by_the_llm(app: Services, llms: FakeLLMs) -> None:
    session = app.chats.start(chat.StartChat(workflow_id=published(app), actor=ACTOR))
    message = await app.chats.send(
        chat.SendMessage(session_id=session.id, content="  Why tides?  ", actor=ACTOR)
    )
    assert (message.role, message.content, message.status) == ("USER", "Why tides?", "pending")

    answered = await settled(app, session.id)
    assert answered.answered == 1 and answered.pending == []
    [request] = llms.llm.requests
    assert request.query == "Why tides?"
    *_, answer = app.event_log.events.get(session.id)
    assert isinstance(answer, ChatSession.AssistantAnswered)
    assert (answer.content, answer.question_id) == ("Tides turn turbines.", message.id)
    assert (answer.workflow_version, answer.published_version) == (7, 1)


async def test_questions_of_a_session_are_answered_oldest_first(
    app: Services, llms: FakeLLMs
) -> None:
    session = app.chats.start(chat.StartChat(workflow_id=published(app), actor=ACTOR))
    for content in ("one", "two", "three"):
        await app.chats.send(chat.SendMessage(session_id=session.id, content=content, actor=ACTOR))
    await settled(app, session.id)
    assert [r.query for r in llms.llm.requests] == ["one", "two", "three"]
    names = event_names(app, session.id)
    assert (names.count("UserAsked"), names.count("AssistantAnswered")) == (3, 3)


async def test_a_provider_failure_fails_the_question_with_its_reason(
    app: Services, llms: FakeLLMs
) -> None:
    llms.llm = FakeLLM(fail="Rate limit reached")
    session = app.chats.start(chat.StartChat(workflow_id=published(app), actor=ACTOR))
    message = await app.chats.send(
        chat.SendMessage(session_id=session.id, content="hi", actor=ACTOR)
    )

    await settled(app, session.id)
    *_, failed = app.event_log.events.get(session.id)
    assert isinstance(failed, ChatSession.AnswerFailed)
    assert (failed.question_id, failed.code, failed.message) == (
        message.id,
        "PROVIDER_ERROR",
        "Rate limit reached",
    )


async def test_a_draft_that_does_not_validate_fails_the_question(
    app: Services, llms: FakeLLMs
) -> None:
    wid = new_pipeline(app)
    app.workflows.remove_node(c.RemoveNode(workflow_id=wid, node_id="out", actor=ACTOR))
    session = app.chats.start(chat.StartChat(workflow_id=wid, draft=True, actor=ACTOR))
    await app.chats.send(chat.SendMessage(session_id=session.id, content="hi", actor=ACTOR))

    await settled(app, session.id)
    *_, failed = app.event_log.events.get(session.id)
    assert isinstance(failed, ChatSession.AnswerFailed) and failed.code == "INVALID_WORKFLOW"
    assert llms.llm.requests == []


async def test_an_answer_is_rated_then_rated_again_and_the_session_says_which_rating_it_has(
    app: Services, llms: FakeLLMs
) -> None:
    session = app.chats.start(chat.StartChat(workflow_id=published(app), actor=ACTOR))
    await app.chats.send(chat.SendMessage(session_id=session.id, content="Why?", actor=ACTOR))
    answered = await settled(app, session.id)
    [answer_id] = answered.answer_ids

    def rate(rating: Rating | None, note: str = "") -> tuple[Rating | None, str, str]:
        command = chat.RateAnswer(
            session_id=session.id, message_id=answer_id, rating=rating, note=note, actor=ACTOR
        )
        view = app.chats.rate(command)
        assert view.message_id == answer_id and view.session_id == session.id
        return view.rating, view.note, view.actor

    assert rate(Rating.DOWN, " off topic ") == (Rating.DOWN, "off topic", ACTOR)
    assert rate(Rating.DOWN, "off topic") == (Rating.DOWN, "off topic", ACTOR)  # unchanged
    assert rate(Rating.UP) == (Rating.UP, "", ACTOR)
    assert rate(None) == (None, "", ACTOR)
    rated = [e for e in app.event_log.events.get(session.id) if type(e).__name__ == "AnswerRated"]
    assert [(e.rating, e.note) for e in rated] == [("DOWN", "off topic"), ("UP", ""), (None, "")]
    assert app.answering.chats.load(session.id).rating_of(answer_id) is None
