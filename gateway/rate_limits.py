"""Rate limits, and the ``RateLimit``/``RateLimit-Policy`` headers that describe them.

Requests are counted per tenant, per API key and per anonymous client address (Litestar's
rate-limit middleware, one per kind of caller); GraphQL is also charged by cost per tenant and
per caller (user, API key or address; charged by gateway.graphql.limits).

Every limiter that looked at a request notes what it saw (a ``Budget``); the outermost limiter
writes the headers of the IETF draft (draft-ietf-httpapi-ratelimit-headers-10, the
structured-field form) for the budget closest to refusing, so a caller learns the budget that
will stop it: an API key its own, not its tenant's, unless the tenant's is nearer its end::

    RateLimit-Policy: "api-key";q=300;w=60
    RateLimit: "api-key";r=299;t=60

Every refusal, whichever limiter refused, is a GraphQL-shaped ``RATE_LIMITED`` error with
``Retry-After`` and the request id (HTTP 429).

In production the counters live on the broker's Redis, shared by every API process. When Redis
cannot be reached (refused, or no answer within ``KEHU_RATE_LIMIT_REDIS_TIMEOUT_SECONDS``) a
process limits with its own counters instead (R3: degrade, don't fail): one warning line when it
falls back, one info line when Redis answers again, ``kehu_rate_limit_fallback`` 1 meanwhile.
While local, Redis is tried again at most every ``REDIS_RETRY_SECONDS``, by one request at a time.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import structlog
from litestar import Request
from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.middleware.rate_limit import DURATION_VALUES, RateLimitConfig, RateLimitMiddleware
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.types import Message, Receive, Scope, Send
from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.jobs.broker import EMBEDDED
from core.metrics import RATE_LIMIT_FALLBACK
from core.settings import Settings
from gateway.language import negotiate
from gateway.metrics import count_error

STORE_NAME = "rate_limit"
# Probes; the console's static files (cached, no I/O); the scrape (its database reads are cached)
UNLIMITED_PATHS = ["/healthz", "/readyz", "/metrics", "^/console(/|$)"]
WINDOW_SECONDS = 60  # every budget is per minute
COST_UNIT = "cost"  # the `qu` of cost budgets: GraphQL cost points, as in `extensions.cost`
log = structlog.get_logger("kehu.http")


# --- What each limiter saw, and the headers ----------------------------------------------------

@dataclass(frozen=True, slots=True)
class Budget:
    """One limiter's view of one request: a policy of the draft and its current service limit."""

    policy: str  # "api-key", "tenant", "address", "user-cost", ...
    quota: int
    remaining: int
    reset: int  # seconds until the whole quota is back
    unit: str | None = None  # None: requests
    refused: bool = False

    @property
    def shared(self) -> bool:
        """A tenant-wide budget; on a tie the caller's own is the one described."""
        return self.policy.startswith("tenant")

    def closeness(self) -> tuple[bool, float, bool]:
        # A budget that refused comes first, then the smallest share left.
        return (not self.refused, self.remaining / self.quota, self.shared)

    def policy_header(self) -> str:
        unit = f';qu="{self.unit}"' if self.unit else ""
        return f'"{self.policy}";q={self.quota}{unit};w={WINDOW_SECONDS}'

    def limit_header(self) -> str:
        return f'"{self.policy}";r={self.remaining};t={self.reset}'


# The budgets seen during the current request. A list set per request and appended to (never
# re-set) below it, so limiters running in child tasks (which copy the context) still report.
_SEEN: ContextVar[list[Budget] | None] = ContextVar("kehu_rate_limit_budgets", default=None)


def observe(budget: Budget) -> None:
    seen = _SEEN.get()
    if seen is not None:
        seen.append(budget)


def closest_to_refusing(budgets: list[Budget]) -> Budget | None:
    return min(budgets, key=Budget.closeness) if budgets else None


def _with_headers(send: Send, seen: list[Budget]) -> Send:
    """``send`` writing ``RateLimit-Policy`` and ``RateLimit`` for the budget closest to refusing
    among those that applied to this request (none: no headers)."""

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start" and (budget := closest_to_refusing(seen)) is not None:
            headers = MutableScopeHeaders.from_message(message)
            headers["RateLimit-Policy"] = budget.policy_header()
            headers["RateLimit"] = budget.limit_header()
        await send(message)

    return send_with_headers


# --- Refusals ----------------------------------------------------------------------------------

def rate_limited_body(retry_after: int, language: str, request_id: str | None, **extra: Any) -> dict[str, Any]:
    """The GraphQL-shaped answer of every 429, whichever limiter refused."""
    message = (f"请求过于频繁，请 {retry_after} 秒后重试" if language == "zh"
               else f"rate limit reached; retry in {retry_after} s")
    extensions = {"code": "RATE_LIMITED", **({"requestId": request_id} if request_id else {}),
                  "retryAfter": retry_after, **extra}
    return {"data": None, "errors": [{"message": message, "extensions": extensions}]}


async def _refuse(scope: Scope, send: Send, budget: Budget, retry_after: int) -> None:
    request_id = scope.get("state", {}).get("request_id")
    language = negotiate(Headers.from_scope(scope).get("accept-language"))
    body = rate_limited_body(retry_after, language, request_id, policy=budget.policy)
    log.info("http.request_refused", code="RATE_LIMITED", status=429, policy=budget.policy, retry_after=retry_after)
    count_error("RATE_LIMITED")
    await send({"type": "http.response.start", "status": 429,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", str(retry_after).encode())]})
    await send({"type": "http.response.body", "body": json.dumps(body, ensure_ascii=False).encode()})


# --- Requests per minute -----------------------------------------------------------------------

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


@dataclass
class RequestBudgetConfig(RateLimitConfig):
    policy: str = "requests"  # the policy's name in the headers
    writes_headers: bool = False  # the outermost limiter writes the headers for them all


class RequestLimiter(RateLimitMiddleware):
    """Litestar's fixed-window counter, but reporting what it saw (headers are written once,
    outside), refusing with the coded 429 rather than Litestar's bare one, and storing the window
    as a count: Litestar stores a timestamp per request of the window, so a tenant allowed 6,000
    requests a minute decoded and re-encoded up to 6,000 numbers on every request."""

    config: RequestBudgetConfig

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.config.writes_headers:
            await self._limit(scope, receive, send)
            return
        seen: list[Budget] = []
        token = _SEEN.set(seen)
        try:
            await self._limit(scope, receive, _with_headers(send, seen))
        finally:
            _SEEN.reset(token)

    async def _window(self, key: str, store: Store, now: int) -> tuple[int, int]:
        """(requests counted, when the window ends) of ``key``'s current window."""
        stored = await store.get(key)
        if stored:
            try:
                count, ends = map(int, stored.split(b" "))
            except ValueError:  # not a count (written by another version): a new window
                pass
            else:
                if ends > now:
                    return count, ends
        return 0, now + DURATION_VALUES[self.unit]

    async def _limit(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["litestar_app"]
        request: Request = app.request_class(scope)
        if await self.should_check_request(request=request):
            store = self.config.get_store_from_app(app)
            key = self.cache_key_from_request(request)
            now = int(time.time())
            async with self._lock:
                count, ends = await self._window(key, store, now)
                refused = count >= self.max_requests
                if not refused:
                    count += 1
                    await store.set(key, f"{count} {ends}".encode(), expires_in=max(1, ends - now))
            reset = max(1, ends - now)
            budget = Budget(self.config.policy, self.max_requests, max(0, self.max_requests - count), reset,
                            refused=refused)
            observe(budget)
            if refused:
                await _refuse(scope, send, budget, reset)
                return
        await self.app(scope, receive, send)


def rate_limit_configs(settings: Settings) -> list[RateLimitConfig]:
    """Outermost first: the tenant's budget (its limiter also writes the headers, for every
    limiter below it and the cost budgets), then the API key's, then anonymous callers'."""
    common: dict[str, Any] = {"exclude": UNLIMITED_PATHS, "store": STORE_NAME, "middleware_class": RequestLimiter,
                              "set_rate_limit_headers": False}
    return [
        RequestBudgetConfig(rate_limit=("minute", settings.rate_limit_per_minute), policy="tenant",
                            writes_headers=True, identifier_for_request=_tenant_of, check_throttle_handler=_is_signed_in, **common),
        RequestBudgetConfig(rate_limit=("minute", settings.rate_limit_api_key_per_minute), policy="api-key",
                            identifier_for_request=_key_of, check_throttle_handler=_is_api_key, **common),
        RequestBudgetConfig(rate_limit=("minute", settings.rate_limit_anonymous_per_minute), policy="address",
                            identifier_for_request=_address_of, check_throttle_handler=_is_anonymous, **common),
    ]


# --- Redis, or this process's own counters while Redis is away (R3) ------------------------------

REDIS_RETRY_SECONDS = 5.0  # while local, how often (at most) one request tries Redis again
T = TypeVar("T")


class RedisLink:
    """This process's view of one Redis: usable, or not (then every limiter counts locally).

    Shared by the request limiters and the cost limiter of every app on that URL in the process, so
    a fallback is logged once, not once per limiter or per request."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.local = False
        self.retry_at = 0.0  # monotonic; while local, Redis is not tried before this

    def usable(self) -> bool:
        """Whether this call should try Redis. While local, one call every REDIS_RETRY_SECONDS
        does (it claims the try, so concurrent requests keep counting locally meanwhile)."""
        if not self.local:
            return True
        now = time.monotonic()
        if now < self.retry_at:
            return False
        self.retry_at = now + REDIS_RETRY_SECONDS
        return True

    def failed(self, error: BaseException) -> None:
        self.retry_at = time.monotonic() + REDIS_RETRY_SECONDS
        if not self.local:
            self.local = True
            log.warning("rate_limit.redis_unreachable", fallback="local", error=repr(error),
                        retry_seconds=REDIS_RETRY_SECONDS)

    def answered(self) -> None:
        if self.local:
            self.local = False
            log.info("rate_limit.redis_back", fallback=None)

    async def run(self, remote: Callable[[], Awaitable[T]], local: Callable[[], Awaitable[T]]) -> T:
        """``remote()`` on Redis when usable; ``local()`` when not, or when Redis fails now."""
        if self.usable():
            try:
                result = await remote()
            except (RedisError, OSError, TimeoutError) as error:  # refused, timed out, reset, loading…
                self.failed(error)
            else:
                self.answered()
                return result
        return await local()


_links: dict[str, RedisLink] = {}


def redis_link(url: str) -> RedisLink:
    if url not in _links:
        _links[url] = RedisLink(url)
    return _links[url]


def _falling_back() -> float:
    return 1.0 if any(link.local for link in _links.values()) else 0.0


RATE_LIMIT_FALLBACK.set_function(_falling_back)  # read when scraped


def _redis_client(settings: Settings) -> Redis:
    """A client that gives up quickly: a request is never held long by an absent Redis."""
    timeout = settings.rate_limit_redis_timeout_seconds
    return Redis.from_url(settings.broker_url, socket_connect_timeout=timeout, socket_timeout=timeout)


async def broker_state(settings: Settings) -> str:
    """``"embedded"``, ``"ok"`` or ``"unreachable"``: this process's latest view of the broker's
    Redis, checked (within the short timeout) when not tried for REDIS_RETRY_SECONDS."""
    if settings.broker_url == EMBEDDED:
        return EMBEDDED
    link = redis_link(settings.broker_url)

    async def ping() -> bool:
        client = _redis_client(settings)
        try:
            return bool(await client.ping())
        finally:
            await client.aclose()

    async def last_known() -> bool:
        return False

    if link.local or time.monotonic() >= link.retry_at:
        if not link.local:
            link.retry_at = time.monotonic() + REDIS_RETRY_SECONDS  # checked at most this often
        await link.run(ping, last_known)
    return "unreachable" if link.local else "ok"


class FallbackStore(Store):
    """The request limiters' store: Redis, or memory while Redis cannot be reached."""

    def __init__(self, remote: Store, link: RedisLink) -> None:
        self.remote = remote
        self.memory = MemoryStore()
        self.link = link

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        await self.link.run(lambda: self.remote.set(key, value, expires_in),
                            lambda: self.memory.set(key, value, expires_in))

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        return await self.link.run(lambda: self.remote.get(key, renew_for), lambda: self.memory.get(key, renew_for))

    async def delete(self, key: str) -> None:
        await self.link.run(lambda: self.remote.delete(key), lambda: self.memory.delete(key))

    async def delete_all(self) -> None:
        await self.link.run(self.remote.delete_all, self.memory.delete_all)

    async def exists(self, key: str) -> bool:
        return await self.link.run(lambda: self.remote.exists(key), lambda: self.memory.exists(key))

    async def expires_in(self, key: str) -> int | None:
        return await self.link.run(lambda: self.remote.expires_in(key), lambda: self.memory.expires_in(key))


def rate_limit_store(settings: Settings) -> Store:
    """Counters shared by every API process: Redis in production (this process's own while Redis
    cannot be reached), memory when embedded."""
    if settings.broker_url == EMBEDDED:
        return MemoryStore()
    remote = RedisStore(_redis_client(settings), namespace="kehu-rate-limit", handle_client_shutdown=True)
    return FallbackStore(remote, redis_link(settings.broker_url))


# --- GraphQL cost budgets ----------------------------------------------------------------------
# Requests are counted above; GraphQL is also charged by cost, because one request can ask for
# a thousand rows. A token bucket per tenant and per caller (user, API key or anonymous address)
# refills its per-minute budget continuously.

BUCKET_TTL_SECONDS = 120  # a bucket untouched this long is full again, so it may be forgotten

# Returns the wait (0 when charged), then each bucket's tokens: after the charge, or as they
# were when refused.
_CHARGE_SCRIPT = """
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local wait = 0
local left = {}
local level = {}
for i = 1, #KEYS do
  local capacity = tonumber(ARGV[2 + i])
  local rate = capacity / 60
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'at')
  local tokens = tonumber(state[1]) or capacity
  local at = tonumber(state[2]) or now
  tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
  local need = math.min(cost, capacity)
  if tokens < need then wait = math.max(wait, (need - tokens) / rate) end
  level[i] = tostring(tokens)
  left[i] = tostring(tokens - need)
end
if wait > 0 then return {tostring(wait), unpack(level)} end
for i = 1, #KEYS do
  redis.call('HSET', KEYS[i], 'tokens', left[i], 'at', tostring(now))
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[#ARGV]))
end
return {'0', unpack(left)}
"""

# Bucket key prefix -> the policy's name in the headers.
_COST_POLICIES = {"tenant": "tenant-cost", "apikey": "api-key-cost", "user": "user-cost", "address": "address-cost"}


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
        budgets = cost_budgets(self.settings, ctx)
        wait, tokens = await self._take(budgets, cost, time.time() if now is None else now)
        for (key, capacity), level in zip(budgets, tokens):
            observe(Budget(_COST_POLICIES[key.split(":", 1)[0]], capacity, max(0, math.floor(level)),
                           math.ceil(max(0.0, capacity - level) * WINDOW_SECONDS / capacity), COST_UNIT,
                           refused=wait > 0 and level < min(cost, capacity)))
        return None if wait <= 0 else max(1, math.ceil(wait))

    async def _take(self, budgets: list[tuple[str, int]], cost: int, now: float) -> tuple[float, list[float]]:
        """The wait (0: charged) and each bucket's tokens, after the charge or as they were."""
        raise NotImplementedError


class MemoryCostLimiter(CostLimiter):
    """The embedded profile's one process: buckets in a dict (no await between read and write)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.buckets: dict[str, tuple[float, float]] = {}

    async def _take(self, budgets: list[tuple[str, int]], cost: int, now: float) -> tuple[float, list[float]]:
        wait, levels, left = 0.0, [], []
        for key, capacity in budgets:
            tokens, at = self.buckets.get(key, (capacity, now))
            rate = capacity / 60
            tokens = min(capacity, tokens + max(0.0, now - at) * rate)
            need = min(cost, capacity)  # a request dearer than a whole budget passes on a full bucket
            if tokens < need:
                wait = max(wait, (need - tokens) / rate)
            levels.append(tokens)
            left.append((key, tokens - need))
        if wait > 0:
            return wait, levels
        if len(self.buckets) > 100_000:  # anonymous addresses come and go
            self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < BUCKET_TTL_SECONDS}
        for key, tokens in left:
            self.buckets[key] = (tokens, now)
        return 0.0, [tokens for _, tokens in left]


class RedisCostLimiter(CostLimiter):
    """Buckets shared by every API process, updated atomically by one script; this process's own
    buckets while Redis cannot be reached."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.redis = _redis_client(settings)
        self.script = self.redis.register_script(_CHARGE_SCRIPT)
        self.link = redis_link(settings.broker_url)
        self.local = MemoryCostLimiter(settings)

    async def _take(self, budgets: list[tuple[str, int]], cost: int, now: float) -> tuple[float, list[float]]:
        async def remote() -> tuple[float, list[float]]:
            keys = [f"kehu-rate-limit:cost:{key}" for key, _ in budgets]
            wait, *levels = await self.script(keys=keys, args=[repr(now), cost, *(c for _, c in budgets),
                                                               BUCKET_TTL_SECONDS])
            return float(wait), [float(level) for level in levels]

        return await self.link.run(remote, lambda: self.local._take(budgets, cost, now))


def cost_limiter(settings: Settings) -> CostLimiter:
    if settings.broker_url == EMBEDDED:
        return MemoryCostLimiter(settings)
    return RedisCostLimiter(settings)
