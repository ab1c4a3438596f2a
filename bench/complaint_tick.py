"""Complaint tick (issue 19 acceptance 5): the periodic tick over 100,000 open complaints with 100
clocks due takes no more than 1.5× the tick over 1,000 open complaints with the same 100 due.

Two scratch databases in the same run, migrated alike, each with one tenant and the real-estate
vertical enabled: the baseline holds 1,000 open property complaints (R10, routine, received),
the subject 100,000; in both, 100 of them have their 24-hour forwarding clock past due, every
other clock runs with its due time a day ahead. Rows are seeded in bulk straight into the tables
(``UnitOfWork.insert_many``), not through intake. A round resets the 100 due clocks (untimed),
then times one tick (``core.complaints.service.breach_due``: every tenant, the due-time index
read, and for each breach its event, audit entry, outbox event and the flow's reactions — a
reminder to the front desk and a notice to the first responder); rounds alternate between the
two databases so drift in machine load hits both alike, and the fastest round of each is kept.
The ratio is subject / baseline (the fastest rounds); the goal is ≤ 1.5. The ratio of the median
rounds is given too. The tick's read alone (``due_clocks``, the
range read of the index on the next due time) is timed too, for the record.
"""

from __future__ import annotations

import gc
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

import plugins.real_estate as real_estate
from bench.support import bench_database, start_database
from bench.timing import ratio_result
from core.complaints import service
from core.complaints.tables import ComplaintClock
from core.context import Context
from core.db import Database, unit_of_work, use_database
from core.plugins.manager import start_verticals
from core.plugins.testing import make_registry
from core.settings import load_settings
from core.tenancy.service import TenantAdmin, create_tenant
from core.verticals import service as verticals

GOAL_RATIO = 1.5
AT = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # the tick's time (10:00 in Shanghai)
SEED_BATCH = 5_000
COMPLAINT_COLUMNS = ("id", "tenant_id", "created_at", "vertical", "flow", "number", "source", "channel", "category",
                     "severity", "branch", "state", "subject", "first_responder", "fields", "attachments",
                     "opened_at", "version")
CLOCK_COLUMNS = ("id", "tenant_id", "created_at", "complaint_id", "timer", "kind", "unit", "status", "started_at",
                 "due_at", "next_due_at", "provisional")


class Side:
    """One scratch database with one tenant and ``open_count`` open complaints, ``due`` of them due."""

    def __init__(self, name: str, database: Database, database_settings: dict[str, object], tenant_id: uuid.UUID,
                 due_ids: list[uuid.UUID]) -> None:
        self.name, self.database, self.database_settings = name, database, database_settings
        self.tenant_id, self.due_ids = tenant_id, due_ids


async def _seed(tenant_id: uuid.UUID, open_count: int, due: int) -> list[uuid.UUID]:
    """Bulk-insert ``open_count`` open complaints, each with its running 24-hour forwarding clock;
    the first ``due`` clocks are past due at ``AT``. Returns the due clocks' ids."""
    due_ids: list[uuid.UUID] = []
    ctx = Context.system("bench", tenant_id)
    for start in range(0, open_count, SEED_BATCH):
        complaints, clocks = [], []
        for n in range(start, min(open_count, start + SEED_BATCH)):
            complaint_id, clock_id = uuid.uuid4(), uuid.uuid4()
            is_due = n < due
            due_at = AT - timedelta(minutes=1 + n % 50) if is_due else AT + timedelta(days=1, seconds=n % 3600)
            opened = due_at - timedelta(hours=24)
            complaints.append((complaint_id, tenant_id, opened, "real_estate", "property_complaint", f"WY2609{n:07d}",
                               "external", "phone", "routine", "normal", "routine", "received", "电梯故障",
                               "user:bench", "{}", "[]", opened, 1))
            clocks.append((clock_id, tenant_id, opened, complaint_id, "forward_24h", "timer", "hours", "running",
                           opened, due_at, due_at, False))
            if is_due:
                due_ids.append(clock_id)
        async with unit_of_work(ctx) as uow:
            await uow.insert_many("complaint", COMPLAINT_COLUMNS, complaints)
            await uow.insert_many("complaint_clock", CLOCK_COLUMNS, clocks)
    return due_ids


async def _side(stack: AsyncExitStack, tmp: Path, name: str, open_count: int, due: int,
                registry: Any) -> tuple[Side, Any]:
    folder = tmp / name
    folder.mkdir()
    database_settings = await stack.enter_async_context(bench_database(folder))
    settings = load_settings(**database_settings, var_dir=tmp, password_hashing="fast", log_level="WARNING")
    database = await start_database(settings)
    stack.push_async_callback(database.close)
    admin = TenantAdmin("bench-admin", "bench-password-2026!")
    tenant = await create_tenant(Context.system(), slug=f"bench-tick-{name}", name="Bench", admin=admin)
    await verticals.enable_vertical(Context.system("bench", tenant.id), registry, "real_estate")
    due_ids = await _seed(tenant.id, open_count, due)
    return Side(name, database, database_settings, tenant.id, due_ids), settings


async def _analyse(side: Side) -> None:
    owner_url = side.database_settings.get("migrate_database_url")
    if owner_url:  # what autovacuum's auto-analyze does after a bulk load
        connection = await asyncpg.connect(str(owner_url))
        await connection.execute("ANALYZE")
        await connection.close()


async def _reset(side: Side) -> None:
    """The due clocks running and unbreached again (untimed), so every round handles the same 100."""
    use_database(side.database)
    async with unit_of_work(Context.system("bench", side.tenant_id)) as uow:
        for clock_id in side.due_ids:
            row = await uow.select(ComplaintClock.due_at).where(ComplaintClock.id == clock_id).first()
            await uow.update(ComplaintClock, {ComplaintClock.breached_at: None, ComplaintClock.status: "running",
                                              ComplaintClock.next_due_at: row["due_at"]}).where(
                ComplaintClock.id == clock_id)


async def _query(side: Side) -> float:
    """The tick's read alone: the due clocks through the due-time index (``due_clocks``)."""
    use_database(side.database)
    async with unit_of_work(Context.system(service.TICK_ACTOR, side.tenant_id), write=False) as uow:
        start = time.perf_counter()
        found = await service.due_clocks(uow, AT)
        elapsed = time.perf_counter() - start
    assert len(found) == len(side.due_ids), (side.name, len(found))
    return elapsed


async def _tick(side: Side) -> float:
    await _reset(side)
    gc.collect()
    start = time.perf_counter()
    handled = await service.breach_due(AT)
    elapsed = time.perf_counter() - start
    assert handled == len(side.due_ids), (side.name, handled)
    return elapsed


async def run(*, quick: bool = False) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as var:
        return await _run(Path(var), quick=quick)


async def _run(tmp: Path, *, quick: bool) -> dict[str, object]:
    small, large, due = (200, 2_000, 20) if quick else (1_000, 100_000, 100)
    rounds = 2 if quick else 12
    registry = make_registry(("real_estate", real_estate))
    start_verticals(registry)
    async with AsyncExitStack() as stack:
        seeding = time.perf_counter()
        baseline, settings = await _side(stack, tmp, "small", small, due, registry)
        subject, _ = await _side(stack, tmp, "large", large, due, registry)
        seed_seconds = time.perf_counter() - seeding
        for side in (baseline, subject):
            await _analyse(side)
        await _tick(baseline)  # warm-up
        await _tick(subject)
        baseline_times, subject_times, baseline_queries, subject_queries = [], [], [], []
        for _ in range(rounds):
            baseline_times.append(await _tick(baseline))
            subject_times.append(await _tick(subject))
            await _reset(baseline)
            baseline_queries.append(min([await _query(baseline) for _ in range(5)]))
            await _reset(subject)
            subject_queries.append(min([await _query(subject) for _ in range(5)]))
        start_verticals(None)
    return ratio_result(
        "complaint_tick", subject_times, baseline_times, GOAL_RATIO,
        subject=f"one complaint tick over {large:,} open complaints with {due} clocks due "
                f"({'SQLite' if settings.database.is_sqlite else 'PostgreSQL'})",
        baseline=f"one complaint tick over {small:,} open complaints with the same {due} due",
        due=due, seed_seconds=round(seed_seconds, 1),
        subject_query_ms=round(min(subject_queries) * 1000, 2),
        baseline_query_ms=round(min(baseline_queries) * 1000, 2))
