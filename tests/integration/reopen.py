"""A store opened by a process that never held it in memory: fresh services whose read
models are rebuilt from the log, asked through the GraphQL API, once loading aggregates from
their snapshots and once replaying all their events (snapshots off). Shared by the
property-based tests of each aggregate, which build many stores in one test."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from hypothesis import settings as hypothesis_settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test
from starlette.testclient import TestClient

from application.eventlog.log import EventLog
from infrastructure.settings import Settings
from interfaces.app import create_app
from interfaces.bootstrap import Services, bootstrap
from tests.conftest import fresh_postgres_database, make_settings, migrated_postgres_template
from tests.integration.gql import GQL

T = TypeVar("T")

MAX_EVENTS = 400
READ_MODELS = ("workflows", "documents", "chats")  # not the ingestion: it would act


@contextmanager
def fresh_storage(backend: str) -> Iterator[Settings]:
    """Settings on a new, empty store of the backend, removed afterwards: one per example."""
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="genai-property-"))
        stack.callback(shutil.rmtree, tmp, True)
        url = (
            stack.enter_context(fresh_postgres_database(migrated_postgres_template()))
            if backend == "postgres"
            else None
        )
        yield make_settings(tmp / "data", url)


@contextmanager
def reopened(settings: Settings, *, snapshots: bool) -> Iterator[GQL]:
    own = settings.model_copy(update={"genai_snapshots": snapshots})
    services = bootstrap(own)
    try:
        for worker in services.workers:
            if worker.projection.name in READ_MODELS:
                worker.rebuild()
        with TestClient(create_app(own, services)) as client:
            yield GQL(client)
    finally:
        services.stop()


def both_ways(settings: Settings, ask: Callable[[GQL], T]) -> tuple[T, T]:
    """What `ask` gets from a process loading from snapshots, and from one replaying."""
    with reopened(settings, snapshots=True) as gql:
        from_snapshots = ask(gql)
    with reopened(settings, snapshots=False) as gql:
        replayed = ask(gql)
    return from_snapshots, replayed


def as_json(value: Any) -> str:
    """JSON as the API sent it, keys sorted: 1 and 1.0, or "1" and 1, differ here where
    Python's == would call them equal."""
    return json.dumps(value, sort_keys=True, indent=1)


def assert_same_json(actual: Any, expected: Any) -> None:
    assert as_json(actual) == as_json(expected)


def snapshot_versions(store: EventLog, aggregate_id: UUID) -> list[int]:
    assert store.snapshots is not None
    return [s.originator_version for s in store.snapshots.get(aggregate_id)]


def expected_snapshots(version: int, every: int) -> list[int]:
    return list(range(every, version + 1, every))


class Builder:
    """The services a property test builds history with (nothing started: no projections,
    no answering, no ingestion), on a fresh store; closed with `close()`."""

    def __init__(self, backend: str) -> None:
        self._stack = ExitStack()
        self.settings = self._stack.enter_context(fresh_storage(backend))
        self.services: Services = bootstrap(self.settings)
        self._stack.callback(self.services.stop)

    def close(self) -> None:
        self._stack.close()


class OnAFreshStore(RuleBasedStateMachine):
    """A state machine whose every run builds a history on a fresh store of `backend`, and
    checks it through the API at the end of the run."""

    backend = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self.builder = Builder(self.backend)

    def happened(self) -> bool:
        """Whether the run did anything (hypothesis gives up on some before their first step)."""
        raise NotImplementedError

    def check_through_the_api(self) -> None:
        raise NotImplementedError

    def teardown(self) -> None:
        try:
            if self.happened():
                self.check_through_the_api()
        finally:
            self.builder.close()


def run_on(machine: type[OnAFreshStore], backend: str, examples: int, steps: int) -> None:
    """Runs the machine on the backend: `examples` runs of `steps` steps, in the loaded
    profile (repeatable unless told otherwise)."""
    on_backend = type(f"{machine.__name__}On{backend}", (machine,), {"backend": backend})
    budget = hypothesis_settings(max_examples=examples, stateful_step_count=steps)
    run_state_machine_as_test(on_backend, settings=budget)
