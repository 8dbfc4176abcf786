"""Rebuilding read models from the whole log in one pass (`genai-stack projections rebuild`).

The log is read once, in large pages, by a thread of its own that also decodes each event
once (only when some projection handles it); each projection that writes only through its
view (`batched`) applies a page in one transaction of its own, with the position of the
page's last event, exactly as when it follows the log (`ProjectionWorker._apply_page`),
only with no time limit on a page. While one page is written, the next is read and decoded:
the database works on the writes while Python decodes. A page that fails in a projection
goes again one event at a time there, where an event that cannot be applied is recorded and
gone past at once (the rebuild runs alone).

On PostgreSQL a batched projection may instead be rebuilt by the database itself, in SQL
over the events table (`rebuild_in_database`, see `in_database`): no event crosses into
Python, which could not decode and apply a million events in half the time a raw read of
them takes. Those rebuilds run on connections of their own, in threads, while the Python
pass runs for the other projections (the database does their work: the GIL is free). A
projection whose log holds what only its Python path applies the same way (a state the
database's JSON refuses, an event its Python path cannot apply) refuses, and is rebuilt by
a Python pass after.

On PostgreSQL, when the pass's projections handle under half of the log's events (as when
the chats and the audit log are rebuilt by the database: the others handle a few hundred
of a million), the pass reads of the log, up to its last event as it stood when the pass
began, only the events of their topics, by topic in SQL, and then that last event, so that
every position ends where a pass over every event would leave it (`_narrowed`).

Projections that act rather than write (the ingestion) are rebuilt after the pass, each on
its own, while the database may still be rebuilding its read models, reading of the part
of the log the pass read only the events of the topics they handle.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
import structlog
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier
from sqlalchemy import Connection, text, update
from sqlalchemy.exc import DBAPIError

from application.eventlog.log import EventLog
from infrastructure.readmodel import failures
from infrastructure.readmodel.runner import LogRead
from infrastructure.readmodel.tables import projection_tracking

if TYPE_CHECKING:
    from infrastructure.readmodel.runner import ProjectionWorker

log = structlog.get_logger(__name__)

PAGE = 5000  # events in a rebuild's page: one transaction per projection and page
AHEAD = 2  # pages read and decoded ahead of the one being written

IN_DATABASE, PYTHON = "in_database", "python"  # the path a projection's rebuild took
# Tries of an in-database rebuild whose first statement met a follower's commit (the row it
# resets was changed after its snapshot was taken): each costs a round trip, and a follower
# of a busy log holds the row for most of its time.
SERIALIZATION_TRIES = 20

_END = object()


class InDatabaseRebuildRefused(Exception):
    """Raised by a projection's `rebuild_in_database`: the log holds what only its Python
    path applies the same way (an event it cannot apply, recorded as a failure there; a
    value it reads otherwise). The rebuild's transaction is rolled back and the projection
    goes through the Python pass."""


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def replay(
    store: EventLog,
    workers: Sequence[ProjectionWorker],
    read: LogRead | None = None,
    paths: dict[str, str] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> dict[str, int]:
    """Empties the batched workers' read models and replays the whole log into them: in the
    database those that can (`in_database`, in threads), the others in one Python pass
    meanwhile, then in a second pass those the database refused; how many events each moved
    past. `read`: filled with what the first Python pass read (nothing when none ran);
    `paths`: filled with the path each worker took (IN_DATABASE or PYTHON); `meanwhile`:
    called once that pass is over, while the database may still be rebuilding."""
    paths = {} if paths is None else paths
    inside = [w for w in workers if can_rebuild_in_database(w)]
    counts: dict[str, int] = {}
    with ThreadPoolExecutor(max(1, len(inside)), thread_name_prefix="rebuild-sql") as pool:
        running: list[tuple[ProjectionWorker, Future[int | None]]] = [
            (w, pool.submit(in_database, w)) for w in inside
        ]
        rest = [w for w in workers if w not in inside]
        if rest:
            counts.update(_python_pass(store, rest, read))
            read = None  # filled: a second pass reads for itself
        if meanwhile is not None:
            meanwhile()
        for worker, done in running:
            count = done.result()
            if count is None:
                rest = [worker]
                counts.update(_python_pass(store, rest, read))
                read = None
            else:
                counts[worker.projection.name] = count
                paths[worker.projection.name] = IN_DATABASE
    for worker in workers:
        paths.setdefault(worker.projection.name, PYTHON)
    return {w.projection.name: counts[w.projection.name] for w in workers}


def can_rebuild_in_database(worker: ProjectionWorker) -> bool:
    """Whether the worker's projection has `rebuild_in_database` and its read tables are in
    the PostgreSQL database that holds the log's events table."""
    projection, store = worker.projection, worker.store
    return (
        worker.batched
        and callable(getattr(projection, "rebuild_in_database", None))
        and projection.view.engine.dialect.name == "postgresql"
        and isinstance(store.recorder, PostgresApplicationRecorder)
    )


def in_database(worker: ProjectionWorker) -> int | None:
    """The worker's projection rebuilt by the database, in one transaction (REPEATABLE READ:
    every statement sees the same log): the position reset first (a follower's transaction
    in flight is waited for, and its next one fails its compare-and-set), failures
    forgotten, the tables emptied, the projection's SQL run up to `last`, the log's last
    notification in that snapshot, and the position set there. How many events the log
    holds up to `last`; None when nothing was changed because the projection refused, a
    value of the log failed a statement (a data error, a constraint), or followers kept
    committing under it: the Python pass rebuilds it then."""
    projection, view, store = worker.projection, worker.projection.view, worker.store
    recorder = store.recorder
    assert isinstance(recorder, PostgresApplicationRecorder)
    events = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
    for _ in range(SERIALIZATION_TRIES):
        try:
            with view.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    view.reset(conn)  # the first statement: its snapshot is every statement's
                    failures.forget(conn, projection.name)
                    _empty(conn, projection.tables)
                    last, count = conn.execute(
                        text(f"SELECT coalesce(max(notification_id), 0), count(*) FROM {events}")
                    ).one()
                    projection.rebuild_in_database(conn, store, last)  # type: ignore[attr-defined]
                    t = projection_tracking.c
                    conn.execute(
                        update(projection_tracking)
                        .where(t.projection == projection.name)
                        .values(notification_id=last)
                    )
        except InDatabaseRebuildRefused as refused:
            log.info("rebuilt in Python", projection=projection.name, reason=str(refused))
            return None
        except DBAPIError as error:
            if isinstance(error.orig, psycopg.errors.SerializationFailure):
                continue  # a follower committed between the snapshot and the reset
            if not isinstance(error.orig, psycopg.DataError | psycopg.IntegrityError):
                raise
            log.info("rebuilt in Python", projection=projection.name, reason=str(error.orig))
            return None
        finally:
            worker.recover()  # the position and the caches: read again from the tables
        return int(count)
    return None


def _empty(conn: Connection, tables: Sequence[Any]) -> None:
    """TRUNCATE rather than DELETE: no row's deletion to write, no dead rows left behind.
    It locks the tables until the rebuild commits (readers wait for the rebuilt rows)."""
    conn.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables)))


@contextmanager
def without_indexes(conn: Connection, tables: Sequence[Any]) -> Iterator[None]:
    """The tables' indexes dropped, in the caller's transaction, and made again as they were
    after the body: an index built once over every row costs a fraction of one kept up row
    by row (a primary key of random UUIDs most of all). A constraint's index (a primary
    key, a unique constraint) goes with its constraint and comes back with it
    (`pg_get_constraintdef`: rows that break it fail there, an IntegrityError, as their
    insertion would have); any other index by `pg_get_indexdef`. A key that a foreign key
    refers to stays. Nothing may rely on them in the body (no ON CONFLICT)."""
    names = [t.name for t in tables]
    found = conn.execute(
        text(
            "SELECT c.relname, i.indexrelid::regclass::text, k.conname, "
            "CASE WHEN k.oid IS NULL THEN pg_get_indexdef(i.indexrelid) "
            "ELSE pg_get_constraintdef(k.oid) END "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = c.oid "
            "WHERE c.relname = ANY(:names) AND c.relnamespace = current_schema()::regnamespace "
            "AND NOT EXISTS (SELECT FROM pg_constraint f WHERE f.contype = 'f' "
            "AND f.conindid = i.indexrelid) "
            "ORDER BY k.oid IS NULL, i.indexrelid"
        ),
        {"names": names},
    ).all()
    for table, index, constraint, _ in found:
        if constraint is None:
            conn.execute(text(f"DROP INDEX {index}"))
        else:
            conn.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{constraint}"'))
    yield
    for table, _, constraint, definition in found:  # the keys first
        if constraint is None:
            conn.execute(text(definition))
        else:
            conn.execute(text(f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint}" {definition}'))


def _python_pass(
    store: EventLog, workers: Sequence[ProjectionWorker], read: LogRead | None
) -> dict[str, int]:
    """The workers' read models emptied and the whole log replayed into them in one pass."""
    for worker in workers:
        assert worker.batched, f"{worker.projection.name} is not rebuilt in pages"
        worker.start_over()
    counts = {w.projection.name: 0 for w in workers}
    with _collecting_per_page() as collect:
        for page in _pages(store, workers, read or LogRead()):
            for worker in workers:
                applied = worker.apply_rebuild_page(page.notifications, page.events)
                # a page applied whole moved the position past every event it stands for
                whole = applied == len(page.notifications)
                counts[worker.projection.name] += page.count if whole else applied
            collect()
    return counts


@contextmanager
def _collecting_per_page() -> Iterator[Any]:
    """Python's collector of reference cycles run once a page, on its young generations,
    instead of every few hundred allocations: a page's events and rows are thousands of
    containers, freed by their reference counts, and each automatic collection walked them
    (and each full one every object the projections' caches hold). Back as it was after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield lambda: gc.collect(1)
    finally:
        if was_enabled:
            gc.enable()


def rebuild_all(
    workers: Sequence[ProjectionWorker], paths: dict[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """Every worker's read model rebuilt: the batched ones together (`replay`), then each of
    the others (their own `rebuild`), in the order given; yields (projection, events).
    The others are rebuilt as soon as the Python pass is over, while the database may still
    be rebuilding its read models (the ingestion reads the documents read model, which the
    pass rebuilds, and waits for its position). `paths`: filled with the path each batched
    worker took (IN_DATABASE or PYTHON)."""
    batched = [w for w in workers if w.batched]
    others = [w for w in workers if not w.batched]
    read = LogRead() if batched else None
    counts: dict[str, int] = {}

    def rebuild_others() -> None:
        for worker in others:
            counts[worker.projection.name] = worker.rebuild(read)

    if batched:
        yield from replay(batched[0].store, batched, read, paths, rebuild_others).items()
    else:
        rebuild_others()
    for worker in others:
        yield worker.projection.name, counts[worker.projection.name]


@dataclass
class _Page:
    """Events of the log in order, decoded where some worker handles them (None where none
    does, or where decoding failed: the worker decodes again and meets the failure itself).
    `count`: how many of the log's events the page stands for, `topics`: their topics (a
    narrowed page passes over events no worker handles)."""

    notifications: Sequence[Any]
    events: list[Any]
    count: int
    topics: Iterable[str]


def _pages(store: EventLog, workers: Sequence[ProjectionWorker], seen: LogRead) -> Iterator[_Page]:
    """The log's pages from its start, read and decoded on a thread ahead of the caller:
    first those `_narrowed` gives (on PostgreSQL, when the workers handle few of the log's
    events), then from after them every event to the end. `seen` has the topics, the last
    notification and the count of the log's events that the caller's pages stood for."""
    ahead: queue.Queue[Any] = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()
    decode = store.mapper.to_domain_event
    wanted: dict[str, bool] = {}

    def handled(topic: str) -> bool:
        known = wanted.get(topic)
        if known is None:
            known = wanted[topic] = any(w.handles(topic) for w in workers)
        return known

    def decoded(n: Any) -> Any:
        if not handled(n.topic):
            return None
        try:
            return decode(n)
        except Exception:
            return None

    def hand_over(notifications: Sequence[Any], count: int, topics: Iterable[str]) -> None:
        page = _Page(notifications, [decoded(n) for n in notifications], count, topics)
        while not stop.is_set():
            try:
                ahead.put(page, timeout=0.5)
                return
            except queue.Full:
                continue

    def read() -> None:
        start = 1
        try:
            for notifications, count, topics in _narrowed(store.recorder, handled):
                hand_over(notifications, count, topics)
                start = notifications[-1].id + 1
            while not stop.is_set():
                notifications = store.recorder.select_notifications(start=start, limit=PAGE)
                if not notifications:
                    break
                hand_over(notifications, len(notifications), {n.topic for n in notifications})
                start = notifications[-1].id + 1
            ahead.put(_END)
        except BaseException as error:  # handed to the caller, raised there
            ahead.put(_Failed(error))

    reader = threading.Thread(target=read, name="rebuild-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = ahead.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            seen.topics.update(item.topics)
            seen.last = item.notifications[-1]
            seen.count += item.count
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # let a reader blocked on a full queue see the stop
            try:
                ahead.get_nowait()
            except queue.Empty:
                reader.join(0.1)


def _narrowed(
    recorder: Any, handled: Callable[[str], bool]
) -> Iterator[tuple[Sequence[Any], int, Iterable[str]]]:
    """Pages of the events of the topics `handled` up to the log's last event as it stands
    now, read by topic in SQL, the last page ending with that last event (whatever its
    topic), so that positions end where pages of every event would end; with each page, how
    many of the log's events it stands for and their topics. Nothing when the log is not
    PostgreSQL's or is empty, or when the handled events are half of it or more (reading
    by topic saves little then, and the library's read by topic makes a dict a row)."""
    if not isinstance(recorder, PostgresApplicationRecorder):
        return
    table = SQL("{}.{}").format(
        Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)
    )
    # one statement, one snapshot, holding every event up to its last (an insert locks the
    # table: no event commits with an id below one committed before it)
    by_topic = SQL("SELECT topic, count(*), max(notification_id) FROM {} GROUP BY topic")
    with recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
        curs.execute(by_topic.format(table))
        counted = {topic: (count, last) for topic, count, last in curs.fetchall()}
    if not counted:
        return
    last = max(last for _, last in counted.values())
    total = sum(count for count, _ in counted.values())
    topics = [t for t in counted if handled(t)]
    if 2 * sum(counted[t][0] for t in topics) >= total:
        return
    start, passed = 1, 0
    page: list[Any] = []
    while topics:
        page = list(recorder.select_notifications(start, PAGE, stop=last, topics=topics))
        if not page or page[-1].id == last:
            break
        passed += len(page)
        yield page, len(page), {n.topic for n in page}
        page, start = [], page[-1].id + 1
    if not page:
        page = list(recorder.select_notifications(last, 1))
    elif page[-1].id != last:
        page.extend(recorder.select_notifications(last, 1))
    yield page, total - passed, counted.keys()
