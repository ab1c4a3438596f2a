"""Complaints over GraphQL (issue 19, "GraphQL: intake, each transition, assign, pause/resume,
timeline of a case with every clock"): the property-management flow (seed 003 R10) driven from
intake to close through the API on a controlled clock, a refused transition answering its code
and writing nothing, another tenant's case answering like a missing one, and the complainant
masked like a customer's contact data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import AsyncTestClient

from core.complaints import service
from core.plugins.manager import load_verticals
from gateway.app import create_app
from tests.gateway.test_identity_api import _snapshot, gql, login
from tests.support import PASSWORD, Clock

ENABLE = 'mutation { verticalEnable(verticalId: "real_estate") { vertical { id enabled } errors { code } } }'
COMPLAINT = ("id number state branch category firstResponder escalatedTo availableActions version closedAt "
             "complainant { name phone address } fields")
PAYLOAD = "complaint { %s } errors { code field message }" % COMPLAINT
INTAKE = ('mutation($subject: String!, $category: String!) { complaintIntake(input: {vertical: "real_estate", '
          'flow: "property_complaint", category: $category, severity: "normal", subject: $subject, channel: "phone", '
          'complainant: {name: "王小明", phone: "13812345678", address: "3栋2单元1101"}}) { %s } }' % PAYLOAD)
TRANSITION = ("mutation($id: ID!, $action: String!, $fields: JSON) { complaintTransition(id: $id, action: $action, "
              "fields: $fields) { %s } }" % PAYLOAD)
PAUSE = 'mutation($id: ID!, $fields: JSON) { complaintPause(id: $id, fields: $fields) { %s } }' % PAYLOAD
RESUME = "mutation($id: ID!) { complaintResume(id: $id) { %s } }" % PAYLOAD
TIMELINE = ("query($id: ID!) { complaintTimeline(id: $id) { complaint { id state } clocks { timer kind status "
            "startedAt dueAt breachedAt pausedAt stoppedAt provisional } events { kind action fromState toState actor } } }")


def sh(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock(sh(2026, 9, 30, 8))
    monkeypatch.setattr(service, "now", c)
    return c


@pytest.fixture
async def client(settings, seeded):
    quiet = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000,
                                        "tick_interval_seconds": 3600})
    async with AsyncTestClient(create_app(quiet)) as test_client:
        test_client.app_settings = quiet
        yield test_client


async def admin_of(client, tenant: str = "acme", enable: bool = True) -> str:
    """The tenant's administrator; enabling real_estate offers its permissions to the admin role,
    so the administrator signs in again afterwards."""
    token = (await login(client, tenant=tenant))["accessToken"]
    if enable:
        body = (await gql(client, ENABLE, token)).json()
        assert body["data"]["verticalEnable"]["errors"] == [], body
        token = (await login(client, tenant=tenant))["accessToken"]
    return token


async def ok(client, doc: str, token: str, **variables) -> dict:
    body = (await gql(client, doc, token, **variables)).json()
    assert not body.get("errors"), body
    root = next(iter(body["data"].values()))
    assert not (isinstance(root, dict) and root.get("errors")), body
    return root


async def test_a_routine_property_complaint_from_intake_to_close_over_graphql(client, clock):
    """Issue 19 acceptance 1 over the API (R10-1, 2, 4, 5, 8): every transition by complaintTransition,
    the hold by complaintPause/complaintResume, every clock read on complaintTimeline: the department's
    2-hour clock moved by the 3-hour pause, the return visit due 2 working days after the report
    back on 30 Sept, i.e. 9 Oct 18:00 across 国庆 2026, every clock met at close."""
    token = await admin_of(client)
    opened = clock.at
    case = (await ok(client, INTAKE, token, subject="电梯故障", category="routine"))["complaint"]
    assert case["number"] == "WY2609001" and case["state"] == "received" and case["branch"] == "routine"
    assert case["availableActions"] == ["forward"]
    cid = case["id"]

    async def act(action: str, fields: dict | None = None) -> dict:
        return (await ok(client, TRANSITION, token, id=cid, action=action, fields=fields))["complaint"]

    clock.advance(hours=1)
    await act("forward")
    clock.advance(minutes=30)
    await act("dispatch", {"department": "工程部", "handling_deadline": "2026-09-30T18:00+08:00"})
    dispatched = clock.at
    clock.advance(minutes=30)
    paused = (await ok(client, PAUSE, token, id=cid, fields={"reason": "等待业主在家"}))["complaint"]
    assert paused["state"] == "waiting_customer"
    clock.advance(hours=3)
    assert (await ok(client, RESUME, token, id=cid))["complaint"]["state"] == "dispatched"
    clocks = {c["timer"]: c for c in (await ok(client, TIMELINE, token, id=cid))["clocks"]}
    assert datetime.fromisoformat(clocks["delay_notice_2h"]["dueAt"]) == dispatched + timedelta(hours=5)
    assert datetime.fromisoformat(clocks["handling_deadline"]["dueAt"]) == sh(2026, 9, 30, 21)
    assert datetime.fromisoformat(clocks["forward_24h"]["dueAt"]) == opened + timedelta(hours=24)
    clock.advance(minutes=20)
    await act("resolve", {"resolution": "已更换电梯按钮"})
    clock.advance(hours=1)
    await act("report_back")
    clock.advance(minutes=10)
    await act("verify", {"verified_by": "前台张", "result": "已修复"})
    clocks = {c["timer"]: c for c in (await ok(client, TIMELINE, token, id=cid))["clocks"]}
    assert datetime.fromisoformat(clocks["return_visit_2wd"]["dueAt"]) == sh(2026, 10, 9, 18)
    clock.at = sh(2026, 10, 9, 11)
    await act("return_visit", {"satisfaction": 5})
    clock.advance(hours=1)
    closed = await act("inform_first_responder")
    assert closed["state"] == "closed" and datetime.fromisoformat(closed["closedAt"]) == clock.at
    assert closed["availableActions"] == [] and closed["fields"]["return_visit.satisfaction"] == 5
    timeline = await ok(client, TIMELINE, token, id=cid)
    assert {c["timer"]: c["status"] for c in timeline["clocks"]} == {
        "forward_24h": "met", "dispatch_12h": "met", "handling_deadline": "met", "delay_notice_2h": "met",
        "report_back_2h": "met", "return_visit_2wd": "met", "first_responder_2h": "met"}
    assert all(c["breachedAt"] is None and c["stoppedAt"] for c in timeline["clocks"])
    assert [e["action"] for e in timeline["events"] if e["kind"] == "transitioned"] == [
        "forward", "dispatch", "wait_for_customer", "customer_replied", "resolve", "report_back", "verify",
        "return_visit", "inform_first_responder"]
    listed = await ok(client, '{ complaints(open: false, first: 10) { nodes { id state } } }', token)
    assert listed["nodes"] == [{"id": cid, "state": "closed"}]
    assert (await ok(client, '{ complaints(open: true) { nodes { id } } }', token))["nodes"] == []


async def test_an_emergency_escalates_on_the_tick_and_the_timeline_shows_it(client, clock):
    """Issue 19 acceptance 2 read over the API: not passed on within 3 minutes, the case escalates
    to the office head on the tick; the timeline shows the breached clock and the escalation."""
    token = await admin_of(client)
    opened = clock.at
    case = (await ok(client, INTAKE, token, subject="水管爆裂", category="emergency"))["complaint"]
    tenant = uuid.UUID((await ok(client, "{ me { tenantId } }", token))["tenantId"])
    # The tick runs on the app's own loop: its database pool belongs to that loop (PostgreSQL).
    tick = service.breach_due_in_tenant(tenant, opened + timedelta(minutes=3, seconds=5), load_verticals(()))
    assert client.blocking_portal.call(lambda: tick) == 1
    timeline = await ok(client, TIMELINE, token, id=case["id"])
    clocks = {c["timer"]: c for c in timeline["clocks"]}
    assert clocks["em_notify_3min"]["breachedAt"] is not None
    assert clocks["em_office_head_5min"]["status"] == "running"
    assert [e["kind"] for e in timeline["events"]][-2:] == ["breached", "escalated"]
    assert (await ok(client, "query($id: ID!) { complaint(id: $id) { escalatedTo } }", token,
                     id=case["id"]))["escalatedTo"] == "office_head"


@pytest.mark.parametrize(("action", "fields", "code", "field"), [
    ("dispatch", {"department": "工程部"}, "COMPLAINT_FIELDS_REQUIRED", "handling_deadline"),
    ("dispatch", {"department": "工程部", "handling_deadline": "明天"}, "COMPLAINT_FIELDS_INVALID", "handling_deadline"),
    ("resolve", {"resolution": "x"}, "COMPLAINT_TRANSITION_INVALID", "action"),
])
async def test_a_refused_transition_answers_its_code_and_writes_nothing(client, clock, action, fields, code, field):
    """Issue 19 (a transition without its required fields, or not open from the state, is refused
    with a coded error and changes nothing): the payload names the code and the field; every row of
    every table is as before."""
    token = await admin_of(client)
    case = (await ok(client, INTAKE, token, subject="噪音", category="routine"))["complaint"]
    await ok(client, TRANSITION, token, id=case["id"], action="forward", fields=None)
    before = await _snapshot(client.app_settings)
    body = (await gql(client, TRANSITION, token, id=case["id"], action=action, fields=fields)).json()
    answer = body["data"]["complaintTransition"]
    assert answer["complaint"] is None
    assert [(e["code"], e["field"]) for e in answer["errors"]] == [(code, field)]
    assert await _snapshot(client.app_settings) == before


async def test_another_tenants_complaint_answers_like_a_missing_one(client, clock):
    """Isolation (issue 19 "isolation suite covers every new operation"): globex naming acme's case
    gets what a missing id gets, in every query and mutation, and changes nothing; node(id:) is null."""
    acme = await admin_of(client)
    globex = await admin_of(client, tenant="globex")
    case = (await ok(client, INTAKE, acme, subject="电梯故障", category="routine"))["complaint"]
    missing = str(uuid.uuid4())

    def same(body: dict, id_: str) -> str:
        for error in body.get("errors") or []:
            error.get("extensions", {}).pop("requestId", None)
        return str(body).replace(id_, "<id>")

    for doc in ("query($id: ID!) { complaint(id: $id) { id } }", TIMELINE):
        theirs = (await gql(client, doc, globex, id=case["id"])).json()
        nothing = (await gql(client, doc, globex, id=missing)).json()
        assert theirs["errors"][0]["extensions"]["code"] == "COMPLAINT_NOT_FOUND"
        assert same(theirs, case["id"]) == same(nothing, missing)
    before = await _snapshot(client.app_settings)
    for doc, variables in ((TRANSITION, {"action": "forward", "fields": None}), (PAUSE, {"fields": {"reason": "x"}}),
                           (RESUME, {}),
                           ('mutation($id: ID!) { complaintAssign(id: $id, departmentId: "%s") { %s } }'
                            % (missing, PAYLOAD), {})):
        theirs = (await gql(client, doc, globex, id=case["id"], **variables)).json()
        nothing = (await gql(client, doc, globex, id=missing, **variables)).json()
        [root] = theirs["data"].values()
        assert [e["code"] for e in root["errors"]] == ["COMPLAINT_NOT_FOUND"], theirs
        assert same(theirs, case["id"]) == same(nothing, missing)
    assert await _snapshot(client.app_settings) == before
    node = (await gql(client, "query($id: ID!) { node(id: $id) { id } }", globex, id=case["id"])).json()
    assert node["data"]["node"] is None
    assert (await ok(client, "{ complaints { nodes { id } } }", globex))["nodes"] == []
    assert (await ok(client, "query($id: ID!) { node(id: $id) { id __typename } }", acme, id=case["id"])) == {
        "id": case["id"], "__typename": "Complaint"}


async def test_the_complainant_is_masked_in_every_answer(client, clock):
    """Masking as for customers (gateway/graphql/customers.py): the complainant's phone and address
    are masked in the intake's answer, the case, the list and the timeline, even for an
    administrator holding customer.pii.unmask; the name stays readable."""
    token = await admin_of(client)
    case = (await ok(client, INTAKE, token, subject="电梯故障", category="routine"))["complaint"]
    masked = {"name": "王小明", "phone": "138****5678", "address": "3********"}
    assert case["complainant"] == masked
    person = "complainant { name phone address }"
    one = await ok(client, "query($id: ID!) { complaint(id: $id) { %s } }" % person, token, id=case["id"])
    page = await ok(client, "{ complaints { nodes { %s } } }" % person, token)
    timeline = await ok(client, "query($id: ID!) { complaintTimeline(id: $id) { complaint { %s } } }" % person,
                        token, id=case["id"])
    assert one["complainant"] == page["nodes"][0]["complainant"] == timeline["complaint"]["complainant"] == masked
    raw = (await gql(client, "{ complaints { nodes { %s } } }" % person, token)).text
    assert "13812345678" not in raw and "1101" not in raw


async def test_complaint_flows_describe_the_enabled_verticals_flows(client, clock):
    """complaintFlows gives an integrator what drives a flow (states, transitions with permission and
    required fields, timers with limits and reactions) for the verticals the tenant enabled only."""
    token = await admin_of(client)
    doc = ("{ complaintFlows { vertical id initial states { code terminal paused } transitions { source target action "
           "permission requiredFields branches } timers { code startOn stopOn target { amount unit } onBreach { kind "
           "role reportWithin { amount unit } reportAction } } numbering } }")
    flows = {f["id"]: f for f in await ok(client, doc, token)}
    assert set(flows) == {"property_complaint", "service_call"}
    flow = flows["property_complaint"]
    assert flow["vertical"] == "real_estate" and flow["initial"] == "received" and flow["numbering"] == "WY{YY}{MM}{seq:3}"
    dispatch = next(t for t in flow["transitions"] if t["action"] == "dispatch")
    assert dispatch["requiredFields"] == ["department", "handling_deadline"]
    assert dispatch["permission"] == "real_estate.complaint.front_desk"
    timers = {t["code"]: t for t in flow["timers"]}
    assert timers["return_visit_2wd"]["target"] == {"amount": 2, "unit": "working_days"}
    assert timers["em_office_head_5min"]["onBreach"] == [{"kind": "escalate", "role": "company_leader",
                                                          "reportWithin": {"amount": 24, "unit": "hours"},
                                                          "reportAction": "file_company_report"}]
    assert {"code": "waiting_customer", "terminal": False, "paused": True} in flow["states"]
    other = await admin_of(client, tenant="globex", enable=False)
    assert await ok(client, doc, other) == []


async def test_a_member_without_the_flows_read_permission_reads_no_case(client, clock):
    """Issue 19 (who may read a flow's cases is the flow's read permission): a signed-in member
    without it gets PERMISSION_DENIED for the case and its timeline, an empty list, null from
    node(id:), and complaintPause/complaintResume refuse it before saying anything of the case's
    state; it may still take a complaint (R10-1: any employee is a first responder)."""
    admin = await admin_of(client)
    case = (await ok(client, INTAKE, admin, subject="电梯故障", category="routine"))["complaint"]
    await ok(client, 'mutation { userCreate(input: {username: "clerk", displayName: "clerk", password: "%s"}) '
                     '{ user { id } errors { code } } }' % PASSWORD, admin)
    clerk = (await login(client, username="clerk"))["accessToken"]
    for doc in ("query($id: ID!) { complaint(id: $id) { id } }", TIMELINE):
        body = (await gql(client, doc, clerk, id=case["id"])).json()
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED", body
    assert (await ok(client, "{ complaints { nodes { id } } }", clerk))["nodes"] == []
    node = (await gql(client, "query($id: ID!) { node(id: $id) { id } }", clerk, id=case["id"])).json()
    assert node["data"]["node"] is None
    for doc in (PAUSE, RESUME):
        body = (await gql(client, doc, clerk, id=case["id"], fields=None)).json()
        [root] = body["data"].values()
        assert [e["code"] for e in root["errors"]] == ["PERMISSION_DENIED"], body
    own = (await ok(client, INTAKE, clerk, subject="噪音", category="routine"))["complaint"]
    assert own["firstResponder"].startswith("user:") and own["number"] == "WY2609002"


async def test_complaints_page_newest_first_and_node_takes_the_global_id(client, clock):
    """Issue 17 point 3 for complaints: a Relay connection in keyset pages (newest first, first/after
    and last/before), filtered by state; node(id:) takes the case's id or its global id."""
    from gateway.graphql.common import global_id

    token = await admin_of(client)
    ids = []
    for subject in ("一", "二", "三"):
        clock.advance(minutes=1)
        ids.append((await ok(client, INTAKE, token, subject=subject, category="routine"))["complaint"]["id"])
    await ok(client, TRANSITION, token, id=ids[0], action="forward", fields=None)
    page = await ok(client, "{ complaints(first: 2) { nodes { id } pageInfo { hasNextPage endCursor } } }", token)
    assert [n["id"] for n in page["nodes"]] == [ids[2], ids[1]] and page["pageInfo"]["hasNextPage"]
    rest = await ok(client, "query($c: String!) { complaints(first: 2, after: $c) { nodes { id } "
                            "pageInfo { hasNextPage hasPreviousPage } } }", token, c=page["pageInfo"]["endCursor"])
    assert [n["id"] for n in rest["nodes"]] == [ids[0]]
    assert rest["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True}
    last = await ok(client, "{ complaints(last: 1) { nodes { id } } }", token)
    assert [n["id"] for n in last["nodes"]] == [ids[0]]
    moved = await ok(client, '{ complaints(state: "at_front_desk") { nodes { id } } }', token)
    assert [n["id"] for n in moved["nodes"]] == [ids[0]]
    node = await ok(client, "query($g: ID!) { node(id: $g) { id ... on Complaint { number } } }", token,
                    g=global_id("Complaint", uuid.UUID(ids[1])))
    assert node == {"id": ids[1], "number": "WY2609002"}


async def test_a_customers_complaints_appear_in_its_timeline(client, clock):
    """Issue 19 ("they appear in the customer's timeline"): customerTimeline shows the customer's
    own changes and the events of a complaint naming it, oldest first."""
    token = await admin_of(client)
    made = await ok(client, 'mutation { customerCreate(input: {kind: "organisation", orgName: "物业业主委员会"}) '
                            '{ customer { id } errors { code } } }', token)
    customer_id = made["customer"]["id"]
    intake = ('mutation($c: ID!) { complaintIntake(input: {vertical: "real_estate", flow: "property_complaint", '
              'category: "routine", severity: "normal", subject: "电梯噪音", channel: "phone", customerId: $c}) '
              '{ complaint { id number } errors { code field message } } }')
    opened = (await ok(client, intake, token, c=customer_id))["complaint"]
    timeline = await ok(client, 'query($id: ID!) { customerTimeline(id: $id) { nodes { at kind complaintId '
                                'complaintNumber event subject history { version } } } }', token, id=customer_id)
    nodes = timeline["nodes"]
    assert [n["at"] for n in nodes] == sorted(n["at"] for n in nodes)  # oldest first (the complaint clock is 2026-09-30)
    assert {"kind": "history", "version": 1} in [{"kind": n["kind"], **(n["history"] or {})} for n in nodes]
    for node in nodes:
        node.pop("at")
    assert {"kind": "complaint", "complaintId": opened["id"], "complaintNumber": opened["number"], "event": "opened",
            "subject": "电梯噪音", "history": None} in nodes


async def test_the_complainant_is_shown_in_clear_only_on_request_with_a_reason_and_audited(client, clock):
    """Issue 19 (a free-text complainant's personal data masked like a customer's): as customerUnmask
    does for a customer, complaintComplainantUnmask gives the complainant in clear to a holder of
    customer.pii.unmask and the flow's read permission, with a reason of 5 characters or more,
    audited with the reason and never the values; others are refused and nothing is written."""
    token = await admin_of(client)
    case = (await ok(client, INTAKE, token, subject="电梯故障", category="routine"))["complaint"]
    unmask = ('mutation($id: ID!, $reason: String!) { complaintComplainantUnmask(id: $id, reason: $reason) '
              '{ complainant { name phone address } errors { code field } } }')
    short = (await gql(client, unmask, token, id=case["id"], reason="看")).json()["data"]["complaintComplainantUnmask"]
    assert short["complainant"] is None and short["errors"] == [{"code": "REASON_REQUIRED", "field": "reason"}]
    clear = await ok(client, unmask, token, id=case["id"], reason="回访核实联系方式")
    assert clear["complainant"] == {"name": "王小明", "phone": "13812345678", "address": "3栋2单元1101"}
    audit = await ok(client, '{ auditEntries(filter: {action: "complaint.complainant_unmasked"}) { nodes { targetId diff } } }',
                     token)
    [entry] = audit["nodes"]
    assert entry["targetId"] == case["id"] and "13812345678" not in str(entry["diff"])
    assert "回访核实联系方式" in str(entry["diff"])
    await ok(client, 'mutation { userCreate(input: {username: "clerk", displayName: "clerk", password: "%s"}) '
                     '{ user { id } errors { code } } }' % PASSWORD, token)
    clerk = (await login(client, username="clerk"))["accessToken"]
    refused = (await gql(client, unmask, clerk, id=case["id"], reason="回访核实联系方式")).json()
    assert refused["data"]["complaintComplainantUnmask"]["errors"][0]["code"] == "PERMISSION_DENIED"
