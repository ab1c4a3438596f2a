// One customer: masked personal data with an audited "unmask with a reason", an edit that sends
// the version it was read at (a stale edit is refused, shown with who changed what since, and
// the user's input stays), history, merges and their undo, consent records.
import { useState } from "preact/hooks";
import { ApiError, gql, ok } from "../api";
import { statusWord, t } from "../i18n";
import { Actor, ErrorBox, Field, Loading, Section, Table, asApiError, useQuery, when } from "../ui";
import READ from "../operations/Customer.graphql?raw";
import UPDATE from "../operations/CustomerUpdate.graphql?raw";
import UNMASK from "../operations/CustomerUnmask.graphql?raw";
import HISTORY from "../operations/CustomerHistory.graphql?raw";
import MERGES from "../operations/CustomerMerges.graphql?raw";
import MERGE from "../operations/CustomerMerge.graphql?raw";
import UNMERGE from "../operations/CustomerUnmerge.graphql?raw";
import CONSENTS from "../operations/CustomerConsents.graphql?raw";
import type {
  CustomerConsentsQuery, CustomerHistoryQuery, CustomerHistoryQueryVariables, CustomerMergeMutation,
  CustomerMergesQuery, CustomerQuery, CustomerUnmaskMutation, CustomerUnmergeMutation, CustomerUpdateMutation,
  CustomerUpdateMutationVariables,
} from "../generated/graphql";

type Customer = CustomerQuery["customer"];

export function CustomerDetail({ id }: { id: string }) {
  const read = useQuery<CustomerQuery, { id: string }>(READ, { id });
  const history = useQuery<CustomerHistoryQuery, CustomerHistoryQueryVariables>(HISTORY, { id, first: 50 });
  const customer = read.data?.customer;
  const reloadAll = () => {
    read.reload();
    history.reload();
  };
  return (
    <div>
      <p><a href="#/customers">← {t("back")}</a></p>
      <Loading loaded={read} />
      {customer ? (
        <>
          <h1 id="customer-name">{customer.displayName}</h1>
          <Details customer={customer} />
          <Edit customer={customer} onSaved={reloadAll} history={history.data?.customerHistory.nodes ?? []} />
          <History loaded={history} />
          <Merges id={id} onChanged={reloadAll} />
          <Consents id={id} />
        </>
      ) : null}
    </div>
  );
}

function Details({ customer }: { customer: Customer }) {
  const [reason, setReason] = useState("");
  const [values, setValues] = useState<Record<string, unknown> | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  async function unmask(event: Event) {
    event.preventDefault();
    setError(null);
    try {
      const data = await gql<CustomerUnmaskMutation>(UNMASK, { id: customer.id, fields: ["phones", "identifier.number"], reason });
      setValues(ok(data.customerUnmask).values as Record<string, unknown>);
    } catch (e) {
      setError(asApiError(e));
    }
  }

  const shown = (name: string, masked: string) => {
    const value = values?.[name];
    if (value === undefined || value === null) return <span class="masked">{masked}</span>;
    if (Array.isArray(value)) return <span class="unmasked">{value.join(", ")}</span>;
    if (typeof value === "object") return <span class="unmasked">{(value as { number?: string }).number ?? ""}</span>;
    return <span class="unmasked">{String(value)}</span>;
  };

  return (
    <Section title={customer.displayName} id="details-title">
      <dl class="details">
        <dt>{t("kind")}</dt><dd>{customer.kind === "person" ? t("person") : t("organisation")}</dd>
        <dt>{t("status")}</dt><dd>{statusWord(customer.status)}</dd>
        <dt>{t("phones")}</dt><dd id="customer-phones">{shown("phones", customer.phones.join(", "))}</dd>
        <dt>{t("identifier")}</dt><dd id="customer-identifier">{shown("identifier.number", customer.identifier?.number ?? "—")}</dd>
        <dt>{t("emails")}</dt><dd>{customer.emails.join(", ") || "—"}</dd>
        <dt>{t("version")}</dt><dd>{customer.version}</dd>
        <dt>{t("updatedAt")}</dt><dd>{when(customer.updatedAt)}</dd>
      </dl>
      <form id="unmask" class="inline" onSubmit={unmask}>
        <Field label={t("unmaskReason")} name="reason" value={reason} onInput={setReason} required />
        <button type="submit">{t("unmask")}</button>
      </form>
      {values ? <p class="notice" role="status">{t("unmasked")}</p> : null}
      <ErrorBox error={error} />
    </Section>
  );
}

type Entry = CustomerHistoryQuery["customerHistory"]["nodes"][number];

function Edit(props: { customer: Customer; onSaved: () => void; history: Entry[] }) {
  const { customer } = props;
  const person = customer.kind === "person";
  // The version the user started from: kept on a conflict so the refusal stays explainable.
  const [base, setBase] = useState(customer.version);
  const [surname, setSurname] = useState(customer.surname ?? "");
  const [givenName, setGivenName] = useState(customer.givenName ?? "");
  const [orgName, setOrgName] = useState(customer.orgName ?? "");
  const [legal, setLegal] = useState(customer.legalRepresentative ?? "");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [conflict, setConflict] = useState(false);
  const [saved, setSaved] = useState(false);

  async function save(event: Event) {
    event.preventDefault();
    setError(null);
    setSaved(false);
    const input = person ? { surname, givenName } : { orgName, legalRepresentative: legal || null };
    try {
      const data = await gql<CustomerUpdateMutation, CustomerUpdateMutationVariables>(UPDATE,
        { id: customer.id, version: base, input, reason });
      const updated = ok(data.customerUpdate).customer!;
      setBase(updated.version);
      setConflict(false);
      setSaved(true);
      props.onSaved();
    } catch (e) {
      const failure = asApiError(e);
      setConflict(failure.code === "VERSION_CONFLICT");
      setError(failure);
      if (failure.code === "VERSION_CONFLICT") props.onSaved(); // read who changed what; the input stays
    }
  }

  const since = props.history.filter((h) => h.version > base);
  return (
    <Section title={t("edit")} id="edit-title">
      <form id="customer-edit" onSubmit={save}>
        {person ? (
          <>
            <Field label={t("surname")} name="surname" value={surname} onInput={setSurname} />
            <Field label={t("givenName")} name="givenName" value={givenName} onInput={setGivenName} />
          </>
        ) : (
          <>
            <Field label={t("orgName")} name="orgName" value={orgName} onInput={setOrgName} />
            <Field label={t("legalRepresentative")} name="legalRepresentative" value={legal} onInput={setLegal} />
          </>
        )}
        <Field label={t("reason")} name="reason" value={reason} onInput={setReason} />
        {conflict ? (
          <div id="conflict" class="conflict" role="alert">
            <p>{t("conflict")}</p>
            <ul>
              {since.map((h) => (
                <li>
                  v{h.version} · {t("conflictBy")} <Actor actor={h.actor} /> · {when(h.changedAt)} · {Object.keys(h.changes ?? {}).join(", ")}
                </li>
              ))}
            </ul>
            <button type="button" id="rebase" onClick={() => {
              setBase(customer.version);
              setConflict(false);
              setError(null);
            }}>{t("reload")}</button>
          </div>
        ) : (
          <ErrorBox error={error} />
        )}
        {saved ? <p class="good" role="status">✓ {t("save")}</p> : null}
        <button type="submit" class="primary">{t("save")}</button>
      </form>
    </Section>
  );
}

function History({ loaded }: { loaded: ReturnType<typeof useQuery<CustomerHistoryQuery, CustomerHistoryQueryVariables>> }) {
  return (
    <Section title={t("history")} id="history-title">
      <Loading loaded={loaded} />
      {loaded.data ? (
        <Table head={[t("version"), t("at"), t("actor"), t("reason"), t("field")]}
          rows={loaded.data.customerHistory.nodes.map((h) => [
            h.version, when(h.changedAt), <Actor actor={h.actor} />, h.reason, Object.keys(h.changes ?? {}).join(", "),
          ])} />
      ) : null}
    </Section>
  );
}

function Merges({ id, onChanged }: { id: string; onChanged: () => void }) {
  const merges = useQuery<CustomerMergesQuery, { id: string }>(MERGES, { id });
  const [mergedId, setMergedId] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<ApiError | null>(null);

  async function run(action: () => Promise<void>) {
    setError(null);
    try {
      await action();
      merges.reload();
      onChanged();
    } catch (e) {
      setError(asApiError(e));
    }
  }

  return (
    <Section title={t("merges")} id="merges-title">
      <form id="merge" class="inline" onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          ok((await gql<CustomerMergeMutation>(MERGE, { survivorId: id, mergedId: mergedId.trim(), reason })).customerMerge);
          setMergedId("");
        });
      }}>
        <Field label={t("mergedId")} name="mergedId" value={mergedId} onInput={setMergedId} required />
        <Field label={t("reason")} name="mergeReason" value={reason} onInput={setReason} required />
        <button type="submit">{t("merge")}</button>
      </form>
      <ErrorBox error={error} />
      {merges.data ? (
        <Table head={[t("at"), t("customerId"), t("reason"), ""]} rows={merges.data.customerMerges.nodes.map((m) => [
          when(m.createdAt), <code>{m.mergedId}</code>, m.reason,
          m.undoneAt ? when(m.undoneAt) : (
            <button type="button" class="undo" onClick={() => run(async () => {
              ok((await gql<CustomerUnmergeMutation>(UNMERGE, { mergeId: m.id })).customerUnmerge);
            })}>{t("undo")}</button>
          ),
        ])} />
      ) : null}
    </Section>
  );
}

function Consents({ id }: { id: string }) {
  const consents = useQuery<CustomerConsentsQuery, { customerId: string }>(CONSENTS, { customerId: id });
  return (
    <Section title={t("consents")} id="consents-title">
      {consents.error?.code === "PERMISSION_DENIED" ? <p class="muted">{consents.error.message}</p> : <Loading loaded={consents} />}
      {consents.data ? (
        <Table head={[t("reason"), t("status"), t("at")]} rows={consents.data.customerConsents.nodes.map((c) => [
          c.purpose, c.granted ? t("granted") : t("notGranted"), when(c.latest?.recordedAt),
        ])} />
      ) : null}
    </Section>
  );
}
