"""GraphQL for high-risk grants (issue 24, seed-004 CSM-21): thin resolvers over
core.identity.grants.

With ``highRiskGrantPolicySet(enabled: true)`` a ``roleGrant`` (or ``userCreate`` with roles) that
gives its user a high-risk permission they do not hold yet does not give the role: it appears in
``pendingGrants`` until a department head (``role.grant.approve``, neither the requester nor the
grantee, holding what the role gives) approves it with ``pendingGrantApprove`` or rejects it with a
reason (``pendingGrantReject``).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from strawberry.scalars import JSON

from core.customers import exporting
from core.identity import grants, reviews
from gateway.graphql.common import Connection, UserError, ctx_of, keyset_connection, mutate, page_request, parse_id, \
    time_id_key


@strawberry.enum(description="The state of a pending grant.")
class PendingGrantState(Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@strawberry.type(description="A role granted to a user that gives a high-risk permission: held only once approved.")
class PendingGrant:
    id: strawberry.ID
    user_id: strawberry.ID
    role_id: strawberry.ID
    requested_by: str
    requested_at: datetime
    high_risk: list[str] = strawberry.field(description="The high-risk permissions the grant gives the user.")
    state: PendingGrantState
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None

    @classmethod
    def of(cls, view: grants.PendingGrantView) -> PendingGrant:
        return cls(id=strawberry.ID(str(view.id)), user_id=strawberry.ID(str(view.user_id)),
                   role_id=strawberry.ID(str(view.role_id)), requested_by=view.requested_by,
                   requested_at=view.requested_at, high_risk=list(view.high_risk),
                   state=PendingGrantState(view.state), decided_by=view.decided_by, decided_at=view.decided_at,
                   decision_reason=view.decision_reason)


@strawberry.type(description="Whether grants of high-risk permissions wait for approval, and which permissions are "
                             "high-risk.")
class HighRiskGrantPolicy:
    enabled: bool
    permissions: list[str]


@strawberry.type(description="A review of a user's permissions opened by a change of their department (CSM-22).")
class PermissionReview:
    id: strawberry.ID
    user_id: strawberry.ID
    trigger: str = strawberry.field(description="What opened it: department_changed.")
    change: JSON = strawberry.field(description="{field: [before, after]}")
    opened_at: datetime
    state: str = strawberry.field(description="open | closed")
    outcome: str | None = strawberry.field(description="kept | adjusted")
    note: str | None
    closed_by: str | None
    closed_at: datetime | None

    @classmethod
    def of(cls, view: reviews.ReviewView) -> PermissionReview:
        return cls(id=strawberry.ID(str(view.id)), user_id=strawberry.ID(str(view.user_id)), trigger=view.trigger,
                   change=view.change, opened_at=view.opened_at, state=view.state, outcome=view.outcome,
                   note=view.note, closed_by=view.closed_by, closed_at=view.closed_at)


@strawberry.type
class PermissionReviewPayload:
    review: PermissionReview | None = None
    errors: list[UserError]


@strawberry.type(description="The tenant's DLP policy for bulk exports carrying contact methods (CSM-26): off, "
                             "flag (allowed, flagged in the audit log and by an event) or block.")
class ExportDlpPolicy:
    mode: str


@strawberry.type
class ExportDlpPolicyPayload:
    policy: ExportDlpPolicy | None = None
    errors: list[UserError]


@strawberry.type
class PendingGrantPayload:
    grant: PendingGrant | None = None
    errors: list[UserError]


@strawberry.type
class HighRiskGrantPolicyPayload:
    policy: HighRiskGrantPolicy | None = None
    errors: list[UserError]


@strawberry.type
class GrantQuery:
    @strawberry.field(description="Grants of high-risk permissions, newest first (role.read); state filters.")
    async def pending_grants(self, info: Info, state: PendingGrantState | None = None, first: int | None = None,
                             after: str | None = None, last: int | None = None,
                             before: str | None = None) -> Connection[PendingGrant]:
        request = page_request(info, "pendingGrants", first, after, last, before)
        views, more = await grants.pending_grants_page(ctx_of(info), request.window(time_id_key),
                                                       state=state.value if state else None)
        return keyset_connection(request, views, more, lambda v: [v.requested_at, v.id], PendingGrant.of)

    @strawberry.field(description="Permission reviews opened by department changes, newest first (user.read; "
                                  "CSM-22); state is open or closed.")
    async def permission_reviews(self, info: Info, state: str | None = None, user_id: strawberry.ID | None = None,
                                 first: int | None = None, after: str | None = None, last: int | None = None,
                                 before: str | None = None) -> Connection[PermissionReview]:
        request = page_request(info, "permissionReviews", first, after, last, before)
        views, more = await reviews.reviews_page(ctx_of(info), request.window(time_id_key), state=state,
                                                 user_id=parse_id(user_id, "userId") if user_id else None)
        return keyset_connection(request, views, more, lambda v: [v.opened_at, v.id], PermissionReview.of)

    @strawberry.field(description="The tenant's export DLP policy (customer.export; CSM-26).")
    async def export_dlp_policy(self, info: Info) -> ExportDlpPolicy:
        return ExportDlpPolicy(mode=(await exporting.get_dlp_policy(ctx_of(info))).mode)

    @strawberry.field(description="The tenant's high-risk grant policy (role.read).")
    async def high_risk_grant_policy(self, info: Info) -> HighRiskGrantPolicy:
        policy = await grants.get_grant_policy(ctx_of(info))
        return HighRiskGrantPolicy(enabled=policy.enabled, permissions=list(policy.permissions))


@strawberry.type
class GrantMutation:
    @strawberry.mutation(description="Turn approval of high-risk grants on or off and name the high-risk permissions "
                                     "(tenant.settings.manage; CSM-21).")
    async def high_risk_grant_policy_set(self, info: Info, enabled: bool,
                                         permissions: list[str] | None = None) -> HighRiskGrantPolicyPayload:
        async def call() -> dict:
            policy = await grants.set_grant_policy(ctx_of(info), enabled=enabled, permissions=permissions)
            return {"policy": HighRiskGrantPolicy(enabled=policy.enabled, permissions=list(policy.permissions))}
        return await mutate(info, HighRiskGrantPolicyPayload, call)

    @strawberry.mutation(description="Approve a pending grant: the user gets the role (role.grant.approve; not the "
                                     "requester nor the grantee; the approver holds what the role gives).")
    async def pending_grant_approve(self, info: Info, id: strawberry.ID) -> PendingGrantPayload:
        async def call() -> dict:
            return {"grant": PendingGrant.of(await grants.approve_grant(ctx_of(info), parse_id(id, "id")))}
        return await mutate(info, PendingGrantPayload, call)

    @strawberry.mutation(description="Reject a pending grant with a reason (role.grant.approve); the user does not get "
                                     "the role.")
    async def pending_grant_reject(self, info: Info, id: strawberry.ID, reason: str) -> PendingGrantPayload:
        async def call() -> dict:
            return {"grant": PendingGrant.of(await grants.reject_grant(ctx_of(info), parse_id(id, "id"),
                                                                       reason=reason))}
        return await mutate(info, PendingGrantPayload, call)

    @strawberry.mutation(description="Close a permission review with its outcome, kept or adjusted, and a note "
                                     "(role.grant; CSM-22).")
    async def permission_review_close(self, info: Info, id: strawberry.ID, outcome: str,
                                      note: str = "") -> PermissionReviewPayload:
        async def call() -> dict:
            view = await reviews.close_review(ctx_of(info), parse_id(id, "id"), outcome=outcome, note=note)
            return {"review": PermissionReview.of(view)}
        return await mutate(info, PermissionReviewPayload, call)

    @strawberry.mutation(description="Set the export DLP mode: off, flag or block bulk exports of contact methods "
                                     "(tenant.settings.manage; CSM-26).")
    async def export_dlp_policy_set(self, info: Info, mode: str) -> ExportDlpPolicyPayload:
        async def call() -> dict:
            return {"policy": ExportDlpPolicy(mode=(await exporting.set_dlp_policy(ctx_of(info), mode=mode)).mode)}
        return await mutate(info, ExportDlpPolicyPayload, call)
