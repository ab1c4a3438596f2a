"""GraphQL for customer deletion with two-level approval (issue 24, seed-004 §2.4, W6; CSM-9 to
CSM-13): thin resolvers over core.governance.deletions.

``customerDeletionRequestSubmit`` files the deletion application form (《客户信息删除申请表》);
the department head signs (``customerDeletionRequestSign``), the head of customer information
management approves (``customerDeletionRequestApprove``) or either rejects
(``customerDeletionRequestReject``); the system administrator executes
(``customerDeletionExecute``), confirms the purge of the backups
(``customerDeletionBackupPurgeConfirm``) and closes (``customerDeletionRequestClose``). The order is
strict; ``customerDeletionSettingsUpdate(requiresApproval: true)`` routes the direct
``customerErase`` and ``customerDelete`` through the workflow.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from core.governance import deletions
from core.governance.deletion_policy import DeletionSettings
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


@strawberry.type(description="A customer deletion request (客户信息删除申请表, seed-004 §2.4.2) and its approvals.")
class CustomerDeletionRequest:
    id: strawberry.ID
    version: int
    customer_id: strawberry.ID
    department_id: strawberry.ID = strawberry.field(description="The applying department (提出申请的部门).")
    reason: str = strawberry.field(description="BUSINESS_TERMINATED_NOT_NEEDED | DATA_ERROR | DUPLICATE | "
                                               "LEGAL_OR_POLICY")
    reason_details: str = strawberry.field(description="The reason explained (删除原因).")
    customer_details: str | None = strawberry.field(description="客户信息详情, until executed (then erased), to those "
                                                                "who decide it and its submitter.")
    state: str = strawberry.field(description="submitted | dept_head_signed | cim_head_approved | executed | "
                                              "backups_purged | closed | rejected")
    submitted_at: datetime
    submitted_by: str
    signed_by: str | None = strawberry.field(description="The department head who signed (部门负责人审核签字).")
    signed_at: datetime | None
    approved_by: str | None = strawberry.field(description="The head of customer information management.")
    approved_at: datetime | None
    executed_by: str | None = strawberry.field(description="The system administrator who deleted (删除人员).")
    executed_at: datetime | None = strawberry.field(description="删除时间.")
    purge_confirmed_by: str | None
    purge_confirmed_at: datetime | None
    purge_note: str = strawberry.field(description="The storage media or backup sets purged.")
    closed_by: str | None
    closed_at: datetime | None
    rejected_by: str | None
    rejected_at: datetime | None
    rejection_reason: str

    @classmethod
    def of(cls, v: deletions.DeletionRequestView) -> CustomerDeletionRequest:
        return cls(id=strawberry.ID(str(v.id)), version=v.version, customer_id=strawberry.ID(str(v.customer_id)),
                   department_id=strawberry.ID(str(v.department_id)), reason=v.reason,
                   reason_details=v.reason_details, customer_details=v.customer_details, state=v.state,
                   submitted_at=v.submitted_at, submitted_by=v.submitted_by, signed_by=v.signed_by,
                   signed_at=v.signed_at, approved_by=v.approved_by, approved_at=v.approved_at,
                   executed_by=v.executed_by, executed_at=v.executed_at, purge_confirmed_by=v.purge_confirmed_by,
                   purge_confirmed_at=v.purge_confirmed_at, purge_note=v.purge_note, closed_by=v.closed_by,
                   closed_at=v.closed_at, rejected_by=v.rejected_by, rejected_at=v.rejected_at,
                   rejection_reason=v.rejection_reason)


@strawberry.type
class CustomerDeletionRequestPayload:
    deletion_request: CustomerDeletionRequest | None = None
    errors: list[UserError]


@strawberry.type(description="Whether customers are deleted only through approved deletion requests.")
class CustomerDeletionSettings:
    requires_approval: bool = strawberry.field(description="On: customerErase and customerDelete are refused "
                                                           "(DELETION_APPROVAL_REQUIRED); off by default.")

    @classmethod
    def of(cls, s: DeletionSettings) -> CustomerDeletionSettings:
        return cls(requires_approval=s.requires_approval)


@strawberry.type
class CustomerDeletionSettingsPayload:
    settings: CustomerDeletionSettings | None = None
    errors: list[UserError]


@strawberry.type
class GovernanceDeletionQuery:
    @strawberry.field(description="Deletion requests, newest first: all (customer.delete.sign, .approve or "
                                  ".execute) or your own with mine (customer.delete.request); by state, reason and "
                                  "customer. The executed ones are the ledger of deleted customers.")
    async def customer_deletion_requests(self, info: Info, state: str | None = None, reason: str | None = None,
                                         customer_id: strawberry.ID | None = None, mine: bool = False,
                                         first: int | None = None, after: str | None = None,
                                         last: int | None = None,
                                         before: str | None = None) -> Connection[CustomerDeletionRequest]:
        request = page_request(info, "customerDeletionRequests", first, after, last, before)
        found, more = await deletions.deletion_requests_page(
            ctx_of(info), request.window(time_id_key), state=state, reason=reason,
            customer_id=parse_id(customer_id, "customerId") if customer_id else None, mine=mine)
        return keyset_connection(request, found, more, lambda d: [d.submitted_at, d.id], CustomerDeletionRequest.of)

    @strawberry.field(description="One deletion request (those who sign, approve or execute, or its submitter).")
    async def customer_deletion_request(self, info: Info, id: strawberry.ID) -> CustomerDeletionRequest:
        return CustomerDeletionRequest.of(await deletions.get_deletion_request(ctx_of(info), parse_id(id, "id")))

    @strawberry.field(description="The tenant's deletion setting (tenant.settings.manage).")
    async def customer_deletion_settings(self, info: Info) -> CustomerDeletionSettings:
        return CustomerDeletionSettings.of(await deletions.deletion_settings(ctx_of(info)))


@strawberry.type
class GovernanceDeletionMutation:
    @strawberry.mutation(description="File a deletion application form (customer.delete.request): the applying "
                                     "department, the reason and its details, and the customer information "
                                     "details; a missing part is refused (FIELD_REQUIRED) and nothing is filed.")
    async def customer_deletion_request_submit(self, info: Info, customer_id: strawberry.ID,
                                               department_id: strawberry.ID, reason: str | None = None,
                                               reason_details: str | None = None,
                                               customer_details: str | None = None
                                               ) -> CustomerDeletionRequestPayload:
        async def call() -> dict:
            view = await deletions.submit_deletion_request(
                ctx_of(info), parse_id(customer_id, "customerId"), department_id=parse_id(department_id, "departmentId"),
                reason=reason, reason_details=reason_details, customer_details=customer_details)
            return {"deletion_request": CustomerDeletionRequest.of(view)}
        return await mutate(info, CustomerDeletionRequestPayload, call)

    @strawberry.mutation(description="The head of the applying department signs a submitted request "
                                     "(customer.delete.sign; not your own).")
    async def customer_deletion_request_sign(self, info: Info, id: strawberry.ID) -> CustomerDeletionRequestPayload:
        async def call() -> dict:
            view = await deletions.sign_deletion_request(ctx_of(info), parse_id(id, "id"))
            return {"deletion_request": CustomerDeletionRequest.of(view)}
        return await mutate(info, CustomerDeletionRequestPayload, call)

    @strawberry.mutation(description="The head of customer information management approves a signed request "
                                     "(customer.delete.approve; not the submitter nor the signer); before the "
                                     "signature DELETION_NOT_SIGNED.")
    async def customer_deletion_request_approve(self, info: Info,
                                                id: strawberry.ID) -> CustomerDeletionRequestPayload:
        async def call() -> dict:
            view = await deletions.approve_deletion_request(ctx_of(info), parse_id(id, "id"))
            return {"deletion_request": CustomerDeletionRequest.of(view)}
        return await mutate(info, CustomerDeletionRequestPayload, call)

    @strawberry.mutation(description="Reject a request not yet approved, with a reason (the department head while "
                                     "submitted, the head of customer information management until approved).")
    async def customer_deletion_request_reject(self, info: Info, id: strawberry.ID,
                                               reason: str) -> CustomerDeletionRequestPayload:
        async def call() -> dict:
            view = await deletions.reject_deletion_request(ctx_of(info), parse_id(id, "id"), reason=reason)
            return {"deletion_request": CustomerDeletionRequest.of(view)}
        return await mutate(info, CustomerDeletionRequestPayload, call)

    @strawberry.mutation(description="The system administrator (customer.delete.execute) erases the customer of an "
                                     "approved request; not approved: DELETION_NOT_APPROVED.")
    async def customer_deletion_execute(self, info: Info, id: strawberry.ID) -> CustomerDeletionRequestPayload:
        async def call() -> dict:
            view = await deletions.execute_deletion(ctx_of(info), info.context.registry, parse_id(id, "id"))
            return {"deletion_request": CustomerDeletionRequest.of(view)}
        return await mutate(info, CustomerDeletionRequestPayload, call)

    @strawberry.mutation(description="Confirm an executed deletion was purged from every storage medium and backup, "
                                     "naming them in note (customer.delete.execute).")
    async def customer_deletion_backup_purge_confirm(self, info: Info, id: strawberry.ID,
                                                     note: str) -> CustomerDeletionRequestPayload:
        async def call() -> dict:
            view = await deletions.confirm_backup_purge(ctx_of(info), parse_id(id, "id"), note=note)
            return {"deletion_request": CustomerDeletionRequest.of(view)}
        return await mutate(info, CustomerDeletionRequestPayload, call)

    @strawberry.mutation(description="Close a request whose backup purge is confirmed (customer.delete.execute); "
                                     "before: DELETION_BACKUPS_NOT_PURGED.")
    async def customer_deletion_request_close(self, info: Info, id: strawberry.ID) -> CustomerDeletionRequestPayload:
        async def call() -> dict:
            view = await deletions.close_deletion_request(ctx_of(info), parse_id(id, "id"))
            return {"deletion_request": CustomerDeletionRequest.of(view)}
        return await mutate(info, CustomerDeletionRequestPayload, call)

    @strawberry.mutation(description="Turn on or off that customers are deleted only through approved deletion "
                                     "requests (tenant.settings.manage).")
    async def customer_deletion_settings_update(self, info: Info,
                                                requires_approval: bool) -> CustomerDeletionSettingsPayload:
        async def call() -> dict:
            settings = await deletions.update_deletion_settings(ctx_of(info), requires_approval=requires_approval)
            return {"settings": CustomerDeletionSettings.of(settings)}
        return await mutate(info, CustomerDeletionSettingsPayload, call)
