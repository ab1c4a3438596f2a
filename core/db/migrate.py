"""``kehu migrate``: apply pending migrations as the owner, then (PostgreSQL) grant the app role
exactly what it may do. Running it again applies nothing and changes nothing."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration

from core.db.engine import Database, use_database
from core.errors import KehuError
from core.settings import Settings

# Tables the app role may not write freely; every other public table gets full DML.
RESTRICTED_GRANTS: dict[str, str] = {
    "migration": "",  # the app never reads or writes migration bookkeeping
    "audit_entry": "SELECT, INSERT",  # append-only: no UPDATE, no DELETE
    "audit_chain": "SELECT, INSERT, UPDATE",  # the head moves forward; never deleted
    "audit_anchor": "SELECT",  # written by `kehu audit anchor` as the owner
}


@dataclass(frozen=True)
class MigrationReport:
    applied: tuple[str, ...]
    app_role: str | None


async def _applied_ids() -> set[str]:
    if not await Migration.table_exists():
        return set()
    return {row["name"] for row in await Migration.select(Migration.name)}


async def _ensure_app_role(database: Database, role: str) -> None:
    await database.fetch(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + role + "') THEN "
        'CREATE ROLE "' + role + '" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; '
        "END IF; END $$"
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


async def migrate(settings: Settings) -> MigrationReport:
    """Bring the database at ``KEHU_MIGRATE_DATABASE_URL`` (else ``KEHU_DATABASE_URL``) up to date."""
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
        role = None
        if database.is_postgres:
            role = settings.database_app_role
            async with database.transaction():
                await _ensure_app_role(database, role)
        return MigrationReport(applied=tuple(sorted(after - before)), app_role=role)
    finally:
        await database.close()
