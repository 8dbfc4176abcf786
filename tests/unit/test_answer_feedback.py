"""Rating answers on the ChatSession aggregate: given a chat, when an answer is rated, then
the events, or a refusal; and a property over random rating sequences."""

from __future__ import annotations

import uuid
from uuid import UUID

import pytest
from eventsourcing.application import Application
from hypothesis import given
from hypothesis import strategies as st

from domain.chat import MAX_NOTE, ChatSession, Rating, answer_id_for
from domain.errors import InvalidCommand, NotFound

ME = "alice"
WORKFLOW = uuid.uuid4()


def answered_chat(answers: int = 1, collect: bool = True) -> tuple[ChatSession, list[UUID]]:
    chat = ChatSession.start(WORKFLOW, 1, ME)
    ids = []
    for n in range(answers):
        question = uuid.uuid4()
        chat.ask(question, f"question {n}", ME)
        ids.append(chat.answer(question, f"answer {n}", [], "m", {}, 1, "answerer"))
    if collect:
        chat.collect_events()
    return chat, ids


def test_rating_an_answer_records_the_rating_its_note_and_who() -> None:
    chat, [answer] = answered_chat()
    assert chat.rate(answer, Rating.DOWN, "  It quoted the wrong page.  ", ME) is True
    [rated] = chat.collect_events()
    assert type(rated).__name__ == "AnswerRated"
    assert (rated.message_id, rated.rating, rated.note, rated.actor) == (
        answer,
        "DOWN",
        "It quoted the wrong page.",
        ME,
    )
    assert chat.rating_of(answer) == (Rating.DOWN, "It quoted the wrong page.")
    assert type(chat.rating_of(answer)[0]) is Rating  # type: ignore[index]


def test_changing_a_rating_is_a_new_event_and_the_same_rating_again_is_none() -> None:
    chat, [answer] = answered_chat()
    chat.rate(answer, Rating.UP, "", ME)
    chat.rate(answer, Rating.DOWN, "", ME)
    assert chat.rate(answer, Rating.DOWN, "", ME) is False
    assert [e.rating for e in chat.collect_events()] == ["UP", "DOWN"]
    assert chat.rating_of(answer) == (Rating.DOWN, "")


def test_a_rating_can_be_withdrawn() -> None:
    chat, [answer] = answered_chat()
    chat.rate(answer, Rating.UP, "", ME)
    chat.rate(answer, None, "", ME)
    assert [e.rating for e in chat.collect_events()] == ["UP", None]
    assert chat.rating_of(answer) is None
    assert chat.rate(answer, None, "", ME) is False  # nothing to withdraw


def test_only_an_answer_of_the_chat_can_be_rated() -> None:
    chat = ChatSession.start(WORKFLOW, 1, ME)
    question, failed = uuid.uuid4(), uuid.uuid4()
    chat.ask(question, "pending", ME)
    chat.ask(failed, "fails", ME)
    chat.fail(failed, "PROVIDER_ERROR", "down", "answerer")
    chat.collect_events()
    for not_an_answer in (question, answer_id_for(question), answer_id_for(failed), uuid.uuid4()):
        with pytest.raises(NotFound):
            chat.rate(not_an_answer, Rating.UP, "", ME)
    assert chat.collect_events() == []


@pytest.mark.parametrize(
    ("rating", "note", "says"),
    [
        (Rating.DOWN, "x" * (MAX_NOTE + 1), "longer than"),
        (Rating.DOWN, "bad\x00note", "NUL"),
        (None, "why", "goes with a rating"),
    ],
)
def test_a_bad_note_is_refused_and_records_nothing(
    rating: Rating | None, note: str, says: str
) -> None:
    chat, [answer] = answered_chat()
    with pytest.raises(InvalidCommand, match=says):
        chat.rate(answer, rating, note, ME)
    assert chat.collect_events() == []
    assert chat.rating_of(answer) is None


def test_a_note_of_the_longest_length_is_kept_whole() -> None:
    chat, [answer] = answered_chat()
    chat.rate(answer, Rating.DOWN, "y" * MAX_NOTE, ME)
    assert chat.rating_of(answer) == (Rating.DOWN, "y" * MAX_NOTE)


ratings = st.sampled_from([Rating.UP, Rating.DOWN, None])
notes = st.sampled_from(["", "wrong page", "too long", "great"])


@given(st.lists(st.tuples(st.integers(0, 2), ratings, notes), max_size=30))
def test_replayed_through_a_store_each_answer_holds_its_last_rating(
    steps: list[tuple[int, Rating | None, str]],
) -> None:
    """Whatever the sequence of ratings, each answer ends with the last one given to it (a
    withdrawal leaves none), also when the session is loaded back from stored events."""
    chat, answers = answered_chat(3, collect=False)
    app: Application[UUID] = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.save(chat)
    last: dict[UUID, tuple[Rating, str] | None] = {}
    for index, rating, note in steps:
        note = note if rating is not None else ""
        chat.rate(answers[index], rating, note, ME)
        last[answers[index]] = None if rating is None else (rating, note)
    app.save(chat)
    loaded: ChatSession = app.repository.get(chat.id)
    for answer in answers:
        assert loaded.rating_of(answer) == last.get(answer)
        assert chat.rating_of(answer) == last.get(answer)
