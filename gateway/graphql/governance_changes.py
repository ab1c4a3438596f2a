"""GraphQL for key-field change requests of customer records and the quarterly review report
(issue 24, seed-004 §2.3, CSM-4 to CSM-8): thin resolvers over core.governance.changes.

``customerChangeRequestSubmit`` files a change (the same input as ``customerUpdate``) against the
version read; the specialist (``customer.change.apply``, never the submitter) applies it
(``customerChangeRequestApply``) or rejects it with a reason (``customerChangeRequestReject``). A
key change is due ``slaWorkingDays`` working days after ``changeOccurredOn`` and flagged
``breached`` when applied later; ``customerChangeRequests(overdue: true)`` lists the open ones
past their deadline. ``customerReviewOverdue`` lists the customers without a full review in a
calendar quarter.
"""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.governance import changes
from core.governance.change_policy import ChangeSettings
from gateway.graphql.common import (
    Connection,
    UserError,
    ctx_of,
    keyset_connection,
    list_connection,
    mutate,
    page_request,
    parse_id,
    time_id_key,
)
from gateway.graphql.customers import CustomerInput


@strawberry.type(description="A change of a customer record awaiting, or after, the specialist's verification "
                             "(seed-004 §2.3.2).")
class CustomerChangeRequest:
    id: strawberry.ID
    version: int
    customer_id: strawberry.ID
    base_version: int = strawberry.field(description="The customer's version the change was filed against.")
    fields: list[str] = strawberry.field(description="The dotted customer fields it changes.")
    key_fields: list[str] = strawberry.field(description="Those of them the tenant declares key.")
    is_key: bool
    reason: str
    change_occurred_on: date = strawberry.field(description="变更发生: the day the change happened.")
    sla_working_days: int | None = strawberry.field(description="Key changes only.")
    due_on: date | None = strawberry.field(description="The last working day it is in time (key changes only).")
    due_at: datetime | None = strawberry.field(description="The first instant past the deadline.")
    state: str = strawberry.field(description="submitted | applied | rejected")
    submitted_at: datetime
    submitted_by: str
    decided_by: str | None = strawberry.field(description="The specialist who applied or rejected it.")
    decided_at: datetime | None
    rejection_reason: str
    applied_version: int | None = strawberry.field(description="The customer's version the application made.")
    breached: bool = strawberry.field(description="A key change applied after its due day.")
    overdue: bool = strawberry.field(description="Still submitted and past its deadline now.")
    proposed: JSON | None = strawberry.field(description="The proposed values while submitted, to the specialist "
                                                         "and the submitter.")

    @classmethod
    def of(cls, v: changes.ChangeRequestView) -> CustomerChangeRequest:
        return cls(id=strawberry.ID(str(v.id)), version=v.version, customer_id=strawberry.ID(str(v.customer_id)),
                   base_version=v.base_version, fields=list(v.fields), key_fields=list(v.key_fields),
                   is_key=v.is_key, reason=v.reason, change_occurred_on=v.change_occurred_on,
                   sla_working_days=v.sla_working_days, due_on=v.due_on, due_at=v.due_at, state=v.state,
                   submitted_at=v.submitted_at, submitted_by=v.submitted_by, decided_by=v.decided_by,
                   decided_at=v.decided_at, rejection_reason=v.rejection_reason, applied_version=v.applied_version,
                   breached=v.breached, overdue=v.overdue, proposed=v.proposed)


@strawberry.type
class CustomerChangeRequestPayload:
    change_request: CustomerChangeRequest | None = None
    errors: list[UserError]


@strawberry.type(description="Whether key changes need a change request, which fields are key and the deadline.")
class CustomerChangeSettings:
    review_key_changes: bool = strawberry.field(description="On: a key-field change by someone without "
                                                            "customer.change.apply is refused by customerUpdate "
                                                            "(CHANGE_REQUEST_REQUIRED) and goes through a request.")
    key_fields: list[str] = strawberry.field(description="Dotted customer fields, core or extensions.<vertical>.<f>.")
    sla_working_days: int

    @classmethod
    def of(cls, s: ChangeSettings) -> CustomerChangeSettings:
        return cls(review_key_changes=s.enabled, key_fields=list(s.key_fields), sla_working_days=s.sla_working_days)


@strawberry.type
class CustomerChangeSettingsPayload:
    settings: CustomerChangeSettings | None = None
    errors: list[UserError]


@strawberry.type(description="The fields the tenant's archive standard makes mandatory (seed-004 §2.1.3).")
class CustomerRequiredFields:
    fields: list[str]


@strawberry.type
class CustomerRequiredFieldsPayload:
    fields: list[str] | None = None
    errors: list[UserError]


@strawberry.type(description="A customer with no full review in the quarter (seed-004 §2.3.1).")
class OverdueReview:
    customer_id: strawberry.ID
    display_name: str
    status: str
    last_reviewed_at: datetime | None
    quarter: str = strawberry.field(description="e.g. 2024-Q2")
    quarter_first_day: date
    quarter_last_day: date

    @classmethod
    def of(cls, v: changes.OverdueReview) -> OverdueReview:
        return cls(customer_id=strawberry.ID(str(v.customer_id)), display_name=v.display_name, status=v.status,
                   last_reviewed_at=v.last_reviewed_at, quarter=v.quarter.label(),
                   quarter_first_day=v.quarter.first_day, quarter_last_day=v.quarter.last_day)


@strawberry.type
class GovernanceChangeQuery:
    @strawberry.field(description="Change requests, newest first: all (customer.change.apply) or your own with "
                                  "mine (customer.write); by state, key, breached (applied late), overdue (open "
                                  "past the deadline now) and customer.")
    async def customer_change_requests(self, info: Info, state: str | None = None, breached: bool | None = None,
                                       overdue: bool | None = None, is_key: bool | None = None,
                                       customer_id: strawberry.ID | None = None, mine: bool = False,
                                       first: int | None = None, after: str | None = None,
                                       last: int | None = None,
                                       before: str | None = None) -> Connection[CustomerChangeRequest]:
        request = page_request(info, "customerChangeRequests", first, after, last, before)
        found, more = await changes.change_requests_page(
            ctx_of(info), request.window(time_id_key), state=state, breached=breached, overdue=overdue, key=is_key,
            customer_id=parse_id(customer_id, "customerId") if customer_id else None, mine=mine)
        return keyset_connection(request, found, more, lambda c: [c.submitted_at, c.id], CustomerChangeRequest.of)

    @strawberry.field(description="One change request (the specialist, or its submitter).")
    async def customer_change_request(self, info: Info, id: strawberry.ID) -> CustomerChangeRequest:
        return CustomerChangeRequest.of(await changes.get_change_request(ctx_of(info), parse_id(id, "id")))

    @strawberry.field(description="The tenant's change-request settings (tenant.settings.manage).")
    async def customer_change_settings(self, info: Info) -> CustomerChangeSettings:
        return CustomerChangeSettings.of(await changes.change_settings(ctx_of(info)))

    @strawberry.field(description="The fields the tenant's archive standard makes mandatory when a customer is "
                                  "created (customer.read): among legal_representative, address, business.scope, "
                                  "contact_methods (a phone or an e-mail), phones, emails, identifier, "
                                  "source_channel.")
    async def customer_required_fields(self, info: Info) -> CustomerRequiredFields:
        return CustomerRequiredFields(fields=await changes.required_fields(ctx_of(info)))

    @strawberry.field(description="Customers (not lost or terminated) with no full review (customerReview) in a "
                                  "calendar quarter: year and quarter, or by default the last quarter ended before "
                                  "`on` (today); needs customer.review.")
    async def customer_review_overdue(self, info: Info, on: date | None = None, year: int | None = None,
                                      quarter: int | None = None, first: int | None = None,
                                      after: str | None = None, last: int | None = None,
                                      before: str | None = None) -> Connection[OverdueReview]:
        request = page_request(info, "customerReviewOverdue", first, after, last, before)
        _, found = await changes.review_overdue(ctx_of(info), on=on, year=year, quarter=quarter)
        return list_connection(request, found, lambda o: [str(o.customer_id)], OverdueReview.of)


@strawberry.type
class GovernanceChangeMutation:
    @strawberry.mutation(description="File a change of a customer (customer.write) against the version you read, "
                                     "for the specialist to verify and apply; changeOccurredOn (default today) "
                                     "starts a key change's working-day deadline.")
    async def customer_change_request_submit(self, info: Info, customer_id: strawberry.ID, version: int,
                                             input: CustomerInput, reason: str | None = None,
                                             change_occurred_on: date | None = None
                                             ) -> CustomerChangeRequestPayload:
        async def call() -> dict:
            view = await changes.submit_change_request(
                ctx_of(info), info.context.registry, parse_id(customer_id, "customerId"), version=version,
                changes=input.fields(), reason=reason or "", change_occurred_on=change_occurred_on)
            return {"change_request": CustomerChangeRequest.of(view)}
        return await mutate(info, CustomerChangeRequestPayload, call)

    @strawberry.mutation(description="Apply a verified change request (customer.change.apply; not your own: "
                                     "SEPARATION_OF_DUTIES); CHANGE_REQUEST_STALE when the customer changed since.")
    async def customer_change_request_apply(self, info: Info, id: strawberry.ID,
                                            note: str = "") -> CustomerChangeRequestPayload:
        async def call() -> dict:
            view = await changes.apply_change_request(ctx_of(info), info.context.registry, parse_id(id, "id"),
                                                      note=note)
            return {"change_request": CustomerChangeRequest.of(view)}
        return await mutate(info, CustomerChangeRequestPayload, call)

    @strawberry.mutation(description="Reject a change request with a reason (customer.change.apply; not your "
                                     "own); the customer is not changed.")
    async def customer_change_request_reject(self, info: Info, id: strawberry.ID,
                                             reason: str) -> CustomerChangeRequestPayload:
        async def call() -> dict:
            view = await changes.reject_change_request(ctx_of(info), parse_id(id, "id"), reason=reason)
            return {"change_request": CustomerChangeRequest.of(view)}
        return await mutate(info, CustomerChangeRequestPayload, call)

    @strawberry.mutation(description="Change the change-request settings (tenant.settings.manage): turn the review "
                                     "of key changes on or off, the key fields, the deadline in working days.")
    async def customer_change_settings_update(self, info: Info, review_key_changes: bool | None = None,
                                              key_fields: list[str] | None = None,
                                              sla_working_days: int | None = None
                                              ) -> CustomerChangeSettingsPayload:
        async def call() -> dict:
            settings = await changes.update_change_settings(
                ctx_of(info), info.context.registry, enabled=review_key_changes, key_fields=key_fields,
                sla_working_days=sla_working_days)
            return {"settings": CustomerChangeSettings.of(settings)}
        return await mutate(info, CustomerChangeSettingsPayload, call)

    @strawberry.mutation(description="Set the fields a new customer must have (tenant.settings.manage); one "
                                     "missing refuses customerCreate with FIELD_REQUIRED naming it.")
    async def customer_required_fields_set(self, info: Info, fields: list[str]) -> CustomerRequiredFieldsPayload:
        async def call() -> dict:
            return {"fields": await changes.set_required_fields(ctx_of(info), fields)}
        return await mutate(info, CustomerRequiredFieldsPayload, call)
