"""The pure grading rules (core/grading/policy.py): proposals from facts, caps, upward changes."""

from decimal import Decimal

from core.grading import policy
from core.plugins.types import Grade, GradeCriterion, GradingScheme

WEIGHTED = GradingScheme(
    "weighted", "Weighted", "加权",
    grades=(Grade("a", "A", "A类", 1, cap_percent=10, min_score=80), Grade("b", "B", "B类", 2, min_score=50),
            Grade("c", "C", "C类", 3)),
    criteria=(GradeCriterion("payment", 0.6), GradeCriterion("volume", 0.4)))


def test_weighted_criteria_pick_the_best_grade_whose_floor_the_score_reaches():
    """Issue 20: criteria are weighted scores over recorded facts."""
    assert policy.weighted_score(WEIGHTED, {"payment": 100, "volume": 50}) == Decimal("80.0")
    assert policy.propose(WEIGHTED, {"payment": 100, "volume": 50}, {}) == "a"
    assert policy.propose(WEIGHTED, {"payment": 50, "volume": 50}, {}) == "b"
    assert policy.propose(WEIGHTED, {"payment": "n/a"}, {}) == "c"  # a non-numeric fact counts 0


def test_exactly_the_cap_is_allowed_one_more_violates_listing_the_holders():
    """MD4 d: at most 15% VIP — 15 of 100 is allowed, 16 of 100 is not."""
    grades = {f"c{n:03}": "a" for n in range(10)}
    assert policy.violations(WEIGHTED, grades, 100, {}) == []
    grades["c999"] = "a"
    [found] = policy.violations(WEIGHTED, grades, 100, {})
    assert (found.grade, found.count, found.population, found.percent, found.soft) == ("a", 11, 100, Decimal("11.00"), False)
    assert found.customers == tuple(sorted(grades))


def test_a_tenant_parameter_replaces_the_schemes_cap():
    """MD4 d: the cap is a tenant-tunable parameter."""
    scheme = GradingScheme("s", "S", "S", grades=(Grade("a", "A", "A", 1, cap_percent=10, cap_parameter="cap"),
                                                   Grade("b", "B", "B", 2)))
    assert policy.violations(scheme, {"x": "a", "y": "a"}, 10, {"cap": 20}) == []
    assert policy.violations(scheme, {"x": "a", "y": "a"}, 10, {})


def test_upward_and_at_or_below():
    """MD10 / MD12: a required downgrade is met by the required grade or a lower one; upward is a better rank."""
    assert policy.is_upward(WEIGHTED, "b", "a") and not policy.is_upward(WEIGHTED, "a", "b")
    assert policy.is_upward(WEIGHTED, None, "b") and not policy.is_upward(WEIGHTED, None, "c")
    assert policy.at_or_below(WEIGHTED, "c", "b") and policy.at_or_below(WEIGHTED, "b", "b")
    assert not policy.at_or_below(WEIGHTED, "a", "b") and not policy.at_or_below(WEIGHTED, None, "b")
