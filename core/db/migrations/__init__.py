"""Core's migrations. Each is raw DDL, so a migration never changes after it ships.

The column types used (UUID, TIMESTAMPTZ, VARCHAR, TEXT, INTEGER) mean the same on SQLite (where
Piccolo's converters key on them) and PostgreSQL; only row-level security is PostgreSQL-only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.db.engine import current_database
from core.db.rls import tenant_rls_statements

APP_NAME = "kehu_core"


async def run_statements(*, sqlite: list[str], postgres: list[str]) -> None:
    database = current_database()
    for statement in sqlite if database.is_sqlite else postgres:
        await database.fetch(statement)


def raw_migration(migration_id: str, description: str, *, sqlite: list[str],
                  postgres: list[str]) -> Callable[[], Awaitable[MigrationManager]]:
    """The ``forwards`` of a migration that runs these statements in one transaction."""

    async def forwards() -> MigrationManager:
        manager = MigrationManager(migration_id=migration_id, app_name=APP_NAME, description=description)

        async def apply() -> None:
            await run_statements(sqlite=sqlite, postgres=postgres)

        manager.add_raw(apply)
        return manager

    return forwards


def tenant_table(
    name: str,
    columns: list[str],
    *,
    unique: tuple[tuple[str, ...], ...] = (),
    indexes: tuple[tuple[str, ...], ...] = (),
    references: tuple[tuple[str, str], ...] = (),
) -> tuple[list[str], list[str]]:
    """DDL for a tenant-owned table: ``id``, ``tenant_id``, ``created_at`` first; a unique
    ``(tenant_id, id)`` index; every other index led by ``tenant_id``; foreign keys to other
    tenant tables on ``(tenant_id, column)``, so a row can never point into another tenant.

    ``references`` holds (column, table) pairs. Returns (sqlite statements, postgres statements).
    """
    foreign_keys = [
        f"FOREIGN KEY (tenant_id, {column}) REFERENCES {table} (tenant_id, id) ON DELETE RESTRICT"
        for column, table in references
    ]
    body = ",\n    ".join(
        [
            "id UUID PRIMARY KEY NOT NULL",
            "tenant_id UUID NOT NULL REFERENCES tenant (id) ON DELETE RESTRICT",
            "created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp",
            *columns,
            *foreign_keys,
        ]
    )
    statements = [
        f"CREATE TABLE {name} (\n    {body}\n)",
        f"CREATE UNIQUE INDEX {name}_tenant_id_id ON {name} (tenant_id, id)",
    ]
    for columns_ in unique:  # () means one row per tenant
        statements.append(
            f"CREATE UNIQUE INDEX {name}_{'_'.join(('tenant',) + columns_)}_key "
            f"ON {name} ({', '.join(('tenant_id',) + columns_)})"
        )
    for columns_ in indexes:
        statements.append(f"CREATE INDEX {name}_{'_'.join(columns_)}_idx ON {name} (tenant_id, {', '.join(columns_)})")
    return statements, statements + tenant_rls_statements(name)
