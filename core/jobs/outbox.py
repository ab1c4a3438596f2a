"""The transactional outbox: add events inside a change's unit of work; run them after commit.

- ``add`` writes the event in the caller's unit of work: a change that rolls back enqueues nothing.
- ``relay_once`` hands committed, due events to a dispatcher (in-process when embedded).
- ``run_event`` is the actor body. It claims the event and runs its handlers in ONE transaction
  with marking it done, so database effects happen exactly once even if the actor runs twice;
  handlers with outside effects (webhooks) are keyed by the event id.
- A failing event is retried with exponential backoff, then parked as ``dead`` for
  ``kehu jobs dead|replay``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import structlog

from core.context import Context
from core.db import unit_of_work
from core.db.due import tenants_due
from core.db.uow import UnitOfWork
from core.jobs.tables import OutboxEvent
from core.tenancy.every_tenant import tenant_ids

MAX_ATTEMPTS = 8  # KEHU_JOB_MAX_ATTEMPTS
RELAY_BATCH = 100
VISIBILITY_TIMEOUT = timedelta(minutes=5)  # KEHU_JOB_VISIBILITY_TIMEOUT_SECONDS: a dispatched event
# not done by then (its message lost, its worker killed) is handed out again
log = structlog.get_logger("kehu.jobs")


@dataclass(frozen=True, slots=True)
class Event:
    id: UUID
    tenant_id: UUID
    event_type: str
    aggregate_type: str
    aggregate_id: str | None
    payload: dict[str, Any]
    attempts: int


Handler = Callable[[UnitOfWork, Event], Awaitable[None]]
_handlers: dict[str, list[Handler]] = {}


def on_event(*event_types: str) -> Callable[[Handler], Handler]:
    """Register a handler for these event types (``"*"`` for every event)."""

    def register(handler: Handler) -> Handler:
        for event_type in event_types:
            _handlers.setdefault(event_type, []).append(handler)
        return handler

    return register


def remove_handler(handler: Handler) -> None:
    for handlers in _handlers.values():
        if handler in handlers:
            handlers.remove(handler)


def configure_jobs(settings) -> None:
    global MAX_ATTEMPTS, VISIBILITY_TIMEOUT
    MAX_ATTEMPTS = settings.job_max_attempts
    VISIBILITY_TIMEOUT = timedelta(seconds=settings.job_visibility_timeout_seconds)


def now() -> datetime:
    return datetime.now(UTC)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** attempts, 3600))


async def add(uow: UnitOfWork, event_type: str, aggregate_type: str, aggregate_id: object = None,
              changed_fields: Iterable[str] = ()) -> UUID:
    """Announce a change; call inside the unit of work that makes it. The payload carries ids and
    the names of changed fields only, never values."""
    event_id = uuid4()
    payload = {"changed": sorted(changed_fields)}
    await uow.insert(OutboxEvent(id=event_id, event_type=event_type, aggregate_type=aggregate_type,
                                 aggregate_id=None if aggregate_id is None else str(aggregate_id),
                                 payload=json.dumps(payload), status="pending", attempts=0, available_at=now()))
    return event_id


async def run_event(tenant_id: UUID, event_id: UUID) -> bool:
    """Run one event's handlers; True if this call did the work, False if it was already done."""
    ctx = Context.system("job:outbox", tenant_id)
    at = now()
    try:
        async with unit_of_work(ctx) as uow:
            claimed = await uow.fetch(
                "UPDATE outbox_event SET status = 'done', done_at = {} WHERE tenant_id = {} AND id = {} "
                "AND status IN ('pending', 'dispatched') RETURNING id, event_type, aggregate_type, aggregate_id, "
                "payload, attempts", at, tenant_id, event_id)
            if not claimed:
                return False
            row = claimed[0]
            event = Event(id=event_id, tenant_id=tenant_id, event_type=row["event_type"],
                          aggregate_type=row["aggregate_type"], aggregate_id=row["aggregate_id"],
                          payload=json.loads(row["payload"]), attempts=int(row["attempts"]))
            for handler in (*_handlers.get(event.event_type, ()), *_handlers.get("*", ())):
                await handler(uow, event)
        return True
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the event and retried
        await _failed(ctx, event_id, exc)
        log.warning("outbox.event_failed", event_id=str(event_id), tenant_id=str(tenant_id), error=repr(exc))
        return False


async def _failed(ctx: Context, event_id: UUID, error: Exception) -> None:
    # One atomic count: two workers failing the same event at once (a redelivered message) must
    # neither lose an attempt nor count one on an event already dead (R16: dead after MAX_ATTEMPTS).
    async with unit_of_work(ctx) as uow:
        counted = await uow.fetch(
            "UPDATE outbox_event SET attempts = attempts + 1, last_error = {} WHERE tenant_id = {} AND id = {} "
            "AND status IN ('pending', 'dispatched') RETURNING attempts", repr(error)[:2000], ctx.tenant_id, event_id)
        if not counted:
            return
        attempts = int(counted[0]["attempts"])
        dead = attempts >= MAX_ATTEMPTS
        await uow.update(OutboxEvent, {OutboxEvent.status: "dead" if dead else "pending",
                                       OutboxEvent.available_at: now() + backoff(attempts)}).where(
            OutboxEvent.id == event_id)


Dispatch = Callable[[UUID, UUID], Awaitable[None]]


async def relay_once(dispatch: Dispatch, *, inline: bool = False) -> int:
    """Hand every due event of every tenant to ``dispatch``; returns how many were handed out, or
    raises ``BrokerUnavailable`` at the first one ``dispatch`` refuses.

    Due: pending and available, or dispatched longer ago than the visibility timeout (its
    message was lost or its worker died). ``inline`` (the embedded worker runs events right here)
    skips marking events dispatched: ``run_event`` claims them from pending itself, which saves a
    write transaction per event."""
    handed = 0
    at = now()
    # One cross-tenant probe; a unit of work only for tenants with events due (none when idle).
    for tenant_id in await tenants_due("outbox", at, at - VISIBILITY_TIMEOUT):
        async with unit_of_work(Context.system("job:relay", tenant_id), write=not inline) as uow:
            due = await uow.select(OutboxEvent.id).where(
                ((OutboxEvent.status == "pending") & (OutboxEvent.available_at <= at))
                | ((OutboxEvent.status == "dispatched") & (OutboxEvent.dispatched_at < at - VISIBILITY_TIMEOUT))
            ).order_by(OutboxEvent.created_at).limit(RELAY_BATCH)
            ids = [r["id"] for r in due]
            if ids and not inline:
                await uow.fetch(
                    "UPDATE outbox_event SET status = 'dispatched', dispatched_at = {} "
                    "WHERE tenant_id = {} AND id IN (" + ", ".join("{}" for _ in ids) + ")", at, tenant_id, *ids)
        for index, event_id in enumerate(ids):
            try:
                await dispatch(tenant_id, event_id)
                handed += 1
            except Exception as exc:  # noqa: BLE001 - the broker is down: hand them out again later
                # One broker serves every tenant: the rest of this poll would fail alike, each
                # waiting out a connection attempt. What was not handed out goes back at once.
                left = ids[index:]
                async with unit_of_work(Context.system("job:relay", tenant_id)) as uow:
                    await uow.update(OutboxEvent, {OutboxEvent.status: "pending"}).where(
                        OutboxEvent.id.is_in(left) & (OutboxEvent.status == "dispatched"))
                log.warning("outbox.dispatch_failed", tenant_id=str(tenant_id), event_id=str(event_id),
                            returned=len(left), error=repr(exc))
                raise BrokerUnavailable(handed, exc) from exc
    return handed


class BrokerUnavailable(Exception):
    """A dispatch failed: the poll stopped there and every event it had not handed out is pending
    again. ``handed`` counts those it handed out before."""

    def __init__(self, handed: int, error: BaseException) -> None:
        super().__init__(f"the broker refused an event after {handed} were handed out: {error!r}")
        self.handed = handed
        self.error = error


@dataclass(frozen=True, slots=True)
class DeadEvent:
    id: UUID
    tenant_id: UUID
    event_type: str
    attempts: int
    last_error: str | None


async def dead_events(ctx: Context) -> list[DeadEvent]:
    """Events that used up their attempts, across tenants (operators) or of one tenant."""
    tenants = [ctx.tenant_id] if ctx.tenant_id else await tenant_ids(ctx.actor)
    found = []
    for tenant_id in tenants:
        async with unit_of_work(ctx.for_tenant(tenant_id), write=False) as uow:
            for r in await uow.select(OutboxEvent).where(OutboxEvent.status == "dead").order_by(OutboxEvent.created_at):
                found.append(DeadEvent(id=r["id"], tenant_id=tenant_id, event_type=r["event_type"],
                                       attempts=r["attempts"], last_error=r["last_error"]))
    return found


async def replay(ctx: Context, event_ids: Iterable[UUID]) -> int:
    """Give dead events a fresh set of attempts; returns how many were replayed."""
    wanted = set(event_ids)
    replayed = 0
    for event in await dead_events(ctx):
        if event.id in wanted:
            async with unit_of_work(ctx.for_tenant(event.tenant_id)) as uow:
                await uow.update(OutboxEvent, {OutboxEvent.status: "pending", OutboxEvent.attempts: 0,
                                               OutboxEvent.available_at: now()}).where(OutboxEvent.id == event.id)
            replayed += 1
    return replayed
