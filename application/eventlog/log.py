"""The one event log of GenAI Stack: every aggregate's events, in one notification sequence.

One log (rather than one application per aggregate) lets a single follower feed the read
models, the ingestion process and live subscriptions in the order things happened.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import (
    Application,
    ProcessingEvent,
    ProjectorFunction,
    Repository,
    project_aggregate,
)
from eventsourcing.domain import Aggregate, Snapshot
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording, Transcoder

from application.eventlog.loaded import MAX_AGGREGATES, LoadedAggregates
from application.eventlog.snapshots import CheckedSnapshotRepository
from application.eventlog.transcodings import TypedJSONTranscoder, register_domain_transcodings
from domain.chat import ChatSession
from domain.components import NodeKind
from domain.document import Document
from domain.workflow import Workflow
from domain.workspace import Workspace

SNAPSHOT_EVERY = 100
MAX_ATTEMPTS = 60

A = TypeVar("A")

log = logging.getLogger(__name__)


class EventLog(Application[Any]):
    name = "genai"
    snapshotting_intervals = {  # noqa: RUF012
        Workflow: SNAPSHOT_EVERY,
        ChatSession: SNAPSHOT_EVERY,
        Document: SNAPSHOT_EVERY,
        Workspace: SNAPSHOT_EVERY,
    }

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env=env)
        self._listeners: list[Callable[[int], None]] = []

    def construct_transcoder(self) -> Transcoder:
        transcoder = TypedJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    def construct_repository(self) -> Repository[Any]:
        """Loaded aggregates are kept and brought up to date (application/eventlog/loaded.py)
        unless the library's AGGREGATE_CACHE_MAXSIZE setting is 0 (a number: how many)."""
        size = int(self.env.get(self.AGGREGATE_CACHE_MAXSIZE) or MAX_AGGREGATES)
        loaded = LoadedAggregates(size) if size > 0 else None
        return CheckedSnapshotRepository(self.events, self.snapshots, loaded)

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[Any]]:
        """As the library's `save` (collect the pending events, record them, take the
        snapshots due, tell the listeners), with two costs of its own left out: an aggregate
        is recognised by its class, where the library asks two runtime protocols (~10 µs a
        save, measured), and a snapshot due is taken from the aggregate just saved (see
        `_take_snapshots`)."""
        processing_event: ProcessingEvent[Any] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, Aggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            else:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # the library's deprecated hook, as it calls it
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[Any]) -> None:
        """A snapshot due at the version an aggregate was just saved at is taken from that
        aggregate: its state is the one its recorded events give, since every change to it
        is an event applied to it. The library reloads it from the log instead (the newest
        snapshot and up to a hundred events read and decoded: ~5 ms, once a hundred saves).
        A snapshot due at an earlier version (several events saved at once) is taken the
        library's way."""
        if self.snapshots is None or not self.snapshotting_intervals:
            return
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            if aggregate is None:
                continue
            interval = self.snapshotting_intervals.get(type(aggregate))
            if interval is None or event.originator_version % interval:
                continue
            if aggregate.version == event.originator_version and not getattr(
                aggregate, "pending_events", ()
            ):
                self._put_snapshot(aggregate)
            else:
                self.take_snapshot(event.originator_id, event.originator_version)

    def _put_snapshot(self, aggregate: Any) -> None:
        snapshot_class = getattr(type(aggregate), "Snapshot", None) or Snapshot
        try:
            assert self.snapshots is not None
            self.snapshots.put([snapshot_class.take(aggregate)])
        except IntegrityError:
            pass  # another process (or a rebuild) took this one
        except Exception:
            log.exception("no snapshot of %s at version %s", aggregate.id, aggregate.version)

    def close(self) -> None:
        """Closes the recorder's own connection (PostgreSQL's keeps one for appends), then
        the library's infrastructure."""
        close = getattr(self.recorder, "close", None)
        if callable(close):
            close()
        super().close()

    def take_snapshot(
        self,
        aggregate_id: Any,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
    ) -> None:
        """Snapshots are taken after the events are stored, so a failure to take one must
        not fail the command: it is logged, and loads replay until the next one."""
        try:
            super().take_snapshot(aggregate_id, version, projector_func)
        except IntegrityError:
            pass  # another process (or a rebuild) took this one
        except Exception:
            log.exception("no snapshot of %s at version %s", aggregate_id, version)

    def aggregate_ids(self) -> Iterator[UUID]:
        """Every aggregate ever created, in the order of creation."""
        start = 1
        while notifications := self.recorder.select_notifications(start=start, limit=500):
            for n in notifications:
                if n.originator_version == 1:
                    yield UUID(str(n.originator_id))
            start = notifications[-1].id + 1

    def on_saved(self, listener: Callable[[int], None]) -> None:
        """Calls listener(max notification id) after each save in this process."""
        self._listeners.append(listener)

    def _notify(self, recordings: list[Recording[Any]]) -> None:
        ids = [r.notification.id for r in recordings if r.notification.id is not None]
        if ids:
            for listener in self._listeners:
                listener(max(ids))

    def max_notification_id(self) -> int:
        return self.recorder.max_notification_id() or 0


def event_payload(event: Any) -> dict[str, Any]:
    """An event's own data, as recorded, without the envelope (id, version, time, actor)."""
    envelope = {"originator_id", "originator_version", "timestamp", "actor", "originator_topic"}
    data = {k: v for k, v in event.__dict__.items() if k not in envelope}
    return _plain(data)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return _plain(asdict(value))
    if isinstance(value, NodeKind):
        return value.value
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def change_with_retry(
    store: EventLog,
    load: Callable[[], A],
    command: Callable[[A], object],
    *,
    on_clash: Callable[[], None] = lambda: None,
    too_busy: Callable[[], Exception],
    attempts: int = MAX_ATTEMPTS,
) -> A:
    """Loads the freshest aggregate, applies the command and saves; on a version clash
    (someone saved first) calls `on_clash` (which may refuse, e.g. with CONFLICT) and
    otherwise tries again on the fresh state, with a short jittered pause, so concurrent
    writers lose nothing. Raises `too_busy()` when every attempt clashed."""
    for attempt in range(attempts):
        aggregate = load()
        command(aggregate)
        if not getattr(aggregate, "pending_events", True):
            return aggregate  # nothing to record
        try:
            store.save(aggregate)  # type: ignore[arg-type]
        except IntegrityError:
            on_clash()
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
            continue
        return aggregate
    raise too_busy()
