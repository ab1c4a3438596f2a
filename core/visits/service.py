"""Visit use cases (issue 20, MD25/MD28), one function per use case: put a customer on the plans
its grade calls for, record a visit with its summary report, list the visits due in service-priority
order, report the overdue ones per owner and department; and the tick that marks due visits
overdue, once, with the tick as audited actor.

Due dates are computed when a plan starts or a visit meets it and stored; reads and the tick only
compare them (through the index on ``visit_schedule (tenant_id, status, due_at)``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import structlog

from core.audit.chain import record
from core.blacklists.service import refuse_if_blacklisted as blacklist_refusal
from core.calendar.settings import load_calendar
from core.context import Context
from core.customers.tables import Customer
from core.db import keyset, unit_of_work
from core.db.due import tenants_due
from core.db.uow import UnitOfWork
from core.errors import KehuError
from core.grading.tables import CustomerGrade
from core.identity.access import require
from core.jobs import outbox
from core.jobs.timers import register_sweep
from core.plugins.manager import VerticalRegistry
from core.plugins.types import GradeScope, GradingScheme, VisitChannel
from core.privacy import freeze
from core.tenancy.every_tenant import for_each_tenant
from core.verticals.service import VerticalNotEnabled
from core.verticals.tables import VerticalEnablement
from core.visits import policy
from core.visits.tables import Visit, VisitSchedule

log = structlog.get_logger("kehu.visits")

TICK_ACTOR = "job:visit-tick"
TICK_BATCH = 500
READ = "customer.read"
WRITE = "customer.write"
CHANNELS = tuple(c.value for c in VisitChannel if c != VisitChannel.ANY)


def now() -> datetime:
    return datetime.now(UTC)


def _invalid(field_name: str | None, en: str, zh: str) -> KehuError:
    return KehuError("VISIT_INPUT_INVALID", en, zh, field=field_name)


@dataclass(frozen=True, slots=True)
class ScheduleView:
    id: UUID
    customer_id: UUID
    plan_id: str
    grade: str | None
    channel: str
    priority: int
    owner_id: UUID | None
    department_id: UUID | None
    status: str
    due_at: datetime
    last_visit_at: datetime | None
    overdue_at: datetime | None


@dataclass(frozen=True, slots=True)
class VisitView:
    id: UUID
    customer_id: UUID
    plan_ids: tuple[str, ...]
    channel: str
    visited_at: datetime
    visitor: str
    report: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class OverdueGroup:
    """The overdue visits of one owner in one department (either may be none)."""

    department_id: UUID | None
    owner_id: UUID | None
    count: int
    customer_ids: tuple[UUID, ...]
    oldest_due_at: datetime


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _schedule_view(row: Mapping[str, Any]) -> ScheduleView:
    return ScheduleView(id=row["id"], customer_id=row["customer_id"], plan_id=row["plan_id"], grade=row["grade"],
                        channel=row["channel"], priority=row["priority"], owner_id=row["owner_id"],
                        department_id=row["department_id"], status=row["status"], due_at=_utc(row["due_at"]),  # type: ignore[arg-type]
                        last_visit_at=_utc(row["last_visit_at"]), overdue_at=_utc(row["overdue_at"]))


def _rule(row: Mapping[str, Any]) -> policy.PlanRule:
    return policy.PlanRule(row["plan_id"], row["grade"], row["channel"], row["every_days"], bool(row["monthly"]),
                           row["priority"])


async def _enabled(uow: UnitOfWork, registry: VerticalRegistry, vertical: str) -> None:
    row = await uow.select(VerticalEnablement.status).where(VerticalEnablement.vertical_id == vertical).first()
    if registry.definition(vertical) is None or row is None or row["status"] != "enabled":
        raise VerticalNotEnabled(vertical)


def _scheme(registry: VerticalRegistry, vertical: str, scheme_id: str | None) -> GradingScheme | None:
    definition = registry.definition(vertical)
    schemes = definition.grading_schemes if definition else ()
    if scheme_id is None:
        return schemes[0] if len(schemes) == 1 else None
    for scheme in schemes:
        if scheme.id == scheme_id:
            return scheme
    raise _invalid("scheme", f"the vertical {vertical} has no grading scheme {scheme_id!r}",
                   f"行业 {vertical} 没有评级方案 {scheme_id!r}")


async def _customer(uow: UnitOfWork, customer_id: UUID) -> Mapping[str, Any]:
    row = await uow.select(Customer.id, Customer.owner_id, Customer.department_id).where(
        (Customer.id == customer_id) & Customer.deleted_at.is_null()).first()
    if row is None:
        raise KehuError("CUSTOMER_NOT_FOUND", f"customer {customer_id} not found", f"未找到客户 {customer_id}",
                        field="customer_id")
    return row


async def refuse_if_blacklisted(uow: UnitOfWork, customer: Mapping[str, Any]) -> None:
    """A blacklisted customer cannot be given a visit (MD13-MD15, issue 20): the blacklist engine
    decides in the customer's department (a company entry binds every department)."""
    await blacklist_refusal(uow, customer["id"], department_id=customer["department_id"], action="visit")


# --- use cases -----------------------------------------------------------------------------------


async def plan_customer(ctx: Context, registry: VerticalRegistry, customer_id: UUID, *, vertical: str,
                        grade: str | None, scheme: str | None = None) -> list[ScheduleView]:
    """Put the customer on the plans its ``grade`` calls for in ``vertical`` (MD25: VIP and 优选 on
    site monthly, as the vertical declares): a plan it joins is due by its first due date, a plan it
    stays on keeps its stored due date, a plan its grade no longer calls for ends. Returns the
    customer's current schedules in priority order."""
    require(ctx, WRITE)
    at = now()
    async with unit_of_work(ctx) as uow:
        await _enabled(uow, registry, vertical)
        grading = _scheme(registry, vertical, scheme)
        customer = await _customer(uow, customer_id)
        await freeze.refuse_if_frozen(uow, customer_id)
        definition = registry.definition(vertical)
        rules = policy.plans_for(definition.visit_plans if definition else (), grade, grading)
        if rules:
            await refuse_if_blacklisted(uow, customer)
        zone = (await load_calendar(uow)).zone
        current = {row["plan_id"]: row for row in await uow.select(VisitSchedule).where(
            (VisitSchedule.customer_id == customer_id) & (VisitSchedule.vertical == vertical))}
        wanted = {rule.plan_id: rule for rule in rules}
        changed = False
        for plan_id, row in current.items():
            if plan_id not in wanted and row["status"] != "ended":
                await uow.update(VisitSchedule, {VisitSchedule.status: "ended", VisitSchedule.ended_at: at,
                                                 VisitSchedule.version: row["version"] + 1}).where(
                    VisitSchedule.id == row["id"])
                await record(uow, "visit.plan_ended", "visit_schedule", row["id"], {"plan_id": plan_id, "grade": grade})
                await outbox.add(uow, "visit.plan_ended", "visit_schedule", row["id"], ("status",))
                changed = True
        for plan_id, rule in wanted.items():
            row = current.get(plan_id)
            values: dict[Any, Any] = {VisitSchedule.grade: rule.grade, VisitSchedule.channel: rule.channel,
                                      VisitSchedule.every_days: rule.every_days, VisitSchedule.monthly: rule.monthly,
                                      VisitSchedule.priority: rule.priority, VisitSchedule.owner_id: customer["owner_id"],
                                      VisitSchedule.department_id: customer["department_id"]}
            if row is not None and row["status"] != "ended":
                await uow.update(VisitSchedule, {**values, VisitSchedule.version: row["version"] + 1}).where(
                    VisitSchedule.id == row["id"])
                continue
            due = policy.first_due(rule, at, zone)
            if row is None:
                schedule_id = uuid4()
                await uow.insert(VisitSchedule(id=schedule_id, customer_id=customer_id, vertical=vertical,
                                               plan_id=plan_id, status="due", due_at=due,
                                               **{column._meta.name: value for column, value in values.items()}))
            else:  # a plan that ended starts again
                schedule_id = row["id"]
                await uow.update(VisitSchedule, {**values, VisitSchedule.status: "due", VisitSchedule.due_at: due,
                                                 VisitSchedule.ended_at: None, VisitSchedule.overdue_at: None,
                                                 VisitSchedule.version: row["version"] + 1}).where(
                    VisitSchedule.id == schedule_id)
            await record(uow, "visit.planned", "visit_schedule", schedule_id,
                         {"customer_id": str(customer_id), "plan_id": plan_id, "grade": grade,
                          "due_at": due.isoformat()})
            await outbox.add(uow, "visit.planned", "visit_schedule", schedule_id, ("due_at", "plan_id", "status"))
            changed = True
        if not changed:
            log.debug("visits.plan_unchanged", customer_id=str(customer_id))
        rows = await uow.select(VisitSchedule).where(
            (VisitSchedule.customer_id == customer_id) & (VisitSchedule.status != "ended"))
    return [_schedule_view(r) for r in policy.queue_order(rows, priority=lambda r: r["priority"],
                                                          due_at=lambda r: r["due_at"], key=lambda r: r["plan_id"])]


def stored_grade(scheme: GradingScheme, rows: list[Mapping[str, Any]], department_id: UUID | None) -> str | None:
    """The grade the visit plans follow from the grading engine's current grades of one customer in
    ``scheme``: the organisation's grade, the grade of the customer's department (MD19), or for a
    scheme graded per product line the best of the customer's grades (the customer is visited once)."""
    if scheme.scope is GradeScope.TENANT:
        wanted = [r for r in rows if r["scope_key"] == "tenant"]
    elif scheme.scope is GradeScope.DEPARTMENT:
        wanted = [r for r in rows if department_id is not None and r["scope_key"] == str(department_id)]
    else:
        wanted = list(rows)
    grades = [r["grade"] for r in wanted]
    return min(grades, key=lambda g: (policy.grade_rank(scheme, g), g)) if grades else None


async def plan_from_grade(ctx: Context, registry: VerticalRegistry, customer_id: UUID, *, vertical: str,
                          scheme: str | None = None) -> list[ScheduleView]:
    """``plan_customer`` with the customer's current grade as the grading engine stores it (none: the
    customer's grade plans end)."""
    require(ctx, WRITE)
    grading = _scheme(registry, vertical, scheme)
    if grading is None:
        raise _invalid("scheme", f"name the grading scheme of {vertical} the visit plans follow",
                       f"请指定 {vertical} 的拜访计划所依据的评级方案")
    async with unit_of_work(ctx, write=False) as uow:
        customer = await _customer(uow, customer_id)
        rows = await uow.select(CustomerGrade.scope_key, CustomerGrade.grade).where(
            (CustomerGrade.customer_id == customer_id) & (CustomerGrade.vertical == vertical)
            & (CustomerGrade.scheme == grading.id))
    grade = stored_grade(grading, rows, customer["department_id"])
    return await plan_customer(ctx, registry, customer_id, vertical=vertical, grade=grade, scheme=grading.id)


def _report(report: Mapping[str, Any] | None) -> dict[str, str]:
    problem = policy.report_problem(report)
    if problem:
        raise _invalid(*problem)
    assert report is not None
    return {k: str(report[k]).strip() for k in policy.REPORT_FIELDS if isinstance(report.get(k), str)}


async def record_visit(ctx: Context, customer_id: UUID, *, channel: str, visited_at: datetime,
                       report: Mapping[str, Any] | None) -> VisitView:
    """Record a visit with its summary report (MD28: latest needs, opinions, suggestions). Every
    open plan of the customer the visit meets (by channel) gets its next due date from the visit
    and is no longer overdue. Refused, writing nothing, for a blacklisted or frozen customer, a
    visit in the future, an unknown channel or an empty report."""
    require(ctx, WRITE)
    if channel not in CHANNELS:
        raise _invalid("channel", f"channel must be one of {', '.join(CHANNELS)}",
                       f"拜访方式须为 {'、'.join(CHANNELS)} 之一")
    if not isinstance(visited_at, datetime) or visited_at.tzinfo is None:
        raise _invalid("visited_at", "visited_at must be a date and time with a time zone", "拜访时间须带时区")
    at = now()
    if visited_at > at:
        raise _invalid("visited_at", "a visit cannot be recorded before it happens", "不能登记尚未发生的拜访")
    text = _report(report)
    async with unit_of_work(ctx) as uow:
        customer = await _customer(uow, customer_id)
        await freeze.refuse_if_frozen(uow, customer_id)
        await refuse_if_blacklisted(uow, customer)
        zone = (await load_calendar(uow)).zone
        schedules = await uow.select(VisitSchedule).where(
            (VisitSchedule.customer_id == customer_id) & (VisitSchedule.status != "ended"))
        met = [row for row in schedules if policy.meets(row["channel"], channel)]
        visit_id = uuid4()
        await uow.insert(Visit(id=visit_id, customer_id=customer_id, schedule_id=met[0]["id"] if len(met) == 1 else None,
                               plan_id=",".join(sorted(r["plan_id"] for r in met))[:60] or None, channel=channel,
                               visited_at=visited_at, visitor=ctx.actor, owner_id=customer["owner_id"],
                               department_id=customer["department_id"], report=json.dumps(text, ensure_ascii=False),
                               recorded_at=at))
        for row in met:
            if row["last_visit_at"] is not None and _utc(row["last_visit_at"]) >= visited_at:  # type: ignore[operator]
                continue  # a visit recorded late, older than the one that already met the plan
            due = policy.next_due(_rule(row), visited_at, _utc(row["due_at"]), zone)  # type: ignore[arg-type]
            await uow.update(VisitSchedule, {VisitSchedule.status: "due", VisitSchedule.due_at: due,
                                             VisitSchedule.last_visit_at: visited_at, VisitSchedule.overdue_at: None,
                                             VisitSchedule.version: row["version"] + 1}).where(VisitSchedule.id == row["id"])
        await record(uow, "visit.recorded", "visit", visit_id,
                     {"customer_id": str(customer_id), "channel": channel, "visited_at": visited_at.isoformat(),
                      "plans": sorted(r["plan_id"] for r in met), "report": sorted(text)})
        await outbox.add(uow, "visit.recorded", "visit", visit_id, ("channel", "report", "visited_at"))
    return VisitView(visit_id, customer_id, tuple(sorted(r["plan_id"] for r in met)), channel, visited_at, ctx.actor, text)


async def visits_of(ctx: Context, customer_id: UUID) -> list[VisitView]:
    """A customer's recorded visits with their reports, newest first."""
    require(ctx, READ)
    async with unit_of_work(ctx, write=False) as uow:
        await _customer(uow, customer_id)
        rows = await uow.select(Visit).where(Visit.customer_id == customer_id).order_by(Visit.visited_at, ascending=False)
    return [VisitView(r["id"], r["customer_id"], tuple(p for p in (r["plan_id"] or "").split(",") if p), r["channel"],
                      _utc(r["visited_at"]), r["visitor"], json.loads(r["report"])) for r in rows]  # type: ignore[arg-type]


def _visit_view(r: Mapping[str, Any]) -> VisitView:
    return VisitView(r["id"], r["customer_id"], tuple(p for p in (r["plan_id"] or "").split(",") if p), r["channel"],
                     _utc(r["visited_at"]), r["visitor"], json.loads(r["report"]))  # type: ignore[arg-type]


async def schedules_of(ctx: Context, customer_id: UUID) -> list[ScheduleView]:
    """The customer's open plans (not ended) in service-priority order, as they stand."""
    require(ctx, READ)
    async with unit_of_work(ctx, write=False) as uow:
        await _customer(uow, customer_id)
        rows = await uow.select(VisitSchedule).where(
            (VisitSchedule.customer_id == customer_id) & (VisitSchedule.status != "ended"))
    return [_schedule_view(r) for r in policy.queue_order(rows, priority=lambda r: r["priority"],
                                                          due_at=lambda r: _utc(r["due_at"]), key=lambda r: r["plan_id"])]


async def list_visits(ctx: Context, window: keyset.Window, *, customer_id: UUID | None = None,
                      department_id: UUID | None = None, owner_id: UUID | None = None) -> tuple[list[VisitView], bool]:
    """A page of recorded visits with their reports, newest first (keyset on visited_at, id),
    filtered by customer, department and owner; whether more lie beyond the page."""
    require(ctx, READ)
    async with unit_of_work(ctx, write=False) as uow:
        query = keyset.matching(uow.select(Visit), (Visit.customer_id, customer_id),
                                (Visit.department_id, department_id), (Visit.owner_id, owner_id))
        rows, more = await keyset.fetch(query, (Visit.visited_at, Visit.id), window, descending=True)
    return [_visit_view(r) for r in rows], more


async def due_visits(ctx: Context, *, until: datetime, department_id: UUID | None = None,
                     owner_id: UUID | None = None, limit: int = 500) -> list[ScheduleView]:
    """The visits due by ``until`` (overdue ones included), in service-priority order (MD17: VIP
    first, then 优选, then the rest; the earlier due date first within a rank)."""
    require(ctx, READ)
    where = VisitSchedule.status.is_in(["due", "overdue"]) & (VisitSchedule.due_at <= until)
    if department_id is not None:
        where &= VisitSchedule.department_id == department_id
    if owner_id is not None:
        where &= VisitSchedule.owner_id == owner_id
    async with unit_of_work(ctx, write=False) as uow:
        rows = await uow.select(VisitSchedule).where(where).order_by(VisitSchedule.priority).order_by(
            VisitSchedule.due_at).limit(limit)
    return [_schedule_view(r) for r in policy.queue_order(rows, priority=lambda r: r["priority"],
                                                          due_at=lambda r: _utc(r["due_at"]), key=lambda r: str(r["id"]))]


async def overdue_report(ctx: Context, *, department_id: UUID | None = None) -> list[OverdueGroup]:
    """The overdue visits (marked by the tick) per department and owner, the most overdue first
    (MD25: a VIP not visited on site within its month is listed)."""
    require(ctx, READ)
    where = VisitSchedule.status == "overdue"
    if department_id is not None:
        where &= VisitSchedule.department_id == department_id
    async with unit_of_work(ctx, write=False) as uow:
        rows = await uow.select(VisitSchedule.customer_id, VisitSchedule.owner_id, VisitSchedule.department_id,
                                VisitSchedule.due_at).where(where)
    groups: dict[tuple[Any, Any], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["department_id"], row["owner_id"]), []).append(row)
    out = [OverdueGroup(department_id=d, owner_id=o, count=len(items),
                        customer_ids=tuple(sorted({r["customer_id"] for r in items}, key=str)),
                        oldest_due_at=min(_utc(r["due_at"]) for r in items))  # type: ignore[type-var]
           for (d, o), items in groups.items()]
    return sorted(out, key=lambda g: (g.oldest_due_at, str(g.department_id), str(g.owner_id)))


# --- the tick ------------------------------------------------------------------------------------


async def mark_overdue_in_tenant(tenant_id: UUID, at: datetime, batch: int = TICK_BATCH) -> int:
    """Mark one tenant's due visits past their stored due date overdue, each once (the conditional
    update claims it), the earliest first, at most ``batch``; the tick is the audited actor."""
    handled = 0
    async with unit_of_work(Context.system(TICK_ACTOR, tenant_id)) as uow:
        due = await uow.select(VisitSchedule.id, VisitSchedule.customer_id, VisitSchedule.plan_id,
                               VisitSchedule.due_at).where(
            (VisitSchedule.status == "due") & (VisitSchedule.due_at <= at)).order_by(VisitSchedule.due_at).limit(batch)
        for row in due:
            claimed = await uow.update(VisitSchedule, {VisitSchedule.status: "overdue", VisitSchedule.overdue_at: at}).where(
                (VisitSchedule.id == row["id"]) & (VisitSchedule.status == "due")).returning(VisitSchedule.id)
            if not claimed:
                continue
            await record(uow, "visit.overdue", "visit_schedule", row["id"],
                         {"customer_id": str(row["customer_id"]), "plan_id": row["plan_id"],
                          "due_at": _utc(row["due_at"]).isoformat()})  # type: ignore[union-attr]
            await outbox.add(uow, "visit.overdue", "visit_schedule", row["id"], ("status", "overdue_at"))
            handled += 1
    return handled


async def mark_overdue(at: datetime | None = None) -> int:
    """The tick's sweep: every tenant's visits past due."""
    at = at or now()
    return await for_each_tenant(TICK_ACTOR, lambda tenant_id: mark_overdue_in_tenant(tenant_id, at),
                                 "visits.tick_failed", tenants=await tenants_due("visit_schedules", at))


register_sweep("visit_schedules", mark_overdue)
