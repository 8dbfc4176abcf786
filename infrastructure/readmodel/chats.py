"""The `chat_sessions`, `chat_messages`, `usage` and `answer_ratings` read tables: their
projection and queries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from sqlalchemy import Connection, Engine, Select, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
from application.ports import Usage
from domain.chat import ChatSession, Rating
from domain.policy import LOCAL_ACTOR
from domain.workspace import DEFAULT_WORKSPACE
from infrastructure.prices import ModelPrice, cost_of
from infrastructure.readmodel.tables import (
    answer_ratings,
    chat_messages,
    chat_sessions,
    usage,
    workflows,
)
from infrastructure.readmodel.tracking import SqlTrackingView
from infrastructure.readmodel.workflows import aware


class ChatsProjection(Projection[SqlTrackingView]):
    name = "chats"
    tables = (chat_sessions, chat_messages, usage, answer_ratings)

    def __init__(self, view: SqlTrackingView, prices: Mapping[str, ModelPrice]) -> None:
        super().__init__(view)
        self.prices = prices

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)  # not ours: only the position moves

    @process_event.register
    def _started(self, e: ChatSession.ChatStarted, tracking: Tracking) -> None:
        with self.view.transaction(tracking) as conn:
            conn.execute(
                insert(chat_sessions).values(
                    id=e.originator_id,
                    workflow_id=e.workflow_id,
                    published_version=e.published_version,
                    draft=e.draft,
                    created_at=e.timestamp,
                    updated_at=e.timestamp,
                    message_count=0,
                    waiting=0,
                    last_actor=e.actor,
                    author=e.actor,
                )
            )

    @process_event.register
    def _asked(self, e: ChatSession.UserAsked, tracking: Tracking) -> None:
        with self.view.transaction(tracking) as conn:
            _add_message(conn, e, "USER", "pending")
            _touch(conn, e, messages=1, waiting=1)

    @process_event.register
    def _answered(self, e: ChatSession.AssistantAnswered, tracking: Tracking) -> None:
        tokens = Usage(**e.usage)
        with self.view.transaction(tracking) as conn:
            _add_message(
                conn,
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
            _settle(conn, e.question_id, "answered")
            workflow_id = _touch(conn, e, messages=1, waiting=-1)
            self._count_usage(conn, workflow_id, e, tokens)

    @process_event.register
    def _failed(self, e: ChatSession.AnswerFailed, tracking: Tracking) -> None:
        with self.view.transaction(tracking) as conn:
            _settle(
                conn,
                e.question_id,
                "failed",
                e.code,
                e.message,
                workflow_version=e.workflow_version,
                published_version=e.published_version,
            )
            _touch(conn, e, messages=0, waiting=-1)

    @process_event.register
    def _rated(self, e: ChatSession.AnswerRated, tracking: Tracking) -> None:
        r = answer_ratings.c
        with self.view.transaction(tracking) as conn:
            conn.execute(delete(answer_ratings).where(r.message_id == e.message_id))
            if e.rating is None:
                return  # withdrawn
            workflow_id = conn.execute(
                select(chat_sessions.c.workflow_id).where(chat_sessions.c.id == e.originator_id)
            ).scalar_one()
            conn.execute(
                insert(answer_ratings).values(
                    message_id=e.message_id,
                    session_id=e.originator_id,
                    workflow_id=workflow_id,
                    rating=e.rating,
                    note=e.note,
                    actor=e.actor,
                    rated_at=e.timestamp,
                )
            )

    def _count_usage(
        self, conn: Connection, workflow_id: UUID, e: ChatSession.AssistantAnswered, tokens: Usage
    ) -> None:
        model = (e.model or "unknown")[:200]
        cost = cost_of(self.prices, model, tokens)
        upsert = (sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert)(usage)
        u = usage.c
        conn.execute(
            upsert.values(
                workflow_id=workflow_id,
                day=aware(e.timestamp).astimezone(UTC).date(),
                model=model,
                answers=1,
                prompt_tokens=tokens.prompt_tokens,
                completion_tokens=tokens.completion_tokens,
                cost_usd=cost,
            ).on_conflict_do_update(
                index_elements=[u.workflow_id, u.day, u.model],
                set_={
                    "answers": u.answers + 1,
                    "prompt_tokens": u.prompt_tokens + tokens.prompt_tokens,
                    "completion_tokens": u.completion_tokens + tokens.completion_tokens,
                    # null + anything stays null: a bucket is priced whole or not at all
                    "cost_usd": u.cost_usd + cost if cost is not None else None,
                },
            )
        )

    def forget(self) -> None:
        pass  # keeps nothing between events


def _add_message(conn: Connection, e: Any, role: str, status: str, **details: Any) -> None:
    """The message an asked or answered event carries, as the row `seq` = its version."""
    row = {"sources": [], "web_sources": [], **details}
    conn.execute(
        insert(chat_messages).values(
            id=e.message_id,
            session_id=e.originator_id,
            seq=e.originator_version,
            role=role,
            content=e.content,
            created_at=e.timestamp,
            status=status,
            **row,
        )
    )


def _touch(conn: Connection, e: Any, messages: int, waiting: int) -> UUID:
    s = chat_sessions.c
    workflow_id: UUID = conn.execute(
        update(chat_sessions)
        .where(s.id == e.originator_id)
        .values(
            updated_at=e.timestamp,
            message_count=s.message_count + messages,
            waiting=s.waiting + waiting,
            last_actor=e.actor,
        )
        .returning(s.workflow_id)
    ).scalar_one()
    return workflow_id


def _settle(
    conn: Connection,
    question_id: UUID,
    status: str,
    code: str | None = None,
    error: str = "",
    **failed_by: int | None,
) -> None:
    """Marks a question answered or failed; a failed one keeps the versions that failed it."""
    conn.execute(
        update(chat_messages)
        .where(chat_messages.c.id == question_id)
        .values(status=status, error_code=code, error_message=error or None, **failed_by)
    )


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
