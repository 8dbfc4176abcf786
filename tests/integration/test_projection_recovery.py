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

from domain.graph import Position
from infrastructure.readmodel.runner import ProjectionWorker
from infrastructure.readmodel.tables import published_versions, workflows
from infrastructure.readmodel.tracking import SqlTrackingView
from infrastructure.readmodel.workflows import WorkflowsProjection
from infrastructure.settings import Settings
from interfaces.container import Container, build
from tests.integration.workflow_ops import wait_for

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


def make_history(container: Container, workflows_count: int = 3, edits: int = 12) -> None:
    svc = container.workflows
    for w in range(workflows_count):
        wf = svc.create(f"Workflow {w}", "", "tester")
        svc.add_node(wf.id, "q", "USER_QUERY", Position(0, 0), "tester")
        svc.add_node(wf.id, "llm", "LLM_ENGINE", Position(1, 0), "tester")
        svc.add_node(wf.id, "out", "OUTPUT", Position(2, 0), "tester")
        svc.connect(wf.id, "e1", "q", "llm", "tester")
        svc.connect(wf.id, "e2", "llm", "out", "tester")
        svc.publish(wf.id, "v1", "tester")
        for i in range(edits):
            svc.move_node(wf.id, "llm", Position(i, i), "tester", None)
        svc.publish(wf.id, "v2", "tester")
        if w == 1:
            svc.delete(wf.id, "tester")


def rows(container: Container) -> tuple[list, list]:
    with container.engine.connect() as conn:
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
    container = build(settings)  # not started: we drive the workers by hand
    try:
        make_history(container)
        last = container.store.max_notification_id()
        crash_at = last // 2
        crashing = WorkflowsProjection(
            CrashingView(container.engine, "workflows", crash_at=crash_at), container.store
        )
        worker = ProjectionWorker(container.store, crashing, container.watcher)
        with pytest.raises(Crash):
            worker.catch_up()
        assert worker.position == crash_at - 1  # the crashed event left no trace

        restarted = ProjectionWorker(
            container.store,
            WorkflowsProjection(SqlTrackingView(container.engine, "workflows"), container.store),
            container.watcher,
        )
        assert restarted.catch_up() == last - crash_at + 1
        assert restarted.position == last
        assert restarted.catch_up() == 0  # nothing is applied twice
        resumed = rows(container)
        assert len(resumed[0]) == 2 and len(resumed[1]) == 4

        assert restarted.rebuild() == last
        assert rows(container) == resumed
    finally:
        container.stop()


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
    container = build(settings)
    first = second = None
    try:
        make_history(container, workflows_count=2, edits=40)
        worker = container.worker("workflows")
        first = _worker_process(settings)
        wait_for(lambda: worker.position == container.store.max_notification_id(), timeout=60)
        second = _worker_process(settings)  # waits on the advisory lock the first one holds
        make_history(container, workflows_count=1, edits=5)
        wait_for(lambda: worker.position == container.store.max_notification_id(), timeout=30)

        first.send_signal(signal.SIGKILL)
        first.wait(10)
        make_history(container, workflows_count=2, edits=60)  # only the second can apply these
        wait_for(lambda: worker.position == container.store.max_notification_id(), timeout=60)
        resumed = rows(container)
        assert len(resumed[0]) == 3  # five made, two deleted

        second.send_signal(signal.SIGKILL)
        second.wait(10)
        worker.rebuild()
        assert rows(container) == resumed
    finally:
        for p in (first, second):
            if p and p.poll() is None:
                p.kill()
                p.wait(10)
        container.stop()
