"""Blacklist use cases (issue 20, MD13–MD16), one function per use case, and the check every
business action makes first: ``refuse_if_blacklisted``.

An entry counts while it is ``active`` and its expiry (if any) has not passed — the check compares
the expiry itself, so an entry stops blocking at its expiry even before the tick marks it
``expired``. A company entry (scope ``tenant``) blocks every department; a department entry only
its own department.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import structlog
from piccolo.columns.combination import Or

from core.audit.chain import record
from core.blacklists import policy
from core.blacklists.tables import BlacklistEntry
from core.context import Context
from core.customers.tables import Customer
from core.db import keyset, unit_of_work
from core.db.due import tenants_due
from core.db.uow import UnitOfWork
from core.errors import KehuError
from core.identity.access import require, require_signed_in
from core.identity.permissions import CORE_PERMISSIONS
from core.identity.policies import write_setting
from core.identity.tables import TenantSetting
from core.jobs import outbox
from core.jobs.timers import register_sweep
from core.plugins.manager import VerticalRegistry, started_verticals
from core.plugins.types import BlacklistScope, GradingScheme
from core.tenancy.every_tenant import for_each_tenant
from core.tenancy.tables import Department
from core.verticals.service import VerticalNotEnabled, effective_parameters
from core.verticals.tables import VerticalEnablement

log = structlog.get_logger("kehu.blacklists")

TARGET = "blacklist_entry"
TICK_ACTOR = "job:blacklist-tick"
TICK_BATCH = 500  # entries expired per tenant per tick; the rest wait for the next tick
SETTINGS_KEY = "blacklists.rules"
DEPARTMENT_MONTHS_PARAMETER = "department_blacklist_months"  # a vertical may let its tenants set it (MD15)
# seed-002 R5-16: the company blacklist's validity is not stated → a tenant parameter; 0: no expiry
DEFAULT_RULES = {"company_days": 0}
RULE_BOUNDS = {"company_days": (0, 3650)}


def now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


class CustomerBlacklisted(KehuError):
    """``CUSTOMER_BLACKLISTED``: the customer is on the company blacklist or on the blacklist of
    the department acting; the message names the scope and the expiry."""

    def __init__(self, customer_id: UUID, scope: str, expires_at: datetime | None, *, action: str,
                 department_id: UUID | None = None, department_name: str | None = None) -> None:
        self.customer_id = customer_id
        self.scope = scope
        self.expires_at = expires_at
        self.department_id = department_id
        until_en = f"until {expires_at.date().isoformat()}" if expires_at else "with no expiry"
        until_zh = f"有效期至 {expires_at.date().isoformat()}" if expires_at else "无到期日"
        if scope == BlacklistScope.TENANT:
            where_en, where_zh = "the company blacklist", "公司黑名单"
        else:
            label = department_name or str(department_id)
            where_en, where_zh = f"the blacklist of department {label}", f"部门 {label} 的黑名单"
        super().__init__(
            "CUSTOMER_BLACKLISTED",
            f"the customer is on {where_en} ({until_en}); no {action} with it is allowed",
            f"该客户在{where_zh}上（{until_zh}），不得进行此项业务（{action}）",
            field="customer_id",
        )


def _in_force(query: Any, at: datetime) -> Any:
    return query.where((BlacklistEntry.status == "active")
                       & Or(BlacklistEntry.expires_at.is_null(), BlacklistEntry.expires_at > at))


async def entries_in_force(uow: UnitOfWork, customer_id: UUID, *, department_id: UUID | None = None,
                           at: datetime | None = None) -> list[dict[str, Any]]:
    """The customer's entries in force at ``at`` that bind ``department_id``: every company entry,
    and the entry of that department (none when no department is named). Company entries first."""
    at = at or now()
    query = _in_force(uow.select(BlacklistEntry).where(BlacklistEntry.customer_id == customer_id), at)
    rows = await query
    binding = [r for r in rows if r["scope"] == BlacklistScope.TENANT
               or (department_id is not None and r["department_id"] == department_id)]
    binding.sort(key=lambda r: (r["scope"] != BlacklistScope.TENANT, _utc(r["expires_at"]) or datetime.max.replace(tzinfo=UTC)))
    return binding


async def refuse_if_blacklisted(uow: UnitOfWork, customer_id: UUID, *, department_id: UUID | None = None,
                                action: str = "business") -> None:
    """Raise ``CUSTOMER_BLACKLISTED`` (naming the scope and the expiry) when the customer is on the
    company blacklist, or on the blacklist of ``department_id`` (MD14: a department entry blocks
    only its department; a company entry blocks every department). ``action`` names what was
    refused (a visit, an upward grading, an invitation, ...)."""
    binding = await entries_in_force(uow, customer_id, department_id=department_id)
    if not binding:
        return
    entry = binding[0]
    name = None
    if entry["scope"] == BlacklistScope.DEPARTMENT:
        row = await uow.select(Department.name).where(Department.id == entry["department_id"]).first()
        name = row["name"] if row else None
    raise CustomerBlacklisted(customer_id, entry["scope"], _utc(entry["expires_at"]), action=action,
                              department_id=entry["department_id"], department_name=name)


# --- permissions ---------------------------------------------------------------------------------

PERMISSIONS = tuple(p for p in CORE_PERMISSIONS if p.name.startswith("blacklist."))  # declared with core's


# --- views ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntryView:
    id: UUID
    customer_id: UUID
    scope: str
    department_id: UUID | None
    status: str
    reason: str
    evidence: tuple[Mapping[str, str], ...]
    proposed_by: str
    proposed_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    starts_at: datetime | None
    expires_at: datetime | None
    validity_days: int | None
    ended_at: datetime | None
    ended_by: str | None
    end_reason: str | None
    version: int


def _view(row: Mapping[str, Any]) -> EntryView:
    return EntryView(
        id=row["id"], customer_id=row["customer_id"], scope=row["scope"], department_id=row["department_id"],
        status=row["status"], reason=row["reason"], evidence=tuple(json.loads(row["evidence"] or "[]")),
        proposed_by=row["proposed_by"], proposed_at=_utc(row["proposed_at"]),  # type: ignore[arg-type]
        approved_by=row["approved_by"], approved_at=_utc(row["approved_at"]), starts_at=_utc(row["starts_at"]),
        expires_at=_utc(row["expires_at"]), validity_days=row["validity_days"], ended_at=_utc(row["ended_at"]),
        ended_by=row["ended_by"], end_reason=row["end_reason"], version=row["version"])


async def _load(uow: UnitOfWork, entry_id: UUID) -> dict[str, Any]:
    row = await uow.select(BlacklistEntry).where(BlacklistEntry.id == entry_id).first() \
        if isinstance(entry_id, UUID) else None
    if row is None:
        raise KehuError("BLACKLIST_ENTRY_NOT_FOUND", f"no blacklist entry {entry_id}", f"未找到黑名单记录 {entry_id}",
                        field="id")
    return row


async def _changed(uow: UnitOfWork, row: Mapping[str, Any], values: dict[Any, Any]) -> None:
    """Write ``values`` if the entry is still the version read, else VERSION_CONFLICT."""
    values[BlacklistEntry.version] = row["version"] + 1
    done = await uow.update(BlacklistEntry, values).where(
        (BlacklistEntry.id == row["id"]) & (BlacklistEntry.version == row["version"])).returning(BlacklistEntry.id)
    if not done:
        raise KehuError("VERSION_CONFLICT", "the blacklist entry changed meanwhile; read it again",
                        "黑名单记录已被他人修改，请重新读取", field="version")


async def _existing_customer(uow: UnitOfWork, customer_id: object) -> None:
    """CUSTOMER_NOT_FOUND unless the customer is one of the tenant's (not deleted)."""
    found = await uow.select(Customer.id).where(
        (Customer.id == customer_id) & Customer.deleted_at.is_null()).first() \
        if isinstance(customer_id, UUID) else None
    if found is None:
        raise KehuError("CUSTOMER_NOT_FOUND", f"no customer {customer_id}", f"未找到客户 {customer_id}",
                        field="customer_id")


def _state(row: Mapping[str, Any], *wanted: str) -> None:
    if row["status"] not in wanted:
        raise KehuError("BLACKLIST_ENTRY_STATE",
                        f"the blacklist entry is {row['status']}; this step needs it {' or '.join(wanted)}",
                        f"黑名单记录当前为 {row['status']}，此操作要求 {' 或 '.join(wanted)}", field="id")


# --- the scheme whose rules apply --------------------------------------------------------------


async def scheme_for(ctx: Context, registry: VerticalRegistry, vertical: str | None = None,
                     scheme_id: str | None = None) -> GradingScheme | None:
    """The grading scheme whose blacklist scopes and default validity apply: the one named (of a
    vertical the tenant has enabled), else the one scheme of the tenant's enabled verticals that
    declares blacklist rules (none, or more than one: core's defaults, MD15)."""
    require_signed_in(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        enabled = {r["vertical_id"] for r in await uow.select(VerticalEnablement.vertical_id).where(
            VerticalEnablement.status == "enabled")}
    if vertical is not None or scheme_id is not None:
        if vertical is None or scheme_id is None:
            raise KehuError("GRADING_SCHEME_UNKNOWN", "name both the vertical and its grading scheme",
                            "请同时指定行业插件及其客户分级方案", field="scheme" if vertical else "vertical")
        definition = registry.definition(vertical)
        if definition is None or vertical not in enabled:
            raise VerticalNotEnabled(vertical)
        for scheme in definition.grading_schemes:
            if scheme.id == scheme_id:
                return scheme
        raise KehuError("GRADING_SCHEME_UNKNOWN", f"the vertical {vertical} has no grading scheme {scheme_id!r}",
                        f"行业插件 {vertical} 没有客户分级方案 {scheme_id!r}", field="scheme")
    found = [scheme for d in registry.definitions if d.id in enabled for scheme in d.grading_schemes
             if scheme.blacklist_scopes or scheme.blacklist_days]
    return found[0] if len(found) == 1 else None


# --- tenant rules --------------------------------------------------------------------------------


async def blacklist_rules(uow: UnitOfWork) -> dict[str, int]:
    row = await uow.select(TenantSetting.value).where(TenantSetting.key == SETTINGS_KEY).first()
    return {**DEFAULT_RULES, **(json.loads(row["value"]) if row else {})}


async def _default(uow: UnitOfWork, scope: str, scheme: GradingScheme | None) -> policy.Validity:
    rules = await blacklist_rules(uow)
    months = await _department_months(uow, scheme) if scope == BlacklistScope.DEPARTMENT else None
    if months is not None:
        return policy.Validity(months=months)
    return policy.default_validity(scope, scheme, company_days=rules["company_days"] or None)


async def _department_months(uow: UnitOfWork, scheme: GradingScheme | None) -> int | None:
    """The tenant's ``department_blacklist_months`` of the vertical whose scheme this is, when that
    vertical declares the parameter (MD15 暂定6个月: the company may set another period); it
    takes the place of the scheme's fixed ``blacklist_days``."""
    if scheme is None:
        return None
    for definition in started_verticals().definitions:
        if any(s is scheme or s == scheme for s in definition.grading_schemes) and any(
                p.key == DEPARTMENT_MONTHS_PARAMETER for p in definition.parameters):
            row = await uow.select(VerticalEnablement.overrides).where(
                (VerticalEnablement.vertical_id == definition.id) & (VerticalEnablement.status == "enabled")).first()
            if row is None:
                return None
            value = effective_parameters(definition, json.loads(row["overrides"] or "{}"))[DEPARTMENT_MONTHS_PARAMETER]
            return int(value)
    return None


async def read_blacklist_rules(ctx: Context) -> dict[str, int]:
    require(ctx, "blacklist.read")
    async with unit_of_work(ctx, write=False) as uow:
        return await blacklist_rules(uow)


async def update_blacklist_rules(ctx: Context, changes: Mapping[str, int]) -> dict[str, int]:
    """Tenant rules: ``company_days``, the validity of a company blacklist entry (0: no expiry,
    the default; seed-002 R5-16 leaves it open). Audited and announced as ``setting.updated``."""
    require(ctx, "tenant.settings.manage")
    for key, value in changes.items():
        if key not in RULE_BOUNDS:
            raise KehuError("SETTING_UNKNOWN", f"no blacklist rule {key!r}", f"没有黑名单规则 {key!r}", field=key)
        low, high = RULE_BOUNDS[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise KehuError("SETTING_INVALID", f"{key} must be a whole number from {low} to {high}",
                            f"{key} 须为 {low} 至 {high} 的整数", field=key)
    async with unit_of_work(ctx) as uow:
        before = await blacklist_rules(uow)
        after = {**before, **changes}
        if after != before:
            await write_setting(uow, SETTINGS_KEY, after)
            changed = {k: (before[k], after[k]) for k in after if before[k] != after[k]}
            await record(uow, "setting.updated", "tenant_setting", SETTINGS_KEY, changed)
            await outbox.add(uow, "setting.updated", "tenant_setting", SETTINGS_KEY, changed)
        return after


# --- use cases -----------------------------------------------------------------------------------


async def propose(ctx: Context, customer_id: UUID, *, scope: str, reason: str, evidence: Sequence[Mapping[str, str]],
                  department_id: UUID | None = None, validity_days: int | None = None,
                  scheme: GradingScheme | None = None) -> EntryView:
    """Propose a customer for the company blacklist (scope ``tenant``) or a department's, with a
    reason and evidence (MD13). It blocks nothing until another user approves it. ``validity_days``
    shortens the default validity (MD15); ``scheme`` (the vertical's grading scheme) gives the
    scopes it allows and its default validity."""
    require(ctx, "blacklist.propose")
    scope = policy.check_scope(scope, department_id, scheme.blacklist_scopes if scheme and scheme.blacklist_scopes
                               else tuple(BlacklistScope))
    text = policy.check_reason(reason)
    items = policy.check_evidence(evidence)
    at = now()
    async with unit_of_work(ctx) as uow:
        policy.expiry(at, await _default(uow, scope, scheme), validity_days)  # refuse a lengthening now
        await _existing_customer(uow, customer_id)
        if department_id is not None and (not isinstance(department_id, UUID) or await uow.select(Department.id).where(
                Department.id == department_id).first() is None):
            raise KehuError("DEPARTMENT_UNKNOWN", f"no department {department_id}", f"未找到部门 {department_id}",
                            field="department_id")
        entry_id = uuid4()
        await uow.insert(BlacklistEntry(
            id=entry_id, customer_id=customer_id, scope=scope, department_id=department_id, status="proposed",
            reason=text, evidence=json.dumps(items, ensure_ascii=False), proposed_by=ctx.actor, proposed_at=at,
            validity_days=validity_days))
        await record(uow, "blacklist.proposed", TARGET, entry_id,
                     {"customer_id": customer_id, "scope": scope, "department_id": department_id,
                      "evidence_items": len(items), "validity_days": validity_days})
        await outbox.add(uow, "blacklist.proposed", TARGET, entry_id,
                         ("customer_id", "scope", "department_id", "reason", "evidence"))
        return _view(await _load(uow, entry_id))


async def approve(ctx: Context, entry_id: UUID, *, version: int, note: str | None = None,
                  scheme: GradingScheme | None = None) -> EntryView:
    """Approve a proposal: someone other than its proposer (MD13 authority; separation of duties).
    The entry takes effect now and expires after its validity; the approval is filed with the
    company level (the marketing division) as a ``blacklist.filed`` notice (MD13), audited."""
    require(ctx, "blacklist.approve")
    at = now()
    async with unit_of_work(ctx) as uow:
        row = await _load(uow, entry_id)
        _state(row, "proposed")
        if row["proposed_by"] == ctx.actor:
            raise KehuError("BLACKLIST_SAME_PERSON", "the person who proposed a blacklist entry cannot approve it",
                            "提出黑名单申请的人不能审批该申请", field="id")
        if row["version"] != version:
            raise KehuError("VERSION_CONFLICT", "the blacklist entry changed meanwhile; read it again",
                            "黑名单记录已被他人修改，请重新读取", field="version")
        expires = policy.expiry(at, await _default(uow, row["scope"], scheme), row["validity_days"])
        await _changed(uow, row, {BlacklistEntry.status: "active", BlacklistEntry.approved_by: ctx.actor,
                                  BlacklistEntry.approved_at: at, BlacklistEntry.starts_at: at,
                                  BlacklistEntry.expires_at: expires,
                                  BlacklistEntry.decided_note: note.strip() if isinstance(note, str) and note.strip()
                                  else None})
        await record(uow, "blacklist.approved", TARGET, entry_id,
                     {"customer_id": row["customer_id"], "scope": row["scope"], "department_id": row["department_id"],
                      "proposed_by": row["proposed_by"], "expires_at": expires})
        await outbox.add(uow, "blacklist.approved", TARGET, entry_id,
                         ("status", "approved_by", "starts_at", "expires_at"))
        # MD13: a department blacklist is reported to the marketing division for filing; the company
        # blacklist is filed as a report too. The notice goes to the company level.
        await record(uow, "blacklist.filed", TARGET, entry_id,
                     {"customer_id": row["customer_id"], "scope": row["scope"], "department_id": row["department_id"],
                      "filed_with": "company", "expires_at": expires})
        await outbox.add(uow, "blacklist.filed", TARGET, entry_id, ("scope", "department_id", "expires_at"))
        return _view(await _load(uow, entry_id))


async def reject(ctx: Context, entry_id: UUID, *, version: int, reason: str) -> EntryView:
    """Reject a proposal, with a reason (someone other than its proposer)."""
    require(ctx, "blacklist.approve")
    text = policy.check_reason(reason)
    at = now()
    async with unit_of_work(ctx) as uow:
        row = await _load(uow, entry_id)
        _state(row, "proposed")
        if row["proposed_by"] == ctx.actor:
            raise KehuError("BLACKLIST_SAME_PERSON", "the person who proposed a blacklist entry cannot decide on it",
                            "提出黑名单申请的人不能审批该申请", field="id")
        await _changed(uow, {**row, "version": version}, {
            BlacklistEntry.status: "rejected", BlacklistEntry.ended_at: at, BlacklistEntry.ended_by: ctx.actor,
            BlacklistEntry.end_reason: text})
        await record(uow, "blacklist.rejected", TARGET, entry_id, {"customer_id": row["customer_id"]})
        await outbox.add(uow, "blacklist.rejected", TARGET, entry_id, ("status", "end_reason"))
        return _view(await _load(uow, entry_id))


async def lift(ctx: Context, entry_id: UUID, *, version: int, reason: str) -> EntryView:
    """Lift an active entry before its expiry, with a reason; audited and announced."""
    require(ctx, "blacklist.lift")
    text = policy.check_reason(reason)
    at = now()
    async with unit_of_work(ctx) as uow:
        row = await _load(uow, entry_id)
        _state(row, "active")
        await _changed(uow, {**row, "version": version}, {
            BlacklistEntry.status: "lifted", BlacklistEntry.ended_at: at, BlacklistEntry.ended_by: ctx.actor,
            BlacklistEntry.end_reason: text})
        await record(uow, "blacklist.lifted", TARGET, entry_id,
                     {"customer_id": row["customer_id"], "scope": row["scope"], "department_id": row["department_id"]})
        await outbox.add(uow, "blacklist.lifted", TARGET, entry_id, ("status", "end_reason"))
        return _view(await _load(uow, entry_id))


async def get_entry(ctx: Context, entry_id: UUID) -> EntryView:
    require(ctx, "blacklist.read")
    async with unit_of_work(ctx) as uow:
        return _view(await _load(uow, entry_id))


async def customer_entries(ctx: Context, customer_id: UUID) -> list[EntryView]:
    """A customer's entries, every status, newest proposal first."""
    require(ctx, "blacklist.read")
    async with unit_of_work(ctx) as uow:
        await _existing_customer(uow, customer_id)
        rows = await uow.select(BlacklistEntry).where(BlacklistEntry.customer_id == customer_id) \
            .order_by(BlacklistEntry.proposed_at, ascending=False)
        return [_view(r) for r in rows]


async def list_entries(ctx: Context, window: keyset.Window, *, scope: str | None = None, status: str | None = None,
                       department_id: UUID | None = None, customer_id: UUID | None = None
                       ) -> tuple[list[EntryView], bool]:
    """A page of the tenant's entries, newest proposal first (keyset on proposed_at, id), filtered
    by scope, status, department and customer; whether more lie beyond the page."""
    require(ctx, "blacklist.read")
    async with unit_of_work(ctx, write=False) as uow:
        query = keyset.matching(uow.select(BlacklistEntry), (BlacklistEntry.scope, scope),
                                (BlacklistEntry.status, status), (BlacklistEntry.department_id, department_id),
                                (BlacklistEntry.customer_id, customer_id))
        rows, more = await keyset.fetch(query, (BlacklistEntry.proposed_at, BlacklistEntry.id), window,
                                        descending=True)
    return [_view(r) for r in rows], more


async def customer_in_force(ctx: Context, customer_id: UUID, *, department_id: UUID | None = None) -> list[EntryView]:
    """The customer's entries in force now that bind ``department_id`` (every company entry; with no
    department named, the entries of every department), company entries first."""
    require(ctx, "blacklist.read")
    async with unit_of_work(ctx, write=False) as uow:
        await _existing_customer(uow, customer_id)
        if department_id is not None:
            rows = await entries_in_force(uow, customer_id, department_id=department_id)
        else:
            rows = await _in_force(uow.select(BlacklistEntry).where(BlacklistEntry.customer_id == customer_id), now())
            rows = sorted(rows, key=lambda r: (r["scope"] != BlacklistScope.TENANT, str(r["department_id"])))
        return [_view(r) for r in rows]


async def may_readmit(uow: UnitOfWork, customer_id: UUID, *, department_id: UUID | None = None) -> bool:
    """True when no entry binding ``department_id`` (or the company) is in force: re-admission is
    possible only after expiry or lifting (MD15); it then gives ``policy.readmission_grade``."""
    return not await entries_in_force(uow, customer_id, department_id=department_id)


# --- the tick ------------------------------------------------------------------------------------


async def expire_due_in_tenant(tenant_id: UUID, at: datetime, batch: int = TICK_BATCH) -> int:
    """Mark one tenant's active entries whose expiry has passed at ``at`` as expired, the earliest
    first, at most ``batch``; each audited and announced with the tick as actor."""
    handled = 0
    async with unit_of_work(Context.system(TICK_ACTOR, tenant_id)) as uow:
        due = await uow.select(BlacklistEntry).where(
            (BlacklistEntry.status == "active") & (BlacklistEntry.expires_at <= at)) \
            .order_by(BlacklistEntry.expires_at).limit(batch)
        for row in due:
            await _changed(uow, row, {BlacklistEntry.status: "expired", BlacklistEntry.ended_at: at,
                                      BlacklistEntry.ended_by: TICK_ACTOR})
            await record(uow, "blacklist.expired", TARGET, row["id"],
                         {"customer_id": row["customer_id"], "scope": row["scope"],
                          "department_id": row["department_id"], "expires_at": row["expires_at"]})
            await outbox.add(uow, "blacklist.expired", TARGET, row["id"], ("status",))
            handled += 1
    return handled


async def expire_due(at: datetime | None = None) -> int:
    """The tick's sweep: every tenant's entries past their expiry."""
    at = at or now()
    return await for_each_tenant(TICK_ACTOR, lambda tenant_id: expire_due_in_tenant(tenant_id, at),
                                 "blacklists.tick_failed", tenants=await tenants_due("blacklist_expiry", at))


register_sweep("blacklist_expiry", expire_due)


# --- intake (MD16) -------------------------------------------------------------------------------


async def refuse_intake_if_blacklisted(uow: UnitOfWork, matching: Sequence[UUID], *,
                                       department_id: object = None) -> None:
    """MD16: intake checks both lists first. A new customer record whose identifier matches a
    customer on the company blacklist, or on the blacklist of the department it is recorded for,
    is refused with ``CUSTOMER_BLACKLISTED`` (a listed customer returns only through re-admission
    after expiry, MD15)."""
    department = UUID(str(department_id)) if department_id else None
    for customer_id in matching:
        await refuse_if_blacklisted(uow, customer_id, department_id=department, action="customer intake")
