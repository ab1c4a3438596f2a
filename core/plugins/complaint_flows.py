"""The complaint-flow contract (issue 19): what a vertical declares so core's complaint engine
(``core/complaints``) can run its complaints, as frozen data and pure functions.

A :class:`ComplaintFlowDefinition` is a :class:`core.plugins.types.ComplaintFlow` (so the
``kehu_complaint_flows`` hook and the registry's checks take it as it is) with, on top:

- ``roles``: who reactions reach (:class:`FlowRole`: a code, names, the permission its holders have);
- ``states`` of :class:`FlowState`: ``terminal`` ends the case; ``paused`` stops the clocks that
  pause there (waiting on the customer);
- ``transitions`` of :class:`FlowTransition`: an action from one state to another, the permission
  it needs, the fields it requires, the branches it belongs to, and the record it writes
  (return visit, verification, decision); with ``authority`` the permission depends on an amount
  (approval by authority level, 核决权限);
- ``branches`` (:class:`FlowBranch`): chosen at intake by category and severity, the first that
  matches; a transition or timer limited to branches applies only to complaints of those branches;
- ``timers`` (:class:`FlowTimer`): started by one event, stopped by others, a target and optional
  hard limit (:class:`Limit`: minutes, hours, calendar days or working days) or a target chosen by
  a field of the starting action (``target_field``/``targets``: 15 days domestic, 20 foreign),
  paused in states, and the reactions run once when a limit is passed (:class:`Escalate` to a
  role with a written report due, :class:`Remind` a role with a named notice,
  :class:`NotifyFirstResponder`) or when the clock stops after its due time (``on_late``: the
  查办单 asking why a step was late);
- ``numbering`` (:class:`Numbering`): the case number's pattern and when its sequence resets;
- ``intake_permission``, ``read_permission``, ``assign_permission``: who may open, read and
  assign a case (None: any signed-in member of the tenant).

Events (what starts and stops a timer) are strings: ``"intake"``, ``"enter:<state>"``,
``"leave:<state>"``, ``"action:<action>"`` and ``"breach:<timer>"`` (the moment another timer's
target was passed: the clock of an escalation). Every clock also stops when the case reaches a
terminal state.

Every definition checks its own shape when built and the flow checks the whole picture
(:func:`flow_problems`); both raise :class:`core.plugins.types.ContractError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from core.plugins.types import ComplaintFlow, ContractError

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_LIMIT = 10_000


def _frozen(instance: object, **values: object) -> None:
    for name, value in values.items():
        object.__setattr__(instance, name, value)


def _tuple(value: object, what: str) -> tuple[Any, ...]:
    """A tuple from a list or tuple; a string, a mapping or one definition where several are
    expected is refused by name (a string would otherwise be read letter by letter)."""
    if isinstance(value, str):
        raise ContractError(f"{what} must be a tuple, not the string {value!r} (write ({value!r},) for one)")
    if isinstance(value, (bytes, Mapping)) or not isinstance(value, Iterable) or hasattr(type(value), "__dataclass_fields__"):
        raise ContractError(f"{what} must be a tuple (or list), not {type(value).__name__} {value!r}"[:300])
    return tuple(value)


def _strings(value: object, what: str) -> tuple[str, ...]:
    items = _tuple(value, what)
    wrong = next((item for item in items if not isinstance(item, str)), None)
    if wrong is not None:
        raise ContractError(f"{what} must be a tuple of strings; {wrong!r} is a {type(wrong).__name__}")
    return items


def _code(value: object, what: str) -> None:
    if not isinstance(value, str) or not _CODE.match(value):
        raise ContractError(f"{what} {value!r} must be 1-40 lowercase letters, digits or underscores")


def _enum(enum: type[StrEnum], value: object, what: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise ContractError(f"{what} {value!r} is not one of {', '.join(e.value for e in enum)}") from None


# --- limits ------------------------------------------------------------------------------------


class LimitUnit(StrEnum):
    MINUTES = "minutes"
    HOURS = "hours"
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"


@dataclass(frozen=True, slots=True)
class Limit:
    """How long a timer runs: ``amount`` (1 to 10,000) of ``unit``. Working days follow the
    tenant's working-day calendar (holidays, 调休 make-up working days); a working-day limit falls
    due at closing time of the n-th working day (``core.calendar.TenantCalendar.due_at``)."""

    amount: int
    unit: LimitUnit

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool) or not 1 <= self.amount <= MAX_LIMIT:
            raise ContractError(f"a limit is a whole number from 1 to {MAX_LIMIT}, not {self.amount!r}")
        _frozen(self, unit=_enum(LimitUnit, self.unit, "limit unit"))

    def approximate_minutes(self) -> int:
        """For comparing a target with a hard limit of another unit (a working day taken as one
        calendar day; the order, not the value, matters)."""
        per = {LimitUnit.MINUTES: 1, LimitUnit.HOURS: 60, LimitUnit.CALENDAR_DAYS: 1440, LimitUnit.WORKING_DAYS: 1440}
        return self.amount * per[self.unit]


def minutes(n: int) -> Limit:
    return Limit(n, LimitUnit.MINUTES)


def hours(n: int) -> Limit:
    return Limit(n, LimitUnit.HOURS)


def calendar_days(n: int) -> Limit:
    return Limit(n, LimitUnit.CALENDAR_DAYS)


def working_days(n: int) -> Limit:
    return Limit(n, LimitUnit.WORKING_DAYS)


# --- numbering ---------------------------------------------------------------------------------


class ResetPeriod(StrEnum):
    NEVER = "never"
    YEAR = "year"
    MONTH = "month"
    DAY = "day"


_TOKEN = re.compile(r"\{([^{}]*)\}")
_SEQ = re.compile(r"^seq:([1-9])$")
_DATE_TOKENS = ("YYYY", "YY", "MM", "DD")


@dataclass(frozen=True, slots=True)
class Numbering:
    """A case number: ``pattern`` with ``{YYYY}``, ``{YY}``, ``{MM}``, ``{DD}`` (the intake's local
    date on the tenant's calendar), exactly one ``{seq:N}`` (the sequence, at least N digits: a
    101st case of a 2-digit month is ``100``, never a repeat) and any literal text; the sequence
    starts again at 1 each ``reset`` period. ``{YY}{MM}{seq:2}`` with a monthly reset is R2's
    YYMMCC: 2609 01, 02, … then 2610 01."""

    pattern: str = "{YY}{MM}{seq:2}"
    reset: ResetPeriod = ResetPeriod.MONTH

    def __post_init__(self) -> None:
        if not isinstance(self.pattern, str) or not self.pattern or len(self.pattern) > 60:
            raise ContractError(f"numbering pattern {self.pattern!r} must be a string of 1 to 60 characters")
        _frozen(self, reset=_enum(ResetPeriod, self.reset, "numbering reset"))
        tokens = _TOKEN.findall(self.pattern)
        if _TOKEN.sub("", self.pattern).count("{") or _TOKEN.sub("", self.pattern).count("}"):
            raise ContractError(f"numbering pattern {self.pattern!r} has an unbalanced brace")
        unknown = [t for t in tokens if t not in _DATE_TOKENS and not _SEQ.match(t)]
        if unknown:
            raise ContractError(f"numbering pattern {self.pattern!r}: unknown part {{{unknown[0]}}} "
                                "(use {YYYY}, {YY}, {MM}, {DD}, {seq:N})")
        if sum(1 for t in tokens if _SEQ.match(t)) != 1:
            raise ContractError(f"numbering pattern {self.pattern!r} needs exactly one {{seq:N}}")
        year = "YYYY" in tokens or "YY" in tokens
        needed = {ResetPeriod.YEAR: year, ResetPeriod.MONTH: year and "MM" in tokens,
                  ResetPeriod.DAY: year and "MM" in tokens and "DD" in tokens}.get(self.reset, True)
        if not needed:
            raise ContractError(f"numbering pattern {self.pattern!r} resets each {self.reset.value} but does not "
                                "show that period (its numbers would repeat)")

    @property
    def width(self) -> int:
        return int(next(_SEQ.match(t).group(1) for t in _TOKEN.findall(self.pattern) if _SEQ.match(t)))  # type: ignore[union-attr]


# --- roles, states, transitions, branches ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlowRole:
    """Someone a reaction reaches: the holders of ``permission`` (one of the vertical's
    permissions), e.g. the management-office head."""

    code: str
    name_en: str
    name_zh: str
    permission: str | None = None

    def __post_init__(self) -> None:
        _code(self.code, "role code")


@dataclass(frozen=True, slots=True)
class FlowState:
    """A state; ``terminal`` ends the case; ``paused`` stops the clocks that pause in it."""

    code: str
    name_en: str
    name_zh: str
    terminal: bool = False
    paused: bool = False

    def __post_init__(self) -> None:
        _code(self.code, "state code")
        if self.terminal and self.paused:
            raise ContractError(f"state {self.code!r} cannot be both terminal and paused")


class RecordKind(StrEnum):
    """What a transition records, with the fields it then requires (``RECORD_FIELDS``)."""

    RETURN_VISIT = "return_visit"
    VERIFICATION = "verification"
    DECISION = "decision"


RECORD_FIELDS: dict[RecordKind, tuple[str, ...]] = {
    RecordKind.RETURN_VISIT: ("satisfaction",),  # 1 (very dissatisfied) to 5 (very satisfied)
    RecordKind.VERIFICATION: ("verified_by", "result"),
    RecordKind.DECISION: ("reportable", "decided_by", "reason"),  # reportable to a regulator: yes/no
}


_AUTHORITY_FIELD = re.compile(r"^([a-z][a-z0-9_]{0,39}\.)?[A-Za-z_][A-Za-z0-9_]{0,59}$")


def _authority(value: object, where: str) -> tuple[tuple[Decimal | None, str], ...]:
    levels = _tuple(value, f"{where}: authority")
    out: list[tuple[Decimal | None, str]] = []
    for level in levels:
        if not isinstance(level, tuple) or len(level) != 2 or not isinstance(level[1], str) or not level[1]:
            raise ContractError(f"{where}: an authority level is (up_to, permission), not {level!r}"[:300])
        up_to = level[0]
        if up_to is not None and (isinstance(up_to, bool) or not isinstance(up_to, (int, Decimal))
                                  or not Decimal(up_to).is_finite() or up_to < 0):
            raise ContractError(f"{where}: an authority level's up_to is a whole number or Decimal of at least 0 "
                                f"or None, not {up_to!r}")
        out.append((None if up_to is None else Decimal(up_to), level[1]))
    bounds = [up_to for up_to, _ in out]
    if out and (bounds[-1] is not None or None in bounds[:-1]
                or any(a >= b for a, b in zip(bounds[:-2], bounds[1:-1], strict=True))):  # type: ignore[operator]
        raise ContractError(f"{where}: authority levels go from the lowest up_to to the highest, the last with "
                            "up_to None (no upper bound)")
    return tuple(out)


@dataclass(frozen=True, slots=True)
class FlowTransition:
    """``action`` moves a complaint from ``source`` to ``target``; the caller needs
    ``permission`` (when given) and must give every field of ``required_fields`` (and those of
    ``record``). ``branches`` (empty: all) limits it to complaints of those branches.

    Approval by authority level (核决权限): with ``authority_field`` and ``authority`` the caller
    also needs the permission of the level the amount falls in, or of any higher level.
    ``authority`` is ``((up_to, permission), …)`` from the lowest level up, each ``up_to`` larger
    than the one before and the last ``None`` (no upper bound); an amount up to and including
    ``up_to`` falls in that level. ``authority_field`` names a required field of this action, or
    ``"<action>.<field>"``: a required field an earlier action recorded (e.g. the loss amount
    set at consolidation). The amount is a number of at least 0 (text such as ``"12000.50"``
    too); the action giving it is refused with ``COMPLAINT_FIELDS_INVALID`` otherwise."""

    source: str
    target: str
    action: str
    permission: str | None = None
    required_fields: tuple[str, ...] = ()
    branches: tuple[str, ...] = ()
    record: RecordKind | None = None
    authority_field: str | None = None
    authority: tuple[tuple[Decimal | int | None, str], ...] = ()

    def __post_init__(self) -> None:
        _code(self.action, "transition action")
        where = f"transition {self.action!r}"
        _frozen(self, required_fields=_strings(self.required_fields, f"{where}: required_fields"),
                branches=_strings(self.branches, f"{where}: branches"),
                record=None if self.record is None else _enum(RecordKind, self.record, f"{where}: record"),
                authority=_authority(self.authority, where))
        if (self.authority_field is None) != (not self.authority):
            raise ContractError(f"{where}: approval by authority level needs both authority_field and authority")
        if self.authority_field is not None and (not isinstance(self.authority_field, str)
                                                 or not _AUTHORITY_FIELD.match(self.authority_field)):
            raise ContractError(f"{where}: authority_field {self.authority_field!r} must be a field name or "
                                "'<action>.<field>'")

    @property
    def fields_required(self) -> tuple[str, ...]:
        extra = RECORD_FIELDS[self.record] if self.record else ()
        return tuple(dict.fromkeys((*self.required_fields, *extra)))


@dataclass(frozen=True, slots=True)
class FlowBranch:
    """A path of the flow, chosen at intake: the first branch whose ``categories`` (empty: any)
    and ``severities`` (empty: any) both admit the complaint."""

    code: str
    categories: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _code(self.code, "branch code")
        _frozen(self, categories=_strings(self.categories, f"branch {self.code!r}: categories"),
                severities=_strings(self.severities, f"branch {self.code!r}: severities"))

    def admits(self, category: str, severity: str) -> bool:
        return (not self.categories or category in self.categories) and (not self.severities or severity in self.severities)


# --- reactions and timers ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Escalate:
    """Escalate the case to ``role``; when ``report_within`` is given the role owes a written
    report by then (a clock of its own, stopped by ``report_action``)."""

    role: str
    report_within: Limit | None = None
    report_action: str | None = None

    def __post_init__(self) -> None:
        if self.report_within is not None and not isinstance(self.report_within, Limit):
            raise ContractError(f"escalation to {self.role!r}: report_within must be a Limit")
        if (self.report_within is None) != (self.report_action is None):
            raise ContractError(f"escalation to {self.role!r}: a written report needs both report_within "
                                "and the report_action that files it")


@dataclass(frozen=True, slots=True)
class Remind:
    """A notice to ``role``, e.g. the responsible department: ``notice`` names its kind, a
    reminder (催办单) unless the flow says otherwise (``"overdue_investigation"``: the 查办单 asking
    a department why a step was late)."""

    role: str
    notice: str = "reminder"

    def __post_init__(self) -> None:
        _code(self.notice, f"notice to {self.role!r}")


@dataclass(frozen=True, slots=True)
class NotifyFirstResponder:
    """A notice to the first responder (首问责任人), the user who took the complaint."""


Reaction = Escalate | Remind | NotifyFirstResponder
_EVENT = re.compile(r"^(intake|(enter|leave|action|breach):([a-z][a-z0-9_]{0,39}))$")


@dataclass(frozen=True, slots=True)
class FlowTimer:
    """A clock: starts on ``start_on``, stops on any of ``stop_on`` (or a terminal state), falls
    due ``target`` after its start and, when given, passes its ``hard_limit`` later still. It
    pauses while the case is in a state of ``pause_in`` (None: every paused state of the flow;
    ``()``: never). Passing the target runs ``on_breach`` once, passing the hard limit
    ``on_hard_breach`` once. ``branches`` (empty: all) limits it to complaints of those branches.
    With ``deadline_field`` the clock falls due when the starting action says (a field of that
    action holding a date and time with its offset, e.g. the handling deadline set at dispatch,
    限期处理); ``target`` is then the longest deadline that action may set.

    With ``target_field`` the target depends on a field of the starting action:
    ``targets`` pairs each value the field may take with its limit, e.g.
    ``(("domestic", calendar_days(15)), ("foreign", calendar_days(20)))`` (R3-11); ``target`` is
    then the longest of them, and the action is refused with ``COMPLAINT_FIELDS_INVALID`` when the
    field holds another value. ``on_late`` runs once when the clock stops (its step done, or the
    case closed) after its due time, e.g. the 查办单 to the late department (R2-25); it may
    remind or notify, not escalate."""

    code: str
    name_en: str
    name_zh: str
    start_on: str
    stop_on: tuple[str, ...]
    target: Limit
    hard_limit: Limit | None = None
    pause_in: tuple[str, ...] | None = None
    branches: tuple[str, ...] = ()
    on_breach: tuple[Reaction, ...] = ()
    on_hard_breach: tuple[Reaction, ...] = ()
    deadline_field: str | None = None
    target_field: str | None = None
    targets: tuple[tuple[str, Limit], ...] = ()
    on_late: tuple[Reaction, ...] = ()

    def __post_init__(self) -> None:
        _code(self.code, "timer code")
        where = f"timer {self.code!r}"
        if not isinstance(self.target, Limit) or (self.hard_limit is not None and not isinstance(self.hard_limit, Limit)):
            raise ContractError(f"{where}: target and hard_limit must be Limit values")
        _frozen(self, stop_on=_strings(self.stop_on, f"{where}: stop_on"),
                pause_in=None if self.pause_in is None else _strings(self.pause_in, f"{where}: pause_in"),
                branches=_strings(self.branches, f"{where}: branches"),
                on_breach=_tuple(self.on_breach, f"{where}: on_breach"),
                on_hard_breach=_tuple(self.on_hard_breach, f"{where}: on_hard_breach"),
                targets=_tuple(self.targets, f"{where}: targets"), on_late=_tuple(self.on_late, f"{where}: on_late"))
        for reaction in self.on_late:
            if not isinstance(reaction, (Remind, NotifyFirstResponder)):
                raise ContractError(f"{where}: on_late may remind or notify the first responder, not "
                                    f"{type(reaction).__name__}")
        if (self.target_field is None) != (not self.targets):
            raise ContractError(f"{where}: a target chosen by a field needs both target_field and targets")
        if self.target_field is not None and self.deadline_field is not None:
            raise ContractError(f"{where}: a timer takes its due time from deadline_field or target_field, not both")
        values: list[str] = []
        for pair in self.targets:
            if (not isinstance(pair, tuple) or len(pair) != 2 or not isinstance(pair[0], str) or not pair[0]
                    or not isinstance(pair[1], Limit)):
                raise ContractError(f"{where}: targets pair a field value with its Limit, not {pair!r}"[:300])
            if pair[0] in values:
                raise ContractError(f"{where}: target for {pair[0]!r} is declared twice")
            values.append(pair[0])
        if self.targets and (max(limit.approximate_minutes() for _, limit in self.targets)
                             != self.target.approximate_minutes()):
            raise ContractError(f"{where}: with targets, target must be the longest of them")
        for event in (self.start_on, *self.stop_on):
            if not isinstance(event, str) or not _EVENT.match(event):
                raise ContractError(f"{where}: event {event!r} is not intake, enter:<state>, leave:<state>, "
                                    "action:<action> or breach:<timer>")
        for reaction in (*self.on_breach, *self.on_hard_breach, *self.on_late):
            if not isinstance(reaction, (Escalate, Remind, NotifyFirstResponder)):
                raise ContractError(f"{where}: a reaction must be Escalate, Remind or NotifyFirstResponder, "
                                    f"not {type(reaction).__name__}")
        if self.hard_limit is not None and self.hard_limit.approximate_minutes() <= self.target.approximate_minutes():
            raise ContractError(f"{where}: the hard limit must be longer than the target")


def event_parts(event: str) -> tuple[str, str | None]:
    """``"enter:dispatched"`` -> ``("enter", "dispatched")``; ``"intake"`` -> ``("intake", None)``."""
    kind, _, name = event.partition(":")
    return kind, name or None


# --- the flow ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComplaintFlowDefinition(ComplaintFlow):
    """A complaint flow the engine runs (see the module's text). Built and checked whole: a
    problem raises ``ContractError`` naming the flow."""

    roles: tuple[FlowRole, ...] = ()
    branches: tuple[FlowBranch, ...] = ()
    timers: tuple[FlowTimer, ...] = ()
    numbering: Numbering = Numbering()
    intake_permission: str | None = None  # None: any signed-in member of the tenant (R10-1: any employee)
    read_permission: str | None = None  # None: any signed-in member; the complainant stays masked
    assign_permission: str | None = None  # None: any signed-in member

    def __post_init__(self) -> None:
        ComplaintFlow.__post_init__(self)
        where = f"complaint flow {self.id!r}"
        _frozen(self, roles=_tuple(self.roles, f"{where}: roles"), branches=_tuple(self.branches, f"{where}: branches"),
                timers=_tuple(self.timers, f"{where}: timers"))
        problems = flow_problems(self)
        if problems:
            raise ContractError("; ".join(problems))

    # lookups used by the engine
    def state(self, code: str) -> FlowState | None:
        return next((s for s in self.states if s.code == code), None)

    def timer(self, code: str) -> FlowTimer | None:
        return next((t for t in self.timers if t.code == code), None)

    def role(self, code: str) -> FlowRole | None:
        return next((r for r in self.roles if r.code == code), None)

    def paused_states(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.states if getattr(s, "paused", False))

    def terminal_states(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.states if s.terminal)


def _kinds(items: Iterable[object], kind: type, what: str) -> list[str]:
    return [f"{what} must be {kind.__name__} values, not {type(item).__name__}" for item in items
            if not isinstance(item, kind)][:1]


def flow_problems(flow: ComplaintFlowDefinition) -> list[str]:
    """Every problem of a flow as a whole (pure): unknown states, actions, branches, roles and
    timers named anywhere; terminal states unreachable from the initial state; states with no way
    to a terminal state; a terminal state with a way out; duplicate codes."""
    where = f"complaint flow {flow.id!r}"
    problems: list[str] = []
    problems += _kinds(flow.states, FlowState, f"{where}: states")
    problems += _kinds(flow.transitions, FlowTransition, f"{where}: transitions")
    problems += _kinds(flow.roles, FlowRole, f"{where}: roles")
    problems += _kinds(flow.branches, FlowBranch, f"{where}: branches")
    problems += _kinds(flow.timers, FlowTimer, f"{where}: timers")
    if not isinstance(flow.numbering, Numbering):
        problems.append(f"{where}: numbering must be a Numbering")
    if problems:
        return problems

    def duplicates(what: str, codes: Iterable[str]) -> list[str]:
        seen: set[str] = set()
        twice = []
        for code in codes:
            if code in seen and code not in twice:
                twice.append(code)
            seen.add(code)
        return [f"{where}: {what} {code!r} is declared twice" for code in twice]

    states = {s.code for s in flow.states}
    terminal = {s.code for s in flow.states if s.terminal}
    actions = {t.action for t in flow.transitions}
    branches = {b.code for b in flow.branches}
    roles = {r.code for r in flow.roles}
    timers = {t.code for t in flow.timers}
    problems += duplicates("state", (s.code for s in flow.states))
    problems += duplicates("role", (r.code for r in flow.roles))
    problems += duplicates("branch", (b.code for b in flow.branches))
    problems += duplicates("timer", (t.code for t in flow.timers))
    if flow.initial not in states:
        problems.append(f"{where}: initial state {flow.initial!r} is not one of its states")
    if not terminal:
        problems.append(f"{where} has no terminal state")
    if flow.initial in terminal:
        problems.append(f"{where}: the initial state {flow.initial!r} cannot be terminal")
    for b in flow.branches:
        for category in b.categories:
            if category not in flow.categories:
                problems.append(f"{where}: branch {b.code!r} names unknown category {category!r}")
        for severity in b.severities:
            if severity not in flow.severities:
                problems.append(f"{where}: branch {b.code!r} names unknown severity {severity!r}")
    edges: dict[str, set[str]] = {}
    for t in flow.transitions:
        for state in (t.source, t.target):
            if state not in states:
                problems.append(f"{where}: transition {t.action!r} goes to or from unknown state {state!r}")
        if t.source in terminal:
            problems.append(f"{where}: terminal state {t.source!r} has a way out ({t.action!r})")
        for branch in t.branches:
            if branch not in branches:
                problems.append(f"{where}: transition {t.action!r} names unknown branch {branch!r}")
        edges.setdefault(t.source, set()).add(t.target)
    seen_actions: set[tuple[str, str, tuple[str, ...]]] = set()
    for t in flow.transitions:
        key = (t.source, t.action, t.branches)
        if key in seen_actions:
            problems.append(f"{where}: action {t.action!r} from {t.source!r} is declared twice")
        seen_actions.add(key)
    # reachability: every terminal state from the initial one, every state to some terminal one
    reached, frontier = {flow.initial}, [flow.initial]
    while frontier:
        for target in edges.get(frontier.pop(), ()):
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    for code in sorted(terminal - reached):
        problems.append(f"{where}: terminal state {code!r} cannot be reached from {flow.initial!r}")
    reverse: dict[str, set[str]] = {}
    for source, targets in edges.items():
        for target in targets:
            reverse.setdefault(target, set()).add(source)
    reaching, frontier = set(terminal), list(terminal)
    while frontier:
        for source in reverse.get(frontier.pop(), ()):
            if source not in reaching:
                reaching.add(source)
                frontier.append(source)
    for s in flow.states:
        if s.code in reached and s.code not in reaching:
            problems.append(f"{where}: state {s.code!r} has no way to a terminal state")
    # timers: events, pause states, branches, reactions
    for timer in flow.timers:
        what = f"{where}: timer {timer.code!r}"
        for event in (timer.start_on, *timer.stop_on):
            kind, name = event_parts(event)
            known = {"enter": states, "leave": states, "action": actions, "breach": timers}.get(kind)
            if known is not None and name not in known:
                noun = {"enter": "state", "leave": "state", "action": "action", "breach": "timer"}[kind]
                problems.append(f"{what}: event {event!r} names unknown {noun} {name!r}")
        if event_parts(timer.start_on) == ("breach", timer.code):
            problems.append(f"{what} cannot start on its own breach")
        for state in timer.pause_in or ():
            if state not in states:
                problems.append(f"{what}: pauses in unknown state {state!r}")
            elif state in terminal:
                problems.append(f"{what}: cannot pause in terminal state {state!r}")
        for branch in timer.branches:
            if branch not in branches:
                problems.append(f"{what}: names unknown branch {branch!r}")
        for reaction in (*timer.on_breach, *timer.on_hard_breach, *timer.on_late):
            role = getattr(reaction, "role", None)
            if role is not None and role not in roles:
                declared = ", ".join(sorted(roles)) or "none"
                problems.append(f"{what}: a reaction notifies role {role!r}, which the flow does not declare "
                                f"(declared: {declared})")
            if isinstance(reaction, Escalate) and reaction.report_action is not None and reaction.report_action not in actions:
                problems.append(f"{what}: the written report of the escalation to {reaction.role!r} is filed by "
                                f"unknown action {reaction.report_action!r}")
        if timer.deadline_field is not None:
            kind, action = event_parts(timer.start_on)
            starters = [t for t in flow.transitions if t.action == action] if kind == "action" else []
            if not starters or any(timer.deadline_field not in t.fields_required for t in starters):
                problems.append(f"{what}: its deadline_field {timer.deadline_field!r} must be a required field of "
                                "the action that starts it (start_on 'action:<action>')")
        if timer.target_field is not None:
            kind, action = event_parts(timer.start_on)
            starters = [t for t in flow.transitions if t.action == action] if kind == "action" else []
            if not starters or any(timer.target_field not in t.fields_required for t in starters):
                problems.append(f"{what}: its target_field {timer.target_field!r} must be a required field of "
                                "the action that starts it (start_on 'action:<action>')")
        if timer.hard_limit is None and timer.on_hard_breach:
            problems.append(f"{what}: on_hard_breach needs a hard_limit")
    for t in flow.transitions:
        if t.authority_field is None:
            continue
        action, _, name = t.authority_field.rpartition(".")
        givers = [g for g in flow.transitions if g.action == action] if action else [t]
        if not givers or any(name not in g.fields_required for g in givers):
            problems.append(f"{where}: transition {t.action!r}: its authority_field {t.authority_field!r} must be "
                            "a required field of this action or '<action>.<field>' of an action that requires it")
    if flow.branches and not any(not b.categories and not b.severities for b in flow.branches):
        # every category/severity pair must find a branch
        for category in flow.categories:
            for severity in flow.severities:
                if not any(b.admits(category, severity) for b in flow.branches):
                    problems.append(f"{where}: no branch admits category {category!r} with severity {severity!r}")
    return problems


def validate_flow(flow: ComplaintFlowDefinition) -> ComplaintFlowDefinition:
    """``flow`` if it has no problem, else ``ContractError`` listing them."""
    problems = flow_problems(flow)
    if problems:
        raise ContractError("; ".join(problems))
    return flow


__all__ = [
    "ComplaintFlowDefinition", "Escalate", "FlowBranch", "FlowRole", "FlowState", "FlowTimer",
    "FlowTransition", "Limit", "LimitUnit", "NotifyFirstResponder", "Numbering", "Reaction", "RecordKind", "Remind",
    "ResetPeriod", "calendar_days", "event_parts", "flow_problems", "hours", "minutes", "validate_flow", "working_days",
]
