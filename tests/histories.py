"""Random histories for property tests of projections: commands chosen at random and saved
through the real event log until the log has grown by a number of events."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from application.eventlog.log import EventLog


def save_random_steps(
    store: EventLog,
    events: int,
    rng: random.Random,
    steps: Sequence[Callable[[], Any]],
    weights: Sequence[float],
) -> None:
    """Runs steps chosen by weight until `events` more events are stored. A step returns
    the aggregate it changed (saved then) or None; a command the domain refuses stores
    nothing and is passed over, any other error is the test's."""
    stored = store.max_notification_id()
    while store.max_notification_id() < stored + events:
        step = rng.choices(steps, weights)[0]
        try:
            changed = step()
        except Exception as refused:
            if type(refused).__module__.startswith("domain"):
                continue
            raise
        if changed is not None:
            store.save(changed)
