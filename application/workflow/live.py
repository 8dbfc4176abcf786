"""A workflow's live updates: each stored event, in words, as its history will show it."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any
from uuid import UUID

from application.eventlog.log import EventLog
from application.workflow.describe import names_of
from application.workflow.history import describe, entry_of
from application.workflow.views import HistoryEntry
from domain.workflow import Workflow


def topic(workflow_id: UUID) -> str:
    return f"workflow:{workflow_id}"


class WorkflowRoute:
    """Describes the workflow events this process delivers live, as the history would:
    each from the workflow just before it, kept for the next (events come in log order)."""

    def __init__(self, store: EventLog, cache_size: int = 256) -> None:
        self.store, self.cache_size = store, cache_size
        self._cache: OrderedDict[UUID, Workflow] = OrderedDict()

    def __call__(self, event: Any) -> list[tuple[str, HistoryEntry]]:
        """A stored workflow event as the `workflowEvents` subscription shows it."""
        if not isinstance(event, Workflow.Event):
            return []
        return [(topic(event.originator_id), self.entry(event))]

    def entry(self, event: Any) -> HistoryEntry:
        wid, version = event.originator_id, event.originator_version
        before = self._cache.pop(wid, None)
        if version > 1 and (before is None or before.version != version - 1):
            before = self.store.repository.get(wid, version=version - 1)
        words = describe(before, event, names_of(before.nodes) if before else {})
        after = event.mutate(before)
        self._cache[wid] = after
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return entry_of(event, words, after)
