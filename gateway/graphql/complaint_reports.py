"""GraphQL for complaint reports (issue 19 "Reports"): thin resolvers over core.complaints.reports.

``complaintReport`` answers the report of the flows the caller may read (each flow's read
permission); ``complaintReportExportStart`` queues the same report as a CSV or XLSX file in a
long job, watched with ``job(id)`` and downloaded from its ``downloadUrl``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from core.complaints import reports
from core.jobs import service as job_service
from gateway.graphql.common import ctx_of, mutate
from gateway.graphql.jobs import Job, JobPayload


def _id(value: UUID | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.type(description="How one timer of a flow kept its limit: clocks met on time, breached (stopped late, "
                             "or running past the due time) and pending (not yet due, or paused).")
class ComplaintReportTimer:
    vertical: str
    flow: str
    timer: str
    kind: str = strawberry.field(description="timer, or report (a written report owed after an escalation)")
    on_time: int
    breached: int
    pending: int
    on_time_rate: float | None = strawberry.field(description="on time / (on time + breached); null while none "
                                                              "is decided")

    @classmethod
    def of(cls, t: reports.TimerRate) -> ComplaintReportTimer:
        return cls(vertical=t.vertical, flow=t.flow, timer=t.timer, kind=t.kind, on_time=t.on_time,
                   breached=t.breached, pending=t.pending, on_time_rate=t.rate)


@strawberry.type(description="Complaints of one category and severity of a flow, and how many are still open.")
class ComplaintReportVolume:
    vertical: str
    flow: str
    category: str
    severity: str
    complaints: int
    open: int


@strawberry.type(description="Open complaints of a responsible department with a clock running past its due time "
                             "(department null: none responsible yet).")
class ComplaintReportOverdue:
    department_id: strawberry.ID | None
    department: str | None
    complaints: int
    clocks: int


@strawberry.type(description="One ISO week (Monday first) or calendar month on the tenant's time zone: complaints "
                             "opened and closed in it, clocks met on time (by when they stopped) and breached (by "
                             "when they fell due).")
class ComplaintReportPeriod:
    period: str = strawberry.field(description="2026-W40 or 2026-09")
    start: date
    opened: int
    closed: int
    on_time: int
    breached: int
    on_time_rate: float | None


@strawberry.type(description="Loss amounts a flow recorded (a transition's loss field, e.g. loss_cny) for the "
                             "complaints of a responsible department.")
class ComplaintReportLoss:
    department_id: strawberry.ID | None
    department: str | None
    complaints: int
    total: str = strawberry.field(description="exact decimal text")
    unreadable: int = strawberry.field(description="recorded values that are no number, left out of the total")


@strawberry.type(description="Complaint statistics of the flows the caller may read, at the service's time.")
class ComplaintReport:
    at: datetime
    since: datetime | None
    until: datetime | None
    timezone: str
    complaints: int
    on_time: list[ComplaintReportTimer]
    volumes: list[ComplaintReportVolume]
    overdue: list[ComplaintReportOverdue]
    weekly: list[ComplaintReportPeriod]
    monthly: list[ComplaintReportPeriod]
    losses: list[ComplaintReportLoss]

    @classmethod
    def of(cls, r: reports.ComplaintReport) -> ComplaintReport:
        def period(p: reports.PeriodStats) -> ComplaintReportPeriod:
            return ComplaintReportPeriod(period=p.period, start=p.start, opened=p.opened, closed=p.closed,
                                         on_time=p.on_time, breached=p.breached, on_time_rate=p.rate)

        return cls(
            at=r.at, since=r.since, until=r.until, timezone=r.timezone, complaints=r.complaints,
            on_time=[ComplaintReportTimer.of(t) for t in r.on_time],
            volumes=[ComplaintReportVolume(vertical=v.vertical, flow=v.flow, category=v.category, severity=v.severity,
                                           complaints=v.complaints, open=v.open) for v in r.volumes],
            overdue=[ComplaintReportOverdue(department_id=_id(o.department_id), department=o.department,
                                            complaints=o.complaints, clocks=o.clocks) for o in r.overdue],
            weekly=[period(p) for p in r.weekly], monthly=[period(p) for p in r.monthly],
            losses=[ComplaintReportLoss(department_id=_id(x.department_id), department=x.department,
                                        complaints=x.complaints, total=str(x.total), unreadable=x.unreadable)
                    for x in r.losses])


def _registry(info: Info) -> Any:
    return info.context.registry


_ARGS = ("vertical: a vertical's id; flow: one of its flows (needs that flow's read permission); since/until: "
         "complaints opened in [since, until); lossField: the transition field holding a loss amount (loss_cny).")


@strawberry.type
class ComplaintReportQuery:
    @strawberry.field(description="Complaint report: on-time rate per timer, volumes by category and severity, "
                                  "overdue by department, weekly and monthly statistics, loss amounts per "
                                  "responsible department, of the flows the caller may read. " + _ARGS)
    async def complaint_report(self, info: Info, vertical: str | None = None, flow: str | None = None,
                               since: datetime | None = None, until: datetime | None = None,
                               loss_field: str = reports.LOSS_FIELD) -> ComplaintReport:
        return ComplaintReport.of(await reports.complaint_report(
            ctx_of(info), _registry(info), vertical=vertical, flow=flow, since=since, until=until,
            loss_field=loss_field))


@strawberry.type
class ComplaintReportMutation:
    @strawberry.mutation(description="Write the complaint report as a CSV (UTF-8 with a BOM) or XLSX file in a "
                                     "background job, visible to its requester only; watch it with `job(id)` and "
                                     "download from its downloadUrl. " + _ARGS)
    async def complaint_report_export_start(self, info: Info, format: str = "csv", vertical: str | None = None,
                                            flow: str | None = None, since: datetime | None = None,
                                            until: datetime | None = None,
                                            loss_field: str = reports.LOSS_FIELD) -> JobPayload:
        async def call() -> dict:
            ctx = ctx_of(info)
            job_id = await reports.start_report_export(ctx, _registry(info), fmt=format, vertical=vertical, flow=flow,
                                                       since=since, until=until, loss_field=loss_field)
            return {"job": Job.of(await job_service.get_job(ctx, job_id))}
        return await mutate(info, JobPayload, call)
