"""The complaint-flow contract (issue 19, "Flows from the vertical, validated at start"): a flow is
data, checked whole when built; the registry takes it through ``kehu_complaint_flows``."""

from __future__ import annotations

import dataclasses

import pytest

from core.plugins.complaint_flows import (
    ComplaintFlowDefinition,
    Escalate,
    FlowBranch,
    FlowRole,
    FlowState,
    FlowTimer,
    FlowTransition,
    Limit,
    Numbering,
    NotifyFirstResponder,
    RecordKind,
    Remind,
    ResetPeriod,
    hours,
    minutes,
    working_days,
)
from core.plugins.testing import make_registry, plugin
from core.plugins.types import ContractError, Permission, PluginError, VerticalInfo

STATES = (FlowState("received", "Received", "已受理"), FlowState("dispatched", "Dispatched", "已派单"),
          FlowState("waiting", "Waiting on the customer", "等待客户", paused=True),
          FlowState("closed", "Closed", "已结案", terminal=True))
TRANSITIONS = (
    FlowTransition("received", "dispatched", "dispatch", permission="demo.complaint.dispatch",
                   required_fields=("department",)),
    FlowTransition("dispatched", "waiting", "wait"), FlowTransition("waiting", "dispatched", "resume"),
    FlowTransition("dispatched", "closed", "close", record=RecordKind.RETURN_VISIT),
    FlowTransition("dispatched", "dispatched", "file_report"),
)
ROLES = (FlowRole("head", "Office head", "管理处负责人", "demo.complaint.head"),
         FlowRole("department", "Department", "责任部门"))
TIMERS = (
    FlowTimer("dispatch", "Dispatch", "派单", "intake", ("action:dispatch",), minutes(3),
              on_breach=(Escalate("head", hours(24), "file_report"),)),
    FlowTimer("close", "Close", "结案", "enter:dispatched", ("enter:closed",), working_days(2), hours(72),
              on_breach=(Remind("department"),), on_hard_breach=(NotifyFirstResponder(),)),
)


def flow(**changes):
    values = dict(id="demo", name_en="Demo", name_zh="演示", categories=("routine", "emergency"),
                  severities=("normal", "urgent"), states=STATES, initial="received", transitions=TRANSITIONS,
                  roles=ROLES, timers=TIMERS, branches=(FlowBranch("urgent", severities=("urgent",)), FlowBranch("any")))
    values.update(changes)
    return ComplaintFlowDefinition(**values)


def test_a_deadline_set_by_the_starting_action_is_accepted():
    """R10-2 (a handling deadline set at dispatch): a timer may take its due time from a required
    field of the action that starts it."""
    timer = FlowTimer("handle", "Handle", "限期处理", "action:dispatch", ("enter:closed",), hours(72),
                      deadline_field="department")
    assert flow(timers=(*TIMERS, timer)).timer("handle").deadline_field == "department"


def test_a_complete_flow_builds_and_is_frozen():
    """Issue 19: states with paused states, transitions with permission and required fields,
    branches, timers with target, hard limit and reactions, numbering."""
    f = flow()
    assert f.paused_states() == ("waiting",)
    assert f.terminal_states() == ("closed",)
    assert f.transitions[3].fields_required == ("satisfaction",)
    assert f.numbering == Numbering("{YY}{MM}{seq:2}", ResetPeriod.MONTH) and f.numbering.width == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.timers = ()  # type: ignore[misc]


@pytest.mark.parametrize(("changes", "problem"), [
    (dict(transitions=TRANSITIONS[:3] + TRANSITIONS[4:]), "terminal state 'closed' cannot be reached"),
    (dict(transitions=TRANSITIONS + (FlowTransition("dispatched", "nowhere", "lose"),)), "unknown state 'nowhere'"),
    (dict(roles=ROLES[1:]), "notifies role 'head', which the flow does not declare"),
    (dict(timers=(FlowTimer("t", "t", "t", "enter:limbo", (), minutes(1)),)), "unknown state 'limbo'"),
    (dict(timers=(FlowTimer("t", "t", "t", "intake", ("action:fly",), minutes(1)),)), "unknown action 'fly'"),
    (dict(branches=(FlowBranch("urgent", severities=("urgent",)),)), "no branch admits category 'routine'"),
    (dict(transitions=TRANSITIONS + (FlowTransition("closed", "received", "reopen"),)), "terminal state 'closed' has a way out"),
    (dict(initial="limbo"), "initial state 'limbo'"),
    (dict(timers=(FlowTimer("t", "t", "t", "action:dispatch", (), hours(1), deadline_field="when"),)),
     "deadline_field 'when' must be a required field of the action that starts it"),
    (dict(timers=(FlowTimer("t", "t", "t", "intake", (), hours(1), deadline_field="department"),)),
     "deadline_field 'department' must be a required field"),
])
def test_the_validator_refuses_a_broken_flow(changes, problem):
    """Issue 19 (flows validated at start): unreachable terminal states, unknown states, roles a
    reaction notifies that the flow does not declare, unknown events and uncovered branches are
    refused with ContractError naming the problem."""
    with pytest.raises(ContractError, match=problem):
        flow(**changes)


@pytest.mark.parametrize(("build", "problem"), [
    (lambda: FlowTransition("a", "b", "go", required_fields="department"), "required_fields must be a tuple, not the string"),
    (lambda: FlowTimer("t", "t", "t", "intake", "action:close", minutes(1)), "stop_on must be a tuple, not the string"),
    (lambda: FlowBranch("b", categories="routine"), "categories must be a tuple, not the string"),
    (lambda: flow(roles=ROLES[0]), "roles must be a tuple"),
    (lambda: FlowTimer("t", "t", "t", "sometime", (), minutes(1)), "is not intake"),
    (lambda: Limit(0, "minutes"), "whole number from 1"),
    (lambda: Limit(3, "fortnights"), "limit unit 'fortnights'"),
    (lambda: FlowTimer("t", "t", "t", "intake", (), hours(2), hard_limit=minutes(30)), "hard limit must be longer"),
    (lambda: Escalate("head", hours(24)), "needs both report_within and the report_action"),
    (lambda: Numbering("{seq:2}", ResetPeriod.MONTH), "resets each month but does not show"),
    (lambda: Numbering("{YY}{MM}"), "exactly one"),
    (lambda: Numbering("{YY}{Q}{seq:2}"), r"unknown part \{Q\}"),
])
def test_each_definition_checks_its_own_shape(build, problem):
    """Issue 19 / issue 18 point 9: a plain string where a tuple is expected is refused by name,
    not read letter by letter; limits, events and numbering patterns are checked when built."""
    with pytest.raises(ContractError, match=problem):
        build()


def test_the_registry_takes_a_flow_through_the_hook_and_names_the_plugin_of_a_broken_one():
    """Issue 19: the flow arrives through kehu_complaint_flows and is frozen into the registry; a
    broken flow stops the plugin with its name."""
    permissions = [Permission("demo.complaint.dispatch", "dispatch", "派单"), Permission("demo.complaint.head", "head", "负责人")]
    info = lambda: VerticalInfo(id="demo", name_zh="演示", name_en="Demo", version="1.0")  # noqa: E731
    registry = make_registry(("demo", plugin(kehu_vertical_info=info, kehu_permissions=lambda: permissions,
                                             kehu_complaint_flows=lambda: [flow()])))
    [loaded] = registry.definition("demo").complaint_flows
    assert isinstance(loaded, ComplaintFlowDefinition) and loaded.timers == TIMERS

    def broken():
        return [flow(roles=())]

    with pytest.raises(PluginError, match="demo.*does not declare"):
        make_registry(("demo", plugin(kehu_vertical_info=info, kehu_permissions=lambda: permissions,
                                      kehu_complaint_flows=broken)))


# --- approval by authority level, targets by a field, late reactions, named notices (R2, R3) -------

LEVELS = ((10_000, "demo.complaint.manager"), (None, "demo.complaint.gm"))


def test_authority_levels_targets_by_a_field_and_late_notices_are_accepted():
    """R2-7 (approval by authority level), R3-11 (15 days domestic, 20 foreign), R2-25 (催办单 and
    查办单): a transition's permission may depend on an amount recorded earlier or given with it;
    a timer's target on a field of its starting action; a clock stopped late may send a notice."""
    from core.plugins.complaint_flows import calendar_days

    transitions = (*TRANSITIONS[:1], FlowTransition("dispatched", "closed", "approve", required_fields=("amount",),
                                                    authority_field="amount", authority=LEVELS),
                   *TRANSITIONS[1:])
    f = flow(transitions=transitions, timers=(*TIMERS, FlowTimer(
        "closure", "Closure", "结案", "action:dispatch", (), calendar_days(20), target_field="department",
        targets=(("domestic", calendar_days(15)), ("foreign", calendar_days(20))),
        on_late=(Remind("department", notice="overdue_investigation"),))))
    approve = next(t for t in f.transitions if t.action == "approve")
    assert approve.authority == ((10_000, "demo.complaint.manager"), (None, "demo.complaint.gm"))
    assert f.timer("closure").on_late[0].notice == "overdue_investigation" and Remind("x").notice == "reminder"
    recorded = FlowTransition("dispatched", "closed", "approve2", authority_field="dispatch.department", authority=LEVELS)
    assert flow(transitions=(*TRANSITIONS, recorded)).transitions[-1].authority_field == "dispatch.department"


@pytest.mark.parametrize(("changes", "problem"), [
    (dict(transitions=TRANSITIONS + (FlowTransition("dispatched", "closed", "approve", authority_field="amount",
                                                    authority=LEVELS),)),
     "authority_field 'amount' must be a required field of this action"),
    (dict(transitions=TRANSITIONS + (FlowTransition("dispatched", "closed", "approve", authority_field="dispatch.amount",
                                                    authority=LEVELS),)),
     "authority_field 'dispatch.amount' must be a required field"),
    (dict(timers=(FlowTimer("t", "t", "t", "intake", (), hours(2), target_field="department",
                            targets=(("a", hours(1)), ("b", hours(2)))),)),
     "target_field 'department' must be a required field of the action that starts it"),
    (dict(timers=(FlowTimer("t", "t", "t", "intake", (), hours(2), on_late=(Remind("nobody"),)),)),
     "notifies role 'nobody'"),
])
def test_the_validator_refuses_broken_authority_levels_and_targets(changes, problem):
    """R2-7 / R3-11: the amount an approval level is read from and the field choosing a target must
    be required fields the flow asks for; a late notice's role must be declared."""
    with pytest.raises(ContractError, match=problem):
        flow(**changes)


@pytest.mark.parametrize(("build", "problem"), [
    (lambda: FlowTransition("a", "b", "go", authority=LEVELS), "needs both authority_field and authority"),
    (lambda: FlowTransition("a", "b", "go", authority_field="amount"), "needs both authority_field and authority"),
    (lambda: FlowTransition("a", "b", "go", authority_field="amount",
                            authority=((100, "x.a"), (10, "x.b"), (None, "x.c"))), "from the lowest up_to"),
    (lambda: FlowTransition("a", "b", "go", authority_field="amount", authority=((100, "x.a"),)), "last with up_to None"),
    (lambda: FlowTransition("a", "b", "go", authority_field="amount", authority=((None, "x.a"), (None, "x.b"))),
     "from the lowest up_to"),
    (lambda: FlowTransition("a", "b", "go", authority_field="amount", authority=((-1, "x.a"), (None, "x.b"))),
     "at least 0"),
    (lambda: FlowTransition("a", "b", "go", authority_field="amount", authority=("x.a",)), r"is \(up_to, permission\)"),
    (lambda: FlowTransition("a", "b", "go", authority_field="a b", authority=LEVELS), "must be a field name"),
    (lambda: FlowTimer("t", "t", "t", "intake", (), hours(2), target_field="market"), "needs both target_field and targets"),
    (lambda: FlowTimer("t", "t", "t", "intake", (), hours(3), target_field="m", targets=(("a", hours(1)), ("b", hours(2)))),
     "target must be the longest"),
    (lambda: FlowTimer("t", "t", "t", "intake", (), hours(2), target_field="m", targets=(("a", hours(2)), ("a", hours(1)))),
     "declared twice"),
    (lambda: FlowTimer("t", "t", "t", "intake", (), hours(2), target_field="m", targets=(("a", 2),)), "pair a field value"),
    (lambda: FlowTimer("t", "t", "t", "intake", (), hours(2), target_field="m", deadline_field="d",
                       targets=(("a", hours(2)),)), "not both"),
    (lambda: FlowTimer("t", "t", "t", "intake", (), hours(2), on_late=(Escalate("head"),)), "on_late may remind"),
    (lambda: Remind("department", notice="查办单"), "notice to 'department'"),
])
def test_authority_levels_targets_and_notices_check_their_own_shape(build, problem):
    """R2-7 / R3-12: authority levels go from the lowest amount up, the last unbounded; targets by a
    field pair each value once with a Limit, the longest being the timer's target; a late clock
    reminds or notifies, never escalates; a notice kind is a code."""
    with pytest.raises(ContractError, match=problem):
        build()
