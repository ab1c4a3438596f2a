"""The sales floor's KPIs and reports (seed-003 R6 reports): closing, phone-capture and test-drive rates
per consultant over two months with the bottom rank (R6-30), card validity per consultant (R6-1 to
R6-7), same-day first-SMS compliance (R6-14). Each is a handful of grouped counts in SQL, never a
read of every row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from piccolo.query.methods.select import Count

from core.plugins import KehuError, add_months, require_permission, tenant_calendar, unit_of_work, user_names
from plugins.automotive.cards import Card, Visit
from plugins.automotive.orders import Order

PERIOD_MONTHS = 2  # R6-30: every two months


@dataclass(frozen=True)
class ConsultantRates:
    consultant_id: UUID
    name: str
    visits: int
    orders: int
    phones_left: int
    test_drives: int
    closing_rate: float | None  # percent
    phone_rate: float | None
    test_drive_rate: float | None
    score: float | None  # the mean of the three rates, which ranks consultants
    bottom: bool  # 末位 (R6-30)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _month(value: str, field: str) -> date:
    try:
        return date.fromisoformat(f"{value}-01")
    except (TypeError, ValueError):
        raise KehuError("AUTOMOTIVE_INPUT_INVALID", f"{field} is a month (YYYY-MM)", f"{field} 须为月份（YYYY-MM）",
                        field=field) from None


def rank(rows: list[dict[str, Any]]) -> list[ConsultantRates]:
    """Rates per consultant and the bottom-ranked one (the lowest mean of the three rates among those
    with visits; ties all flagged)."""
    found = []
    for row in rows:
        closing = _percent(row["orders"], row["visits"])
        phone = _percent(row["phones_left"], row["visits"])
        drive = _percent(row["test_drives"], row["visits"])
        rates = [r for r in (closing, phone, drive) if r is not None]
        found.append({**row, "closing_rate": closing, "phone_rate": phone, "test_drive_rate": drive,
                      "score": round(sum(rates) / 3, 1) if rates else None})
    scored = [r["score"] for r in found if r["score"] is not None]
    lowest = min(scored) if len(scored) > 1 else None
    return [ConsultantRates(bottom=lowest is not None and r["score"] == lowest, **r)
            for r in sorted(found, key=lambda r: (r["score"] is None, -(r["score"] or 0), r["name"]))]


async def sales_rates(ctx: Any, since: str) -> tuple[date, date, list[ConsultantRates]]:
    """R6-30 over the two months from ``since`` (YYYY-MM): walk-ins and calls registered (S17), orders
    that became effective, phones left and test drives, per consultant."""
    require_permission(ctx, "automotive.report.read")
    start = _month(since, "from")
    end = add_months(start, PERIOD_MONTHS)
    zone = (await tenant_calendar(ctx)).zone
    async with unit_of_work(ctx, write=False) as uow:
        visits = await uow.select(Visit.consultant_id, Visit.phone_left, Visit.test_drive, Count()).where(
            (Visit.day >= start.isoformat()) & (Visit.day < end.isoformat())).group_by(
            Visit.consultant_id, Visit.phone_left, Visit.test_drive)
        orders = await uow.select(Order.consultant_id, Count()).where(
            Order.registered_at.is_not_null()
            & (Order.registered_at >= datetime.combine(start, time(), zone))
            & (Order.registered_at < datetime.combine(end, time(), zone))).group_by(Order.consultant_id)
        people: dict[UUID, dict[str, int]] = {}
        for row in visits:
            counts = people.setdefault(row["consultant_id"], {"visits": 0, "orders": 0, "phones_left": 0,
                                                              "test_drives": 0})
            counts["visits"] += row["count"]
            counts["phones_left"] += row["count"] if row["phone_left"] else 0
            counts["test_drives"] += row["count"] if row["test_drive"] else 0
        for row in orders:
            people.setdefault(row["consultant_id"], {"visits": 0, "orders": 0, "phones_left": 0,
                                                     "test_drives": 0})["orders"] += row["count"]
        names = await user_names(uow, list(people))
    return start, end, rank([{"consultant_id": c, "name": names.get(c, ""), **counts} for c, counts in people.items()])


@dataclass(frozen=True)
class CardCounts:
    consultant_id: UUID
    name: str
    unsigned: int
    active: int
    void: int
    revoked: int
    duplicates: int


async def card_validity(ctx: Any) -> list[CardCounts]:
    """Cards per consultant by state, and the duplicates (重卡) among them."""
    require_permission(ctx, "automotive.report.read")
    async with unit_of_work(ctx, write=False) as uow:
        states = await uow.select(Card.consultant_id, Card.state, Count()).group_by(Card.consultant_id, Card.state)
        duplicates = await uow.select(Card.consultant_id, Count()).where(Card.duplicate_of.is_not_null()).group_by(
            Card.consultant_id)
        people: dict[UUID, dict[str, int]] = {}
        for row in states:
            people.setdefault(row["consultant_id"], {s: 0 for s in ("unsigned", "active", "void", "revoked")})[
                row["state"]] = row["count"]
        for row in duplicates:
            people.setdefault(row["consultant_id"], {s: 0 for s in ("unsigned", "active", "void", "revoked")})
        dup = {row["consultant_id"]: row["count"] for row in duplicates}
        names = await user_names(uow, list(people))
    return sorted((CardCounts(consultant_id=c, name=names.get(c, ""), duplicates=dup.get(c, 0), **counts)
                   for c, counts in people.items()), key=lambda r: r.name)


@dataclass(frozen=True)
class SmsCompliance:
    consultant_id: UUID
    name: str
    leads: int  # walk-ins and calls that left a phone
    same_day: int
    percent: float | None


async def sms_compliance(ctx: Any, since: date, until: date) -> list[SmsCompliance]:
    """R6-14 per consultant over [since, until] (at most 366 days): leads who left a phone, and how many got
    the first SMS the same day."""
    require_permission(ctx, "automotive.report.read")
    if until < since or (until - since).days > 366:
        raise KehuError("AUTOMOTIVE_INPUT_INVALID", "a range of at most 366 days, from before to",
                        "时间范围须在 366 天以内，且起始早于结束", field="until")
    async with unit_of_work(ctx, write=False) as uow:
        rows = await uow.select(Visit.consultant_id, Visit.sms_same_day, Count()).where(
            (Visit.phone_left == True) & (Visit.day >= since.isoformat())  # noqa: E712
            & (Visit.day <= until.isoformat())).group_by(Visit.consultant_id, Visit.sms_same_day)
        people: dict[UUID, list[int]] = {}
        for row in rows:
            counts = people.setdefault(row["consultant_id"], [0, 0])
            counts[0] += row["count"]
            counts[1] += row["count"] if row["sms_same_day"] else 0
        names = await user_names(uow, list(people))
    return sorted((SmsCompliance(c, names.get(c, ""), n, same, _percent(same, n)) for c, (n, same) in people.items()),
                  key=lambda r: r.name)


