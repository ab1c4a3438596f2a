"""Orders, the delivery queue, money and release through the public API (seed-003 R6-18 to R6-27, R6-34, R6-35,
R6-37, R6-44), on the floor's pinned clock."""

from __future__ import annotations

from plugins.automotive import orders
from tests.automotive.conftest import ERR, customer, local, on_app
from tests.medical_devices.api import ok, refused

VINS = ["1M8GDM9AXKP042788", "1HGCM82633A004352", "LSGPC52U6AF102554", "11111111111111111"]
ORDER = ("id consultantId model vin priceCny paymentType paidCny state effectiveOn fullPaymentAt releasable "
         "releaseBlockedBy deliveredAt deliveryDataMissing performanceCounted performanceReasons "
         "changes { id state }")
DRAFT = ("mutation($c: ID!, $p: Int!, $t: String!, $d: Int, $dep: Int) { automotiveOrderDraft(customerId: $c, "
         "model: \"途胜\", priceCny: $p, paymentType: $t, downPaymentCny: $d, depositCny: $dep) "
         "{ order { id state } %s } }" % ERR)
SIGN = "mutation($id: ID!) { automotiveOrderSign(id: $id) { order { %s } %s } }" % (ORDER, ERR)
REGISTER = "mutation($id: ID!) { automotiveOrderRegister(id: $id) { order { %s } %s } }" % (ORDER, ERR)
PAY = ("mutation($id: ID!, $k: String!, $a: Int!) { automotivePaymentRecord(orderId: $id, kind: $k, amountCny: $a) "
       "{ order { %s } %s } }" % (ORDER, ERR))
RECEIPT = ("mutation($id: ID!) { automotiveDepositReceiptReturned(orderId: $id) { order { %s } %s } }" % (ORDER, ERR))
GMAC = ("mutation($id: ID!, $w: String!) { automotiveGmacRecord(orderId: $id, what: $w) { order { %s } %s } }"
        % (ORDER, ERR))
ASSIGN = ("mutation($id: ID!, $v: String!) { automotiveOrderAssignVehicle(id: $id, vin: $v) { order { %s } %s } }"
          % (ORDER, ERR))
RELEASE = "mutation($id: ID!) { automotiveCarRelease(id: $id) { order { %s } %s } }" % (ORDER, ERR)
QUEUE = "{ automotiveDeliveryQueue { orders { id priceCny fullPaymentAt } } }"
GET = "query($id: ID!) { automotiveOrder(id: $id) { %s } }" % ORDER
DATA = ("mutation($id: ID!, $i: [String!]!) { automotiveDeliveryDataReceive(id: $id, items: $i) { order { %s } %s } }"
        % (ORDER, ERR))
PENALTIES = "query($u: ID) { automotivePenalties(userId: $u, first: 50) { nodes { rule amountCny } } }"
ALL_DATA = ["id_copy", "invoice_copy", "delivery_form", "purchase_agreement", "insurance_policy",
            "warranty_registration", "deposit_receipt"]


async def _vehicles(floor, count=4):
    await ok(floor["manager"], "mutation($u: ID!) { automotiveStockOfficerDesignate(userId: $u) { errors { code } } }",
             "automotiveStockOfficerDesignate", u=floor["ids"]["officer"])
    for vin in VINS[:count]:
        await ok(floor["officer"], 'mutation($v: String!) { automotiveVehicleRegister(vin: $v, model: "途胜", '
                 'kind: "stock", location: "4s", arrivedOn: "2026-10-20") { vehicle { vin } %s } }' % ERR,
                 "automotiveVehicleRegister", v=vin)


async def _order(floor, price, payment_type="full", down=0, deposit=0, *, effective=True, customer_id=None):
    customer_id = customer_id or await customer(floor["admin"])
    made = await ok(floor["consultant"], DRAFT, "automotiveOrderDraft", c=customer_id, p=price, t=payment_type, d=down,
                    dep=deposit)
    order_id = made["order"]["id"]
    if effective:
        await ok(floor["leader"], SIGN, "automotiveOrderSign", id=order_id)
        await ok(floor["assistant"], REGISTER, "automotiveOrderRegister", id=order_id)
    return order_id


async def _queue(floor):
    return [o["id"] for o in (await ok(floor["assistant"], QUEUE, "automotiveDeliveryQueue"))["orders"]]


async def test_acceptance_3_three_orders_leave_the_queue_in_rule_order_and_none_before_its_money(floor, clock):
    """R6-19, R6-20, R6-21, R6-27: GMAC at 180,000 with its down payment, full payment at 200,000, and full payment
    earlier at 150,000: the higher full payment goes first, then the GMAC order (its down payment counts as full
    payment), then the lower one; no car leaves before its money, or GMAC's report and loan."""
    await _vehicles(floor)
    gmac = await _order(floor, 180_000, "gmac", down=60_000)
    clock.set(local(2026, 11, 2, 9, 1))
    high = await _order(floor, 200_000)
    clock.set(local(2026, 11, 2, 9, 2))
    low = await _order(floor, 150_000, deposit=20_000)
    clock.set(local(2026, 11, 2, 9, 3))
    unpaid = await _order(floor, 120_000)
    assert await _queue(floor) == [gmac, high, low, unpaid]  # nothing paid: by order time
    # 09:30 the lower order pays; its deposit counts only once its receipt is back (R6-27)
    clock.set(local(2026, 11, 2, 9, 30))
    await ok(floor["cashier"], PAY, "automotivePaymentRecord", id=low, k="deposit", a=20_000)
    paid = await ok(floor["cashier"], PAY, "automotivePaymentRecord", id=low, k="payment", a=130_000)
    assert paid["order"]["paidCny"] == 130_000 and paid["order"]["fullPaymentAt"] is None
    clock.set(local(2026, 11, 2, 10, 0))
    back = await ok(floor["cashier"], RECEIPT, "automotiveDepositReceiptReturned", id=low)
    assert back["order"]["paidCny"] == 150_000 and back["order"]["fullPaymentAt"]
    clock.set(local(2026, 11, 2, 11, 0))
    await ok(floor["cashier"], PAY, "automotivePaymentRecord", id=gmac, k="down_payment", a=60_000)
    clock.set(local(2026, 11, 2, 11, 30))
    await ok(floor["cashier"], PAY, "automotivePaymentRecord", id=high, k="payment", a=100_000)
    assert await _queue(floor) == [gmac, low, high, unpaid]  # the higher one is not paid in full yet
    clock.set(local(2026, 11, 2, 12, 0))
    await ok(floor["cashier"], PAY, "automotivePaymentRecord", id=high, k="payment", a=100_000)
    assert await _queue(floor) == [high, gmac, low, unpaid]
    # a car of the model goes to the orders ahead first
    ahead = await refused(floor["assistant"], ASSIGN, "automotiveOrderAssignVehicle", id=low, v=VINS[2])
    assert ahead["code"] == "AUTOMOTIVE_QUEUE_ORDER"
    for order_id, vin in zip((high, gmac, low, unpaid), VINS):
        await ok(floor["assistant"], ASSIGN, "automotiveOrderAssignVehicle", id=order_id, v=vin)
    board = await ok(floor["consultant"], "{ automotiveInventoryBoard(first: 10) { nodes { vin reservedMark } } }",
                     "automotiveInventoryBoard")
    assert {n["vin"]: n["reservedMark"] for n in board["nodes"]} == {vin: "该车已订" for vin in VINS}  # R6-23
    # no money, no car (R6-20); GMAC: its payment report and then the loan (R6-20, R6-21)
    assert (await refused(floor["officer"], RELEASE, "automotiveCarRelease", id=unpaid))["code"] \
        == "AUTOMOTIVE_PAYMENT_NOT_ARRIVED"
    assert (await refused(floor["officer"], RELEASE, "automotiveCarRelease", id=gmac))["code"] \
        == "AUTOMOTIVE_GMAC_REPORT_MISSING"
    await ok(floor["cashier"], GMAC, "automotiveGmacRecord", id=gmac, w="report")
    assert (await refused(floor["officer"], RELEASE, "automotiveCarRelease", id=gmac))["code"] \
        == "AUTOMOTIVE_LOAN_NOT_DISBURSED"
    released = []
    for order_id in (high, low):
        released.append((await ok(floor["officer"], RELEASE, "automotiveCarRelease", id=order_id))["order"]["state"])
    await ok(floor["cashier"], GMAC, "automotiveGmacRecord", id=gmac, w="disbursed")
    released.append((await ok(floor["officer"], RELEASE, "automotiveCarRelease", id=gmac))["order"]["state"])
    assert released == ["delivered"] * 3
    assert await _queue(floor) == [unpaid]
    assert (await refused(floor["officer"], RELEASE, "automotiveCarRelease", id=unpaid))["code"] \
        == "AUTOMOTIVE_PAYMENT_NOT_ARRIVED"
    # the cashier cannot release, the officer cannot record money
    assert (await refused(floor["cashier"], RELEASE, "automotiveCarRelease", id=unpaid))["code"] == "PERMISSION_DENIED"
    assert (await refused(floor["officer"], PAY, "automotivePaymentRecord", id=unpaid, k="payment", a=1))["code"] \
        == "PERMISSION_DENIED"


async def test_r6_18_an_order_counts_only_signed_and_registered_and_consultants_never_read_orders(floor):
    """R6-18, R6-34, R6-35."""
    order_id = await _order(floor, 150_000, effective=False)
    assert (await refused(floor["assistant"], REGISTER, "automotiveOrderRegister", id=order_id))["code"] \
        == "AUTOMOTIVE_ORDER_STATE"  # not signed yet
    assert (await refused(floor["consultant"], SIGN, "automotiveOrderSign", id=order_id))["code"] == "PERMISSION_DENIED"
    signed = (await ok(floor["leader"], SIGN, "automotiveOrderSign", id=order_id))["order"]
    assert signed["state"] == "signed" and signed["effectiveOn"] is None
    assert (await refused(floor["cashier"], PAY, "automotivePaymentRecord", id=order_id, k="payment", a=1))["code"] \
        == "AUTOMOTIVE_ORDER_STATE"
    effective = (await ok(floor["assistant"], REGISTER, "automotiveOrderRegister", id=order_id))["order"]
    assert effective["state"] == "effective" and effective["effectiveOn"] == "2026-11-02"
    # consultants may not look up orders or sold prices, even their own (R6-34, R6-35)
    for query in (GET, "{ automotiveOrders(first: 5) { nodes { id priceCny } } }", QUEUE):
        body = await floor["consultant"].execute(query, id=order_id)
        assert body["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    for seat in ("leader", "manager", "assistant"):
        assert (await floor[seat].execute(GET, id=order_id))["data"]["automotiveOrder"]["priceCny"] == 150_000


async def test_r6_18_r6_37_changes_apply_only_when_signed_and_move_the_effective_date(floor, clock):
    order_id = await _order(floor, 150_000)
    request = ("mutation($id: ID!, $c: JSON!) { automotiveOrderChangeRequest(id: $id, changes: $c, reason: \"客户改选高配\") "
               "{ changeId %s } }" % ERR)
    decide = ("mutation($id: ID!, $a: Boolean!) { automotiveOrderChangeDecide(id: $id, approve: $a) { order { %s } %s } }"
              % (ORDER, ERR))
    clock.set(local(2026, 11, 5, 10, 0))
    change = (await ok(floor["consultant"], request, "automotiveOrderChangeRequest", id=order_id,
                       c={"price_cny": 165_000}))["changeId"]
    assert (await ok(floor["leader"], GET, "automotiveOrder", id=order_id))["priceCny"] == 150_000  # not yet
    assert (await refused(floor["consultant"], decide, "automotiveOrderChangeDecide", id=change, a=True))["code"] \
        == "PERMISSION_DENIED"  # no private change
    applied = (await ok(floor["leader"], decide, "automotiveOrderChangeDecide", id=change, a=True))["order"]
    assert applied["priceCny"] == 165_000 and applied["effectiveOn"] == "2026-11-05"
    # moving the sale to another consultant is a change like any other, signed by someone else (R6-37)
    swap = (await ok(floor["consultant"], request, "automotiveOrderChangeRequest", id=order_id,
                     c={"consultant_id": floor["ids"]["consultant2"]}))["changeId"]
    rejected = (await ok(floor["manager"], decide, "automotiveOrderChangeDecide", id=swap, a=False))["order"]
    assert rejected["consultantId"] == floor["ids"]["consultant"]
    assert (await refused(floor["manager"], decide, "automotiveOrderChangeDecide", id=swap, a=True))["code"] \
        == "AUTOMOTIVE_ORDER_STATE"
    bad = await refused(floor["consultant"], request, "automotiveOrderChangeRequest", id=order_id, c={"state": "x"})
    assert bad["field"] == "changes"


async def test_r6_26_delivery_data_within_20_minutes_and_complete_or_the_sale_does_not_count(floor, clock):
    await _vehicles(floor, 2)
    late = await _order(floor, 150_000)
    missing = await _order(floor, 160_000)
    for order_id, vin, price in ((missing, VINS[0], 160_000), (late, VINS[1], 150_000)):
        await ok(floor["cashier"], PAY, "automotivePaymentRecord", id=order_id, k="payment", a=price)
    for order_id, vin in ((missing, VINS[0]), (late, VINS[1])):
        await ok(floor["assistant"], ASSIGN, "automotiveOrderAssignVehicle", id=order_id, v=vin)
        delivered = (await ok(floor["officer"], RELEASE, "automotiveCarRelease", id=order_id))["order"]
        assert not delivered["performanceCounted"] and "delivery data not received" in delivered["performanceReasons"]
    clock.set(local(2026, 11, 2, 9, 15))
    incomplete = (await ok(floor["assistant"], DATA, "automotiveDeliveryDataReceive", id=missing,
                           i=ALL_DATA[:5]))["order"]
    assert incomplete["deliveryDataMissing"] == ["warranty_registration"] and not incomplete["performanceCounted"]
    clock.set(local(2026, 11, 2, 9, 25))
    assert await on_app(floor, orders.check_delivery_data) == 1  # the other one is 25 minutes late: fined once
    assert await on_app(floor, orders.check_delivery_data) == 0
    done = (await ok(floor["assistant"], DATA, "automotiveDeliveryDataReceive", id=late, i=ALL_DATA))["order"]
    assert done["performanceCounted"] and done["deliveryDataMissing"] == []
    fines = (await ok(floor["manager"], PENALTIES, "automotivePenalties", u=floor["ids"]["consultant"]))["nodes"]
    assert [(f["rule"], f["amountCny"]) for f in fines] == [("R6-26", 50)]
    # R6-25: the manager cancels a sale's performance after a complaint
    cancel = ("mutation($id: ID!) { automotivePerformanceCancel(id: $id, reason: \"客户投诉销售承诺未兑现 TS-2026-01\") "
              "{ order { performanceCounted performanceReasons } %s } }" % ERR)
    cancelled = (await ok(floor["manager"], cancel, "automotivePerformanceCancel", id=late))["order"]
    assert not cancelled["performanceCounted"]
    assert (await refused(floor["leader"], cancel, "automotivePerformanceCancel", id=missing))["code"] \
        == "PERMISSION_DENIED"


async def test_r6_44_a_referring_owner_is_due_fuel_money_when_the_referred_customer_takes_the_car(floor):
    await _vehicles(floor, 1)
    referrer = await customer(floor["admin"], "钱", "老车主")
    buyer = await customer(floor["admin"], "孙", "新客")
    await ok(floor["consultant"], "mutation($c: ID!, $r: ID!) { automotiveCardCreate(input: {customerId: $c, "
             "source: \"owner_referral\", firstContact: \"2026-11-02\", referrerCustomerId: $r}) { card { id } %s } }"
             % ERR, "automotiveCardCreate", c=buyer, r=referrer)
    order_id = await _order(floor, 150_000, customer_id=buyer)
    await ok(floor["cashier"], PAY, "automotivePaymentRecord", id=order_id, k="payment", a=150_000)
    await ok(floor["assistant"], ASSIGN, "automotiveOrderAssignVehicle", id=order_id, v=VINS[0])
    rewards = "{ automotiveReferralRewards(unpaidOnly: true, first: 10) { nodes { id referrerCustomerId amountCny } } }"
    assert (await ok(floor["cashier"], rewards, "automotiveReferralRewards"))["nodes"] == []
    await ok(floor["officer"], RELEASE, "automotiveCarRelease", id=order_id)
    due = (await ok(floor["cashier"], rewards, "automotiveReferralRewards"))["nodes"]
    assert [(r["referrerCustomerId"], r["amountCny"]) for r in due] == [(referrer, 200)]
    await ok(floor["cashier"], "mutation($id: ID!) { automotiveReferralRewardPay(id: $id) { reward { paidAt } %s } }"
             % ERR, "automotiveReferralRewardPay", id=due[0]["id"])
    assert (await ok(floor["cashier"], rewards, "automotiveReferralRewards"))["nodes"] == []
