"""Rebuilding read models from the whole log in one pass (`genai-stack projections rebuild`).

The log is read once, in large pages, by a thread of its own that also decodes each event
once (only when some projection handles it); each projection that writes only through its
view (`batched`) applies a page in one transaction of its own, with the position of the
page's last event, exactly as when it follows the log (`ProjectionWorker._apply_page`),
only with no time limit on a page. While one page is written, the next is read and decoded:
the database works on the writes while Python decodes. A page that fails in a projection
goes again one event at a time there, where an event that cannot be applied is recorded and
gone past at once (the rebuild runs alone).

Projections that act rather than write (the ingestion) are rebuilt after, each on its own,
reading of the part of the log the pass read only the events of the topics they handle.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import structlog

from application.eventlog.log import EventLog
from infrastructure.readmodel.runner import LogRead

if TYPE_CHECKING:
    from infrastructure.readmodel.runner import ProjectionWorker

log = structlog.get_logger(__name__)

PAGE = 5000  # events in a rebuild's page: one transaction per projection and page
AHEAD = 2  # pages read and decoded ahead of the one being written

_END = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def replay(
    store: EventLog, workers: Sequence[ProjectionWorker], read: LogRead | None = None
) -> dict[str, int]:
    """Empties the batched workers' read models and replays the whole log into them in one
    pass; how many events each moved past. `read`: filled with what the pass read."""
    for worker in workers:
        assert worker.batched, f"{worker.projection.name} is not rebuilt in pages"
        worker.start_over()
    counts = {w.projection.name: 0 for w in workers}
    with _collecting_per_page() as collect:
        for notifications, events in _pages(store, workers, read or LogRead()):
            for worker in workers:
                counts[worker.projection.name] += worker.apply_rebuild_page(notifications, events)
            collect()
    return counts


@contextmanager
def _collecting_per_page() -> Iterator[Any]:
    """Python's collector of reference cycles run once a page, on its young generations,
    instead of every few hundred allocations: a page's events and rows are thousands of
    containers, freed by their reference counts, and each automatic collection walked them
    (and each full one every object the projections' caches hold). Back as it was after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield lambda: gc.collect(1)
    finally:
        if was_enabled:
            gc.enable()


def rebuild_all(workers: Sequence[ProjectionWorker]) -> Iterator[tuple[str, int]]:
    """Every worker's read model rebuilt: the batched ones in one pass, then each of the
    others (their own `rebuild`), in the order given; yields (projection, events)."""
    batched = [w for w in workers if w.batched]
    read: LogRead | None = None
    if batched:
        read = LogRead()
        yield from replay(batched[0].store, batched, read).items()
    for worker in workers:
        if not worker.batched:
            yield worker.projection.name, worker.rebuild(read)


def _pages(
    store: EventLog, workers: Sequence[ProjectionWorker], seen: LogRead
) -> Iterator[tuple[Sequence[Any], list[Any]]]:
    """The log's pages from its start, each with its events decoded where some worker
    handles them (None where none does, or where decoding failed: the worker decodes again
    and meets the failure itself), read and decoded on a thread ahead of the caller. `seen`
    has the topics and the last notification of the pages the caller was given."""
    ahead: queue.Queue[Any] = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()
    decode = store.mapper.to_domain_event
    wanted: dict[str, bool] = {}

    def handled(topic: str) -> bool:
        known = wanted.get(topic)
        if known is None:
            known = wanted[topic] = any(w.handles(topic) for w in workers)
        return known

    def decoded(n: Any) -> Any:
        if not handled(n.topic):
            return None
        try:
            return decode(n)
        except Exception:
            return None

    def read() -> None:
        start = 1
        try:
            while not stop.is_set():
                notifications = store.recorder.select_notifications(start=start, limit=PAGE)
                if not notifications:
                    break
                item = (notifications, [decoded(n) for n in notifications])
                while not stop.is_set():
                    try:
                        ahead.put(item, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                start = notifications[-1].id + 1
            ahead.put(_END)
        except BaseException as error:  # handed to the caller, raised there
            ahead.put(_Failed(error))

    reader = threading.Thread(target=read, name="rebuild-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = ahead.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            notifications = item[0]
            seen.topics.update(n.topic for n in notifications)
            seen.last = notifications[-1]
            seen.count += len(notifications)
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # let a reader blocked on a full queue see the stop
            try:
                ahead.get_nowait()
            except queue.Empty:
                reader.join(0.1)
