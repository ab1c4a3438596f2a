// Audit search (by action, actor, target) and verification of the tamper-evident chain.
import { useState } from "preact/hooks";
import { gql } from "../api";
import { t } from "../i18n";
import { Actor, ErrorBox, Field, Loading, Pager, Section, Table, asApiError, useQuery, when } from "../ui";
import ENTRIES from "../operations/AuditEntries.graphql?raw";
import VERIFY from "../operations/AuditVerify.graphql?raw";
import type { ApiError } from "../api";
import type { AuditEntriesQuery, AuditEntriesQueryVariables, AuditVerifyQuery } from "../generated/graphql";

export function Audit() {
  const [action, setAction] = useState("");
  const [actor, setActor] = useState("");
  const [filter, setFilter] = useState<{ action?: string; actor?: string }>({});
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors[cursors.length - 1] ?? null;
  const page = useQuery<AuditEntriesQuery, AuditEntriesQueryVariables>(ENTRIES, { filter, first: 50, after });
  const [verification, setVerification] = useState<AuditVerifyQuery["auditVerify"] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [verifying, setVerifying] = useState(false);

  async function verify() {
    setVerifying(true);
    setError(null);
    try {
      setVerification((await gql<AuditVerifyQuery>(VERIFY)).auditVerify);
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setVerifying(false);
    }
  }

  return (
    <div>
      <h1>{t("audit")}</h1>
      <Section title={t("verify")} id="audit-verify">
        <button type="button" id="verify" onClick={verify} disabled={verifying}>{t("verify")}</button>
        {verifying ? <p class="muted" aria-live="polite">{t("loading")}</p> : null}
        <ErrorBox error={error} />
        {verification ? (
          <p id="verification" class={verification.ok ? "good" : "bad"} role="status">
            {verification.ok ? t("verified") : `${t("broken")}: ${verification.kind} @ ${verification.position}`} —{" "}
            {t("checked")}: {verification.checked}
          </p>
        ) : null}
      </Section>
      <Section title={t("search")} id="audit-search">
        <form class="inline" onSubmit={(e) => {
          e.preventDefault();
          setCursors([]);
          setFilter({ ...(action ? { action } : {}), ...(actor ? { actor } : {}) });
        }}>
          <Field label={t("action")} name="action" value={action} onInput={setAction} />
          <Field label={t("actor")} name="actor" value={actor} onInput={setActor} />
          <button type="submit">{t("search")}</button>
        </form>
        <Loading loaded={page} />
        {page.data ? (
          <>
            <Table head={["#", t("at"), t("actor"), t("action"), t("target")]} rows={page.data.auditEntries.nodes.map((e) => [
              e.seq, when(e.occurredAt), <Actor actor={e.actor} />, <code>{e.action}</code>, `${e.targetType}${e.targetId ? ` ${e.targetId}` : ""}`,
            ])} />
            <Pager atFirst={!cursors.length} hasNext={page.data.auditEntries.pageInfo.hasNextPage}
              onPrevious={() => setCursors(cursors.slice(0, -1))}
              onNext={() => setCursors([...cursors, page.data!.auditEntries.pageInfo.endCursor!])} />
          </>
        ) : null}
      </Section>
    </div>
  );
}
