"""Truthful rate limits (issue 17 point 2): the ``RateLimit``/``RateLimit-Policy`` headers
(draft-ietf-httpapi-ratelimit-headers, structured fields) describe the budget that applies to
the caller and is closest to refusing, and every 429, whichever limiter refused, is a coded
GraphQL error with ``Retry-After`` and the request id. Also ``OPTIONS /graphql`` (point 11).
"""

from __future__ import annotations

import re
import time
from types import SimpleNamespace
from uuid import uuid4

import pytest
from litestar.testing import AsyncTestClient

from gateway import rate_limits
from gateway.app import create_app
from gateway.rate_limits import Budget, MemoryCostLimiter, RedisCostLimiter, closest_to_refusing
from tests.support import PASSWORD

LOGIN = 'mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, password: $p) ' \
        '{ accessToken } }'
USERS_PAGE = "{ users(first: 30) { edges { node { id } } } }"  # costs 62
# One item of the draft's structured fields: "name";param=value;...
POLICY = re.compile(r'^"(?P<name>[a-z-]+)";q=(?P<q>\d+)(;qu="(?P<qu>[a-z-]+)")?;w=(?P<w>\d+)$')
LIMIT = re.compile(r'^"(?P<name>[a-z-]+)";r=(?P<r>\d+);t=(?P<t>\d+)$')
# Nothing but the request limits under test may refuse.
ROOMY = {"rate_limit_per_minute": 1000, "rate_limit_api_key_per_minute": 1000,
         "rate_limit_anonymous_per_minute": 1000, "rate_limit_cost_per_minute": 10**9,
         "rate_limit_caller_cost_per_minute": 10**9, "tick_interval_seconds": 3600}


def app_with(settings, **limits):
    return create_app(settings.model_copy(update={**ROOMY, **limits}))


async def gql(client, query: str, token: str | None = None, api_key: str | None = None,
              language: str | None = None, **variables):
    headers = {}
    if token:
        headers["authorization"] = f"Bearer {token}"
    if api_key:
        headers["x-api-key"] = api_key
    if language:
        headers["accept-language"] = language
    return await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


async def sign_in(client, tenant: str = "acme") -> str:
    return (await gql(client, LOGIN, t=tenant, u="admin", p=PASSWORD)).json()["data"]["login"]["accessToken"]


async def new_api_key(client, token: str) -> str:
    body = (await gql(client, 'mutation { apiKeyCreate(name: "erp", permissions: ["user.read"]) { secret } }',
                      token)).json()
    return body["data"]["apiKeyCreate"]["secret"]


def described(response) -> tuple[dict, dict]:
    """The policy and the current limit the response's headers describe, parsed."""
    policy, limit = POLICY.match(response.headers["ratelimit-policy"]), LIMIT.match(response.headers["ratelimit"])
    assert policy and limit, (response.headers.get("ratelimit-policy"), response.headers.get("ratelimit"))
    assert policy["name"] == limit["name"]  # the current limit is of the policy announced
    return policy.groupdict(), limit.groupdict()


def assert_coded_429(response, language: str = "en") -> dict:
    """Issue 17 point 2: the shape of every 429."""
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("application/json")
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    body = response.json()
    assert body["data"] is None and len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] == retry_after
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert ("请求过于频繁" in error["message"]) == (language == "zh")
    return error


async def test_an_api_key_is_told_its_own_budget_not_its_tenants(settings, seeded):
    """Issue 17 point 2: an API key's headers describe the key's own budget (the tenant's was
    shown before), in the draft's structured form; its 429 is the coded one."""
    async with AsyncTestClient(app_with(settings, rate_limit_api_key_per_minute=3)) as client:
        key = await new_api_key(client, await sign_in(client))
        answers = [await gql(client, "{ me { apiKeyId } }", api_key=key) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    policy, limit = described(answers[0])
    assert policy == {"name": "api-key", "q": "3", "qu": None, "w": "60"}
    assert limit["name"] == "api-key" and limit["r"] == "2" and 1 <= int(limit["t"]) <= 60
    assert [described(a)[1]["r"] for a in answers] == ["2", "1", "0", "0"]
    assert "ratelimit-limit" not in answers[0].headers  # the draft's old separate fields are gone
    error = assert_coded_429(answers[3])
    assert error["extensions"]["policy"] == "api-key"


async def test_the_headers_describe_the_budget_closest_to_refusing(settings, seeded):
    """Issue 17 point 2: when the tenant's budget is nearer its end than the key's, the key is
    told the tenant's, since that one will refuse it."""
    async with AsyncTestClient(app_with(settings, rate_limit_per_minute=6, rate_limit_api_key_per_minute=100)) as client:
        token = await sign_in(client)  # anonymous: not the tenant's budget
        key = await new_api_key(client, token)  # 1 of the tenant's 6
        fresh = await gql(client, "{ me { apiKeyId } }", api_key=key)  # 2 of 6, 1 of 100
        for _ in range(2):
            await gql(client, "{ me { tenantId } }", token)  # 4 of 6
        busy = await gql(client, "{ me { apiKeyId } }", api_key=key)  # 5 of 6, 2 of 100
        refused = await gql(client, "{ me { apiKeyId } }", api_key=key)  # 6 of 6
        over = await gql(client, "{ me { apiKeyId } }", api_key=key)
    assert described(fresh)[0]["name"] == "tenant"  # 4/6 left is nearer the end than 99/100
    assert described(busy)[0] == {"name": "tenant", "q": "6", "qu": None, "w": "60"}
    assert described(busy)[1]["r"] == "1"
    assert refused.status_code == 200 and described(refused)[1]["r"] == "0"
    assert assert_coded_429(over)["extensions"]["policy"] == "tenant"
    assert described(over)[1] == {"name": "tenant", "r": "0", "t": over.headers["retry-after"]}


async def test_an_anonymous_caller_is_limited_by_address_with_a_coded_429(settings, seeded):
    """Issue 17 point 2: Litestar's rate-limit middleware answered a bare
    {"status_code": 429, "detail": ...} with no Retry-After; now the coded GraphQL error."""
    async with AsyncTestClient(app_with(settings, rate_limit_anonymous_per_minute=2)) as client:
        answers = [await gql(client, "{ version }") for _ in range(3)]
        in_chinese = await gql(client, "{ version }", language="en;q=0.5, zh-CN")  # q-values honoured
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert described(answers[0]) == ({"name": "address", "q": "2", "qu": None, "w": "60"},
                                     {"name": "address", "r": "1", "t": described(answers[0])[1]["t"]})
    assert assert_coded_429(answers[2])["extensions"]["policy"] == "address"
    assert described(answers[2])[1]["r"] == "0"
    assert_coded_429(in_chinese, "zh")


async def test_a_window_is_stored_as_a_count_whatever_the_number_of_requests(settings, seeded):
    """A request's limiter work does not grow with the requests before it in the window (Litestar
    stores a timestamp per request, so a caller allowed thousands a minute paid for thousands on
    each request); the count still refuses at the limit and the window still ends."""
    app = app_with(settings, rate_limit_anonymous_per_minute=40)
    async with AsyncTestClient(app) as client:
        answers = [await gql(client, "{ version }") for _ in range(41)]
        store = app.stores.get(rate_limits.STORE_NAME)
        keys = [key for key in store._store if "address" in key]  # the in-process store's keys
        stored = await store.get(keys[0])
        assert len(keys) == 1 and stored.split(b" ")[0] == b"40" and len(stored) < 20
        count, ends = map(int, stored.split(b" "))
        await store.set(keys[0], f"{count} {int(time.time())}".encode())  # the window ends now
        after = await gql(client, "{ version }")
    assert [a.status_code for a in answers] == [200] * 40 + [429]
    assert [described(a)[1]["r"] for a in answers[:3]] == ["39", "38", "37"]
    assert after.status_code == 200 and described(after)[1]["r"] == "39"


async def test_a_tenant_over_its_request_budget_gets_the_coded_429(settings, seeded):
    """Issue 17 point 2: the tenant's request limiter refuses with the same coded 429."""
    async with AsyncTestClient(app_with(settings, rate_limit_per_minute=3)) as client:
        token = await sign_in(client)
        answers = [await gql(client, "{ me { tenantId } }", token) for _ in range(4)]
        other_tenant = await gql(client, "{ me { tenantId } }", await sign_in(client, "globex"))
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert described(answers[0])[0]["name"] == "tenant"
    assert assert_coded_429(answers[3])["extensions"]["policy"] == "tenant"
    assert other_tenant.status_code == 200


async def test_the_cost_budget_is_described_and_refuses_with_the_coded_429(settings, seeded):
    """Issue 17 point 2: a caller's cost budget is one of the budgets the headers describe
    (quota unit "cost"), and its 429 has the same shape as the request limiters'."""
    async with AsyncTestClient(app_with(settings, rate_limit_caller_cost_per_minute=100)) as client:
        token = await sign_in(client)
        charged = await gql(client, USERS_PAGE, token)
        refused = await gql(client, USERS_PAGE, token)
    assert charged.status_code == 200 and charged.json()["extensions"]["cost"] == 62
    policy, limit = described(charged)
    assert policy == {"name": "user-cost", "q": "100", "qu": "cost", "w": "60"}
    assert 38 <= int(limit["r"]) <= 40 and 1 <= int(limit["t"]) <= 38  # 62 of 100 spent, refilling
    error = assert_coded_429(refused)
    assert error["extensions"]["cost"] == 62
    assert described(refused)[0]["name"] == "user-cost" and int(described(refused)[1]["r"]) < 62


async def test_options_on_graphql_lists_post(settings, seeded):
    """Issue 17 point 11: `OPTIONS /graphql` answered `Allow: GET, OPTIONS`, without POST."""
    async with AsyncTestClient(app_with(settings)) as client:
        answer = await client.options("/graphql")
    assert answer.status_code in (200, 204)
    assert {m.strip() for m in answer.headers["allow"].split(",")} == {"GET", "POST", "OPTIONS"}


def test_closest_to_refusing_prefers_a_refusal_then_the_smallest_share_then_the_callers_own():
    """Issue 17 point 2: which budget the headers describe."""
    tenant, key = Budget("tenant", 600, 300, 30), Budget("api-key", 300, 150, 30)
    cost = Budget("api-key-cost", 1000, 400, 20, "cost")
    assert closest_to_refusing([tenant, key]) is key  # a tie: the caller's own
    assert closest_to_refusing([tenant, key, cost]) is cost
    refused = Budget("tenant-cost", 1000, 900, 5, "cost", refused=True)
    assert closest_to_refusing([tenant, key, cost, refused]) is refused
    assert closest_to_refusing([]) is None


def _ctx(tenant, user=None, key=None):
    return SimpleNamespace(principal=SimpleNamespace(tenant_id=tenant, user_id=user, api_key_id=key),
                           client_address="10.0.0.9")


async def _cost_budgets_are_reported(limiter) -> None:
    seen: list[Budget] = []
    token = rate_limits._SEEN.set(seen)
    try:
        now = time.time()
        assert await limiter.charge(_ctx(uuid4(), key=uuid4()), 60, now) is None
        assert await limiter.charge(_ctx(uuid4(), user=uuid4()), 60, now) is None
    finally:
        rate_limits._SEEN.reset(token)
    assert [(b.policy, b.quota, b.remaining, b.unit) for b in seen] == [
        ("tenant-cost", 1000, 940, "cost"), ("api-key-cost", 100, 40, "cost"),
        ("tenant-cost", 1000, 940, "cost"), ("user-cost", 100, 40, "cost")]
    assert seen[1].reset == 36  # 60 of 100 a minute comes back in 36 s


async def test_in_process_cost_buckets_report_what_is_left(sqlite_settings):
    """Issue 17 point 2: the cost limiter reports each bucket for the headers."""
    budgets = sqlite_settings.model_copy(update={"rate_limit_caller_cost_per_minute": 100,
                                                 "rate_limit_cost_per_minute": 1000})
    await _cost_budgets_are_reported(MemoryCostLimiter(budgets))


@pytest.mark.redis
async def test_redis_cost_buckets_report_what_is_left(sqlite_settings, redis_broker_url):
    """Issue 17 point 2: so do the buckets shared by every API process."""
    budgets = sqlite_settings.model_copy(update={"broker_url": redis_broker_url, "rate_limit_cost_per_minute": 1000,
                                                 "rate_limit_caller_cost_per_minute": 100})
    await _cost_budgets_are_reported(RedisCostLimiter(budgets))
