"""Turning outbox events into signed webhook deliveries, and sending them.

- ``enqueue`` (an ``@on_event("*")`` handler) runs in the event's unit of work: one delivery per
  active, subscribed endpoint, unique per (endpoint, event), so it happens exactly once.
- ``deliver_due`` (the ``webhooks`` sweep) claims due deliveries with a conditional UPDATE in a
  short transaction, POSTs them outside any transaction (only to checked public addresses, see
  ``core.webhooks.targets``; no redirect followed), then records each attempt, by a coded error
  only, in another short transaction: succeeded, or pending again after a backoff, or failed after MAX_ATTEMPTS.
  An endpoint failing DISABLE_AFTER times in a row is disabled, with an audit entry.
- ``sign``/``verify_signature`` implement the Standard Webhooks signature (see docs/webhooks.md).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import ssl
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import httpcore
import structlog

from core.audit.chain import record
from core.context import Context
from core.db import unit_of_work
from core.db.uow import UnitOfWork
from core.errors import KehuError
from core.jobs.outbox import Event, on_event
from core.jobs.timers import register_sweep
from core.tenancy.every_tenant import tenant_ids
from core.webhooks.service import SECRET_PREFIX
from core.webhooks.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from core.webhooks.targets import NameUnresolved, TargetForbidden, check_url, pinned_pool, wire_url

MAX_ATTEMPTS = 8  # then the delivery is failed (replayable)
DISABLE_AFTER = 15  # consecutive failed attempts before an endpoint is disabled
BATCH = 50  # deliveries claimed per tenant per sweep
TIMEOUT_SECONDS = 10.0
CLAIM_TIMEOUT = timedelta(minutes=5)  # a claimed delivery not settled by then is sent again
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)
TOLERANCE_SECONDS = 5 * 60
log = structlog.get_logger("kehu.webhooks")


def now() -> datetime:
    return datetime.now(UTC)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: 30 s, 1 min, 2 min, … capped at 6 h."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def matches(event_types: list[str], event_type: str) -> bool:
    return "*" in event_types or event_type in event_types


# --- signing -------------------------------------------------------------------------------------

def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """The ``webhook-signature`` value: ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))."""
    if isinstance(body, str):
        body = body.encode()
    content = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), content, hashlib.sha256).digest()).decode()


def verify_signature(secret: str, headers: Mapping[str, str], body: bytes | str, *,
                     at: float | None = None) -> bool:
    """Check a received webhook: a fresh timestamp (within 5 minutes) and a matching ``v1``
    signature (any of the space-separated ones), compared in constant time."""
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id, timestamp, signatures = (lowered.get("webhook-id"), lowered.get("webhook-timestamp"),
                                     lowered.get("webhook-signature"))
    if not msg_id or not timestamp or not signatures:
        return False
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if at is None else at) - sent) > TOLERANCE_SECONDS:
        return False
    try:
        expected = sign(secret, msg_id, sent, body).encode()
    except (ValueError, TypeError):
        return False
    return any(hmac.compare_digest(expected, candidate.encode())
               for candidate in signatures.split(" ") if candidate.startswith("v1,"))


# --- enqueueing ------------------------------------------------------------------------------------

def payload_for(event: Event, at: datetime) -> str:
    """Ids and changed field names only, never values."""
    return json.dumps({"type": event.event_type, "timestamp": at.isoformat(),
                       "data": {"id": event.aggregate_id, "type": event.aggregate_type,
                                "changed": list(event.payload.get("changed", []))}},
                      ensure_ascii=False, separators=(",", ":"))


_INSERT_DELIVERY = (
    "INSERT INTO webhook_delivery (id, tenant_id, created_at, endpoint_id, event_id, event_type, payload, status, "
    "attempts, due_at) VALUES ({}, {}, {}, {}, {}, {}, {}, 'pending', 0, {}) "
    "ON CONFLICT (tenant_id, endpoint_id, event_id) DO NOTHING"
)


@on_event("*")
async def enqueue(uow: UnitOfWork, event: Event) -> None:
    """One delivery per active endpoint of the event's tenant subscribed to its type."""
    # Plain SQL on the unit of work's own connection: this handler runs for every event of every tenant.
    endpoints = await uow.fetch("SELECT id, event_types FROM webhook_endpoint WHERE tenant_id = {} "
                                "AND status = 'active'", event.tenant_id)
    wanted = [e["id"] for e in endpoints if matches(json.loads(e["event_types"]), event.event_type)]
    if not wanted:
        return
    at = now()
    body = payload_for(event, at)
    for endpoint_id in wanted:
        await uow.fetch(_INSERT_DELIVERY, uuid.uuid4(), event.tenant_id, at, endpoint_id, event.id,
                        event.event_type, body, at)


# --- sending ----------------------------------------------------------------------------------------

async def deliver_due(at: datetime) -> int:
    """The ``webhooks`` sweep: send every due delivery of every tenant; returns how many were tried."""
    tenants = await tenant_ids("job:webhooks")
    tried = 0
    for tenant_id in tenants:
        tried += await _deliver_tenant(tenant_id, at)
    return tried


async def _deliver_tenant(tenant_id: uuid.UUID, at: datetime) -> int:
    ctx = Context.system("job:webhooks", tenant_id)
    async with unit_of_work(ctx) as uow:
        due = await uow.fetch(
            "SELECT id FROM webhook_delivery WHERE tenant_id = {} AND status IN ('pending', 'delivering') "
            "AND due_at <= {} AND endpoint_id IN (SELECT id FROM webhook_endpoint WHERE tenant_id = {} "
            "AND status = 'active') ORDER BY due_at LIMIT " + str(BATCH), tenant_id, at, tenant_id)
        ids = [uuid.UUID(str(r["id"])) for r in due]
        if not ids:
            return 0
        # The claim: only rows still due move, so a second sweep running at the same moment gets none.
        claimed = await uow.fetch(
            "UPDATE webhook_delivery SET status = 'delivering', due_at = {} WHERE tenant_id = {} "
            "AND status IN ('pending', 'delivering') AND due_at <= {} AND id IN ("
            + ", ".join("{}" for _ in ids) + ") RETURNING id", at + CLAIM_TIMEOUT, tenant_id, at, *ids)
        claimed_ids = [uuid.UUID(str(r["id"])) for r in claimed]
        if not claimed_ids:
            return 0
        deliveries = await uow.select(WebhookDelivery).where(WebhookDelivery.id.is_in(claimed_ids))
        endpoints = {e["id"]: e for e in await uow.select(WebhookEndpoint).where(
            WebhookEndpoint.id.is_in(list({d["endpoint_id"] for d in deliveries})))}
    pools: dict = {}  # one per endpoint, so connections to it are reused within this sweep
    try:
        for delivery in deliveries:
            endpoint = endpoints[delivery["endpoint_id"]]
            if endpoint["id"] not in pools:
                pools[endpoint["id"]] = pinned_pool(endpoint["url"])
            status_code, error, duration_ms = await _post(pools[endpoint["id"]], endpoint, delivery)
            await _settle(ctx, delivery, endpoint, at, status_code, error, duration_ms)
    finally:
        for pool in pools.values():
            await pool.aclose()
    return len(deliveries)


async def _post(pool: httpcore.AsyncConnectionPool, endpoint: dict, delivery: dict
                ) -> tuple[int | None, str | None, int]:
    """One attempt: the receiver's status code, and a coded error unless it answered 2xx."""
    msg_id = str(delivery["event_id"])
    timestamp = int(time.time())
    body = delivery["payload"].encode()
    headers = {"content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(timestamp),
               "webhook-signature": sign(endpoint["secret"], msg_id, timestamp, body),
               "user-agent": "kehu-webhooks/1"}
    started = time.monotonic()
    status_code: int | None = None
    error: str | None = None
    try:
        check_url(endpoint["url"])  # again: a row stored before a rule (or the loopback setting) changed
        timeouts = {"connect": TIMEOUT_SECONDS, "read": TIMEOUT_SECONDS, "write": TIMEOUT_SECONDS,
                    "pool": TIMEOUT_SECONDS}
        async with asyncio.timeout(TIMEOUT_SECONDS):  # the whole attempt, however slowly the receiver drips
            # Streamed and never read: only the status matters, and a huge body must not fill memory.
            async with pool.stream("POST", wire_url(endpoint["url"]), headers=headers, content=body,
                                   extensions={"timeout": timeouts}) as response:
                status_code = response.status
    except Exception as exc:  # noqa: BLE001 - any failure is a failed attempt, recorded by its code only
        error = attempt_error(exc)
        log.info("webhooks.attempt_failed", tenant_id=str(endpoint["tenant_id"]), endpoint_id=str(endpoint["id"]),
                 delivery_id=str(delivery["id"]), error=error, exception=type(exc).__name__)
    duration_ms = int((time.monotonic() - started) * 1000)
    if error is None and not 200 <= status_code < 300:  # type: ignore[operator]
        error = f"WEBHOOK_HTTP_{status_code}"  # a redirect too: none is followed
    return status_code, error, duration_ms


def attempt_error(exc: BaseException) -> str:
    """The code stored for a failed attempt. Never the transport's own text: it tells open ports
    from closed ones and names internal hosts, which would make the delivery log a scanner."""
    if isinstance(exc, (TargetForbidden, KehuError)):
        return "WEBHOOK_TARGET_FORBIDDEN"
    if isinstance(exc, NameUnresolved):
        return "WEBHOOK_NAME_UNRESOLVED"
    if isinstance(exc, (TimeoutError, httpcore.TimeoutException)):
        return "WEBHOOK_TIMEOUT"
    if isinstance(exc, httpcore.ConnectError):
        cause = exc.__cause__ or exc.__context__
        return "WEBHOOK_TLS_FAILED" if isinstance(cause, ssl.SSLError) else "WEBHOOK_CONNECT_FAILED"
    return "WEBHOOK_TRANSPORT_FAILED"


async def _settle(ctx: Context, delivery: dict, endpoint: dict, at: datetime, status_code: int | None,
                  error: str | None, duration_ms: int) -> None:
    ok = error is None
    attempts = int(delivery["attempts"]) + 1
    async with unit_of_work(ctx) as uow:
        await uow.insert(WebhookAttempt(delivery_id=delivery["id"], attempted_at=at, status_code=status_code,
                                        error=error, duration_ms=duration_ms))
        values: dict = {WebhookDelivery.attempts: attempts, WebhookDelivery.last_status_code: status_code,
                        WebhookDelivery.last_error: error}
        if ok:
            values.update({WebhookDelivery.status: "succeeded", WebhookDelivery.delivered_at: at})
        elif attempts >= MAX_ATTEMPTS:
            values[WebhookDelivery.status] = "failed"
        else:
            values.update({WebhookDelivery.status: "pending", WebhookDelivery.due_at: at + backoff(attempts)})
        await uow.update(WebhookDelivery, values).where(
            (WebhookDelivery.id == delivery["id"]) & (WebhookDelivery.status == "delivering"))
        if ok:
            await uow.update(WebhookEndpoint, {WebhookEndpoint.consecutive_failures: 0}).where(
                WebhookEndpoint.id == endpoint["id"])
            return
        counted = await uow.fetch(
            "UPDATE webhook_endpoint SET consecutive_failures = consecutive_failures + 1 WHERE tenant_id = {} "
            "AND id = {} RETURNING consecutive_failures, status", ctx.tenant_id, endpoint["id"])
        if counted and counted[0]["status"] == "active" and int(counted[0]["consecutive_failures"]) >= DISABLE_AFTER:
            reason = f"{DISABLE_AFTER} consecutive failed deliveries; last: {error}"[:2000]
            await uow.update(WebhookEndpoint, {WebhookEndpoint.status: "disabled", WebhookEndpoint.disabled_at: at,
                                               WebhookEndpoint.disabled_reason: reason}).where(
                WebhookEndpoint.id == endpoint["id"])
            await record(uow, "webhook.disabled", "webhook_endpoint", endpoint["id"],
                         {"status": ("active", "disabled"), "disabled_reason": reason})
            # No URL: its query string may hold the receiver's own token.
            log.warning("webhooks.endpoint_disabled", tenant_id=str(ctx.tenant_id), endpoint_id=str(endpoint["id"]),
                        reason=reason)


register_sweep("webhooks", deliver_due)
