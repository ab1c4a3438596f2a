"""The complaint engine's rules as pure functions of a flow, a complaint's facts and the tenant's
calendar: which branch, which transition, which clocks an event starts, stops, pauses or resumes,
when a clock falls due, how a pause moves it, and the case number. No I/O, no clock.

How a pause moves a due time (issue 19 acceptance 4): a clock counts time (every moment for
minute, hour and calendar-day limits; only the moments of working days, local midnight to
midnight, for working-day limits). Pausing at P and resuming at R leaves the counted time that was
left at P: the new due time is the moment after R at which the same amount has been counted again.
For counted-every-moment limits that is simply the old due time plus the length of the pause. A
limit already passed when the pause began does not move.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from core.calendar.days import DeadlineUnit, Duration, TenantCalendar
from core.plugins.complaint_flows import (
    ComplaintFlowDefinition,
    FlowTimer,
    FlowTransition,
    Limit,
    LimitUnit,
    Numbering,
    RecordKind,
    ResetPeriod,
    event_parts,
)

SATISFACTION = range(1, 6)  # a return visit's satisfaction: 1 (very dissatisfied) to 5 (very satisfied)


def branch_of(flow: ComplaintFlowDefinition, category: str, severity: str) -> str | None:
    """The first branch admitting the complaint (None when the flow has no branches)."""
    return next((b.code for b in flow.branches if b.admits(category, severity)), None)


def in_branch(branches: Sequence[str], branch: str | None) -> bool:
    return not branches or branch in branches


def find_transition(flow: ComplaintFlowDefinition, state: str, action: str, branch: str | None) -> FlowTransition | None:
    return next((t for t in flow.transitions if t.source == state and t.action == action
                 and in_branch(getattr(t, "branches", ()), branch)), None)


def available_transitions(flow: ComplaintFlowDefinition, state: str, branch: str | None) -> list[FlowTransition]:
    return [t for t in flow.transitions if t.source == state and in_branch(getattr(t, "branches", ()), branch)]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def missing_fields(transition: FlowTransition, given: Mapping[str, Any]) -> list[str]:
    """The fields ``transition`` requires that ``given`` lacks (absent, null or blank)."""
    return [name for name in transition.fields_required if _blank(given.get(name))]


def invalid_record_field(transition: FlowTransition, given: Mapping[str, Any]) -> str | None:
    """The first field of the transition's record with a value of the wrong kind."""
    if transition.record is RecordKind.RETURN_VISIT:
        value = given.get("satisfaction")
        if isinstance(value, bool) or not isinstance(value, int) or value not in SATISFACTION:
            return "satisfaction"
    if transition.record is RecordKind.DECISION and not isinstance(given.get("reportable"), bool):
        return "reportable"
    return None


# --- approval by authority level, targets chosen by a field ---------------------------------------


def amount_of(value: Any) -> Decimal | None:
    """An amount given in a field: a number or numeric text of at least 0 (None: anything else)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() and number >= 0 else None


def authority_value(transition: FlowTransition, given: Mapping[str, Any], recorded: Mapping[str, Any]) -> Any:
    """The value an approval's level is read from: this action's field, or the field an earlier
    action recorded (stored as ``<action>.<field>``)."""
    name = transition.authority_field
    if name is None:
        return None
    return recorded.get(name) if "." in name else given.get(name)


def authority_permissions(transition: FlowTransition, given: Mapping[str, Any],
                          recorded: Mapping[str, Any]) -> tuple[str, ...]:
    """The permissions any one of which lets the caller take ``transition`` for its amount: the
    permission of the level the amount falls in and of every higher level (empty: the transition
    has no authority levels). ``ValueError`` when the amount is missing or no number of at least 0."""
    levels = getattr(transition, "authority", ())
    if not levels:
        return ()
    value = amount_of(authority_value(transition, given, recorded))
    if value is None:
        raise ValueError(f"{transition.authority_field} must be an amount of at least 0")
    index = next(i for i, (up_to, _) in enumerate(levels) if up_to is None or value <= up_to)
    return tuple(dict.fromkeys(permission for _, permission in levels[index:]))


def timer_target(timer: FlowTimer, given: Mapping[str, Any] | None = None) -> Limit:
    """The limit a clock of ``timer`` starts with: the target of the starting action's field's
    value when the timer has ``target_field``, else its ``target``."""
    name = getattr(timer, "target_field", None)
    if name is None:
        return timer.target
    chosen = dict(timer.targets).get((given or {}).get(name))  # type: ignore[arg-type]
    if chosen is None:
        raise ValueError(f"{name} must be one of {', '.join(v for v, _ in timer.targets)}")
    return chosen


def invalid_field(flow: ComplaintFlowDefinition, transition: FlowTransition, branch: str | None,
                  given: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """The first field of ``given`` the flow's rules refuse, as (field, English, Chinese): a
    value choosing a timer's target that is none of its choices, or an amount an approval's
    authority level is read from that is no number of at least 0."""
    for timer in timers_started(flow, branch, transition_events(transition)):
        name = getattr(timer, "target_field", None)
        if name is not None and given.get(name) not in dict(timer.targets):
            allowed = [value for value, _ in timer.targets]
            return name, f"{name} must be one of {', '.join(allowed)}", f"{name} 须为以下之一：{'、'.join(allowed)}"
    for other in flow.transitions:
        name = getattr(other, "authority_field", None)
        if name is None:
            continue
        action, _, field_name = name.rpartition(".")
        mine = (action == transition.action) if action else other is transition
        if mine and amount_of(given.get(field_name)) is None:
            return (field_name, f"{field_name} must be an amount of at least 0", f"{field_name} 须为不小于 0 的金额")
    return None


def transition_events(transition: FlowTransition) -> tuple[str, ...]:
    """What a transition makes happen; an action that keeps the state (filing a report) neither
    leaves nor enters it."""
    if transition.source == transition.target:
        return (f"action:{transition.action}",)
    return (f"leave:{transition.source}", f"action:{transition.action}", f"enter:{transition.target}")


def intake_events(flow: ComplaintFlowDefinition) -> tuple[str, ...]:
    return ("intake", f"enter:{flow.initial}")


def timers_started(flow: ComplaintFlowDefinition, branch: str | None, events: Iterable[str]) -> list[FlowTimer]:
    happened = set(events)
    return [t for t in flow.timers if t.start_on in happened and in_branch(t.branches, branch)]


def timer_stops(timer: FlowTimer | None, events: Iterable[str], state_after: str, flow: ComplaintFlowDefinition) -> bool:
    """Whether a running clock of ``timer`` stops: one of its stop events happened, or the case
    reached a terminal state (an unknown timer, from an older flow, stops only then)."""
    if state_after in flow.terminal_states():
        return True
    return timer is not None and bool(set(timer.stop_on) & set(events))


def report_stops(flow: ComplaintFlowDefinition, role: str | None, events: Iterable[str], state_after: str) -> bool:
    """Whether a written report owed by ``role`` is filed by these events (or the case ended)."""
    if state_after in flow.terminal_states():
        return True
    actions = {name for kind, name in map(event_parts, events) if kind == "action"}
    return any(getattr(r, "role", None) == role and getattr(r, "report_action", None) in actions
               for t in flow.timers for r in (*t.on_breach, *t.on_hard_breach))


def pauses_in(flow: ComplaintFlowDefinition, timer: FlowTimer | None, state: str) -> bool:
    """Whether a clock of ``timer`` stands still while the case is in ``state``."""
    if timer is None:
        return False
    states = flow.paused_states() if timer.pause_in is None else timer.pause_in
    return state in states


# --- due times -----------------------------------------------------------------------------------


def deadline_from_field(timer: FlowTimer, calendar: TenantCalendar, start: datetime,
                        given: Mapping[str, Any]) -> datetime | None:
    """The due time a timer with ``deadline_field`` takes from the starting action's fields (None:
    the timer has none). ``ValueError`` when the value is no date and time with an offset, not
    after ``start``, or later than the timer's ``target`` allows."""
    name = getattr(timer, "deadline_field", None)
    if name is None:
        return None
    value = given.get(name)
    try:
        at = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be a date and time with its offset, e.g. 2026-09-30T18:00+08:00")
    at = at.astimezone(UTC)
    if at <= start or at > due_time(calendar, start, timer.target):
        raise ValueError(f"{name} must be after now and at most {timer.target.amount} {timer.target.unit.value} away")
    return at


def due_time(calendar: TenantCalendar, start: datetime, limit: Limit) -> datetime:
    """When a clock started at ``start`` with ``limit`` falls due (UTC). Minutes and hours are
    elapsed time; calendar days the same local time that many days later; working days closing
    time of the n-th working day (``TenantCalendar.due_at``: holidays and 调休 days counted)."""
    if limit.unit is LimitUnit.MINUTES:
        return (start + timedelta(minutes=limit.amount)).astimezone(UTC)
    unit = {LimitUnit.HOURS: DeadlineUnit.HOURS, LimitUnit.CALENDAR_DAYS: DeadlineUnit.CALENDAR_DAYS,
            LimitUnit.WORKING_DAYS: DeadlineUnit.WORKING_DAYS}[limit.unit]
    return calendar.due_at(start, Duration(limit.amount, unit)).astimezone(UTC)


def provisional(calendar: TenantCalendar, unit: LimitUnit | str, start: datetime, due: datetime | None) -> bool:
    """Whether a working-day due time counted days of a year whose official holiday schedule is
    not known yet (it may move once the schedule is loaded); other units never are."""
    return (due is not None and LimitUnit(unit) is LimitUnit.WORKING_DAYS
            and calendar.crosses_provisional(start, due))


def _midnight(day: date, calendar: TenantCalendar) -> datetime:
    return datetime.combine(day, time(0), tzinfo=calendar.zone)


def counted(calendar: TenantCalendar, unit: LimitUnit | str, first: datetime, last: datetime) -> timedelta:
    """The time a clock of ``unit`` counts from ``first`` to ``last`` (zero when ``last`` is not
    after ``first``): all of it, or for working days only the part on working days."""
    if last <= first:
        return timedelta(0)
    if LimitUnit(unit) is not LimitUnit.WORKING_DAYS:
        return last - first
    total = timedelta(0)
    day = first.astimezone(calendar.zone).date()
    end_day = last.astimezone(calendar.zone).date()
    while day <= end_day:
        if calendar.is_working_day(day):
            begin = max(first, _midnight(day, calendar))
            end = min(last, _midnight(day + timedelta(days=1), calendar))
            if end > begin:
                total += end - begin
        day += timedelta(days=1)
    return total


def advance(calendar: TenantCalendar, unit: LimitUnit | str, start: datetime, amount: timedelta) -> datetime:
    """The moment after ``start`` at which a clock of ``unit`` has counted ``amount``."""
    if LimitUnit(unit) is not LimitUnit.WORKING_DAYS or amount <= timedelta(0):
        return (start + amount).astimezone(UTC)
    current = start
    left = amount
    for _ in range(40_000):  # bounded: a working-day limit is at most 10,000 working days
        day = current.astimezone(calendar.zone).date()
        day_end = _midnight(day + timedelta(days=1), calendar)
        if calendar.is_working_day(day):
            room = day_end - current
            if room >= left:
                return (current + left).astimezone(UTC)
            left -= room
        current = day_end
    raise ValueError("the due time is out of range")  # pragma: no cover - limits are bounded


def resumed_due(calendar: TenantCalendar, unit: LimitUnit | str, due: datetime | None, paused_at: datetime,
                resumed_at: datetime) -> datetime | None:
    """Where a due time moves when its clock, paused at ``paused_at``, resumes at ``resumed_at``
    (see the module's text). A due time already passed at the pause stays."""
    if due is None or due <= paused_at:
        return due
    return advance(calendar, unit, resumed_at, counted(calendar, unit, paused_at, due))


# --- numbering -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NumberSlot:
    scope: str  # the sequence's scope: vertical.flow
    period: str  # "" (never resets), "2026", "2026-09" or "2026-09-30"


def number_slot(vertical: str, flow: ComplaintFlowDefinition, day: date) -> NumberSlot:
    """The sequence an intake on local date ``day`` draws from."""
    reset = flow.numbering.reset
    period = {ResetPeriod.NEVER: "", ResetPeriod.YEAR: f"{day:%Y}", ResetPeriod.MONTH: f"{day:%Y-%m}",
              ResetPeriod.DAY: f"{day:%Y-%m-%d}"}[reset]
    return NumberSlot(f"{vertical}.{flow.id}", period)


def format_number(numbering: Numbering, day: date, seq: int) -> str:
    """``{YY}{MM}{seq:2}`` on 2026-09-30 with 7 -> ``260907``; a sequence longer than its width
    keeps every digit."""
    def part(match: Any) -> str:
        token = match.group(1)
        if token.startswith("seq:"):
            return str(seq).zfill(int(token[4:]))
        return {"YYYY": f"{day:%Y}", "YY": f"{day:%y}", "MM": f"{day:%m}", "DD": f"{day:%d}"}[token]

    import re

    return re.sub(r"\{([^{}]*)\}", part, numbering.pattern)


def local_day(calendar: TenantCalendar, at: datetime) -> date:
    return at.astimezone(calendar.zone).date()
