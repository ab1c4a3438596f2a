"""RLS overhead (goal P9): the same 100-customer GraphQL page (with each customer's owner and
contacts, as in ``customer_page``) with PostgreSQL row-level security enforced, against the same
page with RLS switched off, i.e. the application's own tenant filter (wall 1) alone.

One scratch PostgreSQL database (``KEHU_BENCH_POSTGRES_URL``, an admin connection; skipped without
it), a few tenants of customers, the app used as the app role ``kehu_app`` exactly as deployed.
The app role is neither the tables' owner nor BYPASSRLS (checked), so ``NO FORCE ROW LEVEL
SECURITY`` would change nothing for it: the baseline is made by ``ALTER TABLE … DISABLE ROW LEVEL
SECURITY`` (as the owner) on every table with RLS, and the subject by enabling it again. A probe
as the app role proves each switch took (an unfiltered count sees one tenant with RLS on, every
tenant with it off), and each condition's page is checked to be the same data, all of the
signed-in tenant's rows (the bench fails loudly if the baseline let other tenants' rows in).

Conditions alternate over rounds (taking turns going first), each round after a short warm-up; a
round's figure is the median per-page time, and the ratio is that of the fastest rounds
(``timing.ratio_result``; the median ratio is shown beside it). Goal: at most 1.15x.

    KEHU_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres python -m bench.rls_overhead [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from bench.scale_data import fill_tenant
from bench.support import bench_database, start_database
from bench.timing import ratio_result
from core.context import Context
from core.customers import service as customers
from core.identity.users import create_user
from core.plugins.manager import load_verticals
from core.settings import load_settings
from core.tenancy.service import TenantAdmin, create_tenant
from gateway.app import create_app

NAME = "rls_overhead"
GOAL_RATIO = 1.15
PAGE_SIZE = 100
PASSWORD = "bench-password-2026!"
PAGE = ("{ customers(first: 100) { edges { node { id displayName status phones "
        "owner { username displayName } contacts { surname givenName phones isPrimary } } } } }")


def _login(slug: str) -> str:
    return ('mutation { login(tenant: "%s", username: "admin", password: "%s") { accessToken } }'
            % (slug, PASSWORD))


async def run(*, quick: bool = False) -> dict[str, object]:
    if not os.environ.get("KEHU_BENCH_POSTGRES_URL"):
        return {"name": NAME, "subject": "GraphQL customers(first: 100) with RLS enforced (PostgreSQL)",
                "baseline": "the same page with RLS disabled (the app's tenant filter alone)",
                "ratio": None, "goal": f"ratio <= {GOAL_RATIO}", "met": True,
                "skipped": "needs PostgreSQL: set KEHU_BENCH_POSTGRES_URL (an admin connection URL)"}
    with tempfile.TemporaryDirectory() as var:
        async with bench_database(Path(var)) as database_settings:
            return await _run(Path(var), database_settings, quick=quick)


async def _seed(registry: Any, *, tenants: int, per_tenant: int, paged: int) -> list[tuple[str, UUID]]:
    """``tenants`` tenants of ``per_tenant`` customers each. The first ``paged`` of each are made
    through the service with an owner and two contacts, named to sort before the rest (``一`` is the
    lowest CJK ideograph, digits sort below all of them), so the first page is theirs; the rest are
    bulk-written realistic customers. Every tenant uses the same names: a page that let another
    tenant's rows in would come back different."""
    made = []
    contacts = [customers.ContactInput(surname="刘", given_name="洋", phones=["13700000001"], is_primary=True),
                customers.ContactInput(surname="陈", given_name="静", phones=["13700000002"])]
    for t in range(tenants):
        slug = f"bench{t}"
        tenant = await create_tenant(Context.system(), slug=slug, name=f"Bench {t}", departments=("销售部",),
                                     admin=TenantAdmin("admin", PASSWORD))
        system = Context.system("bench", tenant.id)
        owners = [await create_user(system, username=f"seller{i}", display_name=f"销售{i}", password=PASSWORD)
                  for i in range(5)]
        for i in range(paged):
            await customers.create_customer(system, registry, {
                "kind": "organisation", "org_name": f"一{i:04d}客户有限公司", "phones": [f"1380000{i:04d}"],
                "owner_id": str(owners[i % len(owners)].id)}, contacts=contacts)
        await fill_tenant(tenant.id, per_tenant - paged, seed=t)
        made.append((slug, tenant.id))
    return made


async def _rls_tables(owner: asyncpg.Connection) -> list[str]:
    rows = await owner.fetch("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                             "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relrowsecurity ORDER BY 1")
    return [row["relname"] for row in rows]


async def _check_app_role(app: asyncpg.Connection) -> None:
    """The app role must be subject to RLS as deployed: not the owner, not BYPASSRLS, not superuser
    (else DISABLE/ENABLE would not be the switch that matters)."""
    row = await app.fetchrow(
        "SELECT r.rolsuper, r.rolbypassrls, pg_get_userbyid(c.relowner) = current_user AS owns "
        "FROM pg_roles r, pg_class c WHERE r.rolname = current_user AND c.relname = 'customer' "
        "AND c.relnamespace = 'public'::regnamespace")
    assert row is not None and not (row["rolsuper"] or row["rolbypassrls"] or row["owns"]), \
        f"the app role would not be subject to RLS: {dict(row) if row else None}"


async def _visible(app: asyncpg.Connection, tenant_id: UUID) -> int:
    """Customers the app role sees with the tenant set and no tenant filter of its own."""
    async with app.transaction():
        await app.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
        return int(await app.fetchval("SELECT count(*) FROM customer"))


async def _page_facts(owner: asyncpg.Connection, tenant_id: UUID, data: dict[str, Any]) -> dict[str, int]:
    """Rows the page returned (customers, contacts, owners), checked to be the tenant's own."""
    nodes = [edge["node"] for edge in data["customers"]["edges"]]
    ids = [UUID(node["id"]) for node in nodes]
    foreign = await owner.fetchval("SELECT count(*) FROM customer WHERE id = ANY($1::uuid[]) AND tenant_id <> $2",
                                   ids, tenant_id)
    assert foreign == 0, f"the page returned {foreign} customers of other tenants"
    ours = await owner.fetchval("SELECT count(*) FROM customer WHERE id = ANY($1::uuid[]) AND tenant_id = $2",
                                ids, tenant_id)
    assert ours == len(ids) == len(set(ids)), "the page's customers are not all distinct rows of the tenant"
    return {"customers": len(nodes), "contacts": sum(len(node["contacts"]) for node in nodes),
            "with_owner": sum(1 for node in nodes if node["owner"])}


async def _round(page: Callable[[], Awaitable[dict[str, Any]]], iterations: int, warmup: int
                 ) -> tuple[float, dict[str, Any]]:
    """Median seconds per page over ``iterations`` pages after ``warmup``, and the last page."""
    for _ in range(warmup):
        await page()
    gc.collect()
    times = []
    last: dict[str, Any] = {}
    for _ in range(iterations):
        start = time.perf_counter()
        last = await page()
        times.append(time.perf_counter() - start)
    return statistics.median(times), last


async def _run(tmp: Path, database_settings: dict[str, object], *, quick: bool) -> dict[str, object]:
    tenants, per_tenant, paged = (3, 300, 110) if quick else (3, 2000, 150)
    iterations, rounds, warmup = (10, 2, 3) if quick else (40, 7, 8)
    config = load_settings(**database_settings, var_dir=tmp, log_level="WARNING", password_hashing="fast",
                           rate_limit_per_minute=1_000_000, rate_limit_anonymous_per_minute=1_000_000,
                           rate_limit_cost_per_minute=10**9, rate_limit_caller_cost_per_minute=10**9,
                           tick_interval_seconds=3600)  # no background work between the timed pages
    setup = await start_database(config)  # the keys create_app will use, before seeding sealed values
    registry = load_verticals(())
    try:
        made = await _seed(registry, tenants=tenants, per_tenant=per_tenant, paged=paged)
    finally:
        await setup.close()
    slug, tenant_id = made[-1]  # the signed-in tenant; the others' rows would sort among its own
    owner = await asyncpg.connect(str(database_settings["migrate_database_url"]))
    probe = await asyncpg.connect(str(database_settings["database_url"]))
    try:
        await owner.execute("ANALYZE")
        await _check_app_role(probe)
        tables = await _rls_tables(owner)
        assert "customer" in tables and "customer_contact" in tables and "app_user" in tables, tables
        total = int(await owner.fetchval("SELECT count(*) FROM customer"))
        assert total == tenants * per_tenant, total

        async def rls(on: bool) -> None:
            verb = "ENABLE" if on else "DISABLE"
            for attempt in range(10):  # the app's background ticks read these tables too
                try:
                    async with owner.transaction():
                        await owner.execute("SET LOCAL lock_timeout = '2s'")
                        for table in tables:
                            await owner.execute(f'ALTER TABLE "{table}" {verb} ROW LEVEL SECURITY')
                    break
                except (asyncpg.DeadlockDetectedError, asyncpg.LockNotAvailableError):
                    if attempt == 9:
                        raise
                    await asyncio.sleep(0.2)
            seen = await _visible(probe, tenant_id)
            assert seen == (per_tenant if on else total), \
                f"RLS {'on' if on else 'off'}: the app role sees {seen} customers without a tenant filter"

        app = create_app(config, registry=registry)
        try:
            async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                          base_url="http://bench") as client:
                login = (await client.post("/graphql", json={"query": _login(slug)})).json()
                headers = {"authorization": f"Bearer {login['data']['login']['accessToken']}"}

                async def page() -> dict[str, Any]:
                    body = (await client.post("/graphql", json={"query": PAGE}, headers=headers)).json()
                    assert "errors" not in body, body["errors"]
                    return body["data"]

                # the relay works off the seeding's events in this process: let it finish first
                deadline = time.monotonic() + 120
                while await owner.fetchval("SELECT count(*) FROM outbox_event WHERE status IN "
                                           "('pending', 'dispatched')") and time.monotonic() < deadline:
                    await asyncio.sleep(0.5)
                undrained = int(await owner.fetchval("SELECT count(*) FROM outbox_event WHERE status IN "
                                                     "('pending', 'dispatched')"))
                await rls(True)
                reference = await page()
                facts_on = await _page_facts(owner, tenant_id, reference)
                await rls(False)
                off = await page()
                facts_off = await _page_facts(owner, tenant_id, off)
                print(f"rows returned: RLS on {facts_on}, RLS off {facts_off}", file=sys.stderr)
                assert facts_on == facts_off, f"the page differs: RLS on {facts_on}, off {facts_off}"
                assert off == reference, "the page without RLS is not the page with it"
                assert facts_on == {"customers": PAGE_SIZE, "contacts": 2 * PAGE_SIZE, "with_owner": PAGE_SIZE}, \
                    facts_on

                subject_times: list[float] = []
                baseline_times: list[float] = []
                for r in range(rounds):
                    for on in ((True, False) if r % 2 == 0 else (False, True)):
                        await rls(on)
                        seconds, last = await _round(page, iterations, warmup)
                        assert last == reference, f"RLS {'on' if on else 'off'}: round {r} returned another page"
                        (subject_times if on else baseline_times).append(seconds)
        finally:
            await rls(True)
    finally:
        await probe.close()
        await owner.close()
    return ratio_result(
        NAME, subject_times, baseline_times, GOAL_RATIO,
        subject="GraphQL customers(first: 100) with owner and contacts, RLS enforced, as the app role (PostgreSQL)",
        baseline="the same page with RLS disabled on every RLS table (the app's tenant filter alone)",
        data=f"{tenants} tenants x {per_tenant} customers",
        rls_tables=len(tables),
        outbox_pending_when_timed=undrained,
        rows_rls_on=facts_on,
        rows_rls_off=facts_off,
        per_round=f"median of {iterations} pages after {warmup} warm-up",
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rls_overhead", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="less data, fewer rounds (a smoke run)")
    result = asyncio.run(run(quick=parser.parse_args().quick))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
