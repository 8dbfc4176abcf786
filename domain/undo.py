"""Each person's undo and redo stacks of a workflow: their own changes they can take back,
and the ones they took back and can do again, newest last.

The stacks are part of the workflow's state, derived from its events like the rest of it, so
they survive a reload. They are kept as plain JSON (lists of dicts, keyed by actor), which is
what snapshots hold without any transcoding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.changes import Delta

UNDO_DEPTH = 100  # steps kept per person; older ones can no longer be undone

Stacks = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Step:
    """One change a person can take back (or do again)."""

    version: int  # the workflow version the change made
    type: str  # the change's event type, e.g. NodeMoved
    delta: Delta  # what the change did
    about: dict[str, Any] = field(default_factory=dict)  # what the delta cannot tell

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "type": self.type,
            "delta": self.delta.to_dict(),
            "about": dict(self.about),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        return cls(
            int(data["version"]),
            str(data["type"]),
            Delta.from_dict(data["delta"]),
            dict(data.get("about") or {}),
        )


def push(stacks: Stacks, actor: str, step: Step) -> None:
    steps = stacks.setdefault(actor, [])
    steps.append(step.to_dict())
    del steps[:-UNDO_DEPTH]


def top(stacks: Mapping[str, list[dict[str, Any]]], actor: str) -> Step | None:
    steps = stacks.get(actor)
    return Step.from_dict(steps[-1]) if steps else None


def move(source: Stacks, target: Stacks, actor: str, version: int) -> None:
    """Moves the actor's step for `version` from one stack onto the other. Tolerant on
    replay: a step no longer held (past the depth) is simply not moved."""
    steps = source.get(actor, [])
    for i in range(len(steps) - 1, -1, -1):
        if steps[i]["version"] == version:
            target.setdefault(actor, []).append(steps.pop(i))
            del target[actor][:-UNDO_DEPTH]
            return
