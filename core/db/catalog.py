"""Catalog checks: on PostgreSQL every table with a ``tenant_id`` column has forced RLS and a policy;
on both databases every table of a vertical (named with its id as prefix) has a ``tenant_id``."""

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


async def table_columns(database: Database) -> dict[str, set[str]]:
    """Every table of the database with its column names (SQLite or PostgreSQL)."""
    if database.is_postgres:
        rows = await database.fetch("SELECT table_name, column_name FROM information_schema.columns "
                                    "WHERE table_schema = current_schema()")
        found: dict[str, set[str]] = {}
        for row in rows:
            found.setdefault(row["table_name"], set()).add(row["column_name"])
        return found
    tables = await database.fetch("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return {t["name"]: {c["name"] for c in await database.fetch(f"PRAGMA table_info({t['name']})")} for t in tables}


async def vertical_tables(database: Database, vertical_id: str) -> tuple[list[str], list[str]]:
    """The tables of a vertical (named ``<vertical_id>_…``), and those of them without ``tenant_id``."""
    columns = await table_columns(database)
    mine = sorted(t for t in columns if t.startswith(f"{vertical_id}_"))
    return mine, [t for t in mine if "tenant_id" not in columns[t]]
