"""Routes and grade reviews of the tobacco vertical, one function per use case (S21 Art13, Art14):
the monthly route-optimisation meeting and its minutes, the changes made after it (within one
working day), delivery-order changes (an address change is refused and reported to internal
management), visit-sale plans that never visit a customer twice in one order cycle nor on
consecutive days, the route balance, and the review due three working days after a grade evaluation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from core.plugins import (
    KehuError,
    customers_with_extensions,
    emit,
    fetch_page,
    record,
    require_permission,
    tenant_calendar,
    tenant_parameters,
    unit_of_work,
    update_customer_extensions,
)
from plugins.tobacco import policy, rules, service
from plugins.tobacco.tables import Change, Evaluation, RouteChange, RouteMeeting, VisitPlanRow

MAX_MINUTES = 20_000
MAX_PLAN_ENTRIES = 2_000
MAX_MONTHS = 36
DELIVERY_REASONS = ("address_change", "route_efficiency", "customer_request", "other")
ROUTE_FIELDS = ("delivery_route", "delivery_sequence", "visit_route", "visit_batch")


def _month(value: object, field: str) -> str:
    try:
        parsed = datetime.strptime(str(value), "%Y-%m")
    except ValueError:
        raise KehuError("TOBACCO_INPUT_INVALID", f"{field} is a month YYYY-MM", f"{field} 须为 YYYY-MM 月份",
                        field=field) from None
    return parsed.strftime("%Y-%m")


def _months(first: str, last: str) -> list[str]:
    year, month = map(int, first.split("-"))
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


# --- the monthly route meeting (Art13) ---------------------------------------------------------------


async def record_meeting(ctx: Any, *, month: str, held_on: date, minutes: str) -> dict[str, Any]:
    """The minutes of the month's route-optimisation meeting (marketing and logistics, Art13)."""
    service._tenant_wide(ctx, rules.ROUTE)
    month = _month(month, "month")
    if not isinstance(held_on, date) or held_on.strftime("%Y-%m") != month:
        raise KehuError("TOBACCO_INPUT_INVALID", "the meeting is held in the month it is for", "会议日期须在所属月份内",
                        field="heldOn")
    minutes = service._text(minutes, "minutes", MAX_MINUTES)
    async with unit_of_work(ctx) as uow:
        if await uow.exists(RouteMeeting).where(RouteMeeting.month == month):
            raise KehuError("TOBACCO_ROUTE_MEETING_EXISTS", f"the minutes of {month} are recorded already",
                            f"{month} 的线路优化会议记录已存在", field="month")
        meeting_id = uuid4()
        await uow.insert(RouteMeeting(id=meeting_id, month=month, held_on=held_on.isoformat(), minutes=minutes,
                                      recorded_by=ctx.actor, recorded_at=service.now()))
        await record(uow, "tobacco.route_meeting_recorded", "tobacco_route_meeting", meeting_id,
                     {"month": month, "held_on": held_on.isoformat()})
        await emit(uow, "tobacco.route_meeting_recorded", "tobacco_route_meeting", meeting_id, ["month", "minutes"])
        return await uow.select(RouteMeeting).where(RouteMeeting.id == meeting_id).first()


async def meetings(ctx: Any, window: Any) -> tuple[list[dict], bool]:
    _reader(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        return await fetch_page(uow.select(RouteMeeting), [RouteMeeting.month, RouteMeeting.id], window,
                                descending=True)


async def missing_minutes(ctx: Any, *, since: str, until: str) -> list[str]:
    """The months of [since, until] (at most 36, up to the current month) without meeting minutes."""
    _reader(ctx)
    since, until = _month(since, "from"), _month(until, "to")
    calendar = await tenant_calendar(ctx)
    current = service.now().astimezone(calendar.zone).strftime("%Y-%m")
    months = _months(since, min(until, current))
    if len(months) > MAX_MONTHS or since > until:
        raise KehuError("TOBACCO_INPUT_INVALID", f"a range of at most {MAX_MONTHS} months, from before to",
                        f"月份范围至多 {MAX_MONTHS} 个月，且起始不晚于结束", field="to")
    async with unit_of_work(ctx, write=False) as uow:
        held = {row["month"] for row in await uow.select(RouteMeeting.month).where(RouteMeeting.month.is_in(months))} \
            if months else set()
    return [m for m in months if m not in held]


def _reader(ctx: Any) -> None:
    if not (service._holds(ctx, rules.ROUTE) or service._holds(ctx, rules.MAINTAIN) or service._holds(ctx, rules.FILE)):
        require_permission(ctx, rules.REPORT)


async def apply_meeting_change(ctx: Any, meeting_id: UUID, customer_id: UUID, values: Mapping[str, Any]
                               ) -> dict[str, Any]:
    """The analyst maintains a change agreed in the meeting (routes, sequence, batch); it is due within
    one working day after the meeting and recorded late after that (Art13)."""
    service._tenant_wide(ctx, rules.MAINTAIN)
    values = {k: v for k, v in dict(values).items() if v is not None}
    if not values or set(values) - set(ROUTE_FIELDS):
        raise KehuError("TOBACCO_INPUT_INVALID", f"a route change sets some of {', '.join(ROUTE_FIELDS)}",
                        f"线路调整须设置 {'、'.join(ROUTE_FIELDS)} 中的字段", field="values")
    calendar = await tenant_calendar(ctx)
    parameters = await tenant_parameters(ctx, service.VERTICAL)
    async with unit_of_work(ctx) as uow:
        meeting = await uow.select(RouteMeeting).where(RouteMeeting.id == meeting_id).first() \
            if isinstance(meeting_id, UUID) else None
        if meeting is None:
            raise KehuError("TOBACCO_ROUTE_MEETING_NOT_FOUND", "no such route meeting", "未找到该线路优化会议", field="meetingId")
        version, _current = await service._values(uow, customer_id)
        held = date.fromisoformat(meeting["held_on"])
        due = policy.close_of(calendar.add_working_days(held, int(parameters["change_execution_working_days"])),
                              calendar)
        at = service.now()
        await update_customer_extensions(uow, service.VERTICAL, customer_id, values, version=version,
                                         reason=f"route meeting {meeting['month']} (S21 Art13)")
        change_id = uuid4()
        await uow.insert(RouteChange(id=change_id, customer_id=customer_id, meeting_id=meeting_id, kind="meeting",
                                     reason="meeting", outcome="applied", late=at > due, changed_by=ctx.actor, at=at))
        await record(uow, "tobacco.route_changed", "customer", customer_id,
                     {"fields": sorted(values), "meeting": meeting["month"], "late": at > due})
        await emit(uow, "tobacco.route_changed", "tobacco_route_change", change_id, sorted(values))
        return await uow.select(RouteChange).where(RouteChange.id == change_id).first()


async def change_delivery_order(ctx: Any, customer_id: UUID, *, sequence: int, reason: str,
                                note: str | None = None) -> dict[str, Any]:
    """The delivery person changes a customer's place in the route's delivery order, except when the
    customer's address changed: that is not adjusted, it is reported to internal management (the
    address is a control point, Art13). Both outcomes are recorded."""
    service._tenant_wide(ctx, rules.DELIVERY)
    reason = service._choice(reason, "reason", DELIVERY_REASONS)
    if not isinstance(sequence, int) or isinstance(sequence, bool) or not 1 <= sequence <= 10_000:
        raise KehuError("TOBACCO_INPUT_INVALID", "the delivery sequence is from 1 to 10000", "送货顺序须为 1 至 10000",
                        field="sequence")
    text = (note or "").strip()[:1000]
    async with unit_of_work(ctx) as uow:
        version, _current = await service._values(uow, customer_id)
        refused = reason == "address_change"
        if not refused:
            await update_customer_extensions(uow, service.VERTICAL, customer_id, {"delivery_sequence": sequence},
                                             version=version, reason=f"delivery order ({reason}, S21 Art13)")
        change_id = uuid4()
        outcome = "refused_reported" if refused else "applied"
        await uow.insert(RouteChange(id=change_id, customer_id=customer_id, kind="delivery_order", reason=reason,
                                     note=text, outcome=outcome, changed_by=ctx.actor, at=service.now()))
        action = "tobacco.address_change_reported" if refused else "tobacco.delivery_order_changed"
        await record(uow, action, "tobacco_route_change", change_id, {"customer_id": str(customer_id), "reason": reason})
        await emit(uow, action, "tobacco_route_change", change_id, ["outcome"])
        return await uow.select(RouteChange).where(RouteChange.id == change_id).first()


async def route_changes(ctx: Any, window: Any, *, outcome: str | None = None) -> tuple[list[dict], bool]:
    """Route changes, newest first; ``refused_reported`` lists the address changes reported (Art13)."""
    _reader(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(RouteChange)
        if outcome:
            query = query.where(RouteChange.outcome == outcome)
        return await fetch_page(query, [RouteChange.at, RouteChange.id], window, descending=True)


# --- visit-sale plans (Art13) ------------------------------------------------------------------------


async def save_visit_plan(ctx: Any, *, route: str, month: str, entries: Iterable[tuple[UUID, date]]
                          ) -> dict[str, Any]:
    """A route's visit-sale plan for a month: refused when it visits a customer twice in one order
    cycle (the customer's cycle, 7 days by default) or on consecutive days (连访连销) (Art13)."""
    service._tenant_wide(ctx, rules.ROUTE)
    route = service._text(route, "route", 40)
    month = _month(month, "month")
    entries = list(entries)
    if len(entries) > MAX_PLAN_ENTRIES:
        raise KehuError("TOBACCO_INPUT_INVALID", f"a plan has at most {MAX_PLAN_ENTRIES} visits",
                        f"一份计划至多 {MAX_PLAN_ENTRIES} 次拜访", field="entries")
    for index, (_customer, day) in enumerate(entries):
        if day.strftime("%Y-%m") != month:
            raise KehuError("TOBACCO_INPUT_INVALID", "every visit falls in the plan's month", "拜访日期须在计划月份内",
                            field=f"entries.{index}.day")
    async with unit_of_work(ctx) as uow:
        cycles: dict[UUID, int] = {}
        for customer_id in {c for c, _ in entries}:
            _version, values = await service._values(uow, customer_id)
            cycle = values.get("order_cycle_days")
            cycles[customer_id] = cycle if isinstance(cycle, int) and cycle > 0 else 7
        found = policy.visit_plan_violations(entries, cycles)
        if found:
            index, rule = found[0]
            raise KehuError("TOBACCO_VISIT_PLAN_INVALID",
                            f"visit {index + 1} {'repeats a visit-sale within the order cycle' if rule == 'cycle' else 'follows a visit-sale on the day before (连访连销)'} (S21 Art13)",
                            f"第 {index + 1} 次拜访{'与同一订货周期内的访销重复' if rule == 'cycle' else '与前一日访销相连（连访连销）'}（第十三条）",
                            field=f"entries.{index}")
        text = json.dumps([[str(c), d.isoformat()] for c, d in sorted(entries, key=lambda e: (e[1], str(e[0])))])
        existing = await uow.select(VisitPlanRow.id, VisitPlanRow.version).where(
            (VisitPlanRow.route == route) & (VisitPlanRow.month == month)).first()
        at = service.now()
        if existing is None:
            plan_id = uuid4()
            await uow.insert(VisitPlanRow(id=plan_id, route=route, month=month, entries=text, saved_by=ctx.actor,
                                          saved_at=at))
        else:
            plan_id = existing["id"]
            await uow.update(VisitPlanRow, {VisitPlanRow.entries: text, VisitPlanRow.saved_by: ctx.actor,
                                            VisitPlanRow.saved_at: at,
                                            VisitPlanRow.version: existing["version"] + 1}).where(
                VisitPlanRow.id == plan_id)
        await record(uow, "tobacco.visit_plan_saved", "tobacco_visit_plan", plan_id,
                     {"route": route, "month": month, "visits": len(entries)})
        await emit(uow, "tobacco.visit_plan_saved", "tobacco_visit_plan", plan_id, ["entries"])
        return await uow.select(VisitPlanRow).where(VisitPlanRow.id == plan_id).first()


async def visit_plan(ctx: Any, *, route: str, month: str) -> dict[str, Any] | None:
    _reader(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        return await uow.select(VisitPlanRow).where(
            (VisitPlanRow.route == str(route)) & (VisitPlanRow.month == _month(month, "month"))).first()


# --- the route balance (Art13: workload and sales per route) ------------------------------------------


async def route_balance(job_ctx: Any, progress: Any = None) -> dict[str, dict[str, dict[str, int]]]:
    """Per delivery route and per visit route: retailers and the sum of their quotas, over every
    customer of the tenant a page at a time (a long job's work, never a request's)."""
    balance: dict[str, dict[str, dict[str, int]]] = {"delivery_route": {}, "visit_route": {}}
    after, done = None, 0
    while True:
        async with unit_of_work(job_ctx, write=False) as uow:
            page = await customers_with_extensions(uow, service.VERTICAL, after=after, limit=1000)
        for _customer_id, values in page:
            for key in balance:
                route = values.get(key)
                if route:
                    row = balance[key].setdefault(str(route), {"retailers": 0, "quota": 0})
                    row["retailers"] += 1
                    row["quota"] += int(values.get("quota") or 0)
        done += len(page)
        if progress is not None:
            await progress(done, done + (1000 if len(page) == 1000 else 0))
        if len(page) < 1000:
            return balance
        after = page[-1][0]


# --- grade evaluations (Art14) -----------------------------------------------------------------------


async def close_evaluation(ctx: Any, *, closed_on: date) -> dict[str, Any]:
    """A grade evaluation ended: the section chief's review with the account managers is due within
    three working days (Art14)."""
    service._tenant_wide(ctx, rules.GRADE_CHANGE)
    calendar, today = await service._today(ctx)
    if not isinstance(closed_on, date) or closed_on > today:
        raise KehuError("TOBACCO_INPUT_INVALID", "the evaluation ended on a day not after today", "评定结束日期不得晚于今天",
                        field="closedOn")
    days = int((await tenant_parameters(ctx, service.VERTICAL))["grade_review_working_days"])
    async with unit_of_work(ctx) as uow:
        evaluation_id = uuid4()
        await uow.insert(Evaluation(id=evaluation_id, closed_on=closed_on.isoformat(), recorded_by=ctx.actor,
                                    review_due_at=policy.close_of(calendar.add_working_days(closed_on, days), calendar)))
        await record(uow, "tobacco.grade_evaluation_closed", "tobacco_evaluation", evaluation_id,
                     {"closed_on": closed_on.isoformat()})
        await emit(uow, "tobacco.grade_evaluation_closed", "tobacco_evaluation", evaluation_id, ["review_due_at"])
        return await uow.select(Evaluation).where(Evaluation.id == evaluation_id).first()


async def complete_review(ctx: Any, evaluation_id: UUID, *, note: str) -> dict[str, Any]:
    service._tenant_wide(ctx, rules.GRADE_CHANGE)
    note = service._text(note, "note", 5_000)
    async with unit_of_work(ctx) as uow:
        row = await uow.select(Evaluation).where(Evaluation.id == evaluation_id).first() \
            if isinstance(evaluation_id, UUID) else None
        if row is None:
            raise KehuError("TOBACCO_EVALUATION_NOT_FOUND", "no such grade evaluation", "未找到该等级评定", field="id")
        if row["reviewed_at"] is not None:
            raise KehuError("TOBACCO_EVALUATION_REVIEWED", "the evaluation's review is recorded already",
                            "该评定的复核已登记", field="id")
        at = service.now()
        await uow.update(Evaluation, {Evaluation.reviewed_at: at, Evaluation.reviewed_by: ctx.actor,
                                      Evaluation.note: note}).where(Evaluation.id == evaluation_id)
        await record(uow, "tobacco.grade_review_completed", "tobacco_evaluation", evaluation_id,
                     {"late": at > row["review_due_at"]})
        await emit(uow, "tobacco.grade_review_completed", "tobacco_evaluation", evaluation_id, ["reviewed_at"])
        return await uow.select(Evaluation).where(Evaluation.id == evaluation_id).first()


async def evaluations(ctx: Any, window: Any) -> tuple[list[dict], bool]:
    if not service._holds(ctx, rules.GRADE_CHANGE):
        require_permission(ctx, rules.REPORT)
    async with unit_of_work(ctx, write=False) as uow:
        return await fetch_page(uow.select(Evaluation), [Evaluation.review_due_at, Evaluation.id], window,
                                descending=True)


# --- duplicate phones: internal management's visits (Art12) -------------------------------------------


async def record_duplicate_visit(ctx: Any, change_id: UUID) -> dict[str, Any]:
    """Internal management visited the customers of an executed duplicate-phone change; the next visit
    is due after the tenant's ``duplicate_phone_visit_days``."""
    service._tenant_wide(ctx, rules.FILE)
    async with unit_of_work(ctx) as uow:
        row = await uow.select(Change.kind, Change.state).where(Change.id == change_id).first() \
            if isinstance(change_id, UUID) else None
        if row is None:
            raise service._not_found("change", change_id)
        if row["kind"] != "duplicate_phone" or row["state"] not in ("executed", "filed"):
            raise KehuError("TOBACCO_CHANGE_STATE", "visits follow an executed duplicate-phone change",
                            "仅已执行的重号变更可登记走访", field="id")
        await uow.update(Change, {Change.visited_at: service.now()}).where(Change.id == change_id)
        await record(uow, "tobacco.duplicate_phone_visited", "tobacco_change", change_id, {})
    return await service.change(ctx, change_id)

