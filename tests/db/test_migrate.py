"""`kehu migrate` on empty databases, twice; RLS and the application role on PostgreSQL."""

import uuid

import asyncpg
import pytest
from click.testing import CliRunner

from core.context import Context
from core.db import Database, unit_of_work, use_database
from core.db.catalog import tables_missing_rls
from core.db.migrate import migrate
from core.errors import ConfigurationError
from core.tenancy import service as tenancy
from core.tenancy.tables import Department
from gateway.cli import cli

SCHEMA_SNAPSHOT_POSTGRES = {
    "columns": "SELECT table_name, column_name, data_type, is_nullable, column_default FROM "
               "information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2",
    "policies": "SELECT tablename, policyname, qual, with_check FROM pg_policies ORDER BY 1, 2",
    "grants": "SELECT table_name, grantee, privilege_type FROM information_schema.role_table_grants "
              "WHERE table_schema = 'public' ORDER BY 1, 2, 3",
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
    "rls": "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
           "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY 1",
    "migrations": "SELECT name, app_name FROM migration ORDER BY 1",
}


def _shipped_migrations() -> tuple[str, ...]:
    """The ids of the migration modules in core/db/migrations, in file order."""
    import importlib
    import pkgutil

    import core.db.migrations as package

    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name.startswith("kehu_core_"))
    return tuple(importlib.import_module(f"{package.__name__}.{name}").ID for name in names)


async def _snapshot_postgres(url: str) -> dict:
    connection = await asyncpg.connect(url)
    try:
        return {key: [tuple(r) for r in await connection.fetch(sql)] for key, sql in SCHEMA_SNAPSHOT_POSTGRES.items()}
    finally:
        await connection.close()


async def test_migrate_twice_on_sqlite_applies_once_and_changes_nothing(sqlite_settings):
    first = await migrate(sqlite_settings)
    path = sqlite_settings.database.sqlite_path
    import sqlite3

    def schema() -> list:
        with sqlite3.connect(path) as connection:
            return connection.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()

    before = schema()
    second = await migrate(sqlite_settings)
    assert first.applied == _shipped_migrations()  # every migration, in order
    assert first.applied[:6] == ("0001-foundation", "0002-identity", "0003-audit", "0004-outbox", "0005-webhooks",
                                 "0006-long-jobs")
    assert second.applied == ()
    assert schema() == before
    assert {"tenant", "department"} <= {row[1] for row in before}


async def test_migrate_twice_on_postgres_changes_nothing_the_second_time(postgres_settings, postgres_database):
    first = await migrate(postgres_settings)
    before = await _snapshot_postgres(postgres_database.owner_url)
    second = await migrate(postgres_settings)
    after = await _snapshot_postgres(postgres_database.owner_url)
    assert first.applied and second.applied == ()
    assert after == before
    assert ("department", "tenant_isolation") in [row[:2] for row in before["policies"]]
    assert ("department", True, True) in before["rls"]


def test_kehu_migrate_command_reports_what_it_did(sqlite_settings, monkeypatch):
    monkeypatch.setenv("KEHU_DATABASE_URL", sqlite_settings.database_url)
    runner = CliRunner()
    first = runner.invoke(cli, ["migrate"])
    second = runner.invoke(cli, ["migrate"])
    shipped = _shipped_migrations()
    assert first.exit_code == 0 and f"applied {len(shipped)} migration(s): {', '.join(shipped)}" in first.output
    assert second.exit_code == 0 and "nothing applied" in second.output


async def test_app_role_sees_no_rows_without_a_tenant_and_only_its_own_with_one(postgres_settings):
    await migrate(postgres_settings)
    database = Database(postgres_settings.database, pool_size=2)
    use_database(database)
    await database.start()
    try:
        system = Context.system()
        a = await tenancy.create_tenant(system, slug="tenant-a", name="A", departments=("销售部", "客服部"))
        b = await tenancy.create_tenant(system, slug="tenant-b", name="B", departments=("财务部",))

        # No tenant set: RLS returns nothing, even to a raw query that skips the app's filter.
        async with database.transaction():
            assert await database.fetch("SELECT * FROM department") == []
        assert await database.fetch("SELECT * FROM department") == []

        async with unit_of_work(system.for_tenant(a.id)) as uow:
            raw = await uow.fetch("SELECT name FROM department")  # no tenant filter: RLS alone
        assert sorted(r["name"] for r in raw) == ["客服部", "销售部"]
        async with unit_of_work(system.for_tenant(b.id)) as uow:
            raw = await uow.fetch("SELECT name FROM department")
        assert [r["name"] for r in raw] == ["财务部"]

        # Writing a row for another tenant is refused by the policy's WITH CHECK.
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with unit_of_work(system.for_tenant(a.id)) as uow:
                await uow.fetch("INSERT INTO department (id, tenant_id, name) VALUES ({}, {}, 'x')",
                                uuid.uuid4(), b.id)
    finally:
        await database.close()


async def test_app_role_owns_nothing_and_cannot_bypass_rls(postgres_settings, postgres_database):
    await migrate(postgres_settings)
    app = Database(postgres_settings.database, pool_size=1)
    await app.start()
    try:
        await app.assert_safe_app_role()  # passes for the app role
        rows = await app.fetch("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert rows == [{"rolsuper": False, "rolbypassrls": False}]
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.fetch("SELECT * FROM migration")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.fetch("ALTER TABLE department DISABLE ROW LEVEL SECURITY")
    finally:
        await app.close()
    owner = Database(postgres_settings.migrate_database, pool_size=1)
    await owner.start()
    try:
        with pytest.raises(ConfigurationError, match="KEHU_MIGRATE_DATABASE_URL"):
            await owner.assert_safe_app_role()
    finally:
        await owner.close()


async def test_every_tenant_table_has_enabled_forced_rls_policy(postgres_settings):
    await migrate(postgres_settings)
    owner = Database(postgres_settings.migrate_database, pool_size=1)
    await owner.start()
    try:
        assert await tables_missing_rls(owner) == []
        # The check itself catches a tenant table without a policy.
        await owner.fetch("CREATE TABLE leaky (id uuid PRIMARY KEY, tenant_id uuid NOT NULL)")
        assert await tables_missing_rls(owner) == ["leaky"]
        await owner.fetch("ALTER TABLE leaky ENABLE ROW LEVEL SECURITY")
        assert await tables_missing_rls(owner) == ["leaky"]  # enabled but not forced, no policy
    finally:
        await owner.close()
