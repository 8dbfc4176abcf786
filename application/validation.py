"""What the input of any command must be before a service sees it: text every store can hold,
finite numbers, bounded sizes and counts.

PostgreSQL's `text` and `jsonb` refuse the NUL character and UTF-8 has no lone surrogates: a
value holding either that reached an event could never be projected, and would stop the read
side for everyone. NaN and the infinities are not JSON. So they are refused at the edge, for
every command, with the name of the argument at fault; the aggregates check the business
rules (names not empty, labels within their length) as before.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from domain.chat import MAX_QUESTION
from domain.document import MAX_FILENAME
from domain.errors import InvalidCommand
from domain.workflow import MAX_DESCRIPTION, MAX_ID, MAX_LABEL, MAX_NAME

MAX_TEXT = 20_000  # any other string: the longest a prompt may be
MAX_KEY = 200  # a key of a JSON object
MAX_DEPTH = 12  # nesting of JSON values (a node's config is two levels deep)
MAX_ENTRIES = 1_000  # items of one JSON list or object
MAX_NODES = 500  # nodes of an imported graph
MAX_EDGES = 2_000  # edges of an imported graph
MAX_INTEGER = 2**53  # beyond it, JSON numbers lose precision between languages

# the longest text by the name of an argument, or of a key inside a JSON argument
TEXT_LIMITS: dict[str, int] = {
    "name": MAX_NAME,
    "description": MAX_DESCRIPTION,
    "note": MAX_DESCRIPTION,
    "label": MAX_LABEL,
    "content": MAX_QUESTION,
    "filename": MAX_FILENAME,
    "id": MAX_ID,
    "nodeId": MAX_ID,
    "edgeId": MAX_ID,
    "source": MAX_ID,
    "target": MAX_ID,
    "sourceHandle": MAX_ID,
    "targetHandle": MAX_ID,
    "kind": MAX_ID,
}
COUNT_LIMITS: dict[str, int] = {"nodes": MAX_NODES, "edges": MAX_EDGES}


def check_arguments(arguments: Mapping[str, Any]) -> None:
    """Raises InvalidCommand naming the first argument (or part of one) that cannot be stored."""
    for name, value in arguments.items():
        _check(value, name, name, 0)


def check_text(value: str, where: str, limit: int = MAX_TEXT) -> None:
    if "\x00" in value:
        raise InvalidCommand(f"{where}: contains a NUL character, which cannot be stored")
    if not _encodable(value):
        raise InvalidCommand(f"{where}: contains a lone surrogate, which is not Unicode text")
    if len(value.strip()) > limit:
        raise InvalidCommand(f"{where}: longer than {limit} characters")


def _check(value: Any, key: str, where: str, depth: int) -> None:
    if isinstance(value, str):
        check_text(value, where, TEXT_LIMITS.get(key, MAX_TEXT))
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidCommand(f"{where}: must be a finite number, not {value}")
    elif isinstance(value, int):
        if abs(value) > MAX_INTEGER:
            raise InvalidCommand(f"{where}: must be within ±2^53")
    elif isinstance(value, Mapping | list | tuple):
        _check_container(value, key, where, depth)
    else:
        _check_object(value, where)


def _check_container(
    value: Mapping[str, Any] | list[Any] | tuple[Any, ...], key: str, where: str, depth: int
) -> None:
    if depth >= MAX_DEPTH:
        raise InvalidCommand(f"{where}: nested more than {MAX_DEPTH} levels deep")
    limit = COUNT_LIMITS.get(key, MAX_ENTRIES) if depth == 0 else MAX_ENTRIES
    if len(value) > limit:
        raise InvalidCommand(f"{where}: more than {limit} entries")
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidCommand(f"{where}: keys must be text")
            check_text(k, f"{where}: a key", MAX_KEY)
            _check(v, k, f"{where}.{k}", depth + 1)
    else:
        for i, v in enumerate(value):
            _check(v, key, f"{where}[{i}]", depth + 1)


def _check_object(value: object, where: str) -> None:
    """Values the transport made (an uploaded file, an enum member, a UUID): only the text a
    client chose is checked, the name of an uploaded file."""
    filename = getattr(value, "filename", None)
    if isinstance(filename, str):
        check_text(filename, f"{where}: the file name", MAX_FILENAME)


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
