"""GraphQL of the penalty ledger: ``automotivePenalties``, ``automotivePenaltyRecord``,
``automotivePenaltyCancel``. Resolvers only call ``penalties``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from core.plugins import Connection, GraphQLTypes, UserError, connection, context, page_request, parse_id, run_mutation
from plugins.automotive import penalties
from plugins.automotive.common import time_key


@strawberry.type(name="AutomotivePenalty", description="One fine of the penalty ledger (R6); payroll reads it, kehu "
                                                       "never deducts pay.")
class PenaltyNode:
    id: strawberry.ID
    user_id: strawberry.ID
    rule: str = strawberry.field(description="The rule of seed-003 R6 (R6-51D).")
    amount_cny: int
    quantity: int
    reason: str
    source: str | None = strawberry.field(description="What caused it, when software recorded it.")
    at: datetime
    recorded_by: str
    cancelled_at: datetime | None
    cancel_reason: str | None


def penalty_node(row: dict[str, Any]) -> PenaltyNode:
    return PenaltyNode(id=strawberry.ID(str(row["id"])), user_id=strawberry.ID(str(row["user_id"])), rule=row["rule"],
                       amount_cny=row["amount_cny"], quantity=row["quantity"], reason=row["reason"],
                       source=row["source_key"], at=row["at"], recorded_by=row["recorded_by"],
                       cancelled_at=row["cancelled_at"], cancel_reason=row["cancel_reason"])


@strawberry.type(name="AutomotivePenaltyPayload")
class PenaltyPayload:
    penalty: PenaltyNode | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PenaltyQuery:
    @strawberry.field(description="The penalty ledger, newest first: everyone's with automotive.penalty.read, else "
                                  "one's own.")
    async def automotive_penalties(self, info: strawberry.Info, user_id: strawberry.ID | None = None,
                                   rule: str | None = None, since: datetime | None = None,
                                   until: datetime | None = None, first: int | None = None, after: str | None = None,
                                   last: int | None = None, before: str | None = None) -> Connection[PenaltyNode]:
        request = page_request(info, "automotive.penalties", first, after, last, before)
        rows, more = await penalties.penalties(
            context(info), request.window(time_key), user_id=parse_id(user_id, "userId") if user_id else None,
            rule=rule, since=since, until=until)
        return connection(request, rows, more, lambda r: (r["at"], r["id"]), penalty_node)


@strawberry.type
class PenaltyMutation:
    @strawberry.mutation(description="The sales manager records a fine a person judged (a rule of R6 at the tenant's "
                                     "amount times quantity; R6-39/45/48/49 with the amount stated).")
    async def automotive_penalty_record(self, info: strawberry.Info, user_id: strawberry.ID, rule: str, reason: str,
                                        quantity: int = 1, amount_cny: int | None = None) -> PenaltyPayload:
        async def call() -> dict:
            return {"penalty": penalty_node(await penalties.record_penalty(
                context(info), parse_id(user_id, "userId"), rule, reason=reason, quantity=quantity,
                amount_cny=amount_cny))}

        return await run_mutation(info, PenaltyPayload, call)

    @strawberry.mutation(description="Cancel a fine recorded by mistake, with the reason (it stays in the ledger).")
    async def automotive_penalty_cancel(self, info: strawberry.Info, id: strawberry.ID, reason: str) -> PenaltyPayload:
        async def call() -> dict:
            return {"penalty": penalty_node(await penalties.cancel_penalty(context(info), parse_id(id, "id"),
                                                                           reason=reason))}

        return await run_mutation(info, PenaltyPayload, call)


GRAPHQL = (GraphQLTypes(query=PenaltyQuery, mutation=PenaltyMutation),)


def _isolation_operations() -> tuple[Any, ...]:
    from core.plugins import IsolationOperation as Op

    return (
        Op("{ automotivePenalties(first: 100) { nodes { id userId rule amountCny } } }"),
        # recording needs another user of the tenant (never oneself): driven in tests/automotive/test_penalties.py
        Op('mutation { automotivePenaltyRecord(userId: "00000000-0000-0000-0000-000000000000", rule: "R6-36", '
           'reason: "x") { penalty { id } errors { code } } }'),
        Op('mutation { automotivePenaltyCancel(id: "00000000-0000-0000-0000-000000000000", reason: "x") '
           '{ penalty { id } errors { code } } }'),
    )


ISOLATION_OPERATIONS = _isolation_operations()
