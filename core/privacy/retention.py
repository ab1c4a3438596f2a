"""Retention: how long kehu keeps a customer nobody does business with any more, legal holds that
stop the clock, and the purge that enforces it.

Policies:
- core default ``inactive``: a customer lost or terminated, or soft-deleted, is erased
  ``privacy.retention_years`` (tenant setting, default 5) after its last change;
- plugin rules (``ArchiveStandard.retention`` of the tenant's enabled verticals): a customer past
  retention is kept until every rule's years have passed too (counted from its last change, the
  latest event core knows of); then a ``seal`` rule freezes it instead of erasing it (the archive
  must be kept: PIPL art. 47), ``delete`` erases it.

The ``privacy.purge`` job (started daily by a sweep, or by hand) erases or freezes each customer
past retention, one transaction each, skipping legal holds, frozen and erased customers; so a
second run finds nothing more to do."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from core.audit.chain import record as audit
from core.context import Context
from core.customers.tables import Customer
from core.db import unit_of_work
from core.db.due import tenants_due
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.identity.access import require
from core.identity.tables import TenantSetting
from core.jobs import long_jobs, outbox
from core.jobs.tables import LongJob
from core.jobs.timers import register_sweep
from core.plugins.manager import VerticalRegistry, started_verticals
from core.plugins.types import RetentionEnd
from core.privacy import erasure, freeze
from core.privacy.subject_tables import CustomerFreeze, LegalHold
from core.verticals.tables import VerticalEnablement

PURGE_JOB = "privacy.purge"
YEARS_KEY = "privacy.retention_years"
DEFAULT_YEARS = 5
INACTIVE = ("lost", "terminated")
TARGET = "customer"


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    code: str
    source: str  # core, or the vertical id
    years: int
    counted_from: str
    then: str  # delete | seal
    description_en: str
    description_zh: str


@dataclass(frozen=True, slots=True)
class LegalHoldView:
    id: UUID
    customer_id: UUID
    reason: str
    placed_by: str
    placed_at: datetime
    released_at: datetime | None


async def setting(uow: UnitOfWork, key: str, default: int) -> int:
    row = await uow.select(TenantSetting.value).where(TenantSetting.key == key).first()
    return int(json.loads(row["value"])) if row else default


async def _policies(uow: UnitOfWork, registry: VerticalRegistry) -> list[RetentionPolicy]:
    years = await setting(uow, YEARS_KEY, DEFAULT_YEARS)
    policies = [RetentionPolicy("inactive", "core", years, "last_change", RetentionEnd.DELETE.value,
                                "customers lost, terminated or deleted are erased this long after their last change",
                                "流失、终止或已删除的客户在最后变更后保存期满即删除")]
    enabled = {row["vertical_id"] for row in await uow.select(VerticalEnablement.vertical_id).where(
        VerticalEnablement.status == "enabled")}
    for definition in registry.definitions:
        if definition.id not in enabled:
            continue
        for standard in definition.archive_standards:
            for rule in standard.retention:
                policies.append(RetentionPolicy(f"{standard.id}.{rule.code}", definition.id, rule.years,
                                                rule.counted_from, RetentionEnd(rule.then).value,
                                                rule.description_en, rule.description_zh))
    return policies


async def retention_policies(ctx: Context, registry: VerticalRegistry) -> list[RetentionPolicy]:
    """The policies in force for the caller's tenant: core's default and its verticals' rules."""
    require(ctx, "privacy.legal_hold")
    async with unit_of_work(ctx, write=False) as uow:
        return await _policies(uow, registry)


# --- legal holds -------------------------------------------------------------------------------

def _hold_view(row: dict[str, Any]) -> LegalHoldView:
    return LegalHoldView(id=row["id"], customer_id=row["customer_id"], reason=row["reason"],
                         placed_by=row["placed_by"], placed_at=row["created_at"], released_at=row["released_at"])


async def place_legal_hold(ctx: Context, customer_id: UUID, reason: str) -> LegalHoldView:
    """Keep a customer out of every purge and erasure until the hold is released."""
    require(ctx, "privacy.legal_hold")
    reason = (reason or "").strip()
    if not reason:
        raise KehuError("REASON_REQUIRED", "a legal hold needs a reason", "法律保全须填写原因", field="reason")
    async with unit_of_work(ctx) as uow:
        if not await uow.exists(Customer).where(Customer.id == customer_id):
            raise NotFound("customer", customer_id)
        hold = LegalHold(customer_id=customer_id, reason=reason, placed_by=ctx.actor)
        await uow.insert(hold)
        await audit(uow, "customer.legal_hold_placed", TARGET, customer_id, {"hold_id": hold.id})
        await outbox.add(uow, "customer.legal_hold_placed", TARGET, customer_id, ("legal_hold",))
        return _hold_view(await uow.select(LegalHold).where(LegalHold.id == hold.id).first())


async def release_legal_hold(ctx: Context, customer_id: UUID, reason: str = "") -> list[LegalHoldView]:
    """Release the customer's standing holds; ``LEGAL_HOLD_NONE`` if there is none."""
    require(ctx, "privacy.legal_hold")
    async with unit_of_work(ctx) as uow:
        rows = await uow.update(LegalHold, {LegalHold.released_at: now(), LegalHold.released_by: ctx.actor}).where(
            (LegalHold.customer_id == customer_id) & LegalHold.released_at.is_null()).returning(LegalHold.id)
        if not rows:
            raise KehuError("LEGAL_HOLD_NONE", "the customer is under no legal hold", "该客户没有法律保全", field="id")
        await audit(uow, "customer.legal_hold_released", TARGET, customer_id,
                    {"holds": [str(r["id"]) for r in rows], "reason": (reason or "").strip()[:500]})
        await outbox.add(uow, "customer.legal_hold_released", TARGET, customer_id, ("legal_hold",))
        found = await uow.select(LegalHold).where(LegalHold.id.is_in([r["id"] for r in rows]))
        return [_hold_view(r) for r in found]


# --- the purge ---------------------------------------------------------------------------------

async def due_for_purge(uow: UnitOfWork, registry: VerticalRegistry, at: datetime) -> list[tuple[UUID, str, str]]:
    """(customer id, delete | seal, the rule) for every customer past retention, not held, frozen
    or erased, not merged into another (it goes with its survivor)."""
    policies = await _policies(uow, registry)
    years = max(p.years for p in policies)
    seal = next((p for p in policies if p.then == RetentionEnd.SEAL.value), None)
    cutoff = at - timedelta(days=round(years * 365.25))
    held = {r["customer_id"] for r in await uow.select(LegalHold.customer_id).where(LegalHold.released_at.is_null())}
    frozen = {r["customer_id"] for r in await uow.select(CustomerFreeze.customer_id)}
    rows = await uow.select(Customer.id).where(
        (Customer.status.is_in(list(INACTIVE)) | Customer.deleted_at.is_not_null()) & (Customer.status != "erased")
        & Customer.merged_into.is_null() & (Customer.updated_at < cutoff))
    end = ("seal", seal.code) if seal else ("delete", "inactive")
    return [(r["id"], *end) for r in rows if r["id"] not in held and r["id"] not in frozen]


async def start_purge(ctx: Context) -> UUID:
    """Queue a purge of the caller's tenant now."""
    require(ctx, "privacy.legal_hold")
    async with unit_of_work(ctx) as uow:
        job_id = await long_jobs.submit(uow, PURGE_JOB, {})
        await audit(uow, "privacy.purge_requested", "job", job_id, {})
        return job_id


@long_jobs.job_kind(PURGE_JOB, read_permission="privacy.legal_hold")
async def _run_purge(job: long_jobs.RunningJob) -> dict[str, Any]:
    registry = started_verticals()
    at = now()
    async with unit_of_work(job.ctx, write=False) as uow:
        due = await due_for_purge(uow, registry, at)
    erased = frozen = skipped = 0
    for done, (customer_id, end, rule) in enumerate(due):
        try:
            async with unit_of_work(job.ctx) as uow:  # one subject, one transaction
                if end == "seal":
                    frozen += await freeze.freeze_in(uow, customer_id, reason="retention period over; archive kept",
                                                     basis=rule)
                else:
                    await erasure.erase_in(uow, registry, customer_id, f"retention: {rule}")
                    erased += 1
        except KehuError:  # held, frozen or erased meanwhile: the next run sees it as it is then
            skipped += 1
        await job.progress(done + 1, len(due), "purging")
    return {"erased": erased, "frozen": frozen, "skipped": skipped}


async def start_daily_purges(at: datetime) -> int:
    """Sweep: each tenant gets one purge a day (none while one is queued or running)."""
    started = 0
    # Only tenants with no purge queued, running or started in the last day (core.db.due).
    for tenant_id in await tenants_due("privacy_purge", at, at - timedelta(days=1)):
        async with unit_of_work(Context.system("job:privacy-purge", tenant_id)) as uow:
            recent = await uow.exists(LongJob).where(
                (LongJob.kind == PURGE_JOB) & ((LongJob.created_at > at - timedelta(days=1))
                                               | LongJob.status.is_in(["queued", "running"])))
            if not recent:
                await long_jobs.submit(uow, PURGE_JOB, {})
                started += 1
    return started


register_sweep("privacy_purge", start_daily_purges)
