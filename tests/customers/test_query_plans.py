"""Issue 27 acceptance 2: the customer page, the searches and a customer's history are index scans
leading with ``tenant_id`` on PostgreSQL, and a search reads little beyond its results, whatever
the other tenants hold.

The statements are the ones the services really send (captured from the engine), explained with
ANALYZE and BUFFERS as the tenant's administrator, under row-level security, on a database where
the tenant's rows are interleaved with two bigger tenants' (as months of mixed writes leave them).
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest

from bench.scale_data import fill_tenant, records
from core.customers import service as customers
from core.db.engine import KehuPostgresEngine
from core.db import unit_of_work
from tests.support import seed_two_tenants, sign_in

pytestmark = pytest.mark.usefixtures("postgres_settings")

TENANT_ROWS, OTHER_ROWS, BATCH = 1_000, 2_500, 250
TENANT_TABLES = {"customer", "customer_key", "customer_history"}
# A search may touch, for each customer it matches, its gram or key entry, an index descent and the
# row's page; past that, a few pages of slack. Scanning the tenant's rows (what a LIKE on every
# name did) reads a page per row of the tenant: about a thousand here, for a few dozen matches.
PAGE_SLACK, PAGES_PER_MATCH = 40, 5


@pytest.fixture
def settings(postgres_settings):
    return postgres_settings


@pytest.fixture
async def spread_tenants(database, settings):
    """acme with 1,000 customers, globex and a third tenant with 2,500 each, written in interleaved
    batches; statistics gathered as autovacuum would."""
    from core.context import Context
    from core.tenancy.service import TenantAdmin, create_tenant

    seeded = await seed_two_tenants()
    third = await create_tenant(Context.system(), slug="initech", name="Initech", departments=("销售部",),
                                admin=TenantAdmin("admin", "another-password-2026"))
    written = {seeded.acme.id: 0, seeded.globex.id: 0, third.id: 0}
    seeds = {seeded.acme.id: 0, seeded.globex.id: 1_000, third.id: 2_000}
    goal = {seeded.acme.id: TENANT_ROWS, seeded.globex.id: OTHER_ROWS, third.id: OTHER_ROWS}
    while any(written[t] < goal[t] for t in goal):  # interleaved: the tenant's rows spread over the heap
        for tenant_id in goal:
            if written[tenant_id] < goal[tenant_id]:
                await fill_tenant(tenant_id, BATCH, seed=seeds[tenant_id] + written[tenant_id], batch=BATCH)
                written[tenant_id] += BATCH
    owner = await asyncpg.connect(settings.migrate_database_url)  # ANALYZE is the tables' owner's
    try:
        await owner.execute("ANALYZE")
    finally:
        await owner.close()
    return seeded.acme


class Captured:
    """The SELECTs the services send, as (sql, args) for EXPLAIN."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, list[Any]]] = []


@pytest.fixture
def captured(monkeypatch) -> Captured:
    seen = Captured()
    original = KehuPostgresEngine.run_querystring

    async def recording(self, querystring, in_pool=True):
        sql, args = querystring.compile_string(engine_type="postgres")
        if sql.lstrip().upper().startswith("SELECT") and any(f'"{t}"' in sql or f" {t} " in sql for t in TENANT_TABLES):
            seen.statements.append((sql, list(args)))
        return await original(self, querystring, in_pool=in_pool)

    monkeypatch.setattr(KehuPostgresEngine, "run_querystring", recording)
    return seen


async def _explain(ctx, database, sql: str, args: list[Any]) -> dict[str, Any]:
    async with unit_of_work(ctx, write=False):
        connection = database.engine.current_transaction.get().connection
        rows = await connection.fetch("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, *args)
    plan = rows[0][0]
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def _nodes(plan: dict[str, Any]):
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


async def _leading_column(database, index: str) -> str:
    rows = await database.fetch(
        "SELECT a.attname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] WHERE c.relname = {}", index)
    return rows[0]["name"]


async def _check(database, ctx, captured: Captured, what: str) -> list[dict[str, Any]]:
    """Every captured statement: no sequential scan of a tenant table, every index it uses leads
    with tenant_id. Returns the plans."""
    assert captured.statements, f"{what}: no statement captured"
    plans = []
    for sql, args in captured.statements:
        plan = await _explain(ctx, database, sql, args)
        for node in _nodes(plan):
            relation = node.get("Relation Name")
            assert not (node["Node Type"] == "Seq Scan" and relation in TENANT_TABLES), \
                f"{what}: sequential scan of {relation}\n{sql}"
            if "Index Name" in node:
                assert await _leading_column(database, node["Index Name"]) == "tenant_id", \
                    f"{what}: index {node['Index Name']} does not lead with tenant_id\n{sql}"
        plans.append(plan)
    captured.statements.clear()
    return plans


def _reads_customer(plan: dict[str, Any]) -> bool:
    return any(node.get("Relation Name") == "customer" for node in _nodes(plan))


def _pages(plan: dict[str, Any]) -> int:
    return plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0)


async def test_page_searches_and_history_use_indexes_leading_with_tenant_id(spread_tenants, database, captured):
    """Issue 27 acceptance 2: page, name (surname, full name), phone and resident-ID search and
    history, each an index scan on tenant_id first; a search touches few pages beyond its results."""
    admin = await sign_in("acme", "admin")
    known = next(records(1, seed=0))  # acme's first generated customer
    name = known.get("surname", "") + known.get("given_name", "") if known["kind"] == "person" else known["org_name"]

    page, _ = await customers.list_customers(admin, customers.CustomerFilter(), first=100)
    assert len(page) == 100
    await _check(database, admin, captured, "page")

    searches = {"surname": known.get("surname", name[0]), "full name": name, "phone": known["phones"][0],
                "resident ID": known["identifier"]["number"]}
    for what, text in searches.items():
        found, _ = await customers.list_customers(admin, customers.CustomerFilter(text=text), first=20)
        if what in ("phone", "resident ID"):
            assert name in [c.display_name for c in found], f"{what} {text!r} did not find {name}"
        else:
            assert found and all(text in c.display_name for c in found), f"{what} {text!r}"
        plans = await _check(database, admin, captured, what)
        main = max(plans, key=lambda plan: (_reads_customer(plan), _pages(plan)))  # the page's own statement
        matched = sum(node["Actual Rows"] * node["Actual Loops"] for node in _nodes(main)
                      if node.get("Relation Name") == "customer")
        assert _pages(main) <= PAGE_SLACK + PAGES_PER_MATCH * matched, \
            f"{what} {text!r}: {_pages(main)} pages for {matched} matching customers"

    assert await customers.customer_history(admin, page[0].id)
    await _check(database, admin, captured, "history")
