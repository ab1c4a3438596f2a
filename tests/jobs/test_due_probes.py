"""Issue 27: background loops whose cost follows the work due, not the number of tenants.

Each sweep of the tick asks its due probe (core/db/due.py: one statement across tenants) which
tenants have something to do, and opens a unit of work only in those. On both databases: a probe
names the tenant with a due item and not the other, the tick still handles the item, and a tick
with nothing due anywhere opens no unit of work at all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from structlog.testing import capture_logs

import core.background  # noqa: F401 - every sweep registered, as in `kehu scheduler`
from core.backup import schedule as backups
from core.customers import service as customers
from core.customers.tables import Customer
from core.db import unit_of_work
from core.db.due import PROBES, tenants_due
from core.db.engine import Database
from core.idempotency import service as idempotency
from core.idempotency.tables import IdempotencyRecord
from core.jobs.timers import tick
from core.plugins.testing import make_registry
from core.privacy import subject_requests
from core.privacy.access_tables import AccessRequest
from core.privacy.subject_tables import SubjectRequest
from tests.support import SYSTEM

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _moment() -> datetime:
    """Now, moved off the last seconds of a Shanghai day: the calendar's warning is once a day."""
    at = datetime.now(UTC).replace(microsecond=0)
    if (at + timedelta(minutes=1)).astimezone(SHANGHAI).date() != at.astimezone(SHANGHAI).date():
        at -= timedelta(minutes=2)
    return at


@pytest.fixture(autouse=True)
def _backups_off(monkeypatch):
    """The monthly backup's record is its directory, not the database: it keeps its tenant loop
    while ``KEHU_BACKUP_DIR`` is set, so these tests run with it unset (its default)."""
    monkeypatch.setattr(backups, "_schedule", backups.BackupSchedule(directory=None, retention=1, key_text=None))


async def _due_items(seeded, at: datetime) -> dict[str, UUID]:
    """One due item per probe, each in one tenant only; the probe name -> that tenant."""
    acme, globex = SYSTEM.for_tenant(seeded.acme.id), SYSTEM.for_tenant(seeded.globex.id)
    registry = make_registry()
    # customer_reviews: acme's customer's periodic review came due a minute ago
    customer = (await customers.create_customer(acme, registry, {"kind": "person", "surname": "钱",
                                                                 "given_name": "多"})).customer
    async with unit_of_work(acme) as uow:
        await uow.update(Customer, {Customer.review_due_at: at - timedelta(minutes=1)}).where(
            Customer.id == customer.id)
    # idempotency_keys: acme's key, claimed two hours ago for an hour
    await idempotency.claim(acme, "order-1", "digest", ttl=timedelta(hours=1), at=at - timedelta(hours=2))
    # access_requests: globex's export approval expired a minute ago
    async with unit_of_work(globex) as uow:
        await uow.insert(AccessRequest(requested_by="user:director", purpose="回访", scope="{}", state="approved",
                                       approver_role="admin", decided_by="user:admin",
                                       decided_at=at - timedelta(hours=3), expires_at=at - timedelta(minutes=1)))
    # subject_requests: globex's open request falls due tomorrow ("due soon", looked for DUE_SOON ahead)
    subject = (await customers.create_customer(globex, registry, {"kind": "person", "surname": "孙",
                                                                  "given_name": "悟"})).customer
    request = await subject_requests.create_request(globex, subject.id, "access")
    async with unit_of_work(globex) as uow:
        await uow.update(SubjectRequest, {SubjectRequest.due_at: at + timedelta(days=1)}).where(
            SubjectRequest.id == request.id)
    return {"customer_reviews": seeded.acme.id, "idempotency_keys": seeded.acme.id,
            "access_requests": seeded.globex.id, "subject_requests": seeded.globex.id}


async def _probe(name: str, at: datetime) -> list[UUID]:
    if name == "subject_requests":  # looks DUE_SOON ahead of the tick (core.privacy.subject_requests)
        return await tenants_due(name, at + subject_requests.DUE_SOON, at)
    return await tenants_due(name, at)


def _count_transactions(monkeypatch) -> list[bool]:
    """Every unit of work opens ``Database.transaction``: the list it returns gets one entry (write
    or not) per transaction opened from now on."""
    opened: list[bool] = []
    transaction = Database.transaction

    def counted(self: Database, *, write: bool = True, **tenant):
        opened.append(write)
        return transaction(self, write=write, **tenant)

    monkeypatch.setattr(Database, "transaction", counted)
    return opened


def _failed_sweeps(logs: list[dict]) -> list[str]:
    """A sweep that raises is logged and counted 0 by the tick: a broken probe would hide there."""
    return [entry["sweep"] for entry in logs if entry["event"] == "timers.sweep_failed"]


async def test_every_probe_runs_as_one_statement_without_a_transaction(database, seeded, monkeypatch):
    at = _moment()
    opened = _count_transactions(monkeypatch)
    for name in PROBES:
        found = await tenants_due(name, at, at - timedelta(days=1))
        assert set(found) <= {seeded.acme.id, seeded.globex.id}, name
    assert opened == []


async def test_a_probe_names_the_tenant_with_a_due_item_and_not_the_one_without(database, seeded):
    at = _moment()
    expected = await _due_items(seeded, at)
    for name, tenant_id in expected.items():
        assert await _probe(name, at) == [tenant_id], name
        assert await _probe(name, at - timedelta(days=3)) == [], name  # nothing was due yet


async def test_the_tick_still_handles_each_due_item_a_probe_named_and_then_the_probe_is_empty(database, seeded):
    at = _moment()
    expected = await _due_items(seeded, at)
    with capture_logs() as logs:
        handled = await tick(at)
    assert _failed_sweeps(logs) == []
    assert {name: handled[name] for name in expected} == {name: 1 for name in expected}
    for name in expected:
        assert await _probe(name, at) == [], name  # handled: the next tick visits nobody for it
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id), write=False) as uow:
        assert await uow.count(IdempotencyRecord) == 0
        assert await uow.count(Customer).where(Customer.review_notified_at == at) == 1
    async with unit_of_work(SYSTEM.for_tenant(seeded.globex.id), write=False) as uow:
        assert await uow.select(AccessRequest.state).first() == {"state": "expired"}
        assert await uow.count(SubjectRequest).where(SubjectRequest.due_soon_notified_at == at) == 1
    assert await tick(at) == {name: 0 for name in handled}  # the same moment again: nothing left


async def test_an_idle_tick_opens_no_unit_of_work_and_one_due_item_opens_one(database, seeded, monkeypatch):
    at = _moment()
    tenants = sorted([seeded.acme.id, seeded.globex.id], key=str)
    # The once-a-period work is due from the data too: no purge has run in either tenant yet.
    assert await tenants_due("privacy_purge", at, at - timedelta(days=1)) == tenants
    await tick(at)  # this period's purges started, chains anchored, the calendar looked at
    later = at + timedelta(seconds=5)  # the next tick
    assert await tenants_due("privacy_purge", later, later - timedelta(days=1)) == []

    opened = _count_transactions(monkeypatch)
    with capture_logs() as logs:
        handled = await tick(later)
    assert _failed_sweeps(logs) == []
    assert opened == [] and not any(handled.values())  # two tenants or a thousand: probes only

    # One key of acme expires: the tick after that opens one unit of work, acme's.
    await idempotency.claim(SYSTEM.for_tenant(seeded.acme.id), "order-2", "digest", ttl=timedelta(hours=1),
                            at=later - timedelta(hours=2))
    opened.clear()
    handled = await tick(later + timedelta(seconds=5))
    assert handled["idempotency_keys"] == 1 and sum(handled.values()) == 1
    assert opened == [True]


async def test_the_anchor_probe_names_the_chains_that_moved_since_the_previous_pass_P12(database, seeded):
    """P12: after its first pass the anchor sweep asks for the chains that moved since its previous
    pass; the probe reads the chain heads (one row a tenant), so its cost does not grow with the
    entries written. A single append and a bulk append (an import's) both move the head."""
    from core.audit.chain import record_many

    registry = make_registry()
    previous_pass = datetime.now(UTC)
    assert await tenants_due("audit_recent", previous_pass, previous_pass) == []  # the seeding is older
    await customers.create_customer(SYSTEM.for_tenant(seeded.acme.id), registry,
                                    {"kind": "person", "surname": "钱", "given_name": "多"})
    assert await tenants_due("audit_recent", datetime.now(UTC), previous_pass) == [seeded.acme.id]
    async with unit_of_work(SYSTEM.for_tenant(seeded.globex.id)) as uow:
        await record_many(uow, "customer.imported", "customer", [(None, {"row": 1}), (None, {"row": 2})])
    assert set(await tenants_due("audit_recent", datetime.now(UTC), previous_pass)) == {seeded.acme.id,
                                                                                          seeded.globex.id}
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert await tenants_due("audit_recent", later, later) == []  # nothing moved since
    # what the probe reads: the heads alone, never the entries (249 ms at a million customers)
    sql = PROBES["audit_recent"].sql.replace("{stale}", "CURRENT_TIMESTAMP")
    plan = " ".join(str(r) for r in await database.fetch(
        f"EXPLAIN QUERY PLAN {sql}" if database.is_sqlite else f"EXPLAIN {sql}"))
    assert "audit_chain" in plan and "audit_entry" not in plan, plan


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)  # SQLite runs the probe's statement as it is
async def test_a_probe_is_planned_for_the_moment_it_asks_about_P12(database, settings, seeded):
    """P12: at a million customers the review probe took 278 ms with nothing due. Its statement
    was planned once for any moment, as a SQL function's is: guessing a third of the partial
    index's rows due (every live customer waits for its review there), the planner read the whole
    table. Planned for the moment asked, it expects next to nothing and reads the due range of the
    index alone (auto_explain shows the plan of the statement inside the function)."""
    import asyncpg

    registry = make_registry()
    acme = SYSTEM.for_tenant(seeded.acme.id)
    for surname in ("钱", "孙"):
        await customers.create_customer(acme, registry, {"kind": "person", "surname": surname, "given_name": "多"})
    owner = await asyncpg.connect(settings.migrate_database_url)
    try:
        # 20,000 copies of those customers, each with its review a year ahead (as generated data has)
        await owner.execute(
            "INSERT INTO customer SELECT (jsonb_populate_record(c, jsonb_build_object("
            "'id', gen_random_uuid(), 'review_due_at', now() + interval '1 year'))).* "
            "FROM customer c CROSS JOIN generate_series(1, 10000)")
        await owner.execute("ANALYZE customer")
        plans: list[str] = []
        owner.add_log_listener(lambda _connection, message: plans.append(message.message))
        await owner.execute("LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; "
                            "SET auto_explain.log_nested_statements = on; SET client_min_messages = log")
        async with owner.transaction():
            assert await owner.fetch("SELECT * FROM kehu_due_customer_reviews(now(), now(), '')") == []
            scans = await owner.fetchrow("SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables "
                                         "WHERE relname = 'customer'")
    finally:
        await owner.close()
    probe = next(plan for plan in plans if "FROM customer WHERE review_due_at" in plan)
    estimated = int(re.search(r"rows=(\d+)", probe).group(1))
    assert estimated < 100, probe  # a guess of a third would be 6,667
    assert "customer_review_due_idx" in probe and "$1" not in probe.split("Query Text")[-1].split("\n", 1)[-1], probe
    assert scans["seq_scan"] == 0 and scans["idx_scan"] >= 1, dict(scans)
