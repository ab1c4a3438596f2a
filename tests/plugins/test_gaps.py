"""Issue 18 points 4 to 10: contract gaps and defects found by writing a vertical from the docs
alone. Each test names the point it proves."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from core.customers import validation as v
from core.db import unit_of_work
from core.errors import KehuError
from core.plugins.testing import WARNING_FILTERS, make_registry, plugin
from core.plugins.types import (
    ArchiveStandard,
    ComplaintFlow,
    ComplaintState,
    ComplaintTransition,
    CustomerField,
    EscalationStep,
    FieldKind,
    Parameter,
    ParameterInvalid,
    ParameterKind,
    Permission,
    PluginError,
    PrivacyClass,
    VerticalInfo,
)
from core.verticals import service as verticals
from core.verticals.tables import VerticalEnablement
from tests.archives.conftest import SALES
from tests.support import SYSTEM

ROOT = Path(__file__).resolve().parents[2]
D, I = ParameterKind.DECIMAL, ParameterKind.INTEGER


def _info(vertical_id: str = "shop"):
    return lambda: VerticalInfo(id=vertical_id, name_zh="测试", name_en="Test", version="1.0.0")


def _refused(**hooks) -> str:
    with pytest.raises(PluginError) as refused:
        make_registry(("shop", plugin(kehu_vertical_info=_info(), **hooks)))
    return refused.value.problem


# --- point 4: decimals -------------------------------------------------------------------------

def test_a_decimal_parameter_takes_decimals_and_decimal_strings_exactly():
    """Issue 18 point 4: ParameterKind.DECIMAL accepts Decimal and decimal strings (defaults,
    overrides), keeps them exact (never a float), and refuses what is no finite decimal."""
    price = Parameter("deposit_cny", D, Decimal("199.99"), "deposit", "定金", minimum="0.01", maximum=Decimal("5000"))
    assert price.default == Decimal("199.99") and isinstance(price.default, Decimal)
    assert price.check("1234.56") == Decimal("1234.56")
    assert price.check(Decimal("0.10")) == Decimal("0.10")
    assert price.check(0.1) == Decimal("0.1")  # the float as it prints, not 0.1000000000000000055…
    assert price.check(7) == Decimal(7)
    for wrong in ("12,50", "1e3", "NaN", "Infinity", float("nan"), True, None, "", "abc", "6000", "0"):
        with pytest.raises(ParameterInvalid):
            price.check(wrong)
    registry = make_registry(("shop", plugin(kehu_vertical_info=_info(), kehu_parameters=lambda: [price])))
    assert registry.definition("shop").defaults() == {"deposit_cny": Decimal("199.99")}


async def test_a_decimal_override_is_stored_as_decimal_text_and_read_back_equal(seeded):
    """Issue 18 point 4: a tenant's decimal override given as a Decimal or a decimal string is
    stored as its decimal text (no float in the stored JSON) and read back equal."""
    price = Parameter("deposit_cny", D, "199.99", "deposit", "定金", minimum=0)
    registry = make_registry(("shop", plugin(kehu_vertical_info=_info(), kehu_parameters=lambda: [price])))
    ctx = SYSTEM.for_tenant(seeded.acme.id)
    await verticals.enable_vertical(ctx, registry, "shop")
    for given, expected in ((Decimal("12345678901234.57"), "12345678901234.57"), ("0.30", "0.30")):
        view = await verticals.update_vertical_parameters(ctx, registry, "shop", {"deposit_cny": given})
        assert view.parameters[0].value == Decimal(expected)
        async with unit_of_work(ctx, write=False) as uow:
            stored = (await uow.select(VerticalEnablement.overrides).first())["overrides"]
        assert json.loads(stored) == {"deposit_cny": expected}
        assert (await verticals.vertical_parameters(ctx, registry, "shop"))["deposit_cny"] == Decimal(expected)


def test_a_decimal_extension_field_keeps_money_as_decimal_text():
    """Issue 18 point 4: a decimal extension field accepts Decimal, decimal strings and numbers and
    stores the exact decimal text, never a float."""
    spec = CustomerField("credit_limit", FieldKind.DECIMAL, PrivacyClass.NOT_PERSONAL, "Credit limit", "信用额度")
    assert v.extension_value("shop", spec, Decimal("1234.56")) == "1234.56"
    assert v.extension_value("shop", spec, "98765432109876543.21") == "98765432109876543.21"
    assert v.extension_value("shop", spec, 0.1) == "0.1"
    assert v.extension_value("shop", spec, 12) == "12"
    for wrong in ("12,5", "1e400", float("inf"), True, [], "x"):
        with pytest.raises(KehuError) as refused:
            v.extension_value("shop", spec, wrong)
        assert refused.value.code == "EXTENSION_FIELD_INVALID"


# --- point 5: choice document fields ----------------------------------------------------------------

def test_a_choice_document_field_needs_its_choices_and_a_filled_value_is_one_of_them():
    """Issue 18 point 5: a choice document field lists its choices (refused at load without them,
    or with choices on another kind), and the engine's data check refuses a value outside them."""
    from core.archives.checks import run_checks
    from core.plugins.types import ArchiveDocument, DocumentField

    def standard(*fields):
        return ArchiveStandard("order", "Order", "订单", documents=(ArchiveDocument("form", "Form", "表", fields=fields),))

    problem = _refused(kehu_archive_standards=lambda: [standard(DocumentField("pay", "choice", "Payment", "付款"))])
    assert "field 'pay': a choice field, and only one, lists its choices" in problem
    problem = _refused(kehu_archive_standards=lambda: [
        standard(DocumentField("note", "text", "Note", "备注", choices=("a", "b")))])
    assert "field 'note': a choice field, and only one, lists its choices" in problem
    declared = standard(DocumentField("pay", "choice", "Payment", "付款", choices=("全款", "贷款")))
    make_registry(("shop", plugin(kehu_vertical_info=_info(), kehu_archive_standards=lambda: [declared])))

    def failed(value):
        archive = {"documents": [{"code": "form", "position": 1, "fields": {"pay": value}}]}
        return [(o.document, o.field) for o in run_checks(declared, archive, {}) if o.status == "fail"]

    assert failed("贷款") == [] and failed("无") == []
    assert failed("现金") == [("form", "pay")]


def test_the_plugin_guide_documents_what_the_outside_team_could_not_find():
    """Issue 18 point 5: docs/plugins.md documents the version format, what a complaint deadline
    measures and from which event, which KPI entries apply when a vertical declares no KPI points,
    the default rectification time, and that choice document fields need their choices."""
    guide = (ROOT / "docs" / "plugins.md").read_text()
    assert "`version` is the plugin's release: `MAJOR.MINOR` or `MAJOR.MINOR.PATCH`" in guide
    assert "A `ComplaintDeadline` measures the time from the complaint's intake" in guide
    assert "A vertical that declares none of them has no KPI entry\ncharged at all" in guide
    assert "it is **24 hours**" in guide
    assert "a choice field\nlists its `choices`" in guide
    from core.plugins.types import _VERSION

    for good in ("1.0", "1.2.3", "2.0.0rc1", "1.0.0+build.7"):
        assert _VERSION.match(good), good
    for bad in ("v1.0", "1", "1.0 beta"):
        assert not _VERSION.match(bad), bad


# --- point 6: validation -------------------------------------------------------------------------

def _flow(**changes):
    values = dict(id="service", name_en="Service", name_zh="服务", categories=("general",), severities=("high",),
                  states=(ComplaintState("open", "Open", "待处理"), ComplaintState("closed", "Closed", "已关闭", True)),
                  initial="open", transitions=(ComplaintTransition("open", "closed", "close"),),
                  escalations=(EscalationStep("high", 50, "shop.complaint.escalate"),))
    values.update(changes)
    return ComplaintFlow(**values)


def test_an_escalation_must_notify_a_permission_of_the_same_vertical():
    """Issue 18 point 6: an escalation's notify names a permission the vertical declares."""
    declared = [Permission("shop.complaint.escalate", "escalations", "升级")]
    make_registry(("shop", plugin(kehu_vertical_info=_info(), kehu_permissions=lambda: declared,
                                  kehu_complaint_flows=lambda: [_flow()])))
    problem = _refused(kehu_permissions=lambda: declared, kehu_complaint_flows=lambda: [
        _flow(escalations=(EscalationStep("high", 50, "automotive.complaint.handle"),))])
    assert "notifies 'automotive.complaint.handle', which is not a permission this vertical declares" in problem
    # A ComplaintFlowDefinition may notify one of its flow's roles instead.
    from core.plugins.complaint_flows import ComplaintFlowDefinition, FlowRole, FlowState, FlowTransition

    def definition(notify):
        return ComplaintFlowDefinition(
            id="service", name_en="Service", name_zh="服务", categories=("general",), severities=("high",),
            states=(FlowState("open", "Open", "待处理"), FlowState("closed", "Closed", "已关闭", terminal=True)),
            initial="open", transitions=(FlowTransition("open", "closed", "close"),),
            roles=(FlowRole("office_head", "Office head", "办公室主任", permission="shop.complaint.escalate"),),
            escalations=(EscalationStep("high", 50, notify),))

    make_registry(("shop", plugin(kehu_vertical_info=_info(), kehu_permissions=lambda: declared,
                                  kehu_complaint_flows=lambda: [definition("office_head")])))
    assert "notifies 'director'" in _refused(kehu_permissions=lambda: declared,
                                             kehu_complaint_flows=lambda: [definition("director")])


def test_a_plain_string_where_a_tuple_is_expected_gets_a_clear_message():
    """Issue 18 point 6: categories="general" is refused as a string, not read letter by letter
    ("category 'e' is declared twice")."""
    problem = _refused(kehu_complaint_flows=lambda: [_flow(categories="general")])
    assert "categories must be a tuple of strings, not the string 'general'" in problem
    assert "'e' is declared twice" not in problem
    problem = _refused(kehu_customer_fields=lambda: [
        CustomerField("grade", "choice", "not_personal", "Grade", "等级", choices="abc")])
    assert "choices must be a tuple of strings, not the string 'abc'" in problem
    problem = _refused(kehu_archive_standards=lambda: [ArchiveStandard("sales", "Sales", "销售", documents=SALES.documents[0])])
    assert "documents must be a tuple (or list)" in problem


def _thresholds(a_default=10, b_default=5):
    return [Parameter("threshold_a", I, a_default, "A threshold", "A 阈值", minimum=0),
            Parameter("threshold_b", I, b_default, "B threshold (at most A)", "B 阈值（不高于 A）", minimum=0,
                      at_most="threshold_a")]


def test_parameters_may_declare_an_order_and_defaults_must_keep_it():
    """Issue 18 point 6: at_most/at_least declare an order between parameters; defaults that
    break it, or an order naming no numeric parameter of the vertical, are refused at load."""
    make_registry(("shop", plugin(kehu_vertical_info=_info(), kehu_parameters=lambda: _thresholds())))
    assert "default 12 is above the default of 'threshold_a' (10)" in _refused(
        kehu_parameters=lambda: _thresholds(b_default=12))
    assert "at_least 'nothing' must name another integer or decimal parameter" in _refused(
        kehu_parameters=lambda: [Parameter("threshold_a", I, 1, "A", "A", at_least="nothing")])


async def test_a_tenant_override_breaking_a_declared_order_is_refused_and_writes_nothing(seeded):
    """Issue 18 point 6: an override that puts the B threshold above the A threshold (directly or by
    lowering A) is refused with PARAMETER_ORDER and nothing is written."""
    registry = make_registry(("shop", plugin(kehu_vertical_info=_info(), kehu_parameters=lambda: _thresholds())))
    ctx = SYSTEM.for_tenant(seeded.acme.id)
    await verticals.enable_vertical(ctx, registry, "shop")
    for change in ({"threshold_b": 11}, {"threshold_a": 4}, {"threshold_a": 6, "threshold_b": 7}):
        with pytest.raises(KehuError) as refused:
            await verticals.update_vertical_parameters(ctx, registry, "shop", change)
        assert refused.value.code == "PARAMETER_ORDER"
        assert refused.value.field in change
    assert await verticals.vertical_parameters(ctx, registry, "shop") == {"threshold_a": 10, "threshold_b": 5}
    view = await verticals.update_vertical_parameters(ctx, registry, "shop", {"threshold_a": 20, "threshold_b": 15})
    assert [p.value for p in view.parameters] == [20, 15]


# --- point 9: coded errors in the logs ------------------------------------------------------------

def test_a_coded_error_is_logged_with_its_message_text(sqlite_settings, caplog):
    """Issue 18 point 9: a coded error is logged with its message text, not
    "<bound method KehuError.message …>", and reads as that text wherever it is turned to text."""
    from graphql.error import located_error
    from litestar.testing import TestClient

    from gateway.app import create_app

    error = KehuError("SOMETHING_WRONG", "the thing is wrong", "东西错了")
    assert str(error.message) == "the thing is wrong" and error.message("zh-CN") == "东西错了"
    assert located_error(error).message == "the thing is wrong"
    caplog.set_level(logging.INFO)
    with TestClient(create_app(sqlite_settings)) as client:
        answer = client.post("/graphql", json={"query": '{ customer(id: "00000000-0000-0000-0000-000000000001") '
                                                        "{ id } }"}).json()
    assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    logged = [r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg.get("event") == "graphql.request_error"]
    assert logged and logged[0]["code"] == "UNAUTHENTICATED"
    assert logged[0]["message"] == "sign in first"
    assert not any("bound method" in r.getMessage() for r in caplog.records)


# --- point 10: a plugin's test run is quiet -------------------------------------------------------

def test_the_harness_carries_kehus_warning_filters():
    """Issue 18 point 10: the harness's warning filters are exactly kehu's own (pyproject)."""
    configured = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert list(WARNING_FILTERS) == configured["filterwarnings"]


PLUGIN_TEST = '''
import pytest
import strawberry

from core.plugins import GraphQLTypes, VerticalInfo, hookimpl


@strawberry.type
class QuietQuery:
    @strawberry.field
    def quiet_answer(self) -> int:
        return 42


class Quiet:
    @hookimpl
    def kehu_vertical_info(self):
        return VerticalInfo(id="quiet", name_zh="安静", name_en="Quiet", version="1.0.0")

    @hookimpl
    def kehu_graphql_types(self):
        return GraphQLTypes(query=QuietQuery)


@pytest.fixture
def kehu_vertical():
    return ("quiet", Quiet())


async def test_query(kehu_client):
    answer = await kehu_client.execute("{ quietAnswer }")
    assert answer["data"] == {"quietAnswer": 42}, answer
'''


def test_a_plugins_own_test_run_is_quiet(tmp_path):
    """Issue 18 point 10: a vertical team's test run (its own directory and configuration, the
    harness fixtures from kehu's pytest plugin) ends without a warnings summary."""
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    (tmp_path / "test_quiet.py").write_text(PLUGIN_TEST)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"\b1 passed\b", run.stdout), run.stdout
    assert "warning" not in run.stdout.lower(), run.stdout


# --- point 4 over GraphQL: a decimal parameter goes in and out as exact decimal text ----------------

@pytest.fixture
def kehu_vertical():
    return ("shop", plugin(kehu_vertical_info=_info(), kehu_parameters=lambda: [
        Parameter("deposit_cny", D, "199.99", "deposit", "定金", minimum="0.01"),
        *_thresholds()]))


async def test_a_decimal_parameter_over_graphql_is_exact_and_an_order_is_refused(kehu_client):
    """Issue 18 points 4 and 6 over GraphQL: a decimal override sent as a string comes back as the
    same decimal text (default too); an override breaking a declared order answers PARAMETER_ORDER."""
    update = ('mutation($p: [VerticalParameterInput!]!) { verticalParametersUpdate(verticalId: "shop", '
              "parameters: $p) { errors { code field } vertical { parameters { key value default minimum } } } }")
    answer = await kehu_client.execute(update, p=[{"key": "deposit_cny", "value": "12345678901234.57"}])
    payload = answer["data"]["verticalParametersUpdate"]
    assert payload["errors"] == [], answer
    deposit = next(p for p in payload["vertical"]["parameters"] if p["key"] == "deposit_cny")
    assert (deposit["value"], deposit["default"], deposit["minimum"]) == ("12345678901234.57", "199.99", 0.01)
    answer = await kehu_client.execute(update, p=[{"key": "threshold_b", "value": 11}])
    assert answer["data"]["verticalParametersUpdate"]["errors"] == [{"code": "PARAMETER_ORDER", "field": "threshold_b"}]
