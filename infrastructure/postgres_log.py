"""The event log's PostgreSQL recorder: a save is one statement, so one round trip.

eventsourcing's own `PostgresApplicationRecorder` sends BEGIN, `SET LOCAL lock_timeout`,
`LOCK TABLE`, `NOTIFY` and the INSERT in a pipeline, syncs, and sends COMMIT: two round trips
and a dozen waits on the socket per save. Here the same work is one call of a stored function,
in the implicit transaction of an autocommit statement:

- it takes the same EXCLUSIVE lock on the events table before the INSERT draws notification
  ids, so writers stay serialised and ids increase in commit order (a reader following the
  log never passes over an id that a later commit fills in). The lock is the library's own,
  so processes still running its recorder (a rolling upgrade) keep the guarantee with ours;
- the NOTIFY on the table's channel is sent at commit, as the library's is;
- a failed insert (a version clash: IntegrityError) rolls the whole statement back.

Commit durability is the database's (`synchronous_commit`), as before. Selecting
notifications keeps its statement text built once per shape, not composed on every call.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import (
    InterfaceError,
    Notification,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier, Literal

TOPIC = "infrastructure.postgres_log:OneTripRecorder"


class OneTripRecorder(PostgresApplicationRecorder):
    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        # the server's process id of each connection that saved: its NOTIFYs are this
        # process's own saves, which poke this process's followers as they return
        self._saving: dict[int, weakref.ref[Any]] = {}
        schema, table = Identifier(datastore.schema), Identifier(events_table_name)
        one = Identifier(datastore.schema, f"{events_table_name}_append_one")
        many = Identifier(datastore.schema, f"{events_table_name}_append")
        id_type = SQL(datastore.originator_id_type)
        timeout = datastore.lock_timeout
        lock = SQL(
            # the library's lock_timeout, for this transaction (set only when it differs)
            "IF current_setting('lock_timeout') <> {shown} THEN "
            "PERFORM set_config('lock_timeout', {lock_timeout}, true); END IF; "
            "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
            "NOTIFY {channel}; "
        ).format(
            shown=Literal(f"{timeout}s" if timeout else "0"),
            lock_timeout=Literal(f"{timeout}s"),
            schema=schema,
            table=table,
            channel=Identifier(self.channel_name),
        )
        # one event (most saves): scalar arguments, no arrays to build and unnest
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {function}("
                "id {id_type}, version bigint, topic text, state bytea) "
                "RETURNS bigint LANGUAGE plpgsql AS $body$ "
                "DECLARE position bigint; "
                "BEGIN {lock}"
                "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
                "VALUES (id, version, topic, state) RETURNING notification_id INTO position; "
                "RETURN position; "
                "END $body$"
            ).format(function=one, id_type=id_type, lock=lock, schema=schema, table=table)
        )
        # several events: in the order given, so their ids follow it
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {function}("
                "ids {id_type}[], versions bigint[], topics text[], states bytea[]) "
                "RETURNS SETOF bigint LANGUAGE plpgsql AS $body$ "
                "BEGIN {lock}"
                "RETURN QUERY INSERT INTO {schema}.{table} "
                "(originator_id, originator_version, topic, state) "
                "SELECT e.i, e.v, e.t, e.s FROM unnest(ids, versions, topics, states) "
                "WITH ORDINALITY AS e(i, v, t, s, n) ORDER BY e.n "
                "RETURNING notification_id; "
                "END $body$"
            ).format(function=many, id_type=id_type, lock=lock, schema=schema, table=table)
        )
        self._append_one = SQL("SELECT {function}(%s, %s, %s, %s) AS notification_id").format(
            function=one
        )
        self._append_many = SQL("SELECT {function}(%s, %s, %s, %s) AS notification_id").format(
            function=many
        )
        self._select_from = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {schema}.{table} WHERE notification_id >= %s "
            "ORDER BY notification_id LIMIT %s"
        ).format(schema=schema, table=table)
        self._queries: dict[str, bytes] = {}

    def _query(self, name: str, statement: Any) -> bytes:
        """The statement's text, composed once (a composed SQL is rendered anew per call)."""
        text = self._queries.get(name)
        if text is None:
            with self.datastore.get_connection() as conn:
                text = self._queries[name] = statement.as_bytes(conn)
        return text

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return []
        params: tuple[Any, ...]
        if len(stored_events) == 1:
            (e,) = stored_events
            query = self._query("append_one", self._append_one)
            params = (e.originator_id, e.originator_version, e.topic, e.state)
        else:
            query = self._query("append_many", self._append_many)
            params = (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            # before the statement: its NOTIFY may reach the listener before it returns
            self._saving[conn.info.backend_pid] = weakref.ref(conn)
            curs.execute(query, params, prepare=True)
            return [row["notification_id"] for row in curs.fetchall()]

    def saved_here(self, backend_pid: int) -> bool:
        """Whether a NOTIFY of the log from this backend is one of this process's saves: a
        connection of its pool that saved and is still open (a closed one's process id may
        be the server's again for another client)."""
        ref = self._saving.get(backend_pid)
        conn = ref() if ref is not None else None
        return conn is not None and not conn.closed

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        if stop is not None or topics or not inclusive_of_start:
            return super().select_notifications(
                start, limit, stop, topics, inclusive_of_start=inclusive_of_start
            )
        query = self._query("select", self._select_from)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query, (start or 0, limit), prepare=True)
            return [
                Notification(
                    id=row["notification_id"],
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def max_notification_id(self) -> int | None:
        query = self._query("max", self.max_notification_id_statement)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query, prepare=True)
            row = curs.fetchone()
            assert row is not None
            value: int | None = row["max"]
            return value
