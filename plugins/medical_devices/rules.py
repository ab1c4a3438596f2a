"""Medical-device rules as data. Rule codes (MD4, MD15, …) are those of requirements/seed-000.md §3."""

from __future__ import annotations

from core.plugins import (
    ArchiveCheck,
    ArchiveDocument,
    ArchiveStandard,
    DocumentField,
    EventType,
    Grade,
    GradeScope,
    GradingScheme,
    Parameter,
    ParameterKind,
    Permission,
    VisitPlan,
)
from plugins.medical_devices import policy

I, D, B = ParameterKind.INTEGER, ParameterKind.DECIMAL, ParameterKind.BOOLEAN

PERMISSIONS = (
    Permission("medical_devices.grade.assign", "grade customers within the department", "在本部门内评定客户等级"),
    Permission("medical_devices.blacklist.department", "manage the department blacklist", "管理部门黑名单"),
    Permission("medical_devices.blacklist.company", "manage the company blacklist (marketing division)",
               "管理公司黑名单（营销部）"),
    Permission("medical_devices.blacklist.readmit", "approve a blacklisted customer's return", "审批黑名单客户重新准入"),
    Permission("medical_devices.customer.read", "read admissions, qualifications, events and sales",
               "查看客户准入、资质、活动与销售记录"),
    Permission("medical_devices.admission.verify", "record qualifications and admit customers (the designated "
               "person who verifies them, MD21 d)", "登记资质并办理客户准入（负责核实的指定专人，MD21 d）"),
    Permission("medical_devices.event.plan", "plan forums and promotions and file their reports",
               "制定恳谈会、推介会方案并提交书面报告"),
    Permission("medical_devices.event.approve", "approve forum and promotion plans (marketing division, MD27)",
               "审批恳谈会、推介会方案（营销事业部，MD27）"),
    Permission("medical_devices.sale.contact", "record sales and the after-sale contact (MD29)",
               "登记销售及售后回访（MD29）"),
    Permission("medical_devices.archive.submit", "create and submit customer archives", "建立并提交客户档案"),
    Permission("medical_devices.archive.check", "review customer archives (the direct superior)",
               "审核客户档案（直接上级）"),
    Permission("medical_devices.archive.seal", "seal customer archives", "封存客户档案"),
    Permission("medical_devices.exception.approve", "let a failed archive rule pass for a reason",
               "特殊情况下准予档案规则例外"),
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
    Parameter("qualification_reminder_days", I, 30, "Days before a qualification document expires that a reminder "
              "is raised", "资质证件到期前多少天发出提醒", minimum=1, maximum=365, unit="days"),
    Parameter("require_tax_registration", B, True, "Admission of an enterprise or distributor needs a separate tax "
              "registration (MD2 a); off where the unified business licence (三证合一) stands for it",
              "企业、经销商准入须另备税务登记证（MD2 a）；三证合一后可关闭"),
    Parameter("archive_creation_days", I, 7, "Days after the first contact by which the customer archive is created "
              "(seed-000 §4.5 AR1, seed-003 R12-1)", "首次接触后建立客户档案的期限（一周内）",
              minimum=1, maximum=60, unit="days"),
    Parameter("archive_update_months", I, 3, "Months between updates of a key customer's archive (AR3: quarterly)",
              "重点客户档案补充修订间隔月数（每季度）", minimum=1, maximum=24, unit="months"),
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
        score=policy.score,  # MD3–MD7: criteria over the facts, thresholds from the tenant's parameters
    ),
)

VISITS = (
    VisitPlan("vip_monthly", "vip", 30, "on_site", "VIP customers visited on site once a month (MD25)",
              "VIP类客户每月上门走访一次（MD25）", grading_scheme="customer_grade", monthly=True),
    VisitPlan("preferred_monthly", "preferred", 30, "on_site", "Preferred customers visited on site once a month (MD25)",
              "优选类客户每月上门走访一次（MD25）", grading_scheme="customer_grade", monthly=True),
)

ARCHIVE_STANDARDS = (
    ArchiveStandard(
        id="customer_archive", name_en="Customer archive", name_zh="客户档案", subject="customer",
        documents=(
            ArchiveDocument("survey", "Customer survey form (附件4)", "销售客户情况调查表（附件4）", fields=(
                DocumentField("first_contact_date", "date", "First contact", "首次接触日期"),
                DocumentField("created_on", "date", "Archive created on", "建档日期"),
                DocumentField("operating_status", "text", "Operating status", "经营状况"),
                DocumentField("product_flow", "text", "Where purchased products go", "产品流向"),
            ), signatures=("contact_person",)),
            ArchiveDocument("qualifications", "Copies of the qualification documents", "资质证件复印件"),
            ArchiveDocument("contract", "Purchase-sale contract", "购销合同", required=False),
            ArchiveDocument("visit_reports", "Visit summary reports (附件5)", "销售客户拜访总结报告（附件5）",
                            required=False),
        ),
        checks=(
            ArchiveCheck("AR1", "Created within archive_creation_days (7) of the first contact",
                         "首次接触后一周内建档", check=policy.created_within),
            ArchiveCheck("MD23", "The archive has its number and the category code of the marketing division",
                         "档案有编号及营销事业部编制的客户类别代码", check=policy.numbered),
            ArchiveCheck("AR2", "Reviewed by the direct superior of the person who created it",
                         "由建档人的直接上级审核"),
        ),
    ),
)

EVENT_TYPES = (
    EventType("medical_devices.qualification_recorded", "medical_devices_qualification", "kind, number, expires_on",
              "a qualification document is recorded or replaced"),
    EventType("medical_devices.qualification_expiring", "medical_devices_qualification", "expires_on",
              "once per document and expiry, qualification_reminder_days (30) days before it expires"),
    EventType("medical_devices.customer_admitted", "medical_devices_admission", "customer_type, grade, readmission",
              "a customer is admitted into a department (MD1, MD2, MD15)"),
    EventType("medical_devices.event_planned", "medical_devices_event", "state", "a forum or promotion is planned"),
    EventType("medical_devices.event_approved", "medical_devices_event", "state",
              "the marketing division approves its plan (MD27)"),
    EventType("medical_devices.event_held", "medical_devices_event", "state", "the event took place"),
    EventType("medical_devices.event_reported", "medical_devices_event", "state, report",
              "the written report is filed after the event (MD27)"),
    EventType("medical_devices.customer_invited", "medical_devices_invitation", "event_id, customer_id",
              "a customer is invited to a forum or promotion"),
    EventType("medical_devices.sale_recorded", "medical_devices_sale", "reference, sold_on", "a sale is recorded"),
    EventType("medical_devices.sale_contacted", "medical_devices_sale", "contacted_at, satisfaction",
              "the after-sale contact is recorded (MD29)"),
    EventType("medical_devices.change_notice_recorded", "medical_devices_change_notice", "kind, channel",
              "a customer reports a business change or deregistration (MD18)"),
)
