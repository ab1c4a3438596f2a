"""The relay loop; in the embedded profile it also runs the events in-process, with no broker."""

from __future__ import annotations

import asyncio

import structlog

from core.jobs.outbox import BrokerUnavailable, Dispatch, relay_once, run_event

log = structlog.get_logger("kehu.jobs")


async def _run_inline(tenant_id, event_id) -> None:
    await run_event(tenant_id, event_id)


async def run_embedded_worker(stop: asyncio.Event, interval_seconds: float = 0.5,
                              dispatch: Dispatch | None = None, max_backoff_seconds: float = 10.0) -> None:
    """Relay due events until ``stop`` is set: by default running them in this process (the
    embedded profile), or handing them to ``dispatch`` (Dramatiq, in ``kehu worker``). Nothing is
    lost on a crash: undone events stay in the outbox and run after the restart.

    While the broker refuses events the polls back off (doubling from ``interval_seconds`` up to
    ``max_backoff_seconds``), each trying one event: said once when it starts and once when the
    broker takes events again, not for every event of every poll."""
    failures = 0
    while not stop.is_set():
        try:
            handed = await relay_once(dispatch or _run_inline, inline=dispatch is None)
            if failures and handed:
                log.info("outbox.broker_back", failed_polls=failures)
            failures = 0
        except BrokerUnavailable as exc:
            failures += 1
            if failures == 1:
                log.warning("outbox.broker_unreachable", error=repr(exc.error), max_backoff_seconds=max_backoff_seconds)
            handed = 0
        except Exception as exc:  # noqa: BLE001 - keep the loop alive; the outbox keeps the work
            log.error("jobs.relay_failed", error=repr(exc), exc_info=exc)
            handed = 0
        if not handed:
            wait = min(interval_seconds * 2 ** failures, max_backoff_seconds) if failures else interval_seconds
            try:
                await asyncio.wait_for(stop.wait(), wait)
            except TimeoutError:
                pass
