"""Use cases on the audit log: reading and exporting entries, verifying, anchoring, retention."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog

from core.audit.anchors import anchoring
from core.audit.chain import Verification, anchor_chain, record, record_prune, verify_chain
from core.audit.tables import AuditChain, AuditEntry
from core.context import Context
from core.db import keyset, unit_of_work
from core.db.due import tenants_due
from core.db.keyset import Window
from core.errors import KehuError
from core.identity.access import require
from core.identity.policies import write_setting
from core.identity.tables import TenantSetting
from core.jobs import long_jobs
from core.jobs import outbox
from core.jobs.timers import register_sweep
from core.tenancy.tables import Tenant

log = structlog.get_logger("kehu.audit")
RETENTION_KEY = "audit.retention_days"
DEFAULT_RETENTION_DAYS = 3 * 365  # the seeds keep records "a certain period"; three years by default
EXPORT_BATCH = 500


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditEntryView:
    seq: int
    occurred_at: datetime
    actor: str
    client_address: str | None
    request_id: str | None
    action: str
    target_type: str
    target_id: str | None
    diff: dict[str, Any]
    hash: str

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "occurredAt": self.occurred_at.astimezone(UTC).isoformat(), "actor": self.actor,
                "clientAddress": self.client_address, "requestId": self.request_id, "action": self.action,
                "targetType": self.target_type, "targetId": self.target_id, "diff": self.diff, "hash": self.hash}


def _view(row: dict) -> AuditEntryView:
    return AuditEntryView(seq=int(row["seq"]), occurred_at=row["occurred_at"], actor=row["actor"],
                          client_address=row["client_address"], request_id=row["request_id"], action=row["action"],
                          target_type=row["target_type"], target_id=row["target_id"], diff=json.loads(row["diff"]),
                          hash=row["hash"])


def _filtered(query: Any, where: AuditFilter) -> Any:
    for column, value in ((AuditEntry.actor, where.actor), (AuditEntry.action, where.action),
                          (AuditEntry.target_type, where.target_type), (AuditEntry.target_id, where.target_id)):
        if value is not None:
            query = query.where(column == value)
    if where.since is not None:
        query = query.where(AuditEntry.occurred_at >= where.since)
    if where.until is not None:
        query = query.where(AuditEntry.occurred_at < where.until)
    return query


async def list_entries(ctx: Context, where: AuditFilter, *, first: int,
                       before_seq: int | None = None) -> tuple[list[AuditEntryView], bool]:
    """Newest first, a page at a time (keyset on the chain position)."""
    return await entries_page(ctx, where, Window(first, after=(before_seq,) if before_seq is not None else None))


async def entries_page(ctx: Context, where: AuditFilter, window: Window) -> tuple[list[AuditEntryView], bool]:
    """A window of the entries, newest first (keyset on the chain position), and whether more lie beyond it."""
    require(ctx, "audit.read")
    async with unit_of_work(ctx, write=False) as uow:
        rows, more = await keyset.fetch(_filtered(uow.select(AuditEntry), where), [AuditEntry.seq], window,
                                        descending=True)
    return [_view(r) for r in rows], more


async def export_entries(ctx: Context, where: AuditFilter) -> AsyncIterator[AuditEntryView]:
    """Every matching entry, oldest first, read in batches (one short transaction each)."""
    require(ctx, "audit.read")
    after = 0
    while True:
        async with unit_of_work(ctx, write=False) as uow:
            rows = await _filtered(uow.select(AuditEntry), where).where(AuditEntry.seq > after).order_by(
                AuditEntry.seq).limit(EXPORT_BATCH)
        for row in rows:
            yield _view(row)
        if len(rows) < EXPORT_BATCH:
            return
        after = int(rows[-1]["seq"])


EXPORT_JOB = "audit.export"


async def start_export(ctx: Context, where: AuditFilter) -> UUID:
    """Queue an export of the matching entries as JSON Lines; returns the job to watch."""
    require(ctx, "audit.read")
    params = {"actor": where.actor, "action": where.action, "target_type": where.target_type,
              "target_id": where.target_id, "since": where.since.isoformat() if where.since else None,
              "until": where.until.isoformat() if where.until else None}
    async with unit_of_work(ctx) as uow:
        return await long_jobs.submit(uow, EXPORT_JOB, params)


@long_jobs.job_kind(EXPORT_JOB, read_permission="audit.read")
async def _run_export(job: long_jobs.RunningJob) -> dict[str, Any]:
    p = job.params
    where = AuditFilter(actor=p["actor"], action=p["action"], target_type=p["target_type"], target_id=p["target_id"],
                        since=datetime.fromisoformat(p["since"]) if p["since"] else None,
                        until=datetime.fromisoformat(p["until"]) if p["until"] else None)
    async with unit_of_work(job.ctx, write=False) as uow:
        total = await _filtered(uow.count(AuditEntry), where)
    job.output("audit.jsonl", "application/x-ndjson")
    await job.progress(0, total, "exporting audit entries")
    done = 0
    async for entry in export_entries(job.ctx, where):
        await job.write(json.dumps(entry.as_json(), ensure_ascii=False) + "\n")
        done += 1
        if done % EXPORT_BATCH == 0:
            await job.progress(done, total)
    await job.progress(done, total, "done")
    return {"entries": done}


async def verify(ctx: Context) -> Verification:
    require(ctx, "audit.read")
    anchors = await anchoring().read(ctx.tenant_id)  # before the transaction: file I/O holds no connection
    async with unit_of_work(ctx, write=False) as uow:
        return await verify_chain(uow, anchors=anchors)


async def anchor(ctx: Context) -> int | None:
    """Anchor the caller's tenant's chain now (an auditor asks before and after an inspection);
    the newest anchored position. The anchor store, not the database, is written."""
    require(ctx, "audit.read")
    async with unit_of_work(ctx) as uow:  # who asked is itself on record, and inside the anchor
        await record(uow, "audit.anchor_requested", "audit_chain", None, {})
    await anchor_chain(ctx)
    last = (await anchoring().read(ctx.tenant_id)).last
    return last.seq if last else None


async def audit_retention_days(ctx: Context) -> int:
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(TenantSetting.value).where(TenantSetting.key == RETENTION_KEY).first()
    return int(json.loads(row["value"])["days"]) if row else DEFAULT_RETENTION_DAYS


async def set_audit_retention_days(ctx: Context, days: int) -> int:
    require(ctx, "tenant.settings.manage")
    if not 365 <= days <= 36_500:
        raise KehuError("SETTING_INVALID", "audit retention is 365 to 36500 days", "审计保留期须为 365 至 36500 天",
                        field="days")
    async with unit_of_work(ctx) as uow:
        old = await uow.select(TenantSetting.value).where(TenantSetting.key == RETENTION_KEY).first()
        await write_setting(uow, RETENTION_KEY, {"days": days})
        await record(uow, "setting.updated", "tenant_setting", RETENTION_KEY,
                     {"days": (json.loads(old["value"])["days"] if old else DEFAULT_RETENTION_DAYS, days)})
        await outbox.add(uow, "setting.updated", "tenant_setting", RETENTION_KEY, ("days",))
    return days


# Operator work. Pruning runs with the owner's connection (the app role may not delete entries);
# anchoring needs only reading the chain and the anchor signing key.

async def _tenant_ids(ctx: Context) -> list[tuple[UUID, str]]:
    async with unit_of_work(ctx, write=False) as uow:
        return [(r["id"], r["slug"]) for r in await uow.select(Tenant.id, Tenant.slug).order_by(Tenant.slug)]


async def verify_all(ctx: Context, slug: str | None = None) -> list[tuple[str, Verification]]:
    results = []
    for tenant_id, tenant_slug in await _tenant_ids(ctx):
        if slug is None or slug == tenant_slug:
            async with unit_of_work(ctx.for_tenant(tenant_id), write=False) as uow:
                results.append((tenant_slug, await verify_chain(uow)))
    if slug is not None and not results:
        raise KehuError("NOT_FOUND", f"tenant {slug!r} not found", f"未找到租户 {slug!r}")
    return results


async def anchor_all(ctx: Context, *, adopt: bool = False) -> list[tuple[str, int]]:
    """Sign every tenant's chain up to its head into the anchor store; the tenants anchored and
    their newest anchored position. ``adopt`` starts anchoring chains that have none yet though
    their entries are older than the grace period (an operator's decision: see docs/operators.md)."""
    anchored = []
    for tenant_id, slug in await _tenant_ids(ctx):
        position = await anchor_chain(ctx.for_tenant(tenant_id), adopt=adopt)
        if position is not None:
            anchored.append((slug, position))
    return anchored


# Per process: when each tenant was last looked at by the sweep, so a tick does not read every
# tenant's anchors every few seconds; the tenants the gate put off; when the previous pass began.
_last_anchored: dict[UUID, datetime] = {}
_put_off: set[UUID] = set()
_previous_pass: list[datetime] = []


async def anchor_due(now: datetime) -> int:
    """Sweep: anchor each tenant whose last anchor is older than the anchor interval. A tenant that
    cannot be anchored (a broken chain, a lost store) is logged and retried next interval.

    Which tenants to look at comes from one statement across tenants (core.db.due): on this
    process's first pass every chain (its entries may predate the process); afterwards only chains
    with entries since the previous pass began, less an interval (a long transaction commits late),
    and those the interval gate put off. An idle tenant costs nothing after the first pass."""
    interval = anchoring().interval
    written = 0
    if not _previous_pass or _previous_pass[0] > now:  # first pass (or a clock set back): every chain
        candidates = set(await tenants_due("audit_anchors", now))
    else:
        candidates = set(await tenants_due("audit_recent", now, _previous_pass[0] - interval)) | _put_off
    _previous_pass[:] = [now]
    for tenant_id in sorted(candidates, key=str):
        seen = _last_anchored.get(tenant_id)
        if seen is not None and now - seen < interval:
            _put_off.add(tenant_id)
            continue
        _put_off.discard(tenant_id)
        _last_anchored[tenant_id] = now
        try:
            if await anchor_chain(Context.system("job:audit-anchor", tenant_id), now=now) is not None:
                written += 1
        except KehuError as exc:
            _put_off.add(tenant_id)  # looked at again after the interval
            log.warning("audit.anchor_refused", tenant_id=str(tenant_id), code=exc.code, reason=exc.message_en)
    return written


register_sweep("audit_anchors", anchor_due)


async def prune_all(ctx: Context, now: datetime | None = None) -> list[tuple[str, int]]:
    """Delete entries older than each tenant's retention, from the start of the chain only; the
    last pruned entry becomes the chain's base, so what remains still verifies (owner only).

    Before anything goes, the chain is anchored and the new base is signed into the anchor store:
    a base moved without a signed prune record is what a forged prune looks like to the verifier."""
    now = now or datetime.now(UTC)
    pruned = []
    for tenant_id, slug in await _tenant_ids(ctx):
        tenant_ctx = ctx.for_tenant(tenant_id)
        cutoff = now - timedelta(days=await audit_retention_days(tenant_ctx))
        async with unit_of_work(tenant_ctx, write=False) as uow:
            head = await uow.select(AuditChain).first()
            if head is None:
                continue
            # The prefix of the chain whose entries are all older than the cutoff.
            first_kept = await uow.select(AuditEntry.seq).where(
                (AuditEntry.occurred_at >= cutoff) & (AuditEntry.seq > head["base_seq"])).order_by(
                AuditEntry.seq).first()
            last_pruned = (int(first_kept["seq"]) - 1) if first_kept else int(head["last_seq"])
            if last_pruned <= int(head["base_seq"]):
                continue
            base = await uow.select(AuditEntry.hash).where(AuditEntry.seq == last_pruned).first()
            if base is None:
                continue
        await anchor_chain(tenant_ctx)
        # Signed first: if the deletion then fails, the record only approves a base never used.
        await record_prune(tenant_ctx, base_seq=last_pruned, base_hash=base["hash"],
                           prev_seq=int(head["base_seq"]), prev_hash=head["base_hash"])
        async with unit_of_work(tenant_ctx) as uow:
            moved = await uow.update(AuditChain, {AuditChain.base_seq: last_pruned,
                                                  AuditChain.base_hash: base["hash"]}).where(
                (AuditChain.id == head["id"]) & (AuditChain.base_seq == head["base_seq"])).returning(AuditChain.id)
            if not moved:  # another prune ran meanwhile
                continue
            await uow.delete(AuditEntry).where(AuditEntry.seq <= last_pruned)
        pruned.append((slug, last_pruned - int(head["base_seq"])))
    return pruned
