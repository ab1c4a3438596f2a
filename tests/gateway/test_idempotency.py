"""Issue 17 point 1: every mutation accepts an ``Idempotency-Key`` header (the IETF draft's
semantics). Each test runs on SQLite and on PostgreSQL (``settings`` is parametrised)."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest

from core.context import Context
from core.customers import service as customers
from core.db import unit_of_work, use_database
from core.idempotency.tables import IdempotencyRecord
from core.jobs.timers import tick
from gateway.app import create_app
from tests.gateway.test_identity_api import LOGIN, login

CREATE = """mutation($input: CustomerInput!) {
  customerCreate(input: $input) { customer { id displayName version } errors { code field } } }"""
COUNT = "{ customers(first: 50) { edges { node { id displayName } } } }"


def person(given_name: str = "小明", phone: str = "13912345678") -> dict:
    return {"kind": "person", "surname": "王", "givenName": given_name, "phones": [phone]}


@pytest.fixture
def app_settings(settings):
    return settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "tick_interval_seconds": 3600,
                                       "idempotency_wait_seconds": 5.0})


@asynccontextmanager
async def serving(settings):
    """The app on the test's own event loop: requests sent together run together (Litestar's
    AsyncTestClient hands each request to another thread and waits for it, one at a time)."""
    app = create_app(settings)
    started, stop = asyncio.Event(), asyncio.Event()

    async def run() -> None:  # lifespan in one task of its own: it holds an anyio cancel scope
        async with app.lifespan():
            started.set()
            await stop.wait()

    lifespan = asyncio.create_task(run())
    await asyncio.wait([lifespan, asyncio.create_task(started.wait())], return_when=asyncio.FIRST_COMPLETED)
    if lifespan.done():
        lifespan.result()  # the app failed to start: its error
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://testserver.local") as test_client:
            test_client.app = app
            yield test_client
    finally:
        stop.set()
        await lifespan


@pytest.fixture
async def client(app_settings, seeded):
    async with serving(app_settings) as test_client:
        yield test_client


async def post(client, token: str, query: str, key: str | None = None, **variables):
    headers = {"authorization": f"Bearer {token}"}
    if key is not None:
        headers["idempotency-key"] = key
    return await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


async def names(client, token: str) -> list[str]:
    body = (await post(client, token, COUNT)).json()
    return [edge["node"]["displayName"] for edge in body["data"]["customers"]["edges"]]


async def test_same_key_and_body_twice_creates_one_customer_and_replays_the_first_answer(client):
    """Issue 17 point 1: the same key and body return the first response, marked as replayed,
    without a second effect."""
    token = (await login(client))["accessToken"]
    first = await post(client, token, CREATE, "create-wang-1", input=person())
    again = await post(client, token, CREATE, "create-wang-1", input=person())
    assert first.status_code == again.status_code == 200
    assert first.json()["data"]["customerCreate"]["errors"] == []
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert await names(client, token) == ["王小明"]
    # Without the header the same mutation runs again (the refusal is the duplicate check's).
    plain = (await post(client, token, CREATE, input=person())).json()["data"]["customerCreate"]
    assert plain["customer"]["id"] != first.json()["data"]["customerCreate"]["customer"]["id"]


async def test_same_key_with_another_body_is_refused_with_a_coded_422(client):
    """Issue 17 point 1: the same key with another body is refused with IDEMPOTENCY_KEY_REUSED
    (in zh-CN too) and changes nothing."""
    token = (await login(client))["accessToken"]
    assert (await post(client, token, CREATE, "k-2", input=person())).status_code == 200
    other = await post(client, token, CREATE, "k-2", input=person("小红", "13912345679"))
    assert other.status_code == 422
    error = other.json()["errors"][0]
    assert error["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED" and error["extensions"]["requestId"]
    zh = await client.post("/graphql", json={"query": CREATE, "variables": {"input": person("小红", "13912345679")}},
                           headers={"authorization": f"Bearer {token}", "idempotency-key": "k-2",
                                    "accept-language": "en;q=0.5, zh-CN"})
    assert zh.status_code == 422 and "请求体" in zh.json()["errors"][0]["message"]
    assert await names(client, token) == ["王小明"]


async def test_keys_are_per_caller_and_per_tenant(client, seeded):
    """Issue 17 point 1: keys are per tenant and per caller: another user of the tenant, an API
    key, or another tenant using the same key each get their own first run, never acme admin's
    stored answer."""
    admin = (await login(client))["accessToken"]
    first = (await post(client, admin, CREATE, "shared-key", input=person())).json()
    created = (await post(client, admin, 'mutation { apiKeyCreate(name: "erp", permissions: '
                          '["customer.write", "customer.read"]) { secret errors { code } } }')).json()
    secret = created["data"]["apiKeyCreate"]["secret"]
    by_key = await client.post("/graphql", json={"query": CREATE, "variables": {"input": person("小刚", "13912340000")}},
                               headers={"x-api-key": secret, "idempotency-key": "shared-key"})
    assert by_key.status_code == 200 and "idempotent-replayed" not in by_key.headers
    assert by_key.json()["data"]["customerCreate"]["customer"]["displayName"] == "王小刚"
    globex = (await login(client, tenant="globex"))["accessToken"]
    theirs = await post(client, globex, CREATE, "shared-key", input=person())
    assert "idempotent-replayed" not in theirs.headers
    their_customer = theirs.json()["data"]["customerCreate"]["customer"]
    assert their_customer["id"] != first["data"]["customerCreate"]["customer"]["id"]
    assert sorted(await names(client, admin)) == ["王小刚", "王小明"]
    assert await names(client, globex) == ["王小明"]


async def test_concurrent_duplicates_run_once_and_both_get_the_same_answer(client, monkeypatch):
    """Issue 17 point 1: a duplicate sent while the first request runs waits for it and gets its
    answer; the mutation runs once."""
    token = (await login(client))["accessToken"]
    original = customers.create_customer
    runs = []

    async def slow_create(*args, **kwargs):
        runs.append(1)
        await asyncio.sleep(0.3)  # the duplicate arrives while this one is in flight
        return await original(*args, **kwargs)

    monkeypatch.setattr(customers, "create_customer", slow_create)
    one, two = await asyncio.gather(post(client, token, CREATE, "together", input=person()),
                                    post(client, token, CREATE, "together", input=person()))
    assert one.status_code == two.status_code == 200
    assert one.json() == two.json() and one.json()["data"]["customerCreate"]["errors"] == []
    assert sorted(r.headers.get("idempotent-replayed", "no") for r in (one, two)) == ["no", "true"]
    assert len(runs) == 1 and await names(client, token) == ["王小明"]


async def test_a_duplicate_of_a_request_still_running_after_the_wait_gets_a_coded_409(client, monkeypatch):
    """Issue 17 point 1: the wait for the first request is bounded; then 409
    IDEMPOTENCY_KEY_IN_PROGRESS, and the duplicate runs nothing."""
    token = (await login(client))["accessToken"]
    original = customers.create_customer
    runs = []

    async def slow_create(*args, **kwargs):
        runs.append(1)
        await asyncio.sleep(1.0)
        return await original(*args, **kwargs)

    monkeypatch.setattr(customers, "create_customer", slow_create)
    client.app.state.settings = client.app.state.settings.model_copy(update={"idempotency_wait_seconds": 0.2})

    async def duplicate():
        await asyncio.sleep(0.2)  # the first has claimed the key by now
        return await post(client, token, CREATE, "busy", input=person())

    first, busy = await asyncio.gather(post(client, token, CREATE, "busy", input=person()), duplicate())
    assert busy.status_code == 409, (busy.headers, busy.json())
    assert busy.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_IN_PROGRESS"
    assert first.status_code == 200 and len(runs) == 1 and await names(client, token) == ["王小明"]
    later = await post(client, token, CREATE, "busy", input=person())  # once done, the answer replays
    assert later.headers["idempotent-replayed"] == "true" and later.json() == first.json()


async def test_the_key_is_replayed_after_a_server_restart(app_settings, seeded):
    """Issue 17 point 1: the stored response outlives the process: a new app on the same
    database replays it."""
    async with serving(app_settings) as first_server:
        token = (await login(first_server))["accessToken"]
        first = await post(first_server, token, CREATE, "across-restart", input=person())
    async with serving(app_settings) as second_server:
        again = await post(second_server, token, CREATE, "across-restart", input=person())
        assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
        assert await names(second_server, token) == ["王小明"]


async def test_a_request_that_failed_unexpectedly_does_not_lock_its_key(client, monkeypatch):
    """Issue 17 point 1: a first request that ended in an unexpected error releases the key: the
    retry runs the mutation."""
    token = (await login(client))["accessToken"]
    original = customers.create_customer

    async def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(customers, "create_customer", broken)
    failed = (await post(client, token, CREATE, "retry-me", input=person())).json()
    assert failed["errors"][0]["extensions"]["code"] == "INTERNAL_ERROR"
    monkeypatch.setattr(customers, "create_customer", original)
    retried = await post(client, token, CREATE, "retry-me", input=person())
    assert "idempotent-replayed" not in retried.headers
    assert retried.json()["data"]["customerCreate"]["errors"] == [] and await names(client, token) == ["王小明"]


@pytest.mark.parametrize("key", ["", "x" * 256, "clé", "tab\there"])
async def test_a_malformed_key_is_refused_with_a_coded_400(client, key):
    """Issue 17 point 1: a key is 1-255 printable ASCII characters; another is refused with
    IDEMPOTENCY_KEY_INVALID and nothing runs."""
    token = (await login(client))["accessToken"]
    refused = await client.post("/graphql", json={"query": CREATE, "variables": {"input": person()}},
                                headers={"authorization": f"Bearer {token}", "idempotency-key": key.encode("utf-8")})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_INVALID"
    assert await names(client, token) == []


async def test_a_structured_field_string_key_is_the_same_key_as_its_bare_form(client):
    """Issue 17 point 1: the draft writes the key as a Structured Field string ("…")."""
    token = (await login(client))["accessToken"]
    first = await post(client, token, CREATE, '"quoted-1"', input=person())
    again = await post(client, token, CREATE, "quoted-1", input=person())
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()


async def test_credential_issuing_mutations_refuse_a_key_and_queries_ignore_it(client):
    """Issue 17 point 1: a response holding a fresh credential is never stored: login and
    apiKeyCreate with a key are refused (IDEMPOTENCY_KEY_NOT_SUPPORTED); a query ignores it."""
    refused = await client.post("/graphql", json={"query": LOGIN, "variables": {"t": "acme", "u": "admin",
                                                                               "p": "correct-horse-battery-1"}},
                                headers={"idempotency-key": "login-1"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_NOT_SUPPORTED"
    token = (await login(client))["accessToken"]
    api_key = await post(client, token, 'mutation { apiKeyCreate(name: "x", permissions: []) { secret } }', "k-api")
    assert api_key.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_NOT_SUPPORTED"
    for _ in range(2):
        read = await post(client, token, COUNT, "a-query")
        assert read.status_code == 200 and "idempotent-replayed" not in read.headers
    # Nothing was stored under the key: a mutation may still use it.
    used = await post(client, token, CREATE, "a-query", input=person())
    assert used.status_code == 200 and used.json()["data"]["customerCreate"]["errors"] == []


async def test_stored_responses_are_sealed_and_expired_keys_are_swept(app_settings, database, seeded):
    """Issue 17 point 1: the stored response holds no personal data in clear; after the key's
    time (24 hours) the periodic tick deletes it."""
    async with serving(app_settings) as client:
        token = (await login(client))["accessToken"]
        await post(client, token, CREATE, "sweep-me", input=person())
    use_database(database)  # the app's pool is closed; read with the test's own
    ctx = Context.system("test", seeded.acme.id)
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(IdempotencyRecord).first()
    assert "小明" not in row["response"] and "13912345678" not in row["response"] and row["response"].count(":") == 1
    assert row["expires_at"] - row["created_at"] >= timedelta(hours=23, minutes=59)
    await tick(row["expires_at"] - timedelta(seconds=1))
    async with unit_of_work(ctx, write=False) as uow:
        assert await uow.count(IdempotencyRecord) == 1
    await tick(row["expires_at"] + timedelta(seconds=1))
    async with unit_of_work(ctx, write=False) as uow:
        assert await uow.count(IdempotencyRecord) == 0




async def test_a_keyed_mutation_held_by_its_claim_answers_with_its_own_status_not_a_concurrent_requests(
        app_settings, seeded, monkeypatch):
    """Strawberry's POST handler keeps each request's response object on the controller, which
    every request shares, and reads it back when the operation runs: a keyed mutation that waited
    for its claim then answered with the status of whichever request came in meanwhile (here a
    query refused by its cost budget, 429). Each request keeps its own."""
    from gateway import idempotency

    settings = app_settings.model_copy(update={"rate_limit_caller_cost_per_minute": 40,
                                                "rate_limit_cost_per_minute": 10**9})
    claim, held, release = idempotency.service.claim_or_wait, asyncio.Event(), asyncio.Event()

    async def held_claim(*args, **kwargs):
        held.set()
        await release.wait()
        return await claim(*args, **kwargs)

    async with serving(settings) as client:
        token = (await login(client))["accessToken"]
        # An anonymous caller's budget (its address's, which signing in used too): 22, then refused.
        costly = {"query": "{ customers(first: 10) { edges { node { id } } } }"}
        first = await client.post("/graphql", json=costly)
        assert first.status_code == 200, first.text
        monkeypatch.setattr(idempotency.service, "claim_or_wait", held_claim)
        keyed = asyncio.create_task(post(client, token, CREATE, "held-key", input=person()))
        await asyncio.wait_for(held.wait(), 10)
        refused = await client.post("/graphql", json=costly)  # while the keyed mutation waits
        release.set()
        answer = await keyed
    assert refused.status_code == 429 and refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["customerCreate"]["errors"] == []
