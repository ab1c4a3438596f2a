"""The sales floor's KPIs through the public API: R6-30 rates with the bottom rank, card validity per
consultant, same-day SMS compliance (R6-14)."""

from __future__ import annotations

from tests.automotive.conftest import ERR, customer, local
from tests.automotive.test_orders import _order
from tests.medical_devices.api import ok, refused

REGISTER = ("mutation($in: AutomotiveVisitInput!) { automotiveVisitRegister(input: $in) { visit { id } %s } }" % ERR)
RATES = ('query($f: String!) { automotiveSalesRates(from: $f) { since until consultants { consultantId visits orders '
         'closingRate phoneRate testDriveRate bottom } } }')


async def _visit(client, at, **extra):
    return await ok(client, REGISTER, "automotiveVisitRegister",
                    **{"in": {"kind": "visit", "source": "walk_in", "arrivedAt": at, **extra}})


async def test_r6_30_rates_every_two_months_and_the_bottom_ranked_consultant(floor, clock):
    for n in range(4):  # consultant: 4 visits, 2 phones, 2 test drives, 1 order
        await _visit(floor["consultant"], f"2026-11-0{n + 2}T10:00:00+08:00", phoneLeft=n < 2,
                     customerId=await customer(floor["admin"]) if n < 2 else None, testDrive=n % 2 == 0)
    for n in range(4):  # consultant2: 4 visits, nothing else
        await _visit(floor["consultant2"], f"2026-12-0{n + 1}T10:00:00+08:00")
    await _visit(floor["consultant2"], "2027-01-04T10:00:00+08:00", testDrive=True)  # after the period
    await _order(floor, 150_000)
    rates = await ok(floor["manager"], RATES, "automotiveSalesRates", f="2026-11")
    assert (rates["since"], rates["until"]) == ("2026-11-01", "2027-01-01")
    by = {r["consultantId"]: r for r in rates["consultants"]}
    first, second = by[floor["ids"]["consultant"]], by[floor["ids"]["consultant2"]]
    assert (first["visits"], first["orders"], first["closingRate"], first["phoneRate"], first["testDriveRate"]) \
        == (4, 1, 25.0, 50.0, 50.0)
    assert (second["visits"], second["closingRate"], second["testDriveRate"]) == (4, 0.0, 0.0)
    assert second["bottom"] and not first["bottom"]
    assert rates["consultants"][0]["consultantId"] == floor["ids"]["consultant"]  # best first
    body = await floor["consultant"].execute(RATES, f="2026-11")
    assert body["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"


async def test_card_validity_per_consultant_and_same_day_sms_compliance(floor, clock):
    create = ('mutation($c: ID!) { automotiveCardCreate(input: {customerId: $c, source: "walk_in", '
              'firstContact: "2026-11-02"}) { card { id } %s } }' % ERR)
    shared = await customer(floor["admin"])
    first = (await ok(floor["consultant"], create, "automotiveCardCreate", c=shared))["card"]["id"]
    await ok(floor["consultant2"], create, "automotiveCardCreate", c=shared)  # a duplicate
    await ok(floor["leader"], "mutation($id: ID!) { automotiveCardSign(id: $id) { card { id } %s } }" % ERR,
             "automotiveCardSign", id=first)
    validity = await ok(floor["leader"], "{ automotiveCardValidity { consultants { consultantId unsigned active void "
                        "duplicates } } }", "automotiveCardValidity")
    by = {r["consultantId"]: r for r in validity["consultants"]}
    assert (by[floor["ids"]["consultant"]]["active"], by[floor["ids"]["consultant"]]["duplicates"]) == (1, 0)
    assert (by[floor["ids"]["consultant2"]]["unsigned"], by[floor["ids"]["consultant2"]]["duplicates"]) == (1, 1)
    lead = await ok(floor["admin"], 'mutation { customerCreate(input: {kind: "person", surname: "周", givenName: "敏", '
                    'status: "potential", phones: ["13912345678"]}) { customer { id } } }', "customerCreate")
    lead_id = lead["customer"]["id"]
    await ok(floor["admin"], 'mutation($id: ID!) { consentGrant(customerId: $id, purposes: ["marketing_sms"], '
             'noticeVersion: "v1", channel: "web", evidence: "到店登记") { entries { id } errors { code } } }',
             "consentGrant", id=lead_id)
    on_time = await _visit(floor["consultant"], "2026-11-02T10:00:00+08:00", customerId=lead_id, phoneLeft=True)
    late = await _visit(floor["consultant"], "2026-11-02T11:00:00+08:00", customerId=lead_id, phoneLeft=True)
    send = "mutation($v: ID!) { automotiveLeadSmsSend(visitId: $v) { visit { id } %s } }" % ERR
    await ok(floor["consultant"], send, "automotiveLeadSmsSend", v=on_time["visit"]["id"])
    clock.set(local(2026, 11, 3, 9, 0))
    await ok(floor["consultant"], send, "automotiveLeadSmsSend", v=late["visit"]["id"])  # the next day: not compliant
    report = await ok(floor["manager"], '{ automotiveSmsCompliance(from: "2026-11-01", to: "2026-11-30") '
                      '{ consultants { consultantId leads sameDay percent } } }', "automotiveSmsCompliance")
    assert [(r["leads"], r["sameDay"], r["percent"]) for r in report["consultants"]] == [(2, 1, 50.0)]
