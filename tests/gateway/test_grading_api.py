"""The grading engine over GraphQL (issue 20, "Grading"; acceptance 2, 3 and 6's long job): the
medical-devices scheme (VIP / 优选 / 合格 per department, caps from the tenant parameters
vip_cap_percent and preferred_cap_percent) driven through the public API by an administrator and a
second approver; a test vertical with a fact-based policy for review runs as a long job."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient

import plugins.medical_devices as medical_devices
from core.grading import service
from core.plugins.testing import make_registry
from gateway.app import create_app
from tests.gateway.test_identity_api import gql, login
from tests.grading.conftest import VERTICAL as TEST_VERTICAL
from tests.grading.conftest import Clock, add_customers, add_facts, gradetest
from tests.support import add_user

MD = "medical_devices"
SCHEME = "customer_grade"
ENABLE = 'mutation($v: String!) { verticalEnable(verticalId: $v) { vertical { id enabled } errors { code } } }'
VIOLATION = "grade capPercent count population percent soft customerCount customerIds"
REVIEW = ("id status scopeKey proposedBy approvedBy whatIf { population proposalCount changeCount publishable "
          "violations { %s } warnings { grade } changes(first: 100) { nodes { customerId fromGrade toGrade } "
          "pageInfo { hasNextPage } } }" % VIOLATION)
PAYLOAD = "review { %s } errors { code field message }" % REVIEW
PROPOSE = ("mutation($v: String!, $s: String!, $scope: String, $p: [GradeProposalInput!]) { gradeReviewPropose("
           "vertical: $v, scheme: $s, scopeId: $scope, proposals: $p) { %s } }" % PAYLOAD)
APPROVE = "mutation($id: ID!) { gradeReviewApprove(id: $id) { %s } }" % PAYLOAD
PUBLISH = "mutation($id: ID!) { gradeReviewPublish(id: $id) { %s } }" % PAYLOAD
READ = "query($id: ID!) { gradeReview(id: $id) { %s } }" % REVIEW
START = ("mutation($v: String!, $s: String!, $scope: String) { gradeReviewStart(vertical: $v, scheme: $s, "
         "scopeId: $scope) { job { id kind status } errors { code field } } }")
PUBLISH_START = "mutation($id: ID!) { gradeReviewPublishStart(id: $id) { job { id kind status } errors { code field } } }"
JOB = "query($id: ID!) { job(id: $id) { status progressDone progressTotal progressPercent result errorCode } }"
OVERRIDE = ("mutation($c: ID!, $g: String!, $r: String!, $scope: String) { gradeOverride(vertical: \"%s\", "
            "scheme: \"%s\", customerId: $c, grade: $g, reason: $r, scopeId: $scope) { grade { customerId scopeKey "
            "grade warnings { grade } } errors { code field message } } }" % (MD, SCHEME))
FLAG = ("mutation($c: ID!, $g: String!, $r: String!, $scope: String) { gradeChangeFlag(vertical: \"%s\", "
        "scheme: \"%s\", customerId: $c, requiredGrade: $g, reason: $r, scopeId: $scope) { deadline { id customerId "
        "scopeKey requiredGrade dueAt status } errors { code field } } }" % (MD, SCHEME))
GRADES = "query($c: ID!) { customerGrades(customerId: $c) { nodes { vertical scheme scopeKey grade } } }"
HISTORY = ("query($c: ID!, $scope: String) { gradeHistory(customerId: $c, scopeKey: $scope, first: 50) { nodes { "
           "scopeKey fromGrade toGrade actor source reason reviewId } } }")
REVIEWS = ("query($status: String) { gradeReviews(status: $status, first: 10) { nodes { id status scopeKey } "
           "pageInfo { hasNextPage } } }")
FACT = ("mutation($c: ID!, $scope: String, $value: JSON!) { gradeFactRecord(vertical: \"%s\", scheme: "
        "\"customer_grade\", customerId: $c, name: \"annual_business\", value: $value, scopeId: $scope) "
        "{ ok errors { code field } } }" % TEST_VERTICAL)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock(datetime(2026, 7, 1, 2, 0, tzinfo=UTC))  # a Wednesday, 10:00 in Shanghai
    monkeypatch.setattr(service, "now", c)
    return c


@pytest.fixture
async def client(settings, seeded):
    quiet = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000,
                                        "tick_interval_seconds": 3600})
    registry = make_registry((MD, medical_devices), (TEST_VERTICAL, gradetest))
    for name in ("approver", "clerk"):
        await add_user(seeded.acme, name)
    async with AsyncTestClient(create_app(quiet, registry=registry)) as test_client:
        test_client.seeded = seeded
        yield test_client


async def ok(client, doc: str, token: str, **variables) -> dict:
    body = (await gql(client, doc, token, **variables)).json()
    assert "errors" not in body, body
    return body["data"]


async def payload(client, doc: str, token: str, **variables) -> dict:
    return next(iter((await ok(client, doc, token, **variables)).values()))


class Tenant:
    """Acme's administrator (grading permissions from enabling the verticals), an approver holding
    the grading permission, a clerk who may only read customers, and the two departments."""

    def __init__(self, admin: str, approver: str, clerk: str, departments: dict[str, str]) -> None:
        self.admin, self.approver, self.clerk, self.departments = admin, approver, clerk, departments


async def acme(client) -> Tenant:
    token = (await login(client))["accessToken"]
    for vertical in (MD, TEST_VERTICAL):
        assert (await payload(client, ENABLE, token, v=vertical))["errors"] == []
    token = (await login(client))["accessToken"]
    users = {u["username"]: u["id"] for u in (await ok(client, "{ users(first: 50) { nodes { id username } } }",
                                                      token))["users"]["nodes"]}
    for name, permissions in (("approver", [f"{MD}.grade.assign", f"{TEST_VERTICAL}.grade.assign", "customer.read"]),
                              ("clerk", ["customer.read"])):
        role = await payload(client, "mutation($n: String!, $p: [GrantInput!]) { roleCreate(input: "
                                     "{name: $n, permissions: $p}) { role { id } errors { code } } }", token,
                             n=f"grading {name}", p=[{"permission": p, "scope": "TENANT"} for p in permissions])
        assert role["errors"] == [], role
        granted = await payload(client, "mutation($u: ID!, $r: ID!) { roleGrant(userId: $u, roleId: $r) "
                                        "{ ok errors { code } } }", token, u=users[name], r=role["role"]["id"])
        assert granted["errors"] == [], granted
    departments = {d["name"]: d["id"] for d in (await ok(client, "{ departments(first: 50) { nodes { id name } } }",
                                                         token))["departments"]["nodes"]}
    return Tenant(token, (await login(client, username="approver"))["accessToken"],
                  (await login(client, username="clerk"))["accessToken"], departments)


def customers(client, count: int, department: str) -> list[str]:
    ids = client.blocking_portal.call(add_customers, client.seeded.acme.id, count, UUID(department))
    return [str(c) for c in ids]


def _vip(ids: list[str]) -> list[dict]:
    return [{"customerId": c, "grade": "vip"} for c in ids]


async def test_acceptance_2_md4_vip_cap_16_percent_refused_at_publish_15_percent_publishes(client, clock):
    """Issue 20 acceptance 2 (MD4 d, MD19): in a department of 100 customers a review making 16 VIP
    shows the hard violation (16.00% over 15, the 16 customers) in its what-if, is refused at publish
    with GRADE_CAP_EXCEEDED naming them and changes nothing; one making exactly 15 VIP shows no
    violation and publishes. Another department's customers do not count."""
    t = await acme(client)
    sales = t.departments["销售部"]
    people = customers(client, 100, sales)
    customers(client, 30, t.departments["客服部"])

    sixteen = await payload(client, PROPOSE, t.admin, v=MD, s=SCHEME, scope=sales, p=_vip(people[:16]))
    assert sixteen["errors"] == [], sixteen
    what_if = sixteen["review"]["whatIf"]
    assert (what_if["population"], what_if["publishable"]) == (100, False)
    [violation] = what_if["violations"]
    assert {k: violation[k] for k in ("grade", "capPercent", "count", "population", "percent", "soft")} == {
        "grade": "vip", "capPercent": "15.0", "count": 16, "population": 100, "percent": "16.00", "soft": False}
    assert sorted(violation["customerIds"]) == sorted(people[:16]) and violation["customerCount"] == 16
    to_vip = [c["customerId"] for c in what_if["changes"]["nodes"] if c["toGrade"] == "vip"]
    assert sorted(to_vip) == sorted(people[:16])  # others get what the scheme's policy gives their facts

    approved = await payload(client, APPROVE, t.approver, id=sixteen["review"]["id"])
    assert approved["errors"] == [] and approved["review"]["status"] == "approved", approved
    refused = await payload(client, PUBLISH, t.approver, id=sixteen["review"]["id"])
    assert refused["review"] is None
    [error] = refused["errors"]
    assert (error["code"], error["field"]) == ("GRADE_CAP_EXCEEDED", "grade")
    assert "16 of 100" in error["message"] and all(c in error["message"] for c in people[:16])
    assert (await ok(client, GRADES, t.admin, c=people[0]))["customerGrades"]["nodes"] == []  # nothing changed
    assert (await payload(client, READ, t.admin, id=sixteen["review"]["id"]))["status"] == "approved"

    fifteen = await payload(client, PROPOSE, t.admin, v=MD, s=SCHEME, scope=sales, p=_vip(people[:15]))
    assert fifteen["review"]["whatIf"]["violations"] == [] and fifteen["review"]["whatIf"]["publishable"]
    await payload(client, APPROVE, t.approver, id=fifteen["review"]["id"])
    published = await payload(client, PUBLISH, t.approver, id=fifteen["review"]["id"])
    assert published["errors"] == [] and published["review"]["status"] == "published", published
    assert (await ok(client, GRADES, t.admin, c=people[0]))["customerGrades"]["nodes"] == [
        {"vertical": MD, "scheme": SCHEME, "scopeKey": sales, "grade": "vip"}]
    [entry] = (await ok(client, HISTORY, t.admin, c=people[14]))["gradeHistory"]["nodes"]
    assert (entry["source"], entry["toGrade"], entry["reviewId"]) == ("review", "vip", fifteen["review"]["id"])
    assert [g["grade"] for g in (await ok(client, GRADES, t.admin, c=people[15]))["customerGrades"]["nodes"]] != ["vip"]
    listed = (await ok(client, REVIEWS, t.admin, status="published"))["gradeReviews"]["nodes"]
    assert [r["id"] for r in listed] == [fifteen["review"]["id"]]


async def test_md12_upgrade_respects_caps_override_needs_reason_md19_department_scope(client, clock):
    """MD12: an upgrade by hand is refused when the VIP cap is full (GRADE_CAP_EXCEEDED), a preferred
    upgrade goes through with its reason; an override without a reason is refused
    (GRADE_REASON_REQUIRED). MD19: a grade given in one department does not hold in another, and
    the history lists each scope's grades apart."""
    t = await acme(client)
    sales, service_dept = t.departments["销售部"], t.departments["客服部"]
    people = customers(client, 10, sales)
    first = await payload(client, OVERRIDE, t.admin, c=people[0], g="vip", r="三级甲等医院，回款及时", scope=sales)
    assert first["errors"] == [] and first["grade"]["grade"] == "vip", first
    second = await payload(client, OVERRIDE, t.admin, c=people[1], g="vip", r="年业务额高", scope=sales)
    assert second["errors"][0]["code"] == "GRADE_CAP_EXCEEDED"  # 2 of 10 would be 20%, over 15%
    assert "2 of 10" in second["errors"][0]["message"] and people[1] in second["errors"][0]["message"]
    assert (await ok(client, GRADES, t.admin, c=people[1]))["customerGrades"]["nodes"] == []
    no_reason = await payload(client, OVERRIDE, t.admin, c=people[1], g="preferred", r="  ", scope=sales)
    assert no_reason["errors"] == [{"code": "GRADE_REASON_REQUIRED", "field": "reason",
                                    "message": no_reason["errors"][0]["message"]}]
    upgraded = await payload(client, OVERRIDE, t.admin, c=people[1], g="preferred", r="履约良好", scope=sales)
    assert upgraded["errors"] == [] and upgraded["grade"]["grade"] == "preferred"

    elsewhere = await payload(client, OVERRIDE, t.admin, c=people[0], g="qualified", r="客服部评定", scope=service_dept)
    assert elsewhere["errors"] == [], elsewhere
    grades = (await ok(client, GRADES, t.admin, c=people[0]))["customerGrades"]["nodes"]
    assert {g["scopeKey"]: g["grade"] for g in grades} == {sales: "vip", service_dept: "qualified"}
    in_sales = (await ok(client, HISTORY, t.admin, c=people[0], scope=sales))["gradeHistory"]["nodes"]
    assert [(h["toGrade"], h["source"], h["reason"]) for h in in_sales] == [("vip", "override", "三级甲等医院，回款及时")]
    bad_scope = await payload(client, OVERRIDE, t.admin, c=people[2], g="preferred", r="x", scope="not-a-department")
    assert bad_scope["errors"][0]["code"] == "GRADE_SCOPE_INVALID"


async def test_acceptance_3_md10_vip_with_late_payment_downgraded_by_the_tick_within_5_days(client, clock):
    """Issue 20 acceptance 3 (MD10): a VIP flagged with late payment must be preferred or below
    within 5 days; the tick before the deadline changes nothing, the tick after it downgrades the
    customer, audited with the tick (job:grading-tick) as actor, and the history says so."""
    t = await acme(client)
    sales = t.departments["销售部"]
    people = customers(client, 10, sales)
    assert (await payload(client, OVERRIDE, t.admin, c=people[0], g="vip", r="年度评审", scope=sales))["errors"] == []
    flagged = await payload(client, FLAG, t.admin, c=people[0], g="preferred", r="逾期回款（late payment）", scope=sales)
    assert flagged["errors"] == [], flagged
    deadline = flagged["deadline"]
    due = datetime.fromisoformat(deadline["dueAt"])
    assert due == clock.at + timedelta(days=5) and deadline["status"] == "open"

    assert client.blocking_portal.call(service.enforce_due, due - timedelta(minutes=1)) == 0
    assert (await ok(client, GRADES, t.admin, c=people[0]))["customerGrades"]["nodes"][0]["grade"] == "vip"
    assert client.blocking_portal.call(service.enforce_due, due + timedelta(minutes=1)) == 1
    assert (await ok(client, GRADES, t.admin, c=people[0]))["customerGrades"]["nodes"][0]["grade"] == "preferred"
    last = (await ok(client, HISTORY, t.admin, c=people[0]))["gradeHistory"]["nodes"][-1]
    assert (last["fromGrade"], last["toGrade"], last["actor"], last["source"]) == (
        "vip", "preferred", service.TICK_ACTOR, "deadline")
    audited = (await ok(client, 'query($a: String!) { auditEntries(filter: {actor: $a}, first: 20) { nodes { '
                                'action targetType targetId } } }', t.admin, a=service.TICK_ACTOR))
    actions = {(e["action"], e["targetId"]) for e in audited["auditEntries"]["nodes"]}
    assert ("grade.changed", people[0]) in actions and ("grade.deadline_enforced", deadline["id"]) in actions
    assert client.blocking_portal.call(service.enforce_due, due + timedelta(days=1)) == 0  # carried out once


async def test_grading_permissions_refused_without_them_and_proposer_cannot_approve(client, clock):
    """A caller with customer.read only may read grades but not propose, override, flag or record
    facts (PERMISSION_DENIED, nothing written); the proposer of a review cannot approve it."""
    t = await acme(client)
    sales = t.departments["销售部"]
    people = customers(client, 10, sales)
    for doc, variables in ((PROPOSE, {"v": MD, "s": SCHEME, "scope": sales, "p": _vip(people[:1])}),
                           (OVERRIDE, {"c": people[0], "g": "vip", "r": "x", "scope": sales}),
                           (FLAG, {"c": people[0], "g": "qualified", "r": "x", "scope": sales}),
                           (START, {"v": MD, "s": SCHEME, "scope": sales})):
        answer = await payload(client, doc, t.clerk, **variables)
        assert [e["code"] for e in answer["errors"]] == ["PERMISSION_DENIED"], answer
    assert (await ok(client, GRADES, t.clerk, c=people[0]))["customerGrades"]["nodes"] == []
    assert (await ok(client, REVIEWS, t.clerk))["gradeReviews"]["nodes"] == []
    run = await payload(client, PROPOSE, t.admin, v=MD, s=SCHEME, scope=sales, p=_vip(people[:1]))
    same = await payload(client, APPROVE, t.admin, id=run["review"]["id"])
    assert same["errors"][0]["code"] == "GRADE_REVIEW_SAME_PERSON"
    denied = await gql(client, READ, t.clerk, id=run["review"]["id"])
    assert denied.json()["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"


async def test_acceptance_6_review_run_as_one_long_job_with_progress(client, clock, monkeypatch):
    """Issue 20 acceptance 6 (MD8, MD9): a scope larger than a request may review is refused by
    gradeReviewPropose (GRADE_REVIEW_TOO_LARGE) and reviewed by gradeReviewStart as one long job,
    batch by batch with progress; the job's result names the stored review, whose what-if reads
    with gradeReview (the hard VIP cap and the soft preferred cap both reported)."""
    monkeypatch.setattr(service, "SYNC_POPULATION_LIMIT", 100)
    monkeypatch.setattr(service, "REVIEW_BATCH", 50)
    t = await acme(client)
    sales = t.departments["销售部"]
    people = customers(client, 240, sales)
    customers(client, 10, t.departments["客服部"])
    client.blocking_portal.call(add_facts, client.seeded.acme.id, sales, [UUID(c) for c in people[:40]],
                                "annual_business", 200)  # 40 of 240 VIP: 16.67% > 15
    client.blocking_portal.call(add_facts, client.seeded.acme.id, sales, [UUID(c) for c in people[40:120]],
                                "annual_business", 60)  # 80 preferred: 33.33% > 30 (soft)
    fact = await payload(client, FACT, t.admin, c=people[239], scope=sales, value=10)
    assert fact == {"ok": True, "errors": []}

    too_large = await payload(client, PROPOSE, t.admin, v=TEST_VERTICAL, s=SCHEME, scope=sales)
    assert [e["code"] for e in too_large["errors"]] == ["GRADE_REVIEW_TOO_LARGE"]
    started = await payload(client, START, t.admin, v=TEST_VERTICAL, s=SCHEME, scope=sales)
    assert started["errors"] == [] and started["job"]["kind"] == "grade.review", started
    seen = []
    for _ in range(400):
        job = (await ok(client, JOB, t.admin, id=started["job"]["id"]))["job"]
        seen.append(job["progressDone"])
        if job["status"] in ("succeeded", "failed"):
            break
        await asyncio.sleep(0.05)
    assert job["status"] == "succeeded", job
    assert seen == sorted(seen) and (job["progressDone"], job["progressTotal"]) == (240, 240)
    result = json.loads(job["result"])
    assert {k: result[k] for k in ("population", "proposals", "changes", "violations", "hard_violations")} == {
        "population": 240, "proposals": 240, "changes": 240, "violations": 2, "hard_violations": 1}
    review = await payload(client, READ, t.admin, id=result["review_id"])
    assert (review["status"], review["scopeKey"], review["whatIf"]["population"]) == ("proposed", sales, 240)
    by_grade = {v["grade"]: v for v in review["whatIf"]["violations"]}
    assert (by_grade["vip"]["count"], by_grade["vip"]["soft"]) == (40, False)
    assert sorted(by_grade["vip"]["customerIds"]) == sorted(people[:40])
    assert (by_grade["preferred"]["count"], by_grade["preferred"]["soft"]) == (80, True)
    assert [w["grade"] for w in review["whatIf"]["warnings"]] == ["preferred"]
    assert review["whatIf"]["changes"]["pageInfo"]["hasNextPage"]  # 240 changes, paged
    assert not review["whatIf"]["publishable"]
    approved = await payload(client, APPROVE, t.approver, id=result["review_id"])
    assert approved["errors"] == [] and approved["review"]["status"] == "approved"
    too_large = await payload(client, PUBLISH, t.approver, id=result["review_id"])
    assert [e["code"] for e in too_large["errors"]] == ["GRADE_REVIEW_TOO_LARGE"]
    failed = await finished(client, t.approver, await payload(client, PUBLISH_START, t.approver, id=result["review_id"]))
    assert (failed["status"], failed["errorCode"]) == ("failed", "GRADE_CAP_EXCEEDED")  # 40 VIP of 240: 16.67%
    assert (await ok(client, GRADES, t.admin, c=people[0]))["customerGrades"]["nodes"] == []  # nothing published

    # Five VIP customers' business falls: 35 of 240 VIP (14.58%) publishes, as one job, atomically.
    client.blocking_portal.call(add_facts, client.seeded.acme.id, sales, [UUID(c) for c in people[:5]],
                                "annual_business", 60)
    job = await finished(client, t.admin, await payload(client, START, t.admin, v=TEST_VERTICAL, s=SCHEME,
                                                        scope=sales))
    review_id = json.loads(job["result"])["review_id"]
    assert (await payload(client, APPROVE, t.approver, id=review_id))["errors"] == []
    done = await finished(client, t.approver, await payload(client, PUBLISH_START, t.approver, id=review_id))
    assert done["status"] == "succeeded", done
    assert json.loads(done["result"]) == {"review_id": review_id, "changes": 240, "warnings": 1}
    assert (await payload(client, READ, t.admin, id=review_id))["status"] == "published"
    grades = {c: (await ok(client, GRADES, t.admin, c=c))["customerGrades"]["nodes"][0]["grade"] for c in people[:6]}
    assert grades == {**{c: "preferred" for c in people[:5]}, people[5]: "vip"}
    [entry] = (await ok(client, HISTORY, t.admin, c=people[5]))["gradeHistory"]["nodes"]
    assert (entry["source"], entry["reviewId"], entry["actor"].startswith("user:")) == ("review", review_id, True)


async def finished(client, token: str, started: dict) -> dict:
    """The job a start mutation queued, once it has finished (the app runs jobs in-process)."""
    assert started["errors"] == [], started
    for _ in range(600):
        job = (await ok(client, JOB, token, id=started["job"]["id"]))["job"]
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(job)


OVERRIDE_IN = ("mutation($v: String!, $c: ID!, $g: String!, $scope: String) { gradeOverride(vertical: $v, "
               "scheme: \"customer_grade\", customerId: $c, grade: $g, reason: \"年度评审\", scopeId: $scope) "
               "{ errors { code } } }")
FLAG_IN = ("mutation($v: String!, $c: ID!, $scope: String) { gradeChangeFlag(vertical: $v, scheme: \"customer_grade\", "
           "customerId: $c, requiredGrade: \"preferred\", reason: \"逾期回款\", scopeId: $scope) { deadline { dueAt "
           "status } errors { code } } }")


async def test_md10_deadline_counts_working_days_when_the_tenant_says_so(client, clock):
    """MD10 (5日内; seed-002 note 12: calendar or working days is not said): calendar days by
    default; a tenant counting working days (downgrade_deadline_unit) on the real 2026 calendar:
    flagged on Wednesday 30 September 10:00 in Shanghai, the five working days skip the National
    Day holidays (1 to 7 October) and Sunday 11 October and count the make-up Saturday 10 October,
    so the downgrade is due on Tuesday 13 October at closing time; the tick on the 13th at noon
    changes nothing, the tick the next morning downgrades."""
    shanghai = ZoneInfo("Asia/Shanghai")
    clock.set(datetime(2026, 9, 30, 10, 0, tzinfo=shanghai).astimezone(UTC))
    t = await acme(client)
    sales = t.departments["销售部"]
    people = customers(client, 20, sales)  # two VIP of twenty: 10%, within the cap
    for c in people[:2]:
        assert (await payload(client, OVERRIDE_IN, t.admin, v=TEST_VERTICAL, c=c, g="vip", scope=sales))["errors"] == []
    by_default = await payload(client, FLAG_IN, t.admin, v=TEST_VERTICAL, c=people[0], scope=sales)
    assert datetime.fromisoformat(by_default["deadline"]["dueAt"]) == clock.at + timedelta(days=5)  # 5 October

    updated = await payload(client, 'mutation { verticalParametersUpdate(verticalId: "%s", parameters: [{key: '
                                    '"downgrade_deadline_unit", value: "working_days"}]) { errors { code } } }'
                            % TEST_VERTICAL, t.admin)
    assert updated["errors"] == [], updated
    flagged = await payload(client, FLAG_IN, t.admin, v=TEST_VERTICAL, c=people[1], scope=sales)
    due = datetime.fromisoformat(flagged["deadline"]["dueAt"]).astimezone(shanghai)
    assert due.date().isoformat() == "2026-10-13" and due.hour >= 17, due

    noon = datetime(2026, 10, 13, 12, 0, tzinfo=shanghai).astimezone(UTC)
    assert client.blocking_portal.call(service.enforce_due, noon) == 1  # only the calendar-day deadline (5 October)
    grades = {c: (await ok(client, GRADES, t.admin, c=c))["customerGrades"]["nodes"][0]["grade"] for c in people[:2]}
    assert grades == {people[0]: "preferred", people[1]: "vip"}
    morning = datetime(2026, 10, 14, 9, 0, tzinfo=shanghai).astimezone(UTC)
    assert client.blocking_portal.call(service.enforce_due, morning) == 1
    assert (await ok(client, GRADES, t.admin, c=people[1]))["customerGrades"]["nodes"][0]["grade"] == "preferred"


async def test_another_tenant_cannot_see_or_touch_reviews_grades_or_history(client, clock):
    """Tenant isolation: Globex's administrator (medical devices enabled there too) naming Acme's
    review, customer or department is answered as if they did not exist, and nothing changes."""
    t = await acme(client)
    sales = t.departments["销售部"]
    people = customers(client, 10, sales)
    run = await payload(client, PROPOSE, t.admin, v=MD, s=SCHEME, scope=sales, p=_vip(people[:1]))
    assert (await payload(client, OVERRIDE, t.admin, c=people[1], g="preferred", r="履约良好", scope=sales))["errors"] == []
    other = (await login(client, tenant="globex"))["accessToken"]
    assert (await payload(client, ENABLE, other, v=MD))["errors"] == []
    other = (await login(client, tenant="globex"))["accessToken"]

    read = (await gql(client, READ, other, id=run["review"]["id"])).json()
    assert read["data"] is None and read["errors"][0]["extensions"]["code"] == "GRADE_REVIEW_NOT_FOUND"
    assert (await ok(client, "query($id: ID!) { node(id: $id) { id } }", other, id=run["review"]["id"]))["node"] is None
    assert (await ok(client, REVIEWS, other))["gradeReviews"]["nodes"] == []
    for doc in (GRADES, HISTORY):
        body = (await gql(client, doc, other, c=people[1])).json()
        assert body["errors"][0]["extensions"]["code"] == "CUSTOMER_NOT_FOUND", body
    for doc, variables in ((APPROVE, {"id": run["review"]["id"]}), (PUBLISH, {"id": run["review"]["id"]}),
                           (OVERRIDE, {"c": people[1], "g": "vip", "r": "x", "scope": sales}),
                           (FLAG, {"c": people[1], "g": "qualified", "r": "x", "scope": sales})):
        answer = await payload(client, doc, other, **variables)
        assert answer["errors"][0]["code"] in ("GRADE_REVIEW_NOT_FOUND", "CUSTOMER_NOT_FOUND", "GRADE_SCOPE_INVALID"), answer
    assert (await payload(client, READ, t.admin, id=run["review"]["id"]))["status"] == "proposed"
    assert (await ok(client, GRADES, t.admin, c=people[1]))["customerGrades"]["nodes"][0]["grade"] == "preferred"
