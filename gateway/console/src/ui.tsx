// Shared pieces of every screen: loading a query, coded errors, form fields, paging, progress.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError, gql } from "./api";
import USER_NAME from "./operations/UserName.graphql?raw";
import type { UserNameQuery } from "./generated/graphql";
import { lang, t } from "./i18n";

export interface Loaded<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/** Run a query now and whenever its variables change; reload() runs it again. */
export function useQuery<T, V>(query: string, variables: V, skip = false): Loaded<T> {
  const key = JSON.stringify(variables);
  const [state, setState] = useState<{ data: T | null; error: ApiError | null; loading: boolean }>({
    data: null, error: null, loading: !skip,
  });
  const [round, setRound] = useState(0);
  useEffect(() => {
    if (skip) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    gql<T, V>(query, JSON.parse(key) as V).then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: unknown) => live && setState({ data: null, error: asApiError(error), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [query, key, round, skip]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { ...state, reload };
}

export function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError("NETWORK", String((error as Error)?.message ?? error));
}

export function ErrorBox({ error }: { error: ApiError | null }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      <code>{error.code}</code> {error.message}
    </p>
  );
}

export function Loading({ loaded }: { loaded: { loading: boolean; error: ApiError | null } }) {
  if (loaded.error) return <ErrorBox error={loaded.error} />;
  return loaded.loading ? <p class="muted" aria-live="polite">{t("loading")}</p> : null;
}

let fieldIds = 0;

export function Field(props: {
  label: string;
  value: string;
  onInput: (value: string) => void;
  type?: string;
  name?: string;
  required?: boolean;
  autocomplete?: string;
}) {
  const [id] = useState(() => `f${++fieldIds}`);
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value}
        required={props.required}
        autocomplete={props.autocomplete ?? "off"}
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
      />
    </div>
  );
}
export function Pager(props: { hasNext: boolean; onNext: () => void; onPrevious?: () => void; atFirst: boolean }) {
  return (
    <nav class="pager" aria-label={t("next")}>
      <button type="button" disabled={props.atFirst} onClick={props.onPrevious}>{t("previous")}</button>
      <button type="button" disabled={!props.hasNext} onClick={props.onNext}>{t("next")}</button>
    </nav>
  );
}

export function Progress({ done, total, label }: { done: number; total: number | null; label: string }) {
  const percent = total ? Math.min(100, Math.round((done / total) * 100)) : 0;
  return (
    <div class="progress">
      <progress aria-label={label} max={100} value={total ? percent : undefined} />
      <span>{total ? `${done} / ${total} (${percent}%)` : `${done}`}</span>
    </div>
  );
}

export function Section(props: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="card" aria-labelledby={props.id}>
      <h2 id={props.id}>{props.title}</h2>
      {props.children}
    </section>
  );
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(lang.get() === "zh" ? "zh-CN" : "en-GB");
}

export function Table(props: { head: string[]; rows: ComponentChildren[][]; caption?: string }) {
  if (!props.rows.length) return <p class="muted">{t("none")}</p>;
  return (
    // Focusable and named: on a phone the table scrolls sideways, and keyboard users must reach it too.
    <div class="table-wrap" tabIndex={0} role="region" aria-label={props.caption ?? props.head.filter(Boolean).join(" · ")}>
      <table>
        {props.caption ? <caption>{props.caption}</caption> : null}
        <thead>
          <tr>{props.head.map((h) => <th scope="col">{h}</th>)}</tr>
        </thead>
        <tbody>
          {props.rows.map((row) => <tr>{row.map((cell) => <td>{cell}</td>)}</tr>)}
        </tbody>
      </table>
    </div>
  );
}

const actorNames = new Map<string, Promise<string>>();

/** "user:<id>" as the person's name (and username); the raw actor when the viewer may not read users. */
export function Actor({ actor }: { actor: string }) {
  const [name, setName] = useState(actor);
  useEffect(() => {
    const id = actor.startsWith("user:") ? actor.slice(5) : null;
    if (!id) return setName(actor);
    if (!actorNames.has(actor)) {
      actorNames.set(actor, gql<UserNameQuery>(USER_NAME, { id }).then(
        (d) => (d.user ? `${d.user.displayName} (${d.user.username})` : actor), () => actor));
    }
    let live = true;
    void actorNames.get(actor)!.then((n) => live && setName(n));
    return () => {
      live = false;
    };
  }, [actor]);
  return <span title={actor}>{name}</span>;
}
