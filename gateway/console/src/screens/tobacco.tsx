// Tobacco retail (S21 客户基础信息管理规定): the onboarding deadlines of newly licensed retailers on
// the working-day calendar (Art7), the special changes waiting for their two sign-offs and their
// execution (Art9–Art14: the applicant never signs, the two sign-offs come from two people), and the
// phone-change watch list (Art12). Personal data (order phones, settlement names, card numbers) are
// never shown here: the API keeps a change's values sealed and masks the retailer's fields.
import { useEffect, useState } from "preact/hooks";
import type { Access } from "../access";
import { holds, useAccess } from "../access";
import { ApiError, gql, ok } from "../api";
import { lang, t } from "../i18n";
import { navigate } from "../router";
import type { Loaded } from "../ui";
import { Actor, ErrorBox, Field, Loading, Pager, Progress, Section, Table, asApiError, useQuery, when } from "../ui";
import RETAILERS from "../operations/TobaccoRetailers.graphql?raw";
import ONBOARDING from "../operations/TobaccoOnboarding.graphql?raw";
import OVERDUE from "../operations/TobaccoOnboardingOverdue.graphql?raw";
import CHANGES from "../operations/TobaccoChanges.graphql?raw";
import CHANGE from "../operations/TobaccoChange.graphql?raw";
import REQUEST from "../operations/TobaccoChangeRequest.graphql?raw";
import SIGN from "../operations/TobaccoChangeSign.graphql?raw";
import EXECUTE from "../operations/TobaccoChangeExecute.graphql?raw";
import FILE from "../operations/TobaccoChangeFile.graphql?raw";
import WATCH from "../operations/TobaccoWatchList.graphql?raw";
import CUSTOMER_NAME from "../operations/TobaccoCustomerName.graphql?raw";
import type {
  TobaccoChangeExecuteMutation, TobaccoChangeFileMutation, TobaccoChangeQuery, TobaccoChangeQueryVariables,
  TobaccoChangeRequestMutation, TobaccoChangeRequestMutationVariables, TobaccoChangeSignMutation,
  TobaccoChangeSignMutationVariables, TobaccoChangesQuery, TobaccoChangesQueryVariables, TobaccoCustomerNameQuery,
  TobaccoOnboardingOverdueQuery, TobaccoOnboardingOverdueQueryVariables, TobaccoOnboardingQuery,
  TobaccoRetailersQuery, TobaccoWatchListQuery, TobaccoWatchListQueryVariables,
} from "../generated/graphql";

const W = {
  overdueSteps: ["逾期未维护的建档步骤", "Onboarding steps overdue"],
  retailer: ["零售户", "Retailer"],
  licenceDate: ["许可证日期", "Licence date"],
  dayOne: ["入网第1个工作日", "Onboarding day 1"],
  nextDeadline: ["下一时限", "Next deadline"],
  overall: ["总体", "Overall"],
  step: ["步骤", "Step"],
  due: ["截止时间", "Due"],
  state: ["状态", "State"],
  missingNow: ["当前缺少", "Missing now"],
  missingThen: ["到期时缺少", "Missing when due"],
  missing: ["缺少字段", "Missing fields"],
  allDone: ["全部完成", "All done"],
  checking: ["已到期，待检查", "Due, being checked"],
  noRetailers: ["暂无入网中的零售户", "No retailer in onboarding"],
  retailersLoading: ["正在读取各零售户的时限", "Reading each retailer's deadlines"],
  steps: ["建档步骤与时限", "Onboarding steps and deadlines"],
  awaitingSignOff: ["待签批", "Awaiting sign-off"],
  awaitingExecution: ["已批准，待执行", "Approved, to be executed"],
  requestTitle: ["提出特殊变更（凭客户书面申请）", "Apply for a special change (on the written application)"],
  customer: ["客户", "Customer"],
  kind: ["变更类型", "Kind of change"],
  applicationRef: ["书面申请表编号", "Written application form no."],
  reason: ["变更原因", "Reason"],
  submit: ["提交申请", "Submit the application"],
  chooseCustomer: ["请选择客户", "Choose a customer"],
  application: ["申请表", "Application"],
  signOffs: ["签批", "Sign-offs"],
  requestedBy: ["申请人", "Applicant"],
  requestedAt: ["申请时间", "Applied"],
  executeDue: ["执行时限", "Execute by"],
  changeTitle: ["特殊变更", "Special change"],
  signTitle: ["签批", "Sign off"],
  role: ["签批身份", "Sign as"],
  note: ["签批意见（可选）", "Note (optional)"],
  approve: ["批准", "Approve"],
  reject: ["驳回", "Reject"],
  signed: ["已签批", "Signed"],
  rejected: ["已驳回", "Rejected"],
  executeTitle: ["执行变更", "Execute the change"],
  execute: ["执行", "Execute"],
  executeHint: ["须两位签批人均已批准后方可执行（统计分析员；等级变更由科长执行）。",
    "Executed only after both sign-offs (by the analyst; a grade change by the section chief)."],
  executed: ["已执行", "Executed"],
  fileTitle: ["报内管科备案", "File with internal management"],
  file: ["备案", "File"],
  filed: ["已备案", "Filed"],
  firstSign: ["第一签批", "First sign-off"],
  secondSign: ["第二签批", "Second sign-off"],
  rejectedBy: ["驳回人", "Rejected by"],
  executedBy: ["执行人", "Executed by"],
  filedBy: ["备案人", "Filed by"],
  filingRequired: ["须报内管科备案", "Filed with internal management"],
  yes: ["是", "yes"],
  no: ["否", "no"],
  needs: ["须签批", "Signed by"],
  sealedValues: ["变更内容属个人信息，仅在执行时使用，此处不显示。", "What the change sets is personal data: used when executed, never shown here."],
  addedAt: ["列入时间", "Listed"],
  lastChangeAt: ["最近一次改号", "Last phone change"],
  changes: ["一个月内改号次数", "Phone changes in a month"],
  watchHint: ["一个月内修改订货电话达到规定次数的客户，内管、稽查与客户经理加强检查（第十二条）。",
    "Customers who changed their order phone the set number of times within a month: inspected more closely (Art12)."],
  sealedAuthority: ["已提供加盖公章的授权委托书", "A power of attorney with the official seal is given"],
  hasSigned: ["已签", "signed"],
  toSign: ["待签", "to sign"],
  openCustomer: ["查看客户档案", "Open the customer record"],
  notFound: ["没有这项特殊变更", "There is no such change"],
  notOnboarded: ["该客户未登记入网", "This customer is not in onboarding"],
} as const;
const w = (k: keyof typeof W) => W[k][lang.get() === "zh" ? 0 : 1];
const zh = () => lang.get() === "zh";

const STEPS: Record<string, [string, string]> = {
  decide: ["首日确定订货与结算方式", "Day 1: ordering and settlement decided"],
  core: ["地址、批次、线路等（第2个工作日下班前）", "Location, batch, route… (WD2 close)"],
  market: ["市场类型、业态、科学定量（第3个工作日下班前）", "Market type, format, quota (WD3 close)"],
  quota_approval: ["科长审批科学定量（订货日前）", "Quota approved (before the order day)"],
  password_handover: ["交接新商盟订货密码", "新商盟 password handed over"],
  display: ["商圈类型、出样形式（10个工作日）", "District type, display form (10 WD)"],
  deferred: ["其余信息（15个工作日）", "Other fields (15 WD)"],
  importance: ["重视程度、合作程度（20个工作日）", "Importance, cooperation (20 WD)"],
};

const FIELDS: Record<string, [string, string]> = {
  customer_code: ["客户代码", "Customer code"], licence_number: ["许可证号", "Licence number"],
  licence_date: ["许可证日期", "Licence date"], licence_legal_person: ["烟草证法人姓名", "Legal person"],
  location: ["地理位置", "Location"], service_staff: ["服务人员", "Service staff"],
  visit_batch: ["访销批次", "Visit-sale batch"], delivery_route: ["送货线路", "Delivery route"],
  delivery_sequence: ["送货顺序", "Delivery sequence"], visit_route: ["客户经理拜访线路", "Visit route"],
  invoice_type: ["票据类型", "Invoice type"], ordering_method: ["订货方式", "Ordering method"],
  ordering_agreement_until: ["协议期截止日", "Agreement until"], settlement_method: ["结算方式", "Settlement method"],
  settlement_bank: ["结算银行", "Settlement bank"], card_number: ["卡（折）号", "Card number"],
  settlement_name: ["结算人姓名", "Settlement name"], order_weekday: ["订货日", "Order day"],
  order_cycle_days: ["订货周期", "Order cycle"], order_phone: ["订货电话", "Order phone"],
  backup_phone: ["备用电话", "Backup phone"], market_type: ["市场类型", "Market type"],
  business_format: ["经营业态", "Business format"], quota: ["科学定量", "Scientific quota"],
  law_record: ["守法信息", "Law-compliance record"], district_type: ["商圈类型", "District type"],
  display_form: ["出样形式", "Display form"], importance: ["重视程度", "Importance"],
  cooperation: ["合作程度", "Cooperation"], grade: ["客户等级（档位）", "Grade (tier)"],
  agreement_until: ["协议期截止日", "Agreement until"], bank: ["结算银行", "Settlement bank"],
};

const KINDS: Record<string, [string, string]> = {
  settlement_to_cash: ["电子结算改现金结算", "Electronic to cash settlement"],
  settlement_bank: ["变更结算银行", "Settlement bank"],
  ordering_method: ["变更订货方式", "Ordering method"],
  long_term_phone: ["长期变更订货电话", "Long-term order phone"],
  duplicate_phone: ["重号订货电话", "Shared (duplicate) order phone"],
  grade: ["客户等级变更", "Grade change"],
  urgent_route: ["紧急线路调整", "Urgent route change"],
};

const STATES: Record<string, [string, string]> = {
  requested: ["待签批", "awaiting sign-off"],
  approved: ["已批准，待执行", "approved, to execute"],
  rejected: ["已驳回", "rejected"],
  executed: ["已执行", "executed"],
  filed: ["已备案", "filed"],
};

const ROLES: Record<string, [string, string]> = {
  section_chief: ["营销服务科科长", "Section chief"],
  deputy_manager: ["副经理", "Deputy manager"],
  deputy_section_chief: ["营销服务科副科长", "Deputy section chief"],
  account_manager: ["客户经理", "Account manager"],
};

// The two roles that sign each kind (S21 Art9–Art14), as the API enforces them.
const SIGNERS: Record<string, [string, string]> = {
  settlement_to_cash: ["section_chief", "deputy_manager"],
  settlement_bank: ["section_chief", "deputy_manager"],
  ordering_method: ["section_chief", "deputy_manager"],
  long_term_phone: ["account_manager", "section_chief"],
  duplicate_phone: ["section_chief", "deputy_manager"],
  grade: ["section_chief", "deputy_manager"],
  urgent_route: ["deputy_section_chief", "section_chief"],
};

interface ValueSpec {
  name: string;
  type: "text" | "int" | "date" | "bool" | "choice";
  choices?: string[];
  required?: boolean;
}

// What each kind of change sets (tobaccoChangeRequest's values).
const VALUES: Record<string, ValueSpec[]> = {
  settlement_to_cash: [],
  settlement_bank: [
    { name: "bank", type: "choice", choices: ["icbc", "abc", "postal", "other"], required: true },
    { name: "card_number", type: "text", required: true },
    { name: "settlement_name", type: "text", required: true },
    { name: "sealed_authority", type: "bool" },
  ],
  ordering_method: [
    { name: "ordering_method", type: "choice", choices: ["phone", "online", "mobile", "yixintong"], required: true },
    { name: "agreement_until", type: "date" },
  ],
  long_term_phone: [{ name: "order_phone", type: "text", required: true }],
  duplicate_phone: [{ name: "order_phone", type: "text", required: true }],
  grade: [{ name: "grade", type: "text", required: true }],
  urgent_route: [
    { name: "delivery_route", type: "text" },
    { name: "delivery_sequence", type: "int" },
    { name: "visit_route", type: "text" },
    { name: "visit_batch", type: "text" },
  ],
};

const CHOICES: Record<string, [string, string]> = {
  icbc: ["工商银行", "ICBC"], abc: ["农业银行", "ABC"], postal: ["邮政储蓄", "Postal"], other: ["其他", "Other"],
  phone: ["电话订货", "Phone"], online: ["网上订货（新商盟）", "Online (新商盟)"], mobile: ["手机订货", "Mobile"],
  yixintong: ["烟信通", "烟信通"],
};

const word = (table: Record<string, [string, string]>, key: string | null | undefined) =>
  key ? (table[key] ? table[key][zh() ? 0 : 1] : key) : "—";
const fields = (names: readonly string[]) => names.length ? names.map((n) => word(FIELDS, n)).join(zh() ? "、" : ", ") : "—";

/** Whether the signed-in user sees this screen: the tenant enabled the vertical and the user holds one of its permissions. */
export function visible(a: Access): boolean {
  return a.verticals.has("tobacco") && holds(a, "tobacco");
}

export function Tobacco({ rest }: { rest: string }) {
  const access = useAccess();
  const change = rest.match(/^\/changes\/([^/]+)$/);
  if (change) return <ChangeDetail id={decodeURIComponent(change[1])} />;
  const retailer = rest.match(/^\/retailers\/([^/]+)$/);
  if (retailer) return <RetailerDetail id={decodeURIComponent(retailer[1])} />;
  if (!access) return <h1>{t("tobacco")}</h1>;
  return <Board access={access} />;
}

// --- clocks: a colour class and a word (the colour never carries the meaning alone) -------------------

type Clock = "breached" | "running" | "met" | "paused";

function ClockLabel({ clock, text }: { clock: Clock; text?: string }) {
  return <span class={`clock-${clock}`} data-clock={clock}>{text ?? t(clock)}</span>;
}

function stepClock(step: { state: string; dueAt: string }): Clock {
  if (step.state === "met") return "met";
  if (step.state === "overdue") return "breached";
  return new Date(step.dueAt).getTime() < Date.now() ? "breached" : "running";
}

function StepState({ step }: { step: { state: string; dueAt: string } }) {
  const clock = stepClock(step);
  return <ClockLabel clock={clock} text={clock === "breached" && step.state === "pending" ? w("checking") : undefined} />;
}

function MorePages(props: { atFirst: boolean; hasNext: boolean; onNext: () => void; onPrevious: () => void }) {
  return props.atFirst && !props.hasNext ? null : <Pager {...props} />;
}

// --- customer names (a change or a watch entry names the customer by id) ------------------------------

const names = new Map<string, Promise<string | null>>();

function CustomerName({ id, link = true }: { id: string; link?: boolean }) {
  const [name, setName] = useState<string | null>(null);
  useEffect(() => {
    if (!names.has(id)) {
      names.set(id, gql<TobaccoCustomerNameQuery>(CUSTOMER_NAME, { id }).then((d) => d.customer.displayName, () => null));
    }
    let live = true;
    void names.get(id)!.then((n) => live && setName(n));
    return () => {
      live = false;
    };
  }, [id]);
  const shown = name ?? id;
  return link && name ? <a href={`#/customers/${encodeURIComponent(id)}`}>{shown}</a> : <span>{shown}</span>;
}

// --- the board -----------------------------------------------------------------------------------------

type Retailer = TobaccoRetailersQuery["customers"]["nodes"][number];
type Onboarding = NonNullable<TobaccoOnboardingQuery["tobaccoOnboarding"]>;

function tobaccoFields(c: Retailer): Record<string, unknown> {
  const ext = (c.extensions ?? {}) as Record<string, unknown>;
  return (ext.tobacco ?? {}) as Record<string, unknown>;
}

function Board({ access }: { access: Access }) {
  const p = access.permissions;
  const reads = p.has("tobacco.report.read") || p.has("tobacco.customer.maintain");
  const watch = p.has("tobacco.report.read") || p.has("tobacco.change.file");
  const requests = p.has("tobacco.change.request");
  const retailers = useQuery<TobaccoRetailersQuery, Record<string, never>>(RETAILERS, {}, !(reads || requests));
  const known = (retailers.data?.customers.nodes ?? []).filter((c) => Object.keys(tobaccoFields(c)).length > 0);
  return (
    <div>
      <h1>{t("tobacco")}</h1>
      {reads ? <OnboardingBoard retailers={retailers} known={known} /> : null}
      {reads ? <OverdueSteps /> : null}
      <ChangeLists />
      {requests ? <RequestChange known={known} /> : null}
      {watch ? <WatchList /> : null}
    </div>
  );
}

function OnboardingBoard({ retailers, known }: { retailers: Loaded<TobaccoRetailersQuery>; known: Retailer[] }) {
  const onboarding = known.filter((c) => typeof tobaccoFields(c).licence_date === "string");
  const key = onboarding.map((c) => c.id).join(",");
  const [found, setFound] = useState<Map<string, Onboarding>>(new Map());
  const [done, setDone] = useState(0);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    let live = true;
    setDone(0);
    setError(null);
    const next = new Map<string, Onboarding>();
    void Promise.all(onboarding.map((c) => gql<TobaccoOnboardingQuery>(ONBOARDING, { customerId: c.id }).then((d) => {
      if (d.tobaccoOnboarding) next.set(c.id, d.tobaccoOnboarding);
      if (live) setDone((n) => n + 1);
    }))).then(() => live && setFound(next), (e: unknown) => live && setError(asApiError(e)));
    return () => {
      live = false;
    };
  }, [key]);

  const rows = onboarding.filter((c) => found.has(c.id)).map((c) => ({ customer: c, onboarding: found.get(c.id)! }))
    .sort((a, b) => b.onboarding.licenceDate.localeCompare(a.onboarding.licenceDate));
  const loading = onboarding.length > 0 && done < onboarding.length && !error;
  return (
    <Section title={t("onboarding")} id="tob-onboarding-title">
      <Loading loaded={retailers} />
      <ErrorBox error={error} />
      {loading ? <Progress done={done} total={onboarding.length} label={w("retailersLoading")} /> : null}
      {retailers.data && !loading ? (
        rows.length ? (
          <div id="tob-onboarding">
            <Table head={[w("retailer"), w("overall"), w("nextDeadline"), w("licenceDate"), w("dayOne")]}
              rows={rows.map(({ customer, onboarding: o }) => {
                const steps = [...o.steps].sort((a, b) => a.dueAt.localeCompare(b.dueAt));
                const next = steps.find((s) => s.state === "pending");
                const late = steps.filter((s) => stepClock(s) === "breached").length;
                const overall: Clock = late ? "breached" : next ? "running" : "met";
                return [
                  <a href={`#/tobacco/retailers/${encodeURIComponent(customer.id)}`} class="tob-retailer">{customer.displayName}</a>,
                  <ClockLabel clock={overall} text={late ? `${t("breached")} (${late})` : next ? t("running") : w("allDone")} />,
                  next ? <>{word(STEPS, next.step)}<br />{when(next.dueAt)} <StepState step={next} /></> : w("allDone"),
                  o.licenceDate,
                  o.dayOne,
                ];
              })} />
          </div>
        ) : <p class="muted">{w("noRetailers")}</p>
      ) : null}
    </Section>
  );
}

function OverdueSteps() {
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const page = useQuery<TobaccoOnboardingOverdueQuery, TobaccoOnboardingOverdueQueryVariables>(OVERDUE, { first: 20, after });
  const list = page.data?.tobaccoOnboardingOverdue;
  return (
    <Section title={w("overdueSteps")} id="tob-overdue-title">
      <Loading loaded={page} />
      {list ? (
        <div id="tob-overdue">
          <Table head={[w("retailer"), w("step"), w("due"), w("state"), w("missing")]} rows={list.nodes.map((s) => [
            <CustomerName id={s.customerId} />, word(STEPS, s.step), when(s.dueAt), <ClockLabel clock="breached" />,
            fields(s.missing),
          ])} />
          <MorePages atFirst={!cursors.length} hasNext={list.pageInfo.hasNextPage}
            onPrevious={() => setCursors(cursors.slice(0, -1))}
            onNext={() => setCursors([...cursors, list.pageInfo.endCursor!])} />
        </div>
      ) : null}
    </Section>
  );
}

function RetailerDetail({ id }: { id: string }) {
  const read = useQuery<TobaccoOnboardingQuery, { customerId: string }>(ONBOARDING, { customerId: id });
  const o = read.data?.tobaccoOnboarding;
  const steps = o ? [...o.steps].sort((a, b) => a.dueAt.localeCompare(b.dueAt)) : [];
  return (
    <div>
      <p><a href="#/tobacco">← {t("back")}</a></p>
      <h1 id="tob-retailer-name"><CustomerName id={id} link={false} /></h1>
      <Loading loaded={read} />
      {read.data && !o ? <p class="muted">{w("notOnboarded")}</p> : null}
      {o ? (
        <Section title={w("steps")} id="tob-steps-title">
          <dl class="details">
            <dt>{w("licenceDate")}</dt><dd>{o.licenceDate}</dd>
            <dt>{w("dayOne")}</dt><dd>{o.dayOne}</dd>
          </dl>
          <div id="tob-steps">
            <Table head={[w("step"), w("due"), w("state"), w("missingNow"), w("missingThen")]} rows={steps.map((s) => [
              word(STEPS, s.step), when(s.dueAt), <StepState step={s} />, fields(s.missingNow), fields(s.missingThen),
            ])} />
          </div>
          <p><a href={`#/customers/${encodeURIComponent(id)}`}>{w("openCustomer")}</a></p>
        </Section>
      ) : null}
    </div>
  );
}

// --- special changes ---------------------------------------------------------------------------------

type ChangeRow = TobaccoChangesQuery["tobaccoChanges"]["nodes"][number];

function executeClock(c: { state: string; executeDueAt: string | null; executedAt?: string | null }): Clock | null {
  if (!c.executeDueAt) return null;
  const due = new Date(c.executeDueAt).getTime();
  if (c.executedAt) return new Date(c.executedAt).getTime() <= due ? "met" : "breached";
  if (c.state !== "approved") return null;
  return due < Date.now() ? "breached" : "running";
}

function signOffs(c: { firstRole: string | null; secondRole: string | null; kind: string }): string {
  const done = [c.firstRole, c.secondRole].filter((r): r is string => !!r);
  const needed = SIGNERS[c.kind] ?? [];
  return needed.map((r) => `${word(ROLES, r)}${zh() ? "（" : " ("}${done.includes(r) ? w("hasSigned") : w("toSign")}${zh() ? "）" : ")"}`)
    .join(zh() ? "；" : "; ");
}

function ChangeTable({ state, id, title }: { state: string; id: string; title: string }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const page = useQuery<TobaccoChangesQuery, TobaccoChangesQueryVariables>(CHANGES, { state, first: 20, after });
  const list = page.data?.tobaccoChanges;
  return (
    <div id={id}>
      <h3>{title}</h3>
      <Loading loaded={page} />
      {list ? (
        <>
          <Table head={[w("application"), w("kind"), w("customer"), w("reason"), w("signOffs"), w("requestedAt"), w("executeDue")]}
            rows={list.nodes.map((c: ChangeRow) => {
              const clock = executeClock(c);
              return [
                <a href={`#/tobacco/changes/${encodeURIComponent(c.id)}`} class="tob-change">{c.applicationRef}</a>,
                word(KINDS, c.kind), <CustomerName id={c.customerId} />, c.reason, signOffs(c), when(c.requestedAt),
                clock ? <>{when(c.executeDueAt)} <ClockLabel clock={clock} /></> : "—",
              ];
            })} />
          <MorePages atFirst={!cursors.length} hasNext={list.pageInfo.hasNextPage}
            onPrevious={() => setCursors(cursors.slice(0, -1))}
            onNext={() => setCursors([...cursors, list.pageInfo.endCursor!])} />
        </>
      ) : null}
    </div>
  );
}

function ChangeLists() {
  return (
    <Section title={t("changeRequests")} id="tob-changes-title">
      <ChangeTable state="requested" id="tob-changes-requested" title={w("awaitingSignOff")} />
      <ChangeTable state="approved" id="tob-changes-approved" title={w("awaitingExecution")} />
    </Section>
  );
}

function RequestChange({ known }: { known: Retailer[] }) {
  const [customerId, setCustomerId] = useState("");
  const [kind, setKind] = useState("urgent_route");
  const [applicationRef, setApplicationRef] = useState("");
  const [reason, setReason] = useState("");
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const specs = VALUES[kind] ?? [];

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    const sent: Record<string, unknown> = {};
    for (const spec of specs) {
      const value = values[spec.name];
      if (value === undefined || value === "" || value === false) continue;
      sent[spec.name] = spec.type === "int" ? Number(value) : value;
    }
    setBusy(true);
    try {
      const data = await gql<TobaccoChangeRequestMutation, TobaccoChangeRequestMutationVariables>(REQUEST, {
        customerId, kind: kind.toUpperCase() as TobaccoChangeRequestMutationVariables["kind"], applicationRef, reason,
        values: sent,
      });
      const made = ok(data.tobaccoChangeRequest).change!;
      // What was typed (an order phone, a card number) does not stay on the screen.
      setValues({});
      setApplicationRef("");
      setReason("");
      navigate(`/tobacco/changes/${made.id}`);
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  }

  const set = (name: string, value: string | boolean) => setValues({ ...values, [name]: value });
  return (
    <Section title={w("requestTitle")} id="tob-request-title">
      <form id="tob-request" onSubmit={submit}>
        <div class="field">
          <label for="tob-request-customer">{w("customer")}</label>
          <select id="tob-request-customer" name="customer" required value={customerId}
            onChange={(e) => setCustomerId((e.target as HTMLSelectElement).value)}>
            <option value="">{w("chooseCustomer")}</option>
            {[...known].sort((a, b) => a.displayName.localeCompare(b.displayName, "zh-CN")).map((c) => (
              <option value={c.id}>{c.displayName}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="tob-request-kind">{w("kind")}</label>
          <select id="tob-request-kind" name="kind" value={kind} onChange={(e) => {
            setKind((e.target as HTMLSelectElement).value);
            setValues({});
          }}>
            {Object.keys(KINDS).map((k) => <option value={k}>{word(KINDS, k)}</option>)}
          </select>
        </div>
        <p class="muted">{w("needs")}: {(SIGNERS[kind] ?? []).map((r) => word(ROLES, r)).join(zh() ? "、" : ", ")}</p>
        <Field label={w("applicationRef")} name="applicationRef" value={applicationRef} onInput={setApplicationRef} required />
        <Field label={w("reason")} name="reason" value={reason} onInput={setReason} required />
        {specs.map((spec) => spec.type === "bool" ? (
          <div class="field">
            <label>
              <input type="checkbox" name={spec.name} checked={values[spec.name] === true}
                onChange={(e) => set(spec.name, (e.target as HTMLInputElement).checked)} /> {w("sealedAuthority")}
            </label>
          </div>
        ) : spec.type === "choice" ? (
          <div class="field">
            <label for={`tob-value-${spec.name}`}>{word(FIELDS, spec.name)}</label>
            <select id={`tob-value-${spec.name}`} name={spec.name} required={spec.required}
              value={String(values[spec.name] ?? "")} onChange={(e) => set(spec.name, (e.target as HTMLSelectElement).value)}>
              <option value="">—</option>
              {(spec.choices ?? []).map((c) => <option value={c}>{word(CHOICES, c)}</option>)}
            </select>
          </div>
        ) : (
          <Field label={word(FIELDS, spec.name)} name={spec.name} required={spec.required}
            type={spec.type === "int" ? "number" : spec.type === "date" ? "date" : "text"}
            value={String(values[spec.name] ?? "")} onInput={(v) => set(spec.name, v)} />
        ))}
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy}>{w("submit")}</button>
      </form>
    </Section>
  );
}

function ChangeDetail({ id }: { id: string }) {
  const read = useQuery<TobaccoChangeQuery, TobaccoChangeQueryVariables>(CHANGE, { id });
  const c = read.data?.tobaccoChange;
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  async function act(run: () => Promise<{ errors: ReadonlyArray<{ code: string; field: string | null; message: string }> }>, said: string) {
    setError(null);
    setDone(null);
    try {
      ok(await run());
      setDone(said);
      read.reload();
    } catch (e) {
      setError(asApiError(e));
    }
  }

  const clock = c ? executeClock(c) : null;
  return (
    <div>
      <p><a href="#/tobacco">← {t("back")}</a></p>
      <h1>{w("changeTitle")}{c ? ` ${c.applicationRef}` : ""}</h1>
      <Loading loaded={read} />
      {read.data && !c ? <p class="muted">{w("notFound")}</p> : null}
      {done ? <p class="good" role="status" id="tob-change-done">{done}</p> : null}
      <ErrorBox error={error} />
      {c ? (
        <>
          <Section title={word(KINDS, c.kind)} id="tob-change-title">
            <dl class="details" id="tob-change">
              <dt>{w("customer")}</dt><dd><CustomerName id={c.customerId} /></dd>
              <dt>{w("state")}</dt><dd id="tob-change-state" data-state={c.state}>{word(STATES, c.state)}</dd>
              <dt>{w("application")}</dt><dd>{c.applicationRef}</dd>
              <dt>{w("reason")}</dt><dd>{c.reason}</dd>
              <dt>{w("requestedBy")}</dt><dd><Actor actor={c.requestedBy} /></dd>
              <dt>{w("requestedAt")}</dt><dd>{when(c.requestedAt)}</dd>
              <dt>{w("needs")}</dt><dd id="tob-change-signoffs">{signOffs(c)}</dd>
              <dt>{w("firstSign")}</dt>
              <dd>{c.firstRole ? <>{word(ROLES, c.firstRole)} · <Actor actor={c.firstBy ?? ""} /> · {when(c.firstAt)}</> : "—"}</dd>
              <dt>{w("secondSign")}</dt>
              <dd>{c.secondRole ? <>{word(ROLES, c.secondRole)} · <Actor actor={c.secondBy ?? ""} /> · {when(c.secondAt)}</> : "—"}</dd>
              {c.rejectedBy ? <><dt>{w("rejectedBy")}</dt><dd><Actor actor={c.rejectedBy} /></dd></> : null}
              <dt>{w("executeDue")}</dt>
              <dd id="tob-change-due">{c.executeDueAt ? <>{when(c.executeDueAt)} {clock ? <ClockLabel clock={clock} /> : null}</> : "—"}</dd>
              {c.executedBy ? <><dt>{w("executedBy")}</dt><dd><Actor actor={c.executedBy} /> · {when(c.executedAt)}</dd></> : null}
              {c.filedBy ? <><dt>{w("filedBy")}</dt><dd><Actor actor={c.filedBy} /> · {when(c.filedAt)}</dd></> : null}
              <dt>{w("filingRequired")}</dt><dd>{c.filingRequired ? w("yes") : w("no")}</dd>
            </dl>
            <p class="muted">{w("sealedValues")}</p>
          </Section>
          {c.state === "requested" ? (
            <SignOff change={c} onSign={(role, approve, note) => act(async () => (await gql<TobaccoChangeSignMutation, TobaccoChangeSignMutationVariables>(SIGN, {
              id: c.id, role: role.toUpperCase() as TobaccoChangeSignMutationVariables["role"], approve, note: note || null,
            })).tobaccoChangeSign, approve ? w("signed") : w("rejected"))} />
          ) : null}
          {c.state === "requested" || c.state === "approved" ? (
            <Section title={w("executeTitle")} id="tob-execute-title">
              <p class="muted">{w("executeHint")}</p>
              <button type="button" id="tob-execute" class={c.state === "approved" ? "primary" : undefined}
                onClick={() => act(async () => (await gql<TobaccoChangeExecuteMutation>(EXECUTE, { id: c.id })).tobaccoChangeExecute,
                  w("executed"))}>{w("execute")}</button>
            </Section>
          ) : null}
          {c.state === "executed" && c.filingRequired ? (
            <Section title={w("fileTitle")} id="tob-file-title">
              <button type="button" id="tob-file" class="primary"
                onClick={() => act(async () => (await gql<TobaccoChangeFileMutation>(FILE, { id: c.id })).tobaccoChangeFile,
                  w("filed"))}>{w("file")}</button>
            </Section>
          ) : null}
        </>
      ) : null}
    </div>
  );
}

function SignOff(props: {
  change: NonNullable<TobaccoChangeQuery["tobaccoChange"]>;
  onSign: (role: string, approve: boolean, note: string) => Promise<void>;
}) {
  const c = props.change;
  const open = (SIGNERS[c.kind] ?? []).filter((r) => r !== c.firstRole && r !== c.secondRole);
  const [role, setRole] = useState(open[0] ?? "");
  const [note, setNote] = useState("");
  useEffect(() => {
    if (!open.includes(role)) setRole(open[0] ?? "");
  }, [open.join(",")]);
  return (
    <Section title={w("signTitle")} id="tob-sign-title">
      <form id="tob-sign" class="inline" onSubmit={(e) => {
        e.preventDefault();
        void props.onSign(role, true, note);
      }}>
        <div class="field">
          <label for="tob-sign-role">{w("role")}</label>
          <select id="tob-sign-role" name="role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
            {open.map((r) => <option value={r}>{word(ROLES, r)}</option>)}
          </select>
        </div>
        <Field label={w("note")} name="note" value={note} onInput={setNote} />
        <button type="submit" class="primary" id="tob-approve">{w("approve")}</button>
        <button type="button" id="tob-reject" onClick={() => void props.onSign(role, false, note)}>{w("reject")}</button>
      </form>
    </Section>
  );
}

// --- the watch list ----------------------------------------------------------------------------------

function WatchList() {
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const page = useQuery<TobaccoWatchListQuery, TobaccoWatchListQueryVariables>(WATCH, { first: 20, after });
  const list = page.data?.tobaccoWatchList;
  return (
    <Section title={t("watchList")} id="tob-watch-title">
      <p class="muted">{w("watchHint")}</p>
      <Loading loaded={page} />
      {list ? (
        <div id="tob-watch">
          <Table head={[w("customer"), w("addedAt"), w("lastChangeAt"), w("changes")]} rows={list.nodes.map((e) => [
            <CustomerName id={e.customerId} />, when(e.addedAt), when(e.lastChangeAt), String(e.changes),
          ])} />
          <MorePages atFirst={!cursors.length} hasNext={list.pageInfo.hasNextPage}
            onPrevious={() => setCursors(cursors.slice(0, -1))}
            onNext={() => setCursors([...cursors, list.pageInfo.endCursor!])} />
        </div>
      ) : null}
    </Section>
  );
}
