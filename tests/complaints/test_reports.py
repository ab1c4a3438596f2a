"""Complaint reports (issue 19 "Reports") on a controlled clock and the real working-day calendar:
on-time rate per timer, volumes by category and severity, overdue by department, weekly and
monthly statistics, loss amounts per responsible department; the CSV/XLSX long job."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.plugins import manager
from core.complaints import reports, service
from core.db import unit_of_work
from core.errors import KehuError
from core.jobs import long_jobs
from core.jobs import service as job_service
from core.jobs.tables import LongJob
from core.tenancy.service import create_department
from tests.complaints.conftest import open_property
from tests.support import SYSTEM

pytestmark = pytest.mark.usefixtures("database")


def sh(y, m, d, hh=0, mm=0, ss=0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


async def _scene(people, registry, clock):
    """Five property complaints (R10): A met every clock so far and recorded a loss (engineering);
    B was never forwarded (its 24-hour clock breached, seen by the tick; engineering); D resolved
    with an unreadable loss and never reported back (its 2-hour clock breached; no department);
    E (unreasonable) closed in time; G, an emergency passed on in time, never verified (its 8-hour
    clock past due, not yet seen by any tick; no department); C opened the next week, forwarded in
    time."""
    tenant = people.employee.tenant_id
    engineering = await create_department(SYSTEM.for_tenant(tenant), name="工程部")
    deadline = sh(2026, 10, 20, 18).isoformat()
    clock.set(sh(2026, 9, 30, 10))
    a = await open_property(people.employee, registry)
    b = await open_property(people.employee, registry, severity="major")
    d = await open_property(people.employee, registry)
    e = await open_property(people.employee, registry, category="unreasonable")
    await service.assign(people.front_desk, registry, a.id, department_id=engineering.id)
    await service.assign(people.front_desk, registry, b.id, department_id=engineering.id)
    clock.set(sh(2026, 9, 30, 11))
    for case in (a, d, e):
        await service.transition(people.employee, registry, case.id, "forward")
    await service.transition(people.front_desk, registry, e.id, "explain", {"explanation": "属开发商保修范围"})
    await service.transition(people.front_desk, registry, e.id, "close_persuaded")
    clock.set(sh(2026, 9, 30, 12))
    for case in (a, d):
        await service.transition(people.front_desk, registry, case.id, "dispatch",
                                 {"department": "工程部", "handling_deadline": deadline})
    clock.set(sh(2026, 9, 30, 13))
    await service.transition(people.department, registry, a.id, "resolve", {"resolution": "更换电机", "loss_cny": "1200.50"})
    await service.transition(people.department, registry, d.id, "resolve", {"resolution": "已修复", "loss_cny": "不详"})
    clock.set(sh(2026, 9, 30, 14))
    await service.transition(people.department, registry, a.id, "report_back")
    assert await service.breach_due_in_tenant(tenant, sh(2026, 10, 1, 10, 0, 1), registry) == 2  # B's forward, D's report
    clock.set(sh(2026, 10, 1, 12))  # G is an emergency passed on in time whose handling runs past due, unticked
    g = await open_property(people.employee, registry, category="emergency")
    await service.transition(people.employee, registry, g.id, "notify_department", {"department": "工程部"})
    await service.transition(people.department, registry, g.id, "resolve_emergency", {"resolution": "已抢修"})
    clock.set(sh(2026, 10, 8, 10))
    c = await open_property(people.employee, registry)
    clock.set(sh(2026, 10, 8, 10, 30))
    await service.transition(people.employee, registry, c.id, "forward")
    clock.set(sh(2026, 10, 8, 11))
    return engineering, dict(a=a, b=b, c=c, d=d, e=e, g=g)


def _rates(report):
    return {t.timer: (t.on_time, t.breached, t.pending) for t in report.on_time}


async def test_report_counts_met_and_breached_clocks_volumes_overdue_periods_and_losses(people, registry, clock):
    """Issue 19 Reports: on-time rate per timer (met, breached by the tick or past due and not yet
    ticked, pending), volumes by category and severity, overdue open complaints by responsible
    department, ISO-weekly and monthly statistics on the tenant's time zone, and loss amounts per
    responsible department from a transition's field (loss_cny)."""
    engineering, _ = await _scene(people, registry, clock)
    report = await reports.complaint_report(people.employee, registry)
    assert report.at == sh(2026, 10, 8, 11) and report.complaints == 6 and report.timezone == "Asia/Shanghai"
    assert _rates(report) == {
        "forward_24h": (4, 1, 0),  # B breached
        "dispatch_12h": (2, 0, 1),  # C's dispatch is not due yet
        "handling_deadline": (2, 0, 0),
        "delay_notice_2h": (2, 0, 0),
        "report_back_2h": (1, 1, 0),
        "return_visit_2wd": (0, 0, 1),  # A's runs past 国庆 (make-up Saturday 10 October)
        "em_notify_3min": (1, 0, 0),
        "em_verify_8h": (0, 1, 0),  # past due though no tick has seen it
    }
    forward = next(t for t in report.on_time if t.timer == "forward_24h")
    assert forward.rate == 0.8 and forward.kind == "timer" and forward.flow == "property_complaint"
    assert [(v.category, v.severity, v.complaints, v.open) for v in report.volumes] == [
        ("emergency", "normal", 1, 1), ("routine", "major", 1, 1), ("routine", "normal", 3, 3), ("unreasonable", "normal", 1, 0)]
    assert [(o.department_id, o.department, o.complaints, o.clocks) for o in report.overdue] == [
        (engineering.id, "工程部", 1, 1), (None, None, 2, 2)]
    assert [(p.period, p.start.isoformat(), p.opened, p.closed, p.on_time, p.breached) for p in report.weekly] == [
        ("2026-W40", "2026-09-28", 5, 1, 11, 3), ("2026-W41", "2026-10-05", 1, 0, 1, 0)]
    assert [(p.period, p.opened, p.closed, p.on_time, p.breached) for p in report.monthly] == [
        ("2026-09", 4, 1, 10, 1), ("2026-10", 2, 0, 2, 2)]  # B's forward and G's verification were due in October
    assert report.monthly[0].rate == pytest.approx(10 / 11)
    assert [(x.department_id, x.department, x.complaints, x.total, x.unreadable) for x in report.losses] == [
        (engineering.id, "工程部", 1, Decimal("1200.50"), 0), (None, None, 1, Decimal(0), 1)]


async def test_report_range_and_flow_filters(people, registry, clock):
    """Issue 19 Reports: a report covers the complaints opened in [since, until) of the flows asked
    for; a bad range is refused with a coded error."""
    await _scene(people, registry, clock)
    september = await reports.complaint_report(people.employee, registry, since=sh(2026, 9, 1), until=sh(2026, 10, 1))
    assert september.complaints == 4 and [p.period for p in september.monthly] == ["2026-09", "2026-10"]
    calls = await reports.complaint_report(people.employee, registry, vertical="real_estate", flow="service_call")
    assert calls.complaints == 0 and calls.on_time == []
    for since, until in ((sh(2026, 10, 1), sh(2026, 9, 1)), (datetime(2026, 9, 1), None),
                         (sh(2016, 1, 1), sh(2026, 10, 1))):
        with pytest.raises(KehuError) as refused:
            await reports.complaint_report(people.employee, registry, since=since, until=until)
        assert refused.value.code == "COMPLAINT_REPORT_RANGE_INVALID"
    with pytest.raises(KehuError) as refused:
        await reports.complaint_report(people.employee, registry, vertical="real_estate", flow="nope")
    assert refused.value.code == "COMPLAINT_FLOW_UNKNOWN"


async def test_report_needs_the_flows_read_permission_and_stays_in_the_tenant(people, registry, clock):
    """Issue 19 Reports (permission: the flow's read permission): a member without the read
    permission of any flow asked for is refused, by name; another tenant's report counts none of
    this tenant's complaints."""
    await _scene(people, registry, clock)
    for kwargs in (dict(vertical="real_estate"), dict(vertical="real_estate", flow="property_complaint")):
        with pytest.raises(KehuError) as refused:
            await reports.complaint_report(people.outsider, registry, **kwargs)
        assert refused.value.code == "PERMISSION_DENIED" and "real_estate.complaint.read" in refused.value.message_en
    # the quality flow has no read permission: the outsider's report covers it alone
    await service.intake(people.outsider, registry, vertical="quality", flow="quality", category="quality",
                         severity="normal", subject="划痕", channel="email", complainant={"name": "李雷"})
    mine = await reports.complaint_report(people.outsider, registry)
    assert mine.complaints == 1 and [(v.vertical, v.flow) for v in mine.volumes] == [("quality", "quality")]
    assert (await reports.complaint_report(people.employee, registry)).complaints == 7
    assert (await reports.complaint_report(people.globex, registry)).complaints == 0


async def _output(ctx, job_id) -> bytes:
    output = await job_service.open_output(ctx, job_id)
    return b"".join([chunk async for chunk in output.chunks])


async def test_report_export_job_writes_csv_with_bom_and_xlsx(people, registry, clock, monkeypatch):
    """Issue 19 Reports (a long job producing CSV/XLSX): the CSV starts with a BOM and holds every
    section; the XLSX has a sheet per section with the same rows; the job is its requester's only."""
    await _scene(people, registry, clock)
    monkeypatch.setattr(manager, "_started", registry)
    tenant = people.employee.tenant_id
    csv_job = await reports.start_report_export(people.employee, registry, fmt="csv")
    xlsx_job = await reports.start_report_export(people.employee, registry, fmt="xlsx")
    for job_id in (csv_job, xlsx_job):
        assert await long_jobs.run_job(tenant, job_id) is True
        assert (await job_service.get_job(people.employee, job_id)).status == "succeeded"
    data = await _output(people.employee, csv_job)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    titles = [r[0] for r in rows if r and r[0].startswith("# ")]
    assert titles == ["# on_time", "# volumes", "# overdue_by_department", "# weekly", "# monthly",
                      "# losses_by_department"]
    assert ["real_estate", "property_complaint", "forward_24h", "timer", "4", "1", "0", "0.8000"] in rows
    assert ["2026-W40", "2026-09-28", "5", "1", "11", "3", "0.7857"] in rows
    assert any(r[1:4] == ["工程部", "1", "1200.50"] for r in rows if len(r) == 5)
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(await _output(people.employee, xlsx_job)))
    assert book.sheetnames == ["on_time", "volumes", "overdue_by_department", "weekly", "monthly",
                               "losses_by_department"]
    assert [list(r) for r in book["monthly"].iter_rows(values_only=True)][1:] == [
        ["2026-09", "2026-09-01", 4, 1, 10, 1, "0.9091"], ["2026-10", "2026-10-01", 2, 0, 2, 2, "0.5000"]]
    with pytest.raises(KehuError):  # another reader of the flow does not see the requester's report
        await job_service.get_job(people.front_desk, csv_job)


async def test_a_refused_report_export_queues_nothing(people, registry, clock):
    """Issue 19 Reports; a failed mutation writes nothing: a bad format, a bad range or a flow the
    caller may not read queues no job."""
    tenant = people.employee.tenant_id
    for ctx, kwargs, code in ((people.employee, dict(fmt="pdf"), "EXPORT_FORMAT_INVALID"),
                              (people.employee, dict(since=sh(2026, 10, 1), until=sh(2026, 9, 1)),
                               "COMPLAINT_REPORT_RANGE_INVALID"),
                              (people.outsider, dict(vertical="real_estate", flow="property_complaint"),
                               "PERMISSION_DENIED")):
        with pytest.raises(KehuError) as refused:
            await reports.start_report_export(ctx, registry, **kwargs)
        assert refused.value.code == code
    async with unit_of_work(SYSTEM.for_tenant(tenant), write=False) as uow:
        assert await uow.select(LongJob.id).where(LongJob.kind == reports.REPORT_JOB) == []


def test_aggregate_is_pure_and_counts_a_running_clock_past_due_as_breached():
    """Issue 19 Reports: outcomes come from stored statuses and due times only."""
    at = datetime(2026, 9, 30, 12, tzinfo=UTC)
    case = dict(id="x", vertical="v", flow="f", category="c", severity="s", department_id=None,
                fields='{"close.loss_cny": 12, "open.loss_cny": "3.5"}', opened_at=at - timedelta(hours=3),
                closed_at=None)
    clocks = [dict(complaint_id="x", timer="t", kind="timer", status="running", due_at=at - timedelta(seconds=1),
                   breached_at=None, stopped_at=None),
              dict(complaint_id="x", timer="t", kind="timer", status="paused", due_at=at - timedelta(hours=1),
                   breached_at=None, stopped_at=None),
              dict(complaint_id="y", timer="t", kind="timer", status="met", due_at=at, breached_at=None,
                   stopped_at=at)]  # of a complaint outside the report
    report = reports.aggregate([case], clocks, at, timezone="UTC")
    assert [(t.on_time, t.breached, t.pending, t.rate) for t in report.on_time] == [(0, 1, 1, 0.0)]
    assert [(o.complaints, o.clocks) for o in report.overdue] == [(1, 1)]
    assert [(x.complaints, x.total) for x in report.losses] == [(1, Decimal("15.5"))]


# --- over GraphQL ------------------------------------------------------------------------------------

REPORT = ("query($since: DateTime) { complaintReport(vertical: \"real_estate\", since: $since) { at timezone complaints "
          "onTime { flow timer kind onTime breached pending onTimeRate } volumes { category severity complaints open } "
          "overdue { departmentId department complaints clocks } weekly { period start opened } "
          "monthly { period opened onTimeRate } losses { department total unreadable } } }")
EXPORT = ("mutation($format: String!) { complaintReportExportStart(format: $format, vertical: \"real_estate\") "
          "{ job { id kind status } errors { code field } } }")


@pytest.fixture
async def api(settings, seeded):
    from litestar.testing import AsyncTestClient

    from gateway.app import create_app

    quiet = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000,
                                        "tick_interval_seconds": 3600})
    async with AsyncTestClient(create_app(quiet)) as test_client:
        yield test_client


async def test_report_and_its_export_over_graphql(api, clock):
    """Issue 19 (GraphQL: the reports): complaintReport answers the report of the caller's readable
    flows (a pending clock has no rate yet); complaintReportExportStart queues the requester's
    complaint.report job, and a bad format answers its code in the payload and queues nothing."""
    from tests.gateway.test_complaints_api import INTAKE, admin_of, ok
    from tests.gateway.test_identity_api import gql

    clock.set(sh(2026, 9, 30, 10))
    token = await admin_of(api)
    await ok(api, INTAKE, token, subject="电梯故障", category="routine")
    report = await ok(api, REPORT, token, since="2026-09-01T00:00:00+08:00")
    assert report["complaints"] == 1 and report["timezone"] == "Asia/Shanghai"
    assert datetime.fromisoformat(report["at"]) == sh(2026, 9, 30, 10)
    assert report["onTime"] == [{"flow": "property_complaint", "timer": "forward_24h", "kind": "timer", "onTime": 0,
                                 "breached": 0, "pending": 1, "onTimeRate": None}]
    assert report["volumes"] == [{"category": "routine", "severity": "normal", "complaints": 1, "open": 1}]
    assert report["overdue"] == [] and report["losses"] == []
    assert report["weekly"] == [{"period": "2026-W40", "start": "2026-09-28", "opened": 1}]
    assert report["monthly"] == [{"period": "2026-09", "opened": 1, "onTimeRate": None}]
    started = await ok(api, EXPORT, token, format="xlsx")
    assert started["job"]["kind"] == "complaint.report" and started["job"]["status"] in ("queued", "running",
                                                                                         "succeeded")
    body = (await gql(api, EXPORT, token, format="pdf")).json()
    payload = body["data"]["complaintReportExportStart"]
    assert payload["job"] is None and payload["errors"] == [{"code": "EXPORT_FORMAT_INVALID", "field": "format"}]
