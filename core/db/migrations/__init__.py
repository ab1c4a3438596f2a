"""Core's migrations. Each is raw DDL per dialect, so a migration never changes after it ships."""

from __future__ import annotations

from core.db.engine import current_database


async def run_statements(*, sqlite: list[str], postgres: list[str]) -> None:
    database = current_database()
    for statement in sqlite if database.is_sqlite else postgres:
        await database.fetch(statement)
