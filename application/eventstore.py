"""The one event log of GenAI Stack: every aggregate's events, in one notification sequence.

One log (rather than one application per aggregate) lets a single follower feed the read
models, the ingestion process and live subscriptions in the order things happened.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any, TypeVar

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording, Transcoding

from domain.chat import ChatSession, Question
from domain.components import NodeKind
from domain.document import DocumentIndex, DocumentStatus
from domain.graph import Edge, Node, Position
from domain.knowledge_base import IndexSettings
from domain.workflow import PublishedVersion, Workflow

SNAPSHOT_EVERY = 100
MAX_ATTEMPTS = 60

A = TypeVar("A")


class _NodeKindAsStr(Transcoding):
    type = NodeKind
    name = "node_kind"

    def encode(self, obj: NodeKind) -> str:
        return obj.value

    def decode(self, data: str) -> NodeKind:
        return NodeKind(data)


def _dataclass_transcoding(cls: type, factory: Callable[[Mapping[str, Any]], Any]) -> Transcoding:
    """Snapshots hold our value objects; they travel as dicts."""

    class AsDict(Transcoding):
        type = cls
        name = cls.__name__.lower()

        def encode(self, obj: Any) -> dict[str, Any]:
            return {k: getattr(obj, k) for k in obj.__dataclass_fields__}

        def decode(self, data: Mapping[str, Any]) -> Any:
            return factory(data)

    return AsDict()


def _document_index(data: Mapping[str, Any]) -> DocumentIndex:
    return DocumentIndex(**{**data, "status": DocumentStatus(data["status"])})


def _published(data: Mapping[str, Any]) -> PublishedVersion:
    return PublishedVersion(
        **{**data, "nodes": tuple(data["nodes"]), "edges": tuple(data["edges"])}
    )


class EventStore(Application[Any]):
    name = "genai"
    snapshotting_intervals = {Workflow: SNAPSHOT_EVERY, ChatSession: SNAPSHOT_EVERY}  # noqa: RUF012

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env=env)
        self._listeners: list[Callable[[int], None]] = []

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(_NodeKindAsStr())
        transcoder.register(_dataclass_transcoding(Position, lambda d: Position(**d)))
        transcoder.register(_dataclass_transcoding(Node, lambda d: Node(**d)))
        transcoder.register(_dataclass_transcoding(Edge, lambda d: Edge(**d)))
        transcoder.register(_dataclass_transcoding(PublishedVersion, _published))
        transcoder.register(_dataclass_transcoding(Question, lambda d: Question(**d)))
        transcoder.register(_dataclass_transcoding(IndexSettings, IndexSettings.from_dict))
        transcoder.register(_dataclass_transcoding(DocumentIndex, _document_index))

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
    store: EventStore,
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
