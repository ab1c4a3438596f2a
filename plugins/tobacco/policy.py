"""The tobacco rules as pure functions (no I/O): onboarding deadlines on the working-day calendar
(S21 Art7), the settlement name match (Art7.5), the sign-offs of special changes (Art9–Art14), the
reverts of temporary changes (Art11, Art12) and the phone-change watch count (Art12)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from core.plugins import KehuError, add_months
from plugins.tobacco import rules


def _error(code: str, en: str, zh: str, field: str | None = None) -> KehuError:
    return KehuError(code, en, zh, field=field)


# --- onboarding (Art7) -------------------------------------------------------------------------------


def day_one(licence_date: date, calendar: Any, mode: str) -> date:
    """Working day 1: the licence day when it is a working day and the tenant counts it, else the
    first working day after it."""
    if mode == "licence_day" and calendar.is_working_day(licence_date):
        return licence_date
    return calendar.next_working_day(licence_date)


def working_day(first: date, n: int, calendar: Any) -> date:
    """The ``n``-th working day counting ``first`` (a working day) as day 1."""
    return first if n <= 1 else calendar.add_working_days(first, n - 1)


def close_of(day: date, calendar: Any) -> datetime:
    return calendar.at_time_on_working_day(day, calendar.business_hours.closes)


def previous_working_day(day: date, calendar: Any) -> date:
    day -= timedelta(days=1)
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


def first_order_day(after: date, weekday: int, calendar: Any) -> date:
    """The first working day strictly after ``after`` that is the customer's order day (1 = Monday):
    no orders are taken on a holiday."""
    day = after + timedelta(days=1)
    day += timedelta(days=(weekday - day.isoweekday()) % 7)
    while not calendar.is_working_day(day):
        day += timedelta(days=7)
    return day


def onboarding_deadlines(licence_date: date, calendar: Any, parameters: Mapping[str, Any], *,
                         order_weekday: int | None = None, evaluation_on: date | None = None) -> dict[str, datetime]:
    """Each onboarding step's due time (close of business of its working day, Art7.2–Art7.7); the
    display fields fall due before a grade evaluation inside onboarding (Art7.8); the quota approval
    is due by close of business of the last working day at least ``quota_approval_days_before_order``
    days before the first order day after the market fields (Art7.9)."""
    first = day_one(licence_date, calendar, str(parameters["onboarding_day_one"]))
    due: dict[str, datetime] = {}
    days: dict[str, date] = {}
    for step in rules.ONBOARDING_STEPS:
        n = 1 if step.parameter is None else int(parameters[step.parameter])
        days[step.key] = working_day(first, n, calendar)
    if evaluation_on is not None and evaluation_on <= days["display"]:
        days["display"] = max(first, previous_working_day(evaluation_on, calendar))
    for key, day in days.items():
        due[key] = close_of(day, calendar)
    if order_weekday is not None:
        due[rules.QUOTA_STEP] = quota_due(days["market"], order_weekday, calendar,
                                          int(parameters["quota_approval_days_before_order"]))
    return due


def quota_due(market_day: date, order_weekday: int, calendar: Any, days_before: int) -> datetime:
    order_day = first_order_day(market_day, order_weekday, calendar)
    latest = order_day - timedelta(days=days_before)
    if not calendar.is_working_day(latest):
        latest = previous_working_day(latest, calendar)
    return close_of(max(latest, market_day), calendar)


def password_due(maintained_on: date, calendar: Any) -> datetime:
    """The 新商盟 password goes to the customer on the morning of the second working day after the
    online ordering was maintained (Art7.4): by noon of that day."""
    return calendar.at_time_on_working_day(calendar.add_working_days(maintained_on, 2), time(12, 0))


def hidden_fields(parameter: object) -> frozenset[str]:
    names = {part.strip() for part in str(parameter or "").split(",")}
    return frozenset(names & set(rules.FIELD_NAMES))


def step_fields(step: str, hidden: frozenset[str]) -> tuple[str, ...]:
    """The visible fields a step needs (Art3: hidden fields are never due)."""
    if step == "deferred":
        named = {name for s in rules.ONBOARDING_STEPS for name in s.fields} | rules.NOT_DEFERRED
        fields: Iterable[str] = (name for name in rules.FIELD_NAMES if name not in named)
    else:
        fields = next(s.fields for s in rules.ONBOARDING_STEPS if s.key == step)
    return tuple(name for name in fields if name not in hidden)


def missing_fields(step: str, values: Mapping[str, Any], hidden: frozenset[str]) -> tuple[str, ...]:
    return tuple(name for name in step_fields(step, hidden) if values.get(name) in (None, ""))


# --- settlement (Art7.5, Art9, Art10) ---------------------------------------------------------------


def _normal_name(name: object) -> str:
    text = unicodedata.normalize("NFKC", str(name or ""))
    return "".join(text.split())


def check_settlement(method: str, *, settlement_name: object, legal_person: object, sealed_authority: bool) -> None:
    """Electronic settlement needs the settlement person's name to equal the licence's legal person
    (spaces and full-width forms aside) or a power of attorney with the official seal (中石油 / 中石化
    stations, Art7.5); cash needs neither."""
    if method == "cash":
        return
    if not _normal_name(legal_person):
        raise _error("TOBACCO_LICENCE_NAME_MISSING", "record the licence's legal person before electronic settlement",
                     "办理电子结算前须先登记烟草证法人姓名", "extensions.tobacco.licence_legal_person")
    if _normal_name(settlement_name) != _normal_name(legal_person) and not sealed_authority:
        raise _error("TOBACCO_SETTLEMENT_NAME_MISMATCH",
                     "the settlement person's name differs from the legal person on the tobacco licence; electronic "
                     "settlement needs a power of attorney bearing the official seal (S21 Art7.5)",
                     "结算人姓名与烟草证法人姓名不符，须提供加盖公章的授权委托书方可办理电子结算（第七条第5项）", "settlementName")


# --- special changes (Art9–Art14) -------------------------------------------------------------------

SECTION_CHIEF, DEPUTY_MANAGER, DEPUTY_SECTION_CHIEF, ACCOUNT_MANAGER = (
    "section_chief", "deputy_manager", "deputy_section_chief", "account_manager")
SIGN_OFF_ROLES = (SECTION_CHIEF, DEPUTY_MANAGER, DEPUTY_SECTION_CHIEF, ACCOUNT_MANAGER)
# The permission a signer holds for each role.
ROLE_PERMISSION = {role: f"tobacco.sign.{role}" for role in SIGN_OFF_ROLES}


@dataclass(frozen=True, slots=True)
class SpecialChange:
    kind: str
    signers: tuple[str, str]  # the two roles that must both sign
    filed: bool  # filed with the internal-management section after execution
    rule: str


SPECIAL_CHANGES = {c.kind: c for c in (
    SpecialChange("settlement_to_cash", (SECTION_CHIEF, DEPUTY_MANAGER), False, "S21 Art9"),
    SpecialChange("settlement_bank", (SECTION_CHIEF, DEPUTY_MANAGER), False, "S21 Art10"),
    SpecialChange("ordering_method", (SECTION_CHIEF, DEPUTY_MANAGER), False, "S21 Art11"),
    SpecialChange("long_term_phone", (ACCOUNT_MANAGER, SECTION_CHIEF), False, "S21 Art12"),
    SpecialChange("duplicate_phone", (SECTION_CHIEF, DEPUTY_MANAGER), True, "S21 Art12"),
    SpecialChange("grade", (SECTION_CHIEF, DEPUTY_MANAGER), True, "S21 Art14"),
    SpecialChange("urgent_route", (DEPUTY_SECTION_CHIEF, SECTION_CHIEF), False, "S21 Art13"),
)}


def check_sign_off(change: Mapping[str, Any], *, kind: str, role: str, signer: str, roles_held: Iterable[str]) -> None:
    """Whether ``signer`` may sign ``change`` as ``role``: a role the change needs and not yet signed,
    held by the signer, who is neither its applicant nor its other signer (separation of duties)."""
    spec = SPECIAL_CHANGES[kind]
    if role not in spec.signers:
        raise _error("TOBACCO_SIGN_OFF_ROLE_INVALID", f"a {kind} change is signed by {' and '.join(spec.signers)}",
                     f"{kind} 变更须由 {'、'.join(spec.signers)} 签批", "role")
    if role not in set(roles_held):
        raise _error("PERMISSION_DENIED", f"you do not hold the sign-off of {role} ({ROLE_PERMISSION[role]})",
                     f"您不具备 {role} 签批权限（{ROLE_PERMISSION[role]}）", "role")
    if signer == change["requested_by"]:
        raise _error("TOBACCO_APPLICANT_CANNOT_APPROVE", "the applicant of a change cannot approve it",
                     "变更申请人不得审批本人的申请", "role")
    if signer in (change.get("first_by"), change.get("second_by")):
        raise _error("TOBACCO_SIGNER_ALREADY_SIGNED", "the two sign-offs of a change come from two people",
                     "同一变更的两项签批须由两人分别作出", "role")
    if role in (change.get("first_role"), change.get("second_role")):
        raise _error("TOBACCO_ROLE_ALREADY_SIGNED", f"{role} has already signed this change", f"{role} 已签批该变更",
                     "role")


def fully_signed(change: Mapping[str, Any], kind: str) -> bool:
    signed = {change.get("first_role"), change.get("second_role")}
    return set(SPECIAL_CHANGES[kind].signers) <= signed


def check_executable(change: Mapping[str, Any], kind: str) -> None:
    """Executed only after both sign-offs (the analyst executes, Art9–Art13; the section chief a grade,
    Art14: the text names no further separation)."""
    if change["state"] != "approved" or not fully_signed(change, kind):
        raise _error("TOBACCO_CHANGE_NOT_APPROVED",
                     f"a {kind} change is executed only after both sign-offs ({' and '.join(SPECIAL_CHANGES[kind].signers)})",
                     f"{kind} 变更须经双方签批后方可执行", "id")


def ordering_locked(current: Mapping[str, Any], today: date) -> bool:
    """A mobile or 烟信通 customer keeps the method for its agreement period (Art11)."""
    until = current.get("ordering_agreement_until")
    return current.get("ordering_method") in ("mobile", "yixintong") and until is not None \
        and date.fromisoformat(str(until)) >= today


# --- temporary changes (Art8, Art9, Art11, Art12) ---------------------------------------------------

TEMPORARY_KINDS = {
    "ordering_method": ("system_failure", "device_failure"),
    "order_phone": ("phones_faulty",),
    "settlement_method": ("card_lost_reported", "password_locked", "no_deposit", "bank_failure"),
}


def revert_times(ordered_at: datetime, calendar: Any) -> tuple[datetime, datetime]:
    """(when the revert runs, when it is overdue): the opening of the first working day after the
    order's day, and the close of that day (one working day after the order, Art11, Art12)."""
    local = ordered_at.astimezone(calendar.zone).date()
    next_day = calendar.next_working_day(local)
    return (calendar.at_time_on_working_day(next_day, calendar.business_hours.opens), close_of(next_day, calendar))


# --- phone changes (Art12) --------------------------------------------------------------------------


def month_window_start(at: datetime) -> datetime:
    """Changes "within one month" of ``at``: from the same moment a calendar month earlier."""
    return add_months(at, -1)


def watched(changes_in_month: int, threshold: int) -> bool:
    return changes_in_month >= threshold


# --- visit-sale plans (Art13) ------------------------------------------------------------------------


def visit_plan_violations(entries: list[tuple[Any, date]], cycles: Mapping[Any, int]) -> list[tuple[int, str]]:
    """(entry index, rule) of each visit that breaks Art13, in plan order: ``consecutive`` when the
    customer's previous visit-sale was the day before (连访连销), ``cycle`` when it lies within the
    customer's order cycle (一个订货周期内不能访销两次)."""
    by_customer: dict[Any, list[tuple[date, int]]] = {}
    for index, (customer, day) in enumerate(entries):
        by_customer.setdefault(customer, []).append((day, index))
    found = []
    for customer, visits in by_customer.items():
        visits.sort()
        kept = visits[0][0]  # each visit is judged against the last one that stands
        for day, index in visits[1:]:
            gap = (day - kept).days
            if gap == 1:
                found.append((index, "consecutive"))
            elif gap < cycles.get(customer, 7):
                found.append((index, "cycle"))
            else:
                kept = day
    return sorted(found)


def visit_due(change: Mapping[str, Any], days: int) -> datetime | None:
    """When internal management next visits the customers of an executed duplicate-phone change (Art12:
    定期走访, every ``duplicate_phone_visit_days``)."""
    if change.get("kind") != "duplicate_phone" or change.get("executed_at") is None:
        return None
    return (change.get("visited_at") or change["executed_at"]) + timedelta(days=days)
