"""Key rotation: re-encrypt a tenant's personal data under the active data key.

After a new key is put first in ``KEHU_DATA_KEYS`` (the old one kept after it), the
``privacy.rekey`` job walks every table holding sealed values and re-seals each value still on
another key, recomputes blind-index values, and seals values of rows written before encryption.
Rows already on the active key are skipped, so a job that stops part-way is simply run again.
When every tenant's job has finished, the old key can be removed from the setting.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from core.audit.chain import record as audit
from core.complaints.privacy import REKEY_STEP_COLUMNS, reseal_complainants
from core.complaints.tables import Complaint
from core.context import Context
from core.customers import service
from core.customers.import_tables import CustomerImportUpload
from core.customers.tables import Customer, CustomerContact, CustomerHistory, CustomerKey
from core.db import unit_of_work
from core.db.tables import TenantOwned
from core.db.uow import UnitOfWork
from core.identity.access import require
from core.jobs import long_jobs
from core.plugins.manager import started_verticals
from core.privacy import crypto
from core.privacy.classification import split_personal

REKEY_JOB = "privacy.rekey"
PERMISSION = "privacy.keys.manage"
BATCH = 200

Fix = Callable[[UnitOfWork, UUID, list[dict[str, Any]]], Awaitable[int]]


async def start_rekey(ctx: Context) -> UUID:
    """Queue re-encryption of the caller's tenant under the active key; returns the job."""
    require(ctx, PERMISSION)
    async with unit_of_work(ctx) as uow:
        job_id = await long_jobs.submit(uow, REKEY_JOB, {"key_id": crypto.keyring().active})
        await audit(uow, "privacy.rekey_started", "tenant", ctx.tenant_id, {"key_id": crypto.keyring().active})
    return job_id


def _stale(text: str | None) -> bool:
    return crypto.is_sealed(text) and not crypto.on_active_key(text)


async def _customers(uow: UnitOfWork, tenant_id: UUID, rows: list[dict[str, Any]]) -> int:
    keys: dict[UUID, list[str]] = {}
    for row in await uow.select(CustomerKey.customer_id, CustomerKey.value).where(
            CustomerKey.customer_id.is_in([row["id"] for row in rows])):
        keys.setdefault(row["customer_id"], []).append(row["value"])
    schema = service.extension_schema(_registry())
    done = 0
    for row in rows:
        values: dict[Any, Any] = {}
        if _stale(row["sealed"]):
            personal = crypto.open_json(tenant_id, service.SEALED_RECORD, row["sealed"])
            values[Customer.sealed] = crypto.seal_json(tenant_id, service.SEALED_RECORD, personal)
        elif row["sealed"] is None:  # written before encryption: split it now
            clear, personal = split_personal(json.loads(row["data"]), schema)
            if personal:
                values[Customer.data] = service.r.dumps(clear)
                values[Customer.sealed] = crypto.seal_json(tenant_id, service.SEALED_RECORD, personal)
        stale_keys = any(crypto.key_id(value) != crypto.keyring().active for value in keys.get(row["id"], ()))
        if stale_keys or Customer.data in values:  # older rows kept clear match keys: replace them too
            record = service.open_record(tenant_id, row["data"], row["sealed"])
            await service._write_keys(uow, row["id"], record)
        if values:
            await uow.update(Customer, values).where(Customer.id == row["id"])
        done += bool(values) or stale_keys
    return done


async def _contacts(uow: UnitOfWork, tenant_id: UUID, rows: list[dict[str, Any]]) -> int:
    done = 0
    for row in rows:
        if _stale(row["sealed"]):
            personal = crypto.open_json(tenant_id, service.SEALED_CONTACT, row["sealed"])
        elif row["sealed"] is None and (row["phones"] not in ("[]", "") or row["email"] is not None):
            personal = {"phones": json.loads(row["phones"]), "email": row["email"]}
        else:
            continue
        await uow.update(CustomerContact, {CustomerContact.sealed: crypto.seal_json(
            tenant_id, service.SEALED_CONTACT, personal), CustomerContact.phones: "[]",
            CustomerContact.email: None}).where(CustomerContact.id == row["id"])
        done += 1
    return done


async def _history(uow: UnitOfWork, tenant_id: UUID, rows: list[dict[str, Any]]) -> int:
    done = 0
    for row in rows:
        if crypto.on_active_key(row["changes"]):
            continue
        text = service.history_text(tenant_id, service.open_history(tenant_id, row["changes"]))
        if text != row["changes"]:
            await uow.update(CustomerHistory, {CustomerHistory.changes: text}).where(CustomerHistory.id == row["id"])
            done += 1
    return done


async def _uploads(uow: UnitOfWork, tenant_id: UUID, rows: list[dict[str, Any]]) -> int:
    from core.customers.importing import UPLOAD_COLUMN, open_upload

    done = 0
    for row in rows:
        if crypto.on_active_key(row["data"]):
            continue
        sealed = crypto.seal_text(tenant_id, UPLOAD_COLUMN, open_upload(tenant_id, row["data"]))
        await uow.update(CustomerImportUpload, {CustomerImportUpload.data: sealed}).where(
            CustomerImportUpload.id == row["id"])
        done += 1
    return done


def _registry() -> Any:
    return started_verticals()


# (label, table, columns read, fix): every table holding sealed or blind-index values.
STEPS: tuple[tuple[str, type[TenantOwned], tuple[str, ...], Fix], ...] = (
    ("customers", Customer, ("id", "data", "sealed"), _customers),
    ("contacts", CustomerContact, ("id", "phones", "email", "sealed"), _contacts),
    ("history", CustomerHistory, ("id", "changes"), _history),
    ("uploads", CustomerImportUpload, ("id", "data"), _uploads),
    ("complaints", Complaint, REKEY_STEP_COLUMNS, reseal_complainants),  # free-text complainants
)


async def rekey_tenant(ctx: Context, progress: Callable[[int, int, str], Awaitable[None]] | None = None
                       ) -> dict[str, int]:
    """Re-seal every value of the tenant not on the active key; {table label: rows changed}."""
    assert ctx.tenant_id is not None
    tenant_id = ctx.tenant_id
    async with unit_of_work(ctx, write=False) as uow:
        total = sum([await uow.count(table) for _, table, _, _ in STEPS])
    changed: dict[str, int] = {}
    seen = 0
    for label, table, columns, fix in STEPS:
        changed[label] = 0
        last: UUID | None = None
        while True:
            async with unit_of_work(ctx) as uow:
                query = uow.select(*(getattr(table, c) for c in columns)).order_by(table.id).limit(BATCH)
                if last is not None:
                    query = query.where(table.id > last)
                rows = await query
                if rows:
                    changed[label] += await fix(uow, tenant_id, rows)
            if not rows:
                break
            last = rows[-1]["id"]
            seen += len(rows)
            if progress is not None:
                await progress(min(seen, total), total, f"re-encrypting {label}")
    return changed


@long_jobs.job_kind(REKEY_JOB, read_permission=PERMISSION)
async def _run_rekey(job: long_jobs.RunningJob) -> dict[str, Any]:
    changed = await rekey_tenant(job.ctx, job.progress)
    async with unit_of_work(job.ctx) as uow:
        await audit(uow, "privacy.rekeyed", "tenant", job.tenant_id, {"key_id": crypto.keyring().active, **changed})
    return {"key_id": crypto.keyring().active, **changed}
