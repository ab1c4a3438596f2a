"""Timers from data: a periodic tick asks each registered sweep for what is due in the database
(a ``due_at`` on the thing itself) and handles it, so no timer lives only in memory.

APScheduler drives the tick: in-process when embedded, in one ``kehu scheduler`` process in
production. A sweep is ``async def sweep(now) -> int`` (how many things it handled); it must be
safe to run twice for the same moment (claim rows with a conditional update).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.metrics import TICK_SECONDS, timed

log = structlog.get_logger("kehu.timers")

Sweep = Callable[[datetime], Awaitable[int]]
_sweeps: dict[str, Sweep] = {}


class _RoutineAtDebug(logging.Filter):
    """APScheduler logs every run of the tick at INFO ("Running job", "executed successfully"):
    a line every few seconds that says nothing happened. Those are DEBUG here; its warnings and
    errors (a missed or failed run) stay as they are."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        # The logger's level check has already passed at INFO: decide again at DEBUG.
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


_ROUTINE_AT_DEBUG = _RoutineAtDebug()
for _name in ("apscheduler.scheduler", "apscheduler.executors.default"):
    logging.getLogger(_name).addFilter(_ROUTINE_AT_DEBUG)


def register_sweep(name: str, sweep: Sweep) -> None:
    _sweeps[name] = sweep


def unregister_sweep(name: str) -> None:
    _sweeps.pop(name, None)


_running_ticks = 0  # ticks in progress in this process, so a shutdown can let them finish


@timed(TICK_SECONDS)
async def tick(now: datetime | None = None) -> dict[str, int]:
    """Run every sweep once (see ``_tick``), counted so ``stop_scheduler`` can wait for it."""
    global _running_ticks
    _running_ticks += 1
    try:
        return await _tick(now)
    finally:
        _running_ticks -= 1


async def _tick(now: datetime | None = None) -> dict[str, int]:
    """Run every sweep once; a failing sweep is logged and does not stop the others. Its duration
    goes to ``kehu_tick_duration_seconds``."""
    now = now or datetime.now(UTC)
    handled = {}
    for name, sweep in list(_sweeps.items()):
        try:
            handled[name] = await sweep(now)
        except Exception as exc:  # noqa: BLE001 - the next tick tries again; the data keeps the timer
            log.error("timers.sweep_failed", sweep=name, error=repr(exc), exc_info=exc)
            handled[name] = 0
    done = {name: count for name, count in handled.items() if count}
    # INFO only when a sweep handled something; an idle tick every few seconds is DEBUG.
    if done:
        log.info("timers.tick", handled=done)
    else:
        log.debug("timers.tick_idle", sweeps=len(handled))
    return handled


async def stop_scheduler(scheduler: AsyncIOScheduler, grace_seconds: float = 10.0) -> None:
    """Stop ticking: no new tick starts, and one in progress may finish within ``grace_seconds``
    (APScheduler's own shutdown cancels it mid-sweep, and logs the cancellation as a failure)."""
    scheduler.pause()
    deadline = asyncio.get_running_loop().time() + grace_seconds
    while _running_ticks and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    if _running_ticks:
        log.warning("timers.tick_cut_short", grace_seconds=grace_seconds)
    scheduler.shutdown(wait=False)


def start_scheduler(interval_seconds: float = 5.0) -> AsyncIOScheduler:
    """Start the tick on the running event loop; the caller shuts it down."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(tick, "interval", seconds=interval_seconds, id="kehu-tick", max_instances=1,
                      coalesce=True, misfire_grace_time=None)
    scheduler.start()
    return scheduler
