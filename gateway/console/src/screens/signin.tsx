// Sign in (tenant, user, password, second factor), and the password change a new or expired
// password requires before anything else.
import { useState } from "preact/hooks";
import { ApiError, gql, ok, session, signIn, signOut, signedOutBecause } from "../api";
import { t } from "../i18n";
import { ErrorBox, Field, asApiError } from "../ui";
import CHANGE from "../operations/PasswordChange.graphql?raw";
import type { PasswordChangeMutation, PasswordChangeMutationVariables } from "../generated/graphql";

export function SignIn(props: { again?: boolean }) {
  const current = session.get();
  const [tenant, setTenant] = useState(current?.tenant ?? new URLSearchParams(location.search).get("tenant") ?? "");
  const [username, setUsername] = useState(current?.username ?? "");
  const [password, setPassword] = useState("");
  const [totp, setTotp] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn({ tenant, username, password, totpCode: totp || null });
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form id="signin" class="card narrow" onSubmit={submit} aria-labelledby="signin-title">
      <h1 id="signin-title">{t("signIn")}</h1>
      {props.again ? <p class="notice" role="status">{t("sessionExpired")}</p> : null}
      {!props.again && signedOutBecause.get() ? <p class="notice" role="status" id="signin-notice">{t(signedOutBecause.get()!)}</p> : null}
      <Field label={t("tenant")} name="tenant" value={tenant} onInput={setTenant} required autocomplete="organization" />
      <Field label={t("username")} name="username" value={username} onInput={setUsername} required autocomplete="username" />
      <Field label={t("password")} name="password" type="password" value={password} onInput={setPassword} required
        autocomplete="current-password" />
      <Field label={t("totpCode")} name="totp" value={totp} onInput={setTotp} autocomplete="one-time-code" />
      <ErrorBox error={error} />
      <button type="submit" class="primary" disabled={busy}>{t("signIn")}</button>
    </form>
  );
}

export function PasswordChange() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [changed, setChanged] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    try {
      const data = await gql<PasswordChangeMutation, PasswordChangeMutationVariables>(CHANGE,
        { currentPassword: current, newPassword: next });
      ok(data.passwordChange);
      setChanged(true);
      const was = session.get();
      signOut(); // every login of the user ended: sign in again with the new password
      signedOutBecause.set("passwordChanged");
      if (was) session.set(null);
    } catch (e) {
      setError(asApiError(e));
    }
  }

  if (changed) return <p class="notice" role="status">{t("passwordChanged")}</p>;
  return (
    <form id="password-change" class="card narrow" onSubmit={submit} aria-labelledby="pw-title">
      <h1 id="pw-title">{t("changePassword")}</h1>
      <p class="notice">{t("mustChange")}</p>
      <Field label={t("currentPassword")} name="current" type="password" value={current} onInput={setCurrent} required
        autocomplete="current-password" />
      <Field label={t("newPassword")} name="new" type="password" value={next} onInput={setNext} required
        autocomplete="new-password" />
      <ErrorBox error={error} />
      <button type="submit" class="primary">{t("changePassword")}</button>
    </form>
  );
}
