"""The watcher's shared reads of the log: every follower gets exactly the log's notifications
from where it asks, whether they come from the last read, from a read of only what is past
it, or from a read of its own."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from infrastructure import log_watcher
from infrastructure.log_watcher import LogWatcher


class Counted:
    """The recorder, counting the reads that reach it and where they start."""

    def __init__(self, recorder: SQLiteApplicationRecorder) -> None:
        self.recorder = recorder
        self.starts: list[int | None] = []

    def select_notifications(self, start: int | None, limit: int) -> Sequence[Notification]:
        self.starts.append(start)
        return self.recorder.select_notifications(start=start, limit=limit)


def _store(recorder: SQLiteApplicationRecorder, watcher: LogWatcher, count: int) -> None:
    recorder.insert_events([StoredEvent(uuid4(), 1, "topic", b"{}") for _ in range(count)])
    watcher.poke()


def _ids(notifications: Sequence[Notification]) -> list[int]:
    return [n.id for n in notifications]


def test_followers_share_reads_and_ask_only_for_what_is_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_watcher, "SHARED_READ_SECONDS", 3600.0)  # no clock in the test
    datastore = SQLiteDatastore(str(tmp_path / "log.sqlite3"))
    recorder = SQLiteApplicationRecorder(datastore)
    recorder.create_table()
    watcher, counted = LogWatcher(), Counted(recorder)

    _store(recorder, watcher, 3)
    assert _ids(watcher.read(counted, 1, 10)) == [1, 2, 3]
    assert _ids(watcher.read(counted, 1, 10)) == [1, 2, 3]  # the same read, shared
    assert _ids(watcher.read(counted, 3, 10)) == [3]
    assert counted.starts == [1]

    _store(recorder, watcher, 2)  # the log grew: only what is past the last read is asked for
    assert _ids(watcher.read(counted, 2, 10)) == [2, 3, 4, 5]
    assert _ids(watcher.read(counted, 1, 10)) == [1, 2, 3, 4, 5]
    assert _ids(watcher.read(counted, 6, 10)) == []
    assert counted.starts == [1, 4]

    _store(recorder, watcher, 4)
    assert _ids(watcher.read(counted, 4, 3)) == [4, 5, 6]  # at most `limit`
    assert _ids(watcher.read(counted, 7, 3)) == [7, 8, 9]
    assert _ids(watcher.read(counted, 10, 3)) == []
    assert counted.starts == [1, 4, 6, 7, 10]  # a full page is not the end of the log


def test_a_follower_behind_the_last_read_reads_for_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_watcher, "SHARED_READ_SECONDS", 3600.0)
    datastore = SQLiteDatastore(str(tmp_path / "log.sqlite3"))
    recorder = SQLiteApplicationRecorder(datastore)
    recorder.create_table()
    watcher, counted = LogWatcher(), Counted(recorder)

    _store(recorder, watcher, 6)
    assert _ids(watcher.read(counted, 5, 10)) == [5, 6]
    assert _ids(watcher.read(counted, 1, 2)) == [1, 2]  # before the last read: its own
    assert _ids(watcher.read(counted, 3, 10)) == [3, 4, 5, 6]
    assert _ids(watcher.read(counted, 5, 10)) == [5, 6]
    assert counted.starts == [5, 1, 3]
