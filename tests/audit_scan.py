"""Checking what the audit log holds (the ``audit_scan`` fixture in tests/conftest.py).

``audit_scan`` is meant for every suite that handles personal data (customers, verticals): after
driving a service, ``await assert_not_in_audit("13812345678", …)`` proves that no audit entry of
any tenant holds those values, in any column.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from core.context import Context
from core.db import current_database, unit_of_work
from core.tenancy.tables import Tenant

SCAN_ACTOR = "test:audit-scan"


def _spellings(value: str) -> set[str]:
    """The forms a string can take inside a stored column: as is, and JSON-escaped (ASCII or not)."""
    return {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}


async def read_all_audit_entries() -> list[dict[str, Any]]:
    """Every row of ``audit_entry``, every column, of every tenant.

    Read per tenant through a system unit of work (on PostgreSQL row-level security shows a
    connection only the current tenant's rows); on SQLite, which has no row-level security, the
    rows are also counted in one query, so an entry of no known tenant cannot slip past."""
    async with unit_of_work(Context.system(SCAN_ACTOR), write=False) as uow:
        tenant_ids = [r["id"] for r in await uow.select(Tenant.id).order_by(Tenant.slug)]
    rows: list[dict[str, Any]] = []
    for tenant_id in tenant_ids:
        async with unit_of_work(Context.system(SCAN_ACTOR, tenant_id), write=False) as uow:
            rows.extend(await uow.fetch("SELECT * FROM audit_entry WHERE tenant_id = {} ORDER BY seq", tenant_id))
    if not current_database().is_postgres:
        async with unit_of_work(Context.system(SCAN_ACTOR), write=False) as uow:
            [total] = await uow.fetch("SELECT count(*) AS n FROM audit_entry")
        assert int(total["n"]) == len(rows), "audit_entry holds rows of no known tenant"
    return rows


def make_audit_scan() -> Callable[..., Awaitable[int]]:
    """``await audit_scan(*values)`` fails, naming the entry and column, if any of ``values``
    appears anywhere in any column of any audit entry; returns how many entries it read."""

    async def assert_not_in_audit(*values: str) -> int:
        assert values and all(isinstance(v, str) and v for v in values), "give non-empty strings to look for"
        rows = await read_all_audit_entries()
        for row in rows:
            for column, stored in row.items():
                if stored is None:
                    continue
                text = str(stored)
                for value in values:
                    if any(form in text for form in _spellings(value)):
                        raise AssertionError(
                            f"{value!r} appears in audit entry seq={row.get('seq')} of tenant {row.get('tenant_id')} "
                            f"(action={row.get('action')!r}, target={row.get('target_type')}:{row.get('target_id')}), "
                            f"column {column!r}: {text!r}")
        return len(rows)

    return assert_not_in_audit
