"""The property-management complaint flow (seed 003 R10, 物业 顾客投诉处理), run by core's complaint
engine through ``kehu_complaint_flows``.

Three paths, chosen at intake by category:

- routine reasonable complaints (日常投诉合理事项): any employee takes it (the first responder,
  首问责任人) and forwards it to the customer-centre front desk within 24 h (R10-1); the front desk
  dispatches it to a department within 12 h with a handling deadline (R10-2: a clock of its own,
  due when the front desk says, at most 30 days away); a department that
  cannot meet the deadline tells the front desk within 2 h of the dispatch (R10-4); it reports
  back within 2 h of resolving (R10-5); verification, then the return visit within 2 working
  days (R10-5); then the first responder is told within 2 h (R10-8). Waiting on the customer
  pauses the department's clocks.
- unreasonable complaints (非合理投诉): explained to the customer; the department head steps in
  when the customer is not persuaded (R10-3).
- emergencies, major matters and developer matters (紧急抢险抢修、重要重大或需开发商解决): the
  department is notified within 3 minutes, else the management-office head has the case
  (R10-6); the head not resolving it within 5 minutes escalates to the property-company leader
  with a written report due in 24 h (R10-6); the leader not resolving it within 10 minutes
  escalates to the board-level leader with a written report due in 48 h (R10-7); after handling
  the developer's customer service and the property company verify within 8 h, and return-visit
  the customer within 2 working days (R10-7).
"""

from __future__ import annotations

from core.plugins import (
    Permission,
    ComplaintFlowDefinition,
    Escalate,
    FlowBranch,
    FlowRole,
    FlowState,
    FlowTimer,
    FlowTransition,
    NotifyFirstResponder,
    Numbering,
    RecordKind,
    Remind,
    ResetPeriod,
    calendar_days,
    hours,
    minutes,
    working_days,
)

P = "real_estate.complaint"
PERMISSIONS = (
    Permission(f"{P}.read", "read property complaints and their timelines", "查看物业投诉及其时间线"),
    Permission(f"{P}.front_desk", "triage, dispatch and close property complaints (customer-centre front desk)",
               "受理、调度、结案物业投诉（客户中心前台）"),
    Permission(f"{P}.handle", "handle dispatched property complaints (responsible department)",
               "处理派发的物业投诉（责任部门）"),
    Permission(f"{P}.department_head", "coordinate unreasonable complaints (department head)",
               "协调非合理投诉（部门负责人）"),
    Permission(f"{P}.office_head", "handle escalated emergencies (management-office head)",
               "处理升级的紧急投诉（管理处负责人）"),
    Permission(f"{P}.company_leader", "handle emergencies escalated to the property company's leader",
               "处理升级至物业公司主管领导的紧急投诉"),
    Permission(f"{P}.board_leader", "decide emergencies escalated to the board", "裁决升级至董事领导的紧急投诉"),
    Permission(f"{P}.respond", "answer customer-service calls and call customers back (customer-service agent)",
               "答复客户来电并回访（客服专员）"),
    Permission(f"{P}.verify", "verify handled complaints (developer customer service, property company)",
               "验证已处理的投诉（开发商客户服务部、物业公司）"),
)

ROLES = (
    FlowRole("front_desk", "Customer-centre front desk", "客户中心前台", f"{P}.front_desk"),
    FlowRole("department", "Responsible department", "责任部门", f"{P}.handle"),
    FlowRole("department_head", "Department head", "部门负责人", f"{P}.department_head"),
    FlowRole("office_head", "Management-office head", "管理处负责人", f"{P}.office_head"),
    FlowRole("company_leader", "Property-company leader", "物业公司主管领导", f"{P}.company_leader"),
    FlowRole("board_leader", "Board-level leader", "董事领导", f"{P}.board_leader"),
    FlowRole("developer_cs", "Developer's customer-service department", "开发商客户服务部", f"{P}.verify"),
)

S = FlowState
STATES = (
    S("received", "Received by an employee", "员工接报"),
    S("at_front_desk", "At the front desk", "已反馈至客户中心前台"),
    S("dispatched", "Dispatched to a department", "已派单"),
    S("waiting_customer", "Waiting on the customer", "等待客户", paused=True),
    S("resolved", "Resolved", "已处理"),
    S("reported_back", "Reported back to the customer centre", "已反馈客户中心"),
    S("verified", "Verified", "已验证"),
    S("return_visited", "Return-visited", "已回访"),
    S("explained", "Explained to the customer", "已解释"),
    S("head_coordination", "Department head coordinating", "部门负责人协调"),
    S("em_dept_notified", "Emergency: department notified", "紧急：已通知部门"),
    S("em_resolved", "Emergency: resolved", "紧急：已处理"),
    S("em_verified", "Emergency: verified by developer and property company", "紧急：开发商与物业已验证"),
    S("em_return_visited", "Emergency: return-visited", "紧急：已回访"),
    S("closed", "Closed", "已结案", terminal=True),
)

ROUTINE, UNREASONABLE, EMERGENCY = "routine", "unreasonable", "emergency"
T = FlowTransition
_EMERGENCY_OPEN = ("received", "em_dept_notified", "em_resolved", "em_verified", "em_return_visited")
TRANSITIONS = (
    T("received", "at_front_desk", "forward", branches=(ROUTINE, UNREASONABLE)),
    T("at_front_desk", "dispatched", "dispatch", permission=f"{P}.front_desk",
      required_fields=("department", "handling_deadline"), branches=(ROUTINE,)),
    T("dispatched", "dispatched", "notify_delay", permission=f"{P}.handle", required_fields=("reason",),
      branches=(ROUTINE,)),
    T("dispatched", "waiting_customer", "wait_for_customer", permission=f"{P}.handle", required_fields=("reason",),
      branches=(ROUTINE,)),
    T("waiting_customer", "dispatched", "customer_replied", permission=f"{P}.handle", branches=(ROUTINE,)),
    T("dispatched", "resolved", "resolve", permission=f"{P}.handle", required_fields=("resolution",),
      branches=(ROUTINE,)),
    T("resolved", "reported_back", "report_back", permission=f"{P}.handle", branches=(ROUTINE,)),
    T("reported_back", "verified", "verify", permission=f"{P}.front_desk", record=RecordKind.VERIFICATION,
      branches=(ROUTINE,)),
    T("verified", "return_visited", "return_visit", permission=f"{P}.front_desk", record=RecordKind.RETURN_VISIT,
      branches=(ROUTINE,)),
    T("return_visited", "closed", "inform_first_responder", permission=f"{P}.front_desk", branches=(ROUTINE,)),
    T("at_front_desk", "explained", "explain", permission=f"{P}.front_desk", required_fields=("explanation",),
      branches=(UNREASONABLE,)),
    T("explained", "closed", "close_persuaded", permission=f"{P}.front_desk", branches=(UNREASONABLE,)),
    T("explained", "head_coordination", "ask_department_head", permission=f"{P}.front_desk",
      branches=(UNREASONABLE,)),
    T("head_coordination", "closed", "close_coordinated", permission=f"{P}.department_head",
      required_fields=("outcome",), branches=(UNREASONABLE,)),
    T("received", "em_dept_notified", "notify_department", required_fields=("department",), branches=(EMERGENCY,)),
    T("em_dept_notified", "em_resolved", "resolve_emergency", permission=f"{P}.handle",
      required_fields=("resolution",), branches=(EMERGENCY,)),
    T("em_resolved", "em_verified", "verify_emergency", permission=f"{P}.verify", record=RecordKind.VERIFICATION,
      branches=(EMERGENCY,)),
    T("em_verified", "em_return_visited", "return_visit_emergency", permission=f"{P}.front_desk",
      record=RecordKind.RETURN_VISIT, branches=(EMERGENCY,)),
    T("em_return_visited", "closed", "close_emergency", permission=f"{P}.front_desk", branches=(EMERGENCY,)),
    # the written reports owed after an escalation, filed whatever the state of the open case
    *(T(state, state, "file_company_report", permission=f"{P}.office_head", required_fields=("report",),
        branches=(EMERGENCY,)) for state in _EMERGENCY_OPEN),
    *(T(state, state, "file_board_report", permission=f"{P}.company_leader", required_fields=("report",),
        branches=(EMERGENCY,)) for state in _EMERGENCY_OPEN),
)

TIMERS = (
    # routine and unreasonable
    FlowTimer("forward_24h", "Forwarded to the front desk within 24 h", "24小时内反馈至客户中心前台", "intake",
              ("enter:at_front_desk",), hours(24), branches=(ROUTINE, UNREASONABLE),
              on_breach=(Remind("front_desk"), NotifyFirstResponder())),
    FlowTimer("dispatch_12h", "Dispatched within 12 h", "12小时内派单", "enter:at_front_desk", ("action:dispatch",),
              hours(12), branches=(ROUTINE,), on_breach=(Remind("front_desk"),)),
    FlowTimer("handling_deadline", "Handled by the deadline set at dispatch", "限期处理", "action:dispatch",
              ("enter:resolved",), calendar_days(30), branches=(ROUTINE,), deadline_field="handling_deadline",
              on_breach=(Remind("department"), Remind("front_desk"))),
    FlowTimer("delay_notice_2h", "Delay told to the front desk within 2 h of the dispatch", "接到调度后2小时内告知延期",
              "action:dispatch", ("action:notify_delay", "enter:resolved"), hours(2), branches=(ROUTINE,),
              on_breach=(Remind("department"),)),
    FlowTimer("report_back_2h", "Reported back within 2 h of resolving", "处理完毕后2小时内反馈客户中心",
              "enter:resolved", ("enter:reported_back",), hours(2), branches=(ROUTINE,),
              on_breach=(Remind("department"),)),
    FlowTimer("return_visit_2wd", "Return visit within 2 working days", "2个工作日内回访", "enter:reported_back",
              ("enter:return_visited",), working_days(2), branches=(ROUTINE,), on_breach=(Remind("front_desk"),)),
    FlowTimer("first_responder_2h", "First responder told within 2 h of coordination ending",
              "协调完毕后2小时内告知首问责任人", "enter:return_visited", ("action:inform_first_responder",), hours(2),
              branches=(ROUTINE,), on_breach=(NotifyFirstResponder(),)),
    # emergencies
    FlowTimer("em_notify_3min", "Department notified within 3 minutes", "3分钟内通知相关部门", "intake",
              ("action:notify_department",), minutes(3), branches=(EMERGENCY,),
              on_breach=(Escalate("office_head"),)),
    FlowTimer("em_office_head_5min", "Management-office head resolves or escalates within 5 minutes",
              "管理处负责人5分钟内解决或上报", "breach:em_notify_3min", ("enter:em_resolved",), minutes(5),
              branches=(EMERGENCY,),
              on_breach=(Escalate("company_leader", hours(24), "file_company_report"),)),
    FlowTimer("em_company_leader_10min", "Property-company leader resolves or reports to the board within 10 minutes",
              "物业公司主管领导10分钟内解决或报董事领导", "breach:em_office_head_5min", ("enter:em_resolved",),
              minutes(10), branches=(EMERGENCY,),
              on_breach=(Escalate("board_leader", hours(48), "file_board_report"),)),
    FlowTimer("em_verify_8h", "Developer and property company verify within 8 h", "开发商与物业8小时内验证",
              "enter:em_resolved", ("enter:em_verified",), hours(8), branches=(EMERGENCY,),
              on_breach=(Remind("developer_cs"),)),
    FlowTimer("em_return_visit_2wd", "Return visit within 2 working days of completion", "完成后2个工作日内回访",
              "enter:em_verified", ("enter:em_return_visited",), working_days(2), branches=(EMERGENCY,),
              on_breach=(Remind("front_desk"),)),
)

PROPERTY_COMPLAINTS = ComplaintFlowDefinition(
    id="property_complaint", name_en="Property-management complaint", name_zh="物业顾客投诉",
    categories=(ROUTINE, UNREASONABLE, EMERGENCY), severities=("normal", "major"),
    states=STATES, initial="received", transitions=TRANSITIONS, roles=ROLES,
    branches=(FlowBranch(EMERGENCY, categories=(EMERGENCY,)), FlowBranch(UNREASONABLE, categories=(UNREASONABLE,)),
              FlowBranch(ROUTINE)),
    timers=TIMERS, numbering=Numbering("WY{YY}{MM}{seq:3}", ResetPeriod.MONTH),
    read_permission=f"{P}.read", assign_permission=f"{P}.front_desk",
)

# --- the customer centre's reply rule (seed 003 R5-5, R5-9: the third, small flow of issue 19) ---
#
# A call (inquiry or complaint) the customer-service agent cannot answer on the spot is recorded,
# passed at once to the responsible person, and the customer gets a reply within 30 minutes
# (「时限30分钟内」); a callback measures satisfaction; a new need raised in the callback becomes a
# follow-up case linked to the original one (intake with ``previous_id``).

CALL_ROLES = (FlowRole("responsible", "Responsible person", "责任人", f"{P}.front_desk"),)
CALL_STATES = (
    S("received", "Call recorded", "来电已记录"),
    S("with_responsible", "With the responsible person", "已转责任人"),
    S("replied", "Replied to the customer", "已答复客户"),
    S("called_back", "Called back", "已回访"),
    S("closed", "Closed", "已结案", terminal=True),
)
CALL_TRANSITIONS = (
    T("received", "replied", "answer_on_the_spot", permission=f"{P}.respond", required_fields=("answer",)),
    T("received", "with_responsible", "pass_to_responsible", permission=f"{P}.respond",
      required_fields=("question",)),
    T("with_responsible", "replied", "reply", permission=f"{P}.respond", required_fields=("answer",)),
    T("replied", "called_back", "call_back", permission=f"{P}.respond", record=RecordKind.RETURN_VISIT),
    T("called_back", "closed", "close_call", permission=f"{P}.respond"),
)
CALL_TIMERS = (
    FlowTimer("reply_30min", "Customer replied within 30 minutes", "30分钟内答复客户", "intake", ("enter:replied",),
              minutes(30), on_breach=(Remind("responsible"), NotifyFirstResponder())),
)
SERVICE_CALLS = ComplaintFlowDefinition(
    id="service_call", name_en="Customer-service call", name_zh="客服来电", categories=("inquiry", "complaint"),
    severities=("normal",), states=CALL_STATES, initial="received", transitions=CALL_TRANSITIONS, roles=CALL_ROLES,
    timers=CALL_TIMERS, numbering=Numbering("KF{YY}{MM}{DD}{seq:3}", ResetPeriod.DAY),
    read_permission=f"{P}.read", assign_permission=f"{P}.front_desk",
)

FLOWS = (PROPERTY_COMPLAINTS, SERVICE_CALLS)
