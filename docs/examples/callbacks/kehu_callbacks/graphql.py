"""The vertical's GraphQL fields: root fields start with the vertical's id; resolvers only call the
use cases. kehu answers VERTICAL_NOT_ENABLED to a tenant that has not enabled the vertical."""

from __future__ import annotations

from datetime import datetime

import strawberry

from core.plugins import UserError, context, run_mutation, tenant_parameters
from kehu_callbacks import service


@strawberry.type(description="A customer's request to be called back (callbacks vertical).")
class CallbackRequest:
    id: strawberry.ID
    subject: str
    status: str
    received_at: datetime
    due_at: datetime = strawberry.field(description="Closing time on the last working day of the tenant's calendar.")


def _out(request: service.Request) -> CallbackRequest:
    return CallbackRequest(id=strawberry.ID(str(request.id)), subject=request.subject, status=request.status,
                           received_at=request.received_at, due_at=request.due_at)


@strawberry.type
class CallbackRequestAddPayload:
    request: CallbackRequest | None = None
    errors: list[UserError]


@strawberry.type
class CallbacksQuery:
    @strawberry.field(description="The tenant's callback requests, soonest due first.")
    async def callbacks_requests(self, info: strawberry.Info) -> list[CallbackRequest]:
        return [_out(r) for r in await service.list_requests(context(info))]

    @strawberry.field(description="One callback request; null when the tenant has none of that id.")
    async def callbacks_request(self, info: strawberry.Info, id: strawberry.ID) -> CallbackRequest | None:
        from uuid import UUID

        try:
            request_id = UUID(str(id))
        except ValueError:
            return None
        found = await service.get_request(context(info), request_id)
        return _out(found) if found else None


@strawberry.type
class CallbacksMutation:
    @strawberry.mutation(description="Record a callback request, due after the tenant's answer_days working days.")
    async def callbacks_request_add(self, info: strawberry.Info, subject: str,
                                    phone: str | None = None) -> CallbackRequestAddPayload:
        async def call() -> dict:
            days = (await tenant_parameters(info, service.VERTICAL))["answer_days"]
            request = await service.add_request(context(info), subject=subject, phone=phone, answer_days=days)
            return {"request": _out(request)}

        return await run_mutation(info, CallbackRequestAddPayload, call)
