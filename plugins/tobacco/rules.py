"""Tobacco rules as data (requirements/seed-001.md S21, Art7-Art14; seed-000.md §4.3 TB4)."""

from __future__ import annotations

from core.plugins import Parameter, ParameterKind, Permission, VisitPlan

I = ParameterKind.INTEGER

PERMISSIONS = (
    Permission("tobacco.customer.maintain", "maintain retail customers' master data (analyst)",
               "维护零售客户基础信息（信息员）"),
    Permission("tobacco.change.approve", "approve special changes: settlement, ordering method, phone, route, grade",
               "审批结算方式、订货方式、电话、线路、等级等特殊变更"),
    Permission("tobacco.grade.change", "change a retail customer's grade after review", "评审后变更零售客户等级"),
    Permission("tobacco.route.manage", "change delivery and visit routes", "调整送货及拜访线路"),
)


def _wd(key: str, default: int, en: str, zh: str, maximum: int = 30) -> Parameter:
    return Parameter(key, I, default, en, zh, minimum=1, maximum=maximum, unit="working days")


PARAMETERS = (
    _wd("onboarding_core_fields_working_days", 2,
        "Working days to maintain a new customer's location, batch, route, invoice, settlement and ordering (Art7.3)",
        "新入网户地址、批次、线路、发票、结算、订货方式等的维护期限（第七条第3项）"),
    _wd("onboarding_market_fields_working_days", 3,
        "Working days to maintain market type, business format and quota (Art7.4)", "市场类型、业态、科学配额的维护期限（第七条第4项）"),
    _wd("district_display_working_days", 10,
        "Working days to maintain business-district type and display form (Art7.6)", "商圈类型、陈列形式的维护期限（第七条第6项）"),
    _wd("deferred_fields_working_days", 15, "Working days to maintain information not needed at once (Art7.5)",
        "非即时所需信息的维护期限（第七条第5项）"),
    _wd("importance_working_days", 20, "Working days to maintain importance and cooperation degree (Art7.7)",
        "重要程度、配合程度的维护期限（第七条第7项）", maximum=60),
    _wd("change_execution_working_days", 1,
        "Working days for the analyst to carry out an approved change or revert a temporary one (Art8-Art13)",
        "信息员执行已批准变更或恢复临时变更的期限（第八至十三条）"),
    _wd("grade_review_working_days", 3, "Working days to review grade results after an evaluation (Art14)",
        "等级评定结束后复核结果的期限（第十四条）"),
    Parameter("phone_change_watch_count", I, 2,
              "Order-phone changes within a month that put a customer on the watch list (Art12)",
              "一个月内修改订货电话达此次数即列入重点监控（第十二条）", minimum=1, maximum=10, unit="changes"),
    Parameter("quota_approval_days_before_order", I, 1,
              "Days before the order day by which the section chief approves the quota (Art7.9)",
              "科长最迟于订货日前几天审批科学配额（第七条第9项）", minimum=1, maximum=7, unit="days"),
)

# TB4: differentiated visits, on site first and phone second; the regulation sets no frequencies,
# so these are defaults a tenant refines.
VISITS = (
    VisitPlan("key_customers_on_site", "key", 7, "on_site", "Key customers: an on-site visit every week",
              "重点客户：每周上门拜访一次"),
    VisitPlan("retail_customers_phone", "retail", 7, "phone", "Other retail customers: a phone visit every week",
              "其他零售客户：每周电话拜访一次"),
)
