"""Orders and delivery of seed-003 R6 as pure functions (no I/O): what an order has paid, whether it
counts as paid for the delivery queue, the queue's order, whether a car may be released, and whether
a sale counts as the consultant's performance. ``orders`` stores and exposes them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

FULL, GMAC = "full", "gmac"
PAYMENT_TYPES = (FULL, GMAC)
# What the assistant receives for a same-day delivery (交车客户资料, R6-26); missing one, the sale is not counted.
DELIVERY_DATA = ("id_copy", "invoice_copy", "delivery_form", "purchase_agreement", "insurance_policy",
                 "warranty_registration", "deposit_receipt")


def paid_total(payments: Iterable[Mapping[str, Any]], deposit_receipt_returned: bool) -> int:
    """What counts toward the car's price: every payment, and a deposit only once its receipt
    (定金条) went back to the cashier (R6-27)."""
    total = 0
    for payment in payments:
        if payment["kind"] == "deposit":
            if deposit_receipt_returned:
                total += payment["amount_cny"]
        else:
            total += payment["amount_cny"]
    return total


def paid_in_full(order: Mapping[str, Any], paid: int) -> bool:
    """Full payment: the whole price; GMAC credit: the down payment counts as full payment (R6-19)."""
    if order["payment_type"] == GMAC:
        return paid >= max(order["down_payment_cny"], 1)
    return paid >= order["price_cny"]


def queue_key(order: Mapping[str, Any]) -> tuple[Any, ...]:
    """R6-19: orders paid in full first, by price high to low, then by when they were paid in full;
    the others after them by order time."""
    if order.get("full_payment_at") is not None:
        return (0, -order["price_cny"], order["full_payment_at"], order["ordered_at"], str(order["id"]))
    return (1, 0, order["ordered_at"], order["ordered_at"], str(order["id"]))


def delivery_queue(orders: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(orders, key=queue_key)


def ahead_without_car(order: Mapping[str, Any], others: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Orders of the same model that come before ``order`` in the queue and have no car yet: a car
    of the model goes to them first (R6-19)."""
    key = queue_key(order)
    return [o for o in others if o["id"] != order["id"] and o["model"] == order["model"] and not o.get("vin")
            and queue_key(o) < key]


def release_refusal(order: Mapping[str, Any], paid: int) -> tuple[str, str, str] | None:
    """Why the car may not go yet (code, en, zh), or None. Full payment: the whole price arrived
    (R6-20). GMAC: the down payment, GMAC's payment report (R6-20) and the loan disbursed — until then
    the 5S officer keeps the key (R6-21)."""
    if order["state"] != "effective":
        return ("AUTOMOTIVE_ORDER_STATE", f"the order is {order['state']}, not effective",
                f"订单状态为 {order['state']}，尚未生效")
    if not order.get("vin"):
        return ("AUTOMOTIVE_ORDER_NO_VEHICLE", "no car is assigned to the order", "订单尚未分配车辆")
    if order["payment_type"] == FULL:
        if paid < order["price_cny"]:
            return ("AUTOMOTIVE_PAYMENT_NOT_ARRIVED", f"{paid} of {order['price_cny']} CNY arrived",
                    f"到账 {paid} 元，车款 {order['price_cny']} 元，款未到账不得提车")
        return None
    if paid < order["down_payment_cny"]:
        return ("AUTOMOTIVE_PAYMENT_NOT_ARRIVED", f"{paid} of the {order['down_payment_cny']} CNY down payment arrived",
                f"首付到账 {paid} 元，应付 {order['down_payment_cny']} 元")
    if order.get("gmac_report_at") is None:
        return ("AUTOMOTIVE_GMAC_REPORT_MISSING", "GMAC's payment report has not been received",
                "未收到GMAC打款报告，不得提车")
    if order.get("loan_disbursed_at") is None:
        return ("AUTOMOTIVE_LOAN_NOT_DISBURSED", "GMAC has not disbursed the loan: the 5S officer keeps the key",
                "GMAC尚未放款，钥匙由5S专员保管，不得提车")
    return None


@dataclass(frozen=True)
class Performance:
    counted: bool
    reasons: tuple[str, ...]  # why not, when not


def performance(order: Mapping[str, Any], paid: int, *, data_minutes: int = 20) -> Performance:
    """A sale counts as the consultant's performance once the car is delivered with its money arrived
    (R6-20; GMAC: its payment report, nothing before delivery, R6-19), the delivery data complete
    (R6-26), and the manager has not cancelled it for a complaint (R6-25)."""
    reasons = []
    if order.get("delivered_at") is None:
        reasons.append("not delivered")
    if order["payment_type"] == FULL and paid < order["price_cny"]:
        reasons.append("money not arrived")
    if order["payment_type"] == GMAC and order.get("gmac_report_at") is None:
        reasons.append("no GMAC payment report")
    missing = [m for m in (order.get("delivery_data_missing") or "").split(",") if m]
    if order.get("delivered_at") is not None and order.get("delivery_data_at") is None:
        reasons.append("delivery data not received")
    if missing:
        reasons.append("delivery data incomplete: " + ", ".join(missing))
    if order.get("performance_cancelled_at") is not None:
        reasons.append("cancelled by the sales manager: " + (order.get("performance_cancel_reason") or ""))
    return Performance(not reasons, tuple(reasons))


def delivery_data_late(delivered_at: datetime, received_at: datetime, minutes: int) -> bool:
    """R6-26: the data reach the assistant within ``minutes`` of a same-day delivery."""
    return received_at - delivered_at > timedelta(minutes=minutes)
