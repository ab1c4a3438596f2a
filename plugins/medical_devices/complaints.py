"""The product-quality complaint flow (seed 003 R2, R3 and R14: 客户投诉管理制度 / 客诉处理办法), run
by core's complaint engine through ``kehu_complaint_flows``.

One flow for the three versions of the regulation (R14's implementation note), with R3's numbers:

- numbering YYMMCC, the serial starting again each year-month (R2-1, R3-2): 260901, 260902, …,
  261001;
- sales records the complaint with the anomaly and the customer's requirement (R2-2; sales is the
  first responder); the GM office accepts it, saying whether the customer is domestic or foreign:
  the case must be closed within **15 calendar days for a domestic customer, 20 for a foreign
  one** from that acceptance (R3-11); an open case past that gets a reminder (催办单) to the
  responsible department and a case closed after it an overdue-investigation notice (查办单 /
  治办单) asking the department why (R2-25, R3-19);
- QA investigates (on site with sales and manufacturing when needed, R2-3) and reports **within
  3 days after the investigation** (R2-4, R3-5) — counted in working days of the tenant's
  calendar (an internal step: 国庆 and the other holidays do not count, 调休 working Saturdays
  do); late, QA gets a reminder; a complaint QA finds not established ends there (R2-15);
- manufacturing drafts the countermeasures, R&D gives its opinion on special anomalies (R2-5);
  the GM office reviews and returns the case to sales, which negotiates with the customer and
  has its department head review the result (R2-6);
- the GM office forms the consolidated opinion, with the loss amount charged to the responsible
  department and whether the improvement is tracked, **within 1 working day** of receiving the
  negotiated form (R2-7, R3-5); late, the GM office gets a reminder;
- approval **by authority level** (核决权限, R2-7, R2-12): the approver's permission depends on the
  loss amount of the consolidated opinion — the sales manager up to ``SALES_MANAGER_LIMIT``, the
  deputy GM up to ``DEPUTY_GM_LIMIT``, the GM above (the source leaves the thresholds blank, R3-12;
  a higher level may always approve); the approval is a decision record (reportable to the
  regulator or not, who decided, why);
- sales tells the customer the approved decision (by letter or phone, R2-12): accepted, the case
  is closed with its disposition; rejected, the case ends as rejected and sales files a **new**
  case linked to it, the original attached (R2-10: intake with ``previous_id`` and the original
  as an attachment reference).
"""

from __future__ import annotations

from core.plugins import (
    ComplaintFlowDefinition,
    FlowRole,
    FlowState,
    FlowTimer,
    FlowTransition,
    Numbering,
    Permission,
    RecordKind,
    Remind,
    ResetPeriod,
    calendar_days,
    working_days,
)

P = "medical_devices.complaint"
PERMISSIONS = (
    Permission(f"{P}.read", "read product-quality complaints and their timelines", "查看产品质量客诉及其时间线"),
    Permission(f"{P}.sales", "record complaints, negotiate with the customer and tell the decision (sales)",
               "登记客诉、与客户交涉并告知处理结果（业务部）"),
    Permission(f"{P}.sales_head", "review the negotiation result (sales department head)", "审核交涉结果（业务部主管）"),
    Permission(f"{P}.gm_office", "accept, register, review and consolidate complaints (GM office)",
               "受理、登记、审核及综合客诉意见（总经理室）"),
    Permission(f"{P}.qa", "investigate complaints and report the root cause (QA)", "调查客诉并报告原因（质量管理部）"),
    Permission(f"{P}.manufacturing", "draft countermeasures (manufacturing)", "拟定改善对策（制造部）"),
    Permission(f"{P}.rd", "give the opinion on special anomalies (R&D)", "对个性异常提出意见（研发部）"),
    Permission(f"{P}.approve_sales_manager", "approve complaint decisions up to the sales manager's authority",
               "在业务部经理核决权限内核准客诉处理"),
    Permission(f"{P}.approve_deputy_gm", "approve complaint decisions up to the deputy GM's authority",
               "在副总经理核决权限内核准客诉处理"),
    Permission(f"{P}.approve_gm", "approve complaint decisions of any amount (GM)", "核准任何金额的客诉处理（总经理）"),
)

# the complaint-amount approval authority (R2-7, R3-12: blank in the source): loss amounts up to and
# including these, in yuan
SALES_MANAGER_LIMIT = 10_000
DEPUTY_GM_LIMIT = 100_000
AUTHORITY = ((SALES_MANAGER_LIMIT, f"{P}.approve_sales_manager"), (DEPUTY_GM_LIMIT, f"{P}.approve_deputy_gm"),
             (None, f"{P}.approve_gm"))

ROLES = (
    FlowRole("sales", "Sales department", "业务部", f"{P}.sales"),
    FlowRole("gm_office", "GM office (production control)", "总经理室（生产管理室）", f"{P}.gm_office"),
    FlowRole("qa", "Quality assurance", "质量管理部", f"{P}.qa"),
    FlowRole("manufacturing", "Manufacturing", "制造部", f"{P}.manufacturing"),
    # the case's responsible department (its department_id travels with the notice)
    FlowRole("responsible_department", "Responsible department", "职责归属部门"),
)

S = FlowState
STATES = (
    S("received", "Recorded by sales", "业务部已登记"),
    S("investigating", "Accepted by the GM office, under investigation", "总经理室已受理，调查中"),
    S("qa_report", "Investigated, QA report due", "已调查，待质量管理部报告"),
    S("countermeasure", "Manufacturing drafting countermeasures", "制造部拟定对策"),
    S("rd_opinion", "R&D opinion on a special anomaly", "研发部个性异常意见"),
    S("gm_review", "GM office review", "总经理室审核"),
    S("negotiation", "Sales negotiating with the customer", "业务部与客户交涉"),
    S("sales_head_review", "Sales head reviewing the negotiation", "业务部主管审核"),
    S("consolidation", "GM office consolidating the opinions", "总经理室综合意见"),
    S("approval", "Awaiting approval by authority level", "按核决权限呈核"),
    S("approved", "Approved, to be told to the customer", "已核准，待告知客户"),
    S("closed", "Closed", "已结案", terminal=True),
    S("not_established", "Not established", "客诉不成立", terminal=True),
    S("rejected", "Rejected by the customer (follow-up case filed)", "客户不接受（另案处理）", terminal=True),
)

T = FlowTransition
MARKET = "market"  # domestic | foreign: chooses the closure limit (R3-11)
TRANSITIONS = (
    T("received", "investigating", "accept", permission=f"{P}.gm_office",
      required_fields=(MARKET, "order_number", "part_number", "ship_date", "quantity", "defective_quantity",
                       "customer_requirement")),
    T("investigating", "qa_report", "complete_investigation", permission=f"{P}.qa", required_fields=("findings",)),
    T("qa_report", "countermeasure", "file_qa_report", permission=f"{P}.qa",
      required_fields=("root_cause", "responsible_department")),
    T("qa_report", "not_established", "find_not_established", permission=f"{P}.qa", required_fields=("reason",)),
    T("countermeasure", "rd_opinion", "ask_rd", permission=f"{P}.manufacturing"),
    T("rd_opinion", "countermeasure", "give_rd_opinion", permission=f"{P}.rd", required_fields=("opinion",)),
    T("countermeasure", "gm_review", "draft_countermeasure", permission=f"{P}.manufacturing",
      required_fields=("countermeasure",)),
    T("gm_review", "negotiation", "return_to_sales", permission=f"{P}.gm_office", required_fields=("review",)),
    T("negotiation", "sales_head_review", "record_negotiation", permission=f"{P}.sales",
      required_fields=("handling_opinion", "negotiation_result")),
    T("sales_head_review", "negotiation", "send_back", permission=f"{P}.sales_head", required_fields=("reason",)),
    T("sales_head_review", "consolidation", "head_review", permission=f"{P}.sales_head"),
    T("consolidation", "approval", "consolidate", permission=f"{P}.gm_office",
      required_fields=("consolidated_opinion", "loss_amount", "track_improvement")),
    T("approval", "approved", "approve", record=RecordKind.DECISION, authority_field="consolidate.loss_amount",
      authority=AUTHORITY),
    T("approval", "consolidation", "return_for_revision", permission=f"{P}.gm_office", required_fields=("reason",)),
    T("approved", "closed", "close", permission=f"{P}.sales", required_fields=("disposition",)),
    T("approved", "rejected", "customer_rejects", permission=f"{P}.sales", required_fields=("reason",)),
)

TIMERS = (
    FlowTimer("closure", "Closed within 15 days (domestic) or 20 days (foreign) of acceptance",
              "自总经理室受理起国内十五天、国外二十天内结案", "action:accept", (), calendar_days(20),
              target_field=MARKET, targets=(("domestic", calendar_days(15)), ("foreign", calendar_days(20))),
              on_breach=(Remind("responsible_department"),),
              on_late=(Remind("responsible_department", notice="overdue_investigation"),)),
    FlowTimer("qa_report_3d", "QA report within 3 days after the investigation", "调查处理后三天内提出报告",
              "action:complete_investigation", ("action:file_qa_report", "action:find_not_established"),
              working_days(3), on_breach=(Remind("qa"),)),
    FlowTimer("consolidation_1d", "Consolidated opinion within 1 day of the negotiated form", "一日内作成综合意见",
              "enter:consolidation", ("action:consolidate",), working_days(1), on_breach=(Remind("gm_office"),)),
)

QUALITY_COMPLAINTS = ComplaintFlowDefinition(
    id="quality_complaint", name_en="Product-quality complaint", name_zh="产品质量客诉",
    categories=("quality", "non_quality"),  # 质量异常 / 非质量异常（人为因素）(R2 第五条)
    severities=("normal",), states=STATES, initial="received", transitions=TRANSITIONS, roles=ROLES,
    timers=TIMERS, numbering=Numbering("{YY}{MM}{seq:2}", ResetPeriod.MONTH),
    intake_permission=f"{P}.sales", read_permission=f"{P}.read", assign_permission=f"{P}.gm_office",
)

FLOWS = (QUALITY_COMPLAINTS,)
