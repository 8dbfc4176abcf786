"""A projection applies a page of events in one transaction: the page's rows and its tracking
position commit together or not at all, and the rows are those that applying the events
one at a time gives, wherever the pages begin and end."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.exc import NoResultFound

from domain.chat import AnsweredBy, ChatSession, Rating
from infrastructure.readmodel import runner
from infrastructure.readmodel.chats import ChatsProjection
from infrastructure.readmodel.runner import ProjectionWorker
from infrastructure.readmodel.tables import answer_ratings, chat_messages, chat_sessions, usage
from infrastructure.readmodel.tracking import SqlTrackingView
from infrastructure.settings import Settings
from interfaces.bootstrap import Services, bootstrap

PRICED, UNPRICED = "gpt-4o-mini", "a-model-with-no-price"


class Dying(BaseException):
    """Stands for the process dying: no `except Exception` of ours catches it."""


class DyingView(SqlTrackingView):
    """Writes a batch's rows, then dies before its commit, once."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.die = True

    @contextmanager
    def batch(self, until: int | None = None) -> Iterator[None]:
        with super().batch(until):
            yield
            if self.die:
                self.die = False
                assert self._batch is not None
                self._batch.flush()  # the page's rows are in the transaction…
                raise Dying  # …and the process dies before it commits


def chat_history(services: Services, rng: random.Random, sessions: int = 6) -> None:
    """Sessions of two stacks with questions, answers (priced and not), failures, ratings
    changed and withdrawn, saved a few events at a time as the services save them."""
    stacks = [uuid.uuid4(), uuid.uuid4()]
    for _ in range(sessions):
        chat = ChatSession.start(rng.choice(stacks), rng.choice([None, 1]), "ann@example.com")
        services.event_log.save(chat)
        answers: list[uuid.UUID] = []
        for turn in range(rng.randint(1, 4)):
            question = uuid.uuid4()
            chat.ask(question, f"question {turn}?", "ann@example.com")
            if rng.random() < 0.5:
                services.event_log.save(chat)
            if rng.random() < 0.25:
                chat.fail(question, "PROVIDER_ERROR", "the model is away", "system", AnsweredBy(3))
            else:
                model = rng.choice([PRICED, UNPRICED])
                tokens = {"prompt_tokens": rng.randint(1, 500), "completion_tokens": 7}
                answers.append(chat.answer(question, "an answer", [], model, tokens, 40, "system"))
            services.event_log.save(chat)
        for answer in answers:
            for rating in rng.sample([Rating.UP, Rating.DOWN, None], k=rng.randint(0, 2)):
                chat.rate(answer, rating, "a note" if rating else "", "bob@example.com")
        services.event_log.save(chat)


def chat_rows(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the chats projection, in order; costs to 9 places (a page adds its
    answers' costs up before adding them to the row: floats added in another order)."""
    tables = (chat_sessions, chat_messages, usage, answer_ratings)

    def plain(row: Any) -> tuple[Any, ...]:
        return tuple(round(v, 9) if isinstance(v, float) else v for v in row)

    with services.read_db.connect() as conn:
        return {
            t.name: sorted(
                (plain(r) for r in conn.execute(select(t))), key=lambda r: [str(v) for v in r]
            )
            for t in tables
        }


def chats_worker(services: Services, view: SqlTrackingView | None = None) -> ProjectionWorker:
    projection = ChatsProjection(view or SqlTrackingView(services.read_db, "chats"), {})
    projection.prices = services.worker("chats").projection.prices  # type: ignore[attr-defined]
    return ProjectionWorker(services.event_log, projection, services.watcher)


def start_over(worker: ProjectionWorker) -> None:
    """Empty tables at position 0, as a rebuild begins."""
    view = worker.projection.view
    with view.engine.begin() as conn:
        view.reset(conn)
        for table in worker.projection.tables:
            conn.execute(delete(table))
    worker.projection.forget()


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    made = bootstrap(settings)  # not started: the tests drive the workers
    try:
        yield made
    finally:
        made.stop()


def test_a_page_dying_before_its_commit_leaves_neither_rows_nor_position(
    services: Services,
) -> None:
    chat_history(services, random.Random(1))
    last = services.event_log.max_notification_id()
    worker = chats_worker(services)
    assert worker.catch_up(limit=3) == 3
    before = chat_rows(services)
    assert before["chat_sessions"]

    dying = chats_worker(services, DyingView(services.read_db, "chats"))
    with pytest.raises(Dying):
        dying.catch_up()
    assert dying.position == 3  # where the last commit left it
    assert chat_rows(services) == before  # none of the dead page's rows

    assert dying.catch_up() == last - 3  # started again from the committed position
    assert dying.position == last
    assert dying.catch_up() == 0
    applied = chat_rows(services)
    assert sum(1 for m in applied["chat_messages"]) > 0

    worker.rebuild()
    assert chat_rows(services) == applied


def test_a_page_that_fails_goes_again_one_event_at_a_time(services: Services) -> None:
    """An event that cannot be applied fails its page: the page is rolled back and applied
    event by event, so everything before the failing event is kept and tracked."""
    orphan = ChatSession.start(uuid.uuid4(), None, "ann@example.com")
    services.event_log.save(orphan)
    worker = chats_worker(services)
    worker.catch_up()
    with services.read_db.begin() as conn:  # the row its next event updates is gone
        conn.execute(delete(chat_sessions).where(chat_sessions.c.id == orphan.id))
    chat_history(services, random.Random(2), sessions=2)
    before_it = services.event_log.max_notification_id()
    orphan.ask(uuid.uuid4(), "lost?", "ann@example.com")
    services.event_log.save(orphan)
    chat_history(services, random.Random(3), sessions=1)

    with pytest.raises(NoResultFound, match="chat sessions not found"):
        worker.catch_up()
    assert worker.position == before_it  # the events before it are applied; it is not
    with services.read_db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(chat_sessions)).scalar() == 2


def test_a_page_cut_short_by_time_tracks_the_last_event_it_applied(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat_history(services, random.Random(3), sessions=2)
    last = services.event_log.max_notification_id()
    monkeypatch.setattr(runner, "BATCH_SECONDS", 0.0)  # every page ends after one event
    worker = chats_worker(services)
    page = services.event_log.recorder.select_notifications(start=1, limit=10)
    assert worker._apply_page(page) == 1
    assert worker.position == 1
    assert worker.catch_up() == last - 1
    assert worker.position == last


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@hypothesis_settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**16), pages=st.lists(st.integers(1, 40), min_size=1, max_size=8))
def test_pages_anywhere_give_the_rows_of_one_event_at_a_time(
    settings: Settings, seed: int, pages: list[int]
) -> None:
    services = bootstrap(settings)
    try:
        chat_history(services, random.Random(seed), sessions=3)
        one_by_one = chats_worker(services)
        one_by_one._batched = False
        one_by_one.rebuild()
        expected = chat_rows(services)

        batched = chats_worker(services)
        batched.rebuild()
        assert chat_rows(services) == expected
        start_over(batched)  # again, in pages of the drawn sizes
        for size in pages:
            batched.catch_up(limit=size)
        batched.catch_up()
        assert chat_rows(services) == expected
    finally:
        services.stop()
