"""PostgresBus: updates published together go out in as few NOTIFYs as fit, and every
process's hub gets each of them, in order."""

from __future__ import annotations

import asyncio
from typing import Any

from infrastructure.log_watcher import LogWatcher
from infrastructure.notify_bus import Hub, PostgresBus, PostgresListener


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
