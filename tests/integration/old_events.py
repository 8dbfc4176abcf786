"""Events as older code stored them, to prove that they still load."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import StoredEvent

from application.eventlog.log import EventLog


def stored_as_version_1(store: EventLog, event: Any, *added: str) -> StoredEvent:
    """`event` as the code before its version 2 stored it: without the fields later versions
    added, and without a class_version."""
    record = store.mapper.to_stored_event(event)
    state = store.mapper.transcoder.decode(record.state)
    assert state.pop("class_version") > 1
    for name in added:
        del state[name]
    return StoredEvent(
        originator_id=record.originator_id,
        originator_version=record.originator_version,
        topic=record.topic,
        state=store.mapper.transcoder.encode(state),
    )
