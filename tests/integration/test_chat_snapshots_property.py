"""Property: whatever happened in a chat, on a published version or on the draft (random
questions, answers and failures, up to 400 events, across several snapshot intervals), each
load of the session, from its snapshot or not, holds exactly the questions still waiting,
with their ids, times and the conversations they brought as types of their own; answers and failures recorded through such
loads reach the right questions; and a process that never held the chat in memory shows the
same conversation through the GraphQL API whether it loads from snapshots or replays every
event."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from application.chat.commands import StartChat
from application.eventlog.log import SNAPSHOT_EVERY
from application.workflow import commands as c
from application.workflow.handlers import WorkflowService
from domain.chat import AnsweredBy, ChatSession, Turn, answer_id_for
from tests.integration.chat_ops import MESSAGE_FIELDS
from tests.integration.reopen import (
    MAX_EVENTS,
    OnAFreshStore,
    assert_same_json,
    both_ways,
    expected_snapshots,
    run_on,
    snapshot_versions,
)
from tests.pipelines import pipeline

ACTOR, ANSWERER = "tester", "answerer"
SESSION = f"""query($s: UUID!) {{ chatSession(id: $s) {{ id workflowId publishedVersion draft
  createdAt updatedAt messages {{ {MESSAGE_FIELDS} }} }} }}"""
SESSIONS = """query($w: UUID!) { chatSessions(workflowId: $w) { id updatedAt
  messages { id status } } }"""

texts = (
    st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=60)
    .map(str.strip)
    .filter(bool)
)
sources = st.lists(
    st.fixed_dictionaries(
        {
            "document_id": st.uuids().map(str),
            "filename": texts,
            "page": st.one_of(st.none(), st.integers(1, 500)),
            "chunk": st.integers(0, 1000),
            "score": st.floats(0, 1),
            "text": texts,
        }
    ),
    max_size=3,
)
web_sources = st.lists(
    st.fixed_dictionaries(
        {"title": texts, "url": st.just("https://example.org/a"), "snippet": texts}
    ),
    max_size=2,
)


# what a question may bring: earlier turns of its conversation (a program that keeps it)
turns = st.lists(st.builds(Turn, st.sampled_from(["user", "assistant"]), texts), max_size=3).map(
    tuple
)


@dataclass
class Question:
    id: UUID
    content: str
    asked_at: datetime
    conversation: tuple[Turn, ...] = ()
    instructions: str = ""


class Conversation(OnAFreshStore):
    def __init__(self) -> None:
        super().__init__()
        services = self.builder.services
        self.chats, self.store = services.chats, services.event_log
        self.workflow_id = published_pipeline(services.workflows)
        self.id: UUID | None = None
        self.draft = False
        self.version = 0
        self.waiting: list[Question] = []
        self.messages: list[dict[str, Any]] = []  # as the API shows them

    @initialize(draft=st.booleans())
    def start(self, draft: bool) -> None:
        """On the published version, or on the draft (a preview)."""
        start = StartChat(actor=ACTOR, workflow_id=self.workflow_id, draft=draft)
        self.id = self.chats.start(start).id
        self.draft, self.version = draft, 1

    def answered_by(self, workflow_version: int) -> AnsweredBy:
        return AnsweredBy(workflow_version, None if self.draft else 1)

    def room(self) -> int:
        return MAX_EVENTS - self.version

    def load(self) -> ChatSession:
        assert self.id is not None
        chat = self.store.repository.get(self.id)
        assert isinstance(chat, ChatSession)
        return chat

    def save(self, chat: ChatSession) -> None:
        self.store.save(chat)
        self.version += 1
        assert chat.version == self.version

    # ---------------------------------------------------------------- what happens

    @precondition(lambda self: self.room())
    @rule(
        contents=st.lists(texts, min_size=1, max_size=12),
        earlier=turns,
        instructions=st.one_of(st.just(""), texts),
    )
    def ask(self, contents: list[str], earlier: tuple[Turn, ...], instructions: str) -> None:
        assert self.id is not None
        for content in contents[: self.room()]:
            chat = self.load()
            asked = chat.ask(uuid.uuid4(), content, ACTOR, earlier, instructions)
            self.save(chat)
            self.waiting.append(Question(asked.id, content, asked.asked_at, earlier, instructions))
            self.messages.append(question_shown(asked.id, content))

    @precondition(lambda self: self.room() and self.waiting)
    @rule(
        data=st.data(),
        content=texts,
        found=sources,
        pages=web_sources,
        model=st.sampled_from(["extractive", "gpt-4o-mini"]),
        tokens=st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)),
        latency=st.integers(0, 60_000),
        by=st.integers(1, 20),
    )
    def answer(
        self,
        data: st.DataObject,
        content: str,
        found: list[dict[str, Any]],
        pages: list[dict[str, Any]],
        model: str,
        tokens: tuple[int, int],
        latency: int,
        by: int,
    ) -> None:
        question = data.draw(st.sampled_from(self.waiting))
        chat = self.load()
        usage = {"prompt_tokens": tokens[0], "completion_tokens": tokens[1]}
        answer_id = chat.answer(
            question.id,
            content,
            found,
            model,
            usage,
            latency,
            ANSWERER,
            web_sources=pages,
            by=self.answered_by(by),
        )
        self.save(chat)
        self.settle(question, "answered", None)
        self.messages.append(
            {
                "id": str(answer_id),
                "role": "ASSISTANT",
                "content": content,
                "status": "answered",
                "replyTo": str(question.id),
                "model": model,
                "latencyMs": latency,
                "usage": {"promptTokens": tokens[0], "completionTokens": tokens[1]},
                "error": None,
                "sources": [shown_source(s) for s in found],
                "webSources": pages,
                "createdAt": None,
                **self.versions_shown(by),
            }
        )

    @precondition(lambda self: self.room() and self.waiting)
    @rule(
        data=st.data(),
        code=st.sampled_from(["PROVIDER_ERROR", "TIMEOUT"]),
        why=texts,
        by=st.one_of(st.none(), st.integers(1, 20)),
    )
    def fail(self, data: st.DataObject, code: str, why: str, by: int | None) -> None:
        """Failed by a graph, or interrupted before one was loaded (no versions)."""
        question = data.draw(st.sampled_from(self.waiting))
        chat = self.load()
        chat.fail(question.id, code, why, ANSWERER, self.answered_by(by) if by else AnsweredBy())
        self.save(chat)
        self.settle(question, "failed", {"code": code, "message": why})
        shown = next(m for m in self.messages if m["id"] == str(question.id))
        shown.update(self.versions_shown(by))

    @precondition(lambda self: not self.room())
    @rule()
    def full(self) -> None:
        """Enabled only when nothing else is: the chat is as long as this test goes."""

    def versions_shown(self, by: int | None) -> dict[str, int | None]:
        published = None if self.draft or by is None else 1
        return {"workflowVersion": by, "publishedVersion": published}

    def settle(self, question: Question, status: str, error: dict[str, str] | None) -> None:
        self.waiting.remove(question)
        shown = next(m for m in self.messages if m["id"] == str(question.id))
        shown.update(status=status, error=error)

    # ---------------------------------------------------------------- checks

    @invariant()
    def a_load_holds_the_questions_still_waiting(self) -> None:
        if self.id is None:
            return  # not started yet
        chat = self.load()
        assert chat.draft is self.draft
        assert chat.version == self.version
        assert [
            (q.id, q.content, q.asked_at, q.conversation, q.instructions) for q in chat.pending
        ] == [(q.id, q.content, q.asked_at, q.conversation, q.instructions) for q in self.waiting]
        for q in chat.pending:
            assert type(q.id) is UUID and type(q.asked_at) is datetime
            assert type(q.conversation) is tuple
            assert all(type(t) is Turn for t in q.conversation)
            assert q.asked_at.tzinfo is not None
        answers = sum(m["role"] == "ASSISTANT" for m in self.messages)
        failures = sum(m["status"] == "failed" for m in self.messages)
        assert (chat.answered, chat.failed) == (answers, failures)

    def happened(self) -> bool:
        return self.version > 1

    def check_through_the_api(self) -> None:
        assert snapshot_versions(self.store, self.id) == expected_snapshots(
            self.version, SNAPSHOT_EVERY
        )
        from_snapshots, replayed = both_ways(self.builder.settings, self.ask_the_api)
        assert_same_json(from_snapshots, replayed)
        shown = from_snapshots["session"]["messages"]
        assert_same_json([{**m, "createdAt": None} for m in shown], self.messages)
        assert answer_ids_are_derived(shown)

    def ask_the_api(self, gql: Any) -> dict[str, Any]:
        return {
            "session": gql(SESSION, s=str(self.id))["chatSession"],
            "sessions": gql(SESSIONS, w=str(self.workflow_id))["chatSessions"],
        }


def question_shown(question_id: UUID, content: str) -> dict[str, Any]:
    return {
        "id": str(question_id),
        "role": "USER",
        "content": content,
        "status": "pending",
        "replyTo": None,
        "model": None,
        "latencyMs": None,
        "usage": None,
        "error": None,
        "sources": [],
        "webSources": [],
        "createdAt": None,  # times are compared between the two loads, not to the clock
        "workflowVersion": None,
        "publishedVersion": None,
    }


def shown_source(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "documentId": data["document_id"],
        "filename": data["filename"],
        "page": data["page"],
        "chunk": data["chunk"],
        "score": float(data["score"]),
        "text": data["text"],
    }


def answer_ids_are_derived(messages: list[dict[str, Any]]) -> bool:
    return all(
        m["id"] == str(answer_id_for(UUID(m["replyTo"])))
        for m in messages
        if m["role"] == "ASSISTANT"
    )


def published_pipeline(workflows: WorkflowService) -> UUID:
    """User Query → LLM Engine (offline) → Output, published once."""
    wid = pipeline(workflows, ACTOR, "Chatty")
    workflows.publish(c.Publish(workflow_id=wid, actor=ACTOR))
    return wid


@pytest.mark.slow
def test_a_chat_reads_the_same_from_its_snapshots_as_from_a_full_replay(backend: str) -> None:
    run_on(Conversation, backend, examples=5, steps=100)
