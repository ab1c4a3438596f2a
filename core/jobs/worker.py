"""The in-process worker of the embedded profile: the same relay and actors, no broker server."""

from __future__ import annotations

import asyncio

import structlog

from core.jobs.outbox import relay_once, run_event

log = structlog.get_logger("kehu.jobs")


async def _run_inline(tenant_id, event_id) -> None:
    await run_event(tenant_id, event_id)


async def run_embedded_worker(stop: asyncio.Event, interval_seconds: float = 0.5) -> None:
    """Relay due events and run them in this process until ``stop`` is set. Nothing is lost on a
    crash: undone events stay in the outbox and run after the restart."""
    while not stop.is_set():
        try:
            handed = await relay_once(_run_inline)
        except Exception as exc:  # noqa: BLE001 - keep the loop alive; the outbox keeps the work
            log.error("jobs.relay_failed", error=repr(exc), exc_info=exc)
            handed = 0
        if not handed:
            try:
                await asyncio.wait_for(stop.wait(), interval_seconds)
            except TimeoutError:
                pass
