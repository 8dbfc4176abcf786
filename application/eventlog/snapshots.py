"""Snapshots are a cache of replays: one that cannot be trusted is ignored, never obeyed.

A snapshot may have been written by an older version of this code (an aggregate that had
fewer attributes, a value this version cannot decode), so the repository loads from the
newest snapshot only when it decodes, projects and looks like the aggregate its creation
makes; otherwise it replays the aggregate's events, and says so once per aggregate. (Older
snapshots that hold a string enum as its plain string do decode: the value objects give
their fields their types.)
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProjectorFunction,
    Repository,
    project_aggregate,
)
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import EventStore, IntegrityError, StoredEvent

from application.eventlog.loaded import LoadedAggregates

log = logging.getLogger(__name__)

_NOT_STATE = frozenset({"_pending_events"})


class UntrustedSnapshot(Exception):
    pass


class CheckedSnapshotRepository(Repository[UUID]):
    """Repository.get(id, version=N) reconstructs through `_reconstruct_aggregate`, which is
    where the snapshot is checked. get(id) does too the first time; then the aggregate is
    kept (application/eventlog/loaded.py) and brought up to date from the log on each load
    (the library's own aggregate cache is not used: it changes its cached aggregate in place
    while other threads copy it). `deepcopy_from_cache=False` (the library's name for it):
    the caller only reads the aggregate, which may then be the one kept, shared."""

    def __init__(
        self,
        events: EventStore[UUID],
        snapshots: EventStore[UUID] | None,
        loaded: LoadedAggregates | None = None,
    ) -> None:
        super().__init__(events, snapshot_store=snapshots)
        self._shapes: dict[type, dict[str, type | None]] = {}
        self._reported: set[UUID] = set()
        self.loaded = loaded

    def get(
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> Any:
        if self.loaded is None or version is not None or projector_func is not project_aggregate:
            return self._reconstruct_aggregate(aggregate_id, version, projector_func)
        kept = self.loaded.get(aggregate_id)
        if kept is None:
            aggregate = self._reconstruct_aggregate(aggregate_id, None, projector_func)
            self.loaded.keep(aggregate, shared=not deepcopy_from_cache)
            return aggregate
        newer = list(self.event_store.get(originator_id=aggregate_id, gt=kept.version))
        if not newer:
            return kept.copy() if deepcopy_from_cache else kept.shared()
        aggregate = project_aggregate(kept.copy(), newer)
        if aggregate is None:
            raise AggregateNotFoundError(f"Aggregate {aggregate_id!r} not found.")
        self.loaded.keep(aggregate, shared=not deepcopy_from_cache)
        return aggregate

    def _reconstruct_aggregate(
        self,
        aggregate_id: UUID,
        version: int | None,
        projector_func: ProjectorFunction[Any, Any],
    ) -> Any:
        snapshot = self._newest_snapshot(aggregate_id, version)
        if snapshot is not None:
            try:
                aggregate = self._project(aggregate_id, version, projector_func, snapshot)
                self._check_shape(aggregate)
                return aggregate
            except AggregateNotFoundError:
                raise
            except Exception as error:
                self._ignore(aggregate_id, snapshot.originator_version, error)
        return self._project(aggregate_id, version, projector_func, None)

    def _newest_snapshot(self, aggregate_id: UUID, version: int | None) -> Snapshot | None:
        if self.snapshot_store is None:
            return None
        stored = self.snapshot_store.recorder.select_events(
            aggregate_id, desc=True, limit=1, lte=version
        )  # a failing database raises here, as it would for the events
        if not stored:
            return None
        try:
            snapshot = self.snapshot_store.mapper.to_domain_event(stored[0])
        except Exception as error:
            self._ignore(aggregate_id, stored[0].originator_version, error)
            return None
        return snapshot  # type: ignore[return-value]

    def _project(
        self,
        aggregate_id: UUID,
        version: int | None,
        projector_func: ProjectorFunction[Any, Any],
        snapshot: Snapshot | None,
    ) -> Any:
        gt = snapshot.originator_version if snapshot is not None else None
        events = self.event_store.get(originator_id=aggregate_id, gt=gt, lte=version)
        aggregate = projector_func(None, chain([snapshot] if snapshot else [], events))
        if aggregate is None:
            msg = f"Aggregate {aggregate_id!r} version {version!r} not found."
            raise AggregateNotFoundError(msg)
        return aggregate

    def _check_shape(self, aggregate: Any) -> None:
        """Refuses an aggregate that lacks an attribute its creation gives, or holds one of
        another type (None aside): what a snapshot of an older layout decodes into."""
        shape = self._shapes.get(type(aggregate))
        if shape is None:
            created = project_aggregate(None, self.event_store.get(aggregate.id, lte=1))
            shape = {
                name: None if value is None else type(value)
                for name, value in vars(created).items()
                if name not in _NOT_STATE
            }
            self._shapes[type(aggregate)] = shape
        state = vars(aggregate)
        for name, kind in shape.items():
            if name not in state:
                raise UntrustedSnapshot(f"it has no {name}")
            value = state[name]
            if kind is not None and value is not None and not isinstance(value, kind):
                raise UntrustedSnapshot(
                    f"its {name} is a {type(value).__name__}, not a {kind.__name__}"
                )

    def _ignore(self, aggregate_id: UUID, version: int, error: Exception) -> None:
        if aggregate_id in self._reported:
            return
        self._reported.add(aggregate_id)
        log.warning(
            "snapshot of %s at version %d ignored (%s: %s); replaying its events instead "
            "(`genai-stack snapshots rebuild` rewrites snapshots)",
            aggregate_id,
            version,
            type(error).__name__,
            error,
        )


# ---------------------------------------------------------------- rebuilding


@dataclass
class RebuildCounts:
    aggregates: Counter[str] = field(default_factory=Counter)
    written: Counter[str] = field(default_factory=Counter)
    deleted: int = 0


def rebuild_snapshots(
    store: Application[UUID], aggregate_ids: Iterable[UUID], delete: Callable[[UUID], int]
) -> RebuildCounts:
    """Replays each aggregate from its events alone and writes a snapshot at every multiple
    of its type's interval, after deleting whatever snapshots it had (`delete` removes an
    aggregate's snapshots and says how many there were)."""
    counts = RebuildCounts()
    for aggregate_id in aggregate_ids:
        aggregate, stored = _replay_taking_snapshots(store, aggregate_id)
        if aggregate is None:
            continue
        counts.aggregates[type(aggregate).__name__] += 1
        counts.deleted += _replace_snapshots(store, aggregate_id, stored, delete)
        counts.written[type(aggregate).__name__] += len(stored)
    return counts


def _replay_taking_snapshots(
    store: Application[UUID], aggregate_id: UUID
) -> tuple[Any, list[StoredEvent]]:
    aggregate: Any = None
    stored: list[StoredEvent] = []
    for event in store.events.get(aggregate_id):
        aggregate = project_aggregate(aggregate, [event])
        interval = store.snapshotting_intervals.get(type(aggregate))
        if interval and aggregate.version % interval == 0:
            snapshot_class = getattr(type(aggregate), "Snapshot", Snapshot)
            # encoded at once: the next events change the state the snapshot refers to
            stored.append(store.mapper.to_stored_event(snapshot_class.take(aggregate)))
    return aggregate, stored


def _replace_snapshots(
    store: Application[UUID],
    aggregate_id: UUID,
    stored: list[StoredEvent],
    delete: Callable[[UUID], int],
) -> int:
    deleted = 0
    for _ in range(3):
        deleted += delete(aggregate_id)
        if not stored:
            return deleted
        try:
            assert store.snapshots is not None
            store.snapshots.recorder.insert_events(stored)
            return deleted
        except IntegrityError:
            continue  # a running server took one of these meanwhile: clear and write again
    raise IntegrityError(f"snapshots of {aggregate_id} kept being written while rebuilt")
