"""Base classes for kehu's tables.

A tenant-owned table subclasses ``TenantOwned``: ``id`` then ``tenant_id`` lead its columns, its
migration gives it a ``(tenant_id, …)`` index and a forced RLS policy, and services reach it only
through the unit of work, which adds the tenant filter to every query.
"""

from __future__ import annotations

from piccolo.columns import UUID, Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class PlatformTable(Table):
    """A table of platform data that belongs to no single tenant (tenants themselves)."""

    id = UUID(primary_key=True)


class TenantOwned(Table):
    """A table whose every row belongs to exactly one tenant."""

    id = UUID(primary_key=True)
    # NOT NULL in the database; nullable here only so the unit of work can stamp it on insert.
    tenant_id = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


def is_tenant_owned(table: type[Table]) -> bool:
    return issubclass(table, TenantOwned)
