"""The sales floor's recurring duties of seed-003 R6 that software can hold to account, one function per
use case: decoration orders and material requisitions signed the same day (R6-24), the showroom
8-step evaluation of every consultant on duty (R6-31), the big-account specialist's daily action
report with its minimums and route map (R6-16, R6-38, R6-40), roadshows with their photos, approved
costs and the customer infos each consultant collects (R6-42, R6-43). Fines go to the penalty ledger.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from piccolo.columns import UUID as UUIDColumn
from piccolo.columns import Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.query.methods.select import Count

from core.plugins import (
    EventType,
    KehuError,
    Parameter,
    ParameterKind,
    Permission,
    TenantTable,
    emit,
    fetch_page,
    record,
    require_permission,
    tenant_calendar,
    tenant_parameters,
    tenant_table_migration,
    tenant_user,
    tick,
    unit_of_work,
    user_names,
)
from plugins.automotive import clock
from plugins.automotive.cards import Visit
from plugins.automotive.common import VERTICAL, choice, holds, invalid, text
from plugins.automotive.penalties import add_penalty

P = Permission
PERMISSIONS = (
    P("automotive.decoration.write", "write decoration orders and material requisitions (销售顾问)", "填写装饰单、领料单（销售顾问）"),
    P("automotive.decoration.sign_manager", "sign decoration orders and requisitions as the sales manager (R6-24)",
      "以销售经理身份签批装饰单、领料单（R6-24）"),
    P("automotive.decoration.cosign", "co-sign decoration orders when the manager is absent (组长、助理, R6-24)",
      "经理不在时会签装饰单、领料单（组长、助理，R6-24）"),
    P("automotive.evaluation.record", "record the showroom 8-step evaluations (销售组长, R6-31)", "记录展厅八步骤评估（销售组长，R6-31）"),
    P("automotive.big_account.report", "file the big-account daily action report (大客户专员, R6-40)",
      "填写大客户每日行动报告（大客户专员，R6-40）"),
    P("automotive.market.manage", "run roadshows and record the infos collected (市场专员, R6-42, R6-43)",
      "组织巡展并登记收集的客户信息（市场专员，R6-42、R6-43）"),
    P("automotive.expense.approve", "approve roadshow costs and gifts as the sales manager (R6-42)", "以销售经理身份审批巡展费用及礼品（R6-42）"),
    P("automotive.expense.approve_gm", "approve roadshow costs and gifts as the general manager (R6-42)",
      "以总经理身份审批巡展费用及礼品（R6-42）"),
)

STEPS = ("welcome", "needs", "presentation", "test_drive", "negotiation", "closing", "delivery", "follow_up")
KINDS = ("decoration", "requisition")

PARAMETERS = (
    Parameter("big_account_meetings", ParameterKind.INTEGER, 2, "Prospects a big-account specialist meets a day (R6-40)",
              "大客户专员每日面谈潜在客户数（R6-40）", minimum=0, maximum=50),
    Parameter("big_account_calls", ParameterKind.INTEGER, 5, "Prospects a big-account specialist calls a day (R6-40)",
              "大客户专员每日电话联系潜在客户数（R6-40）", minimum=0, maximum=100),
    Parameter("big_account_visits", ParameterKind.INTEGER, 2, "Existing customers a big-account specialist visits a "
              "day (R6-40)", "大客户专员每日拜访老客户数（R6-40）", minimum=0, maximum=50),
    Parameter("big_account_shortfall_limit", ParameterKind.INTEGER, 5, "Cumulative shortfalls beyond which a "
              "big-account specialist is flagged for dismissal (R6-40)", "大客户专员累计未完成次数上限，超过即列入辞退名单（R6-40）",
              minimum=1, maximum=100),
    Parameter("roadshows_per_month", ParameterKind.INTEGER, 4, "Roadshows a month (R6-42)", "每月巡展次数（R6-42）",
              minimum=0, maximum=31),
    Parameter("roadshow_infos_per_consultant", ParameterKind.INTEGER, 5, "Customer infos each consultant collects at a "
              "roadshow (R6-43)", "巡展中每位销售顾问至少收集的客户信息数（R6-43）", minimum=0, maximum=100),
)


class Decoration(TenantTable, tablename="automotive_decoration"):
    consultant_id = UUIDColumn()
    kind = Varchar(length=12)  # decoration | requisition
    description = Text()
    amount_cny = Integer(default=0)
    day = Varchar(length=10)  # the local day it was written: signatures count only that day
    manager_signed_by = Varchar(length=100, null=True, default=None)
    cosigners = Text(default="[]")  # JSON [actor]
    state = Varchar(length=8)  # pending | valid | void
    decided_at = Timestamptz(null=True, default=None)


class Evaluation(TenantTable, tablename="automotive_showroom_evaluation"):
    consultant_id = UUIDColumn()
    day = Varchar(length=10)
    steps = Text()  # JSON [step passed]
    note = Text(default="")
    evaluated_by = Varchar(length=100)


class ActionReport(TenantTable, tablename="automotive_action_report"):
    specialist_id = UUIDColumn()
    day = Varchar(length=10)
    planned = Text()
    meetings = Integer()
    calls = Integer()
    visits = Integer()
    route_map = Boolean()
    followed_plan = Boolean()
    shortfalls = Integer()
    notes = Text(default="")


class Roadshow(TenantTable, tablename="automotive_roadshow"):
    held_on = Varchar(length=10)
    month = Varchar(length=7)
    venue = Varchar(length=200)
    specialist_id = UUIDColumn()
    photos_submitted = Boolean(default=False)
    cost_cny = Integer(default=0)
    manager_approved_by = Varchar(length=100, null=True, default=None)
    gm_approved_by = Varchar(length=100, null=True, default=None)
    infos = Text(default="{}")  # JSON {consultant id: infos collected}
    closed_at = Timestamptz(null=True, default=None)


TABLES = (Decoration, Evaluation, ActionReport, Roadshow)
_WHO = "VARCHAR(100)"
MIGRATIONS = (
    tenant_table_migration(10, "decoration orders and material requisitions", "automotive_decoration", [
        "consultant_id UUID NOT NULL", "kind VARCHAR(12) NOT NULL", "description TEXT NOT NULL",
        "amount_cny INTEGER NOT NULL DEFAULT 0", "day VARCHAR(10) NOT NULL", f"manager_signed_by {_WHO}",
        "cosigners TEXT NOT NULL DEFAULT '[]'", "state VARCHAR(8) NOT NULL", "decided_at TIMESTAMPTZ",
    ], indexes=(("state", "day"), ("consultant_id", "day"))),
    tenant_table_migration(11, "showroom 8-step evaluations", "automotive_showroom_evaluation", [
        "consultant_id UUID NOT NULL", "day VARCHAR(10) NOT NULL", "steps TEXT NOT NULL", "note TEXT NOT NULL DEFAULT ''",
        f"evaluated_by {_WHO} NOT NULL",
    ], unique=(("consultant_id", "day"),), indexes=(("day",),)),
    tenant_table_migration(12, "big-account daily action reports", "automotive_action_report", [
        "specialist_id UUID NOT NULL", "day VARCHAR(10) NOT NULL", "planned TEXT NOT NULL", "meetings INTEGER NOT NULL",
        "calls INTEGER NOT NULL", "visits INTEGER NOT NULL", "route_map BOOLEAN NOT NULL", "followed_plan BOOLEAN NOT NULL",
        "shortfalls INTEGER NOT NULL", "notes TEXT NOT NULL DEFAULT ''",
    ], unique=(("specialist_id", "day"),), indexes=(("day",),)),
    tenant_table_migration(13, "roadshows", "automotive_roadshow", [
        "held_on VARCHAR(10) NOT NULL", "month VARCHAR(7) NOT NULL", "venue VARCHAR(200) NOT NULL",
        "specialist_id UUID NOT NULL", "photos_submitted BOOLEAN NOT NULL DEFAULT FALSE",
        "cost_cny INTEGER NOT NULL DEFAULT 0", f"manager_approved_by {_WHO}", f"gm_approved_by {_WHO}",
        "infos TEXT NOT NULL DEFAULT '{}'", "closed_at TIMESTAMPTZ",
    ], indexes=(("month", "held_on"),)),
)

EVENT_TYPES = (
    EventType("automotive.decoration_decided", "automotive_decoration", "state",
              "a decoration order or requisition became valid or void (R6-24)"),
    EventType("automotive.evaluation_recorded", "automotive_showroom_evaluation", "steps",
              "a consultant's showroom 8-step evaluation (R6-31)"),
    EventType("automotive.action_report_filed", "automotive_action_report", "shortfalls",
              "a big-account daily action report (R6-40)"),
    EventType("automotive.roadshow_closed", "automotive_roadshow", "infos", "a roadshow closed with its infos (R6-42, "
              "R6-43)"),
)


async def _zone(ctx: Any) -> Any:
    return (await tenant_calendar(ctx)).zone


def _count(value: object, field: str, limit: int = 1000) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise invalid(field, f"{field} is 0 to {limit}", f"{field} 须为 0 至 {limit}")
    return value


# --- R6-24: decoration orders and requisitions ---------------------------------------------------


async def write_decoration(ctx: Any, *, kind: str, description: str, amount_cny: int = 0) -> dict[str, Any]:
    require_permission(ctx, "automotive.decoration.write")
    kind = choice(kind, "kind", KINDS)
    if ctx.user_id is None:
        raise invalid("kind", "a consultant writes it", "须由销售顾问填写")
    zone = await _zone(ctx)
    async with unit_of_work(ctx) as uow:
        row_id = uuid4()
        await uow.insert(Decoration(id=row_id, consultant_id=ctx.user_id, kind=kind,
                                    description=text(description, "description", 2000),
                                    amount_cny=_count(amount_cny, "amountCny", 10_000_000),
                                    day=clock.now().astimezone(zone).date().isoformat(), state="pending"))
        await record(uow, "automotive.decoration_written", "automotive_decoration", row_id, {"kind": kind})
        return await uow.select(Decoration).where(Decoration.id == row_id).first()


async def sign_decoration(ctx: Any, decoration_id: UUID) -> dict[str, Any]:
    """R6-24: valid once the sales manager signs it the day it was written, or, the manager absent, at
    least two team leaders or assistants do; never its consultant, never after that day."""
    manager = holds(ctx, "automotive.decoration.sign_manager")
    if not manager:
        require_permission(ctx, "automotive.decoration.cosign")
    zone = await _zone(ctx)
    async with unit_of_work(ctx) as uow:
        row = await uow.select(Decoration).where(Decoration.id == decoration_id).first()
        if row is None:
            raise KehuError("AUTOMOTIVE_DECORATION_NOT_FOUND", f"no decoration order {decoration_id}",
                            f"未找到装饰单 {decoration_id}", field="id")
        if row["consultant_id"] == ctx.user_id:
            raise KehuError("AUTOMOTIVE_SELF_SIGNATURE", "nobody signs their own order", "不能为自己的单据签字", field="id")
        if row["state"] != "pending" or clock.now().astimezone(zone).date().isoformat() != row["day"]:
            raise KehuError("AUTOMOTIVE_DECORATION_CLOSED", "signatures count only the day it was written (R6-24)",
                            "装饰单、领料单须当天签字（R6-24）", field="id")
        cosigners = json.loads(row["cosigners"])
        values: dict[Any, Any] = {}
        if manager:
            values[Decoration.manager_signed_by] = ctx.actor
        elif ctx.actor not in cosigners:
            cosigners.append(ctx.actor)
            values[Decoration.cosigners] = json.dumps(cosigners)
        if manager or len(cosigners) >= 2:
            values.update({Decoration.state: "valid", Decoration.decided_at: clock.now()})
        if values:
            await uow.update(Decoration, values).where(Decoration.id == decoration_id)
        await record(uow, "automotive.decoration_signed", "automotive_decoration", decoration_id,
                     {"as": "manager" if manager else "cosigner"})
        if values.get(Decoration.state) == "valid":
            await emit(uow, "automotive.decoration_decided", "automotive_decoration", decoration_id, ("state",))
        return await uow.select(Decoration).where(Decoration.id == decoration_id).first()



@tick("automotive.decoration_check")
async def void_unsigned_decorations(ctx: Any, now: datetime | None = None) -> int:
    """After its day, an order or requisition without its signatures is void and its consultant
    answers for it (R6-24: the fine is the tenant's amount, 0 by default — the consultant pays the goods)."""
    zone = await _zone(ctx)
    parameters = await tenant_parameters(ctx, VERTICAL)
    today = clock.now().astimezone(zone).date().isoformat()
    voided = 0
    async with unit_of_work(ctx) as uow:
        for row in await uow.select(Decoration).where((Decoration.state == "pending") & (Decoration.day < today)).limit(500):
            await uow.update(Decoration, {Decoration.state: "void", Decoration.decided_at: clock.now()}).where(
                Decoration.id == row["id"])
            await add_penalty(uow, parameters, "R6-24", row["consultant_id"], at=clock.now(),
                              reason=f"{row['kind']} of {row['day']} not signed that day",
                              source_key=f"decoration:{row['id']}")
            await emit(uow, "automotive.decoration_decided", "automotive_decoration", row["id"], ("state",))
            voided += 1
    return voided


# --- R6-31: the showroom 8-step evaluation ---------------------------------------------------------


async def record_evaluation(ctx: Any, consultant_id: UUID, day: date, passed: list[str], note: str = "") -> dict[str, Any]:
    """The team leader's evening evaluation of a consultant on the 8 steps (R6-31), once a day each."""
    require_permission(ctx, "automotive.evaluation.record")
    unknown = set(passed) - set(STEPS)
    if unknown:
        raise invalid("passed", f"steps are among {', '.join(STEPS)}", f"步骤须为 {'、'.join(STEPS)} 之一")
    async with unit_of_work(ctx) as uow:
        if not await tenant_user(uow, consultant_id):
            raise invalid("consultantId", "no such user in this tenant", "本租户没有该用户")
        if consultant_id == ctx.user_id:
            raise KehuError("AUTOMOTIVE_SELF_SIGNATURE", "nobody evaluates themselves", "不能评估自己", field="consultantId")
        if await uow.exists(Evaluation).where((Evaluation.consultant_id == consultant_id)
                                              & (Evaluation.day == day.isoformat())):
            raise KehuError("AUTOMOTIVE_EVALUATION_EXISTS", "that consultant is evaluated for that day already",
                            "该顾问当天已评估", field="day")
        row_id = uuid4()
        await uow.insert(Evaluation(id=row_id, consultant_id=consultant_id, day=day.isoformat(),
                                    steps=json.dumps(sorted(set(passed), key=STEPS.index)),
                                    note=text(note, "note", 2000, required=False), evaluated_by=ctx.actor))
        await record(uow, "automotive.evaluation_recorded", "automotive_showroom_evaluation", row_id,
                     {"consultant_id": consultant_id, "day": day.isoformat(), "passed": len(set(passed))})
        await emit(uow, "automotive.evaluation_recorded", "automotive_showroom_evaluation", row_id, ("steps",))
        return await uow.select(Evaluation).where(Evaluation.id == row_id).first()


async def evaluation_coverage(ctx: Any, day: date) -> dict[str, Any]:
    """R6-31: the consultants on the floor that day (those who registered a walk-in or a call) and which
    of them the team leaders did not evaluate; the target is 100%."""
    require_permission(ctx, "automotive.report.read")
    async with unit_of_work(ctx, write=False) as uow:
        on_duty = {r["consultant_id"] for r in await uow.select(Visit.consultant_id).where(
            Visit.day == day.isoformat()).distinct()}
        evaluated = {r["consultant_id"] for r in await uow.select(Evaluation.consultant_id).where(
            Evaluation.day == day.isoformat())}
        missing = sorted(on_duty - evaluated, key=str)
        names = await user_names(uow, missing)
    covered = len(on_duty & evaluated)
    return {"day": day, "on_duty": len(on_duty), "evaluated": covered,
            "percent": round(100 * covered / len(on_duty), 1) if on_duty else None,
            "missing": [(m, names.get(m, "")) for m in missing]}


# --- R6-16, R6-38, R6-40: the big-account daily action report --------------------------------------


def shortfalls(meetings: int, calls: int, visits: int, route_map: bool, parameters: dict[str, Any]) -> int:
    """R6-40's daily minimums (2 prospects met, 5 called, 2 existing customers visited) and R6-16's
    route map: one shortfall per unit missing, one for a missing route map."""
    return (max(0, int(parameters.get("big_account_meetings", 2)) - meetings)
            + max(0, int(parameters.get("big_account_calls", 5)) - calls)
            + max(0, int(parameters.get("big_account_visits", 2)) - visits) + (0 if route_map else 1))


async def file_action_report(ctx: Any, day: date, *, planned: str, meetings: int, calls: int, visits: int,
                             route_map: bool, followed_plan: bool, notes: str = "") -> dict[str, Any]:
    """The big-account specialist's daily report: planned against done, the route map (R6-16, R6-38);
    each shortfall against the minimums costs R6-40's fine."""
    require_permission(ctx, "automotive.big_account.report")
    if ctx.user_id is None:
        raise invalid("day", "a specialist files it", "须由大客户专员填写")
    parameters = dict(await tenant_parameters(ctx, VERTICAL))
    meetings, calls, visits = (_count(meetings, "meetings"), _count(calls, "calls"), _count(visits, "visits"))
    missed = shortfalls(meetings, calls, visits, bool(route_map), parameters)
    async with unit_of_work(ctx) as uow:
        if await uow.exists(ActionReport).where((ActionReport.specialist_id == ctx.user_id)
                                                & (ActionReport.day == day.isoformat())):
            raise KehuError("AUTOMOTIVE_ACTION_REPORT_EXISTS", "that day's report is filed already", "当天行动报告已提交",
                            field="day")
        row_id = uuid4()
        await uow.insert(ActionReport(id=row_id, specialist_id=ctx.user_id, day=day.isoformat(),
                                      planned=text(planned, "planned", 4000), meetings=meetings, calls=calls,
                                      visits=visits, route_map=bool(route_map), followed_plan=bool(followed_plan),
                                      shortfalls=missed, notes=text(notes, "notes", 4000, required=False)))
        if missed:
            await add_penalty(uow, parameters, "R6-40", ctx.user_id, at=clock.now(), quantity=missed,
                              reason=f"{missed} shortfall(s) against the daily minimums on {day}",
                              source_key=f"action:{day}")
        await record(uow, "automotive.action_report_filed", "automotive_action_report", row_id,
                     {"day": day.isoformat(), "shortfalls": missed})
        await emit(uow, "automotive.action_report_filed", "automotive_action_report", row_id, ("shortfalls",))
        return await uow.select(ActionReport).where(ActionReport.id == row_id).first()


async def big_account_standing(ctx: Any, since: date, until: date) -> list[dict[str, Any]]:
    """Per specialist over [since, until]: reports, days off-plan (R6-38), cumulative shortfalls and
    whether they pass the dismissal limit (R6-40)."""
    require_permission(ctx, "automotive.report.read")
    parameters = await tenant_parameters(ctx, VERTICAL)
    limit = int(parameters.get("big_account_shortfall_limit", 5))
    async with unit_of_work(ctx, write=False) as uow:
        rows = await uow.select(ActionReport.specialist_id, ActionReport.shortfalls, ActionReport.followed_plan).where(
            (ActionReport.day >= since.isoformat()) & (ActionReport.day <= until.isoformat())).limit(20_000)
        people: dict[UUID, dict[str, int]] = {}
        for row in rows:
            found = people.setdefault(row["specialist_id"], {"reports": 0, "off_plan": 0, "shortfalls": 0})
            found["reports"] += 1
            found["off_plan"] += 0 if row["followed_plan"] else 1
            found["shortfalls"] += row["shortfalls"]
        names = await user_names(uow, list(people))
    return [{"specialist_id": p, "name": names.get(p, ""), **c, "dismissal": c["shortfalls"] > limit}
            for p, c in sorted(people.items(), key=lambda item: names.get(item[0], ""))]


# --- R6-42, R6-43: roadshows -------------------------------------------------------------------------


async def record_roadshow(ctx: Any, held_on: date, venue: str, *, cost_cny: int = 0) -> dict[str, Any]:
    require_permission(ctx, "automotive.market.manage")
    if ctx.user_id is None:
        raise invalid("venue", "the market specialist records it", "须由市场专员登记")
    async with unit_of_work(ctx) as uow:
        row_id = uuid4()
        await uow.insert(Roadshow(id=row_id, held_on=held_on.isoformat(), month=held_on.isoformat()[:7],
                                  venue=text(venue, "venue", 200), specialist_id=ctx.user_id,
                                  cost_cny=_count(cost_cny, "costCny", 10_000_000)))
        await record(uow, "automotive.roadshow_recorded", "automotive_roadshow", row_id, {"held_on": held_on.isoformat()})
        return await uow.select(Roadshow).where(Roadshow.id == row_id).first()


async def approve_roadshow(ctx: Any, roadshow_id: UUID) -> dict[str, Any]:
    """R6-42: costs and gifts need the sales manager's and the general manager's approval."""
    gm = holds(ctx, "automotive.expense.approve_gm")
    if not gm:
        require_permission(ctx, "automotive.expense.approve")
    async with unit_of_work(ctx) as uow:
        row = await _roadshow(uow, roadshow_id)
        column = Roadshow.gm_approved_by if gm else Roadshow.manager_approved_by
        if row[column._meta.name] is not None:
            raise KehuError("AUTOMOTIVE_ROADSHOW_STATE", "already approved", "已审批", field="id")
        await uow.update(Roadshow, {column: ctx.actor}).where(Roadshow.id == roadshow_id)
        await record(uow, "automotive.roadshow_approved", "automotive_roadshow", roadshow_id, {"as": "gm" if gm else "manager"})
        return await _roadshow(uow, roadshow_id)


async def _roadshow(uow: Any, roadshow_id: UUID) -> dict[str, Any]:
    row = await uow.select(Roadshow).where(Roadshow.id == roadshow_id).first()
    if row is None:
        raise KehuError("AUTOMOTIVE_ROADSHOW_NOT_FOUND", f"no roadshow {roadshow_id}", f"未找到巡展 {roadshow_id}", field="id")
    return row


async def close_roadshow(ctx: Any, roadshow_id: UUID, *, photos_submitted: bool,
                         infos: dict[UUID, int]) -> dict[str, Any]:
    """Close a roadshow with the infos each consultant collected: each one short of the minimum costs
    that consultant R6-43; no on-site photos, or costs without both approvals, cost the market
    specialist R6-42."""
    require_permission(ctx, "automotive.market.manage")
    parameters = dict(await tenant_parameters(ctx, VERTICAL))
    minimum = int(parameters.get("roadshow_infos_per_consultant", 5))
    async with unit_of_work(ctx) as uow:
        row = await _roadshow(uow, roadshow_id)
        if row["closed_at"] is not None:
            raise KehuError("AUTOMOTIVE_ROADSHOW_STATE", "the roadshow is closed already", "该巡展已结束", field="id")
        for consultant in infos:
            if not await tenant_user(uow, consultant):
                raise invalid("infos", "no such consultant in this tenant", "本租户没有该销售顾问")
        at = clock.now()
        await uow.update(Roadshow, {Roadshow.closed_at: at, Roadshow.photos_submitted: bool(photos_submitted),
                                    Roadshow.infos: json.dumps({str(k): _count(v, "infos") for k, v in infos.items()})}
                         ).where(Roadshow.id == roadshow_id)
        for consultant, collected in infos.items():
            if collected < minimum:
                await add_penalty(uow, parameters, "R6-43", consultant, at=at, quantity=minimum - collected,
                                  reason=f"{collected} of {minimum} customer infos at the roadshow of {row['held_on']}",
                                  source_key=f"roadshow:{roadshow_id}")
        unapproved = row["cost_cny"] > 0 and not (row["manager_approved_by"] and row["gm_approved_by"])
        if not photos_submitted or unapproved:
            why = "no on-site photos" if not photos_submitted else "costs without both approvals"
            await add_penalty(uow, parameters, "R6-42", row["specialist_id"], at=at, reason=f"roadshow: {why}",
                              source_key=f"roadshow:{roadshow_id}")
        await record(uow, "automotive.roadshow_closed", "automotive_roadshow", roadshow_id, {"consultants": len(infos)})
        await emit(uow, "automotive.roadshow_closed", "automotive_roadshow", roadshow_id, ("infos",))
        return await _roadshow(uow, roadshow_id)


async def roadshow_months(ctx: Any, since: str, until: str) -> list[dict[str, Any]]:
    """R6-42: roadshows held per month of [since, until] (at most 36 months) against the target."""
    require_permission(ctx, "automotive.report.read")
    parameters = await tenant_parameters(ctx, VERTICAL)
    target = int(parameters.get("roadshows_per_month", 4))
    try:
        first, last = date.fromisoformat(f"{since}-01"), date.fromisoformat(f"{until}-01")
    except (TypeError, ValueError):
        raise invalid("from", "months are YYYY-MM", "月份格式须为 YYYY-MM") from None
    months = []
    cursor = first
    while cursor <= last and len(months) <= 36:
        months.append(cursor.isoformat()[:7])
        cursor = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1)
    if not months or len(months) > 36:
        raise invalid("to", "a range of 1 to 36 months, from before to", "月份范围须为 1 至 36 个月")
    async with unit_of_work(ctx, write=False) as uow:
        counts = {r["month"]: r["count"] for r in await uow.select(Roadshow.month, Count()).where(
            Roadshow.month.is_in(months)).group_by(Roadshow.month)}
    return [{"month": m, "held": counts.get(m, 0), "target": target, "short": max(0, target - counts.get(m, 0))}
            for m in months]


async def roadshows(ctx: Any, window: Any) -> tuple[list[dict], bool]:
    if not holds(ctx, "automotive.market.manage"):
        require_permission(ctx, "automotive.report.read")
    async with unit_of_work(ctx, write=False) as uow:
        return await fetch_page(uow.select(Roadshow), [Roadshow.created_at, Roadshow.id], window, descending=True)
