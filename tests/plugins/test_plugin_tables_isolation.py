"""Issue 18 point 1: the isolation suite runs the operations a vertical declares
(``kehu_isolation_operations``), here those of the worked example docs/examples/callbacks, on SQLite
(wall 1), on PostgreSQL, and on PostgreSQL with wall 1 switched off (RLS alone); and it notices a
vertical table whose tenant filter is gone."""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path

import pytest
from litestar.testing import TestClient

from core.db import uow
from core.jobs.timers import unregister_sweep
from core.plugins.testing import make_registry
from gateway.app import create_app
from tests.isolation.plugin_operations import check_vertical_isolation, plugin_ops
from tests.plugins.test_plugin_tables import open_database

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "callbacks"


@pytest.fixture
def callbacks():
    sys.path.insert(0, str(EXAMPLE))
    try:
        yield importlib.import_module("kehu_callbacks")
    finally:
        sys.path.remove(str(EXAMPLE))
        unregister_sweep("callbacks.overdue")  # the example's tick, registered when it was imported


@pytest.fixture(params=["sqlite", "postgres", "postgres-rls-only"])
def settings(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    if request.param == "postgres-rls-only":
        monkeypatch.setattr(uow, "_test_unfiltered_tables", frozenset({"*"}))
    kind = request.param.split("-")[0]
    return request.getfixturevalue(f"{kind}_settings").model_copy(update={
        "rate_limit_anonymous_per_minute": 1_000_000, "rate_limit_per_minute": 1_000_000})


@pytest.fixture(autouse=True)
def _catalog_given_back(monkeypatch):
    from core.identity import permissions

    monkeypatch.setattr(permissions, "_catalog", permissions.catalog())


async def _drive(settings, registry):
    db = await open_database(settings, registry)
    try:
        def run():
            with TestClient(create_app(settings, registry=registry)) as client:
                return check_vertical_isolation(client, registry, "callbacks")

        return await asyncio.to_thread(run)
    finally:
        await db.close()


async def test_a_verticals_declared_operations_keep_tenants_apart(settings, callbacks):
    """Issue 18 point 1: the isolation suite's operations can be declared by the vertical."""
    registry = make_registry(("callbacks", callbacks))
    assert [op.name for op in plugin_ops(registry)] == ["callbacksRequestAdd", "callbacksRequests", "callbacksRequest"]
    report = await _drive(settings, registry)
    assert report.leaks == []
    assert report.probes >= 3 and report.calls >= 12


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
async def test_the_suite_notices_a_vertical_table_without_its_tenant_filter(settings, callbacks, monkeypatch):
    """Issue 18 point 1: the declared operations catch a leak on a vertical's own table."""
    monkeypatch.setattr(uow, "_test_unfiltered_tables", frozenset({"callbacks_request"}))
    report = await _drive(settings, make_registry(("callbacks", callbacks)))
    assert any("callbacksRequest" in leak for leak in report.leaks), report.leaks


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
async def test_a_verticals_coded_errors_reach_the_client_with_their_code(settings, callbacks):
    """Issue 18 point 2: KehuError (coded, zh/en) reaches the client with its code: in a mutation's
    payload and as a query's GraphQL error; a user without the vertical's permission is told which."""
    from functools import partial

    from core.tenancy import service as tenancy
    from tests.isolation.plugin_operations import ENABLE, LOGIN, _post
    from tests.support import PASSWORD, SYSTEM, add_user

    registry = make_registry(("callbacks", callbacks))
    db = await open_database(settings, registry)

    def run():
        with TestClient(create_app(settings, registry=registry)) as client:
            tenant = client.blocking_portal.call(partial(tenancy.create_tenant, SYSTEM, slug="callers", name="Callers",
                                                         admin=tenancy.TenantAdmin(username="admin", password=PASSWORD)))
            client.blocking_portal.call(partial(add_user, tenant, "clerk"))
            admin = _post(client, LOGIN, "", t="callers", u="admin", p=PASSWORD)["data"]["login"]["accessToken"]
            clerk = _post(client, LOGIN, "", t="callers", u="clerk", p=PASSWORD)["data"]["login"]["accessToken"]
            assert _post(client, ENABLE, admin, v="callbacks")["data"]["verticalEnable"]["errors"] == []
            add = 'mutation { callbacksRequestAdd(subject: " ") { request { id } errors { field code message } } }'
            zh = client.post("/graphql", json={"query": add}, headers={"authorization": f"Bearer {admin}",
                                                                       "accept-language": "zh-CN"}).json()
            denied = _post(client, "{ callbacksRequests { id } }", clerk)
            return _post(client, add, admin), zh, denied

    try:
        en, zh, denied = await asyncio.to_thread(run)
    finally:
        await db.close()
    assert en["data"]["callbacksRequestAdd"] == {"request": None, "errors": [
        {"field": "subject", "code": "CALLBACKS_SUBJECT_REQUIRED", "message": "a callback request needs a subject"}]}
    assert zh["data"]["callbacksRequestAdd"]["errors"][0]["message"] == "回访请求须填写事由"
    error = denied["errors"][0]
    assert error["extensions"]["code"] == "PERMISSION_DENIED" and "callbacks.request.read" in error["message"]
