// Grading (issue 20): review runs with their what-if (proposed grades against the current ones, every
// cap violation with the customers holding the grade), approved by another permitted person and
// published atomically (a hard cap refuses: GRADE_CAP_EXCEEDED); the blacklists (propose with a
// reason and evidence, another user approves or rejects, lift early); visit plans, the visits due in
// service-priority order, the overdue report, and recording a visit with its summary report.
// Routes: #/grading, #/grading/review/<id>, #/grading/blacklist, #/grading/blacklist/<id>, #/grading/visits.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { Access } from "../access";
import { holds, useAccess } from "../access";
import { ApiError, gql, ok } from "../api";
import { lang, t } from "../i18n";
import { navigate } from "../router";
import { Actor, ErrorBox, Field, Loading, Pager, Progress, Section, Table, asApiError, useQuery, when } from "../ui";
import REVIEWS from "../operations/GradingReviews.graphql?raw";
import REVIEW from "../operations/GradingReview.graphql?raw";
import PROPOSE from "../operations/GradingReviewPropose.graphql?raw";
import START from "../operations/GradingReviewStart.graphql?raw";
import APPROVE from "../operations/GradingReviewApprove.graphql?raw";
import PUBLISH from "../operations/GradingReviewPublish.graphql?raw";
import PUBLISH_START from "../operations/GradingReviewPublishStart.graphql?raw";
import JOB from "../operations/GradingJob.graphql?raw";
import DEPARTMENTS from "../operations/GradingDepartments.graphql?raw";
import CUSTOMERS from "../operations/GradingCustomers.graphql?raw";
import CUSTOMER_NAME from "../operations/GradingCustomerName.graphql?raw";
import ENTRIES from "../operations/GradingBlacklistEntries.graphql?raw";
import ENTRY from "../operations/GradingBlacklistEntry.graphql?raw";
import BL_PROPOSE from "../operations/GradingBlacklistPropose.graphql?raw";
import BL_APPROVE from "../operations/GradingBlacklistApprove.graphql?raw";
import BL_REJECT from "../operations/GradingBlacklistReject.graphql?raw";
import BL_LIFT from "../operations/GradingBlacklistLift.graphql?raw";
import DUE from "../operations/GradingVisitsDue.graphql?raw";
import VISIT_RECORD from "../operations/GradingVisitRecord.graphql?raw";
import PLAN_SET from "../operations/GradingVisitPlanSet.graphql?raw";
import type {
  BlacklistScope, BlacklistState, GradingBlacklistApproveMutation, GradingBlacklistEntriesQuery,
  GradingBlacklistEntriesQueryVariables, GradingBlacklistEntryQuery, GradingBlacklistLiftMutation,
  GradingBlacklistProposeMutation, GradingBlacklistProposeMutationVariables, GradingBlacklistRejectMutation,
  GradingCustomerNameQuery, GradingCustomersQuery, GradingCustomersQueryVariables, GradingDepartmentsQuery,
  GradingJobQuery, GradingReviewApproveMutation, GradingReviewProposeMutation, GradingReviewProposeMutationVariables,
  GradingReviewPublishMutation, GradingReviewPublishStartMutation, GradingReviewQuery, GradingReviewQueryVariables,
  GradingReviewStartMutation, GradingReviewsQuery, GradingReviewsQueryVariables, GradingVisitPlanSetMutation,
  GradingVisitRecordMutation, GradingVisitRecordMutationVariables, GradingVisitsDueQuery, GradingVisitsDueQueryVariables,
} from "../generated/graphql";

const W = {
  views: ["分级视图", "Grading views"],
  reviewsTab: ["评级审核", "Review runs"],
  blacklistTab: ["黑名单", "Blacklist"],
  visitsTab: ["拜访", "Visits"],
  propose: ["发起评级审核", "Propose a review run"],
  scheme: ["分级方案", "Grading scheme"],
  scope: ["范围（部门）", "Scope (department)"],
  wholeOrg: ["整个组织", "Whole organisation"],
  chooseDept: ["请选择部门", "Choose a department"],
  setAll: ["全部设为", "Set every listed customer to"],
  computed: ["按事实计算", "computed from facts"],
  proposedGrade: ["拟定等级", "Proposed grade"],
  proposeSubmit: ["提出评审", "Propose"],
  startJob: ["后台评审（按事实计算）", "Review in the background (from facts)"],
  customer: ["客户", "Customer"],
  moreCustomers: ["仅列出前 100 个客户；更大的范围请用后台评审。", "Only the first 100 customers are listed; review a larger scope in the background."],
  status: ["状态", "Status"],
  scopeCol: ["范围", "Scope"],
  proposedBy: ["提出人", "Proposed by"],
  proposedAt: ["提出时间", "Proposed"],
  approvedBy: ["审批人", "Approved by"],
  approvedAt: ["审批时间", "Approved"],
  publishedAt: ["发布时间", "Published"],
  filterStatus: ["按状态筛选", "Filter by status"],
  all: ["全部", "All"],
  proposed: ["待审批", "Proposed"],
  approved: ["已审批", "Approved"],
  published: ["已发布", "Published"],
  review: ["评级审核", "Review run"],
  population: ["范围内客户数", "Customers in scope"],
  proposals: ["拟定等级数", "Proposed grades"],
  changes: ["等级变化", "Changes"],
  publishable: ["可以发布（未超过硬性上限）", "Publishable (no hard cap exceeded)"],
  notPublishable: ["不可发布：将超过硬性比例上限", "Not publishable: a hard cap would be exceeded"],
  violations: ["比例上限超标", "Cap violations"],
  noViolations: ["没有超过比例上限的等级。", "No grade exceeds its cap."],
  grade: ["等级", "Grade"],
  cap: ["上限", "Cap"],
  holders: ["持有数 / 总数", "Holders / population"],
  share: ["占比", "Share"],
  kind: ["类型", "Kind"],
  hard: ["硬性上限（禁止发布）", "Hard cap (refuses publication)"],
  soft: ["原则上（仅提示）", "In principle (warning)"],
  offending: ["持有该等级的客户", "Customers holding the grade"],
  andMore: ["等，共", "… of"],
  current: ["现有等级", "Current grade"],
  none: ["无", "none"],
  actions: ["审批与发布", "Approve and publish"],
  approve: ["审批通过", "Approve"],
  publishNow: ["发布", "Publish"],
  approvedOk: ["已审批。", "Approved."],
  publishedOk: ["已发布，所有等级变化已生效。", "Published: every change took effect."],
  proposedHint: ["须由提出人以外的有权人员审批。", "Someone other than the proposer approves it."],
  blPropose: ["提出列入黑名单", "Propose for the blacklist"],
  findCustomer: ["查找客户（名称或电话）", "Find a customer (name or phone)"],
  pickCustomer: ["选择客户", "Customer"],
  noMatch: ["没有找到客户", "No customer found"],
  blScope: ["黑名单范围", "Blacklist"],
  company: ["公司黑名单", "Company blacklist"],
  department: ["部门黑名单", "Department blacklist"],
  dept: ["部门", "Department"],
  reason: ["原因", "Reason"],
  evidenceText: ["证据说明", "Evidence"],
  evidenceRef: ["证据编号（文件号等）", "Evidence reference (document number)"],
  validity: ["有效天数（可缩短，留空为默认）", "Validity in days (shorter only; blank: the default)"],
  submitProposal: ["提交申请", "Submit the proposal"],
  blProposed: ["已提出，待他人审批。", "Proposed: another user approves it."],
  entries: ["黑名单记录", "Blacklist entries"],
  filterState: ["按状态筛选", "Filter by state"],
  PROPOSED: ["待审批", "Proposed"],
  ACTIVE: ["生效中", "Active"],
  REJECTED: ["已驳回", "Rejected"],
  LIFTED: ["已解除", "Lifted"],
  EXPIRED: ["已到期", "Expired"],
  inForce: ["当前生效", "In force"],
  yes: ["是", "yes"],
  no: ["否", "no"],
  expires: ["到期", "Expires"],
  never: ["长期", "no expiry"],
  entry: ["黑名单记录", "Blacklist entry"],
  evidence: ["证据", "Evidence"],
  decision: ["审批", "Decision"],
  noteOrReason: ["意见（驳回时必填）", "Note (required to reject)"],
  reject: ["驳回", "Reject"],
  lift: ["提前解除", "Lift early"],
  liftReason: ["解除原因", "Reason to lift"],
  done: ["已保存。", "Saved."],
  starts: ["生效时间", "In force since"],
  ended: ["结束", "Ended"],
  due: ["待拜访（按服务优先级）", "Visits due (service priority order)"],
  horizon: ["截止范围", "Due within"],
  today: ["今天", "today"],
  days7: ["7 天内", "7 days"],
  days31: ["31 天内", "31 days"],
  plan: ["拜访计划", "Plan"],
  channel: ["方式", "Channel"],
  on_site: ["上门", "on site"],
  phone: ["电话", "phone"],
  any: ["任意", "any"],
  priority: ["优先级", "Priority"],
  dueAt: ["应拜访日期", "Due"],
  lastVisit: ["上次拜访", "Last visit"],
  owner: ["负责人", "Owner"],
  statusDue: ["待拜访", "due"],
  statusOverdue: ["已逾期", "overdue"],
  record: ["记录拜访", "Record a visit"],
  recordFor: ["记录拜访：", "Record a visit: "],
  visitedAt: ["拜访时间", "Visited at"],
  needs: ["客户最新需求", "Latest needs"],
  opinions: ["客户意见", "Opinions"],
  suggestions: ["客户建议", "Suggestions"],
  saveVisit: ["保存拜访记录", "Save the visit"],
  visitSaved: ["拜访已记录，下次拜访日期已更新。", "Visit recorded; the next due date moved."],
  overdueReport: ["逾期拜访报告", "Overdue visits report"],
  overdueTotal: ["逾期总数", "Overdue in total"],
  count: ["数量", "Count"],
  oldest: ["最早应拜访", "Oldest due"],
  planSet: ["按等级安排拜访计划", "Put a customer on a visit plan"],
  vertical: ["行业", "Vertical"],
  planGrade: ["客户等级", "Grade"],
  planSaved: ["已加入拜访计划：", "On the plans: "],
  jobRunning: ["后台评审进行中", "Review running in the background"],
} as const;
const w = (k: keyof typeof W): string => W[k][lang.get() === "zh" ? 0 : 1];

// The grading schemes the verticals declare (the API names them but does not list them).
interface Scheme {
  vertical: string;
  scheme: string;
  name: readonly [string, string];
  perDepartment: boolean;
  permission: string;
  grades: ReadonlyArray<readonly [string, string, string]>;
}
const SCHEMES: Scheme[] = [
  {
    vertical: "medical_devices", scheme: "customer_grade", perDepartment: true,
    name: ["医疗器械·客户分级（VIP类/优选类/合格类）", "Medical devices · customer grade"],
    permission: "medical_devices.grade.assign",
    grades: [["vip", "VIP类", "VIP"], ["preferred", "优选类", "Preferred"], ["qualified", "合格类", "Qualified"]],
  },
  {
    vertical: "tobacco", scheme: "tier", perDepartment: false, name: ["烟草·零售客户档位", "Tobacco · retailer tier"],
    permission: "tobacco.grade.change",
    grades: Array.from({ length: 30 }, (_, i) => [`T${i + 1}`, `第${i + 1}档`, `Tier ${i + 1}`] as const),
  },
];

const zh = () => lang.get() === "zh";
const schemeOf = (vertical: string, scheme: string) => SCHEMES.find((s) => s.vertical === vertical && s.scheme === scheme);
const schemeName = (vertical: string, scheme: string) => schemeOf(vertical, scheme)?.name[zh() ? 0 : 1] ?? `${vertical}/${scheme}`;

function gradeName(vertical: string, scheme: string | null, code: string | null | undefined): string {
  if (!code) return w("none");
  const s = scheme ? schemeOf(vertical, scheme) : SCHEMES.find((x) => x.vertical === vertical);
  const g = s?.grades.find((x) => x[0] === code);
  return g ? g[zh() ? 1 : 2] : code;
}

/** The tenant enabled a vertical with a grading scheme, and the user grades with it or reads the blacklist. */
export function visible(a: Access): boolean {
  const on = SCHEMES.filter((s) => a.verticals.has(s.vertical));
  return on.length > 0 && (on.some((s) => a.permissions.has(s.permission)) || holds(a, "blacklist"));
}

// --- small shared pieces ---------------------------------------------------------------------------

let ids = 0;
const useId = () => useState(() => `grading-${++ids}`)[0];

function Select(props: { label: string; value: string; onChange: (v: string) => void; name?: string;
  options: Array<[string, string]> }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select id={id} name={props.name} value={props.value}
        onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        {props.options.map(([v, label]) => <option value={v} selected={v === props.value}>{label}</option>)}
      </select>
    </div>
  );
}

function TextArea(props: { label: string; value: string; onInput: (v: string) => void; name: string }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <textarea id={id} name={props.name} rows={2} value={props.value}
        onInput={(e) => props.onInput((e.target as HTMLTextAreaElement).value)} />
    </div>
  );
}

const names = new Map<string, Promise<string>>();

/** A customer's name (as the API shows it to this user), linking to the customer. */
function CustomerName({ id }: { id: string }) {
  const [name, setName] = useState<string>(id.slice(0, 8));
  useEffect(() => {
    if (!names.has(id)) {
      names.set(id, gql<GradingCustomerNameQuery>(CUSTOMER_NAME, { id }).then((d) => d.customer.displayName,
        () => id.slice(0, 8)));
    }
    let live = true;
    void names.get(id)!.then((n) => live && setName(n));
    return () => {
      live = false;
    };
  }, [id]);
  return <a href={`#/customers/${encodeURIComponent(id)}`} class="grading-customer">{name}</a>;
}

function useDepartments(): Map<string, string> {
  const found = useQuery<GradingDepartmentsQuery, Record<string, never>>(DEPARTMENTS, {});
  return new Map((found.data?.departments.nodes ?? []).map((d) => [d.id, d.name]));
}

function scopeName(scopeKey: string | null | undefined, departments: Map<string, string>): string {
  if (!scopeKey || scopeKey === "tenant") return w("wholeOrg");
  return departments.get(scopeKey) ?? scopeKey;
}

function useJob(id: string | null) {
  const [job, setJob] = useState<GradingJobQuery["job"] | null>(null);
  useEffect(() => {
    setJob(null);
    if (!id) return;
    let live = true;
    let timer = 0;
    const poll = async () => {
      try {
        const found = (await gql<GradingJobQuery>(JOB, { id })).job;
        if (!live) return;
        setJob(found);
        if (found.status === "queued" || found.status === "running") timer = window.setTimeout(poll, 500);
      } catch {
        if (live) timer = window.setTimeout(poll, 1500);
      }
    };
    void poll();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [id]);
  return job;
}

function JobProgress({ job }: { job: GradingJobQuery["job"] | null }) {
  if (!job) return null;
  return (
    <div id="grading-job" data-status={job.status}>
      <Progress done={job.progressDone} total={job.progressTotal} label={w("jobRunning")} />
      {job.errorCode ? <p class="error" role="alert"><code>{job.errorCode}</code> {job.errorMessage}</p> : null}
    </div>
  );
}

function SubNav({ current }: { current: "reviews" | "blacklist" | "visits" }) {
  const link = (key: typeof current, path: string, word: keyof typeof W) => (
    <a href={`#/grading${path}`} aria-current={current === key ? "page" : undefined}>{w(word)}</a>
  );
  return (
    <nav class="pager" aria-label={w("views")}>
      {link("reviews", "", "reviewsTab")}
      {link("blacklist", "/blacklist", "blacklistTab")}
      {link("visits", "/visits", "visitsTab")}
    </nav>
  );
}

function Page(props: { current: "reviews" | "blacklist" | "visits"; children: ComponentChildren }) {
  return (
    <div>
      <h1>{t("grading")}</h1>
      <SubNav current={props.current} />
      {props.children}
    </div>
  );
}

// --- the screen ------------------------------------------------------------------------------------

export function Grading({ rest }: { rest: string }) {
  const access = useAccess();
  const review = rest.match(/^\/review\/([^/]+)$/);
  if (review) return <ReviewDetail id={decodeURIComponent(review[1])} />;
  const entry = rest.match(/^\/blacklist\/([^/]+)$/);
  if (entry) return <BlacklistDetail id={decodeURIComponent(entry[1])} />;
  if (rest.startsWith("/blacklist")) return <Page current="blacklist"><Blacklist /></Page>;
  if (rest.startsWith("/visits")) return <Page current="visits"><Visits access={access} /></Page>;
  return <Page current="reviews"><Reviews access={access} /></Page>;
}

// --- review runs -----------------------------------------------------------------------------------

function Reviews({ access }: { access: Access | null }) {
  const departments = useDepartments();
  const [status, setStatus] = useState("");
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const page = useQuery<GradingReviewsQuery, GradingReviewsQueryVariables>(REVIEWS,
    { first: 20, after, status: status || null });
  const list = page.data?.gradeReviews;
  const schemes = access
    ? SCHEMES.filter((s) => access.verticals.has(s.vertical) && access.permissions.has(s.permission)) : [];
  return (
    <>
      {schemes.length ? <ProposeReview schemes={schemes} departments={departments} /> : null}
      <Section title={w("reviewsTab")} id="grading-reviews-title">
        <form class="inline" onSubmit={(e) => e.preventDefault()}>
          <Select label={w("filterStatus")} name="status" value={status} onChange={(v) => {
            setCursors([]);
            setStatus(v);
          }} options={[["", w("all")], ["proposed", w("proposed")], ["approved", w("approved")],
            ["published", w("published")]]} />
        </form>
        <Loading loaded={page} />
        {list ? (
          <div id="grading-reviews">
            <Table head={[w("proposedAt"), w("scheme"), w("scopeCol"), w("status"), w("proposedBy")]}
              rows={list.nodes.map((r) => [
                <a href={`#/grading/review/${encodeURIComponent(r.id)}`} class="review-link">{when(r.proposedAt)}</a>,
                schemeName(r.vertical, r.scheme),
                scopeName(r.scopeKey, departments),
                <span class={`review-status ${r.status === "published" ? "good" : ""}`}>{reviewStatus(r.status)}</span>,
                <Actor actor={r.proposedBy} />,
              ])} />
            <Pager atFirst={!cursors.length} hasNext={list.pageInfo.hasNextPage}
              onNext={() => list.pageInfo.endCursor && setCursors([...cursors, list.pageInfo.endCursor])}
              onPrevious={() => setCursors(cursors.slice(0, -1))} />
          </div>
        ) : null}
      </Section>
    </>
  );
}

function reviewStatus(status: string): string {
  return status === "proposed" || status === "approved" || status === "published" ? w(status) : status;
}

function ProposeReview(props: { schemes: Scheme[]; departments: Map<string, string> }) {
  const [chosen, setChosen] = useState(0);
  const scheme = props.schemes[Math.min(chosen, props.schemes.length - 1)];
  const [scopeId, setScopeId] = useState("");
  const [grades, setGrades] = useState<Record<string, string>>({});
  const [all, setAll] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useJob(jobId);
  const needsScope = scheme.perDepartment && !scopeId;
  const customers = useQuery<GradingCustomersQuery, GradingCustomersQueryVariables>(CUSTOMERS,
    { text: null, departmentId: scheme.perDepartment ? scopeId : null, first: 100 }, needsScope);
  const listed = needsScope ? [] : customers.data?.customers.nodes ?? [];

  useEffect(() => {
    if (job?.status !== "succeeded" || !job.result) return;
    try {
      const reviewId = (JSON.parse(job.result) as { review_id?: string }).review_id;
      if (reviewId) navigate(`/grading/review/${encodeURIComponent(reviewId)}`);
    } catch {
      /* a result without a review: the list shows it */
    }
  }, [job?.status]);

  const gradeOptions: Array<[string, string]> = [["", w("computed")],
    ...scheme.grades.map(([code, zhName, enName]) => [code, zh() ? zhName : enName] as [string, string])];

  async function propose(event: Event) {
    event.preventDefault();
    setError(null);
    setBusy(true);
    const proposals = listed.filter((c) => grades[c.id]).map((c) => ({ customerId: c.id, grade: grades[c.id] }));
    try {
      const data = await gql<GradingReviewProposeMutation, GradingReviewProposeMutationVariables>(PROPOSE, {
        vertical: scheme.vertical, scheme: scheme.scheme, scopeId: scheme.perDepartment ? scopeId || null : null,
        proposals,
      });
      navigate(`/grading/review/${encodeURIComponent(ok(data.gradeReviewPropose).review!.id)}`);
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  }

  async function start() {
    setError(null);
    try {
      const data = await gql<GradingReviewStartMutation>(START, {
        vertical: scheme.vertical, scheme: scheme.scheme, scopeId: scheme.perDepartment ? scopeId || null : null });
      setJobId(ok(data.gradeReviewStart).job!.id);
    } catch (e) {
      setError(asApiError(e));
    }
  }

  return (
    <Section title={w("propose")} id="grading-propose-title">
      <form id="review-propose" onSubmit={propose}>
        <div>
          <Select label={w("scheme")} name="scheme" value={String(chosen)} onChange={(v) => {
            setChosen(Number(v));
            setGrades({});
          }} options={props.schemes.map((s, i) => [String(i), s.name[zh() ? 0 : 1]])} />
          {scheme.perDepartment ? (
            <Select label={w("scope")} name="scope" value={scopeId} onChange={(v) => {
              setScopeId(v);
              setGrades({});
            }} options={[["", w("chooseDept")], ...[...props.departments].map(([id, name]) => [id, name] as [string, string])]} />
          ) : null}
        </div>
        {!needsScope ? (
          <>
            <Loading loaded={customers} />
            {listed.length ? (
              <>
                <Select label={w("setAll")} name="all" value={all} options={gradeOptions} onChange={(v) => {
                  setAll(v);
                  setGrades(Object.fromEntries(listed.map((c) => [c.id, v])));
                }} />
                <Table head={[w("customer"), w("proposedGrade")]} rows={listed.map((c) => [
                  c.displayName,
                  <select aria-label={`${w("proposedGrade")}: ${c.displayName}`} name={`grade-${c.id}`}
                    class="proposal-grade" value={grades[c.id] ?? ""}
                    onChange={(e) => setGrades({ ...grades, [c.id]: (e.target as HTMLSelectElement).value })}>
                    {gradeOptions.map(([v, label]) => <option value={v} selected={(grades[c.id] ?? "") === v}>{label}</option>)}
                  </select>,
                ])} />
                {customers.data?.customers.pageInfo.hasNextPage ? <p class="muted">{w("moreCustomers")}</p> : null}
              </>
            ) : null}
          </>
        ) : null}
        <div class="pager">
          <button type="submit" class="primary" disabled={busy || needsScope}>{w("proposeSubmit")}</button>
          <button type="button" id="review-start" disabled={needsScope} onClick={start}>{w("startJob")}</button>
        </div>
      </form>
      <JobProgress job={job} />
      <ErrorBox error={error} />
    </Section>
  );
}

function ReviewDetail({ id }: { id: string }) {
  const departments = useDepartments();
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const read = useQuery<GradingReviewQuery, GradingReviewQueryVariables>(REVIEW, { id, first: 50, after });
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useJob(jobId);
  useEffect(() => {
    if (job?.status === "succeeded") {
      setDone(w("publishedOk"));
      read.reload();
    }
  }, [job?.status]);
  const r = read.data?.gradeReview;
  const whatIf = r?.whatIf;

  async function act(kind: "approve" | "publish") {
    setError(null);
    setDone(null);
    try {
      if (kind === "approve") {
        ok((await gql<GradingReviewApproveMutation>(APPROVE, { id })).gradeReviewApprove);
        setDone(w("approvedOk"));
      } else if ((whatIf?.proposalCount ?? 0) > 2000) {
        setJobId(ok((await gql<GradingReviewPublishStartMutation>(PUBLISH_START, { id })).gradeReviewPublishStart).job!.id);
        return;
      } else {
        ok((await gql<GradingReviewPublishMutation>(PUBLISH, { id })).gradeReviewPublish);
        setDone(w("publishedOk"));
      }
      read.reload();
    } catch (e) {
      setError(asApiError(e));
    }
  }

  return (
    <div>
      <p><a href="#/grading">← {t("back")}</a></p>
      <h1>{w("review")}</h1>
      <Loading loaded={read} />
      {r && whatIf ? (
        <>
          <Section title={schemeName(r.vertical, r.scheme)} id="review-title">
            <dl class="details">
              <dt>{w("scopeCol")}</dt><dd>{scopeName(r.scopeKey, departments)}</dd>
              <dt>{w("status")}</dt><dd id="review-status">{reviewStatus(r.status)}</dd>
              <dt>{w("proposedBy")}</dt><dd><Actor actor={r.proposedBy} /> · {when(r.proposedAt)}</dd>
              <dt>{w("approvedBy")}</dt><dd>{r.approvedBy ? <><Actor actor={r.approvedBy} /> · {when(r.approvedAt)}</> : "—"}</dd>
              <dt>{w("publishedAt")}</dt><dd>{when(r.publishedAt)}</dd>
            </dl>
          </Section>
          <Section title={t("whatIf")} id="whatif-title">
            <dl class="details">
              <dt>{w("population")}</dt><dd id="whatif-population">{whatIf.population}</dd>
              <dt>{w("proposals")}</dt><dd>{whatIf.proposalCount}</dd>
              <dt>{w("changes")}</dt><dd id="whatif-changes">{whatIf.changeCount}</dd>
            </dl>
            <p id="whatif-publishable" class={whatIf.publishable ? "good" : "bad"}>
              {whatIf.publishable ? w("publishable") : w("notPublishable")}
            </p>
            <h3>{w("violations")}</h3>
            {whatIf.violations.length ? (
              <div id="whatif-violations">
                <Table head={[w("grade"), w("cap"), w("holders"), w("share"), w("kind"), w("offending")]}
                  rows={whatIf.violations.map((v) => [
                    gradeName(r.vertical, r.scheme, v.grade),
                    `${Number(v.capPercent) || v.capPercent}%`,
                    `${v.count} / ${v.population}`,
                    `${v.percent}%`,
                    <span class={v.soft ? "clock-paused" : "bad"}>{v.soft ? w("soft") : w("hard")}</span>,
                    <span>
                      {v.customerIds.slice(0, 5).map((c, i) => <>{i ? "、" : ""}<CustomerName id={c} /></>)}
                      {v.customerCount > 5 ? ` ${w("andMore")} ${v.customerCount}` : ""}
                    </span>,
                  ])} />
              </div>
            ) : <p class="good">{w("noViolations")}</p>}
            <h3>{w("changes")}</h3>
            <div id="whatif-rows">
              <Table head={[w("customer"), w("current"), w("proposedGrade")]} rows={whatIf.changes.nodes.map((c) => [
                <CustomerName id={c.customerId} />,
                gradeName(r.vertical, r.scheme, c.fromGrade),
                gradeName(r.vertical, r.scheme, c.toGrade),
              ])} />
            </div>
            <Pager atFirst={!cursors.length} hasNext={whatIf.changes.pageInfo.hasNextPage}
              onNext={() => whatIf.changes.pageInfo.endCursor && setCursors([...cursors, whatIf.changes.pageInfo.endCursor])}
              onPrevious={() => setCursors(cursors.slice(0, -1))} />
          </Section>
          {r.status !== "published" ? (
            <Section title={w("actions")} id="review-actions-title">
              {r.status === "proposed" ? (
                <>
                  <p class="muted">{w("proposedHint")}</p>
                  <button type="button" id="review-approve" class="primary" onClick={() => act("approve")}>{w("approve")}</button>
                </>
              ) : (
                <button type="button" id="review-publish" class="primary" onClick={() => act("publish")}>{w("publishNow")}</button>
              )}
              <JobProgress job={job} />
              {done ? <p class="good" role="status">{done}</p> : null}
              <ErrorBox error={error} />
            </Section>
          ) : done ? <p class="good" role="status">{done}</p> : null}
        </>
      ) : null}
    </div>
  );
}

// --- blacklist -------------------------------------------------------------------------------------

function CustomerPicker(props: { value: string; onChange: (id: string) => void }) {
  const [text, setText] = useState("");
  const [search, setSearch] = useState<string | null>(null);
  const found = useQuery<GradingCustomersQuery, GradingCustomersQueryVariables>(CUSTOMERS,
    { text: search, departmentId: null, first: 20 }, search === null);
  const nodes = found.data?.customers.nodes ?? [];
  useEffect(() => {
    if (nodes.length && !nodes.some((c) => c.id === props.value)) props.onChange(nodes[0].id);
  }, [found.data]);
  const searchId = useId();
  return (
    <>
      <div>
        <div class="field">
          <label for={searchId}>{w("findCustomer")}</label>
          <input id={searchId} name="customer-search" value={text} autocomplete="off"
            onInput={(e) => setText((e.target as HTMLInputElement).value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                setSearch(text.trim());
              }
            }} />
        </div>
        <button type="button" class="customer-search" onClick={() => setSearch(text.trim())}>{t("search")}</button>
      </div>
      {search !== null ? <Loading loaded={found} /> : null}
      {search !== null && found.data ? (nodes.length ? (
        <Select label={w("pickCustomer")} name="customer" value={props.value} onChange={props.onChange}
          options={nodes.map((c) => [c.id, c.displayName])} />
      ) : <p class="muted">{w("noMatch")}</p>) : null}
    </>
  );
}

function stateWord(state: string): string {
  return state in W ? w(state as keyof typeof W) : state;
}

function Blacklist() {
  const departments = useDepartments();
  const [state, setState] = useState("");
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const page = useQuery<GradingBlacklistEntriesQuery, GradingBlacklistEntriesQueryVariables>(ENTRIES,
    { state: (state || null) as BlacklistState | null, first: 20, after });
  const list = page.data?.blacklistEntries;
  return (
    <>
      <BlacklistPropose departments={departments} onDone={page.reload} />
      <Section title={w("entries")} id="blacklist-entries-title">
        <form class="inline" onSubmit={(e) => e.preventDefault()}>
          <Select label={w("filterState")} name="state" value={state} onChange={(v) => {
            setCursors([]);
            setState(v);
          }} options={[["", w("all")], ...(["PROPOSED", "ACTIVE", "REJECTED", "LIFTED", "EXPIRED"] as const).map(
            (s) => [s, w(s)] as [string, string])]} />
        </form>
        <Loading loaded={page} />
        {list ? (
          <div id="blacklist-entries">
            <Table head={[w("proposedAt"), w("customer"), w("blScope"), w("status"), w("inForce"), w("reason"), w("expires")]}
              rows={list.nodes.map((e) => [
                <a href={`#/grading/blacklist/${encodeURIComponent(e.id)}`} class="entry-link">{when(e.proposedAt)}</a>,
                <CustomerName id={e.customerId} />,
                e.scope === "COMPANY" ? w("company") : `${w("department")} · ${scopeName(e.departmentId, departments)}`,
                <span class="entry-state">{stateWord(e.state)}</span>,
                e.inForce ? <span class="bad">{w("yes")}</span> : w("no"),
                e.reason,
                e.expiresAt ? when(e.expiresAt) : e.state === "ACTIVE" ? w("never") : "—",
              ])} />
            <Pager atFirst={!cursors.length} hasNext={list.pageInfo.hasNextPage}
              onNext={() => list.pageInfo.endCursor && setCursors([...cursors, list.pageInfo.endCursor])}
              onPrevious={() => setCursors(cursors.slice(0, -1))} />
          </div>
        ) : null}
      </Section>
    </>
  );
}

function BlacklistPropose(props: { departments: Map<string, string>; onDone: () => void }) {
  const [customerId, setCustomerId] = useState("");
  const [scope, setScope] = useState<BlacklistScope>("DEPARTMENT");
  const [departmentId, setDepartmentId] = useState("");
  const [reason, setReason] = useState("");
  const [evidenceText, setEvidenceText] = useState("");
  const [evidenceRef, setEvidenceRef] = useState("");
  const [days, setDays] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState(false);
  const firstDepartment = [...props.departments.keys()][0] ?? "";

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    setDone(false);
    const evidence = evidenceText.trim() || evidenceRef.trim()
      ? [{ text: evidenceText.trim() || null, reference: evidenceRef.trim() || null }] : [];
    try {
      const data = await gql<GradingBlacklistProposeMutation, GradingBlacklistProposeMutationVariables>(BL_PROPOSE, {
        input: {
          customerId, scope, reason, evidence,
          departmentId: scope === "DEPARTMENT" ? departmentId || firstDepartment || null : null,
          validityDays: days.trim() ? Number(days) : null,
        },
      });
      ok(data.blacklistPropose);
      setDone(true);
      setReason("");
      setEvidenceText("");
      setEvidenceRef("");
      setDays("");
      props.onDone();
    } catch (e) {
      setError(asApiError(e));
    }
  }

  return (
    <Section title={w("blPropose")} id="blacklist-propose-title">
      <form id="blacklist-propose" onSubmit={submit}>
        <CustomerPicker value={customerId} onChange={setCustomerId} />
        <div>
          <Select label={w("blScope")} name="scope" value={scope} onChange={(v) => setScope(v as BlacklistScope)}
            options={[["DEPARTMENT", w("department")], ["COMPANY", w("company")]]} />
          {scope === "DEPARTMENT" ? (
            <Select label={w("dept")} name="department" value={departmentId || firstDepartment} onChange={setDepartmentId}
              options={[...props.departments].map(([id, name]) => [id, name] as [string, string])} />
          ) : null}
        </div>
        <Field label={w("reason")} name="reason" value={reason} onInput={setReason} required />
        <Field label={w("evidenceText")} name="evidence" value={evidenceText} onInput={setEvidenceText} />
        <Field label={w("evidenceRef")} name="reference" value={evidenceRef} onInput={setEvidenceRef} />
        <Field label={w("validity")} name="validity" type="number" value={days} onInput={setDays} />
        <button type="submit" class="primary" disabled={!customerId}>{w("submitProposal")}</button>
      </form>
      {done ? <p class="good" role="status" id="blacklist-proposed">{w("blProposed")}</p> : null}
      <ErrorBox error={error} />
    </Section>
  );
}

function BlacklistDetail({ id }: { id: string }) {
  const departments = useDepartments();
  const read = useQuery<GradingBlacklistEntryQuery, { id: string }>(ENTRY, { id });
  const [text, setText] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState(false);
  const e = read.data?.blacklistEntry;

  async function act(kind: "approve" | "reject" | "lift") {
    if (!e) return;
    setError(null);
    setDone(false);
    try {
      if (kind === "approve") {
        ok((await gql<GradingBlacklistApproveMutation>(BL_APPROVE, { id, version: e.version, note: text || null }))
          .blacklistApprove);
      } else if (kind === "reject") {
        ok((await gql<GradingBlacklistRejectMutation>(BL_REJECT, { id, version: e.version, reason: text })).blacklistReject);
      } else {
        ok((await gql<GradingBlacklistLiftMutation>(BL_LIFT, { id, version: e.version, reason: text })).blacklistLift);
      }
      setText("");
      setDone(true);
      read.reload();
    } catch (err) {
      setError(asApiError(err));
    }
  }

  return (
    <div>
      <p><a href="#/grading/blacklist">← {t("back")}</a></p>
      <h1>{w("entry")}</h1>
      <Loading loaded={read} />
      {e ? (
        <>
          <Section title={e.scope === "COMPANY" ? w("company") : `${w("department")} · ${scopeName(e.departmentId, departments)}`}
            id="entry-title">
            <dl class="details">
              <dt>{w("customer")}</dt><dd><CustomerName id={e.customerId} /></dd>
              <dt>{w("status")}</dt><dd id="entry-state">{stateWord(e.state)}</dd>
              <dt>{w("inForce")}</dt><dd id="entry-in-force">{e.inForce ? w("yes") : w("no")}</dd>
              <dt>{w("reason")}</dt><dd>{e.reason}</dd>
              <dt>{w("evidence")}</dt>
              <dd>{e.evidence.map((i) => [i.text, i.reference].filter(Boolean).join(" · ")).join("；") || "—"}</dd>
              <dt>{w("proposedBy")}</dt><dd><Actor actor={e.proposedBy} /> · {when(e.proposedAt)}</dd>
              <dt>{w("approvedBy")}</dt><dd>{e.approvedBy ? <><Actor actor={e.approvedBy} /> · {when(e.approvedAt)}</> : "—"}</dd>
              <dt>{w("starts")}</dt><dd>{when(e.startsAt)}</dd>
              <dt>{w("expires")}</dt><dd id="entry-expires">{e.expiresAt ? when(e.expiresAt) : e.state === "ACTIVE" ? w("never") : "—"}</dd>
              {e.endedAt ? <><dt>{w("ended")}</dt><dd>{when(e.endedAt)} · {e.endReason}</dd></> : null}
            </dl>
          </Section>
          {e.state === "PROPOSED" || e.state === "ACTIVE" ? (
            <Section title={e.state === "PROPOSED" ? w("decision") : w("lift")} id="entry-decision-title">
              <form id="entry-decision" onSubmit={(ev) => {
                ev.preventDefault();
                void act(e.state === "PROPOSED" ? "approve" : "lift");
              }}>
                <Field label={e.state === "PROPOSED" ? w("noteOrReason") : w("liftReason")} name="text" value={text}
                  onInput={setText} />
                <div class="pager">
                  {e.state === "PROPOSED" ? (
                    <>
                      <button type="submit" id="entry-approve" class="primary">{w("approve")}</button>
                      <button type="button" id="entry-reject" onClick={() => act("reject")}>{w("reject")}</button>
                    </>
                  ) : <button type="submit" id="entry-lift">{w("lift")}</button>}
                </div>
              </form>
              <ErrorBox error={error} />
            </Section>
          ) : null}
          {done ? <p class="good" role="status">{w("done")}</p> : null}
        </>
      ) : null}
    </div>
  );
}

// --- visits ----------------------------------------------------------------------------------------

type Schedule = GradingVisitsDueQuery["dueVisits"]["nodes"][number];

function localNow(): string {
  const d = new Date(Date.now() - 60_000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const PLANS: Record<string, readonly [string, string]> = {
  vip_monthly: ["VIP类每月上门走访", "VIP: on site monthly"],
  preferred_monthly: ["优选类每月上门走访", "Preferred: on site monthly"],
};
const planName = (id: string) => PLANS[id]?.[zh() ? 0 : 1] ?? id;

function channelWord(c: string): string {
  return c === "on_site" || c === "phone" || c === "any" ? w(c) : c;
}

function Visits({ access }: { access: Access | null }) {
  const departments = useDepartments();
  const [days, setDays] = useState("31");
  const [until] = useState(() => Date.now());
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const page = useQuery<GradingVisitsDueQuery, GradingVisitsDueQueryVariables>(DUE, {
    until: new Date(until + Number(days) * 86_400_000).toISOString(), first: 20, after });
  const [recording, setRecording] = useState<Schedule | null>(null);
  const list = page.data?.dueVisits;
  const report = page.data?.visitOverdueReport;
  return (
    <>
      <Section title={w("due")} id="visits-due-title">
        <form class="inline" onSubmit={(e) => e.preventDefault()}>
          <Select label={w("horizon")} name="horizon" value={days} onChange={(v) => {
            setCursors([]);
            setDays(v);
          }} options={[["0", w("today")], ["7", w("days7")], ["31", w("days31")]]} />
        </form>
        <Loading loaded={page} />
        {list ? (
          <div id="visits-due">
            <Table head={[w("customer"), w("plan"), w("grade"), w("channel"), w("priority"), w("status"), w("dueAt"),
              w("lastVisit"), ""]} rows={list.nodes.map((s) => [
                <CustomerName id={s.customerId} />,
                <span class="visit-plan" title={s.planId}>{planName(s.planId)}</span>,
                gradeName(SCHEMES.find((x) => x.grades.some((g) => g[0] === s.grade))?.vertical ?? "", null, s.grade),
                channelWord(s.channel),
                s.priority,
                <span class={s.status === "overdue" ? "clock-breached" : "clock-running"}>
                  {s.status === "overdue" ? w("statusOverdue") : s.status === "due" ? w("statusDue") : s.status}
                </span>,
                when(s.dueAt),
                when(s.lastVisitAt),
                <button type="button" class="visit-record" onClick={() => setRecording(s)}>{w("record")}</button>,
              ])} />
            <Pager atFirst={!cursors.length} hasNext={list.pageInfo.hasNextPage}
              onNext={() => list.pageInfo.endCursor && setCursors([...cursors, list.pageInfo.endCursor])}
              onPrevious={() => setCursors(cursors.slice(0, -1))} />
          </div>
        ) : null}
      </Section>
      {recording ? <RecordVisit schedule={recording} onDone={page.reload} /> : null}
      <Section title={w("overdueReport")} id="visits-overdue-title">
        {report ? (
          <div id="visits-overdue">
            <p>{w("overdueTotal")}: <strong id="overdue-total">{report.total}</strong></p>
            <Table head={[w("dept"), w("owner"), w("count"), w("oldest"), w("customer")]} rows={report.groups.map((g) => [
              scopeName(g.departmentId, departments),
              g.ownerId ? <Actor actor={`user:${g.ownerId}`} /> : "—",
              g.count,
              when(g.oldestDueAt),
              <span>{g.customerIds.slice(0, 5).map((c, i) => <>{i ? "、" : ""}<CustomerName id={c} /></>)}</span>,
            ])} />
          </div>
        ) : null}
      </Section>
      <PlanSet access={access} onDone={page.reload} />
    </>
  );
}

function RecordVisit(props: { schedule: Schedule; onDone: () => void }) {
  const s = props.schedule;
  const [channel, setChannel] = useState(s.channel === "phone" ? "phone" : "on_site");
  const [visitedAt, setVisitedAt] = useState(localNow);
  const [needs, setNeeds] = useState("");
  const [opinions, setOpinions] = useState("");
  const [suggestions, setSuggestions] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState(false);
  useEffect(() => {
    setDone(false);
    setError(null);
  }, [s.id]);

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    setDone(false);
    const at = new Date(visitedAt);
    try {
      const data = await gql<GradingVisitRecordMutation, GradingVisitRecordMutationVariables>(VISIT_RECORD, {
        input: {
          customerId: s.customerId, channel, visitedAt: Number.isNaN(at.getTime()) ? visitedAt : at.toISOString(),
          report: { needs: needs || null, opinions: opinions || null, suggestions: suggestions || null },
        },
      });
      ok(data.visitRecord);
      setDone(true);
      setNeeds("");
      setOpinions("");
      setSuggestions("");
      props.onDone();
    } catch (e) {
      setError(asApiError(e));
    }
  }

  return (
    <section class="card" aria-labelledby="visit-record-title">
      <h2 id="visit-record-title">{w("recordFor")}<CustomerName id={s.customerId} /></h2>
      <form id="visit-record" onSubmit={submit}>
        <div>
          <Select label={w("channel")} name="channel" value={channel} onChange={setChannel}
            options={[["on_site", w("on_site")], ["phone", w("phone")]]} />
          <Field label={w("visitedAt")} name="visitedAt" type="datetime-local" value={visitedAt} onInput={setVisitedAt} />
        </div>
        <TextArea label={w("needs")} name="needs" value={needs} onInput={setNeeds} />
        <TextArea label={w("opinions")} name="opinions" value={opinions} onInput={setOpinions} />
        <TextArea label={w("suggestions")} name="suggestions" value={suggestions} onInput={setSuggestions} />
        <button type="submit" class="primary">{w("saveVisit")}</button>
      </form>
      {done ? <p class="good" role="status" id="visit-saved">{w("visitSaved")}</p> : null}
      <ErrorBox error={error} />
    </section>
  );
}

function PlanSet(props: { access: Access | null; onDone: () => void }) {
  const access = props.access;
  const verticals = access ? SCHEMES.filter((s) => access.verticals.has(s.vertical)) : [];
  const [customerId, setCustomerId] = useState("");
  const [chosen, setChosen] = useState(0);
  const scheme = verticals[Math.min(chosen, verticals.length - 1)];
  const [grade, setGrade] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  if (!scheme) return null;
  const chosenGrade = grade || scheme.grades[0][0];

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    setSaved(null);
    try {
      const data = await gql<GradingVisitPlanSetMutation>(PLAN_SET, {
        customerId, vertical: scheme.vertical, grade: chosenGrade });
      const schedules = ok(data.visitPlanSet).schedules ?? [];
      setSaved(schedules.map((x) => `${planName(x.planId)} (${when(x.dueAt)})`).join(", ") || "—");
      props.onDone();
    } catch (e) {
      setError(asApiError(e));
    }
  }

  return (
    <Section title={w("planSet")} id="visits-plan-title">
      <form id="visit-plan" onSubmit={submit}>
        <CustomerPicker value={customerId} onChange={setCustomerId} />
        <div>
          <Select label={w("vertical")} name="vertical" value={String(chosen)} onChange={(v) => {
            setChosen(Number(v));
            setGrade("");
          }} options={verticals.map((s, i) => [String(i), s.name[zh() ? 0 : 1]])} />
          <Select label={w("planGrade")} name="grade" value={chosenGrade} onChange={setGrade}
            options={scheme.grades.map(([code, zhName, enName]) => [code, zh() ? zhName : enName])} />
        </div>
        <button type="submit" class="primary" disabled={!customerId}>{t("save")}</button>
      </form>
      {saved ? <p class="good" role="status" id="visit-plan-saved">{w("planSaved")}{saved}</p> : null}
      <ErrorBox error={error} />
    </Section>
  );
}
