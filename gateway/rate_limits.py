"""Rate limits per tenant, per API key and per anonymous client address, with the standard
``RateLimit-*`` response headers (Litestar's rate-limit middleware, one per kind of caller),
and GraphQL cost budgets per tenant and per caller (charged by gateway.graphql.limits)."""

from __future__ import annotations

import math
import time
from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore

from core.jobs.broker import EMBEDDED
from core.settings import Settings

STORE_NAME = "rate_limit"
UNLIMITED_PATHS = ["/healthz", "/readyz"]


def _principal(request: Request):
    return request.scope.get("auth")


def _tenant_of(request: Request) -> str:
    return f"tenant:{_principal(request).tenant_id}"


def _key_of(request: Request) -> str:
    return f"apikey:{_principal(request).api_key_id}"


def _address_of(request: Request) -> str:
    return f"address:{request.client.host if request.client else 'unknown'}"


# The throttle checks are coroutines: Litestar runs a plain function in a worker thread, and
# that hop per middleware per request cost more than the whole request.
async def _is_signed_in(request: Request) -> bool:
    return _principal(request) is not None


async def _is_api_key(request: Request) -> bool:
    return getattr(_principal(request), "api_key_id", None) is not None


async def _is_anonymous(request: Request) -> bool:
    return _principal(request) is None


def rate_limit_configs(settings: Settings) -> list[RateLimitConfig]:
    """Outermost first: the tenant's budget, then the API key's, then anonymous callers'."""
    return [
        RateLimitConfig(rate_limit=("minute", settings.rate_limit_per_minute), exclude=UNLIMITED_PATHS,
                        store=STORE_NAME, identifier_for_request=_tenant_of,
                        check_throttle_handler=_is_signed_in),
        RateLimitConfig(rate_limit=("minute", settings.rate_limit_api_key_per_minute), exclude=UNLIMITED_PATHS,
                        store=STORE_NAME, identifier_for_request=_key_of,
                        check_throttle_handler=_is_api_key),
        RateLimitConfig(rate_limit=("minute", settings.rate_limit_anonymous_per_minute), exclude=UNLIMITED_PATHS,
                        store=STORE_NAME, identifier_for_request=_address_of,
                        check_throttle_handler=_is_anonymous),
    ]


def rate_limit_store(settings: Settings) -> Store:
    """Counters shared by every API process: Redis in production, memory when embedded."""
    if settings.broker_url == EMBEDDED:
        return MemoryStore()
    return RedisStore.with_client(url=settings.broker_url, namespace="kehu-rate-limit")


# --- GraphQL cost budgets ----------------------------------------------------------------------
# Requests are counted above; GraphQL is also charged by cost, because one request can ask for
# a thousand rows. A token bucket per tenant and per caller (user, API key or anonymous address)
# refills its per-minute budget continuously.

BUCKET_TTL_SECONDS = 120  # a bucket untouched this long is full again, so it may be forgotten

_CHARGE_SCRIPT = """
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local wait = 0
local left = {}
for i = 1, #KEYS do
  local capacity = tonumber(ARGV[2 + i])
  local rate = capacity / 60
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'at')
  local tokens = tonumber(state[1]) or capacity
  local at = tonumber(state[2]) or now
  tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
  local need = math.min(cost, capacity)
  if tokens < need then wait = math.max(wait, (need - tokens) / rate) end
  left[i] = tokens - need
end
if wait > 0 then return tostring(wait) end
for i = 1, #KEYS do
  redis.call('HSET', KEYS[i], 'tokens', tostring(left[i]), 'at', tostring(now))
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[#ARGV]))
end
return '0'
"""


def cost_budgets(settings: Settings, ctx: Any) -> list[tuple[str, int]]:
    """The buckets a request of ``ctx`` is charged to, with their per-minute budgets."""
    principal = ctx.principal
    if principal is None:
        return [(f"address:{ctx.client_address or 'unknown'}", settings.rate_limit_caller_cost_per_minute)]
    caller = f"apikey:{principal.api_key_id}" if principal.api_key_id else f"user:{principal.user_id}"
    return [(f"tenant:{principal.tenant_id}", settings.rate_limit_cost_per_minute),
            (caller, settings.rate_limit_caller_cost_per_minute)]


class CostLimiter:
    """Charges a request's cost to every bucket of its caller, all or none."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def charge(self, ctx: Any, cost: int, now: float | None = None) -> int | None:
        """None when charged, else the whole seconds to wait before the cost fits."""
        wait = await self._take(cost_budgets(self.settings, ctx), cost, time.time() if now is None else now)
        return None if wait <= 0 else max(1, math.ceil(wait))

    async def _take(self, budgets: list[tuple[str, int]], cost: int, now: float) -> float:
        raise NotImplementedError


class MemoryCostLimiter(CostLimiter):
    """The embedded profile's one process: buckets in a dict (no await between read and write)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.buckets: dict[str, tuple[float, float]] = {}

    async def _take(self, budgets: list[tuple[str, int]], cost: int, now: float) -> float:
        wait, left = 0.0, []
        for key, capacity in budgets:
            tokens, at = self.buckets.get(key, (capacity, now))
            rate = capacity / 60
            tokens = min(capacity, tokens + max(0.0, now - at) * rate)
            need = min(cost, capacity)  # a request dearer than a whole budget passes on a full bucket
            if tokens < need:
                wait = max(wait, (need - tokens) / rate)
            left.append((key, tokens - need))
        if wait > 0:
            return wait
        if len(self.buckets) > 100_000:  # anonymous addresses come and go
            self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < BUCKET_TTL_SECONDS}
        for key, tokens in left:
            self.buckets[key] = (tokens, now)
        return 0.0


class RedisCostLimiter(CostLimiter):
    """Buckets shared by every API process, updated atomically by one script."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        from redis.asyncio import Redis

        self.redis = Redis.from_url(settings.broker_url)
        self.script = self.redis.register_script(_CHARGE_SCRIPT)

    async def _take(self, budgets: list[tuple[str, int]], cost: int, now: float) -> float:
        keys = [f"kehu-rate-limit:cost:{key}" for key, _ in budgets]
        wait = await self.script(keys=keys, args=[repr(now), cost, *(c for _, c in budgets), BUCKET_TTL_SECONDS])
        return float(wait)


def cost_limiter(settings: Settings) -> CostLimiter:
    if settings.broker_url == EMBEDDED:
        return MemoryCostLimiter(settings)
    return RedisCostLimiter(settings)
