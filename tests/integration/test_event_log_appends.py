"""The event log's PostgreSQL recorder (`infrastructure.postgres_log`): a save is one
statement, and the log keeps the library's guarantees — notification ids increase in commit
order (a reader following the log never passes over one filled in later), a failed save leaves
nothing behind, and every save sends the NOTIFY that wakes followers in other processes."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from application.eventlog.log import EventLog
from domain.chat import ChatSession
from infrastructure.postgres_log import OneTripRecorder
from infrastructure.settings import Settings
from tests.conftest import make_settings

WRITERS, SAVES = 3, 40


@pytest.fixture
def pg_settings(tmp_path: Path, postgres_url: str) -> Settings:
    return make_settings(tmp_path / "data", postgres_url)


@pytest.fixture
def store(pg_settings: Settings) -> Iterator[EventLog]:
    log = EventLog(env=pg_settings.event_store_env())
    yield log
    log.close()


def session() -> ChatSession:
    return ChatSession.start(uuid.uuid4(), 1, "someone@example.com")


def ask(s: ChatSession, n: int = 1) -> ChatSession:
    for i in range(n):
        s.ask(uuid.uuid4(), f"question {i}?", "someone@example.com")
    return s


def rows(conninfo: str) -> list[tuple[int, uuid.UUID, int]]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(
            "SELECT notification_id, originator_id, originator_version FROM genai_events "
            "ORDER BY notification_id"
        ).fetchall()


def test_the_event_log_on_postgresql_saves_through_one_statement(store: EventLog) -> None:
    assert type(store.recorder) is OneTripRecorder


def test_a_save_returns_the_ids_it_stored_in_the_order_of_the_events(
    store: EventLog, postgres_url: str
) -> None:
    one = session()
    first = store.save(one)  # one event
    many = store.save(ask(one, 3))  # several at once
    ids = [r.notification.id for r in first + many]
    stored = rows(postgres_url)
    assert [row[0] for row in stored] == ids
    assert [row[2] for row in stored] == [1, 2, 3, 4]  # versions in id order
    assert store.max_notification_id() == ids[-1]
    loaded: ChatSession = store.repository.get(one.id)
    assert loaded.version == 4 and type(loaded) is ChatSession
    assert [n.id for n in store.recorder.select_notifications(start=ids[1], limit=2)] == ids[1:3]


def test_a_failed_save_leaves_nothing_behind_and_the_log_goes_on(
    store: EventLog, postgres_url: str
) -> None:
    original = session()
    store.save(original)
    rival: ChatSession = store.repository.get(original.id)
    store.save(ask(rival))  # version 2 is taken
    before = rows(postgres_url)

    with pytest.raises(IntegrityError):
        store.save(ask(original, 3))  # versions 2 (clashes), 3 and 4: none may stay
    with pytest.raises(IntegrityError):
        store.save(ask(store.repository.get(original.id, version=1)))  # one event, clashing

    assert rows(postgres_url) == before
    after = store.save(ask(store.repository.get(original.id)))  # the lock was released
    assert after[0].notification.id > before[-1][0]
    assert [r[2] for r in rows(postgres_url) if r[1] == original.id] == [1, 2, 3]


def test_a_save_waits_for_an_append_in_flight_so_no_reader_passes_over_it(
    store: EventLog, postgres_url: str
) -> None:
    """An append whose transaction is still open holds the table lock: a later save waits
    for it, so the later id is never visible while the earlier one is not."""
    early, late = session(), session()
    with psycopg.connect(postgres_url) as held:  # a transaction left open
        row = held.execute(
            "SELECT genai_events_append_one(%s, 1, %s, %s)",
            (early.id, "domain.chat:ChatSession.Started", b"{}"),
        ).fetchone()
        assert row is not None
        first = row[0]
        saved: list[int] = []
        saving = threading.Thread(target=lambda: saved.append(_save(store, late)))
        saving.start()
        _until_waiting_on_the_lock(postgres_url, saving)

        assert store.recorder.select_notifications(start=1, limit=10) == []
        assert saved == []
        held.commit()
    saving.join(10)
    assert saved and saved[0] > first
    seen = store.recorder.select_notifications(start=1, limit=10)
    assert [n.id for n in seen] == [first, saved[0]]


def _save(store: EventLog, s: ChatSession) -> int:
    (recording,) = store.save(s)
    assert recording.notification.id is not None
    return recording.notification.id


def _until_waiting_on_the_lock(conninfo: str, saving: threading.Thread) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for _ in range(1000):
            (waiting,) = conn.execute(
                "SELECT count(*) FROM pg_locks "
                "WHERE NOT granted AND relation = 'genai_events'::regclass"
            ).fetchone() or (0,)
            if waiting or not saving.is_alive():
                return
            time.sleep(0.01)


def test_every_save_notifies_the_log_channel(store: EventLog, postgres_url: str) -> None:
    recorder = store.recorder
    assert isinstance(recorder, OneTripRecorder)
    with psycopg.connect(postgres_url, autocommit=True) as listener:
        listener.execute(f'LISTEN "{recorder.channel_name}"')
        store.save(session())
        notes = list(listener.notifies(timeout=10, stop_after=1))
    assert [n.channel for n in notes] == [recorder.channel_name]


def _writer(env: dict[str, str], saves: int, start: multiprocessing.synchronize.Event) -> None:
    log = EventLog(env=env)
    sessions = [session() for _ in range(4)]
    start.wait(30)
    for n in range(saves):
        s = sessions[n % len(sessions)]
        log.save(ask(s, 1 + n % 3) if n >= len(sessions) else s)
    log.close()


def test_writers_in_several_processes_give_ids_in_commit_order_to_a_reader_following(
    pg_settings: Settings, store: EventLog, postgres_url: str
) -> None:
    """A reader that tails the log while several processes save (one or several events a
    save) sees every event exactly once, in order, without a gap: it never moved past an
    id that was filled in after it read."""
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Event()
    env = pg_settings.event_store_env()
    writers = [spawn.Process(target=_writer, args=(env, SAVES, start)) for _ in range(WRITERS)]
    for w in writers:
        w.start()
    seen: list[int] = []
    start.set()
    while any(w.is_alive() for w in writers) or _tail(store, seen):
        _tail(store, seen)
    for w in writers:
        w.join(30)
        assert w.exitcode == 0

    stored = rows(postgres_url)
    assert seen == [row[0] for row in stored]
    assert seen == list(range(1, len(seen) + 1))  # nothing failed, so no id was skipped
    events_per_writer = 4 + sum(1 + n % 3 for n in range(4, SAVES))
    assert len(stored) == WRITERS * events_per_writer
    versions: dict[uuid.UUID, list[int]] = {}
    for _, originator, version in stored:
        versions.setdefault(originator, []).append(version)
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())


def _tail(store: EventLog, seen: list[int]) -> int:
    page = store.recorder.select_notifications(start=(seen[-1] if seen else 0) + 1, limit=50)
    seen.extend(n.id for n in page)
    return len(page)


def test_a_save_after_the_append_connection_broke_goes_through_another(
    store: EventLog, postgres_url: str
) -> None:
    """Appends go through one connection the recorder keeps; when the server drops it, the
    save is tried again on a fresh one from the pool, and nothing is stored twice."""
    first = session()
    store.save(first)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        (killed,) = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query LIKE %s AND pid <> pg_backend_pid()",
            ("%genai_events_append_one%",),
        ).fetchone() or (False,)
        assert killed
    second = session()
    store.save(second)
    assert [r[1] for r in rows(postgres_url)] == [first.id, second.id]
    recorder = store.recorder
    assert isinstance(recorder, OneTripRecorder)
    pool = recorder.datastore.pool
    available = pool.get_stats()["pool_available"]
    recorder.close()  # as the event log closes: the connection goes back to its pool
    assert pool.get_stats()["pool_available"] == available + 1
