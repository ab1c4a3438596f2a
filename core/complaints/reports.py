"""Complaint reports (issue 19 "Reports"): on-time rate per timer, volumes by category and
severity, overdue by department, weekly and monthly statistics, and loss amounts per responsible
department where the flow records them.

:func:`aggregate` is pure: it reads complaint and clock rows (mappings with the columns of
``core.complaints.tables``) and the report's moment, and counts. :func:`complaint_report` reads
the rows of the flows the caller may read (each flow's ``read_permission``, of the tenant's
enabled verticals; a caller who may read none of them is refused) and aggregates them; :func:`start_report_export` queues the long job
``complaint.report`` that writes the same report as CSV (UTF-8 with a BOM, sections one after
the other) or XLSX (a sheet per section).

How a clock counts (its stored status and times, never the wall clock of a request):

- on time: stopped before its due time (status ``met``);
- breached: stopped after it (``late``), or still running with its due time passed (whether the
  tick has noticed it yet or not);
- pending: running or paused, not yet due.

The on-time rate of a timer is on time / (on time + breached); none while nothing is decided.
A complaint is overdue when it is open and one of its clocks is running past its due time; it
counts for its responsible department (``department_id``; none: "no department").

Loss amounts: a flow records an amount as a field of a transition (``loss_cny`` by default, kept
as ``<action>.loss_cny`` in the complaint's fields); each recorded value (a number or decimal
text) adds to the complaint's responsible department; values that are no number are left out
and counted as ``unreadable``.

Weeks are ISO weeks (Monday first) and months calendar months, both on the tenant's time zone
(its working-day calendar's): a complaint counts as opened in the period of its ``opened_at``,
closed in that of its ``closed_at``; a clock met on time counts in the period it stopped in, a
breached one in the period its due time passed in.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from core.audit.chain import record
from core.calendar.settings import load_calendar
from core.complaints import service
from core.complaints.tables import Complaint, ComplaintClock
from core.context import Context, Principal
from core.db import unit_of_work
from core.errors import KehuError
from core.identity.access import require, require_any, require_signed_in
from core.identity.permissions import Scope
from core.jobs import long_jobs
from core.plugins.complaint_flows import ComplaintFlowDefinition
from core.plugins.manager import VerticalRegistry, started_verticals
from core.tenancy.tables import Department
from core.verticals.tables import VerticalEnablement

REPORT_JOB = "complaint.report"
# Who besides its requester may see a report job: nobody (the report covers the flows its
# requester may read, which another reader may not); no principal holds this name.
REQUESTER_ONLY = "complaint.report.requester_only"
FORMATS = ("csv", "xlsx")
MEDIA = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
LOSS_FIELD = "loss_cny"
MAX_RANGE_DAYS = 3700  # about ten years of complaints in one report
_BATCH = 500


def _invalid(code: str, field_name: str | None, en: str, zh: str) -> KehuError:
    return KehuError(code, en, zh, field=field_name)


# --- the report ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimerRate:
    vertical: str
    flow: str
    timer: str
    kind: str  # timer | report (a written report owed after an escalation)
    on_time: int
    breached: int
    pending: int

    @property
    def rate(self) -> float | None:
        decided = self.on_time + self.breached
        return None if decided == 0 else self.on_time / decided


@dataclass(frozen=True, slots=True)
class Volume:
    vertical: str
    flow: str
    category: str
    severity: str
    complaints: int
    open: int


@dataclass(frozen=True, slots=True)
class DepartmentOverdue:
    department_id: UUID | None
    department: str | None
    complaints: int  # open complaints with a clock running past its due time
    clocks: int  # those clocks


@dataclass(frozen=True, slots=True)
class PeriodStats:
    period: str  # 2026-W40 | 2026-09
    start: date  # the period's first day on the tenant's calendar
    opened: int
    closed: int
    on_time: int
    breached: int

    @property
    def rate(self) -> float | None:
        decided = self.on_time + self.breached
        return None if decided == 0 else self.on_time / decided


@dataclass(frozen=True, slots=True)
class DepartmentLoss:
    department_id: UUID | None
    department: str | None
    complaints: int  # complaints with a recorded loss
    total: Decimal
    unreadable: int = 0  # recorded values that are no number


@dataclass(frozen=True, slots=True)
class ComplaintReport:
    at: datetime
    since: datetime | None
    until: datetime | None
    timezone: str
    complaints: int
    on_time: list[TimerRate] = field(default_factory=list)
    volumes: list[Volume] = field(default_factory=list)
    overdue: list[DepartmentOverdue] = field(default_factory=list)
    weekly: list[PeriodStats] = field(default_factory=list)
    monthly: list[PeriodStats] = field(default_factory=list)
    losses: list[DepartmentLoss] = field(default_factory=list)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def clock_outcome(clock: Mapping[str, Any], at: datetime) -> str:
    """``on_time``, ``breached`` or ``pending`` for a clock row at ``at`` (see the module)."""
    status = clock["status"]
    if status == "met":
        return "on_time"
    if status == "late" or clock.get("breached_at") is not None:
        return "breached"
    due = _utc(clock["due_at"])
    if status == "running" and due is not None and due <= at:
        return "breached"
    return "pending"


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(str(value).strip()) if isinstance(value, (int, float, str, Decimal)) else None
    except InvalidOperation:
        return None
    return amount if amount is not None and amount.is_finite() else None


def _week(day: date) -> tuple[str, date]:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}", day - timedelta(days=day.weekday())


def _month(day: date) -> tuple[str, date]:
    return f"{day.year}-{day.month:02d}", day.replace(day=1)


def aggregate(complaints: Iterable[Mapping[str, Any]], clocks: Iterable[Mapping[str, Any]], at: datetime, *,
              timezone: str = "Asia/Shanghai", departments: Mapping[UUID, str] | None = None,
              loss_field: str = LOSS_FIELD, since: datetime | None = None,
              until: datetime | None = None) -> ComplaintReport:
    """The report of these complaints and their clocks at ``at`` (pure)."""
    zone = ZoneInfo(timezone)
    names = departments or {}
    cases = {row["id"]: row for row in complaints}
    timers: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    volumes: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    overdue_clocks: dict[UUID, int] = defaultdict(int)
    periods: dict[str, dict[str, list[Any]]] = {"week": {}, "month": {}}

    def bump(moment: datetime | None, slot: int) -> None:
        if moment is None:
            return
        day = moment.astimezone(zone).date()
        for kind, of in (("week", _week), ("month", _month)):
            key, start = of(day)
            periods[kind].setdefault(key, [start, 0, 0, 0, 0])[slot] += 1

    for case in cases.values():
        volumes[(case["vertical"], case["flow"], case["category"], case["severity"])][0] += 1
        if case["closed_at"] is None:
            volumes[(case["vertical"], case["flow"], case["category"], case["severity"])][1] += 1
        bump(_utc(case["opened_at"]), 1)
        bump(_utc(case["closed_at"]), 2)
    for clock in clocks:
        case = cases.get(clock["complaint_id"])
        if case is None:
            continue
        outcome = clock_outcome(clock, at)
        slot = {"on_time": 0, "breached": 1, "pending": 2}[outcome]
        timers[(case["vertical"], case["flow"], clock["timer"], clock["kind"])][slot] += 1
        if outcome == "on_time":
            bump(_utc(clock.get("stopped_at")), 3)
        elif outcome == "breached":
            bump(_utc(clock["due_at"]), 4)
        due = _utc(clock["due_at"])
        if case["closed_at"] is None and clock["status"] == "running" and due is not None and due <= at:
            overdue_clocks[case["id"]] += 1

    by_department: dict[UUID | None, list[int]] = defaultdict(lambda: [0, 0])
    for case_id, count in overdue_clocks.items():
        entry = by_department[cases[case_id]["department_id"]]
        entry[0] += 1
        entry[1] += count
    losses: dict[UUID | None, list[Any]] = defaultdict(lambda: [0, Decimal(0), 0])
    suffix = f".{loss_field}"
    for case in cases.values():
        recorded = case["fields"]
        values = json.loads(recorded) if isinstance(recorded, str) else dict(recorded or {})
        found = [v for k, v in sorted(values.items()) if k.endswith(suffix) or k == loss_field]
        if not found:
            continue
        entry = losses[case["department_id"]]
        entry[0] += 1
        for value in found:
            amount = _amount(value)
            if amount is None:
                entry[2] += 1
            else:
                entry[1] += amount

    def department_key(item: tuple[UUID | None, Any]) -> tuple[int, str, str]:
        department_id = item[0]
        return (department_id is None, names.get(department_id, "") if department_id else "", str(department_id))

    def stats(kind: str) -> list[PeriodStats]:
        return [PeriodStats(period=key, start=v[0], opened=v[1], closed=v[2], on_time=v[3], breached=v[4])
                for key, v in sorted(periods[kind].items(), key=lambda kv: kv[1][0])]

    return ComplaintReport(
        at=at, since=since, until=until, timezone=timezone, complaints=len(cases),
        on_time=[TimerRate(vertical=k[0], flow=k[1], timer=k[2], kind=k[3], on_time=v[0], breached=v[1], pending=v[2])
                 for k, v in sorted(timers.items())],
        volumes=[Volume(vertical=k[0], flow=k[1], category=k[2], severity=k[3], complaints=v[0], open=v[1])
                 for k, v in sorted(volumes.items())],
        overdue=[DepartmentOverdue(department_id=d, department=names.get(d) if d else None, complaints=v[0],
                                   clocks=v[1]) for d, v in sorted(by_department.items(), key=department_key)],
        weekly=stats("week"), monthly=stats("month"),
        losses=[DepartmentLoss(department_id=d, department=names.get(d) if d else None, complaints=v[0], total=v[1],
                               unreadable=v[2]) for d, v in sorted(losses.items(), key=department_key)])


# --- reading ---------------------------------------------------------------------------------------


def _readable_flows(ctx: Context, registry: VerticalRegistry, enabled: set[str], vertical: str | None,
                    flow: str | None) -> list[tuple[str, str]]:
    """The (vertical, flow) pairs of the report: the flows asked for that the caller may read
    (their read permission); PERMISSION_DENIED when it may read none of them (or names one it
    may not read)."""
    chosen: list[tuple[str, ComplaintFlowDefinition]] = [
        (d.id, f) for d in registry.definitions if d.id in enabled for f in d.complaint_flows
        if isinstance(f, ComplaintFlowDefinition) and (vertical is None or d.id == vertical)
        and (flow is None or f.id == flow)]
    if flow is not None and vertical is not None:
        if not chosen:
            service.flow_of(registry, vertical, flow)  # COMPLAINT_FLOW_UNKNOWN
        for _, definition in chosen:  # a named flow: refused (PERMISSION_DENIED) when the caller may not read it
            if definition.read_permission:
                require(ctx, definition.read_permission)
    readable = []
    for vertical_id, definition in chosen:
        try:
            if definition.read_permission:
                require(ctx, definition.read_permission)
        except KehuError:
            continue
        readable.append((vertical_id, definition.id))
    if not readable and not ctx.is_system:
        # a report needs the read permission of a flow it covers; with none, it is refused naming them
        wanted = [f.read_permission for _, f in chosen if f.read_permission] or sorted(_flow_permissions(registry))
        require_any(ctx, wanted or ["(no complaint flow)"])
    return readable


def _check_range(since: datetime | None, until: datetime | None) -> None:
    for name, value in (("since", since), ("until", until)):
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise _invalid("COMPLAINT_REPORT_RANGE_INVALID", name, f"{name} must be a date and time with its offset",
                           f"{name} 须为带时区偏移的日期时间")
    if since is not None and until is not None:
        if until <= since:
            raise _invalid("COMPLAINT_REPORT_RANGE_INVALID", "until", "until must come after since",
                           "截止时间须晚于起始时间")
        if until - since > timedelta(days=MAX_RANGE_DAYS):
            raise _invalid("COMPLAINT_REPORT_RANGE_INVALID", "until",
                           f"a report covers at most {MAX_RANGE_DAYS} days", f"报表最多覆盖 {MAX_RANGE_DAYS} 天")


async def _scope(uow: Any, registry: VerticalRegistry, vertical: str | None, flow: str | None,
                 since: datetime | None, until: datetime | None, loss_field: str) -> list[tuple[str, str]]:
    """Check a report's arguments and the caller's permission; the (vertical, flow) pairs it covers."""
    ctx = uow.ctx
    require_signed_in(ctx)
    _check_range(since, until)
    if not isinstance(loss_field, str) or not loss_field or len(loss_field) > 60:
        raise _invalid("COMPLAINT_REPORT_RANGE_INVALID", "loss_field", "the loss field is a name of 1 to 60 characters",
                       "损失字段名须为 1 至 60 个字符")
    enabled = {r["vertical_id"] for r in await uow.select(VerticalEnablement.vertical_id).where(
        VerticalEnablement.status == "enabled")}
    if vertical is not None and flow is not None and vertical not in enabled:
        service.flow_of(registry, vertical, flow)
    return _readable_flows(ctx, registry, enabled, vertical, flow)


_COMPLAINT_COLUMNS = (Complaint.id, Complaint.vertical, Complaint.flow, Complaint.category, Complaint.severity,
                      Complaint.department_id, Complaint.fields, Complaint.opened_at, Complaint.closed_at)
_CLOCK_COLUMNS = (ComplaintClock.complaint_id, ComplaintClock.timer, ComplaintClock.kind, ComplaintClock.status,
                  ComplaintClock.due_at, ComplaintClock.breached_at, ComplaintClock.stopped_at)


async def complaint_report(ctx: Context, registry: VerticalRegistry, *, vertical: str | None = None,
                           flow: str | None = None, since: datetime | None = None, until: datetime | None = None,
                           loss_field: str = LOSS_FIELD) -> ComplaintReport:
    """The report of the complaints opened in [since, until) of the flows the caller may read, at
    the service's time; refused (PERMISSION_DENIED) when the caller may read none of the flows
    asked for, or names a flow it may not read."""
    at = service.now()
    async with unit_of_work(ctx, write=False) as uow:
        readable = await _scope(uow, registry, vertical, flow, since, until, loss_field)
        calendar = await load_calendar(uow)
        complaints: list[dict[str, Any]] = []
        clocks: list[dict[str, Any]] = []
        names: dict[UUID, str] = {}
        if readable:
            reach = None
            for vertical_id, flow_id in readable:
                one = (Complaint.vertical == vertical_id) & (Complaint.flow == flow_id)
                reach = one if reach is None else reach | one
            query = uow.select(*_COMPLAINT_COLUMNS).where(reach)
            if since is not None:
                query = query.where(Complaint.opened_at >= since)
            if until is not None:
                query = query.where(Complaint.opened_at < until)
            complaints = list(await query)
            ids = [row["id"] for row in complaints]
            for start in range(0, len(ids), _BATCH):
                clocks.extend(await uow.select(*_CLOCK_COLUMNS).where(
                    ComplaintClock.complaint_id.is_in(ids[start:start + _BATCH])))
            names = {r["id"]: r["name"] for r in await uow.select(Department.id, Department.name)}
    return aggregate(complaints, clocks, at, timezone=calendar.timezone, departments=names, loss_field=loss_field,
                     since=since, until=until)


# --- files -----------------------------------------------------------------------------------------


def _rate(value: float | None) -> str | None:
    return None if value is None else f"{value:.4f}"


def sections(report: ComplaintReport) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The report as (title, columns, rows) tables, one per section."""
    department = lambda d: str(d) if d else None  # noqa: E731
    return [
        ("on_time", ["vertical", "flow", "timer", "kind", "on_time", "breached", "pending", "on_time_rate"],
         [[t.vertical, t.flow, t.timer, t.kind, t.on_time, t.breached, t.pending, _rate(t.rate)] for t in report.on_time]),
        ("volumes", ["vertical", "flow", "category", "severity", "complaints", "open"],
         [[v.vertical, v.flow, v.category, v.severity, v.complaints, v.open] for v in report.volumes]),
        ("overdue_by_department", ["department_id", "department", "complaints", "clocks"],
         [[department(o.department_id), o.department, o.complaints, o.clocks] for o in report.overdue]),
        ("weekly", ["week", "start", "opened", "closed", "on_time", "breached", "on_time_rate"],
         [[p.period, p.start.isoformat(), p.opened, p.closed, p.on_time, p.breached, _rate(p.rate)]
          for p in report.weekly]),
        ("monthly", ["month", "start", "opened", "closed", "on_time", "breached", "on_time_rate"],
         [[p.period, p.start.isoformat(), p.opened, p.closed, p.on_time, p.breached, _rate(p.rate)]
          for p in report.monthly]),
        ("losses_by_department", ["department_id", "department", "complaints", "total", "unreadable"],
         [[department(x.department_id), x.department, x.complaints, str(x.total), x.unreadable] for x in report.losses]),
    ]


def report_file(report: ComplaintReport, fmt: str) -> bytes:
    """CSV (UTF-8 with a BOM so Excel reads it; each section a title row, a header row and its
    rows, a blank row between sections) or XLSX (a sheet per section)."""
    tables = sections(report)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for index, (title, columns, rows) in enumerate(tables):
            if index:
                writer.writerow([])
            writer.writerow([f"# {title}"])
            writer.writerow(columns)
            writer.writerows([["" if cell is None else cell for cell in row] for row in rows])
        return ("\ufeff" + out.getvalue()).encode()
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, columns, rows in tables:
        sheet = book.create_sheet(title[:31])
        sheet.append(columns)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- the export job --------------------------------------------------------------------------------

def _flow_permissions(registry: VerticalRegistry) -> set[str]:
    return {f.read_permission for d in registry.definitions for f in d.complaint_flows
            if isinstance(f, ComplaintFlowDefinition) and f.read_permission}


async def start_report_export(ctx: Context, registry: VerticalRegistry, *, fmt: str = "csv",
                              vertical: str | None = None, flow: str | None = None, since: datetime | None = None,
                              until: datetime | None = None, loss_field: str = LOSS_FIELD) -> UUID:
    """Queue the report as a CSV or XLSX file (job ``complaint.report``); the job reads as the
    caller, with the flows' read permissions the caller holds now. Returns the job to watch."""
    require_signed_in(ctx)
    if fmt not in FORMATS:
        raise _invalid("EXPORT_FORMAT_INVALID", "format", "format must be csv or xlsx", "格式须为 csv 或 xlsx")
    async with unit_of_work(ctx, write=False) as uow:  # the query's checks, before anything is queued
        await _scope(uow, registry, vertical, flow, since, until, loss_field)
    who = None
    if ctx.principal is not None:
        p = ctx.principal
        held = sorted(_flow_permissions(registry) & set(p.permissions))
        who = {"user_id": str(p.user_id) if p.user_id else None,
               "api_key_id": str(p.api_key_id) if p.api_key_id else None,
               "permissions": {name: p.permissions[name].value for name in held}, "language": ctx.language}
    params = {"format": fmt, "vertical": vertical, "flow": flow, "since": since.isoformat() if since else None,
              "until": until.isoformat() if until else None, "loss_field": loss_field, "as": who,
              "actor": ctx.actor}
    async with unit_of_work(ctx) as uow:
        job_id = await long_jobs.submit(uow, REPORT_JOB, params)
        await record(uow, "complaint.report_requested", "job", job_id,
                     {k: params[k] for k in ("format", "vertical", "flow", "since", "until", "loss_field")})
    return job_id


def _acting(tenant_id: UUID, params: Mapping[str, Any]) -> Context:
    who = params.get("as")
    if not who:
        return Context.system(params.get("actor") or "job:complaint-report", tenant_id)
    principal = Principal(tenant_id=tenant_id, user_id=UUID(who["user_id"]) if who.get("user_id") else None,
                          api_key_id=UUID(who["api_key_id"]) if who.get("api_key_id") else None,
                          permissions={name: Scope(scope) for name, scope in who.get("permissions", {}).items()})
    return Context.for_principal(principal, language=who.get("language", "en"))


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@long_jobs.job_kind(REPORT_JOB, read_permission=REQUESTER_ONLY)
async def _run_report(job: long_jobs.RunningJob) -> dict[str, Any]:
    p = job.params
    ctx = _acting(job.tenant_id, p)
    await job.progress(0, None, "reading complaints")
    report = await complaint_report(ctx, started_verticals(), vertical=p.get("vertical"), flow=p.get("flow"),
                                    since=_moment(p.get("since")), until=_moment(p.get("until")),
                                    loss_field=p.get("loss_field") or LOSS_FIELD)
    fmt = p["format"]
    job.output(f"complaint-report.{fmt}", MEDIA[fmt])
    await job.write_bytes(report_file(report, fmt))
    await job.progress(report.complaints, report.complaints, "done")
    return {"complaints": report.complaints, "format": fmt}


def rows_of(report: ComplaintReport) -> Sequence[tuple[str, int]]:
    """(section, row count) pairs: what a file of the report holds."""
    return [(title, len(rows)) for title, _, rows in sections(report)]
