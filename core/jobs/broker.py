"""The job broker: in-process when embedded, Redis in production."""

from __future__ import annotations

import redis.asyncio as aioredis

EMBEDDED = "embedded"


async def ping_broker(broker_url: str, timeout_seconds: float = 2.0) -> None:
    """Raise if the broker cannot be reached; the embedded broker is always there."""
    if broker_url == EMBEDDED:
        return
    client = aioredis.from_url(broker_url, socket_connect_timeout=timeout_seconds, socket_timeout=timeout_seconds)
    try:
        await client.ping()
    finally:
        await client.aclose()
