"""GraphQL of orders, the delivery queue, money and release (``automotiveOrder…``, ``automotivePayment…``,
``automotiveCarRelease``, ``automotiveDeliveryQueue``). Resolvers only call ``orders``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from core.plugins import (Connection, GraphQLTypes, KehuError, UserError, connection, context, page_request, parse_id,
                          run_mutation)
from plugins.automotive import orders
from plugins.automotive.common import time_key


def _id(value: Any) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.type(name="AutomotivePayment", description="Money the cashier recorded for an order.")
class PaymentNode:
    kind: str = strawberry.field(description="deposit | payment | down_payment")
    amount_cny: int
    at: datetime


@strawberry.type(name="AutomotiveOrderChange", description="A change of an order's terms, applied only when signed "
                                                           "(R6-18).")
class ChangeNode:
    id: strawberry.ID
    order_id: strawberry.ID
    changes: JSON
    reason: str
    state: str = strawberry.field(description="requested | signed | rejected")
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None


def change_node(row: dict[str, Any]) -> ChangeNode:
    import json

    return ChangeNode(id=strawberry.ID(str(row["id"])), order_id=strawberry.ID(str(row["order_id"])),
                      changes=json.loads(row["changes"]), reason=row["reason"], state=row["state"],
                      requested_by=row["requested_by"], requested_at=row["requested_at"],
                      decided_by=row["decided_by"], decided_at=row["decided_at"])


@strawberry.type(name="AutomotiveOrder", description="An order, readable by team leaders, managers and assistants "
                                                     "only (R6-34); its price is the sold price (R6-35).")
class OrderNode:
    id: strawberry.ID
    customer_id: strawberry.ID
    consultant_id: strawberry.ID
    model: str
    vin: str | None
    price_cny: int
    payment_type: str = strawberry.field(description="full | gmac")
    down_payment_cny: int
    deposit_cny: int
    deposit_receipt_returned: bool
    paid_cny: int = strawberry.field(description="What counts toward the price: a deposit only with its receipt back "
                                                 "(R6-27).")
    ordered_at: datetime
    state: str = strawberry.field(description="draft | signed | effective | delivered")
    signed_by: str | None
    registered_by: str | None
    effective_on: date | None = strawberry.field(description="The registration's day, or the last signed change's "
                                                             "(R6-18).")
    full_payment_at: datetime | None = strawberry.field(description="When it was paid in full (GMAC: the down "
                                                                    "payment), the queue's key (R6-19).")
    gmac_report_at: datetime | None
    loan_disbursed_at: datetime | None
    releasable: bool
    release_blocked_by: str | None = strawberry.field(description="The error code a release would get now.")
    delivered_at: datetime | None
    delivery_data_at: datetime | None
    delivery_data_missing: list[str]
    performance_counted: bool = strawberry.field(description="Counts as the consultant's performance (R6-20, R6-25, "
                                                             "R6-26).")
    performance_reasons: list[str]
    payments: list[PaymentNode]
    changes: list[ChangeNode]
    version: int


def order_node(view: dict[str, Any]) -> OrderNode:
    return OrderNode(
        id=strawberry.ID(str(view["id"])), customer_id=strawberry.ID(str(view["customer_id"])),
        consultant_id=strawberry.ID(str(view["consultant_id"])), model=view["model"], vin=view["vin"],
        price_cny=view["price_cny"], payment_type=view["payment_type"], down_payment_cny=view["down_payment_cny"],
        deposit_cny=view["deposit_cny"], deposit_receipt_returned=view["deposit_receipt_returned"],
        paid_cny=view["paid_cny"], ordered_at=view["ordered_at"], state=view["state"], signed_by=view["signed_by"],
        registered_by=view["registered_by"],
        effective_on=date.fromisoformat(view["effective_on"]) if view["effective_on"] else None,
        full_payment_at=view["full_payment_at"], gmac_report_at=view["gmac_report_at"],
        loan_disbursed_at=view["loan_disbursed_at"], releasable=view["releasable"],
        release_blocked_by=view["release_blocked_by"], delivered_at=view["delivered_at"],
        delivery_data_at=view["delivery_data_at"],
        delivery_data_missing=[m for m in view["delivery_data_missing"].split(",") if m],
        performance_counted=view["performance_counted"], performance_reasons=list(view["performance_reasons"]),
        payments=[PaymentNode(kind=p["kind"], amount_cny=p["amount_cny"], at=p["at"]) for p in view["payments"]],
        changes=[change_node(c) for c in view["changes"]], version=view["version"])


@strawberry.type(name="AutomotiveOrderDraft", description="A drafted order as its consultant sees it: consultants do "
                                                          "not read the order table (R6-34).")
class DraftNode:
    id: strawberry.ID
    state: str
    ordered_at: datetime


@strawberry.type(name="AutomotiveDeliveryQueue", description="Effective orders waiting for their car, in the order of "
                                                             "R6-19: paid in full first (GMAC: the down payment), by "
                                                             "price high to low, then by when paid; then the others "
                                                             "by order time.")
class QueueNode:
    model: str | None
    orders: list[OrderNode]


@strawberry.type(name="AutomotiveReferralReward", description="Fuel money due to an owner whose referral bought (R6-44).")
class RewardNode:
    id: strawberry.ID
    order_id: strawberry.ID
    referrer_customer_id: strawberry.ID
    amount_cny: int
    due_at: datetime
    paid_at: datetime | None


def reward_node(row: dict[str, Any]) -> RewardNode:
    return RewardNode(id=strawberry.ID(str(row["id"])), order_id=strawberry.ID(str(row["order_id"])),
                      referrer_customer_id=strawberry.ID(str(row["referrer_customer_id"])),
                      amount_cny=row["amount_cny"], due_at=row["due_at"], paid_at=row["paid_at"])


@strawberry.type(name="AutomotiveOrderPayload")
class OrderPayload:
    order: OrderNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(name="AutomotiveOrderDraftPayload")
class DraftPayload:
    order: DraftNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(name="AutomotiveOrderChangeRequestPayload")
class ChangeRequestPayload:
    change_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(name="AutomotiveReferralRewardPayload")
class RewardPayload:
    reward: RewardNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OrderQuery:
    @strawberry.field(description="An order (team leaders, managers and assistants only, R6-34).")
    async def automotive_order(self, info: strawberry.Info, id: strawberry.ID) -> OrderNode:
        return order_node(await orders.get_order(context(info), parse_id(id, "id")))

    @strawberry.field(description="The order table, newest first (R6-34).")
    async def automotive_orders(self, info: strawberry.Info, state: str | None = None,
                                consultant_id: strawberry.ID | None = None, customer_id: strawberry.ID | None = None,
                                first: int | None = None, after: str | None = None, last: int | None = None,
                                before: str | None = None) -> Connection[OrderNode]:
        request = page_request(info, "automotive.orders", first, after, last, before)
        rows, more = await orders.orders(
            context(info), request.window(time_key), state=state,
            consultant_id=parse_id(consultant_id, "consultantId") if consultant_id else None,
            customer_id=parse_id(customer_id, "customerId") if customer_id else None)
        return connection(request, rows, more, lambda r: (r["ordered_at"], r["id"]), order_node)

    @strawberry.field(description="The delivery queue (R6-19), of one model or all; at most 2,000 orders.")
    async def automotive_delivery_queue(self, info: strawberry.Info, model: str | None = None) -> QueueNode:
        return QueueNode(model=model, orders=[order_node(v) for v in await orders.delivery_queue(context(info),
                                                                                                  model=model)])

    @strawberry.field(description="Referral rewards (R6-44), newest first.")
    async def automotive_referral_rewards(self, info: strawberry.Info, unpaid_only: bool = False,
                                          first: int | None = None, after: str | None = None, last: int | None = None,
                                          before: str | None = None) -> Connection[RewardNode]:
        request = page_request(info, "automotive.referral_rewards", first, after, last, before)
        rows, more = await orders.referral_rewards(context(info), request.window(time_key), unpaid_only=unpaid_only)
        return connection(request, rows, more, lambda r: (r["due_at"], r["id"]), reward_node)


async def _run(info: strawberry.Info, work: Any) -> OrderPayload:
    """Run an order use case (``work(ctx)``, ids parsed inside so a bad id is the payload's error)."""
    async def run() -> dict:
        return {"order": order_node(await work(context(info)))}

    return await run_mutation(info, OrderPayload, run)


@strawberry.type
class OrderMutation:
    @strawberry.mutation(description="A consultant drafts an order; it counts only once signed and registered (R6-18).")
    async def automotive_order_draft(self, info: strawberry.Info, customer_id: strawberry.ID, model: str,
                                     price_cny: int, payment_type: str, down_payment_cny: int = 0,
                                     deposit_cny: int = 0) -> DraftPayload:
        async def call() -> dict:
            made = await orders.draft_order(context(info), parse_id(customer_id, "customerId"), model=model,
                                            price_cny=price_cny, payment_type=payment_type,
                                            down_payment_cny=down_payment_cny, deposit_cny=deposit_cny)
            return {"order": DraftNode(id=strawberry.ID(str(made["id"])), state=made["state"],
                                       ordered_at=made["ordered_at"])}

        return await run_mutation(info, DraftPayload, call)

    @strawberry.mutation(description="The sales manager or a team leader signs a drafted order (R6-18).")
    async def automotive_order_sign(self, info: strawberry.Info, id: strawberry.ID) -> OrderPayload:
        return await _run(info, lambda ctx: orders.sign_order(ctx, parse_id(id, "id")))

    @strawberry.mutation(description="The sales assistant registers a signed order: effective from today (R6-18).")
    async def automotive_order_register(self, info: strawberry.Info, id: strawberry.ID) -> OrderPayload:
        return await _run(info, lambda ctx: orders.register_order(ctx, parse_id(id, "id")))

    @strawberry.mutation(description="The order's consultant requests a change of its terms ({model, vin, price_cny, "
                                     "payment_type, down_payment_cny, deposit_cny, consultant_id}); it applies only "
                                     "when signed (R6-18, R6-37).")
    async def automotive_order_change_request(self, info: strawberry.Info, id: strawberry.ID, changes: JSON,
                                              reason: str) -> ChangeRequestPayload:
        async def call() -> dict:
            if not isinstance(changes, dict):
                raise KehuError("AUTOMOTIVE_INPUT_INVALID", "changes is an object {field: value}", "changes 须为字段集合",
                                field="changes")
            made = await orders.request_change(context(info), parse_id(id, "id"), changes, reason)
            return {"change_id": strawberry.ID(str(made["id"]))}

        return await run_mutation(info, ChangeRequestPayload, call)

    @strawberry.mutation(description="A manager or team leader signs (applies) or rejects an order change (R6-18).")
    async def automotive_order_change_decide(self, info: strawberry.Info, id: strawberry.ID,
                                             approve: bool) -> OrderPayload:
        return await _run(info, lambda ctx: orders.decide_change(ctx, parse_id(id, "id"), approve=approve))

    @strawberry.mutation(description="The assistant assigns a car to an effective order: reserved (R6-23), in queue "
                                     "order (R6-19).")
    async def automotive_order_assign_vehicle(self, info: strawberry.Info, id: strawberry.ID,
                                              vin: str) -> OrderPayload:
        return await _run(info, lambda ctx: orders.assign_vehicle(ctx, parse_id(id, "id"), vin))

    @strawberry.mutation(description="The cashier records money that arrived: deposit | payment | down_payment "
                                     "(R6-19, R6-20, R6-27).")
    async def automotive_payment_record(self, info: strawberry.Info, order_id: strawberry.ID, kind: str,
                                        amount_cny: int) -> OrderPayload:
        return await _run(info, lambda ctx: orders.record_payment(ctx, parse_id(order_id, "orderId"), kind=kind,
                                                            amount_cny=amount_cny))

    @strawberry.mutation(description="The deposit receipt (定金条) is back with the cashier: the deposit counts (R6-27).")
    async def automotive_deposit_receipt_returned(self, info: strawberry.Info, order_id: strawberry.ID) -> OrderPayload:
        return await _run(info, lambda ctx: orders.deposit_receipt_returned(ctx, parse_id(order_id, "orderId")))

    @strawberry.mutation(description="GMAC's payment report arrived (what: report, R6-20) or the loan was disbursed "
                                     "(what: disbursed, R6-21).")
    async def automotive_gmac_record(self, info: strawberry.Info, order_id: strawberry.ID, what: str) -> OrderPayload:
        return await _run(info, lambda ctx: orders.record_gmac(ctx, parse_id(order_id, "orderId"), what=what))

    @strawberry.mutation(description="The 5S officer releases the car with its key and tools, only when the money "
                                     "(or GMAC's report and loan) is in (R6-20, R6-21, R6-52).")
    async def automotive_car_release(self, info: strawberry.Info, id: strawberry.ID) -> OrderPayload:
        return await _run(info, lambda ctx: orders.release_car(ctx, parse_id(id, "id")))

    @strawberry.mutation(description="The assistant receives the delivered customer's data (items among "
                                     "id_copy, invoice_copy, delivery_form, purchase_agreement, insurance_policy, "
                                     "warranty_registration, deposit_receipt) (R6-26).")
    async def automotive_delivery_data_receive(self, info: strawberry.Info, id: strawberry.ID,
                                               items: list[str]) -> OrderPayload:
        return await _run(info, lambda ctx: orders.receive_delivery_data(ctx, parse_id(id, "id"), list(items)))

    @strawberry.mutation(description="The sales manager cancels a sale's performance after a complaint (R6-25).")
    async def automotive_performance_cancel(self, info: strawberry.Info, id: strawberry.ID,
                                            reason: str) -> OrderPayload:
        return await _run(info, lambda ctx: orders.cancel_performance(ctx, parse_id(id, "id"), reason))

    @strawberry.mutation(description="The cashier pays a referral reward (R6-44).")
    async def automotive_referral_reward_pay(self, info: strawberry.Info, id: strawberry.ID) -> RewardPayload:
        async def call() -> dict:
            return {"reward": reward_node(await orders.pay_referral_reward(context(info), parse_id(id, "id")))}

        return await run_mutation(info, RewardPayload, call)


GRAPHQL = (GraphQLTypes(query=OrderQuery, mutation=OrderMutation),)

_ZERO = '"00000000-0000-0000-0000-000000000000"'


def _isolation_operations() -> tuple[Any, ...]:
    from core.plugins import IsolationOperation as Op

    c = "customer"
    customer = ('mutation($mark: String!) { customerCreate(input: {kind: "person", surname: "赵", givenName: $mark, '
                'status: "potential"}) { customer { id } errors { code } } }')
    # An order passes through its states once (signed, registered, paid, released): the owner's flow is driven in
    # tests/automotive/test_orders.py; here another tenant's ids are refused and the lists show only one's own.
    return (
        Op(customer, makes=(c, "customer.id")),
        Op('mutation($c: ID!) { automotiveOrderDraft(customerId: $c, model: "途胜", priceCny: 150000, '
           'paymentType: "full") { order { id state } errors { code } } }', ids=(("c", c),)),
        Op("{ automotiveOrders(first: 100) { nodes { id customerId } } }"),
        Op("{ automotiveDeliveryQueue { model orders { id customerId } } }"),
        Op("{ automotiveReferralRewards(first: 100) { nodes { id orderId } } }"),
        Op("query { automotiveOrder(id: %s) { id } }" % _ZERO),
        Op("mutation { automotiveOrderSign(id: %s) { order { id } errors { code } } }" % _ZERO),
        Op("mutation { automotiveOrderRegister(id: %s) { order { id } errors { code } } }" % _ZERO),
        Op('mutation { automotiveOrderChangeRequest(id: %s, changes: {price_cny: 1}, reason: "x") '
           '{ changeId errors { code } } }' % _ZERO),
        Op("mutation { automotiveOrderChangeDecide(id: %s, approve: true) { order { id } errors { code } } }" % _ZERO),
        Op('mutation { automotiveOrderAssignVehicle(id: %s, vin: "LSGPC52U6AF102554") { order { id } errors { code } } }'
           % _ZERO),
        Op('mutation { automotivePaymentRecord(orderId: %s, kind: "payment", amountCny: 1) { order { id } '
           'errors { code } } }' % _ZERO),
        Op("mutation { automotiveDepositReceiptReturned(orderId: %s) { order { id } errors { code } } }" % _ZERO),
        Op('mutation { automotiveGmacRecord(orderId: %s, what: "report") { order { id } errors { code } } }' % _ZERO),
        Op("mutation { automotiveCarRelease(id: %s) { order { id } errors { code } } }" % _ZERO),
        Op('mutation { automotiveDeliveryDataReceive(id: %s, items: ["id_copy"]) { order { id } errors { code } } }'
           % _ZERO),
        Op('mutation { automotivePerformanceCancel(id: %s, reason: "投诉") { order { id } errors { code } } }' % _ZERO),
        Op("mutation { automotiveReferralRewardPay(id: %s) { reward { id } errors { code } } }" % _ZERO),
    )


ISOLATION_OPERATIONS = _isolation_operations()
