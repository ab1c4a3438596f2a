"""The floor's recurring duties through the public API: decoration orders signed the same day (R6-24), the
showroom 8-step evaluation (R6-31), the big-account daily action report (R6-16, R6-38, R6-40), roadshows and
the infos each consultant collects (R6-42, R6-43)."""

from __future__ import annotations

from plugins.automotive import activities
from plugins.automotive.roles import POSTS
from tests.automotive.conftest import ERR, local, on_app, user_with
from tests.medical_devices.api import ok, refused

DECORATION = "decoration { id state cosigners managerSignedBy }"
WRITE = ('mutation { automotiveDecorationWrite(kind: "decoration", description: "脚垫、贴膜", amountCny: 800) '
         '{ %s %s } }' % (DECORATION, ERR))
SIGN = "mutation($id: ID!) { automotiveDecorationSign(id: $id) { %s %s } }" % (DECORATION, ERR)
PENALTIES = "query($u: ID) { automotivePenalties(userId: $u, first: 50) { nodes { rule amountCny quantity } } }"


async def test_r6_24_the_manager_signs_the_same_day_or_two_leaders_or_assistants_do(floor, clock):
    by_manager = (await ok(floor["consultant"], WRITE, "automotiveDecorationWrite"))["decoration"]
    assert (await ok(floor["manager"], SIGN, "automotiveDecorationSign", id=by_manager["id"]))["decoration"]["state"] \
        == "valid"
    cosigned = (await ok(floor["consultant"], WRITE, "automotiveDecorationWrite"))["decoration"]
    once = (await ok(floor["leader"], SIGN, "automotiveDecorationSign", id=cosigned["id"]))["decoration"]
    assert once["state"] == "pending"  # one co-signature is not enough
    again = (await ok(floor["leader"], SIGN, "automotiveDecorationSign", id=cosigned["id"]))["decoration"]
    assert again["state"] == "pending" and len(again["cosigners"]) == 1  # the same leader twice counts once
    assert (await ok(floor["assistant"], SIGN, "automotiveDecorationSign", id=cosigned["id"]))["decoration"]["state"] \
        == "valid"
    late = (await ok(floor["consultant"], WRITE, "automotiveDecorationWrite"))["decoration"]
    await ok(floor["leader"], SIGN, "automotiveDecorationSign", id=late["id"])
    clock.set(local(2026, 11, 3, 9, 0))
    assert (await refused(floor["manager"], SIGN, "automotiveDecorationSign", id=late["id"]))["code"] \
        == "AUTOMOTIVE_DECORATION_CLOSED"
    assert await on_app(floor, activities.void_unsigned_decorations) == 1
    assert (await refused(floor["cashier"], SIGN, "automotiveDecorationSign", id=late["id"]))["code"] \
        == "PERMISSION_DENIED"


async def test_r6_31_every_consultant_on_the_floor_is_evaluated_on_the_8_steps(floor):
    register = ("mutation($in: AutomotiveVisitInput!) { automotiveVisitRegister(input: $in) { visit { id } %s } }" % ERR)
    for seat in ("consultant", "consultant2"):
        await ok(floor[seat], register, "automotiveVisitRegister",
                 **{"in": {"kind": "visit", "source": "walk_in", "arrivedAt": "2026-11-02T10:00:00+08:00"}})
    coverage = ('{ automotiveEvaluationCoverage(day: "2026-11-02") { onDuty evaluated percent '
                'missing { consultantId } } }')
    before = await ok(floor["manager"], coverage, "automotiveEvaluationCoverage")
    assert (before["onDuty"], before["evaluated"], before["percent"]) == (2, 0, 0.0)
    record = ('mutation($c: ID!, $p: [String!]!) { automotiveEvaluationRecord(consultantId: $c, day: "2026-11-02", '
              'passed: $p) { evaluation { passed } %s } }' % ERR)
    made = await ok(floor["leader"], record, "automotiveEvaluationRecord", c=floor["ids"]["consultant"],
                    p=["needs", "welcome", "closing"])
    assert made["evaluation"]["passed"] == ["welcome", "needs", "closing"]
    assert (await refused(floor["leader"], record, "automotiveEvaluationRecord", c=floor["ids"]["consultant"],
                          p=[]))["code"] == "AUTOMOTIVE_EVALUATION_EXISTS"
    after = await ok(floor["manager"], coverage, "automotiveEvaluationCoverage")
    assert after["percent"] == 50.0 and [m["consultantId"] for m in after["missing"]] == [floor["ids"]["consultant2"]]
    assert (await refused(floor["consultant"], record, "automotiveEvaluationRecord", c=floor["ids"]["consultant2"],
                          p=[]))["code"] == "PERMISSION_DENIED"


async def test_r6_40_daily_minimums_and_route_map_each_shortfall_fined_and_the_dismissal_flag(floor):
    specialist, specialist_id = await user_with(floor["admin"], floor["tenant"], "bigaccount", POSTS["big_account"])
    file = ('mutation($d: Date!, $m: Int!, $c: Int!, $v: Int!, $r: Boolean!, $f: Boolean!) { automotiveActionReportFile('
            'day: $d, planned: "拜访开发区三家企业", meetings: $m, calls: $c, visits: $v, routeMap: $r, followedPlan: $f) '
            '{ report { shortfalls } %s } }' % ERR)
    full = await ok(specialist, file, "automotiveActionReportFile", d="2026-11-02", m=2, c=5, v=2, r=True, f=True)
    assert full["report"]["shortfalls"] == 0
    short = await ok(specialist, file, "automotiveActionReportFile", d="2026-11-03", m=1, c=3, v=2, r=False, f=False)
    assert short["report"]["shortfalls"] == 4  # 1 meeting, 2 calls, the route map (R6-16)
    assert (await refused(specialist, file, "automotiveActionReportFile", d="2026-11-03", m=2, c=5, v=2, r=True,
                          f=True))["code"] == "AUTOMOTIVE_ACTION_REPORT_EXISTS"
    fines = (await ok(floor["manager"], PENALTIES, "automotivePenalties", u=specialist_id))["nodes"]
    assert [(f["rule"], f["amountCny"], f["quantity"]) for f in fines] == [("R6-40", 80, 4)]
    standing = ('{ automotiveBigAccountStanding(from: "2026-11-01", to: "2026-11-30") '
                '{ specialists { specialistId reports offPlan shortfalls dismissal } } }')
    first = (await ok(floor["manager"], standing, "automotiveBigAccountStanding"))["specialists"]
    assert [(s["reports"], s["offPlan"], s["shortfalls"], s["dismissal"]) for s in first] == [(2, 1, 4, False)]
    await ok(specialist, file, "automotiveActionReportFile", d="2026-11-04", m=2, c=3, v=2, r=True, f=True)
    second = (await ok(floor["manager"], standing, "automotiveBigAccountStanding"))["specialists"]
    assert second[0]["shortfalls"] == 6 and second[0]["dismissal"]  # more than 5 cumulative shortfalls


async def test_r6_42_r6_43_roadshows_photos_approvals_and_five_infos_per_consultant(floor):
    market, market_id = await user_with(floor["admin"], floor["tenant"], "market", POSTS["market"])
    gm, _ = await user_with(floor["admin"], floor["tenant"], "gm", POSTS["general_manager"])
    record = ('mutation($d: Date!, $c: Int) { automotiveRoadshowRecord(heldOn: $d, venue: "万达广场", costCny: $c) '
              '{ roadshow { id } %s } }' % ERR)
    approve = "mutation($id: ID!) { automotiveRoadshowApprove(id: $id) { roadshow { managerApprovedBy gmApprovedBy } %s } }" % ERR
    close = ("mutation($id: ID!, $p: Boolean!, $i: [AutomotiveRoadshowInfos!]!) { automotiveRoadshowClose(id: $id, "
             "photosSubmitted: $p, infos: $i) { roadshow { closedAt infos } %s } }" % ERR)
    approved = (await ok(market, record, "automotiveRoadshowRecord", d="2026-11-07", c=3000))["roadshow"]["id"]
    await ok(floor["manager"], approve, "automotiveRoadshowApprove", id=approved)
    both = (await ok(gm, approve, "automotiveRoadshowApprove", id=approved))["roadshow"]
    assert both["managerApprovedBy"] and both["gmApprovedBy"]
    await ok(market, close, "automotiveRoadshowClose", id=approved, p=True,
             i=[{"consultantId": floor["ids"]["consultant"], "infos": 6},
                {"consultantId": floor["ids"]["consultant2"], "infos": 3}])
    unapproved = (await ok(market, record, "automotiveRoadshowRecord", d="2026-11-14", c=2000))["roadshow"]["id"]
    await ok(floor["manager"], approve, "automotiveRoadshowApprove", id=unapproved)  # the GM never approved
    await ok(market, close, "automotiveRoadshowClose", id=unapproved, p=True, i=[])
    assert (await refused(market, close, "automotiveRoadshowClose", id=unapproved, p=True, i=[]))["code"] \
        == "AUTOMOTIVE_ROADSHOW_STATE"
    short = (await ok(floor["manager"], PENALTIES, "automotivePenalties", u=floor["ids"]["consultant2"]))["nodes"]
    assert [(f["rule"], f["amountCny"]) for f in short] == [("R6-43", 40)]
    assert (await ok(floor["manager"], PENALTIES, "automotivePenalties", u=floor["ids"]["consultant"]))["nodes"] == []
    specialist = (await ok(floor["manager"], PENALTIES, "automotivePenalties", u=market_id))["nodes"]
    assert [(f["rule"], f["amountCny"]) for f in specialist] == [("R6-42", 50)]
    months = await ok(floor["manager"], '{ automotiveRoadshowMonths(from: "2026-10", to: "2026-11") '
                      '{ months { month held short } } }', "automotiveRoadshowMonths")
    assert months["months"] == [{"month": "2026-10", "held": 0, "short": 4}, {"month": "2026-11", "held": 2, "short": 2}]
