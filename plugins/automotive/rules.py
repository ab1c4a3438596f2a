"""Automotive rules as data. Rule codes (A3, S17, T6, …) are those of requirements/seed-000.md §1."""

from __future__ import annotations

from core.plugins import (
    ArchiveCheck,
    ArchiveStandard,
    CustomerField,
    FieldKind,
    Parameter,
    ParameterKind,
    Permission,
    PrivacyClass,
    RetentionRule,
    SubmissionSchedule,
)
from plugins.automotive import checks as c
from plugins.automotive.documents import SALES_DOCUMENTS, SERVICE_DOCUMENTS, document_fields  # noqa: F401 (re-exported)

I, D = ParameterKind.INTEGER, ParameterKind.DECIMAL

PERMISSIONS = (
    Permission("automotive.archive.submit", "submit sales and service archives", "提交销售、服务档案"),
    Permission("automotive.archive.check", "check, accept and reject archives (客服部 archive administrator)",
               "审核、接收、退回档案（客服部档案管理员）"),
    Permission("automotive.archive.seal", "seal archives whose retention has ended", "封存保管期满的档案"),
    Permission("automotive.exception.approve", "approve late submissions and countersign non-conforming records",
               "审批延迟上交并会签不合格档案记录"),
)

PARAMETERS = (
    Parameter("missing_archive_deadline_days", I, 2, "Days to hand in archives listed in a missing-archive report (A3)",
              "档案缺失报告中缺失档案的上交期限（A3）", minimum=1, maximum=30, unit="days"),
    Parameter("retention_years_after_last_service", I, 5, "Years an archive is kept after the vehicle's last service (A6)",
              "在修车辆档案自末次维修起保管年限（A6）", minimum=1, maximum=30, unit="years"),
    Parameter("retention_years_from_creation", I, 5,
              "Years an archive is kept from its creation when the vehicle is not serviced here (A7)",
              "未在本店维修车辆档案自建档起保管年限（A7）", minimum=1, maximum=30, unit="years"),
    Parameter("no_service_years", I, 3, "Years without service after which retention counts from creation (A7)",
              "多少年无维修记录即按建档时间计算保管期（A7）", minimum=1, maximum=10, unit="years"),
    Parameter("invoice_pdi_max_hours", I, 24, "Largest gap between invoice date and PDI certificate date (S3)",
              "发票日期与PDI盖章证明日期最大相差小时数（S3）", minimum=0, maximum=168, unit="hours"),
    Parameter("sales_submission_weekday", I, 1, "Weekday sales archives are handed to 客服部, 1 = Monday (S17)",
              "销售档案每周上交客服部的日子，1 为周一（S17）", minimum=1, maximum=7),
    Parameter("service_handover_hour", I, 10, "Hour by which service advisors hand over archives each day (T1)",
              "服务顾问每日移交档案的截止时刻（T1）", minimum=0, maximum=23, unit="h"),
    Parameter("service_collection_hour", I, 15, "Hour 客服部 collects the previous day's service archives (T2)",
              "客服部每日收取前一日服务档案的时刻（T2）", minimum=0, maximum=23, unit="h"),
    Parameter("estimate_tolerance_percent", D, 10.0, "Largest difference between estimate and amount charged (V11)",
              "预估价格与实收价格允许的最大偏差（V11）", minimum=0, maximum=100, unit="%"),
    Parameter("tread_depth_min_mm", D, 3.0, "Tread depth below which a tyre change must be recommended (V20)",
              "低于此胎纹深度须建议更换轮胎（V20）", minimum=1.0, maximum=7.0, unit="mm"),
    Parameter("rectification_hours", I, 24, "Hours to correct and return a rejected archive (T6)",
              "退回档案整改并交回的时限（T6）", minimum=1, maximum=240, unit="hours"),
    Parameter("kpi_points_late_rectification", I, 1, "KPI points deducted per late rectification (T6)",
              "每次逾期整改扣除的KPI分（T6）", minimum=0, maximum=100, unit="points"),
    Parameter("kpi_points_unchanged_resubmission", I, 1, "KPI points deducted per archive returned unchanged (T7)",
              "原封返回的档案每份扣除的KPI分（T7）", minimum=0, maximum=100, unit="points"),
    Parameter("kpi_points_missing_archive", I, 1,
              "KPI points deducted per missing archive; the regulation gives no amount (S19, T4)",
              "每份缺失档案扣除的KPI分，制度未规定分值（S19、T4）", minimum=0, maximum=100, unit="points"),
    Parameter("kpi_points_nonconforming_archive", I, 1,
              "KPI points deducted per non-conforming archive; the regulation gives no amount (S20, T5)",
              "每份不合格档案扣除的KPI分，制度未规定分值（S20、T5）", minimum=0, maximum=100, unit="points"),
    Parameter("fraud_fine_cny", I, 10, "Fine per archive for each of the administrator and advisor in a fraud (T8)",
              "徇私舞弊时档案管理员与服务顾问每份各罚款（T8）", minimum=0, maximum=10_000, unit="CNY"),
    Parameter("completeness_target_percent", D, 99.0, "Archive completeness target (Q1)", "档案完整性目标（Q1）",
              minimum=0, maximum=100, unit="%"),
    Parameter("authenticity_target_percent", D, 95.0, "Archive authenticity target (Q2)", "档案真实性目标（Q2）",
              minimum=0, maximum=100, unit="%"),
    Parameter("lead_first_follow_up_days", I, 3, "Days to the first follow-up of a new lead card (R6-2)",
              "新信息卡首次回访期限（R6-2）", minimum=1, maximum=30, unit="days"),
    Parameter("lead_follow_up_interval_days", I, 7, "Days each later follow-up keeps a lead card valid (R6-4)",
              "此后每次回访的有效期（R6-4）", minimum=1, maximum=90, unit="days"),
    Parameter("lead_sms_only_limit", I, 3, "Consecutive SMS-only follow-ups that void a lead card (R6-6)",
              "连续几次仅短信回访即视为无效、该卡作废（R6-6）", minimum=2, maximum=10),
)



# --- checks -------------------------------------------------------------------------------------

def _check(code: str, en: str, zh: str, policy=None) -> ArchiveCheck:
    return ArchiveCheck(code=code, description_en=en, description_zh=zh, check=policy)


_VEHICLE = _check("E1", "The vehicle: a VIN with a valid ISO 3779 check digit, a complete plate once registered",
                  "车辆：车架号校验位正确，上牌后车牌号码完整", c.vehicle_identity)

SALES_CHECKS = (
    _VEHICLE,
    _check("S1", "The 7 documents are present, in order", "7份资料齐全且顺序正确", c.s1_documents_in_order),
    _check("S2", "The delivery form has no blanks ('无' or ✓ where not applicable)", "客户交车表填写完整，不适用处填“无”或打✓",
           c.s2_delivery_form_complete),
    _check("S3", "Invoice date and PDI certificate date at most invoice_pdi_max_hours apart (dates only: 1 day)",
           "发票日期与PDI盖章证明日期完全相符（最多相差24小时；仅有日期时最多相差1天）", c.s3_invoice_matches_pdi),
    _check("S4", "Invoice buyer equals the name on the owner's certificate", "发票购车单位与证件名称一致",
           c.s4_invoice_buyer_is_owner),
    _check("S5", "PDI stamp date equals the date of the final delivery PDI maintenance form",
           "PDI盖章证明日期与最后交车PDI保养表日期相同", c.s5_stamp_is_final_pdi_form_date),
    _check("S6", "The certificate name matches the invoice name", "证件名称与购车发票名称相符", c.s6_owner_matches_invoice),
    _check("S7", "Manual: the copy of the certificate of conformity is legible (a person judges this)",
           "人工检查：合格证复印件清晰（须人工判断）"),
    _check("S8", "Purchase agreement complete, total = sum of lines, sales-contract and cross-page seals, signed by the "
           "sales manager or director", "购车协议书填写完整、合计金额核对、有销售合同章和骑缝章并由销售经理或总监签字",
           c.s8_purchase_agreement),
    _check("S9", "P- packet: 4 documents and 3 signatures (warehouse keeper, executor, final inspector)",
           "P-单：4份资料及库管员、执行人、终检3个签字", c.s9_pre_pdi_packet),
    _check("S10", "8- packet: 4 documents and 5 signatures (warehouse keeper, consultant, customer, executor, final "
           "inspector)", "8-单：4份资料及库管员、销售顾问、客户、执行人、终检5个签字", c.s10_outbound_pdi_packet),
    _check("S11", "PDI stamp date equals the outbound PDI date", "PDI盖章证明日期与出库PDI日期相同",
           c.s11_stamp_is_outbound_pdi_date),
    _check("S12", "Outbound PDI: executor and final inspector sign with dates, all signature dates the same",
           "出库PDI保养表执行人和终检人签字有日期，签字日期一致", c.s12_outbound_signature_dates),
    _check("S13", "Tyre pressure: pre-PDI the ELSA value, outbound the half-load label value, a manufacturer notice "
           "overrides both (reference values are facts of the vehicle)",
           "胎压：预PDI以ELSA设定值、出库以车型标签半载为准，厂家通知优先", c.s13_pdi_tyre_pressure),
    _check("S14", "Storage-period boxes ticked according to the days in stock", "库存期限按实际库存期限勾选",
           c.s14_storage_ticks),
    _check("S15", "Outbound PDI by the service supervisor when the on-duty advisor is absent",
           "当班服务顾问不在时出库PDI由服务主管负责", c.s15_outbound_pdi_by),
    _check("S16", "Key hand-over to the service front desk recorded at stock-in", "入库时库管员向服务前台交接钥匙并记录",
           c.s16_key_handover),
)

SERVICE_CHECKS = (
    _VEHICLE,
    _check("V1", "Documents in order; first-maintenance and claim customers have both certificates",
           "资料顺序正确；首保及索赔用户须有保修证明和保养证明复印件", c.v1_documents_in_order),
    _check("V2", "First-maintenance voucher complete and officially sealed", "首保凭证填写完整并加盖公章",
           c.v2_first_maintenance_voucher),
    _check("V3", "Work order complete, no omitted items (5- orders exempt)", "任务委托书填写齐全、不漏项（5-单子除外）",
           c.v3_work_order_complete),
    _check("V4", "Plate complete; the bare prefix (吉A) only with a recorded special circumstance",
           "车牌号码完整，无特殊情况不允许只写“吉A”", c.v4_plate_complete),
    _check("V5", "Production date equals the registration date; no 1900 dates", "生产日期按行车证登记日期填写，不得出现1900/00/00",
           c.v5_production_date),
    _check("V5b", "Manual: the production date is not handwritten or altered (a person judges this)",
           "人工检查：生产日期无手写涂改（须人工判断）"),
    _check("V6", "Contact number equals the number printed on the work order", "客户联系方式与委托书打印电话号码相符",
           c.v6_phone_matches_printed),
    _check("V6b", "Manual: the number is reachable, confirmed with the customer (a person calls)",
           "人工检查：电话可联络，必须和客户确认（须人工致电）"),
    _check("V7", "Main repairer signs after the repair; one signature over several items is marked",
           "主修人维修结束后签字，多项一次签名须明确标识", c.v7_main_repairer),
    _check("V7b", "Manual: signatures only in the designated boxes (a person looks)", "人工检查：不允许签在非指定位置"),
    _check("V8", "Team leader and QC inspector sign with times, in order (team leader, then QC)",
           "组长、质检员签字有时间且顺序正确", c.v8_qc_and_team_leader_times),
    _check("V9", "Times on the 24-hour clock, with the date when finished the next day", "时间按24小时制，第二天修完须填日期",
           c.v9_clock),
    _check("V10", "Changed items confirmed by the customer; add-ons with a signed quotation; customer signed",
           "维修项目更改有客户确认签字，增项有增项报价单，客户签名处有签字", c.v10_changes_confirmed),
    _check("V11", "Estimate and amount charged within estimate_tolerance_percent or a recorded reason; labour, parts, "
           "total present (5- orders exempt)", "预估与实收价格偏差不超过规定比例（特殊情况注明原因），有工时、备件费用及合计（5-单子除外）",
           c.v11_estimate_within_tolerance),
    _check("V12", "Settlement items and parts match the work order (5- orders exempt)", "结算单修理项目及备件与委托书相符（5-单子除外）",
           c.v12_settlement_matches_order),
    _check("V13", "Settlement has the finance seal unless nothing was charged", "结算单加盖财务章（无消费除外）",
           c.v13_finance_seal),
    _check("V14", "The settlement carries 2 customer signatures", "结算单有2处客户签字", c.v14_settlement_customer_signatures),
    _check("V15", "Suggested repair items present and identical to the check form's", "有建议修理项目且与交车检查表维修建议一致",
           c.v15_suggestions_match_check_form),
    _check("V16", "29,000–31,000 km: spark plugs and oil with four filters replaced or suggested",
           "29000–31000km未更换火花塞或机油四滤须在建议项目中体现", c.v16_30000_km_service),
    _check("V17", "59,000–61,000 km: manual items replaced or suggested (gearbox oil: manual gearboxes exempt)",
           "59000–61000km未按保养手册更换的项目须在建议项目中体现（手动变速箱除外变速箱油）", c.v17_60000_km_service),
    _check("V18", "Every maintenance-form value has its unit (2.5Bar, 6.5MM)", "保养表所有数值填写单位", c.v18_units),
    _check("V19", "Tyre pressure: road wheels the half-load label value, emergency spare the sidewall maximum, normal "
           "spare the rear full-load value", "正确胎压：四轮按半载、应急备胎按胎壁最高压力、普通胎按后轮满载", c.v19_tyre_pressure),
    _check("V20", "Tread depth below tread_depth_min_mm comes with a tyre-change recommendation", "胎纹深度低于下限须报建议更换",
           c.v20_tread_depth),
    _check("V21", "Maintenance form: every item ticked or struck out, dated executor and inspector signatures, customer "
           "signature, spare pressure stated", "保养表无空白项，执行人和终检人签字有日期，有用户签字，标明备胎胎压",
           c.v21_maintenance_form_complete),
    _check("V22", "Check form: 2 customer signatures, repair and usage suggestions, no partial fields",
           "接/交车检查表有2次用户签字、维修建议及使用建议，无漏填", c.v22_check_form),
    _check("V23", "Check-form mileage in 10,000 km with a decimal point", "行驶里程以万公里为单位并使用小数点",
           c.v23_mileage_in_wan_km),
    _check("V24", "Road-test record for every order except 2- orders, consistent, signed by approver, driver, customer",
           "除2-保养工单外须有试车记录，与车辆相符，有试车批准人、试车人和用户签字", c.v24_road_test),
    _check("V25", "Rescue form without blanks; leaders sign during working hours only", "救援单无空白项，上班期间须有领导签字",
           c.v25_rescue_form),
)

_RETENTION = (
    RetentionRule("A6", 5, "last_service", "seal", "Kept 5 years after the last service here, then sealed",
                  "按末次维修期延长5年保管，期满封存", parameter="retention_years_after_last_service"),
    RetentionRule("A7", 5, "created", "seal", "Kept 5 years from the archive's creation, then sealed (3 years without "
                  "service here: this period alone applies)", "自建档起保管5年，期满转入档案库封存（3年内无维修记录时仅按此计算）",
                  parameter="retention_years_from_creation",
                  idle_event="last_service", idle_years=3, idle_years_parameter="no_service_years"),
)

ARCHIVE_STANDARDS = (
    ArchiveStandard(
        id="sales_archive", name_en="Sales archive (one per vehicle)", name_zh="销售档案（一车一档）",
        documents=SALES_DOCUMENTS, checks=SALES_CHECKS,
        # S17: every Monday (the tenant's weekday), the vehicles delivered the week before
        submission=SubmissionSchedule(frequency="weekly", weekday=1, weekday_parameter="sales_submission_weekday",
                                      event_fact="delivered_at"),
        retention=_RETENTION, rectification_hours_parameter="rectification_hours", subject="vehicle",
    ),
    ArchiveStandard(
        id="service_archive", name_en="Service archive (one per service visit)", name_zh="服务档案（每次维修一档）",
        documents=SERVICE_DOCUMENTS, checks=SERVICE_CHECKS,
        # T1: before 10:00 the day after the visit is settled; T2: 客服部 collects them at 15:00
        submission=SubmissionSchedule(frequency="daily", at="10:00", hour_parameter="service_handover_hour",
                                      collection_hour_parameter="service_collection_hour", event_fact="settled_at"),
        retention=_RETENTION, rectification_hours_parameter="rectification_hours", subject="vehicle",
    ),
)


# --- customer master (dserp, D1) ------------------------------------------------------------------
# Core keeps names, phones, address (province, city, county, …) and contacts; these are the E12
# fields it lacks. D1 makes all of them mandatory; core applies `required` to every customer of a
# tenant with the vertical enabled (it has no per-customer-type rule).

_VIN_PATTERN = r"[0-9A-HJ-NPR-Z]{17}"
_PROVINCE = "[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z]"
_PLATE_PATTERN = (rf"{_PROVINCE}[A-HJ-NP-Z0-9]{{4}}[A-HJ-NP-Z0-9挂学警港澳]"  # regular
                  rf"|{_PROVINCE}(?:[DF][A-HJ-NP-Z0-9]\d{{4}}|\d{{5}}[DF])")  # new energy (vehicles.py)

_NP, _P = PrivacyClass.NOT_PERSONAL, PrivacyClass.PERSONAL
# D1: the dserp master of a vehicle owner needs all of these; a prospect (potential) or a
# lapsed customer need not have them yet.
_OWNER = {"required": True, "required_statuses": ("active",)}
CUSTOMER_FIELDS = (
    CustomerField("customer_category", FieldKind.TEXT, _NP, "Customer category", "客户类别", **_OWNER, max_length=40),
    CustomerField("evaluation_category", FieldKind.TEXT, _NP, "Customer evaluation category", "客户评价类别",
                  **_OWNER, max_length=40),
    CustomerField("postcode", FieldKind.TEXT, _NP, "Postcode", "邮编", **_OWNER, pattern=r"\d{6}"),
    CustomerField("vin", FieldKind.TEXT, _P, "VIN (chassis number)", "底盘号", **_OWNER, pattern=_VIN_PATTERN),
    CustomerField("plate", FieldKind.TEXT, _P, "Plate number", "车牌号码", **_OWNER, pattern=_PLATE_PATTERN),
    CustomerField("product_code", FieldKind.TEXT, _NP, "Product code / model", "产品代码车型", **_OWNER, max_length=60),
    CustomerField("series", FieldKind.TEXT, _NP, "Series", "车系", **_OWNER, max_length=60),
    CustomerField("colour", FieldKind.TEXT, _NP, "Colour", "颜色", **_OWNER, max_length=30),
)
