"""Real-estate rules as data. Rule codes (RE9, RE20, …) are those of requirements/seed-000.md §2."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from core.plugins import AttributionDecision, AttributionPolicy, Grade, GradingScheme, Parameter, ParameterKind, Permission

PERMISSIONS = (
    Permission("real_estate.reception.register", "register visits in the visit register", "登记客户来访"),
    Permission("real_estate.register.confirm", "review and confirm the daily visit register (sales clerk)",
               "审核确认每日来访登记（销售内勤）"),
    Permission("real_estate.attribution.decide", "decide disputed attributions (project manager)",
               "裁定有争议的客户归属（项目经理）"),
    Permission("real_estate.attribution.approve", "approve attribution decisions and commission splits (sales director)",
               "审批客户归属及佣金分配（销售总监）"),
)

PARAMETERS = (
    Parameter("registration_validity_months", ParameterKind.INTEGER, 1,
              "Months a registration stays valid after the consultant's last follow-up (RE20)",
              "客户登记自最后一次回访起的有效月数（RE20）", minimum=1, maximum=12, unit="months"),
    Parameter("recognition_window_months", ParameterKind.INTEGER, 1,
              "Months in which an unrecognised returning customer may still be matched to the original consultant (RE9)",
              "未认出原置业顾问的老客户可追认的月数（RE9）", minimum=1, maximum=12, unit="months"),
    Parameter("unrecognised_commission_policy", ParameterKind.CHOICE, "split",
              "RE9 C/D conflict: split the commission between original and new consultant, or all to the new one",
              "RE9 C/D 条款冲突：原、新置业顾问平分佣金，或全部归新置业顾问",
              choices=("split", "all_to_new")),
    Parameter("unrecognised_original_share_percent", ParameterKind.INTEGER, 50,
              "The original consultant's share when the commission is split (RE9 C)",
              "平分佣金时原置业顾问所得比例（RE9 C）", minimum=0, maximum=100, unit="%"),
    Parameter("designation_first_share_percent", ParameterKind.INTEGER, 55,
              "The first consultant's share when a same-day customer switches to a named consultant (RE16)",
              "当日客户中途指定他人接待成交时首位置业顾问所得比例（RE16）", minimum=0, maximum=100, unit="%"),
)


def _months_between(earlier: date, later: date) -> float:
    return (later.year - earlier.year) * 12 + (later.month - earlier.month) + (later.day - earlier.day) / 31


def decide_owner(event: Mapping[str, Any], registrations: Sequence[Mapping[str, Any]],
                 parameters: Mapping[str, Any]) -> AttributionDecision:
    """RE20/RE24: the earliest registration still valid (within ``registration_validity_months`` of
    its consultant's last follow-up) owns the customer; with none, the receiving consultant does.

    ``event``: ``{"on": date, "consultant": id}``; each registration: ``{"consultant": id,
    "registered_on": date, "last_follow_up": date}``."""
    validity = parameters["registration_validity_months"]
    valid = [r for r in registrations if _months_between(r["last_follow_up"], event["on"]) <= validity]
    if valid:
        owner = min(valid, key=lambda r: r["registered_on"])["consultant"]
        return AttributionDecision(
            owner=owner, shares={owner: 100}, rule="RE20",
            explanation_en=f"registered first by {owner} and followed up within {validity} month(s)",
            explanation_zh=f"由 {owner} 最先登记且在 {validity} 个月内有回访")
    consultant = event["consultant"]
    return AttributionDecision(
        owner=consultant, shares={consultant: 100}, rule="RE20",
        explanation_en=f"no registration followed up within {validity} month(s): a new customer of {consultant}",
        explanation_zh=f"{validity} 个月内无有效登记：视为 {consultant} 的新客户")


ATTRIBUTION = (
    AttributionPolicy(id="visit_registration", name_en="Attribution by valid visit registration",
                      name_zh="按有效来访登记确定客户归属", decide=decide_owner),
)

GRADING = (
    GradingScheme(id="follow_up", name_en="Follow-up grade (criteria set by the tenant)",
                  name_zh="客户跟进等级（标准由企业自定）",
                  grades=(Grade("A", "A", "A类", 1), Grade("B", "B", "B类", 2), Grade("C", "C", "C类", 3))),
)
