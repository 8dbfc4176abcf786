"""The ChatSession aggregate's rules: given events, when a command, then events or a refusal."""

from __future__ import annotations

import uuid

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)

from domain.chat import (
    MAX_CONVERSATION,
    MAX_INSTRUCTIONS,
    MAX_TURNS,
    AnsweredBy,
    ChatSession,
    Turn,
    answer_id_for,
)
from domain.errors import InvalidCommand, NotFound

ME = "alice"
WORKFLOW = uuid.uuid4()


def session() -> ChatSession:
    return ChatSession.start(WORKFLOW, 2, ME)


def names(chat: ChatSession) -> list[str]:
    return [type(e).__name__ for e in chat.collect_events()]


def test_starting_a_chat_pins_the_published_version() -> None:
    chat = session()
    [started] = chat.collect_events()
    assert type(started).__name__ == "ChatStarted"
    assert (started.workflow_id, started.published_version, started.actor) == (WORKFLOW, 2, ME)


def test_a_chat_cannot_start_on_version_zero() -> None:
    with pytest.raises(InvalidCommand):
        ChatSession.start(WORKFLOW, 0, ME)


def test_a_draft_chat_starts_without_any_published_version() -> None:
    chat = ChatSession.start(WORKFLOW, None, ME)
    [started] = chat.collect_events()
    assert (started.draft, started.published_version) == (True, 0)
    assert chat.draft is True
    assert session().draft is False


def test_answers_and_failures_record_the_graph_that_gave_them() -> None:
    chat = ChatSession.start(WORKFLOW, None, ME)
    a, b = uuid.uuid4(), uuid.uuid4()
    chat.ask(a, "one", ME)
    chat.ask(b, "two", ME)
    chat.answer(a, "1", [], "m", {}, 1, ME, by=AnsweredBy(17))
    chat.fail(b, "INVALID_WORKFLOW", "Add a Output node.", ME, AnsweredBy(18))
    answered, failed = chat.collect_events()[-2:]
    assert (answered.workflow_version, answered.published_version) == (17, None)
    assert (failed.workflow_version, failed.published_version) == (18, None)

    published = session()
    published.ask(a, "one", ME)
    published.answer(a, "1", [], "m", {}, 1, ME, by=AnsweredBy(13, 2))
    answered = published.collect_events()[-1]
    assert (answered.workflow_version, answered.published_version) == (13, 2)


def test_asking_records_the_question_and_queues_it() -> None:
    chat = session()
    first, second = uuid.uuid4(), uuid.uuid4()
    chat.ask(first, "  What is the warranty?  ", ME)
    chat.ask(second, "And the price?", ME)
    assert names(chat) == ["ChatStarted", "UserAsked", "UserAsked"]
    assert [q.content for q in chat.pending] == ["What is the warranty?", "And the price?"]
    assert chat.next_question is not None and chat.next_question.id == first


def test_an_empty_question_is_refused() -> None:
    with pytest.raises(InvalidCommand):
        session().ask(uuid.uuid4(), "   ", ME)


def test_an_answer_takes_the_question_off_the_queue_with_a_derived_id() -> None:
    chat = session()
    first, second = uuid.uuid4(), uuid.uuid4()
    chat.ask(first, "one", ME)
    chat.ask(second, "two", ME)
    answer = chat.answer(first, "1", [{"chunk": 0}], "m", {"prompt_tokens": 3}, 12, ME)
    assert answer == answer_id_for(first) != first
    events = chat.collect_events()
    answered = events[-1]
    assert type(answered).__name__ == "AssistantAnswered"
    assert (answered.message_id, answered.question_id, answered.latency_ms) == (answer, first, 12)
    assert chat.next_question is not None and chat.next_question.id == second


def test_a_failure_ends_the_question_too() -> None:
    chat = session()
    q = uuid.uuid4()
    chat.ask(q, "one", ME)
    chat.fail(q, "PROVIDER_ERROR", "OpenAI: rate limited (HTTP 429)", ME)
    assert chat.next_question is None
    assert names(chat)[-1] == "AnswerFailed"


def test_a_question_is_answered_once() -> None:
    chat = session()
    q = uuid.uuid4()
    chat.ask(q, "one", ME)
    chat.answer(q, "1", [], "m", {}, 1, ME)
    with pytest.raises(NotFound):
        chat.answer(q, "again", [], "m", {}, 1, ME)
    with pytest.raises(NotFound):
        chat.fail(q, "INTERNAL", "late", ME)


def test_replaying_the_events_gives_the_same_queue() -> None:
    chat = session()
    a, b = uuid.uuid4(), uuid.uuid4()
    chat.ask(a, "one", ME)
    chat.ask(b, "two", ME)
    chat.answer(a, "1", [], "m", {}, 1, ME)
    copy = None
    for e in chat.collect_events():
        copy = e.mutate(copy)
    assert isinstance(copy, ChatSession)
    assert [q.id for q in copy.pending] == [b]
    assert copy.pending[0].asked_at == chat.pending[0].asked_at


def test_an_answer_keeps_the_web_pages_it_was_given() -> None:
    chat = session()
    q = uuid.uuid4()
    chat.ask(q, "tidal power", ME)
    page = {"title": "Tidal power", "url": "https://w.test/tide", "snippet": "Tides."}
    chat.answer(q, "It works.", [], "m", {}, 1, ME, web_sources=[page])
    answered = chat.collect_events()[-1]
    assert answered.web_sources == [page]


def mapper() -> Mapper:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    return Mapper(transcoder=transcoder)


def as_stored_before(record: StoredEvent, version: int, *fields: str) -> StoredEvent:
    """The record as older code stored it: event class `version`, without `fields`."""
    state = mapper().transcoder.decode(record.state)
    if version == 1:
        state.pop("class_version")
    else:
        state["class_version"] = version
    for name in fields:
        del state[name]
    return StoredEvent(
        record.originator_id,
        record.originator_version,
        record.topic,
        mapper().transcoder.encode(state),
    )


def replayed(records: list[StoredEvent]) -> ChatSession:
    copy = None
    for r in records:
        copy = mapper().to_domain_event(r).mutate(copy)
    assert isinstance(copy, ChatSession)
    return copy


def test_an_answer_stored_before_web_pages_were_cited_loads_with_none() -> None:
    chat = session()
    q = uuid.uuid4()
    chat.ask(q, "one", ME)
    chat.answer(q, "1", [{"chunk": 0}], "m", {}, 1, ME)
    records = [mapper().to_stored_event(e) for e in chat.collect_events()]
    assert mapper().transcoder.decode(records[-1].state)["class_version"] == 3
    # What the code before web sources stored: version 1 of the event, without the fields.
    fields = ("web_sources", "workflow_version", "published_version")
    records[-1] = as_stored_before(records[-1], 1, *fields)

    old = mapper().to_domain_event(records[-1])
    assert isinstance(old, ChatSession.AssistantAnswered)
    assert (old.content, old.sources, old.web_sources) == ("1", [{"chunk": 0}], [])
    assert (old.workflow_version, old.published_version) == (None, None)
    copy = replayed(records)
    assert (copy.answered, copy.pending) == (1, [])


def test_events_stored_before_drafts_and_recorded_versions_load() -> None:
    chat = session()
    a, b = uuid.uuid4(), uuid.uuid4()
    chat.ask(a, "one", ME)
    chat.ask(b, "two", ME)
    chat.answer(a, "1", [], "m", {}, 1, ME, web_sources=[{"title": "t"}], by=AnsweredBy(9, 2))
    chat.fail(b, "PROVIDER_ERROR", "rate limited", ME, AnsweredBy(9, 2))
    started, asked_a, asked_b, answered, failed = (
        mapper().to_stored_event(e) for e in chat.collect_events()
    )
    records = [
        as_stored_before(started, 1, "draft"),
        asked_a,
        asked_b,
        as_stored_before(answered, 2, "workflow_version", "published_version"),
        as_stored_before(failed, 1, "workflow_version", "published_version"),
    ]

    events = [mapper().to_domain_event(r) for r in records]
    assert events[0].draft is False
    assert (events[3].web_sources, events[3].workflow_version) == ([{"title": "t"}], None)
    assert (events[4].code, events[4].workflow_version, events[4].published_version) == (
        "PROVIDER_ERROR",
        None,
        None,
    )
    copy = replayed(records)
    assert (copy.draft, copy.published_version, copy.answered, copy.failed) == (False, 2, 1, 1)


def test_a_snapshot_taken_before_drafts_loads_as_a_published_session() -> None:
    chat = session()
    q = uuid.uuid4()
    chat.ask(q, "one", ME)
    chat.answer(q, "1", [], "m", {}, 1, ME)
    record = mapper().to_stored_event(Snapshot.take(chat))
    snapshot = mapper().transcoder.decode(record.state)
    assert snapshot["state"].pop("class_version") == 2
    del snapshot["state"]["draft"]  # the aggregate's state as older code snapshotted it
    old = StoredEvent(
        record.originator_id,
        record.originator_version,
        record.topic,
        mapper().transcoder.encode(snapshot),
    )

    loaded = mapper().to_domain_event(old).mutate(None)

    assert isinstance(loaded, ChatSession)
    assert (loaded.draft, loaded.published_version, loaded.version) == (False, 2, 3)
    assert (loaded.answered, loaded.pending) == (1, [])


def test_a_question_records_the_conversation_it_brings_and_the_instructions() -> None:
    chat = session()
    q = uuid.uuid4()
    earlier = [Turn("user", "What is the torque?"), Turn("assistant", "40 Nm.")]

    question = chat.ask(q, " And the weight? ", ME, earlier, "  Answer briefly. ")

    asked = chat.collect_events()[-1]
    assert asked.conversation == [
        {"role": "user", "content": "What is the torque?"},
        {"role": "assistant", "content": "40 Nm."},
    ]
    assert asked.instructions == "Answer briefly."
    assert question.conversation == tuple(earlier) and question.instructions == "Answer briefly."
    assert all(type(t) is Turn for t in question.conversation)


def test_a_conversation_holds_only_user_and_assistant_turns_with_text() -> None:
    for earlier in (
        [Turn("system", "Be nice.")],
        [Turn("tool", "42")],
        [Turn("assistant", "   ")],
        [Turn("user", "x" * (MAX_CONVERSATION + 1))],
        [Turn("user", "x")] * (MAX_TURNS + 1),
    ):
        chat = session()
        with pytest.raises(InvalidCommand):
            chat.ask(uuid.uuid4(), "Why?", ME, earlier)
        assert names(chat) == ["ChatStarted"]  # nothing recorded
    with pytest.raises(InvalidCommand):
        session().ask(uuid.uuid4(), "Why?", ME, (), "x" * (MAX_INSTRUCTIONS + 1))


def test_a_question_stored_before_conversations_loads_with_none() -> None:
    chat = session()
    q = uuid.uuid4()
    chat.ask(q, "one", ME)
    started, asked = (mapper().to_stored_event(e) for e in chat.collect_events())
    assert mapper().transcoder.decode(asked.state)["class_version"] == 2
    records = [started, as_stored_before(asked, 1, "conversation", "instructions")]

    old = mapper().to_domain_event(records[-1])

    assert isinstance(old, ChatSession.UserAsked)
    assert (old.content, old.conversation, old.instructions) == ("one", [], "")
    copy = replayed(records)
    assert [(p.id, p.conversation, p.instructions) for p in copy.pending] == [(q, (), "")]
