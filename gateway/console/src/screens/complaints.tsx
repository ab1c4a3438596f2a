// Complaints (投诉): the complaint engine's cases of the flows the enabled verticals supply. The list
// shows every case with its clocks (running, paused, breached, met: colour AND a text label); a case
// shows its details (the complainant masked as the API returns it, never unmasked here), its clocks,
// the transitions open to it with their required fields, and its timeline; intake takes a new case
// with the chosen flow's categories and severities; the report view shows the complaint report.
import { useEffect, useState } from "preact/hooks";
import type { Access } from "../access";
import { holds } from "../access";
import { ApiError, gql, ok } from "../api";
import { lang, t } from "../i18n";
import { Actor, ErrorBox, Field, Loading, Pager, Section, Table, asApiError, useQuery, when } from "../ui";
import FLOWS from "../operations/ComplaintFlows.graphql?raw";
import LIST from "../operations/Complaints.graphql?raw";
import CLOCKS from "../operations/ComplaintClocks.graphql?raw";
import TIMELINE from "../operations/ComplaintTimeline.graphql?raw";
import INTAKE from "../operations/ComplaintIntake.graphql?raw";
import TRANSITION from "../operations/ComplaintTransition.graphql?raw";
import RESUME from "../operations/ComplaintResume.graphql?raw";
import REPORT from "../operations/ComplaintReport.graphql?raw";
import type {
  ComplaintClocksQuery, ComplaintClocksQueryVariables, ComplaintFlowsQuery, ComplaintIntakeMutation,
  ComplaintIntakeMutationVariables, ComplaintReportQuery, ComplaintReportQueryVariables, ComplaintResumeMutation,
  ComplaintResumeMutationVariables, ComplaintTimelineQuery, ComplaintTimelineQueryVariables,
  ComplaintTransitionMutation, ComplaintTransitionMutationVariables, ComplaintsQuery, ComplaintsQueryVariables,
} from "../generated/graphql";

/** The verticals supplying complaint flows, and the prefix of their complaint permissions. */
const FLOW_VERTICALS: Record<string, string> = {
  medical_devices: "medical_devices.complaint",
  real_estate: "real_estate.complaint",
};

/** Whether the signed-in user sees this screen: a vertical with complaint flows is enabled and the user holds one of its complaint permissions. */
export function visible(a: Access): boolean {
  return Object.entries(FLOW_VERTICALS).some(([vertical, prefix]) => a.verticals.has(vertical) && holds(a, prefix));
}

const W = {
  list: ["投诉列表", "Complaints"],
  openOnly: ["仅显示未结案", "Open cases only"],
  number: ["编号", "Number"],
  flow: ["流程", "Flow"],
  subject: ["事由", "Subject"],
  category: ["类别", "Category"],
  severity: ["严重程度", "Severity"],
  channel: ["渠道", "Channel"],
  source: ["来源", "Source"],
  complainant: ["投诉人", "Complainant"],
  complainantKind: ["投诉人类型", "Complainant is"],
  aPerson: ["个人（非客户）", "A person (not a customer)"],
  aCustomer: ["已有客户", "An existing customer"],
  complainantName: ["投诉人姓名", "Complainant's name"],
  complainantPhone: ["投诉人电话", "Complainant's phone"],
  complainantAddress: ["投诉人地址", "Complainant's address"],
  opened: ["登记时间", "Opened"],
  closedAt: ["结案时间", "Closed"],
  branch: ["分支", "Branch"],
  firstResponder: ["首问责任人", "First responder"],
  recorded: ["已记录字段", "Recorded fields"],
  noClock: ["未计时", "No clock"],
  noOpenClock: ["时限均已按时完成", "Every clock met"],
  details: ["投诉详情", "Case details"],
  late: ["超时完成", "Met late"],
  left: ["剩余", "left"],
  over: ["已超", "over by"],
  provisional: ["（节假日安排未公布，暂定）", " (holiday schedule not yet published: provisional)"],
  action: ["操作", "Action"],
  submit: ["提交流转", "Take the action"],
  noAction: ["当前状态下没有可执行的操作。", "No action is open in this state."],
  resume: ["恢复处理（取消挂起）", "Resume (end the hold)"],
  onHold: ["本投诉已挂起，时限暂停计时。", "This case is on hold: its clocks stand still."],
  yes: ["是", "yes"],
  no: ["否", "no"],
  choose: ["请选择", "Choose"],
  taken: ["已登记投诉", "Complaint registered"],
  transitioned: ["已流转至", "Moved to"],
  event: ["事件", "Event"],
  fromTo: ["状态变化", "State change"],
  timer: ["时限", "Clock"],
  detail: ["详情", "Detail"],
  reportTitle: ["投诉报表", "Complaint report"],
  toReport: ["查看投诉报表", "Open the complaint report"],
  toList: ["返回投诉列表", "Back to the complaints"],
  allFlows: ["全部流程", "All flows"],
  since: ["登记日期自", "Opened from"],
  until: ["登记日期至（不含）", "Opened before"],
  lossField: ["损失金额字段", "Loss amount field"],
  show: ["生成报表", "Show the report"],
  total: ["投诉总数", "Complaints"],
  reportAt: ["统计时间", "As of"],
  onTime: ["时限达成率", "On-time rate per clock"],
  volumes: ["按类别与严重程度", "By category and severity"],
  overdue: ["各部门逾期", "Overdue by department"],
  weekly: ["每周统计", "Weekly"],
  monthly: ["每月统计", "Monthly"],
  losses: ["各部门损失金额", "Loss amounts by department"],
  metCount: ["按时", "On time"],
  breachedCount: ["超时", "Breached"],
  pending: ["未定", "Pending"],
  rate: ["达成率", "Rate"],
  open: ["未结案", "Open"],
  count: ["数量", "Count"],
  clocksCount: ["逾期时限数", "Overdue clocks"],
  department: ["部门", "Department"],
  noDepartment: ["（未指定部门）", "(no department yet)"],
  period: ["期间", "Period"],
  openedCount: ["新增", "Opened"],
  closedCount: ["结案", "Closed"],
  amount: ["金额（元）", "Amount (CNY)"],
  unreadable: ["无法识别的金额", "Unreadable amounts"],
  customerId: ["客户 ID", "Customer id"],
} as const;
const w = (k: keyof typeof W) => W[k][lang.get() === "zh" ? 0 : 1];
const zh = () => lang.get() === "zh";

/** Names of codes the flows use but the API does not name (fields, actions, events, categories). */
const NAMES: Record<string, readonly [string, string]> = {
  // categories, severities, channels, sources
  quality: ["质量异常", "quality anomaly"], non_quality: ["非质量异常（人为因素）", "non-quality (human factor)"],
  routine: ["一般投诉", "routine"], unreasonable: ["无理投诉", "unreasonable"], emergency: ["紧急投诉", "emergency"],
  inquiry: ["咨询", "inquiry"], complaint: ["投诉", "complaint"], normal: ["一般", "normal"], major: ["重大", "major"],
  phone: ["电话", "phone"], email: ["邮件", "email"], visit: ["来访", "visit"], letter: ["信函", "letter"],
  online: ["网络", "online"], external: ["外部", "external"], internal: ["内部", "internal"],
  // fields
  market: ["市场（国内/国外）", "Market (domestic/foreign)"], domestic: ["国内", "domestic"], foreign: ["国外", "foreign"],
  order_number: ["订单号", "Order number"], part_number: ["料号", "Part number"], ship_date: ["出货日期", "Ship date"],
  quantity: ["数量", "Quantity"], defective_quantity: ["不良数量", "Defective quantity"],
  customer_requirement: ["客户要求", "Customer's requirement"], findings: ["调查结果", "Findings"],
  root_cause: ["异常原因", "Root cause"], responsible_department: ["职责归属部门", "Responsible department"],
  reason: ["原因", "Reason"], opinion: ["意见", "Opinion"], countermeasure: ["改善对策", "Countermeasure"],
  review: ["审核意见", "Review"], handling_opinion: ["处理意见", "Handling opinion"],
  negotiation_result: ["交涉结果", "Negotiation result"], consolidated_opinion: ["综合意见", "Consolidated opinion"],
  loss_amount: ["损失金额（元）", "Loss amount (CNY)"], track_improvement: ["是否追踪改善", "Track the improvement"],
  reportable: ["是否须向监管报告", "Reportable to the regulator"], decided_by: ["决定人", "Decided by"],
  disposition: ["处理结果", "Disposition"], resolution: ["处理结果", "Resolution"], explanation: ["解释说明", "Explanation"],
  answer: ["答复", "Answer"], report: ["书面报告", "Written report"], satisfaction: ["满意度（1-5）", "Satisfaction (1-5)"],
  handling_deadline: ["处理期限", "Handling deadline"], department: ["部门", "Department"],
  // actions
  accept: ["受理", "Accept"], complete_investigation: ["完成调查", "Complete the investigation"],
  file_qa_report: ["提交质量报告", "File the QA report"], find_not_established: ["判定客诉不成立", "Find it not established"],
  ask_rd: ["请研发部提出意见", "Ask R&D"], give_rd_opinion: ["研发部意见", "Give the R&D opinion"],
  draft_countermeasure: ["提出改善对策", "Draft the countermeasure"], return_to_sales: ["退回业务部交涉", "Return to sales"],
  record_negotiation: ["记录交涉结果", "Record the negotiation"], send_back: ["退回重新交涉", "Send back"],
  head_review: ["主管审核通过", "Head review passed"], consolidate: ["作成综合意见", "Consolidate"],
  approve: ["核准", "Approve"], return_for_revision: ["退回修改", "Return for revision"], close: ["结案", "Close"],
  customer_rejects: ["客户不接受", "Customer rejects"],
  forward: ["反馈至客户中心前台", "Forward to the front desk"], dispatch: ["派单", "Dispatch"],
  notify_delay: ["告知延期", "Tell the delay"], wait_for_customer: ["挂起等待客户", "Wait on the customer (hold)"],
  customer_replied: ["客户已答复（恢复）", "Customer replied (resume)"], resolve: ["处理完毕", "Resolve"],
  report_back: ["反馈客户中心", "Report back"], verify: ["验证", "Verify"], return_visit: ["回访", "Return visit"],
  inform_first_responder: ["告知首问责任人并结案", "Tell the first responder, close"], explain: ["解释", "Explain"],
  close_persuaded: ["说服后结案", "Close (persuaded)"], ask_department_head: ["请部门负责人协调", "Ask the department head"],
  close_coordinated: ["协调后结案", "Close (coordinated)"], notify_department: ["通知相关部门", "Notify the department"],
  resolve_emergency: ["紧急处理完毕", "Resolve the emergency"], verify_emergency: ["紧急验证", "Verify the emergency"],
  return_visit_emergency: ["紧急回访", "Return visit (emergency)"], close_emergency: ["紧急结案", "Close the emergency"],
  file_company_report: ["提交公司书面报告", "File the company report"], file_board_report: ["提交董事书面报告", "File the board report"],
  answer_on_the_spot: ["当场答复", "Answer on the spot"], pass_to_responsible: ["转责任人", "Pass to the responsible person"],
  reply: ["答复客户", "Reply"], call_back: ["回访", "Call back"], close_call: ["结案", "Close"],
  outcome: ["协调结果", "Outcome"], verified: ["是否验证通过", "Verified"], notes: ["备注", "Notes"],
  // events
  opened: ["登记", "opened"], transitioned: ["流转", "transitioned"], assigned: ["指派", "assigned"],
  breached: ["超时", "breached"], escalated: ["升级", "escalated"], reminded: ["催办", "reminded"],
  first_responder_notified: ["通知首问责任人", "first responder notified"], clock_started: ["开始计时", "clock started"],
  clock_paused: ["暂停计时", "clock paused"], clock_resumed: ["恢复计时", "clock resumed"],
  clock_stopped: ["停止计时", "clock stopped"], clock_recomputed: ["重新计算时限", "clock recomputed"],
};
const named = (code: string | null | undefined) => (code ? NAMES[code]?.[zh() ? 0 : 1] ?? code : "—");
/** A code with its name, the code kept for whoever reads the API's errors (they name codes). */
const labelled = (code: string) => (NAMES[code] && named(code) !== code ? `${named(code)} (${code})` : code);

const CHANNELS = ["phone", "email", "visit", "letter", "online"];
const SOURCES = ["external", "internal"];
/** Fields that are a yes/no (sent as true/false) and fields with a fixed choice. */
const BOOLEAN_FIELDS = new Set(["reportable", "track_improvement", "verified"]);
/** Fields holding a moment (a deadline a timer counts to): entered in local time, sent with its zone. */
const isMoment = (name: string) => name.endsWith("_deadline") || name.endsWith("_at");
const CHOICES: Record<string, string[]> = { market: ["domestic", "foreign"], satisfaction: ["1", "2", "3", "4", "5"] };

type Flow = ComplaintFlowsQuery["complaintFlows"][number];
type Clock = ComplaintTimelineQuery["complaintTimeline"]["clocks"][number] | ComplaintClocksQuery["complaintTimeline"]["clocks"][number];

const flowName = (f: Flow | undefined, code: string) => (f ? (zh() ? f.nameZh : f.nameEn) : code);
const findFlow = (flows: Flow[], vertical: string, flow: string) => flows.find((f) => f.vertical === vertical && f.id === flow);
function stateName(f: Flow | undefined, code: string | null | undefined): string {
  if (!code) return "—";
  const s = f?.states.find((x) => x.code === code);
  return s ? (zh() ? s.nameZh : s.nameEn) : code;
}

export function Complaints({ rest }: { rest: string }) {
  const flows = useQuery<ComplaintFlowsQuery, Record<string, never>>(FLOWS, {});
  const id = rest.replace(/^\//, "");
  const list = flows.data?.complaintFlows ?? [];
  if (!flows.data) return <div><h1>{t("complaints")}</h1><Loading loaded={flows} /></div>;
  if (id === "report") return <ReportView flows={list} />;
  if (id) return <ComplaintView id={decodeURIComponent(id)} flows={list} />;
  return <ListView flows={list} />;
}

// --- clocks ------------------------------------------------------------------------------------

type ClockState = "breached" | "paused" | "running" | "met";

function clockState(c: Clock, now: number): ClockState {
  if (c.status === "late" || c.breachedAt || (c.status === "running" && Date.parse(c.dueAt) < now)) return "breached";
  if (c.status === "paused") return "paused";
  if (c.status === "met") return "met";
  return "running";
}

function span(ms: number): string {
  const minutes = Math.max(0, Math.round(Math.abs(ms) / 60000));
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  if (zh()) return d ? `${d}天${h}小时` : h ? `${h}小时${m}分钟` : `${m}分钟`;
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}min` : `${m}min`;
}

function timerName(f: Flow | undefined, c: Clock): string {
  if (c.kind === "report") {
    const role = f?.roles.find((r) => r.code === c.role);
    const who = role ? (zh() ? role.nameZh : role.nameEn) : c.role ?? "";
    return zh() ? `${who}书面报告` : `written report (${who})`;
  }
  const timer = f?.timers.find((x) => x.code === c.timer);
  return timer ? (zh() ? timer.nameZh : timer.nameEn) : c.timer;
}

/** One clock: its colour and, for whoever does not see colour, its state in words (compact in the list: the timer's name as a tooltip). */
function ClockBadge({ clock, flow, compact = false }: { clock: Clock; flow: Flow | undefined; compact?: boolean }) {
  const now = Date.now();
  const state = clockState(clock, now);
  const label = state === "breached" ? (clock.status === "late" ? w("late") : t("breached")) : t(state);
  const due = Date.parse(clock.dueAt) - now;
  let extra = `${t("due")} ${when(clock.dueAt)}`;
  if (state === "running") extra += ` · ${w("left")} ${span(due)}`;
  if (state === "breached" && clock.status === "running") extra += ` · ${w("over")} ${span(due)}`;
  if (state === "paused") extra = `${t("paused")} ${when(clock.pausedAt)}`;
  if (state === "met" || clock.status === "late") extra = `${t("done")} ${when(clock.stoppedAt)} · ${t("due")} ${when(clock.dueAt)}`;
  if (compact) {
    const short = state === "running" ? `${w("left")} ${span(due)}` : state === "paused" ? t("paused")
      : clock.status === "running" ? `${w("over")} ${span(due)}` : `${t("due")} ${when(clock.dueAt)}`;
    return (
      <span class={`clock clock-${state}`} data-clock={state} data-timer={clock.timer} title={`${timerName(flow, clock)} · ${extra}`}>
        <strong>{label}</strong> · {state === "paused" ? timerName(flow, clock) : short}
      </span>
    );
  }
  return (
    <span class={`clock clock-${state}`} data-clock={state} data-timer={clock.timer}>
      <strong>{label}</strong> · {timerName(flow, clock)} · {extra}
      {clock.provisional ? w("provisional") : ""}
    </span>
  );
}

function ClockList({ clocks, flow }: { clocks: Clock[]; flow: Flow | undefined }) {
  if (!clocks.length) return <span class="muted">{w("noClock")}</span>;
  return <ul class="clocks">{clocks.map((c) => <li><ClockBadge clock={c} flow={flow} /></li>)}</ul>;
}

/** The clocks of one listed case (the list itself carries none). */
function RowClocks({ id, flow }: { id: string; flow: Flow | undefined }) {
  const clocks = useQuery<ComplaintClocksQuery, ComplaintClocksQueryVariables>(CLOCKS, { id });
  if (clocks.error) return <ErrorBox error={clocks.error} />;
  if (!clocks.data) return <span class="muted">…</span>;
  const all = clocks.data.complaintTimeline.clocks;
  const shown = all.filter((c) => c.status !== "met"); // the list shows what still matters: running, paused, breached
  if (!all.length) return <span class="muted">{w("noClock")}</span>;
  if (!shown.length) return <span class="clock clock-met" data-clock="met">{w("noOpenClock")}</span>;
  return <ul class="clocks">{shown.map((c) => <li><ClockBadge clock={c} flow={flow} compact /></li>)}</ul>;
}

// --- list and intake ---------------------------------------------------------------------------

function ListView({ flows }: { flows: Flow[] }) {
  const [open, setOpen] = useState(false);
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const page = useQuery<ComplaintsQuery, ComplaintsQueryVariables>(LIST, { open, first: 20, after });
  const cases = page.data?.complaints;
  return (
    <div>
      <h1>{t("complaints")}</h1>
      <p><a href="#/complaints/report" id="complaint-report-link">{w("toReport")}</a></p>
      <Section title={w("list")} id="complaint-list-title">
        <div class="field">
          <label><input type="checkbox" id="complaint-open-only" checked={open}
            onChange={(e) => {
              setCursors([]);
              setOpen((e.target as HTMLInputElement).checked);
            }} /> {w("openOnly")}</label>
        </div>
        <Loading loaded={page} />
        {cases ? (
          <>
            <div id="complaint-list">
              <Table head={[w("number"), t("state"), t("clocks"), w("subject"), w("category"), w("complainant"), w("opened")]}
                rows={cases.nodes.map((c) => {
                  const f = findFlow(flows, c.vertical, c.flow);
                  return [
                    <a href={`#/complaints/${encodeURIComponent(c.id)}`} class="complaint-link" data-number={c.number}>{c.number}</a>,
                    <span class="complaint-state">{stateName(f, c.state)}</span>,
                    <RowClocks id={c.id} flow={f} />,
                    c.subject,
                    named(c.category),
                    c.complainant ? (
                      <span class="masked">{[c.complainant.name, c.complainant.phone].filter(Boolean).join(" · ")}</span>
                    ) : c.customerId ? <a href={`#/customers/${encodeURIComponent(c.customerId)}`}>{t("open")}</a> : "—",
                    when(c.openedAt),
                  ];
                })} />
            </div>
            <Pager atFirst={!cursors.length} hasNext={cases.pageInfo.hasNextPage}
              onPrevious={() => setCursors(cursors.slice(0, -1))}
              onNext={() => setCursors([...cursors, cases.pageInfo.endCursor!])} />
          </>
        ) : null}
      </Section>
      <Intake flows={flows} onTaken={page.reload} />
    </div>
  );
}

function Select(props: { id: string; label: string; value: string; options: Array<[string, string]>; onChange: (v: string) => void; name?: string }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.name ?? props.id} value={props.value}
        onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        {props.options.map(([value, text]) => <option value={value}>{text}</option>)}
      </select>
    </div>
  );
}

function Intake({ flows, onTaken }: { flows: Flow[]; onTaken: () => void }) {
  const [flowKey, setFlowKey] = useState(flows[0] ? `${flows[0].vertical}/${flows[0].id}` : "");
  const flow = flows.find((f) => `${f.vertical}/${f.id}` === flowKey);
  const [category, setCategory] = useState(flow?.categories[0] ?? "");
  const [severity, setSeverity] = useState(flow?.severities[0] ?? "");
  const [channel, setChannel] = useState("phone");
  const [source, setSource] = useState("external");
  const [subject, setSubject] = useState("");
  const [who, setWho] = useState<"person" | "customer">("person");
  const [name, setName] = useState("");
  const [phone, setPhone] = useState("");
  const [address, setAddress] = useState("");
  const [customerId, setCustomerId] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [taken, setTaken] = useState<{ id: string; number: string } | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setCategory(flow?.categories[0] ?? "");
    setSeverity(flow?.severities[0] ?? "");
  }, [flowKey]);

  if (!flows.length) return null;

  async function submit(event: Event) {
    event.preventDefault();
    if (!flow) return;
    setError(null);
    setTaken(null);
    setBusy(true);
    try {
      const data = await gql<ComplaintIntakeMutation, ComplaintIntakeMutationVariables>(INTAKE, {
        input: {
          vertical: flow.vertical, flow: flow.id, category, severity, subject, channel, source,
          ...(who === "customer"
            ? { customerId: customerId.trim() || null }
            : { complainant: { name, phone: phone || null, address: address || null } }),
        },
      });
      const made = ok(data.complaintIntake).complaint!;
      // Typed personal data leaves the form once the API holds it (sealed, shown masked from now on).
      setSubject("");
      setName("");
      setPhone("");
      setAddress("");
      setCustomerId("");
      setTaken(made);
      onTaken();
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Section title={t("intake")} id="complaint-intake-title">
      <form id="complaint-intake" onSubmit={submit}>
        {flows.length > 1 ? (
          <Select id="intake-flow" label={w("flow")} value={flowKey} onChange={setFlowKey}
            options={flows.map((f) => [`${f.vertical}/${f.id}`, flowName(f, f.id)])} />
        ) : <p class="muted">{w("flow")}: {flowName(flow, flowKey)}</p>}
        <Select id="intake-category" label={w("category")} value={category} onChange={setCategory}
          options={(flow?.categories ?? []).map((c) => [c, labelled(c)])} />
        <Select id="intake-severity" label={w("severity")} value={severity} onChange={setSeverity}
          options={(flow?.severities ?? []).map((c) => [c, labelled(c)])} />
        <Select id="intake-channel" label={w("channel")} value={channel} onChange={setChannel}
          options={CHANNELS.map((c) => [c, named(c)])} />
        <Select id="intake-source" label={w("source")} value={source} onChange={setSource}
          options={SOURCES.map((c) => [c, named(c)])} />
        <Field label={w("subject")} name="subject" value={subject} onInput={setSubject} required />
        <Select id="intake-who" label={w("complainantKind")} value={who} onChange={(v) => setWho(v as "person")}
          options={[["person", w("aPerson")], ["customer", w("aCustomer")]]} />
        {who === "person" ? (
          <>
            <Field label={w("complainantName")} name="complainantName" value={name} onInput={setName} required />
            <Field label={w("complainantPhone")} name="complainantPhone" type="tel" value={phone} onInput={setPhone} />
            <Field label={w("complainantAddress")} name="complainantAddress" value={address} onInput={setAddress} />
          </>
        ) : (
          <Field label={w("customerId")} name="customerId" value={customerId} onInput={setCustomerId} required />
        )}
        <ErrorBox error={error} />
        {taken ? (
          <p class="good" role="status" id="complaint-taken">
            ✓ {w("taken")} <a href={`#/complaints/${encodeURIComponent(taken.id)}`}>{taken.number}</a>
          </p>
        ) : null}
        <button type="submit" class="primary" disabled={busy}>{t("intake")}</button>
      </form>
    </Section>
  );
}

// --- one case ----------------------------------------------------------------------------------

function ComplaintView({ id, flows }: { id: string; flows: Flow[] }) {
  const loaded = useQuery<ComplaintTimelineQuery, ComplaintTimelineQueryVariables>(TIMELINE, { id });
  const data = loaded.data?.complaintTimeline;
  const c = data?.complaint;
  const flow = c ? findFlow(flows, c.vertical, c.flow) : undefined;
  return (
    <div>
      <p><a href="#/complaints">← {w("toList")}</a></p>
      <Loading loaded={loaded} />
      {c && data ? (
        <>
          <h1 id="complaint-title">{c.number} · {c.subject}</h1>
          <Section title={w("details")} id="complaint-details-title">
            <dl class="details">
              <dt>{w("flow")}</dt><dd>{flowName(flow, c.flow)}</dd>
              <dt>{t("state")}</dt><dd id="complaint-state" data-state={c.state}>{stateName(flow, c.state)}</dd>
              <dt>{w("category")}</dt><dd>{named(c.category)}</dd>
              <dt>{w("severity")}</dt><dd>{named(c.severity)}</dd>
              {c.branch ? <><dt>{w("branch")}</dt><dd>{named(c.branch)}</dd></> : null}
              <dt>{w("channel")}</dt><dd>{named(c.channel)} · {named(c.source)}</dd>
              <dt>{w("complainant")}</dt>
              <dd id="complaint-complainant">
                {c.complainant ? (
                  <span class="masked">{[c.complainant.name, c.complainant.phone, c.complainant.address].filter(Boolean).join(" · ")}</span>
                ) : c.customerId ? <a href={`#/customers/${encodeURIComponent(c.customerId)}`}>{c.customerId}</a> : "—"}
              </dd>
              <dt>{w("firstResponder")}</dt><dd><Actor actor={c.firstResponder} /></dd>
              <dt>{w("opened")}</dt><dd>{when(c.openedAt)}</dd>
              {c.closedAt ? <><dt>{w("closedAt")}</dt><dd>{when(c.closedAt)}</dd></> : null}
              <dt>{t("version")}</dt><dd>{c.version}</dd>
            </dl>
          </Section>
          <Section title={t("clocks")} id="complaint-clocks-title">
            <div id="complaint-clocks"><ClockList clocks={data.clocks} flow={flow} /></div>
          </Section>
          <Transitions complaint={c} flow={flow} onDone={loaded.reload} />
          <Recorded fields={c.fields as Record<string, unknown>} />
          <Timeline events={data.events} flow={flow} />
        </>
      ) : null}
    </div>
  );
}

type Case = ComplaintTimelineQuery["complaintTimeline"]["complaint"];

function Transitions({ complaint, flow, onDone }: { complaint: Case; flow: Flow | undefined; onDone: () => void }) {
  const steps = complaint.availableActions.map((action) => flow?.transitions.find((s) => s.source === complaint.state
    && s.action === action && (!s.branches.length || (complaint.branch !== null && s.branches.includes(complaint.branch)))))
    .filter((s): s is NonNullable<typeof s> => !!s);
  const [action, setAction] = useState(steps[0]?.action ?? "");
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, setError] = useState<ApiError | null>(null);
  const [moved, setMoved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const step = steps.find((s) => s.action === action) ?? steps[0];
  const paused = flow?.states.find((s) => s.code === complaint.state)?.paused ?? false;

  useEffect(() => {
    setAction(steps[0]?.action ?? "");
    setValues({});
  }, [complaint.state, complaint.version]);

  async function run(send: () => Promise<{ complaint: { state: string } | null }>) {
    setError(null);
    setMoved(null);
    setBusy(true);
    try {
      const done = await send();
      setMoved(done.complaint?.state ?? null);
      setValues({});
      onDone();
    } catch (e) {
      const failure = asApiError(e);
      setError(failure);
      if (failure.code === "VERSION_CONFLICT") onDone(); // the latest version; what was typed stays
    } finally {
      setBusy(false);
    }
  }

  function fieldValue(name: string): unknown {
    const raw = values[name] ?? "";
    if (BOOLEAN_FIELDS.has(name)) return raw === "" ? undefined : raw === "true";
    if (name === "satisfaction") return raw === "" ? undefined : Number(raw);
    if (isMoment(name)) return raw === "" ? undefined : new Date(raw).toISOString(); // a time with its zone
    return raw.trim() === "" ? undefined : raw.trim();
  }

  function submit(event: Event) {
    event.preventDefault();
    if (!step) return;
    const fields: Record<string, unknown> = {};
    for (const name of step.requiredFields) {
      const value = fieldValue(name);
      if (value !== undefined) fields[name] = value;
    }
    void run(async () => ok((await gql<ComplaintTransitionMutation, ComplaintTransitionMutationVariables>(TRANSITION, {
      id: complaint.id, action: step.action, fields, version: complaint.version,
    })).complaintTransition));
  }

  const set = (name: string) => (v: string) => setValues({ ...values, [name]: v });
  return (
    <Section title={t("transition")} id="complaint-transition-title">
      {paused ? (
        <div class="notice">
          <p>{w("onHold")}</p>
          <button type="button" id="complaint-resume" disabled={busy} onClick={() => run(async () => ok((await gql<
            ComplaintResumeMutation, ComplaintResumeMutationVariables>(RESUME, { id: complaint.id })).complaintResume))}>
            {w("resume")}
          </button>
        </div>
      ) : null}
      {steps.length ? (
        <form id="complaint-transition" onSubmit={submit}>
          <Select id="transition-action" name="action" label={w("action")} value={step?.action ?? ""} onChange={(v) => {
            setAction(v);
            setError(null);
          }} options={steps.map((s) => [s.action, `${named(s.action)} → ${stateName(flow, s.target)}`])} />
          {step?.requiredFields.map((name) => {
            const id = `transition-field-${name}`;
            const choices = BOOLEAN_FIELDS.has(name) ? [["true", w("yes")], ["false", w("no")]] as Array<[string, string]>
              : CHOICES[name]?.map((c) => [c, labelled(c)] as [string, string]);
            if (choices) {
              return <Select id={id} name={name} label={labelled(name)} value={values[name] ?? ""} onChange={set(name)}
                options={[["", w("choose")], ...choices]} />;
            }
            return <Field label={labelled(name)} name={name} value={values[name] ?? ""} onInput={set(name)}
              type={isMoment(name) ? "datetime-local" : name.endsWith("_date") ? "date" : "text"} />;
          })}
          <ErrorBox error={error} />
          <button type="submit" class="primary" disabled={busy || !step}>{w("submit")}</button>
        </form>
      ) : <p class="muted">{w("noAction")}</p>}
      {!steps.length ? <ErrorBox error={error} /> : null}
      {moved ? <p class="good" role="status" id="complaint-moved">✓ {w("transitioned")} {stateName(flow, moved)}</p> : null}
    </Section>
  );
}

function Recorded({ fields }: { fields: Record<string, unknown> }) {
  const entries = Object.entries(fields ?? {});
  if (!entries.length) return null;
  const show = (v: unknown) => (typeof v === "boolean" ? (v ? w("yes") : w("no")) : typeof v === "string" ? (Object.values(CHOICES).some((c) => c.includes(v)) ? named(v)
    : /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v) ? when(v) : v) : JSON.stringify(v));
  return (
    <Section title={w("recorded")} id="complaint-fields-title">
      <dl class="details" id="complaint-fields">
        {entries.map(([key, value]) => {
          const [action, field] = key.includes(".") ? key.split(".", 2) : ["", key];
          return <><dt>{action ? `${named(action)} · ` : ""}{named(field)}</dt><dd>{show(value)}</dd></>;
        })}
      </dl>
    </Section>
  );
}

type TimelineEvent = ComplaintTimelineQuery["complaintTimeline"]["events"][number];

function eventDetail(e: TimelineEvent, flow: Flow | undefined): string {
  const d = (e.detail ?? {}) as Record<string, unknown>;
  const parts: string[] = [];
  if (e.action) parts.push(named(e.action));
  if (e.timer) {
    const timer = flow?.timers.find((x) => x.code === e.timer);
    parts.push(timer ? (zh() ? timer.nameZh : timer.nameEn) : e.timer);
  }
  if (Array.isArray(d.fields) && d.fields.length) parts.push(`${t("field")}: ${(d.fields as string[]).map(named).join(zh() ? "、" : ", ")}`);
  if (typeof d.due_at === "string") parts.push(`${t("due")} ${when(d.due_at)}`);
  if (typeof d.number === "string") parts.push(`${w("number")} ${d.number}`);
  if (typeof d.role === "string") parts.push(named(d.role));
  return parts.join(" · ");
}

function Timeline({ events, flow }: { events: TimelineEvent[]; flow: Flow | undefined }) {
  return (
    <Section title={t("timeline")} id="complaint-timeline-title">
      <div id="complaint-timeline" data-count={events.length}>
        <Table head={[t("at"), t("actor"), w("event"), w("fromTo"), w("detail")]}
          rows={events.map((e) => [
            when(e.at), <Actor actor={e.actor} />, <span class="event-kind" data-kind={e.kind}>{named(e.kind)}</span>,
            e.fromState || e.toState ? `${e.fromState ? stateName(flow, e.fromState) + " → " : ""}${stateName(flow, e.toState)}` : "—",
            eventDetail(e, flow),
          ])} />
      </div>
    </Section>
  );
}

// --- report ------------------------------------------------------------------------------------

const percent = (rate: number | null) => (rate === null ? "—" : `${Math.round(rate * 1000) / 10}%`);

function ReportView({ flows }: { flows: Flow[] }) {
  // The loss amount field a flow records (loss_amount in the medical-devices flow), else the API's default.
  const lossGuess = flows.flatMap((f) => f.transitions.flatMap((s) => s.requiredFields)).find((n) => n.startsWith("loss")) ?? "loss_cny";
  const [flowKey, setFlowKey] = useState("");
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const [lossField, setLossField] = useState(lossGuess);
  const [asked, setAsked] = useState<ComplaintReportQueryVariables>({ lossField: lossGuess });
  const report = useQuery<ComplaintReportQuery, ComplaintReportQueryVariables>(REPORT, asked);
  const r = report.data?.complaintReport;
  const flowOf = (vertical: string, flow: string) => flowName(findFlow(flows, vertical, flow), flow);
  const iso = (day: string) => (day ? new Date(`${day}T00:00:00`).toISOString() : null);

  return (
    <div>
      <p><a href="#/complaints">← {w("toList")}</a></p>
      <h1>{w("reportTitle")}</h1>
      <Section title={t("report")} id="complaint-report-form-title">
        <form id="complaint-report" class="inline" onSubmit={(e) => {
          e.preventDefault();
          const [vertical, flow] = flowKey ? flowKey.split("/") : [null, null];
          setAsked({ vertical, flow, since: iso(since), until: iso(until), lossField: lossField.trim() || "loss_cny" });
        }}>
          <Select id="report-flow" label={w("flow")} value={flowKey} onChange={setFlowKey}
            options={[["", w("allFlows")], ...flows.map((f) => [`${f.vertical}/${f.id}`, flowName(f, f.id)] as [string, string])]} />
          <Field label={w("since")} name="since" type="date" value={since} onInput={setSince} />
          <Field label={w("until")} name="until" type="date" value={until} onInput={setUntil} />
          <Field label={w("lossField")} name="lossField" value={lossField} onInput={setLossField} />
          <button type="submit" class="primary">{w("show")}</button>
        </form>
      </Section>
      <Loading loaded={report} />
      {r ? (
        <div id="complaint-report-result">
          <Section title={`${w("total")}: ${r.complaints}`} id="complaint-report-total">
            <p class="muted">{w("reportAt")} {when(r.at)} ({r.timezone})</p>
          </Section>
          <Section title={w("onTime")} id="complaint-report-ontime">
            <Table head={[w("flow"), w("timer"), w("metCount"), w("breachedCount"), w("pending"), w("rate")]}
              rows={r.onTime.map((x) => {
                const f = findFlow(flows, x.vertical, x.flow);
                const timer = f?.timers.find((y) => y.code === x.timer);
                return [flowOf(x.vertical, x.flow),
                  x.kind === "report" ? `${named("report")} (${x.timer})` : timer ? (zh() ? timer.nameZh : timer.nameEn) : x.timer,
                  x.onTime, x.breached, x.pending, percent(x.onTimeRate)];
              })} />
          </Section>
          <Section title={w("volumes")} id="complaint-report-volumes">
            <Table head={[w("flow"), w("category"), w("severity"), w("count"), w("open")]}
              rows={r.volumes.map((x) => [flowOf(x.vertical, x.flow), named(x.category), named(x.severity), x.complaints, x.open])} />
          </Section>
          <Section title={w("overdue")} id="complaint-report-overdue">
            <Table head={[w("department"), w("count"), w("clocksCount")]}
              rows={r.overdue.map((x) => [x.department ?? w("noDepartment"), x.complaints, x.clocks])} />
          </Section>
          <Section title={w("weekly")} id="complaint-report-weekly">
            <Periods rows={r.weekly} caption={w("weekly")} />
          </Section>
          <Section title={w("monthly")} id="complaint-report-monthly">
            <Periods rows={r.monthly} caption={w("monthly")} />
          </Section>
          <Section title={w("losses")} id="complaint-report-losses">
            <Table head={[w("department"), w("count"), w("amount"), w("unreadable")]}
              rows={r.losses.map((x) => [x.department ?? w("noDepartment"), x.complaints, x.total, x.unreadable])} />
          </Section>
        </div>
      ) : null}
    </div>
  );
}

function Periods({ rows, caption }: { rows: ComplaintReportQuery["complaintReport"]["weekly"]; caption: string }) {
  return (
    <Table caption={caption} head={[w("period"), w("openedCount"), w("closedCount"), w("metCount"), w("breachedCount"), w("rate")]}
      rows={rows.map((x) => [x.period, x.opened, x.closed, x.onTime, x.breached, percent(x.onTimeRate)])} />
  );
}
