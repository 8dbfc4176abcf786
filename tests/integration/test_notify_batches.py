"""PostgresBus: updates published together go out in as few NOTIFYs as fit, and every
process's hub gets each of them, in order."""

from __future__ import annotations

import asyncio
import threading
import uuid
from pathlib import Path
from typing import Any

import psycopg

from application.eventlog.log import EventLog
from domain.chat import ChatSession
from infrastructure.log_watcher import LogWatcher
from infrastructure.notify_bus import LIVE_CHANNEL, Hub, PostgresBus, PostgresListener
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
        postgres_url, recorder.channel_name, watcher, lambda _: marked.set(), recorder.saved_here
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
