"""Visit plans and visits over GraphQL (issue 20, MD17, MD25, MD28) with the medical-devices
vertical enabled: VIP and 优选 customers on site once a calendar month (due dates stored, moved by
an on-site visit only), the summary report's required parts, the due list in the four-priorities
order, the tick marking missed visits overdue once and the overdue report per owner and department
(controlled clock)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

import pytest

from core.visits import service as visits
from tests.gateway.test_blacklists_api import (  # noqa: F401 - fixtures
    World,
    api_settings,
    client,
    clock,
    ok,
    refused,
    sh,
)
from tests.gateway.test_identity_api import _snapshot, gql, login

PLAN = ('mutation($c: ID!, $g: String) { visitPlanSet(customerId: $c, vertical: "medical_devices", grade: $g) '
        '{ schedules { planId grade channel priority status dueAt departmentId ownerId } errors { code field } } }')
FROM_GRADE = ('mutation($c: ID!) { visitPlanFromGrade(customerId: $c, vertical: "medical_devices") '
              '{ schedules { planId grade dueAt } errors { code field } } }')
RECORD = ('mutation($c: ID!, $ch: String!, $at: DateTime!, $r: VisitReportInput!) { visitRecord(input: '
          '{customerId: $c, channel: $ch, visitedAt: $at, report: $r}) { visit { id planIds channel visitedAt visitor '
          'report { needs opinions suggestions } } errors { code field message } } }')
CUSTOMER_PLAN = "query($c: ID!) { customerVisitPlan(customerId: $c) { schedules { planId dueAt lastVisitAt status } } }"
DUE = ("query($until: DateTime, $d: ID) { dueVisits(until: $until, departmentId: $d) { nodes { customerId planId "
       "priority status dueAt } } }")
OVERDUE = ("query($d: ID) { visitOverdueReport(departmentId: $d) { total groups { departmentId ownerId count "
           "customerIds oldestDueAt } } }")
REPORT = {"needs": "需要新型号矫形器", "opinions": "交付及时", "suggestions": "增加培训"}


@pytest.fixture
async def world(client, seeded, clock) -> World:
    clock.set(sh(2026, 6, 3, 10))  # Wednesday 3 June 2026
    return await World(client, seeded).build()


async def _customer(client, world: World, name: str, department: str, owner: str) -> str:
    made = await ok(client, 'mutation($d: ID!, $o: ID!, $n: String!) { customerCreate(input: {kind: "organisation", '
                            'orgName: $n, departmentId: $d, ownerId: $o}) { customer { id } errors { code } } }',
                    world.admin, d=department, o=owner, n=name)
    return made["customer"]["id"]


async def test_md25_a_vip_is_due_on_site_by_the_end_of_each_calendar_month(client, world, clock):
    """MD25: a VIP joins the monthly on-site plan, due by the end of June (Shanghai time); a phone
    call does not meet it; an on-site visit on 20 June moves it to the end of July; a grade with no
    plan (合格) ends it. visitPlanFromGrade follows the grade the grading engine stores (MD19)."""
    schedules = (await ok(client, PLAN, world.admin, c=world.customer, g="vip"))["schedules"]
    assert [(s["planId"], s["channel"], s["priority"], s["status"]) for s in schedules] == [
        ("vip_monthly", "on_site", 1, "due")]
    assert datetime.fromisoformat(schedules[0]["dueAt"]) == sh(2026, 7, 1)
    assert schedules[0]["departmentId"] == world.sales and schedules[0]["ownerId"] == world.admin_id
    clock.set(sh(2026, 6, 20, 15))
    earlier = (clock.at - timedelta(hours=2)).isoformat()
    call = (await ok(client, RECORD, world.admin, c=world.customer, ch="phone", at=earlier,
                     r={"needs": "电话询问库存"}))["visit"]
    assert call["planIds"] == []
    plan = (await ok(client, CUSTOMER_PLAN, world.admin, c=world.customer))["schedules"]
    assert datetime.fromisoformat(plan[0]["dueAt"]) == sh(2026, 7, 1) and plan[0]["lastVisitAt"] is None
    visit = (await ok(client, RECORD, world.admin, c=world.customer, ch="on_site", at=clock.at.isoformat(),
                      r=REPORT))["visit"]
    assert visit["planIds"] == ["vip_monthly"] and visit["report"] == REPORT
    plan = (await ok(client, CUSTOMER_PLAN, world.admin, c=world.customer))["schedules"]
    assert datetime.fromisoformat(plan[0]["dueAt"]) == sh(2026, 8, 1)
    assert datetime.fromisoformat(plan[0]["lastVisitAt"]) == clock.at
    assert (await ok(client, PLAN, world.admin, c=world.customer, g="qualified"))["schedules"] == []
    world.grade("preferred", world.sales)
    schedules = (await ok(client, FROM_GRADE, world.admin, c=world.customer))["schedules"]
    assert [(s["planId"], s["grade"]) for s in schedules] == [("preferred_monthly", "preferred")]
    listed = await ok(client, "query($c: ID!) { visits(customerId: $c) { nodes { id channel report { needs } } } }",
                      world.admin, c=world.customer)
    assert [(v["id"], v["channel"]) for v in listed["nodes"]] == [(visit["id"], "on_site"), (call["id"], "phone")]


async def test_md28_a_visit_needs_its_summary_report(client, world, clock, api_settings):
    """MD28 (附件5): a visit is recorded with its summary report — latest needs, opinions,
    suggestions, at least one of them; an empty report, an over-long part, a visit in the future or
    an unknown channel is refused with VISIT_INPUT_INVALID naming the input, writing nothing."""
    await ok(client, PLAN, world.admin, c=world.customer, g="vip")
    before = await _snapshot(api_settings)
    cases = [({"ch": "on_site", "at": clock.at.isoformat(), "r": {}}, "input.report"),
             ({"ch": "on_site", "at": clock.at.isoformat(), "r": {"needs": "  "}}, "input.report"),
             ({"ch": "on_site", "at": clock.at.isoformat(), "r": {"needs": "长" * 4001}}, "input.report.needs"),
             ({"ch": "on_site", "at": (clock.at + timedelta(hours=1)).isoformat(), "r": REPORT}, "input.visitedAt"),
             ({"ch": "fax", "at": clock.at.isoformat(), "r": REPORT}, "input.channel")]
    for variables, field in cases:
        error = await refused(client, RECORD, world.admin, c=world.customer, **variables)
        assert error["code"] == "VISIT_INPUT_INVALID" and error["field"] in (field, field.removeprefix("input.")), \
            (variables, error)
    assert await _snapshot(api_settings) == before
    visit = (await ok(client, RECORD, world.admin, c=world.customer, ch="on_site", at=clock.at.isoformat(),
                      r={"suggestions": "增加培训"}))["visit"]
    assert visit["report"] == {"needs": None, "opinions": None, "suggestions": "增加培训"}


async def test_md17_due_visits_are_served_vip_first_then_preferred(client, world, clock):
    """MD17 (four priorities): the due list puts VIP customers before 优选 ones, the earlier due date
    first within a grade, whatever order they joined in; a department's list holds only its own."""
    preferred = await _customer(client, world, "优选医院", world.sales, world.admin_id)
    vip_late = await _customer(client, world, "VIP医院乙", world.sales, world.approver_id)
    other = await _customer(client, world, "客服部VIP", world.service, world.approver_id)
    await ok(client, PLAN, world.admin, c=preferred, g="preferred")
    await ok(client, PLAN, world.admin, c=world.customer, g="vip")
    await ok(client, PLAN, world.admin, c=vip_late, g="vip")
    await ok(client, PLAN, world.admin, c=other, g="vip")
    clock.set(sh(2026, 6, 25, 10))  # world.customer visited: due by the end of July, after the others
    await ok(client, RECORD, world.admin, c=world.customer, ch="on_site", at=clock.at.isoformat(), r=REPORT)
    due = (await ok(client, DUE, world.admin, until=sh(2026, 8, 1).isoformat(), d=world.sales))["nodes"]
    assert [(d["customerId"], d["priority"]) for d in due] == [(vip_late, 1), (world.customer, 1), (preferred, 2)]
    june = (await ok(client, DUE, world.admin, until=sh(2026, 7, 1).isoformat()))["nodes"]
    assert {d["customerId"] for d in june} == {vip_late, other, preferred}
    assert [d["priority"] for d in june] == [1, 1, 2]


async def test_md25_missed_visits_are_marked_overdue_once_and_reported_per_owner_and_department(client, world, clock):
    """MD25: on 1 July the tick marks the June visits not made overdue, once, as the audited actor;
    the overdue report groups them per department and owner, the most overdue first; dueVisits
    still lists them; a visit clears the customer from the report."""
    mine = await _customer(client, world, "VIP医院甲", world.sales, world.admin_id)
    theirs = await _customer(client, world, "VIP医院乙", world.sales, world.approver_id)
    service_side = await _customer(client, world, "客服部优选", world.service, world.approver_id)
    for customer, grade in ((mine, "vip"), (theirs, "vip"), (service_side, "preferred")):
        await ok(client, PLAN, world.admin, c=customer, g=grade)
    clock.set(sh(2026, 7, 1, 0, 5))
    tick = partial(visits.mark_overdue_in_tenant, world.tenant, clock.at)
    assert client.blocking_portal.call(tick) == 3
    assert client.blocking_portal.call(tick) == 0  # once
    report = await ok(client, OVERDUE, world.admin)
    assert report["total"] == 3
    groups = {(g["departmentId"], g["ownerId"]): g for g in report["groups"]}
    assert set(groups) == {(world.sales, world.admin_id), (world.sales, world.approver_id),
                           (world.service, world.approver_id)}
    assert groups[(world.sales, world.admin_id)]["customerIds"] == [mine]
    assert datetime.fromisoformat(groups[(world.sales, world.admin_id)]["oldestDueAt"]) == sh(2026, 7, 1)
    sales_only = await ok(client, OVERDUE, world.admin, d=world.sales)
    assert sales_only["total"] == 2 and {g["departmentId"] for g in sales_only["groups"]} == {world.sales}
    due = (await ok(client, DUE, world.admin))["nodes"]
    assert {(d["customerId"], d["status"]) for d in due} == {(mine, "overdue"), (theirs, "overdue"),
                                                              (service_side, "overdue")}
    audit = await ok(client, '{ auditEntries(filter: {action: "visit.overdue"}) { nodes { actor } } }', world.admin)
    assert [a["actor"] for a in audit["nodes"]] == [visits.TICK_ACTOR] * 3
    await ok(client, RECORD, world.admin, c=mine, ch="on_site", at=clock.at.isoformat(), r=REPORT)
    report = await ok(client, OVERDUE, world.admin)
    assert report["total"] == 2 and mine not in [c for g in report["groups"] for c in g["customerIds"]]


async def test_visits_need_customer_permissions_and_stay_in_their_tenant(client, world, clock):
    """Recording and planning need customer.write, reading customer.read (PERMISSION_DENIED);
    another tenant's customer is not found, and its lists show nothing of acme's."""
    await ok(client, PLAN, world.admin, c=world.customer, g="vip")
    assert (await refused(client, PLAN, world.nobody, c=world.customer, g="vip"))["code"] == "PERMISSION_DENIED"
    error = await refused(client, RECORD, world.nobody, c=world.customer, ch="on_site", at=clock.at.isoformat(),
                          r=REPORT)
    assert error["code"] == "PERMISSION_DENIED"
    other = (await login(client, tenant="globex"))["accessToken"]
    error = await refused(client, RECORD, other, c=world.customer, ch="on_site", at=clock.at.isoformat(), r=REPORT)
    assert error["code"] == "CUSTOMER_NOT_FOUND"
    assert (await ok(client, DUE, other, until=sh(2027, 1, 1).isoformat()))["nodes"] == []
    assert (await ok(client, OVERDUE, other))["total"] == 0
    body = (await gql(client, CUSTOMER_PLAN, other, c=world.customer)).json()
    assert body["errors"][0]["extensions"]["code"] == "CUSTOMER_NOT_FOUND"
