"""Pure complaint rules on the real working-day calendar: due times of every limit unit, pauses
(issue 19 acceptance 4, property test), numbering (acceptance 3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from core.calendar.days import TenantCalendar
from core.complaints import policy
from core.plugins.complaint_flows import Limit, LimitUnit, Numbering, ResetPeriod, calendar_days, hours, minutes, working_days
from plugins.real_estate.complaints import PROPERTY_COMPLAINTS

CAL = TenantCalendar()  # Asia/Shanghai, 09:00-18:00, the State Council schedule


def sh(y, m, d, hh=0, mm=0) -> datetime:
    """A Shanghai wall-clock time, as UTC."""
    return (datetime(y, m, d, hh, mm, tzinfo=CAL.zone)).astimezone(UTC)


def test_due_times_of_each_unit():
    """Issue 19 (clocks: minutes, hours, calendar days, working days on the tenant calendar)."""
    start = sh(2026, 9, 30, 10)
    assert policy.due_time(CAL, start, minutes(3)) == start + timedelta(minutes=3)
    assert policy.due_time(CAL, start, hours(24)) == start + timedelta(hours=24)
    assert policy.due_time(CAL, start, calendar_days(2)) == sh(2026, 10, 2, 10)


def test_working_days_skip_national_day_and_count_the_make_up_saturday():
    """R10-5 return visit within 2 working days, on the 2026 schedule: 国庆 2026-10-01..07 are not
    counted (30 Sept -> 9 Oct), and the 调休 Saturday 2026-10-10 is (8 Oct -> 10 Oct); the
    Sunday make-up day 2026-09-20 counts too (19 Sept -> 21 Sept)."""
    assert policy.due_time(CAL, sh(2026, 9, 30, 10), working_days(2)) == sh(2026, 10, 9, 18)
    assert policy.due_time(CAL, sh(2026, 10, 8, 10), working_days(2)) == sh(2026, 10, 10, 18)
    assert policy.due_time(CAL, sh(2026, 9, 19, 10), working_days(2)) == sh(2026, 9, 21, 18)


def test_a_pause_moves_an_hours_clock_by_its_length_and_a_working_day_clock_by_working_time():
    """Issue 19 acceptance 4 (documented rule, core/complaints/policy.py): elapsed-time clocks move
    by the pause's length; working-day clocks by the working time the pause took; a due time
    already passed at the pause stays."""
    due = sh(2026, 9, 30, 12)
    assert policy.resumed_due(CAL, LimitUnit.HOURS, due, sh(2026, 9, 30, 10), sh(2026, 9, 30, 11)) == sh(2026, 9, 30, 13)
    assert policy.resumed_due(CAL, LimitUnit.HOURS, due, sh(2026, 9, 30, 13), sh(2026, 9, 30, 15)) == due
    # due 9 Oct 18:00, paused 30 Sept 12:00 (12 working hours of 30 Sept left, then 8 Oct and 18 h
    # of 9 Oct; 国庆 1-7 Oct counts nothing), resumed on 3 Oct 09:00 in the holiday: the pause cost
    # the 12 working hours of 30 Sept, so the clock runs 8 Oct, 9 Oct and 6 h into the 调休
    # Saturday 10 Oct
    due = sh(2026, 10, 9, 18)
    assert policy.resumed_due(CAL, LimitUnit.WORKING_DAYS, due, sh(2026, 9, 30, 12), sh(2026, 10, 3, 9)) == sh(2026, 10, 10, 6)
    # a pause wholly inside the holiday costs nothing
    assert policy.resumed_due(CAL, LimitUnit.WORKING_DAYS, due, sh(2026, 10, 2, 9), sh(2026, 10, 6, 9)) == due


_days = st.integers(min_value=0, max_value=60)
_calendars = st.builds(
    lambda holidays, workdays: TenantCalendar(extra_holidays=frozenset(holidays), extra_workdays=frozenset(workdays)),
    st.sets(st.dates(date(2026, 9, 1), date(2026, 11, 30)), max_size=5),
    st.sets(st.dates(date(2026, 9, 1), date(2026, 11, 30)), max_size=3))
_limits = st.one_of(
    st.builds(Limit, st.integers(1, 600), st.just(LimitUnit.MINUTES)),
    st.builds(Limit, st.integers(1, 72), st.just(LimitUnit.HOURS)),
    st.builds(Limit, st.integers(1, 10), st.just(LimitUnit.CALENDAR_DAYS)),
    st.builds(Limit, st.integers(1, 10), st.just(LimitUnit.WORKING_DAYS)))


@settings(max_examples=150, deadline=None)
@given(calendar=_calendars, limit=_limits, start_minutes=st.integers(0, 60 * 24 * 40),
       pauses=st.lists(st.tuples(st.integers(0, 60 * 24 * 5), st.integers(1, 60 * 24 * 6)), max_size=4))
def test_after_any_pauses_the_counted_running_time_to_the_due_time_is_the_limit(calendar, limit, start_minutes, pauses):
    """Issue 19 acceptance 4 (property test over random pause intervals and calendars, including
    the 2026 National Day holiday and make-up days): pausing and resuming any number of times
    leaves the clock due when the time it counted while running equals what it counted from its
    start to its original due time."""
    start = sh(2026, 9, 15) + timedelta(minutes=start_minutes)
    original = policy.due_time(calendar, start, limit)
    due, cursor, paused_total = original, start, timedelta(0)
    for gap, length in pauses:
        paused_at = cursor + timedelta(minutes=gap)
        if paused_at >= due:
            break
        resumed_at = paused_at + timedelta(minutes=length)
        due = policy.resumed_due(calendar, limit.unit, due, paused_at, resumed_at)
        paused_total += policy.counted(calendar, limit.unit, paused_at, resumed_at)
        cursor = resumed_at
    running = policy.counted(calendar, limit.unit, start, due) - paused_total
    assert running == policy.counted(calendar, limit.unit, start, original)
    assert due >= original


def test_numbers_follow_the_pattern_and_reset_each_period():
    """Issue 19 acceptance 3 / R2-1 (YYMMCC resetting each year-month; the width is a floor, so a
    100th case of a 2-digit month is 100, not a repeat)."""
    n = Numbering("{YY}{MM}-{seq:2}", ResetPeriod.MONTH)
    assert policy.format_number(n, date(2026, 9, 30), 7) == "2609-07"
    assert policy.format_number(n, date(2026, 10, 1), 1) == "2610-01"
    assert policy.format_number(n, date(2026, 10, 1), 100) == "2610-100"
    flow = PROPERTY_COMPLAINTS
    assert policy.number_slot("real_estate", flow, date(2026, 9, 30)).period == "2026-09"
    assert policy.number_slot("real_estate", flow, date(2026, 10, 1)).period == "2026-10"


def test_branches_and_transitions_of_the_property_flow():
    """R10: the path is chosen by category; an emergency cannot be forwarded like a routine case."""
    flow = PROPERTY_COMPLAINTS
    assert policy.branch_of(flow, "emergency", "normal") == "emergency"
    assert policy.branch_of(flow, "routine", "major") == "routine"
    assert policy.find_transition(flow, "received", "forward", "emergency") is None
    assert policy.find_transition(flow, "received", "notify_department", "emergency").target == "em_dept_notified"
    started = policy.timers_started(flow, "emergency", policy.intake_events(flow))
    assert [t.code for t in started] == ["em_notify_3min"]


def test_records_require_their_fields():
    """Issue 19 (return visits with satisfaction, verification steps, decision records: reportable
    to a regulator or not, who decided, why)."""
    from core.plugins.complaint_flows import FlowTransition, RecordKind

    decision = FlowTransition("a", "b", "decide", required_fields=("amount",), record=RecordKind.DECISION)
    assert decision.fields_required == ("amount", "reportable", "decided_by", "reason")
    assert policy.missing_fields(decision, {"amount": 1, "reportable": False, "decided_by": "总经理"}) == ["reason"]
    assert policy.invalid_record_field(decision, {"reportable": "no"}) == "reportable"
    assert policy.invalid_record_field(decision, {"reportable": True}) is None
    visit = FlowTransition("a", "b", "visit", record=RecordKind.RETURN_VISIT)
    assert [policy.invalid_record_field(visit, {"satisfaction": v}) for v in (0, 1, 5, 6, True, "5")] == [
        "satisfaction", None, None, "satisfaction", "satisfaction", "satisfaction"]


def test_an_action_that_keeps_the_state_neither_leaves_nor_enters_it():
    """Issue 19 (clocks start and stop on events): filing a report in the current state must not
    restart the clocks that start when that state is entered."""
    from core.plugins.complaint_flows import FlowTransition

    assert policy.transition_events(FlowTransition("a", "a", "file")) == ("action:file",)
    assert policy.transition_events(FlowTransition("a", "b", "go")) == ("leave:a", "action:go", "enter:b")


def test_the_approval_level_follows_the_amount_and_a_higher_level_may_approve():
    """R2-7 / R2-12 (核决权限): the medical-devices approval reads the loss amount recorded at
    consolidation; up to 10,000 the sales manager (or above), up to 100,000 the deputy GM (or the
    GM), above only the GM; an amount that is no number of at least 0 is refused."""
    import pytest
    from decimal import Decimal

    from plugins.medical_devices.complaints import QUALITY_COMPLAINTS

    approve = policy.find_transition(QUALITY_COMPLAINTS, "approval", "approve", None)
    p = "medical_devices.complaint."
    levels = {amount: policy.authority_permissions(approve, {}, {"consolidate.loss_amount": amount})
              for amount in (0, "10000", 10_000.01, "100000.00", Decimal("100000.5"))}
    assert levels == {
        0: (f"{p}approve_sales_manager", f"{p}approve_deputy_gm", f"{p}approve_gm"),
        "10000": (f"{p}approve_sales_manager", f"{p}approve_deputy_gm", f"{p}approve_gm"),
        10_000.01: (f"{p}approve_deputy_gm", f"{p}approve_gm"),
        "100000.00": (f"{p}approve_deputy_gm", f"{p}approve_gm"),
        Decimal("100000.5"): (f"{p}approve_gm",)}
    for wrong in (None, "abc", -1, True, "Infinity", [1]):
        with pytest.raises(ValueError):
            policy.authority_permissions(approve, {}, {"consolidate.loss_amount": wrong})
    assert policy.authority_permissions(policy.find_transition(QUALITY_COMPLAINTS, "approved", "close", None), {}, {}) == ()


def test_the_closure_target_follows_the_market_and_bad_values_are_named():
    """R3-11: accepted for a domestic customer the closure clock runs 15 calendar days, for a foreign
    one 20; any other market, or a loss amount that is no amount, is named with its field."""
    from plugins.medical_devices.complaints import QUALITY_COMPLAINTS

    closure = QUALITY_COMPLAINTS.timer("closure")
    assert policy.timer_target(closure, {"market": "domestic"}) == calendar_days(15)
    assert policy.timer_target(closure, {"market": "foreign"}) == calendar_days(20)
    assert policy.timer_target(QUALITY_COMPLAINTS.timer("qa_report_3d")) == working_days(3)
    accept = policy.find_transition(QUALITY_COMPLAINTS, "received", "accept", None)
    assert policy.invalid_field(QUALITY_COMPLAINTS, accept, None, {"market": "foreign"}) is None
    assert policy.invalid_field(QUALITY_COMPLAINTS, accept, None, {"market": "abroad"})[0] == "market"
    consolidate = policy.find_transition(QUALITY_COMPLAINTS, "consolidation", "consolidate", None)
    assert policy.invalid_field(QUALITY_COMPLAINTS, consolidate, None, {"loss_amount": "12000.50"}) is None
    assert policy.invalid_field(QUALITY_COMPLAINTS, consolidate, None, {"loss_amount": "-3"})[0] == "loss_amount"
    accepted = sh(2026, 9, 29, 11)
    assert policy.due_time(CAL, accepted, policy.timer_target(closure, {"market": "domestic"})) == sh(2026, 10, 14, 11)
