"""Grade review run (issue 20 acceptance 6): a review over 100,000 customers of one tenant, run as
one long job with progress, costs no more than 3x a plain read of the same customers and facts.

One scratch database with one tenant, a department holding every customer, and a grading vertical
enabled whose scheme grades per department (MD19) from two facts (annual business, overdue
receivables) with a hard VIP cap of 15% and a soft preferred cap of 30% (the medical-devices
shape). Customers and their facts (two per customer) are seeded in bulk straight into the tables.

Subject: one review run as the long job does it — queued with ``core.jobs.long_jobs.submit`` and
run with ``long_jobs.run_job``: the population read in keyset batches of 2,000 customer ids, each
batch's facts and current grades read, every customer proposed by the scheme's policy, progress
recorded after each batch, then the review stored (proposals and every cap violation), audited,
with its outbox event. Baseline, in the same run: a plain read of the same customers (id and
name of the department's customers) and of all their facts (customer, name, JSON value decoded),
two statements in one read-only transaction. Rounds alternate; the fastest of each is kept; the
goal is ratio <= 3. ``KEHU_BENCH_GRADE_CUSTOMERS`` sets the population (default 100,000;
``--quick`` uses 5,000). SQLite by default; PostgreSQL with ``KEHU_BENCH_POSTGRES_URL``.
"""

from __future__ import annotations

import gc
import json
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench.support import bench_database, start_database
from bench.timing import ratio_result
from core.context import Context
from core.db import current_database, unit_of_work
from core.grading import service as grading
from core.grading.tables import GradeReview
from core.jobs import long_jobs
from core.jobs.tables import LongJob
from core.plugins.manager import start_verticals
from core.plugins.testing import make_registry, plugin
from core.plugins.types import Grade, GradingScheme, Parameter, ParameterKind, Permission, VerticalInfo
from core.settings import load_settings
from core.tenancy.service import TenantAdmin, create_tenant
from core.tenancy.tables import Department
from core.verticals import service as verticals

GOAL_RATIO = 3.0
VERTICAL = "gradebench"
SEED_BATCH = 5_000
CUSTOMER_COLUMNS = ("id", "tenant_id", "created_at", "kind", "status", "display_name", "department_id", "is_key",
                    "tags", "search", "data", "version", "updated_at", "created_by")
FACT_COLUMNS = ("id", "tenant_id", "created_at", "customer_id", "scope_key", "name", "value", "recorded_at",
                "recorded_by")


def by_facts(facts: Any, parameters: Any) -> str:
    """VIP: 500万元 a year and nothing overdue; preferred: 100万元 and nothing overdue."""
    business, overdue = facts.get("annual_business") or 0, facts.get("overdue_receivables") or 0
    if overdue:
        return "qualified"
    return "vip" if business >= 500 else "preferred" if business >= 100 else "qualified"


SCHEME = GradingScheme(
    "customer_grade", "Customer grade", "客户分级",
    grades=(Grade("vip", "VIP", "VIP类", 1, cap_percent=15, cap_parameter="vip_cap_percent"),
            Grade("preferred", "Preferred", "优选类", 2, cap_percent=30, cap_soft=True),
            Grade("qualified", "Qualified", "合格类", 3)),
    scope="department", score=by_facts)
gradebench = plugin(
    kehu_vertical_info=lambda: VerticalInfo(id=VERTICAL, name_zh="分级基准", name_en="Grading bench", version="1.0"),
    kehu_permissions=lambda: [Permission(f"{VERTICAL}.grade.assign", "grade customers", "评定客户等级")],
    kehu_parameters=lambda: [Parameter("vip_cap_percent", ParameterKind.DECIMAL, 15.0, "VIP cap", "VIP比例上限",
                                       minimum=0, maximum=100)],
    kehu_grading_schemes=lambda: [SCHEME],
)


async def _seed(tenant_id: uuid.UUID, department: uuid.UUID, count: int) -> None:
    """``count`` customers of the department, each with its annual business and overdue receivables:
    a tenth earn VIP (under the 15% cap), about a quarter preferred, one in twenty is overdue."""
    ctx = Context.system("bench", tenant_id)
    now = datetime.now(UTC)
    scope = str(department)
    for start in range(0, count, SEED_BATCH):
        customers, facts = [], []
        for n in range(start, min(count, start + SEED_BATCH)):
            customer_id = uuid.uuid4()
            name = f"医院{n:06d}"
            customers.append((customer_id, tenant_id, now, "organisation", "active", name, department, False, "[]",
                              name, "{}", 1, now, "bench"))
            business = 800 if n % 10 == 0 else 200 if n % 4 == 1 else 50
            facts.append((uuid.uuid4(), tenant_id, now, customer_id, scope, "annual_business", json.dumps(business),
                          now, "bench"))
            facts.append((uuid.uuid4(), tenant_id, now, customer_id, scope, "overdue_receivables",
                          json.dumps(1 if n % 20 == 3 else 0), now, "bench"))
        async with unit_of_work(ctx) as uow:
            await uow.insert_many("customer", CUSTOMER_COLUMNS, customers)
            await uow.insert_many("grade_fact", FACT_COLUMNS, facts)


async def _review(tenant_id: uuid.UUID, department: uuid.UUID, count: int, registry: Any) -> float:
    """One review as the long job: submit, run, check the stored review (timed: submit to finish)."""
    ctx = Context.system("user:bench", tenant_id)
    gc.collect()
    start = time.perf_counter()
    job_id = await grading.start_review(ctx, registry, VERTICAL, SCHEME.id, scope_id=department)
    assert await long_jobs.run_job(tenant_id, job_id)
    elapsed = time.perf_counter() - start
    async with unit_of_work(ctx, write=False) as uow:
        job = await uow.select(LongJob.status, LongJob.result, LongJob.progress_done, LongJob.error_message).where(
            LongJob.id == job_id).first()
    assert job["status"] == long_jobs.SUCCEEDED, job
    result = json.loads(job["result"])
    assert (result["population"], result["proposals"], job["progress_done"]) == (count, count, count), result
    return elapsed


async def _plain_read(tenant_id: uuid.UUID, department: uuid.UUID, count: int) -> float:
    """The same customers and facts read plainly: two statements, values decoded."""
    gc.collect()
    start = time.perf_counter()
    async with unit_of_work(Context.system("bench", tenant_id), write=False):
        database = current_database()
        customers = await database.fetch(
            "SELECT id, display_name FROM customer WHERE tenant_id = {} AND department_id = {} "
            "AND deleted_at IS NULL AND merged_into IS NULL", tenant_id, department)
        facts = await database.fetch(
            "SELECT customer_id, name, value FROM grade_fact WHERE tenant_id = {} AND scope_key = {}",
            tenant_id, str(department))
        by_customer: dict[Any, dict[str, Any]] = {row["id"]: {} for row in customers}
        for row in facts:
            by_customer[row["customer_id"]][row["name"]] = json.loads(row["value"])
    elapsed = time.perf_counter() - start
    assert len(by_customer) == count and len(facts) == 2 * count
    return elapsed


async def run(*, quick: bool = False) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as var:
        return await _run(Path(var), quick=quick)


async def _run(tmp: Path, *, quick: bool) -> dict[str, object]:
    count = 5_000 if quick else int(os.environ.get("KEHU_BENCH_GRADE_CUSTOMERS", "100000"))
    rounds = 2 if quick else 5
    registry = make_registry((VERTICAL, gradebench))
    start_verticals(registry)
    try:
        async with bench_database(tmp) as database_settings:
            settings = load_settings(**database_settings, var_dir=tmp, password_hashing="fast", log_level="WARNING")
            database = await start_database(settings)
            try:
                admin = TenantAdmin("bench-admin", "bench-password-2026!")
                tenant = await create_tenant(Context.system(), slug="bench-grading", name="Bench", admin=admin)
                await verticals.enable_vertical(Context.system("bench", tenant.id), registry, VERTICAL)
                department = uuid.uuid4()
                async with unit_of_work(Context.system("bench", tenant.id)) as uow:
                    await uow.insert(Department(id=department, name="骨科事业部"))
                seeding = time.perf_counter()
                await _seed(tenant.id, department, count)
                seed_seconds = time.perf_counter() - seeding
                owner_url = database_settings.get("migrate_database_url")
                if owner_url:  # what autovacuum's auto-analyze does after a bulk load
                    connection = await asyncpg.connect(str(owner_url))
                    await connection.execute("ANALYZE")
                    await connection.close()
                await _plain_read(tenant.id, department, count)  # warm-up
                await _review(tenant.id, department, count, registry)
                subject_times, baseline_times = [], []
                for _ in range(rounds):
                    subject_times.append(await _review(tenant.id, department, count, registry))
                    baseline_times.append(await _plain_read(tenant.id, department, count))
                async with unit_of_work(Context.system("bench", tenant.id), write=False) as uow:
                    last = await uow.select(GradeReview.violations, GradeReview.proposals).order_by(
                        GradeReview.proposed_at, ascending=False).first()
                violations = [(v["grade"], v["percent"], v["soft"]) for v in json.loads(last["violations"])]
                proposed = list(json.loads(last["proposals"]).values())
                expected_vip = len(range(0, count, 10))  # the facts were read: every tenth customer is VIP
                assert proposed.count("vip") == expected_vip, (proposed.count("vip"), expected_vip)
                is_sqlite = settings.database.is_sqlite
            finally:
                await database.close()
    finally:
        start_verticals(None)
    return ratio_result(
        "grade_review", subject_times, baseline_times, GOAL_RATIO,
        subject=f"one grade review run as a long job over {count:,} customers of one department with 2 facts "
                f"each, batches of {grading.REVIEW_BATCH:,} ({'SQLite' if is_sqlite else 'PostgreSQL'})",
        baseline=f"a plain read of the same {count:,} customers and {2 * count:,} facts",
        customers=count, seed_seconds=round(seed_seconds, 1), violations=violations)
