"""Tobacco onboarding sweep (issue 22 acceptance 6): the sweep over a tenant of 50,000 licensed retailers
costs in proportion to the onboarding fields falling due, not to the retailers.

One scratch database, two tenants with the tobacco vertical: the subject tenant has 50,000 retailers
(300,000 onboarding deadlines, six each, due over the next year), the baseline tenant 2,000 (12,000
deadlines). In both, each minute after the start has the same number of steps falling due (``DUE``
per minute, of retailers whose master data is empty, so every one is an overdue breach written with
its missing fields). Each timed call is one sweep of the next minute: it reads the steps due, each
retailer's extension fields, and marks each step met or overdue with its outbox event.

Subject: a sweep in the 50,000-retailer tenant. Baseline, in the same run: a sweep of the same number
of due steps in the 2,000-retailer tenant. Rounds alternate; the fastest of each is kept; the goal is
ratio <= 1.5 (cost follows the due steps, not the retailers). The run also reports a sweep of twice
the due steps in the large tenant against the subject (``double_due_ratio``, about 2 when the cost is
proportional to the due steps). SQLite by default; PostgreSQL with ``KEHU_BENCH_POSTGRES_URL``.
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import plugins.tobacco as tobacco
from bench.support import bench_database, start_database
from bench.timing import compare, ratio_result
from core.context import Context
from core.db import unit_of_work
from core.plugins.manager import start_verticals
from core.plugins.testing import make_registry
from core.settings import load_settings
from core.tenancy.service import TenantAdmin, create_tenant
from core.verticals import service as verticals
from plugins.tobacco import service

GOAL_RATIO = 1.5
RETAILERS, BASELINE_RETAILERS = 50_000, 2_000
DUE = 30  # steps falling due per minute, in both tenants
STEPS = ("decide", "core", "market", "display", "deferred", "importance")
CUSTOMER_COLUMNS = ("id", "tenant_id", "created_at", "kind", "status", "display_name", "is_key", "tags", "search",
                    "data", "version", "updated_at", "created_by")
DEADLINE_COLUMNS = ("id", "tenant_id", "created_at", "customer_id", "step", "due_at", "state", "missing")


async def _seed(tenant_id: uuid.UUID, retailers: int, start: datetime, minutes: int) -> None:
    """``retailers`` customers with six pending steps each. The steps of the first retailers fall due
    ``DUE`` a minute over ``minutes`` minutes after ``start``; every other step falls due later than
    the sweeps reach (over the next year)."""
    ctx = Context.system("bench", tenant_id)
    now = datetime.now(UTC)
    due_steps = minutes * DUE
    assert due_steps <= retailers * len(STEPS)
    for first in range(0, retailers, 5_000):
        async with unit_of_work(ctx) as uow:
            ids = [uuid.uuid4() for _ in range(first, min(first + 5_000, retailers))]
            await uow.insert_many("customer", CUSTOMER_COLUMNS, [
                (i, tenant_id, now, "organisation", "active", f"便利店{n}", False, "[]", f"便利店{n}", "{}", 1, now,
                 "bench") for n, i in enumerate(ids, start=first)])
            rows = []
            for n, customer in enumerate(ids, start=first):
                for k, step in enumerate(STEPS):
                    g = n * len(STEPS) + k
                    due = (start + timedelta(minutes=g // DUE, seconds=30) if g < due_steps
                           else start + timedelta(days=2 + g % 360, minutes=g % 600))
                    rows.append((uuid.uuid4(), tenant_id, now, customer, step, due, "pending", ""))
            await uow.insert_many("tobacco_deadline", DEADLINE_COLUMNS, rows)


class Sweeper:
    """One sweep per call, each a further ``span`` minutes on: the next due steps, and only those."""

    def __init__(self, tenant_id: uuid.UUID, start: datetime, span: int = 1) -> None:
        self.ctx, self.at, self.span, self.handled = Context.system("bench", tenant_id), start, span, []

    async def __call__(self) -> int:
        self.at += timedelta(minutes=self.span)
        handled = await service.sweep_onboarding(self.ctx, self.at)
        self.handled.append(handled)
        return handled


async def run(*, quick: bool = False) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as var:
        return await _run(Path(var), quick=quick)


async def _run(tmp: Path, *, quick: bool) -> dict[str, object]:
    iterations, rounds = (10, 3) if quick else (20, 5)
    retailers_large = 10_000 if quick else RETAILERS  # quick is a smoke run: seeding 50,000 was most of it
    per_compare = max(10, iterations // 10) + iterations  # a warm-up and the timed sweeps
    minutes = (rounds + 2) * per_compare + 5
    registry = make_registry(("tobacco", tobacco))
    start_verticals(registry)
    try:
        async with bench_database(tmp) as database_settings:
            settings = load_settings(**database_settings, var_dir=tmp, password_hashing="fast", log_level="WARNING")
            database = await start_database(settings, registry)
            try:
                start = datetime(2026, 9, 24, 2, 0, tzinfo=UTC)
                tenants = {}
                for slug, retailers in (("bench-tobacco-large", retailers_large),
                                        ("bench-tobacco-small", BASELINE_RETAILERS)):
                    admin = TenantAdmin("bench-admin", "bench-password-2026!")
                    tenant = await create_tenant(Context.system(), slug=slug, name=slug, admin=admin)
                    await verticals.enable_vertical(Context.system("bench", tenant.id), registry, "tobacco")
                    await _seed(tenant.id, retailers, start, minutes)
                    tenants[slug] = tenant.id
                large = Sweeper(tenants["bench-tobacco-large"], start)
                small = Sweeper(tenants["bench-tobacco-small"], start)
                subject, baseline = [], []
                for _ in range(rounds):
                    s, b = await compare(large, small, iterations=iterations, rounds=1)
                    subject.append(s)
                    baseline.append(b)
                assert set(large.handled) == set(small.handled) == {DUE}, (large.handled, small.handled)
                double = Sweeper(tenants["bench-tobacco-large"], large.at, span=2)
                single = Sweeper(tenants["bench-tobacco-small"], small.at)
                twice, once = await compare(double, single, iterations=iterations, rounds=1)
                assert set(double.handled) == {2 * DUE}, double.handled
                is_sqlite = settings.database.is_sqlite
            finally:
                await database.close()
    finally:
        start_verticals(None)
    result = ratio_result(
        "tobacco_sweep", subject, baseline, GOAL_RATIO,
        subject=f"one onboarding sweep of {DUE} steps falling due among {retailers_large:,} retailers "
                f"({retailers_large * 6:,} deadlines) ({'SQLite' if is_sqlite else 'PostgreSQL'})",
        baseline=f"one sweep of the same {DUE} due steps among {BASELINE_RETAILERS:,} retailers",
        retailers=retailers_large, due_per_sweep=DUE, double_due_ratio=round(twice / once, 3))
    print(f"tobacco_sweep: {retailers_large:,} retailers {result['subject_ms']} ms vs {BASELINE_RETAILERS:,} "
          f"{result['baseline_ms']} ms, ratio {result['ratio']} (goal <= {GOAL_RATIO}); twice the due steps "
          f"{result['double_due_ratio']}x", file=sys.stderr)
    return result

