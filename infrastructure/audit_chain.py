"""The audit's hash chain in the read database, and the follower that extends it.

One process at a time extends the chain (a PostgreSQL advisory lock, as the projections
take); each batch of links is written in one transaction that starts from the chain's head as
stored, so a killed process loses nothing and the next one resumes where the chain ends, and
two writers that raced both ways cannot fork it (the second one's links clash on the unique
notification id and roll back).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import structlog
from eventsourcing.persistence import Notification
from prometheus_client import Gauge
from sqlalchemy import Connection, Engine, Row, exc, func, insert, select

from application.eventlog.audit import (
    CHECKPOINT_EVERY,
    Checkpoint,
    Link,
    Verdict,
    checkpoints_among,
    extend,
    verify,
)
from application.eventlog.log import EventLog
from infrastructure.database import one_statement
from infrastructure.follower import Follower
from infrastructure.log_watcher import LogWatcher
from infrastructure.readmodel.runner import AdvisoryLock
from infrastructure.readmodel.tables import audit_chain as chain_t
from infrastructure.readmodel.tables import audit_checkpoints as checkpoints_t

log = structlog.get_logger(__name__)

BATCH = 500
MAX_CLASHES = 20

CHAINED = Gauge(
    "genai_audit_chained_notification_id",
    "Notification id of the last event in the audit hash chain, as this process last saw it",
)


class SqlAuditChain:
    def __init__(self, engine: Engine, checkpoint_every: int = CHECKPOINT_EVERY) -> None:
        self.engine, self.checkpoint_every = engine, checkpoint_every

    def head(self, conn: Connection | None = None) -> Link | None:
        query = select(chain_t).order_by(chain_t.c.seq.desc()).limit(1)
        if conn is not None:
            row = conn.execute(query).first()
        else:
            with self.engine.connect() as own:
                row = own.execute(query).first()
        return _link(row) if row else None

    def write(self, links: list[Link]) -> None:
        """Appends the links, with their checkpoints, at once or not at all: links alone in
        one statement that commits by itself (on PostgreSQL one round trip instead of
        BEGIN, it and COMMIT, once per save a chain follower keeps up with), links and
        checkpoints in one transaction."""
        marks = checkpoints_among(links, self.checkpoint_every)
        if marks:
            with self.engine.begin() as conn:
                self.append(conn, links, marks)
        else:
            with one_statement(self.engine) as conn:
                self.append(conn, links, marks)

    def append(self, conn: Connection, links: list[Link], marks: list[Checkpoint]) -> None:
        """The links in one statement (one INSERT of many rows: atomic by itself, which an
        executemany is not without a transaction), then their checkpoints."""
        conn.execute(
            insert(chain_t).values(
                [
                    {
                        "seq": lk.seq,
                        "notification_id": lk.notification_id,
                        "originator_id": lk.originator_id,
                        "originator_version": lk.originator_version,
                        "hash": lk.hash,
                    }
                    for lk in links
                ]
            )
        )
        if marks:
            now = datetime.now(UTC)
            conn.execute(
                insert(checkpoints_t),
                [
                    {
                        "seq": c.seq,
                        "notification_id": c.notification_id,
                        "hash": c.hash,
                        "created_at": now,
                    }
                    for c in marks
                ],
            )

    def links(self, up_to: int, batch: int = 1000) -> Iterator[Link]:
        """Every link up to notification id `up_to`, in notification order."""
        after = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(chain_t)
                    .where(chain_t.c.notification_id > after)
                    .where(chain_t.c.notification_id <= up_to)
                    .order_by(chain_t.c.notification_id)
                    .limit(batch)
                ).all()
            if not rows:
                return
            yield from (_link(r) for r in rows)
            after = rows[-1].notification_id

    def checkpoints(self) -> dict[int, Checkpoint]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(checkpoints_t)).all()
        return {r.seq: Checkpoint(r.seq, r.notification_id, r.hash) for r in rows}

    def length(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(chain_t)).scalar() or 0)


def _link(row: Row[Any, Any]) -> Link:
    return Link(row.seq, row.notification_id, row.originator_id, row.originator_version, row.hash)


def stored_events(store: EventLog, batch: int = 1000) -> Iterator[Notification]:
    """Every stored event, in notification order, read in batches."""
    start = 1
    while notifications := store.recorder.select_notifications(start=start, limit=batch):
        yield from notifications
        start = notifications[-1].id + 1


def verify_log(store: EventLog, chain: SqlAuditChain) -> Verdict:
    """Recomputes the chain from the stored events. The head is read first: links written
    while this runs are left to the next verification (their events count as pending)."""
    head = chain.head()
    up_to = head.notification_id if head else 0
    return verify(stored_events(store), chain.links(up_to), chain.checkpoints(), up_to)


class AuditChainWorker(Follower):
    """Follows the log and extends the chain, like a projection worker."""

    def __init__(
        self,
        store: EventLog,
        chain: SqlAuditChain,
        watcher: LogWatcher,
        lock: AdvisoryLock | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        super().__init__("audit-chain", watcher, lock, poll_seconds)
        self.store, self.chain = store, chain
        # the chain's last link as this worker wrote or read it (None: an empty chain);
        # read again after a clash, when another process may have chained meanwhile
        self._head: Link | None = None
        self._head_known = False

    def recover(self) -> None:
        self._head_known = False

    def catch_up(self, limit: int | None = None) -> int:
        """Chains pending events (at most `limit`); returns how many this call chained."""
        done = clashes = 0
        self.reached_end = False
        while limit is None or done < limit:
            size = BATCH if limit is None else min(BATCH, limit - done)
            if not self._head_known:
                self._head, self._head_known = self.chain.head(), True
            head = self._head
            start = (head.notification_id if head else 0) + 1
            events = self.watcher.read(self.store.recorder, start, size)
            if not events:
                CHAINED.set(head.notification_id if head else 0)
                self.reached_end = True
                break
            links = extend(head, events)
            try:
                self.chain.write(links)
            except (exc.IntegrityError, exc.OperationalError):
                # another process chained these first (or held SQLite's write lock): start
                # again from the head it left
                self._head_known = False
                clashes += 1
                if clashes > MAX_CLASHES:
                    raise
                continue
            except BaseException:
                self._head_known = False
                raise
            self._head = links[-1]
            done += len(links)
            CHAINED.set(links[-1].notification_id)
            if len(events) < size:  # the end of the log as it was read
                self.reached_end = True
                break
        return done
