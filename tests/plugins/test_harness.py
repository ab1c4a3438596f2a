"""A vertical that exists only in this file is loaded through the harness, enabled for a tenant,
and its parameters and GraphQL fields used end to end, with no change to core.

The harness fixtures (kehu_tenant, kehu_client) come from the pytest11 entry point, as they would
in a vertical team's own repository; this module overrides ``kehu_vertical`` and, to run on both
databases, ``kehu_settings``."""

from __future__ import annotations

import pytest
import strawberry

from core.plugins import (
    CustomerField,
    GraphQLTypes,
    Parameter,
    Permission,
    PluginError,
    VerticalInfo,
    hookimpl,
    tenant_parameters,
)
from core.plugins.testing import ContractSuite, make_registry


@strawberry.type
class DemoQuery:
    @strawberry.field(description="How many visits a key customer gets per month.")
    async def demo_visits_per_month(self, info: strawberry.Info) -> int:
        return (await tenant_parameters(info, "demo"))["visits_per_month"]


@strawberry.type
class DemoMutation:
    @strawberry.mutation
    def demo_ping(self) -> str:  # a synchronous resolver is guarded too
        return "pong"


class DemoVertical:
    """A whole vertical in a few lines: what a vertical team writes in its own distribution."""

    @hookimpl
    def kehu_vertical_info(self):
        return VerticalInfo(id="demo", name_zh="演示行业", name_en="Demo vertical", version="0.1.0")

    @hookimpl
    def kehu_permissions(self):
        return [Permission("demo.visit.plan", "plan visits", "计划拜访")]

    @hookimpl
    def kehu_parameters(self):
        return [Parameter("visits_per_month", "integer", 2, "Visits per month for key customers",
                          "重点客户每月拜访次数", minimum=1, maximum=8, unit="visits")]

    @hookimpl
    def kehu_customer_fields(self):
        return [CustomerField("licence_no", "text", "not_personal", "Licence number", "许可证号",
                              required=True, max_length=12, pattern=r"\d{12}"),
                CustomerField("owner_id_no", "text", "sensitive", "Owner's ID number", "负责人身份证号")]

    @hookimpl
    def kehu_graphql_types(self):
        return [GraphQLTypes(query=DemoQuery, mutation=DemoMutation)]


@pytest.fixture
def kehu_vertical():
    return ("demo", DemoVertical())


@pytest.fixture
def kehu_settings(settings):
    return settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000})


class TestDemoPassesTheContract(ContractSuite):
    plugin = DemoVertical()
    name = "demo"


VISITS = "{ demoVisitsPerMonth }"
UPDATE = ('mutation($v: JSON) { verticalParametersUpdate(verticalId: "demo", parameters: '
          '[{key: "visits_per_month", value: $v}]) { vertical { version parameters { key value overridden } } '
          'errors { field code } } }')


async def test_a_vertical_from_a_test_file_runs_end_to_end(kehu_client, kehu_tenant):
    assert kehu_tenant.vertical_id == "demo"
    listed = await kehu_client.execute("{ tenantVerticals { id enabled parameters { key value default } } }")
    assert listed["data"]["tenantVerticals"] == [{"id": "demo", "enabled": True, "parameters": [
        {"key": "visits_per_month", "value": 2, "default": 2}]}]
    assert (await kehu_client.execute(VISITS))["data"] == {"demoVisitsPerMonth": 2}

    changed = (await kehu_client.execute(UPDATE, v=4))["data"]["verticalParametersUpdate"]
    assert changed["errors"] == [] and changed["vertical"]["version"] == 2
    assert (await kehu_client.execute(VISITS))["data"] == {"demoVisitsPerMonth": 4}

    refused = (await kehu_client.execute(UPDATE, v=9))["data"]["verticalParametersUpdate"]
    assert refused == {"vertical": None, "errors": [{"field": "visits_per_month", "code": "PARAMETER_INVALID"}]}
    assert (await kehu_client.execute(VISITS))["data"] == {"demoVisitsPerMonth": 4}

    assert (await kehu_client.execute("mutation { demoPing }"))["data"] == {"demoPing": "pong"}


async def test_fields_of_a_vertical_the_tenant_has_not_enabled_answer_vertical_not_enabled(kehu_client):
    disabled = await kehu_client.execute('mutation { verticalDisable(verticalId: "demo") { vertical { enabled } '
                                         'errors { code } } }')
    assert disabled["data"]["verticalDisable"] == {"vertical": {"enabled": False}, "errors": []}
    for document in (VISITS, "mutation { demoPing }"):
        body = await kehu_client.execute(document)
        assert body["data"] is None, document
        assert body["errors"][0]["extensions"]["code"] == "VERTICAL_NOT_ENABLED", body
    assert "has not enabled the vertical demo" in body["errors"][0]["message"]


async def test_anonymous_callers_are_told_to_sign_in_before_a_vertical_field(kehu_client):
    response = await kehu_client.http.post("/graphql", json={"query": VISITS})
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_the_registry_validates_the_test_verticals_customer_fields():
    definition = make_registry(("demo", DemoVertical())).definition("demo")
    assert [(f.name, f.privacy.value) for f in definition.customer_fields] == [
        ("licence_no", "not_personal"), ("owner_id_no", "sensitive")]

    class BadFields(DemoVertical):
        @hookimpl
        def kehu_customer_fields(self):
            return [CustomerField("licence_no", "text", "not_personal", "Licence", "许可证", pattern="(\\d{12"),
                    CustomerField("licence_no", "date", "personal", "Again", "重复", max_length=10)]

    with pytest.raises(PluginError) as refused:
        make_registry(("demo", BadFields()))
    message = str(refused.value)
    assert message.startswith("plugin 'demo': ")
    assert "customer field 'licence_no' is declared twice" in message
    assert "customer field 'licence_no': pattern does not compile" in message
    assert "customer field 'licence_no': pattern and max_length apply to text fields only" in message
