"""The registry refuses a vertical that breaks the contract, naming the plugin and the problem;
with KEHU_BROKEN_PLUGINS=skip it leaves that vertical out whole and loads the rest."""

from __future__ import annotations

import strawberry
import pytest

from core.plugins import (
    ArchiveDocument,
    ArchiveStandard,
    ComplaintDeadline,
    ComplaintFlow,
    ComplaintState,
    ComplaintTransition,
    CustomerField,
    Grade,
    GradingScheme,
    GraphQLTypes,
    Parameter,
    Permission,
    PluginError,
    RetentionRule,
    VerticalInfo,
    VisitPlan,
)
from core.plugins.manager import load_verticals
from core.plugins.testing import make_plugin_manager, make_registry, plugin, registered


def vertical(name: str = "demo", **hooks) -> tuple[str, object]:
    return name, plugin(kehu_vertical_info=lambda: VerticalInfo(name, "演示", "Demo", "1.0"), **hooks)


def states(*codes: str, terminal: tuple[str, ...] = ("closed",)) -> tuple[ComplaintState, ...]:
    return tuple(ComplaintState(c, c, c, terminal=c in terminal) for c in codes)


def flow(**changes) -> ComplaintFlow:
    values = dict(id="quality", name_en="Quality", name_zh="质量", categories=("product",), severities=("major",),
                  states=states("open", "handling", "closed"), initial="open",
                  transitions=(ComplaintTransition("open", "handling", "accept"),
                               ComplaintTransition("handling", "closed", "resolve")),
                  deadlines=(ComplaintDeadline("major", 5, "working_days"),))
    values.update(changes)
    return ComplaintFlow(**values)


def grading(**changes) -> GradingScheme:
    values = dict(id="grade", name_en="Grade", name_zh="等级",
                  grades=(Grade("a", "A", "A", 1), Grade("b", "B", "B", 2)))
    values.update(changes)
    return GradingScheme(**values)


def archive(**changes) -> ArchiveStandard:
    values = dict(id="sales", name_en="Sales", name_zh="销售", documents=(ArchiveDocument("invoice", "Invoice", "发票"),))
    values.update(changes)
    return ArchiveStandard(**values)


def days(key: str = "deadline_days", default=2, **kw) -> Parameter:
    return Parameter(key, kw.pop("kind", "integer"), default, "help", "帮助", **{"minimum": 1, "maximum": 30, **kw})


BROKEN = {
    "duplicate parameter key": (dict(kehu_parameters=lambda: [days(), days()]),
                                "parameter 'deadline_days' is declared twice"),
    "default above maximum": (dict(kehu_parameters=lambda: [days(default=31)]),
                              "parameter 'deadline_days': default 31 is invalid (deadline_days must be between 1 and 30"),
    "default of the wrong type": (dict(kehu_parameters=lambda: [days(default="2")]),
                                  "parameter 'deadline_days': default '2' is invalid (deadline_days must be a whole number"),
    "minimum above maximum": (dict(kehu_parameters=lambda: [days(minimum=10, maximum=5, default=7)]),
                              "parameter 'deadline_days': minimum 10 is above maximum 5"),
    "choice default not a choice": (
        dict(kehu_parameters=lambda: [Parameter("mode", "choice", "all", "h", "帮", choices=("split", "none"))]),
        "parameter 'mode': default 'all' is invalid (mode must be one of split, none)"),
    "unknown parameter kind": (dict(kehu_parameters=lambda: [Parameter("x", "money", 1, "h", "帮")]),
                               "kehu_parameters: parameter 'x': kind 'money' is not one of"),
    "duplicate customer field": (
        dict(kehu_customer_fields=lambda: [CustomerField("vin", "text", "personal", "VIN", "车架号")] * 2),
        "customer field 'vin' is declared twice"),
    "customer field pattern that does not compile": (
        dict(kehu_customer_fields=lambda: [CustomerField("vin", "text", "personal", "VIN", "车架号", pattern="[A-")]),
        "customer field 'vin': pattern does not compile"),
    "customer field with an unknown privacy class": (
        dict(kehu_customer_fields=lambda: [CustomerField("vin", "text", "secret-ish", "VIN", "车架号")]),
        "customer field 'vin': privacy class 'secret-ish' is not one of"),
    "choice customer field without choices": (
        dict(kehu_customer_fields=lambda: [CustomerField("level", "choice", "not_personal", "Level", "级别")]),
        "customer field 'level': a choice field needs choices"),
    "duplicate archive type": (dict(kehu_archive_standards=lambda: [archive(), archive()]),
                               "archive type 'sales' is declared twice"),
    "archive without documents": (dict(kehu_archive_standards=lambda: [archive(documents=())]),
                                  "archive type 'sales' lists no documents"),
    "retention period not positive": (
        dict(kehu_archive_standards=lambda: [archive(retention=(RetentionRule("keep", 0, "created", "seal", "k", "保"),))]),
        "retention rule 'keep' keeps for 0 years; the period must be positive"),
    "retention tuned by a parameter that does not exist": (
        dict(kehu_archive_standards=lambda: [archive(retention=(
            RetentionRule("keep", 5, "created", "seal", "k", "保", parameter="keep_years"),))]),
        "retention rule 'keep' names 'keep_years', which is not an integer parameter of this vertical"),
    "complaint state with no way to a terminal state": (
        dict(kehu_complaint_flows=lambda: [flow(states=states("open", "handling", "stuck", "closed"), transitions=(
            ComplaintTransition("open", "handling", "accept"), ComplaintTransition("open", "stuck", "park"),
            ComplaintTransition("handling", "closed", "resolve")))]),
        "complaint flow 'quality': state 'stuck' has no way to a terminal state"),
    "complaint flow without a terminal state": (
        dict(kehu_complaint_flows=lambda: [flow(states=states("open", "handling", "closed", terminal=()))]),
        "complaint flow 'quality' has no terminal state"),
    "complaint transition to an unknown state": (
        dict(kehu_complaint_flows=lambda: [flow(transitions=(
            ComplaintTransition("open", "handling", "accept"), ComplaintTransition("handling", "done", "resolve")))]),
        "complaint flow 'quality': transition 'resolve' uses unknown state 'done'"),
    "complaint state unreachable from the initial state": (
        dict(kehu_complaint_flows=lambda: [flow(states=states("open", "handling", "orphan", "closed"), transitions=(
            ComplaintTransition("open", "handling", "accept"), ComplaintTransition("handling", "closed", "resolve"),
            ComplaintTransition("orphan", "closed", "resolve")))]),
        "complaint flow 'quality': state 'orphan' cannot be reached from 'open'"),
    "complaint deadline not positive": (
        dict(kehu_complaint_flows=lambda: [flow(deadlines=(ComplaintDeadline("major", 0, "hours"),))]),
        "complaint flow 'quality': deadline for 'major' must be a positive whole number"),
    "complaint deadline for an unknown severity": (
        dict(kehu_complaint_flows=lambda: [flow(deadlines=(ComplaintDeadline("minor", 3, "hours"),))]),
        "complaint flow 'quality': deadline for unknown severity 'minor'"),
    "duplicate complaint flow": (dict(kehu_complaint_flows=lambda: [flow(), flow()]),
                                 "complaint flow 'quality' is declared twice"),
    "grade scale out of order": (
        dict(kehu_grading_schemes=lambda: [grading(grades=(Grade("a", "A", "A", 2), Grade("b", "B", "B", 1)))]),
        "grading scheme 'grade': grades must be listed best first with strictly increasing ranks, got [2, 1]"),
    "grade cap above 100%": (
        dict(kehu_grading_schemes=lambda: [grading(grades=(Grade("a", "A", "A", 1, cap_percent=150),
                                                           Grade("b", "B", "B", 2)))]),
        "grading scheme 'grade': grade 'a' caps at 150%; a cap lies in (0, 100]"),
    "review cycle not positive": (dict(kehu_grading_schemes=lambda: [grading(review_cycle_days=0)]),
                                  "grading scheme 'grade': the review cycle must be a positive number of days"),
    "visit plan for a grade that does not exist": (
        dict(kehu_grading_schemes=lambda: [grading()],
             kehu_visit_plans=lambda: [VisitPlan("monthly", "vip", 30, "on_site", "m", "月", grading_scheme="grade")]),
        "visit plan 'monthly': 'vip' is not a grade of 'grade'"),
    "visit interval not positive": (
        dict(kehu_visit_plans=lambda: [VisitPlan("never", "all", 0, "phone", "n", "无")]),
        "visit plan 'never': visits must be a positive number of days apart"),
    "permission of another vertical": (
        dict(kehu_permissions=lambda: [Permission("customer.delete", "delete", "删除")]),
        "permission 'customer.delete' must start with 'demo'."),
    "hook returning the wrong type": (dict(kehu_parameters=lambda: [{"key": "x"}]),
                                      "kehu_parameters must return Parameter objects, got dict"),
    "hook raising": (dict(kehu_grading_schemes=lambda: 1 / 0),
                     "kehu_grading_schemes raised ZeroDivisionError: division by zero"),
}


@pytest.mark.parametrize("hooks, message", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_vertical_stops_the_start_naming_plugin_and_problem(hooks, message):
    with pytest.raises(PluginError) as refused:
        make_registry(vertical("demo", **hooks))
    assert refused.value.code == "PLUGIN_INVALID"
    assert str(refused.value).startswith("plugin 'demo': ")
    assert message in str(refused.value)


def test_every_problem_of_a_vertical_is_reported_at_once():
    with pytest.raises(PluginError) as refused:
        make_registry(vertical(kehu_parameters=lambda: [days(default=99)],
                               kehu_grading_schemes=lambda: [grading(review_cycle_days=-1)]))
    assert "default 99 is invalid" in str(refused.value) and "review cycle" in str(refused.value)


def test_graphql_fields_must_carry_the_vertical_id():
    @strawberry.type
    class Query:
        @strawberry.field
        def archives(self) -> int:
            return 1

    with pytest.raises(PluginError, match="GraphQL query field 'archives' must start with 'demo_'"):
        make_registry(vertical(kehu_graphql_types=lambda: [GraphQLTypes(query=Query)]))


def test_a_vertical_id_declared_twice_is_refused():
    with pytest.raises(PluginError, match="plugin 'demo': vertical id 'demo' is declared twice"):
        make_registry(vertical("demo"), vertical("demo"))


def test_skip_leaves_the_broken_vertical_out_whole_and_loads_the_rest():
    registry = make_registry(
        vertical("good", kehu_parameters=lambda: [days()]),
        vertical("bad", kehu_permissions=lambda: [Permission("bad.archive.check", "c", "审")],
                 kehu_complaint_flows=lambda: [flow(states=states("open", "handling", "closed", terminal=()))]),
        broken="skip")
    assert registry.ids() == ("good",)
    assert registry.definition("bad") is None
    assert not [p for p in registry.permissions if p.name.startswith("bad.")], "half-loaded: its permissions stayed"
    assert registry.skipped == (("bad", "complaint flow 'quality' has no terminal state"),)


def test_a_vertical_that_cannot_be_imported_is_named(monkeypatch):
    from importlib.metadata import EntryPoint

    from core.plugins import manager

    broken = EntryPoint(name="ghost", value="plugins.ghost_vertical_that_does_not_exist", group=manager.ENTRY_POINT_GROUP)
    monkeypatch.setattr(manager, "_entry_points", lambda: [broken])
    with pytest.raises(PluginError, match="plugin 'ghost': cannot be imported: ModuleNotFoundError"):
        load_verticals(broken="fail")
    monkeypatch.setenv("KEHU_BROKEN_PLUGINS", "skip")
    registry = load_verticals()
    assert registry.ids() == () and registry.skipped[0][0] == "ghost"


def test_kehu_broken_plugins_accepts_only_fail_or_skip(monkeypatch):
    from core.errors import ConfigurationError

    monkeypatch.setenv("KEHU_BROKEN_PLUGINS", "ignore")
    with pytest.raises(ConfigurationError, match="KEHU_BROKEN_PLUGINS='ignore': expected fail or skip"):
        load_verticals()


def test_registered_unregisters_a_throwaway_plugin_whatever_happens():
    manager = make_plugin_manager()
    name, item = vertical("temp")
    with pytest.raises(RuntimeError):
        with registered(manager, item, name):
            assert manager.get_plugin("temp") is item
            raise RuntimeError("test body failed")
    assert manager.get_plugin("temp") is None


def test_definitions_are_frozen_once_loaded():
    from dataclasses import FrozenInstanceError

    registry = make_registry(vertical(kehu_parameters=lambda: [days()], kehu_grading_schemes=lambda: [grading()]))
    definition = registry.definition("demo")
    with pytest.raises(FrozenInstanceError):
        definition.parameters[0].default = 99
    assert isinstance(definition.grading_schemes[0].grades, tuple)


def test_a_bad_kehu_broken_plugins_stops_the_start_with_one_line(monkeypatch):
    from core.errors import ConfigurationError
    from core.settings import load_settings

    monkeypatch.setenv("KEHU_BROKEN_PLUGINS", "ignore")
    with pytest.raises(ConfigurationError, match="KEHU_BROKEN_PLUGINS='ignore'"):
        load_settings()
    monkeypatch.setenv("KEHU_BROKEN_PLUGINS", "skip")
    assert load_settings().broken_plugins == "skip"
