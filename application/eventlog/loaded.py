"""Aggregates this process has loaded, kept to be brought up to date instead of rebuilt.

Rebuilding an aggregate decodes its newest snapshot and replays the events after it (up to
a hundred), which a chat did several times a question (the session, its stack's workspace
for the access check and again for the budget). A kept aggregate is brought up to date on
every load instead: the events stored after its version, by this process or any other on
the same database, are read (one query, which usually finds none) and applied. So a load
never returns a state older than the log's when the load began, whichever process wrote it:
the log is asked every time, only the replay is saved.

What is kept is never changed: an entry holds the aggregate as pickled bytes (each load
that may change the aggregate gets its own copy, `pickle.loads`, several times cheaper than
`deepcopy`) and the object itself, handed only to callers that say they will not change it.
A load that finds newer events applies them to a copy, which replaces the entry. Entries
are bounded in number and in bytes, least recently used first out.
"""

from __future__ import annotations

import logging
import pickle
import threading
from collections import OrderedDict
from typing import Any
from uuid import UUID

log = logging.getLogger(__name__)

MAX_AGGREGATES = 2000
MAX_BYTES = 32 * 1024 * 1024


class Kept:
    """One aggregate as kept: its version and its pickled state, never changed."""

    __slots__ = ("_shared", "pickled", "version")

    def __init__(self, version: int, pickled: bytes, shared: Any = None) -> None:
        self.version, self.pickled, self._shared = version, pickled, shared

    def copy(self) -> Any:
        """An aggregate of the caller's own, to change."""
        return pickle.loads(self.pickled)  # noqa: S301 (our own bytes, made in this process)

    def shared(self) -> Any:
        """The one aggregate of the readers, which none of them changes."""
        if self._shared is None:
            self._shared = self.copy()  # two threads may both make it: either will do
        return self._shared


class LoadedAggregates:
    def __init__(self, max_aggregates: int = MAX_AGGREGATES, max_bytes: int = MAX_BYTES) -> None:
        self.max_aggregates, self.max_bytes = max_aggregates, max_bytes
        self._entries: OrderedDict[UUID, Kept] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._unpicklable: set[type] = set()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, aggregate_id: UUID) -> Kept | None:
        with self._lock:
            kept = self._entries.get(aggregate_id)
            if kept is not None:
                self._entries.move_to_end(aggregate_id)
            return kept

    def keep(self, aggregate: Any, shared: bool = False) -> None:
        """Keeps the state of `aggregate` as it is now (the caller may go on to change its
        object, unless `shared`: then no one may, and readers are given that object). An
        entry of a newer version, kept meanwhile by another thread, stays."""
        if type(aggregate) in self._unpicklable or getattr(aggregate, "_pending_events", None):
            return
        try:
            pickled = pickle.dumps(aggregate, pickle.HIGHEST_PROTOCOL)
        except Exception as error:
            self._unpicklable.add(type(aggregate))
            log.warning("%s aggregates are rebuilt on each load: %s", type(aggregate), error)
            return
        if len(pickled) > self.max_bytes // 8:
            return  # too large to keep
        kept = Kept(aggregate.version, pickled, aggregate if shared else None)
        with self._lock:
            current = self._entries.get(aggregate.id)
            if current is not None:
                if current.version >= kept.version:
                    return
                self._bytes -= len(current.pickled)
            self._entries[aggregate.id] = kept
            self._entries.move_to_end(aggregate.id)
            self._bytes += len(pickled)
            while len(self._entries) > self.max_aggregates or self._bytes > self.max_bytes:
                _, old = self._entries.popitem(last=False)
                self._bytes -= len(old.pickled)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
