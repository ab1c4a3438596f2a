"""Tobacco rules as data (requirements/seed-001.md S21 Art2–Art14; seed-000.md §4.3 TB4).

The retailer's master data are customer extension fields in the six information groups of Art2;
the ones that change only through an approved or temporary change (Art8–Art14) are *managed*:
customerUpdate refuses them, the vertical's own operations set them.
"""

from __future__ import annotations

from dataclasses import dataclass

import math
from collections.abc import Mapping
from typing import Any

from core.plugins import (
    CustomerField,
    FieldKind,
    Grade,
    GradingScheme,
    Parameter,
    ParameterKind,
    Permission,
    PrivacyClass,
    VisitPlan,
)

I, B, T, C = ParameterKind.INTEGER, ParameterKind.BOOLEAN, ParameterKind.TEXT, ParameterKind.CHOICE
_NP, _P, _S = PrivacyClass.NOT_PERSONAL, PrivacyClass.PERSONAL, PrivacyClass.SENSITIVE
_PHONE = r"1\d{10}|0\d{2,3}-?\d{7,8}"

MAINTAIN = "tobacco.customer.maintain"
SIGN_SECTION_CHIEF = "tobacco.sign.section_chief"
SIGN_DEPUTY_MANAGER = "tobacco.sign.deputy_manager"
SIGN_DEPUTY_SECTION_CHIEF = "tobacco.sign.deputy_section_chief"
SIGN_ACCOUNT_MANAGER = "tobacco.sign.account_manager"
GRADE_CHANGE = "tobacco.grade.change"
ROUTE = "tobacco.route.manage"
REQUEST = "tobacco.change.request"
QUOTA = "tobacco.quota.approve"
REPORT = "tobacco.report.read"
FILE = "tobacco.change.file"
DELIVERY = "tobacco.delivery.order"

PERMISSIONS = (
    Permission(MAINTAIN, "maintain retail customers' master data, execute approved changes, apply temporary "
                         "changes (statistical analyst)", "维护零售客户基础信息、执行已批准变更、办理临时变更（统计分析员）"),
    Permission(REQUEST, "apply for special changes on a customer's written application (account manager)",
               "凭客户书面申请提出特殊变更（客户经理）"),
    Permission(SIGN_SECTION_CHIEF, "sign special changes as the marketing-service section chief (Art9–Art14)",
               "以营销服务科科长身份签批特殊变更（第九至十四条）"),
    Permission(SIGN_DEPUTY_MANAGER, "sign special changes as the deputy manager (Art9–Art12, Art14)",
               "以副经理身份签批特殊变更（第九至十二、十四条）"),
    Permission(SIGN_DEPUTY_SECTION_CHIEF, "sign urgent route changes as the deputy section chief (Art13)",
               "以营销服务科副科长身份签批紧急线路调整（第十三条）"),
    Permission(SIGN_ACCOUNT_MANAGER, "sign long-term phone changes as the account manager (Art12)",
               "以客户经理身份签署长期订货电话变更（第十二条）"),
    Permission(QUOTA, "approve a new customer's scientific quota (section chief)", "审批新入网户科学定量（科长）"),
    Permission(GRADE_CHANGE, "change a retail customer's grade after review", "评审后变更零售客户等级"),
    Permission(ROUTE, "record route-optimisation meetings and change delivery and visit routes",
               "记录线路优化会议并调整送货及拜访线路"),
    Permission(DELIVERY, "change the delivery order within a route (delivery person)", "调整线路内送货顺序（送货员）"),
    Permission(FILE, "file executed changes and read the phone-change reports (internal-management section)",
               "备案已执行变更并查看电话变更报告（内管科）"),
    Permission(REPORT, "read the tobacco reports: onboarding, temporary changes, watch list, routes",
               "查看烟草报表：新入网户维护、临时变更、重点监控、线路"),
)

# --- the master data (Art2) -------------------------------------------------------------------------

ORDERING_METHODS = ("phone", "online", "mobile", "yixintong")  # 电话、网上（新商盟）、手机、烟信通
ELECTRONIC_SETTLEMENT = ("debit_card", "passbook", "credit_card")
SETTLEMENT_METHODS = ("cash", *ELECTRONIC_SETTLEMENT)
SETTLEMENT_BANKS = ("icbc", "abc", "postal", "other")  # 工行、农行、邮政
INFO_GROUPS = ("identification", "basic", "business", "operating", "compliance", "image")


@dataclass(frozen=True, slots=True)
class MasterField:
    field: CustomerField
    group: str  # one of INFO_GROUPS (Art2)


def _f(name: str, group: str, label_en: str, label_zh: str, *, kind: FieldKind = FieldKind.TEXT,
       privacy: PrivacyClass = _NP, managed: bool = False, **extra: object) -> MasterField:
    if kind is FieldKind.TEXT and "pattern" not in extra:
        extra.setdefault("max_length", 100)
    return MasterField(CustomerField(name, kind, privacy, label_en, label_zh, managed=managed, **extra), group)


MASTER_FIELDS = (
    _f("customer_code", "identification", "Customer code", "客户代码", max_length=32),
    _f("licence_number", "identification", "Tobacco licence number", "烟草专卖零售许可证号", max_length=32),
    _f("licence_date", "identification", "Licence date", "许可证日期", kind=FieldKind.DATE, managed=True),
    _f("licence_legal_person", "identification", "Legal person on the licence", "烟草证法人姓名", privacy=_P,
       max_length=50),
    _f("location", "basic", "Geographic location", "地理位置", max_length=200),
    _f("service_staff", "basic", "Service staff", "服务人员", max_length=50),
    _f("visit_batch", "business", "Visit-sale batch", "访销批次", max_length=20, managed=True),
    _f("delivery_route", "business", "Delivery route", "送货线路", max_length=40, managed=True),
    _f("delivery_sequence", "business", "Delivery sequence", "送货顺序", kind=FieldKind.INTEGER, managed=True),
    _f("visit_route", "business", "Account manager's visit route", "客户经理拜访线路", max_length=40, managed=True),
    _f("invoice_type", "business", "Invoice or receipt type", "票据类型", kind=FieldKind.CHOICE,
       choices=("invoice", "receipt")),
    _f("ordering_method", "business", "Ordering method", "订货方式", kind=FieldKind.CHOICE, choices=ORDERING_METHODS,
       managed=True),
    _f("ordering_agreement_until", "business", "End of the mobile or 烟信通 agreement period", "手机/烟信通协议期截止日",
       kind=FieldKind.DATE, managed=True),
    _f("settlement_method", "business", "Settlement method", "结算方式", kind=FieldKind.CHOICE,
       choices=SETTLEMENT_METHODS, managed=True),
    _f("settlement_bank", "business", "Settlement bank", "结算银行", kind=FieldKind.CHOICE, choices=SETTLEMENT_BANKS,
       managed=True),
    _f("card_number", "business", "Card or passbook number", "卡（折）号", privacy=_S, pattern=r"\d{12,24}",
       managed=True),
    _f("settlement_name", "business", "Settlement person's name", "结算人姓名", privacy=_P, max_length=50,
       managed=True),
    _f("order_weekday", "business", "Order day (1 = Monday)", "订货日（1 为周一）", kind=FieldKind.INTEGER),
    _f("order_cycle_days", "business", "Order cycle in days", "订货周期（天）", kind=FieldKind.INTEGER),
    _f("order_phone", "business", "Order phone", "订货电话", privacy=_P, pattern=_PHONE, managed=True),
    _f("backup_phone", "business", "Backup phone", "备用电话", privacy=_P, pattern=_PHONE),
    _f("market_type", "operating", "Market type", "市场类型", max_length=40),
    _f("business_format", "operating", "Business format", "经营业态", max_length=40),
    _f("quota", "operating", "Scientific quota (cartons per order)", "科学定量（条/次）", kind=FieldKind.INTEGER),
    _f("law_record", "compliance", "Law-compliance record", "守法信息", max_length=500),
    _f("district_type", "image", "Business-district type", "商圈类型", max_length=40),
    _f("display_form", "image", "Display form", "出样形式", max_length=40),
    _f("importance", "image", "Importance degree", "重视程度", kind=FieldKind.CHOICE, choices=("high", "medium", "low")),
    _f("cooperation", "image", "Cooperation with the account manager", "客户经理合作程度", kind=FieldKind.CHOICE,
       choices=("high", "medium", "low")),
)
CUSTOMER_FIELDS = tuple(m.field for m in MASTER_FIELDS)
FIELD_NAMES = tuple(f.name for f in CUSTOMER_FIELDS)
MANAGED = frozenset(f.name for f in CUSTOMER_FIELDS if f.managed)
PERSONAL_FIELDS = frozenset(f.name for f in CUSTOMER_FIELDS if f.privacy is not _NP)

# --- onboarding (Art7): each step's fields and its deadline -----------------------------------------


@dataclass(frozen=True, slots=True)
class OnboardingStep:
    key: str
    fields: tuple[str, ...]  # empty for deferred: every other visible field
    parameter: str | None  # the working-days parameter; None: fixed at working day 1
    rule: str


ONBOARDING_STEPS = (
    OnboardingStep("decide", ("ordering_method", "settlement_method"), None, "S21 Art7.2"),
    OnboardingStep("core", ("location", "visit_batch", "delivery_route", "delivery_sequence", "invoice_type",
                            "service_staff", "ordering_method", "settlement_method", "order_phone", "order_weekday"),
                   "onboarding_core_fields_working_days", "S21 Art7.3"),
    OnboardingStep("market", ("market_type", "business_format", "quota"), "onboarding_market_fields_working_days",
                   "S21 Art7.4"),
    OnboardingStep("display", ("district_type", "display_form"), "district_display_working_days", "S21 Art7.6"),
    OnboardingStep("deferred", (), "deferred_fields_working_days", "S21 Art7.5"),
    OnboardingStep("importance", ("importance", "cooperation"), "importance_working_days", "S21 Art7.7"),
)
QUOTA_STEP = "quota_approval"  # S21 Art7.9: due the day before the first order day
PASSWORD_STEP = "password_handover"  # S21 Art7.4: the 新商盟 password on the 2nd working day's morning
STEP_KEYS = (*(s.key for s in ONBOARDING_STEPS), QUOTA_STEP, PASSWORD_STEP)
# Fields of no onboarding step but the deferred one: set at registration or by a change.
NOT_DEFERRED = frozenset({"customer_code", "licence_number", "licence_date", "licence_legal_person",
                          "ordering_agreement_until", "settlement_bank", "card_number", "settlement_name"})


def _wd(key: str, default: int, en: str, zh: str, maximum: int = 30) -> Parameter:
    return Parameter(key, I, default, en, zh, minimum=1, maximum=maximum, unit="working days")


PARAMETERS = (
    Parameter("onboarding_day_one", C, "licence_day",
              "Working day 1 of onboarding: the licence day itself when it is a working day (licence_day), or "
              "the first working day after it (next_working_day) (S21 Art7.1; the text leaves it open)",
              "入网第1个工作日：许可证当日（如为工作日，licence_day）或其后第一个工作日（next_working_day）（第七条第1项）",
              choices=("licence_day", "next_working_day")),
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
    Parameter("hidden_fields", T, "",
              "Master-data fields this company does not use, comma-separated: hidden and never due (Art3)",
              "本单位不使用的基础信息字段（逗号分隔）：屏蔽且不计入维护期限（第三条）"),
    Parameter("duplicate_phone_visit_days", I, 90,
              "Days between internal-management visits to customers sharing a phone (Art12; the text gives none)",
              "内管人员走访重号客户的间隔天数（第十二条；原文未规定）", minimum=7, maximum=366, unit="days"),
)

# --- grades (Art14; tiers by system and manager score, competitors.md §2) -----------------------------

MAX_TIERS = 30
TIER_PARAMETERS = (
    Parameter("grade_tier_count", I, 30, "Number of grade tiers in use (T1 is the best)", "启用的客户档位数（T1 最高）",
              minimum=2, maximum=MAX_TIERS, unit="tiers"),
    Parameter("grade_system_weight_percent", I, 70, "Weight of the system score in a tier; the manager score has the rest",
              "档位计算中系统评分的权重（其余为客户经理评分）", minimum=0, maximum=100, unit="%"),
    Parameter("grade_evaluation_months", I, 6, "Months between grade evaluations (the cadence; Art14)",
              "等级评定周期（月，第十四条）", minimum=1, maximum=24, unit="months"),
)

PARAMETERS = (*PARAMETERS, *TIER_PARAMETERS)


def tier(facts: Mapping[str, Any], parameters: Mapping[str, Any]) -> str:
    """The tier of a weighted score: ``system_score`` and ``manager_score`` (0–100 each) weighted by the
    tenant; 100 is T1, and each 100/N points down is one tier lower, to T<N>."""
    weight = int(parameters.get("grade_system_weight_percent", 70)) / 100
    tiers = int(parameters.get("grade_tier_count", MAX_TIERS))
    system = min(max(float(facts.get("system_score") or 0), 0.0), 100.0)
    manager = min(max(float(facts.get("manager_score") or 0), 0.0), 100.0)
    score = weight * system + (1 - weight) * manager
    return f"T{min(tiers, max(1, math.ceil((100 - score) * tiers / 100) or 1))}"


GRADING = (
    GradingScheme("tier", "Retailer tier", "零售客户档位",
                  tuple(Grade(f"T{n}", f"Tier {n}", f"第{n}档", n) for n in range(1, MAX_TIERS + 1)),
                  score=tier, permission=GRADE_CHANGE),
)

# TB4: differentiated visits by tier, on site first and phone second (以上门拜访为主,电话拜访为辅); the
# regulation sets no frequencies, so these are defaults a tenant refines in the visit engine.
def _visit(n: int) -> VisitPlan:
    if n <= 10:
        return VisitPlan(f"tier_{n}_on_site_weekly", f"T{n}", 7, "on_site", f"Tier {n}: an on-site visit every week",
                         f"第{n}档：每周上门拜访一次", grading_scheme="tier")
    if n <= 20:
        return VisitPlan(f"tier_{n}_on_site_fortnightly", f"T{n}", 14, "on_site",
                         f"Tier {n}: an on-site visit every two weeks", f"第{n}档：每两周上门拜访一次", grading_scheme="tier")
    return VisitPlan(f"tier_{n}_phone_weekly", f"T{n}", 7, "phone", f"Tier {n}: a phone visit every week",
                     f"第{n}档：每周电话拜访一次", grading_scheme="tier")


VISITS = tuple(_visit(n) for n in range(1, MAX_TIERS + 1))
