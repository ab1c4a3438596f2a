"""The tick: every registered sweep runs, a failing one does not stop the others, and in the
embedded profile the app ticks by itself."""

import asyncio
import logging

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
            # every 0.1 s, though a tick of every sweep may take longer on a loaded machine
            for _ in range(100):
                if len(ticks) >= 2:
                    break
                await asyncio.sleep(0.1)
    finally:
        timers.unregister_sweep("test.count")
    assert len(ticks) >= 2


def _lines_at_info_or_above(caplog) -> list[str]:
    return [f"{record.name}: {record.getMessage()}" for record in caplog.records
            if record.levelno >= logging.INFO and (record.name.startswith("apscheduler") or record.name == "kehu.timers")]


async def test_an_idle_scheduler_is_quiet_at_info(monkeypatch, caplog):
    """Issue 17 point 11: ticks that have nothing to do log nothing at INFO (APScheduler's "Running
    job" / "executed successfully" lines and kehu's own are DEBUG); a tick that handled something
    says so at INFO."""
    caplog.set_level(logging.INFO)
    ticks, handled = [], {"count": 0}

    async def sweep(now):
        ticks.append(now)
        return handled["count"]

    monkeypatch.setattr(timers, "_sweeps", {"test.sweep": sweep})  # no other sweep needs a database here
    scheduler = timers.start_scheduler(0.05)
    try:
        await asyncio.sleep(0.4)
        assert len(ticks) >= 2
        assert _lines_at_info_or_above(caplog) == []
        handled["count"] = 3
        await asyncio.sleep(0.2)
    finally:
        scheduler.shutdown(wait=False)
    busy = [record.msg for record in caplog.records if record.levelno == logging.INFO and record.name == "kehu.timers"]
    assert busy and all(line["event"] == "timers.tick" and line["handled"] == {"test.sweep": 3} for line in busy)
    assert not [line for line in _lines_at_info_or_above(caplog) if line.startswith("apscheduler")]


async def test_the_scheduler_still_logs_its_routine_at_debug(monkeypatch, caplog):
    """Issue 17 point 11: with KEHU_LOG_LEVEL=DEBUG the per-tick lines are still there, as DEBUG."""
    caplog.set_level(logging.DEBUG)

    async def idle(now):
        return 0

    monkeypatch.setattr(timers, "_sweeps", {"test.idle": idle})
    scheduler = timers.start_scheduler(0.05)
    try:
        await asyncio.sleep(0.3)
    finally:
        scheduler.shutdown(wait=False)
    debug = {(record.name, record.levelno) for record in caplog.records}
    assert ("apscheduler.executors.default", logging.DEBUG) in debug
    assert ("kehu.timers", logging.DEBUG) in debug
