"""``/metrics`` (issue 26, docs/observability.md): Prometheus text of GraphQL traffic by operation,
coded errors, timer ticks, audit appends and the background backlog, with no tenant data or
credential in it; off when ``KEHU_METRICS_ENABLED`` is false."""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from core.jobs import timers
from gateway import rate_limits
from gateway.app import create_app
from tests.support import PASSWORD

LOGIN = 'mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, password: $p) ' \
        '{ accessToken } }'
ROOMY = {"rate_limit_per_minute": 1000, "rate_limit_api_key_per_minute": 1000,
         "rate_limit_anonymous_per_minute": 1000, "rate_limit_cost_per_minute": 10**9,
         "rate_limit_caller_cost_per_minute": 10**9, "tick_interval_seconds": 3600}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, parsed as Prometheus would: (name, sorted labels) -> value."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(scrape: dict, name: str, **labels: str) -> float:
    return scrape.get((name, tuple(sorted(labels.items()))), 0.0)


async def gql(client, query: str, token: str | None = None, **variables):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


async def test_metrics_count_operations_errors_and_ticks_without_tenant_data(settings, seeded, monkeypatch):
    """Issue 26 B: after a few requests, one of them refused with a code, /metrics counts the
    requests of each operation (by its root field, not the client's operation name), times them in
    a histogram, counts the code; a tick is timed; nothing of the tenant or its credentials shows."""
    monkeypatch.setattr(rate_limits, "_links", {})  # no Redis fallback left by an earlier test of this process
    app = create_app(settings.model_copy(update={**ROOMY, "rate_limit_api_key_per_minute": 1}))
    async with AsyncTestClient(app) as client:
        before = samples((await client.get("/metrics")).text)
        token = (await gql(client, LOGIN, t="acme", u="admin", p=PASSWORD)).json()["data"]["login"]["accessToken"]
        created = (await gql(client, 'mutation { apiKeyCreate(name: "erp", permissions: ["user.read"]) '
                                     '{ apiKey { id } secret errors { code } } }', token)).json()
        secret = created["data"]["apiKeyCreate"]["secret"]
        for _ in range(2):
            assert (await gql(client, "query MyOwnName { me { tenantId } }", token)).status_code == 200
        headers = {"x-api-key": secret}
        assert (await client.post("/graphql", json={"query": "{ me { apiKeyId } }"}, headers=headers)).status_code == 200
        refused = await client.post("/graphql", json={"query": "{ me { apiKeyId } }"}, headers=headers)
        assert refused.status_code == 429 and refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        unknown = (await gql(client, "{ noSuchField }", token)).json()
        assert unknown["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        ticks_before = value(before, "kehu_tick_duration_seconds_count")

        async def sweep(now):  # the app's database belongs to its own event loop: no I/O from here
            return 0

        monkeypatch.setattr(timers, "_sweeps", {"test.sweep": sweep})
        await timers.tick()
        response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    scrape = samples(response.text)

    def grew(name: str, **labels: str) -> float:
        return value(scrape, name, **labels) - value(before, name, **labels)

    assert grew("kehu_graphql_requests_total", operation="me") == 3  # the refused one never reached GraphQL
    assert grew("kehu_graphql_requests_total", operation="login") == 1
    assert grew("kehu_graphql_requests_total", operation="apiKeyCreate") == 1
    assert grew("kehu_graphql_requests_total", operation="other") == 1  # an unknown field: a bounded label
    assert value(scrape, "kehu_graphql_requests_total", operation="MyOwnName") == 0
    assert grew("kehu_graphql_request_duration_seconds_count", operation="me") == 3
    assert grew("kehu_graphql_request_duration_seconds_bucket", operation="me", le="+Inf") == 3
    assert value(scrape, "kehu_graphql_request_duration_seconds_sum", operation="me") > 0
    assert grew("kehu_errors_total", code="RATE_LIMITED") == 1
    assert grew("kehu_errors_total", code="GRAPHQL_VALIDATION_FAILED") == 1
    assert value(scrape, "kehu_tick_duration_seconds_count") == ticks_before + 1
    assert value(scrape, "kehu_audit_append_duration_seconds_count") > value(before, "kehu_audit_append_duration_seconds_count")
    assert ("kehu_outbox_pending_events", ()) in scrape and ("kehu_jobs_queued", ()) in scrape
    assert value(scrape, "kehu_rate_limit_fallback") == 0  # embedded: no Redis to fall back from

    text = response.text
    for secret_or_tenant in (token, secret, PASSWORD, str(seeded.acme.id), "acme", "Acme", "admin", "erp",
                             *(token.split(".")), created["data"]["apiKeyCreate"]["apiKey"]["id"]):
        assert secret_or_tenant not in text, secret_or_tenant
    # Every label value is a schema field, an error code, a bucket bound or a failure outcome.
    for (name, labels), _ in scrape.items():
        for label, label_value in labels:
            assert label in {"operation", "code", "le", "outcome"}, (name, label)
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*|[0-9.e+-]+|\+Inf", label_value), (name, label_value)


async def test_metrics_can_be_switched_off(sqlite_settings):
    """KEHU_METRICS_ENABLED=false: no /metrics route at all."""
    async with AsyncTestClient(create_app(sqlite_settings.model_copy(update={"metrics_enabled": False}))) as client:
        assert (await client.get("/metrics")).status_code == 404


def test_webhook_failures_are_counted_with_a_bounded_outcome():
    """``core.metrics.record_webhook_failure`` (called where webhook attempts are settled): a short
    outcome word is its label; anything else (a URL, say) is counted as ``other``."""
    from core.metrics import record_webhook_failure, sample_count

    timeout = sample_count("kehu_webhook_failures_total", {"outcome": "timeout"})
    other = sample_count("kehu_webhook_failures_total", {"outcome": "other"})
    record_webhook_failure("timeout")
    record_webhook_failure("https://hooks.example.com/secret-path")
    assert sample_count("kehu_webhook_failures_total", {"outcome": "timeout"}) == timeout + 1
    assert sample_count("kehu_webhook_failures_total", {"outcome": "other"}) == other + 1
