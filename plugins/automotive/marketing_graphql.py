"""GraphQL of the market specialist's checks: lead-card source call-backs (R6-17) and gifts (R6-39, R6-64).
Resolvers only call ``marketing``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from core.plugins import Connection, GraphQLTypes, UserError, connection, context, page_request, parse_id, run_mutation
from plugins.automotive import marketing
from plugins.automotive.common import time_key


@strawberry.type(name="AutomotiveSourceCheck", description="A call-back verifying a lead card's source (R6-17).")
class CheckNode:
    id: strawberry.ID
    card_id: strawberry.ID
    consultant_id: strawberry.ID
    asked: bool = strawberry.field(description="Whether the consultant had asked the customer's source.")
    stated_source: str | None
    matches: bool
    note: str
    checked_at: datetime


def check_node(row: dict[str, Any]) -> CheckNode:
    return CheckNode(id=strawberry.ID(str(row["id"])), card_id=strawberry.ID(str(row["card_id"])),
                     consultant_id=strawberry.ID(str(row["consultant_id"])), asked=row["asked"],
                     stated_source=row["stated_source"], matches=row["matches"], note=row["note"],
                     checked_at=row["checked_at"])


@strawberry.type(name="AutomotiveGift", description="A gift request (礼品申请表) and its receipt (礼品签收单), R6-39.")
class GiftNode:
    id: strawberry.ID
    customer_id: strawberry.ID
    description: str
    value_cny: int
    requester_id: strawberry.ID
    market_signed_by: str | None
    manager_signed_by: str | None
    state: str = strawberry.field(description="requested | approved | received | undelivered")
    receipt_ref: str | None
    closed_at: datetime | None


def gift_node(row: dict[str, Any]) -> GiftNode:
    return GiftNode(id=strawberry.ID(str(row["id"])), customer_id=strawberry.ID(str(row["customer_id"])),
                    description=row["description"], value_cny=row["value_cny"],
                    requester_id=strawberry.ID(str(row["requester_id"])), market_signed_by=row["market_signed_by"],
                    manager_signed_by=row["manager_signed_by"], state=row["state"], receipt_ref=row["receipt_ref"],
                    closed_at=row["closed_at"])


@strawberry.type(name="AutomotiveSourceCheckPayload")
class CheckPayload:
    check: CheckNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(name="AutomotiveGiftPayload")
class GiftPayload:
    gift: GiftNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MarketingQuery:
    @strawberry.field(description="Source call-backs, newest first (R6-17).")
    async def automotive_source_checks(self, info: strawberry.Info, mismatches_only: bool = False,
                                       first: int | None = None, after: str | None = None, last: int | None = None,
                                       before: str | None = None) -> Connection[CheckNode]:
        request = page_request(info, "automotive.source_checks", first, after, last, before)
        rows, more = await marketing.source_checks(context(info), request.window(time_key),
                                                   mismatches_only=mismatches_only)
        return connection(request, rows, more, lambda r: (r["checked_at"], r["id"]), check_node)

    @strawberry.field(description="Gifts, newest first: all for the market specialist and the manager, else one's own.")
    async def automotive_gifts(self, info: strawberry.Info, state: str | None = None, first: int | None = None,
                               after: str | None = None, last: int | None = None,
                               before: str | None = None) -> Connection[GiftNode]:
        request = page_request(info, "automotive.gifts", first, after, last, before)
        rows, more = await marketing.gifts(context(info), request.window(time_key), state=state)
        return connection(request, rows, more, lambda r: (r["created_at"], r["id"]), gift_node)


@strawberry.type
class MarketingMutation:
    @strawberry.mutation(description="The market specialist's call-back: was the source asked, and does the customer's "
                                     "answer match the card (R6-17)?")
    async def automotive_source_verify(self, info: strawberry.Info, card_id: strawberry.ID, asked: bool,
                                       stated_source: str | None = None, note: str = "") -> CheckPayload:
        async def call() -> dict:
            return {"check": check_node(await marketing.verify_source(
                context(info), parse_id(card_id, "cardId"), asked=asked, stated_source=stated_source, note=note))}

        return await run_mutation(info, CheckPayload, call)

    @strawberry.mutation(description="A consultant requests a gift for a customer (R6-39).")
    async def automotive_gift_request(self, info: strawberry.Info, customer_id: strawberry.ID, description: str,
                                      value_cny: int) -> GiftPayload:
        async def call() -> dict:
            return {"gift": gift_node(await marketing.request_gift(context(info), parse_id(customer_id, "customerId"),
                                                                   description=description, value_cny=value_cny))}

        return await run_mutation(info, GiftPayload, call)

    @strawberry.mutation(description="The market specialist (registering it, R6-64) or the sales manager signs a gift "
                                     "request; both make it approved (R6-39).")
    async def automotive_gift_sign(self, info: strawberry.Info, id: strawberry.ID) -> GiftPayload:
        async def call() -> dict:
            return {"gift": gift_node(await marketing.sign_gift(context(info), parse_id(id, "id")))}

        return await run_mutation(info, GiftPayload, call)

    @strawberry.mutation(description="The customer's signed receipt, or the gift never delivered: ten times its value "
                                     "fined to its requester (R6-39).")
    async def automotive_gift_close(self, info: strawberry.Info, id: strawberry.ID, received: bool,
                                    receipt_ref: str | None = None) -> GiftPayload:
        async def call() -> dict:
            return {"gift": gift_node(await marketing.close_gift(context(info), parse_id(id, "id"), received=received,
                                                                 receipt_ref=receipt_ref))}

        return await run_mutation(info, GiftPayload, call)


GRAPHQL = (GraphQLTypes(query=MarketingQuery, mutation=MarketingMutation),)

_ZERO = '"00000000-0000-0000-0000-000000000000"'


def _isolation_operations() -> tuple[Any, ...]:
    from core.plugins import IsolationOperation as Op

    c, g = "customer", "automotive_gift"
    customer = ('mutation($mark: String!) { customerCreate(input: {kind: "person", surname: "吴", givenName: $mark, '
                'status: "potential"}) { customer { id } errors { code } } }')
    return (
        Op(customer, makes=(c, "customer.id")),
        # a check needs a lead card, made the day of the first contact: driven in tests/automotive/test_marketing.py
        Op("mutation { automotiveSourceVerify(cardId: %s, asked: false) { check { id } errors { code } } }" % _ZERO),
        Op("{ automotiveSourceChecks(first: 100) { nodes { id cardId } } }"),
        Op('mutation($c: ID!) { automotiveGiftRequest(customerId: $c, description: "保温杯", valueCny: 80) '
           '{ gift { id customerId } errors { code } } }', ids=(("c", c),), makes=(g, "gift.id")),
        Op("{ automotiveGifts(first: 100) { nodes { id customerId } } }", lists=(g, "nodes.*.id")),
        # signing and closing go once each and never by the requester: driven in tests/automotive/test_marketing.py
        Op("mutation { automotiveGiftSign(id: %s) { gift { id } errors { code } } }" % _ZERO),
        Op("mutation { automotiveGiftClose(id: %s, received: true, receiptRef: \"x\") { gift { id } errors { code } } }"
           % _ZERO),
    )


ISOLATION_OPERATIONS = _isolation_operations()
