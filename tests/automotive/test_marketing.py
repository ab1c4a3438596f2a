"""The market specialist's checks through the public API: source call-backs (R6-17) and gifts (R6-39, R6-64)."""

from __future__ import annotations

from plugins.automotive.roles import POSTS
from tests.automotive.conftest import ERR, customer, user_with
from tests.medical_devices.api import ok, refused

PENALTIES = "query($u: ID) { automotivePenalties(userId: $u, first: 50) { nodes { rule amountCny } } }"


async def test_r6_17_a_source_not_asked_or_not_matching_fines_the_cards_consultant(floor):
    market, _ = await user_with(floor["admin"], floor["tenant"], "market", POSTS["market"])
    create = ('mutation($c: ID!) { automotiveCardCreate(input: {customerId: $c, source: "internet", '
              'firstContact: "2026-11-02"}) { card { id } %s } }' % ERR)
    card = (await ok(floor["consultant"], create, "automotiveCardCreate", c=await customer(floor["admin"])))["card"]
    verify = ("mutation($k: ID!, $a: Boolean!, $s: String) { automotiveSourceVerify(cardId: $k, asked: $a, "
              "statedSource: $s) { check { matches } %s } }" % ERR)
    assert (await ok(market, verify, "automotiveSourceVerify", k=card["id"], a=True, s="internet"))["check"]["matches"]
    assert not (await ok(market, verify, "automotiveSourceVerify", k=card["id"], a=True, s="roadshow"))["check"]["matches"]
    assert not (await ok(market, verify, "automotiveSourceVerify", k=card["id"], a=False))["check"]["matches"]
    fines = (await ok(floor["manager"], PENALTIES, "automotivePenalties", u=floor["ids"]["consultant"]))["nodes"]
    assert [(f["rule"], f["amountCny"]) for f in fines] == [("R6-17", 20), ("R6-17", 20)]
    assert (await refused(floor["consultant2"], verify, "automotiveSourceVerify", k=card["id"], a=False))["code"] \
        == "PERMISSION_DENIED"
    mismatches = await ok(market, "{ automotiveSourceChecks(mismatchesOnly: true, first: 10) { nodes { matches } } }",
                          "automotiveSourceChecks")
    assert [n["matches"] for n in mismatches["nodes"]] == [False, False]


async def test_r6_39_r6_64_a_gift_signed_by_market_and_manager_and_signed_for_or_fined_ten_times(floor):
    market, _ = await user_with(floor["admin"], floor["tenant"], "market", POSTS["market"])
    request = ('mutation($c: ID!, $v: Int!) { automotiveGiftRequest(customerId: $c, description: "行车记录仪", valueCny: $v) '
               '{ gift { id state } %s } }' % ERR)
    sign = "mutation($id: ID!) { automotiveGiftSign(id: $id) { gift { state marketSignedBy managerSignedBy } %s } }" % ERR
    close = ("mutation($id: ID!, $r: Boolean!, $ref: String) { automotiveGiftClose(id: $id, received: $r, receiptRef: $ref) "
             "{ gift { state receiptRef } %s } }" % ERR)
    buyer = await customer(floor["admin"])
    received = (await ok(floor["consultant"], request, "automotiveGiftRequest", c=buyer, v=300))["gift"]["id"]
    assert (await refused(market, close, "automotiveGiftClose", id=received, r=True, ref="QS-001"))["code"] \
        == "AUTOMOTIVE_GIFT_STATE"  # not approved yet
    assert (await ok(market, sign, "automotiveGiftSign", id=received))["gift"]["state"] == "requested"
    assert (await ok(floor["manager"], sign, "automotiveGiftSign", id=received))["gift"]["state"] == "approved"
    done = (await ok(market, close, "automotiveGiftClose", id=received, r=True, ref="礼品签收单-001"))["gift"]
    assert done == {"state": "received", "receiptRef": "礼品签收单-001"}
    lost = (await ok(floor["consultant"], request, "automotiveGiftRequest", c=buyer, v=150))["gift"]["id"]
    await ok(floor["manager"], sign, "automotiveGiftSign", id=lost)
    await ok(market, sign, "automotiveGiftSign", id=lost)
    await ok(market, close, "automotiveGiftClose", id=lost, r=False)
    fines = (await ok(floor["manager"], PENALTIES, "automotivePenalties", u=floor["ids"]["consultant"]))["nodes"]
    assert [(f["rule"], f["amountCny"]) for f in fines] == [("R6-39", 1500)]
    assert (await refused(floor["consultant"], sign, "automotiveGiftSign", id=lost))["code"] == "PERMISSION_DENIED"
