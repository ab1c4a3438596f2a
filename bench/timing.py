"""Timing helpers: interleaved rounds so drift in machine load hits subject and baseline alike."""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable


async def per_call_seconds(call: Callable[[], Awaitable[object]], iterations: int) -> float:
    start = time.perf_counter()
    for _ in range(iterations):
        await call()
    return (time.perf_counter() - start) / iterations


async def compare(subject: Callable[[], Awaitable[object]], baseline: Callable[[], Awaitable[object]],
                  *, iterations: int, rounds: int) -> tuple[float, float]:
    """Fastest per-call seconds of (subject, baseline) over alternating rounds, after a warm-up.

    The fastest round is the one least disturbed by the rest of the machine (timeit's advice);
    alternating rounds exposes both sides to the same drift.
    """
    await per_call_seconds(subject, max(10, iterations // 10))
    await per_call_seconds(baseline, max(10, iterations // 10))
    subject_times, baseline_times = [], []
    for _ in range(rounds):
        gc.collect()
        subject_times.append(await per_call_seconds(subject, iterations))
        gc.collect()
        baseline_times.append(await per_call_seconds(baseline, iterations))
    return min(subject_times), min(baseline_times)
