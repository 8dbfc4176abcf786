"""Loaded aggregates are kept and brought up to date from the log on every load
(application/eventlog/loaded.py), never served stale: what another server on the same
database changed (a budget, a member removed, questions asked in the same session) decides
this server's next answer; callers never share an aggregate they may change; and ids of
something else, or of nothing, are refused as before, kept or not.

Two applications on one database stand for two server processes (the second one runs no
projections, as a second process leaves them to the one holding their locks)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from starlette.testclient import TestClient

from application.chat.sessions import ChatSessions
from application.eventlog.log import EventLog
from domain.chat import ChatSession
from domain.errors import NotFound
from infrastructure.settings import Settings
from tests.fakes import FakeOpenAIServer
from tests.integration.accounts_client import NETWORK, register, served, signed_in_gql
from tests.integration.chat_ops import (
    SEND,
    fake_llm,
    published_workflow,
    start_chat,
    stored,
    turn,
)
from tests.integration.gql import GQL, GraphQLError

DEFAULT = "0b1d2c9e-6a47-4c1e-9f0a-3d5e2a7c4b10"
SET_BUDGET = """mutation($ws: UUID!, $t: Int, $c: Float) {
  setWorkspaceBudget(workspaceId: $ws, monthlyTokens: $t, monthlyCostUsd: $c) { exceeded } }"""
BUDGET = "query($ws: UUID!) { workspaceBudget(workspaceId: $ws) { usedTokens } }"
CREATE_WORKSPACE = 'mutation { createWorkspace(name: "Team") { id } }'
INVITE = """mutation($ws: UUID!, $role: Role!) {
  inviteMember(workspaceId: $ws, role: $role) { token } }"""
ACCEPT = "mutation($t: String!) { acceptInvitation(token: $t) { id } }"
REMOVE = """mutation($ws: UUID!, $user: String!) {
  removeMember(workspaceId: $ws, userId: $user) { userId } }"""


def refused(gql: GQL, query: str, **variables: Any) -> str:
    with pytest.raises(GraphQLError) as error:
        gql(query, **variables)
    return str(error.value.code)


def event_log(client: TestClient) -> EventLog:
    return client.app.state.services.event_log  # type: ignore[attr-defined,no-any-return]


@contextmanager
def two_servers(settings: Settings, **overrides: Any) -> Iterator[tuple[TestClient, TestClient]]:
    """Two applications on one database; the first runs the projections. Small pools: the
    PostgreSQL server's connections are shared with whatever else runs."""
    small = {"genai_db_pool_size": 3, **overrides}
    with (
        served(settings, **small) as first,
        served(settings, genai_run_projections=False, **small) as second,
    ):
        yield first, second


def test_a_budget_set_on_another_server_refuses_the_next_question_here(
    settings: Settings, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reported_usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    with two_servers(settings) as (here, there):
        gql_here, gql_there = GQL(here), GQL(there)
        session = start_chat(gql_here, published_workflow(gql_here, fake_llm(fake_openai)))
        turn(here, gql_here, session, "first")  # the session and its workspace are kept here
        turn(here, gql_here, session, "second")

        gql_there(SET_BUDGET, ws=DEFAULT, t=5, c=None)  # already used: 20 tokens
        assert refused(gql_here, SEND, s=session, c="third?") == "RATE_LIMITED"

        gql_there(SET_BUDGET, ws=DEFAULT, t=None, c=None)  # no budget again
        events = turn(here, gql_here, session, "third")
        assert events[-1]["message"]["role"] == "ASSISTANT"


def test_a_member_removed_on_another_server_is_refused_here(
    settings: Settings, fake_openai: FakeOpenAIServer
) -> None:
    with two_servers(settings, **NETWORK) as (here, there):
        register(here, "ada@example.com")
        bob_id = register(here, "bob@example.com")
        ada_here = signed_in_gql(here, "ada@example.com")
        team = ada_here(CREATE_WORKSPACE)["createWorkspace"]["id"]
        token = ada_here(INVITE, ws=team, role="EDITOR")["inviteMember"]["token"]
        bob_here = signed_in_gql(here, "bob@example.com")
        bob_here(ACCEPT, t=token)
        stack = published_workflow(ada_here, fake_llm(fake_openai))
        session = start_chat(bob_here, stack)
        bob_here(SEND, s=session, c="may I?")  # the team, with bob in it, is kept here

        signed_in_gql(there, "ada@example.com")(REMOVE, ws=team, user=bob_id)

        assert refused(bob_here, SEND, s=session, c="still?") == "NOT_FOUND"
        assert refused(bob_here, SEND, s=session, c="still?") == "NOT_FOUND"


def test_questions_asked_on_both_servers_at_once_are_all_kept_in_order(
    settings: Settings, fake_openai: FakeOpenAIServer
) -> None:
    with two_servers(settings) as (here, there):
        gql_here, gql_there = GQL(here), GQL(there)
        session = start_chat(gql_here, published_workflow(gql_here, fake_llm(fake_openai)))
        turn(here, gql_here, session, "warm")  # kept on this server
        gql_there(SEND, s=session, c="from there")  # the copy kept here is now behind
        failures: list[BaseException] = []

        def ask(gql: GQL, who: str) -> None:
            try:
                for i in range(3):
                    gql(SEND, s=session, c=f"{who} {i}")
            except BaseException as error:  # reported by the test's thread
                failures.append(error)

        threads = [
            threading.Thread(target=ask, args=(gql, f"{name}-{n}"))
            for gql, name in ((gql_here, "here"), (gql_there, "there"))
            for n in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert failures == []

        messages = stored(gql_here, session, 2 * (2 + 12))
        questions = [m["content"] for m in messages if m["role"] == "USER"]
        assert questions[:2] == ["warm", "from there"]
        assert sorted(questions[2:]) == sorted(
            f"{name}-{n} {i}" for name in ("here", "there") for n in range(2) for i in range(3)
        )
        for who in ("here-0", "here-1", "there-0", "there-1"):  # each asker's in its order
            mine = [q for q in questions if q.startswith(who)]
            assert mine == [f"{who} {i}" for i in range(3)]
        answers = [m for m in messages if m["role"] == "ASSISTANT"]
        assert len(answers) == len(questions)
        assert all(m["status"] != "failed" for m in messages)
        log = event_log(here)
        assert log.repository.get(uuid.UUID(session)).version == 1 + len(messages)


def test_each_load_is_its_own_copy_and_a_kept_one_never_changes(
    settings: Settings, fake_openai: FakeOpenAIServer
) -> None:
    with two_servers(settings) as (here, there):
        gql = GQL(here)
        session = uuid.UUID(start_chat(gql, published_workflow(gql, fake_llm(fake_openai))))
        repository = event_log(here).repository
        first, second = repository.get(session), repository.get(session)
        assert first is not second
        first.ask(uuid.uuid4(), "never saved", "tests")  # a change nobody saves
        assert repository.get(session).pending == []
        assert repository.get(session).version == 1

        shared = repository.get(session, deepcopy_from_cache=False)
        assert repository.get(session, deepcopy_from_cache=False) is shared  # readers share it
        other = event_log(there)
        changed = other.repository.get(session)
        changed.ask(uuid.uuid4(), "saved elsewhere", "tests")
        other.save(changed)

        now = repository.get(session, deepcopy_from_cache=False)
        assert (now.version, [q.content for q in now.pending]) == (2, ["saved elsewhere"])
        assert (shared.version, shared.pending) == (1, [])  # what a reader holds stays
        assert type(now) is ChatSession and type(now.pending[0].id) is uuid.UUID


def test_an_id_of_something_else_or_of_nothing_is_no_session_kept_or_not(
    settings: Settings, fake_openai: FakeOpenAIServer
) -> None:
    with served(settings) as client:
        gql = GQL(client)
        stack = published_workflow(gql, fake_llm(fake_openai))
        sessions = ChatSessions(event_log(client))
        nothing = str(uuid.uuid4())
        for _ in range(2):  # the second time the stack is kept
            for wrong in (stack, DEFAULT, nothing):
                assert refused(gql, SEND, s=wrong, c="hello?") == "NOT_FOUND"
                with pytest.raises(NotFound):
                    sessions.owner(uuid.UUID(wrong))
        with pytest.raises(GraphQLError):
            gql(BUDGET, ws=stack)  # a stack is not a workspace, kept or not
