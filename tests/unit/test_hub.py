"""Hub: a subscriber opened with a floor sees exactly the stored events from after it joined."""

from __future__ import annotations

import asyncio

from infrastructure.notify_bus import Hub


def test_a_late_delivery_of_an_event_stored_before_joining_is_dropped() -> None:
    async def scenario() -> list[str]:
        hub = Hub()
        log_end = 5  # the log held five events when the subscriber joined
        async with hub.subscribe("t", floor=lambda: log_end) as messages:
            assert hub.subscriber_count("t") == 1
            hub.deliver("t", "stored before joining, delivered late", position=5)
            hub.deliver("t", "token", position=None)
            hub.deliver("t", "stored after joining", position=6)
            hub.deliver("other", "another topic", position=7)
            return [await anext(messages), await anext(messages)]

    assert asyncio.run(scenario()) == ["token", "stored after joining"]


def test_a_subscriber_counts_only_once_its_floor_is_read() -> None:
    async def scenario() -> tuple[int, int, list[str]]:
        hub = Hub()
        reading = asyncio.Event()
        release = asyncio.Event()
        loop = asyncio.get_running_loop()

        def floor() -> int:
            loop.call_soon_threadsafe(reading.set)
            asyncio.run_coroutine_threadsafe(release.wait(), loop).result()
            return 1

        async def subscriber() -> list[str]:
            async with hub.subscribe("t", floor=floor) as messages:
                return [await anext(messages)]

        task = asyncio.create_task(subscriber())
        await reading.wait()
        while_reading = hub.subscriber_count("t")
        hub.deliver("t", "stored while the floor was read", position=1)
        hub.deliver("t", "stored after", position=2)  # registered already: not missed
        release.set()
        got = await task
        return while_reading, hub.subscriber_count("t"), got

    assert asyncio.run(scenario()) == (0, 0, ["stored after"])


def test_without_a_floor_everything_passes() -> None:
    async def scenario() -> list[str]:
        hub = Hub()
        async with hub.subscribe("t") as messages:
            hub.deliver("t", "old", position=1)
            return [await anext(messages)]

    assert asyncio.run(scenario()) == ["old"]
