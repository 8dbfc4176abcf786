"""An API key given in a config is stored encrypted; the raw key is found nowhere else."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import psycopg
import pytest

from infrastructure.settings import Settings
from tests.integration.gql import GQL
from tests.integration.workflow_ops import (
    CONFIGURE,
    GET,
    HISTORY,
    LIST,
    build_pipeline,
    listed,
    wait_for,
)

RAW_KEY = "sk-proj-TOPSECRET-4f9a8b7c6d5e-wxyz"


def _all_text_in_database(settings: Settings) -> str:
    """Every table's every row, as text."""
    dump = []
    if settings.uses_postgres:
        with psycopg.connect(settings.database_url) as conn:
            tables = conn.execute(
                "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            ).fetchall()
            for schema, table in tables:
                rows = conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t').fetchall()
                dump += [r[0] for r in rows]
                # bytea columns print as hex: decode them too
                for (col,) in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema=%s AND table_name=%s AND data_type='bytea'",
                    (schema, table),
                ).fetchall():
                    dump += [
                        bytes(r[0]).decode("utf-8", "replace")
                        for r in conn.execute(
                            f'SELECT "{col}" FROM "{schema}"."{table}"'
                        ).fetchall()
                        if r[0] is not None
                    ]
    else:
        for file in Path(settings.data_dir()).rglob("*"):
            if file.is_file():
                dump.append(file.read_bytes().decode("utf-8", "replace"))
        for db in Path(settings.data_dir()).glob("*.sqlite3"):
            with sqlite3.connect(db) as conn:
                for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"):
                    dump += [repr(r) for r in conn.execute(f'SELECT * FROM "{table}"')]
                    dump += [
                        bytes(v).decode("utf-8", "replace")
                        for r in conn.execute(f'SELECT * FROM "{table}"')
                        for v in r
                        if isinstance(v, bytes)
                    ]
    return "\n".join(dump)


def test_the_raw_api_key_is_found_nowhere(
    gql: GQL, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wf = build_pipeline(gql)
    w = wf["id"]
    responses = [
        gql.raw(
            CONFIGURE,
            w=w,
            n="llm",
            c={"provider": "openai", "model": "gpt-4o-mini", "apiKey": RAW_KEY},
        ),
        gql.raw(CONFIGURE, w=w, n="kb", c={"embedder": "openai", "apiKey": f"  {RAW_KEY}  "}),
    ]
    llm = next(n for n in responses[0]["data"]["configureNode"]["nodes"] if n["id"] == "llm")
    assert llm["config"]["apiKey"]["hint"] == "…wxyz"
    assert llm["config"]["apiKey"]["secretRef"].startswith("sec_")
    assert responses[1]["data"]["configureNode"]["validation"]["valid"] is True

    # leaving the key out keeps it; sending the reference back keeps it too
    kept = gql(CONFIGURE, w=w, n="llm", c={"temperature": 0.5})["configureNode"]
    assert (
        next(n for n in kept["nodes"] if n["id"] == "llm")["config"]["apiKey"]
        == llm["config"]["apiKey"]
    )
    gql(CONFIGURE, w=w, n="llm", c={"apiKey": llm["config"]["apiKey"]})

    responses += [gql.raw(GET, w=w), gql.raw(HISTORY, w=w), gql.raw(LIST)]
    wait_for(lambda: (r := listed(gql, w)) and r["version"] == 13)
    assert RAW_KEY not in repr(responses)
    assert RAW_KEY not in _all_text_in_database(settings)
    assert RAW_KEY not in caplog.text

    # an empty key removes it
    cleared = gql(CONFIGURE, w=w, n="llm", c={"apiKey": ""})["configureNode"]
    assert "apiKey" not in next(n for n in cleared["nodes"] if n["id"] == "llm")["config"]
    assert {i["code"] for i in cleared["validation"]["issues"]} == {"MISSING_API_KEY"}


def test_the_stored_key_decrypts_for_the_server_only(settings: Settings) -> None:
    from interfaces.bootstrap import bootstrap

    services = bootstrap(settings)
    try:
        stored = services.workflows.secrets.put(RAW_KEY)
        assert services.workflows.secrets.get(stored.ref) == RAW_KEY
        assert stored.hint == "…wxyz"
        assert RAW_KEY not in _all_text_in_database(settings)
    finally:
        services.stop()
