"""Rate limits per tenant, per API key and per anonymous client address, with the standard
``RateLimit-*`` response headers (Litestar's rate-limit middleware, one per kind of caller)."""

from __future__ import annotations

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
