"""GraphQL of the sales floor's KPIs (``automotiveSalesRates``, ``automotiveCardValidity``,
``automotiveSmsCompliance``). Resolvers only call ``reports``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import strawberry

from core.plugins import GraphQLTypes, context
from plugins.automotive import reports


@strawberry.type(name="AutomotiveConsultantRates", description="One consultant's rates over the period (R6-30).")
class RatesNode:
    consultant_id: strawberry.ID
    name: str
    visits: int = strawberry.field(description="Walk-ins and calls registered (S17).")
    orders: int = strawberry.field(description="Orders that became effective.")
    phones_left: int
    test_drives: int
    closing_rate: float | None = strawberry.field(description="成交率: orders per visit, percent.")
    phone_rate: float | None = strawberry.field(description="留电率: phones left per visit, percent.")
    test_drive_rate: float | None = strawberry.field(description="试乘试驾率: test drives per visit, percent.")
    score: float | None = strawberry.field(description="The mean of the three rates, which ranks consultants.")
    bottom: bool = strawberry.field(description="末位: the lowest score of the period (retraining or dismissal).")


@strawberry.type(name="AutomotiveSalesRates", description="Closing, phone-capture and test-drive rates per consultant "
                                                         "over two months, best first (R6-30).")
class SalesRates:
    since: date
    until: date = strawberry.field(description="The first day after the period.")
    consultants: list[RatesNode]


@strawberry.type(name="AutomotiveCardCounts", description="One consultant's lead cards by state and duplicates.")
class CardCountsNode:
    consultant_id: strawberry.ID
    name: str
    unsigned: int
    active: int
    void: int
    revoked: int
    duplicates: int


@strawberry.type(name="AutomotiveCardValidity", description="Lead-card validity per consultant (R6-1 to R6-7).")
class CardValidity:
    consultants: list[CardCountsNode]


@strawberry.type(name="AutomotiveSmsComplianceRow", description="One consultant's same-day first SMS (R6-14).")
class SmsNode:
    consultant_id: strawberry.ID
    name: str
    leads: int
    same_day: int
    percent: float | None


@strawberry.type(name="AutomotiveSmsCompliance", description="Same-day first-SMS compliance per consultant (R6-14).")
class SmsCompliance:
    since: date
    until: date
    consultants: list[SmsNode]


def _fields(value: Any) -> dict[str, Any]:
    found = dict(value.__dict__)
    found["consultant_id"] = strawberry.ID(str(found["consultant_id"]))
    return found


@strawberry.type
class ReportQuery:
    @strawberry.field(description="R6-30: rates per consultant over the two months from `from` (YYYY-MM).")
    async def automotive_sales_rates(self, info: strawberry.Info,
                                     since: Annotated[str, strawberry.argument(name="from")]) -> SalesRates:
        start, end, rows = await reports.sales_rates(context(info), since)
        return SalesRates(since=start, until=end, consultants=[RatesNode(**_fields(r)) for r in rows])

    @strawberry.field(description="Lead cards per consultant by state, with duplicates.")
    async def automotive_card_validity(self, info: strawberry.Info) -> CardValidity:
        return CardValidity(consultants=[CardCountsNode(**_fields(r)) for r in await reports.card_validity(context(info))])

    @strawberry.field(description="R6-14 over [from, to] (at most 366 days).")
    async def automotive_sms_compliance(self, info: strawberry.Info,
                                        since: Annotated[date, strawberry.argument(name="from")],
                                        until: Annotated[date, strawberry.argument(name="to")]) -> SmsCompliance:
        rows = await reports.sms_compliance(context(info), since, until)
        return SmsCompliance(since=since, until=until, consultants=[SmsNode(**_fields(r)) for r in rows])


GRAPHQL = (GraphQLTypes(query=ReportQuery),)


def _isolation_operations() -> tuple[Any, ...]:
    from core.plugins import IsolationOperation as Op

    return (
        Op('{ automotiveSalesRates(from: "2026-11") { since consultants { consultantId visits } } }'),
        Op("{ automotiveCardValidity { consultants { consultantId active } } }"),
        Op('{ automotiveSmsCompliance(from: "2026-11-01", to: "2026-11-30") { consultants { consultantId leads } } }'),
    )


ISOLATION_OPERATIONS = _isolation_operations()
