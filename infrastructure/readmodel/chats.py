"""The `chat_sessions`, `chat_messages`, `usage` and `answer_ratings` read tables: their
projection and queries."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, date
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from sqlalchemy import (
    Connection,
    Engine,
    Select,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import aliased

from application.account.budgets import MonthUse
from application.chat.views import (
    AnswerFeedbackView,
    ChatMessageView,
    ChatSessionView,
    FeedbackView,
    RatedAnswerView,
    UsageView,
    passage_of,
    web_source_of,
)
from application.eventlog.log import EventLog
from application.ports import Usage
from domain.chat import ChatSession, Rating
from domain.policy import LOCAL_ACTOR
from domain.workspace import DEFAULT_WORKSPACE
from infrastructure.prices import ModelPrice, cost_of
from infrastructure.readmodel.bulk import insert_rows
from infrastructure.readmodel.tables import (
    answer_ratings,
    chat_messages,
    chat_sessions,
    usage,
    workflows,
)
from infrastructure.readmodel.tracking import SqlTrackingView
from infrastructure.readmodel.workflows import aware

STACKS_CACHE_SIZE = 100_000  # sessions whose stack the projection keeps in memory


class ChatsProjection(Projection[SqlTrackingView]):
    """Each event's changes are gathered in its transaction's `ChatWrites` and written at
    once before it commits: in a page of events (a batch), a few statements for the whole
    page instead of several per event."""

    name = "chats"
    tables = (chat_sessions, chat_messages, usage, answer_ratings)
    batched = True  # writes only through its view: a page of events is one transaction

    def __init__(self, view: SqlTrackingView, prices: Mapping[str, ModelPrice]) -> None:
        super().__init__(view)
        self.prices = prices
        # each session's stack, as its row says (it never changes): asked of the table once
        self._stacks: OrderedDict[UUID, UUID] = OrderedDict()

    def _writes(self) -> ChatWrites:
        writes = self.view.buffer(ChatWrites)
        writes.stacks = self._stacks
        return writes

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)  # not ours: only the position moves

    @process_event.register
    def _started(self, e: ChatSession.ChatStarted, tracking: Tracking) -> None:
        with self.view.transaction(tracking):
            self._writes().start(
                {
                    "id": e.originator_id,
                    "workflow_id": e.workflow_id,
                    "published_version": e.published_version,
                    "draft": e.draft,
                    "created_at": e.timestamp,
                    "updated_at": e.timestamp,
                    "message_count": 0,
                    "waiting": 0,
                    "last_actor": e.actor,
                    "author": e.actor,
                }
            )

    @process_event.register
    def _asked(self, e: ChatSession.UserAsked, tracking: Tracking) -> None:
        with self.view.transaction(tracking):
            writes = self._writes()
            writes.add_message(_message(e, "USER", "pending"))
            writes.touch(e, messages=1, waiting=1)

    @process_event.register
    def _answered(self, e: ChatSession.AssistantAnswered, tracking: Tracking) -> None:
        tokens = Usage(**e.usage)
        with self.view.transaction(tracking):
            writes = self._writes()
            writes.add_message(
                _message(
                    e,
                    "ASSISTANT",
                    "answered",
                    sources=e.sources,
                    web_sources=e.web_sources,
                    reply_to=e.question_id,
                    model=e.model,
                    prompt_tokens=tokens.prompt_tokens,
                    completion_tokens=tokens.completion_tokens,
                    latency_ms=e.latency_ms,
                    workflow_version=e.workflow_version,
                    published_version=e.published_version,
                )
            )
            writes.settle(e.question_id, {"status": "answered"})
            writes.touch(e, messages=1, waiting=-1)
            model = (e.model or "unknown")[:200]
            writes.count_usage(
                (
                    writes.workflow_of(e.originator_id),
                    aware(e.timestamp).astimezone(UTC).date(),
                    model,
                ),
                tokens,
                cost_of(self.prices, model, tokens),
            )

    @process_event.register
    def _failed(self, e: ChatSession.AnswerFailed, tracking: Tracking) -> None:
        with self.view.transaction(tracking):
            writes = self._writes()
            writes.settle(
                e.question_id,
                {
                    "status": "failed",
                    "error_code": e.code,
                    "error_message": e.message or None,
                    "workflow_version": e.workflow_version,
                    "published_version": e.published_version,
                },
            )
            writes.touch(e, messages=0, waiting=-1)

    @process_event.register
    def _rated(self, e: ChatSession.AnswerRated, tracking: Tracking) -> None:
        with self.view.transaction(tracking):
            writes = self._writes()
            writes.rate(
                e.message_id,
                None
                if e.rating is None  # withdrawn
                else {
                    "message_id": e.message_id,
                    "session_id": e.originator_id,
                    "workflow_id": writes.workflow_of(e.originator_id),
                    "rating": e.rating,
                    "note": e.note,
                    "actor": e.actor,
                    "rated_at": e.timestamp,
                },
            )

    def forget(self) -> None:
        self._stacks.clear()  # a rolled-back page's sessions may hold no row

    def rebuild_in_database(self, conn: Connection, log: EventLog, last: int) -> None:
        """Fills the emptied tables from the log's events up to notification `last` in SQL,
        on the database's side, in the caller's transaction (PostgreSQL only): the rows
        these handlers make, set-based (`chats_in_database`). Raises
        InDatabaseRebuildRefused when the log holds what only they apply the same way."""
        from infrastructure.readmodel import chats_in_database

        chats_in_database.rebuild(conn, log, last, self.prices)


def _message(e: Any, role: str, status: str, **details: Any) -> dict[str, Any]:
    """The message an asked or answered event carries, as the row `seq` = its version."""
    row: dict[str, Any] = {
        "id": e.message_id,
        "session_id": e.originator_id,
        "seq": e.originator_version,
        "role": role,
        "content": e.content,
        "created_at": e.timestamp,
        "status": status,
        "sources": [],
        "web_sources": [],
        "reply_to": None,
        "model": None,
        "prompt_tokens": None,
        "completion_tokens": None,
        "latency_ms": None,
        "error_code": None,
        "error_message": None,
        "workflow_version": None,
        "published_version": None,
    }
    row.update(details)
    return row


def _bound(row: dict[str, Any], **more: Any) -> dict[str, Any]:
    """A row's values under the names of their bound parameters (`b_` and the column's:
    a column's own name is SQLAlchemy's, in an UPDATE's SET)."""
    return {f"b_{k}": v for k, v in row.items()} | more


class ChatWrites:
    """The changes of one transaction's chat events, gathered, then written in a few
    statements (`flush`), each row once: a message answered in the same page is inserted
    answered, a session's counters add up, usage adds up per bucket, a rating's last word
    wins. The result is the same as applying the events one by one; a change that finds no
    row to change (a session whose start could not be applied) fails the transaction, as
    it did one event at a time."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sessions: dict[UUID, dict[str, Any]] = {}  # new rows
        self.messages: dict[UUID, dict[str, Any]] = {}  # new rows
        self.settled: dict[UUID, dict[str, Any]] = {}  # of earlier questions
        self.touched: dict[UUID, dict[str, Any]] = {}  # of earlier sessions
        self.usage: dict[tuple[UUID, date, str], list[Any]] = {}
        self.ratings: dict[UUID, dict[str, Any] | None] = {}  # None: withdrawn
        self.workflows: dict[UUID, UUID] = {}  # session → its stack, in this transaction
        self.stacks: OrderedDict[UUID, UUID] = OrderedDict()  # the projection's, committed

    def start(self, row: dict[str, Any]) -> None:
        self.sessions[row["id"]] = row
        self.workflows[row["id"]] = row["workflow_id"]

    def add_message(self, row: dict[str, Any]) -> None:
        self.messages[row["id"]] = row

    def settle(self, question_id: UUID, values: dict[str, Any]) -> None:
        """Marks a question answered or failed; a failed one keeps the versions that failed it."""
        row = self.messages.get(question_id)
        if row is not None:
            row.update(values)
        else:
            self.settled.setdefault(question_id, {}).update(values)

    def touch(self, e: Any, messages: int, waiting: int) -> None:
        row = self.sessions.get(e.originator_id)
        if row is None:
            row = self.touched.setdefault(e.originator_id, {"message_count": 0, "waiting": 0})
        row["message_count"] += messages
        row["waiting"] += waiting
        row["updated_at"], row["last_actor"] = e.timestamp, e.actor

    def count_usage(self, key: tuple[UUID, date, str], tokens: Usage, cost: float | None) -> None:
        """Adds an answer to its bucket; a bucket is priced whole or not at all."""
        bucket = self.usage.setdefault(key, [0, 0, 0, 0.0])
        bucket[0] += 1
        bucket[1] += tokens.prompt_tokens
        bucket[2] += tokens.completion_tokens
        bucket[3] = None if cost is None or bucket[3] is None else bucket[3] + cost

    def rate(self, message_id: UUID, row: dict[str, Any] | None) -> None:
        self.ratings[message_id] = row

    def workflow_of(self, session_id: UUID) -> UUID:
        found = self.workflows.get(session_id) or self.stacks.get(session_id)
        if found is None:
            found = self.conn.execute(
                select(chat_sessions.c.workflow_id).where(chat_sessions.c.id == session_id)
            ).scalar_one()
            self.workflows[session_id] = found
        return found

    def flush(self) -> None:
        conn = self.conn
        insert_rows(conn, chat_sessions, list(self.sessions.values()))
        insert_rows(conn, chat_messages, list(self.messages.values()))
        self._update_sessions()
        self._update_messages()
        self._add_usage()
        self._write_ratings()
        for session_id, workflow_id in self.workflows.items():  # kept for later pages
            self.stacks[session_id] = workflow_id
            self.stacks.move_to_end(session_id)
        while len(self.stacks) > STACKS_CACHE_SIZE:
            self.stacks.popitem(last=False)

    def _update_sessions(self) -> None:
        if not self.touched:
            return
        s = chat_sessions.c
        moved = self.conn.execute(
            update(chat_sessions)
            .where(s.id == bindparam("b_id"))
            .values(
                updated_at=bindparam("b_updated_at"),
                last_actor=bindparam("b_last_actor"),
                message_count=s.message_count + bindparam("b_message_count"),
                waiting=s.waiting + bindparam("b_waiting"),
            ),
            [_bound(row, b_id=sid) for sid, row in self.touched.items()],
        )
        if moved.rowcount != len(self.touched):
            raise NoResultFound(f"{len(self.touched) - moved.rowcount} chat sessions not found")

    def _update_messages(self) -> None:
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for question_id, values in self.settled.items():
            full = {"error_code": None, "error_message": None, **values}
            by_columns.setdefault(tuple(sorted(full)), []).append(_bound(full, b_id=question_id))
        for columns, rows in by_columns.items():
            self.conn.execute(
                update(chat_messages)
                .where(chat_messages.c.id == bindparam("b_id"))
                .values({c: bindparam(f"b_{c}") for c in columns}),
                rows,
            )

    def _add_usage(self) -> None:
        u = usage.c
        priced: list[dict[str, Any]] = []
        unpriced: list[dict[str, Any]] = []
        for (workflow_id, day, model), (answers, prompt, completion, cost) in self.usage.items():
            row = {
                "workflow_id": workflow_id,
                "day": day,
                "model": model,
                "answers": answers,
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "cost_usd": cost,
            }
            (unpriced if cost is None else priced).append(row)
        upsert = (sqlite_insert if self.conn.dialect.name == "sqlite" else postgresql_insert)(usage)
        for rows, cost in ((priced, u.cost_usd + upsert.excluded.cost_usd), (unpriced, None)):
            if rows:
                self.conn.execute(
                    upsert.on_conflict_do_update(
                        index_elements=[u.workflow_id, u.day, u.model],
                        set_={
                            "answers": u.answers + upsert.excluded.answers,
                            "prompt_tokens": u.prompt_tokens + upsert.excluded.prompt_tokens,
                            "completion_tokens": u.completion_tokens
                            + upsert.excluded.completion_tokens,
                            # null + anything stays null: priced whole or not at all
                            "cost_usd": cost,
                        },
                    ),
                    rows,
                )

    def _write_ratings(self) -> None:
        if not self.ratings:
            return
        r = answer_ratings.c
        self.conn.execute(delete(answer_ratings).where(r.message_id.in_(list(self.ratings))))
        insert_rows(self.conn, answer_ratings, [r for r in self.ratings.values() if r is not None])


class SqlChatReadModel:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get_session(self, session_id: UUID) -> ChatSessionView | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(chat_sessions).where(chat_sessions.c.id == session_id)
            ).first()
            if row is None:
                return None
            messages = conn.execute(
                _with_ratings()
                .where(chat_messages.c.session_id == session_id)
                .order_by(chat_messages.c.seq)
            ).all()
        return _session(row, [message_view(m) for m in messages])

    def list_sessions(self, workflow_id: UUID) -> list[ChatSessionView]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(chat_sessions)
                .where(chat_sessions.c.workflow_id == workflow_id)
                .order_by(chat_sessions.c.updated_at.desc())
            ).all()
            messages = conn.execute(
                _with_ratings()
                .join(chat_sessions, chat_sessions.c.id == chat_messages.c.session_id)
                .where(chat_sessions.c.workflow_id == workflow_id)
                .order_by(chat_messages.c.session_id, chat_messages.c.seq)
            ).all()
        by_session: dict[UUID, list[ChatMessageView]] = {}
        for m in messages:
            by_session.setdefault(m.session_id, []).append(message_view(m))
        return [_session(r, by_session.get(r.id, [])) for r in rows]

    def usage(self, workflow_id: UUID | None) -> list[UsageView]:
        query = select(usage).order_by(usage.c.day.desc(), usage.c.workflow_id, usage.c.model)
        if workflow_id is not None:
            query = query.where(usage.c.workflow_id == workflow_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            UsageView(
                workflow_id=r.workflow_id,
                day=r.day,
                model=r.model,
                answers=r.answers,
                prompt_tokens=r.prompt_tokens,
                completion_tokens=r.completion_tokens,
                cost_usd=r.cost_usd,
            )
            for r in rows
        ]

    def of_workspace(self, workspace_id: UUID, since: date) -> MonthUse:
        """Tokens and estimated cost of the answers of the workspace's stacks since `since`
        (the stacks' workspace from the workflows table: none, the default one)."""
        u, w = usage.c, workflows.c
        in_workspace = func.coalesce(w.workspace_id, DEFAULT_WORKSPACE) == workspace_id
        query = (
            select(
                func.coalesce(func.sum(u.prompt_tokens + u.completion_tokens), 0),
                func.coalesce(func.sum(u.cost_usd), 0.0),
            )
            .select_from(usage.join(workflows, workflows.c.id == u.workflow_id))
            .where(in_workspace, u.day >= since)
        )
        with self.engine.connect() as conn:
            tokens, cost = conn.execute(query).one()
        return MonthUse(int(tokens), float(cost))

    def feedback(
        self, workflow_id: UUID, author: str | None, offset: int, limit: int
    ) -> FeedbackView:
        r, s = answer_ratings.c, chat_sessions.c
        answer = aliased(chat_messages)
        question = aliased(chat_messages)
        mine = [r.workflow_id == workflow_id]
        if author is not None:
            mine.append(s.author == author)
        with self.engine.connect() as conn:
            counts = dict(
                conn.execute(
                    select(r.rating, func.count())
                    .select_from(answer_ratings.join(chat_sessions, s.id == r.session_id))
                    .where(*mine)
                    .group_by(r.rating)
                ).all()
            )
            rows = conn.execute(
                select(
                    answer_ratings,
                    answer.c.content.label("answer"),
                    answer.c.model,
                    answer.c.published_version,
                    question.c.content.label("question"),
                    question.c.created_at.label("asked_at"),
                )
                .select_from(answer_ratings)
                .join(chat_sessions, s.id == r.session_id)
                .join(answer, answer.c.id == r.message_id)
                .outerjoin(question, question.c.id == answer.c.reply_to)
                .where(*mine, r.rating == Rating.DOWN.value)
                .order_by(r.rated_at.desc(), r.message_id)
                .offset(offset)
                .limit(limit)
            ).all()
        return FeedbackView(
            up=int(counts.get(Rating.UP.value, 0)),
            down=int(counts.get(Rating.DOWN.value, 0)),
            rated_down=tuple(
                RatedAnswerView(
                    feedback=_feedback(row),
                    question=row.question or "",
                    answer=row.answer,
                    asked_at=aware(row.asked_at) if row.asked_at else None,
                    model=row.model,
                    published_version=row.published_version,
                )
                for row in rows
            ),
            offset=offset,
        )

    def sessions_waiting(self) -> list[UUID]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(select(chat_sessions.c.id).where(chat_sessions.c.waiting > 0))
                .scalars()
                .all()
            )


def _session(row: Any, messages: list[ChatMessageView]) -> ChatSessionView:
    return ChatSessionView(
        id=row.id,
        workflow_id=row.workflow_id,
        published_version=row.published_version,
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
        messages=tuple(messages),
        draft=row.draft,
        author=row.author or LOCAL_ACTOR,
    )


def _with_ratings() -> Select[Any]:
    """Messages with their answer's rating, if it has one."""
    r = answer_ratings.c
    return select(
        chat_messages,
        r.message_id.label("rated_id"),
        r.rating,
        r.note,
        r.actor.label("rated_by"),
        r.rated_at,
    ).outerjoin(answer_ratings, r.message_id == chat_messages.c.id)


def _feedback(row: Any) -> AnswerFeedbackView:
    return AnswerFeedbackView(
        message_id=row.message_id,
        session_id=row.session_id,
        rating=Rating(row.rating),
        note=row.note,
        actor=row.actor,
        rated_at=aware(row.rated_at),
    )


def message_view(row: Any) -> ChatMessageView:
    has_usage = row.prompt_tokens is not None or row.completion_tokens is not None
    return ChatMessageView(
        id=row.id,
        session_id=row.session_id,
        role=row.role,
        content=row.content,
        created_at=aware(row.created_at),
        sources=tuple(passage_of(s) for s in row.sources or []),
        reply_to=row.reply_to,
        model=row.model,
        usage=Usage(row.prompt_tokens or 0, row.completion_tokens or 0) if has_usage else None,
        latency_ms=row.latency_ms,
        status=row.status,
        error_code=row.error_code,
        error_message=row.error_message,
        web_sources=tuple(web_source_of(w) for w in row.web_sources or []),
        workflow_version=row.workflow_version,
        published_version=row.published_version,
        feedback=_rating_of(row),
    )


def _rating_of(row: Any) -> AnswerFeedbackView | None:
    mapping = row._mapping
    if mapping.get("rated_id") is None:
        return None
    return AnswerFeedbackView(
        message_id=row.id,
        session_id=row.session_id,
        rating=Rating(row.rating),
        note=row.note,
        actor=row.rated_by,
        rated_at=aware(row.rated_at),
    )
