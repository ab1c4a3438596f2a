"""Pure grading rules, no I/O: a customer's proposed grade from its facts, the share of a scope's
population each grade holds against its cap, and which changes go upward."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.plugins.types import Grade, GradingScheme, ParameterValue, exact_decimal


@dataclass(frozen=True, slots=True)
class CapViolation:
    """``grade`` holds ``count`` of ``population`` customers (``percent``), more than ``cap_percent``;
    ``customers`` are those holding it. A soft cap warns; a hard cap refuses publication."""

    grade: str
    cap_percent: Decimal
    count: int
    population: int
    percent: Decimal
    soft: bool
    customers: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"grade": self.grade, "cap_percent": str(self.cap_percent), "count": self.count,
                "population": self.population, "percent": str(self.percent), "soft": self.soft,
                "customers": list(self.customers)}


def grade_of(scheme: GradingScheme, code: str) -> Grade | None:
    return next((g for g in scheme.grades if g.code == code), None)


def rank(scheme: GradingScheme, code: str | None) -> int | None:
    grade = grade_of(scheme, code) if code else None
    return grade.rank if grade else None


def is_upward(scheme: GradingScheme, before: str | None, after: str) -> bool:
    """A change to a better grade (a smaller rank); a first grade counts as upward unless it is the lowest."""
    after_rank = rank(scheme, after)
    before_rank = rank(scheme, before)
    if after_rank is None:
        return False
    if before_rank is None:
        return after_rank < max(g.rank for g in scheme.grades)
    return after_rank < before_rank


def at_or_below(scheme: GradingScheme, current: str | None, required: str) -> bool:
    """Whether ``current`` already satisfies a required change to ``required`` (no better than it)."""
    current_rank, required_rank = rank(scheme, current), rank(scheme, required)
    return current_rank is not None and required_rank is not None and current_rank >= required_rank


def weighted_score(scheme: GradingScheme, facts: Mapping[str, Any]) -> Decimal:
    """Σ weight × the fact's value over the scheme's criteria; a missing or non-numeric fact counts 0."""
    total = Decimal(0)
    for criterion in scheme.criteria:
        value = exact_decimal(facts.get(criterion.fact))
        weight = exact_decimal(criterion.weight) or Decimal(0)
        total += weight * (value or Decimal(0))
    return total


def propose(scheme: GradingScheme, facts: Mapping[str, Any], parameters: Mapping[str, ParameterValue]) -> str | None:
    """The grade a customer's facts earn: the scheme's own policy if it has one, else the best grade
    whose ``min_score`` the weighted score reaches; None when the scheme has neither."""
    if scheme.score is not None:
        code = scheme.score(facts, parameters)
        return code if grade_of(scheme, code) else None
    if not scheme.criteria:
        return None
    score = weighted_score(scheme, facts)
    for grade in sorted(scheme.grades, key=lambda g: g.rank):
        floor = exact_decimal(grade.min_score) if grade.min_score is not None else None
        if floor is None or score >= floor:
            return grade.code
    return None


def cap_of(grade: Grade, parameters: Mapping[str, ParameterValue]) -> Decimal | None:
    """The grade's cap: the tenant's value of its ``cap_parameter`` if set, else ``cap_percent``."""
    if grade.cap_parameter and grade.cap_parameter in parameters:
        return exact_decimal(parameters[grade.cap_parameter])
    return exact_decimal(grade.cap_percent) if grade.cap_percent is not None else None


def violations(scheme: GradingScheme, grades: Mapping[str, str], population: int,
               parameters: Mapping[str, ParameterValue]) -> list[CapViolation]:
    """Every capped grade whose share of ``population`` customers (``grades``: customer id -> grade,
    the scope's grades after the change) exceeds its cap. Exactly the cap is allowed (MD4 d)."""
    found = []
    for grade in scheme.grades:
        cap = cap_of(grade, parameters)
        if cap is None or population <= 0:
            continue
        holders = sorted(customer for customer, code in grades.items() if code == grade.code)
        percent = (Decimal(len(holders)) * 100 / Decimal(population)).quantize(Decimal("0.01"))
        if Decimal(len(holders)) * 100 > cap * population:
            found.append(CapViolation(grade.code, cap, len(holders), population, percent, grade.cap_soft,
                                      tuple(holders)))
    return found


def hard(found: list[CapViolation]) -> list[CapViolation]:
    return [v for v in found if not v.soft]
