"""The audit's words for a chat event, as PostgreSQL's SQL says them: `chat_summary`,
`quote`, `redact` and `_storable` (application/eventlog/audit_log.py,
infrastructure/readmodel/audit.py) written as SQL over an event's state parsed as `jsonb`,
so that a rebuild makes the rows of the log's chat events (nearly all of it) in one
INSERT..SELECT, without a Python object per event.

The regular expressions are PostgreSQL's (ARE): their character classes are made here from
what Python's `re` and `str.split` take, code point by code point, so they are the same sets
(Unicode whitespace, Python's word characters); `_KEYLIKE`'s alternatives cannot match at the
same place in a text (no two share a first character that could continue both), so
PostgreSQL's leftmost-longest match and Python's leftmost-first one find the same keys.

An event whose fields are not of the types our events write (content not a string, an
integer past what both sides print alike, a tag the decoder would refuse) gets no summary
(NULL): the insert fails on the column's NOT NULL, and the rebuild goes the Python way.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from functools import cache

from application.eventlog.audit_log import QUOTE, REDACTED

MAX_ACTOR = 200


def _ranges(chars: Iterable[str]) -> str:
    """A bracket expression's body naming exactly these characters, as escapes."""
    spans: list[list[int]] = []
    for c in sorted(map(ord, chars)):
        if spans and spans[-1][1] == c - 1:
            spans[-1][1] = c
        else:
            spans.append([c, c])
    return "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in spans)


@cache
def _every_character() -> str:
    return "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)


@cache
def whitespace() -> str:
    """A run of what `str.split()` splits on (the same set as `re`'s `\\s`)."""
    return f"[{_ranges(c for c in _every_character() if c.isspace())}]+"


@cache
def keylike() -> str:
    """`_KEYLIKE` in PostgreSQL's regular expressions."""
    word = _ranges(re.findall(r"\w", _every_character()))
    spaces = _ranges(re.findall(r"\s", _every_character()))
    bearer = "".join(
        f"[{_ranges(re.findall(f'(?i:{letter})', _every_character()))}]" for letter in "bearer"
    )
    token = "[A-Za-z0-9_-]"
    return (
        f"(?:sk-{token}{{8,}}"
        f"|gs[a-z]_{token}{{8,}}"
        f"|AIza{token}{{20,}}"
        f"|{bearer}[{spaces}]+[A-Za-z0-9._+/=-]{{8,}}"
        f"|gh[pousr]_[A-Za-z0-9]{{20,}}"
        f"|xox[abprs]-[A-Za-z0-9-]{{10,}}"
        f"|eyJ{token}{{8,}}\\.{token}{{8,}}\\.{token}*"
        f"|(?<![{word}])[A-Fa-f0-9]{{32,}}(?![{word}]))"
    )


@cache
def spacy() -> str:
    """A text that `" ".join(text.split())` changes: whitespace other than a space, two
    spaces, a space at an end (most questions have none: no replace to run)."""
    others = _ranges(c for c in _every_character() if c.isspace() and c != " ")
    return f"[{others}]|  |^ | $"


def quote_sql(text: str) -> str:
    """`quote(text)`'s text, without its quotation marks, of a SQL text expression:
    whitespace runs as one space, none at the ends, cut to QUOTE characters (code points,
    as `len`) with '…'. Three uses of `text`: a column, not an expression."""
    collapsed = (
        f"CASE WHEN {text} ~ :spacy "
        f"THEN btrim(regexp_replace({text}, :whitespace, ' ', 'g'), ' ') ELSE {text} END"
    )
    return (
        f"CASE WHEN char_length({collapsed}) <= {QUOTE} THEN {collapsed} "
        f"ELSE left({collapsed}, {QUOTE - 1}) || '…' END"
    )


# Every key `_KEYLIKE` masks holds one of these: a text without them is left as it is,
# without running the whole expression (the costlier one by far) over it.
MAYBE_KEY = "[0-9A-Fa-f]{32}|sk-|gs[a-z]_|AIza|[Bb][Ee][Aa][Rr][Ee][Rr]|gh[pousr]_|xox|eyJ"


def redact_sql(text: str) -> str:
    return (
        f"CASE WHEN {text} ~ '{MAYBE_KEY}' "
        f"THEN regexp_replace({text}, :keylike, '{REDACTED}', 'g') ELSE {text} END"
    )


def _tagged(field: str, tag: str) -> str:
    """The field holds a value the decoder gives back (else a cast error, or NULL): a
    UUID's hex (what else its dict holds, the audit does not read), a time alone in its
    dict (the entry's), as `isoformat` writes one with its offset ('now' or 'epoch' are
    times to PostgreSQL, not to `datetime.fromisoformat`)."""
    data = f"s->'{field}'->>'_data_'"
    if tag == "uuid_hex":
        return f"(s->'{field}'->>'_type_' = 'uuid_hex' AND ({data})::uuid IS NOT NULL)"
    return (
        f"(s->'{field}'->>'_type_' = '{tag}' "
        f"AND (s->'{field}') - '_type_' - '_data_' = '{{}}'::jsonb "
        f"AND ({data})::timestamptz IS NOT NULL "
        f"AND char_length({data}) IN (25, 32) AND substr({data}, 11, 1) = 'T')"
    )


def _text_or_none(field: str) -> str:
    """f"{d.get(field)}" of a string, null or absent field; NULL for any other type."""
    value = redact_sql(f"s->>'{field}'")
    return (
        f"CASE coalesce(jsonb_typeof(s->'{field}'), 'null') "
        f"WHEN 'string' THEN {value} WHEN 'null' THEN 'None' END"
    )


def _integer(value: str) -> str:
    """A JSON number Python reads as an `int` and prints as PostgreSQL does: no fraction,
    and below 1e16 (a float from there on is written 1e+16, which reads as an integer)."""
    return (
        f"CASE WHEN jsonb_typeof({value}) = 'number' THEN scale(({value})::numeric) = 0 "
        f"AND abs(({value})::numeric) < 1e16 ELSE false END"
    )


def _counted(value: str) -> str:
    """What `chat_summary` adds of a usage value (an `int`, a bool among them); NULL when
    a number could be a float past 1e16 (it cannot tell)."""
    return (
        f"CASE WHEN {_integer(value)} THEN ({value})::numeric "
        f"WHEN jsonb_typeof({value}) = 'boolean' THEN ({value})::boolean::int "
        f"WHEN jsonb_typeof({value}) <> 'number' THEN 0 "
        f"WHEN scale(({value})::numeric) > 0 THEN 0 END"
    )


_USAGE = "(s->'usage')"
_PROMPT, _COMPLETION = (
    _counted(f"{_USAGE}->'prompt_tokens'"),
    _counted(f"{_USAGE}->'completion_tokens'"),
)
_EACH = _counted("v")
# the tokens of the usage our answers record ({prompt_tokens, completion_tokens}) without a
# subquery; any other usage by one over its values
_TOKENS = f"""CASE
    WHEN jsonb_typeof({_USAGE}) = 'object'
         AND {_USAGE} - 'prompt_tokens' - 'completion_tokens' = '{{}}'::jsonb
         AND {_USAGE} ? 'prompt_tokens' AND {_USAGE} ? 'completion_tokens'
    THEN {_PROMPT} + {_COMPLETION}
    WHEN coalesce(jsonb_typeof({_USAGE}), 'null') = 'null' THEN 0
    WHEN jsonb_typeof({_USAGE}) = 'object' THEN
        (SELECT CASE WHEN coalesce(bool_and({_EACH} IS NOT NULL), true)
                THEN coalesce(sum({_EACH}), 0) END
         FROM jsonb_each({_USAGE}) AS usage(k, v))
    END"""

_MODEL = f"""CASE coalesce(jsonb_typeof(s->'model'), 'null') WHEN 'null' THEN 'a model'
    WHEN 'string' THEN CASE WHEN s->>'model' = '' THEN 'a model'
                       ELSE {redact_sql("s->>'model'")} END END"""

_PUBLISHED = f"""CASE coalesce(jsonb_typeof(s->'published_version'), 'null')
    WHEN 'null' THEN 'None'
    WHEN 'number' THEN CASE WHEN {_integer("s->'published_version'")}
                       THEN s->>'published_version' END END"""

_DRAFT = "coalesce(jsonb_typeof(s->'draft'), 'null') IN ('boolean', 'null')"

# Each chat event's summary (NULL: not one SQL says as Python does) and the fields its
# decoding turns into values. `redact` runs on the words taken from the event only: the
# words around them end in a space or a quotation mark, which neither ends nor begins a key
# (none is a word character, none is in a key's characters), so a key is the same, masked
# in them alone or in the whole summary. `q`: the question's quoted text.
SUMMARIES = {
    "ChatStarted": (
        f"CASE WHEN NOT {_DRAFT} THEN NULL WHEN (s->>'draft')::boolean "
        f"THEN 'Started a chat with the draft' ELSE 'Started a chat with v' || {_PUBLISHED} END",
        (("workflow_id", "uuid_hex"),),
    ),
    "UserAsked": (
        "CASE coalesce(jsonb_typeof(s->'content'), 'absent') "
        f"WHEN 'string' THEN 'Asked “' || {redact_sql('q')} || '”' "
        "WHEN 'absent' THEN 'Asked “”' END",
        (("message_id", "uuid_hex"),),
    ),
    "AssistantAnswered": (
        f"'Answered with ' || {_MODEL} || ' (' || ({_TOKENS}) || ' tokens)'",
        (("message_id", "uuid_hex"), ("question_id", "uuid_hex")),
    ),
    "AnswerFailed": (
        f"'Couldn''t answer: ' || {_text_or_none('code')}",
        (("message_id", "uuid_hex"), ("question_id", "uuid_hex")),
    ),
    "AnswerRated": ("'Answer rated'", (("message_id", "uuid_hex"),)),
}

# the question's text as `quote` makes it (a column of its own: `quote_sql` uses it thrice)
QUESTION_SQL = (
    "CASE WHEN jsonb_typeof(s->'content') = 'string' AND kind = 'UserAsked' THEN s->>'content' END"
)


def summary_sql(kind: str) -> str:
    """The entry's summary of a chat event of this kind (state `s`, question `q`): NULL
    when SQL cannot say it as Python does."""
    summary, tagged = SUMMARIES[kind]
    checks = " AND ".join(_tagged(f, t) for f, t in (("timestamp", "datetime_iso"), *tagged))
    actor = "coalesce(jsonb_typeof(s->'actor'), 'null') IN ('string', 'null')"
    return f"CASE WHEN {checks} AND {actor} THEN {summary} END"


ACTOR_SQL = f"CASE jsonb_typeof(s->'actor') WHEN 'string' THEN left(s->>'actor', {MAX_ACTOR}) END"
