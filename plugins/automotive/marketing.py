"""The market specialist's checks of seed-003 R6, one function per use case: the call-back that verifies
a lead card's source (R6-17) and gifts — requested, signed by the market specialist and the sales
manager (R6-39, R6-64: registered with the market specialist), signed for by the customer; a gift that
never reached its customer costs its requester ten times its value (R6-39)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from piccolo.columns import UUID as UUIDColumn
from piccolo.columns import Boolean, Integer, Text, Timestamptz, Varchar

from core.plugins import (
    EventType,
    KehuError,
    Scope,
    TenantTable,
    customer_record,
    emit,
    fetch_page,
    record,
    require_permission,
    tenant_parameters,
    tenant_table_migration,
    unit_of_work,
)
from plugins.automotive import clock
from plugins.automotive.cards import SOURCES, Card
from plugins.automotive.common import VERTICAL, choice, holds, invalid, text
from plugins.automotive.penalties import add_penalty, add_stated_penalty

GIFT_FINE_TIMES = 10  # R6-39: ten times the gift's value


class SourceCheck(TenantTable, tablename="automotive_source_check"):
    card_id = UUIDColumn()
    consultant_id = UUIDColumn()
    asked = Boolean()  # the consultant asked the customer where they heard of us
    stated_source = Varchar(length=24, null=True, default=None)  # what the customer says
    matches = Boolean()
    note = Text(default="")
    checked_by = Varchar(length=100)
    checked_at = Timestamptz()


class Gift(TenantTable, tablename="automotive_gift"):
    customer_id = UUIDColumn()
    description = Text()
    value_cny = Integer()
    requested_by = Varchar(length=100)
    requester_id = UUIDColumn()
    market_signed_by = Varchar(length=100, null=True, default=None)
    manager_signed_by = Varchar(length=100, null=True, default=None)
    state = Varchar(length=12)  # requested | approved | received | undelivered
    receipt_ref = Varchar(length=100, null=True, default=None)  # the customer's signed receipt (礼品签收单)
    closed_at = Timestamptz(null=True, default=None)


TABLES = (SourceCheck, Gift)
_WHO = "VARCHAR(100)"
MIGRATIONS = (
    tenant_table_migration(14, "lead-card source checks (R6-17)", "automotive_source_check", [
        "card_id UUID NOT NULL", "consultant_id UUID NOT NULL", "asked BOOLEAN NOT NULL", "stated_source VARCHAR(24)",
        "matches BOOLEAN NOT NULL", "note TEXT NOT NULL DEFAULT ''", f"checked_by {_WHO} NOT NULL",
        "checked_at TIMESTAMPTZ NOT NULL",
    ], indexes=(("checked_at",), ("card_id",)), references=(("card_id", "automotive_lead_card"),)),
    tenant_table_migration(15, "gifts (R6-39, R6-64)", "automotive_gift", [
        "customer_id UUID NOT NULL", "description TEXT NOT NULL", "value_cny INTEGER NOT NULL",
        f"requested_by {_WHO} NOT NULL", "requester_id UUID NOT NULL", f"market_signed_by {_WHO}",
        f"manager_signed_by {_WHO}", "state VARCHAR(12) NOT NULL", "receipt_ref VARCHAR(100)", "closed_at TIMESTAMPTZ",
    ], indexes=(("state", "created_at"), ("customer_id",))),
)

EVENT_TYPES = (
    EventType("automotive.source_checked", "automotive_source_check", "matches",
              "the market specialist verified a lead card's source (R6-17)"),
    EventType("automotive.gift_closed", "automotive_gift", "state", "a gift signed for by its customer, or "
              "recorded as never delivered (R6-39)"),
)



async def verify_source(ctx: Any, card_id: UUID, *, asked: bool, stated_source: str | None = None,
                        note: str = "") -> dict[str, Any]:
    """R6-17: the market specialist calls the customer back. The source question not asked, or a source
    other than the card's, costs the card's consultant the fine, once per check."""
    require_permission(ctx, "automotive.market.manage")
    if asked:
        stated_source = choice(stated_source, "statedSource", SOURCES)
    elif stated_source is not None:
        raise invalid("statedSource", "no source was stated when the question was not asked", "未询问来源则无客户所述来源")
    parameters = await tenant_parameters(ctx, VERTICAL)
    async with unit_of_work(ctx) as uow:
        card = await uow.select(Card).where(Card.id == card_id).first()
        if card is None:
            raise KehuError("AUTOMOTIVE_CARD_NOT_FOUND", f"no lead card {card_id}", f"未找到信息卡 {card_id}", field="cardId")
        matches = bool(asked) and stated_source == card["source"]
        check_id = uuid4()
        at = clock.now()
        await uow.insert(SourceCheck(id=check_id, card_id=card_id, consultant_id=card["consultant_id"], asked=bool(asked),
                                     stated_source=stated_source, matches=matches,
                                     note=text(note, "note", 2000, required=False), checked_by=ctx.actor, checked_at=at))
        if not matches:
            why = "the source question was not asked" if not asked else (
                f"the customer names {stated_source}, the card {card['source']}")
            await add_penalty(uow, parameters, "R6-17", card["consultant_id"], at=at, reason=why,
                              source_key=f"source_check:{check_id}", actor=ctx.actor)
        await record(uow, "automotive.source_checked", "automotive_source_check", check_id,
                     {"card_id": card_id, "matches": matches})
        await emit(uow, "automotive.source_checked", "automotive_source_check", check_id, ("matches",))
        return await uow.select(SourceCheck).where(SourceCheck.id == check_id).first()


async def source_checks(ctx: Any, window: Any, *, mismatches_only: bool = False) -> tuple[list[dict], bool]:
    if not holds(ctx, "automotive.market.manage"):
        require_permission(ctx, "automotive.report.read")
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(SourceCheck)
        if mismatches_only:
            query = query.where(SourceCheck.matches == False)  # noqa: E712
        return await fetch_page(query, [SourceCheck.checked_at, SourceCheck.id], window, descending=True)


async def request_gift(ctx: Any, customer_id: UUID, *, description: str, value_cny: int) -> dict[str, Any]:
    """A consultant asks for a gift for a customer (礼品申请表)."""
    require_permission(ctx, "automotive.lead.write")
    if isinstance(value_cny, bool) or not isinstance(value_cny, int) or not 1 <= value_cny <= 1_000_000:
        raise invalid("valueCny", "the gift's value is 1 to 1,000,000 CNY", "礼品价值须为 1 至 1,000,000 元")
    if ctx.user_id is None:
        raise invalid("customerId", "a person asks for a gift", "须由员工申请礼品")
    async with unit_of_work(ctx) as uow:
        if await customer_record(uow, customer_id) is None:
            raise KehuError("CUSTOMER_NOT_FOUND", f"no customer {customer_id}", f"未找到客户 {customer_id}",
                            field="customerId")
        gift_id = uuid4()
        await uow.insert(Gift(id=gift_id, customer_id=customer_id, description=text(description, "description", 500),
                              value_cny=value_cny, requested_by=ctx.actor, requester_id=ctx.user_id, state="requested"))
        await record(uow, "automotive.gift_requested", "automotive_gift", gift_id, {"value_cny": value_cny})
        return await uow.select(Gift).where(Gift.id == gift_id).first()


async def _gift(uow: Any, gift_id: UUID) -> dict[str, Any]:
    row = await uow.select(Gift).where(Gift.id == gift_id).first()
    if row is None:
        raise KehuError("AUTOMOTIVE_GIFT_NOT_FOUND", f"no gift {gift_id}", f"未找到礼品申请 {gift_id}", field="id")
    return row


async def sign_gift(ctx: Any, gift_id: UUID) -> dict[str, Any]:
    """R6-39, R6-64: the market specialist (who registers it) and the sales manager sign the request;
    with both it is approved. Never its requester."""
    market = holds(ctx, "automotive.market.manage")
    if not market:
        require_permission(ctx, "automotive.expense.approve")
    async with unit_of_work(ctx) as uow:
        row = await _gift(uow, gift_id)
        if row["requester_id"] == ctx.user_id:
            raise KehuError("AUTOMOTIVE_SELF_SIGNATURE", "nobody signs their own gift request", "不能为自己的礼品申请签字",
                            field="id")
        column = Gift.market_signed_by if market else Gift.manager_signed_by
        if row["state"] != "requested" or row[column._meta.name] is not None:
            raise KehuError("AUTOMOTIVE_GIFT_STATE", "this gift is not waiting for that signature", "该礼品申请无需此签字",
                            field="id")
        values: dict[Any, Any] = {column: ctx.actor}
        other = row["manager_signed_by"] if market else row["market_signed_by"]
        if other is not None:
            values[Gift.state] = "approved"
        await uow.update(Gift, values).where(Gift.id == gift_id)
        await record(uow, "automotive.gift_signed", "automotive_gift", gift_id, {"as": "market" if market else "manager"})
        return await _gift(uow, gift_id)


async def close_gift(ctx: Any, gift_id: UUID, *, received: bool, receipt_ref: str | None = None) -> dict[str, Any]:
    """The market specialist records the customer's signed receipt (礼品签收单), or that the gift never
    reached the customer: its requester is fined ten times its value (R6-39)."""
    require_permission(ctx, "automotive.market.manage")
    async with unit_of_work(ctx) as uow:
        row = await _gift(uow, gift_id)
        if row["state"] != "approved":
            raise KehuError("AUTOMOTIVE_GIFT_STATE", "only an approved gift is handed over", "只有已审批的礼品可以发放",
                            field="id")
        at = clock.now()
        if received:
            receipt = text(receipt_ref, "receiptRef", 100)
            await uow.update(Gift, {Gift.state: "received", Gift.receipt_ref: receipt, Gift.closed_at: at}).where(
                Gift.id == gift_id)
        else:
            await uow.update(Gift, {Gift.state: "undelivered", Gift.closed_at: at}).where(Gift.id == gift_id)
            await add_stated_penalty(uow, "R6-39", row["requester_id"], GIFT_FINE_TIMES * row["value_cny"], at=at,
                                     reason=f"the gift '{row['description']}' did not reach the customer",
                                     source_key=f"gift:{gift_id}", actor=ctx.actor)
        await record(uow, "automotive.gift_closed", "automotive_gift", gift_id, {"received": bool(received)})
        await emit(uow, "automotive.gift_closed", "automotive_gift", gift_id, ("state",))
        return await _gift(uow, gift_id)


async def gifts(ctx: Any, window: Any, *, state: str | None = None) -> tuple[list[dict], bool]:
    scope = None
    if not holds(ctx, "automotive.market.manage") and not holds(ctx, "automotive.expense.approve"):
        scope = require_permission(ctx, "automotive.lead.write")
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(Gift)
        if scope is not None and scope is not Scope.TENANT:
            query = query.where(Gift.requester_id == ctx.user_id)
        if state is not None:
            query = query.where(Gift.state == choice(state, "state", ("requested", "approved", "received",
                                                                      "undelivered")))
        return await fetch_page(query, [Gift.created_at, Gift.id], window, descending=True)
