"""GraphQL for export access requests (ask, approve, reject) and customer export download links.
Rules live in core.privacy.access_requests and core.customers.exporting."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.customers import exporting
from core.privacy import access_requests
from gateway.graphql.common import (
    Connection,
    Node,
    UserError,
    ctx_of,
    keyset_connection,
    mutate,
    node_loader,
    page_request,
    parse_id,
    time_id_key,
)
from gateway.graphql.customers import CustomerFilterInput


@strawberry.type(description="What an access request covers: the customer filter and the columns.")
class AccessRequestScope:
    filter: JSON = strawberry.field(description="The customer filter's set fields (status, ownerId, tag, …).")
    fields: list[str] | None = strawberry.field(description="The export's columns; null for all of them.")


@strawberry.type(description="A request to export customer data: requested -> approved | rejected; approved -> "
                             "used | expired.")
class AccessRequest(Node):
    id: strawberry.ID
    requested_by: str
    purpose: str
    scope: AccessRequestScope
    state: str
    approver_role: str
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    expires_at: datetime | None = strawberry.field(description="Until when an approval may be used.")
    used_at: datetime | None
    job_id: strawberry.ID | None = strawberry.field(description="The export job that used it.")
    created_at: datetime

    @classmethod
    def of(cls, view: access_requests.AccessRequestView) -> AccessRequest:
        shown = {k: v for k, v in access_requests.filter_params(view.filter).items() if v is not None}
        names = {"owner_id": "ownerId", "department_id": "departmentId", "review_due": "reviewDue"}
        return cls(id=strawberry.ID(str(view.id)), requested_by=view.requested_by, purpose=view.purpose,
                   scope=AccessRequestScope(filter={names.get(k, k): v for k, v in shown.items()},
                                            fields=list(view.fields) if view.fields is not None else None),
                   state=view.state, approver_role=view.approver_role, decided_by=view.decided_by,
                   decided_at=view.decided_at, reason=view.reason, expires_at=view.expires_at, used_at=view.used_at,
                   job_id=strawberry.ID(str(view.job_id)) if view.job_id else None, created_at=view.created_at)


@strawberry.input
class AccessRequestScopeInput:
    filter: CustomerFilterInput | None = None
    fields: list[str] | None = strawberry.field(default=None, description="Columns of the export; omit for all.")


@strawberry.type
class AccessRequestPayload:
    request: AccessRequest | None = None
    errors: list[UserError]


@strawberry.type
class ExportLinkPayload:
    url: str | None = strawberry.field(default=None, description="GET it with your own credentials (the same "
                                                                 "Authorization header or X-API-Key) to download the "
                                                                 "decrypted file, once, before expiresAt. It holds no "
                                                                 "credential: nobody else can use it.")
    expires_at: datetime | None = None
    errors: list[UserError]


@strawberry.type
class ExportRules:
    approver_role: str
    approval_hours: int
    link_minutes: int


@strawberry.type
class ExportRulesPayload:
    rules: ExportRules | None = None
    errors: list[UserError]


@node_loader("AccessRequest")
async def _access_request(info: Info, request_id: UUID) -> AccessRequest:
    return AccessRequest.of(await access_requests.get_request(ctx_of(info), request_id))


@strawberry.type
class AccessRequestQuery:
    @strawberry.field(description="Export access requests newest first: your own, or all with "
                                  "privacy.export.approve.")
    async def access_requests(self, info: Info, state: str | None = None, first: int | None = None,
                              after: str | None = None, last: int | None = None,
                              before: str | None = None) -> Connection[AccessRequest]:
        request = page_request(info, "accessRequests", first, after, last, before)
        found, more = await access_requests.requests_page(ctx_of(info), request.window(time_id_key), state=state)
        return keyset_connection(request, found, more, lambda v: [v.created_at, v.id], AccessRequest.of)

    @strawberry.field(description="One export access request: your own, or any with privacy.export.approve.")
    async def access_request(self, info: Info, id: strawberry.ID) -> AccessRequest:
        return await _access_request(info, parse_id(id, "id"))


@strawberry.type
class AccessRequestMutation:
    @strawberry.mutation(description="Ask for approval of a customer export: its purpose and scope (filter and "
                                     "columns). Needs privacy.export.request.")
    async def access_request_create(self, info: Info, purpose: str,
                                    scope: AccessRequestScopeInput | None = None) -> AccessRequestPayload:
        async def call() -> dict:
            given = scope or AccessRequestScopeInput()
            where = (given.filter or CustomerFilterInput()).to_core()
            view = await access_requests.create_request(ctx_of(info), purpose=purpose, where=where,
                                                        fields=given.fields)
            return {"request": AccessRequest.of(view)}
        return await mutate(info, AccessRequestPayload, call)

    @strawberry.mutation(description="Approve an export request (not your own); valid for the tenant's approval "
                                     "hours. Needs privacy.export.approve and the tenant's approver role.")
    async def access_request_approve(self, info: Info, id: strawberry.ID) -> AccessRequestPayload:
        async def call() -> dict:
            view = await access_requests.approve_request(ctx_of(info), parse_id(id, "id"))
            return {"request": AccessRequest.of(view)}
        return await mutate(info, AccessRequestPayload, call)

    @strawberry.mutation(description="Reject an export request with a reason. Needs privacy.export.approve and the "
                                     "tenant's approver role.")
    async def access_request_reject(self, info: Info, id: strawberry.ID, reason: str) -> AccessRequestPayload:
        async def call() -> dict:
            view = await access_requests.reject_request(ctx_of(info), parse_id(id, "id"), reason=reason)
            return {"request": AccessRequest.of(view)}
        return await mutate(info, AccessRequestPayload, call)

    @strawberry.mutation(description="A download link for your finished customer export: only you, signed in, can "
                                     "use it, once, until it expires (the tenant's link minutes); ask again for "
                                     "another. Needs customer.export.")
    async def customer_export_link(self, info: Info, job_id: strawberry.ID) -> ExportLinkPayload:
        async def call() -> dict:
            link = await exporting.export_link(ctx_of(info), parse_id(job_id, "jobId"))
            return {"url": link.url, "expires_at": link.expires_at}
        return await mutate(info, ExportLinkPayload, call)

    @strawberry.mutation(description="Change who approves exports (a role name), how long approvals last (hours) "
                                     "and how long download links last (minutes, 1 to 60). Needs "
                                     "tenant.settings.manage.")
    async def export_rules_update(self, info: Info, approver_role: str | None = None,
                                  approval_hours: int | None = None, link_minutes: int | None = None
                                  ) -> ExportRulesPayload:
        async def call() -> dict:
            changes = {k: v for k, v in (("export_approver_role", approver_role),
                                         ("export_approval_hours", approval_hours),
                                         ("export_link_minutes", link_minutes)) if v is not None}
            rules = await access_requests.update_export_rules(ctx_of(info), changes)
            return {"rules": ExportRules(approver_role=rules["export_approver_role"],
                                         approval_hours=rules["export_approval_hours"],
                                         link_minutes=rules["export_link_minutes"])}
        return await mutate(info, ExportRulesPayload, call)
