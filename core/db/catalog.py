"""Catalog checks on PostgreSQL: every table with a ``tenant_id`` column has forced RLS and a policy."""

from __future__ import annotations

from core.db.engine import Database

_TABLES_WITHOUT_FORCED_POLICY = """
SELECT c.relname AS table_name,
       c.relrowsecurity AS enabled,
       c.relforcerowsecurity AS forced,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p') AND c.relnamespace = 'public'::regnamespace
ORDER BY c.relname
"""


async def tables_missing_rls(database: Database) -> list[str]:
    """Names of tenant tables that lack enabled RLS, forced RLS, or a policy (empty when all good)."""
    rows = await database.fetch(_TABLES_WITHOUT_FORCED_POLICY)
    return [row["table_name"] for row in rows if not (row["enabled"] and row["forced"] and row["policies"])]
