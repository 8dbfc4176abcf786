"""Rewriting the event store's snapshots from full replays (`genai-stack snapshots rebuild`).

The eventsourcing recorders can insert and select snapshots but not delete them, so the
delete is SQL against the snapshot table of whichever database holds the store.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from psycopg.sql import SQL, Identifier

from application.eventlog.log import EventLog
from application.eventlog.snapshots import RebuildCounts, rebuild_snapshots


def rebuild(store: EventLog) -> RebuildCounts:
    """Every aggregate's snapshots, replaced by ones taken from a replay of its events."""
    assert store.snapshots is not None, "snapshotting is enabled on the event store"
    return rebuild_snapshots(
        store, store.aggregate_ids(), snapshot_deleter(store.snapshots.recorder)
    )


def snapshot_deleter(recorder: AggregateRecorder) -> Callable[[UUID], int]:
    """A function that deletes an aggregate's snapshots and says how many there were."""
    if isinstance(recorder, PostgresAggregateRecorder):
        statement = SQL("DELETE FROM {}.{} WHERE originator_id = %s").format(
            Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)
        )
        as_text = recorder.datastore.originator_id_type == "text"

        def delete_postgres(aggregate_id: UUID) -> int:
            with recorder.datastore.transaction(commit=True) as curs:
                curs.execute(statement, (str(aggregate_id) if as_text else aggregate_id,))
                return curs.rowcount

        return delete_postgres
    if isinstance(recorder, SQLiteAggregateRecorder):
        table = recorder.events_table_name  # ours, not user input

        def delete_sqlite(aggregate_id: UUID) -> int:
            with recorder.datastore.transaction(commit=True) as curs:
                # the library's cursor does not tell how many rows a statement changed
                curs.execute(
                    f"SELECT COUNT(*) FROM {table} WHERE originator_id = ?", (aggregate_id.hex,)
                )
                count = int(curs.fetchone()[0])
                curs.execute(f"DELETE FROM {table} WHERE originator_id = ?", (aggregate_id.hex,))
                return count

        return delete_sqlite
    raise NotImplementedError(f"cannot delete snapshots from a {type(recorder).__name__}")
