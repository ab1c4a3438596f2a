"""Visit plans and visits through the service on a controlled clock (issue 20: MD17, MD25, MD28)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from core.audit.tables import AuditEntry
from core.blacklists.tables import BlacklistEntry
from core.db import unit_of_work
from core.errors import KehuError
from core.grading.tables import CustomerGrade
from core.jobs.tables import OutboxEvent
from core.visits import service
from core.visits.tables import Visit, VisitSchedule
from tests.support import SYSTEM
from tests.visits.conftest import add_customer

SHANGHAI = ZoneInfo("Asia/Shanghai")
END_OF_JUNE = datetime(2026, 7, 1, tzinfo=SHANGHAI).astimezone(UTC)
REPORT = {"needs": "下季度需要新型膝关节", "opinions": "交货周期偏长", "suggestions": "增加现场培训"}


async def _rows(tenant_id, table, *where):
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        query = uow.select(table)
        for w in where:
            query = query.where(w)
        return await query


async def test_vip_and_preferred_get_a_monthly_on_site_plan_due_at_month_end(world, registry, clock):
    """MD25: a VIP and a 优选 customer are put on the monthly on-site plan, due by the end of the
    current month (Shanghai); the due date is stored and the plan is audited and announced; a 合格
    customer gets the vertical's quarterly phone plan instead."""
    vip = await add_customer(world.acme, "康复医院", owner_id=world.wang, department_id=world.north)
    preferred = await add_customer(world.acme, "假肢经销商", owner_id=world.li, department_id=world.south)
    qualified = await add_customer(world.acme, "小诊所", owner_id=world.li, department_id=world.south)
    plans = await service.plan_customer(world.sales, registry, vip, vertical="clinic", grade="vip")
    assert [(p.plan_id, p.channel, p.status, p.due_at, p.priority) for p in plans] == \
        [("vip_monthly", "on_site", "due", END_OF_JUNE, 1)]
    assert (plans[0].owner_id, plans[0].department_id) == (world.wang, world.north)
    assert [p.plan_id for p in await service.plan_customer(world.sales, registry, preferred, vertical="clinic",
                                                           grade="preferred")] == ["preferred_monthly"]
    call = await service.plan_customer(world.sales, registry, qualified, vertical="clinic", grade="qualified")
    assert [(p.plan_id, p.channel, p.due_at) for p in call] == [("qualified_call", "phone", datetime(2026, 9, 1, 2, tzinfo=UTC))]
    audit = await _rows(world.acme, AuditEntry, AuditEntry.action == "visit.planned")
    assert len(audit) == 3
    events = await _rows(world.acme, OutboxEvent, OutboxEvent.event_type == "visit.planned")
    assert len(events) == 3

    clock.advance(days=10)  # planning again keeps the stored due date: it is not recomputed from the clock
    again = await service.plan_customer(world.sales, registry, vip, vertical="clinic", grade="vip")
    assert again[0].due_at == END_OF_JUNE
    assert len(await _rows(world.acme, AuditEntry, AuditEntry.action == "visit.planned")) == 3

    # downgraded to 合格: the monthly plan ends, the phone plan starts
    changed = await service.plan_customer(world.sales, registry, vip, vertical="clinic", grade="qualified")
    assert [p.plan_id for p in changed] == ["qualified_call"]
    ended = await _rows(world.acme, VisitSchedule, VisitSchedule.plan_id == "vip_monthly")
    assert [r["status"] for r in ended] == ["ended"]


async def test_a_visit_is_recorded_with_its_summary_report_and_moves_the_due_date(world, registry, clock):
    """MD28: a visit is recorded with the summary report (latest needs, opinions, suggestions); an
    on-site visit in June meets the VIP's June visit and the next one is due by the end of July
    (MD25); a phone call does not meet the on-site plan."""
    vip = await add_customer(world.acme, "康复医院", owner_id=world.wang, department_id=world.north)
    await service.plan_customer(world.sales, registry, vip, vertical="clinic", grade="vip")
    clock.advance(days=5)
    call = await service.record_visit(world.sales, vip, channel="phone", visited_at=clock.at,
                                      report={"needs": "询价"})
    assert call.plan_ids == ()
    (row,) = await _rows(world.acme, VisitSchedule, VisitSchedule.customer_id == vip)
    assert _utc(row["due_at"]) == END_OF_JUNE

    visit = await service.record_visit(world.sales, vip, channel="on_site", visited_at=clock.at, report=REPORT)
    assert visit.plan_ids == ("vip_monthly",) and dict(visit.report) == REPORT
    (row,) = await _rows(world.acme, VisitSchedule, VisitSchedule.customer_id == vip)
    assert _utc(row["due_at"]) == datetime(2026, 8, 1, tzinfo=SHANGHAI).astimezone(UTC)
    assert _utc(row["last_visit_at"]) == clock.at
    listed = await service.visits_of(world.reader, vip)
    assert [(v.channel, dict(v.report)) for v in listed] == [("on_site", REPORT), ("phone", {"needs": "询价"})]
    (stored,) = await _rows(world.acme, Visit, Visit.channel == "on_site")
    assert stored["visitor"] == world.sales.actor and stored["department_id"] == world.north
    assert len(await _rows(world.acme, AuditEntry, AuditEntry.action == "visit.recorded")) == 2
    assert len(await _rows(world.acme, OutboxEvent, OutboxEvent.event_type == "visit.recorded")) == 2


@pytest.mark.parametrize(("change", "field"), [
    (dict(report={}), "report"),
    (dict(report={"grade": "A"}), "report.grade"),
    (dict(channel="fax"), "channel"),
    (dict(visited_at=datetime(2026, 6, 4)), "visited_at"),
    (dict(visited_at=datetime(2026, 6, 4, tzinfo=UTC)), "visited_at"),  # tomorrow: not yet happened
])
async def test_a_visit_without_its_report_or_with_a_bad_channel_or_time_is_refused(world, registry, clock, change, field):
    """MD28: no visit without its summary report; a refused visit writes nothing."""
    vip = await add_customer(world.acme, "康复医院")
    values = dict(channel="on_site", visited_at=clock.at, report=REPORT) | change
    with pytest.raises(KehuError) as refused:
        await service.record_visit(world.sales, vip, **values)
    assert (refused.value.code, refused.value.field) == ("VISIT_INPUT_INVALID", field)
    assert await _rows(world.acme, Visit) == []


async def test_visits_need_the_customer_permissions_and_stay_in_the_tenant(world, registry, clock):
    """Recording needs customer.write; another tenant's customer is not found."""
    vip = await add_customer(world.acme, "康复医院")
    with pytest.raises(KehuError) as refused:
        await service.record_visit(world.reader, vip, channel="on_site", visited_at=clock.at, report=REPORT)
    assert refused.value.code == "PERMISSION_DENIED"
    with pytest.raises(KehuError) as unknown:
        await service.record_visit(world.other, vip, channel="on_site", visited_at=clock.at, report=REPORT)
    assert unknown.value.code == "CUSTOMER_NOT_FOUND"
    with pytest.raises(KehuError) as elsewhere:
        await service.plan_customer(world.other, registry, vip, vertical="clinic", grade="vip")
    assert elsewhere.value.code == "CUSTOMER_NOT_FOUND"


async def test_the_tick_marks_a_missed_visit_overdue_once_with_the_tick_as_actor(world, registry, clock):
    """MD25 (seed-000 case 36): a VIP with no on-site visit in June is overdue when July begins; the
    tick marks it once (a second tick finds nothing), audited with the tick as actor and announced;
    an on-site visit in July clears it and makes August's visit the next one due."""
    vip = await add_customer(world.acme, "康复医院", owner_id=world.wang, department_id=world.north)
    await service.plan_customer(world.sales, registry, vip, vertical="clinic", grade="vip")
    assert await service.mark_overdue_in_tenant(world.acme, datetime(2026, 6, 30, 15, 59, tzinfo=UTC)) == 0
    at = datetime(2026, 6, 30, 16, 0, tzinfo=UTC)  # midnight in Shanghai: July has begun
    assert await service.mark_overdue_in_tenant(world.acme, at) == 1
    assert await service.mark_overdue_in_tenant(world.acme, at) == 0
    assert await service.mark_overdue(datetime(2026, 7, 2, tzinfo=UTC)) == 0
    (row,) = await _rows(world.acme, VisitSchedule, VisitSchedule.customer_id == vip)
    assert (row["status"], _utc(row["overdue_at"])) == ("overdue", at)
    audit = await _rows(world.acme, AuditEntry, AuditEntry.action == "visit.overdue")
    assert [a["actor"] for a in audit] == [service.TICK_ACTOR]
    assert len(await _rows(world.acme, OutboxEvent, OutboxEvent.event_type == "visit.overdue")) == 1

    clock.set(datetime(2026, 7, 3, 2, tzinfo=UTC))
    await service.record_visit(world.sales, vip, channel="on_site", visited_at=clock.at, report=REPORT)
    (row,) = await _rows(world.acme, VisitSchedule, VisitSchedule.customer_id == vip)
    assert (row["status"], row["overdue_at"]) == ("due", None)  # July's visit is made; August's is next
    assert _utc(row["due_at"]) == datetime(2026, 9, 1, tzinfo=SHANGHAI).astimezone(UTC)


async def test_overdue_visits_are_reported_per_owner_and_department(world, registry, clock):
    """MD25 compliance report: overdue visits grouped by department and owner; a department filter
    shows only its own; visited customers are not listed; the reader needs customer.read only."""
    a = await add_customer(world.acme, "A医院", owner_id=world.wang, department_id=world.north)
    b = await add_customer(world.acme, "B医院", owner_id=world.wang, department_id=world.north)
    c = await add_customer(world.acme, "C经销商", owner_id=world.li, department_id=world.south)
    d = await add_customer(world.acme, "D经销商", owner_id=world.li, department_id=world.south)
    for customer, grade in ((a, "vip"), (b, "preferred"), (c, "vip"), (d, "vip")):
        await service.plan_customer(world.sales, registry, customer, vertical="clinic", grade=grade)
    await service.record_visit(world.sales, d, channel="on_site", visited_at=clock.at, report=REPORT)
    other = await add_customer(world.globex, "别家医院")
    await service.plan_customer(world.other, registry, other, vertical="clinic", grade="vip")
    assert await service.mark_overdue_in_tenant(world.acme, datetime(2026, 7, 1, 1, tzinfo=UTC)) == 3

    report = await service.overdue_report(world.reader)
    assert {(g.department_id, g.owner_id, g.count, frozenset(g.customer_ids)) for g in report} == {
        (world.north, world.wang, 2, frozenset({a, b})), (world.south, world.li, 1, frozenset({c}))}
    south = await service.overdue_report(world.reader, department_id=world.south)
    assert [(g.owner_id, g.customer_ids) for g in south] == [(world.li, (c,))]
    assert await service.overdue_report(world.other) == []  # globex's tick has not run


async def test_due_visits_are_queued_vip_first_then_preferred_then_the_rest(world, registry, clock):
    """MD17 (e) priority visits: the queue of due visits lists VIP before 优选 before 合格, the
    earlier due date first within a grade, whatever order they were planned in."""
    q = await add_customer(world.acme, "合格诊所", department_id=world.north)
    p = await add_customer(world.acme, "优选经销商", department_id=world.north)
    v_late = await add_customer(world.acme, "VIP医院乙", department_id=world.south)
    v_early = await add_customer(world.acme, "VIP医院甲", department_id=world.north)
    await service.plan_customer(world.sales, registry, q, vertical="clinic", grade="qualified")
    await service.plan_customer(world.sales, registry, p, vertical="clinic", grade="preferred")
    await service.plan_customer(world.sales, registry, v_early, vertical="clinic", grade="vip")
    clock.set(datetime(2026, 7, 2, tzinfo=UTC))  # v_late joins in July: due by the end of July
    await service.plan_customer(world.sales, registry, v_late, vertical="clinic", grade="vip")
    queue = await service.due_visits(world.reader, until=datetime(2026, 12, 31, tzinfo=UTC))
    assert [s.customer_id for s in queue] == [v_early, v_late, p, q]
    north = await service.due_visits(world.reader, until=datetime(2026, 12, 31, tzinfo=UTC), department_id=world.north)
    assert [s.customer_id for s in north] == [v_early, p, q]
    june = await service.due_visits(world.reader, until=END_OF_JUNE)
    assert [s.customer_id for s in june] == [v_early, p]


def _utc(value):
    return None if value is None else value.astimezone(UTC)


async def _blacklist(tenant_id, customer_id, *, department_id=None):
    async with unit_of_work(SYSTEM.for_tenant(tenant_id)) as uow:
        await uow.insert(BlacklistEntry(
            id=uuid4(), customer_id=customer_id, scope="department" if department_id else "tenant",
            department_id=department_id, status="active", reason="造成重大损失", proposed_by="test",
            proposed_at=datetime(2026, 1, 1, tzinfo=UTC), approved_by="boss", approved_at=datetime(2026, 1, 2, tzinfo=UTC),
            starts_at=datetime(2026, 1, 2, tzinfo=UTC), expires_at=datetime(2099, 1, 1, tzinfo=UTC)))


async def test_a_blacklisted_customer_cannot_be_given_a_visit(world, registry, clock):
    """Issue 20 (MD14, acceptance 4): a customer on the company blacklist cannot be visited or put on
    a visit plan, in any department; a department blacklist blocks only that department's customer;
    the refusal writes nothing."""
    listed = await add_customer(world.acme, "失信经销商", owner_id=world.wang, department_id=world.north)
    await _blacklist(world.acme, listed)
    for attempt in (service.plan_customer(world.sales, registry, listed, vertical="clinic", grade="vip"),
                    service.record_visit(world.sales, listed, channel="on_site", visited_at=clock.at, report=REPORT)):
        with pytest.raises(KehuError) as refused:
            await attempt
        assert refused.value.code == "CUSTOMER_BLACKLISTED"
    assert await _rows(world.acme, Visit) == [] and await _rows(world.acme, VisitSchedule) == []

    north = await add_customer(world.acme, "北区医院", department_id=world.north)
    south = await add_customer(world.acme, "南区医院", department_id=world.south)
    await _blacklist(world.acme, north, department_id=world.north)
    await _blacklist(world.acme, south, department_id=world.north)  # another department's entry
    with pytest.raises(KehuError) as refused:
        await service.record_visit(world.sales, north, channel="on_site", visited_at=clock.at, report=REPORT)
    assert refused.value.code == "CUSTOMER_BLACKLISTED"
    done = await service.record_visit(world.sales, south, channel="on_site", visited_at=clock.at, report=REPORT)
    assert done.customer_id == south


async def test_plans_follow_the_grade_the_grading_engine_stores(world, registry, clock):
    """Issue 20 (MD25 through the grading engine): the visit plans follow the customer's current grade
    as stored by the grading engine; a customer without a grade is on no grade plan; after a
    downgrade the monthly plan ends."""
    customer = await add_customer(world.acme, "康复医院", owner_id=world.wang, department_id=world.north)
    assert await service.plan_from_grade(world.sales, registry, customer, vertical="clinic") == []
    async with unit_of_work(SYSTEM.for_tenant(world.acme)) as uow:
        await uow.insert(CustomerGrade(id=uuid4(), vertical="clinic", scheme="clinic_grades", customer_id=customer,
                                       scope_key="tenant", grade="vip", since=clock.at))
    plans = await service.plan_from_grade(world.sales, registry, customer, vertical="clinic")
    assert [(p.plan_id, p.due_at) for p in plans] == [("vip_monthly", END_OF_JUNE)]
    async with unit_of_work(SYSTEM.for_tenant(world.acme)) as uow:
        await uow.update(CustomerGrade, {CustomerGrade.grade: "qualified"}).where(CustomerGrade.customer_id == customer)
    plans = await service.plan_from_grade(world.sales, registry, customer, vertical="clinic")
    assert [p.plan_id for p in plans] == ["qualified_call"]
    with pytest.raises(KehuError) as unknown:
        await service.plan_from_grade(world.sales, registry, customer, vertical="clinic", scheme="nope")
    assert (unknown.value.code, unknown.value.field) == ("VISIT_INPUT_INVALID", "scheme")


def test_the_stored_grade_is_read_in_the_scheme_scope():
    """MD19: a department-scoped grade is read in the customer's department; per product line the
    best grade counts (the customer is visited once)."""
    from dataclasses import replace

    from core.plugins.types import GradeScope
    from tests.visits.conftest import SCHEME

    north, south = uuid4(), uuid4()
    rows = [{"scope_key": str(north), "grade": "qualified"}, {"scope_key": str(south), "grade": "vip"}]
    by_department = replace(SCHEME, scope=GradeScope.DEPARTMENT)
    assert service.stored_grade(by_department, rows, north) == "qualified"
    assert service.stored_grade(by_department, rows, None) is None
    lines = [{"scope_key": "knees", "grade": "preferred"}, {"scope_key": "hips", "grade": "vip"}]
    assert service.stored_grade(replace(SCHEME, scope=GradeScope.PRODUCT_LINE), lines, None) == "vip"
    assert service.stored_grade(SCHEME, [{"scope_key": "tenant", "grade": "preferred"}], None) == "preferred"
