"""R3 (Redis unavailable while the API keeps committing; docs/observability.md): with the broker's
Redis unreachable the API degrades instead of failing. Mutations commit with their outbox events
(the relay, in the workers, hands them on once Redis is back), rate limits fall back to this
process's own counters and still refuse with the coded answer, ``/readyz`` stays ready (the broker
is the workers' dependency) while ``/healthz`` and ``/metrics`` say Redis is away."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from core.context import Context
from core.db import unit_of_work
from core.jobs.tables import OutboxEvent
from core.metrics import sample_count
from gateway import rate_limits
from gateway.app import create_app
from tests.gateway.test_metrics import samples, value
from tests.support import PASSWORD

CLOSED = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connections are refused at once
LOGIN = 'mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, password: $p) ' \
        '{ accessToken } }'
CREATE_KEY = 'mutation($n: String!) { apiKeyCreate(name: $n, permissions: ["user.read"]) ' \
             '{ apiKey { id } errors { code } } }'
ROOMY = {"rate_limit_per_minute": 1000, "rate_limit_api_key_per_minute": 1000,
         "rate_limit_anonymous_per_minute": 1000, "rate_limit_cost_per_minute": 10**9,
         "rate_limit_caller_cost_per_minute": 10**9, "tick_interval_seconds": 3600}


@pytest.fixture
def settings(postgres_settings):
    """PostgreSQL, with the broker (and so the rate limits' store) on a Redis that is not there."""
    return postgres_settings.model_copy(update={"broker_url": CLOSED, **ROOMY})


@pytest.fixture(autouse=True)
def _fresh_redis_view(monkeypatch) -> None:
    """Each test starts with this process believing Redis is there (no fallback logged yet)."""
    monkeypatch.setattr(rate_limits, "_links", {})


async def gql(client, query: str, token: str | None = None, **variables):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


async def sign_in(client) -> str:
    response = await gql(client, LOGIN, t="acme", u="admin", p=PASSWORD)
    assert response.status_code == 200, response.text
    return response.json()["data"]["login"]["accessToken"]


def fallback_warnings(caplog) -> list[dict]:
    return [r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg.get("event") == "rate_limit.redis_unreachable"]


async def test_mutations_commit_with_their_outbox_events_while_redis_is_down(settings, seeded, caplog):
    """R3: every mutation answers without a 5xx or an error and its outbox event is committed
    (pending, for the relay to hand on later); /readyz stays 200 reporting the broker down;
    /healthz says the broker is unreachable; /metrics shows the fallback and the growing outbox;
    the fallback is logged once, not once per request."""
    caplog.set_level(logging.INFO)
    async with AsyncTestClient(create_app(settings)) as client:
        token = await sign_in(client)
        answers = [await gql(client, CREATE_KEY, token, n=f"erp-{i}") for i in range(3)]
        ready = await client.get("/readyz")
        health = await client.get("/healthz")
        scrape = samples((await client.get("/metrics")).text)

    assert [a.status_code for a in answers] == [200, 200, 200]
    bodies = [a.json() for a in answers]
    assert all("errors" not in body and body["data"]["apiKeyCreate"]["errors"] == [] for body in bodies), bodies
    key_ids = {body["data"]["apiKeyCreate"]["apiKey"]["id"] for body in bodies}
    async with unit_of_work(Context.system("test", seeded.acme.id), write=False) as uow:
        events = await uow.select(OutboxEvent.aggregate_id, OutboxEvent.status).where(
            OutboxEvent.event_type == "apikey.created")
    assert {e["aggregate_id"] for e in events} == key_ids
    assert {e["status"] for e in events} == {"pending"}  # waiting for the relay, not lost

    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "broker": "down"}}
    assert health.status_code == 200 and health.json()["details"]["broker"] == "unreachable"
    assert value(scrape, "kehu_rate_limit_fallback") == 1
    assert value(scrape, "kehu_outbox_pending_events") >= 3
    assert value(scrape, "kehu_outbox_oldest_pending_age_seconds") >= 0

    warnings = fallback_warnings(caplog)
    assert len(warnings) == 1, warnings  # six requests, one line
    assert warnings[0]["fallback"] == "local"


async def test_the_local_limiter_still_limits_with_the_coded_answer(settings, seeded):
    """R3: while Redis is away the limits still hold, counted in this process: a tenant allowed 3
    requests a minute gets the usual coded RATE_LIMITED 429 on its 4th."""
    async with AsyncTestClient(create_app(settings.model_copy(update={"rate_limit_per_minute": 3}))) as client:
        token = await sign_in(client)  # anonymous: the address's budget, not the tenant's
        answers = [await gql(client, "{ me { tenantId } }", token) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    error = answers[3].json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["policy"] == "tenant"
    assert 1 <= int(answers[3].headers["retry-after"]) <= 60


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A port that accepts connections and never answers: a Redis hung or behind a partition."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"


async def test_a_silent_redis_holds_no_request_long(settings, seeded, silent_redis):
    """R3: a Redis that accepts but never answers costs a request at most the short timeout, and
    only the request that tries it; Redis is then tried again at most every few seconds."""
    hung = settings.model_copy(update={"broker_url": silent_redis, "rate_limit_redis_timeout_seconds": 0.2})
    async with AsyncTestClient(create_app(hung)) as client:
        token = await sign_in(client)
        started = time.monotonic()
        answers = [await gql(client, "{ me { tenantId } }", token) for _ in range(10)]
        elapsed = time.monotonic() - started
    assert [a.status_code for a in answers] == [200] * 10
    assert elapsed < 3.0, elapsed  # without the timeout the first request waits forever


async def test_redis_coming_back_is_used_again_and_logged(settings, seeded, redis_broker_url, caplog, monkeypatch):
    """R3: when Redis answers again (tried at most every REDIS_RETRY_SECONDS) the limits go back to
    the shared counters, with one info line, and the fallback gauge drops to 0."""
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(rate_limits, "REDIS_RETRY_SECONDS", 0.2)
    link = rate_limits.redis_link(redis_broker_url)
    link.failed(ConnectionError("Redis was away"))  # as if the last try had failed
    assert sample_count("kehu_rate_limit_fallback") == 1
    back = settings.model_copy(update={"broker_url": redis_broker_url})
    async with AsyncTestClient(create_app(back)) as client:
        token = await sign_in(client)
        time.sleep(0.25)
        answers = [await gql(client, "{ me { tenantId } }", token) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert not link.local
    assert sample_count("kehu_rate_limit_fallback") == 0
    assert [r.msg["event"] for r in caplog.records
            if isinstance(r.msg, dict) and r.msg.get("event") == "rate_limit.redis_back"] == ["rate_limit.redis_back"]


async def test_readyz_still_turns_false_when_the_database_is_away(settings, seeded, postgres_database):
    """R3 leaves R5/R6 as they were: the database is the API's dependency, so with it unreachable
    /readyz answers 503, whatever the broker."""
    admin = await asyncpg.connect(postgres_database.owner_url)
    try:
        async with AsyncTestClient(create_app(settings)) as client:
            assert (await client.get("/readyz")).status_code == 200
            await admin.execute(f'ALTER DATABASE "{postgres_database.name}" CONNECTION LIMIT 0')
            await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = $1 AND pid <> pg_backend_pid()", postgres_database.name)
            response = await client.get("/readyz")
            await admin.execute(f'ALTER DATABASE "{postgres_database.name}" CONNECTION LIMIT -1')
    finally:
        await admin.close()
    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "checks": {"database": "down", "broker": "down"}}
