"""`python -m bench.scale --quick` runs and prints the figures' JSON in its shape (its speed
is what the bench is for, not the test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import PG_ADMIN

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = {"p50", "p95", "p99", "max"}


def test_the_quick_scale_bench_prints_every_figure() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_ADMIN_URL": PG_ADMIN}
    done = subprocess.run(
        [sys.executable, "-m", "bench.scale", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)

    assert figures["quick"] is True and figures["synchronous_commit"] == "off"
    retrieval = figures["retrieval"]
    assert retrieval["chunks"] >= 1000 and retrieval["dimensions"] == 384
    for name in (
        "ours_ms",
        "ours_one_document_not_answering_ms",
        "raw_chroma_query_ms",
        "chroma_filtered_query_ms",
    ):
        assert set(retrieval[name]) == SUMMARY
    assert isinstance(retrieval["goal_met"], bool)
    rebuild = figures["rebuild"]
    assert rebuild["events"] >= 2000
    rebuilt = rebuild["projection_rebuild"]
    every = ["workflows", "documents", "chats", "workspaces", "audit_log", "ingestion"]
    assert sorted(rebuilt["projections"]) == sorted(every)  # all, as the command rebuilds
    assert rebuilt["events_applied"] == {name: rebuild["events"] for name in every}
    assert rebuilt["rows"]["chat_messages"] > 0 and rebuilt["rows"]["workflows"] == 20
    assert rebuilt["rows"]["audit_entries"] == rebuild["events"]  # an entry per event
    assert rebuild["raw_read"]["events_per_second"] > 0 and rebuild["ratio"] > 0
    append = figures["append"]
    for side in ("ours", "raw_insert"):
        assert append[side]["ops_per_second"] > 0 and set(append[side]["ms"]) == SUMMARY
    assert append["ratio"] > 0
    lag = figures["lag"]
    assert lag["seen"] == lag["events"] > 0  # every event became visible
    assert set(lag["lag_ms"]) == SUMMARY
