"""Real-estate rules as data. Rule codes (RE9, RE20, …) are those of requirements/seed-000.md §2."""

from __future__ import annotations

from core.plugins import AttributionPolicy, Grade, GradingScheme, Parameter, ParameterKind, Permission
from plugins.real_estate import attribution

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
              "RE9 C/D conflict: split (the catalog's reading: recognised within the window splits the commission "
              "between original and new consultant, not recognised gives all to the new one) or all_to_new (always "
              "all to the new one)",
              "RE9 C/D 条款冲突：split（目录的解读：追认期内认出则原、新置业顾问分佣，未认出则全部归新置业顾问）"
              "或 all_to_new（一律全部归新置业顾问）",
              choices=("split", "all_to_new")),
    Parameter("unrecognised_original_share_percent", ParameterKind.INTEGER, 50,
              "The original consultant's share when the commission is split (RE9 C)",
              "平分佣金时原置业顾问所得比例（RE9 C）", minimum=0, maximum=100, unit="%"),
    Parameter("designation_first_share_percent", ParameterKind.INTEGER, 55,
              "The first consultant's share when a same-day customer switches to a named consultant (RE16)",
              "当日客户中途指定他人接待成交时首位置业顾问所得比例（RE16）", minimum=0, maximum=100, unit="%"),
    Parameter("require_confirmation", ParameterKind.BOOLEAN, True,
              "Only visits and registrations the sales clerk confirmed count for attribution (RE19, RE21); "
              "off for an office without a clerk",
              "仅销售文员审核确认的来访登记作为归属依据（RE19、RE21）；无销售文员的案场可关闭"),
    Parameter("relative_validity_from", ParameterKind.CHOICE, "earliest_visit",
              "A direct relative's registration (RE24, RE25): valid from the earliest visit (RE25) or, like the "
              "customer's own, from the last follow-up (RE20)",
              "直系亲属的登记（RE24、RE25）：有效期自最早来访起算（RE25），或与本人登记相同自最后一次回访起算（RE20）",
              choices=("earliest_visit", "last_follow_up")),
)


ATTRIBUTION = (
    AttributionPolicy(id="visit_registration", name_en="Attribution by valid visit registration",
                      name_zh="按有效来访登记确定客户归属", decide=attribution.decide),
)

GRADING = (
    GradingScheme(id="follow_up", name_en="Follow-up grade (criteria set by the tenant)",
                  name_zh="客户跟进等级（标准由企业自定）",
                  grades=(Grade("A", "A", "A类", 1), Grade("B", "B", "B类", 2), Grade("C", "C", "C类", 3))),
)
