"""Data-subject requests (PIPL arts. 44-47): access, correction, deletion, portability, withdrawal.

States: received -> identity_verified -> fulfilled | rejected. Nothing is fulfilled before the
requester's identity is verified (``IDENTITY_NOT_VERIFIED``). The due date is the receipt plus the
tenant setting ``privacy.request_days`` (default 15), counted in calendar days, or in working days
of the tenant's calendar when ``privacy.request_working_days`` is 1 (closing time on the last one).
A working-day due date that counted days of a year with no official holiday schedule yet is
``due_provisional``, and is recomputed when that year's schedule is loaded (``kehu calendar
load``). A sweep announces ``privacy.request_due_soon`` two days before and
``privacy.request_overdue`` after, once each.

Fulfilment: access and portability start a ``privacy.subject_export`` job writing everything kehu
holds about the subject as JSON and CSV (the subject's own copy, in clear; its ``complaints``
section holds the complaints naming the subject, with their timeline); correction applies the
given field changes through the customer service with the request as reason; deletion erases the
subject, or freezes it while an archive folder naming it is under retention (A6/A7, where erasure
says ``ARCHIVE_RETENTION``); withdrawal withdraws every granted consent."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from core.archives import privacy as archive_privacy
from core.audit.chain import record as audit
from core.calendar.days import DeadlineUnit, Duration
from core.calendar.schedules import on_schedule_loaded
from core.calendar.settings import load_calendar
from core.context import Context
from core.customers.tables import Customer
from core.db import keyset, unit_of_work
from core.db.due import tenants_due
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.filters import one_of
from core.identity.access import require
from core.jobs import long_jobs, outbox
from core.jobs.timers import register_sweep
from core.plugins.manager import VerticalRegistry, personal_data_tables, started_verticals
from core.privacy import erasure, freeze, retention
from core.privacy.subject_tables import SubjectRequest
from core.tenancy.every_tenant import tenant_ids

KINDS = ("access", "correction", "deletion", "portability", "withdrawal")
RECEIVED, VERIFIED, FULFILLED, REJECTED = "received", "identity_verified", "fulfilled", "rejected"
DAYS_KEY = "privacy.request_days"
DEFAULT_DAYS = 15
WORKING_DAYS_KEY = "privacy.request_working_days"  # 1: request_days counts working days
DUE_SOON = timedelta(days=2)
EXPORT_JOB = "privacy.subject_export"
TARGET = "subject_request"
MANAGE = "privacy.request.manage"


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SubjectRequestView:
    id: UUID
    customer_id: UUID
    kind: str
    state: str
    channel: str
    received_at: datetime
    due_at: datetime
    requested_by: str
    identity_method: str | None
    identity_verified_at: datetime | None
    finished_at: datetime | None
    outcome: dict[str, Any] | None
    rejection_reason: str | None
    job_id: UUID | None
    due_provisional: bool = False


def _view(row: Mapping[str, Any]) -> SubjectRequestView:
    return SubjectRequestView(
        id=row["id"], customer_id=row["customer_id"], kind=row["kind"], state=row["state"], channel=row["channel"],
        received_at=row["created_at"], due_at=row["due_at"], requested_by=row["requested_by"],
        identity_method=row["identity_method"], identity_verified_at=row["identity_verified_at"],
        finished_at=row["finished_at"], outcome=json.loads(row["outcome"]) if row["outcome"] else None,
        rejection_reason=row["rejection_reason"], job_id=row["job_id"],
        due_provisional=bool(row.get("due_provisional")))


def _invalid(code: str, field: str, en: str, zh: str) -> KehuError:
    return KehuError(code, en, zh, field=field)


async def _load(uow: UnitOfWork, request_id: UUID) -> dict[str, Any]:
    row = await uow.select(SubjectRequest).where(SubjectRequest.id == request_id).first()
    if row is None:
        raise NotFound("subject request", request_id)
    return row


async def create_request(ctx: Context, customer_id: UUID, kind: str, *, channel: str = "",
                         changes: Mapping[str, Any] | None = None, received_at: datetime | None = None
                         ) -> SubjectRequestView:
    """Record a request as received; its due date follows the tenant's setting."""
    require(ctx, MANAGE)
    if kind not in KINDS:
        raise _invalid("REQUEST_KIND_INVALID", "kind", f"kind must be one of {', '.join(KINDS)}", "请求类型无效")
    if kind == "correction" and not changes:
        raise _invalid("CHANGES_REQUIRED", "changes", "a correction says which fields change", "更正请求须列出修改的字段")
    at = received_at or now()
    async with unit_of_work(ctx) as uow:
        if not await uow.exists(Customer).where((Customer.id == customer_id) & (Customer.status != erasure.ERASED)):
            raise NotFound("customer", customer_id)
        days = await retention.setting(uow, DAYS_KEY, DEFAULT_DAYS)
        due_at, working_days, provisional = at + timedelta(days=days), None, False
        if await retention.setting(uow, WORKING_DAYS_KEY, 0) == 1:
            deadline = (await load_calendar(uow)).deadline(at, Duration(days, DeadlineUnit.WORKING_DAYS))
            due_at, working_days, provisional = deadline.at.astimezone(UTC), days, deadline.provisional
        row = SubjectRequest(customer_id=customer_id, kind=kind, state=RECEIVED, channel=(channel or "")[:32],
                             due_at=due_at, due_working_days=working_days, due_provisional=int(provisional),
                             requested_by=ctx.actor, created_at=at,
                             changes=json.dumps(dict(changes), ensure_ascii=False) if changes else None)
        await uow.insert(row)
        await audit(uow, "privacy.request_received", TARGET, row.id, {"kind": kind, "customer_id": customer_id})
        await outbox.add(uow, "privacy.request_received", TARGET, row.id, ("state",))
        return _view(await _load(uow, row.id))


async def verify_identity(ctx: Context, request_id: UUID, method: str) -> SubjectRequestView:
    """Record how the requester proved to be the subject (ID card at the counter, a call back)."""
    require(ctx, MANAGE)
    method = (method or "").strip()
    if not method:
        raise _invalid("METHOD_REQUIRED", "method", "say how identity was verified", "须说明身份核验方式")
    async with unit_of_work(ctx) as uow:
        row = await _load(uow, request_id)
        if row["state"] != RECEIVED:
            raise _invalid("REQUEST_STATE", "id", f"the request is {row['state']}", "请求状态不允许此操作")
        await uow.update(SubjectRequest, {SubjectRequest.state: VERIFIED, SubjectRequest.identity_method: method[:64],
                                          SubjectRequest.identity_verified_at: now(),
                                          SubjectRequest.identity_verified_by: ctx.actor}).where(
            SubjectRequest.id == request_id)
        await audit(uow, "privacy.request_identity_verified", TARGET, request_id, {"method": method[:64]})
        return _view(await _load(uow, request_id))


async def reject_request(ctx: Context, request_id: UUID, reason: str) -> SubjectRequestView:
    require(ctx, MANAGE)
    reason = (reason or "").strip()
    if not reason:
        raise _invalid("REASON_REQUIRED", "reason", "a rejection needs a reason", "拒绝须填写原因")
    async with unit_of_work(ctx) as uow:
        row = await _load(uow, request_id)
        if row["state"] in (FULFILLED, REJECTED):
            raise _invalid("REQUEST_STATE", "id", f"the request is {row['state']}", "请求已结束")
        await uow.update(SubjectRequest, {SubjectRequest.state: REJECTED, SubjectRequest.rejection_reason: reason,
                                          SubjectRequest.finished_at: now(), SubjectRequest.finished_by: ctx.actor}
                         ).where(SubjectRequest.id == request_id)
        await audit(uow, "privacy.request_rejected", TARGET, request_id, {"reason": reason})
        await outbox.add(uow, "privacy.request_rejected", TARGET, request_id, ("state",))
        return _view(await _load(uow, request_id))


async def _finish(uow: UnitOfWork, request_id: UUID, outcome: Mapping[str, Any], job_id: UUID | None = None) -> None:
    await uow.update(SubjectRequest, {SubjectRequest.state: FULFILLED, SubjectRequest.finished_at: now(),
                                      SubjectRequest.finished_by: uow.ctx.actor, SubjectRequest.job_id: job_id,
                                      SubjectRequest.outcome: json.dumps(dict(outcome))}).where(
        SubjectRequest.id == request_id)
    await audit(uow, "privacy.request_fulfilled", TARGET, request_id, dict(outcome))
    await outbox.add(uow, "privacy.request_fulfilled", TARGET, request_id, ("state",))


async def _ready(ctx: Context, request_id: UUID) -> dict[str, Any]:
    async with unit_of_work(ctx, write=False) as uow:
        row = await _load(uow, request_id)
    if row["state"] == RECEIVED:
        raise _invalid("IDENTITY_NOT_VERIFIED", "id", "verify the requester's identity first", "请先核验请求人身份")
    if row["state"] != VERIFIED:
        raise _invalid("REQUEST_STATE", "id", f"the request is {row['state']}", "请求已结束")
    return row


async def fulfil_request(ctx: Context, registry: VerticalRegistry, request_id: UUID) -> SubjectRequestView:
    """Do what the request asks; refused until the requester's identity is verified."""
    require(ctx, MANAGE)
    row = await _ready(ctx, request_id)
    customer_id, kind = row["customer_id"], row["kind"]
    if kind in ("access", "portability"):
        async with unit_of_work(ctx) as uow:
            job_id = await long_jobs.submit(uow, EXPORT_JOB, {"customer_id": str(customer_id), "request_id": str(request_id)})
            await _finish(uow, request_id, {"export_job_id": str(job_id)}, job_id)
    elif kind == "correction":  # the record and the request change together, or neither does
        from core.customers import service

        require(ctx, "customer.read")
        async with unit_of_work(ctx) as uow:
            current = await uow.select(Customer.version).where(Customer.id == customer_id).first()
            version = int(current["version"]) if current else 0  # none: update_customer_in says not found
            await service.update_customer_in(uow, registry, customer_id, version=version,
                                             changes=json.loads(row["changes"]), reason=f"subject request {request_id}")
            await _finish(uow, request_id, {"corrected": sorted(json.loads(row["changes"]))})
    elif kind == "deletion":
        require(ctx, "privacy.erase")
        async with unit_of_work(ctx) as uow:
            kept = await archive_privacy.retained(uow, await erasure._merged_into(uow, customer_id), now())
            if kept:  # an archive rule keeps the data: out of processing instead (PIPL art. 47)
                until = archive_privacy.longest(kept)
                basis = archive_privacy.ArchiveRetention(until).message_en[:200]
                await freeze.freeze_in(uow, customer_id, reason=f"deletion requested ({request_id})", basis=basis)
                await _finish(uow, request_id, {"frozen": True, "basis": basis, "code": archive_privacy.RETENTION_CODE,
                                                "until": until.until.isoformat() if until.until else None})
            else:
                result = await erasure.erase_in(uow, registry, customer_id, f"subject request {request_id}")
                await _finish(uow, request_id, {"erased": True, "exports_deleted": result.exports_deleted})
    else:  # withdrawal: the ledger and the request change together, or neither does
        from core.privacy import consent

        require(ctx, "privacy.consent.read")
        require(ctx, "privacy.consent.manage")
        channel = consent._channel(row["channel"] or "request")
        async with unit_of_work(ctx) as uow:
            await consent.reach_customer(uow, customer_id, "privacy.consent.manage", lock=True)
            latest = await consent._latest(uow, customer_id, consent.PURPOSES)
            purposes = [p for p in consent.PURPOSES if p in latest and latest[p].action == consent.GRANT]
            if purposes:
                await consent._append(uow, customer_id, consent.WITHDRAW, purposes, notice_version=None,
                                      channel=channel, evidence=consent._evidence(f"subject request {request_id}"))
            await _finish(uow, request_id, {"withdrawn": purposes})
    async with unit_of_work(ctx, write=False) as uow:
        return _view(await _load(uow, request_id))


async def get_request(ctx: Context, request_id: UUID) -> SubjectRequestView:
    require(ctx, MANAGE)
    async with unit_of_work(ctx, write=False) as uow:
        return _view(await _load(uow, request_id))


async def list_requests(ctx: Context, state: str | None = None, *, first: int = 100) -> list[SubjectRequestView]:
    """Oldest due first."""
    return (await requests_page(ctx, Window(first), state))[0]


async def requests_page(ctx: Context, window: Window,
                        state: str | None = None) -> tuple[list[SubjectRequestView], bool]:
    """A window of list_requests (keyset on due_at, id) and whether more lie beyond it."""
    require(ctx, MANAGE)
    one_of(state, (RECEIVED, VERIFIED, FULFILLED, REJECTED), "state")  # unknown: refused, not an empty list
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(SubjectRequest)
        if state is not None:
            query = query.where(SubjectRequest.state == state)
        rows, more = await keyset.fetch(query, [SubjectRequest.due_at, SubjectRequest.id], window)
    return [_view(r) for r in rows], more


async def remind_due_requests(at: datetime) -> int:
    """Sweep: each open request is announced once when due soon and once when overdue."""
    sent = 0
    open_ = [RECEIVED, VERIFIED]
    # Only tenants with an open request to announce (core.db.due): the probe looks DUE_SOON ahead
    # (its {at}) and names overdue ones from the tick itself (its {stale}).
    for tenant_id in await tenants_due("subject_requests", at + DUE_SOON, at):
        async with unit_of_work(Context.system("job:subject-requests", tenant_id)) as uow:
            soon = await uow.update(SubjectRequest, {SubjectRequest.due_soon_notified_at: at}).where(
                SubjectRequest.state.is_in(open_) & SubjectRequest.due_soon_notified_at.is_null()
                & (SubjectRequest.due_at <= at + DUE_SOON) & (SubjectRequest.due_at > at)).returning(SubjectRequest.id)
            late = await uow.update(SubjectRequest, {SubjectRequest.overdue_notified_at: at}).where(
                SubjectRequest.state.is_in(open_) & SubjectRequest.overdue_notified_at.is_null()
                & (SubjectRequest.due_at <= at)).returning(SubjectRequest.id)
            for event, rows in (("privacy.request_due_soon", soon), ("privacy.request_overdue", late)):
                for r in rows:
                    await outbox.add(uow, event, TARGET, r["id"], ("due_at",))
            sent += len(soon) + len(late)
    return sent


register_sweep("subject_requests", remind_due_requests)


async def recompute_provisional_due(year: int) -> int:
    """After ``year``'s official schedule is loaded: every open request whose working-day due date
    counted provisional days is computed again from its receipt (audited when it moves)."""
    changed = 0
    for tenant_id in await tenant_ids("job:calendar"):
        async with unit_of_work(Context.system("job:calendar", tenant_id)) as uow:
            rows = await uow.select(SubjectRequest.id, SubjectRequest.created_at, SubjectRequest.due_at,
                                    SubjectRequest.due_working_days).where(
                SubjectRequest.state.is_in([RECEIVED, VERIFIED]) & (SubjectRequest.due_provisional == 1)
                & SubjectRequest.due_working_days.is_not_null())
            if not rows:
                continue
            calendar = await load_calendar(uow)
            for r in rows:
                deadline = calendar.deadline(r["created_at"], Duration(r["due_working_days"], DeadlineUnit.WORKING_DAYS))
                due_at = deadline.at.astimezone(UTC)
                await uow.update(SubjectRequest, {SubjectRequest.due_at: due_at,
                                                  SubjectRequest.due_provisional: int(deadline.provisional)}).where(
                    SubjectRequest.id == r["id"])
                if due_at != r["due_at"]:
                    changed += 1
                    await audit(uow, "privacy.request_due_recomputed", TARGET, r["id"],
                                {"due_at": (r["due_at"], due_at), "calendar_year": year})
    return changed


on_schedule_loaded("subject_requests", recompute_provisional_due)

# The complaint clocks' recompute registers itself on import; `kehu calendar load` imports this module.
from core.complaints import recompute as _complaint_recompute  # noqa: E402, F401


# --- the subject's copy ----------------------------------------------------------------------------

async def _subject_data(uow: UnitOfWork, registry: VerticalRegistry, customer_id: UUID) -> dict[str, Any]:
    """Everything kehu holds about the subject, in clear (it is the subject's own copy)."""
    from core.customers import service

    row = await uow.select(Customer).where(Customer.id == customer_id).first()
    if row is None:
        raise NotFound("customer", customer_id)
    record = service._view(row).record
    contacts = (await service._contacts_of(uow, [customer_id]))[customer_id]
    data: dict[str, Any] = {
        "customer": {"id": str(customer_id), **record},
        "contacts": [{"surname": c.surname, "given_name": c.given_name, "position": c.position,
                      "phones": list(c.phones), "email": c.email} for c in contacts],
    }
    schema = await erasure.live_schema(uow)
    if "consent_record" in schema:
        data["consents"] = [{k: str(v) if v is not None else None for k, v in r.items() if k != "tenant_id"}
                            for r in await uow.fetch("SELECT * FROM consent_record WHERE tenant_id = {} AND "
                                                     "customer_id = {}", uow.ctx.tenant_id, customer_id)]
    if "complaint" in schema:  # as complainant or linked customer (issue 19)
        from core.complaints import privacy as complaint_privacy

        data["complaints"] = await complaint_privacy.subject_complaints(uow, [customer_id])
    for t in personal_data_tables(registry):
        if t.table in schema:
            cols = ", ".join(t.columns)
            rows = await uow.fetch(f"SELECT {cols} FROM {t.table} WHERE tenant_id = {{}} AND {t.customer_column} = {{}}",
                                   uow.ctx.tenant_id, customer_id)
            data[t.table] = [{k: None if v is None else str(v) for k, v in r.items()} for r in rows]
    # A vertical's other tables that name the customer (erasure deletes the subject's rows there):
    # copied whole, but for the tenant.
    declared = {t.table for t in personal_data_tables(registry)}
    prefixes = tuple(f"{vertical}_" for vertical in registry.ids())
    for table, columns in sorted(schema.items()):
        if (prefixes and table.startswith(prefixes) and table not in declared and "customer_id" in columns
                and "tenant_id" in columns):
            rows = await uow.fetch(f"SELECT * FROM {table} WHERE tenant_id = {{}} AND customer_id = {{}}",
                                   uow.ctx.tenant_id, customer_id)
            data[table] = [{k: None if v is None else str(v) for k, v in r.items() if k != "tenant_id"} for r in rows]
    return data


def _csv(data: Mapping[str, Any]) -> str:
    """One row per value: section, row number, field, value (nested fields dotted)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "row", "field", "value"])

    def flat(prefix: str, value: Any) -> list[tuple[str, Any]]:
        if isinstance(value, Mapping):
            return [pair for k, v in value.items() for pair in flat(f"{prefix}.{k}" if prefix else str(k), v)]
        if isinstance(value, list) and not all(isinstance(v, (dict, list)) for v in value) and value:
            return [(prefix, ";".join(str(v) for v in value))]
        return [(prefix, value)]

    for section, content in data.items():
        rows = content if isinstance(content, list) else [content]
        for number, item in enumerate(rows):
            for name, value in flat("", item):
                writer.writerow([section, number, name, "" if value is None else value])
    return out.getvalue()


@long_jobs.job_kind(EXPORT_JOB, read_permission=MANAGE)
async def _run_subject_export(job: long_jobs.RunningJob) -> dict[str, Any]:
    registry = started_verticals()
    async with unit_of_work(job.ctx, write=False) as uow:
        data = await _subject_data(uow, registry, UUID(job.params["customer_id"]))
    from core.customers import service  # history opened by the service (its values may be sealed)

    data["history"] = [{"version": h.version, "changed_at": h.changed_at.isoformat(), "reason": h.reason,
                        "changes": h.changes} for h in await service.customer_history(
                            job.ctx, UUID(job.params["customer_id"]))]
    await job.progress(1, 2, "writing")
    # One file with both forms, so one download gives the subject JSON and CSV.
    job.output("subject-data.json", "application/json")
    await job.write(json.dumps({"format": "kehu.subject_export.v1", "json": data, "csv": _csv(data)},
                               ensure_ascii=False, default=str, indent=1))
    await job.progress(2, 2, "done")
    return {"sections": sorted(data)}
