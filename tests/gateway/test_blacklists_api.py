"""Blacklists over GraphQL (issue 20, MD13–MD16, seed-002 R5-14–R5-17) with the medical-devices
vertical enabled (its customer grade is held per department; its blacklist scopes are the company
and the department): proposal and approval by two people, the company blacklist blocking a visit,
an upward grading and intake in every department, a department blacklist only in its department,
expiry after 6 months by the tick and the return at the lowest grade (acceptance 4), validity and
its shortening, lifting with optimistic locking, the paged list and another tenant's entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient

from core.blacklists import service as blacklists
from core.context import Context
from core.errors import KehuError
from core.grading import service as grading
from core.plugins.manager import load_verticals
from core.visits import service as visits
from gateway.app import create_app
from tests.gateway.test_identity_api import _snapshot, gql, login, new_user
from tests.support import Clock

VERTICAL = "medical_devices"
SCHEME = "customer_grade"
ENTRY = ("id customerId scope departmentId state inForce reason evidence { text reference } proposedBy approvedBy "
         "startsAt expiresAt validityDays endedBy endReason version")
PAYLOAD = "entry { %s } errors { code field message }" % ENTRY
PROPOSE = ("mutation($c: ID!, $scope: BlacklistScope!, $d: ID, $days: Int) { blacklistPropose(input: {customerId: $c, "
           "scope: $scope, departmentId: $d, reason: \"造成重大损失\", validityDays: $days, "
           "evidence: [{text: \"拖欠货款 12 万元\", reference: \"营销事业部通报 2024-003\"}]}) { %s } }" % PAYLOAD)
APPROVE = "mutation($id: ID!, $v: Int!) { blacklistApprove(id: $id, version: $v, note: \"同意\") { %s } }" % PAYLOAD
REJECT = "mutation($id: ID!, $v: Int!) { blacklistReject(id: $id, version: $v, reason: \"证据不足\") { %s } }" % PAYLOAD
LIFT = "mutation($id: ID!, $v: Int!) { blacklistLift(id: $id, version: $v, reason: \"已结清欠款\") { %s } }" % PAYLOAD
RULES = "mutation($n: Int!) { blacklistRulesUpdate(companyDays: $n) { rules { companyDays } errors { code field } } }"
VISIT = ('mutation($c: ID!, $at: DateTime!) { visitRecord(input: {customerId: $c, channel: "on_site", visitedAt: $at, '
         'report: {needs: "需要新型号", opinions: "交付及时"}}) { visit { id } errors { code field message } } }')
PLAN = ('mutation($c: ID!, $g: String) { visitPlanSet(customerId: $c, vertical: "medical_devices", grade: $g) '
        '{ schedules { planId dueAt } errors { code field message } } }')
CREATE = ('mutation($d: ID!, $o: ID, $n: String!, $id: String!) { customerCreate(force: true, input: {kind: "person", '
          'surname: "王", givenName: $n, departmentId: $d, ownerId: $o, identifier: {type: "resident_id", number: $id}}) '
          '{ customer { id } errors { code field message } } }')
FILLER = ('mutation($d: ID!, $n: String!) { customerCreate(input: {kind: "organisation", orgName: $n, departmentId: $d}) '
          '{ customer { id } errors { code } } }')
STANDING = ("query($c: ID!, $d: ID) { customerBlacklist(customerId: $c, departmentId: $d) { customerId blocked "
            "inForce { id scope } entries { id state } } }")
EVENT = ('mutation($d: ID!) { medicalDevicesEventPlan(kind: "forum", title: "客户座谈会", plannedOn: "2027-03-01", '
         'plan: "邀请重点客户座谈", departmentId: $d) { event { id } errors { code } } }')
INVITE = ("mutation($e: ID!, $c: ID!) { medicalDevicesEventInvite(id: $e, customerId: $c) { event { invitedCustomerIds } "
          "errors { code field message } } }")
QUALIFICATION = ('mutation($c: ID!) { medicalDevicesQualificationRecord(customerId: $c, kind: "practice_licence", '
                 'number: "PDY12345", expiresOn: "2030-12-31") { qualification { id } errors { code } } }')
ADMIT = ('mutation($c: ID!, $d: ID!, $g: String, $why: String) { medicalDevicesAdmit(customerId: $c, departmentId: $d, '
         'customerType: "medical_institution", contractNumber: "HT-2024-001", verificationNote: "信誉良好", grade: $g, '
         'readmissionReason: $why) { admission { grade readmission } errors { code field message } } }')
IDENTIFIER = "11010519491231002X"


def sh(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock(sh(2024, 1, 1, 10))
    for module in (blacklists, visits, grading):
        monkeypatch.setattr(module, "now", c)
    return c


@pytest.fixture
def api_settings(settings):
    return settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000,
                                       "tick_interval_seconds": 3600})


@pytest.fixture
async def client(api_settings, seeded):
    async with AsyncTestClient(create_app(api_settings)) as test_client:
        yield test_client


async def ok(client, doc: str, token: str, **variables) -> dict:
    body = (await gql(client, doc, token, **variables)).json()
    assert not body.get("errors"), body
    root = next(iter(body["data"].values()))
    assert not (isinstance(root, dict) and root.get("errors")), body
    return root


async def refused(client, doc: str, token: str, **variables) -> dict:
    """The payload's one error (the mutation changed nothing it reports)."""
    body = (await gql(client, doc, token, **variables)).json()
    assert not body.get("errors"), body
    root = next(iter(body["data"].values()))
    assert len(root["errors"]) == 1, body
    return root["errors"][0]


class World:
    """Acme with medical devices enabled: the administrator (proposes), an approver (another
    administrator), a user with no role, the departments 销售部 and 客服部, and one customer of 销售部."""

    def __init__(self, client, seeded) -> None:
        self.client = client
        self.tenant: UUID = seeded.acme.id

    async def build(self) -> World:
        client = self.client
        token = (await login(client))["accessToken"]
        enabled = (await gql(client, 'mutation { verticalEnable(verticalId: "medical_devices") { errors { code } } }',
                             token)).json()
        assert enabled["data"]["verticalEnable"]["errors"] == [], enabled
        self.admin = (await login(client))["accessToken"]
        self.admin_id = (await ok(client, "{ me { user { id } } }", self.admin))["user"]["id"]
        departments = (await ok(client, "{ departments { nodes { id name } } }", self.admin))["nodes"]
        self.departments = {d["name"]: d["id"] for d in departments}
        self.sales, self.service = self.departments["销售部"], self.departments["客服部"]
        approver = await new_user(client, self.admin, "approver")
        self.approver_id = approver
        roles = (await ok(client, "{ roles { nodes { id permissions { permission } } } }", self.admin))["nodes"]
        [role] = [r["id"] for r in roles if {"permission": "blacklist.approve"} in r["permissions"]][:1]
        await ok(client, "mutation($u: ID!, $r: ID!) { roleGrant(userId: $u, roleId: $r) { ok errors { code } } }",
                 self.admin, u=approver, r=role)
        self.approver = (await login(client, username="approver"))["accessToken"]
        await new_user(client, self.admin, "nobody")
        self.nobody = (await login(client, username="nobody"))["accessToken"]
        self.customer = (await ok(client, CREATE, self.admin, d=self.sales, o=self.admin_id, n="小明",
                                  id=IDENTIFIER))["customer"]["id"]
        # seven more customers in each department, so that one VIP stays under the 15% cap (MD4)
        for department in (self.sales, self.service):
            for i in range(7):
                await ok(client, FILLER, self.admin, d=department, n=f"医院{department[:4]}{i}")
        return self

    async def listed(self, scope: str, department: str | None = None, days: int | None = None) -> dict:
        proposed = (await ok(self.client, PROPOSE, self.admin, c=self.customer, scope=scope, d=department,
                             days=days))["entry"]
        return (await ok(self.client, APPROVE, self.approver, id=proposed["id"], v=proposed["version"]))["entry"]

    async def events(self) -> dict[str, str]:
        """A forum planned by each department (medical devices, MD26)."""
        return {d: (await ok(self.client, EVENT, self.admin, d=d))["event"]["id"] for d in (self.sales, self.service)}

    def grade(self, grade: str, department: str, customer: str | None = None) -> None:
        """Grade the customer in a department through the grading engine (on the app's own loop)."""
        system = Context.system("test", self.tenant)
        self.client.blocking_portal.call(partial(
            grading.override_grade, system, load_verticals(()), VERTICAL, SCHEME, UUID(customer or self.customer),
            grade, "审核", scope_id=department))

    def grading_refusal(self, grade: str, department: str) -> KehuError:
        with pytest.raises(KehuError) as caught:
            self.grade(grade, department)
        return caught.value


@pytest.fixture
async def world(client, seeded, clock) -> World:
    return await World(client, seeded).build()


async def test_md13_a_proposal_blocks_nothing_until_another_user_approves_it(client, world, clock, api_settings):
    """MD13 authority: a proposal (reason and evidence) blocks nothing; its proposer cannot approve
    it (BLACKLIST_SAME_PERSON, writing nothing); another permitted user approves it, which files a
    notice with the company level; each step is audited."""
    proposed = (await ok(client, PROPOSE, world.admin, c=world.customer, scope="COMPANY"))["entry"]
    assert proposed["state"] == "PROPOSED" and proposed["inForce"] is False and proposed["scope"] == "COMPANY"
    assert proposed["evidence"] == [{"text": "拖欠货款 12 万元", "reference": "营销事业部通报 2024-003"}]
    assert (await ok(client, VISIT, world.admin, c=world.customer, at=clock.at.isoformat()))["visit"]["id"]
    before = await _snapshot(api_settings)
    error = await refused(client, APPROVE, world.admin, id=proposed["id"], v=proposed["version"])
    assert error["code"] == "BLACKLIST_SAME_PERSON"
    assert await _snapshot(api_settings) == before
    approved = (await ok(client, APPROVE, world.approver, id=proposed["id"], v=proposed["version"]))["entry"]
    assert approved["state"] == "ACTIVE" and approved["inForce"] is True and approved["approvedBy"] != approved["proposedBy"]
    assert datetime.fromisoformat(approved["startsAt"]) == clock.at
    assert approved["expiresAt"] is None  # the company blacklist has no expiry by default (seed-002 R5-16)
    audit = await ok(client, '{ auditEntries(first: 100) { nodes { action targetId actor } } }', world.admin)
    actions = [(a["action"], a["targetId"]) for a in audit["nodes"] if a["action"].startswith("blacklist.")]
    assert sorted(actions) == sorted([(a, proposed["id"]) for a in ("blacklist.proposed", "blacklist.approved",
                                                                    "blacklist.filed")])


async def test_md13_blacklist_operations_need_their_permission(client, world):
    """MD13 authority: without blacklist.propose / approve / lift / read the operations are
    refused with PERMISSION_DENIED."""
    error = await refused(client, PROPOSE, world.nobody, c=world.customer, scope="COMPANY")
    assert error["code"] == "PERMISSION_DENIED"
    proposed = (await ok(client, PROPOSE, world.admin, c=world.customer, scope="COMPANY"))["entry"]
    for doc in (APPROVE, REJECT, LIFT):
        assert (await refused(client, doc, world.nobody, id=proposed["id"], v=1))["code"] == "PERMISSION_DENIED"
    assert (await refused(client, RULES, world.nobody, n=30))["code"] == "PERMISSION_DENIED"
    body = (await gql(client, STANDING, world.nobody, c=world.customer)).json()
    assert body["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"


async def test_acceptance_4_the_company_blacklist_blocks_every_department(client, world, clock):
    """Acceptance 4, MD14 (R5-15) and MD16: on the company blacklist the customer gets no visit, no
    visit plan, no upward grading, no event invitation and no new record (intake, forced or not) in
    either department; CUSTOMER_BLACKLISTED names the company blacklist and the expiry."""
    assert (await ok(client, RULES, world.admin, n=365))["rules"] == {"companyDays": 365}
    world.grade("qualified", world.sales)
    world.grade("qualified", world.service)
    entry = await world.listed("COMPANY")
    assert datetime.fromisoformat(entry["expiresAt"]) == clock.at + timedelta(days=365)
    error = await refused(client, VISIT, world.admin, c=world.customer, at=clock.at.isoformat())
    assert error["code"] == "CUSTOMER_BLACKLISTED" and error["field"] == "customerId"
    assert "company blacklist" in error["message"] and "2024-12-31" in error["message"]
    assert (await refused(client, PLAN, world.admin, c=world.customer, g="vip"))["code"] == "CUSTOMER_BLACKLISTED"
    for department in (world.sales, world.service):
        refusal = world.grading_refusal("vip", department)
        assert refusal.code == "CUSTOMER_BLACKLISTED" and "company blacklist" in refusal.message_en
        error = await refused(client, CREATE, world.admin, d=department, o=None, n="小明", id=IDENTIFIER)
        assert error["code"] == "CUSTOMER_BLACKLISTED" and "company blacklist" in error["message"]
    for department, event in (await world.events()).items():
        error = await refused(client, INVITE, world.admin, e=event, c=world.customer)
        assert error["code"] == "CUSTOMER_BLACKLISTED" and "company blacklist" in error["message"], department
    world.grade("qualified", world.sales)  # no change, no refusal: only an upward grading is business
    standing = await ok(client, STANDING, world.admin, c=world.customer, d=world.service)
    assert standing["blocked"] is True and [e["scope"] for e in standing["inForce"]] == ["COMPANY"]


async def test_acceptance_4_a_department_blacklist_blocks_only_its_department(client, world, clock):
    """Acceptance 4, MD14 (R5-15), MD16: on 客服部's blacklist the customer of 销售部 may still be
    visited (its department's business), graded up and invited in 销售部, but not graded up,
    invited or taken in again in 客服部; the refusal names the department and the expiry."""
    world.grade("qualified", world.sales)
    world.grade("qualified", world.service)
    entry = await world.listed("DEPARTMENT", world.service)
    assert entry["scope"] == "DEPARTMENT" and entry["departmentId"] == world.service
    assert (await ok(client, VISIT, world.admin, c=world.customer, at=clock.at.isoformat()))["visit"]["id"]
    refusal = world.grading_refusal("vip", world.service)
    assert refusal.code == "CUSTOMER_BLACKLISTED" and "客服部" in refusal.message_zh and "2024-07-01" in refusal.message_en
    world.grade("preferred", world.sales)
    error = await refused(client, CREATE, world.admin, d=world.service, o=None, n="小明", id=IDENTIFIER)
    assert error["code"] == "CUSTOMER_BLACKLISTED" and "客服部" in error["message"]
    again = await ok(client, CREATE, world.admin, d=world.sales, o=None, n="小明", id=IDENTIFIER)
    assert again["customer"]["id"] != world.customer  # 销售部 may take it in (forced past the duplicate)
    events = await world.events()
    error = await refused(client, INVITE, world.admin, e=events[world.service], c=world.customer)
    assert error["code"] == "CUSTOMER_BLACKLISTED" and "客服部" in error["message"]
    invited = await ok(client, INVITE, world.admin, e=events[world.sales], c=world.customer)
    assert invited["event"]["invitedCustomerIds"] == [world.customer]
    assert (await ok(client, STANDING, world.admin, c=world.customer, d=world.sales))["blocked"] is False
    assert (await ok(client, STANDING, world.admin, c=world.customer, d=world.service))["blocked"] is True
    # the customer's own department listing it blocks its visits too
    await world.listed("DEPARTMENT", world.sales)
    error = await refused(client, VISIT, world.admin, c=world.customer, at=clock.at.isoformat())
    assert error["code"] == "CUSTOMER_BLACKLISTED" and "销售部" in error["message"]


async def test_acceptance_4_after_six_months_it_returns_only_at_the_lowest_grade(client, world, clock):
    """Acceptance 4, MD15 (R5-16, R5-17), seed-000 check 34: listed by 销售部 on 2024-01-01 with no
    shortening, the customer cannot return before 2024-07-01; the tick expires the entry then (the
    tick the audited actor); re-admission (the vertical's medicalDevicesAdmit, with a reason) puts it
    at 合格 (qualified), the scheme's lowest grade, and refuses any other."""
    world.grade("preferred", world.sales)
    entry = await world.listed("DEPARTMENT", world.sales)
    assert datetime.fromisoformat(entry["expiresAt"]) == sh(2024, 7, 1, 10)
    clock.set(sh(2024, 7, 1, 9, 59))
    assert world.grading_refusal("vip", world.sales).code == "CUSTOMER_BLACKLISTED"
    error = await refused(client, CREATE, world.admin, d=world.sales, o=None, n="小明", id=IDENTIFIER)
    assert error["code"] == "CUSTOMER_BLACKLISTED"
    assert client.blocking_portal.call(partial(blacklists.expire_due_in_tenant, world.tenant, clock.at)) == 0
    clock.set(sh(2024, 7, 1, 10))
    assert client.blocking_portal.call(partial(blacklists.expire_due_in_tenant, world.tenant, clock.at)) == 1
    expired = await ok(client, "query($id: ID!) { blacklistEntry(id: $id) { state inForce endedBy } }", world.admin,
                       id=entry["id"])
    assert expired == {"state": "EXPIRED", "inForce": False, "endedBy": blacklists.TICK_ACTOR}
    audit = await ok(client, '{ auditEntries(filter: {action: "blacklist.expired"}) { nodes { actor targetId } } }',
                     world.admin)
    assert audit["nodes"] == [{"actor": blacklists.TICK_ACTOR, "targetId": entry["id"]}]
    # re-admission (the vertical's admission, MD20): only with a reason, only at the scheme's lowest grade
    lowest = blacklists.policy.readmission_grade(grading.scheme_of(load_verticals(()), VERTICAL, SCHEME))
    assert (lowest.code, lowest.name_zh) == ("qualified", "合格类")
    await ok(client, QUALIFICATION, world.admin, c=world.customer)
    error = await refused(client, ADMIT, world.admin, c=world.customer, d=world.sales, g="vip", why="经营已根本改善")
    assert error["code"] == "MEDICAL_DEVICES_READMISSION_GRADE"
    back = await ok(client, ADMIT, world.admin, c=world.customer, d=world.sales, why="经营已根本改善")
    assert back["admission"] == {"grade": "qualified", "readmission": True}
    grades = await ok(client, "query($c: ID!) { customerGrades(customerId: $c) { nodes { scopeKey grade } } }",
                      world.admin, c=world.customer)
    assert grades["nodes"] == [{"scopeKey": world.sales, "grade": "qualified"}]
    history = await ok(client, "query($c: ID!) { customerBlacklist(customerId: $c) { blocked entries { state } } }",
                       world.admin, c=world.customer)
    assert history == {"blocked": False, "entries": [{"state": "EXPIRED"}]}
    assert (await ok(client, VISIT, world.admin, c=world.customer, at=clock.at.isoformat()))["visit"]["id"]


async def test_md15_a_department_entry_may_be_shortened_never_lengthened(client, world, clock, api_settings):
    """MD15: validityDays shortens the 6 months (special cases); a longer one is refused with
    BLACKLIST_VALIDITY_INVALID, writing nothing; the company validity is the tenant's companyDays,
    bounded (SETTING_INVALID)."""
    short = await world.listed("DEPARTMENT", world.sales, days=30)
    assert datetime.fromisoformat(short["expiresAt"]) == clock.at + timedelta(days=30)
    assert short["validityDays"] == 30
    before = await _snapshot(api_settings)
    error = await refused(client, PROPOSE, world.admin, c=world.customer, scope="DEPARTMENT", d=world.service, days=400)
    assert (error["code"], error["field"]) == ("BLACKLIST_VALIDITY_INVALID", "validityDays")
    assert "2024-07-01" in error["message"]
    error = await refused(client, RULES, world.admin, n=4000)
    assert error["code"] == "SETTING_INVALID"
    assert await _snapshot(api_settings) == before
    error = await refused(client, PROPOSE, world.admin, c=world.customer, scope="DEPARTMENT", d=None)
    assert (error["code"], error["field"]) == ("BLACKLIST_SCOPE_INVALID", "departmentId")


async def test_md15_the_tenant_sets_how_long_a_department_entry_lasts(client, world, clock):
    """MD15 (暂定6个月): a department entry lasts the vertical's department_blacklist_months, 6 by
    default; a tenant that sets 3 gets entries expiring three calendar months after approval."""
    six = await world.listed("DEPARTMENT", world.sales)
    assert datetime.fromisoformat(six["expiresAt"]) == clock.at.replace(month=7)  # approved on 1 January
    update = ('mutation { verticalParametersUpdate(verticalId: "medical_devices", parameters: '
              '[{key: "department_blacklist_months", value: 3}]) { errors { code } } }')
    assert (await ok(client, update, world.admin))["errors"] == []
    three = await world.listed("DEPARTMENT", world.service)
    assert datetime.fromisoformat(three["expiresAt"]) == clock.at.replace(month=4)


async def test_lifting_and_rejecting_with_the_version_read(client, world, clock):
    """An active entry is lifted early with a reason, only at the version read (VERSION_CONFLICT
    otherwise); afterwards the customer may be visited again. A proposal is rejected by another user."""
    entry = await world.listed("COMPANY")
    error = await refused(client, LIFT, world.admin, id=entry["id"], v=entry["version"] - 1)
    assert (error["code"], error["field"]) == ("VERSION_CONFLICT", "version")
    lifted = (await ok(client, LIFT, world.admin, id=entry["id"], v=entry["version"]))["entry"]
    assert lifted["state"] == "LIFTED" and lifted["endReason"] == "已结清欠款" and lifted["inForce"] is False
    assert (await ok(client, VISIT, world.admin, c=world.customer, at=clock.at.isoformat()))["visit"]["id"]
    assert (await refused(client, LIFT, world.admin, id=entry["id"], v=lifted["version"]))["code"] == \
        "BLACKLIST_ENTRY_STATE"
    proposed = (await ok(client, PROPOSE, world.admin, c=world.customer, scope="DEPARTMENT", d=world.sales))["entry"]
    assert (await refused(client, REJECT, world.admin, id=proposed["id"], v=1))["code"] == "BLACKLIST_SAME_PERSON"
    rejected = (await ok(client, REJECT, world.approver, id=proposed["id"], v=proposed["version"]))["entry"]
    assert rejected["state"] == "REJECTED" and rejected["endReason"] == "证据不足"


async def test_blacklist_entries_page_by_scope_state_and_department(client, world, clock):
    """blacklistEntries: newest proposal first, filtered by scope, state, department and customer,
    paged with first/after; another tenant sees none of them, reads one as not found and the
    customer's standing as CUSTOMER_NOT_FOUND."""
    company = await world.listed("COMPANY")
    clock.set(clock.at + timedelta(minutes=1))
    sales = await world.listed("DEPARTMENT", world.sales)
    clock.set(clock.at + timedelta(minutes=1))
    pending = (await ok(client, PROPOSE, world.admin, c=world.customer, scope="DEPARTMENT", d=world.service))["entry"]
    query = ("query($scope: BlacklistScope, $state: BlacklistState, $d: ID, $after: String, $first: Int) "
             "{ blacklistEntries(scope: $scope, state: $state, departmentId: $d, first: $first, after: $after) "
             "{ nodes { id } pageInfo { hasNextPage endCursor } } }")

    async def ids(**filters) -> list[str]:
        return [n["id"] for n in (await ok(client, query, world.admin, **filters))["nodes"]]

    assert await ids() == [pending["id"], sales["id"], company["id"]]
    assert await ids(scope="COMPANY") == [company["id"]]
    assert await ids(state="ACTIVE") == [sales["id"], company["id"]]
    assert await ids(d=world.service) == [pending["id"]]
    page = await ok(client, query, world.admin, first=2)
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await ok(client, query, world.admin, first=2, after=page["pageInfo"]["endCursor"])
    assert [n["id"] for n in rest["nodes"]] == [company["id"]] and rest["pageInfo"]["hasNextPage"] is False
    other = (await login(client, tenant="globex"))["accessToken"]
    assert (await ok(client, query, other))["nodes"] == []
    body = (await gql(client, "query($id: ID!) { blacklistEntry(id: $id) { id } }", other, id=company["id"])).json()
    assert body["errors"][0]["extensions"]["code"] == "BLACKLIST_ENTRY_NOT_FOUND"
    body = (await gql(client, STANDING, other, c=world.customer)).json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "CUSTOMER_NOT_FOUND"
    assert (await refused(client, APPROVE, other, id=pending["id"], v=1))["code"] in (
        "BLACKLIST_ENTRY_NOT_FOUND", "PERMISSION_DENIED")
