"""The tick: every registered sweep runs, a failing one does not stop the others, and in the
embedded profile the app ticks by itself."""

import asyncio

from litestar.testing import AsyncTestClient

from core.jobs import timers
from gateway.app import create_app


async def test_tick_runs_every_sweep_and_survives_a_failing_one():
    seen = []

    async def works(now):
        seen.append(now)
        return 2

    async def breaks(now):
        raise RuntimeError("database hiccup")

    timers.register_sweep("test.works", works)
    timers.register_sweep("test.breaks", breaks)
    try:
        handled = await timers.tick()
    finally:
        timers.unregister_sweep("test.works")
        timers.unregister_sweep("test.breaks")
    assert handled["test.works"] == 2 and handled["test.breaks"] == 0 and len(seen) == 1


async def test_the_embedded_app_ticks_by_itself(sqlite_settings):
    ticks = []

    async def count(now):
        ticks.append(now)
        return 0

    timers.register_sweep("test.count", count)
    try:
        settings = sqlite_settings.model_copy(update={"tick_interval_seconds": 0.1})
        async with AsyncTestClient(create_app(settings)):
            await asyncio.sleep(0.5)
    finally:
        timers.unregister_sweep("test.count")
    assert len(ticks) >= 2
