"""Settlement, ordering and special changes of a tobacco retailer (S21 Art7.5, Art9–Art14): the name match of
electronic settlement, the agreement period of mobile and 烟信通 ordering, and the two sign-offs every special
change needs — never from its applicant."""

from __future__ import annotations

import pytest

from tests.medical_devices.api import colleague, ok, refused
from tests.plugins.tobacco.conftest import ERR, extensions, retailer

ENROL = ("mutation($c: ID!, $n: String!, $poa: Boolean!, $b: TobaccoSettlementBank!) { tobaccoSettlementEnrol("
         "customerId: $c, method: DEBIT_CARD, bank: $b, cardNumber: \"622200001234567890\", settlementName: $n, "
         "sealedPowerOfAttorney: $poa) { customerId version %s } }" % ERR)
ORDERING = ("mutation($c: ID!, $m: TobaccoOrderingMethod!, $u: Date) { tobaccoOrderingMethodSet(customerId: $c, "
            "method: $m, agreementUntil: $u) { version %s } }" % ERR)
REQUEST = ("mutation($c: ID!, $k: TobaccoChangeKind!, $ref: String!, $v: JSON) { tobaccoChangeRequest(customerId: $c, "
           "kind: $k, applicationRef: $ref, reason: \"客户书面申请\", values: $v) { change { id state kind "
           "filingRequired } %s } }" % ERR)
SIGN = ("mutation($id: ID!, $r: TobaccoSignOffRole!, $a: Boolean!) { tobaccoChangeSign(id: $id, role: $r, approve: $a) "
        "{ change { id state firstRole secondRole executeDueAt } %s } }" % ERR)
EXECUTE = "mutation($id: ID!) { tobaccoChangeExecute(id: $id) { change { id state executedBy } %s } }" % ERR
FILE = "mutation($id: ID!) { tobaccoChangeFile(id: $id) { change { id state filedBy } %s } }" % ERR
CHANGES = ("query($k: TobaccoChangeKind) { tobaccoChanges(kind: $k, first: 100) { nodes { id kind state "
           "applicationRef } } }")


async def test_s21_art7_5_electronic_settlement_needs_the_licence_name_or_a_sealed_power_of_attorney(company):
    analyst = company["analyst"]
    customer = await retailer(analyst, legal_person="李四")
    before = await extensions(analyst, customer)
    error = await refused(analyst, ENROL, "tobaccoSettlementEnrol", c=customer, n="王五", poa=False, b="ICBC")
    assert error["code"] == "TOBACCO_SETTLEMENT_NAME_MISMATCH" and error["field"] == "settlementName"
    assert await extensions(analyst, customer) == before  # refused: nothing written
    # the same name, spaced and in full-width forms, matches
    await ok(analyst, ENROL, "tobaccoSettlementEnrol", c=customer, n=" 李　四 ", poa=False, b="ICBC")
    # a petrol station's settlement name cannot match: a power of attorney with the official seal carries it
    station = await retailer(analyst, legal_person="张三")
    done = await ok(analyst, ENROL, "tobaccoSettlementEnrol", c=station, n="中石化加油站", poa=True, b="ABC")
    stored = (await extensions(analyst, station))["extensions"]["tobacco"]
    assert done["version"] > 1 and stored["settlement_method"] == "debit_card" and stored["settlement_bank"] == "abc"
    assert stored["card_number"] != "622200001234567890"  # sensitive: masked on every read path
    # a card at another bank is a special change with two sign-offs (Art10)
    other = await refused(analyst, ENROL, "tobaccoSettlementEnrol", c=station, n="中石化加油站", poa=True, b="ICBC")
    assert other["code"] == "TOBACCO_CHANGE_NEEDS_APPROVAL"


async def test_s21_art11_mobile_ordering_is_locked_for_its_agreement_period(company):
    analyst, manager = company["analyst"], company["manager"]
    customer = await retailer(analyst)
    await ok(analyst, ORDERING, "tobaccoOrderingMethodSet", c=customer, m="MOBILE", u="2027-09-30")
    locked = await refused(analyst, ORDERING, "tobaccoOrderingMethodSet", c=customer, m="ONLINE", u=None)
    assert locked["code"] == "TOBACCO_ORDERING_AGREEMENT_PERIOD"
    request = await refused(manager, REQUEST, "tobaccoChangeRequest", c=customer, k="ORDERING_METHOD", ref="SQ-1",
                            v={"ordering_method": "phone"})
    assert request["code"] == "TOBACCO_ORDERING_AGREEMENT_PERIOD"
    missing = await refused(analyst, ORDERING, "tobaccoOrderingMethodSet", c=await retailer(analyst), m="YIXINTONG",
                            u=None)
    assert missing["field"] == "agreementUntil"


async def test_s21_art10_a_special_change_without_a_written_application_is_refused(company):
    customer = await retailer(company["analyst"])
    error = await refused(company["manager"], REQUEST, "tobaccoChangeRequest", c=customer, k="URGENT_ROUTE", ref="  ",
                          v={"delivery_route": "R9"})
    assert error["code"] == "TOBACCO_WRITTEN_APPLICATION_REQUIRED"


# Each kind, its values, and the two roles that must sign it (S21 Art9–Art14).
KINDS = [
    ("SETTLEMENT_TO_CASH", {}, ("SECTION_CHIEF", "DEPUTY_MANAGER"), "Art9"),
    ("SETTLEMENT_BANK", {"bank": "abc", "card_number": "622800001111222233", "settlement_name": "李四"},
     ("SECTION_CHIEF", "DEPUTY_MANAGER"), "Art10"),
    ("ORDERING_METHOD", {"ordering_method": "phone"}, ("SECTION_CHIEF", "DEPUTY_MANAGER"), "Art11"),
    ("LONG_TERM_PHONE", {"order_phone": "13700000002"}, ("ACCOUNT_MANAGER", "SECTION_CHIEF"), "Art12"),
    ("DUPLICATE_PHONE", {"order_phone": "13700000003"}, ("SECTION_CHIEF", "DEPUTY_MANAGER"), "Art12"),
    ("GRADE", {"grade": "T5"}, ("SECTION_CHIEF", "DEPUTY_MANAGER"), "Art14"),
    ("URGENT_ROUTE", {"delivery_route": "R7", "delivery_sequence": 4}, ("DEPUTY_SECTION_CHIEF", "SECTION_CHIEF"),
     "Art13"),
]
POST_OF = {"SECTION_CHIEF": "chief", "DEPUTY_MANAGER": "deputy_manager", "DEPUTY_SECTION_CHIEF": "deputy_chief",
           "ACCOUNT_MANAGER": "manager"}


async def _electronic_online_retailer(company) -> str:
    analyst = company["analyst"]
    customer = await retailer(analyst, legal_person="李四", phone="13600000001")
    await ok(analyst, ENROL, "tobaccoSettlementEnrol", c=customer, n="李四", poa=False, b="ICBC")
    await ok(analyst, ORDERING, "tobaccoOrderingMethodSet", c=customer, m="ONLINE", u=None)
    return customer


@pytest.mark.parametrize(("kind", "values", "roles", "rule"), KINDS, ids=[k[0] for k in KINDS])
async def test_s21_art9_to_14_special_changes_need_both_sign_offs_never_the_applicants(company, kind, values, roles,
                                                                                      rule):
    """Refused: executed unsigned or with one sign-off, signed by its applicant, twice by one person, or by a role
    the kind does not name; executed after both sign-offs."""
    customer = await _electronic_online_retailer(company)
    applicant = company["chief"]  # the section chief applies: the chief's own sign-off is then refused
    change = (await ok(applicant, REQUEST, "tobaccoChangeRequest", c=customer, k=kind, ref=f"SQ-{kind}",
                       v=values))["change"]
    first, second = roles
    analyst = company["analyst"]
    assert (await refused(analyst, EXECUTE, "tobaccoChangeExecute", id=change["id"]))["code"] in (
        "TOBACCO_CHANGE_NOT_APPROVED", "PERMISSION_DENIED")
    own = await refused(applicant, SIGN, "tobaccoChangeSign", id=change["id"], r="SECTION_CHIEF", a=True)
    assert own["code"] == ("TOBACCO_APPLICANT_CANNOT_APPROVE" if "SECTION_CHIEF" in roles
                           else "TOBACCO_SIGN_OFF_ROLE_INVALID")
    wrong = next(r for r in POST_OF if r not in roles)
    assert (await refused(company[POST_OF[wrong]], SIGN, "tobaccoChangeSign", id=change["id"], r=wrong, a=True)
            )["code"] == "TOBACCO_SIGN_OFF_ROLE_INVALID"
    # a second section chief (not the applicant) signs where the chief is needed
    signers = {role: company[POST_OF[role]] for role in roles}
    if "SECTION_CHIEF" in roles:
        signers["SECTION_CHIEF"] = await colleague(company["admin"], company["tenant"],
                                                   ["tobacco.sign.section_chief", "tobacco.sign.deputy_manager",
                                                    "tobacco.grade.change"])
    await ok(signers[first], SIGN, "tobaccoChangeSign", id=change["id"], r=first, a=True)
    if second == "DEPUTY_MANAGER" and first == "SECTION_CHIEF":  # one person holding both roles signs once
        twice = await refused(signers[first], SIGN, "tobaccoChangeSign", id=change["id"], r=second, a=True)
        assert twice["code"] == "TOBACCO_SIGNER_ALREADY_SIGNED"
    executor = signers["SECTION_CHIEF"] if kind == "GRADE" else analyst
    half = await refused(executor, EXECUTE, "tobaccoChangeExecute", id=change["id"])
    assert half["code"] == "TOBACCO_CHANGE_NOT_APPROVED"
    signed = (await ok(signers[second], SIGN, "tobaccoChangeSign", id=change["id"], r=second, a=True))["change"]
    assert signed["state"] == "approved" and signed["executeDueAt"]
    done = (await ok(executor, EXECUTE, "tobaccoChangeExecute", id=change["id"]))["change"]
    assert done["state"] == "executed"
    stored = (await extensions(analyst, customer))["extensions"]["tobacco"]
    expected = {"SETTLEMENT_TO_CASH": ("settlement_method", "cash"), "SETTLEMENT_BANK": ("settlement_bank", "abc"),
                "ORDERING_METHOD": ("ordering_method", "phone"), "URGENT_ROUTE": ("delivery_route", "R7")}
    if kind in expected:
        name, value = expected[kind]
        assert stored[name] == value
    if kind == "GRADE":
        body = await company["admin"].execute('query($c: ID!) { customerGrades(customerId: $c, first: 10) { nodes { '
                                              'grade scheme } } }', c=customer)
        assert {"grade": "T5", "scheme": "tier"} in body["data"]["customerGrades"]["nodes"], body


async def test_s21_art12_art14_executed_changes_are_filed_and_listed_in_the_registers(company):
    customer = await _electronic_online_retailer(company)
    await retailer(company["analyst"], phone="13500000009")  # another customer orders from this number
    # the duplicate check refuses another customer's number outright ...
    dup = await refused(company["manager"], REQUEST, "tobaccoChangeRequest", c=customer, k="LONG_TERM_PHONE", ref="DH-1",
                        v={"order_phone": "13500000009"})
    assert dup["code"] == "TOBACCO_PHONE_DUPLICATE"
    # ... a shared number goes through the duplicate-phone change, signed, executed and filed
    change = (await ok(company["manager"], REQUEST, "tobaccoChangeRequest", c=customer, k="DUPLICATE_PHONE",
                       ref="DH-2", v={"order_phone": "13500000009"}))["change"]
    assert change["filingRequired"] is True
    early = await refused(company["internal"], FILE, "tobaccoChangeFile", id=change["id"])
    assert early["code"] == "TOBACCO_CHANGE_STATE"
    await ok(company["chief"], SIGN, "tobaccoChangeSign", id=change["id"], r="SECTION_CHIEF", a=True)
    await ok(company["deputy_manager"], SIGN, "tobaccoChangeSign", id=change["id"], r="DEPUTY_MANAGER", a=True)
    await ok(company["analyst"], EXECUTE, "tobaccoChangeExecute", id=change["id"])
    filed = (await ok(company["internal"], FILE, "tobaccoChangeFile", id=change["id"]))["change"]
    assert filed["state"] == "filed"
    register = (await ok(company["internal"], CHANGES, "tobaccoChanges", k="DUPLICATE_PHONE"))["nodes"]
    assert [(c["id"], c["state"], c["applicationRef"]) for c in register] == [(change["id"], "filed", "DH-2")]


async def test_s21_art9_either_signer_may_reject(company):
    customer = await _electronic_online_retailer(company)
    change = (await ok(company["manager"], REQUEST, "tobaccoChangeRequest", c=customer, k="SETTLEMENT_TO_CASH",
                       ref="JS-1", v={}))["change"]
    rejected = (await ok(company["deputy_manager"], SIGN, "tobaccoChangeSign", id=change["id"], r="DEPUTY_MANAGER",
                         a=False))["change"]
    assert rejected["state"] == "rejected"
    late = await refused(company["chief"], SIGN, "tobaccoChangeSign", id=change["id"], r="SECTION_CHIEF", a=True)
    assert late["code"] == "TOBACCO_CHANGE_STATE"
    assert (await extensions(company["analyst"], customer))["extensions"]["tobacco"]["settlement_method"] == "debit_card"
