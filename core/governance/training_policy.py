"""Pure rules of training assessments (seed-004 §5.3, CSM-30): the pass mark ("及以上": a score
equal to the pass mark passes), the retake after a failure, eligibility for a penalty after a
second failure of the same course (never applied automatically), and the probation clock in
calendar months from the hire day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta

DEFAULT_PASS_SCORE = 60
DEFAULT_PROBATION_MONTHS = 3
PASSED, FAILED = "PASSED", "FAILED"
IN_GOOD_STANDING, RETAKE_OR_RETRAIN, PENALTY_ELIGIBLE = "IN_GOOD_STANDING", "RETAKE_OR_RETRAIN", "PENALTY_ELIGIBLE"


def decimal_score(value: object) -> Decimal | None:
    """A score as a Decimal (None if it is not a finite number)."""
    try:
        score = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return score if score.is_finite() else None


def outcome(score: Decimal, pass_score: Decimal) -> str:
    return PASSED if score >= pass_score else FAILED


def course_status(outcome_: str, failures: int) -> str:
    """The employee's standing in a course after a result: failing once means retake or retrain;
    failing the same course a second time (or more) makes a penalty possible (a person decides)."""
    if outcome_ == PASSED:
        return IN_GOOD_STANDING
    return PENALTY_ELIGIBLE if failures >= 2 else RETAKE_OR_RETRAIN


def standing(latest_per_course: Iterable[str]) -> str:
    """The employee's standing over the latest status of each course: the worst one."""
    order = (IN_GOOD_STANDING, RETAKE_OR_RETRAIN, PENALTY_ELIGIBLE)
    return max(latest_per_course, key=order.index, default=IN_GOOD_STANDING)


def probation_due(hire_day: date, months: int) -> date:
    """The last day the probation assessment may be passed: the hire day plus calendar months."""
    return hire_day + relativedelta(months=months)


def probation_overdue(hire_day: date | None, months: int, passed_probation: bool, today: date) -> bool:
    """Hired more than ``months`` calendar months ago with no probation assessment passed."""
    return hire_day is not None and not passed_probation and today > probation_due(hire_day, months)
