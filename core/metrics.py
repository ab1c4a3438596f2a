"""Process metrics that infrastructure records (Prometheus, served by ``gateway.metrics`` at /metrics).

One dedicated ``CollectorRegistry`` (not prometheus-client's global one), so nothing a library
registers leaks into /metrics and tests read exactly kehu's metrics. Every label here has a small,
fixed set of values: no tenant, user, customer or address ever becomes a label. Multiprocess mode
is not used: each process serves its own numbers (docs/observability.md).

This module imports nothing of kehu's, so infrastructure (core/db, core/audit, core/jobs) may use it.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

P = ParamSpec("P")
T = TypeVar("T")

# Database-bound work: from a millisecond to tens of seconds.
_DB_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

TICK_SECONDS = Histogram("kehu_tick_duration_seconds", "Time one timer tick took (every sweep once).",
                         buckets=_DB_BUCKETS, registry=REGISTRY)
AUDIT_APPEND_SECONDS = Histogram("kehu_audit_append_duration_seconds",
                                 "Time to append to a tenant's audit chain (one entry, or one bulk append).",
                                 buckets=_DB_BUCKETS, registry=REGISTRY)
WEBHOOK_FAILURES = Counter("kehu_webhook_failures_total", "Webhook delivery attempts that failed, by outcome.",
                           ["outcome"], registry=REGISTRY)
RATE_LIMIT_FALLBACK = Gauge("kehu_rate_limit_fallback", "1 while this process limits with local counters "
                            "because Redis cannot be reached, else 0.", registry=REGISTRY)

_OUTCOME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_MAX_OUTCOMES = 20
_outcomes: set[str] = set()


def bounded_label(value: str, seen: set[str], pattern: re.Pattern[str], limit: int) -> str:
    """``value`` when it looks like a label and fewer than ``limit`` distinct values were seen, else
    ``"other"``: a label's values stay few whatever callers pass."""
    if value in seen:
        return value
    if not pattern.match(value) or len(seen) >= limit:
        return "other"
    seen.add(value)
    return value


def record_webhook_failure(endpoint_outcome: str) -> None:
    """Count one failed webhook attempt. ``endpoint_outcome`` names how it failed (a short
    lower-case word such as ``timeout``, ``connect_error``, ``http_5xx``, ``refused``); anything
    else, or more than 20 distinct names, is counted as ``other``. Never pass a URL or a tenant."""
    WEBHOOK_FAILURES.labels(outcome=bounded_label(endpoint_outcome, _outcomes, _OUTCOME, _MAX_OUTCOMES)).inc()


def timed(histogram: Histogram) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """Decorate a coroutine function: each call's duration (failed calls too) goes to ``histogram``."""

    def decorate(function: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(function)
        async def measured(*args: P.args, **kwargs: P.kwargs) -> T:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                histogram.observe(time.perf_counter() - started)

        return measured

    return decorate


def sample_count(name: str, labels: dict[str, str] | None = None) -> float:
    """The current value of a sample of REGISTRY (0 when absent): for tests and the CLI."""
    value: Any = REGISTRY.get_sample_value(name, labels or {})
    return float(value or 0.0)
