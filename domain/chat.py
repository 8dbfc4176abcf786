"""The ChatSession aggregate: a conversation with one published version of a workflow, or
with its draft.

A published session is pinned to the version it was started on, so republishing the workflow
never changes the answers of a conversation under way. A draft session (a preview before
publishing) answers each question from the draft as it stands when the question is answered.
Either way every answer and failure records the workflow version whose graph answered it.
Questions are answered in the order they were asked; each ends in exactly one answer or one
failure.

A question may bring the conversation it belongs to (a program that holds the conversation
itself, as OpenAI's chat completions API has it, sends the earlier turns with each question)
and instructions for the model: both are recorded with the question, as asked, and given to
the stack's LLM with it. They are context, not turns of this session: the session's own
answers are only the ones its stack gave.

An answer may be rated (thumbs up or down, with an optional note); rating it again
replaces the rating, and a rating may be withdrawn.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidCommand, NotFound

MAX_QUESTION = 20_000
MAX_CONVERSATION = 200_000  # characters of the earlier turns a question brings, all together
MAX_TURNS = 500
MAX_INSTRUCTIONS = 20_000
TURN_ROLES = ("user", "assistant")
MAX_NOTE = 1_000


class Rating(StrEnum):
    UP = "UP"
    DOWN = "DOWN"


# Answers get ids derived from their question's, so every process (and a replay) agrees on
# the id that streamed tokens and the stored answer carry.
_ANSWERS = UUID("6f0e3c4e-2b7d-4f55-9a43-2f3c2b8f1d10")


def answer_id_for(question_id: UUID) -> UUID:
    return uuid.uuid5(_ANSWERS, str(question_id))


@dataclass(frozen=True)
class Turn:
    """An earlier message of the conversation a question belongs to: the asker's (`user`) or
    the assistant's (`assistant`), as the asker gives it."""

    role: str
    content: str

    @classmethod
    def of(cls, data: Turn | Mapping[str, Any]) -> Turn:
        return data if isinstance(data, Turn) else cls(str(data["role"]), str(data["content"]))


@dataclass(frozen=True)
class Question:
    id: UUID
    content: str
    asked_at: datetime
    conversation: tuple[Turn, ...] = ()  # the turns before it that the asker brought
    instructions: str = ""  # what the asker wants the model to follow (a system message)

    def __post_init__(self) -> None:
        # whatever decoded it, the id and the time keep their types (a str id would never
        # match the UUID an answer names)
        if not isinstance(self.id, UUID):
            object.__setattr__(self, "id", UUID(str(self.id)))
        if not isinstance(self.asked_at, datetime):
            object.__setattr__(self, "asked_at", datetime.fromisoformat(str(self.asked_at)))
        if not all(isinstance(t, Turn) for t in self.conversation) or not isinstance(
            self.conversation, tuple
        ):
            object.__setattr__(self, "conversation", tuple(Turn.of(t) for t in self.conversation))


@dataclass(frozen=True)
class AnsweredBy:
    """The graph that answered (or failed) a question: the workflow version (its event count)
    it stood at, and for a published session the published number."""

    workflow_version: int | None = None  # None: not known (recorded before versions were)
    published_version: int | None = None  # None: the draft answered


def _before_drafts(state: dict[str, Any]) -> None:
    state["draft"] = False  # every session was on a published version then


def _before_answered_by(state: dict[str, Any]) -> None:
    state["workflow_version"] = state["published_version"] = None  # not known


class ChatSession(Aggregate):
    # Version 1 of the state (snapshots taken before draft previews) has no draft flag.
    class_version = 2
    upcast_v1_v2 = staticmethod(_before_drafts)

    class ChatStarted(Aggregate.Created):
        workflow_id: UUID
        published_version: int  # 0 for a draft session
        actor: str
        draft: bool

        # Version 1, stored before draft previews, has no draft flag.
        class_version = 2
        upcast_v1_v2 = staticmethod(_before_drafts)

    @event(ChatStarted)
    def __init__(self, workflow_id: UUID, published_version: int, actor: str, draft: bool) -> None:
        self.workflow_id, self.published_version = workflow_id, published_version
        self.draft = draft
        self.pending: list[Question] = []
        self.answered = 0
        self.failed = 0
        self.author = actor  # whose session it is: they (and the workspace's admins) read it
        self.last_actor = actor
        self.answer_ids: list[UUID] = []  # the answers given, which may be rated
        # each rated answer's rating and note, by the answer's id (a string: a JSON key)
        self.ratings: dict[str, dict[str, str]] = {}

    @classmethod
    def start(cls, workflow_id: UUID, published_version: int | None, actor: str) -> ChatSession:
        """A session on a published version (1, 2, …), or on the draft when None."""
        if published_version is None:
            return cls(workflow_id, 0, actor, True)
        if published_version < 1:
            raise InvalidCommand("a chat starts on a published version (1, 2, …) or the draft")
        return cls(workflow_id, published_version, actor, False)

    # ---------------------------------------------------------------- asking

    def ask(
        self,
        message_id: UUID,
        content: str,
        actor: str,
        conversation: Sequence[Turn] = (),
        instructions: str = "",
    ) -> Question:
        """`conversation`: the earlier turns the asker brings, oldest first; `instructions`:
        theirs for the model. Both go to the LLM with the question."""
        text, turns, guidance = checked_question(content, conversation, instructions)
        if any(q.id == message_id for q in self.pending):
            raise InvalidCommand(f"there is already a message {message_id}")
        self.trigger_event(
            self.UserAsked,
            message_id=message_id,
            content=text,
            actor=actor,
            conversation=[{"role": t.role, "content": t.content} for t in turns],
            instructions=guidance,
        )
        return self.pending[-1]

    class UserAsked(Aggregate.Event):
        message_id: UUID
        content: str
        actor: str
        conversation: list[dict[str, str]] = field(default_factory=list)
        instructions: str = ""

        # Version 1, stored before questions could bring their conversation, has neither.
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["conversation"] = []
            state["instructions"] = ""

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, ChatSession)
            turns = tuple(Turn.of(t) for t in self.conversation)
            aggregate.pending.append(
                Question(self.message_id, self.content, self.timestamp, turns, self.instructions)
            )
            aggregate.last_actor = self.actor

    @property
    def next_question(self) -> Question | None:
        """The question to answer now: the oldest one without an answer."""
        return self.pending[0] if self.pending else None

    # ---------------------------------------------------------------- answering

    def answer(
        self,
        question_id: UUID,
        content: str,
        sources: list[dict[str, Any]],
        model: str,
        usage: dict[str, int],
        latency_ms: int,
        actor: str,
        web_sources: Sequence[dict[str, Any]] = (),
        by: AnsweredBy = AnsweredBy(),
    ) -> UUID:
        """`sources` are the document passages the answer was given, `web_sources` the web
        pages (title, url, snippet) a web search put in its prompt, `by` the graph that
        answered."""
        self._pending(question_id)
        answer_id = answer_id_for(question_id)
        self.trigger_event(
            self.AssistantAnswered,
            message_id=answer_id,
            question_id=question_id,
            content=content,
            sources=sources,
            model=model,
            usage=usage,
            latency_ms=max(0, latency_ms),
            actor=actor,
            web_sources=list(web_sources),
            workflow_version=by.workflow_version,
            published_version=by.published_version,
        )
        return answer_id

    class AssistantAnswered(Aggregate.Event):
        message_id: UUID  # the answer's own id, derived from the question's
        question_id: UUID
        content: str
        sources: list[dict[str, Any]]
        model: str
        usage: dict[str, int]
        latency_ms: int
        actor: str
        web_sources: list[dict[str, Any]] = field(default_factory=list)
        workflow_version: int | None = None  # see AnsweredBy
        published_version: int | None = None

        # Version 1, stored before answers cited web pages, has no web_sources; version 2,
        # stored before answers recorded the graph that gave them, has no workflow_version
        # or published_version. The mapper sets a stored event's state on the object without
        # running its constructor, so a default alone would leave the attribute missing: the
        # upcasts fill them in.
        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["web_sources"] = []

        upcast_v2_v3 = staticmethod(_before_answered_by)

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, ChatSession)
            aggregate.pending = [q for q in aggregate.pending if q.id != self.question_id]
            aggregate.answered += 1
            aggregate.answer_ids.append(self.message_id)
            aggregate.last_actor = self.actor

    def fail(
        self,
        question_id: UUID,
        code: str,
        message: str,
        actor: str,
        by: AnsweredBy = AnsweredBy(),
    ) -> UUID:
        """`by`: the graph that failed, when it was loaded (not for an interrupted answer)."""
        self._pending(question_id)
        answer_id = answer_id_for(question_id)
        self.trigger_event(
            self.AnswerFailed,
            message_id=answer_id,
            question_id=question_id,
            code=code,
            message=message,
            actor=actor,
            workflow_version=by.workflow_version,
            published_version=by.published_version,
        )
        return answer_id

    class AnswerFailed(Aggregate.Event):
        message_id: UUID  # the id the answer would have had (the one its tokens carried)
        question_id: UUID
        code: str
        message: str
        actor: str
        workflow_version: int | None = None  # see AnsweredBy
        published_version: int | None = None

        # Version 1, stored before failures recorded the graph that gave them, has neither.
        class_version = 2
        upcast_v1_v2 = staticmethod(_before_answered_by)

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, ChatSession)
            aggregate.pending = [q for q in aggregate.pending if q.id != self.question_id]
            aggregate.failed += 1
            aggregate.last_actor = self.actor

    # ---------------------------------------------------------------- feedback

    def rate(self, message_id: UUID, rating: Rating | None, note: str, actor: str) -> bool:
        """Rates the answer `message_id` (None withdraws its rating); a note says why.
        Returns whether anything changed: the rating it already has records nothing."""
        if message_id not in self.answer_ids:
            raise NotFound(f"there is no answer {message_id} in this chat to rate")
        text = note.strip()
        if len(text) > MAX_NOTE:
            raise InvalidCommand(f"the note is longer than {MAX_NOTE} characters")
        if "\x00" in text:
            raise InvalidCommand("the note must not contain the NUL character")
        if rating is None and text:
            raise InvalidCommand("a note goes with a rating (UP or DOWN)")
        current = self.ratings.get(str(message_id))
        had = None if current is None else (current["rating"], current["note"])
        if had == (None if rating is None else (rating.value, text)):
            return False
        self.trigger_event(
            self.AnswerRated,
            message_id=message_id,
            rating=None if rating is None else rating.value,
            note=text,
            actor=actor,
        )
        return True

    def rating_of(self, message_id: UUID) -> tuple[Rating, str] | None:
        """The answer's rating and note, None when it has none."""
        found = self.ratings.get(str(message_id))
        return None if found is None else (Rating(found["rating"]), found["note"])

    def rated_by(self, message_id: UUID) -> tuple[str, datetime] | None:
        """Who gave the answer its rating, and when; None when it has none."""
        found = self.ratings.get(str(message_id))
        return None if found is None else (found["actor"], datetime.fromisoformat(found["at"]))

    class AnswerRated(Aggregate.Event):
        message_id: UUID  # the answer's
        rating: str | None  # a Rating's value; None: the rating was withdrawn
        note: str
        actor: str

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, ChatSession)
            if self.rating is None:
                aggregate.ratings.pop(str(self.message_id), None)
            else:
                aggregate.ratings[str(self.message_id)] = {
                    "rating": self.rating,
                    "note": self.note,
                    "actor": self.actor,
                    "at": self.timestamp.isoformat(),
                }

    def _pending(self, question_id: UUID) -> Question:
        for q in self.pending:
            if q.id == question_id:
                return q
        raise NotFound(f"no question {question_id} is waiting for an answer in this chat")


def checked_question(
    content: str, conversation: Sequence[Turn] = (), instructions: str = ""
) -> tuple[str, tuple[Turn, ...], str]:
    """A question as it is recorded (its text, its earlier turns, the instructions), or the
    reason it cannot be asked; for a caller that checks before it starts a session."""
    text = content.strip()
    if not text:
        raise InvalidCommand("the message must not be empty")
    if len(text) > MAX_QUESTION:
        raise InvalidCommand(f"the message is longer than {MAX_QUESTION} characters")
    guidance = instructions.strip()
    if len(guidance) > MAX_INSTRUCTIONS:
        raise InvalidCommand(f"the instructions are longer than {MAX_INSTRUCTIONS} characters")
    return text, _checked_conversation(conversation), guidance


def _checked_conversation(conversation: Sequence[Turn]) -> tuple[Turn, ...]:
    """The turns as they will be recorded: each the user's or the assistant's, with text."""
    turns = tuple(conversation)
    if len(turns) > MAX_TURNS:
        raise InvalidCommand(f"a conversation brings at most {MAX_TURNS} earlier turns")
    for turn in turns:
        if turn.role not in TURN_ROLES:
            raise InvalidCommand(
                f"an earlier turn is the user's or the assistant's, not {turn.role!r}"
            )
        if not turn.content.strip():
            raise InvalidCommand(f"an earlier {turn.role} turn has no text")
    if sum(len(t.content) for t in turns) > MAX_CONVERSATION:
        raise InvalidCommand(f"the earlier turns are longer than {MAX_CONVERSATION} characters")
    return turns
