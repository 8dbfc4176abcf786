"""The audit log rebuilt on PostgreSQL's side: its rows for the log's chat events (nearly
all of a real log) made by one INSERT..SELECT over the events table, the others by the
projection's own Python, as a rebuild in Python makes them.

1. The events that are not chat events of the five known kinds are read (by topic, in SQL)
   and applied by the projection's handlers, in order, on the caller's connection; after
   each stack event, the stack's workspace and name as the audit then holds them are noted
   with the event's position (the projection's `_stacks`).
2. Each chat session's stack, from its ChatStarted, into a temporary table; the stacks that
   a session meets before their first row (a stack whose creation is not in the log) get
   what the projection's `_stack` gives them: the store's stack as it is now, or the default
   workspace and no name.
3. One INSERT..SELECT parses each chat event's state once (`jsonb`) and writes its entry:
   the workspace and name of its session's stack as noted last before its position, its
   summary as `infrastructure/readmodel/audit_sql.py` says it.

The entries' indexes (their key too) are dropped first and made again after, in the same
transaction: one sort each instead of an index insertion per row.

Anything the Python path would not apply the same way (an event it cannot apply, a state
PostgreSQL's JSON refuses, a field of another type) refuses: the caller rolls back and
rebuilds in Python.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, Tracking
from eventsourcing.utils import get_topic, resolve_topic
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from application.eventlog.log import EventLog
from domain.chat import ChatSession
from domain.document import Document
from domain.workflow import Workflow
from domain.workspace import DEFAULT_WORKSPACE, Workspace
from infrastructure.readmodel import audit_sql
from infrastructure.readmodel.audit import MAX_NAME, AuditProjection, _storable
from infrastructure.readmodel.rebuild import InDatabaseRebuildRefused, without_indexes
from infrastructure.readmodel.tables import audit_entries

CHATS = {get_topic(getattr(ChatSession, kind)): kind for kind in audit_sql.SUMMARIES}
HANDLED = (Workflow.Event, Document.Event, ChatSession.Event, Workspace.Event)
PAGE = 2000  # events of other topics read at once
END = 2**63 - 1  # a span's end when no later change ends it

Noted = tuple[UUID, int, UUID, str | None]  # a stack, a position, its workspace and name


def rebuild(projection: AuditProjection, conn: Connection, log: EventLog, last: int) -> None:
    events = _events_table(conn, log)
    projection.forget()  # what it knew of stacks and sessions came from the rows emptied
    with without_indexes(conn, [audit_entries]):
        history = _apply_the_others(projection, conn, log, events, last)
        _sessions(conn, events, last)
        _spans(conn, log, history)
        _insert_chat_entries(conn, events, last)


def _events_table(conn: Connection, log: EventLog) -> str:
    """The log's table, qualified, when the events are PostgreSQL's JSON in this database."""
    recorder: Any = log.recorder
    datastore = getattr(recorder, "datastore", None)
    if conn.dialect.name != "postgresql" or datastore is None:
        raise InDatabaseRebuildRefused("the log is not in PostgreSQL")
    if log.mapper.cipher is not None or log.mapper.compressor is not None:
        raise InDatabaseRebuildRefused("the events are not stored as JSON")
    if log.env.get("POSTGRES_DBNAME") != conn.execute(text("SELECT current_database()")).scalar():
        raise InDatabaseRebuildRefused("the log is in another database")
    quote = conn.dialect.identifier_preparer.quote
    return f"{quote(datastore.schema)}.{quote(recorder.events_table_name)}"


def _apply_the_others(
    projection: AuditProjection, conn: Connection, log: EventLog, events: str, last: int
) -> list[Noted]:
    """Applies every event the SQL does not write, in order, on `conn`; each stack's
    workspace and name after each of its events: (stack, position, workspace, name)."""
    history: list[Noted] = []
    handled: dict[str, bool] = {}
    decode = log.mapper.to_domain_event
    start = 0
    with projection.view.writing_on(conn):
        while True:
            rows = conn.execute(
                text(
                    "SELECT notification_id, originator_id, originator_version, topic, state "
                    f"FROM {events} WHERE notification_id > :start AND notification_id <= :last "
                    "AND topic <> ALL(:chats) ORDER BY notification_id LIMIT :page"
                ),
                {"start": start, "last": last, "chats": list(CHATS), "page": PAGE},
            ).all()
            if not rows:
                return history
            for row in rows:
                if not _handled(handled, row.topic):
                    continue
                try:
                    event = decode(
                        Notification(
                            id=row.notification_id,
                            originator_id=row.originator_id,
                            originator_version=row.originator_version,
                            topic=row.topic,
                            state=bytes(row.state),
                        )
                    )
                    projection.process_event(event, Tracking(log.name, row.notification_id))
                except DBAPIError:
                    raise  # the caller's to judge: a data error goes the Python way too
                except Exception as error:
                    raise InDatabaseRebuildRefused(
                        f"notification {row.notification_id} is not one to apply here: {error!r}"
                    ) from error
                if isinstance(event, Workflow.Event):
                    stack = projection._stacks.get(event.originator_id)
                    if stack is not None:
                        history.append((event.originator_id, row.notification_id, *stack))
            start = rows[-1].notification_id


def _handled(known: dict[str, bool], topic: str) -> bool:
    found = known.get(topic)
    if found is None:
        try:
            found = known[topic] = issubclass(resolve_topic(topic), HANDLED)
        except Exception as error:
            raise InDatabaseRebuildRefused(f"no event class for {topic}") from error
    return found


def _sessions(conn: Connection, events: str, last: int) -> None:
    """Each chat session's stack and the position it started at."""
    conn.execute(
        text(
            "CREATE TEMPORARY TABLE audit_sessions ON COMMIT DROP AS "
            "SELECT originator_id AS chat_id, notification_id AS started, "
            "(w->>'_data_')::uuid AS stack_id "
            "FROM (SELECT originator_id, notification_id, "
            "convert_from(state, 'UTF8')::jsonb->'workflow_id' AS w "
            f"FROM {events} WHERE topic = :started AND originator_version = 1 "
            "AND notification_id <= :last OFFSET 0) AS started "
            "WHERE w->>'_type_' = 'uuid_hex' AND w - '_type_' - '_data_' = '{}'::jsonb"
        ),
        {"started": get_topic(ChatSession.ChatStarted), "last": last},
    )
    conn.execute(text("ALTER TABLE audit_sessions ADD PRIMARY KEY (chat_id)"))
    conn.execute(text("ANALYZE audit_sessions"))


def _spans(conn: Connection, log: EventLog, history: list[Noted]) -> None:
    """Each stack that sessions chat on, as the audit names it over spans of positions
    (after, until]: from each stack event that changed its workspace or name to the next;
    before its first (a session that meets a stack with no row), as `_stack` asks the
    store: the stack as it is now, or the default workspace and no name."""
    first_chat: dict[UUID, int] = {
        stack_id: started
        for stack_id, started in conn.execute(
            text("SELECT stack_id, min(started) FROM audit_sessions GROUP BY stack_id")
        )
    }
    noted: dict[UUID, list[Noted]] = {}
    for entry in history:
        if entry[0] in first_chat:
            seen = noted.setdefault(entry[0], [])
            if not seen or seen[-1][2:] != entry[2:]:
                seen.append(entry)
    spans = []
    for stack_id, started in first_chat.items():
        changes = noted.get(stack_id, [])
        if not changes or started < changes[0][1]:
            try:  # as the projection's `_stack` asks the store
                wf: Any = log.repository.get(stack_id)
                workspace_id, name = wf.workspace_id, _storable(wf.name, MAX_NAME)
            except Exception:
                workspace_id, name = DEFAULT_WORKSPACE, None
            spans.append((stack_id, 0, changes[0][1] if changes else END, workspace_id, name))
        for n, (_, position, workspace_id, name) in enumerate(changes):
            until = changes[n + 1][1] if n + 1 < len(changes) else END
            spans.append((stack_id, position, until, workspace_id, name))
    conn.execute(
        text(
            "CREATE TEMPORARY TABLE audit_stack_spans (stack_id uuid NOT NULL, "
            "after bigint NOT NULL, until bigint NOT NULL, workspace_id uuid NOT NULL, "
            "name text) ON COMMIT DROP"
        )
    )
    driver: Any = conn.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy("COPY audit_stack_spans FROM STDIN") as copy:
        for span in spans:
            copy.write_row(span)
    conn.execute(text("ANALYZE audit_stack_spans"))


def _insert_chat_entries(conn: Connection, events: str, last: int) -> None:
    """Each chat event's entry, its state parsed once (a subquery with OFFSET 0 is not
    folded into its caller, which would parse it again for each field)."""
    summaries = " ".join(
        f"WHEN '{kind}' THEN {audit_sql.summary_sql(kind)}" for kind in audit_sql.SUMMARIES
    )
    kinds = " ".join(f"WHEN '{topic}' THEN '{kind}'" for topic, kind in CHATS.items())
    conn.execute(text("SET LOCAL jit = off"))  # compiling it costs more than it saves here
    conn.execute(
        text(
            f"""
INSERT INTO audit_entries (position, workspace_id, at, actor, kind, subject, subject_id,
    subject_version, stack_id, stack_name, member, summary)
SELECT e.notification_id, h.workspace_id, e.at, e.actor, e.kind,
    'chat', e.originator_id, e.originator_version, c.stack_id, h.name, NULL,
    CASE WHEN c.stack_id IS NOT NULL THEN e.summary END
FROM (SELECT notification_id, originator_id, originator_version, kind,
        (s->'timestamp'->>'_data_')::timestamptz AS at, {audit_sql.ACTOR_SQL} AS actor,
        CASE kind {summaries} END AS summary
      FROM (SELECT *, {audit_sql.quote_sql("question")} AS q
            FROM (SELECT *, {audit_sql.QUESTION_SQL} AS question
                  FROM (SELECT notification_id, originator_id, originator_version,
                          CASE topic {kinds} END AS kind,
                          convert_from(state, 'UTF8')::jsonb AS s
                        FROM {events}
                        WHERE topic = ANY(:chats) AND notification_id <= :last
                        OFFSET 0) AS parsed
                  OFFSET 0) AS asked
            OFFSET 0) AS quoted
     ) AS e
LEFT JOIN audit_sessions AS c ON c.chat_id = e.originator_id
LEFT JOIN audit_stack_spans AS h ON h.stack_id = c.stack_id
    AND e.notification_id > h.after AND e.notification_id <= h.until
"""
        ),
        {
            "chats": list(CHATS),
            "last": last,
            "whitespace": audit_sql.whitespace(),
            "spacy": audit_sql.spacy(),
            "keylike": audit_sql.keylike(),
        },
    )
