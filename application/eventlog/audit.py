"""The audit's hash chain: each stored event's hash covers the hash before it and the event
as stored, so changing, removing or slipping in an event breaks every hash from there on.

The chain follows the event log in notification order. Verifying walks the log and the chain
side by side and names the first event that no longer matches: altered (its hash differs),
removed (a link with no event), or inserted (an event the chain passed over). Checkpoints are
links copied aside every so often; a chain rewritten to cover an altered event no longer
matches them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

GENESIS = "0" * 64  # the hash before the first event
CHECKPOINT_EVERY = 1000


class StoredEvent(Protocol):
    """An event as the log stores it (eventsourcing's Notification)."""

    @property
    def id(self) -> int: ...
    @property
    def originator_id(self) -> object: ...
    @property
    def originator_version(self) -> int: ...
    @property
    def topic(self) -> str: ...
    @property
    def state(self) -> bytes: ...


@dataclass(frozen=True)
class Link:
    """One event's place in the chain."""

    seq: int
    notification_id: int
    originator_id: str
    originator_version: int
    hash: str


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    notification_id: int
    hash: str


def event_hash(previous: str, event: StoredEvent) -> str:
    """SHA-256 over the previous hash and the stored event's fields, each prefixed by its
    length, so that no two different events (or field boundaries) give the same bytes."""
    digest = hashlib.sha256(bytes.fromhex(previous))
    for part in (
        str(event.id).encode(),
        str(event.originator_id).encode(),
        str(event.originator_version).encode(),
        event.topic.encode(),
        bytes(event.state),
    ):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def extend(head: Link | None, events: Iterable[StoredEvent]) -> list[Link]:
    """The links that follow `head` for these events (in notification order)."""
    seq, previous = (head.seq, head.hash) if head else (0, GENESIS)
    links = []
    for event in events:
        seq += 1
        previous = event_hash(previous, event)
        links.append(
            Link(seq, event.id, str(event.originator_id), event.originator_version, previous)
        )
    return links


def checkpoints_among(links: Iterable[Link], every: int = CHECKPOINT_EVERY) -> list[Checkpoint]:
    return [Checkpoint(lk.seq, lk.notification_id, lk.hash) for lk in links if lk.seq % every == 0]


class Problem(StrEnum):
    ALTERED = "altered"
    REMOVED = "removed"
    INSERTED = "inserted"
    CHAIN_ALTERED = "chain_altered"


@dataclass(frozen=True)
class Finding:
    problem: Problem
    notification_id: int
    originator_id: str
    originator_version: int
    topic: str | None  # None when the event is gone
    detail: str


@dataclass
class Verdict:
    checked: int = 0  # events whose link matched
    last_notification_id: int = 0
    last_hash: str = GENESIS
    pending: int = 0  # events after the chain's head, not chained yet
    checkpoints: int = 0
    finding: Finding | None = None

    @property
    def ok(self) -> bool:
        return self.finding is None


def verify(
    events: Iterable[StoredEvent],
    links: Iterable[Link],
    checkpoints: Mapping[int, Checkpoint],
    head: int,
) -> Verdict:
    """Recomputes the chain from the events and compares it link by link; stops at the first
    finding. `head` is the notification id of the chain's last link (0: empty chain)."""
    verdict = Verdict()
    event_iter, link_iter = iter(events), iter(links)
    event, link = next(event_iter, None), next(link_iter, None)
    previous = GENESIS
    while event is not None or link is not None:
        if link is not None and (event is None or link.notification_id < event.id):
            verdict.finding = _removed(link)
            return verdict
        assert event is not None
        if link is None or event.id < link.notification_id:
            if event.id <= head:
                verdict.finding = _inserted(event)
                return verdict
            verdict.pending = 1 + sum(1 for _ in event_iter)
            return verdict
        computed = event_hash(previous, event)
        if computed != link.hash or link.seq != verdict.checked + 1:
            verdict.finding = _altered(event, link, computed)
            return verdict
        checkpoint = checkpoints.get(link.seq)
        if checkpoint is not None:
            if (checkpoint.notification_id, checkpoint.hash) != (event.id, computed):
                verdict.finding = _rewritten(event, checkpoint)
                return verdict
            verdict.checkpoints += 1
        previous = computed
        verdict.checked += 1
        verdict.last_notification_id, verdict.last_hash = event.id, computed
        event, link = next(event_iter, None), next(link_iter, None)
    return verdict


def _removed(link: Link) -> Finding:
    return Finding(
        Problem.REMOVED,
        link.notification_id,
        link.originator_id,
        link.originator_version,
        None,
        "the chain holds this event but the log does not",
    )


def _inserted(event: StoredEvent) -> Finding:
    return Finding(
        Problem.INSERTED,
        event.id,
        str(event.originator_id),
        event.originator_version,
        event.topic,
        "the log holds this event but the chain, which has passed it, does not",
    )


def _altered(event: StoredEvent, link: Link, computed: str) -> Finding:
    if computed == link.hash:
        detail = f"the chain's link {link.seq} is out of sequence (a link was removed)"
        return Finding(Problem.CHAIN_ALTERED, event.id, *_named(event), detail)
    return Finding(
        Problem.ALTERED,
        event.id,
        *_named(event),
        "the stored event does not match its hash (changed since it was chained)",
    )


def _rewritten(event: StoredEvent, checkpoint: Checkpoint) -> Finding:
    return Finding(
        Problem.CHAIN_ALTERED,
        event.id,
        *_named(event),
        f"checkpoint {checkpoint.seq} differs: the chain was rewritten before it",
    )


def _named(event: StoredEvent) -> tuple[str, int, str]:
    return str(event.originator_id), event.originator_version, event.topic
