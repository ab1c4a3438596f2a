// Automotive archives (一车一档, seed 000 part 1): the folders (one per vehicle), an archive's
// documents, the check with every rule's outcome and message, overriding a failed rule with a
// reason (特殊情况除外), accepting or rejecting, and the KPI ledger. Routes under #/archives:
// "" the folders and the archives awaiting check, /folder/<id>, /archive/<id>, /kpi.
import { useEffect, useState } from "preact/hooks";
import type { Access } from "../access";
import { holds } from "../access";
import { ApiError, gql, ok } from "../api";
import { lang, t } from "../i18n";
import { Actor, ErrorBox, Field, Loading, Pager, Section, Table, asApiError, useQuery, when } from "../ui";
import FOLDERS from "../operations/ArchiveFolders.graphql?raw";
import FOLDER from "../operations/ArchiveFolder.graphql?raw";
import LIST from "../operations/Archives.graphql?raw";
import DETAIL from "../operations/ArchiveDetail.graphql?raw";
import CHECK from "../operations/ArchiveCheck.graphql?raw";
import OVERRIDE from "../operations/ArchiveRuleOverride.graphql?raw";
import ACCEPT from "../operations/ArchiveAccept.graphql?raw";
import REJECT from "../operations/ArchiveReject.graphql?raw";
import KPI from "../operations/ArchiveKpiLedger.graphql?raw";
import type {
  ArchiveAcceptMutation, ArchiveAcceptMutationVariables, ArchiveCheckMutation, ArchiveCheckMutationVariables,
  ArchiveDetailQuery, ArchiveDetailQueryVariables, ArchiveFolderQuery, ArchiveFolderQueryVariables,
  ArchiveFoldersQuery, ArchiveFoldersQueryVariables, ArchiveKpiLedgerQuery, ArchiveKpiLedgerQueryVariables,
  ArchiveRejectMutation, ArchiveRejectMutationVariables, ArchiveRuleOverrideMutation,
  ArchiveRuleOverrideMutationVariables, ArchivesQuery, ArchivesQueryVariables,
} from "../generated/graphql";

const VERTICAL = "automotive";

const W = {
  folders: ["档案袋（一车一档）", "Folders (one per vehicle)"],
  folder: ["档案袋", "Folder"],
  subjectKey: ["车架号", "VIN"],
  subjectKind: ["主体", "Subject"],
  plate: ["车牌", "Plate"],
  model: ["车型", "Model"],
  facts: ["主体信息", "Facts"],
  owner: ["车主", "Owner"],
  openCustomer: ["查看客户", "Open customer"],
  retention: ["保存期限", "Kept until"],
  retentionRule: ["保存依据", "Retention rule"],
  sealed: ["封存", "Sealed"],
  notSealed: ["未封存", "not sealed"],
  created: ["建档时间", "Opened"],
  open: ["打开", "Open"],
  awaiting: ["档案列表", "Archives"],
  stateFilter: ["按状态筛选", "Filter by state"],
  allStates: ["全部状态", "All states"],
  filter: ["筛选", "Filter"],
  folderArchives: ["本档案袋中的档案", "Archives in this folder"],
  standard: ["档案类型", "Archive type"],
  state: ["状态", "State"],
  submittedBy: ["提交人", "Submitted by"],
  submittedAt: ["提交时间", "Submitted"],
  submissionDue: ["应交时间", "Due for hand-over"],
  punctual: ["按时提交", "Handed over on time"],
  checkedBy: ["检查人", "Checked by"],
  round: ["检查轮次", "Check round"],
  rejections: ["退回次数", "Rejections"],
  deadline: ["整改截止", "Rectify by"],
  provisional: ["（按暂定节假日计算）", "(provisional holiday schedule)"],
  extendedUntil: ["延期至", "Extended until"],
  damaged: ["破损记录", "Recorded damaged"],
  yes: ["是", "yes"],
  no: ["否", "no"],
  overview: ["概况", "Overview"],
  actions: ["审核操作", "Check actions"],
  runCheck: ["开始检查", "Run the check"],
  checking: ["正在逐条检查规则…", "Running every rule…"],
  accept: ["验收通过", "Accept"],
  reject: ["退回整改", "Send back for rectification"],
  defects: ["其他不合格项（用分号分隔，可不填）", "Further defects (separated by semicolons, optional)"],
  noActions: ["当前状态下无可执行的审核操作。", "No check action in this state."],
  checkResults: ["检查结果", "Check results"],
  notChecked: ["尚未检查。", "Not checked yet."],
  failing: ["未通过的规则", "Failing rules"],
  allPassed: ["所有规则均已通过或已例外放行。", "Every rule passed or was overridden."],
  rule: ["规则", "Rule"],
  status: ["结果", "Outcome"],
  document: ["文件", "Document"],
  field: ["字段", "Field"],
  message: ["说明", "Message"],
  overrideReason: ["例外原因", "Override reason"],
  where: ["文件 · 字段", "Document · field"],
  passed: ["已通过的规则", "Rules passed"],
  override: ["例外放行（特殊情况除外）", "Override (special circumstances)"],
  overrideRule: ["要放行的规则", "Rule to override"],
  reason: ["原因（将被审计）", "Reason (audited)"],
  overrideButton: ["带原因放行", "Override with reason"],
  overridden: ["已例外放行：", "Overridden: "],
  documents: ["档案资料", "Documents"],
  noDocuments: ["暂无资料。", "No documents yet."],
  transitions: ["流转记录（交接登记）", "Transitions (handover register)"],
  from: ["原状态", "From"],
  to: ["新状态", "To"],
  actor: ["操作人", "By"],
  at: ["时间", "Time"],
  note: ["备注", "Note"],
  kpi: ["KPI 考核台账", "KPI ledger"],
  kpiHint: ["本人的扣分与罚款，以及您负责检查的行业的全部记录。", "Your own deductions and fines, and all of the verticals whose archives you check."],
  person: ["人员", "Person"],
  points: ["扣分", "Points"],
  fine: ["罚款（元）", "Fine (CNY)"],
  archive: ["档案", "Archive"],
  fromDate: ["起始日期", "From date"],
  toDate: ["截止日期", "To date"],
  back: ["返回", "Back"],
  toFolders: ["返回档案袋列表", "Back to the folders"],
  toFolder: ["返回档案袋", "Back to the folder"],
  toKpi: ["查看 KPI 考核台账", "Open the KPI ledger"],
  state_assembling: ["整理中", "assembling"],
  state_submitted: ["已提交待检查", "submitted"],
  state_under_check: ["审核中", "under check"],
  state_accepted: ["已验收", "accepted"],
  state_rejected: ["已退回整改", "rejected"],
  state_resubmitted: ["整改后重新提交", "resubmitted"],
  state_archived: ["已归档", "archived"],
  state_sealed: ["已封存", "sealed"],
  status_pass: ["通过", "pass"],
  status_fail: ["未通过", "fail"],
  status_overridden: ["已例外放行", "overridden"],
  status_manual: ["需人工检查", "manual"],
  standard_sales_archive: ["销售档案", "Sales archive"],
  standard_service_archive: ["维修档案", "Service archive"],
  doc_delivery_form: ["客户交车表", "Vehicle delivery form"],
  doc_invoice: ["购车发票", "Purchase invoice"],
  doc_pdi_certificate: ["交车检查PDI盖章证明复印件", "Stamped PDI certificate (copy)"],
  doc_owner_id: ["身份证/组织机构代码证", "Owner ID / organisation-code certificate"],
  doc_conformity_certificate: ["合格证复印件", "Certificate of conformity (copy)"],
  doc_purchase_agreement: ["购车协议书", "Purchase agreement"],
  doc_pdi_maintenance_form: ["PDI保养表", "PDI maintenance form"],
  kpi_nonconforming_archive: ["不合格档案", "non-conforming archive"],
  kpi_late_rectification: ["逾期整改", "late rectification"],
  kpi_unchanged_resubmission: ["原封返回", "resubmitted unchanged"],
  kpi_missing_archive: ["档案缺失", "missing archive"],
  kpi_fraud_fine: ["弄虚作假罚款", "fraud fine"],
} as const;

type WordKey = keyof typeof W;

function w(key: WordKey): string {
  return W[key][lang.get() === "zh" ? 0 : 1];
}

/** A coded value (state, status, …) in the user's language; an unknown one as the API gives it. */
function coded(prefix: string, value: string | null | undefined): string {
  if (!value) return "—";
  const key = `${prefix}_${value}`;
  return key in W ? w(key as WordKey) : value;
}

/** Whether the signed-in user sees this screen: the tenant enabled the automotive vertical and the user
 * holds one of its archive permissions (submit, check, seal) or may override a failed rule. */
export function visible(a: Access): boolean {
  return a.verticals.has(VERTICAL) && (holds(a, `${VERTICAL}.archive`) || holds(a, `${VERTICAL}.exception.approve`));
}

export function Archives({ rest }: { rest: string }) {
  const folder = rest.match(/^\/folder\/([^/]+)$/);
  if (folder) return <FolderView id={decodeURIComponent(folder[1])} />;
  const archive = rest.match(/^\/archive\/([^/]+)$/);
  if (archive) return <ArchiveView id={decodeURIComponent(archive[1])} />;
  if (rest === "/kpi") return <KpiLedger />;
  return <Overview />;
}

// --- personal data ----------------------------------------------------------------------------------
// Archive documents carry the owner's phone and ID number. The screen never shows them in full: any
// mainland mobile or resident ID number in a value is shown the way the API masks them
// (138****5678, 1101**********1234).
const RESIDENT_ID = /(?<![\dXx])(\d{4})\d{10}(\d{3}[\dXx])(?![\dXx])|(?<!\d)(\d{4})\d{7}(\d{4})(?!\d)/g;
const MOBILE = /(?<![\d*])(?:\+?86[- ]?)?(1[3-9]\d)\d{4}(\d{4})(?![\d*])/g;

function masked(text: string): string {
  return text
    .replace(RESIDENT_ID, (_m, a, b, c, d) => (a ? `${a}**********${b}` : `${c}*******${d}`))
    .replace(MOBILE, (_m, a, b) => `${a}****${b}`);
}

function shown(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return value ? "✓" : "✗";
  if (Array.isArray(value)) return value.map(shown).join("；");
  if (typeof value === "object") return Object.values(value as Record<string, unknown>).map(shown).join(" ");
  return masked(String(value));
}

function Facts({ facts }: { facts: Record<string, unknown> | null }) {
  const entries = Object.entries(facts ?? {});
  if (!entries.length) return <p class="muted">—</p>;
  return (
    <dl class="details">
      {entries.map(([k, v]) => <><dt>{k}</dt><dd>{shown(v)}</dd></>)}
    </dl>
  );
}

function yesNo(value: boolean | null | undefined): string {
  return value === null || value === undefined ? "—" : value ? w("yes") : w("no");
}

// --- the folders and the archives list --------------------------------------------------------------

function Overview() {
  return (
    <div>
      <h1>{t("archives")}</h1>
      <p><a href="#/archives/kpi" id="to-kpi">{w("toKpi")}</a></p>
      <FolderList />
      <ArchiveList />
    </div>
  );
}

function FolderList() {
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const page = useQuery<ArchiveFoldersQuery, ArchiveFoldersQueryVariables>(FOLDERS, { vertical: VERTICAL, first: 20, after });
  const list = page.data?.archiveFolders;
  return (
    <Section title={w("folders")} id="folders-title">
      <Loading loaded={page} />
      {list ? (
        <>
          <Table head={[w("subjectKey"), w("plate"), w("model"), w("retention"), w("sealed")]}
            rows={list.nodes.map((f) => {
              const facts = (f.facts ?? {}) as Record<string, unknown>;
              return [
                <a href={`#/archives/folder/${encodeURIComponent(f.id)}`} class="folder-link">{f.subjectKey}</a>,
                shown(facts.plate), shown(facts.model), when(f.retentionUntil), f.sealedAt ? when(f.sealedAt) : w("notSealed"),
              ];
            })} />
          <Pager atFirst={!cursors.length} hasNext={list.pageInfo.hasNextPage}
            onPrevious={() => setCursors(cursors.slice(0, -1))}
            onNext={() => setCursors([...cursors, list.pageInfo.endCursor!])} />
        </>
      ) : null}
    </Section>
  );
}

const STATES = ["submitted", "resubmitted", "under_check", "rejected", "assembling", "accepted", "archived", "sealed"];

function ArchiveList() {
  const [choice, setChoice] = useState("submitted");
  const [state, setState] = useState<string | null>("submitted");
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const page = useQuery<ArchivesQuery, ArchivesQueryVariables>(LIST, { state, first: 20, after });
  const list = page.data?.archives;
  return (
    <Section title={w("awaiting")} id="archives-title">
      <form class="inline" onSubmit={(e) => {
        e.preventDefault();
        setCursors([]);
        setState(choice || null);
      }}>
        <div class="field">
          <label for="archive-state-filter">{w("stateFilter")}</label>
          <select id="archive-state-filter" value={choice} onChange={(e) => setChoice((e.target as HTMLSelectElement).value)}>
            <option value="">{w("allStates")}</option>
            {STATES.map((s) => <option value={s}>{coded("state", s)}</option>)}
          </select>
        </div>
        <button type="submit">{w("filter")}</button>
      </form>
      <Loading loaded={page} />
      {list ? (
        <>
          <ArchiveRows archives={list.nodes} withFolder />
          <Pager atFirst={!cursors.length} hasNext={list.pageInfo.hasNextPage}
            onPrevious={() => setCursors(cursors.slice(0, -1))}
            onNext={() => setCursors([...cursors, list.pageInfo.endCursor!])} />
        </>
      ) : null}
    </Section>
  );
}

type ArchiveRow = ArchivesQuery["archives"]["nodes"][number];

function ArchiveRows({ archives, withFolder }: { archives: ArchiveRow[]; withFolder?: boolean }) {
  return (
    <Table head={[w("standard"), w("state"), w("submittedBy"), w("submittedAt"), w("round"), w("deadline"), ...(withFolder ? [w("folder")] : [])]}
      rows={archives.map((a) => [
        <a href={`#/archives/archive/${encodeURIComponent(a.id)}`} class="archive-link" data-state={a.state}>
          {coded("standard", a.standard)}
        </a>,
        <span class={`state state-${a.state}`}>{coded("state", a.state)}</span>,
        a.submittedBy ? <Actor actor={a.submittedBy} /> : "—",
        when(a.submittedAt),
        a.checkRound,
        when(a.deadlineAt),
        ...(withFolder ? [<a href={`#/archives/folder/${encodeURIComponent(a.folderId)}`}>{w("open")}</a>] : []),
      ])} />
  );
}

// --- one folder ---------------------------------------------------------------------------------------

/** The archives of one folder: the API lists archives by state and type, so the folder's are picked
 * from the pages (a folder holds a handful: one sales archive and the service visits). */
function useFolderArchives(folderId: string): { archives: ArchiveRow[] | null; error: ApiError | null } {
  const [state, setState] = useState<{ archives: ArchiveRow[] | null; error: ApiError | null }>({ archives: null, error: null });
  useEffect(() => {
    let live = true;
    (async () => {
      const found: ArchiveRow[] = [];
      let after: string | null = null;
      for (let pages = 0; pages < 50; pages++) {
        const page: ArchivesQuery["archives"] = (await gql<ArchivesQuery, ArchivesQueryVariables>(LIST, { first: 100, after })).archives;
        found.push(...page.nodes.filter((a) => a.folderId === folderId));
        if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) break;
        after = page.pageInfo.endCursor;
      }
      if (live) setState({ archives: found, error: null });
    })().catch((e: unknown) => live && setState({ archives: null, error: asApiError(e) }));
    return () => {
      live = false;
    };
  }, [folderId]);
  return state;
}

function FolderView({ id }: { id: string }) {
  const read = useQuery<ArchiveFolderQuery, ArchiveFolderQueryVariables>(FOLDER, { id });
  const archives = useFolderArchives(id);
  const folder = read.data?.archiveFolder;
  return (
    <div>
      <p><a href="#/archives">← {w("toFolders")}</a></p>
      <Loading loaded={read} />
      {folder ? (
        <>
          <h1 id="folder-title">{w("subjectKey")} {folder.subjectKey}</h1>
          <Section title={w("facts")} id="folder-facts-title">
            <dl class="details">
              <dt>{w("subjectKind")}</dt><dd>{folder.subjectKind}</dd>
              <dt>{w("owner")}</dt>
              <dd>{folder.ownerCustomerId
                ? <a href={`#/customers/${encodeURIComponent(folder.ownerCustomerId)}`}>{w("openCustomer")}</a> : "—"}</dd>
              <dt>{w("created")}</dt><dd>{when(folder.createdAt)}</dd>
              <dt>{w("retention")}</dt><dd>{when(folder.retentionUntil)}</dd>
              <dt>{w("retentionRule")}</dt><dd>{folder.retentionRule ?? "—"}</dd>
              <dt>{w("sealed")}</dt><dd>{folder.sealedAt ? when(folder.sealedAt) : w("notSealed")}</dd>
            </dl>
            <Facts facts={folder.facts as Record<string, unknown>} />
          </Section>
          <Section title={w("folderArchives")} id="folder-archives-title">
            <ErrorBox error={archives.error} />
            {archives.archives ? <ArchiveRows archives={archives.archives} />
              : archives.error ? null : <p class="muted" aria-live="polite">{t("loading")}</p>}
          </Section>
        </>
      ) : null}
    </div>
  );
}

// --- one archive --------------------------------------------------------------------------------------

type Detail = ArchiveDetailQuery["archive"];
type Result = Detail["checkResults"][number];

function ArchiveView({ id }: { id: string }) {
  const read = useQuery<ArchiveDetailQuery, ArchiveDetailQueryVariables>(DETAIL, { id });
  const archive = read.data?.archive;
  const folder = useQuery<ArchiveFolderQuery, ArchiveFolderQueryVariables>(FOLDER, { id: archive?.folderId ?? "" }, !archive);
  const subject = folder.data?.archiveFolder.subjectKey;
  return (
    <div>
      <p>{archive
        ? <a href={`#/archives/folder/${encodeURIComponent(archive.folderId)}`}>← {w("toFolder")}</a>
        : <a href="#/archives">← {w("toFolders")}</a>}</p>
      <Loading loaded={read} />
      {archive ? (
        <>
          <h1 id="archive-title">{coded("standard", archive.standard)}{subject ? ` · ${subject}` : ""}</h1>
          <ArchiveSummary archive={archive} />
          <Actions archive={archive} onChanged={read.reload} />
          <Results archive={archive} onChanged={read.reload} />
          <Documents archive={archive} />
          <Transitions archive={archive} />
        </>
      ) : null}
    </div>
  );
}

function ArchiveSummary({ archive }: { archive: Detail }) {
  return (
    <Section title={w("overview")} id="archive-overview-title">
      <dl class="details">
        <dt>{w("state")}</dt><dd id="archive-state" data-state={archive.state}>{coded("state", archive.state)}</dd>
        <dt>{w("submittedBy")}</dt><dd>{archive.submittedBy ? <Actor actor={archive.submittedBy} /> : "—"}</dd>
        <dt>{w("submittedAt")}</dt><dd>{when(archive.submittedAt)}</dd>
        <dt>{w("submissionDue")}</dt><dd>{when(archive.submissionDueAt)}</dd>
        <dt>{w("punctual")}</dt><dd>{yesNo(archive.submittedPunctually)}</dd>
        <dt>{w("checkedBy")}</dt><dd>{archive.checkedBy ? <Actor actor={archive.checkedBy} /> : "—"}</dd>
        <dt>{w("round")}</dt><dd>{archive.checkRound}</dd>
        <dt>{w("rejections")}</dt><dd>{archive.rejections}</dd>
        <dt>{w("deadline")}</dt>
        <dd>{when(archive.deadlineAt)}{archive.deadlineAt && archive.provisional ? ` ${w("provisional")}` : ""}</dd>
        {archive.extendedUntil ? <><dt>{w("extendedUntil")}</dt><dd>{when(archive.extendedUntil)}</dd></> : null}
        {archive.damagedAt ? <><dt>{w("damaged")}</dt><dd>{when(archive.damagedAt)} {archive.damageNote ?? ""}</dd></> : null}
      </dl>
      <Facts facts={archive.facts as Record<string, unknown>} />
    </Section>
  );
}

function Actions({ archive, onChanged }: { archive: Detail; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [defects, setDefects] = useState("");
  const checkable = archive.state === "submitted" || archive.state === "resubmitted";
  const underCheck = archive.state === "under_check";

  async function run(action: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await action();
      onChanged();
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Section title={w("actions")} id="archive-actions-title">
      {checkable ? (
        <button type="button" class="primary" id="run-check" disabled={busy} onClick={() => run(async () =>
          ok((await gql<ArchiveCheckMutation, ArchiveCheckMutationVariables>(CHECK, { id: archive.id })).archiveCheck))}>
          {w("runCheck")}
        </button>
      ) : null}
      {underCheck ? (
        <>
          <p>
            <button type="button" class="primary" id="accept" disabled={busy} onClick={() => run(async () =>
              ok((await gql<ArchiveAcceptMutation, ArchiveAcceptMutationVariables>(ACCEPT, { id: archive.id })).archiveAccept))}>
              {w("accept")}
            </button>
          </p>
          <form id="reject" class="inline" onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              const listed = defects.split(/[;；]/).map((d) => d.trim()).filter(Boolean);
              ok((await gql<ArchiveRejectMutation, ArchiveRejectMutationVariables>(REJECT,
                { id: archive.id, defects: listed })).archiveReject);
              setDefects("");
            });
          }}>
            <Field label={w("defects")} name="defects" value={defects} onInput={setDefects} />
            <button type="submit" disabled={busy}>{w("reject")}</button>
          </form>
        </>
      ) : null}
      {!checkable && !underCheck ? <p class="muted">{w("noActions")}</p> : null}
      {busy ? <p class="muted" aria-live="polite" role="status">{w("checking")}</p> : null}
      <ErrorBox error={error} />
    </Section>
  );
}

function message(r: Result): string {
  return masked(lang.get() === "zh" ? r.messageZh : r.messageEn);
}

function Results({ archive, onChanged }: { archive: Detail; onChanged: () => void }) {
  const results = archive.checkResults;
  const failing = results.filter((r) => r.status === "fail");
  // failing and manual items first, then the overridden ones, then the passes
  const order = { fail: 0, manual: 1, overridden: 2, pass: 3 } as Record<string, number>;
  const sorted = [...results].sort((a, b) => (order[a.status] ?? 9) - (order[b.status] ?? 9));
  const open = sorted.filter((r) => r.status !== "pass");
  const passed = sorted.filter((r) => r.status === "pass");
  return (
    <Section title={`${w("checkResults")}${archive.checkRound ? ` · ${w("round")} ${archive.checkRound}` : ""}`} id="archive-results-title">
      {!results.length ? <p class="muted">{w("notChecked")}</p> : (
        <>
          <p id="failing-count" class={failing.length ? "bad" : "good"}>
            {failing.length ? `${w("failing")}: ${failing.length}` : w("allPassed")}
          </p>
          <div id="check-results">
            <ResultTable results={open} />
            {passed.length ? (
              <details class="vertical">
                <summary>{w("passed")} ({passed.length})</summary>
                <ResultTable results={passed} />
              </details>
            ) : null}
          </div>
          {failing.length && archive.state === "under_check" ? <OverrideForm failing={failing} onChanged={onChanged} /> : null}
        </>
      )}
    </Section>
  );
}

function ResultTable({ results }: { results: Result[] }) {
  return (
    <Table head={[w("rule"), w("status"), w("where"), w("message"), w("overrideReason")]}
      rows={results.map((r) => [
        <code>{r.ruleCode}</code>,
        <span class={r.status === "fail" ? "bad" : r.status === "overridden" ? "clock-paused" : r.status === "pass" ? "good" : ""}
          data-rule={r.ruleCode} data-status={r.status}>{coded("status", r.status)}</span>,
        [r.document ? coded("doc", r.document) : null, r.field].filter(Boolean).join(" · ") || "—",
        message(r),
        r.overrideReason ? <>{r.overrideReason}{r.overriddenBy ? <> · <Actor actor={r.overriddenBy} /></> : null}</> : "—",
      ])} />
  );
}

function OverrideForm({ failing, onChanged }: { failing: Result[]; onChanged: () => void }) {
  const [resultId, setResultId] = useState(failing[0]?.id ?? "");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const chosen = failing.some((r) => r.id === resultId) ? resultId : failing[0]?.id ?? "";

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    setDone(null);
    const rule = failing.find((r) => r.id === chosen);
    try {
      ok((await gql<ArchiveRuleOverrideMutation, ArchiveRuleOverrideMutationVariables>(OVERRIDE,
        { resultId: chosen, reason })).archiveRuleOverride);
      setReason("");
      setDone(rule ? `${rule.ruleCode} · ${message(rule)}` : "");
      onChanged();
    } catch (e) {
      setError(asApiError(e));
    }
  }

  return (
    <div>
      <h3>{w("override")}</h3>
      <form id="override" onSubmit={submit}>
        <div class="field">
          <label for="override-rule">{w("overrideRule")}</label>
          <select id="override-rule" name="resultId" value={chosen} onChange={(e) => setResultId((e.target as HTMLSelectElement).value)}>
            {failing.map((r) => (
              <option value={r.id}>{r.ruleCode}{r.document ? ` · ${coded("doc", r.document)}` : ""}{r.field ? ` · ${r.field}` : ""} — {message(r)}</option>
            ))}
          </select>
        </div>
        <Field label={w("reason")} name="reason" value={reason} onInput={setReason} required />
        <ErrorBox error={error} />
        <button type="submit">{w("overrideButton")}</button>
      </form>
      {done !== null ? <p class="notice" role="status" id="override-done">{w("overridden")}{done}</p> : null}
    </div>
  );
}

function Documents({ archive }: { archive: Detail }) {
  const documents = [...archive.documents].sort((a, b) => a.position - b.position);
  return (
    <Section title={`${w("documents")} (${documents.length})`} id="archive-documents-title">
      {!documents.length ? <p class="muted">{w("noDocuments")}</p> : documents.map((d) => (
        <div class="document" data-code={d.code}>
          <h3>{d.position}. {coded("doc", d.code)} <code>{d.code}</code></h3>
          <Facts facts={d.fields as Record<string, unknown>} />
        </div>
      ))}
    </Section>
  );
}

function Transitions({ archive }: { archive: Detail }) {
  return (
    <Section title={w("transitions")} id="archive-transitions-title">
      <Table head={[w("at"), w("from"), w("to"), w("actor"), w("note")]}
        rows={archive.transitions.map((tr) => [
          when(tr.at), coded("state", tr.fromState), coded("state", tr.toState), <Actor actor={tr.actor} />, masked(tr.note || "—"),
        ])} />
    </Section>
  );
}

// --- the KPI ledger -------------------------------------------------------------------------------------

/** The start of a local date (YYYY-MM-DD) as an instant; the end of it when `end`. */
function dayBound(day: string, end: boolean): string | null {
  if (!day) return null;
  const at = new Date(`${day}T00:00:00`);
  if (Number.isNaN(at.getTime())) return null;
  if (end) at.setDate(at.getDate() + 1);
  return at.toISOString();
}

function KpiLedger() {
  const [fromDay, setFromDay] = useState("");
  const [toDay, setToDay] = useState("");
  const [range, setRange] = useState<{ from: string | null; to: string | null }>({ from: null, to: null });
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const page = useQuery<ArchiveKpiLedgerQuery, ArchiveKpiLedgerQueryVariables>(KPI, { ...range, first: 50, after });
  const list = page.data?.kpiLedger;
  return (
    <div>
      <p><a href="#/archives">← {w("toFolders")}</a></p>
      <h1 id="kpi-title">{w("kpi")}</h1>
      <p class="muted">{w("kpiHint")}</p>
      <Section title={w("kpi")} id="kpi-entries-title">
        <form class="inline" id="kpi-range" onSubmit={(e) => {
          e.preventDefault();
          setCursors([]);
          setRange({ from: dayBound(fromDay, false), to: dayBound(toDay, true) });
        }}>
          <Field label={w("fromDate")} name="from" type="date" value={fromDay} onInput={setFromDay} />
          <Field label={w("toDate")} name="to" type="date" value={toDay} onInput={setToDay} />
          <button type="submit">{w("filter")}</button>
        </form>
        <Loading loaded={page} />
        {list ? (
          <>
            <div id="kpi-entries">
              <Table head={[w("at"), w("person"), w("rule"), w("points"), w("fine"), w("subjectKey"), w("archive"), w("reason")]}
                rows={list.nodes.map((e) => [
                  when(e.at),
                  <Actor actor={`user:${e.userId}`} />,
                  <span data-rule={e.ruleCode}>{coded("kpi", e.ruleCode)}</span>,
                  e.points,
                  e.fineCny,
                  e.subjectKey ?? "—",
                  e.archiveId ? <a href={`#/archives/archive/${encodeURIComponent(e.archiveId)}`} class="kpi-archive">{w("open")}</a> : "—",
                  masked(e.reason),
                ])} />
            </div>
            <Pager atFirst={!cursors.length} hasNext={list.pageInfo.hasNextPage}
              onPrevious={() => setCursors(cursors.slice(0, -1))}
              onNext={() => setCursors([...cursors, list.pageInfo.endCursor!])} />
          </>
        ) : null}
      </Section>
    </div>
  );
}
