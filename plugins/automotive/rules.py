"""Automotive rules as data. Rule codes (A3, S17, T6, …) are those of requirements/seed-000.md §1."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.plugins import (
    ArchiveCheck,
    ArchiveDocument,
    ArchiveStandard,
    Parameter,
    ParameterKind,
    Permission,
    RetentionRule,
    SubmissionSchedule,
)

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
)


def _invoice_matches_pdi(archive: Mapping[str, Any], parameters: Mapping[str, Any]) -> str | None:
    """S3: the invoice and the PDI certificate are at most ``invoice_pdi_max_hours`` apart."""
    invoice, pdi = archive.get("invoice_at"), archive.get("pdi_certificate_at")
    if invoice is None or pdi is None:
        return "the invoice date or the PDI certificate date is missing"
    hours = abs((invoice - pdi).total_seconds()) / 3600
    limit = parameters["invoice_pdi_max_hours"]
    return None if hours <= limit else f"invoice and PDI certificate are {hours:.0f} hours apart (at most {limit})"


def _doc(code: str, en: str, zh: str, required: bool = True) -> ArchiveDocument:
    return ArchiveDocument(code=code, name_en=en, name_zh=zh, required=required)


_RETENTION = (
    RetentionRule("A6", 5, "last_service", "seal", "Kept 5 years after the last service here, then sealed",
                  "按末次维修期延长5年保管，期满封存", parameter="retention_years_after_last_service"),
    RetentionRule("A7", 5, "created", "seal", "Not serviced here for 3 years: kept 5 years from creation, then sealed",
                  "3年内无维修记录：自建档起保管5年，期满转入档案库封存", parameter="retention_years_from_creation"),
)

ARCHIVE_STANDARDS = (
    ArchiveStandard(
        id="sales_archive", name_en="Sales archive (one per vehicle)", name_zh="销售档案（一车一档）",
        documents=(
            _doc("delivery_form", "Customer vehicle-delivery form", "客户交车表"),
            _doc("invoice", "Purchase invoice", "购车发票"),
            _doc("pdi_certificate", "Copy of the stamped PDI certificate", "交车检查PDI盖章证明复印件"),
            _doc("owner_id", "Owner ID card or organisation-code certificate", "身份证/组织机构代码证"),
            _doc("conformity_certificate", "Copy of the certificate of conformity", "合格证复印件"),
            _doc("purchase_agreement", "Purchase agreement", "购车协议书"),
            _doc("pdi_maintenance_form", "PDI maintenance form (P- and 8- packets)", "PDI保养表"),
        ),
        checks=(
            ArchiveCheck("S1", "The 7 documents are present, in order", "7份资料齐全且顺序正确"),
            ArchiveCheck("S2", "The delivery form has no blanks ('无' or ✓ where not applicable)",
                         "客户交车表填写完整，不适用处填“无”或打✓"),
            ArchiveCheck("S3", "Invoice date and PDI certificate date at most 24 hours apart",
                         "发票日期与PDI盖章证明日期完全相符（最多相差24小时）", check=_invoice_matches_pdi),
            ArchiveCheck("S4", "Invoice buyer equals the name on the owner's certificate", "发票购车单位与证件名称一致"),
            ArchiveCheck("S8", "Purchase agreement complete, totals verified, sealed and signed",
                         "购车协议书填写完整、合计金额核对、盖章并由销售经理或总监签字"),
            ArchiveCheck("S9", "P- packet: 4 documents and 3 signatures", "P-单：4份资料及3个签字"),
            ArchiveCheck("S10", "8- packet: 4 documents and 5 signatures", "8-单：4份资料及5个签字"),
        ),
        submission=SubmissionSchedule(frequency="weekly", weekday=1),
        retention=_RETENTION,
    ),
    ArchiveStandard(
        id="service_archive", name_en="Service archive (one per service visit)", name_zh="服务档案（每次维修一档）",
        documents=(
            _doc("first_maintenance_voucher", "First-maintenance voucher", "首保凭证", required=False),
            _doc("work_order", "Work order", "任务委托书"),
            _doc("settlement", "Settlement statement", "结算单"),
            _doc("maintenance_form", "Maintenance form", "保养表"),
            _doc("reception_check", "Vehicle reception / hand-back check form", "接/交车检查表"),
            _doc("road_test", "Road-test record", "试车记录", required=False),
            _doc("rescue_form", "Roadside-rescue form", "救援单", required=False),
            _doc("free_inspection", "Free-inspection form", "免费检查表", required=False),
            _doc("warranty_certificate", "Warranty certificate", "保修证明", required=False),
            _doc("maintenance_certificate", "Copy of the maintenance certificate", "保养证明复印件", required=False),
        ),
        checks=(
            ArchiveCheck("V1", "Documents in order; first-maintenance and claim customers have both certificates",
                         "资料顺序正确；首保及索赔用户须有保修证明和保养证明复印件"),
            ArchiveCheck("V11", "Estimate and amount charged within the tolerance, or a recorded reason",
                         "预估价格与实收价格偏差不超过规定比例，特殊情况须注明原因"),
            ArchiveCheck("V14", "The settlement carries 2 customer signatures", "结算单有2处客户签字"),
            ArchiveCheck("V20", "Tread depth below the minimum comes with a tyre-change recommendation",
                         "胎纹深度低于下限时须建议更换"),
        ),
        submission=SubmissionSchedule(frequency="daily", at="10:00"),
        retention=_RETENTION,
    ),
)
