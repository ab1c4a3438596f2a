"""``kehu migrate``: apply pending migrations as the owner, then the verticals' own migrations
(``kehu_migrations``, versioned per vertical, recorded in ``vertical_migration``), then (PostgreSQL)
grant the app role exactly what it may do. Running it again applies nothing and changes nothing."""

from __future__ import annotations

import contextlib
import io
import uuid
from dataclasses import dataclass
from typing import Any

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration

from core.db.catalog import vertical_tables
from core.db.engine import Database, use_database
from core.db import due
from core.db.rls import tenant_rls_statements
from core.errors import KehuError
from core.settings import Settings

# A registry of verticals (core.plugins.manager.VerticalRegistry): ``definitions``, each with ``id``
# and ``migrations`` (``version``, ``description``, ``sqlite``, ``postgres``). Duck-typed, so the
# database layer imports nothing of the plugin contract's loading.
VerticalRegistry = Any

# Tables the app role may not write freely; every other public table gets full DML.
RESTRICTED_GRANTS: dict[str, str] = {
    "migration": "",  # the app never reads or writes migration bookkeeping
    "vertical_migration": "",  # nor the verticals' migration bookkeeping
    "audit_entry": "SELECT, INSERT",  # append-only: no UPDATE, no DELETE
    "audit_chain": "SELECT, INSERT, UPDATE",  # the head moves forward; never deleted
    "audit_anchor": "SELECT",  # written by `kehu audit anchor` as the owner
}


@dataclass(frozen=True)
class MigrationReport:
    applied: tuple[str, ...]
    app_role: str | None
    verticals_applied: tuple[str, ...] = ()  # "<vertical>:<version>" of the verticals' migrations applied


async def _applied_ids() -> set[str]:
    if not await Migration.table_exists():
        return set()
    return {row["name"] for row in await Migration.select(Migration.name)}


async def _ensure_app_role(database: Database, role: str) -> None:
    await database.fetch(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + role + "') THEN "
        'CREATE ROLE "' + role + '" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; '
        "END IF; "
        # roles are cluster-wide: two databases migrated at once may both try to create it
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    )
    await database.fetch(f'GRANT USAGE ON SCHEMA public TO "{role}"')
    tables = await database.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    )
    for row in tables:
        table = row["tablename"]
        privileges = RESTRICTED_GRANTS.get(table, "SELECT, INSERT, UPDATE, DELETE")
        await database.fetch(f'REVOKE ALL ON "{table}" FROM "{role}"')
        if privileges:
            await database.fetch(f'GRANT {privileges} ON "{table}" TO "{role}"')


async def _migrate_verticals(database: Database, registry: VerticalRegistry) -> tuple[str, ...]:
    """Apply each vertical's pending migrations in version order, one transaction per version (its
    DDL, the RLS of every table of the vertical, its ``vertical_migration`` row). A vertical table
    without ``tenant_id`` stops the migration and rolls that version back."""
    applied: list[str] = []
    for definition in registry.definitions:
        if not definition.migrations:
            continue
        vertical = definition.id
        rows = await database.fetch("SELECT version FROM vertical_migration WHERE vertical_id = {}", vertical)
        done = {int(row["version"]) for row in rows}
        for migration in definition.migrations:
            if migration.version in done:
                continue
            async with database.transaction():
                for statement in migration.sqlite if database.is_sqlite else migration.postgres:
                    await database.fetch(statement)
                mine, lacking = await vertical_tables(database, vertical)
                if lacking:
                    raise KehuError("PLUGIN_TABLE_INVALID",
                                    f"vertical {vertical} migration {migration.version}: table(s) "
                                    f"{', '.join(lacking)} have no tenant_id",
                                    f"行业插件 {vertical} 的迁移 {migration.version}：表 {', '.join(lacking)} 缺少 tenant_id")
                if database.is_postgres:  # wall 2, exactly like core's tables, whatever the DDL said
                    for table in mine:
                        for statement in tenant_rls_statements(table):
                            await database.fetch(statement)
                await database.fetch("INSERT INTO vertical_migration (id, vertical_id, version, description) "
                                     "VALUES ({}, {}, {}, {})", uuid.uuid4(), vertical, migration.version,
                                     migration.description[:200])
            applied.append(f"{vertical}:{migration.version}")
    return tuple(applied)


async def migrate(settings: Settings, registry: VerticalRegistry | None = None) -> MigrationReport:
    """Bring the database at ``KEHU_MIGRATE_DATABASE_URL`` (else ``KEHU_DATABASE_URL``) up to date:
    core's migrations, then those of the verticals of ``registry`` (none without one; ``kehu
    migrate`` passes the installed verticals: ``core.plugins.migrate``). The database layer loads no
    plugin itself."""
    database = Database(settings.migrate_database, pool_size=1, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    use_database(database)
    await database.start()
    try:
        before = await _applied_ids()
        log = io.StringIO()
        with contextlib.redirect_stdout(log):  # Piccolo narrates with emoji; we report ourselves
            result = await run_forwards(app_name="all")
        if not result.success:
            raise KehuError("MIGRATION_FAILED", result.message or log.getvalue().strip() or "migration failed")
        after = await _applied_ids()
        verticals = await _migrate_verticals(database, registry) if registry is not None else ()
        role = None
        if database.is_postgres:
            role = settings.database_app_role
            async with database.transaction():
                await _ensure_app_role(database, role)
                for statement in due.install_statements(role):  # the cross-tenant due probes (core.db.due)
                    await database.fetch(statement)
        return MigrationReport(applied=tuple(sorted(after - before)), app_role=role, verticals_applied=verticals)
    finally:
        await database.close()
