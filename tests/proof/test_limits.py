"""Abuse limits at the GraphQL edge: credential mutations one per request, no batching, page-size
cap, query cost, introspection for signed-in callers only, no field suggestions for those who
may not introspect, and rate limits charged by cost. Every refusal carries a code and happens
before anything runs."""

from __future__ import annotations

import time
from types import SimpleNamespace
from uuid import uuid4

import pytest
from graphql import GraphQLList, GraphQLNonNull, Undefined, get_named_type, is_leaf_type

from core.settings import Profile, Settings
from gateway.graphql import schema as schema_module
from gateway.graphql.schema import build_schema
from gateway.rate_limits import MemoryCostLimiter, RedisCostLimiter
from tests.proof.conftest import LOGIN, codes, gql, sign_in
from tests.support import PASSWORD, add_user

USERS_PAGE = "query($n: Int) { users(first: $n) { edges { node { id username } } } }"
# users(first: n): the connection 1, edges 1 + n x (node 1 + id 1 + username 1)
def users_page_cost(n: int) -> int:
    return 1 + 1 + n * 3


@pytest.fixture
def resolver_calls(monkeypatch):
    """Count executions of the `verticals` resolver, to prove refused documents never run."""
    calls = []
    original = schema_module.Vertical.from_info

    def counting(info):
        calls.append(info.id)
        return original(info)

    monkeypatch.setattr(schema_module.Vertical, "from_info", staticmethod(counting))
    return calls


# --- Acceptance 3: each refused with a coded error ---------------------------------------------

async def test_two_aliased_logins_are_refused_before_either_runs(client, seeded):
    document = ('mutation { a: login(tenant: "acme", username: "admin", password: "guess-1") { accessToken } '
                'b: login(tenant: "acme", username: "admin", password: "%s") { accessToken } }' % PASSWORD)
    body = (await gql(client, document)).json()
    assert body["data"] is None and codes(body) == ["LOGIN_NOT_BATCHABLE"]
    # Nothing ran: had the right password been tried, a token would have been issued.
    assert "accessToken" not in str(body)


@pytest.mark.parametrize("document", [
    # the same field twice through a fragment, and a credential field beside another mutation
    'mutation { ...L ...L2 } fragment L on Mutation { login(tenant: "acme", username: "admin", password: "x") '
    '{ accessToken } } fragment L2 on Mutation { again: login(tenant: "acme", username: "admin", password: "y") '
    '{ accessToken } }',
    'mutation { tokenRefresh(refreshToken: "r") { accessToken } logout { ok } }',
    'mutation { passwordChange(currentPassword: "a", newPassword: "b") { ok } '
    'second: passwordChange(currentPassword: "c", newPassword: "d") { ok } }',
])
async def test_every_credential_mutation_is_alone_in_its_request(client, document):
    body = (await gql(client, document)).json()
    assert body["data"] is None and codes(body) == ["LOGIN_NOT_BATCHABLE"]


async def test_one_login_alone_still_works(client):
    assert await sign_in(client)


async def test_a_batch_of_100_queries_is_refused_with_a_code(client, resolver_calls):
    response = await client.post("/graphql", json=[{"query": "{ verticals { id } }"}] * 100)
    assert response.status_code == 400
    assert codes(response.json()) == ["BATCHING_DISABLED"]
    assert resolver_calls == []


async def test_a_login_inside_a_batch_is_refused(client):
    batch = [{"query": LOGIN, "variables": {"t": "acme", "u": "admin", "p": PASSWORD}}] * 2
    response = await client.post("/graphql", json=batch)
    assert response.status_code == 400 and codes(response.json()) == ["BATCHING_DISABLED"]
    assert "accessToken" not in response.text


async def test_a_page_size_of_10000_is_refused_as_literal_and_as_variable(client):
    token = await sign_in(client)
    literal = (await gql(client, "{ users(first: 10000) { edges { cursor } } }", token)).json()
    variable = (await gql(client, USERS_PAGE, token, n=10_000)).json()
    for body in (literal, variable):
        assert body["data"] is None and codes(body) == ["PAGE_SIZE_TOO_LARGE"]
        assert body["errors"][0]["extensions"]["maxPageSize"] == 100


async def test_a_query_costlier_than_the_limit_is_refused_with_its_cost(client, app_settings, resolver_calls):
    token = await sign_in(client)
    aliases = min(app_settings.graphql_max_aliases, 25)
    # Each alias asks for every vertical: an unpaged list counted as 10 rows.
    document = "{ " + " ".join(f"a{i}: users(first: 100) {{ edges {{ node {{ id username }} }} }}"
                               for i in range(aliases)) + " verticals { id } }"
    body = (await gql(client, document, token)).json()
    assert body["data"] is None and codes(body) == ["QUERY_TOO_COSTLY"]
    extensions = body["errors"][0]["extensions"]
    assert extensions["cost"] == aliases * users_page_cost(100) + 1 + 10 * 1
    assert extensions["maxCost"] == app_settings.graphql_max_cost < extensions["cost"]
    assert resolver_calls == []


# --- Cost: computed statically, multiplied by page sizes, reported when accepted ---------------

@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"graphql_max_cost": 200})


async def test_accepted_requests_report_their_cost(client):
    token = await sign_in(client)
    for n in (1, 10, 50):
        body = (await gql(client, USERS_PAGE, token, n=n)).json()
        assert body["extensions"]["cost"] == users_page_cost(n), n


async def test_cost_limit_is_the_setting_not_a_constant(client, app_settings):
    token = await sign_in(client)
    largest = (app_settings.graphql_max_cost - 2) // 3
    assert "errors" not in (await gql(client, USERS_PAGE, token, n=largest)).json()
    refused = (await gql(client, USERS_PAGE, token, n=largest + 1)).json()
    assert codes(refused) == ["QUERY_TOO_COSTLY"]


async def test_nested_lists_multiply(client):
    token = await sign_in(client)
    # tenantVerticals: a list that is not a connection (a catalog; every list of records is one)
    shallow = (await gql(client, "{ tenantVerticals { id } }", token)).json()["extensions"]["cost"]
    wider = (await gql(client, "{ tenantVerticals { id enabled } }", token)).json()["extensions"]["cost"]
    nested = (await gql(client, "{ tenantVerticals { id parameters { key } } }", token)).json()["extensions"]["cost"]
    # Unpaged lists count as 10 rows: a field per vertical costs 10, a list per vertical 10 x its own rows.
    assert wider - shallow == 10
    assert nested - shallow == 10 * (1 + 10 * 1)


async def test_a_connection_without_first_is_costed_at_the_default_page(client):
    token = await sign_in(client)
    body = (await gql(client, "{ users { edges { node { id username } } } }", token)).json()
    assert body["extensions"]["cost"] == users_page_cost(50)


# --- Page-size cap: one place for every paged field --------------------------------------------

def _value_for(type_) -> str | None:
    named = get_named_type(type_)
    literal = {"ID": f'"{uuid4()}"', "String": '"x"', "Int": "1", "Boolean": "true", "Float": "1.0"}.get(named.name)
    if literal is None and hasattr(named, "values"):
        literal = next(iter(named.values))
    if literal is not None and isinstance(type_, GraphQLNonNull) and isinstance(type_.of_type, GraphQLList):
        return f"[{literal}]"
    return literal


def _selection(type_) -> str:
    named = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    for name, field in named.fields.items():
        if is_leaf_type(get_named_type(field.type)) and not any(isinstance(a.type, GraphQLNonNull)
                                                                 for a in field.args.values()):
            return f"{{ {name} }}"
    return "{ __typename }"


def paged_root_fields(settings: Settings) -> dict[str, str]:
    """A document per root field that takes a page size, asking for one more row than allowed."""
    schema = build_schema(settings)._schema
    documents = {}
    for operation, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        for name, field in root.fields.items():
            page = next((a for a in ("first", "last", "limit", "pageSize") if a in field.args), None)
            if page is None:
                continue
            arguments = [f"{page}: {settings.page_size_max + 1}"]
            for arg_name, arg in field.args.items():
                if isinstance(arg.type, GraphQLNonNull) and arg.default_value in (None, Undefined) and arg_name != page:
                    value = _value_for(arg.type)
                    if value is None:
                        break
                    arguments.append(f"{arg_name}: {value}")
            else:
                documents[name] = f"{operation} {{ {name}({', '.join(arguments)}) {_selection(field.type)} }}"
    return documents


async def test_every_paged_field_refuses_a_page_over_the_cap(client, app_settings):
    documents = paged_root_fields(app_settings)
    assert {"users", "customers", "auditEntries", "jobs", "webhookDeliveries"} <= set(documents)
    token = await sign_in(client)
    for name, document in documents.items():
        body = (await gql(client, document, token)).json()
        assert codes(body) == ["PAGE_SIZE_TOO_LARGE"], (name, body)


async def test_the_page_cap_is_the_setting(settings, seeded):
    from litestar.testing import AsyncTestClient

    from gateway.app import create_app

    async with AsyncTestClient(create_app(settings.model_copy(update={"page_size_max": 5}))) as client:
        token = await sign_in(client)
        assert "errors" not in (await gql(client, USERS_PAGE, token, n=5)).json()
        assert codes((await gql(client, USERS_PAGE, token, n=6)).json()) == ["PAGE_SIZE_TOO_LARGE"]


# --- Introspection and suggestions -------------------------------------------------------------

SCHEMA_QUERY = "{ __schema { queryType { name } } }"


async def test_introspection_needs_a_signed_in_caller(client):
    anonymous = (await gql(client, SCHEMA_QUERY)).json()
    assert anonymous["data"] is None and codes(anonymous) == ["UNAUTHENTICATED"]
    assert codes((await gql(client, '{ __type(name: "Query") { name } }')).json()) == ["UNAUTHENTICATED"]
    signed_in = (await gql(client, SCHEMA_QUERY, await sign_in(client))).json()
    assert signed_in["data"]["__schema"]["queryType"]["name"] == "Query"


def test_introspection_is_off_in_production_unless_switched_on():
    production = Settings.model_construct(profile=Profile.PRODUCTION, graphql_introspection=None)
    assert not production.introspection_enabled
    assert Settings.model_construct(profile=Profile.PRODUCTION, graphql_introspection=True).introspection_enabled


async def test_no_field_suggestions_for_callers_who_may_not_introspect(client):
    signed_in = (await gql(client, "{ users { edgs { cursor } } }", await sign_in(client))).json()
    assert "Did you mean" in signed_in["errors"][0]["message"]  # a developer may see the schema anyway
    anonymous = (await gql(client, "{ custmers { edges { cursor } } }")).json()
    assert codes(anonymous) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Did you mean" not in anonymous["errors"][0]["message"] and "customers" not in str(anonymous)


async def test_no_field_suggestions_for_anyone_when_introspection_is_off(settings, seeded):
    from litestar.testing import AsyncTestClient

    from gateway.app import create_app

    async with AsyncTestClient(create_app(settings.model_copy(update={"graphql_introspection": False}))) as client:
        body = (await gql(client, "{ users { edgs { cursor } } }", await sign_in(client))).json()
        assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"] and "Did you mean" not in body["errors"][0]["message"]
        assert set(codes((await gql(client, SCHEMA_QUERY, await sign_in(client))).json())) == {"GRAPHQL_VALIDATION_FAILED"}


# --- Rate limits charged by cost ---------------------------------------------------------------

async def _drain(client, token: str, n: int, rounds: int) -> list[int]:
    return [(await gql(client, USERS_PAGE, token, n=n)).status_code for _ in range(rounds)]


async def test_a_caller_is_limited_by_cost_not_by_requests(settings, seeded):
    from litestar.testing import AsyncTestClient

    from gateway.app import create_app

    budget = users_page_cost(30) * 3 + 10  # three pages of 30 a minute, and a little
    limited = settings.model_copy(update={"rate_limit_caller_cost_per_minute": budget})
    await add_user(seeded.acme, "second")
    async with AsyncTestClient(create_app(limited)) as client:
        token = await sign_in(client)
        assert await _drain(client, token, 30, 3) == [200, 200, 200]
        refused = await gql(client, USERS_PAGE, token, n=30)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert codes(refused.json()) == ["RATE_LIMITED"]
        assert refused.json()["errors"][0]["extensions"]["retryAfter"] == int(refused.headers["retry-after"])
        # Cheap requests still fit where a dear one did not: the charge is the cost.
        assert (await gql(client, "{ me { tenantId } }", token)).status_code == 200
        # Another user of the same tenant has a budget of their own.
        other = await sign_in(client, username="second")
        assert await _drain(client, other, 30, 1) == [200]


async def test_a_tenant_is_limited_by_the_cost_of_all_its_callers(settings, seeded):
    from litestar.testing import AsyncTestClient

    from gateway.app import create_app

    limited = settings.model_copy(update={"rate_limit_cost_per_minute": users_page_cost(30) * 2})
    await add_user(seeded.acme, "second")
    async with AsyncTestClient(create_app(limited)) as client:
        first, second = await sign_in(client), await sign_in(client, username="second")
        globex = await sign_in(client, tenant="globex")
        assert await _drain(client, first, 30, 1) + await _drain(client, second, 30, 1) == [200, 200]
        refused = (await gql(client, USERS_PAGE, second, n=30))
        assert refused.status_code == 429 and codes(refused.json()) == ["RATE_LIMITED"]
        assert await _drain(client, globex, 30, 1) == [200]


def _ctx(tenant=None, user=None, key=None, address="10.0.0.9"):
    principal = None if tenant is None else SimpleNamespace(tenant_id=tenant, user_id=user, api_key_id=key)
    return SimpleNamespace(principal=principal, client_address=address)


async def _limiter_refills_and_separates_callers(limiter) -> None:
    tenant = uuid4()
    user, key = _ctx(tenant, user=uuid4()), _ctx(tenant, key=uuid4())
    assert await limiter.charge(user, 60) is None
    wait = await limiter.charge(user, 60)
    assert wait is not None and 1 <= wait <= 60  # 60 a minute: one per second comes back
    assert await limiter.charge(key, 60) is None  # an API key of the same tenant: its own bucket
    assert await limiter.charge(_ctx(address=str(uuid4())), 60) is None  # anonymous by address


async def test_in_process_cost_buckets(settings):
    budgets = settings.model_copy(update={"rate_limit_caller_cost_per_minute": 100,
                                          "rate_limit_cost_per_minute": 1000})
    await _limiter_refills_and_separates_callers(MemoryCostLimiter(budgets))
    limiter = MemoryCostLimiter(settings.model_copy(update={"rate_limit_caller_cost_per_minute": 120}))
    ctx, now = _ctx(uuid4(), user=uuid4()), time.time()
    assert await limiter.charge(ctx, 120, now) is None
    assert await limiter.charge(ctx, 60, now) == 30  # 120 a minute: 60 takes half a minute to come back
    assert await limiter.charge(ctx, 60, now + 30) is None


@pytest.mark.redis
async def test_redis_cost_buckets_are_shared_by_processes(settings, redis_broker_url):
    budgets = settings.model_copy(update={"broker_url": redis_broker_url, "rate_limit_caller_cost_per_minute": 100,
                                          "rate_limit_cost_per_minute": 1000})
    await _limiter_refills_and_separates_callers(RedisCostLimiter(budgets))
    one, two = RedisCostLimiter(budgets), RedisCostLimiter(budgets)  # two API processes
    ctx = _ctx(uuid4(), user=uuid4())
    assert await one.charge(ctx, 80) is None
    assert await two.charge(ctx, 80) is not None
