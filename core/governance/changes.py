"""Key-field change requests of customer records and the quarterly review report (issue 24,
seed-004 §2.3, W3/W4/W5; CSM-4 to CSM-8), one function per use case: read and change the tenant's
change settings, submit a change request, apply it, reject it, read and list requests, and list the
customers overdue for a quarter's full review.

A request holds the maker's change against the customer version they read. The customer
information management specialist (permission ``customer.change.apply``, never the submitter)
applies it through the customer update use case, so the record's history and audit name the
specialist, or rejects it with a reason (the customer untouched). A key change (a field the tenant
declares key) is due on the ``sla_working_days``-th working day of the tenant calendar after the day
it occurred; applied later it is flagged ``breached``. The proposed values may be personal data:
they are stored sealed and erased from the request once it is decided.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from core.audit.chain import record as audit
from core.audit.tables import AuditEntry
from core.calendar.settings import tenant_calendar
from core.context import Context
from core.customers import records as r
from core.customers import service as customers
from core.customers.tables import Customer
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.governance import change_policy as policy
from core.governance.change_tables import CustomerChangeRequest
from core.identity.access import may_reach, require, require_any, require_different_actor
from core.identity.policies import write_setting
from core.identity.tables import TenantSetting
from core.jobs import outbox
from core.plugins.manager import VerticalRegistry
from core.privacy import crypto

APPLY = "customer.change.apply"
SETTINGS = "tenant.settings.manage"
TARGET = "customer_change_request"
SEALED_CHANGES = "customer_change_request.changes"
MAX_REASON = 2000
# Lifecycle states whose customers owe the quarterly full review (not lost, not terminated).
REVIEWED_STATUSES = ("potential", "active", "dormant")


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ChangeRequestView:
    id: UUID
    version: int
    customer_id: UUID
    base_version: int
    fields: tuple[str, ...]
    key_fields: tuple[str, ...]
    is_key: bool
    reason: str
    change_occurred_on: date
    sla_working_days: int | None
    due_on: date | None
    due_at: datetime | None
    state: str
    submitted_at: datetime
    submitted_by: str
    decided_by: str | None
    decided_at: datetime | None
    rejection_reason: str
    applied_version: int | None
    breached: bool
    overdue: bool  # still submitted and past its deadline now
    proposed: dict[str, Any] | None  # the proposed values while open, to the specialist and the submitter


@dataclass(frozen=True, slots=True)
class OverdueReview:
    customer_id: UUID
    display_name: str
    status: str
    created_at: datetime
    last_reviewed_at: datetime | None
    quarter: policy.Quarter


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _holds(ctx: Context, permission: str) -> bool:
    return ctx.is_system or (ctx.principal is not None and permission in ctx.principal.permissions)


def _view(ctx: Context, row: Mapping[str, Any], at: datetime, zone: ZoneInfo) -> ChangeRequestView:
    due = _day(row["due_on"])
    proposed = None
    if row["state"] == policy.SUBMITTED and (_holds(ctx, APPLY) or row["submitted_by"] == ctx.actor):
        assert ctx.tenant_id is not None
        proposed = crypto.open_json(ctx.tenant_id, SEALED_CHANGES, row["changes"])
    return ChangeRequestView(
        id=row["id"], version=int(row["version"]), customer_id=row["customer_id"],
        base_version=int(row["base_version"]), fields=tuple(json.loads(row["fields"])),
        key_fields=tuple(json.loads(row["key_fields"])), is_key=bool(row["is_key"]), reason=row["reason"],
        change_occurred_on=date.fromisoformat(row["change_occurred_on"]),
        sla_working_days=row["sla_working_days"], due_on=due, due_at=_utc(row["due_at"]), state=row["state"],
        submitted_at=_utc(row["created_at"]), submitted_by=row["submitted_by"],  # type: ignore[arg-type]
        decided_by=row["decided_by"], decided_at=_utc(row["decided_at"]),
        rejection_reason=row["rejection_reason"], applied_version=row["applied_version"],
        breached=bool(row["breached"]), overdue=policy.overdue(row["state"], due, at, zone), proposed=proposed)


def _invalid(code: str, field: str, en: str, zh: str) -> KehuError:
    return KehuError(code, en, zh, field=field)


# --- settings ------------------------------------------------------------------------------------

async def _settings(uow: UnitOfWork) -> policy.ChangeSettings:
    row = await uow.select(TenantSetting.value).where(TenantSetting.key == policy.SETTING_KEY).first()
    return policy.settings_of(json.loads(row["value"]) if row else None)


async def change_settings(ctx: Context) -> policy.ChangeSettings:
    """Whether key changes need a request, the key fields and the deadline in working days."""
    require(ctx, SETTINGS)
    async with unit_of_work(ctx, write=False) as uow:
        return await _settings(uow)


def _check_key_field(name: object, registry: VerticalRegistry) -> str:
    if not policy.well_formed_field(name):
        raise _invalid("SETTING_INVALID", "keyFields", f"{name!r} is not a customer field name",
                       f"{name!r} 不是客户字段名")
    assert isinstance(name, str)
    top, *rest = name.split(".")
    if top not in r.INPUT_FIELDS or (top in ("kind", "extensions") and not rest):
        raise _invalid("SETTING_INVALID", "keyFields", f"a customer has no field {name!r}", f"客户没有字段 {name!r}")
    if top == "extensions":
        schema = customers.extension_schema(registry)
        if len(rest) < 2 or rest[1] not in schema.get(rest[0], {}):
            raise _invalid("SETTING_INVALID", "keyFields", f"no vertical declares the customer field {name!r}",
                           f"没有行业插件声明客户字段 {name!r}")
    return name


async def update_change_settings(ctx: Context, registry: VerticalRegistry, *, enabled: bool | None = None,
                                 key_fields: Sequence[str] | None = None,
                                 sla_working_days: int | None = None) -> policy.ChangeSettings:
    """Change some of the settings (tenant.settings.manage). Key fields are dotted customer field
    names, core (``phones``, ``business.scope``) or a vertical's (``extensions.automotive.vin``)."""
    require(ctx, SETTINGS)
    changes: dict[str, Any] = {}
    if enabled is not None:
        changes["enabled"] = bool(enabled)
    if key_fields is not None:
        if len(key_fields) > policy.MAX_KEY_FIELDS:
            raise _invalid("SETTING_INVALID", "keyFields", f"at most {policy.MAX_KEY_FIELDS} key fields",
                           f"关键字段最多 {policy.MAX_KEY_FIELDS} 个")
        changes["key_fields"] = sorted({_check_key_field(name, registry) for name in key_fields})
    if sla_working_days is not None:
        if isinstance(sla_working_days, bool) or not 1 <= sla_working_days <= policy.MAX_SLA_WORKING_DAYS:
            raise _invalid("SETTING_INVALID", "slaWorkingDays",
                           f"the key-change deadline is 1 to {policy.MAX_SLA_WORKING_DAYS} working days",
                           f"关键信息变更时限须为 1 至 {policy.MAX_SLA_WORKING_DAYS} 个工作日")
        changes["sla_working_days"] = sla_working_days
    async with unit_of_work(ctx) as uow:
        before = await _settings(uow)
        stored = {"enabled": before.enabled, "key_fields": list(before.key_fields),
                  "sla_working_days": before.sla_working_days}
        after = {**stored, **changes}
        if after != stored:
            await write_setting(uow, policy.SETTING_KEY, after)
            await audit(uow, "setting.updated", "tenant_setting", policy.SETTING_KEY,
                        {k: (stored[k], after[k]) for k in after if after[k] != stored[k]})
            await outbox.add(uow, "setting.updated", "tenant_setting", policy.SETTING_KEY, (policy.SETTING_KEY,))
        return policy.settings_of(after)


async def required_fields(ctx: Context) -> list[str]:
    """The fields the tenant's archive standard makes mandatory when a customer is created (CSM-1)."""
    require(ctx, "customer.read")
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(TenantSetting.value).where(TenantSetting.key == policy.REQUIRED_SETTING_KEY).first()
    return list(json.loads(row["value"])["fields"]) if row else []


async def set_required_fields(ctx: Context, fields: Sequence[str]) -> list[str]:
    """Set them (tenant.settings.manage), among ``change_policy.REQUIRABLE_FIELDS``."""
    require(ctx, SETTINGS)
    for name in fields:
        if name not in policy.REQUIRABLE_FIELDS:
            raise _invalid("SETTING_INVALID", "fields", f"{name!r} cannot be required; one of "
                           f"{', '.join(policy.REQUIRABLE_FIELDS)}", f"不能将 {name!r} 设为必填")
    wanted = [name for name in policy.REQUIRABLE_FIELDS if name in set(fields)]
    async with unit_of_work(ctx) as uow:
        row = await uow.select(TenantSetting.value).where(TenantSetting.key == policy.REQUIRED_SETTING_KEY).first()
        before = list(json.loads(row["value"])["fields"]) if row else []
        if wanted != before:
            await write_setting(uow, policy.REQUIRED_SETTING_KEY, {"fields": wanted})
            await audit(uow, "setting.updated", "tenant_setting", policy.REQUIRED_SETTING_KEY,
                        {"fields": (before, wanted)})
            await outbox.add(uow, "setting.updated", "tenant_setting", policy.REQUIRED_SETTING_KEY,
                             (policy.REQUIRED_SETTING_KEY,))
    return wanted


# --- requests ------------------------------------------------------------------------------------

def _reach(ctx: Context, permission: str, record: Mapping[str, Any]) -> bool:
    return may_reach(ctx, permission, owner_id=UUID(record["owner_id"]) if record.get("owner_id") else None,
                     department_id=UUID(record["department_id"]) if record.get("department_id") else None)


async def _load_customer(uow: UnitOfWork, customer_id: UUID) -> tuple[Mapping[str, Any], dict[str, Any]]:
    row = await uow.select(Customer).where(Customer.id == customer_id).first()
    if row is None or row["deleted_at"] is not None or row["merged_into"] is not None:
        raise NotFound("customer", customer_id)
    record = customers._view(row).record
    return row, record


async def submit_change_request(ctx: Context, registry: VerticalRegistry, customer_id: UUID, *, version: int,
                                changes: Mapping[str, Any], reason: str = "",
                                change_occurred_on: date | None = None) -> ChangeRequestView:
    """File a change of a customer (customer.write over it) against the version the caller read,
    for the specialist to verify and apply. The change is validated now as an update would be;
    ``change_occurred_on`` (default today in the tenant's zone, not in the future) starts a key
    change's working-day deadline (CSM-5); a change of no key field has none (CSM-6)."""
    require(ctx, "customer.write")
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise _invalid("FIELD_INVALID", "reason", f"reason has at most {MAX_REASON} characters",
                       f"原因最多 {MAX_REASON} 字")
    calendar = await tenant_calendar(ctx)  # before the unit of work
    zone = calendar.zone
    at = now()
    today = at.astimezone(zone).date()
    occurred = change_occurred_on or today
    if occurred > today:
        raise _invalid("CHANGE_DATE_INVALID", "changeOccurredOn", "the change cannot have occurred in the future",
                       "变更发生日期不能晚于今天")
    async with unit_of_work(ctx) as uow:
        assert uow.ctx.tenant_id is not None
        row, before = await _load_customer(uow, customer_id)
        if not _reach(ctx, "customer.write", before):
            raise NotFound("customer", customer_id)
        if int(row["version"]) != version:
            raise r.refuse_stale(version, int(row["version"]))
        if "kind" in changes and changes["kind"] != before["kind"]:
            raise _invalid("CUSTOMER_KIND_FIXED", "kind", "a customer's kind cannot change", "客户类型不可更改")
        if "owner_id" in changes:
            raise _invalid("USE_TRANSFER", "owner_id", "hand a customer over with customerTransfer",
                           "请通过客户移交变更负责人")
        merged = {**before, **changes}
        after = r.build_record({k: v for k, v in merged.items() if v is not None},
                               schema=customers.extension_schema(registry), enabled=await customers._enabled(uow),
                               stored=before)
        diff = r.diff(before, after)
        if not diff:
            raise _invalid("CHANGE_REQUEST_EMPTY", "changes", "the change changes nothing", "该变更没有修改任何内容")
        settings = await _settings(uow)
        keyed = policy.key_fields_of(diff, settings.key_fields)
        sla = settings.sla_working_days if keyed else None
        due = policy.due_on(occurred, sla, calendar) if sla else None
        due_at = policy.due_at(due, zone) if due else None
        request_id = uuid4()
        await uow.insert(CustomerChangeRequest(
            id=request_id, customer_id=customer_id, base_version=version,
            changes=crypto.seal_json(uow.ctx.tenant_id, SEALED_CHANGES, dict(changes)),
            fields=json.dumps(sorted(diff)), key_fields=json.dumps(keyed), is_key=bool(keyed), reason=reason,
            change_occurred_on=occurred.isoformat(), sla_working_days=sla,
            due_on=due.isoformat() if due else None, due_at=due_at, state=policy.SUBMITTED,
            submitted_by=ctx.actor, submitted_by_id=ctx.user_id, version=1))
        summary = {"customer_id": (None, str(customer_id)), "fields": (None, sorted(diff)),
                   "key_fields": (None, keyed), "change_occurred_on": (None, occurred.isoformat()),
                   "due_on": (None, due.isoformat() if due else None)}
        await audit(uow, "customer_change.submitted", TARGET, request_id, summary)
        await outbox.add(uow, "customer_change.submitted", TARGET, request_id,
                         {"customer_id": str(customer_id), "key": bool(keyed),
                          "due_on": due.isoformat() if due else None})
        return _view(ctx, await uow.select(CustomerChangeRequest).where(CustomerChangeRequest.id == request_id)
                     .first(), at, zone)


async def _open_request(uow: UnitOfWork, request_id: UUID) -> Mapping[str, Any]:
    row = await uow.select(CustomerChangeRequest).where(CustomerChangeRequest.id == request_id).first()
    if row is None:
        raise NotFound("customer_change_request", request_id)
    if row["state"] != policy.SUBMITTED:
        raise _invalid("CHANGE_REQUEST_DECIDED", "id", f"the change request is already {row['state']}",
                       "该变更申请已处理")
    return row


async def _decide(uow: UnitOfWork, row: Mapping[str, Any], values: dict[Any, Any]) -> None:
    done = await uow.update(CustomerChangeRequest, {
        **values, CustomerChangeRequest.changes: crypto.seal_json(uow.ctx.tenant_id, SEALED_CHANGES, {}),  # type: ignore[arg-type]
        CustomerChangeRequest.version: int(row["version"]) + 1}).where(
        (CustomerChangeRequest.id == row["id"]) & (CustomerChangeRequest.state == policy.SUBMITTED)
    ).returning(CustomerChangeRequest.id)
    if not done:  # another specialist decided it between our read and write
        raise _invalid("CHANGE_REQUEST_DECIDED", "id", "the change request was decided meanwhile", "该变更申请已被处理")


async def apply_change_request(ctx: Context, registry: VerticalRegistry, request_id: UUID, *,
                               note: str = "") -> ChangeRequestView:
    """The specialist verified the change and applies it (customer.change.apply, plus
    customer.write over the customer; never the submitter, SEPARATION_OF_DUTIES): the customer is
    updated by the specialist (its history and audit name them), the request records who and when,
    and a key change applied after its due day is flagged ``breached`` (CSM-5, CSM-7). A customer
    changed since the request was filed refuses with CHANGE_REQUEST_STALE (nothing changes)."""
    require(ctx, APPLY)
    calendar = await tenant_calendar(ctx)
    zone = calendar.zone
    at = now()
    async with unit_of_work(ctx) as uow:
        assert uow.ctx.tenant_id is not None
        row = await _open_request(uow, request_id)
        require_different_actor(ctx, row["submitted_by"], "applying a change request")
        customer_row, _ = await _load_customer(uow, row["customer_id"])
        if int(customer_row["version"]) != int(row["base_version"]):
            raise _invalid("CHANGE_REQUEST_STALE", "id",
                           f"the customer changed since the request was filed (version {row['base_version']}, now "
                           f"{customer_row['version']}): reject it and file it again",
                           "提交申请后客户档案已被修改，请驳回后重新提交")
        changes = crypto.open_json(uow.ctx.tenant_id, SEALED_CHANGES, row["changes"])
        text = (note or "").strip()[:MAX_REASON] or row["reason"] or "change request"
        view = await customers.update_customer_in(uow, registry, row["customer_id"], version=int(row["base_version"]),
                                                  changes=changes, reason=f"{text} (change request {request_id})")
        late = policy.breached(_day(row["due_on"]), at, zone)
        await _decide(uow, row, {CustomerChangeRequest.state: policy.APPLIED, CustomerChangeRequest.decided_by: ctx.actor,
                                 CustomerChangeRequest.decided_at: at,
                                 CustomerChangeRequest.applied_version: view.version,
                                 CustomerChangeRequest.breached: late})
        await audit(uow, "customer_change.applied", TARGET, request_id,
                    {"state": (policy.SUBMITTED, policy.APPLIED), "applied_version": (None, view.version),
                     "breached": (False, late)})
        await outbox.add(uow, "customer_change.applied", TARGET, request_id,
                         {"customer_id": str(row["customer_id"]), "breached": late})
        return _view(ctx, await uow.select(CustomerChangeRequest).where(CustomerChangeRequest.id == request_id)
                     .first(), at, zone)


async def reject_change_request(ctx: Context, request_id: UUID, *, reason: str) -> ChangeRequestView:
    """Verification failed (customer.change.apply; never the submitter): the request is REJECTED
    with its reason (required) and the customer is not touched (CSM-8)."""
    require(ctx, APPLY)
    text = (reason or "").strip()
    if not text:
        raise _invalid("REASON_REQUIRED", "reason", "rejecting a change request needs a reason",
                       "驳回变更申请须填写原因")
    if len(text) > MAX_REASON:
        raise _invalid("FIELD_INVALID", "reason", f"reason has at most {MAX_REASON} characters",
                       f"原因最多 {MAX_REASON} 字")
    calendar = await tenant_calendar(ctx)
    at = now()
    async with unit_of_work(ctx) as uow:
        row = await _open_request(uow, request_id)
        require_different_actor(ctx, row["submitted_by"], "rejecting a change request")
        await _decide(uow, row, {CustomerChangeRequest.state: policy.REJECTED, CustomerChangeRequest.decided_by: ctx.actor,
                                 CustomerChangeRequest.decided_at: at, CustomerChangeRequest.rejection_reason: text})
        await audit(uow, "customer_change.rejected", TARGET, request_id,
                    {"state": (policy.SUBMITTED, policy.REJECTED), "rejection_reason": (None, text)})
        await outbox.add(uow, "customer_change.rejected", TARGET, request_id, {"customer_id": str(row["customer_id"])})
        return _view(ctx, await uow.select(CustomerChangeRequest).where(CustomerChangeRequest.id == request_id)
                     .first(), at, calendar.zone)


async def get_change_request(ctx: Context, request_id: UUID) -> ChangeRequestView:
    """One request: to the specialist, or to its submitter."""
    require_any(ctx, (APPLY, "customer.write"))
    calendar = await tenant_calendar(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(CustomerChangeRequest).where(CustomerChangeRequest.id == request_id).first()
    if row is None or not (_holds(ctx, APPLY) or row["submitted_by"] == ctx.actor):
        if row is not None:
            require(ctx, APPLY)
        raise NotFound("customer_change_request", request_id)
    return _view(ctx, row, now(), calendar.zone)


async def change_requests_page(ctx: Context, window: Window, *, state: str | None = None,
                               breached: bool | None = None, overdue: bool | None = None,
                               key: bool | None = None, customer_id: UUID | None = None,
                               mine: bool = False) -> tuple[list[ChangeRequestView], bool]:
    """Change requests, newest first: all of them to the specialist (customer.change.apply), one's
    own submissions with ``mine`` (customer.write). ``overdue`` gives the open key changes past
    their deadline now (the breach report of open requests); ``breached`` the applied-late ones."""
    if mine:
        require(ctx, "customer.write")
    else:
        require(ctx, APPLY)
    if state is not None and state not in policy.STATES:
        raise _invalid("FILTER_INVALID", "state", f"state is one of {', '.join(policy.STATES)}",
                       f"状态须为 {', '.join(policy.STATES)} 之一")
    calendar = await tenant_calendar(ctx)
    at = now()
    async with unit_of_work(ctx, write=False) as uow:
        query = keyset.matching(uow.select(CustomerChangeRequest), (CustomerChangeRequest.state, state),
                                (CustomerChangeRequest.breached, breached), (CustomerChangeRequest.is_key, key),
                                (CustomerChangeRequest.customer_id, customer_id))
        if mine:
            query = query.where(CustomerChangeRequest.submitted_by == ctx.actor)
        open_late = (CustomerChangeRequest.state == policy.SUBMITTED) & (CustomerChangeRequest.due_at <= at)
        if overdue is True:
            query = query.where(open_late)
        elif overdue is False:
            query = query.where((CustomerChangeRequest.state != policy.SUBMITTED)
                                | CustomerChangeRequest.due_at.is_null() | (CustomerChangeRequest.due_at > at))
        rows, more = await keyset.fetch(query, (CustomerChangeRequest.created_at, CustomerChangeRequest.id), window,
                                        descending=True)
    return [_view(ctx, row, at, calendar.zone) for row in rows], more


# --- the quarterly full review (W3, CSM-4) --------------------------------------------------------

def review_quarter(on: date | None, zone: ZoneInfo, year: int | None = None,
                   number: int | None = None) -> policy.Quarter:
    if (year is None) != (number is None):
        raise _invalid("FILTER_INVALID", "quarter", "give both the year and the quarter, or neither",
                       "须同时给出年份和季度，或都不给")
    if year is not None and number is not None:
        if not 1 <= number <= 4 or not 2000 <= year <= 2100:
            raise _invalid("FILTER_INVALID", "quarter", "the quarter is 1 to 4 of a year 2000 to 2100",
                           "季度须为 1 至 4，年份须为 2000 至 2100")
        return policy.Quarter(year, number)
    return policy.last_ended_quarter(on or now().astimezone(zone).date())


async def review_overdue(ctx: Context, *, on: date | None = None, year: int | None = None,
                         quarter: int | None = None) -> tuple[policy.Quarter, list[OverdueReview]]:
    """The customers (not lost, not terminated, created by the quarter's end) with no full review
    (``customerReview``) in the calendar quarter: by default the last quarter that ended before
    ``on`` (today in the tenant's zone), so the report on 2024-07-01 covers 2024 Q2 (CSM-4).
    Needs customer.review; customers out of the caller's reach are left out."""
    require(ctx, "customer.review")
    calendar = await tenant_calendar(ctx)
    zone = calendar.zone
    q = review_quarter(on, zone, year, quarter)
    start = datetime.combine(q.first_day, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(q.next().first_day, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    async with unit_of_work(ctx, write=False) as uow:
        reviewed = {row["target_id"] for row in await uow.select(AuditEntry.target_id).where(
            (AuditEntry.action == "customer.reviewed") & (AuditEntry.occurred_at >= start)
            & (AuditEntry.occurred_at < end))}
        rows = await uow.select(Customer.id, Customer.display_name, Customer.status, Customer.created_at,
                                Customer.last_reviewed_at, Customer.owner_id, Customer.department_id).where(
            Customer.deleted_at.is_null() & Customer.merged_into.is_null()
            & Customer.status.is_in(list(REVIEWED_STATUSES)) & (Customer.created_at < end)
        ).order_by(Customer.display_name).order_by(Customer.id)
    found = []
    for row in rows:
        if str(row["id"]) in reviewed:
            continue
        if row["last_reviewed_at"] is not None and policy.reviewed_in(q, [row["last_reviewed_at"]], zone):
            continue
        if not may_reach(ctx, "customer.review", owner_id=row["owner_id"], department_id=row["department_id"]):
            continue
        found.append(OverdueReview(customer_id=row["id"], display_name=row["display_name"], status=row["status"],
                                   created_at=_utc(row["created_at"]),  # type: ignore[arg-type]
                                   last_reviewed_at=_utc(row["last_reviewed_at"]), quarter=q))
    return q, found
