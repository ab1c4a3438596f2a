"""Use cases for webhook endpoints and deliveries. Each change: ``webhook.manage``, one unit of
work, one audit entry in it (the signing secret only as "changed")."""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from core.audit.chain import record
from core.context import Context
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.errors import KehuError, NotFound
from core.identity.access import require
from core.webhooks import events
from core.webhooks.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from core.webhooks.targets import check_resolved

PERMISSION = "webhook.manage"
SECRET_PREFIX = "whsec_"
DESCRIPTION_MAX = 500
EVENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
STATUSES = ("active", "disabled")
ERROR_CODE = re.compile(r"^WEBHOOK_[A-Z0-9_]+$")
TARGET = "webhook_endpoint"


@dataclass(frozen=True, slots=True)
class EndpointView:
    id: UUID
    url: str
    description: str
    event_types: tuple[str, ...]
    status: str
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: UUID
    endpoint_id: UUID
    event_id: UUID
    event_type: str
    status: str
    attempts: int
    due_at: datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode()


def check_event_types(event_types: Iterable[str], vertical_events: Iterable[str] = ()) -> list[str]:
    """The subscribed types, cleaned: core's, or those the loaded verticals declare (kehu_event_types)."""
    cleaned = sorted({t.strip() for t in event_types})
    if not cleaned or any(t != "*" and not EVENT_TYPE_PATTERN.match(t) for t in cleaned):
        raise KehuError("EVENT_TYPES_INVALID", 'event types are names like "department.created", or "*" for all',
                        '事件类型须形如 "department.created"，或以 "*" 表示全部', field="event_types")
    # A misspelt type would be accepted and then never fire: only types kehu emits are taken.
    known = events.NAMES | set(vertical_events)
    unknown = [t for t in cleaned if t != "*" and t not in known]
    if unknown:
        raise KehuError("WEBHOOK_EVENT_UNKNOWN",
                        f"kehu emits no event {unknown[0]!r}; the event types are listed in docs/webhooks.md",
                        f"没有事件类型 {unknown[0]!r}；事件类型见 docs/webhooks.md", field="event_types")
    return ["*"] if "*" in cleaned else cleaned


def _description(description: str) -> str:
    description = description.strip()
    if len(description) > DESCRIPTION_MAX:
        raise KehuError("DESCRIPTION_INVALID", f"a description has at most {DESCRIPTION_MAX} characters",
                        f"描述最多 {DESCRIPTION_MAX} 个字符", field="description")
    return description


def _endpoint_view(row: dict) -> EndpointView:
    return EndpointView(id=row["id"], url=row["url"], description=row["description"],
                        event_types=tuple(json.loads(row["event_types"])), status=row["status"],
                        consecutive_failures=int(row["consecutive_failures"]), disabled_at=row["disabled_at"],
                        disabled_reason=row["disabled_reason"], created_at=row["created_at"])


def public_error(error: str | None) -> str | None:
    """A stored attempt error as callers see it: its code. Rows written before errors were coded
    hold the transport's text (which tells open ports from closed ones): shown as a generic code."""
    if error is None or ERROR_CODE.match(error):
        return error
    return "WEBHOOK_DELIVERY_FAILED"


def _delivery_view(row: dict) -> DeliveryView:
    view = {k: row[k] for k in DeliveryView.__slots__}
    view["last_error"] = public_error(view["last_error"])
    return DeliveryView(**view)


async def create_endpoint(ctx: Context, url: str, event_types: Iterable[str],
                          description: str = "", *, vertical_events: Iterable[str] = ()) -> tuple[EndpointView, str]:
    """Register an endpoint; returns it with its signing secret (shown this once)."""
    require(ctx, PERMISSION)
    url = await check_resolved(url)  # public targets only (issue 16 point 3)
    types = check_event_types(event_types, vertical_events)
    description = _description(description)
    secret = new_secret()
    async with unit_of_work(ctx) as uow:
        endpoint = WebhookEndpoint(url=url, description=description, event_types=json.dumps(types), secret=secret,
                                   status="active", consecutive_failures=0)
        await uow.insert(endpoint)
        await record(uow, "webhook.created", TARGET, endpoint.id,
                     {"url": url, "event_types": types, "description": description, "secret": secret})
        row = await uow.select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id).first()
    return _endpoint_view(row), secret


async def get_endpoint(ctx: Context, endpoint_id: UUID) -> EndpointView:
    require(ctx, PERMISSION)
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).first()
    if row is None:
        raise NotFound("webhook endpoint", endpoint_id)
    return _endpoint_view(row)


async def list_endpoints(ctx: Context) -> list[EndpointView]:
    require(ctx, PERMISSION)
    async with unit_of_work(ctx, write=False) as uow:
        rows = await uow.select(WebhookEndpoint).order_by(WebhookEndpoint.created_at)
    return [_endpoint_view(r) for r in rows]


async def update_endpoint(ctx: Context, endpoint_id: UUID, *, url: str | None = None,
                          event_types: Iterable[str] | None = None, description: str | None = None,
                          status: str | None = None, vertical_events: Iterable[str] = ()) -> EndpointView:
    """Change an endpoint; ``status="active"`` re-enables a disabled one with its failures reset."""
    require(ctx, PERMISSION)
    wanted: dict = {}
    if url is not None:
        wanted["url"] = await check_resolved(url)
    if event_types is not None:
        wanted["event_types"] = json.dumps(check_event_types(event_types, vertical_events))
    if description is not None:
        wanted["description"] = _description(description)
    if status is not None:
        if status not in STATUSES:
            raise KehuError("STATUS_INVALID", "status is active or disabled", "状态须为 active 或 disabled",
                            field="status")
        wanted["status"] = status
    async with unit_of_work(ctx) as uow:
        before = await uow.select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).first()
        if before is None:
            raise NotFound("webhook endpoint", endpoint_id)
        changes = {k: (before[k], v) for k, v in wanted.items() if before[k] != v}
        values = {getattr(WebhookEndpoint, k): v for k, v in wanted.items()}
        if status == "active" and before["status"] != "active":
            values.update({WebhookEndpoint.consecutive_failures: 0, WebhookEndpoint.disabled_at: None,
                           WebhookEndpoint.disabled_reason: None})
            changes["consecutive_failures"] = (before["consecutive_failures"], 0)
        elif status == "disabled" and before["status"] != "disabled":
            values.update({WebhookEndpoint.disabled_at: datetime.now(UTC),
                           WebhookEndpoint.disabled_reason: f"disabled by {ctx.actor}"})
        if changes:
            await uow.update(WebhookEndpoint, values).where(WebhookEndpoint.id == endpoint_id)
            if "event_types" in changes:
                changes["event_types"] = tuple(json.loads(v) for v in changes["event_types"])
            await record(uow, "webhook.updated", TARGET, endpoint_id, changes)
        row = await uow.select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).first()
    return _endpoint_view(row)


async def delete_endpoint(ctx: Context, endpoint_id: UUID) -> None:
    """Delete an endpoint with its deliveries and their attempts."""
    require(ctx, PERMISSION)
    async with unit_of_work(ctx) as uow:
        before = await uow.select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).first()
        if before is None:
            raise NotFound("webhook endpoint", endpoint_id)
        deliveries = [r["id"] for r in await uow.select(WebhookDelivery.id).where(
            WebhookDelivery.endpoint_id == endpoint_id)]
        if deliveries:
            await uow.delete(WebhookAttempt).where(WebhookAttempt.delivery_id.is_in(deliveries))
            await uow.delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        await uow.delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
        await record(uow, "webhook.deleted", TARGET, endpoint_id,
                     {"url": (before["url"], None), "event_types": (json.loads(before["event_types"]), None)})


async def list_deliveries(ctx: Context, endpoint_id: UUID | None = None, first: int = 50) -> list[DeliveryView]:
    """The newest deliveries, of one endpoint or all."""
    return (await deliveries_page(ctx, Window(max(1, min(int(first), 500))), endpoint_id))[0]


async def deliveries_page(ctx: Context, window: Window,
                          endpoint_id: UUID | None = None) -> tuple[list[DeliveryView], bool]:
    """A window of the delivery log (keyset on created_at, id, newest first) and whether more lie beyond it."""
    require(ctx, PERMISSION)
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(WebhookDelivery)
        if endpoint_id is not None:
            query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
        rows, more = await keyset.fetch(query, [WebhookDelivery.created_at, WebhookDelivery.id], window,
                                        descending=True)
    return [_delivery_view(r) for r in rows], more


@dataclass(frozen=True, slots=True)
class AttemptView:
    id: UUID
    delivery_id: UUID
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


_ATTEMPT_ORDER = (WebhookAttempt.attempted_at, WebhookAttempt.id)


def _attempt_view(r: Mapping[str, Any]) -> AttemptView:
    return AttemptView(id=r["id"], delivery_id=r["delivery_id"], attempted_at=r["attempted_at"],
                       status_code=r["status_code"], error=public_error(r["error"]), duration_ms=int(r["duration_ms"]))


async def list_attempts(ctx: Context, delivery_id: UUID) -> list[AttemptView]:
    """The attempt log of one delivery, oldest first."""
    require(ctx, PERMISSION)
    async with unit_of_work(ctx, write=False) as uow:
        rows = await uow.select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id).order_by(
            *_ATTEMPT_ORDER)
    return [_attempt_view(r) for r in rows]


async def attempts_page(ctx: Context, delivery_id: UUID, window: Window) -> tuple[list[AttemptView], bool]:
    """A window of one delivery's attempt log (keyset on attempted_at, id, oldest first) and whether
    more lie beyond it."""
    require(ctx, PERMISSION)
    async with unit_of_work(ctx, write=False) as uow:
        rows, more = await keyset.fetch(uow.select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id),
                                        _ATTEMPT_ORDER, window)
    return [_attempt_view(r) for r in rows], more


async def replay_delivery(ctx: Context, delivery_id: UUID) -> DeliveryView:
    """Send a delivery again: back to pending, due now, with a fresh set of attempts."""
    require(ctx, PERMISSION)
    async with unit_of_work(ctx) as uow:
        before = await uow.select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).first()
        if before is None:
            raise NotFound("webhook delivery", delivery_id)
        if before["status"] == "delivering":
            raise KehuError("DELIVERY_IN_FLIGHT", "this delivery is being sent right now", "该投递正在发送中")
        await uow.update(WebhookDelivery, {WebhookDelivery.status: "pending", WebhookDelivery.attempts: 0,
                                           WebhookDelivery.due_at: datetime.now(UTC)}).where(
            WebhookDelivery.id == delivery_id)
        await record(uow, "webhook.replayed", "webhook_delivery", delivery_id,
                     {"status": (before["status"], "pending"), "attempts": (before["attempts"], 0),
                      "endpoint_id": before["endpoint_id"]})
        row = await uow.select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).first()
    return _delivery_view(row)
