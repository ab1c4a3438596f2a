"""Issue 18 point 1: a vertical declares its own tables and migrations; ``kehu migrate`` creates and
upgrades them (versioned per vertical); every one is tenant-owned like core's (unit-of-work filter,
forced RLS checked by the catalog); a table without ``tenant_id`` or the vertical's prefix is refused;
erasure and the subject-access copy reach them. Runs on SQLite and PostgreSQL where it matters."""

from __future__ import annotations

import uuid

import pytest
from piccolo.columns import UUID, Text, Varchar
from piccolo.table import Table

from core.context import Context
from core.db import Database, use_database
from core.db.catalog import tables_missing_rls, vertical_tables
from core.db.migrate import migrate
from core.errors import KehuError
from core.identity.permissions import install_catalog
from core.identity.runtime import configure_identity
from core.plugins import (
    PersonalDataTable,
    Permission,
    PluginMigration,
    TenantTable,
    VerticalInfo,
    hookimpl,
    tenant_table_migration,
)
from core.plugins import unit_of_work as plugin_unit_of_work
from core.plugins.testing import make_registry, plugin
from core.plugins.types import PluginError
from core.privacy.crypto import configure_data_keys
from core.audit.anchors import configure_audit_anchors
from tests.support import SYSTEM, seed_two_tenants


class MemoNote(TenantTable, tablename="memo_note"):
    customer_id = UUID(null=True, default=None)
    title = Varchar(length=200)
    phone = Varchar(length=40, null=True, default=None)


V1 = tenant_table_migration(1, "notes", "memo_note",
                            ["customer_id UUID", "title VARCHAR(200) NOT NULL", "phone VARCHAR(40)"],
                            indexes=(("customer_id",),))
# Written by hand, without any RLS: kehu adds core's policy itself.
_VISIT = ("CREATE TABLE memo_visit (id UUID PRIMARY KEY NOT NULL, tenant_id UUID NOT NULL, "
          "created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, customer_id UUID, place TEXT)")
V2 = PluginMigration(2, "visits", sqlite=[_VISIT], postgres=[_VISIT])
V3 = PluginMigration(3, "a note column", sqlite=["ALTER TABLE memo_note ADD COLUMN remark TEXT"],
                     postgres=["ALTER TABLE memo_note ADD COLUMN remark TEXT"])


class Memo:
    """A vertical with two tables of its own (one declared as personal data)."""

    def __init__(self, *migrations: PluginMigration, tables: tuple = (MemoNote,)) -> None:
        self.migrations, self.tables = migrations, tables

    @hookimpl
    def kehu_vertical_info(self):
        return VerticalInfo(id="memo", name_zh="备忘", name_en="Memo", version="1.0.0")

    @hookimpl
    def kehu_permissions(self):
        return [Permission("memo.note.write", "write notes", "写备忘")]

    @hookimpl
    def kehu_tables(self):
        return list(self.tables)

    @hookimpl
    def kehu_migrations(self):
        return list(self.migrations)

    @hookimpl
    def kehu_personal_data(self):
        return [PersonalDataTable("memo_note", "customer_id", ("title", "phone"), erase="anonymise")]


def registry(*migrations: PluginMigration, tables: tuple = (MemoNote,)):
    return make_registry(("memo", Memo(*migrations, tables=tables)))


async def open_database(settings, reg) -> Database:
    await migrate(settings, reg)
    configure_identity(settings)
    configure_data_keys(settings)
    configure_audit_anchors(settings)
    install_catalog(reg.permissions)
    db = Database(settings.database, pool_size=4)
    use_database(db)
    await db.start()
    return db


@pytest.fixture
async def memo_database(settings, monkeypatch):
    from core.identity import permissions

    monkeypatch.setattr(permissions, "_catalog", permissions.catalog())  # given back afterwards
    db = await open_database(settings, registry(V1, V2))
    try:
        yield db
    finally:
        await db.close()


# --- refused at load --------------------------------------------------------------------------


def refusal(*migrations: PluginMigration, tables: tuple = (MemoNote,)) -> str:
    with pytest.raises(PluginError) as refused:
        registry(*migrations, tables=tables)
    return refused.value.problem


def test_a_table_without_tenant_id_is_refused_at_load():
    """Issue 18 point 1: every vertical table has tenant_id (refused at load otherwise)."""

    class Loose(Table, tablename="memo_loose"):
        title = Varchar(length=20)

    loose = tenant_table_migration(2, "loose", "memo_loose", ["title VARCHAR(20)"])
    assert "table 'memo_loose' has no tenant_id" in refusal(V1, loose, tables=(MemoNote, Loose))


def test_table_names_must_carry_the_verticals_prefix_and_a_migration_must_create_them():
    """Issue 18 point 1: table names are prefixed with the vertical id (design.md); DDL touches only those."""

    class Foreign(TenantTable, tablename="notes"):
        title = Varchar(length=20)

    assert "table 'notes' must start with 'memo_'" in refusal(V1, tables=(MemoNote, Foreign))
    assert "table 'memo_note' is created by none of the vertical's migrations" in refusal(V2)
    meddling = PluginMigration(2, "meddle", sqlite=["ALTER TABLE customer ADD COLUMN memo TEXT"],
                               postgres=["ALTER TABLE customer ADD COLUMN memo TEXT"])
    assert "migration 2 touches the table 'customer'" in refusal(V1, meddling)
    assert "migration version 1 is declared twice" in refusal(V1, V1)
    one_sided = PluginMigration(2, "one dialect", sqlite=[_VISIT], postgres=["SELECT 1"])
    assert "creates 'memo_visit' for one dialect only (no postgres DDL)" in refusal(V1, one_sided)


# --- kehu migrate ------------------------------------------------------------------------------


async def test_kehu_migrate_creates_then_upgrades_a_verticals_tables_once(sqlite_settings):
    """Issue 18 point 1: `kehu migrate` creates and upgrades plugin tables, versioned per vertical."""
    first = await migrate(sqlite_settings, registry(V1, V2))
    assert first.verticals_applied == ("memo:1", "memo:2")
    again = await migrate(sqlite_settings, registry(V1, V2))
    assert again.applied == () and again.verticals_applied == ()
    upgraded = await migrate(sqlite_settings, registry(V1, V2, V3))
    assert upgraded.verticals_applied == ("memo:3",)

    import sqlite3

    with sqlite3.connect(sqlite_settings.database.sqlite_path) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(memo_note)")]
        versions = connection.execute("SELECT vertical_id, version FROM vertical_migration ORDER BY version").fetchall()
        indexes = [row[1] for row in connection.execute("PRAGMA index_list(memo_note)")]
    assert columns[:3] == ["id", "tenant_id", "created_at"] and "remark" in columns
    assert versions == [("memo", 1), ("memo", 2), ("memo", 3)]
    assert "memo_note_tenant_id_id" in indexes and "memo_note_customer_id_idx" in indexes


async def test_a_migration_leaving_a_table_without_tenant_id_is_rolled_back(sqlite_settings):
    """Issue 18 point 1: every plugin table must have tenant_id, also when the DDL forgot it."""
    bad = PluginMigration(2, "no tenant", sqlite=["CREATE TABLE memo_bare (id UUID PRIMARY KEY)"],
                          postgres=["CREATE TABLE memo_bare (id UUID PRIMARY KEY)"])
    with pytest.raises(KehuError) as refused:
        await migrate(sqlite_settings, registry(V1, bad))
    assert refused.value.code == "PLUGIN_TABLE_INVALID" and "memo_bare" in refused.value.message("en")

    import sqlite3

    with sqlite3.connect(sqlite_settings.database.sqlite_path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        versions = connection.execute("SELECT version FROM vertical_migration").fetchall()
    assert "memo_note" in tables and "memo_bare" not in tables  # version 1 stays, version 2 rolled back
    assert versions == [(1,)]


async def test_every_vertical_table_gets_cores_forced_rls_policy(postgres_settings):
    """Issue 18 point 1: plugin tables get a forced RLS policy like core's; the catalog check covers them."""
    await migrate(postgres_settings, registry(V1, V2))
    owner = Database(postgres_settings.migrate_database, pool_size=1)
    await owner.start()
    try:
        assert await tables_missing_rls(owner) == []
        assert await vertical_tables(owner, "memo") == (["memo_note", "memo_visit"], [])  # all with tenant_id
        await owner.fetch("CREATE TABLE memo_stray (id uuid PRIMARY KEY)")
        assert await vertical_tables(owner, "memo") == (["memo_note", "memo_stray", "memo_visit"], ["memo_stray"])
        await owner.fetch("DROP TABLE memo_stray")
        rows = await owner.fetch("SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                                 "WHERE relname IN ('memo_note', 'memo_visit') ORDER BY relname")
        assert rows == [{"relname": "memo_note", "relrowsecurity": True, "relforcerowsecurity": True},
                        {"relname": "memo_visit", "relrowsecurity": True, "relforcerowsecurity": True}]
        grants = await owner.fetch("SELECT count(*) AS n FROM information_schema.role_table_grants "
                                   "WHERE table_name = 'vertical_migration' AND grantee = {}",
                                   postgres_settings.database_app_role)
        assert grants == [{"n": 0}]  # bookkeeping: the app role may not touch it
    finally:
        await owner.close()


# --- tenancy -----------------------------------------------------------------------------------


async def test_the_unit_of_work_filters_vertical_tables_by_tenant(memo_database, settings):
    """Issue 18 point 1: plugin tables are covered by the unit-of-work tenant filter (and RLS on PostgreSQL)."""
    seeded = await seed_two_tenants()
    a, b = SYSTEM.for_tenant(seeded.acme.id), SYSTEM.for_tenant(seeded.globex.id)
    async with plugin_unit_of_work(a) as uow:
        await uow.insert(MemoNote(title="acme's"))
    async with plugin_unit_of_work(b) as uow:
        await uow.insert(MemoNote(title="globex's"))
        with pytest.raises(KehuError, match="another tenant"):
            await uow.insert(MemoNote(title="smuggled", tenant_id=seeded.acme.id))
    async with plugin_unit_of_work(a, write=False) as uow:
        assert [r["title"] for r in await uow.select(MemoNote)] == ["acme's"]
        raw = await uow.fetch("SELECT title FROM memo_note")  # no filter of ours
    if memo_database.is_postgres:  # wall 2 alone
        assert [r["title"] for r in raw] == ["acme's"]
    async with plugin_unit_of_work(b) as uow:
        await uow.update(MemoNote, {MemoNote.title: "changed"})
        await uow.delete(MemoNote).where(MemoNote.title == "acme's")
    async with plugin_unit_of_work(a, write=False) as uow:
        assert [r["title"] for r in await uow.select(MemoNote)] == ["acme's"]


async def test_erasure_and_the_subject_copy_reach_vertical_tables(memo_database, settings):
    """Issue 18 point 1: erasure and subject-access export use kehu_personal_data on plugin tables;
    an undeclared vertical table with a customer_id is erased and copied too."""
    from core.customers import service as customers
    from core.privacy import erasure
    from core.privacy.subject_requests import _subject_data

    reg = registry(V1, V2)
    seeded = await seed_two_tenants()
    ctx = SYSTEM.for_tenant(seeded.acme.id)
    created = await customers.create_customer(ctx, reg, {"kind": "person", "surname": "王", "given_name": "芳"})
    customer_id = created.customer.id
    async with plugin_unit_of_work(ctx) as uow:
        await uow.insert(MemoNote(customer_id=customer_id, title="王芳 asked for a call", phone="13800138000"))
        await uow.fetch("INSERT INTO memo_visit (id, tenant_id, customer_id, place) VALUES ({}, {}, {}, {})",
                        uuid.uuid4(), seeded.acme.id, customer_id, "her home")
        copy = await _subject_data(uow, reg, customer_id)
    assert copy["memo_note"] == [{"title": "王芳 asked for a call", "phone": "13800138000"}]
    assert [row["place"] for row in copy["memo_visit"]] == ["her home"]

    result = await erasure.erase_subject(ctx, reg, customer_id, "the subject asked (PIPL art. 47)")
    assert result.rows_anonymised["memo_note"] == 1 and result.rows_deleted["memo_visit"] == 1
    async with plugin_unit_of_work(ctx, write=False) as uow:
        notes = await uow.select(MemoNote.title, MemoNote.phone, MemoNote.customer_id)
        visits = await uow.fetch("SELECT * FROM memo_visit")
    assert notes == [{"title": "", "phone": None, "customer_id": customer_id}] and visits == []


async def test_vertical_tables_with_no_tenant_running_see_nothing(memo_database, settings):
    """Issue 18 point 1: a unit of work without a tenant cannot use a vertical table (TENANT_REQUIRED)."""
    with pytest.raises(KehuError) as refused:
        async with plugin_unit_of_work(Context.system()) as uow:
            await uow.select(MemoNote)
    assert refused.value.code == "TENANT_REQUIRED"
