"""Pure visit policy (no I/O): which plans a customer's grade puts it on (MD25 and the vertical's
``VisitPlan`` declarations), when a visit falls due (stored once, never recomputed from the wall
clock), which visits meet a plan, and the service-priority order (MD17 四优先: VIP first, then
优选, then the rest) applied to plans and queues."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from core.plugins.types import GradingScheme, VisitChannel, VisitPlan

#: The rank of a customer without a grade, or with a grade the scheme does not list: served last.
UNGRADED_RANK = 1_000
REPORT_FIELDS = ("needs", "opinions", "suggestions")  # the 附件5 summary report (MD28)
MAX_REPORT_TEXT = 4000


@dataclass(frozen=True, slots=True)
class PlanRule:
    """A plan a customer is on: the vertical's declaration resolved for one grade."""

    plan_id: str
    grade: str | None
    channel: str
    every_days: int
    monthly: bool
    priority: int


def grade_rank(scheme: GradingScheme | None, grade: str | None) -> int:
    """The service-priority rank of ``grade`` (MD17): the scheme's rank (1 is best), else last."""
    if scheme is None or grade is None:
        return UNGRADED_RANK
    for g in scheme.grades:
        if g.code == grade:
            return g.rank
    return UNGRADED_RANK


def plans_for(plans: Sequence[VisitPlan], grade: str | None, scheme: GradingScheme | None = None) -> list[PlanRule]:
    """The plans a customer with ``grade`` is on, in priority order. A plan names a segment; when
    it names a grading scheme, the segment is a grade code of that scheme and applies only when
    the customer's grade comes from it (``scheme`` given with that id, or no scheme known)."""
    rank = grade_rank(scheme, grade)
    chosen = []
    for plan in plans:
        if grade is None or plan.segment != grade:
            continue
        if plan.grading_scheme is not None and scheme is not None and plan.grading_scheme != scheme.id:
            continue
        chosen.append(PlanRule(plan.id, grade, str(VisitChannel(plan.channel)), int(plan.every_days),
                               bool(plan.monthly), rank))
    return sorted(chosen, key=lambda r: (r.priority, r.every_days, r.plan_id))


def _end_of_month(day: date, zone: ZoneInfo) -> datetime:
    first_next = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return datetime.combine(first_next, time(0), tzinfo=zone).astimezone(UTC)


def first_due(rule: PlanRule, start: datetime, zone: ZoneInfo) -> datetime:
    """When a customer who just joined the plan at ``start`` must have been visited: a monthly
    plan by the end of the current calendar month (local time); else ``every_days`` later."""
    if rule.monthly:
        return _end_of_month(start.astimezone(zone).date(), zone)
    return (start + timedelta(days=rule.every_days)).astimezone(UTC)


def next_due(rule: PlanRule, visited_at: datetime, current_due: datetime, zone: ZoneInfo) -> datetime:
    """The due date after a visit at ``visited_at`` met the plan: a monthly plan is due by the end
    of the month after the visited month (never earlier than the current due date); else
    ``every_days`` after the visit."""
    if rule.monthly:
        following = _end_of_month(visited_at.astimezone(zone).date(), zone)
        following = _end_of_month(following.astimezone(zone).date(), zone)
        return max(following, current_due.astimezone(UTC))
    return (visited_at + timedelta(days=rule.every_days)).astimezone(UTC)


def meets(plan_channel: str, visit_channel: str) -> bool:
    """An on-site plan is met only by an on-site visit (MD25), a phone plan by a phone or on-site
    visit, ``any`` by every visit."""
    if plan_channel == VisitChannel.ANY:
        return True
    if plan_channel == VisitChannel.PHONE:
        return visit_channel in (VisitChannel.PHONE, VisitChannel.ON_SITE)
    return visit_channel == plan_channel


def report_problem(report: Mapping[str, Any] | None) -> tuple[str, str, str] | None:
    """What is wrong with a summary report (field, en, zh), or None: the three parts of MD28 are
    text, at least one filled in, each at most ``MAX_REPORT_TEXT`` characters; no other keys."""
    if not isinstance(report, Mapping):
        return ("report", "the visit report needs needs, opinions or suggestions",
                "拜访总结须填写需求、意见或建议")
    for key, value in report.items():
        if key not in REPORT_FIELDS:
            return (f"report.{key}", f"{key!r} is not part of the visit report (needs, opinions, suggestions)",
                    f"拜访总结没有 {key!r} 一项（需求、意见、建议）")
        if value is not None and (not isinstance(value, str) or len(value) > MAX_REPORT_TEXT):
            return (f"report.{key}", f"{key} must be text of at most {MAX_REPORT_TEXT} characters",
                    f"{key} 须为不超过 {MAX_REPORT_TEXT} 字的文本")
    if not any(isinstance(report.get(k), str) and report[k].strip() for k in REPORT_FIELDS):
        return ("report", "the visit report needs needs, opinions or suggestions",
                "拜访总结须填写需求、意见或建议")
    return None


T = TypeVar("T")


def queue_order(items: Iterable[T], *, priority: Any, due_at: Any, key: Any = None) -> list[T]:
    """Order a plan or queue by service priority (MD17): the better rank first (VIP before 优选
    before the rest), then the earlier due date, then ``key`` for a stable order. ``priority`` and
    ``due_at`` (and ``key``) are functions of an item."""
    return sorted(items, key=lambda i: (priority(i), due_at(i), key(i) if key else 0))


def is_due(due_at: datetime, at: datetime) -> bool:
    return due_at.astimezone(UTC) <= at.astimezone(UTC)
