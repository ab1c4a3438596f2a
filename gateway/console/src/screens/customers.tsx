// Customers: search (name, phone or ID number: the API's blind index answers the last two),
// list with cursor paging, create, import with progress and per-row errors, export via an
// approved access request.
import { useEffect, useState } from "preact/hooks";
import { ApiError, gql, ok, session } from "../api";
import { statusWord, t } from "../i18n";
import { navigate } from "../router";
import { ErrorBox, Field, Loading, Pager, Progress, Section, Table, asApiError, useQuery, when } from "../ui";
import LIST from "../operations/Customers.graphql?raw";
import CREATE from "../operations/CustomerCreate.graphql?raw";
import IMPORT from "../operations/CustomerImportStart.graphql?raw";
import JOB from "../operations/Job.graphql?raw";
import ACCESS from "../operations/AccessRequests.graphql?raw";
import EXPORT from "../operations/CustomerExportStart.graphql?raw";
import LINK from "../operations/CustomerExportLink.graphql?raw";
import type {
  AccessRequestsQuery, CustomerCreateMutation, CustomerCreateMutationVariables, CustomerExportLinkMutation,
  CustomerExportStartMutation, CustomerImportStartMutation, CustomerImportStartMutationVariables, CustomersQuery,
  CustomersQueryVariables, JobQuery,
} from "../generated/graphql";

export function Customers() {
  const [text, setText] = useState("");
  const [search, setSearch] = useState<string | null>(null);
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const page = useQuery<CustomersQuery, CustomersQueryVariables>(LIST, { text: search, first: 20, after });
  const list = page.data?.customers;

  return (
    <div>
      <h1>{t("customers")}</h1>
      <form class="inline" role="search" onSubmit={(e) => {
        e.preventDefault();
        setCursors([]);
        setSearch(text.trim() || null);
      }}>
        <Field label={t("searchHint")} name="q" value={text} onInput={setText} />
        <button type="submit">{t("search")}</button>
      </form>
      <Loading loaded={page} />
      {list ? (
        <>
          <Table head={[t("name"), t("kind"), t("status"), t("phones"), t("identifier"), t("updatedAt")]}
            rows={list.nodes.map((c) => [
              <a href={`#/customers/${encodeURIComponent(c.id)}`} class="customer-link">{c.displayName}</a>,
              c.kind === "person" ? t("person") : t("organisation"),
              statusWord(c.status),
              <span class="masked">{c.phones.join(", ")}</span>,
              <span class="masked">{c.identifier?.number ?? ""}</span>,
              when(c.updatedAt),
            ])} />
          <Pager atFirst={!cursors.length} hasNext={list.pageInfo.hasNextPage}
            onPrevious={() => setCursors(cursors.slice(0, -1))}
            onNext={() => setCursors([...cursors, list.pageInfo.endCursor!])} />
        </>
      ) : null}
      <CreateCustomer onCreated={(id) => navigate(`/customers/${id}`)} />
      <ImportCustomers onDone={page.reload} />
      <ExportCustomers />
    </div>
  );
}

function CreateCustomer(props: { onCreated: (id: string) => void }) {
  const [kind, setKind] = useState<"person" | "organisation">("person");
  const [surname, setSurname] = useState("");
  const [givenName, setGivenName] = useState("");
  const [orgName, setOrgName] = useState("");
  const [phone, setPhone] = useState("");
  const [error, setError] = useState<ApiError | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    const input = kind === "person" ? { kind, surname, givenName } : { kind, orgName };
    try {
      const data = await gql<CustomerCreateMutation, CustomerCreateMutationVariables>(CREATE, {
        input: { ...input, phones: phone ? [phone] : [] },
      });
      props.onCreated(ok(data.customerCreate).customer!.id);
    } catch (e) {
      setError(asApiError(e));
    }
  }

  return (
    <Section title={t("create")} id="create-title">
      <form id="customer-create" onSubmit={submit}>
        <div class="field">
          <label for="create-kind">{t("kind")}</label>
          <select id="create-kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as "person")}>
            <option value="person">{t("person")}</option>
            <option value="organisation">{t("organisation")}</option>
          </select>
        </div>
        {kind === "person" ? (
          <>
            <Field label={t("surname")} name="surname" value={surname} onInput={setSurname} required />
            <Field label={t("givenName")} name="givenName" value={givenName} onInput={setGivenName} required />
          </>
        ) : (
          <Field label={t("orgName")} name="orgName" value={orgName} onInput={setOrgName} required />
        )}
        <Field label={t("phones")} name="phone" value={phone} onInput={setPhone} />
        <ErrorBox error={error} />
        <button type="submit" class="primary">{t("save")}</button>
      </form>
    </Section>
  );
}

/** Poll a background job every half second until it ends; its progress on the way. */
export function useJob(id: string | null): JobQuery["job"] | null {
  const [job, setJob] = useState<JobQuery["job"] | null>(null);
  useEffect(() => {
    if (!id) return;
    let live = true;
    let timer = 0;
    const poll = async () => {
      const current = (await gql<JobQuery>(JOB, { id })).job;
      if (!live) return;
      setJob(current);
      if (!["succeeded", "failed", "cancelled", "dead"].includes(current.status)) timer = window.setTimeout(poll, 500);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [id]);
  return job;
}

interface BadRow {
  line: string;
  field: string;
  code: string;
  message: string;
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else if (c !== "\r") cell += c;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

async function download(url: string): Promise<string> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${session.get()?.token ?? ""}` } });
  return response.ok ? await response.text() : "";
}

function ImportCustomers(props: { onDone: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [badRows, setBadRows] = useState<BadRow[] | null>(null);
  const job = useJob(jobId);

  useEffect(() => {
    if (job?.status !== "succeeded") return;
    props.onDone();
    if (job.downloadUrl) {
      void download(job.downloadUrl).then((csv) => {
        const [, ...rows] = parseCsv(csv);
        setBadRows(rows.filter((r) => r.length >= 4).map(([line, field, code, message]) => ({ line, field, code, message })));
      });
    } else setBadRows([]);
  }, [job?.status]);

  async function submit(event: Event) {
    event.preventDefault();
    if (!file) return;
    setError(null);
    setBadRows(null);
    setJobId(null);
    const bytes = new Uint8Array(await file.arrayBuffer());
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    try {
      const data = await gql<CustomerImportStartMutation, CustomerImportStartMutationVariables>(IMPORT, {
        file: btoa(binary), filename: file.name,
      });
      setJobId(ok(data.customerImportStart).job!.id);
    } catch (e) {
      setError(asApiError(e));
    }
  }

  return (
    <Section title={t("importTitle")} id="import-title">
      <form id="customer-import" onSubmit={submit}>
        <div class="field">
          <label for="import-file">{t("importFile")}</label>
          <input id="import-file" type="file" accept=".csv,.xlsx"
            onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
        </div>
        <button type="submit" disabled={!file}>{t("importStart")}</button>
      </form>
      <ErrorBox error={error} />
      {job ? (
        <div id="import-job" data-status={job.status}>
          <Progress done={job.progressDone} total={job.progressTotal} label={t("progress")} />
          {job.status === "succeeded" ? <p role="status">{t("importDone")}: {job.result}</p> : null}
          {job.errorCode ? <p class="error" role="alert"><code>{job.errorCode}</code> {job.errorMessage}</p> : null}
        </div>
      ) : null}
      {badRows && badRows.length ? (
        <div id="import-errors">
          <h3>{t("badRows")}</h3>
          <Table head={[t("line"), t("field"), t("code"), t("message")]}
            rows={badRows.map((r) => [r.line, r.field, <code>{r.code}</code>, r.message])} />
        </div>
      ) : null}
    </Section>
  );
}

function ExportCustomers() {
  const requests = useQuery<AccessRequestsQuery, Record<string, never>>(ACCESS, {});
  const [jobId, setJobId] = useState<string | null>(null);
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const job = useJob(jobId);

  useEffect(() => {
    if (job?.status !== "succeeded" || !jobId) return;
    gql<CustomerExportLinkMutation>(LINK, { jobId }).then((d) => setUrl(ok(d.customerExportLink).url ?? null),
      (e: unknown) => setError(asApiError(e)));
  }, [job?.status]);

  async function start(id: string) {
    setError(null);
    try {
      setJobId(ok((await gql<CustomerExportStartMutation>(EXPORT, { accessRequestId: id })).customerExportStart).job!.id);
    } catch (e) {
      setError(asApiError(e));
    }
  }

  const usable = (requests.data?.accessRequests.nodes ?? []).filter((r) => !r.usedAt);
  return (
    <Section title={t("export")} id="export-title">
      {requests.error?.code === "PERMISSION_DENIED" ? null : <Loading loaded={requests} />}
      <Table head={[t("accessRequest"), t("reason"), ""]} rows={usable.map((r) => [
        <code>{r.id}</code>, r.purpose, <button type="button" onClick={() => start(r.id)}>{t("exportStart")}</button>,
      ])} />
      <ErrorBox error={error} />
      {job ? <Progress done={job.progressDone} total={job.progressTotal} label={t("progress")} /> : null}
      {url ? <a href={url} download>{t("download")}</a> : null}
    </Section>
  );
}
