"""PostgresBus: updates published together go out in as few NOTIFYs as fit, and every
process's hub gets each of them, in order."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from application.eventlog.log import EventLog
from domain.chat import ChatSession
from infrastructure import notify_bus
from infrastructure.log_watcher import LogWatcher
from infrastructure.notify_bus import HELLO, LIVE_CHANNEL, Hub, PostgresBus, PostgresListener
from infrastructure.postgres_log import OneTripRecorder
from tests.conftest import make_settings


def test_a_batch_larger_than_one_notify_arrives_whole_and_in_order(postgres_url: str) -> None:
    hub, other_hub = Hub(), Hub()  # this process's, and another process's
    bus, other_bus = PostgresBus(hub, postgres_url), PostgresBus(other_hub, postgres_url)
    listeners = [
        PostgresListener(postgres_url, "log", LogWatcher(), bus.receive),
        PostgresListener(postgres_url, "log", LogWatcher(), other_bus.receive),
    ]
    for listener in listeners:
        listener.start()
    # ~300 bytes each: a few dozen fit in one NOTIFY, so this takes several
    sent = [("chat:a" if n % 3 else "chat:b", {"n": n, "delta": "x" * 250}) for n in range(200)]
    notifies: list[str] = []
    original = bus._notify

    def counting(entries: list[str]) -> None:
        if entries:
            notifies.append(f"{len(entries)}")
        original(entries)

    bus._notify = counting  # type: ignore[method-assign]

    async def receive(on: Hub, topic: str, count: int) -> list[Any]:
        async with on.subscribe(topic) as messages:
            return [await asyncio.wait_for(anext(messages), 30) for _ in range(count)]

    async def scenario() -> list[list[Any]]:
        tasks = [
            asyncio.create_task(receive(h, t, sum(1 for s, _ in sent if s == t)))
            for h in (hub, other_hub)
            for t in ("chat:a", "chat:b")
        ]
        while not all(
            h.subscriber_count(t) for h in (hub, other_hub) for t in ("chat:a", "chat:b")
        ):
            await asyncio.sleep(0.01)  # polling interval while the subscribers join
        await asyncio.to_thread(bus.publish_many, sent)
        return list(await asyncio.gather(*tasks))

    try:
        got = asyncio.run(scenario())
    finally:
        for listener in listeners:
            listener.stop()
    for topic, received in zip(["chat:a", "chat:b", "chat:a", "chat:b"], got, strict=True):
        assert [m["n"] for m in received] == [m["n"] for t, m in sent if t == topic]
    assert 1 < len(notifies) < 20  # batched: not one NOTIFY per update


def test_the_listener_pokes_for_another_process_s_saves_not_for_its_own(
    postgres_url: str, tmp_path: Path
) -> None:
    """This process's saves poke its followers as they return (EventLog.on_saved): their
    NOTIFYs are left out, another process's wake the followers."""
    env = make_settings(tmp_path, postgres_url).event_store_env()
    here, there = EventLog(env=env), EventLog(env=env)  # two processes' logs, one database
    recorder = here.recorder
    assert isinstance(recorder, OneTripRecorder)
    watcher, marked = LogWatcher(), threading.Event()
    listener = PostgresListener(
        postgres_url, recorder.channel_name, watcher, lambda *_: marked.set(), recorder.saved_here
    )
    listener.start()
    try:
        started = watcher.wait(0, 30)  # the listener pokes once as it starts listening
        here.save(ChatSession.start(uuid.uuid4(), 1, "someone@example.com"))
        there.save(ChatSession.start(uuid.uuid4(), 1, "someone@example.com"))
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute("SELECT pg_notify(%s, 'marker')", (LIVE_CHANNEL,))
        # NOTIFYs reach the listener in commit order: both saves' are in before the marker
        assert marked.wait(30)
        assert watcher.ticks == started + 1
    finally:
        listener.stop()
        here.close()
        there.close()


def test_this_process_s_updates_reach_its_hub_before_what_it_stores_next_and_once(
    postgres_url: str,
) -> None:
    """An answer's last tokens are published, then the answer is stored and the live feed
    (poked by the save as it returns) hands it to this process's hub: the tokens must be
    there first. Another process gets them by NOTIFY; this one's listener does not hand
    them over a second time."""
    hub, other_hub = Hub(), Hub()
    bus, other_bus = PostgresBus(hub, postgres_url), PostgresBus(other_hub, postgres_url)

    def late(payload: str, sender: int | None = None) -> None:
        time.sleep(0.2)  # this process's listener thread slow to run (a busy machine)
        bus.receive(payload, sender)

    listeners = [
        PostgresListener(postgres_url, "log", LogWatcher(), late),
        PostgresListener(postgres_url, "log", LogWatcher(), other_bus.receive),
    ]
    for listener in listeners:
        listener.start()

    async def scenario() -> tuple[list[Any], list[Any]]:
        async with hub.subscribe("chat:a") as here, other_hub.subscribe("chat:a") as there:
            for n in (1, 2):
                await asyncio.to_thread(bus.publish, "chat:a", {"n": n, "kind": "token"})
                hub.deliver("chat:a", {"n": n, "kind": "stored"}, position=n)  # the live feed
            mine = [await asyncio.wait_for(anext(here), 30) for _ in range(4)]
            theirs = [await asyncio.wait_for(anext(there), 30) for _ in range(2)]
            # a marker from the other process: whatever this one's listener received before
            # it (its own NOTIFYs, in commit order) has been handled by then
            await asyncio.to_thread(other_bus.publish, "chat:a", {"n": 3, "kind": "marker"})
            mine.append(await asyncio.wait_for(anext(here), 30))
            return mine, theirs

    try:
        mine, theirs = asyncio.run(scenario())
    finally:
        for listener in listeners:
            listener.stop()
    assert [(m["n"], m["kind"]) for m in mine] == [
        (1, "token"),
        (1, "stored"),
        (2, "token"),
        (2, "stored"),
        (3, "marker"),  # and no token twice before it
    ]
    assert [(m["n"], m["kind"]) for m in theirs] == [(1, "token"), (2, "token")]


def test_updates_are_notified_only_while_another_process_listens(postgres_url: str) -> None:
    """One process alone NOTIFYs nothing (its hub still gets every update); a second
    process's listener, once started, gets every update published after."""
    hub, other_hub = Hub(), Hub()
    bus, other_bus = PostgresBus(hub, postgres_url), PostgresBus(other_hub, postgres_url)
    mine = PostgresListener(postgres_url, "log", LogWatcher(), bus.receive, None, bus.listening)
    theirs = PostgresListener(
        postgres_url, "log", LogWatcher(), other_bus.receive, None, other_bus.listening
    )
    notified: list[str] = []

    def overhear(stop: threading.Event) -> None:  # a plain LISTEN: what is NOTIFYed at all
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'LISTEN "{LIVE_CHANNEL}"')
            heard.set()
            while not stop.is_set():
                notified.extend(n.payload for n in conn.notifies(timeout=0.1))

    async def scenario() -> tuple[list[Any], list[Any]]:
        async with hub.subscribe("chat:a") as here:
            for n in range(3):
                await asyncio.to_thread(bus.publish, "chat:a", {"n": n})
            alone = [await asyncio.wait_for(anext(here), 30) for _ in range(3)]
            await asyncio.to_thread(theirs.start)
            # from the other process: its listener's hello, NOTIFYed before, has reached
            # this one's bus by the time this has (one connection, commit order)
            await asyncio.to_thread(other_bus.publish, "chat:a", {"n": "marker"})
            alone.append(await asyncio.wait_for(anext(here), 30))
            async with other_hub.subscribe("chat:a") as there:
                for n in range(3, 6):
                    await asyncio.to_thread(bus.publish, "chat:a", {"n": n})
                both = [await asyncio.wait_for(anext(here), 30) for _ in range(3)]
                return alone + both, [await asyncio.wait_for(anext(there), 30) for _ in range(3)]

    heard, stop = threading.Event(), threading.Event()
    overhearing = threading.Thread(target=overhear, args=(stop,))
    overhearing.start()
    mine.start()
    try:
        assert heard.wait(30)
        here, there = asyncio.run(scenario())
    finally:
        theirs.stop()
        mine.stop()
        stop.set()
        overhearing.join()
    assert [m["n"] for m in here] == [0, 1, 2, "marker", 3, 4, 5]
    assert [m["n"] for m in there] == [3, 4, 5]
    updates = [json.loads(p) for p in notified if p != HELLO]
    assert [u["message"]["n"] for u in updates] == ["marker", 3, 4, 5]  # none while alone


def test_an_update_is_handed_over_here_without_io_only_while_counted_alone(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`publish_here` delivers to this process's hub, with JSON's types as a NOTIFY would,
    only while the last count said nobody else listens and still holds; otherwise it
    does nothing and says so (the publisher then publishes through its thread)."""
    monkeypatch.setattr(notify_bus, "PRESENCE_SECONDS", 600.0)  # a slow step keeps the count
    hub, other_hub = Hub(), Hub()
    bus, other_bus = PostgresBus(hub, postgres_url), PostgresBus(other_hub, postgres_url)
    mine = PostgresListener(postgres_url, "log", LogWatcher(), bus.receive, None, bus.listening)
    theirs = PostgresListener(
        postgres_url, "log", LogWatcher(), other_bus.receive, None, other_bus.listening
    )
    session = uuid.uuid4()

    async def scenario() -> tuple[list[bool], list[Any]]:
        said: list[bool] = []
        async with hub.subscribe("chat:a") as here:
            said.append(bus.publish_here("chat:a", {"n": 0}))  # not counted yet
            await asyncio.to_thread(bus.publish, "chat:a", {"n": 1})  # counts: alone
            said.append(bus.publish_here("chat:a", {"n": 2, "session": session}))
            await asyncio.to_thread(theirs.start)
            await asyncio.to_thread(other_bus.publish, "chat:a", {"n": "marker"})
            got = [await asyncio.wait_for(anext(here), 30) for _ in range(3)]
            said.append(bus.publish_here("chat:a", {"n": 3}))  # the other's hello came
            return said, got

    mine.start()
    try:
        said, got = asyncio.run(scenario())
    finally:
        theirs.stop()
        mine.stop()
    assert said == [False, True, False]
    assert got == [{"n": 1}, {"n": 2, "session": str(session)}, {"n": "marker"}]
