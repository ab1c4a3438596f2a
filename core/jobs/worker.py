"""The relay loop; in the embedded profile it also runs the events in-process, with no broker."""

from __future__ import annotations

import asyncio

import structlog

from core.jobs.outbox import Dispatch, relay_once, run_event

log = structlog.get_logger("kehu.jobs")


async def _run_inline(tenant_id, event_id) -> None:
    await run_event(tenant_id, event_id)


async def run_embedded_worker(stop: asyncio.Event, interval_seconds: float = 0.5,
                              dispatch: Dispatch | None = None) -> None:
    """Relay due events until ``stop`` is set: by default running them in this process (the
    embedded profile), or handing them to ``dispatch`` (Dramatiq, in ``kehu worker``). Nothing is
    lost on a crash: undone events stay in the outbox and run after the restart."""
    while not stop.is_set():
        try:
            handed = await relay_once(dispatch or _run_inline, inline=dispatch is None)
        except Exception as exc:  # noqa: BLE001 - keep the loop alive; the outbox keeps the work
            log.error("jobs.relay_failed", error=repr(exc), exc_info=exc)
            handed = 0
        if not handed:
            try:
                await asyncio.wait_for(stop.wait(), interval_seconds)
            except TimeoutError:
                pass
