"""Outbox cost and lag.

1. The GraphQL mutation ``departmentRename`` with its outbox event against the same mutation with
   the outbox write switched off, same app and user (goal: at most 1.2x).
2. Relay lag at steady load: with the in-process worker running, mutations at a fixed rate; the
   time from an event's commit to its ``done`` (median and 95th percentile).
"""

from __future__ import annotations

import asyncio
import statistics
import time

import core.jobs.outbox as outbox
from bench.rename_app import rename_app
from bench.timing import compare
from core.context import Context
from core.db import unit_of_work
from core.jobs.tables import OutboxEvent

GOAL_RATIO = 1.2


async def _no_event(*args: object, **kwargs: object) -> None:
    return None


async def run(*, quick: bool = False) -> dict[str, object]:
    async with rename_app(tick_interval_seconds=60) as bench:
        announce = outbox.add

        async def with_outbox() -> None:
            outbox.add = announce
            await bench.rename()

        async def without_outbox() -> None:
            outbox.add = _no_event
            await bench.rename()

        try:
            subject, baseline = await compare(with_outbox, without_outbox, iterations=20 if quick else 150,
                                              rounds=3 if quick else 7)
        finally:
            outbox.add = announce

        # Relay lag: a steady rate of mutations, then wait for every event to be done.
        rate, seconds = (20, 1) if quick else (40, 5)
        started = time.monotonic()
        for i in range(rate * seconds):
            await bench.rename()
            await asyncio.sleep(max(0.0, started + (i + 1) / rate - time.monotonic()))
        deadline = time.monotonic() + 30
        ctx = Context.system("bench", bench.tenant_id)
        while time.monotonic() < deadline:
            async with unit_of_work(ctx, write=False) as uow:
                if not await uow.count(OutboxEvent).where(OutboxEvent.status != "done"):
                    break
            await asyncio.sleep(0.2)
        async with unit_of_work(ctx, write=False) as uow:
            rows = await uow.select(OutboxEvent.created_at, OutboxEvent.done_at).where(OutboxEvent.status == "done")
    lags = sorted((r["done_at"] - r["created_at"]).total_seconds() * 1000 for r in rows if r["done_at"])
    ratio = subject / baseline
    return {
        "name": "outbox_overhead",
        "subject": "GraphQL departmentRename with its outbox event (SQLite, in-process worker)",
        "baseline": "the same mutation with the outbox write switched off",
        "subject_us": round(subject * 1e6, 1),
        "baseline_us": round(baseline * 1e6, 1),
        "ratio": round(ratio, 2),
        "relay_lag_ms_median": round(statistics.median(lags), 1) if lags else None,
        "relay_lag_ms_p95": round(lags[int(len(lags) * 0.95) - 1], 1) if lags else None,
        "relay_load_per_s": rate,
        "goal": f"ratio <= {GOAL_RATIO}",
        "met": ratio <= GOAL_RATIO,
    }
