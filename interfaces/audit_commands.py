"""`genai-stack audit`: checks the event log against its hash chain."""

from __future__ import annotations

import json
from typing import Any

import typer

from application.eventlog.audit import Problem, Verdict

PROBLEMS = {
    Problem.ALTERED: "event altered",
    Problem.REMOVED: "event removed",
    Problem.INSERTED: "event inserted",
    Problem.CHAIN_ALTERED: "chain rewritten",
}

audit = typer.Typer(help="The audit hash chain over the event log.")


@audit.command("verify")
def verify(
    as_json: bool = typer.Option(False, "--json", help="Print the verdict as JSON."),
) -> None:
    """Recomputes the hash chain from the stored events and names the first event that was
    altered, removed or inserted since it was chained. Exits 1 when one was."""
    from infrastructure.audit_chain import SqlAuditChain, verify_log
    from infrastructure.settings import Settings
    from interfaces.bootstrap import bootstrap

    services = bootstrap(Settings())
    try:
        verdict = verify_log(services.event_log, SqlAuditChain(services.read_db))
    finally:
        services.stop()
    typer.echo(json.dumps(as_dict(verdict)) if as_json else in_words(verdict))
    raise typer.Exit(0 if verdict.ok else 1)


def as_dict(verdict: Verdict) -> dict[str, Any]:
    finding = verdict.finding
    return {
        "ok": verdict.ok,
        "verified": verdict.checked,
        "lastNotificationId": verdict.last_notification_id,
        "lastHash": verdict.last_hash,
        "checkpoints": verdict.checkpoints,
        "pending": verdict.pending,
        "finding": None
        if finding is None
        else {
            "problem": finding.problem.value,
            "notificationId": finding.notification_id,
            "originatorId": finding.originator_id,
            "originatorVersion": finding.originator_version,
            "topic": finding.topic,
            "detail": finding.detail,
        },
    }


def in_words(verdict: Verdict) -> str:
    finding = verdict.finding
    if finding is None:
        lines = [
            f"OK: {verdict.checked} events match the chain; last hash {verdict.last_hash}"
            f" (notification {verdict.last_notification_id}); "
            f"{verdict.checkpoints} checkpoints match"
        ]
    else:
        what = finding.topic.rsplit(":", 1)[-1] if finding.topic else "event"
        lines = [
            f"FAILED: {PROBLEMS[finding.problem]} at notification "
            f"{finding.notification_id}: {what} of aggregate {finding.originator_id}, "
            f"version {finding.originator_version}",
            f"  {finding.detail}",
            f"  {verdict.checked} events before it match the chain",
        ]
    if verdict.pending:
        lines.append(f"{verdict.pending} newer events are not chained yet")
    return "\n".join(lines)
