"""The audit hash chain: verification names the first event that no longer matches."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID, uuid4

from application.eventlog.audit import (
    GENESIS,
    Checkpoint,
    Link,
    Problem,
    checkpoints_among,
    event_hash,
    extend,
    verify,
)

TOPIC = "domain.workflow:Workflow.NodeAdded"


@dataclass(frozen=True)
class Event:
    id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


def a_log(count: int, gap_at: int | None = None) -> list[Event]:
    ids = [i for i in range(1, count + 2) if i != gap_at][:count]
    aggregate = uuid4()
    return [Event(n, aggregate, v + 1, TOPIC, b'{"n":%d}' % v) for v, n in enumerate(ids)]


def chained(events: list[Event]) -> tuple[list[Link], dict[int, Checkpoint]]:
    links = extend(None, events)
    return links, {c.seq: c for c in checkpoints_among(links, every=3)}


def test_an_untouched_log_verifies_with_its_count_and_last_hash() -> None:
    events = a_log(7)
    links, marks = chained(events)
    verdict = verify(events, links, marks, head=7)
    assert verdict.ok
    assert (verdict.checked, verdict.last_notification_id, verdict.checkpoints) == (7, 7, 2)
    assert verdict.last_hash == links[-1].hash != GENESIS


def test_each_hash_covers_the_previous_one() -> None:
    events = a_log(2)
    first = event_hash(GENESIS, events[0])
    assert extend(None, events)[1].hash == event_hash(first, events[1])
    assert event_hash(GENESIS[:-1] + "1", events[0]) != first


def test_the_chain_extends_from_its_head_as_if_built_at_once() -> None:
    events = a_log(5)
    head = extend(None, events[:2])[-1]
    assert extend(None, events)[2:] == extend(head, events[2:])


def test_a_changed_state_is_named_as_altered() -> None:
    events = a_log(6)
    links, marks = chained(events)
    events[3] = replace(events[3], state=b'{"n":99}')
    verdict = verify(events, links, marks, head=6)
    assert verdict.finding is not None
    assert verdict.finding.problem is Problem.ALTERED
    assert (verdict.finding.notification_id, verdict.finding.originator_version) == (4, 4)
    assert verdict.checked == 3


def test_every_field_of_the_stored_event_is_covered() -> None:
    events = a_log(3)
    links, marks = chained(events)
    for change in (
        {"originator_id": uuid4()},
        {"originator_version": 9},
        {"topic": "domain.workflow:Workflow.NodeRemoved"},
    ):
        tampered = [events[0], replace(events[1], **change), events[2]]  # type: ignore[arg-type]
        finding = verify(tampered, links, marks, head=3).finding
        assert finding is not None and finding.problem is Problem.ALTERED


def test_a_missing_event_is_named_as_removed_with_what_the_chain_recorded() -> None:
    events = a_log(5)
    links, marks = chained(events)
    finding = verify(events[:2] + events[3:], links, marks, head=5).finding
    assert finding is not None and finding.problem is Problem.REMOVED
    assert (finding.notification_id, finding.originator_id, finding.originator_version) == (
        3,
        str(events[2].originator_id),
        3,
    )


def test_the_last_event_removed_is_named_too() -> None:
    events = a_log(4)
    links, marks = chained(events)
    finding = verify(events[:3], links, marks, head=4).finding
    assert finding is not None and finding.problem is Problem.REMOVED
    assert finding.notification_id == 4


def test_an_event_slipped_into_a_gap_before_the_head_is_named_as_inserted() -> None:
    events = a_log(5, gap_at=3)
    links, marks = chained(events)
    forged = Event(3, uuid4(), 1, TOPIC, b"{}")
    finding = verify(sorted([*events, forged], key=lambda e: e.id), links, marks, head=6).finding
    assert finding is not None and finding.problem is Problem.INSERTED
    assert (finding.notification_id, finding.originator_id) == (3, str(forged.originator_id))


def test_events_after_the_head_are_pending_not_failures() -> None:
    events = a_log(6)
    links, marks = chained(events[:4])
    verdict = verify(events, links, marks, head=4)
    assert verdict.ok and (verdict.checked, verdict.pending) == (4, 2)


def test_a_chain_rewritten_to_cover_an_altered_event_breaks_its_checkpoint() -> None:
    events = a_log(6)
    _, marks = chained(events)
    events[1] = replace(events[1], state=b'{"forged":true}')
    rewritten = extend(None, events)
    finding = verify(events, rewritten, marks, head=6).finding
    assert finding is not None and finding.problem is Problem.CHAIN_ALTERED
    assert finding.notification_id == 3  # the first checkpoint


def test_a_link_removed_from_the_chain_is_named() -> None:
    events = a_log(4)
    links, marks = chained(events)
    finding = verify(events, links[:1] + links[2:], marks, head=4).finding
    assert finding is not None
    assert (finding.problem, finding.notification_id) == (Problem.INSERTED, 2)
