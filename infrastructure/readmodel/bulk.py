"""Many new rows into one read table at once: with PostgreSQL by COPY (a page of a rebuild
writes thousands), elsewhere, or for a few rows, by one executemany INSERT. The rows are
those `insert(table)` would write: the columns the first row names (the others take their
defaults), JSON columns as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, Table, insert

COPY_FROM = 50  # rows: fewer go in one INSERT, as cheap as starting a COPY


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    if conn.dialect.name != "postgresql" or len(rows) < COPY_FROM:
        conn.execute(insert(table), list(rows))
        return
    columns = [c for c in table.columns if c.key in rows[0]]
    # as `insert` writes them: None as JSON null unless the type says SQL NULL
    as_json = [
        (isinstance(c.type, JSON), bool(getattr(c.type, "none_as_null", False))) for c in columns
    ]
    names = ", ".join(f'"{c.name}"' for c in columns)
    values = itemgetter(*(c.key for c in columns))
    # JSON as the text `json.dumps` writes, as `Jsonb(value, dumps=json.dumps)` sends it
    # (a string is sent as its text: the same row, without an adapter object per value)
    json_at = [(i, null) for i, (is_json, null) in enumerate(as_json) if is_json]
    driver: Any = conn.connection.driver_connection
    with (
        driver.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
    ):
        if len(columns) == 1:
            for row in rows:
                copy.write_row([_json(values(row), json_at[0][1]) if json_at else values(row)])
            return
        for row in rows:
            cells = list(values(row))
            for i, null in json_at:
                cells[i] = _json(cells[i], null)
            copy.write_row(cells)


def _json(value: Any, none_as_null: bool) -> str | None:
    return None if value is None and none_as_null else json.dumps(value)
