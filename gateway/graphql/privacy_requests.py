"""GraphQL for data-subject requests, erasure, freezes, legal holds, retention and the purge.
Thin: each resolver calls one service function."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.jobs import service as job_service
from core.privacy import erasure, freeze, retention, subject_requests as sr
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
from gateway.graphql.jobs import Job, JobPayload


@strawberry.type
class SubjectRequest(Node):
    id: strawberry.ID
    customer_id: strawberry.ID
    kind: str
    state: str
    channel: str
    received_at: datetime
    due_at: datetime
    provisional: bool = strawberry.field(description=(
        "Whether dueAt counted working days of a year whose official holiday schedule is not loaded yet "
        "(a provisional schedule): it is recomputed when the schedule is loaded."))
    identity_method: str | None
    identity_verified_at: datetime | None
    finished_at: datetime | None
    outcome: JSON | None
    rejection_reason: str | None
    job_id: strawberry.ID | None

    @staticmethod
    def of(v: sr.SubjectRequestView) -> SubjectRequest:
        return SubjectRequest(id=strawberry.ID(str(v.id)), customer_id=strawberry.ID(str(v.customer_id)), kind=v.kind,
                              state=v.state, channel=v.channel, received_at=v.received_at, due_at=v.due_at,
                              provisional=v.due_provisional,
                              identity_method=v.identity_method, identity_verified_at=v.identity_verified_at,
                              finished_at=v.finished_at, outcome=v.outcome, rejection_reason=v.rejection_reason,
                              job_id=strawberry.ID(str(v.job_id)) if v.job_id else None)


@strawberry.type
class SubjectRequestPayload:
    errors: list[UserError]
    request: SubjectRequest | None = None


@strawberry.type
class ErasurePayload:
    errors: list[UserError]
    customer_ids: list[strawberry.ID] | None = None
    exports_deleted: int | None = None


@strawberry.type
class FreezePayload:
    errors: list[UserError]
    customer_id: strawberry.ID | None = None
    basis: str | None = None


@strawberry.type
class LegalHoldPayload:
    errors: list[UserError]
    customer_id: strawberry.ID | None = None
    held: bool | None = None


@strawberry.type
class RetentionPolicy:
    code: str
    source: str
    years: int
    counted_from: str
    then: str
    description_en: str
    description_zh: str


@node_loader("SubjectRequest")
async def _subject_request(info: Info, request_id: UUID) -> SubjectRequest:
    return SubjectRequest.of(await sr.get_request(ctx_of(info), request_id))


@strawberry.type
class PrivacyRequestQuery:
    @strawberry.field(description="Data-subject requests, oldest due first. Needs privacy.request.manage.")
    async def subject_requests(self, info: Info, state: str | None = None, first: int | None = None,
                               after: str | None = None, last: int | None = None,
                               before: str | None = None) -> Connection[SubjectRequest]:
        request = page_request(info, "subjectRequests", first, after, last, before)
        found, more = await sr.requests_page(ctx_of(info), request.window(time_id_key), state)
        return keyset_connection(request, found, more, lambda v: [v.due_at, v.id], SubjectRequest.of)

    @strawberry.field(description="One data-subject request. Needs privacy.request.manage.")
    async def subject_request(self, info: Info, id: strawberry.ID) -> SubjectRequest:
        return await _subject_request(info, parse_id(id, "id"))

    @strawberry.field(description="Retention policies in force: core's default and the enabled verticals' rules. "
                                  "Needs privacy.legal_hold.")
    async def retention_policies(self, info: Info) -> list[RetentionPolicy]:
        return [RetentionPolicy(code=p.code, source=p.source, years=p.years, counted_from=p.counted_from, then=p.then,
                                description_en=p.description_en, description_zh=p.description_zh)
                for p in await retention.retention_policies(ctx_of(info), info.context.registry)]


@strawberry.type
class PrivacyRequestMutation:
    @strawberry.mutation(description="Record a data-subject request (access, correction, deletion, portability, "
                                     "withdrawal); changes are a correction's field values. Needs privacy.request.manage.")
    async def subject_request_create(self, info: Info, customer_id: strawberry.ID, kind: str, channel: str = "",
                                     changes: JSON | None = None) -> SubjectRequestPayload:
        async def call() -> dict:
            return {"request": SubjectRequest.of(await sr.create_request(
                ctx_of(info), parse_id(customer_id, "customerId"), kind, channel=channel, changes=changes))}
        return await mutate(info, SubjectRequestPayload, call)

    @strawberry.mutation(description="Record how the requester's identity was verified.")
    async def subject_request_verify_identity(self, info: Info, id: strawberry.ID, method: str) -> SubjectRequestPayload:
        async def call() -> dict:
            return {"request": SubjectRequest.of(await sr.verify_identity(ctx_of(info), parse_id(id, "id"), method))}
        return await mutate(info, SubjectRequestPayload, call)

    @strawberry.mutation(description="Fulfil a verified request (export job, correction, erasure or freeze, "
                                     "consent withdrawal); IDENTITY_NOT_VERIFIED before verification.")
    async def subject_request_fulfil(self, info: Info, id: strawberry.ID) -> SubjectRequestPayload:
        async def call() -> dict:
            return {"request": SubjectRequest.of(await sr.fulfil_request(ctx_of(info), info.context.registry,
                                                                         parse_id(id, "id")))}
        return await mutate(info, SubjectRequestPayload, call)

    @strawberry.mutation(description="Reject a request, with the reason.")
    async def subject_request_reject(self, info: Info, id: strawberry.ID, reason: str) -> SubjectRequestPayload:
        async def call() -> dict:
            return {"request": SubjectRequest.of(await sr.reject_request(ctx_of(info), parse_id(id, "id"), reason))}
        return await mutate(info, SubjectRequestPayload, call)

    @strawberry.mutation(description="Erase a customer's personal data everywhere, in one transaction. Needs privacy.erase.")
    async def customer_erase(self, info: Info, id: strawberry.ID, reason: str) -> ErasurePayload:
        async def call() -> dict:
            result = await erasure.erase_subject(ctx_of(info), info.context.registry, parse_id(id, "id"), reason)
            return {"customer_ids": [strawberry.ID(str(c)) for c in result.customers],
                    "exports_deleted": result.exports_deleted}
        return await mutate(info, ErasurePayload, call)

    @strawberry.mutation(description="Freeze a customer that may not be deleted: kept, readable only by auditors, "
                                     "out of all processing (PIPL art. 47). Needs privacy.freeze.")
    async def customer_freeze(self, info: Info, id: strawberry.ID, reason: str, basis: str) -> FreezePayload:
        async def call() -> dict:
            view = await freeze.freeze_customer(ctx_of(info), parse_id(id, "id"), reason, basis)
            return {"customer_id": strawberry.ID(str(view.customer_id)), "basis": view.basis}
        return await mutate(info, FreezePayload, call)

    @strawberry.mutation(description="Place a legal hold: no purge or erasure until released. Needs privacy.legal_hold.")
    async def legal_hold_place(self, info: Info, customer_id: strawberry.ID, reason: str) -> LegalHoldPayload:
        async def call() -> dict:
            view = await retention.place_legal_hold(ctx_of(info), parse_id(customer_id, "customerId"), reason)
            return {"customer_id": strawberry.ID(str(view.customer_id)), "held": True}
        return await mutate(info, LegalHoldPayload, call)

    @strawberry.mutation(description="Release a customer's legal holds. Needs privacy.legal_hold.")
    async def legal_hold_release(self, info: Info, customer_id: strawberry.ID, reason: str = "") -> LegalHoldPayload:
        async def call() -> dict:
            await retention.release_legal_hold(ctx_of(info), parse_id(customer_id, "customerId"), reason)
            return {"customer_id": customer_id, "held": False}
        return await mutate(info, LegalHoldPayload, call)

    @strawberry.mutation(description="Start the retention purge of your tenant now (it also runs daily). "
                                     "Needs privacy.legal_hold.")
    async def privacy_purge_start(self, info: Info) -> JobPayload:
        async def call() -> dict:
            ctx = ctx_of(info)
            return {"job": Job.of(await job_service.get_job(ctx, await retention.start_purge(ctx)))}
        return await mutate(info, JobPayload, call)
