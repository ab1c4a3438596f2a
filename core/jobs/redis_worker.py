"""Production background work: Dramatiq over Redis.

The outbox stays the source of truth: the relay sends each due event's ids to the
``process_outbox_event`` actor, which runs ``run_event`` (idempotent on the event id). Dramatiq
itself does not retry: the outbox does, with backoff, so a retry survives a Redis restart too.
``kehu worker`` runs the workers and one relay loop on the workers' event loop.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO, TimeLimit
from dramatiq.middleware.retries import Retries

from core.jobs.outbox import run_event

QUEUE = "kehu-outbox"
ACTOR_TIME_LIMIT_MS = 10 * 60 * 1000


def make_broker(url: str) -> RedisBroker:
    broker = RedisBroker(url=url, middleware=[AsyncIO(), TimeLimit(time_limit=ACTOR_TIME_LIMIT_MS),
                                               Retries(max_retries=0)])
    dramatiq.set_broker(broker)
    return broker


def declare_actor(broker: RedisBroker):
    """The one actor: run an outbox event by its ids."""

    @dramatiq.actor(broker=broker, queue_name=QUEUE, actor_name="process_outbox_event")
    async def process_outbox_event(tenant_id: str, event_id: str) -> None:
        await run_event(UUID(tenant_id), UUID(event_id))

    return process_outbox_event


def dispatcher(actor):
    async def dispatch(tenant_id: UUID, event_id: UUID) -> None:
        # send() talks to Redis synchronously; keep it off the event loop.
        await asyncio.to_thread(actor.send, str(tenant_id), str(event_id))

    return dispatch
