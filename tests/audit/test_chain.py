"""The hash chain: every kind of tampering found at its exact position, concurrent writers
never fork it, the app role cannot rewrite it, pruning keeps it verifiable."""

import asyncio
import sqlite3
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from core.auditing import service as audit
from core.audit.chain import record, verify_chain
from core.context import Context
from core.db import Database, current_database, unit_of_work, use_database
from core.settings import Settings
from core.tenancy import service as tenancy

SYSTEM = Context.system()


@pytest.fixture
async def tenant(database):
    return await tenancy.create_tenant(SYSTEM, slug="chained", name="Chained")


async def _append(tenant, count: int) -> None:
    for i in range(count):
        async with unit_of_work(SYSTEM.for_tenant(tenant.id)) as uow:
            await record(uow, "thing.updated", "thing", f"t{i}", {"n": (i, i + 1)})


async def _verify(tenant):
    async with unit_of_work(SYSTEM.for_tenant(tenant.id), write=False) as uow:
        return await verify_chain(uow)


@asynccontextmanager
async def owner_connection(settings: Settings):
    """Run services as the database owner (as `kehu audit anchor|prune` do), then switch back."""
    app = current_database()
    owner = Database(settings.migrate_database, pool_size=1)
    use_database(owner)
    await owner.start()
    try:
        yield
    finally:
        await owner.close()
        use_database(app)


async def _as_owner(settings: Settings, *statements: str) -> None:
    """Tamper the way someone with the database file or the owner's password could."""
    if settings.database.is_sqlite:
        with sqlite3.connect(settings.database.sqlite_path) as connection:
            for statement in statements:
                connection.execute(statement)
        return
    connection = await asyncpg.connect(settings.migrate_database.raw)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def test_an_untouched_chain_verifies(tenant):
    await _append(tenant, 5)
    result = await _verify(tenant)
    assert result.ok and result.checked >= 5


async def test_a_changed_entry_is_found_at_its_position(tenant, settings):
    await _append(tenant, 6)
    await _as_owner(settings, "UPDATE audit_entry SET diff = '{\"n\": {\"to\": 999}}' WHERE target_id = 't3'")
    result = await _verify(tenant)
    assert (result.ok, result.kind) == (False, "modified")
    assert result.position == await _seq_of(tenant, "t3")


async def test_a_deleted_middle_entry_is_found(tenant, settings):
    await _append(tenant, 6)
    position = await _seq_of(tenant, "t2")
    await _as_owner(settings, "DELETE FROM audit_entry WHERE target_id = 't2'")
    result = await _verify(tenant)
    assert (result.ok, result.position, result.kind) == (False, position, "missing")


async def test_two_swapped_entries_are_found(tenant, settings):
    await _append(tenant, 6)
    a, b = await _seq_of(tenant, "t1"), await _seq_of(tenant, "t2")
    await _as_owner(settings,
                    f"UPDATE audit_entry SET seq = -1 WHERE seq = {a}",
                    f"UPDATE audit_entry SET seq = {a} WHERE seq = {b}",
                    f"UPDATE audit_entry SET seq = {b} WHERE seq = -1")
    result = await _verify(tenant)
    assert (result.ok, result.position) == (False, a)


async def test_deleting_the_newest_entries_is_found_through_the_anchor(tenant, settings):
    await _append(tenant, 6)
    async with owner_connection(settings):
        await audit.anchor_all(SYSTEM)
    last = await _seq_of(tenant, "t5")
    # A careful attacker deletes the newest entries and rewinds the head to match.
    await _as_owner(settings,
                    f"DELETE FROM audit_entry WHERE seq >= {last - 1}",
                    f"UPDATE audit_chain SET last_seq = {last - 2}, last_hash = "
                    f"(SELECT hash FROM audit_entry WHERE seq = {last - 2} AND tenant_id = audit_chain.tenant_id)")
    result = await _verify(tenant)
    assert (result.ok, result.position, result.kind) == (False, last - 1, "truncated")


async def test_fifty_concurrent_writers_leave_one_unbroken_chain(tenant):
    async def one(i: int) -> None:
        async with unit_of_work(SYSTEM.for_tenant(tenant.id)) as uow:
            await record(uow, "thing.created", "thing", f"c{i}")

    await asyncio.gather(*(one(i) for i in range(50)))
    result = await _verify(tenant)
    assert result.ok
    async with unit_of_work(SYSTEM.for_tenant(tenant.id), write=False) as uow:
        seqs = sorted(r["seq"] for r in await uow.fetch(
            "SELECT seq FROM audit_entry WHERE tenant_id = {} AND action = 'thing.created'", tenant.id))
    assert len(seqs) == 50 and len(set(seqs)) == 50


async def test_a_head_another_process_moved_is_read_again_and_the_chain_stays_whole(tenant):
    """This process remembers the head it wrote last and moves it with a compare-and-set (on
    PostgreSQL with the entry's insert in the same statement). When another process wrote in
    between, the compare fails, nothing is inserted on the stale head, and the entry goes after
    the real head: consecutive positions, one unbroken chain."""
    from core.audit import chain

    await _append(tenant, 2)
    stale = chain._heads[tenant.id]
    chain._heads.pop(tenant.id)  # another process: it knows no head, reads it under the lock
    await _append(tenant, 2)
    chain._heads[tenant.id] = stale  # this process again, with the head it saw before
    await _append(tenant, 1)
    assert (await _verify(tenant)).ok
    async with unit_of_work(SYSTEM.for_tenant(tenant.id), write=False) as uow:
        seqs = [r["seq"] for r in await uow.fetch(
            "SELECT seq FROM audit_entry WHERE tenant_id = {} AND action = 'thing.updated' ORDER BY seq", tenant.id)]
    assert seqs == list(range(seqs[0], seqs[0] + 5))


async def test_an_append_on_a_known_head_is_one_statement_on_postgresql(tenant, database, monkeypatch):
    """Every audited write pays for its entry: with the head known, PostgreSQL moves it and inserts
    the entry in one round trip (SQLite, in process, in two)."""
    from core.db.uow import UnitOfWork

    await _append(tenant, 1)  # the head is known from here on
    statements: list[str] = []
    fetch = UnitOfWork.fetch

    async def counted(self, sql, *args):
        statements.append(sql)
        return await fetch(self, sql, *args)

    monkeypatch.setattr(UnitOfWork, "fetch", counted)
    async with unit_of_work(SYSTEM.for_tenant(tenant.id)) as uow:
        await record(uow, "thing.updated", "thing", "one-more", {"n": (1, 2)})
    assert len(statements) == (2 if database.is_sqlite else 1), statements
    assert (await _verify(tenant)).ok


async def test_chains_of_two_tenants_are_separate(tenant):
    other = await tenancy.create_tenant(SYSTEM, slug="other", name="Other")
    await _append(tenant, 3)
    await _append(other, 2)
    assert (await _verify(tenant)).ok and (await _verify(other)).ok


async def test_pruning_old_entries_keeps_the_chain_verifiable(tenant, settings):
    await _append(tenant, 5)
    total = await _seq_of(tenant, "t4")
    ctx = SYSTEM.for_tenant(tenant.id)
    await audit.set_audit_retention_days(ctx, 365)
    async with owner_connection(settings):
        pruned = await audit.prune_all(SYSTEM, now=datetime.now(UTC) + timedelta(days=366))
    assert pruned == [("chained", total + 1)]  # every entry, the retention change's own included
    await _append(tenant, 2)
    result = await _verify(tenant)
    assert result.ok and result.checked == 2


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)  # SQLite has no roles
async def test_app_role_cannot_update_or_delete_audit_entries(tenant, settings):
    await _append(tenant, 2)
    async with unit_of_work(SYSTEM.for_tenant(tenant.id)) as uow:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await uow.fetch("UPDATE audit_entry SET action = 'x' WHERE tenant_id = {}", tenant.id)
    async with unit_of_work(SYSTEM.for_tenant(tenant.id)) as uow:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await uow.fetch("DELETE FROM audit_entry WHERE tenant_id = {}", tenant.id)
    async with unit_of_work(SYSTEM.for_tenant(tenant.id)) as uow:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await uow.fetch("INSERT INTO audit_anchor (id, tenant_id, seq, hash) VALUES ({}, {}, 1, 'x')",
                            uuid.uuid4(), tenant.id)
    assert (await _verify(tenant)).ok


async def _seq_of(tenant, target_id: str) -> int:
    async with unit_of_work(SYSTEM.for_tenant(tenant.id), write=False) as uow:
        rows = await uow.fetch("SELECT seq FROM audit_entry WHERE tenant_id = {} AND target_id = {}", tenant.id,
                               target_id)
    return int(rows[0]["seq"])
