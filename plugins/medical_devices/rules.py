"""Medical-device rules as data. Rule codes (MD4, MD15, …) are those of requirements/seed-000.md §3."""

from __future__ import annotations

from core.plugins import Grade, GradeScope, GradingScheme, Parameter, ParameterKind, Permission, VisitPlan

I, D = ParameterKind.INTEGER, ParameterKind.DECIMAL

PERMISSIONS = (
    Permission("medical_devices.grade.assign", "grade customers within the department", "在本部门内评定客户等级"),
    Permission("medical_devices.blacklist.department", "manage the department blacklist", "管理部门黑名单"),
    Permission("medical_devices.blacklist.company", "manage the company blacklist (marketing division)",
               "管理公司黑名单（营销部）"),
    Permission("medical_devices.blacklist.readmit", "approve a blacklisted customer's return", "审批黑名单客户重新准入"),
)

PARAMETERS = (
    Parameter("vip_cap_percent", D, 15.0, "Largest share of a department's customers graded VIP (MD4 d)",
              "VIP类客户占部门客户的最高比例（MD4 d）", minimum=0, maximum=100, unit="%"),
    Parameter("preferred_cap_percent", D, 30.0, "Largest share of a department's customers graded preferred (MD5 e)",
              "优选类客户占部门客户的最高比例（MD5 e）", minimum=0, maximum=100, unit="%"),
    Parameter("review_cycle_months", I, 6, "Months between periodic grade reviews (MD8, MD9)",
              "客户等级定期评审间隔月数（MD8、MD9）", minimum=1, maximum=24, unit="months"),
    Parameter("downgrade_deadline_days", I, 5, "Days to downgrade a VIP customer after a problem is found (MD10)",
              "VIP客户出现问题后降级的期限（MD10）", minimum=1, maximum=60, unit="days"),
    Parameter("department_blacklist_months", I, 6, "Months a department blacklist entry lasts (MD15)",
              "部门黑名单有效月数（MD15）", minimum=1, maximum=60, unit="months"),
    Parameter("key_customer_visit_days", I, 30, "Days between on-site visits of VIP and preferred customers (MD25)",
              "VIP及优选类重点客户上门走访间隔天数（MD25）", minimum=1, maximum=365, unit="days"),
    Parameter("vip_min_beds", I, 0, "Beds an orthopaedic or trauma institution needs to be VIP; blank in the "
              "regulation, 0 leaves the criterion out (MD4 a)", "骨科/创伤专科医院评为VIP所需床位数，制度留空，0 表示不使用（MD4 a）",
              minimum=0, maximum=10_000, unit="beds"),
    Parameter("vip_min_annual_business_wan", I, 0, "Annual business needed to be VIP; blank in the regulation, "
              "0 leaves the criterion out (MD4 a)", "评为VIP所需年业务额，制度留空，0 表示不使用（MD4 a）",
              minimum=0, maximum=1_000_000, unit="万元"),
    Parameter("preferred_min_beds", I, 0, "Beds needed to be preferred; blank in the regulation, 0 leaves it out (MD5 a)",
              "评为优选类所需床位数，制度留空，0 表示不使用（MD5 a）", minimum=0, maximum=10_000, unit="beds"),
    Parameter("preferred_min_annual_business_wan", I, 0,
              "Annual business needed to be preferred; blank in the regulation, 0 leaves it out (MD5 a)",
              "评为优选类所需年业务额，制度留空，0 表示不使用（MD5 a）", minimum=0, maximum=1_000_000, unit="万元"),
)

GRADING = (
    GradingScheme(
        id="customer_grade", name_en="Customer grade (VIP / preferred / qualified)", name_zh="客户分级（VIP类/优选类/合格类）",
        grades=(Grade("vip", "VIP", "VIP类", 1, cap_percent=15, cap_parameter="vip_cap_percent"),
                Grade("preferred", "Preferred", "优选类", 2, cap_percent=30, cap_parameter="preferred_cap_percent"),
                Grade("qualified", "Qualified", "合格类", 3)),
        review_cycle_days=182, blacklist_scopes=("department", "tenant"), blacklist_days=182,
        scope=GradeScope.DEPARTMENT,  # MD19: a grade holds only within its department
        change_deadline_days=5,  # MD10; the tenant parameter downgrade_deadline_days overrides it
    ),
)

VISITS = (
    VisitPlan("vip_monthly", "vip", 30, "on_site", "VIP customers visited on site once a month (MD25)",
              "VIP类客户每月上门走访一次（MD25）", grading_scheme="customer_grade", monthly=True),
    VisitPlan("preferred_monthly", "preferred", 30, "on_site", "Preferred customers visited on site once a month (MD25)",
              "优选类客户每月上门走访一次（MD25）", grading_scheme="customer_grade", monthly=True),
)
