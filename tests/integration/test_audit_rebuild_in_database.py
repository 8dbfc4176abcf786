"""The audit log rebuilt on PostgreSQL's side (`AuditProjection.rebuild_in_database`) is the
audit the Python projection writes, as its readers meet it: over random histories of stacks
in several workspaces and chat sessions on them (questions and model names full of every
kind of whitespace, long, and holding key-like words), the same entries, actors, stacks and
kinds, filters included, types included. `quote` and `redact` in SQL say what Python's say.
A log PostgreSQL's JSON refuses, or one whose summaries SQL cannot say as Python does, is
rebuilt by the Python pass, to the same rows."""

from __future__ import annotations

import math
import random
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, text

from application.eventlog.audit_log import AuditFilter, quote, redact
from domain.chat import AnsweredBy, ChatSession, Rating
from domain.workflow import Workflow
from domain.workspace import DEFAULT_WORKSPACE, Workspace
from infrastructure.readmodel import audit_sql, rebuild
from infrastructure.readmodel.audit import SqlAuditReadModel
from infrastructure.readmodel.runner import ProjectionWorker
from infrastructure.settings import Settings
from interfaces.bootstrap import Services, bootstrap
from tests.conftest import PG_ADMIN
from tests.histories import save_random_steps

ACTORS = ("ann@example.com", "bob@example.com", "system")
WHITESPACE = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
FRAGMENTS = [
    "sk-",
    "gsk_",
    "gsa_",
    "AIza",
    "Bearer ",
    "bEaReR\u2003\t",
    "ghp_",
    "xoxb-",
    "eyJ",
    "eyJhbGciOi.eyJzdWIiOiIx.sig",
    ".",
    "-",
    "_",
    "=",
    "0123456789abcdef",
    "DEADBEEFdeadbeef",
    "é",
    "ſ",
    "\u212a",
    "…",
    "“",
    "”",
    "key",
    "١٢٣",
    "\U0001f600",
]
ANY_CHARACTER = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
TEXT = st.lists(
    st.one_of(
        st.sampled_from(FRAGMENTS),
        st.sampled_from(WHITESPACE),
        st.text(ANY_CHARACTER, max_size=6),
        st.text(st.sampled_from("0123456789abcdefABCDEF-_xyz"), min_size=8, max_size=40),
    ),
    max_size=30,
).map("".join)
LONG_TEXT = st.one_of(TEXT, TEXT.map(lambda t: t * 9))


@pytest.fixture(scope="module")
def database() -> Iterator[Engine]:
    engine = create_engine(PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine
    engine.dispose()


def _sql(engine: Engine, expression: str, value: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            text(f"SELECT {expression} FROM (SELECT CAST(:value AS text) AS t) AS given"),
            {
                "value": value,
                "whitespace": audit_sql.whitespace(),
                "spacy": audit_sql.spacy(),
                "keylike": audit_sql.keylike(),
            },
        ).scalar()


@hypothesis_settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(LONG_TEXT)
def test_quote_and_redact_in_sql_say_what_pythons_say(database: Engine, value: str) -> None:
    assert _sql(database, audit_sql.quote_sql("t"), value) == quote(value)[1:-1]
    assert _sql(database, audit_sql.redact_sql("t"), value) == redact(value)
    # a question's summary: the quoted words redacted alone, as the whole summary is
    quoted = _sql(database, audit_sql.redact_sql(audit_sql.quote_sql("t")), value)
    assert f"Asked “{quoted}”" == redact(f"Asked {quote(value)}")


class History:
    """Random stacks in a few workspaces (renamed, deleted), chat sessions on them and on
    stacks the log never had, questions and model names drawn by hypothesis."""

    def __init__(self, services: Services, rng: random.Random, words: list[str]) -> None:
        self.store, self.rng, self.words = services.event_log, rng, words
        self.workspaces: list[Workspace] = []
        self.stacks: list[Workflow] = []
        self.chats: list[ChatSession] = []
        self.answers: dict[uuid.UUID, list[uuid.UUID]] = {}

    def word(self) -> str:
        return self.words[self.rng.randrange(len(self.words))] if self.words else "why"

    def write(self, events: int) -> None:
        steps = [self.workspace, self.stack, self.chat]
        save_random_steps(self.store, events, self.rng, steps, [1, 3, 12])

    def actor(self) -> str:
        return self.rng.choice(ACTORS)

    def workspace(self) -> Any:
        ws = Workspace.create(f"team {len(self.workspaces)}", "ann@example.com", "system")
        self.workspaces.append(ws)
        return ws

    def stack(self) -> Any:
        rng = self.rng
        if not self.stacks or rng.random() < 0.3:
            home = (
                rng.choice(self.workspaces).id if self.workspaces and rng.random() < 0.6 else None
            )
            wf = Workflow.create(self.word().strip() or "a stack", "", self.actor(), home)
            self.stacks.append(wf)
            return wf
        wf = rng.choice(self.stacks)
        if wf.deleted:
            return None
        pick = rng.random()
        if pick < 0.6:
            wf.rename(self.word().strip() or f"stack {rng.randint(0, 9)}", self.actor())
        elif pick < 0.9:
            wf.describe("what it does", self.actor())
        else:
            wf.delete(self.actor())
        return wf

    def chat(self) -> Any:
        rng = self.rng
        if not self.chats or rng.random() < 0.15:
            stack = rng.choice(self.stacks).id if self.stacks and rng.random() < 0.9 else None
            chat = ChatSession.start(stack or uuid.uuid4(), rng.choice([None, 1, 12]), self.actor())
            self.chats.append(chat)
            return chat
        chat = rng.choice(self.chats)
        answers = self.answers.setdefault(chat.id, [])
        pick = rng.random()
        if chat.pending and pick < 0.6:
            question = chat.pending[0].id
            if rng.random() < 0.2:
                chat.fail(question, self.word(), "away", "system", AnsweredBy(3))
            else:
                usage = rng.choice(
                    [
                        {"prompt_tokens": rng.randint(0, 900), "completion_tokens": 7},
                        {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
                        {"cached": True, "cost": 0.25, "prompt_tokens": -3},
                        {},
                    ]
                )
                model = rng.choice(["gpt-4o-mini", "", self.word()])
                answers.append(
                    chat.answer(question, "an answer " * 30, [], model, usage, 40, "system")
                )
        elif answers and pick < 0.75:
            rating = rng.choice([Rating.UP, Rating.DOWN, None])
            chat.rate(rng.choice(answers), rating, "a note" if rating else "", self.actor())
        else:
            chat.ask(uuid.uuid4(), self.word(), self.actor())
        return chat


def audit_worker(services: Services) -> ProjectionWorker:
    return next(w for w in services.workers if w.projection.name == "audit_log")


def the_audit(services: Services, history: History) -> dict[str, list[str]]:
    """Everything a workspace's admins can read of the audit, in each workspace, as text
    that shows each value's type (repr)."""
    audit = SqlAuditReadModel(services.read_db)
    seen: dict[str, list[str]] = {}
    for ws in [DEFAULT_WORKSPACE, *(w.id for w in history.workspaces)]:
        wheres = [AuditFilter()]
        wheres += [AuditFilter(actor=a) for a in ACTORS]
        wheres += [AuditFilter(stack_id=s.id) for s in history.stacks[:3]]
        wheres += [AuditFilter(kinds=("UserAsked", "AssistantAnswered"))]
        for n, where in enumerate(wheres):
            seen[f"{ws} {n}"] = [repr(r) for r in audit.entries(ws, where, None, 100_000)]
        seen[f"{ws} actors"] = sorted(audit.actors(ws))
        seen[f"{ws} stacks"] = [repr(s) for s in audit.stacks(ws)]
        seen[f"{ws} kinds"] = audit.kinds(ws)
    return seen


def followed_in_python(services: Services, history: History) -> dict[str, list[str]]:
    worker = audit_worker(services)
    worker._batched = False  # one event, one transaction, as the follower applies them
    try:
        worker.rebuild()
    finally:
        worker._batched = True
    return the_audit(services, history)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@hypothesis_settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**16),
    events=st.integers(150, 400),
    words=st.lists(LONG_TEXT, min_size=1, max_size=30),
)
def test_the_audit_rebuilt_in_the_database_is_the_one_python_follows(
    settings: Settings, seed: int, events: int, words: list[str]
) -> None:
    services = bootstrap(settings)  # not started: the test drives the worker
    try:
        history = History(services, random.Random(seed), words)
        history.write(events)
        expected = followed_in_python(services, history)
        assert sum(len(v) for k, v in expected.items() if k.endswith(" 0")) >= events

        paths: dict[str, str] = {}
        worker = audit_worker(services)
        rebuild.replay(services.event_log, [worker], paths=paths)
        assert paths == {"audit_log": rebuild.IN_DATABASE}
        assert the_audit(services, history) == expected
        assert (
            worker.projection.view.max_tracking_id("") == services.event_log.max_notification_id()
        )
    finally:
        services.stop()


HOSTILE = {
    "NaN": {"prompt_tokens": math.nan},
    "infinity": {"prompt_tokens": math.inf},
    "a float past 1e16": {"prompt_tokens": 1e16},
    "an integer past 64 bits": {"prompt_tokens": 2**70},
    "a NUL in the model": "gpt\x00mini",
    "usage that is no mapping (Python cannot apply it)": ["prompt_tokens"],
    "a model that is a number (Python says it, SQL does not)": 4,
}


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.parametrize("hostile", [None, *HOSTILE])
def test_a_log_the_database_cannot_say_alike_is_rebuilt_in_python_to_the_same_rows(
    settings: Settings, hostile: str | None
) -> None:
    services = bootstrap(settings)
    try:
        history = History(services, random.Random(5), ["why  not?", "sk-abcdefgh12345678"])
        history.write(60)
        chat = ChatSession.start(history.stacks[0].id, 1, "ann@example.com")
        question = uuid.uuid4()
        chat.ask(question, "and this?", "ann@example.com")
        value = HOSTILE.get(hostile or "", {})
        usage = value if isinstance(value, dict | list) else {"prompt_tokens": 1}
        model = value if isinstance(value, str | int) else "gpt-4o-mini"
        chat.answer(question, "so", [], model, usage, 1, "system")
        services.event_log.save(chat)
        expected = followed_in_python(services, history)

        paths: dict[str, str] = {}
        rebuild.replay(services.event_log, [audit_worker(services)], paths=paths)
        assert paths == {"audit_log": rebuild.PYTHON if hostile else rebuild.IN_DATABASE}
        assert the_audit(services, history) == expected
    finally:
        services.stop()
