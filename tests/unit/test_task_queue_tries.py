"""How often a queued ingestion job is tried: its own failures count up to TRIES runs; a job
stopped with its process goes back to the queue whatever its count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from procrastinate.jobs import Job

from application.document.ingestion import Interrupted
from infrastructure.task_queue import QUEUE, TASK, TRIES, WAIT_BETWEEN_TRIES, Stopping, _Retry


def job(attempts: int) -> Job:
    return Job(
        id=1,
        queue=QUEUE,
        lock=None,
        queueing_lock=None,
        task_name=TASK,
        attempts=attempts,
    )


def strategy() -> _Retry:
    return _Retry(max_attempts=TRIES - 1, wait=WAIT_BETWEEN_TRIES)


def test_a_failing_job_runs_tries_times_in_all() -> None:
    runs = 0
    while True:
        runs += 1
        asked = datetime.now(UTC)
        decision = strategy().get_retry_decision(exception=RuntimeError(), job=job(runs - 1))
        if decision is None:
            break
        assert decision.retry_at is not None
        assert decision.retry_at >= asked + timedelta(seconds=WAIT_BETWEEN_TRIES)
    assert runs == TRIES


@pytest.mark.parametrize("stopped", [Stopping(), Interrupted("left between two slices")])
def test_a_job_stopped_with_its_process_always_goes_back(stopped: Exception) -> None:
    decision = strategy().get_retry_decision(exception=stopped, job=job(TRIES + 5))
    assert decision is not None and decision.retry_at is not None
    assert decision.retry_at <= datetime.now(UTC)  # at once
