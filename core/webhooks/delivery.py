"""Turning outbox events into signed webhook deliveries, and sending them.

- ``enqueue`` (an ``@on_event("*")`` handler) runs in the event's unit of work: one delivery per
  active, subscribed endpoint, unique per (endpoint, event), so it happens exactly once.
- ``deliver_due`` (the ``webhooks`` sweep) claims due deliveries with a conditional UPDATE in short
  transactions, tenant after tenant in turn (``core.webhooks.policy``), and POSTs them concurrently
  outside any transaction (only to checked public addresses, see ``core.webhooks.targets``; no
  redirect followed): at most ``concurrency`` in this process and ``endpoint_concurrency`` per
  endpoint over all processes, none to an endpoint whose circuit breaker is open. Each attempt is
  recorded, by a coded error only, in another short transaction: succeeded, or pending again after
  a backoff, or failed after MAX_ATTEMPTS. An endpoint failing DISABLE_AFTER times in a row is
  disabled, with an audit entry.
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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpcore
import httpx
import structlog

from core.audit.chain import record
from core.context import Context
from core.db import unit_of_work
from core.db.due import tenants_due
from core.db.uow import UnitOfWork
from core.errors import KehuError
from core.jobs.outbox import Event, on_event
from core.jobs.timers import register_sweep
from core.metrics import record_webhook_failure
from core.webhooks.service import SECRET_PREFIX
from core.webhooks.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from core.webhooks.policy import CLOSED, Breaker, interleave, rotate, round_quotas
from core.webhooks.targets import NameUnresolved, PinnedBackend, TargetForbidden, check_url, wire_url

MAX_ATTEMPTS = 8  # then the delivery is failed (replayable)
DISABLE_AFTER = 15  # consecutive failed attempts before an endpoint is disabled
TENANT_SHARE = 4  # deliveries a tenant may claim at least in each round of a sweep
TIMEOUT_SECONDS = 10.0  # default of KEHU_WEBHOOKS_TIMEOUT_SECONDS
CLAIM_TIMEOUT = timedelta(minutes=5)  # a claimed delivery not settled by then is sent again
ACTOR = "job:webhooks"
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

@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """How a sweep sends (the ``KEHU_WEBHOOKS_*`` settings; see docs/webhooks.md)."""

    concurrency: int = 32  # attempts in flight in this process
    endpoint_concurrency: int = 4  # attempts in flight per endpoint, counted over every process
    timeout_seconds: float | None = None  # None: TIMEOUT_SECONDS (KEHU_WEBHOOKS_TIMEOUT_SECONDS)
    breaker: Breaker = Breaker()
    tenant_share: int = TENANT_SHARE
    sweep_seconds: float = 4.0  # how long one sweep keeps refilling freed slots before it returns


CONFIG = DeliveryConfig()


def configure_delivery(settings: Any) -> None:
    """Take the ``KEHU_WEBHOOKS_*`` settings (the app and ``kehu scheduler`` call this at start)."""
    global CONFIG, TIMEOUT_SECONDS, _dispatcher
    TIMEOUT_SECONDS = settings.webhooks_timeout_seconds
    CONFIG = DeliveryConfig(
        concurrency=settings.webhooks_concurrency, endpoint_concurrency=settings.webhooks_endpoint_concurrency,
        breaker=Breaker(threshold=settings.webhooks_breaker_failures,
                        cooldown=timedelta(seconds=settings.webhooks_breaker_cooldown_seconds)),
        # Most of a tick, leaving the rest to the other sweeps; attempts still running go on meanwhile.
        sweep_seconds=max(0.5, 0.8 * settings.tick_interval_seconds))
    _dispatcher = None


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery this process holds until ``lease`` (its ``due_at`` while it is ``delivering``)."""

    tenant_id: uuid.UUID
    delivery: dict
    endpoint: dict
    lease: datetime
    at: datetime  # the sweep's clock when it was claimed


@dataclass(frozen=True)
class Success:
    """A 2xx answer to a claimed delivery, to be recorded."""

    claimed: Claim
    at: datetime
    status_code: int
    duration_ms: int


class Dispatcher:
    """Sends due deliveries concurrently: at most ``concurrency`` attempts in flight here, at most
    ``endpoint_concurrency`` per endpoint (counted in the database, so over every worker), none to
    an endpoint whose breaker is open. One per worker process (``deliver_due`` uses it); tests make
    more to play several workers."""

    def __init__(self, config: DeliveryConfig | None = None) -> None:
        self.config = config or CONFIG
        self._running: dict[asyncio.Task, uuid.UUID] = {}  # attempt -> its tenant
        self._pools: dict[tuple[uuid.UUID, str], list] = {}  # (endpoint, url) -> [pool, attempts using it]
        self._last_tenant: uuid.UUID | None = None  # where the round-robin resumes
        self._listeners: list[set[uuid.UUID]] = []  # each running sweep's tenants whose attempts ended
        # Successes waiting to be recorded, per tenant, and the one task recording each tenant's.
        self._successes: dict[uuid.UUID, list[tuple[Success, asyncio.Future]]] = {}
        self._recorders: dict[uuid.UUID, asyncio.Task] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def in_flight(self) -> int:
        return sum(1 for task in self._running if not task.done())

    async def sweep(self, at: datetime, *, budget: float | None = None) -> int:
        """Claim due deliveries round-robin over the tenants into the free slots, and refill the
        slots as attempts end, for at most ``budget`` seconds or until nothing more is due. Returns
        how many deliveries were claimed; attempts still running then (a slow endpoint) go on in
        the background and hold their slots until they end."""
        self.loop = asyncio.get_running_loop()
        budget = self.config.sweep_seconds if budget is None else budget
        started = time.monotonic()

        def clock() -> datetime:  # ``at`` moved on by the time spent (tests pass a clock of their own)
            return at + timedelta(seconds=time.monotonic() - started)

        tenants = await tenants_due("webhooks", at)  # one probe across tenants; none due, no transaction
        idle: set[uuid.UUID] = set()  # tenants that had nothing more to claim, until one of their attempts ends
        ended: set[uuid.UUID] = set()  # tenants whose attempts ended since last looked at (filled by _finished)
        self._listeners.append(ended)
        tried = 0
        try:
            while True:
                idle -= ended
                ended.clear()
                free = self.config.concurrency - self.in_flight
                active = [t for t in rotate(tenants, self._last_tenant) if t not in idle]
                if free > 0 and active:
                    for tenant_id, quota in round_quotas(active, free, self.config.tenant_share):
                        claims = await self._claim_safely(tenant_id, clock(), quota)
                        if len(claims) < quota:
                            idle.add(tenant_id)
                        self._last_tenant = tenant_id
                        for claim in claims:
                            self._start(claim)
                        tried += len(claims)
                    continue
                if ended:
                    continue
                remaining = budget - (time.monotonic() - started)
                if not self._running or remaining <= 0:
                    return tried
                # Wait for an attempt to end: it frees a slot here and one of its endpoint's.
                await asyncio.wait(list(self._running), timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._listeners.remove(ended)
            await self._close_idle_pools()

    async def drain(self) -> None:
        """Wait for every attempt in flight, then close the connections (shutdown, tests)."""
        while self._running:
            await asyncio.wait(list(self._running))
        await self._close_idle_pools()

    async def _claim_safely(self, tenant_id: uuid.UUID, at: datetime, quota: int) -> list[Claim]:
        try:
            return await claim(tenant_id, at, quota, self.config)
        except Exception as exc:  # noqa: BLE001 - one tenant's failure must not stop the others
            log.error("webhooks.claim_failed", tenant_id=str(tenant_id), error=repr(exc), exc_info=exc)
            return []

    def _start(self, claimed: Claim) -> None:
        task = asyncio.create_task(self._attempt(claimed))
        self._running[task] = claimed.tenant_id
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        tenant_id = self._running.pop(task, None)
        for ended in self._listeners:
            ended.add(tenant_id)
        if not task.cancelled() and task.exception() is not None:
            log.error("webhooks.attempt_crashed", error=repr(task.exception()))

    async def _attempt(self, claimed: Claim) -> None:
        endpoint = claimed.endpoint
        key = (endpoint["id"], endpoint["url"])
        if key not in self._pools:
            self._pools[key] = [_endpoint_pool(endpoint["url"], self.config.endpoint_concurrency), 0]
        self._pools[key][1] += 1
        began = time.monotonic()
        try:
            status_code, error, duration_ms = await _post(self._pools[key][0], endpoint, claimed.delivery,
                                                          self.config.timeout_seconds or TIMEOUT_SECONDS)
        finally:
            self._pools[key][1] -= 1
        settled_at = claimed.at + timedelta(seconds=time.monotonic() - began)
        if error is None:
            # The slot stays held until the success is recorded: the per-endpoint limit is counted
            # from the database's ``delivering`` rows, over every worker.
            await self._record_success(Success(claimed, settled_at, status_code, duration_ms))  # type: ignore[arg-type]
            return
        try:
            await _settle(claimed, settled_at, status_code, error, duration_ms, self.config.breaker)
        except Exception as exc:  # noqa: BLE001 - unsettled, it is sent again when its lease ends
            log.error("webhooks.settle_failed", tenant_id=str(claimed.tenant_id),
                      delivery_id=str(claimed.delivery["id"]), error=repr(exc), exc_info=exc)

    async def _record_success(self, success: Success) -> None:
        """Group commit: a tenant's successes that end while its previous group is being written go
        into its next one, a transaction for many instead of one each (on SQLite, one wait for the
        write lock instead of 32 racing in the busy handler)."""
        tenant_id = success.claimed.tenant_id
        recorded: asyncio.Future = asyncio.get_running_loop().create_future()
        self._successes.setdefault(tenant_id, []).append((success, recorded))
        recorder = self._recorders.get(tenant_id)
        if recorder is None or recorder.done():  # done: cancelled before it ever ran (a shutdown)
            self._recorders[tenant_id] = asyncio.create_task(self._record_successes(tenant_id))
        await asyncio.shield(recorded)

    async def _record_successes(self, tenant_id: uuid.UUID) -> None:
        try:
            await asyncio.sleep(0)  # successes ending in this turn of the loop join the first group
            while group := self._successes.pop(tenant_id, None):
                try:
                    await _settle_successes(tenant_id, [success for success, _ in group])
                except Exception as exc:  # noqa: BLE001 - unsettled, they are sent again when their lease ends
                    log.error("webhooks.settle_failed", tenant_id=str(tenant_id), deliveries=len(group),
                              error=repr(exc), exc_info=exc)
                finally:
                    for _, recorded in group:
                        if not recorded.done():
                            recorded.set_result(None)
        finally:
            if self._recorders.get(tenant_id) is asyncio.current_task():
                del self._recorders[tenant_id]
            for _, recorded in self._successes.pop(tenant_id, ()):  # only when cancelled: left to their lease
                if not recorded.done():
                    recorded.set_result(None)

    async def _close_idle_pools(self) -> None:
        for key, (pool, users) in list(self._pools.items()):
            if users == 0:
                del self._pools[key]
                await pool.aclose()


def _endpoint_pool(url: str, size: int) -> httpcore.AsyncConnectionPool:
    """``pinned_pool``'s pool (checked addresses only, no proxy, no redirect), sized to the
    per-endpoint limit so attempts never queue inside it."""
    return httpcore.AsyncConnectionPool(network_backend=PinnedBackend(plain_http=httpx.URL(url).scheme == "http"),
                                        max_connections=size, retries=0)


_dispatcher: Dispatcher | None = None


def dispatcher() -> Dispatcher:
    """This process's dispatcher (a new one on a new event loop: its tasks belong to one loop)."""
    global _dispatcher
    loop = asyncio.get_running_loop()
    if _dispatcher is None or _dispatcher.loop not in (None, loop):
        _dispatcher = Dispatcher(CONFIG)
    return _dispatcher


async def deliver_due(at: datetime, *, budget: float | None = None) -> int:
    """The ``webhooks`` sweep: send due deliveries of every tenant; returns how many were claimed."""
    return await dispatcher().sweep(at, budget=budget)


async def drain() -> None:
    """Let the attempts in flight in this process end (before closing the database)."""
    if _dispatcher is not None and _dispatcher.loop is asyncio.get_running_loop():
        await _dispatcher.drain()


def _as_datetime(value: Any) -> datetime | None:
    """A timestamp from raw SQL: a datetime on PostgreSQL, maybe ISO text on SQLite."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _id_key(value: Any) -> str:
    return str(value)


async def claim(tenant_id: uuid.UUID, at: datetime, quota: int, config: DeliveryConfig) -> list[Claim]:
    """Claim up to ``quota`` of a tenant's due deliveries in one short transaction: per endpoint at
    most its free slots (its limit less those in flight anywhere; none while its breaker is open,
    one probe when half-open), the endpoints taken in turn, oldest first."""
    ctx = Context.system(ACTOR, tenant_id)
    lease = at + CLAIM_TIMEOUT
    async with unit_of_work(ctx) as uow:
        # PostgreSQL: lock the tenant's endpoints, so another worker claiming for this tenant waits
        # and then counts our claims as in flight (SQLite writes are serial already).
        lock = "" if uow.database.is_sqlite else " ORDER BY id FOR UPDATE"
        endpoints = {_id_key(e["id"]): e for e in await uow.fetch(
            "SELECT id, tenant_id, url, secret, breaker_open_until FROM webhook_endpoint WHERE tenant_id = {} "
            "AND status = 'active'" + lock, tenant_id)}
        if not endpoints:
            return []
        # A claim whose sweep died (its lease, due_at, has passed) is due again.
        await uow.fetch("UPDATE webhook_delivery SET status = 'pending' WHERE tenant_id = {} "
                        "AND status = 'delivering' AND due_at <= {}", tenant_id, at)
        busy = {_id_key(r["endpoint_id"]): int(r["n"]) for r in await uow.fetch(
            "SELECT endpoint_id, COUNT(*) AS n FROM webhook_delivery WHERE tenant_id = {} AND status = 'delivering' "
            "AND due_at > {} GROUP BY endpoint_id", tenant_id, at)}
        slots = {key: config.breaker.slots(config.endpoint_concurrency, busy.get(key, 0),
                                           _as_datetime(e["breaker_open_until"]), at)
                 for key, e in endpoints.items()}
        wanted = [(key, min(n, quota)) for key, n in slots.items() if n > 0]
        if not wanted:
            return []
        # Each endpoint's oldest due deliveries, no more than its free slots (index on endpoint, status, due_at).
        parts, args = [], []
        for i, (key, n) in enumerate(wanted):
            parts.append(f"SELECT * FROM (SELECT id, endpoint_id, due_at FROM webhook_delivery WHERE tenant_id = {{}} "
                         f"AND endpoint_id = {{}} AND status = 'pending' AND due_at <= {{}} ORDER BY due_at, id "
                         f"LIMIT {int(n)}) AS e{i}")
            args += [tenant_id, endpoints[key]["id"], at]
        queues: dict[str, list[dict]] = {}
        for row in await uow.fetch(" UNION ALL ".join(parts), *args):
            queues.setdefault(_id_key(row["endpoint_id"]), []).append(row)
        ordered = sorted(queues.values(), key=lambda q: (_as_datetime(q[0]["due_at"]), _id_key(q[0]["id"])))
        picked = [row["id"] for row in interleave(ordered, quota)]
        if not picked:
            return []
        # The claim: only rows still pending and due move, so a second sweep at the same moment gets none.
        claimed = await uow.fetch(
            "UPDATE webhook_delivery SET status = 'delivering', due_at = {} WHERE tenant_id = {} AND status = 'pending' "
            "AND due_at <= {} AND id IN (" + ", ".join("{}" for _ in picked) + ") "
            "RETURNING id, endpoint_id, event_id, payload, attempts", lease, tenant_id, at, *picked)
    return [Claim(tenant_id=tenant_id, delivery=row, endpoint=endpoints[_id_key(row["endpoint_id"])], lease=lease, at=at)
            for row in claimed]


async def _post(pool: httpcore.AsyncConnectionPool, endpoint: dict, delivery: dict,
                timeout: float) -> tuple[int | None, str | None, int]:
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
        timeouts = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
        async with asyncio.timeout(timeout):  # the whole attempt, however slowly the receiver drips
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


async def _settle(claimed: Claim, at: datetime, status_code: int | None, error: str | None, duration_ms: int,
                  breaker: Breaker) -> None:
    """Record an attempt: the delivery succeeded, pending again after a backoff, or failed; the
    endpoint's failure count and breaker. The endpoint row is written first, as ``claim`` locks it
    first: one lock order, so the two never deadlock."""
    ctx = Context.system(ACTOR, claimed.tenant_id)
    delivery, endpoint = claimed.delivery, claimed.endpoint
    ok = error is None
    attempts = int(delivery["attempts"]) + 1
    reopened: datetime | None = None
    async with unit_of_work(ctx) as uow:
        if ok:
            await uow.fetch("UPDATE webhook_endpoint SET consecutive_failures = 0, breaker_open_until = NULL "
                            "WHERE tenant_id = {} AND id = {} AND (consecutive_failures <> 0 "
                            "OR breaker_open_until IS NOT NULL)", ctx.tenant_id, endpoint["id"])
        else:
            # A failure is settled here (the delivery's own fate follows below).
            record_webhook_failure(f"http_{status_code // 100}xx" if status_code
                                   else (error or "other").lower().removeprefix("webhook_"))
            counted = await uow.fetch(
                "UPDATE webhook_endpoint SET consecutive_failures = consecutive_failures + 1 WHERE tenant_id = {} "
                "AND id = {} RETURNING consecutive_failures, status, breaker_open_until", ctx.tenant_id, endpoint["id"])
            if counted:
                failures = int(counted[0]["consecutive_failures"])
                before = _as_datetime(counted[0]["breaker_open_until"])
                after = breaker.after_failure(failures, before, at)
                if after != before:
                    reopened = after
                    await uow.update(WebhookEndpoint, {WebhookEndpoint.breaker_open_until: after}).where(
                        WebhookEndpoint.id == endpoint["id"])
                    if breaker.state(before, at) == CLOSED:
                        log.warning("webhooks.breaker_opened", tenant_id=str(ctx.tenant_id),
                                    endpoint_id=str(endpoint["id"]), failures=failures, open_until=after.isoformat())
                if counted[0]["status"] == "active" and failures >= DISABLE_AFTER:
                    await _disable(uow, ctx, endpoint, at, error)
        values: dict = {WebhookDelivery.attempts: attempts, WebhookDelivery.last_status_code: status_code,
                        WebhookDelivery.last_error: error}
        if ok:
            values.update({WebhookDelivery.status: "succeeded", WebhookDelivery.delivered_at: at})
        elif attempts >= MAX_ATTEMPTS:
            values[WebhookDelivery.status] = "failed"
        else:
            due = at + backoff(attempts)
            values.update({WebhookDelivery.status: "pending", WebhookDelivery.due_at: max(due, reopened or due)})
        # Only while the claim is still ours: a lease that ran out may have been claimed again.
        await uow.update(WebhookDelivery, values).where(
            (WebhookDelivery.id == delivery["id"]) & (WebhookDelivery.status == "delivering")
            & (WebhookDelivery.due_at == claimed.lease))
        if reopened is not None:
            # While open its deliveries are not attempted (nor counted as attempts): they wait, due
            # at the end of the cool-down, where they show in the delivery log.
            await uow.fetch("UPDATE webhook_delivery SET due_at = {} WHERE tenant_id = {} AND endpoint_id = {} "
                            "AND status = 'pending' AND due_at < {}", reopened, ctx.tenant_id, endpoint["id"], reopened)
        await uow.insert(WebhookAttempt(delivery_id=delivery["id"], attempted_at=claimed.at, status_code=status_code,
                                        error=error, duration_ms=duration_ms))


ATTEMPT_COLUMNS = ("id", "tenant_id", "created_at", "delivery_id", "attempted_at", "status_code", "error", "duration_ms")


async def _settle_successes(tenant_id: uuid.UUID, successes: list[Success]) -> None:
    """Record many successful attempts of one tenant in one transaction, as ``_settle`` records
    one: each endpoint's failure count and breaker reset, each delivery succeeded (only while its
    claim is still ours), each attempt logged."""
    ctx = Context.system(ACTOR, tenant_id)
    endpoints = list({_id_key(s.claimed.endpoint["id"]): s.claimed.endpoint["id"] for s in successes}.values())
    async with unit_of_work(ctx) as uow:
        # Endpoints first, locked in id order as ``claim`` locks them: one lock order, no deadlock
        # (SQLite writes are serial already). Only those with failures to forget are written.
        lock = "" if uow.database.is_sqlite else " ORDER BY id FOR UPDATE"
        await uow.fetch("UPDATE webhook_endpoint SET consecutive_failures = 0, breaker_open_until = NULL "
                        "WHERE tenant_id = {} AND id IN (SELECT id FROM webhook_endpoint WHERE tenant_id = {} "
                        "AND id IN (" + ", ".join("{}" for _ in endpoints) + ") AND "
                        "(consecutive_failures <> 0 OR breaker_open_until IS NOT NULL)" + lock + ")",
                        tenant_id, tenant_id, *endpoints)
        rows = [(s.claimed.delivery["id"], int(s.claimed.delivery["attempts"]) + 1, s.status_code, s.at,
                 s.claimed.lease) for s in successes]
        if uow.database.is_sqlite:  # one write transaction already; SQLite has no arrays to bind
            for delivery_id, attempts, status_code, at, lease in rows:
                await uow.fetch("UPDATE webhook_delivery SET status = 'succeeded', attempts = {}, last_status_code = {}, "
                                "last_error = NULL, delivered_at = {} WHERE tenant_id = {} AND id = {} "
                                "AND status = 'delivering' AND due_at = {}",
                                attempts, status_code, at, tenant_id, delivery_id, lease)
        else:
            await uow.fetch(
                "UPDATE webhook_delivery AS d SET status = 'succeeded', attempts = v.attempts, last_status_code = v.code, "
                "last_error = NULL, delivered_at = v.at FROM unnest({}::uuid[], {}::int[], {}::int[], "
                "{}::timestamptz[], {}::timestamptz[]) AS v(id, attempts, code, at, lease) "
                "WHERE d.tenant_id = {} AND d.id = v.id AND d.status = 'delivering' AND d.due_at = v.lease",
                *([row[i] for row in rows] for i in range(5)), tenant_id)
        await uow.insert_many("webhook_attempt", ATTEMPT_COLUMNS, [
            (uuid.uuid4(), tenant_id, now(), s.claimed.delivery["id"], s.claimed.at, s.status_code, None, s.duration_ms)
            for s in successes])


async def _disable(uow: UnitOfWork, ctx: Context, endpoint: dict, at: datetime, error: str | None) -> None:
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
