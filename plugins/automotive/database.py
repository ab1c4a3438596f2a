"""The dealer's customer database (seed 002 part 1) and the fines of customer-data lending (seed 003
R6-62, R6-63).

- R1-03: the customer director's weekly spot check of data-entry accuracy: one check per week (its
  Monday), lines per enterer and system (ISM, CRM, membership, SMS) with the sample size and the
  errors found; a report of the weeks without a check and the accuracy rate.
- R1-06 / R1-07: a database modification plan (修改方案) drafted by 客户部, the departments'
  opinions recorded on it, signed by the general manager (or the customer director as proxy; both
  hold ``automotive.database.plan.sign``), never by its author, before it may be marked implemented.
  The plan states how data continuity and historical data stay usable (R1-07); plans are never
  deleted.
- R6-62 / R6-63: lending itself is core's register (core.privacy.borrowing: approvals, the one-day
  due time, the ban). The tick ``automotive.lending_fines`` reads the late returns, losses and
  damages core recorded (``archive_loan_breaches``) and fines the borrower once per loan: R6-62 (10
  yuan) and R6-63 (50 yuan) at the tenant's amounts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from piccolo.columns import UUID as UUIDColumn
from piccolo.columns import Date, Integer, Text, Timestamptz, Varchar

from core.plugins import (
    EventType,
    KehuError,
    TenantTable,
    archive_loan_breaches,
    emit,
    fetch_page,
    record,
    require_permission,
    tenant_parameters,
    tenant_table_migration,
    tenant_user,
    tick,
    unit_of_work,
)
from plugins.automotive import clock
from plugins.automotive.common import VERTICAL, invalid, text
from plugins.automotive.penalties import add_penalty

CHECK, READ, PLAN, SIGN = ("automotive.database.check", "automotive.database.read", "automotive.database.plan",
                           "automotive.database.plan.sign")
SYSTEMS = ("ism", "crm", "membership", "sms")
DRAFT, SIGNED, IMPLEMENTED = "draft", "signed", "implemented"
LENDING_LOOKBACK = timedelta(days=30)  # breaches a missed tick still fines


class AccuracyCheck(TenantTable, tablename="automotive_accuracy_check"):
    week_of = Date()  # the Monday of the week checked
    checked_by = UUIDColumn()
    checked_at = Timestamptz()
    note = Text(default="")


class AccuracyLine(TenantTable, tablename="automotive_accuracy_line"):
    check_id = UUIDColumn()
    enterer_id = UUIDColumn()
    system = Varchar(length=16)
    sample = Integer()
    errors = Integer()


class DatabasePlan(TenantTable, tablename="automotive_db_plan"):
    title = Varchar(length=200)
    content = Text()
    continuity = Text()  # R1-07: how data continuity and historical data stay usable
    status = Varchar(length=16, default=DRAFT)
    drafted_by = UUIDColumn()
    drafted_at = Timestamptz()
    signed_by = UUIDColumn(null=True, default=None)
    signed_at = Timestamptz(null=True, default=None)
    implemented_by = UUIDColumn(null=True, default=None)
    implemented_at = Timestamptz(null=True, default=None)


class DatabasePlanOpinion(TenantTable, tablename="automotive_db_plan_opinion"):
    plan_id = UUIDColumn()
    department = Varchar(length=100)
    opinion = Text()
    recorded_by = UUIDColumn()
    recorded_at = Timestamptz()


TABLES = (AccuracyCheck, AccuracyLine, DatabasePlan, DatabasePlanOpinion)
MIGRATIONS = (
    tenant_table_migration(61, "the weekly data-entry accuracy checks (seed 002 R1-03)", "automotive_accuracy_check", [
        "week_of DATE NOT NULL", "checked_by UUID NOT NULL", "checked_at TIMESTAMPTZ NOT NULL",
        "note TEXT NOT NULL DEFAULT ''"], unique=(("week_of",),)),
    tenant_table_migration(62, "the lines of an accuracy check, per enterer and system", "automotive_accuracy_line", [
        "check_id UUID NOT NULL", "enterer_id UUID NOT NULL", "system VARCHAR(16) NOT NULL", "sample INTEGER NOT NULL",
        "errors INTEGER NOT NULL"], indexes=(("check_id",), ("enterer_id",)),
        references=(("check_id", "automotive_accuracy_check"),)),
    tenant_table_migration(63, "database modification plans (seed 002 R1-06, R1-07)", "automotive_db_plan", [
        "title VARCHAR(200) NOT NULL", "content TEXT NOT NULL", "continuity TEXT NOT NULL",
        "status VARCHAR(16) NOT NULL DEFAULT 'draft'", "drafted_by UUID NOT NULL", "drafted_at TIMESTAMPTZ NOT NULL",
        "signed_by UUID", "signed_at TIMESTAMPTZ", "implemented_by UUID", "implemented_at TIMESTAMPTZ"],
        indexes=(("drafted_at",), ("status",))),
    tenant_table_migration(64, "the departments' opinions on a modification plan", "automotive_db_plan_opinion", [
        "plan_id UUID NOT NULL", "department VARCHAR(100) NOT NULL", "opinion TEXT NOT NULL", "recorded_by UUID NOT NULL",
        "recorded_at TIMESTAMPTZ NOT NULL"], indexes=(("plan_id",),), references=(("plan_id", "automotive_db_plan"),)),
)
EVENT_TYPES = (
    EventType("automotive.accuracy_checked", "automotive_accuracy_check", "week_of, lines",
              "the customer director records a week's data-entry accuracy check (R1-03)"),
    EventType("automotive.db_plan_drafted", "automotive_db_plan", "title, content, continuity",
              "客户部 drafts a database modification plan (R1-06)"),
    EventType("automotive.db_plan_opinion", "automotive_db_plan", "opinions", "a department's opinion on a plan is recorded"),
    EventType("automotive.db_plan_signed", "automotive_db_plan", "status, signed_by", "a modification plan is signed"),
    EventType("automotive.db_plan_implemented", "automotive_db_plan", "status, implemented_by",
              "a signed modification plan is marked implemented"),
)
PERMISSIONS = ()  # roles.PERMISSIONS holds the automotive.database.* permissions


def _me(ctx: Any) -> UUID:
    if ctx.user_id is None:
        raise KehuError("PERMISSION_DENIED", "a person signs this, not a key", "须由本人签署，不能使用 API 密钥", field=None)
    return ctx.user_id


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


# --- R1-03: the weekly accuracy check --------------------------------------------------------------

async def record_accuracy_check(ctx: Any, week_of: date, lines: Sequence[Mapping[str, Any]], *,
                                note: str = "") -> dict[str, Any]:
    """The customer director records the spot check of a week (any day of it; stored as its
    Monday): per enterer and system the sample size and the errors found. One check per week."""
    require_permission(ctx, CHECK)
    me = _me(ctx)
    note = text(note, "note", 2000, required=False)
    week = monday(week_of)
    if week > monday(clock.now().date()):
        raise invalid("weekOf", "a week to come cannot be checked yet", "不能抽查尚未到来的周")
    if not lines or len(lines) > 200:
        raise invalid("lines", "give 1 to 200 lines (enterer, system, sample, errors)", "请填写 1 至 200 行抽查结果")
    clean = []
    for line in lines:
        system = line.get("system")
        sample, errors = line.get("sample"), line.get("errors")
        if system not in SYSTEMS:
            raise invalid("lines", f"system is one of {', '.join(SYSTEMS)}", f"系统须为 {'、'.join(SYSTEMS)} 之一")
        if not isinstance(sample, int) or not isinstance(errors, int) or not 1 <= sample <= 100_000 \
                or not 0 <= errors <= sample:
            raise invalid("lines", "the sample is 1 or more and the errors between 0 and the sample",
                          "抽查数须至少为 1，错误数须在 0 与抽查数之间")
        clean.append((line["enterer_id"], system, sample, errors))
    async with unit_of_work(ctx) as uow:
        for enterer in {c[0] for c in clean}:
            if not await tenant_user(uow, enterer):
                raise invalid("lines", "an enterer is no user of this tenant", "录入人不是本单位用户")
        if await uow.exists(AccuracyCheck).where(AccuracyCheck.week_of == week):
            raise KehuError("AUTOMOTIVE_CHECK_EXISTS", f"the week of {week} is checked already (one check a week)",
                            f"{week} 所在周已抽查（每周一次）", field="weekOf")
        check_id = uuid4()
        await uow.insert(AccuracyCheck(id=check_id, week_of=week, checked_by=me, checked_at=clock.now(), note=note))
        for enterer, system, sample, errors in clean:
            await uow.insert(AccuracyLine(id=uuid4(), check_id=check_id, enterer_id=enterer, system=system,
                                          sample=sample, errors=errors))
        await record(uow, "automotive.accuracy_checked", "automotive_accuracy_check", check_id,
                     {"week_of": week, "lines": len(clean), "sample": sum(c[2] for c in clean),
                      "errors": sum(c[3] for c in clean)})
        await emit(uow, "automotive.accuracy_checked", "automotive_accuracy_check", check_id, ("week_of", "lines"))
        return {"id": check_id, "week_of": week}


def _rate(sample: int, errors: int) -> float | None:
    return None if sample == 0 else round((sample - errors) / sample, 4)


async def accuracy_report(ctx: Any, since: date, until: date) -> dict[str, Any]:
    """The weeks from ``since`` to ``until`` (inclusive, by their Mondays): each checked or not with
    its sample, errors and accuracy rate; the weeks without a check; totals per enterer and system."""
    require_permission(ctx, READ)
    first, last = monday(since), monday(until)
    if last < first or (last - first).days > 7 * 110:
        raise invalid("until", "until lies after since, two years at most", "截止日期须晚于开始日期，最长两年")
    async with unit_of_work(ctx, write=False) as uow:
        checks = {c["id"]: c for c in await uow.select(AccuracyCheck).where(
            (AccuracyCheck.week_of >= first) & (AccuracyCheck.week_of <= last))}
        lines = await uow.select(AccuracyLine).where(AccuracyLine.check_id.is_in(list(checks))) if checks else []
    by_week: dict[date, list[int]] = {}
    by_who: dict[tuple[UUID, str], list[int]] = {}
    for line in lines:
        week = checks[line["check_id"]]["week_of"]
        for key, table in ((week, by_week), ((line["enterer_id"], line["system"]), by_who)):
            totals = table.setdefault(key, [0, 0])  # type: ignore[arg-type]
            totals[0] += line["sample"]
            totals[1] += line["errors"]
    weeks = []
    week = first
    while week <= last:
        sample, errors = by_week.get(week, [0, 0])
        weeks.append({"week_of": week, "checked": any(c["week_of"] == week for c in checks.values()),
                      "sample": sample, "errors": errors, "accuracy": _rate(sample, errors)})
        week += timedelta(days=7)
    sample, errors = sum(w["sample"] for w in weeks), sum(w["errors"] for w in weeks)
    return {"weeks": weeks, "weeks_without_check": [w["week_of"] for w in weeks if not w["checked"]],
            "sample": sample, "errors": errors, "accuracy": _rate(sample, errors),
            "by_enterer": [{"enterer_id": who, "system": system, "sample": s, "errors": e, "accuracy": _rate(s, e)}
                           for (who, system), (s, e) in sorted(by_who.items(), key=lambda i: (str(i[0][0]), i[0][1]))]}


# --- R1-06 / R1-07: database modification plans ---------------------------------------------------

def _plan_state(expected: str) -> KehuError:
    return KehuError("AUTOMOTIVE_PLAN_STATE", f"the plan must be {expected} for this", f"方案须处于 {expected} 状态",
                     field="id")


async def _plan(uow: Any, plan_id: UUID) -> dict[str, Any]:
    row = await uow.select(DatabasePlan).where(DatabasePlan.id == plan_id).first()
    if row is None:
        raise KehuError("AUTOMOTIVE_PLAN_NOT_FOUND", f"no modification plan {plan_id}", f"未找到修改方案 {plan_id}",
                        field="id")
    return row


async def plan_view(uow: Any, plan_id: UUID) -> dict[str, Any]:
    row = dict(await _plan(uow, plan_id))
    row["opinions"] = await uow.select(DatabasePlanOpinion).where(DatabasePlanOpinion.plan_id == plan_id).order_by(
        DatabasePlanOpinion.recorded_at)
    return row


async def draft_plan(ctx: Any, *, title: str, content: str, continuity: str) -> dict[str, Any]:
    """客户部 drafts a modification plan; ``continuity`` says how data continuity and historical
    data stay usable (R1-07)."""
    require_permission(ctx, PLAN)
    me = _me(ctx)
    title, content = text(title, "title", 200), text(content, "content", 20_000)
    continuity = text(continuity, "continuity", 5000)
    async with unit_of_work(ctx) as uow:
        plan_id = uuid4()
        await uow.insert(DatabasePlan(id=plan_id, title=title, content=content, continuity=continuity, status=DRAFT,
                                      drafted_by=me, drafted_at=clock.now()))
        await record(uow, "automotive.db_plan_drafted", "automotive_db_plan", plan_id, {"title": title})
        await emit(uow, "automotive.db_plan_drafted", "automotive_db_plan", plan_id, ("title", "content", "continuity"))
        return await plan_view(uow, plan_id)


async def add_plan_opinion(ctx: Any, plan_id: UUID, *, department: str, opinion: str) -> dict[str, Any]:
    """Record a business department's opinion on a draft plan (征求各业务部门意见)."""
    require_permission(ctx, PLAN)
    me = _me(ctx)
    department, opinion = text(department, "department", 100), text(opinion, "opinion", 5000)
    async with unit_of_work(ctx) as uow:
        if (await _plan(uow, plan_id))["status"] != DRAFT:
            raise _plan_state(DRAFT)
        opinion_id = uuid4()
        await uow.insert(DatabasePlanOpinion(id=opinion_id, plan_id=plan_id, department=department, opinion=opinion,
                                             recorded_by=me, recorded_at=clock.now()))
        await record(uow, "automotive.db_plan_opinion", "automotive_db_plan", plan_id,
                     {"department": department, "opinion_id": opinion_id})
        await emit(uow, "automotive.db_plan_opinion", "automotive_db_plan", plan_id, ("opinions",))
        return await plan_view(uow, plan_id)


async def sign_plan(ctx: Any, plan_id: UUID) -> dict[str, Any]:
    """The general manager (or the customer director as proxy) signs a draft plan that has the
    departments' opinions; never its author (R1-06)."""
    require_permission(ctx, SIGN)
    me = _me(ctx)
    async with unit_of_work(ctx) as uow:
        plan = await _plan(uow, plan_id)
        if plan["drafted_by"] == me:
            raise KehuError("AUTOMOTIVE_PLAN_AUTHOR", "nobody signs a plan they drafted", "不能签署自己起草的方案", field="id")
        if plan["status"] != DRAFT:
            raise _plan_state(DRAFT)
        if not await uow.exists(DatabasePlanOpinion).where(DatabasePlanOpinion.plan_id == plan_id):
            raise KehuError("AUTOMOTIVE_PLAN_NO_OPINIONS", "record the departments' opinions before signing",
                            "签署前须登记各部门意见", field="id")
        done = await uow.update(DatabasePlan, {DatabasePlan.status: SIGNED, DatabasePlan.signed_by: me,
                                               DatabasePlan.signed_at: clock.now()}).where(
            (DatabasePlan.id == plan_id) & (DatabasePlan.status == DRAFT)).returning(DatabasePlan.id)
        if not done:
            raise _plan_state(DRAFT)
        await record(uow, "automotive.db_plan_signed", "automotive_db_plan", plan_id, {"signed_by": me})
        await emit(uow, "automotive.db_plan_signed", "automotive_db_plan", plan_id, ("status", "signed_by"))
        return await plan_view(uow, plan_id)


async def implement_plan(ctx: Any, plan_id: UUID) -> dict[str, Any]:
    """客户部 marks a signed plan implemented; an unsigned one may not be (R1-06)."""
    require_permission(ctx, PLAN)
    me = _me(ctx)
    async with unit_of_work(ctx) as uow:
        done = await uow.update(DatabasePlan, {DatabasePlan.status: IMPLEMENTED, DatabasePlan.implemented_by: me,
                                               DatabasePlan.implemented_at: clock.now()}).where(
            (DatabasePlan.id == plan_id) & (DatabasePlan.status == SIGNED)).returning(DatabasePlan.id)
        if not done:
            await _plan(uow, plan_id)
            raise _plan_state(SIGNED)
        await record(uow, "automotive.db_plan_implemented", "automotive_db_plan", plan_id, {"implemented_by": me})
        await emit(uow, "automotive.db_plan_implemented", "automotive_db_plan", plan_id, ("status", "implemented_by"))
        return await plan_view(uow, plan_id)


async def plans(ctx: Any, window: Any, *, status: str | None = None) -> tuple[list[dict[str, Any]], bool]:
    """Modification plans, newest first."""
    require_permission(ctx, READ)
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(DatabasePlan)
        if status is not None:
            query = query.where(DatabasePlan.status == status)
        rows, more = await fetch_page(query, [DatabasePlan.drafted_at, DatabasePlan.id], window, descending=True)
        return [await plan_view(uow, row["id"]) for row in rows], more


# --- R6-62 / R6-63: fines of customer-data lending -------------------------------------------------

RULE_OF_BREACH = {"late": "R6-62", "lost": "R6-63", "damaged": "R6-63"}


@tick("automotive.lending_fines")
async def fine_lending_breaches(ctx: Any, now: datetime) -> int:
    """R6-62 / R6-63: each late return (10 yuan) and each loss or damage (50 yuan) core's lending
    register recorded in the last 30 days fines its borrower once per loan (``source_key``); a
    person of an external unit is no user and is not fined."""
    parameters = await tenant_parameters(ctx, VERTICAL)
    fined = 0
    async with unit_of_work(ctx) as uow:
        for breach in await archive_loan_breaches(uow, clock.now() - LENDING_LOOKBACK):
            rule = RULE_OF_BREACH[breach["breach"]]
            reason = {"late": "借用客户资料逾期归还", "lost": "借用客户资料遗失", "damaged": "借用客户资料损坏"}[breach["breach"]]
            fined += await add_penalty(uow, parameters, rule, breach["borrower_id"], reason=reason, at=breach["at"],
                                       source_key=f"archive_loan:{breach['loan_id']}")
    return fined
