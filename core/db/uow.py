"""The unit of work: one transaction per service call, scoped to one tenant.

Wall 1 of tenancy: every query on a tenant-owned table made through the unit of work carries
``tenant_id = <the context's tenant>``. Wall 2 (PostgreSQL): the first statement of the
transaction sets ``app.tenant_id`` for row-level security, so even a query that escaped wall 1
sees only this tenant's rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any
from uuid import UUID

from piccolo.query import Count, Delete, Exists, Select, Update
from piccolo.table import Table

from core.context import Context
from core.db.engine import Database, connection_lost, current_database, unavailable
from core.db.tables import is_tenant_owned
from core.errors import KehuError, TenantRequired

# TEST-ONLY: table names whose wall-1 tenant filter ``_scoped`` skips ("*" for every table), so
# tests/isolation can prove RLS alone holds and that its suite catches a missing filter. Nothing
# reads it from settings or the environment, and it is honoured only while pytest is loaded.
_test_unfiltered_tables: frozenset[str] = frozenset()


class UnitOfWork:
    """Tenant-filtered access to tables inside one open transaction."""

    def __init__(self, ctx: Context, database: Database) -> None:
        self.ctx = ctx
        self.database = database

    def _scoped(self, query: Any, table: type[Table]) -> Any:
        if not is_tenant_owned(table):
            return query
        if self.ctx.tenant_id is None:
            raise TenantRequired()
        if _test_unfiltered_tables and _test_skips_filter(table):
            return query
        return query.where(table.tenant_id == self.ctx.tenant_id)  # type: ignore[attr-defined]

    def select(self, *what: Any) -> Select:
        """``select(Table)`` for whole rows, or ``select(Table.a, Table.b)`` for some columns."""
        if isinstance(what[0], type) and issubclass(what[0], Table):
            table, columns = what[0], what[1:]
        else:
            table, columns = what[0]._meta.table, what
        return self._scoped(table.select(*columns), table)

    def count(self, table: type[Table]) -> Count:
        return self._scoped(table.count(), table)

    def exists(self, table: type[Table]) -> Exists:
        return self._scoped(table.exists(), table)

    def update(self, table: type[Table], values: dict[Any, Any]) -> Update:
        return self._scoped(table.update(values), table)

    def delete(self, table: type[Table]) -> Delete:
        return self._scoped(table.delete(), table)

    async def insert(self, *rows: Table) -> None:
        """Insert rows, stamping tenant-owned ones with this tenant and refusing any other."""
        if not rows:
            return
        table = type(rows[0])
        if is_tenant_owned(table):
            if self.ctx.tenant_id is None:
                raise TenantRequired()
            for row in rows:
                if row.tenant_id is None:  # type: ignore[attr-defined]
                    row.tenant_id = self.ctx.tenant_id  # type: ignore[attr-defined]
                elif row.tenant_id != self.ctx.tenant_id:  # type: ignore[attr-defined]
                    raise KehuError("TENANT_MISMATCH", "row belongs to another tenant", "记录属于其他租户")
        await table.insert(*rows)

    async def insert_many(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        """Bulk work (imports): insert plain value tuples in this transaction, skipping the query
        builder (SQLite: ``executemany``; PostgreSQL: one ``INSERT … SELECT FROM unnest`` of arrays). A tenant table's rows must carry this tenant's id
        in their ``tenant_id`` column."""
        if not rows:
            return
        if "tenant_id" in columns:
            at = columns.index("tenant_id")
            if self.ctx.tenant_id is None:
                raise TenantRequired()
            if any(row[at] != self.ctx.tenant_id for row in rows):
                raise KehuError("TENANT_MISMATCH", "row belongs to another tenant", "记录属于其他租户")
        connection = self.database.engine.current_transaction.get().connection
        head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
        if self.database.is_sqlite:
            # Multi-row VALUES: one step per statement, so the driver's thread takes the GIL back
            # once per chunk rather than once per row (it contends with the event loop for it).
            per_chunk = max(1, SQLITE_MAX_PARAMETERS // len(columns))
            one = f"({', '.join('?' * len(columns))})"
            for start in range(0, len(rows), per_chunk):
                chunk = rows[start:start + per_chunk]
                await connection.execute(head + ", ".join([one] * len(chunk)), [v for row in chunk for v in row])
            return
        # One statement binding a typed array per column: parsed once, whatever the number of rows
        # (a multi-row VALUES with thousands of parameters costs PostgreSQL more to parse than to run).
        types = await _column_types(connection, table)
        arrays = ", ".join(f"${n}::{types[c]}[]" for n, c in enumerate(columns, start=1))
        await connection.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays})",
                                 *([row[i] for row in rows] for i in range(len(columns))))

    async def enter_tenant(self, tenant_id: UUID) -> None:
        """Scope the rest of this transaction to ``tenant_id`` (tenant provisioning only)."""
        self.ctx = replace(self.ctx, tenant_id=tenant_id)
        await _set_rls_tenant(self.database, tenant_id)

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Raw SQL for what the query builder cannot say; callers filter on tenant_id themselves."""
        return await self.database.fetch(sql, *args)


def _test_skips_filter(table: type[Table]) -> bool:
    import sys

    return "pytest" in sys.modules and ("*" in _test_unfiltered_tables
                                        or table._meta.tablename in _test_unfiltered_tables)


SQLITE_MAX_PARAMETERS = 32766  # SQLite's default limit since 3.32

_column_types_cache: dict[str, dict[str, str]] = {}


async def _column_types(connection: Any, table: str) -> dict[str, str]:
    """PostgreSQL's type name of each column of ``table`` (cached; migrations do not run under a
    live process)."""
    if table not in _column_types_cache:
        rows = await connection.fetch("SELECT column_name, udt_name FROM information_schema.columns "
                                      "WHERE table_schema = current_schema() AND table_name = $1", table)
        _column_types_cache[table] = {row["column_name"]: row["udt_name"] for row in rows}
    return _column_types_cache[table]


async def _set_rls_tenant(database: Database, tenant_id: UUID | None) -> None:
    """Set the tenant for row-level security, local to the open transaction (PostgreSQL)."""
    if database.is_postgres:
        await database.fetch("SELECT set_config('app.tenant_id', {}, true)", str(tenant_id) if tenant_id else "")


@asynccontextmanager
async def unit_of_work(ctx: Context, *, write: bool = True, tenant_slug: str | None = None
                       ) -> AsyncIterator[UnitOfWork]:
    """Open one transaction for ``ctx``'s tenant; commit on success, roll back on any error.

    ``tenant_slug`` (a sign-in, whose context has no tenant yet): on PostgreSQL, row-level
    security follows the active tenant of that slug (none if there is none); the statements still
    name the tenant themselves, as the unit of work's filter cannot."""
    database = current_database()
    try:
        # The tenant goes with BEGIN (PostgreSQL). A new transaction starts with no tenant (kehu
        # sets it only transaction-locally) and RLS reads no tenant as "no rows".
        async with database.transaction(write=write, tenant_id=ctx.tenant_id,
                                        tenant_slug=None if ctx.tenant_id else tenant_slug):
            yield UnitOfWork(ctx, database)
    except Exception as error:
        if database.is_postgres and connection_lost(error):  # R5, R6: coded, never a masked 500
            raise unavailable(error) from error
        raise
