"""Routes (S21 Art13): the monthly route-optimisation minutes (missing months reported), changes maintained within
one working day after the meeting, delivery-order changes (an address change is refused and reported to internal
management), visit-sale plans (never twice in one order cycle, never on consecutive days), the route balance; grade
evaluations reviewed within three working days (Art14); visits to customers sharing a phone (Art12)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from plugins.tobacco import policy, routes
from tests.medical_devices.api import colleague, ok, refused
from tests.plugins.tobacco.conftest import ERR, extensions, local, maintain, on_app, retailer

MEETING = ("mutation($m: String!, $d: Date!) { tobaccoRouteMeetingRecord(month: $m, heldOn: $d, minutes: \"线路调整纪要\") "
           "{ meeting { id month heldOn } %s } }" % ERR)
MISSING = 'query($f: String!, $t: String!) { tobaccoRouteMinutesMissing(from: $f, to: $t) { missingMonths } }'
APPLY = ("mutation($m: ID!, $c: ID!, $v: JSON!) { tobaccoRouteChangeApply(meetingId: $m, customerId: $c, values: $v) "
         "{ routeChange { id late outcome } %s } }" % ERR)
DELIVERY = ("mutation($c: ID!, $s: Int!, $r: TobaccoDeliveryOrderReason!) { tobaccoDeliveryOrderChange(customerId: $c, "
            "sequence: $s, reason: $r) { routeChange { id outcome reason } %s } }" % ERR)
CHANGES = "query($o: String) { tobaccoRouteChanges(outcome: $o, first: 100) { nodes { id customerId outcome } } }"
PLAN = ("mutation($r: String!, $m: String!, $v: [TobaccoVisitInput!]!) { tobaccoVisitPlanSave(route: $r, month: $m, "
        "visits: $v) { plan { id version visits { customerId day } } %s } }" % ERR)
CLOSE = "mutation($d: Date!) { tobaccoGradeEvaluationClose(closedOn: $d) { evaluation { id reviewDueAt overdue } %s } }" % ERR
REVIEW = ("mutation($id: ID!) { tobaccoGradeReviewComplete(id: $id, note: \"已复核\") { evaluation { reviewedAt overdue } "
          "%s } }" % ERR)
ROUTE_POST = ["tobacco.route.manage", "tobacco.delivery.order", "tobacco.report.read", "customer.read", "customer.write"]


@pytest.mark.parametrize(("days", "cycle", "expected"), [
    ([1, 8, 15], 7, []),  # weekly, a cycle apart
    ([1, 5], 7, [(1, "cycle")]),  # twice within one order cycle
    ([1, 2], 7, [(1, "consecutive")]),  # 连访连销
    ([1, 2], 1, [(1, "consecutive")]),  # a daily cycle still forbids consecutive visit-sales
    ([3, 3], 7, [(1, "cycle")]),  # the same day twice
    ([1, 15, 8], 14, [(2, "cycle")]),  # order of the plan does not matter
])
def test_s21_art13_visit_sales_never_twice_in_a_cycle_nor_on_consecutive_days(days, cycle, expected):
    entries = [("c1", date(2026, 10, d)) for d in days]
    assert policy.visit_plan_violations(entries, {"c1": cycle}) == expected


async def test_s21_art13_monthly_minutes_and_changes_within_a_working_day(company, clock):
    routes_post = await colleague(company["admin"], company["tenant"], ROUTE_POST)
    analyst = company["analyst"]
    clock.set(local(2026, 10, 20, 10, 0))
    meeting = (await ok(routes_post, MEETING, "tobaccoRouteMeetingRecord", m="2026-09", d="2026-09-29"))["meeting"]
    again = await refused(routes_post, MEETING, "tobaccoRouteMeetingRecord", m="2026-09", d="2026-09-30")
    assert again["code"] == "TOBACCO_ROUTE_MEETING_EXISTS"
    body = await routes_post.execute(MISSING, f="2026-07", t="2026-12")
    assert body["data"]["tobaccoRouteMinutesMissing"]["missingMonths"] == ["2026-07", "2026-08", "2026-10"]  # up to this month
    on_time, late = await retailer(analyst), await retailer(analyst)
    clock.set(local(2026, 9, 30, 17, 0))  # the working day after the meeting
    first = (await ok(analyst, APPLY, "tobaccoRouteChangeApply", m=meeting["id"], c=on_time,
                      v={"delivery_route": "R3", "delivery_sequence": 7}))["routeChange"]
    clock.set(local(2026, 10, 8, 9, 0))  # after the holiday: more than a working day after
    second = (await ok(analyst, APPLY, "tobaccoRouteChangeApply", m=meeting["id"], c=late,
                       v={"visit_route": "V2"}))["routeChange"]
    assert (first["late"], second["late"]) == (False, True)
    assert (await extensions(analyst, on_time))["extensions"]["tobacco"]["delivery_route"] == "R3"
    wrong = await refused(analyst, APPLY, "tobaccoRouteChangeApply", m=meeting["id"], c=late, v={"quota": 3})
    assert wrong["code"] == "TOBACCO_INPUT_INVALID"


async def test_s21_art13_a_delivery_order_change_for_an_address_change_is_refused_and_reported(company):
    routes_post = await colleague(company["admin"], company["tenant"], ROUTE_POST)
    customer = await retailer(company["analyst"])
    await maintain(company["analyst"], customer, delivery_sequence=4)
    reported = (await ok(routes_post, DELIVERY, "tobaccoDeliveryOrderChange", c=customer, s=9,
                         r="ADDRESS_CHANGE"))["routeChange"]
    assert reported["outcome"] == "refused_reported"
    assert (await extensions(company["analyst"], customer))["extensions"]["tobacco"]["delivery_sequence"] == 4
    applied = (await ok(routes_post, DELIVERY, "tobaccoDeliveryOrderChange", c=customer, s=9,
                        r="ROUTE_EFFICIENCY"))["routeChange"]
    assert applied["outcome"] == "applied"
    assert (await extensions(company["analyst"], customer))["extensions"]["tobacco"]["delivery_sequence"] == 9
    cases = (await ok(company["internal"], CHANGES, "tobaccoRouteChanges", o="refused_reported"))["nodes"]
    assert [(c["id"], c["customerId"]) for c in cases] == [(reported["id"], customer)]


async def test_s21_art13_a_visit_plan_with_a_repeat_in_the_cycle_is_refused(company):
    routes_post = await colleague(company["admin"], company["tenant"], ROUTE_POST)
    a, b = await retailer(company["analyst"]), await retailer(company["analyst"])
    await maintain(company["analyst"], b, order_cycle_days=14)
    good = [{"customerId": a, "day": "2026-10-12"}, {"customerId": a, "day": "2026-10-19"},
            {"customerId": b, "day": "2026-10-13"}, {"customerId": b, "day": "2026-10-27"}]
    saved = (await ok(routes_post, PLAN, "tobaccoVisitPlanSave", r="R1", m="2026-10", v=good))["plan"]
    assert saved["version"] == 1 and len(saved["visits"]) == 4
    in_cycle = [*good[:3], {"customerId": b, "day": "2026-10-20"}]  # b orders every 14 days
    error = await refused(routes_post, PLAN, "tobaccoVisitPlanSave", r="R1", m="2026-10", v=in_cycle)
    assert error["code"] == "TOBACCO_VISIT_PLAN_INVALID" and error["field"] == "entries.3"
    consecutive = [*good, {"customerId": a, "day": "2026-10-20"}]
    error = await refused(routes_post, PLAN, "tobaccoVisitPlanSave", r="R1", m="2026-10", v=consecutive)
    assert (error["code"], error["field"]) == ("TOBACCO_VISIT_PLAN_INVALID", "entries.4") and "连访连销" in error["message"]
    plan = await routes_post.execute('{ tobaccoVisitPlan(route: "R1", month: "2026-10") { version visits { day } } }')
    assert plan["data"]["tobaccoVisitPlan"]["version"] == 1  # the refused plans changed nothing


async def test_s21_art13_route_balance_counts_retailers_and_quota_per_route(company):
    analyst = company["analyst"]
    for route, quota in (("R1", 10), ("R1", 20), ("R2", 5)):
        customer = await retailer(analyst)
        await maintain(analyst, customer, delivery_route=route, visit_route="V" + route[1:], quota=quota)
    balance = await on_app(company, routes.route_balance)
    assert balance["delivery_route"] == {"R1": {"retailers": 2, "quota": 30}, "R2": {"retailers": 1, "quota": 5}}
    assert balance["visit_route"]["V1"] == {"retailers": 2, "quota": 30}


async def test_s21_art14_a_grade_evaluation_is_reviewed_within_three_working_days(company, clock):
    chief = company["chief"]
    evaluation = (await ok(chief, CLOSE, "tobaccoGradeEvaluationClose", d="2026-09-24"))["evaluation"]
    # Thu 24 Sep: Fri is Mid-Autumn, so the 3rd working day after is Wed 30 Sep
    assert datetime.fromisoformat(evaluation["reviewDueAt"]) == local(2026, 9, 30, 18, 0)
    clock.set(local(2026, 10, 8, 10, 0))
    done = (await ok(chief, REVIEW, "tobaccoGradeReviewComplete", id=evaluation["id"]))["evaluation"]
    assert done["reviewedAt"] and done["overdue"] is True
    again = await refused(chief, REVIEW, "tobaccoGradeReviewComplete", id=evaluation["id"])
    assert again["code"] == "TOBACCO_EVALUATION_REVIEWED"
    denied = await refused(company["analyst"], CLOSE, "tobaccoGradeEvaluationClose", d="2026-09-24")
    assert denied["code"] == "PERMISSION_DENIED"


async def test_s21_art12_customers_sharing_a_phone_are_visited_periodically(company, clock):
    analyst = company["analyst"]
    await retailer(analyst, phone="13500000077")
    customer = await retailer(analyst, phone="13500000078")
    request = ("mutation($c: ID!) { tobaccoChangeRequest(customerId: $c, kind: DUPLICATE_PHONE, applicationRef: \"CH-7\", "
               "reason: \"同一家庭经营\", values: {order_phone: \"13500000077\"}) { change { id } %s } }" % ERR)
    change = (await ok(company["manager"], request, "tobaccoChangeRequest", c=customer))["change"]
    sign = "mutation($id: ID!, $r: TobaccoSignOffRole!) { tobaccoChangeSign(id: $id, role: $r) { change { id } %s } }" % ERR
    await ok(company["chief"], sign, "tobaccoChangeSign", id=change["id"], r="SECTION_CHIEF")
    await ok(company["deputy_manager"], sign, "tobaccoChangeSign", id=change["id"], r="DEPUTY_MANAGER")
    await ok(analyst, "mutation($id: ID!) { tobaccoChangeExecute(id: $id) { change { id } %s } }" % ERR,
             "tobaccoChangeExecute", id=change["id"])
    read = "query($id: ID!) { tobaccoChange(id: $id) { visitedAt visitDueAt } }"
    due = (await company["internal"].execute(read, id=change["id"]))["data"]["tobaccoChange"]
    assert datetime.fromisoformat(due["visitDueAt"]) == local(2026, 9, 24, 10, 0) + (local(2026, 12, 23) - local(2026, 9, 24))
    clock.set(local(2026, 11, 2, 15, 0))
    visit = "mutation($id: ID!) { tobaccoDuplicatePhoneVisit(id: $id) { change { visitedAt visitDueAt } %s } }" % ERR
    visited = (await ok(company["internal"], visit, "tobaccoDuplicatePhoneVisit", id=change["id"]))["change"]
    assert datetime.fromisoformat(visited["visitDueAt"]) == local(2027, 1, 31, 15, 0)  # 90 days on (the default)


async def test_s21_reports_export_as_csv_and_xlsx_long_jobs(company):
    """The S21 reports as long jobs: the route balance as CSV (UTF-8 with a BOM) and the route meetings as XLSX,
    downloaded by their requester."""
    import asyncio
    import csv
    import io
    import uuid

    import openpyxl

    from core.jobs import long_jobs

    routes_post = await colleague(company["admin"], company["tenant"], [*ROUTE_POST, "tobacco.change.file"])
    customer = await retailer(company["analyst"])
    await maintain(company["analyst"], customer, delivery_route="R9", quota=12)
    await ok(routes_post, MEETING, "tobaccoRouteMeetingRecord", m="2026-09", d="2026-09-29")
    export = "mutation($r: TobaccoReport!, $f: TobaccoExportFormat!) { tobaccoReportExport(report: $r, format: $f) " \
             "{ jobId %s } }" % ERR
    jobs = {}
    for report, fmt in (("ROUTE_BALANCE", "CSV"), ("ROUTE_MEETINGS", "XLSX")):
        jobs[report] = (await ok(routes_post, export, "tobaccoReportExport", r=report, f=fmt))["jobId"]
    portal = company["admin"].http.blocking_portal
    for job_id in jobs.values():
        if not await asyncio.to_thread(portal.call, long_jobs.run_job, company["tenant"].id, uuid.UUID(job_id)):
            # the app's own job loop claimed it first (the embedded profile runs one): wait for it
            deadline = asyncio.get_running_loop().time() + 60
            while (job := await ok(routes_post, "query($id: ID!) { job(id: $id) { status } }", "job",
                                   id=job_id))["status"] in ("queued", "running"):
                assert asyncio.get_running_loop().time() < deadline, job
                await asyncio.sleep(0.1)
            assert job["status"] == "succeeded", job
    headers = {"authorization": f"Bearer {routes_post.token}"}
    balance = await routes_post.http.get(f"/jobs/{jobs['ROUTE_BALANCE']}/output", headers=headers)
    assert balance.status_code == 200 and balance.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(balance.content.decode("utf-8-sig"))))
    assert rows[0] == ["route_kind", "route", "retailers", "quota"] and ["delivery_route", "R9", "1", "12"] in rows
    meetings = await routes_post.http.get(f"/jobs/{jobs['ROUTE_MEETINGS']}/output", headers=headers)
    sheet = openpyxl.load_workbook(io.BytesIO(meetings.content)).active
    assert [r[1:3] for r in sheet.iter_rows(values_only=True)] == [("month", "held_on"), ("2026-09", "2026-09-29")]
