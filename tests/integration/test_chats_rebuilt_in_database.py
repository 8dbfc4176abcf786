"""On PostgreSQL the chats read model is rebuilt by the database, in SQL over the events table
(`chats_in_database`): what users read of it afterwards (sessions, lists, usage and its
cost, feedback, the sessions waiting for an answer) is what the Python projection made of the
same log, types included; older class versions are upcast alike; a log holding what only
the Python path applies the same way is rebuilt by the Python path, failures recorded."""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from domain.chat import AnsweredBy, ChatSession, Rating
from infrastructure.readmodel import rebuild
from infrastructure.readmodel.chats import SqlChatReadModel
from infrastructure.readmodel.runner import ProjectionWorker
from infrastructure.readmodel.tables import (
    chat_sessions,
    projection_failures,
    projection_tracking,
)
from interfaces.bootstrap import Services, bootstrap
from tests.conftest import fresh_postgres_database, make_settings, migrated_postgres_template

MODELS = (
    "gpt-4o-mini",
    "GPT-4o-mini-2024-07-18",  # priced as its family
    "models/gemini-2.5-flash",
    "ollama/llama3.1",  # free
    "a-model-with-no-price",
    "",  # "unknown" in usage
)
ACTORS = ("ann@example.com", "bob@example.com", "system", "zoë@example.com")
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=30,
)


@pytest.fixture
def services(tmp_path: Any) -> Iterator[Services]:
    with fresh_postgres_database(migrated_postgres_template()) as url:
        made = bootstrap(make_settings(tmp_path / "data", url))
        try:
            yield made
        finally:
            made.stop()


class Chats:
    """Random commands on a few chat sessions of a few stacks, saved as the services save
    them (a few events at a time), questions answered or failed in any order."""

    def __init__(self, services: Services, rng: random.Random, texts: list[str]) -> None:
        self.store, self.rng, self.texts = services.event_log, rng, texts
        self.stacks = [uuid.uuid4() for _ in range(3)]
        self.sessions: list[ChatSession] = []

    def text(self) -> str:
        return "q " + self.rng.choice(self.texts)

    def write(self, events: int) -> None:
        while self.store.max_notification_id() < events:
            changed = self.step()
            if changed is not None:
                self.store.save(changed)

    def step(self) -> ChatSession | None:
        rng = self.rng
        if not self.sessions or rng.random() < 0.08:
            version = rng.choice([None, 1, 2])
            chat = ChatSession.start(rng.choice(self.stacks), version, rng.choice(ACTORS))
            self.sessions.append(chat)
            return chat
        chat = rng.choice(self.sessions)
        pick = rng.random()
        if chat.pending and pick < 0.45:
            question = rng.choice(chat.pending)  # any of them, not only the oldest
            by = AnsweredBy(rng.choice([None, 4]), rng.choice([None, 1]))
            if rng.random() < 0.2:
                chat.fail(
                    question.id, "PROVIDER_ERROR", rng.choice(["", self.text()]), "system", by
                )
            else:
                chat.answer(
                    question.id,
                    self.text(),
                    [
                        {
                            "document_id": str(uuid.uuid4()),
                            "filename": self.text(),
                            "page": rng.choice([None, p]),
                            "chunk": p,
                            "score": rng.random(),
                            "text": self.text(),
                            "ocr": rng.random() < 0.5,
                        }
                        for p in range(rng.randint(0, 2))
                    ],
                    rng.choice(MODELS),
                    {
                        "prompt_tokens": rng.randint(0, 5000),
                        "completion_tokens": rng.randint(0, 900),
                    },
                    rng.randint(0, 9000),
                    "system",
                    [{"title": self.text(), "url": "https://example.com/a", "snippet": "s"}]
                    if rng.random() < 0.3
                    else [],
                    by,
                )
        elif chat.answer_ids and pick < 0.65:
            rating = rng.choice([Rating.UP, Rating.DOWN, None])
            note = self.text() if rating is not None and rng.random() < 0.5 else ""
            if not chat.rate(rng.choice(chat.answer_ids), rating, note, rng.choice(ACTORS)):
                return None
        else:
            chat.ask(uuid.uuid4(), self.text(), rng.choice(ACTORS))
        return chat


def chats_worker(services: Services) -> ProjectionWorker:
    return services.worker("chats")


def python_rebuild(services: Services) -> dict[str, Any]:
    """The read model the Python path makes of the log (as a follower that applied it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rebuild, "can_rebuild_in_database", lambda worker: False)
        paths: dict[str, str] = {}
        rebuild.replay(services.event_log, [chats_worker(services)], paths=paths)
    assert paths == {"chats": rebuild.PYTHON}
    return what_users_read(services)


def what_users_read(services: Services) -> dict[str, Any]:
    """Everything the read model answers, of every session and stack, and the position."""
    model = SqlChatReadModel(services.read_db)
    with services.read_db.connect() as conn:
        sessions = list(conn.execute(select(chat_sessions.c.id)).scalars())
        position = conn.execute(
            select(projection_tracking.c.notification_id).where(
                projection_tracking.c.projection == "chats"
            )
        ).scalar_one()
        failed = conn.execute(
            select(projection_failures.c.notification_id, projection_failures.c.error).where(
                projection_failures.c.projection == "chats"
            )
        ).all()
    stacks = sorted({s.workflow_id for s in map(model.get_session, sessions) if s is not None})
    return {
        "position": position,
        "failed": sorted((n, error.split(":")[0]) for n, error in failed),
        "sessions": sorted(
            (model.get_session(s) for s in sessions), key=lambda s: str(s.id) if s else ""
        ),
        "lists": [model.list_sessions(stack) for stack in stacks],
        "usage": model.usage(None),
        "usage by stack": [model.usage(stack) for stack in stacks],
        "feedback": [model.feedback(stack, None, 0, 1000) for stack in stacks],
        "feedback of ann": [model.feedback(stack, "ann@example.com", 0, 1000) for stack in stacks],
        "waiting": sorted(model.sessions_waiting()),
    }


def assert_same(found: Any, expected: Any, where: str = "") -> None:
    """Equal, types included (an enum is not its string), floats within 1e-9 relative."""
    assert type(found) is type(expected), f"{where}: {type(found)} against {type(expected)}"
    if isinstance(expected, float):
        assert math.isclose(found, expected, rel_tol=1e-9), f"{where}: {found} != {expected}"
    elif dataclasses.is_dataclass(expected) and not isinstance(expected, type):
        for f in dataclasses.fields(expected):
            assert_same(getattr(found, f.name), getattr(expected, f.name), f"{where}.{f.name}")
    elif isinstance(expected, dict):
        assert found.keys() == expected.keys(), where
        for key in expected:
            assert_same(found[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, list | tuple):
        assert len(found) == len(expected), f"{where}: {len(found)} against {len(expected)}"
        for i, (a, b) in enumerate(zip(found, expected, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        assert found == expected, f"{where}: {found!r} != {expected!r}"


def rebuilt_in_database(services: Services) -> dict[str, Any]:
    paths: dict[str, str] = {}
    counts = rebuild.replay(services.event_log, [chats_worker(services)], paths=paths)
    assert paths == {"chats": rebuild.IN_DATABASE}
    assert counts == {"chats": services.event_log.max_notification_id()}
    return what_users_read(services)


@hypothesis_settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**32),
    events=st.integers(100, 400),
    texts=st.lists(TEXT, min_size=5, max_size=5),
)
def test_the_database_rebuilds_what_the_python_projection_makes(
    tmp_path_factory: pytest.TempPathFactory, seed: int, events: int, texts: list[str]
) -> None:
    with fresh_postgres_database(migrated_postgres_template()) as url:
        services = bootstrap(make_settings(tmp_path_factory.mktemp("data"), url))
        try:
            Chats(services, random.Random(seed), texts).write(events)
            worker = chats_worker(services)
            worker.catch_up()  # the follower, as it applies the log
            followed = what_users_read(services)
            assert followed["sessions"] and not followed["failed"]
            assert_same(rebuilt_in_database(services), followed)
        finally:
            services.stop()


# ---------------------------------------------------------------- older class versions


def _older(state: dict[str, Any], topic: str, version: int) -> dict[str, Any]:
    """The state as the class version `version` of the event stored it."""
    older = dict(state)
    if version == 1:
        older.pop("class_version", None)
    else:
        older["class_version"] = version
    if topic.endswith("ChatStarted") and version == 1:
        older.pop("draft")
    if topic.endswith("UserAsked") and version == 1:
        older.pop("conversation"), older.pop("instructions")
    if topic.endswith("AssistantAnswered"):
        if version == 1:
            older.pop("web_sources")
        if version <= 2:
            older.pop("workflow_version"), older.pop("published_version")
    if topic.endswith("AnswerFailed") and version == 1:
        older.pop("workflow_version"), older.pop("published_version")
    return older


def test_older_class_versions_give_the_rows_of_the_python_upcasts(services: Services) -> None:
    rng = random.Random(5)
    chats = Chats(services, rng, ["why?", "ça va ?", "答え"])
    mapper = services.event_log.mapper
    stored = []
    for _ in range(200):
        chat = chats.step()
        if chat is None:
            continue
        for event in chat.collect_events():
            record = mapper.to_stored_event(event)
            state = json.loads(record.state)
            version = (
                rng.choice([1, 2, 3]) if "AssistantAnswered" in record.topic else rng.choice([1, 2])
            )
            older = json.dumps(_older(state, record.topic, version)).encode()
            stored.append(
                StoredEvent(record.originator_id, record.originator_version, record.topic, older)
            )
    services.event_log.recorder.insert_events(stored)
    expected = python_rebuild(services)
    drafts = [s for s in expected["sessions"] if s is not None]
    assert any(not s.draft for s in drafts)  # version 1 starts: not drafts (the upcast)
    assert_same(rebuilt_in_database(services), expected)


# ---------------------------------------------------------------- the Python path's logs


def _hostile(kind: str, state: bytes) -> bytes:
    """The state with a value PostgreSQL's JSON refuses, or no column holds."""
    text = state.decode()
    if kind == "NaN in usage":
        text = re.sub(r'"prompt_tokens":\d+', '"prompt_tokens":NaN', text)
    elif kind == "NUL in content":
        text = text.replace('"content":"', '"content":"\\u0000', 1)
    elif kind == "an integer past 64 bits":
        text = re.sub(r'"latency_ms":\d+', '"latency_ms":123456789012345678901234567890', text)
    assert text.encode() != state
    return text.encode()


@pytest.mark.parametrize(
    "kind",
    [
        "NaN in usage",
        "NUL in content",
        "an integer past 64 bits",
        "a session without its start",
        "a message id twice",
    ],
)
def test_a_log_only_the_python_path_applies_alike_is_rebuilt_by_it(
    services: Services, kind: str
) -> None:
    chats = Chats(services, random.Random(9), ["what?"])
    chats.write(120)
    mapper = services.event_log.mapper
    orphan = ChatSession.start(chats.stacks[0], None, "ann@example.com")
    orphan.ask(uuid.uuid4(), "where is my start?", "ann@example.com")
    question = orphan.pending[0].id
    orphan.answer(question, "here", [], "gpt-4o-mini", {"prompt_tokens": 3}, 5, "system")
    events = orphan.collect_events()
    if kind == "a session without its start":
        events = events[1:]
    if kind == "a message id twice":  # two sessions' questions, not answered, of one id
        twice = uuid.uuid4()
        for actor in ("bob@example.com", "cy@example.com"):
            again = ChatSession.start(chats.stacks[0], None, actor)
            again.ask(twice, "me too?", actor)
            events += again.collect_events()
    stored = []
    for event in events:
        record = mapper.to_stored_event(event)
        topic = record.topic
        hostile = (
            kind in {"NaN in usage", "an integer past 64 bits"}
            and topic.endswith("AssistantAnswered")
            or kind == "NUL in content"
            and topic.endswith("UserAsked")
        )
        state = _hostile(kind, record.state) if hostile else record.state
        stored.append(StoredEvent(record.originator_id, record.originator_version, topic, state))
    services.event_log.recorder.insert_events(stored)
    chats.write(services.event_log.max_notification_id() + 40)  # and more after it

    expected = python_rebuild(services)
    if kind != "a message id twice":  # which it applies its own way (the key refuses it here)
        assert expected["failed"], "the Python path records what it cannot apply"
    paths: dict[str, str] = {}
    rebuild.replay(services.event_log, [chats_worker(services)], paths=paths)
    assert paths == {"chats": rebuild.PYTHON}
    assert_same(what_users_read(services), expected)


def test_a_usage_day_is_the_answers_utc_day(services: Services) -> None:
    chats = Chats(services, random.Random(2), ["hello"])
    chats.write(60)
    found = rebuilt_in_database(services)
    assert all(type(u.day) is date for u in found["usage"])
    assert_same(found, python_rebuild(services))


def test_a_rebuild_in_the_database_beside_a_running_follower_applies_each_event_once(
    services: Services, tmp_path: Any
) -> None:
    """Another process rebuilds while this one's follower applies what is being written:
    the follower's transactions wait for the rebuild's, then go on from its position."""
    chats = Chats(services, random.Random(11), ["and now?"])
    chats.write(300)
    follower = chats_worker(services)
    follower.start()
    other = bootstrap(make_settings(tmp_path / "other", services.settings.database_url))
    writing = threading.Event()
    writing.set()

    def write() -> None:
        while writing.is_set():
            changed = chats.step()
            if changed is not None:
                services.event_log.save(changed)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        paths: dict[str, str] = {}
        for _ in range(3):
            rebuild.replay(other.event_log, [chats_worker(other)], paths=paths)
            assert paths == {"chats": rebuild.IN_DATABASE}
    finally:
        writing.clear()
        writer.join()
        other.stop()
    last = services.event_log.max_notification_id()
    assert follower.wait_until(last, timeout=30)
    follower.stop()
    followed = what_users_read(services)
    assert followed["position"] == last
    assert_same(followed, python_rebuild(services))
