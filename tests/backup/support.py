"""Test helpers for backups: a key, and dropping a tenant's data as the owner (kehu has no tenant
deletion: an operator drops a tenant's rows before restoring it)."""

from __future__ import annotations

import base64
import os
import sqlite3
from uuid import UUID

import asyncpg

from core.backup.format import parse_key
from core.backup.service import NOT_BACKED_UP, _columns, _foreign_keys, _parents_first
from core.db import current_database
from core.settings import Settings


def new_key() -> bytes:
    return parse_key(base64.b64encode(os.urandom(32)).decode())


async def drop_tenant(settings: Settings, tenant_id: UUID) -> None:
    """Delete every row of the tenant (children first) and the tenant itself, as the owner; the
    erasure ledger stays, as it does in production."""
    database = current_database()
    columns = await _columns(database)
    tables = [t for t, cols in columns.items() if "tenant_id" in cols and t not in NOT_BACKED_UP]
    parents, _ = await _foreign_keys(database, tables)
    order = list(reversed(_parents_first(tables, parents)))
    if database.is_sqlite:
        connection = sqlite3.connect(str(settings.database.sqlite_path))
        try:
            for table in order:
                connection.execute(f'DELETE FROM "{table}" WHERE tenant_id = ?', (str(tenant_id),))
            connection.execute("DELETE FROM tenant WHERE id = ?", (str(tenant_id),))
            connection.commit()
        finally:
            connection.close()
        return
    connection = await asyncpg.connect(settings.migrate_database_url)
    try:
        async with connection.transaction():
            for table in order:
                await connection.execute(f'DELETE FROM "{table}" WHERE tenant_id = $1', tenant_id)
            await connection.execute("DELETE FROM tenant WHERE id = $1", tenant_id)
    finally:
        await connection.close()


async def tenant_rows(tenant_id: UUID) -> int:
    """How many rows of any tenant table the tenant has (the ledger aside)."""
    database = current_database()
    columns = await _columns(database)
    total = 0
    async with database.transaction(write=False):
        if database.is_postgres:
            await database.fetch("SELECT set_config('app.tenant_id', {}, true)", str(tenant_id))
        for table, cols in columns.items():
            if "tenant_id" in cols and table not in NOT_BACKED_UP:
                rows = await database.fetch(f'SELECT count(*) AS n FROM "{table}" WHERE tenant_id = {{}}', tenant_id)
                total += int(rows[0]["n"])
    return total
