"""GraphQL for webhooks: endpoints, their delivery log, replay. Every rule lives in core."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from core.webhooks import service as webhooks
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


@strawberry.type
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    description: str
    event_types: list[str]
    status: str
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime

    @classmethod
    def of(cls, view: webhooks.EndpointView) -> WebhookEndpoint:
        return cls(id=strawberry.ID(str(view.id)), url=view.url, description=view.description,
                   event_types=list(view.event_types), status=view.status,
                   consecutive_failures=view.consecutive_failures, disabled_at=view.disabled_at,
                   disabled_reason=view.disabled_reason, created_at=view.created_at)


@strawberry.type
class WebhookDelivery:
    id: strawberry.ID
    endpoint_id: strawberry.ID
    event_id: strawberry.ID
    event_type: str
    status: str
    attempts: int
    due_at: datetime
    last_status_code: int | None
    last_error: str | None = strawberry.field(description="The last attempt's coded error, as WebhookAttempt.error.")
    delivered_at: datetime | None

    @classmethod
    def of(cls, view: webhooks.DeliveryView) -> WebhookDelivery:
        return cls(id=strawberry.ID(str(view.id)), endpoint_id=strawberry.ID(str(view.endpoint_id)),
                   event_id=strawberry.ID(str(view.event_id)), event_type=view.event_type, status=view.status,
                   attempts=view.attempts, due_at=view.due_at, last_status_code=view.last_status_code,
                   last_error=view.last_error, delivered_at=view.delivered_at)


@strawberry.type(description="One try at sending a delivery: the receiver's status code and, unless it answered 2xx, "
                               "a coded error (see docs/webhooks.md).")
class WebhookAttempt:
    id: strawberry.ID
    attempted_at: datetime
    status_code: int | None
    error: str | None = strawberry.field(description="WEBHOOK_HTTP_<status>, WEBHOOK_TARGET_FORBIDDEN, "
                                         "WEBHOOK_NAME_UNRESOLVED, WEBHOOK_CONNECT_FAILED, WEBHOOK_TLS_FAILED, "
                                         "WEBHOOK_TIMEOUT, WEBHOOK_TRANSPORT_FAILED or WEBHOOK_DELIVERY_FAILED; "
                                         "never the transport's own message.")
    duration_ms: int

    @classmethod
    def of(cls, view: webhooks.AttemptView) -> WebhookAttempt:
        return cls(id=strawberry.ID(str(view.id)), attempted_at=view.attempted_at, status_code=view.status_code,
                   error=view.error, duration_ms=view.duration_ms)


@strawberry.type(description="The signing secret is shown here once.")
class WebhookEndpointCreatePayload:
    endpoint: WebhookEndpoint | None = None
    secret: str | None = None
    errors: list[UserError]


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = None
    errors: list[UserError]


@strawberry.type
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None = None
    errors: list[UserError]


@strawberry.type
class WebhookDeletePayload:
    ok: bool = False
    errors: list[UserError]


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="The tenant's webhook endpoints. Needs webhook.manage.")
    async def webhook_endpoints(self, info: Info, first: int | None = None, after: str | None = None,
                                last: int | None = None, before: str | None = None) -> Connection[WebhookEndpoint]:
        request = page_request(info, "webhookEndpoints", first, after, last, before)
        return list_connection(request, await webhooks.list_endpoints(ctx_of(info)), lambda v: [v.id],
                               WebhookEndpoint.of)

    @strawberry.field(description="The delivery log, newest first, optionally of one endpoint.")
    async def webhook_deliveries(self, info: Info, endpoint_id: strawberry.ID | None = None, first: int | None = None,
                                 after: str | None = None, last: int | None = None,
                                 before: str | None = None) -> Connection[WebhookDelivery]:
        endpoint = parse_id(endpoint_id, "endpointId") if endpoint_id is not None else None
        request = page_request(info, "webhookDeliveries", first, after, last, before)
        views, more = await webhooks.deliveries_page(ctx_of(info), request.window(time_id_key), endpoint)
        return keyset_connection(request, views, more, lambda v: [v.created_at, v.id], WebhookDelivery.of)

    @strawberry.field(description="Every attempt of one delivery, oldest first. Needs webhook.manage.")
    async def webhook_attempts(self, info: Info, delivery_id: strawberry.ID, first: int | None = None,
                               after: str | None = None, last: int | None = None,
                               before: str | None = None) -> Connection[WebhookAttempt]:
        request = page_request(info, "webhookAttempts", first, after, last, before)
        views, more = await webhooks.attempts_page(ctx_of(info), parse_id(delivery_id, "deliveryId"),
                                                   request.window(time_id_key))
        return keyset_connection(request, views, more, lambda v: [v.attempted_at, v.id], WebhookAttempt.of)


def _vertical_events(info: Info) -> list[str]:
    """The event types the loaded verticals declare (kehu_event_types): subscribable like core's."""
    return [event.name for definition in info.context.registry.definitions for event in definition.event_types]


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description="Register an endpoint for event types ('*' for all). The URL must be https:// "
                                     "to a public address: private, loopback, link-local and reserved targets are "
                                     "refused with WEBHOOK_URL_FORBIDDEN.")
    async def webhook_endpoint_create(self, info: Info, url: str, event_types: list[str],
                                      description: str = "") -> WebhookEndpointCreatePayload:
        async def call() -> dict:
            view, secret = await webhooks.create_endpoint(ctx_of(info), url, event_types, description,
                                                          vertical_events=_vertical_events(info))
            return {"endpoint": WebhookEndpoint.of(view), "secret": secret}
        return await mutate(info, WebhookEndpointCreatePayload, call)

    @strawberry.mutation(description="Change an endpoint; status \"active\" re-enables a disabled one.")
    async def webhook_endpoint_update(self, info: Info, id: strawberry.ID, url: str | None = None,
                                      event_types: list[str] | None = None, description: str | None = None,
                                      status: str | None = None) -> WebhookEndpointPayload:
        async def call() -> dict:
            view = await webhooks.update_endpoint(ctx_of(info), parse_id(id, "id"), url=url, event_types=event_types,
                                                  description=description, status=status,
                                                  vertical_events=_vertical_events(info))
            return {"endpoint": WebhookEndpoint.of(view)}
        return await mutate(info, WebhookEndpointPayload, call)

    @strawberry.mutation
    async def webhook_endpoint_delete(self, info: Info, id: strawberry.ID) -> WebhookDeletePayload:
        async def call() -> dict:
            await webhooks.delete_endpoint(ctx_of(info), parse_id(id, "id"))
            return {"ok": True}
        return await mutate(info, WebhookDeletePayload, call)

    @strawberry.mutation(description="Send a delivery again.")
    async def webhook_delivery_replay(self, info: Info, id: strawberry.ID) -> WebhookDeliveryPayload:
        async def call() -> dict:
            return {"delivery": WebhookDelivery.of(await webhooks.replay_delivery(ctx_of(info), parse_id(id, "id")))}
        return await mutate(info, WebhookDeliveryPayload, call)
