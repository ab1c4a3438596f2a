"""GraphQL for A/B posts (seed 001 S21 Art5): thin resolvers over core.identity.delegations.

``postDelegationCreate`` hands one of a user's roles to a colleague for a window, with the handover
record; the colleague holds its permissions only inside the window (checked on every request) and
until ``postDelegationEnd``. ``postDelegations`` lists the handover records."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from core.identity import delegations
from gateway.graphql.common import (
    Connection,
    UserError,
    ctx_of,
    keyset_connection,
    mutate,
    page_request,
    parse_id,
    time_id_key,
)


@strawberry.type(description="A post (role) delegated from its holder to a colleague for a time window, with the "
                             "handover record (A/B posts, S21 Art5).")
class PostDelegation:
    id: strawberry.ID
    role_id: strawberry.ID
    from_user_id: strawberry.ID = strawberry.field(description="The post's holder (A).")
    to_user_id: strawberry.ID = strawberry.field(description="The colleague acting for A (B).")
    starts_at: datetime
    ends_at: datetime
    handover: str = strawberry.field(description="The handover record (交接记录).")
    created_by: str
    created_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    return_note: str
    active: bool = strawberry.field(description="B holds the role's permissions now.")

    @classmethod
    def of(cls, v: delegations.DelegationView) -> PostDelegation:
        return cls(id=strawberry.ID(str(v.id)), role_id=strawberry.ID(str(v.role_id)),
                   from_user_id=strawberry.ID(str(v.from_user_id)), to_user_id=strawberry.ID(str(v.to_user_id)),
                   starts_at=v.starts_at, ends_at=v.ends_at, handover=v.handover, created_by=v.created_by,
                   created_at=v.created_at, ended_at=v.ended_at, ended_by=v.ended_by, return_note=v.return_note,
                   active=v.active(delegations.now()))


@strawberry.type
class PostDelegationPayload:
    delegation: PostDelegation | None = None
    errors: list[UserError]


@strawberry.type
class DelegationQuery:
    @strawberry.field(description="Handover records of A/B posts, latest start first: all of them with role.read, "
                                  "else those you gave or received.")
    async def post_delegations(self, info: Info, first: int | None = None, after: str | None = None,
                               last: int | None = None, before: str | None = None) -> Connection[PostDelegation]:
        request = page_request(info, "postDelegations", first, after, last, before)
        found, more = await delegations.delegation_page(ctx_of(info), request.window(time_id_key))
        return keyset_connection(request, found, more, lambda d: [d.starts_at, d.id], PostDelegation.of)


@strawberry.type
class DelegationMutation:
    @strawberry.mutation(description="Hand one of a user's roles (a post) to a colleague from startsAt to endsAt (at "
                                     "most 90 days) with the handover record: the post's holder for their own post, "
                                     "else a holder of role.grant; whoever delegates holds what the role gives.")
    async def post_delegation_create(self, info: Info, role_id: strawberry.ID, from_user_id: strawberry.ID,
                                     to_user_id: strawberry.ID, starts_at: datetime, ends_at: datetime,
                                     handover: str) -> PostDelegationPayload:
        async def call() -> dict:
            view = await delegations.delegate_post(
                ctx_of(info), role_id=parse_id(role_id, "roleId"), from_user_id=parse_id(from_user_id, "fromUserId"),
                to_user_id=parse_id(to_user_id, "toUserId"), starts_at=starts_at, ends_at=ends_at, handover=handover)
            return {"delegation": PostDelegation.of(view)}
        return await mutate(info, PostDelegationPayload, call)

    @strawberry.mutation(description="End a delegation now (A is back), with the return note; by A, B or a holder of "
                                     "role.grant.")
    async def post_delegation_end(self, info: Info, id: strawberry.ID, note: str | None = None) -> PostDelegationPayload:
        async def call() -> dict:
            view = await delegations.end_delegation(ctx_of(info), parse_id(id, "id"), note=note or "")
            return {"delegation": PostDelegation.of(view)}
        return await mutate(info, PostDelegationPayload, call)
