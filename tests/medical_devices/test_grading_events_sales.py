"""The grade criteria (MD3–MD7), forums and promotions (MD26, MD27), the after-sale contact (MD29)
and business change notices (MD18) of the medical-devices vertical, through GraphQL."""

from __future__ import annotations

import pytest

from tests.medical_devices.api import (
    nodes,
    CUSTOMER,
    DOCS,
    ERR,
    EVENT,
    PARAMS,
    SALE,
    admit,
    audit,
    blacklist,
    colleague,
    customer,
    department,
    documents,
    ok,
    refused,
)

ASSESS = ("query($f: MedicalDevicesFactsInput!) { medicalDevicesGradeAssessment(facts: $f) { grade reasons } }")

# (facts, parameters, grade): MD4 a–c VIP, MD5 a and d preferred, MD6 qualified; the blank
# thresholds of the regulation are the tenant parameters (0: not used).
CRITERIA = [
    ({"hospitalLevel": "三级甲等"}, {}, "vip"),  # MD4 a: 三级乙等 or above
    ({"hospitalLevel": "三级乙等"}, {}, "vip"),
    ({"hospitalLevel": "三级丙等"}, {}, "preferred"),  # below 三级乙等, above 二级甲等
    ({"hospitalLevel": "二级甲等"}, {}, "preferred"),  # MD5 a: 二级甲等 or above
    ({"hospitalLevel": "二级乙等"}, {}, "qualified"),  # MD6
    ({"hospitalLevel": "三級乙等"}, {}, "vip"),  # traditional characters (seed-002)
    ({"hospitalLevel": "三级甲等", "latePayment": True}, {}, "qualified"),  # MD4 b, MD5 d
    ({"hospitalLevel": "二级甲等", "overduePickup": True}, {}, "qualified"),  # MD5 d
    ({"hospitalLevel": "三级甲等", "customerType": "enterprise"}, {}, "preferred"),  # MD4 a: distributor or institution
    ({"hospitalLevel": "三级甲等", "longTermPartner": False}, {}, "preferred"),  # MD4 c
    ({"orthopaedicTrauma": True, "beds": 300}, {}, "qualified"),  # blank bed threshold: not used
    ({"orthopaedicTrauma": True, "beds": 300}, {"vip_min_beds": 300}, "vip"),
    ({"orthopaedicTrauma": True, "beds": 299}, {"vip_min_beds": 300, "preferred_min_beds": 100}, "preferred"),
    ({"orthopaedicTrauma": False, "beds": 500}, {"vip_min_beds": 300}, "qualified"),  # not a specialty institution
    ({"annualBusinessWan": "500"}, {"vip_min_annual_business_wan": 500}, "vip"),
    ({"annualBusinessWan": "499.99"}, {"vip_min_annual_business_wan": 500,
                                       "preferred_min_annual_business_wan": 200}, "preferred"),
    ({"annualBusinessWan": "199"}, {"preferred_min_annual_business_wan": 200}, "qualified"),
    ({}, {}, "qualified"),
]


@pytest.mark.parametrize("facts,parameters,grade", CRITERIA)
async def test_md4_md5_md6_the_grade_criteria_as_a_table(kehu_client, facts, parameters, grade):
    """MD3–MD7: the scheme's scoring policy over the recorded facts, with the blank bed and business
    thresholds as tenant parameters."""
    for key, value in parameters.items():
        await ok(kehu_client, PARAMS, "verticalParametersUpdate", k=key, v=value)
    assessed = await ok(kehu_client, ASSESS, "medicalDevicesGradeAssessment", f=facts)
    assert assessed["grade"] == grade, assessed


async def test_md7_the_review_proposes_the_grade_the_criteria_give(kehu_client, clock):
    """MD7 / MD9: the grading engine's review of a department runs the vertical's criteria over the
    facts recorded per department (gradeFactRecord), so the what-if proposes them."""
    dep = await department(kehu_client)
    vip, preferred, plain = [await customer(kehu_client, department_id=dep) for _ in range(3)]
    for _ in range(17):
        await customer(kehu_client, department_id=dep)  # 20 customers: one VIP is 5%, one preferred 5%
    fact = ('mutation($c: ID!, $d: String!, $n: String!, $v: JSON!) { gradeFactRecord(vertical: "medical_devices", '
            'scheme: "customer_grade", customerId: $c, scopeId: $d, name: $n, value: $v) { errors { code } } }')
    for cust, level in ((vip, "三级甲等"), (preferred, "二级甲等"), (plain, "一级甲等")):
        await ok(kehu_client, fact, "gradeFactRecord", c=cust, d=dep, n="hospital_level", v=level)
    body = await kehu_client.execute(
        'mutation($d: String!) { gradeReviewPropose(vertical: "medical_devices", scheme: "customer_grade", scopeId: $d) '
        '{ review { whatIf { changes(first: 100) { nodes { customerId toGrade } } } } errors { code } } }', d=dep)
    nodes = body["data"]["gradeReviewPropose"]["review"]["whatIf"]["changes"]["nodes"]
    changes = {c["customerId"]: c["toGrade"] for c in nodes}
    assert changes[vip] == "vip" and changes[preferred] == "preferred" and changes.get(plain, "qualified") == "qualified"


# --- forums and promotions (MD26, MD27) -------------------------------------------------------------

PLAN = ('mutation($k: String!, $d: ID) { medicalDevicesEventPlan(kind: $k, title: "骨科新品推介会", '
        'plannedOn: "2026-04-18", plan: "邀请 30 家医院骨科主任，介绍新型矫形器", departmentId: $d) { %s %s } }' % (EVENT, ERR))
APPROVE = 'mutation($id: ID!) { medicalDevicesEventApprove(id: $id, note: "分管领导、总经理已同意") { %s %s } }' % (EVENT, ERR)
HOLD = 'mutation($id: ID!) { medicalDevicesEventHold(id: $id) { %s %s } }' % (EVENT, ERR)
REPORT = 'mutation($id: ID!, $r: String!) { medicalDevicesEventReport(id: $id, report: $r) { %s %s } }' % (EVENT, ERR)
INVITE = 'mutation($id: ID!, $c: ID!) { medicalDevicesEventInvite(id: $id, customerId: $c) { %s %s } }' % (EVENT, ERR)


async def test_md27_an_event_is_planned_approved_held_and_reported_in_that_order(kehu_client, clock):
    """MD27: a forum or promotion needs its plan approved by the marketing division before it is held,
    and the department files a written report afterwards: planned → approved → held → reported;
    any other order is refused and changes nothing; each step audited."""
    planned = await ok(kehu_client, PLAN, "medicalDevicesEventPlan", k="promotion")
    event_id = planned["event"]["id"]
    assert planned["event"]["state"] == "planned"
    for doc, variables in ((HOLD, {}), (REPORT, {"r": "x"})):  # not before approval
        error = await refused(kehu_client, doc, doc.split("{")[1].split("(")[0].strip(), id=event_id, **variables)
        assert error["code"] == "MEDICAL_DEVICES_EVENT_TRANSITION_INVALID"
    approved = await ok(kehu_client, APPROVE, "medicalDevicesEventApprove", id=event_id)
    assert approved["event"]["state"] == "approved" and approved["event"]["approvalNote"] == "分管领导、总经理已同意"
    assert (await refused(kehu_client, APPROVE, "medicalDevicesEventApprove", id=event_id))["code"] == \
        "MEDICAL_DEVICES_EVENT_TRANSITION_INVALID"
    await ok(kehu_client, HOLD, "medicalDevicesEventHold", id=event_id)
    blank = await refused(kehu_client, REPORT, "medicalDevicesEventReport", id=event_id, r="  ")
    assert (blank["code"], blank["field"]) == ("MEDICAL_DEVICES_INPUT_INVALID", "report")
    reported = await ok(kehu_client, REPORT, "medicalDevicesEventReport", id=event_id, r="到会 28 家，意向订单 12 份")
    assert reported["event"]["state"] == "reported" and reported["event"]["report"] == "到会 28 家，意向订单 12 份"
    actions = [e["action"] for e in await audit(kehu_client, "medical_devices_event")]
    assert sorted(actions) == sorted(["medical_devices.event_planned", "medical_devices.event_approved",
                                      "medical_devices.event_held", "medical_devices.event_reported"])


async def test_md27_only_the_marketing_division_approves(kehu_client, kehu_tenant, clock):
    """MD27: approval is the marketing division's (medical_devices.event.approve); a department that
    plans events cannot approve its own plan."""
    planner = await colleague(kehu_client, kehu_tenant, ["medical_devices.event.plan", "medical_devices.customer.read"])
    event_id = (await ok(planner, PLAN, "medicalDevicesEventPlan", k="forum"))["event"]["id"]
    error = await refused(planner, APPROVE, "medicalDevicesEventApprove", id=event_id)
    assert error["code"] == "PERMISSION_DENIED"
    state = await kehu_client.execute("query($id: ID!) { medicalDevicesEvent(id: $id) { state } }", id=event_id)
    assert state["data"]["medicalDevicesEvent"] == {"state": "planned"}


async def test_md14_a_blacklisted_customer_cannot_be_invited(kehu_client, kehu_tenant, clock):
    """MD14 / issue 20: a customer on the company blacklist cannot be invited to any event; one on a
    department's blacklist not to that department's events, but to another's."""
    x, y = await department(kehu_client), await department(kehu_client)
    listed, other, good = await customer(kehu_client), await customer(kehu_client), await customer(kehu_client)
    approver = await colleague(kehu_client, kehu_tenant, ["blacklist.read", "blacklist.approve"])
    await blacklist(kehu_client, approver, listed, "COMPANY")
    await blacklist(kehu_client, approver, other, "DEPARTMENT", x)
    in_x = (await ok(kehu_client, PLAN, "medicalDevicesEventPlan", k="forum", d=x))["event"]["id"]
    in_y = (await ok(kehu_client, PLAN, "medicalDevicesEventPlan", k="forum", d=y))["event"]["id"]
    for event_id, cust in ((in_x, listed), (in_y, listed), (in_x, other)):
        error = await refused(kehu_client, INVITE, "medicalDevicesEventInvite", id=event_id, c=cust)
        assert error["code"] == "CUSTOMER_BLACKLISTED"
    assert (await ok(kehu_client, INVITE, "medicalDevicesEventInvite", id=in_y, c=other))["event"][
        "invitedCustomerIds"] == [other]
    assert (await ok(kehu_client, INVITE, "medicalDevicesEventInvite", id=in_x, c=good))["event"][
        "invitedCustomerIds"] == [good]


# --- after-sale contact (MD29) ----------------------------------------------------------------------

RECORD_SALE = ('mutation($c: ID!, $d: ID!, $r: String!) { medicalDevicesSaleRecord(customerId: $c, departmentId: $d, '
               'reference: $r, soldOn: "2026-03-05") { %s %s } }' % (SALE, ERR))
CONTACT = ('mutation($id: ID!, $s: Int!) { medicalDevicesSaleContact(id: $id, satisfaction: $s, note: "假肢适配良好") '
           '{ %s %s } }' % (SALE, ERR))
UNCONTACTED = "{ medicalDevicesSales(uncontactedOnly: true) { nodes { id reference } } }"


async def _admitted(kehu_client, dep):
    cust = await customer(kehu_client)
    await documents(kehu_client, cust, DOCS["medical_institution"])
    assert (await admit(kehu_client, cust, dep))["data"]["medicalDevicesAdmit"]["errors"] == []
    return cust


async def test_md29_each_sale_is_followed_by_one_contact_with_satisfaction(kehu_client, clock):
    """MD29: a contact after each sale, with the customer's satisfaction (1–5), once; the sales
    still without their contact are listed."""
    dep = await department(kehu_client)
    cust = await _admitted(kehu_client, dep)
    first = (await ok(kehu_client, RECORD_SALE, "medicalDevicesSaleRecord", c=cust, d=dep, r="SO-1"))["sale"]
    second = (await ok(kehu_client, RECORD_SALE, "medicalDevicesSaleRecord", c=cust, d=dep, r="SO-2"))["sale"]
    assert {s["reference"] for s in await nodes(kehu_client, UNCONTACTED, "medicalDevicesSales")} == {"SO-1", "SO-2"}
    for bad in (0, 6):
        error = await refused(kehu_client, CONTACT, "medicalDevicesSaleContact", id=first["id"], s=bad)
        assert (error["code"], error["field"]) == ("MEDICAL_DEVICES_SATISFACTION_INVALID", "satisfaction")
    contacted = (await ok(kehu_client, CONTACT, "medicalDevicesSaleContact", id=first["id"], s=5))["sale"]
    assert contacted["satisfaction"] == 5 and contacted["contactedAt"] and contacted["contactNote"] == "假肢适配良好"
    again = await refused(kehu_client, CONTACT, "medicalDevicesSaleContact", id=first["id"], s=3)
    assert again["code"] == "MEDICAL_DEVICES_SALE_ALREADY_CONTACTED"
    assert [s["id"] for s in await nodes(kehu_client, UNCONTACTED, "medicalDevicesSales")] == [second["id"]]


async def test_md14_md20_a_sale_needs_an_admitted_customer_not_blacklisted(kehu_client, kehu_tenant, clock):
    """MD20: a department sells to customers in its database (admitted there); MD14: not to a
    customer on its blacklist or the company's."""
    x, y = await department(kehu_client), await department(kehu_client)
    cust = await _admitted(kehu_client, x)
    error = await refused(kehu_client, RECORD_SALE, "medicalDevicesSaleRecord", c=cust, d=y, r="SO-9")
    assert error["code"] == "MEDICAL_DEVICES_NOT_ADMITTED"
    await blacklist(kehu_client, await colleague(kehu_client, kehu_tenant, ["blacklist.read", "blacklist.approve"]),
                    cust, "DEPARTMENT", x)
    error = await refused(kehu_client, RECORD_SALE, "medicalDevicesSaleRecord", c=cust, d=x, r="SO-10")
    assert error["code"] == "CUSTOMER_BLACKLISTED"
    assert await nodes(kehu_client, "{ medicalDevicesSales { nodes { id } } }", "medicalDevicesSales") == []


# --- business change notices (MD18) ------------------------------------------------------------------

NOTICE = ('mutation($c: ID!, $k: String!, $ch: String!) { medicalDevicesChangeNoticeRecord(customerId: $c, kind: $k, '
          'channel: $ch, receivedOn: "2026-03-10", description: "法定代表人变更") { notice { id kind channel } %s } }' % ERR)


async def test_md18_a_reported_change_calls_for_requalification_and_a_deregistration_stops_business(
        kehu_client, clock):
    """MD18: a customer reports a business change or its deregistration in writing or online; a
    change after the admission marks the customer for re-qualification; a deregistered customer
    is not admitted and not sold to."""
    x, y = await department(kehu_client), await department(kehu_client)
    cust = await _admitted(kehu_client, x)
    assert (await ok(kehu_client, CUSTOMER, "medicalDevicesCustomer", c=cust))["requalificationDue"] is False
    bad = await refused(kehu_client, NOTICE, "medicalDevicesChangeNoticeRecord", c=cust, k="change", ch="phone")
    assert (bad["code"], bad["field"]) == ("MEDICAL_DEVICES_INPUT_INVALID", "channel")
    clock.advance(minutes=5)
    await ok(kehu_client, NOTICE, "medicalDevicesChangeNoticeRecord", c=cust, k="change", ch="written")
    profile = await ok(kehu_client, CUSTOMER, "medicalDevicesCustomer", c=cust)
    assert profile["requalificationDue"] is True and profile["changeNotices"] == [{"kind": "change", "channel": "written"}]
    await ok(kehu_client, NOTICE, "medicalDevicesChangeNoticeRecord", c=cust, k="deregistration", ch="online")
    errors = (await admit(kehu_client, cust, y))["data"]["medicalDevicesAdmit"]["errors"]
    assert [e["code"] for e in errors] == ["MEDICAL_DEVICES_CUSTOMER_DEREGISTERED"]
    error = await refused(kehu_client, RECORD_SALE, "medicalDevicesSaleRecord", c=cust, d=x, r="SO-11")
    assert error["code"] == "MEDICAL_DEVICES_CUSTOMER_DEREGISTERED"
