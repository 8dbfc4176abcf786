"""The chats read model rebuilt by PostgreSQL from the events table, set-based: the rows
`ChatsProjection` makes event by event, made by one statement (an INSERT … SELECT per table
in its data-modifying CTEs).

The events are decoded once (`decoded`: typed columns, one row an event) and checked on the
way against what the Python path reads: the upcasts of older class versions,
the transcoder's tagged values (`uuid_hex`, `datetime_iso`), the JSON type of each value a
handler reads. Where the log holds what the Python path applies otherwise or cannot apply
(a value of another type, a tagged value anywhere else, a time not in UTC, a session event
without its start, a question settled twice or before it was asked, …) the rebuild is
refused, and the Python path rebuilds the read model, recording its failures as ever. A
state PostgreSQL's JSON refuses (NaN, a NUL, a lone surrogate) or a value a column cannot
hold fails a statement: the caller rolls back and takes the Python path too.
"""

from __future__ import annotations

from collections.abc import Mapping

from eventsourcing.utils import resolve_topic
from sqlalchemy import Connection, text

from application.eventlog.log import EventLog
from domain.chat import ChatSession
from infrastructure.prices import ModelPrice, price_of
from infrastructure.readmodel.rebuild import InDatabaseRebuildRefused, without_indexes
from infrastructure.readmodel.tables import answer_ratings, chat_messages, chat_sessions, usage

# the events the projection handles, by the kind the statement gives them (`k`)
KINDS = {
    "S": ChatSession.ChatStarted,
    "Q": ChatSession.UserAsked,
    "A": ChatSession.AssistantAnswered,
    "F": ChatSession.AnswerFailed,
    "R": ChatSession.AnswerRated,
}


# What each kind's handler reads of the state must be as the Python path reads it, or the
# rebuild is refused. `cv` is the stored class version (the library's upcasts run from it).
_STRING = "jsonb_typeof(({v})) = 'string'"
_INTEGER = (
    "CASE WHEN jsonb_typeof(({v})) = 'number' THEN ({v})::numeric = trunc(({v})::numeric) END"
)
_MAYBE_INTEGER = "({v}) IS NULL OR ({v}) = 'null' OR " + _INTEGER
# A tagged value as the transcoder writes it, its data a string. That it has no third key
# (which the Python path would leave undecoded) is not checked: it cost 0.7 s of the
# server's CPU in a 200k-event rebuild (of 6.5), and no encoder of ours writes one.
_TAGGED = "({v})->>'_type_' = '{tag}' AND jsonb_typeof(({v})->'_data_') = 'string'"
_UUID = _TAGGED.replace("{tag}", "uuid_hex")
# A list holding no tagged value (the Python path would decode it): in jsonb's text, which
# writes each key as `"key": ` and a quote inside a string as `\"`, no `"_type_": ` (a
# path query over every answer's sources cost a second in a 200k-event rebuild).
_LIST = (
    "jsonb_typeof(({v})) = 'array' AND (({v}) = '[]' OR strpos(({v})::text, '\"_type_\": ') = 0)"
)
_MAYBE_LIST = "({v}) IS NULL OR " + _LIST
# Usage(**usage): its two fields at most, integers
_USAGE = (
    "jsonb_typeof(({v})) = 'object' "
    "AND ({v}) - '{prompt_tokens,completion_tokens}'::text[] = '{}' "
    "AND (({v})->'prompt_tokens' IS NULL OR "
    + _INTEGER.replace("({v})", "(({v})->'prompt_tokens')")
    + ") AND (({v})->'completion_tokens' IS NULL OR "
    + _INTEGER.replace("({v})", "(({v})->'completion_tokens')")
    + ")"
)


def _all(*checks: tuple[str, str]) -> str:
    """Each (check, column) pair's check of the column, all of them."""
    return " AND ".join("(" + check.replace("{v}", column) + ")" for check, column in checks)


# Each kind's keys (its fields, and what the library adds): another key, none of ours, is
# refused, since it could hold a tagged value the Python path decodes or fails to decode.
_KEYS = {
    "S": "workflow_id,published_version,draft,originator_topic",
    "Q": "message_id,content,conversation,instructions",
    "A": "message_id,question_id,content,sources,model,usage,latency_ms,web_sources,"
    "workflow_version,published_version",
    "F": "message_id,question_id,code,message,workflow_version,published_version",
    "R": "message_id,rating,note",
}
_CHECKS = {
    "S": _all((_UUID, "workflow_id"), (_INTEGER, "published_version"))
    + " AND (cv < 2 OR jsonb_typeof(draft) = 'boolean')",  # version 1 has none
    "Q": _all((_UUID, "message_id"), (_STRING, "content"), (_MAYBE_LIST, "conversation"))
    + " AND (instructions IS NULL OR jsonb_typeof(instructions) = 'string')",
    "A": _all(
        (_UUID, "message_id"),
        (_UUID, "question_id"),
        (_STRING, "content"),
        (_LIST, "sources"),
        (_USAGE, "usage"),
        (_INTEGER, "latency_ms"),
        (_MAYBE_INTEGER, "workflow_version"),
        (_MAYBE_INTEGER, "published_version"),
    )
    + " AND jsonb_typeof(model) IN ('string', 'null')"
    + " AND (cv < 2 OR ("
    + _LIST.replace("{v}", "web_sources")
    + "))",  # version 1: none
    "F": _all(
        (_UUID, "message_id"),
        (_UUID, "question_id"),
        (_STRING, "code"),
        (_STRING, "message"),
        (_MAYBE_INTEGER, "workflow_version"),
        (_MAYBE_INTEGER, "published_version"),
    ),
    "R": _all((_UUID, "message_id"), (_STRING, "note"))
    + " AND jsonb_typeof(rating) IN ('string', 'null')",
}
_WELL_FORMED = (
    "cv >= 1 AND "
    + _all((_TAGGED.replace("{tag}", "datetime_iso"), "stamp"), (_STRING, "actor"))
    # what `isoformat` writes of a UTC time (no microseconds when 0): both read it alike
    + " AND right(stamp->>'_data_', 6) = '+00:00' AND length(stamp->>'_data_') IN (25, 32)"
    " AND substr(stamp->>'_data_', 11, 1) = 'T'"
    " AND CASE k "
    + " ".join(
        f"WHEN '{k}' THEN j - '{{timestamp,actor,class_version,{_KEYS[k]}}}'::text[] = '{{}}'"
        f" AND {_CHECKS[k]}"
        for k in _KEYS
    )
    + " END"
)
_FIELDS = [
    "actor",
    "workflow_id",
    "published_version",
    "draft",
    "message_id",
    "question_id",
    "content",
    "conversation",
    "instructions",
    "sources",
    "model",
    "usage",
    "latency_ms",
    "web_sources",
    "workflow_version",
    "code",
    "message",
    "rating",
    "note",
]

# The statement that fills the tables, or fills nothing and answers how many events the
# Python path applies otherwise. `decoded`: the events, one row each (`ok` false where the
# state is not as the Python path reads it), evaluated once (OFFSET 0: an inlined subquery's
# expressions are evaluated for every reference) and kept (MATERIALIZED) for the queries
# that read it; `ev`: the same without the messages' texts, which only `messages` reads.
_REBUILD = """
WITH decoded AS MATERIALIZED (
SELECT n, s, v, k, coalesce(WELL_FORMED, false) AS ok,
  (stamp->>'_data_')::timestamptz AS at,
  actor#>>'{}' AS actor,
  (message_id->>'_data_')::uuid AS message_id,
  (question_id->>'_data_')::uuid AS question_id,
  (workflow_id->>'_data_')::uuid AS workflow_id,
  content#>>'{}' AS content,
  sources,
  CASE WHEN k = 'A' THEN CASE WHEN cv < 2 THEN '[]' ELSE web_sources END END AS web_sources,
  model#>>'{}' AS model,
  coalesce((usage->>'prompt_tokens')::numeric, 0) AS prompt_tokens,
  coalesce((usage->>'completion_tokens')::numeric, 0) AS completion_tokens,
  (latency_ms#>>'{}')::numeric AS latency_ms,
  -- an answer before version 3, a failure before version 2: not known (the upcasts' None)
  CASE WHEN k = 'A' AND cv >= 3 OR k = 'F' AND cv >= 2
    THEN (workflow_version#>>'{}')::numeric END AS workflow_version,
  CASE WHEN k = 'A' AND cv >= 3 OR k = 'F' AND cv >= 2 OR k = 'S'
    THEN (published_version#>>'{}')::numeric END AS published_version,
  CASE WHEN k = 'S' THEN cv >= 2 AND draft = 'true' END AS draft,
  code#>>'{}' AS code, message#>>'{}' AS message, rating#>>'{}' AS rating,
  note#>>'{}' AS note
FROM (
  SELECT n, s, v, k, j, j->'timestamp' AS stamp, FIELDS,
    CASE WHEN NOT j ? 'class_version' THEN 1
      WHEN jsonb_typeof(j->'class_version') = 'number'
        AND (j->>'class_version')::numeric = trunc((j->>'class_version')::numeric)
      THEN (j->>'class_version')::numeric ELSE 0 END AS cv
  FROM (
    SELECT e.notification_id AS n, e.originator_id AS s, e.originator_version AS v, t.k,
      convert_from(e.state, 'UTF8')::jsonb AS j
    FROM EVENTS e
    JOIN unnest(CAST(:topics AS text[]), CAST(:kinds AS text[])) AS t(topic, k)
      ON t.topic = e.topic
    WHERE e.notification_id <= :last
    OFFSET 0
  ) raw
  OFFSET 0
) fields
),
ev AS MATERIALIZED (
  SELECT n, s, k, ok, at, actor, message_id, question_id, workflow_id, model, prompt_tokens,
    completion_tokens, workflow_version, published_version, draft, code, message, rating, note
  FROM decoded
),
sessions AS MATERIALIZED (
  SELECT s, count(*) FILTER (WHERE k = 'S') AS starts,
    min(n) FILTER (WHERE k = 'S') AS started, min(n) FILTER (WHERE k <> 'S') AS first,
    count(*) FILTER (WHERE k IN ('Q', 'A')) AS messages,
    count(*) FILTER (WHERE k = 'Q') - count(*) FILTER (WHERE k IN ('A', 'F')) AS waiting,
    max(n) FILTER (WHERE k IN ('Q', 'A', 'F')) AS touched
  FROM ev GROUP BY s
),
settled AS MATERIALIZED (
  SELECT question_id, count(*) AS times, min(n) AS first FROM ev WHERE k IN ('A', 'F')
  GROUP BY question_id
),
-- What the Python path cannot apply, or applies otherwise: a state not as it reads it; a
-- session's event without its start before it, or a second start (no row to change, or a
-- row there already: failures); a question settled twice, or by an event before it (the
-- later change wins, or finds no row to change).
refused AS MATERIALIZED (
  SELECT (SELECT count(*) FROM ev WHERE NOT ok)
    + (SELECT count(*) FROM sessions WHERE starts <> 1 OR first < started)
    + (SELECT count(*) FROM settled
       LEFT JOIN ev q ON q.k = 'Q' AND q.message_id = settled.question_id
       WHERE settled.times > 1 OR q.n IS NULL OR q.n > settled.first) AS events
),
-- Each session: its start, counted messages and waiting questions, and the time and actor
-- of its last question, answer or failure (its start's when none).
session_rows AS (
  INSERT INTO chat_sessions (id, workflow_id, published_version, created_at, updated_at,
    message_count, waiting, last_actor, author, draft)
  SELECT st.s, st.workflow_id, st.published_version, st.at, coalesce(t.at, st.at),
    c.messages, c.waiting, coalesce(t.actor, st.actor), st.actor, st.draft
  FROM ev st JOIN sessions c ON c.s = st.s LEFT JOIN ev t ON t.n = c.touched
  WHERE st.k = 'S' AND (SELECT events FROM refused) = 0
),
-- Questions (settled by their answer or failure, if any) and answers.
message_rows AS (
  INSERT INTO chat_messages (id, session_id, seq, role, content, sources, created_at,
    reply_to, model, prompt_tokens, completion_tokens, latency_ms, status, error_code,
    error_message, web_sources, workflow_version, published_version)
  SELECT e.message_id, e.s, e.v, CASE e.k WHEN 'Q' THEN 'USER' ELSE 'ASSISTANT' END,
    e.content, coalesce(e.sources, '[]'), e.at, e.question_id, e.model,
    CASE WHEN e.k = 'A' THEN e.prompt_tokens END,
    CASE WHEN e.k = 'A' THEN e.completion_tokens END, e.latency_ms,
    CASE WHEN e.k = 'A' OR f.k = 'A' THEN 'answered' WHEN f.k = 'F' THEN 'failed'
      ELSE 'pending' END,
    CASE WHEN f.k = 'F' THEN f.code END, CASE WHEN f.k = 'F' THEN nullif(f.message, '') END,
    coalesce(e.web_sources, '[]'),
    CASE WHEN e.k = 'A' THEN e.workflow_version WHEN f.k = 'F' THEN f.workflow_version END,
    CASE WHEN e.k = 'A' THEN e.published_version WHEN f.k = 'F' THEN f.published_version END
  FROM decoded e
  LEFT JOIN ev f ON e.k = 'Q' AND f.k IN ('A', 'F') AND f.question_id = e.message_id
  WHERE e.k IN ('Q', 'A') AND (SELECT events FROM refused) = 0
),
-- Answers by stack, UTC day and model (its cost: `_COSTS`, after).
usage_rows AS (
  INSERT INTO usage (workflow_id, day, model, answers, prompt_tokens, completion_tokens)
  SELECT st.workflow_id, (a.at AT TIME ZONE 'UTC')::date,
    left(coalesce(nullif(a.model, ''), 'unknown'), 200), count(*),
    sum(a.prompt_tokens), sum(a.completion_tokens)
  FROM ev a JOIN ev st ON st.k = 'S' AND st.s = a.s
  WHERE a.k = 'A' AND (SELECT events FROM refused) = 0
  GROUP BY 1, 2, 3
),
-- Each answer's last rating, unless withdrawn.
rating_rows AS (
  INSERT INTO answer_ratings (message_id, session_id, workflow_id, rating, note, actor,
    rated_at)
  SELECT r.message_id, r.s, st.workflow_id, r.rating, r.note, r.actor, r.at
  FROM (
    SELECT DISTINCT ON (message_id) * FROM ev WHERE k = 'R' ORDER BY message_id, n DESC
  ) r
  JOIN ev st ON st.k = 'S' AND st.s = r.s
  WHERE r.rating IS NOT NULL AND (SELECT events FROM refused) = 0
)
SELECT events FROM refused
""".replace("WELL_FORMED", "(" + _WELL_FORMED + ")").replace(
    "FIELDS", ", ".join(f"j->'{f}' AS {f}" for f in _FIELDS)
)

# A bucket's answers are all of its model: priced all or none. Its cost, the sum of its
# tokens' (the sum of its answers' costs, as the Python path adds them, but for the order
# of the floats' additions).
_COSTS = """
UPDATE usage SET cost_usd =
  (usage.prompt_tokens::float8 * p.input + usage.completion_tokens::float8 * p.output) / 1e6
FROM unnest(CAST(:models AS text[]), CAST(:inputs AS float8[]), CAST(:outputs AS float8[]))
  AS p(model, input, output)
WHERE usage.model = p.model
"""


def topics_by_kind(conn: Connection, events: str) -> tuple[list[str], list[str]]:
    """The topics of the log's events and the kind each is, as the Python side resolves them
    (a class renamed since keeps the topics it was stored under). Refused when a topic does
    not resolve: the Python pass meets that error."""
    topics: list[str] = []
    kinds: list[str] = []
    for (topic,) in conn.execute(text(f"SELECT DISTINCT topic FROM {events}")):
        try:
            cls = resolve_topic(topic)
        except Exception as error:
            raise InDatabaseRebuildRefused(f"topic {topic!r} does not resolve") from error
        for kind, handled in KINDS.items():
            if isinstance(cls, type) and issubclass(cls, handled):
                topics.append(topic)
                kinds.append(kind)
                break
    return topics, kinds


def rebuild(conn: Connection, log: EventLog, last: int, prices: Mapping[str, ModelPrice]) -> None:
    """Fills the emptied chats tables from the log's events up to notification `last`, in
    the caller's transaction (see `ChatsProjection.rebuild_in_database`)."""
    recorder = log.recorder
    schema, table = recorder.datastore.schema, recorder.events_table_name  # type: ignore[attr-defined]
    topics, kinds = topics_by_kind(conn, f'"{schema}"."{table}"')
    # the statement's estimated cost asks for JIT compilation, which costs more than it saves
    # here: 6.0–6.3 s of the server's CPU without, 6.5 with (200k events, alternating)
    conn.execute(text("SET LOCAL jit = off"))
    with without_indexes(conn, (chat_sessions, chat_messages, usage, answer_ratings)):
        refused = conn.execute(
            text(_REBUILD.replace("EVENTS", f'"{schema}"."{table}"')),
            {"topics": topics, "kinds": kinds, "last": last},
        ).scalar_one()
        if refused:
            raise InDatabaseRebuildRefused(
                f"{refused} chat events the Python path applies otherwise"
            )
    models = conn.execute(text("SELECT DISTINCT model FROM usage")).scalars().all()
    priced = {m: p for m in models if (p := price_of(prices, m)) is not None}
    conn.execute(
        text(_COSTS),
        {
            "models": list(priced),
            "inputs": [p.input for p in priced.values()],
            "outputs": [p.output for p in priced.values()],
        },
    )
