"""Orders, the delivery queue, payments and release of seed-003 R6-18 to R6-27, R6-34, R6-35, R6-37
and R6-44, one function per use case; the rules themselves are the pure functions of ``sales``.

An order is drafted by its consultant, signed by the sales manager or a team leader and registered by
the sales assistant: only then it is effective (R6-18). Nothing changes it but a change request
signed by a manager or team leader (a private change is impossible), and a change moves its
effective date to the change's day. Orders and sold prices are read only by team leaders, managers
and assistants (R6-34, R6-35). The cashier records the money; the 5S officer releases the car only
when ``sales.release_refusal`` has nothing to say (R6-20, R6-21).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from piccolo.columns import UUID as UUIDColumn
from piccolo.columns import Boolean, Integer, Text, Timestamptz, Varchar

from core.plugins import (
    EventType,
    KehuError,
    Parameter,
    ParameterKind,
    TenantTable,
    customer_record,
    customers_out_of_processing,
    emit,
    fetch_page,
    record,
    record_ledger_entry,
    require_permission,
    tenant_calendar,
    tenant_parameters,
    tenant_table_migration,
    tenant_user,
    tick,
    unit_of_work,
)
from plugins.automotive import clock, sales, stock
from plugins.automotive.cards import Card
from plugins.automotive.common import VERTICAL, choice, invalid, text
from plugins.automotive.penalties import add_penalty

MAX_PRICE = 100_000_000
CHANGEABLE = ("model", "vin", "price_cny", "payment_type", "down_payment_cny", "deposit_cny", "consultant_id")

PARAMETERS = (
    Parameter("delivery_data_minutes", ParameterKind.INTEGER, 20, "Minutes for a same-day delivery's customer data "
              "to reach the sales assistant (R6-26)", "当天交车客户资料交到销售助理的时限（R6-26）", minimum=1,
              maximum=240, unit="min"),
    Parameter("referral_reward_cny", ParameterKind.INTEGER, 200, "Fuel money for an owner whose referral bought (R6-44)",
              "老客户介绍成交奖励油费（R6-44）", minimum=0, maximum=100_000, unit="CNY"),
)


class Order(TenantTable, tablename="automotive_order"):
    customer_id = UUIDColumn()
    consultant_id = UUIDColumn()
    model = Varchar(length=60)
    vin = Varchar(length=17, null=True, default=None)
    price_cny = Integer()
    payment_type = Varchar(length=8)  # full | gmac
    down_payment_cny = Integer(default=0)
    deposit_cny = Integer(default=0)
    deposit_receipt_returned = Boolean(default=False)
    ordered_at = Timestamptz()
    state = Varchar(length=12)  # draft | signed | effective | delivered | cancelled
    signed_by = Varchar(length=100, null=True, default=None)
    signed_at = Timestamptz(null=True, default=None)
    registered_by = Varchar(length=100, null=True, default=None)
    registered_at = Timestamptz(null=True, default=None)
    effective_on = Varchar(length=10, null=True, default=None)
    full_payment_at = Timestamptz(null=True, default=None)
    gmac_report_at = Timestamptz(null=True, default=None)
    loan_disbursed_at = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)
    delivered_by = Varchar(length=100, null=True, default=None)
    delivery_data_at = Timestamptz(null=True, default=None)
    delivery_data_missing = Text(default="")
    delivery_data_checked = Boolean(default=False)
    performance_cancelled_at = Timestamptz(null=True, default=None)
    performance_cancel_reason = Text(null=True, default=None)
    created_by = Varchar(length=100)
    version = Integer(default=1)


class OrderChange(TenantTable, tablename="automotive_order_change"):
    order_id = UUIDColumn()
    changes = Text()  # JSON {field: new value}
    reason = Text()
    state = Varchar(length=12)  # requested | signed | rejected
    requested_by = Varchar(length=100)
    requested_at = Timestamptz()
    decided_by = Varchar(length=100, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)


class Payment(TenantTable, tablename="automotive_payment"):
    order_id = UUIDColumn()
    kind = Varchar(length=16)  # deposit | payment | down_payment
    amount_cny = Integer()
    at = Timestamptz()
    recorded_by = Varchar(length=100)


class ReferralReward(TenantTable, tablename="automotive_referral_reward"):
    """R6-44: the referring owner's fuel money when the referred customer's car is delivered."""

    order_id = UUIDColumn()
    referrer_customer_id = UUIDColumn()
    amount_cny = Integer()
    due_at = Timestamptz()
    paid_at = Timestamptz(null=True, default=None)
    paid_by = Varchar(length=100, null=True, default=None)


TABLES = (Order, OrderChange, Payment, ReferralReward)
_WHO = "VARCHAR(100)"
MIGRATIONS = (
    tenant_table_migration(6, "orders", "automotive_order", [
        "customer_id UUID NOT NULL", "consultant_id UUID NOT NULL", "model VARCHAR(60) NOT NULL", "vin VARCHAR(17)",
        "price_cny INTEGER NOT NULL", "payment_type VARCHAR(8) NOT NULL", "down_payment_cny INTEGER NOT NULL DEFAULT 0",
        "deposit_cny INTEGER NOT NULL DEFAULT 0", "deposit_receipt_returned BOOLEAN NOT NULL DEFAULT FALSE",
        "ordered_at TIMESTAMPTZ NOT NULL", "state VARCHAR(12) NOT NULL", f"signed_by {_WHO}", "signed_at TIMESTAMPTZ",
        f"registered_by {_WHO}", "registered_at TIMESTAMPTZ", "effective_on VARCHAR(10)", "full_payment_at TIMESTAMPTZ",
        "gmac_report_at TIMESTAMPTZ", "loan_disbursed_at TIMESTAMPTZ", "delivered_at TIMESTAMPTZ", f"delivered_by {_WHO}",
        "delivery_data_at TIMESTAMPTZ", "delivery_data_missing TEXT NOT NULL DEFAULT ''",
        "delivery_data_checked BOOLEAN NOT NULL DEFAULT FALSE", "performance_cancelled_at TIMESTAMPTZ",
        "performance_cancel_reason TEXT", f"created_by {_WHO} NOT NULL", "version INTEGER NOT NULL DEFAULT 1",
    ], indexes=(("state", "ordered_at"), ("consultant_id", "ordered_at"), ("customer_id",), ("vin",),
                ("delivery_data_checked", "delivered_at"))),
    tenant_table_migration(7, "order changes", "automotive_order_change", [
        "order_id UUID NOT NULL", "changes TEXT NOT NULL", "reason TEXT NOT NULL", "state VARCHAR(12) NOT NULL",
        f"requested_by {_WHO} NOT NULL", "requested_at TIMESTAMPTZ NOT NULL", f"decided_by {_WHO}",
        "decided_at TIMESTAMPTZ",
    ], indexes=(("order_id", "requested_at"),), references=(("order_id", "automotive_order"),)),
    tenant_table_migration(8, "order payments", "automotive_payment", [
        "order_id UUID NOT NULL", "kind VARCHAR(16) NOT NULL", "amount_cny INTEGER NOT NULL", "at TIMESTAMPTZ NOT NULL",
        f"recorded_by {_WHO} NOT NULL",
    ], indexes=(("order_id", "at"),), references=(("order_id", "automotive_order"),)),
    tenant_table_migration(9, "referral rewards", "automotive_referral_reward", [
        "order_id UUID NOT NULL", "referrer_customer_id UUID NOT NULL", "amount_cny INTEGER NOT NULL",
        "due_at TIMESTAMPTZ NOT NULL", "paid_at TIMESTAMPTZ", f"paid_by {_WHO}",
    ], unique=(("order_id",),), indexes=(("due_at",),), references=(("order_id", "automotive_order"),)),
)

EVENT_TYPES = tuple(EventType(f"automotive.{name}", "automotive_order", fields, what) for name, fields, what in (
    ("order_drafted", "state", "a consultant drafted an order"),
    ("order_signed", "signed_at", "the sales manager or a team leader signed an order (R6-18)"),
    ("order_effective", "effective_on", "the assistant registered a signed order: it is effective (R6-18)"),
    ("order_change_requested", "changes", "an order change requested (R6-18)"),
    ("order_changed", "changes, effective_on", "a signed order change applied (R6-18)"),
    ("payment_recorded", "kind, amount_cny", "the cashier recorded money for an order (R6-20, R6-27)"),
    ("order_paid_in_full", "full_payment_at", "an order paid in full (GMAC: its down payment) joins the front of "
                                              "the queue (R6-19)"),
    ("gmac_reported", "gmac_report_at", "GMAC's payment report received (R6-20)"),
    ("loan_disbursed", "loan_disbursed_at", "GMAC disbursed the loan (R6-21)"),
    ("car_released", "delivered_at", "the 5S officer released the car (R6-20, R6-21)"),
    ("delivery_data_received", "delivery_data_at, delivery_data_missing", "the delivery data reached the "
                                                                           "assistant (R6-26)"),
    ("performance_cancelled", "performance_cancel_reason", "the sales manager cancelled a sale's performance (R6-25)"),
))


# --- reading ----------------------------------------------------------------------------------------


def _not_found(order_id: object) -> KehuError:
    return KehuError("AUTOMOTIVE_ORDER_NOT_FOUND", f"no order {order_id}", f"未找到订单 {order_id}", field="id")


async def _order(uow: Any, order_id: UUID) -> dict[str, Any]:
    row = await uow.select(Order).where(Order.id == order_id).first()
    if row is None:
        raise _not_found(order_id)
    return row


async def _payments(uow: Any, order_id: UUID) -> list[dict[str, Any]]:
    return await uow.select(Payment).where(Payment.order_id == order_id).order_by(Payment.at)


async def order_view(uow: Any, row: Mapping[str, Any]) -> dict[str, Any]:
    payments = await _payments(uow, row["id"])
    paid = sales.paid_total(payments, row["deposit_receipt_returned"])
    refusal = sales.release_refusal(row, paid)
    counted = sales.performance(row, paid)
    return {**row, "payments": payments, "paid_cny": paid, "releasable": refusal is None and row["state"] == "effective",
            "release_blocked_by": refusal[0] if refusal else None, "performance_counted": counted.counted,
            "performance_reasons": counted.reasons,
            "changes": await uow.select(OrderChange).where(OrderChange.order_id == row["id"]).order_by(
                OrderChange.requested_at)}


def _reader(ctx: Any) -> None:
    """R6-34: only team leaders, managers and assistants read the order table and sold prices."""
    require_permission(ctx, "automotive.order.read")


async def get_order(ctx: Any, order_id: UUID) -> dict[str, Any]:
    _reader(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        return await order_view(uow, await _order(uow, order_id))


async def orders(ctx: Any, window: Any, *, state: str | None = None, consultant_id: UUID | None = None,
                 customer_id: UUID | None = None) -> tuple[list[dict], bool]:
    _reader(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(Order)
        if state is not None:
            query = query.where(Order.state == state)
        if consultant_id is not None:
            query = query.where(Order.consultant_id == consultant_id)
        if customer_id is not None:
            query = query.where(Order.customer_id == customer_id)
        rows, more = await fetch_page(query, [Order.ordered_at, Order.id], window, descending=True)
        return [await order_view(uow, row) for row in rows], more


MAX_QUEUE = 2000


async def _waiting(uow: Any, model: str | None = None) -> list[dict[str, Any]]:
    query = uow.select(Order).where(Order.state == "effective")
    if model is not None:
        query = query.where(Order.model == model)
    return await query.order_by(Order.ordered_at).limit(MAX_QUEUE)


async def delivery_queue(ctx: Any, *, model: str | None = None) -> list[dict[str, Any]]:
    """The effective orders waiting for their car in the order R6-19 gives (at most 2,000)."""
    _reader(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        return [await order_view(uow, row) for row in sales.delivery_queue(await _waiting(uow, model))]


# --- the order's life (R6-18) -----------------------------------------------------------------------


def _amount(value: object, field: str, *, allow_zero: bool = True) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if allow_zero else 1) or value > MAX_PRICE:
        raise invalid(field, f"{field} is a whole number of CNY up to {MAX_PRICE}", f"{field} 须为不超过 {MAX_PRICE} 的整数（元）")
    return value


def _checked_terms(values: Mapping[str, Any]) -> dict[str, Any]:
    terms = dict(values)
    if "model" in terms:
        terms["model"] = text(terms["model"], "model", 60)
    if "price_cny" in terms:
        terms["price_cny"] = _amount(terms["price_cny"], "priceCny", allow_zero=False)
    if "payment_type" in terms:
        terms["payment_type"] = choice(terms["payment_type"], "paymentType", sales.PAYMENT_TYPES)
    for key, field in (("down_payment_cny", "downPaymentCny"), ("deposit_cny", "depositCny")):
        if key in terms:
            terms[key] = _amount(terms[key], field)
    if "vin" in terms and terms["vin"] is not None:
        terms["vin"] = text(terms["vin"], "vin", 17).upper()
    return terms


def _consistent(order: Mapping[str, Any]) -> None:
    if order["payment_type"] == sales.GMAC and not 0 < order["down_payment_cny"] < order["price_cny"]:
        raise invalid("downPaymentCny", "a GMAC order has a down payment below the price", "GMAC信贷订单须有低于车价的首付")
    if order["payment_type"] == sales.FULL and order["down_payment_cny"]:
        raise invalid("downPaymentCny", "a full-payment order has no down payment", "全款订单没有首付")
    if order["deposit_cny"] > order["price_cny"]:
        raise invalid("depositCny", "the deposit exceeds the price", "定金超过车价")


async def draft_order(ctx: Any, customer_id: UUID, *, model: str, price_cny: int, payment_type: str,
                      down_payment_cny: int = 0, deposit_cny: int = 0) -> dict[str, Any]:
    """The consultant drafts an order for a customer; it counts for nothing until signed and
    registered (R6-18)."""
    require_permission(ctx, "automotive.order.write")
    if ctx.user_id is None:
        raise invalid("customerId", "an order is drafted by a consultant", "订单须由销售顾问起草")
    terms = _checked_terms({"model": model, "price_cny": price_cny, "payment_type": payment_type,
                            "down_payment_cny": down_payment_cny, "deposit_cny": deposit_cny})
    _consistent(terms)
    async with unit_of_work(ctx) as uow:
        if await customer_record(uow, customer_id) is None or customer_id in await customers_out_of_processing(
                uow, [customer_id]):
            raise KehuError("CUSTOMER_NOT_FOUND", f"no customer {customer_id}", f"未找到客户 {customer_id}",
                            field="customerId")
        order_id = uuid4()
        at = clock.now()
        await uow.insert(Order(id=order_id, customer_id=customer_id, consultant_id=ctx.user_id, ordered_at=at,
                               state="draft", created_by=ctx.actor, **terms))
        await record(uow, "automotive.order_drafted", "automotive_order", order_id,
                     {"customer_id": customer_id, "payment_type": terms["payment_type"]})
        await emit(uow, "automotive.order_drafted", "automotive_order", order_id, ("state",))
        return {"id": order_id, "state": "draft", "ordered_at": at}


async def sign_order(ctx: Any, order_id: UUID) -> dict[str, Any]:
    """The sales manager or a team leader signs a drafted order (never their own)."""
    require_permission(ctx, "automotive.order.sign")
    async with unit_of_work(ctx) as uow:
        row = await _order(uow, order_id)
        if row["state"] != "draft":
            raise KehuError("AUTOMOTIVE_ORDER_STATE", f"the order is {row['state']}, not a draft", f"订单状态为 {row['state']}",
                            field="id")
        if row["consultant_id"] == ctx.user_id:
            raise KehuError("AUTOMOTIVE_SELF_SIGNATURE", "nobody signs their own order", "不能为自己的订单签字", field="id")
        at = clock.now()
        await uow.update(Order, {Order.state: "signed", Order.signed_by: ctx.actor, Order.signed_at: at,
                                 Order.version: Order.version + 1}).where(Order.id == order_id)
        await record(uow, "automotive.order_signed", "automotive_order", order_id, {"signed_at": at})
        await emit(uow, "automotive.order_signed", "automotive_order", order_id, ("signed_at",))
        return await order_view(uow, await _order(uow, order_id))


async def register_order(ctx: Any, order_id: UUID) -> dict[str, Any]:
    """The sales assistant registers a signed order: it is effective from today (R6-18) and its
    consultant's sale enters the customer's attribution ledger as a deal."""
    require_permission(ctx, "automotive.order.register")
    zone = (await tenant_calendar(ctx)).zone
    async with unit_of_work(ctx) as uow:
        row = await _order(uow, order_id)
        if row["state"] != "signed":
            raise KehuError("AUTOMOTIVE_ORDER_STATE", f"only a signed order is registered; this one is {row['state']}",
                            f"只有已签字的订单可以登记，该订单状态为 {row['state']}", field="id")
        at = clock.now()
        effective_on = at.astimezone(zone).date().isoformat()
        await uow.update(Order, {Order.state: "effective", Order.registered_by: ctx.actor, Order.registered_at: at,
                                 Order.effective_on: effective_on, Order.version: Order.version + 1}).where(
            Order.id == order_id)
        await record_ledger_entry(uow, VERTICAL, row["customer_id"], "deal", at=at, consultant_id=row["consultant_id"],
                                  data={"order": str(order_id)})
        await record(uow, "automotive.order_effective", "automotive_order", order_id, {"effective_on": effective_on})
        await emit(uow, "automotive.order_effective", "automotive_order", order_id, ("effective_on",))
        return await order_view(uow, await _order(uow, order_id))


async def request_change(ctx: Any, order_id: UUID, changes: Mapping[str, Any], reason: str) -> dict[str, Any]:
    """Request a change of an order's terms (model, car, price, payment, consultant); it applies only
    when a manager or team leader signs it (R6-18: a private change is never valid)."""
    require_permission(ctx, "automotive.order.write")
    reason = text(reason, "reason", 2000)
    unknown = set(changes) - set(CHANGEABLE)
    if not changes or unknown:
        raise invalid("changes", f"change some of {', '.join(CHANGEABLE)}", f"可变更项目：{'、'.join(CHANGEABLE)}")
    terms = _checked_terms({k: v for k, v in changes.items() if k != "consultant_id"})
    if "consultant_id" in changes:
        try:
            terms["consultant_id"] = str(UUID(str(changes["consultant_id"])))
        except ValueError:
            raise invalid("changes", "consultant_id is a user id", "consultant_id 须为用户编号") from None
    async with unit_of_work(ctx) as uow:
        row = await _order(uow, order_id)
        if row["consultant_id"] != ctx.user_id:
            raise _not_found(order_id)  # consultants see their own orders only through their changes (R6-34)
        if row["state"] in ("delivered", "cancelled"):
            raise KehuError("AUTOMOTIVE_ORDER_STATE", f"the order is {row['state']}", f"订单状态为 {row['state']}",
                            field="id")
        change_id = uuid4()
        await uow.insert(OrderChange(id=change_id, order_id=order_id, changes=json.dumps(terms, ensure_ascii=False),
                                     reason=reason, state="requested", requested_by=ctx.actor,
                                     requested_at=clock.now()))
        await record(uow, "automotive.order_change_requested", "automotive_order", order_id,
                     {"change": change_id, "fields": sorted(terms)})
        await emit(uow, "automotive.order_change_requested", "automotive_order", order_id, ("changes",))
        return {"id": change_id, "order_id": order_id, "state": "requested"}


async def decide_change(ctx: Any, change_id: UUID, *, approve: bool) -> dict[str, Any]:
    """A manager or team leader signs (applies) or rejects a change; a signed change moves the
    order's effective date to today (R6-18). Moving a sale to another consultant is this flow and
    no other (R6-37); the car follows a changed VIN (R6-23)."""
    require_permission(ctx, "automotive.order.sign")
    zone = (await tenant_calendar(ctx)).zone
    async with unit_of_work(ctx) as uow:
        change = await uow.select(OrderChange).where(OrderChange.id == change_id).first()
        if change is None:
            raise KehuError("AUTOMOTIVE_ORDER_CHANGE_NOT_FOUND", f"no order change {change_id}", f"未找到订单变更 {change_id}",
                            field="id")
        if change["state"] != "requested":
            raise KehuError("AUTOMOTIVE_ORDER_STATE", "this change is already decided", "该变更已处理", field="id")
        row = await _order(uow, change["order_id"])
        terms = json.loads(change["changes"])
        if change["requested_by"] == ctx.actor or str(ctx.user_id) in (str(row["consultant_id"]),
                                                                       terms.get("consultant_id")):
            raise KehuError("AUTOMOTIVE_SELF_SIGNATURE", "the requester or a consultant concerned cannot sign",
                            "申请人或涉及的销售顾问不能签字", field="id")
        at = clock.now()
        if approve:
            if "consultant_id" in terms:
                terms["consultant_id"] = UUID(terms["consultant_id"])
                if not await tenant_user(uow, terms["consultant_id"]):
                    raise invalid("changes", "no such consultant in this tenant", "本租户没有该销售顾问")
            changed = {**row, **terms}
            _consistent(changed)
            if terms.get("vin") != row["vin"] and "vin" in terms and row["state"] == "effective":
                if row["vin"]:
                    await stock.release_reservation(uow, row["vin"], row["id"])
                if terms["vin"]:
                    await _reserve(uow, changed, at)
            values = {getattr(Order, key): value for key, value in terms.items()}
            if row["state"] == "effective":
                values[Order.effective_on] = at.astimezone(zone).date().isoformat()
            values[Order.version] = Order.version + 1
            await uow.update(Order, values).where(Order.id == row["id"])
            await _recheck_paid(uow, row["id"], at)
        await uow.update(OrderChange, {OrderChange.state: "signed" if approve else "rejected",
                                       OrderChange.decided_by: ctx.actor, OrderChange.decided_at: at}).where(
            OrderChange.id == change_id)
        await record(uow, "automotive.order_changed" if approve else "automotive.order_change_rejected",
                     "automotive_order", row["id"], {"change": change_id, "fields": sorted(terms)})
        if approve:
            await emit(uow, "automotive.order_changed", "automotive_order", row["id"], ("changes", "effective_on"))
        return await order_view(uow, await _order(uow, row["id"]))


async def _reserve(uow: Any, order: Mapping[str, Any], at: datetime) -> None:
    """Reserve the order's car, unless an order of the same model ahead in the queue still has none (R6-19)."""
    vehicle = await stock.vehicle_by_vin(uow, order["vin"])
    if vehicle is None:
        raise KehuError("AUTOMOTIVE_VEHICLE_NOT_FOUND", f"no car {order['vin']}", f"未找到车辆 {order['vin']}", field="vin")
    if vehicle["model"] != order["model"]:
        raise invalid("vin", f"the car {order['vin']} is a {vehicle['model']}, the order a {order['model']}",
                      f"车辆 {order['vin']} 车型为 {vehicle['model']}，与订单车型 {order['model']} 不符")
    ahead = sales.ahead_without_car(order, await _waiting(uow, order["model"]))
    if ahead:
        raise KehuError("AUTOMOTIVE_QUEUE_ORDER", f"{len(ahead)} order(s) of this model come first in the delivery "
                        "queue (R6-19)", f"按交车顺序，该车型还有 {len(ahead)} 个订单优先（R6-19）", field="vin")
    await stock.reserve_vehicle(uow, order["vin"], order["id"], at=at)


async def assign_vehicle(ctx: Any, order_id: UUID, vin: str) -> dict[str, Any]:
    """The assistant assigns a car to an effective order: it is marked reserved (R6-23), and a car of
    a model goes to the orders ahead in the delivery queue first (R6-19)."""
    require_permission(ctx, "automotive.order.register")
    vin = text(vin, "vin", 17).upper()
    async with unit_of_work(ctx) as uow:
        row = await _order(uow, order_id)
        if row["state"] != "effective":
            raise KehuError("AUTOMOTIVE_ORDER_STATE", f"the order is {row['state']}, not effective",
                            f"订单状态为 {row['state']}，尚未生效", field="id")
        if row["vin"] and row["vin"] != vin:
            raise KehuError("AUTOMOTIVE_ORDER_STATE", "the order has a car; change it through a signed change",
                            "订单已分配车辆，更换须经签字变更", field="vin")
        at = clock.now()
        await _reserve(uow, {**row, "vin": vin}, at)
        await uow.update(Order, {Order.vin: vin, Order.version: Order.version + 1}).where(Order.id == order_id)
        await record(uow, "automotive.order_vehicle_assigned", "automotive_order", order_id, {"vin": vin})
        return await order_view(uow, await _order(uow, order_id))


# --- money (R6-19, R6-20, R6-21, R6-27) ------------------------------------------------------------


async def _recheck_paid(uow: Any, order_id: UUID, at: datetime) -> None:
    """Stamp the moment the order became paid in full (the queue's second key, R6-19), once."""
    row = await _order(uow, order_id)
    if row["full_payment_at"] is not None or row["state"] not in ("effective",):
        return
    if sales.paid_in_full(row, sales.paid_total(await _payments(uow, order_id), row["deposit_receipt_returned"])):
        await uow.update(Order, {Order.full_payment_at: at}).where(Order.id == order_id)
        await record(uow, "automotive.order_paid_in_full", "automotive_order", order_id, {"full_payment_at": at})
        await emit(uow, "automotive.order_paid_in_full", "automotive_order", order_id, ("full_payment_at",))


async def _payment_order(uow: Any, order_id: UUID) -> dict[str, Any]:
    row = await _order(uow, order_id)
    if row["state"] != "effective":
        raise KehuError("AUTOMOTIVE_ORDER_STATE", f"money is recorded for an effective order; this one is {row['state']}",
                        f"只有已生效的订单可以登记收款，该订单状态为 {row['state']}", field="orderId")
    return row


async def record_payment(ctx: Any, order_id: UUID, *, kind: str, amount_cny: int) -> dict[str, Any]:
    """The cashier records money that arrived: a deposit (counted once its receipt is back, R6-27), a
    payment, or a GMAC order's down payment (which counts as full payment in the queue, R6-19)."""
    require_permission(ctx, "automotive.payment.record")
    kind = choice(kind, "kind", ("deposit", "payment", "down_payment"))
    amount = _amount(amount_cny, "amountCny", allow_zero=False)
    async with unit_of_work(ctx) as uow:
        row = await _payment_order(uow, order_id)
        if kind == "down_payment" and row["payment_type"] != sales.GMAC:
            raise invalid("kind", "a down payment belongs to a GMAC order", "首付仅适用于GMAC信贷订单")
        at = clock.now()
        payment_id = uuid4()
        await uow.insert(Payment(id=payment_id, order_id=order_id, kind=kind, amount_cny=amount, at=at,
                                 recorded_by=ctx.actor))
        await record(uow, "automotive.payment_recorded", "automotive_order", order_id,
                     {"kind": kind, "amount_cny": amount})
        await emit(uow, "automotive.payment_recorded", "automotive_order", order_id, ("kind", "amount_cny"))
        await _recheck_paid(uow, order_id, at)
        return await order_view(uow, await _order(uow, order_id))


async def deposit_receipt_returned(ctx: Any, order_id: UUID) -> dict[str, Any]:
    """The customer gave the deposit receipt (定金条) back to the cashier: the deposit now counts (R6-27)."""
    require_permission(ctx, "automotive.payment.record")
    async with unit_of_work(ctx) as uow:
        row = await _payment_order(uow, order_id)
        if row["deposit_receipt_returned"]:
            raise KehuError("AUTOMOTIVE_ORDER_STATE", "the receipt is already back", "定金条已交回", field="orderId")
        at = clock.now()
        await uow.update(Order, {Order.deposit_receipt_returned: True}).where(Order.id == order_id)
        await record(uow, "automotive.payment_recorded", "automotive_order", order_id, {"deposit_receipt_returned": True})
        await _recheck_paid(uow, order_id, at)
        return await order_view(uow, await _order(uow, order_id))


async def record_gmac(ctx: Any, order_id: UUID, *, what: str) -> dict[str, Any]:
    """GMAC's payment report arrived (R6-20), or GMAC disbursed the loan (R6-21)."""
    require_permission(ctx, "automotive.payment.record")
    what = choice(what, "what", ("report", "disbursed"))
    column = Order.gmac_report_at if what == "report" else Order.loan_disbursed_at
    event = "automotive.gmac_reported" if what == "report" else "automotive.loan_disbursed"
    async with unit_of_work(ctx) as uow:
        row = await _payment_order(uow, order_id)
        if row["payment_type"] != sales.GMAC:
            raise invalid("orderId", "the order is not on GMAC credit", "该订单不是GMAC信贷订单")
        if row[column._meta.name] is not None:
            raise KehuError("AUTOMOTIVE_ORDER_STATE", f"the {what} is already recorded", "已登记", field="orderId")
        at = clock.now()
        await uow.update(Order, {column: at}).where(Order.id == order_id)
        await record(uow, event, "automotive_order", order_id, {column._meta.name: at})
        await emit(uow, event, "automotive_order", order_id, (column._meta.name,))
        return await order_view(uow, await _order(uow, order_id))


# --- release and delivery (R6-20, R6-21, R6-26, R6-44, R6-52) ------------------------------------


async def release_car(ctx: Any, order_id: UUID) -> dict[str, Any]:
    """The 5S officer hands over key and car, only once the money arrived (R6-20) and, on GMAC
    credit, the payment report and the loan are in (R6-20, R6-21); the tools and warranty book go
    with it (R6-52). An owner who referred the customer is due the fuel money (R6-44)."""
    require_permission(ctx, "automotive.delivery.release")
    parameters = await tenant_parameters(ctx, VERTICAL)
    async with unit_of_work(ctx) as uow:
        row = await _order(uow, order_id)
        paid = sales.paid_total(await _payments(uow, order_id), row["deposit_receipt_returned"])
        refusal = sales.release_refusal(row, paid)
        if refusal is not None:
            raise KehuError(refusal[0], refusal[1], refusal[2], field="id")
        at = clock.now()
        await stock.deliver_vehicle(uow, row["vin"], order_id, at=at)
        await stock.issue_tools(uow, row["vin"], at=at)
        await uow.update(Order, {Order.state: "delivered", Order.delivered_at: at, Order.delivered_by: ctx.actor,
                                 Order.version: Order.version + 1}).where(Order.id == order_id)
        card = await uow.select(Card.referrer_customer_id).where(
            (Card.customer_id == row["customer_id"]) & (Card.referral == "owner")
            & Card.referrer_customer_id.is_not_null()).order_by(Card.created_at).first()
        reward = int(parameters.get("referral_reward_cny", 200))
        if card is not None and reward > 0:
            await uow.insert(ReferralReward(order_id=order_id, referrer_customer_id=card["referrer_customer_id"],
                                            amount_cny=reward, due_at=at))
        await record(uow, "automotive.car_released", "automotive_order", order_id, {"vin": row["vin"]})
        await emit(uow, "automotive.car_released", "automotive_order", order_id, ("delivered_at",))
        return await order_view(uow, await _order(uow, order_id))


async def receive_delivery_data(ctx: Any, order_id: UUID, items: list[str]) -> dict[str, Any]:
    """The assistant receives the delivered customer's data: later than ``delivery_data_minutes``
    after the delivery costs the consultant R6-26; a missing item and the sale is not counted."""
    require_permission(ctx, "automotive.order.register")
    unknown = set(items) - set(sales.DELIVERY_DATA)
    if unknown:
        raise invalid("items", f"items are among {', '.join(sales.DELIVERY_DATA)}", f"资料项目须为 {'、'.join(sales.DELIVERY_DATA)}")
    parameters = await tenant_parameters(ctx, VERTICAL)
    async with unit_of_work(ctx) as uow:
        row = await _order(uow, order_id)
        if row["state"] != "delivered":
            raise KehuError("AUTOMOTIVE_ORDER_STATE", "the car is not delivered yet", "车辆尚未交付", field="id")
        if row["delivery_data_at"] is not None:
            raise KehuError("AUTOMOTIVE_ORDER_STATE", "the delivery data are already received", "交车资料已接收", field="id")
        at = clock.now()
        missing = [item for item in sales.DELIVERY_DATA if item not in items and (
            item != "deposit_receipt" or row["deposit_cny"] > 0)]
        await uow.update(Order, {Order.delivery_data_at: at, Order.delivery_data_missing: ",".join(missing),
                                 Order.delivery_data_checked: True}).where(Order.id == order_id)
        minutes = int(parameters.get("delivery_data_minutes", 20))
        if sales.delivery_data_late(row["delivered_at"], at, minutes):
            await add_penalty(uow, parameters, "R6-26", row["consultant_id"], at=at, source_key=f"order:{order_id}",
                              reason=f"delivery data received {int((at - row['delivered_at']).total_seconds() // 60)} "
                                     f"minutes after the delivery", actor=ctx.actor)
        await record(uow, "automotive.delivery_data_received", "automotive_order", order_id, {"missing": missing})
        await emit(uow, "automotive.delivery_data_received", "automotive_order", order_id,
                   ("delivery_data_at", "delivery_data_missing"))
        return await order_view(uow, await _order(uow, order_id))


@tick("automotive.delivery_data_check")
async def check_delivery_data(ctx: Any, now: datetime | None = None) -> int:
    """R6-26: a delivery whose data have not reached the assistant within the limit costs the
    consultant the fine, once (the sale stays uncounted until the data arrive complete)."""
    parameters = await tenant_parameters(ctx, VERTICAL)
    limit = clock.now() - timedelta(minutes=int(parameters.get("delivery_data_minutes", 20)))
    fined = 0
    async with unit_of_work(ctx) as uow:
        for row in await uow.select(Order).where((Order.state == "delivered") & (Order.delivery_data_checked == False)  # noqa: E712
                                                 & (Order.delivered_at < limit)).limit(500):
            fined += await add_penalty(uow, parameters, "R6-26", row["consultant_id"], at=clock.now(),
                                       source_key=f"order:{row['id']}",
                                       reason="no delivery data within the limit after the delivery")
            await uow.update(Order, {Order.delivery_data_checked: True}).where(Order.id == row["id"])
    return fined


async def cancel_performance(ctx: Any, order_id: UUID, reason: str) -> dict[str, Any]:
    """R6-25: the sales manager cancels a sale's performance and commission when the consultant's
    conduct caused a complaint (name the complaint in the reason)."""
    require_permission(ctx, "automotive.performance.cancel")
    reason = text(reason, "reason", 2000)
    async with unit_of_work(ctx) as uow:
        row = await _order(uow, order_id)
        if row["performance_cancelled_at"] is not None:
            raise KehuError("AUTOMOTIVE_ORDER_STATE", "its performance is already cancelled", "该单业绩已取消", field="id")
        if row["consultant_id"] == ctx.user_id:
            raise KehuError("AUTOMOTIVE_SELF_SIGNATURE", "nobody decides on their own sale", "不能处理自己的销售业绩",
                            field="id")
        at = clock.now()
        await uow.update(Order, {Order.performance_cancelled_at: at, Order.performance_cancel_reason: reason}).where(
            Order.id == order_id)
        await record(uow, "automotive.performance_cancelled", "automotive_order", order_id, {"reason": reason})
        await emit(uow, "automotive.performance_cancelled", "automotive_order", order_id, ("performance_cancel_reason",))
        return await order_view(uow, await _order(uow, order_id))


async def referral_rewards(ctx: Any, window: Any, *, unpaid_only: bool = False) -> tuple[list[dict], bool]:
    """R6-44: fuel money due to referring owners, newest first."""
    require_permission(ctx, "automotive.payment.record")
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(ReferralReward)
        if unpaid_only:
            query = query.where(ReferralReward.paid_at.is_null())
        return await fetch_page(query, [ReferralReward.due_at, ReferralReward.id], window, descending=True)


async def pay_referral_reward(ctx: Any, reward_id: UUID) -> dict[str, Any]:
    require_permission(ctx, "automotive.payment.record")
    async with unit_of_work(ctx) as uow:
        done = await uow.update(ReferralReward, {ReferralReward.paid_at: clock.now(),
                                                 ReferralReward.paid_by: ctx.actor}).where(
            (ReferralReward.id == reward_id) & ReferralReward.paid_at.is_null()).returning(ReferralReward.id)
        if not done:
            raise KehuError("AUTOMOTIVE_REWARD_NOT_DUE", "no unpaid reward of that id", "没有该笔待付奖励", field="id")
        await record(uow, "automotive.referral_reward_paid", "automotive_referral_reward", reward_id, {"paid": True})
        return await uow.select(ReferralReward).where(ReferralReward.id == reward_id).first()


def today_in(zone: Any) -> date:
    return clock.now().astimezone(zone).date()
