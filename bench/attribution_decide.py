"""Attribution decision (issue 21 acceptance 6): deciding the owner of one customer with 1,000
ledger entries costs less than 2x reading those entries.

One scratch database with one tenant, one customer and a vertical whose attribution policy walks
the entries once (the earliest registration still followed up within 30 days owns the customer,
each deal splits 100 to the owner). 1,000 entries (registrations, follow-ups, visits, deals, a few
corrections and confirmations) are seeded in bulk straight into the ledger.

Subject: ``core.attribution.service.decide_in`` in a read-only unit of work — the vertical's
policy and parameters, the customer's entries (one query, the columns a decision needs), its
relations and their entries (one more query), the facts built in one pass (corrections applied,
confirmations marked) and the policy's decision. Baseline, in the same run: a plain read of the
same 1,000 entries (the same columns, ``data`` decoded) in one read-only transaction. Rounds
alternate; the fastest of each is kept; the goal is ratio <= 2. SQLite by default; PostgreSQL with
``KEHU_BENCH_POSTGRES_URL``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.support import bench_database, start_database
from bench.timing import compare, ratio_result
from core.attribution import service as attribution
from core.context import Context
from core.customers.tables import Customer
from core.db import current_database, unit_of_work
from core.identity.tables import User
from core.plugins.manager import start_verticals
from core.plugins.testing import make_registry, plugin
from core.plugins.types import AttributionDecision, AttributionPolicy, DealSplit, VerticalInfo
from core.settings import load_settings
from core.tenancy.service import TenantAdmin, create_tenant
from core.verticals import service as verticals

GOAL_RATIO = 2.0
VERTICAL = "attributionbench"
ENTRIES = 1_000
ENTRY_COLUMNS = ("id", "tenant_id", "created_at", "customer_id", "vertical", "seq", "kind", "at", "consultant_id",
                 "data", "refers_to", "recorded_by", "recorded_at")


def earliest_valid_registration(facts: Any, parameters: Any) -> AttributionDecision:
    """One pass: the earliest registration whose consultant followed up within 30 days of the
    decision's moment owns the customer; each deal splits 100 to it."""
    first: dict[str, Any] = {}
    touched: dict[str, datetime] = {}
    deals = []
    for entry in facts.entries:
        if entry.kind == "registration" and entry.consultant not in first:
            first[entry.consultant] = entry
        if entry.kind in ("registration", "follow_up") and entry.consultant:
            touched[entry.consultant] = entry.at
        elif entry.kind == "deal":
            deals.append(entry)
    valid = [e for c, e in first.items() if facts.as_of is None or touched[c] + timedelta(days=30) >= facts.as_of]
    owner = min(valid, key=lambda e: e.seq) if valid else None
    who = owner.consultant if owner else None
    return AttributionDecision(
        owner=who, shares={who: 100} if who else {}, rule="RE20", explanation_en=f"registered first by {who}",
        explanation_zh=f"由 {who} 最先登记", entries=(owner.id,) if owner else (),
        deals=tuple(DealSplit(deal=d.id, shares={who: 100}, rule="RE20", explanation_en="all to the owner",
                              explanation_zh="全部归归属人", entries=(d.id,)) for d in deals if who))


bench_vertical = plugin(
    kehu_vertical_info=lambda: VerticalInfo(id=VERTICAL, name_zh="归属基准", name_en="Attribution bench",
                                            version="1.0"),
    kehu_attribution_policy=lambda: [AttributionPolicy("bench_policy", "Bench policy", "基准规则",
                                                       earliest_valid_registration)],
)


async def _seed(tenant_id: uuid.UUID, consultants: list[uuid.UUID]) -> uuid.UUID:
    """One customer with ``ENTRIES`` entries over about a year: every fifth a registration, deals
    now and then, a correction and a confirmation every fiftieth (naming the entry before)."""
    ctx = Context.system("bench", tenant_id)
    now = datetime.now(UTC)
    customer = uuid.uuid4()
    async with unit_of_work(ctx) as uow:
        await uow.insert(Customer(id=customer, kind="person", status="active", display_name="王先生",
                                  search="王先生", data="{}", updated_at=now, created_by="bench"))
        rows, previous = [], None
        start = now - timedelta(days=400)
        for n in range(ENTRIES):
            entry_id = uuid.uuid4()
            kind = ("correction" if n % 50 == 49 else "confirmation" if n % 50 == 24 else "registration" if n % 5 == 0
                    else "deal" if n % 97 == 3 else "visit" if n % 3 == 0 else "follow_up")
            refers = previous if kind in ("correction", "confirmation") else None
            data = {"note": f"回访 {n}"} if kind == "follow_up" else {"reception": "rotation"} if kind == "visit" else {}
            rows.append((entry_id, tenant_id, now, customer, VERTICAL, n + 1, kind, start + timedelta(hours=9 * n),
                         None if refers else consultants[n % len(consultants)], json.dumps(data, ensure_ascii=False),
                         refers, "bench", now))
            previous = entry_id
        await uow.insert_many("attribution_entry", ENTRY_COLUMNS, rows)
    return customer


async def _decide(tenant_id: uuid.UUID, customer: uuid.UUID, registry: Any) -> AttributionDecision:
    async with unit_of_work(Context.system("bench", tenant_id), write=False) as uow:
        return await attribution.decide_in(uow, registry, VERTICAL, customer)


async def _plain_read(tenant_id: uuid.UUID, customer: uuid.UUID) -> list[dict[str, Any]]:
    async with unit_of_work(Context.system("bench", tenant_id), write=False):
        rows = await current_database().fetch(
            "SELECT id, seq, customer_id, kind, at, consultant_id, data, refers_to FROM attribution_entry "
            "WHERE tenant_id = {} AND customer_id = {} AND vertical = {} ORDER BY seq", tenant_id, customer, VERTICAL)
        for row in rows:
            row["data"] = json.loads(row["data"])
    assert len(rows) == ENTRIES
    return rows


async def run(*, quick: bool = False) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as var:
        return await _run(Path(var), quick=quick)


async def _run(tmp: Path, *, quick: bool) -> dict[str, object]:
    iterations, rounds = (10, 3) if quick else (50, 7)
    registry = make_registry((VERTICAL, bench_vertical))
    start_verticals(registry)
    try:
        async with bench_database(tmp) as database_settings:
            settings = load_settings(**database_settings, var_dir=tmp, password_hashing="fast", log_level="WARNING")
            database = await start_database(settings)
            try:
                admin = TenantAdmin("bench-admin", "bench-password-2026!")
                tenant = await create_tenant(Context.system(), slug="bench-attribution", name="Bench", admin=admin)
                await verticals.enable_vertical(Context.system("bench", tenant.id), registry, VERTICAL)
                async with unit_of_work(Context.system("bench", tenant.id), write=False) as uow:
                    consultants = [r["id"] for r in await uow.select(User.id)]
                customer = await _seed(tenant.id, consultants)
                decided = await _decide(tenant.id, customer, registry)
                assert decided.rule == "RE20"
                subject, baseline = [], []
                for _ in range(rounds):
                    s, b = await compare(lambda: _decide(tenant.id, customer, registry),
                                         lambda: _plain_read(tenant.id, customer), iterations=iterations, rounds=1)
                    subject.append(s)
                    baseline.append(b)
                is_sqlite = settings.database.is_sqlite
            finally:
                await database.close()
    finally:
        start_verticals(None)
    result = ratio_result(
        "attribution_decide", subject, baseline, GOAL_RATIO,
        subject=f"deciding one customer's owner from its {ENTRIES:,} ledger entries (facts built, corrections "
                f"applied, the vertical's policy) ({'SQLite' if is_sqlite else 'PostgreSQL'})",
        baseline=f"a plain read of the same {ENTRIES:,} entries, data decoded", entries=ENTRIES)
    print(f"attribution_decide: decide {result['subject_ms']} ms vs read {result['baseline_ms']} ms, "
          f"ratio {result['ratio']} (goal <= {GOAL_RATIO})", file=sys.stderr)
    return result
