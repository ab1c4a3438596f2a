"""The dealer's customer database (seed 002 part 1) over the public GraphQL API: the customer director's
weekly accuracy check (R1-03) and the database modification plans (R1-06, R1-07)."""

from __future__ import annotations

import pytest

from plugins.automotive.roles import POSTS
from tests.automotive.conftest import user_with
from tests.medical_devices.api import ok, refused

CHECK = ("mutation($w: Date!, $l: [AutomotiveAccuracyLineInput!]!) { automotiveAccuracyCheckRecord(weekOf: $w, "
         "lines: $l) { check { id weekOf } errors { code field } } }")
REPORT = ("query($s: Date!, $u: Date!) { automotiveAccuracyReport(since: $s, until: $u) { weeks { weekOf checked sample "
          "errors accuracy } weeksWithoutCheck sample found: errors accuracy byEnterer { entererId system sample errors } } }")
PLAN = "plan { id status signedBy opinions { department } } errors { code field }"
DRAFT = ('mutation { automotiveDatabasePlanDraft(title: "增加会员等级字段", content: "会员表增加等级", '
         'continuity: "旧记录等级为空，历史数据保留") { %s } }' % PLAN)
OPINION = ('mutation($id: ID!) { automotiveDatabasePlanOpinion(id: $id, department: "售后部", opinion: "同意") '
           '{ %s } }' % PLAN)
SIGN = "mutation($id: ID!) { automotiveDatabasePlanSign(id: $id) { %s } }" % PLAN
IMPLEMENT = "mutation($id: ID!) { automotiveDatabasePlanImplement(id: $id) { %s } }" % PLAN


@pytest.fixture
async def office(floor):
    for post in ("customer_director", "general_manager", "customer_dept"):
        floor[post], floor["ids"][post] = await user_with(floor["admin"], floor["tenant"], post, POSTS[post])
    return floor


async def test_r1_03_one_accuracy_check_a_week_and_a_report_of_the_weeks_without_one(office):
    """R1-03: the customer director checks weekly (one check per week); the report shows the accuracy
    rate, the weeks without a check and the totals per enterer and system."""
    lines = [{"entererId": office["ids"]["consultant"], "system": "crm", "sample": 20, "errors": 2},
             {"entererId": office["ids"]["assistant"], "system": "ism", "sample": 30, "errors": 0}]
    made = await ok(office["customer_director"], CHECK, "automotiveAccuracyCheckRecord", w="2026-10-28", l=lines)
    assert made["check"]["weekOf"] == "2026-10-26"  # stored as the week's Monday
    again = await refused(office["customer_director"], CHECK, "automotiveAccuracyCheckRecord", w="2026-10-30", l=lines)
    assert again["code"] == "AUTOMOTIVE_CHECK_EXISTS"
    assert (await refused(office["customer_dept"], CHECK, "automotiveAccuracyCheckRecord", w="2026-10-19",
                          l=lines))["code"] == "PERMISSION_DENIED"
    bad = [{"entererId": office["ids"]["consultant"], "system": "crm", "sample": 5, "errors": 6}]
    assert (await refused(office["customer_director"], CHECK, "automotiveAccuracyCheckRecord", w="2026-10-19",
                          l=bad))["code"] == "AUTOMOTIVE_INPUT_INVALID"
    report = await ok(office["general_manager"], REPORT, "automotiveAccuracyReport", s="2026-10-12", u="2026-11-01")
    assert [(w["weekOf"], w["checked"]) for w in report["weeks"]] == [
        ("2026-10-12", False), ("2026-10-19", False), ("2026-10-26", True)]
    assert report["weeksWithoutCheck"] == ["2026-10-12", "2026-10-19"]
    assert (report["sample"], report["found"], report["accuracy"]) == (50, 2, 0.96)
    assert {(t["system"], t["sample"], t["errors"]) for t in report["byEnterer"]} == {("crm", 20, 2), ("ism", 30, 0)}


async def test_r1_06_a_plan_is_signed_by_the_general_manager_or_the_director_never_its_author_before_implementing(office):
    """R1-06 / R1-07: 客户部 drafts the plan (stating continuity), records department opinions; it may not be
    implemented unsigned; its author may not sign it; the general manager signs; then it is implemented."""
    plan = (await ok(office["customer_dept"], DRAFT, "automotiveDatabasePlanDraft"))["plan"]
    assert plan["status"] == "draft"
    assert (await refused(office["customer_dept"], IMPLEMENT, "automotiveDatabasePlanImplement",
                          id=plan["id"]))["code"] == "AUTOMOTIVE_PLAN_STATE"
    assert (await refused(office["general_manager"], SIGN, "automotiveDatabasePlanSign",
                          id=plan["id"]))["code"] == "AUTOMOTIVE_PLAN_NO_OPINIONS"
    await ok(office["customer_dept"], OPINION, "automotiveDatabasePlanOpinion", id=plan["id"])
    assert (await refused(office["customer_dept"], SIGN, "automotiveDatabasePlanSign", id=plan["id"]))["code"] == \
        "PERMISSION_DENIED"
    signed = await ok(office["general_manager"], SIGN, "automotiveDatabasePlanSign", id=plan["id"])
    assert signed["plan"]["status"] == "signed" and signed["plan"]["signedBy"] == office["ids"]["general_manager"]
    done = await ok(office["customer_dept"], IMPLEMENT, "automotiveDatabasePlanImplement", id=plan["id"])
    assert done["plan"]["status"] == "implemented"


async def test_r1_06_the_author_never_signs_even_holding_the_signing_permission(office):
    """R1-06: the customer director, signing as proxy, may not sign a plan she drafted."""
    author, _ = await user_with(office["admin"], office["tenant"], "drafter",
                                {**POSTS["customer_dept"], "automotive.database.plan.sign": "tenant"})
    plan = (await ok(author, DRAFT, "automotiveDatabasePlanDraft"))["plan"]
    await ok(author, OPINION, "automotiveDatabasePlanOpinion", id=plan["id"])
    assert (await refused(author, SIGN, "automotiveDatabasePlanSign", id=plan["id"]))["code"] == "AUTOMOTIVE_PLAN_AUTHOR"
    signed = await ok(office["customer_director"], SIGN, "automotiveDatabasePlanSign", id=plan["id"])
    assert signed["plan"]["status"] == "signed"
