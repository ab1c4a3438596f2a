"""The complaint engine's use cases and tick on both databases, on a controlled clock and the
real working-day calendar, with the property-management flow of plugins/real_estate (R10)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from core.plugins import manager
from core.audit.tables import AuditEntry
from core.complaints import service
from core.complaints.tables import Complaint, ComplaintClock, ComplaintEvent
from core.context import Context
from core.db import unit_of_work
from core.errors import KehuError
from core.jobs.tables import OutboxEvent
from tests.complaints.conftest import PERSON, open_property
from tests.support import SYSTEM

pytestmark = pytest.mark.usefixtures("database")


def sh(y, m, d, hh=0, mm=0, ss=0) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(y, m, d, hh, mm, ss, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


async def rows(tenant_id, table, *where):
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        query = uow.select(table).where(*where) if where else uow.select(table)
        return await query


async def audit_actions(tenant_id, complaint_id) -> list[tuple[str, str]]:
    entries = await rows(tenant_id, AuditEntry, AuditEntry.target_id == str(complaint_id))
    return [(e["action"], e["actor"]) for e in sorted(entries, key=lambda e: e["seq"])]


async def outbox_types(tenant_id, complaint_id) -> list[str]:
    events = await rows(tenant_id, OutboxEvent, OutboxEvent.aggregate_id == str(complaint_id))
    return sorted(e["event_type"] for e in events)


def clocks_of(timeline):
    return {c.timer: c for c in timeline.clocks}


async def test_an_emergency_not_passed_on_escalates_to_the_office_head_then_the_company_leader(people, registry, clock):
    """Issue 19 acceptance 2 / R10-6: an emergency not passed to a department within 3 minutes
    escalates to the management-office head; not handled 5 minutes later, to the property-company
    leader with a written report due in 24 hours; each step audited with the tick as actor and
    sent as an outbox event; a second tick at the same moment does nothing more."""
    opened_at = clock.set(sh(2026, 9, 30, 10))
    case = await open_property(people.employee, registry, category="emergency")
    tenant = people.employee.tenant_id
    assert case.state == "received" and case.branch == "emergency"
    assert await service.breach_due_in_tenant(tenant, opened_at + timedelta(minutes=2, seconds=59), registry) == 0

    tick1 = opened_at + timedelta(minutes=3, seconds=5)
    assert await service.breach_due_in_tenant(tenant, tick1, registry) == 1
    assert await service.breach_due_in_tenant(tenant, tick1, registry) == 0  # once per breach
    t = await service.timeline(people.front_desk, registry, case.id)
    assert t.complaint.escalated_to == "office_head"
    clocks = clocks_of(t)
    assert clocks["em_notify_3min"].breached_at == tick1
    assert clocks["em_office_head_5min"].started_at == opened_at + timedelta(minutes=3)  # from the breach moment
    assert clocks["em_office_head_5min"].due_at == opened_at + timedelta(minutes=8)

    tick2 = opened_at + timedelta(minutes=8, seconds=1)
    assert await service.breach_due_in_tenant(tenant, tick2, registry) == 1
    t = await service.timeline(people.front_desk, registry, case.id)
    clocks = clocks_of(t)
    assert t.complaint.escalated_to == "company_leader"
    report = clocks["report:company_leader"]
    assert (report.kind, report.status, report.due_at) == ("report", "running", opened_at + timedelta(minutes=8, hours=24))
    assert clocks["em_company_leader_10min"].due_at == opened_at + timedelta(minutes=18)
    escalations = [e.detail for e in t.events if e.kind == "escalated"]
    assert [e["role"] for e in escalations] == ["office_head", "company_leader"]
    assert escalations[1]["permission"] == "real_estate.complaint.company_leader"

    tick_actions = [a for a, actor in await audit_actions(tenant, case.id) if actor == service.TICK_ACTOR]
    assert tick_actions == ["complaint.breached", "complaint.escalated"] * 2
    assert await outbox_types(tenant, case.id) == sorted(
        ["complaint.opened"] + ["complaint.breached", "complaint.escalated"] * 2)

    # the head files the written report in time: its clock is met; resolving stops the leader's clock
    clock.set(opened_at + timedelta(hours=3))
    await service.transition(people.office_head, registry, case.id, "file_company_report", {"report": "已处置"})
    await service.transition(people.office_head, registry, case.id, "notify_department", {"department": "工程部"})
    await service.transition(people.office_head, registry, case.id, "resolve_emergency", {"resolution": "已修复"})
    clocks = clocks_of(await service.timeline(people.front_desk, registry, case.id))
    assert clocks["report:company_leader"].status == "met"
    assert clocks["em_company_leader_10min"].status == "late"  # resolved after its due time
    assert clocks["em_notify_3min"].status == "late"
    assert clocks["em_verify_8h"].due_at == opened_at + timedelta(hours=11)


async def test_an_emergency_passed_on_in_time_is_not_escalated(people, registry, clock):
    """R10-6 / issue 19 acceptance 2, the other side: notified within 3 minutes, no escalation."""
    opened_at = clock.set(sh(2026, 9, 30, 10))
    case = await open_property(people.employee, registry, category="emergency")
    clock.advance(minutes=2)
    await service.transition(people.employee, registry, case.id, "notify_department", {"department": "工程部"})
    assert await service.breach_due_in_tenant(people.employee.tenant_id, opened_at + timedelta(hours=1), registry) == 0
    t = await service.timeline(people.front_desk, registry, case.id)
    assert clocks_of(t)["em_notify_3min"].status == "met" and t.complaint.escalated_to is None


async def test_a_routine_complaint_from_intake_to_close_with_every_timer(people, registry, clock):
    """Issue 19 acceptance 1 for the property flow (R10-1, 2, 4, 5, 8), across 国庆 2026: the
    return visit is due 2 working days after the report back on 30 Sept, i.e. 9 Oct 18:00 (1-7 Oct
    are holidays); waiting on the customer pauses the department's clock."""
    t0 = clock.set(sh(2026, 9, 30, 8))
    case = await open_property(people.employee, registry, department_id=None)
    assert case.first_responder == people.employee.actor
    clock.advance(hours=1)
    await service.transition(people.employee, registry, case.id, "forward")
    clock.advance(minutes=30)
    await service.transition(people.front_desk, registry, case.id, "dispatch",
                             {"department": "工程部", "handling_deadline": "2026-09-30T18:00+08:00"})
    dispatched = clock.at
    clock.advance(minutes=30)
    await service.pause(people.department, registry, case.id, {"reason": "等待业主在家"})
    clock.advance(hours=3)
    await service.resume(people.department, registry, case.id)
    clocks = clocks_of(await service.timeline(people.front_desk, registry, case.id))
    assert clocks["delay_notice_2h"].due_at == dispatched + timedelta(hours=5)  # 2 h + the 3 h pause
    assert clocks["handling_deadline"].due_at == sh(2026, 9, 30, 21)  # 18:00 as set at dispatch + the pause
    clock.advance(minutes=20)
    await service.transition(people.department, registry, case.id, "resolve", {"resolution": "已更换电梯按钮"})
    clock.advance(hours=1)
    await service.transition(people.department, registry, case.id, "report_back")
    reported = clock.at
    clock.advance(minutes=10)
    await service.transition(people.front_desk, registry, case.id, "verify", {"verified_by": "前台张", "result": "已修复"})
    t = await service.timeline(people.front_desk, registry, case.id)
    assert clocks_of(t)["return_visit_2wd"].due_at == sh(2026, 10, 9, 18)
    clock.set(sh(2026, 10, 9, 11))
    with pytest.raises(KehuError) as refused:
        await service.transition(people.front_desk, registry, case.id, "return_visit", {"satisfaction": 9})
    assert refused.value.code == "COMPLAINT_FIELDS_INVALID" and refused.value.field == "satisfaction"
    await service.transition(people.front_desk, registry, case.id, "return_visit", {"satisfaction": 5})
    clock.advance(hours=1)
    closed = await service.transition(people.front_desk, registry, case.id, "inform_first_responder")
    assert closed.state == "closed" and closed.closed_at == clock.at
    clocks = clocks_of(await service.timeline(people.front_desk, registry, case.id))
    assert {code: c.status for code, c in clocks.items()} == {
        "forward_24h": "met", "dispatch_12h": "met", "handling_deadline": "met", "delay_notice_2h": "met",
        "report_back_2h": "met",
        "return_visit_2wd": "met", "first_responder_2h": "met"}
    assert clocks["forward_24h"].due_at == t0 + timedelta(hours=24)
    assert reported < clocks["return_visit_2wd"].due_at


async def test_working_day_timer_counts_the_make_up_saturday(people, registry, clock):
    """R10-5 on the 2026 schedule: reported back on Thu 8 Oct, the return visit is due on the 调休
    working Saturday 10 Oct at closing time; the tick breaches it just after, with a reminder to
    the front desk, audited with the tick as actor."""
    clock.set(sh(2026, 10, 8, 9, 30))
    case = await open_property(people.employee, registry)
    for ctx, action, fields in ((people.employee, "forward", {}),
                                (people.front_desk, "dispatch", {"department": "绿化", "handling_deadline": "2026-10-09T18:00+08:00"}),
                                (people.department, "resolve", {"resolution": "修剪完毕"}),
                                (people.department, "report_back", {})):
        clock.advance(minutes=5)
        await service.transition(ctx, registry, case.id, action, fields)
    clocks = clocks_of(await service.timeline(people.front_desk, registry, case.id))
    assert clocks["return_visit_2wd"].due_at == sh(2026, 10, 10, 18)
    tenant = people.employee.tenant_id
    assert await service.breach_due_in_tenant(tenant, sh(2026, 10, 10, 17, 59), registry) == 0
    assert await service.breach_due_in_tenant(tenant, sh(2026, 10, 10, 18, 0, 1), registry) == 1
    t = await service.timeline(people.front_desk, registry, case.id)
    [reminder] = [e for e in t.events if e.kind == "reminded"]
    assert reminder.detail["role"] == "front_desk" and reminder.actor == service.TICK_ACTOR
    assert ("complaint.reminded", service.TICK_ACTOR) in await audit_actions(tenant, case.id)


async def _footprint(tenant_id, complaint_id):
    return (len(await rows(tenant_id, ComplaintEvent)), len(await rows(tenant_id, ComplaintClock)),
            len(await rows(tenant_id, AuditEntry)), len(await rows(tenant_id, OutboxEvent)),
            [(r["state"], r["version"], r["fields"]) for r in await rows(tenant_id, Complaint, Complaint.id == complaint_id)])


@pytest.mark.parametrize(("who", "action", "fields", "code"), [
    ("outsider", "forward", {}, "PERMISSION_DENIED"),  # reading the flow's cases needs its read permission
    ("department", "dispatch", {"department": "x", "handling_deadline": "y"}, "PERMISSION_DENIED"),
    ("front_desk", "dispatch", {"department": "工程部"}, "COMPLAINT_FIELDS_REQUIRED"),
    ("front_desk", "dispatch", {"department": "工程部", "handling_deadline": "  "}, "COMPLAINT_FIELDS_REQUIRED"),
    ("front_desk", "dispatch", {"department": "工程部", "handling_deadline": "明天"}, "COMPLAINT_FIELDS_INVALID"),
    ("front_desk", "dispatch", {"department": "工程部", "handling_deadline": "2026-09-30T18:00"}, "COMPLAINT_FIELDS_INVALID"),
    ("front_desk", "dispatch", {"department": "工程部", "handling_deadline": "2026-09-29T18:00+08:00"}, "COMPLAINT_FIELDS_INVALID"),
    ("front_desk", "dispatch", {"department": "工程部", "handling_deadline": "2027-09-29T18:00+08:00"}, "COMPLAINT_FIELDS_INVALID"),
    ("front_desk", "resolve", {"resolution": "x"}, "COMPLAINT_TRANSITION_INVALID"),
    ("front_desk", "notify_department", {"department": "x"}, "COMPLAINT_TRANSITION_INVALID"),  # emergency branch only
])
async def test_a_refused_transition_writes_nothing(people, registry, clock, who, action, fields, code):
    """Issue 19 (a transition without its permission or required fields is refused with a coded
    error and changes nothing): no state change, no timeline event, no clock, no audit entry,
    no outbox event."""
    case = await open_property(people.employee, registry)
    await service.transition(people.employee, registry, case.id, "forward")
    tenant = people.employee.tenant_id
    before = await _footprint(tenant, case.id)
    clock.advance(minutes=1)
    with pytest.raises(KehuError) as refused:
        await service.transition(getattr(people, who), registry, case.id, action, fields)
    assert refused.value.code == code
    assert await _footprint(tenant, case.id) == before


async def test_numbers_per_month_on_the_tenant_calendar(people, registry, clock):
    """Issue 19 acceptance 3 / R2-1: cases opened on 2026-09-30 take the next numbers of 2609; the
    first of October (Shanghai time: 2026-09-30 16:30 UTC is already 1 Oct) starts 2610-01; other
    tenants count on their own."""
    def quality(ctx):
        return service.intake(ctx, registry, vertical="quality", flow="quality", category="quality", severity="normal",
                              subject="外观不良", channel="letter", customer_id=None, complainant={"name": "李工"})

    clock.set(sh(2026, 9, 30, 9))
    assert [(await quality(people.employee)).number for _ in range(3)] == ["2609-01", "2609-02", "2609-03"]
    clock.set(datetime(2026, 9, 30, 16, 30, tzinfo=UTC))
    assert (await quality(people.employee)).number == "2610-01"
    assert (await quality(people.globex)).number == "2610-01"
    assert (await quality(people.employee)).number == "2610-02"


async def test_fifty_concurrent_intakes_get_fifty_consecutive_numbers(people, registry, clock):
    """Issue 19 acceptance 3 (concurrency), on SQLite and PostgreSQL: 50 intakes at once give
    2609-01 … 2609-50, each once, no gap."""
    clock.set(sh(2026, 9, 30, 9))

    async def one(i):
        return await service.intake(people.employee, registry, vertical="quality", flow="quality",
                                    category="quality", severity="normal", subject=f"case {i}",
                                    channel="phone", complainant={"name": f"客户{i}"})

    views = await asyncio.gather(*(one(i) for i in range(50)))
    assert sorted(v.number for v in views) == [f"2609-{n:02d}" for n in range(1, 51)]


async def test_the_complainant_is_sealed_and_masked(people, registry, clock, audit_scan):
    """Issue 19 (a free-text complainant's personal data is encrypted and masked like a
    customer's): the stored row holds no phone or address in clear, a reader without
    customer.pii.unmask sees them masked (the name stays readable), the system sees them, and no
    audit entry holds them."""
    case = await open_property(people.employee, registry)
    assert case.complainant == {"name": "王小明", "phone": "138****5678", "address": "3********"}
    [row] = await rows(people.employee.tenant_id, Complaint, Complaint.id == case.id)
    assert "13812345678" not in row["complainant"] and "3栋" not in row["complainant"]
    seen = await service.timeline(SYSTEM.for_tenant(people.employee.tenant_id), registry, case.id)
    assert seen.complaint.complainant == PERSON
    await audit_scan(PERSON["phone"], PERSON["address"])


async def test_another_tenant_cannot_reach_a_complaint(people, registry, clock):
    """Tenancy wall 1 and 2 for complaints: globex (every permission) cannot read or move acme's."""
    case = await open_property(people.employee, registry)
    for call in (service.timeline(people.globex, registry, case.id),
                 service.transition(people.globex, registry, case.id, "forward")):
        with pytest.raises(KehuError) as refused:
            await call
        assert refused.value.code == "COMPLAINT_NOT_FOUND"


async def test_intake_refuses_bad_input_and_writes_nothing(people, registry, clock):
    """Issue 19 / design "Bad input": unknown category, channel or flow, no complainant, a linked
    customer, archive or previous case that is not the tenant's."""
    tenant = people.employee.tenant_id
    import uuid

    for changes, code in ((dict(category="weather"), "COMPLAINT_INPUT_INVALID"),
                          (dict(customer_id=uuid.uuid4()), "CUSTOMER_NOT_FOUND"),
                          (dict(archive_id=uuid.uuid4()), "COMPLAINT_ARCHIVE_UNKNOWN"),
                          (dict(previous_id=uuid.uuid4()), "COMPLAINT_NOT_FOUND"),
                          (dict(channel="pigeon"), "COMPLAINT_INPUT_INVALID"),
                          (dict(complainant=None), "COMPLAINT_INPUT_INVALID"),
                          (dict(flow="nope"), "COMPLAINT_FLOW_UNKNOWN")):
        with pytest.raises(KehuError) as refused:
            await open_property(people.employee, registry, **changes)
        assert refused.value.code == code
    assert await rows(tenant, Complaint) == [] and await rows(tenant, OutboxEvent, OutboxEvent.aggregate_type == "complaint") == []


async def test_the_sweep_visits_every_tenant(people, registry, clock, monkeypatch):
    """Issue 19 (breach detection from data): the registered sweep finds every tenant's due clocks."""
    manager.start_verticals(registry)
    try:
        clock.set(sh(2026, 9, 30, 10))
        await open_property(people.employee, registry, category="emergency")
        await open_property(people.globex, registry, category="emergency")
        assert await service.breach_due(sh(2026, 9, 30, 10, 4)) == 2
    finally:
        manager.start_verticals(None)


async def test_the_tick_reads_due_clocks_through_the_due_time_index(people, registry, clock, settings):
    """Issue 19 (breach detection: the tick finds clocks past due through an index on the due
    time, so its cost grows with what is due, not with the open complaints): the database's plan
    for the tick's query is a range read of a due-time index."""
    clock.set(sh(2026, 9, 30, 10))
    for _ in range(3):
        await open_property(people.employee, registry)
    async with unit_of_work(SYSTEM.for_tenant(people.employee.tenant_id), write=False) as uow:
        sql = str(service.due_clocks(uow, sh(2026, 10, 1)))
        if uow.database.is_sqlite:
            plan = " ".join(str(r) for r in await uow.fetch(f"EXPLAIN QUERY PLAN {sql}"))
        else:
            await uow.fetch("SET LOCAL enable_seqscan = off")  # an empty table's plan says nothing otherwise
            plan = " ".join(str(r) for r in await uow.fetch(f"EXPLAIN {sql}"))
    # Either due-time index: the tenant-led one, or the partial one on running clocks the cross-tenant
    # due probe uses (issue 27); both are range reads of the due time, not scans of open complaints.
    assert "complaint_clock_next_due_at_idx" in plan or "complaint_clock_running_due_idx" in plan, plan


async def test_the_company_leader_not_resolving_escalates_to_the_board_with_a_48_hour_report(people, registry, clock):
    """R10-7: the property-company leader not resolving within 10 minutes reports to the
    board-level leader, with a written report due in 48 hours; an escalation report not filed in
    time is itself a breach."""
    opened_at = clock.set(sh(2026, 9, 30, 10))
    case = await open_property(people.employee, registry, category="emergency")
    tenant = people.employee.tenant_id
    for minutes in (3, 8, 18):
        assert await service.breach_due_in_tenant(tenant, opened_at + timedelta(minutes=minutes, seconds=1), registry) == 1
    t = await service.timeline(people.front_desk, registry, case.id)
    assert t.complaint.escalated_to == "board_leader"
    clocks = clocks_of(t)
    assert clocks["report:board_leader"].due_at == opened_at + timedelta(minutes=18, hours=48)
    # neither report filed: the 24 h one is breached first, then the 48 h one
    assert await service.breach_due_in_tenant(tenant, opened_at + timedelta(hours=25), registry) == 1
    assert await service.breach_due_in_tenant(tenant, opened_at + timedelta(hours=49), registry) == 1
    breaches = [e.detail for e in (await service.timeline(people.front_desk, registry, case.id)).events
                if e.kind == "breached"]
    assert [(b["timer"], b["kind"]) for b in breaches][-2:] == [("report:company_leader", "report"),
                                                               ("report:board_leader", "report")]


async def test_assign_needs_the_flows_assign_permission_and_is_announced(people, registry, clock):
    """Issue 19 (assign): the front desk assigns a department and a handler; a handler without the
    flow's assign permission is refused and nothing changes; a case cannot be put on hold where
    the flow has no way to a paused state."""
    case = await open_property(people.employee, registry)
    tenant = people.employee.tenant_id
    before = await _footprint(tenant, case.id)
    with pytest.raises(KehuError) as refused:
        await service.assign(people.department, registry, case.id, department_id=people.department.user_id)
    assert refused.value.code == "PERMISSION_DENIED"
    with pytest.raises(KehuError) as refused:
        await service.pause(people.department, registry, case.id, {"reason": "x"})
    assert refused.value.code == "COMPLAINT_PAUSE_UNAVAILABLE"
    with pytest.raises(KehuError) as refused:
        await service.resume(people.department, registry, case.id)
    assert refused.value.code == "COMPLAINT_NOT_PAUSED"
    assert await _footprint(tenant, case.id) == before
    from core.tenancy.service import create_department

    engineering = await create_department(SYSTEM.for_tenant(tenant), name="工程部")
    before = await _footprint(tenant, case.id)
    for wrong, code in ((dict(assignee_id=engineering.id), "USER_UNKNOWN"),
                        (dict(department_id=people.department.user_id), "DEPARTMENT_UNKNOWN")):
        with pytest.raises(KehuError) as refused:
            await service.assign(people.front_desk, registry, case.id, **wrong)
        assert refused.value.code == code
    assert await _footprint(tenant, case.id) == before
    assigned = await service.assign(people.front_desk, registry, case.id, assignee_id=people.department.user_id,
                                    department_id=engineering.id)
    assert (assigned.assignee_id, assigned.department_id, assigned.version) == (
        people.department.user_id, engineering.id, case.version + 1)
    assert "complaint.assigned" in await outbox_types(tenant, case.id)
    assert ("complaint.assigned", people.front_desk.actor) in await audit_actions(tenant, case.id)


async def test_an_emergency_from_intake_to_close_with_every_timer(people, registry, clock):
    """Issue 19 acceptance 1, emergency path (R10-6, R10-7): notified in 3 minutes, resolved,
    verified by developer and property company within 8 h, return visit within 2 working days of
    completion across 国庆 2026 (verified 30 Sept 15:00 -> due 9 Oct 18:00); every clock met."""
    opened_at = clock.set(sh(2026, 9, 30, 10))
    case = await open_property(people.employee, registry, category="emergency")
    clock.advance(minutes=1)
    await service.transition(people.employee, registry, case.id, "notify_department", {"department": "工程部"})
    clock.advance(hours=2)
    await service.transition(people.department, registry, case.id, "resolve_emergency", {"resolution": "已关闸抢修"})
    resolved = clock.at
    clock.set(sh(2026, 9, 30, 15))
    await service.transition(people.verifier, registry, case.id, "verify_emergency",
                             {"verified_by": "开发商客服部、物业公司", "result": "已修复"})
    clocks = clocks_of(await service.timeline(people.front_desk, registry, case.id))
    assert clocks["em_verify_8h"].due_at == resolved + timedelta(hours=8)
    assert clocks["em_return_visit_2wd"].due_at == sh(2026, 10, 9, 18)
    clock.set(sh(2026, 10, 8, 10))
    await service.transition(people.front_desk, registry, case.id, "return_visit_emergency", {"satisfaction": 4})
    closed = await service.transition(people.front_desk, registry, case.id, "close_emergency")
    assert closed.state == "closed"
    assert await service.breach_due_in_tenant(people.employee.tenant_id, sh(2026, 12, 1), registry) == 0
    t = await service.timeline(people.front_desk, registry, case.id)
    assert {c.timer: c.status for c in t.clocks} == {
        "em_notify_3min": "met", "em_verify_8h": "met", "em_return_visit_2wd": "met"}
    assert opened_at < t.clocks[0].due_at
    assert t.complaint.fields["return_visit_emergency.satisfaction"] == 4


async def test_an_unreasonable_complaint_is_explained_then_coordinated_by_the_department_head(people, registry, clock):
    """R10-3: an unreasonable complaint is explained by the customer centre; the department head
    steps in when the customer is not persuaded; the 24-hour forwarding clock applies to it too
    and a late forward reminds the front desk and tells the first responder (R10-1, R10-8)."""
    opened_at = clock.set(sh(2026, 9, 30, 10))
    case = await open_property(people.employee, registry, category="unreasonable")
    tenant = people.employee.tenant_id
    assert await service.breach_due_in_tenant(tenant, opened_at + timedelta(hours=24, seconds=1), registry) == 1
    clock.advance(hours=25)
    await service.transition(people.employee, registry, case.id, "forward")
    await service.transition(people.front_desk, registry, case.id, "explain", {"explanation": "属开发商保修范围"})
    await service.transition(people.front_desk, registry, case.id, "ask_department_head")
    head = as_head(people)
    closed = await service.transition(head, registry, case.id, "close_coordinated", {"outcome": "业主接受"})
    t = await service.timeline(people.front_desk, registry, case.id)
    assert closed.state == "closed"
    assert [c.status for c in t.clocks] == ["late"]
    assert [e.kind for e in t.events if e.actor == service.TICK_ACTOR] == ["breached", "reminded", "first_responder_notified"]
    assert ("complaint.first_responder_notified", service.TICK_ACTOR) in await audit_actions(tenant, case.id)


def as_head(people):
    from tests.complaints.conftest import as_user

    return as_user(people.front_desk.tenant_id, people.front_desk.user_id, "real_estate.complaint.read",
                   "real_estate.complaint.department_head")


async def test_a_service_call_not_answered_is_replied_within_30_minutes_or_reminded(people, registry, clock):
    """R5-5 (the customer-service reply rule, issue 19's third flow): a call passed to the
    responsible person must be replied to within 30 minutes; past that the responsible person is
    reminded and the agent who took it told; a new need raised in the callback becomes a
    follow-up case linked to the original (R5-9)."""
    from tests.complaints.conftest import as_user

    agent = as_user(people.front_desk.tenant_id, people.front_desk.user_id, "real_estate.complaint.read",
                    "real_estate.complaint.respond")
    opened_at = clock.set(sh(2026, 9, 30, 10))
    call = await service.intake(agent, registry, vertical="real_estate", flow="service_call", category="complaint",
                                severity="normal", subject="物业费账单有误", channel="phone", complainant=PERSON)
    assert call.number == "KF260930001"
    clock.advance(minutes=2)
    await service.transition(agent, registry, call.id, "pass_to_responsible", {"question": "账单核对"})
    tenant = agent.tenant_id
    assert await service.breach_due_in_tenant(tenant, opened_at + timedelta(minutes=29), registry) == 0
    assert await service.breach_due_in_tenant(tenant, opened_at + timedelta(minutes=30, seconds=1), registry) == 1
    clock.advance(minutes=38)
    await service.transition(agent, registry, call.id, "reply", {"answer": "已更正账单"})
    await service.transition(agent, registry, call.id, "call_back", {"satisfaction": 3})
    await service.transition(agent, registry, call.id, "close_call")
    t = await service.timeline(agent, registry, call.id)
    assert [(c.timer, c.status) for c in t.clocks] == [("reply_30min", "late")]
    assert [e.detail.get("role") for e in t.events if e.kind == "reminded"] == ["responsible"]
    follow_up = await service.intake(agent, registry, vertical="real_estate", flow="service_call", category="inquiry",
                                     severity="normal", subject="申请分期缴费", channel="phone", complainant=PERSON,
                                     previous_id=call.id)
    assert (follow_up.previous_id, follow_up.number) == (call.id, "KF260930002")


async def test_a_complainant_on_an_old_key_is_resealed_on_the_active_key(people, registry, clock):
    """Issue 19 (complainant data encrypted like a customer's) with R8 key rotation: the rekey step
    of complaints re-seals a complainant still on an old key; after the old key is dropped the
    complainant still opens."""
    from core.complaints.privacy import REKEY_STEP_COLUMNS, reseal_complainants
    from core.privacy import crypto, rekey

    before, secrets = crypto._ring, {}

    def use(*ids):
        crypto.configure_data_keys(crypto.keyring_from([(k, secrets.setdefault(k, crypto.new_data_key())) for k in ids]))

    try:
        use("old")
        case = await open_property(people.employee, registry)
        use("new", "old")
        tenant = people.employee.tenant_id
        async with unit_of_work(SYSTEM.for_tenant(tenant)) as uow:
            found = await uow.select(*(getattr(Complaint, c) for c in REKEY_STEP_COLUMNS))
            assert await reseal_complainants(uow, tenant, found) == 1
            assert await reseal_complainants(uow, tenant, await uow.select(Complaint.id, Complaint.complainant)) == 0
        # The tenant's rekey job (R8) has the step: a second case on the old key is re-sealed by it.
        use("old")
        second = await open_property(people.employee, registry)
        use("new", "old")
        assert (await rekey.rekey_tenant(SYSTEM.for_tenant(tenant)))["complaints"] == 1
        use("new")
        for opened in (case, second):
            seen = await service.timeline(SYSTEM.for_tenant(tenant), registry, opened.id)
            assert seen.complaint.complainant == PERSON
    finally:
        crypto._ring = before


async def test_complaints_are_listed_newest_first_in_keyset_pages_of_readable_flows(people, registry, clock):
    """Issue 19 (complaints listed for the GraphQL connection to come): newest first, keyset pages,
    filters on flow, state and open; only flows whose read permission the caller holds; never
    another tenant's."""
    from core.db.keyset import Window

    clock.set(sh(2026, 9, 30, 9))
    made = []
    for _ in range(5):
        clock.advance(minutes=1)
        made.append(await open_property(people.employee, registry))
    await service.transition(people.employee, registry, made[0].id, "forward")
    await open_property(people.globex, registry)
    page, more = await service.list_complaints(people.front_desk, registry, Window(size=2))
    assert [c.id for c in page] == [made[4].id, made[3].id] and more
    page, more = await service.list_complaints(people.front_desk, registry,
                                               Window(size=10, after=(page[-1].opened_at, page[-1].id)))
    assert [c.id for c in page] == [made[2].id, made[1].id, made[0].id] and not more
    forwarded, _ = await service.list_complaints(people.front_desk, registry, Window(size=10), state="at_front_desk")
    assert [c.id for c in forwarded] == [made[0].id]
    assert await service.list_complaints(people.outsider, registry, Window(size=10)) == ([], False)
    assert await service.list_complaints(people.front_desk, registry, Window(size=10), flow="service_call") == ([], False)


async def test_a_working_day_clock_in_a_year_without_an_official_schedule_says_provisional(people, registry, clock):
    """Issue 18 point 11 applied to complaints: a return visit due 2 working days after a report
    back in 2027 (no official schedule loaded or published yet) is provisional; one in 2026 is not."""
    for year, expected in ((2026, False), (2027, True)):
        clock.set(sh(year, 3, 2, 10))
        case = await open_property(people.employee, registry)
        for ctx, action, fields in ((people.employee, "forward", {}),
                                    (people.front_desk, "dispatch", {"department": "保洁",
                                                                     "handling_deadline": f"{year}-03-02T18:00+08:00"}),
                                    (people.department, "resolve", {"resolution": "完成"}),
                                    (people.department, "report_back", {})):
            clock.advance(minutes=5)
            await service.transition(ctx, registry, case.id, action, fields)
        clocks = clocks_of(await service.timeline(people.front_desk, registry, case.id))
        assert clocks["return_visit_2wd"].provisional is expected
        assert clocks["report_back_2h"].provisional is False
