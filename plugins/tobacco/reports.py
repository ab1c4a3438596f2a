"""The S21 reports as keyset lists (GraphQL connections) and as CSV/XLSX long jobs, the daily
phone-change report to the internal-management section (Art12) and the vertical's tick work.

Every list reads one window through an index that leads with its filter, so a page costs the same
whatever the number of retailers."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from piccolo.query.methods.select import Count

from core.plugins import (
    KehuError,
    emit,
    fetch_page,
    long_job,
    record,
    submit_job,
    tenant_calendar,
    tenant_parameters,
    tick,
    unit_of_work,
)
from plugins.tobacco import policy, routes, rules, service
from plugins.tobacco.tables import (
    Change,
    Deadline,
    Evaluation,
    PhoneChange,
    PhoneReport,
    RouteChange,
    RouteMeeting,
    TemporaryChange,
    Watch,
)

EXPORT_JOB = "tobacco.report_export"
REPORTS = ("onboarding_overdue", "temporary_unreverted", "watch_list", "phone_changes", "duplicate_phones",
           "grade_changes", "changes_overdue", "route_balance", "route_changes", "address_changes",
           "grade_reviews", "route_meetings", "onboarding_compliance")
FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
EXPORT_MAX_ROWS = 100_000
PHONE_REPORT_DAYS_PER_TICK = 31


def _time_key(raw: list[Any]) -> tuple[datetime, UUID]:
    return datetime.fromisoformat(raw[0]), UUID(raw[1])


time_key = _time_key


def _reader(ctx: Any, *extra: str) -> None:
    """The reports are read by the report holders, the internal-management section and the analyst."""
    for permission in (rules.REPORT, *extra):
        try:
            service._tenant_wide(ctx, permission)
            return
        except KehuError as refused:
            denied = refused
    raise denied


def _day(value: object, field: str = "day") -> date:
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise KehuError("DATE_INVALID", f"{field} is a day YYYY-MM-DD", f"{field} 须为 YYYY-MM-DD 日期", field=field) from None


# --- the lists ----------------------------------------------------------------------------------------


def _overdue_query(uow: Any, step: str | None) -> Any:
    query = uow.select(Deadline).where(Deadline.state == "overdue")
    return query.where(Deadline.step == step) if step else query


async def onboarding_overdue(ctx: Any, window: Any, *, step: str | None = None) -> tuple[list[dict], bool]:
    """Onboarding steps that fell due with fields missing (S21 Art7; the SLA breaches), by due time."""
    _reader(ctx, rules.MAINTAIN)
    if step is not None and step not in rules.STEP_KEYS:
        raise KehuError("TOBACCO_INPUT_INVALID", f"step is one of {', '.join(rules.STEP_KEYS)}",
                        f"step 须为 {'、'.join(rules.STEP_KEYS)} 之一", field="step")
    async with unit_of_work(ctx, write=False) as uow:
        return await fetch_page(_overdue_query(uow, step), [Deadline.due_at, Deadline.id], window)


def _unreverted_query(uow: Any, at: datetime) -> Any:
    return uow.select(*service._TEMPORARY_COLUMNS).where(
        (TemporaryChange.state == "unreverted")
        | ((TemporaryChange.state == "ordered") & (TemporaryChange.revert_due_at < at)))


async def temporary_unreverted(ctx: Any, window: Any) -> tuple[list[dict], bool]:
    """Temporary changes not reverted within one working day after the order (Art11, Art12): those the
    revert could not apply and those still waiting past their due time."""
    _reader(ctx, rules.MAINTAIN, rules.FILE)
    async with unit_of_work(ctx, write=False) as uow:
        return await fetch_page(_unreverted_query(uow, service.now()), [TemporaryChange.applied_at, TemporaryChange.id],
                                window)


async def watch_list(ctx: Any, window: Any) -> tuple[list[dict], bool]:
    """Customers who changed their order phone twice (the tenant's count) within a month (Art12)."""
    _reader(ctx, rules.FILE)
    async with unit_of_work(ctx, write=False) as uow:
        return await fetch_page(uow.select(Watch), [Watch.last_change_at, Watch.id], window, descending=True)


async def day_bounds(ctx: Any, day: date) -> tuple[datetime, datetime]:
    calendar = await tenant_calendar(ctx)
    start = datetime.combine(day, datetime.min.time(), calendar.zone)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), calendar.zone)


def _phone_query(uow: Any, start: datetime, end: datetime) -> Any:
    return uow.select(PhoneChange).where((PhoneChange.at >= start) & (PhoneChange.at < end))


async def phone_changes(ctx: Any, day: object, window: Any) -> tuple[list[dict], bool]:
    """The day's order-phone changes (local day of the tenant), each once, in time order: the daily
    report to the internal-management section (Art12)."""
    _reader(ctx, rules.FILE)
    start, end = await day_bounds(ctx, _day(day))
    async with unit_of_work(ctx, write=False) as uow:
        return await fetch_page(_phone_query(uow, start, end), [PhoneChange.at, PhoneChange.id], window)


async def phone_reports(ctx: Any, window: Any) -> tuple[list[dict], bool]:
    _reader(ctx, rules.FILE)
    async with unit_of_work(ctx, write=False) as uow:
        return await fetch_page(uow.select(PhoneReport), [PhoneReport.produced_at, PhoneReport.id], window,
                                descending=True)


def _changes_query(uow: Any, kind: str | None, state: str | None, overdue_at: datetime | None) -> Any:
    query = uow.select(*service._CHANGE_COLUMNS)
    if kind:
        query = query.where(Change.kind == kind)
    if state:
        query = query.where(Change.state == state)
    if overdue_at is not None:
        query = query.where((Change.state == "approved") & (Change.execute_due_at < overdue_at))
    return query


async def changes(ctx: Any, window: Any, *, kind: str | None = None, state: str | None = None,
                  overdue: bool = False) -> tuple[list[dict], bool]:
    """Special changes, newest first: the duplicate-phone register (kind duplicate_phone), the grade-change
    log (grade), approved changes past their execution day (overdue)."""
    if not any(service._holds(ctx, p) for p in (rules.REQUEST, rules.MAINTAIN, rules.FILE,
                                                   *policy.ROLE_PERMISSION.values())):
        _reader(ctx)
    if kind is not None and kind not in policy.SPECIAL_CHANGES:
        raise KehuError("TOBACCO_INPUT_INVALID", f"kind is one of {', '.join(policy.SPECIAL_CHANGES)}",
                        f"kind 须为 {'、'.join(policy.SPECIAL_CHANGES)} 之一", field="kind")
    days = int((await tenant_parameters(ctx, service.VERTICAL))["duplicate_phone_visit_days"])
    async with unit_of_work(ctx, write=False) as uow:
        query = _changes_query(uow, kind, state, service.now() if overdue else None)
        rows, more = await fetch_page(query, [Change.requested_at, Change.id], window, descending=True)
    return [{**row, "visit_due_at": policy.visit_due(row, days)} for row in rows], more


async def onboarding_compliance(ctx: Any) -> list[list[Any]]:
    """Per onboarding step: how many fell due met, overdue, and are still pending, and the share met
    on time of those that fell due (S21 report list: onboarding SLA compliance per field group). Over
    every deadline of the tenant: an export's work, never a request's."""
    async with unit_of_work(ctx, write=False) as uow:
        counts = await uow.select(Deadline.step, Deadline.state, Count()).group_by(
            Deadline.step, Deadline.state)
    by_step: dict[str, dict[str, int]] = {step: {"met": 0, "overdue": 0, "pending": 0} for step in rules.STEP_KEYS}
    for row in counts:
        by_step.setdefault(row["step"], {"met": 0, "overdue": 0, "pending": 0})[row["state"]] = row["count"]
    return [[step, c["met"], c["overdue"], c["pending"],
             round(100 * c["met"] / (c["met"] + c["overdue"]), 1) if c["met"] + c["overdue"] else ""]
            for step, c in by_step.items()]


# --- the daily phone-change report (Art12) ------------------------------------------------------------


async def produce_phone_reports(ctx: Any, at: datetime) -> int:
    """Once a day has ended (the tenant's local midnight), its phone-change report: the count kept and
    ``tobacco.phone_changes_reported`` sent to the webhooks (内管科's mailbox subscribes); the changes
    themselves are ``tobaccoPhoneChanges(day:)``. Days run in order from the first change on, at most
    a month per tick; a day is reported once (unique day)."""
    calendar = await tenant_calendar(ctx)
    today = at.astimezone(calendar.zone).date()
    async with unit_of_work(ctx, write=False) as uow:
        last = await uow.select(PhoneReport.day).order_by(PhoneReport.day, ascending=False).first()
        if last is not None:
            start = date.fromisoformat(last["day"]) + timedelta(days=1)
        else:
            first = await uow.select(PhoneChange.at).order_by(PhoneChange.at).first()
            if first is None:
                return 0
            start = first["at"].astimezone(calendar.zone).date()
    made = 0
    day = start
    while day < today and made < PHONE_REPORT_DAYS_PER_TICK:
        begin, end = await day_bounds(ctx, day)
        async with unit_of_work(ctx) as uow:
            if not await uow.exists(PhoneReport).where(PhoneReport.day == day.isoformat()):
                count = await uow.count(PhoneChange).where((PhoneChange.at >= begin) & (PhoneChange.at < end))
                report_id = uuid4()
                await uow.insert(PhoneReport(id=report_id, day=day.isoformat(), changes=count, produced_at=at))
                await record(uow, "tobacco.phone_changes_reported", "tobacco_phone_report", report_id,
                             {"day": day.isoformat(), "changes": count})
                await emit(uow, "tobacco.phone_changes_reported", "tobacco_phone_report", report_id, ["day", "changes"])
                made += 1
        day += timedelta(days=1)
    return made


# --- exports (CSV / XLSX long jobs) -------------------------------------------------------------------


async def start_export(ctx: Any, report: str, fmt: str, *, day: object = None) -> UUID:
    _reader(ctx, rules.FILE, rules.MAINTAIN)
    if report not in REPORTS:
        raise KehuError("TOBACCO_INPUT_INVALID", f"report is one of {', '.join(REPORTS)}",
                        f"report 须为 {'、'.join(REPORTS)} 之一", field="report")
    if fmt not in FORMATS:
        raise KehuError("EXPORT_FORMAT_INVALID", "format must be csv or xlsx", "格式须为 csv 或 xlsx", field="format")
    params: dict[str, Any] = {"report": report, "format": fmt}
    if report == "phone_changes":
        if day is None:
            raise KehuError("TOBACCO_INPUT_INVALID", "the phone-change report is of one day", "电话变更报告须指定日期",
                            field="day")
        params["day"] = _day(day).isoformat()
    async with unit_of_work(ctx) as uow:
        job_id = await submit_job(uow, EXPORT_JOB, params)
        await record(uow, "tobacco.report_exported", "long_job", job_id, {"report": report, "format": fmt})
    return job_id


_EXPORT_COLUMNS = {
    "onboarding_overdue": ("customer_id", "step", "due_at", "checked_at", "missing"),
    "temporary_unreverted": ("id", "customer_id", "kind", "reason", "state", "applied_at", "ordered_at",
                             "revert_due_at", "failure"),
    "watch_list": ("customer_id", "added_at", "last_change_at", "changes"),
    "phone_changes": ("id", "customer_id", "at", "kind", "changed_by"),
    "duplicate_phones": ("id", "customer_id", "application_ref", "reason", "state", "first_role", "first_by",
                         "second_role", "second_by", "executed_at", "filed_at"),
    "grade_changes": ("id", "customer_id", "application_ref", "state", "first_by", "second_by", "executed_by",
                      "executed_at", "filed_at"),
    "changes_overdue": ("id", "customer_id", "kind", "application_ref", "execute_due_at"),
    "route_balance": ("route_kind", "route", "retailers", "quota"),
    "route_changes": ("id", "customer_id", "meeting_id", "kind", "reason", "outcome", "late", "changed_by", "at"),
    "address_changes": ("id", "customer_id", "reason", "note", "changed_by", "at"),
    "grade_reviews": ("id", "closed_on", "review_due_at", "reviewed_at", "reviewed_by"),
    "route_meetings": ("id", "month", "held_on", "minutes", "recorded_by", "recorded_at"),
    "onboarding_compliance": ("step", "met", "overdue", "pending", "compliance_percent"),
}


async def _export_query(ctx: Any, uow: Any, params: Mapping[str, Any]) -> tuple[Any, list[Any]]:
    report = params["report"]
    if report == "onboarding_overdue":
        return _overdue_query(uow, None), [Deadline.due_at, Deadline.id]
    if report == "temporary_unreverted":
        return _unreverted_query(uow, service.now()), [TemporaryChange.applied_at, TemporaryChange.id]
    if report == "watch_list":
        return uow.select(Watch), [Watch.last_change_at, Watch.id]
    if report == "phone_changes":
        start, end = await day_bounds(ctx, _day(params["day"]))
        return _phone_query(uow, start, end), [PhoneChange.at, PhoneChange.id]
    if report == "changes_overdue":
        return _changes_query(uow, None, None, service.now()), [Change.requested_at, Change.id]
    if report in ("route_changes", "address_changes"):
        query = uow.select(RouteChange)
        if report == "address_changes":
            query = query.where(RouteChange.outcome == "refused_reported")
        return query, [RouteChange.at, RouteChange.id]
    if report == "grade_reviews":
        return uow.select(Evaluation), [Evaluation.review_due_at, Evaluation.id]
    if report == "route_meetings":
        return uow.select(RouteMeeting), [RouteMeeting.month, RouteMeeting.id]
    kind = {"duplicate_phones": "duplicate_phone", "grade_changes": "grade"}[report]
    return _changes_query(uow, kind, None, None), [Change.requested_at, Change.id]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text = value if isinstance(value, int | float) else str(value)
    # A cell a spreadsheet would run as a formula is kept as text.
    return "'" + text if isinstance(text, str) and text[:1] in ("=", "+", "-", "@") else text


@long_job(EXPORT_JOB, read_permission=rules.REPORT)
async def run_export(job: Any) -> dict[str, Any]:
    """The report's rows in pages of 1,000 with progress, as CSV (UTF-8 with a BOM) or XLSX."""
    params = job.params
    columns = _EXPORT_COLUMNS[params["report"]]
    rows: list[list[Any]] = []
    after = None
    whole = params["report"] in ("route_balance", "onboarding_compliance")  # aggregates, not row lists
    if params["report"] == "route_balance":
        balance = await routes.route_balance(job.ctx, job.progress)
        rows = [[kind, route, figures["retailers"], figures["quota"]]
                for kind, by_route in balance.items() for route, figures in sorted(by_route.items())]
    if params["report"] == "onboarding_compliance":
        rows = await onboarding_compliance(job.ctx)
    while not whole and len(rows) < EXPORT_MAX_ROWS:
        async with unit_of_work(job.ctx, write=False) as uow:
            query, order = await _export_query(job.ctx, uow, params)  # a fresh query per page
            if after is not None:
                first, ident = order
                query = query.where((first > after[0]) | ((first == after[0]) & (ident > after[1])))
            chunk = await query.order_by(*order).limit(1000)
        rows.extend([_cell(row.get(c)) for c in columns] for row in chunk)
        await job.progress(len(rows), len(rows) + (1000 if len(chunk) == 1000 else 0))
        if len(chunk) < 1000:
            break
        after = (chunk[-1][order[0]._meta.name], chunk[-1]["id"])
    name = f"tobacco-{params['report']}{'-' + params['day'] if params.get('day') else ''}.{params['format']}"
    job.output(name, FORMATS[params["format"]])
    if params["format"] == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        await job.write("\ufeff" + out.getvalue())
    else:
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = params["report"][:31]
        sheet.append(list(columns))
        for row in rows:
            sheet.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        await job.write_bytes(buffer.getvalue())
    return {"report": params["report"], "rows": len(rows), "truncated": len(rows) >= EXPORT_MAX_ROWS}


# --- the tick work -------------------------------------------------------------------------------------


@tick("tobacco.onboarding_sweep")
async def onboarding_tick(ctx: Any, at: datetime) -> int:
    return await service.sweep_onboarding(ctx, at)


@tick("tobacco.temporary_revert")
async def revert_tick(ctx: Any, at: datetime) -> int:
    return await service.revert_due(ctx, at)


@tick("tobacco.phone_report")
async def phone_report_tick(ctx: Any, at: datetime) -> int:
    return await produce_phone_reports(ctx, at)
