"""The product-quality complaint flow of the medical-devices vertical (issue 19; seed 003 R2, R3,
R14) run by the complaint engine on a controlled clock and the real 2026 working-day calendar
(国庆 1-7 Oct are holidays, Saturday 10 Oct is a 调休 working day)."""

from __future__ import annotations

import ast
import asyncio
import inspect
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

import plugins.medical_devices as medical_devices
from core.audit.tables import AuditEntry
from core.complaints import service
from core.complaints.tables import Complaint, ComplaintClock, ComplaintEvent
from core.context import Context
from core.db import unit_of_work
from core.errors import KehuError
from core.jobs.tables import OutboxEvent
from core.plugins.testing import make_registry
from core.tenancy.service import create_department
from core.verticals import service as verticals
from plugins.medical_devices import complaints as md
from tests.complaints.conftest import as_user
from tests.support import SYSTEM, add_user

pytestmark = pytest.mark.usefixtures("database")
P = "medical_devices.complaint"


def sh(y, m, d, hh=0, mm=0, ss=0) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(y, m, d, hh, mm, ss, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


@pytest.fixture
def registry():
    return make_registry(("medical_devices", medical_devices))


@dataclass
class People:
    sales: Context
    sales_head: Context
    gm_office: Context
    qa: Context
    manufacturing: Context
    rd: Context
    sales_manager: Context
    deputy_gm: Context
    gm: Context
    reader: Context  # reads cases, may do nothing else
    globex: Context  # every permission, other tenant
    department: UUID  # the responsible department (制造部)


@pytest.fixture
async def people(seeded, registry) -> People:
    for tenant in (seeded.acme, seeded.globex):
        await verticals.enable_vertical(SYSTEM.for_tenant(tenant.id), registry, "medical_devices")
    acme = seeded.acme.id
    roles = {"sales": ("sales",), "sales_head": ("sales_head",), "gm_office": ("gm_office",), "qa": ("qa",),
             "manufacturing": ("manufacturing",), "rd": ("rd",), "sales_manager": ("approve_sales_manager",),
             "deputy_gm": ("approve_deputy_gm",), "gm": ("approve_gm",), "reader": ()}
    made = {}
    for name, held in roles.items():
        user = await add_user(seeded.acme, name)
        made[name] = as_user(acme, user.id, f"{P}.read", *(f"{P}.{h}" for h in held))
    boss = await add_user(seeded.globex, "boss")
    made["globex"] = as_user(seeded.globex.id, boss.id, *(p.name for p in md.PERMISSIONS))
    department = await create_department(SYSTEM.for_tenant(acme), name="制造部")
    return People(**made, department=department.id)


@pytest.fixture
def clock(monkeypatch):
    from tests.complaints.conftest import Clock

    c = Clock(sh(2026, 9, 29, 10))
    monkeypatch.setattr(service, "now", c)
    return c


async def open_case(ctx, registry, people: People | None = None, **kwargs):
    values = dict(vertical="medical_devices", flow="quality_complaint", category="quality", severity="normal",
                  subject="骨科植入物包装破损", channel="letter", complainant={"name": "李工", "phone": "13912345678"},
                  department_id=people.department if people else None)
    values.update(kwargs)
    return await service.intake(ctx, registry, **values)


ACCEPT = {"order_number": "SO-2609-118", "part_number": "MD-4471", "ship_date": "2026-09-20", "quantity": 200,
          "defective_quantity": 12, "customer_requirement": "退货12件"}
DECISION = {"reportable": False, "decided_by": "业务部经理", "reason": "损失在核决权限内"}


def steps_to_approval(people: People, loss_amount="8000", market="domestic"):
    """Each step of the flow from acceptance to the consolidated opinion: (who, action, fields)."""
    return [
        (people.gm_office, "accept", {**ACCEPT, "market": market}),
        (people.qa, "complete_investigation", {"findings": "与业务部、制造部会勘：外包装运输破损"}),
        (people.qa, "file_qa_report", {"root_cause": "包装强度不足", "responsible_department": "制造部"}),
        (people.manufacturing, "ask_rd", {}),
        (people.rd, "give_rd_opinion", {"opinion": "属个性异常，改用加强型内衬"}),
        (people.manufacturing, "draft_countermeasure", {"countermeasure": "更换加强型包装并抽检"}),
        (people.gm_office, "return_to_sales", {"review": "同意对策"}),
        (people.sales, "record_negotiation", {"handling_opinion": "折让", "negotiation_result": "客户同意折让"}),
        (people.sales_head, "head_review", {}),
        (people.gm_office, "consolidate", {"consolidated_opinion": "折让结案", "loss_amount": loss_amount,
                                           "track_improvement": True}),
    ]


async def walk(registry, case_id, steps, clock, every=timedelta(minutes=10)):
    for ctx, action, fields in steps:
        clock.advance(seconds=every.total_seconds())
        await service.transition(ctx, registry, case_id, action, fields)


def clocks_of(timeline):
    return {c.timer: c for c in timeline.clocks}


async def rows(tenant_id, table, *where):
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        query = uow.select(table).where(*where) if where else uow.select(table)
        return await query


async def footprint(tenant_id, complaint_id):
    return (len(await rows(tenant_id, ComplaintEvent)), len(await rows(tenant_id, ComplaintClock)),
            len(await rows(tenant_id, AuditEntry)), len(await rows(tenant_id, OutboxEvent)),
            [(r["state"], r["version"], r["fields"]) for r in await rows(tenant_id, Complaint, Complaint.id == complaint_id)])


# --- acceptance 1 ----------------------------------------------------------------------------------


async def test_a_domestic_complaint_from_intake_to_close_with_every_timer_across_national_day(people, registry, clock):
    """Issue 19 acceptance 1 for the product-quality flow (R2-4, R2-7, R3-5, R3-11): accepted on Tue
    29 Sept 11:00, a domestic case must close by 14 Oct 11:00 (15 calendar days, holidays
    included); investigated on 30 Sept 15:00, QA reports within 3 working days: 8, 9 and the
    调休 Saturday 10 Oct, so by 10 Oct 18:00 (1-7 Oct do not count); the negotiated form reaching
    the GM office on Tue 13 Oct 16:00 is consolidated by 14 Oct 18:00 (1 working day); every
    clock met, no reminder."""
    tenant = people.sales.tenant_id
    case = await open_case(people.sales, registry, people)
    assert (case.state, case.first_responder, case.number) == ("received", people.sales.actor, "260901")
    assert (await service.timeline(people.reader, registry, case.id)).clocks == []  # no clock before acceptance
    clock.set(sh(2026, 9, 29, 11))
    await service.transition(people.gm_office, registry, case.id, "accept", {**ACCEPT, "market": "domestic"})
    closure = clocks_of(await service.timeline(people.reader, registry, case.id))["closure"]
    assert (closure.started_at, closure.due_at, closure.hard_due_at, closure.status) == (
        sh(2026, 9, 29, 11), sh(2026, 10, 14, 11), None, "running")

    clock.set(sh(2026, 9, 30, 15))
    await service.transition(people.qa, registry, case.id, "complete_investigation", {"findings": "会勘：包装破损"})
    qa_clock = clocks_of(await service.timeline(people.reader, registry, case.id))["qa_report_3d"]
    assert qa_clock.due_at == sh(2026, 10, 10, 18) and not qa_clock.provisional
    assert await service.breach_due_in_tenant(tenant, sh(2026, 10, 10, 17, 59), registry) == 0
    clock.set(sh(2026, 10, 10, 16))  # the make-up working Saturday
    await service.transition(people.qa, registry, case.id, "file_qa_report",
                             {"root_cause": "包装强度不足", "responsible_department": "制造部"})

    clock.set(sh(2026, 10, 12, 10))
    await walk(registry, case.id, steps_to_approval(people)[3:8], clock, every=timedelta(hours=1))
    clock.set(sh(2026, 10, 13, 16))
    await service.transition(people.sales_head, registry, case.id, "head_review")
    consolidation = clocks_of(await service.timeline(people.reader, registry, case.id))["consolidation_1d"]
    assert (consolidation.started_at, consolidation.due_at) == (sh(2026, 10, 13, 16), sh(2026, 10, 14, 18))
    assert await service.breach_due_in_tenant(tenant, sh(2026, 10, 13, 23), registry) == 0

    clock.set(sh(2026, 10, 14, 9))
    await service.transition(people.gm_office, registry, case.id, "consolidate",
                             {"consolidated_opinion": "折让结案", "loss_amount": 8000, "track_improvement": True})
    clock.advance(minutes=30)
    await service.transition(people.sales_manager, registry, case.id, "approve", DECISION)
    clock.advance(minutes=30)
    closed = await service.transition(people.sales, registry, case.id, "close", {"disposition": "折让"})
    assert (closed.state, closed.closed_at) == ("closed", sh(2026, 10, 14, 10))
    t = await service.timeline(people.reader, registry, case.id)
    assert {code: (c.status, c.stopped_at) for code, c in clocks_of(t).items()} == {
        "closure": ("met", sh(2026, 10, 14, 10)), "qa_report_3d": ("met", sh(2026, 10, 10, 16)),
        "consolidation_1d": ("met", sh(2026, 10, 14, 9))}
    assert not [e for e in t.events if e.kind in ("breached", "reminded")]
    assert closed.fields["consolidate.loss_amount"] == 8000 and closed.fields["approve.reportable"] is False
    assert await service.breach_due_in_tenant(tenant, sh(2026, 11, 30), registry) == 0  # nothing left to breach


async def test_a_foreign_customer_has_twenty_days_to_closure(people, registry, clock):
    """R3-11: the closure limit follows the market given at acceptance: a foreign case accepted on
    30 Sept 09:00 closes by 20 Oct 09:00; a market that is neither is refused and writes nothing."""
    clock.set(sh(2026, 9, 30, 9))
    case = await open_case(people.sales, registry, people)
    before = await footprint(people.sales.tenant_id, case.id)
    with pytest.raises(KehuError) as refused:
        await service.transition(people.gm_office, registry, case.id, "accept", {**ACCEPT, "market": "overseas"})
    assert (refused.value.code, refused.value.field) == ("COMPLAINT_FIELDS_INVALID", "market")
    assert await footprint(people.sales.tenant_id, case.id) == before
    await service.transition(people.gm_office, registry, case.id, "accept", {**ACCEPT, "market": "foreign"})
    closure = clocks_of(await service.timeline(people.reader, registry, case.id))["closure"]
    assert closure.due_at == sh(2026, 10, 20, 9)


# --- reminder (催办单) and overdue-investigation (查办单) notices ----------------------------------------------


async def test_a_late_qa_report_gets_a_reminder_on_the_make_up_saturday(people, registry, clock):
    """R2-4 / R2-25 (testable rule 9): QA not reporting within 3 working days of the investigation
    of 30 Sept is reminded by the tick just after 10 Oct 18:00 (the 调休 Saturday closes the third
    working day), once, audited with the tick as actor and sent as an outbox event; the report
    filed later stops the clock as late."""
    tenant = people.sales.tenant_id
    clock.set(sh(2026, 9, 30, 9))
    case = await open_case(people.sales, registry, people)
    await walk(registry, case.id, steps_to_approval(people)[:2], clock)
    assert await service.breach_due_in_tenant(tenant, sh(2026, 10, 9, 23, 59), registry) == 0
    assert await service.breach_due_in_tenant(tenant, sh(2026, 10, 10, 18, 0, 1), registry) == 1
    assert await service.breach_due_in_tenant(tenant, sh(2026, 10, 10, 19), registry) == 0  # once
    t = await service.timeline(people.reader, registry, case.id)
    [reminder] = [e for e in t.events if e.kind == "reminded"]
    assert reminder.actor == service.TICK_ACTOR and reminder.timer == "qa_report_3d"
    assert (reminder.detail["role"], reminder.detail["notice"], reminder.detail["permission"]) == (
        "qa", "reminder", f"{P}.qa")
    audit = [(e["action"], e["actor"]) for e in await rows(tenant, AuditEntry, AuditEntry.target_id == str(case.id))]
    assert ("complaint.reminded", service.TICK_ACTOR) in audit
    events = [e["event_type"] for e in await rows(tenant, OutboxEvent, OutboxEvent.aggregate_id == str(case.id))]
    assert "complaint.reminded" in events and "complaint.breached" in events
    clock.set(sh(2026, 10, 12, 9))
    await walk(registry, case.id, steps_to_approval(people)[2:3], clock)
    assert clocks_of(await service.timeline(people.reader, registry, case.id))["qa_report_3d"].status == "late"


async def test_a_late_consolidated_opinion_reminds_the_gm_office(people, registry, clock):
    """R2-7 / R3-5 (testable rule 9): the negotiated form reaching the GM office on 30 Sept 16:00
    must be consolidated within 1 working day: by Thu 8 Oct 18:00 (国庆 between); the tick then
    sends a reminder to the GM office."""
    tenant = people.sales.tenant_id
    clock.set(sh(2026, 9, 30, 8))
    case = await open_case(people.sales, registry, people)
    await walk(registry, case.id, steps_to_approval(people)[:9], clock, every=timedelta(minutes=50))
    consolidation = clocks_of(await service.timeline(people.reader, registry, case.id))["consolidation_1d"]
    assert consolidation.started_at == sh(2026, 9, 30, 15, 30)
    assert consolidation.due_at == sh(2026, 10, 8, 18)
    assert await service.breach_due_in_tenant(tenant, sh(2026, 10, 8, 18, 1), registry) == 1
    t = await service.timeline(people.reader, registry, case.id)
    assert [(e.detail["role"], e.detail["notice"]) for e in t.events if e.kind == "reminded"] == [("gm_office", "reminder")]


async def test_an_overdue_case_gets_a_reminder_and_closed_late_an_overdue_investigation(people, registry, clock):
    """R2-25 / R3-19 (testable rules 10 and 12): a domestic case still open 15 days after its
    acceptance gets a 催办单 (reminder) to the responsible department from the tick; closed after
    its due time, the closure clock stops late and the responsible department gets a 查办单
    (overdue-investigation notice), audited with the closer as actor and sent as an outbox event."""
    tenant = people.sales.tenant_id
    clock.set(sh(2026, 9, 29, 10))
    case = await open_case(people.sales, registry, people)
    clock.set(sh(2026, 9, 29, 11))
    await walk(registry, case.id, steps_to_approval(people)[:1], clock, every=timedelta(0))
    assert await service.breach_due_in_tenant(tenant, sh(2026, 10, 14, 10, 59), registry) == 0
    assert await service.breach_due_in_tenant(tenant, sh(2026, 10, 14, 11, 0, 1), registry) == 1
    t = await service.timeline(people.reader, registry, case.id)
    [reminder] = [e for e in t.events if e.kind == "reminded"]
    assert reminder.actor == service.TICK_ACTOR and reminder.timer == "closure"
    assert (reminder.detail["role"], reminder.detail["notice"], reminder.detail["department_id"]) == (
        "responsible_department", "reminder", str(people.department))

    clock.set(sh(2026, 10, 15, 9))
    await walk(registry, case.id, [*steps_to_approval(people)[1:], (people.sales_manager, "approve", DECISION),
                                   (people.sales, "close", {"disposition": "退货"})], clock)
    t = await service.timeline(people.reader, registry, case.id)
    assert clocks_of(t)["closure"].status == "late"
    notices = [(e.actor, e.detail["role"], e.detail["notice"], e.detail["department_id"])
               for e in t.events if e.kind == "reminded"]
    assert notices == [
        (service.TICK_ACTOR, "responsible_department", "reminder", str(people.department)),
        (people.sales.actor, "responsible_department", "overdue_investigation", str(people.department))]
    audit = [(e["action"], e["actor"]) for e in await rows(tenant, AuditEntry, AuditEntry.target_id == str(case.id))]
    assert audit.count(("complaint.reminded", people.sales.actor)) == 1
    events = [e["event_type"] for e in await rows(tenant, OutboxEvent, OutboxEvent.aggregate_id == str(case.id))]
    assert events.count("complaint.reminded") == 2


async def test_a_case_closed_in_time_gets_no_overdue_investigation(people, registry, clock):
    """R2-25: only a late closure brings a 查办单; a case found not established by QA ends with its
    clocks met and no notice."""
    clock.set(sh(2026, 9, 29, 10))
    case = await open_case(people.sales, registry, people)
    await walk(registry, case.id, [*steps_to_approval(people)[:2],
                                   (people.qa, "find_not_established", {"reason": "客户使用不当，非产品质量问题"})], clock)
    t = await service.timeline(people.reader, registry, case.id)
    assert t.complaint.state == "not_established" and t.complaint.closed_at == clock.at
    assert {c.timer: c.status for c in t.clocks} == {"closure": "met", "qa_report_3d": "met"}
    assert not [e for e in t.events if e.kind == "reminded"]


# --- approval by authority level -------------------------------------------------------------------


@pytest.mark.parametrize(("loss_amount", "approver", "allowed"), [
    ("8000", "sales_manager", True),
    (10_000, "sales_manager", True),  # up to and including the sales manager's limit
    ("10000.01", "sales_manager", False),
    ("10000.01", "deputy_gm", True),
    (100_000, "deputy_gm", True),
    (100_001, "deputy_gm", False),
    (100_001, "gm", True),
    (0, "gm", True),  # a higher level may always approve
    (500, "deputy_gm", True),
    (500, "gm_office", False),
])
async def test_approval_follows_the_authority_level_of_the_loss_amount(people, registry, clock, loss_amount, approver,
                                                                       allowed):
    """R2-7 / R2-12 (testable rule 14, 不得超越核决权限): the consolidated opinion's loss amount
    chooses who may approve: the sales manager up to 10,000, the deputy GM up to 100,000, the GM
    above; a lower level is refused with PERMISSION_DENIED and nothing is written."""
    case = await open_case(people.sales, registry, people)
    await walk(registry, case.id, steps_to_approval(people, loss_amount=loss_amount), clock)
    tenant = people.sales.tenant_id
    before = await footprint(tenant, case.id)
    clock.advance(minutes=5)
    if allowed:
        approved = await service.transition(getattr(people, approver), registry, case.id, "approve", DECISION)
        assert approved.state == "approved" and approved.fields["approve.decided_by"] == "业务部经理"
        return
    with pytest.raises(KehuError) as refused:
        await service.transition(getattr(people, approver), registry, case.id, "approve", DECISION)
    assert refused.value.code == "PERMISSION_DENIED"
    assert await footprint(tenant, case.id) == before


@pytest.mark.parametrize("loss_amount", ["abc", "-1", -5, True, "", "NaN", None])
async def test_a_loss_amount_that_is_no_amount_is_refused_at_consolidation(people, registry, clock, loss_amount):
    """R2-8 / R2-7: the loss amount the approval level is read from must be an amount of at least 0;
    anything else is refused (COMPLAINT_FIELDS_REQUIRED when blank, else COMPLAINT_FIELDS_INVALID)
    and nothing is written."""
    case = await open_case(people.sales, registry, people)
    await walk(registry, case.id, steps_to_approval(people)[:9], clock)
    tenant = people.sales.tenant_id
    before = await footprint(tenant, case.id)
    with pytest.raises(KehuError) as refused:
        await service.transition(people.gm_office, registry, case.id, "consolidate",
                                 {"consolidated_opinion": "x", "loss_amount": loss_amount, "track_improvement": False})
    assert (refused.value.code, refused.value.field) == (
        "COMPLAINT_FIELDS_REQUIRED" if loss_amount in ("", None) else "COMPLAINT_FIELDS_INVALID", "loss_amount")
    assert await footprint(tenant, case.id) == before


async def test_a_decision_record_is_required_to_approve(people, registry, clock):
    """R2-7: the approval is a decision record: who decided, why, and whether it is reportable."""
    case = await open_case(people.sales, registry, people)
    await walk(registry, case.id, steps_to_approval(people), clock)
    with pytest.raises(KehuError) as refused:
        await service.transition(people.gm, registry, case.id, "approve", {"decided_by": "总经理"})
    assert refused.value.code == "COMPLAINT_FIELDS_REQUIRED"


# --- acceptance 3: numbering -----------------------------------------------------------------------


async def test_numbers_are_yymmcc_starting_again_each_month(people, registry, clock):
    """Issue 19 acceptance 3 / R2-1 / R3-2 (testable rule 8): cases opened on 2026-09-30 take the
    next numbers of 2609; the first of October (Shanghai: 30 Sept 16:00 UTC) starts 261001; each
    tenant counts on its own."""
    clock.set(sh(2026, 9, 30, 9))
    assert [(await open_case(people.sales, registry)).number for _ in range(3)] == ["260901", "260902", "260903"]
    clock.set(sh(2026, 9, 30, 23, 59, 59))
    assert (await open_case(people.sales, registry)).number == "260904"
    clock.set(datetime(2026, 9, 30, 16, 0, tzinfo=UTC))
    assert clock.at == sh(2026, 10, 1)
    assert (await open_case(people.sales, registry)).number == "261001"
    assert (await open_case(people.globex, registry)).number == "261001"
    assert (await open_case(people.sales, registry)).number == "261002"


async def test_fifty_concurrent_intakes_get_fifty_consecutive_numbers(people, registry, clock):
    """Issue 19 acceptance 3 (concurrency), on SQLite and PostgreSQL: 50 product-quality intakes at
    once on 30 Sept give 260901 … 260950, each once, no gap."""
    clock.set(sh(2026, 9, 30, 9))
    views = await asyncio.gather(*(open_case(people.sales, registry, subject=f"批次 {i}") for i in range(50)))
    assert sorted(v.number for v in views) == [f"2609{n:02d}" for n in range(1, 51)]


async def test_intake_needs_the_sales_permission(people, registry, clock):
    """R2-2: sales records the complaint (the flow's intake permission); others are refused."""
    with pytest.raises(KehuError) as refused:
        await open_case(people.qa, registry)
    assert refused.value.code == "PERMISSION_DENIED"


# --- the follow-up case ----------------------------------------------------------------------------


async def test_a_customer_rejecting_the_outcome_gets_a_linked_follow_up_case(people, registry, clock):
    """R2-10 (testable rule 16): sales records that the customer does not accept the approved
    decision; the case ends as rejected and sales files a new case linked to it, the original
    attached; the follow-up is a case of its own with the next number and its own clocks."""
    clock.set(sh(2026, 9, 29, 10))
    first = await open_case(people.sales, registry, people)
    await walk(registry, first.id, [*steps_to_approval(people), (people.sales_manager, "approve", DECISION)], clock)
    rejected = await service.transition(people.sales, registry, first.id, "customer_rejects",
                                        {"reason": "客户要求全数退货"})
    assert (rejected.state, rejected.closed_at) == ("rejected", clock.at)
    assert {c.timer: c.status for c in (await service.timeline(people.reader, registry, first.id)).clocks}["closure"] == "met"
    follow_up = await open_case(people.sales, registry, people, previous_id=first.id, subject="客户不接受折让，另案处理",
                                attachments=[{"complaint_id": str(first.id), "number": first.number}])
    assert (follow_up.previous_id, follow_up.number, follow_up.state) == (first.id, "260902", "received")
    assert follow_up.attachments == [{"complaint_id": str(first.id), "number": first.number}]
    with pytest.raises(KehuError) as refused:  # the rejected case is over
        await service.transition(people.sales, registry, first.id, "close", {"disposition": "x"})
    assert refused.value.code == "COMPLAINT_CLOSED"


# --- the vertical's wiring -------------------------------------------------------------------------


def test_the_vertical_supplies_the_flow_with_every_permission_it_names(registry):
    """Issue 19: the flow comes through kehu_complaint_flows, every permission it names (transitions,
    authority levels, roles, who opens, reads and assigns) is one the vertical declares, and the
    plugin imports only core.plugins from core."""
    definition = registry.definition("medical_devices")
    [flow] = definition.complaint_flows
    assert flow is md.QUALITY_COMPLAINTS
    declared = {p.name for p in definition.permissions}
    named = {t.permission for t in flow.transitions if t.permission} | {
        p for t in flow.transitions for _, p in t.authority} | {r.permission for r in flow.roles if r.permission} | {
        flow.intake_permission, flow.read_permission, flow.assign_permission}
    assert named <= declared
    assert {p for t in flow.transitions for _, p in t.authority} == {
        f"{P}.approve_sales_manager", f"{P}.approve_deputy_gm", f"{P}.approve_gm"}
    for module in (md, medical_devices):
        tree = ast.parse(inspect.getsource(module))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert {m for m in imported if m and m.startswith("core")} <= {"core.plugins"}
