"""Timing helpers: interleaved rounds so drift in machine load hits subject and baseline alike."""

from __future__ import annotations

import gc
import statistics
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


def ratio_result(name: str, subject_times: list[float], baseline_times: list[float], goal_ratio: float,
                 **described: object) -> dict[str, object]:
    """The result of a subject-versus-baseline benchmark over interleaved rounds: the fastest round
    of each side, their ratio against the goal, and the median ratio to show the spread.
    ``described`` (subject, baseline, counts, …) is reported as given, after the name."""
    subject_s, baseline_s = min(subject_times), min(baseline_times)
    ratio = subject_s / baseline_s
    return {
        "name": name,
        **described,
        "rounds": len(subject_times),
        "subject_ms": round(subject_s * 1000, 1),
        "baseline_ms": round(baseline_s * 1000, 1),
        "subject_rounds_ms": [round(x * 1000, 1) for x in subject_times],
        "baseline_rounds_ms": [round(x * 1000, 1) for x in baseline_times],
        "median_ratio": round(statistics.median(subject_times) / statistics.median(baseline_times), 3),
        "ratio": round(ratio, 3),
        "goal": f"ratio <= {goal_ratio}",
        "met": ratio <= goal_ratio,
    }
