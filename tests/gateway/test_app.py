"""The app built from the factory: GraphQL, GraphiQL, health, readiness, request ids, shutdown."""

import pytest
from litestar.testing import TestClient

from core.settings import load_settings
from gateway.app import create_app
from tests.gateway.conftest import graphql


def test_typename_answers(client):
    assert graphql(client, "{ __typename }") == {"data": {"__typename": "Query"}}


def test_verticals_are_served(client):
    data = graphql(client, "{ version verticals { id nameZh nameEn version } }")["data"]
    assert [v["id"] for v in data["verticals"]] == ["automotive", "medical_devices", "real_estate", "tobacco"]
    assert data["verticals"][0]["nameZh"] == "汽车经销商"


def test_graphiql_is_served_in_the_embedded_profile(client):
    page = client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


def test_healthz_answers_without_touching_dependencies(client):
    assert client.get("/healthz").json()["status"] == "ok"  # details may warn of provisional calendar days


def test_readyz_checks_database_and_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


def test_r3_readyz_stays_ready_when_only_the_broker_is_unreachable(var_dir):
    """R3: the broker is the workers' dependency; the API keeps committing (events wait in the
    outbox), so it stays in service and says the broker is down."""
    settings = load_settings(database_url=f"sqlite:///{var_dir}/k.sqlite3", broker_url="redis://127.0.0.1:1/0")
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "down"}}


def test_readyz_with_a_real_redis_broker(var_dir, redis_broker_url):
    settings = load_settings(database_url=f"sqlite:///{var_dir}/k.sqlite3", broker_url=redis_broker_url)
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").json()["checks"]["broker"] == "ok"


def test_request_id_is_echoed_or_made(client):
    given = client.post("/graphql", json={"query": "{ __typename }"}, headers={"x-request-id": "req-12345678"})
    assert given.headers["x-request-id"] == "req-12345678"
    made = client.post("/graphql", json={"query": "{ __typename }"}, headers={"x-request-id": "bad id!"})
    assert made.headers["x-request-id"] != "bad id!" and len(made.headers["x-request-id"]) == 32


def test_queries_over_get_are_refused(client):
    response = client.get("/graphql", params={"query": "{ __typename }"}, headers={"accept": "application/json"})
    assert response.status_code in (400, 405)


def test_oversize_request_body_is_refused(var_dir):
    settings = load_settings(database_url=f"sqlite:///{var_dir}/k.sqlite3", request_max_body_bytes=4096)
    with TestClient(create_app(settings)) as client:
        response = client.post("/graphql", json={"query": "{ __typename }", "variables": {"x": "y" * 10_000}})
    assert response.status_code == 413


def test_introspection_can_be_switched_off(var_dir):
    settings = load_settings(database_url=f"sqlite:///{var_dir}/k.sqlite3", graphql_introspection=False)
    with TestClient(create_app(settings)) as client:
        body = graphql(client, "{ __schema { types { name } } }")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_disabled_plugin_is_not_served(var_dir):
    settings = load_settings(database_url=f"sqlite:///{var_dir}/k.sqlite3", disabled_plugins="tobacco")
    with TestClient(create_app(settings)) as client:
        ids = [v["id"] for v in graphql(client, "{ verticals { id } }")["data"]["verticals"]]
    assert "tobacco" not in ids and "automotive" in ids


@pytest.mark.parametrize("language, expected", [("zh-CN", "GraphQL 文档超过"), ("en", "GraphQL document is larger")])
def test_coded_errors_speak_the_callers_language(client, language, expected):
    body = graphql(client, "{ __typename }" + " " * 40_000, **{"accept-language": language})
    assert expected in body["errors"][0]["message"]


async def test_shutdown_waits_for_background_work_only_up_to_the_grace_period():
    import asyncio

    from gateway.app import _stop_within

    finished = asyncio.create_task(asyncio.sleep(0), name="quick")
    stuck = asyncio.create_task(asyncio.Event().wait(), name="stuck-job")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await _stop_within(0.2, finished, None, stuck)
    assert loop.time() - started < 2 and finished.done() and not finished.cancelled() and stuck.cancelled()


def test_apps_on_the_same_verticals_share_converted_types_but_keep_their_own_limits(var_dir):
    """Building an app reuses the converted GraphQL types of an earlier app on the same verticals
    (it saves a fifth of a second per app), yet each app's limits are its own: introspection off
    and a 1 KiB document limit in one app reach neither of the other app's."""
    from gateway.graphql.schema import build_schema

    url = f"sqlite:///{var_dir}/k.sqlite3"
    strict = load_settings(database_url=url, graphql_introspection=False, graphql_max_document_bytes=1024)
    lenient = load_settings(database_url=url, graphql_introspection=True)
    assert build_schema(strict)._schema is build_schema(lenient)._schema  # one conversion

    def codes(client, query: str) -> list[str]:
        return [e["extensions"]["code"] for e in graphql(client, query).get("errors") or []]

    introspect, padded = "{ __schema { queryType { name } } }", "{ __typename }" + " " * 2000
    with TestClient(create_app(strict)) as first, TestClient(create_app(lenient)) as second:
        assert "GRAPHQL_VALIDATION_FAILED" in codes(first, introspect)
        assert codes(first, padded) == ["DOCUMENT_TOO_LARGE"]
        assert "GRAPHQL_VALIDATION_FAILED" not in codes(second, introspect)
        assert codes(second, padded) == []


def test_a_serving_process_freezes_what_start_up_built_and_an_app_made_in_process_does_not(tmp_path):
    """P10 (issue 27): in the process ``kehu serve`` runs, what start-up built is frozen out of
    the cycle collector's sight (a full collection walked it all, ~70 ms, a stall every request in
    flight waited through: p99 3-10x p50 before, about 2x after). ``create_app`` alone freezes
    nothing, so apps made and dropped (tests, tools) stay collectable."""
    import gc
    import os
    import subprocess
    import sys

    env = {**os.environ, "KEHU_VAR_DIR": str(tmp_path), "KEHU_DATABASE_URL": f"sqlite:///{tmp_path}/kehu.sqlite3"}
    probe = ("import gc; from gateway.app import create_app_from_environment; create_app_from_environment(); "
             "print(gc.get_freeze_count())")
    frozen = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert frozen.returncode == 0, frozen.stderr[-2000:]
    assert int(frozen.stdout.split()[-1]) > 50_000  # the modules, schema and tables: a few hundred thousand
    before = gc.get_freeze_count()
    create_app(load_settings(var_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/in-process.sqlite3"))
    assert gc.get_freeze_count() == before
