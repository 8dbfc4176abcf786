"""Figures at scale: retrieval over many chunks, a projection rebuild over many events, one
command's append and a projection's lag under a steady write rate, each against a baseline
measured in the same run.

    python -m bench.scale [--quick] [--chunks 100000] [--events 1000000] [--appends 2000]
                          [--rate 500] [--lag-seconds 10] [--writers 4]
                          [--admin-url postgresql://…]
                          [--durable] [--only retrieval append lag rebuild]

Prints JSON. Needs PostgreSQL (`--admin-url`, default the local server's `postgres`
database): the bench creates a database of its own and drops it afterwards. `--quick` runs
small sizes (well under a minute), for the test that checks the JSON's shape.

- `retrieval`: an embedded Chroma holding `--chunks` chunks of random 384-dimensional
  vectors, in one knowledge base of 100 documents, as ingestion lays them out
  (`chunk_layout`: one partition, i.e. one collection, per knowledge base generation). Our
  path is `closest_answering` (what `Retrieval.retrieve` asks of the index once the question
  is embedded: the partition's closest chunks, those of documents that do not answer set
  aside), with every document answering, and with one of the 100 not answering (being
  indexed); the baseline is chroma's own `collection.query` of the same vector, the same
  request. `chroma_filtered_query_ms` is chroma with the filter naming the answering
  documents: what every query cost before partitions, and our last resort now (20 queries
  at most: each takes seconds at 100k). p50/p95 in milliseconds; goal p50 under 10.
- `rebuild`: the log holds `--events` stored events: 20 stacks (created, edited) and chat
  sessions on them, a few thousand recorded through the real `EventLog`, then the sessions
  copied with fresh ids by COPY (real events of our aggregates, which the projections
  decode and apply like any other). Every read model is rebuilt from position 0 as
  `genai-stack projections rebuild` rebuilds them (`rebuild_all`: workflows, documents,
  chats, workspaces and audit_log in one pass over the log, then the ingestion follower),
  against a raw sequential read of the same table (a psycopg server-side cursor over
  `ORDER BY notification_id`). Events per second of each (the rebuild's: the log's events
  over the whole rebuild), and their ratio (goal: at least 0.5). Then each of the read
  models rebuilt in one pass (`alone`) is rebuilt again on its own (`replay` of its worker
  only): its seconds and ratio to the same raw read, and the path it took (`in_database`:
  PostgreSQL rebuilt it in SQL; `python`: the Python pass).
- `append`: one event (a question asked in a chat session) saved through `EventLog.save`,
  against a raw single-row psycopg INSERT of a row of the same size into a table shaped like
  the log's, one after the other, alternating. Operations per second and ratio (goal: 0.5).
- `lag`: events appended at `--rate` per second for `--lag-seconds` by `--writers`
  processes of their own (as API processes write; each event paced to its own time on the
  shared clock, so pauses do not accumulate), while the `chats` projection follows the log
  in this process, woken by the log's NOTIFY through the process's listener as
  `genai-stack projections run` is. An event is visible when the follower's transaction that
  moved the projection's position past it has committed (noted as the commit returns, which
  costs the follower nothing; a reader polling the tracking row would take a share of the
  two cores from what it measures). Milliseconds from each save's return (the commit is just
  before) to its position being visible: p50, p99, max (goal: p99 under 50 ms).
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import random
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DIMENSIONS = 384
DOCUMENTS = 100
MODEL = "bench/random-384"
EVENTS_TABLE = "genai_events"
_UUID = re.compile(rb"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")

PARTS = ("retrieval", "append", "lag", "rebuild")
FULL = {
    "chunks": 100_000,
    "events": 1_000_000,
    "appends": 2000,
    "rate": 500,
    "lag_seconds": 10,
    "writers": 4,
}
QUICK = {
    "chunks": 1000,
    "events": 2000,
    "appends": 100,
    "rate": 100,
    "lag_seconds": 2,
    "writers": 2,
}


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "p50": round(statistics.median(ms), 3),
        "p95": round(percentile(ms, 0.95), 3),
        "p99": round(percentile(ms, 0.99), 3),
        "max": round(max(ms), 3),
    }


# ---------------------------------------------------------------- retrieval


def bench_retrieval(chunks: int, queries: int = 200) -> dict[str, Any]:
    from application.document.chunk_layout import (
        answering_chunks,
        chunk_id,
        chunk_metadata,
        closest_answering,
        partition,
    )
    from application.ports import IndexedChunk
    from domain.document import DocumentIndex, DocumentStatus
    from domain.knowledge_base import IndexSettings
    from infrastructure.vector_index import ChromaVectorIndex, partition_name, to_where

    rng = random.Random(12)
    workflow_id, node_id = uuid.uuid4(), "kb"
    index = DocumentIndex(
        IndexSettings.of_node({}), request=1, status=DocumentStatus.INDEXED, embedding_model=MODEL
    )
    documents = [(uuid.uuid4(), index) for _ in range(DOCUMENTS)]
    per_document = max(1, chunks // DOCUMENTS)
    own = partition(MODEL, workflow_id, node_id, index.key)

    def vector() -> list[float]:
        return [rng.uniform(-1, 1) for _ in range(DIMENSIONS)]

    with tempfile.TemporaryDirectory(prefix="bench-scale-chroma-") as tmp:
        vectors = ChromaVectorIndex.embedded(Path(tmp))
        started = time.perf_counter()
        for document_id, generation in documents:
            vectors.upsert(
                own,
                [
                    IndexedChunk(
                        id=chunk_id(str(document_id), generation, n),
                        text=f"passage {n} of document {document_id}",
                        embedding=vector(),
                        metadata={
                            "workflow_id": str(workflow_id),
                            "node_id": node_id,
                            "filename": f"{document_id}.pdf",
                            **chunk_metadata(str(document_id), generation, n // 3 + 1, n),
                        },
                    )
                    for n in range(per_document)
                ],
            )
        indexing = time.perf_counter() - started
        collection = vectors._collection(own, False)
        assert collection is not None and collection.name == partition_name(own)
        answering = documents[1:]  # the first one is still being indexed, say
        ours: list[float] = []
        pending: list[float] = []
        raw: list[float] = []
        asked = [vector() for _ in range(queries)]
        for q in asked[:5]:  # warm both paths
            closest_answering(vectors, own, q, 5, documents)
        for q in asked:  # alternating, so the machine's other work weighs on each alike
            t0 = time.perf_counter()
            collection.query(query_embeddings=[q], n_results=5, include=["metadatas", "distances"])
            t1 = time.perf_counter()
            hits = closest_answering(vectors, own, q, 5, documents)
            t2 = time.perf_counter()
            some = closest_answering(vectors, own, q, 5, answering)
            raw.append(t1 - t0)
            ours.append(t2 - t1)
            pending.append(time.perf_counter() - t2)
            assert len(hits) == len(some) == 5
        # What every query cost before partitions, and what the last resort costs: chroma
        # with the filter naming the documents that answer. Seconds each at 100k: fewer.
        where = to_where(answering_chunks(documents))
        filtered = []
        for q in asked[: min(queries, 20)]:
            t0 = time.perf_counter()
            collection.query(
                query_embeddings=[q], n_results=5, where=where, include=["metadatas", "distances"]
            )
            filtered.append(time.perf_counter() - t0)
        count = collection.count()
    return {
        "chunks": count,
        "documents": DOCUMENTS,
        "dimensions": DIMENSIONS,
        "top_k": 5,
        "queries": queries,
        "indexing_seconds": round(indexing, 1),
        "ours_ms": summary_ms(ours),
        "ours_one_document_not_answering_ms": summary_ms(pending),
        "raw_chroma_query_ms": summary_ms(raw),
        "chroma_filtered_query_ms": summary_ms(filtered),
        "filtered_queries": len(filtered),
        "overhead_p50_ms": round((statistics.median(ours) - statistics.median(raw)) * 1000, 3),
        "goal_p50_ms": 10,
        "goal_met": statistics.median(ours) * 1000 < 10,
    }


# ---------------------------------------------------------------- PostgreSQL


def _connect(conninfo: str) -> psycopg.Connection[Any]:
    """A connection, waiting while a busy shared server has none to give."""
    for attempt in range(60):
        try:
            return psycopg.connect(conninfo, autocommit=True)
        except psycopg.OperationalError:
            if attempt == 59:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


@contextmanager
def scratch_database(admin_url: str, durable: bool) -> Iterator[str]:
    """A database of the bench's own, dropped afterwards. Unless `durable`, its commits do
    not wait for the WAL's flush to disk (`synchronous_commit = off`, for this database
    only): on a shared machine's disk that flush takes several milliseconds and would be
    most of every figure, ours and the baselines' alike."""
    name = f"genai_bench_scale_{uuid.uuid4().hex[:10]}"
    with _connect(admin_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        if not durable:
            conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with _connect(admin_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def services_for(database_url: str, data_dir: Path) -> Any:
    from infrastructure.settings import Settings
    from interfaces.bootstrap import bootstrap

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        genai_data_dir=data_dir,
        genai_preload_embedder=False,
        genai_poll_seconds=1.0,
        genai_db_pool_size=3,  # the server is shared: few connections
    )
    return bootstrap(settings)  # not started: the bench drives the one worker it measures


def chat_session(workflow_id: UUID) -> Any:
    from domain.chat import ChatSession

    return ChatSession.start(workflow_id, 1, "bench@example.com")


def converse(session: Any, turns: int, rng: random.Random) -> None:
    """A few questions and their answers, and a rating, as a chat records them."""
    from domain.chat import Rating

    for turn in range(turns):
        question = uuid.uuid4()
        session.ask(question, f"question {turn}: " + "why " * rng.randint(3, 30), "bench")
        answer = session.answer(
            question,
            "because " * rng.randint(10, 120),
            [{"document_id": str(uuid.uuid4()), "page": 2, "text": "a passage " * 20}],
            "gpt-4o-mini",
            {"prompt_tokens": rng.randint(50, 900), "completion_tokens": rng.randint(10, 300)},
            rng.randint(100, 2000),
            "bench",
        )
    session.rate(answer, Rating.UP, "good", "bench")


def seed_events(store: Any, sessions: int, rng: random.Random) -> set[UUID]:
    """Stacks (a few changes each, one published) and chat sessions on them, recorded
    through the real event log; the stacks' ids."""
    from domain.graph import Position
    from domain.workflow import Workflow

    workflows = []
    for n in range(20):
        stack = Workflow.create(f"stack {n}", "a bench stack", "bench@example.com")
        stack.add_node("llm", "LLM_ENGINE", Position(10, 20), "bench@example.com")
        stack.rename(f"stack {n}, renamed", "bench@example.com")
        stack.describe("what it answers", "bench@example.com")
        store.save(stack)
        workflows.append(stack.id)
    for _ in range(sessions):
        session = chat_session(rng.choice(workflows))
        converse(session, 3, rng)
        store.save(session)
    return set(workflows)


def replicate(conninfo: str, total: int, keep: set[UUID]) -> int:
    """Copies the stored chat sessions' events with fresh ids (every UUID in an event
    replaced, the same way within one copy of one session, but those of `keep`: the stacks
    they chat with) until the log holds `total`; returns how many it holds."""
    kept = {u.hex.encode() for u in keep} | {str(u).encode() for u in keep}
    with psycopg.connect(conninfo) as conn:
        seed = conn.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {EVENTS_TABLE} "
            "ORDER BY notification_id"
        ).fetchall()
        have = len(seed)
        by_session: dict[UUID, list[tuple[Any, ...]]] = {}
        for row in seed:
            if row[0] not in keep:
                by_session.setdefault(row[0], []).append(row)
        with conn.cursor().copy(
            f"COPY {EVENTS_TABLE} (originator_id, originator_version, topic, state) FROM STDIN"
        ) as copy:
            while have < total:
                for events in by_session.values():
                    fresh: dict[bytes, bytes] = {}

                    def renamed(match: re.Match[bytes], fresh: dict[bytes, bytes] = fresh) -> bytes:
                        old = match.group(0)
                        if old in kept:
                            return old
                        new = fresh.get(old)
                        if new is None:
                            u = uuid.uuid4()
                            new = (u.hex if len(old) == 32 else str(u)).encode()
                            fresh[old] = new
                        return new

                    originator = uuid.uuid4()
                    for _, version, topic, state in events:
                        copy.write_row((originator, version, topic, _UUID.sub(renamed, state)))
                    have += len(events)
                    if have >= total:
                        break
        conn.commit()
    return have


def raw_read(conninfo: str) -> tuple[int, float]:
    """Every stored event, in order, through a server-side cursor: how many, how long."""
    with psycopg.connect(conninfo) as conn:
        started = time.perf_counter()
        count = 0
        with conn.cursor(name="everything") as cursor:
            cursor.itersize = 2000
            cursor.execute(
                f"SELECT notification_id, originator_id, originator_version, topic, state "
                f"FROM {EVENTS_TABLE} ORDER BY notification_id"
            )
            for _ in cursor:
                count += 1
        return count, time.perf_counter() - started


def bench_rebuild(services: Any, conninfo: str, events: int) -> dict[str, Any]:
    """Every read model rebuilt as `genai-stack projections rebuild` rebuilds them
    (`rebuild_all`: the batched projections in one pass over the log, then the ingestion
    follower on its own), against a raw sequential read of the same table."""
    from infrastructure.readmodel.rebuild import rebuild_all, replay

    rng = random.Random(7)
    started = time.perf_counter()
    stacks = seed_events(services.event_log, max(1, min(200, events // 40)), rng)
    stored = replicate(conninfo, events, stacks)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"VACUUM ANALYZE {EVENTS_TABLE}")
    generating = time.perf_counter() - started
    services.index.reset()  # opened before: importing Chroma is the process's start
    raw_read(conninfo)  # the table into the cache, for both alike
    read_count, read_seconds = raw_read(conninfo)
    passes: dict[str, float] = {}
    applied: dict[str, int] = {}
    started, cpu = time.perf_counter(), time.process_time()
    paths: dict[str, str] = {}
    for name, count in rebuild_all(services.workers, paths):
        applied[name] = count
        passes[name] = time.perf_counter() - started
    rebuild_seconds = time.perf_counter() - started
    rebuild_cpu = time.process_time() - cpu
    with psycopg.connect(conninfo) as conn:
        rows = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in ("workflows", "chat_sessions", "chat_messages", "audit_entries")
        }
    raw_rate = read_count / read_seconds
    rate = stored / rebuild_seconds
    alone: dict[str, Any] = {}
    for worker in services.workers:  # each batched read model rebuilt on its own, after
        if not worker.batched:
            continue
        started, cpu = time.perf_counter(), time.process_time()
        took: dict[str, str] = {}
        replay(services.event_log, [worker], paths=took)
        seconds = time.perf_counter() - started
        alone[worker.projection.name] = {
            "path": took[worker.projection.name],
            "seconds": round(seconds, 2),
            "process_cpu_seconds": round(time.process_time() - cpu, 2),
            "ratio": round(stored / seconds / raw_rate, 3),
        }
    return {
        "events": stored,
        "generating_seconds": round(generating, 1),
        "raw_read": {"seconds": round(read_seconds, 2), "events_per_second": round(raw_rate)},
        "projection_rebuild": {
            "projections": list(applied),
            "paths": paths,
            "events_applied": applied,
            "done_after_seconds": {name: round(s, 2) for name, s in passes.items()},
            "rows": rows,
            "seconds": round(rebuild_seconds, 2),
            "process_cpu_seconds": round(rebuild_cpu, 2),
            "events_per_second": round(rate),
        },
        "ratio": round(rate / raw_rate, 3),
        "alone": alone,
        "goal_ratio": 0.5,
    }


def bench_append(services: Any, conninfo: str, appends: int) -> dict[str, Any]:
    """One question saved through the event log against one raw INSERT, alternating."""
    rng = random.Random(3)
    store = services.event_log
    sessions = [chat_session(uuid.uuid4()) for _ in range(20)]
    for s in sessions:
        store.save(s)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE raw_events (notification_id bigserial, originator_id uuid NOT NULL, "
            "originator_version bigint NOT NULL, topic text NOT NULL, state bytea NOT NULL, "
            "PRIMARY KEY (originator_id, originator_version))"
        )
        conn.execute("CREATE UNIQUE INDEX ON raw_events (notification_id)")
        sessions[0].ask(uuid.uuid4(), "why " * 16, "bench")
        store.save(sessions[0])
        size = len(_last_state(conn, sessions[0].id))  # a raw row as large as our event
        ours: list[float] = []
        raw: list[float] = []
        raw_versions: dict[UUID, int] = {}
        insert = (
            "INSERT INTO raw_events (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s)"
        )
        for n in range(appends):
            session = sessions[n % len(sessions)]
            session.ask(uuid.uuid4(), "why " * rng.randint(3, 30), "bench")
            t0 = time.perf_counter()
            store.save(session)
            ours.append(time.perf_counter() - t0)
            version = raw_versions.get(session.id, 0) + 1
            raw_versions[session.id] = version
            row = (session.id, version, "domain.chat:ChatSession.UserAsked", os.urandom(size))
            t1 = time.perf_counter()
            conn.execute(insert, row)
            raw.append(time.perf_counter() - t1)
    ours_rate, raw_rate = 1 / statistics.mean(ours), 1 / statistics.mean(raw)
    return {
        "appends": appends,
        "event_bytes": size,
        "ours": {"ops_per_second": round(ours_rate), "ms": summary_ms(ours)},
        "raw_insert": {"ops_per_second": round(raw_rate), "ms": summary_ms(raw)},
        "ratio": round(ours_rate / raw_rate, 3),
        "goal_ratio": 0.5,
    }


def _last_state(conn: psycopg.Connection[Any], originator_id: UUID) -> bytes:
    row = conn.execute(
        f"SELECT state FROM {EVENTS_TABLE} WHERE originator_id = %s "
        "ORDER BY originator_version DESC LIMIT 1",
        (originator_id,),
    ).fetchone()
    assert row is not None
    return bytes(row[0])


class CommitClock:
    """When each position of a projection became visible to readers: noted as the follower's
    transaction that wrote it returns from its commit (its view's `batch` and `transaction`,
    wrapped), which is when any reader's next query sees it. It costs the follower nothing,
    where a reader polling the tracking row in a tight loop would take a share of this
    machine's two cores (and of the follower's interpreter) from what it measures."""

    def __init__(self, view: Any) -> None:
        self.positions: list[int] = []
        self.times: list[float] = []
        for name in ("batch", "transaction"):
            setattr(view, name, self._noting(view, getattr(view, name)))

    def _noting(self, view: Any, method: Any) -> Any:
        @contextmanager
        def noted(*args: Any, **kwargs: Any) -> Iterator[Any]:
            with method(*args, **kwargs) as value:
                yield value
            if view._batch is None:  # the outermost transaction has committed
                self.positions.append(view.last_seen())
                self.times.append(_now())

        return noted

    def visible_at(self, position: int) -> float | None:
        """When the first commit at or past `position` returned (positions only grow)."""
        i = bisect.bisect_left(self.positions, position)
        return self.times[i] if i < len(self.times) else None


def _now() -> float:
    """A clock that every process on the machine reads alike (writers and the follower)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def _next_change(session: Any, rng: random.Random) -> None:
    """The session's next event: an answer to its pending question, or a new question."""
    if session.pending:
        session.answer(
            session.pending[0].id,
            "because " * rng.randint(10, 60),
            [],
            "gpt-4o-mini",
            {"prompt_tokens": 100, "completion_tokens": 50},
            300,
            "bench",
        )
    else:
        session.ask(uuid.uuid4(), "why " * rng.randint(3, 30), "bench")


def paced_writer(
    env: dict[str, str],
    mine: Sequence[int],
    rate: int,
    ready: Any,
    start: Any,
    results: Any,
) -> None:
    """One writer process: saves its share of the events (`mine`, the event numbers n it
    owns), event n at `start + n / rate` on the shared clock; sends back, for each, its
    notification id and when its save returned, and how many were late."""
    from application.eventlog.log import EventLog

    store = EventLog(env={**env, "CREATE_TABLE": "n"})
    rng = random.Random(mine[0] if mine else 0)
    sessions = [chat_session(uuid.uuid4()) for _ in range(10)]
    for s in sessions:
        store.save(s)
    ready.set()
    started = start.get()
    saved: list[tuple[int, float]] = []
    late = 0
    try:
        for i, n in enumerate(mine):
            pause = started + n / rate - _now()
            if pause > 0:
                time.sleep(pause)
            else:
                late += 1
            session = sessions[i % len(sessions)]
            _next_change(session, rng)
            recordings = store.save(session)
            saved.append((recordings[-1].notification.id, _now()))
    finally:
        results.put((saved, late))
        store.close()


def bench_lag(services: Any, rate: int, seconds: float, writers: int) -> dict[str, Any]:
    """Writers in processes of their own (one Python process cannot save 500 events a second
    on this machine while a follower shares its interpreter), as API processes are; the
    `chats` projection follows in this process, woken by the log's NOTIFY through the
    process's listener, as in `genai-stack projections run`."""
    import multiprocessing

    worker = services.worker("chats")
    worker.catch_up()
    total = int(rate * seconds)
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Queue(), spawn.Queue()
    readies = [spawn.Event() for _ in range(writers)]
    processes = [
        spawn.Process(
            target=paced_writer,
            args=(
                services.settings.event_store_env(),
                range(k, total, writers),
                rate,
                readies[k],
                start,
                results,
            ),
            daemon=True,
        )
        for k in range(writers)
    ]
    for process in processes:
        process.start()
    for ready in readies:
        ready.wait(120)
    worker.catch_up()  # the writers' sessions
    clock = CommitClock(worker.projection.view)
    assert services.listener is not None, "the lag bench needs PostgreSQL"
    services.listener.start()
    worker.start()
    committed: list[tuple[int, float]] = []
    late = 0
    try:
        began = _now() + 0.2  # every writer is waiting on the clock by then
        for _ in processes:
            start.put(began)
        for _ in processes:
            saved, behind = results.get(timeout=seconds + 120)
            committed.extend(saved)
            late += behind
        elapsed = max(at for _, at in committed) - began
        last = max(position for position, _ in committed)
        deadline = time.monotonic() + 30
        while (clock.visible_at(last) is None) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        worker.stop()
        services.listener.stop()
        for process in processes:
            process.join(10)
    lags = []
    for position, at in committed:
        visible = clock.visible_at(position)
        if visible is not None:
            lags.append(max(0.0, visible - at))
    return {
        "events": len(committed),
        "writers": writers,
        "target_rate": rate,
        "achieved_rate": round(len(committed) / elapsed, 1),
        "behind_schedule": late,
        "lag_ms": summary_ms(lags) if lags else None,
        "seen": len(lags),
        "goal_p99_ms": 50,
    }


# ---------------------------------------------------------------- main


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "bench": "scale",
        "quick": args.quick,
        "synchronous_commit": "on" if args.durable else "off",
    }
    if "retrieval" in args.only:
        results["retrieval"] = bench_retrieval(args.chunks, queries=20 if args.quick else 200)
    if not set(args.only) - {"retrieval"}:
        return results
    with (
        scratch_database(args.admin_url, args.durable) as url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        services = services_for(url, Path(tmp) / "data")
        conninfo = url
        try:
            if "append" in args.only:
                results["append"] = bench_append(services, conninfo, args.appends)
            if "lag" in args.only:
                results["lag"] = bench_lag(services, args.rate, args.lag_seconds, args.writers)
            if "rebuild" in args.only:
                results["rebuild"] = bench_rebuild(services, conninfo, args.events)
        finally:
            services.event_log.close()
            services.read_db.dispose()
    return results


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (under a minute)")
    parser.add_argument("--chunks", type=int, help=f"default {FULL['chunks']}")
    parser.add_argument("--events", type=int, help=f"default {FULL['events']}")
    parser.add_argument("--appends", type=int, help=f"default {FULL['appends']}")
    parser.add_argument("--rate", type=int, help=f"events per second, default {FULL['rate']}")
    parser.add_argument("--lag-seconds", type=float, help=f"default {FULL['lag_seconds']}")
    parser.add_argument("--writers", type=int, help=f"writer processes, default {FULL['writers']}")
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL", ADMIN_URL))
    parser.add_argument(
        "--durable", action="store_true", help="commits wait for the disk (the server's default)"
    )
    parser.add_argument(
        "--only", nargs="+", choices=PARTS, default=list(PARTS), help="some parts only"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    for name, value in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main(argv: Sequence[str] | None = None) -> None:
    print(json.dumps(run(parse(argv)), indent=2))


if __name__ == "__main__":
    main()
