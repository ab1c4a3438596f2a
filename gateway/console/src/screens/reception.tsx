// The real-estate sales office (seed-000 §2, RE1–RE31): the day's reception queue of an office
// (sign-in order, whose turn, waiting customers, active receptions) with what a consultant does on
// it (sign in, acknowledge the sales control, record an arrival, receive the next customer, end the
// reception) and what the on-site manager does (skip a turn, remove or restore eligibility); the
// clerk's confirmation of the day's visit register; and, for any customer, the attribution
// explanation: who owns them, by which rule and why, and the ledger it rests on.
import { useEffect, useRef, useState } from "preact/hooks";
import type { Access } from "../access";
import { holds, useAccess } from "../access";
import { ApiError, gql, ok } from "../api";
import { lang, t } from "../i18n";
import { navigate } from "../router";
import { signal, useSignal } from "../state";
import { ErrorBox, Field, Loading, Pager, Section, Table, asApiError, useQuery, when } from "../ui";
import QUEUE from "../operations/ReceptionQueue.graphql?raw";
import RECEPTIONS from "../operations/ReceptionReceptions.graphql?raw";
import SIGN_IN from "../operations/ReceptionSignIn.graphql?raw";
import ACKNOWLEDGE from "../operations/ReceptionAcknowledge.graphql?raw";
import ARRIVE from "../operations/ReceptionArrive.graphql?raw";
import NEXT from "../operations/ReceptionNext.graphql?raw";
import END from "../operations/ReceptionEnd.graphql?raw";
import CANCEL from "../operations/ReceptionCancel.graphql?raw";
import SKIP from "../operations/ReceptionSkip.graphql?raw";
import ELIGIBILITY from "../operations/ReceptionEligibility.graphql?raw";
import CONFIRM from "../operations/ReceptionRegisterConfirm.graphql?raw";
import ATTRIBUTION from "../operations/ReceptionAttribution.graphql?raw";
import LEDGER from "../operations/ReceptionLedger.graphql?raw";
import OWNERS from "../operations/ReceptionOwners.graphql?raw";
import OWNER_NAME from "../operations/ReceptionOwnerName.graphql?raw";
import SEARCH from "../operations/ReceptionCustomerSearch.graphql?raw";
import CUSTOMER_NAME from "../operations/ReceptionCustomerName.graphql?raw";
import CONSULTANT from "../operations/ReceptionConsultant.graphql?raw";
import type {
  ReceptionAcknowledgeMutation, ReceptionArriveMutation, ReceptionArriveMutationVariables, ReceptionAttributionQuery,
  ReceptionCancelMutation, ReceptionConsultantQuery, ReceptionCustomerNameQuery, ReceptionCustomerSearchQuery,
  ReceptionEligibilityMutation, ReceptionEligibilityMutationVariables, ReceptionEndMutation, ReceptionLedgerQuery,
  ReceptionLedgerQueryVariables, ReceptionNextMutation, ReceptionOwnerNameQuery, ReceptionOwnersQuery, ReceptionOwnersQueryVariables,
  ReceptionQueueQuery, ReceptionReceptionsQuery, ReceptionReceptionsQueryVariables, ReceptionRegisterConfirmMutation,
  ReceptionSignInMutation, ReceptionSkipMutation,
} from "../generated/graphql";

const SIGN_IN_PERMISSION = "real_estate.reception.sign_in";
const MANAGE_PERMISSION = "real_estate.reception.manage";
const CONFIRM_PERMISSION = "real_estate.register.confirm";
const DEFAULT_OFFICE = "南区售楼处";

const W = {
  office: ["案场", "Sales office"],
  show: ["查看", "Show"],
  refresh: ["刷新", "Refresh"],
  day: ["日期", "Day"],
  nobody: ["今日尚无人签到。", "Nobody has signed in today."],
  signIn: ["签到（加入轮序）", "Sign in to the queue"],
  acknowledge: ["确认今日销控", "Acknowledge today's sales control"],
  mustAcknowledge: ["请先确认今日销控状况，确认后才能接待（RE3）。", "Acknowledge today's sales control before receiving (RE3)."],
  youAreIn: ["您已签到，轮序第", "You are signed in, place"],
  turn: ["当前轮到", "Whose turn"],
  lastInSchedule: ["义务接待（排班最后）", "Duty reception (last in schedule)"],
  order: ["轮序", "Order"],
  consultant: ["置业顾问", "Consultant"],
  signedInAt: ["签到时间", "Signed in"],
  salesControl: ["销控", "Sales control"],
  acknowledged: ["已确认", "acknowledged"],
  notAcknowledged: ["未确认", "not acknowledged"],
  eligible: ["接待资格", "Eligibility"],
  yes: ["有", "yes"],
  removed: ["已取消", "removed"],
  counted: ["计入轮次", "Counted"],
  lost: ["失去轮次", "Lost turns"],
  busy: ["状态", "State"],
  free: ["空闲", "free"],
  receiving: ["接待中", "receiving"],
  skip: ["缺席，跳过此轮（RE7）", "Absent: skip the turn (RE7)"],
  eligibilityTitle: ["接待资格（RE1、RE4）", "Eligibility (RE1, RE4)"],
  removeEligibility: ["取消本轮资格", "Remove for this round"],
  restoreEligibility: ["恢复资格", "Restore"],
  waiting: ["等待接待的客户", "Customers waiting"],
  arrivedAt: ["到访时间", "Arrived"],
  firstVisit: ["首次到访", "First visit"],
  returning: ["再次到访", "Returning"],
  customer: ["客户", "Customer"],
  note: ["备注", "Note"],
  unknown: ["未确认身份", "not identified"],
  leave: ["客户离开", "Left unreceived"],
  arrive: ["登记到访", "Record an arrival"],
  arriveButton: ["登记到访客户", "Record the arrival"],
  customerIdOptional: ["客户 ID（已知时填写）", "Customer id (when known)"],
  next: ["接待下一位（按规则分配）", "Receive the next customer (by the rules)"],
  active: ["正在进行的接待", "Receptions in progress"],
  kind: ["接待方式", "How"],
  rule: ["规则", "Rule"],
  startedAt: ["开始", "Started"],
  endedAt: ["结束", "Ended"],
  end: ["结束接待", "End the reception"],
  received: ["已分配接待", "Received by"],
  today: ["今日接待记录", "Today's receptions"],
  status: ["状态", "Status"],
  register: ["来访登记确认（销售内勤，RE19、RE21）", "Confirm the visit register (sales clerk, RE19, RE21)"],
  confirm: ["确认该日来访登记", "Confirm the day's register"],
  confirmed: ["已确认登记条目", "Register entries confirmed"],
  lookup: ["客户归属查询", "Look up a customer's attribution"],
  searchCustomer: ["客户姓名、电话或证件号", "Customer name, phone or ID number"],
  search: ["搜索", "Search"],
  owners: ["已登记归属的客户", "Customers with a stored owner"],
  validOnly: ["仅有效", "Valid only"],
  lapsedOnly: ["仅已失效", "Lapsed only"],
  all: ["全部", "All"],
  validity: ["归属有效性", "Validity"],
  validUntil: ["有效期至", "Valid until"],
  decidedAt: ["判定时间", "Decided"],
  owner: ["归属置业顾问", "Owner"],
  noOwner: ["无归属", "No owner"],
  why: ["归属说明", "Why"],
  shares: ["佣金分配", "Commission split"],
  deals: ["成交及分佣", "Deals and splits"],
  ledger: ["归属台账", "Attribution ledger"],
  at: ["时间", "When"],
  entry: ["记录", "Entry"],
  recordedBy: ["记录人", "Recorded by"],
  refersTo: ["所涉记录", "Concerns"],
  openAttribution: ["查看归属说明", "Attribution"],
  backToQueue: ["返回接待与归属", "Back to reception"],
  done: ["已完成", "Done"],
  reasonRequired: ["原因", "Reason"],
} as const;
const w = (k: keyof typeof W) => W[k][lang.get() === "zh" ? 0 : 1];

const KINDS: Record<string, [string, string]> = {
  rotation: ["轮流接待", "rotation"], owner: ["原置业顾问接待", "by the owner"], duty: ["义务接待", "duty reception"],
  designated: ["指定接待", "designated"], transfer: ["改派", "transfer"],
};
const STATUSES: Record<string, [string, string]> = {
  active: ["接待中", "in progress"], ended: ["已结束", "ended"], transferred: ["已改派", "transferred"],
  waiting: ["等待中", "waiting"], received: ["已接待", "received"], left: ["已离开", "left"],
};
const LEDGER_KINDS: Record<string, [string, string]> = {
  REGISTRATION: ["登记", "registration"], FOLLOW_UP: ["回访", "follow-up"], PRE_DECLARATION: ["报备", "pre-declaration"],
  PHONE_INQUIRY: ["来电", "phone inquiry"], VISIT: ["来访接待", "visit"], RECOGNITION: ["认出客户", "recognition"],
  CONFIRMATION: ["内勤确认", "confirmation"], DEAL: ["成交", "deal"], DEAL_CHANGE: ["更名/换房", "deal change"],
  TRANSFER: ["改派", "transfer"], DISPUTE_DECISION: ["争议裁定", "dispute decision"], CORRECTION: ["更正", "correction"],
};
const say = (table: Record<string, [string, string]>, key: string) => table[key]?.[lang.get() === "zh" ? 0 : 1] ?? key;

/** Whether the signed-in user sees this screen: the tenant enabled the vertical and the user takes part in
 * the queue, confirms its register or reads attributions. */
export function visible(a: Access): boolean {
  return a.verticals.has("real_estate") && (holds(a, "real_estate.reception") || holds(a, CONFIRM_PERMISSION)
    || holds(a, "attribution.read"));
}

// --- names of consultants and customers (the API gives ids; a name when the viewer may read it) ---

const consultantNames = new Map<string, string>();
const consultantLookups = new Set<string>();
/** Moves on whenever a consultant's name becomes known: the names shown update everywhere. */
const namesLearned = signal(0);

function learn(id: string | null | undefined, name: string | null | undefined): void {
  if (!id || !name || consultantNames.get(id) === name) return;
  consultantNames.set(id, name);
  namesLearned.set(namesLearned.get() + 1);
}

function shortId(id: string): string {
  return id.slice(0, 8);
}

function consultantName(id: string): string {
  return consultantNames.get(id) ?? `${w("consultant")} ${shortId(id)}`;
}

/** A refusal (no user.read) is final and the short id stays; a busy or unreachable server is not:
 * the name is asked again a few times, backing off, so one lost answer does not hide it for good. */
async function lookUpConsultant(id: string): Promise<void> {
  for (let attempt = 0; attempt < 4; attempt += 1) {
    try {
      learn(id, (await gql<ReceptionConsultantQuery>(CONSULTANT, { id })).user.displayName);
      return;
    } catch (error) {
      if (error instanceof ApiError && FINAL_REFUSALS.has(error.code)) return;
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
    }
  }
}

const FINAL_REFUSALS = new Set(["PERMISSION_DENIED", "NOT_FOUND", "FORBIDDEN"]);

function Consultant({ id }: { id: string | null | undefined }) {
  useSignal(namesLearned);
  useEffect(() => {
    if (!id || consultantNames.has(id) || consultantLookups.has(id)) return;
    consultantLookups.add(id);
    void lookUpConsultant(id);
  }, [id]);
  if (!id) return <span>—</span>;
  return <span class="consultant" data-id={id} title={id}>{consultantName(id)}</span>;
}

const customerNames = new Map<string, Promise<string | null>>();

function CustomerLink({ id }: { id: string | null | undefined }) {
  const [name, setName] = useState<string | null>(null);
  useEffect(() => {
    if (!id) return;
    if (!customerNames.has(id)) {
      customerNames.set(id, gql<ReceptionCustomerNameQuery>(CUSTOMER_NAME, { id }).then(
        (d) => d.customer.displayName, () => null));
    }
    let live = true;
    void customerNames.get(id)!.then((n) => live && setName(n));
    return () => {
      live = false;
    };
  }, [id]);
  if (!id) return <span class="muted">{w("unknown")}</span>;
  return <a href={`#/reception/${encodeURIComponent(id)}`} class="attribution-link" data-customer={id}>
    {name ?? `${w("customer")} ${shortId(id)}`}</a>;
}

/** The explanation with the consultants' ids replaced by the names known. */
function readable(text: string): string {
  return text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g,
    (id) => consultantNames.get(id) ?? id);
}

function todayIso(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

let lastOffice = DEFAULT_OFFICE; // kept while the user opens a customer's attribution and comes back

async function attempt(setError: (e: ApiError | null) => void, action: () => Promise<void>): Promise<boolean> {
  setError(null);
  try {
    await action();
    return true;
  } catch (e) {
    setError(asApiError(e));
    return false;
  }
}

// --- the screen -------------------------------------------------------------------------------------

export function Reception({ rest }: { rest: string }) {
  const access = useAccess();
  const customer = rest.match(/^\/([^/]+)$/);
  if (customer) return <Attribution customerId={decodeURIComponent(customer[1])} />;
  const queueUser = !!access && (holds(access, SIGN_IN_PERMISSION) || holds(access, MANAGE_PERMISSION));
  const clerk = !!access && holds(access, CONFIRM_PERMISSION);
  const reader = !!access && holds(access, "attribution.read");
  return (
    <div>
      <h1>{t("reception")}</h1>
      {access ? <OfficeScreens access={access} queueUser={queueUser} clerk={clerk} /> : <p class="muted" aria-live="polite">{t("loading")}</p>}
      {reader ? <Lookup /> : null}
    </div>
  );
}

function OfficeScreens(props: { access: Access; queueUser: boolean; clerk: boolean }) {
  const [typed, setTyped] = useState(lastOffice);
  const [office, setOffice] = useState(lastOffice);
  const [round, setRound] = useState(0);
  if (!props.queueUser && !props.clerk) return null;
  const changed = () => setRound((n) => n + 1);
  return (
    <>
      <form id="office" class="inline" onSubmit={(e) => {
        e.preventDefault();
        lastOffice = typed.trim() || DEFAULT_OFFICE;
        setOffice(lastOffice);
      }}>
        <Field label={w("office")} name="office" value={typed} onInput={setTyped} required />
        <button type="submit">{w("show")}</button>
      </form>
      {props.queueUser ? <Queue office={office} manager={holds(props.access, MANAGE_PERMISSION)}
        consultant={holds(props.access, SIGN_IN_PERMISSION)} round={round} onChanged={changed} /> : null}
      {props.queueUser ? <Receptions office={office} round={round} /> : null}
      {props.clerk ? <Register office={office} onChanged={changed} /> : null}
    </>
  );
}

type QueueData = NonNullable<ReceptionQueueQuery["realEstateQueue"]>;

function Queue(props: { office: string; manager: boolean; consultant: boolean; round: number; onChanged: () => void }) {
  const loaded = useQuery<ReceptionQueueQuery, { office: string }>(QUEUE, { office: props.office });
  useEffect(() => {
    if (props.round) loaded.reload();
  }, [props.round]);
  const [error, setError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const queue = loaded.data?.realEstateQueue ?? null;
  const me = loaded.data?.me.user ?? null;
  useEffect(() => learn(me?.id, me?.displayName), [me?.id]);
  const mine = queue?.members.find((m) => m.consultantId === me?.id) ?? null;
  const said = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (error || notice) said.current?.scrollIntoView?.({ block: "nearest" }); // seen on a phone too
  }, [error, notice]);

  async function run(action: () => Promise<string | void>) {
    setNotice(null);
    let done: string | null = null;
    if (await attempt(setError, async () => {
      done = (await action()) || null;
    })) {
      setNotice(done);
      props.onChanged();
    }
  }

  return (
    <div id="queue">
    <Section title={`${w("order")} · ${props.office}`} id="queue-title">
      <p>
        <button type="button" id="queue-refresh" onClick={loaded.reload}>{w("refresh")}</button>
      </p>
      <Loading loaded={loaded} />
      {props.consultant ? (
        <p>
          {!mine ? (
            <button type="button" id="queue-sign-in" class="primary" onClick={() => run(async () => {
              ok((await gql<ReceptionSignInMutation>(SIGN_IN, { office: props.office })).realEstateReceptionSignIn);
            })}>{w("signIn")}</button>
          ) : (
            <span id="queue-mine">{w("youAreIn")} {mine.position}</span>
          )}
          {mine && !mine.salesControlAcknowledged ? (
            <>
              {" "}
              <button type="button" id="queue-acknowledge" onClick={() => run(async () => {
                ok((await gql<ReceptionAcknowledgeMutation>(ACKNOWLEDGE, { office: props.office })).realEstateSalesControlAcknowledge);
              })}>{w("acknowledge")}</button>
            </>
          ) : null}
          {queue ? (
            <>
              {" "}
              <button type="button" id="queue-next" class="primary" onClick={() => run(async () => {
                const r = ok((await gql<ReceptionNextMutation>(NEXT, { office: props.office })).realEstateReceptionNext).reception!;
                return `${w("received")}: ${consultantName(r.consultantId)} · ${say(KINDS, r.kind)} (${r.rule})`;
              })}>{w("next")}</button>
            </>
          ) : null}
        </p>
      ) : null}
      {mine && !mine.salesControlAcknowledged ? <p class="notice" id="queue-ack-notice">{w("mustAcknowledge")}</p> : null}
      <div ref={said}>
        <ErrorBox error={error} />
        {notice ? <p class="good" role="status" id="queue-notice">{notice}</p> : null}
      </div>
      {loaded.data && !queue ? <p class="muted" id="queue-empty">{w("nobody")}</p> : null}
      {queue ? (
        <QueueBody queue={queue} office={props.office} manager={props.manager} consultant={props.consultant}
          me={me?.id ?? null} run={run} />
      ) : null}
    </Section>
    </div>
  );
}

function QueueBody(props: {
  queue: QueueData; office: string; manager: boolean; consultant: boolean; me: string | null;
  run: (action: () => Promise<string | void>) => Promise<void>;
}) {
  const { queue, run } = props;
  useSignal(namesLearned);
  const [firstVisit, setFirstVisit] = useState(true);
  const [arrivalCustomer, setArrivalCustomer] = useState("");
  const [note, setNote] = useState("");
  const [endCustomer, setEndCustomer] = useState<Record<string, string>>({});
  const [chosen, setChosen] = useState("");
  const [reason, setReason] = useState("");
  const chosenId = chosen || queue.members[0]?.consultantId || "";

  return (
    <>
      <dl class="details">
        <dt>{w("day")}</dt><dd>{queue.day}</dd>
        <dt>{w("turn")}</dt><dd id="queue-turn"><Consultant id={queue.turn} /></dd>
        <dt>{w("lastInSchedule")}</dt><dd><Consultant id={queue.lastInSchedule} /></dd>
      </dl>
      <div id="queue-members">
        <Table head={[w("order"), w("consultant"), w("signedInAt"), w("salesControl"), w("eligible"),
          w("counted"), w("lost"), w("busy"), ...(props.manager ? [""] : [])]}
          rows={queue.members.map((m) => [
            String(m.position),
            <Consultant id={m.consultantId} />,
            when(m.signedInAt),
            m.salesControlAcknowledged ? <span class="good">{w("acknowledged")}</span> : <span class="bad">{w("notAcknowledged")}</span>,
            m.eligible ? w("yes") : <span class="bad">{w("removed")}{m.eligibilityReason ? `：${m.eligibilityReason}` : ""}</span>,
            String(m.countedReceptions),
            String(m.lostTurns),
            m.busyWith ? <span class="clock-running">{w("receiving")}</span> : w("free"),
            ...(props.manager ? [m.consultantId === queue.turn ? (
              <button type="button" class="skip" onClick={() => run(async () => {
                ok((await gql<ReceptionSkipMutation>(SKIP, { office: props.office, consultantId: m.consultantId })).realEstateReceptionSkip);
              })}>{w("skip")}</button>
            ) : ""] : []),
          ])} />
      </div>
      {props.manager && queue.members.length ? (
        <form id="queue-eligibility" class="inline" onSubmit={(e) => e.preventDefault()}>
          <h3>{w("eligibilityTitle")}</h3>
          <div class="field">
            <label for="eligibility-consultant">{w("consultant")}</label>
            <select id="eligibility-consultant" value={chosenId}
              onChange={(e) => setChosen((e.target as HTMLSelectElement).value)}>
              {queue.members.map((m) => <option value={m.consultantId}>{m.position}. {consultantName(m.consultantId)}</option>)}
            </select>
          </div>
          <Field label={w("reasonRequired")} name="eligibilityReason" value={reason} onInput={setReason} />
          <button type="button" onClick={() => run(async () => {
            ok((await gql<ReceptionEligibilityMutation, ReceptionEligibilityMutationVariables>(ELIGIBILITY, {
              office: props.office, consultantId: chosenId, eligible: false, reason: reason || null,
            })).realEstateReceptionEligibility);
            setReason("");
          })}>{w("removeEligibility")}</button>
          <button type="button" onClick={() => run(async () => {
            ok((await gql<ReceptionEligibilityMutation, ReceptionEligibilityMutationVariables>(ELIGIBILITY, {
              office: props.office, consultantId: chosenId, eligible: true,
            })).realEstateReceptionEligibility);
          })}>{w("restoreEligibility")}</button>
        </form>
      ) : null}

      <h3>{w("waiting")}</h3>
      <div id="queue-waiting">
        <Table head={[w("arrivedAt"), w("firstVisit"), w("customer"), w("note"), ""]}
          rows={queue.waiting.map((a) => [
            when(a.arrivedAt),
            a.firstVisit ? w("firstVisit") : w("returning"),
            <CustomerLink id={a.customerId} />,
            a.note ?? "",
            <button type="button" class="leave" onClick={() => run(async () => {
              ok((await gql<ReceptionCancelMutation>(CANCEL, { arrivalId: a.id })).realEstateReceptionCancel);
            })}>{w("leave")}</button>,
          ])} />
      </div>
      {props.consultant ? (
        <>
          <form id="queue-arrive" onSubmit={(e) => {
            e.preventDefault();
            void run(async () => {
              ok((await gql<ReceptionArriveMutation, ReceptionArriveMutationVariables>(ARRIVE, {
                office: props.office, firstVisit, customerId: arrivalCustomer.trim() || null, note: note.trim() || null,
              })).realEstateReceptionArrive);
              setArrivalCustomer("");
              setNote("");
            });
          }}>
            <h3>{w("arrive")}</h3>
            <div class="field">
              <label for="arrive-first">
                <input id="arrive-first" type="checkbox" name="firstVisit" checked={firstVisit}
                  onChange={(e) => setFirstVisit((e.target as HTMLInputElement).checked)} /> {w("firstVisit")}（RE22）
              </label>
            </div>
            <Field label={w("customerIdOptional")} name="arrivalCustomer" value={arrivalCustomer} onInput={setArrivalCustomer} />
            <Field label={w("note")} name="arrivalNote" value={note} onInput={setNote} />
            <button type="submit">{w("arriveButton")}</button>
          </form>
        </>
      ) : null}

      <h3>{w("active")}</h3>
      <div id="queue-active">
        <Table head={[w("consultant"), w("kind"), w("rule"), w("startedAt"), w("customer"), ""]}
          rows={queue.active.map((r) => [
            <Consultant id={r.consultantId} />,
            say(KINDS, r.kind) + (r.counted ? ` · ${w("counted")}` : ""),
            <code class="rule">{r.rule}</code>,
            when(r.startedAt),
            <CustomerLink id={r.customerId} />,
            props.manager || r.consultantId === props.me ? (
              <form class="inline end-reception" onSubmit={(e) => {
                e.preventDefault();
                void run(async () => {
                  ok((await gql<ReceptionEndMutation>(END, {
                    receptionId: r.id, customerId: (endCustomer[r.id] ?? "").trim() || null,
                  })).realEstateReceptionEnd);
                  return w("done");
                });
              }}>
                {r.customerId ? null : (
                  <Field label={w("customerIdOptional")} name="endCustomer" value={endCustomer[r.id] ?? ""}
                    onInput={(v) => setEndCustomer({ ...endCustomer, [r.id]: v })} />
                )}
                <button type="submit">{w("end")}</button>
              </form>
            ) : "",
          ])} />
      </div>
    </>
  );
}

function Receptions(props: { office: string; round: number }) {
  const day = todayIso();
  const from = new Date(`${day}T00:00:00`);
  const to = new Date(from.getTime() + 24 * 3600 * 1000);
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const loaded = useQuery<ReceptionReceptionsQuery, ReceptionReceptionsQueryVariables>(RECEPTIONS, {
    office: props.office, from: from.toISOString(), to: to.toISOString(), first: 20, after,
  });
  useEffect(() => {
    if (props.round) loaded.reload();
  }, [props.round]);
  const list = loaded.data?.realEstateReceptions;
  return (
    <Section title={w("today")} id="receptions-title">
      <Loading loaded={loaded} />
      {list ? (
        <div id="receptions">
          <Table head={[w("startedAt"), w("consultant"), w("kind"), w("rule"), w("customer"), w("status"), w("endedAt")]}
            rows={list.nodes.map((r) => [
              when(r.startedAt),
              <Consultant id={r.consultantId} />,
              say(KINDS, r.kind) + (r.counted ? ` · ${w("counted")}` : ""),
              <code class="rule">{r.rule}</code>,
              <CustomerLink id={r.customerId} />,
              <span class={r.status === "active" ? "clock-running" : "clock-met"} data-status={r.status}>{say(STATUSES, r.status)}</span>,
              when(r.endedAt),
            ])} />
          <Pager atFirst={!cursors.length} hasNext={list.pageInfo.hasNextPage}
            onPrevious={() => setCursors(cursors.slice(0, -1))}
            onNext={() => setCursors([...cursors, list.pageInfo.endCursor!])} />
        </div>
      ) : null}
    </Section>
  );
}

function Register(props: { office: string; onChanged: () => void }) {
  const [day, setDay] = useState(todayIso());
  const [error, setError] = useState<ApiError | null>(null);
  const [confirmed, setConfirmed] = useState<number | null>(null);
  return (
    <Section title={w("register")} id="register-title">
      <form id="register-confirm" class="inline" onSubmit={(e) => {
        e.preventDefault();
        setConfirmed(null);
        void attempt(setError, async () => {
          const done = ok((await gql<ReceptionRegisterConfirmMutation>(CONFIRM, { office: props.office, day })).realEstateRegisterConfirm);
          setConfirmed(done.confirmed);
          props.onChanged();
        });
      }}>
        <Field label={w("day")} name="registerDay" type="date" value={day} onInput={setDay} required />
        <button type="submit">{w("confirm")}</button>
      </form>
      <ErrorBox error={error} />
      {confirmed !== null ? <p class="good" role="status" id="register-result">{w("confirmed")}: {confirmed}</p> : null}
    </Section>
  );
}

// --- attribution: look a customer up, the stored owners, one customer's explanation --------------------

function Lookup() {
  const [text, setText] = useState("");
  const [search, setSearch] = useState<string | null>(null);
  const found = useQuery<ReceptionCustomerSearchQuery, { text: string }>(SEARCH, { text: search ?? "" }, !search);
  const [valid, setValid] = useState<string>("all");
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const owners = useQuery<ReceptionOwnersQuery, ReceptionOwnersQueryVariables>(OWNERS, {
    valid: valid === "all" ? null : valid === "valid", first: 20, after,
  });
  const list = owners.data?.attributionOwners;
  useEffect(() => {
    // The stored owners come without names; one customer's decision names its owner (attribution.read),
    // so one look-up per consultant not known yet.
    const asked = new Set<string>();
    for (const o of list?.nodes ?? []) {
      learn(o.decision.owner?.id, o.decision.owner?.displayName);
      if (!o.ownerId || consultantNames.has(o.ownerId) || asked.has(o.ownerId)) continue;
      asked.add(o.ownerId);
      gql<ReceptionOwnerNameQuery>(OWNER_NAME, { customerId: o.customerId }).then(
        (d) => learn(d.attributionDecision.owner?.id, d.attributionDecision.owner?.displayName), () => undefined);
    }
  }, [list]);
  return (
    <>
      <Section title={w("lookup")} id="lookup-title">
        <form id="attribution-search" class="inline" role="search" onSubmit={(e) => {
          e.preventDefault();
          setSearch(text.trim() || null);
        }}>
          <Field label={w("searchCustomer")} name="customerSearch" value={text} onInput={setText} />
          <button type="submit">{w("search")}</button>
        </form>
        {search ? <Loading loaded={found} /> : null}
        {search && found.data ? (
          <div id="attribution-found">
            <Table head={[t("name"), t("kind"), t("status"), ""]}
              rows={found.data.customers.nodes.map((c) => [
                c.displayName, c.kind === "person" ? t("person") : t("organisation"), c.status,
                <button type="button" class="open-attribution" onClick={() => navigate(`/reception/${encodeURIComponent(c.id)}`)}>
                  {w("openAttribution")}</button>,
              ])} />
          </div>
        ) : null}
      </Section>
      <Section title={w("owners")} id="owners-title">
        <div class="field">
          <label for="owners-valid">{w("validity")}</label>
          <select id="owners-valid" value={valid} onChange={(e) => {
            setCursors([]);
            setValid((e.target as HTMLSelectElement).value);
          }}>
            <option value="all">{w("all")}</option>
            <option value="valid">{w("validOnly")}</option>
            <option value="lapsed">{w("lapsedOnly")}</option>
          </select>
        </div>
        <Loading loaded={owners} />
        {list ? (
          <div id="owners">
            <Table head={[w("customer"), w("owner"), w("rule"), w("validUntil"), w("decidedAt")]}
              rows={list.nodes.map((o) => [
                <CustomerLink id={o.customerId} />,
                o.ownerId ? <Consultant id={o.ownerId} /> : <span class="muted">{w("noOwner")}</span>,
                <code>{o.decision.rule}</code>,
                o.validUntil ? when(o.validUntil) : "—",
                when(o.decidedAt),
              ])} />
            <Pager atFirst={!cursors.length} hasNext={list.pageInfo.hasNextPage}
              onPrevious={() => setCursors(cursors.slice(0, -1))}
              onNext={() => setCursors([...cursors, list.pageInfo.endCursor!])} />
          </div>
        ) : null}
      </Section>
    </>
  );
}

function Shares({ shares }: { shares: ReadonlyArray<{ consultantId: string; percent: number }> }) {
  if (!shares.length) return <span>—</span>;
  return (
    <ul class="shares">
      {shares.map((s) => <li><Consultant id={s.consultantId} /> {s.percent}%</li>)}
    </ul>
  );
}

function Attribution({ customerId }: { customerId: string }) {
  const decision = useQuery<ReceptionAttributionQuery, { customerId: string }>(ATTRIBUTION, { customerId });
  const name = useQuery<ReceptionCustomerNameQuery, { id: string }>(CUSTOMER_NAME, { id: customerId });
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const ledger = useQuery<ReceptionLedgerQuery, ReceptionLedgerQueryVariables>(LEDGER, { customerId, first: 50, after });
  const d = decision.data?.attributionDecision;
  useSignal(namesLearned); // the explanation names the consultants it knows
  useEffect(() => learn(d?.owner?.id, d?.owner?.displayName), [d]);
  const zh = lang.get() === "zh";
  const entries = ledger.data?.attributionLedger;
  return (
    <div>
      <p><a href="#/reception">← {w("backToQueue")}</a></p>
      <h1 id="attribution-customer">{name.data?.customer.displayName ?? t("attribution")}</h1>
      <Section title={w("why")} id="decision-title">
        <Loading loaded={decision} />
        {d ? (
          <dl class="details" id="attribution-decision" data-rule={d.rule}>
            <dt>{w("owner")}</dt>
            <dd id="attribution-owner">{d.owner ? (d.owner.displayName ?? shortId(d.owner.id)) : <span class="bad">{w("noOwner")}</span>}</dd>
            <dt>{w("rule")}</dt><dd><code id="attribution-rule">{d.rule}</code></dd>
            <dt>{w("why")}</dt><dd id="attribution-explanation">{readable(zh ? d.explanationZh : d.explanationEn)}</dd>
            <dt>{w("validUntil")}</dt><dd>{when((d.facts as { valid_until?: string | null })?.valid_until)}</dd>
            <dt>{w("shares")}</dt><dd><Shares shares={d.shares} /></dd>
          </dl>
        ) : null}
        {d && d.deals.length ? (
          <>
            <h3>{w("deals")}</h3>
            <div id="attribution-deals">
              <Table head={[w("rule"), w("shares"), w("why")]} rows={d.deals.map((deal) => [
                <code>{deal.rule}</code>, <Shares shares={deal.shares} />, readable(zh ? deal.explanationZh : deal.explanationEn),
              ])} />
            </div>
          </>
        ) : null}
      </Section>
      <Section title={w("ledger")} id="ledger-title">
        <Loading loaded={ledger} />
        {entries ? (
          <div id="attribution-ledger">
            <Table head={["#", w("at"), w("entry"), w("consultant"), w("refersTo"), w("recordedBy")]}
              rows={entries.nodes.map((e) => [
                String(e.seq),
                when(e.at),
                <span data-kind={e.kind}>{say(LEDGER_KINDS, e.kind)}{ruleOf(e.data)}</span>,
                <Consultant id={e.consultantId} />,
                e.refersTo ? <code>{shortId(e.refersTo)}</code> : "",
                e.recordedBy.startsWith("user:") ? <Consultant id={e.recordedBy.slice(5)} /> : e.recordedBy,
              ])} />
            <Pager atFirst={!cursors.length} hasNext={entries.pageInfo.hasNextPage}
              onPrevious={() => setCursors(cursors.slice(0, -1))}
              onNext={() => setCursors([...cursors, entries.pageInfo.endCursor!])} />
          </div>
        ) : null}
      </Section>
    </div>
  );
}

function ruleOf(data: unknown): string {
  const rule = (data as { rule?: unknown } | null)?.rule;
  return typeof rule === "string" ? `（${rule}）` : "";
}
