"""Projections apply each event exactly once, resume after a crash, and can be rebuilt."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from eventsourcing.persistence import Tracking
from sqlalchemy import Connection, select

from application.workflow import commands as c
from domain.graph import Position
from infrastructure.readmodel.runner import ProjectionWorker
from infrastructure.readmodel.tables import published_versions, workflows
from infrastructure.readmodel.tracking import SqlTrackingView
from infrastructure.readmodel.workflows import WorkflowsProjection
from infrastructure.settings import Settings
from interfaces.bootstrap import Services, bootstrap
from tests.integration.workflow_ops import wait_for
from tests.pipelines import pipeline

GENAI_STACK = str(Path(sys.executable).parent / "genai-stack")


class Crash(Exception):
    """Stands for the process dying in the middle of a transaction."""


class CrashingView(SqlTrackingView):
    def __init__(self, *args: object, crash_at: int) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.crash_at = crash_at

    @contextmanager
    def transaction(self, tracking: Tracking) -> Iterator[Connection]:
        with super().transaction(tracking) as conn:
            yield conn  # the event's rows are written here…
            if tracking.notification_id == self.crash_at:
                raise Crash  # …and lost with the transaction, tracking row included


def make_history(services: Services, workflows_count: int = 3, edits: int = 12) -> None:
    svc = services.workflows
    for w in range(workflows_count):
        wid = pipeline(svc, "tester", f"Workflow {w}")
        svc.publish(c.Publish(workflow_id=wid, note="v1", actor="tester"))
        for i in range(edits):
            svc.move_node(
                c.MoveNode(workflow_id=wid, node_id="llm", position=Position(i, i), actor="tester")
            )
        svc.publish(c.Publish(workflow_id=wid, note="v2", actor="tester"))
        if w == 1:
            svc.delete(c.DeleteWorkflow(workflow_id=wid, actor="tester"))


def rows(services: Services) -> tuple[list, list]:
    with services.read_db.connect() as conn:
        return (
            [tuple(r) for r in conn.execute(select(workflows).order_by(workflows.c.id))],
            [
                tuple(r)
                for r in conn.execute(
                    select(published_versions).order_by(
                        published_versions.c.workflow_id, published_versions.c.number
                    )
                )
            ],
        )


def test_a_projection_killed_mid_transaction_resumes_to_the_rows_of_a_clean_rebuild(
    settings: Settings,
) -> None:
    services = bootstrap(settings)  # not started: we drive the workers by hand
    try:
        make_history(services)
        last = services.event_log.max_notification_id()
        crash_at = last // 2
        crashing = WorkflowsProjection(
            CrashingView(services.read_db, "workflows", crash_at=crash_at), services.event_log
        )
        worker = ProjectionWorker(services.event_log, crashing, services.watcher)
        with pytest.raises(Crash):
            worker.catch_up()
        assert worker.position == crash_at - 1  # the crashed event left no trace

        restarted = ProjectionWorker(
            services.event_log,
            WorkflowsProjection(SqlTrackingView(services.read_db, "workflows"), services.event_log),
            services.watcher,
        )
        assert restarted.catch_up() == last - crash_at + 1
        assert restarted.position == last
        assert restarted.catch_up() == 0  # nothing is applied twice
        resumed = rows(services)
        assert len(resumed[0]) == 2 and len(resumed[1]) == 4

        assert restarted.rebuild() == last
        assert rows(services) == resumed
    finally:
        services.stop()


def _worker_process(settings: Settings) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "GENAI_DATA_DIR": str(settings.genai_data_dir),
        "GENAI_POLL_SECONDS": "0.2",
    }
    return subprocess.Popen(
        [GENAI_STACK, "projections", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_killed_worker_process_is_replaced_by_another(settings: Settings) -> None:
    services = bootstrap(settings)
    first = second = None
    try:
        make_history(services, workflows_count=2, edits=40)
        worker = services.worker("workflows")
        first = _worker_process(settings)
        wait_for(lambda: worker.position == services.event_log.max_notification_id(), timeout=60)
        second = _worker_process(settings)  # waits on the advisory lock the first one holds
        make_history(services, workflows_count=1, edits=5)
        wait_for(lambda: worker.position == services.event_log.max_notification_id(), timeout=30)

        first.send_signal(signal.SIGKILL)
        first.wait(10)
        make_history(services, workflows_count=2, edits=60)  # only the second can apply these
        wait_for(lambda: worker.position == services.event_log.max_notification_id(), timeout=60)
        resumed = rows(services)
        assert len(resumed[0]) == 3  # five made, two deleted

        second.send_signal(signal.SIGKILL)
        second.wait(10)
        worker.rebuild()
        assert rows(services) == resumed
    finally:
        for p in (first, second):
            if p and p.poll() is None:
                p.kill()
                p.wait(10)
        services.stop()
