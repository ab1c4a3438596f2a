"""Issue 18 point 1: the isolation suite runs the operations every installed vertical declares
(``kehu_isolation_operations``), on SQLite, on PostgreSQL, and on PostgreSQL with the application's
tenant filter off (RLS alone); and a vertical's GraphQL root field is covered by an entry of
tests/isolation/operations.py or by an operation the vertical declares."""

from __future__ import annotations

import asyncio

import pytest
from litestar.testing import TestClient

from core.db import uow
from core.plugins.manager import load_verticals
from gateway.app import create_app
from gateway.graphql.schema import build_schema
from tests.isolation.operations import OPS, root_fields
from tests.isolation.plugin_operations import check_vertical_isolation, plugin_ops

INSTALLED = load_verticals()
DECLARING = [d.id for d in INSTALLED.definitions if d.isolation_operations]


@pytest.fixture(params=["sqlite", "postgres", "postgres-rls-only"])
def settings(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    if request.param == "postgres-rls-only":
        monkeypatch.setattr(uow, "_test_unfiltered_tables", frozenset({"*"}))
    kind = request.param.split("-")[0]
    return request.getfixturevalue(f"{kind}_settings").model_copy(update={
        "rate_limit_anonymous_per_minute": 1_000_000, "rate_limit_per_minute": 1_000_000})


# Only when an installed vertical declares operations (the out-of-tree example's environment,
# tests/plugins/test_out_of_tree.py): in kehu's own checkout none does, and an empty parameter set
# would be reported as a skip.
if DECLARING:
    @pytest.mark.parametrize("vertical_id", DECLARING)
    async def test_an_installed_verticals_declared_operations_keep_tenants_apart(settings, vertical_id, monkeypatch):
        """Issue 18 point 1: the isolation suite's operations can be declared by the vertical."""
        from core.identity import permissions
        from tests.plugins.test_plugin_tables import open_database

        monkeypatch.setattr(permissions, "_catalog", permissions.catalog())
        database = await open_database(settings, INSTALLED)  # core's tables and the verticals' own

        def run():
            with TestClient(create_app(settings, registry=INSTALLED)) as client:
                return check_vertical_isolation(client, INSTALLED, vertical_id)

        try:
            report = await asyncio.to_thread(run)
        finally:
            await database.close()
        assert report.leaks == [] and report.probes


def test_every_root_field_a_vertical_adds_has_isolation_coverage(sqlite_settings):
    """Issue 18 point 1: a vertical's GraphQL operations are covered, by kehu's table or its own declarations."""
    schema = build_schema(sqlite_settings, INSTALLED)
    covered = {name for doc in [*(op.doc for op in OPS), *(op.doc for op in plugin_ops(INSTALLED))]
               for name in root_fields(doc)}
    missing = []
    for definition in INSTALLED.definitions:
        for contribution in definition.graphql:
            for root in (contribution.query, contribution.mutation):
                for field in root.__strawberry_definition__.fields if root else ():
                    name = schema.config.name_converter.get_graphql_name(field)
                    if name not in covered:
                        missing.append(f"{definition.id}: {name}")
    assert not missing, f"vertical operations without isolation coverage: {missing}"
