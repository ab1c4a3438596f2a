"""The unit of work on both databases: tenant filter, stamping, all-or-nothing."""

import asyncio
import uuid

import asyncpg
import pytest
from structlog.testing import capture_logs

from core.context import Context
from core.db import unit_of_work
from core.errors import KehuError, NotFound, TenantRequired
from core.tenancy import service as tenancy
from core.tenancy.tables import Department
from tests.support import PASSWORD

SYSTEM = Context.system()


async def _two_tenants():
    a = await tenancy.create_tenant(SYSTEM, slug="alpha", name="Alpha", departments=("A-sales", "A-service"))
    b = await tenancy.create_tenant(SYSTEM, slug="beta", name="Beta", departments=("B-sales",))
    return a, b


async def test_each_tenant_sees_only_its_departments(database):
    a, b = await _two_tenants()
    assert sorted(d.name for d in await tenancy.list_departments(SYSTEM.for_tenant(a.id))) == ["A-sales", "A-service"]
    assert [d.name for d in await tenancy.list_departments(SYSTEM.for_tenant(b.id))] == ["B-sales"]
    async with unit_of_work(SYSTEM.for_tenant(b.id), write=False) as uow:
        assert await uow.count(Department) == 1
        assert await uow.select(Department).where(Department.name == "A-sales") == []


async def test_insert_stamps_the_tenant_and_refuses_another_tenants_row(database):
    a, b = await _two_tenants()
    async with unit_of_work(SYSTEM.for_tenant(a.id)) as uow:
        row = Department(name="stamped")
        await uow.insert(row)
    assert row.tenant_id == a.id
    with pytest.raises(KehuError) as caught:
        async with unit_of_work(SYSTEM.for_tenant(a.id)) as uow:
            await uow.insert(Department(name="smuggled", tenant_id=b.id))
    assert caught.value.code == "TENANT_MISMATCH"
    assert "smuggled" not in [d.name for d in await tenancy.list_departments(SYSTEM.for_tenant(b.id))]


async def test_tenant_tables_need_a_tenant(database):
    with pytest.raises(TenantRequired):
        async with unit_of_work(SYSTEM) as uow:
            await uow.select(Department)


async def test_a_failed_unit_of_work_leaves_nothing(database):
    a, _ = await _two_tenants()
    with pytest.raises(RuntimeError):
        async with unit_of_work(SYSTEM.for_tenant(a.id)) as uow:
            await uow.insert(Department(name="half-done"))
            raise RuntimeError("boom after the insert")
    assert "half-done" not in [d.name for d in await tenancy.list_departments(SYSTEM.for_tenant(a.id))]


async def test_failed_tenant_creation_leaves_no_tenant(database):
    with pytest.raises(KehuError):
        await tenancy.create_tenant(SYSTEM, slug="gamma", name="Gamma", departments=("ok", " "))
    assert "gamma" not in [t.slug for t in await tenancy.list_tenants(SYSTEM)]


async def test_department_parent_must_be_in_the_same_tenant(database):
    a, b = await _two_tenants()
    [b_sales] = await tenancy.list_departments(SYSTEM.for_tenant(b.id))
    with pytest.raises(NotFound):
        await tenancy.create_department(SYSTEM.for_tenant(a.id), name="child", parent_id=b_sales.id)
    child = await tenancy.create_department(SYSTEM.for_tenant(b.id), name="child", parent_id=b_sales.id)
    assert child.parent_id == b_sales.id


@pytest.mark.parametrize(("slug", "code"), [("A", "TENANT_SLUG_INVALID"), ("x", "TENANT_SLUG_INVALID"),
                                            ("alpha", "TENANT_SLUG_TAKEN")])
async def test_tenant_slug_rules(database, slug, code):
    await tenancy.create_tenant(SYSTEM, slug="alpha", name="Alpha")
    with pytest.raises(KehuError) as caught:
        await tenancy.create_tenant(SYSTEM, slug=slug, name="Other")
    assert caught.value.code == code


async def test_concurrent_writers_all_commit(database):
    a, _ = await _two_tenants()
    ctx = SYSTEM.for_tenant(a.id)
    await asyncio.gather(*(tenancy.create_department(ctx, name=f"parallel-{i}") for i in range(8)))
    names = {d.name for d in await tenancy.list_departments(ctx)}
    assert {f"parallel-{i}" for i in range(8)} <= names


async def test_sqlite_runs_in_wal_mode(sqlite_settings):
    from core.db import Database, use_database
    from core.db.migrate import migrate

    await migrate(sqlite_settings)
    db = Database(sqlite_settings.database)
    use_database(db)
    await db.start()
    try:
        assert (await db.fetch("PRAGMA journal_mode"))[0]["journal_mode"] == "wal"
        assert uuid.UUID(str((await tenancy.create_tenant(SYSTEM, slug="walmode", name="W")).id))
    finally:
        await db.close()


@pytest.mark.parametrize("tenanted", [False, True], ids=["no-tenant", "tenant"])  # PostgreSQL: two ways to BEGIN
@pytest.mark.parametrize("step", ["begin", "commit"])
async def test_a_transaction_cancelled_during_begin_or_commit_gives_its_connection_back(database, monkeypatch, step,
                                                                                        tenanted):
    """A shutdown or a timeout can cancel a task in the middle of BEGIN or COMMIT: its connection
    must go back to the pool, or closing the pool waits for it forever (seen as a hung shutdown)."""
    ctx = Context.system("test", (await tenancy.create_tenant(SYSTEM, slug="cancelled", name="C")).id) \
        if tenanted else SYSTEM
    transaction_type = type(database.transaction())
    original = getattr(transaction_type, step)
    reached = asyncio.Event()

    async def stalled(self):
        await original(self)
        reached.set()
        await asyncio.Event().wait()  # the statement is done; the task waits until cancelled

    monkeypatch.setattr(transaction_type, step, stalled)

    async def work():
        async with unit_of_work(ctx, write=True) as uow:
            await uow.fetch("SELECT 1 AS one")

    task = asyncio.create_task(work())
    await asyncio.wait_for(reached.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    monkeypatch.setattr(transaction_type, step, original)

    async def write_again():  # SQLite: a connection kept inside BEGIN IMMEDIATE would hold the write lock
        async with unit_of_work(SYSTEM, write=True) as uow:
            await uow.fetch("SELECT 1 AS one")

    await asyncio.wait_for(write_again(), 10)
    if database.is_postgres:  # every connection of the pool can be had at once again
        gate, opened = asyncio.Event(), []

        async def hold():
            async with unit_of_work(SYSTEM, write=False):
                opened.append(True)
                await gate.wait()

        async def all_open():
            while len(opened) < database.pool_size:
                await asyncio.sleep(0.01)

        holders = [asyncio.create_task(hold()) for _ in range(database.pool_size)]
        try:
            await asyncio.wait_for(all_open(), 10)
        finally:
            gate.set()
            for holder in holders:
                holder.cancel()
            await asyncio.gather(*holders, return_exceptions=True)
    await asyncio.wait_for(database.close(), 10)  # the pool closes: nothing is still out


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)  # SQLite has no pool to wait on
async def test_closing_the_pool_with_a_connection_still_out_ends_after_the_grace(database):
    kept = await database.engine.pool.acquire()  # taken and never given back, as a leak would
    with capture_logs() as logs:
        await asyncio.wait_for(database.close(grace_seconds=0.5), 10)
    with pytest.raises(asyncpg.InterfaceError):  # the kept connection was closed under it
        await kept.fetchval("SELECT 1")
    assert [entry["event"] for entry in logs if entry["log_level"] == "warning"] == ["db.pool_close_forced"]


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
async def test_a_tenant_unit_of_work_sets_its_tenant_with_begin_and_still_rolls_back(database, monkeypatch):
    """Issue 27: on PostgreSQL the row-level-security tenant goes with BEGIN (one round trip, no
    separate set_config), holds for the whole transaction and ends with it; a failed unit of work
    begun that way still leaves nothing."""
    import core.db.uow as uow_module

    tenant = await tenancy.create_tenant(SYSTEM, slug="onetrip", name="One trip")
    ctx = Context.system("test", tenant.id)

    async def no_separate_statement(*args, **kwargs):
        raise AssertionError("the tenant was set by a statement of its own")

    monkeypatch.setattr(uow_module, "_set_rls_tenant", no_separate_statement)
    async with unit_of_work(ctx) as uow:
        [row] = await uow.fetch("SELECT current_setting('app.tenant_id', true) AS tenant")
        assert row["tenant"] == str(tenant.id)
        before = await uow.count(Department)
    with pytest.raises(RuntimeError):
        async with unit_of_work(ctx) as uow:
            await uow.insert(Department(name="rolled back"))
            raise RuntimeError("fails after a write")
    async with unit_of_work(ctx, write=False) as uow:
        assert await uow.count(Department) == before
    async with unit_of_work(SYSTEM, write=False) as uow:  # transaction-local: the next one has no tenant
        [row] = await uow.fetch("SELECT coalesce(current_setting('app.tenant_id', true), '') AS tenant")
        assert row["tenant"] == ""


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
async def test_a_connection_goes_back_to_the_pool_without_a_reset_and_without_the_tenant(database, settings):
    """Issue 27 (P4 and every request): a unit of work gives its connection back without
    asyncpg's reset statements (a round trip and four statements each time), because nothing it
    set outlives its transaction: the next unit of work on the same connection has no tenant."""
    from core.db import Database, use_database

    tenant = await tenancy.create_tenant(SYSTEM, slug="noreset", name="No reset")
    single = Database(settings.database, pool_size=1)
    await single.start()
    use_database(single)
    sent: list[str] = []
    try:
        async with single.engine.pool.acquire() as connection:
            connection.add_query_logger(lambda record: sent.append(record.query))
            backend = await connection.fetchval("SELECT pg_backend_pid()")
        async with unit_of_work(SYSTEM.for_tenant(tenant.id)) as uow:
            await uow.insert(Department(name="kept"))
            [row] = await uow.fetch("SELECT pg_backend_pid() AS pid, current_setting('app.tenant_id', true) AS t")
            assert (row["pid"], row["t"]) == (backend, str(tenant.id))
        async with unit_of_work(SYSTEM, write=False) as uow:
            [row] = await uow.fetch("SELECT pg_backend_pid() AS pid, "
                                    "coalesce(current_setting('app.tenant_id', true), '') AS t")
        assert (row["pid"], row["t"]) == (backend, "")  # the same connection, no tenant left on it
        assert not [query for query in sent if "RESET ALL" in query or "UNLISTEN" in query], sent
    finally:
        use_database(database)
        await single.close()
    assert [d.name for d in await tenancy.list_departments(SYSTEM.for_tenant(tenant.id))] == ["kept"]


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
async def test_a_sign_in_unit_of_work_finds_its_tenant_by_slug_as_it_begins(database):
    """Issue 27 (P4): a sign-in knows only the tenant's slug; on PostgreSQL the transaction's
    row-level-security tenant is that active tenant's, set with BEGIN; an unknown slug gives no
    tenant (no rows), and a text no slug can be is refused before it reaches any statement."""
    tenant = await tenancy.create_tenant(SYSTEM, slug="by-slug", name="By slug")
    anonymous = Context.anonymous()
    for slug, expected in (("by-slug", str(tenant.id)), ("no-such-tenant", "")):
        async with unit_of_work(anonymous, write=False, tenant_slug=slug) as uow:
            [row] = await uow.fetch("SELECT current_setting('app.tenant_id', true) AS t")
            assert row["t"] == expected
    for unsafe in ("by-slug'; SELECT 1; --", "By-Slug", "by-slug\n", "x"):
        with pytest.raises(ValueError):
            async with unit_of_work(anonymous, write=False, tenant_slug=unsafe):
                pass


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
async def test_a_sign_in_read_sets_its_tenant_from_the_slug_for_its_own_statement_only(database, settings):
    """Issue 27 (P4): PostgreSQL's sign-in read is one statement, its own transaction
    (``kehu_sign_in_read``): it finds the active tenant of the slug (and nothing for an unknown
    slug or a text no slug can be, which reaches the statement only as a bound value), and the
    tenant it set for row-level security ends with it: the connection holds none afterwards."""
    from core.db import Database, use_database

    tenant = await tenancy.create_tenant(SYSTEM, slug="read-alone", name="Read alone",
                                         admin=tenancy.TenantAdmin(username="admin", password=PASSWORD))
    single = Database(settings.database, pool_size=1)
    await single.start()
    use_database(single)
    read = "SELECT tenant_id, user_id FROM kehu_sign_in_read({}, {}, 'a', 'b', 'c', 'd', NULL)"
    try:
        [row] = await single.fetch_alone(read, "read-alone", "admin")
        assert row["tenant_id"] == tenant.id and row["user_id"] is not None
        [row] = await single.fetch_alone("SELECT coalesce(current_setting('app.tenant_id', true), '') AS t")
        assert row["t"] == ""  # the same (only) connection, no tenant left on it
        for slug in ("no-such-tenant", "read-alone'; SELECT 1; --", "READ-ALONE"):
            assert await single.fetch_alone(read, slug, "admin") == []
    finally:
        use_database(database)
        await single.close()


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
async def test_a_statement_alone_that_waits_past_the_connect_timeout_fails_coded(database, settings):
    """R5/R6 for the statements a sign-in runs alone (``Database.fetch_alone``): every pooled
    connection taken, it waits at most the connect timeout, then fails DATABASE_UNAVAILABLE."""
    from core.db import Database

    single = Database(settings.database, pool_size=1, connect_timeout=0.3)
    await single.start()
    try:
        held = await single.engine.pool.acquire()
        try:
            with pytest.raises(KehuError) as refused:
                await single.fetch_alone("SELECT 1 AS one")
            assert refused.value.code == "DATABASE_UNAVAILABLE"
        finally:
            await single.engine.pool.release(held)
        assert await single.fetch_alone("SELECT {}::int AS one", 1) == [{"one": 1}]
    finally:
        await single.close()


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
async def test_a_unit_of_work_that_waits_past_the_connect_timeout_for_a_pooled_connection_fails_coded(database,
                                                                                                       settings):
    """R5/R6 with P4's cheaper acquire: every pooled connection taken, a unit of work waits at most
    the connect timeout, then fails with DATABASE_UNAVAILABLE (not a bare timeout) and writes
    nothing; once a connection is back, the next one works."""
    from core.db import Database, use_database

    single = Database(settings.database, pool_size=1, connect_timeout=0.3)
    await single.start()
    use_database(single)
    try:
        tenant = await tenancy.create_tenant(SYSTEM, slug="waits", name="Waits")
        ctx = SYSTEM.for_tenant(tenant.id)
        held = await single.engine.pool.acquire()
        try:
            with pytest.raises(KehuError) as refused:
                async with unit_of_work(ctx) as uow:
                    await uow.insert(Department(name="never"))
            assert refused.value.code == "DATABASE_UNAVAILABLE"
        finally:
            await single.engine.pool.release(held)
        assert [d.name for d in await tenancy.list_departments(ctx)] == []
    finally:
        use_database(database)
        await single.close()


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
async def test_raw_statements_are_compiled_once_and_a_nested_query_string_still_works(database):
    """P4/P2 (issue 27): a raw statement in a PostgreSQL transaction goes to the connection with
    its placeholders numbered once per statement text, not parsed again by Piccolo per call; a
    nested QueryString argument still goes through Piccolo and binds its own values."""
    from piccolo.querystring import QueryString

    import core.db.engine as engine_module

    engine_module._postgres_statement.cache_clear()
    async with unit_of_work(SYSTEM, write=False) as uow:
        for value in range(5):
            [row] = await uow.fetch("SELECT {}::int + {}::int AS total", value, 10)
            assert row["total"] == value + 10
        info = engine_module._postgres_statement.cache_info()
        assert (info.misses, info.hits) == (1, 4)
        [row] = await uow.fetch("SELECT {}::int + ({}) AS total", 1, QueryString("{}::int * 2", 21))
        assert row["total"] == 43
    assert engine_module._postgres_statement.cache_info().misses == 1  # the nested one was not cached
