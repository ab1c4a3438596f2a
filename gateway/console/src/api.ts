// The console speaks the public GraphQL API only, with the signed-in user's token: their
// permissions, masking and rate limits apply exactly as to any integrator. The tokens stay in
// memory (never in storage, a cookie or a URL). When the session ends mid-work, every request
// waits for the user to sign in again and is then sent as it was: nothing typed is lost.
import { lang } from "./i18n";
import { signal } from "./state";
import LOGIN from "./operations/Login.graphql?raw";
import REFRESH from "./operations/TokenRefresh.graphql?raw";
import type { LoginMutation, LoginMutationVariables, TokenRefreshMutation } from "./generated/graphql";

export interface UserError {
  code: string;
  field: string | null;
  message: string;
}

export class ApiError extends Error {
  constructor(readonly code: string, message: string, readonly field: string | null = null) {
    super(message);
  }
}

export interface Session {
  tenant: string;
  username: string;
  token: string;
  refresh: string | null;
  mustChangePassword: boolean;
}

export const session = signal<Session | null>(null);
/** True while requests wait for the user to sign in again (the session expired or was ended). */
export const expired = signal(false);
/** A word for the sign-in form after the session ended on purpose (e.g. the password was changed). */
export const signedOutBecause = signal<"passwordChanged" | null>(null);
let resume: Array<() => void> = [];

function headers(token: string | undefined): Record<string, string> {
  return {
    "content-type": "application/json",
    accept: "application/json",
    "accept-language": lang.get() === "zh" ? "zh-CN" : "en",
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
}

interface Answer {
  status: number;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string; field?: string } }> };
}

async function post(query: string, variables: unknown, token: string | undefined): Promise<Answer> {
  const response = await fetch("/graphql", { method: "POST", headers: headers(token), body: JSON.stringify({ query, variables }) });
  try {
    return { status: response.status, body: await response.json() };
  } catch {
    throw new ApiError(`HTTP_${response.status}`, response.statusText || "network error");
  }
}

async function refreshed(): Promise<boolean> {
  const current = session.get();
  if (!current?.refresh) return false;
  const { body } = await post(REFRESH, { refreshToken: current.refresh }, undefined);
  const tokens = (body.data as TokenRefreshMutation | undefined)?.tokenRefresh;
  if (!tokens?.accessToken || tokens.errors.length) return false;
  session.set({ ...current, token: tokens.accessToken, refresh: tokens.refreshToken ?? null });
  return true;
}

function signInAgain(): Promise<void> {
  expired.set(true);
  return new Promise((resolve) => resume.push(resolve));
}

/** Run an operation; coded GraphQL errors become an ApiError in the user's language. */
export async function gql<T, V = Record<string, unknown>>(query: string, variables?: V): Promise<T> {
  for (;;) {
    const { status, body } = await post(query, variables ?? {}, session.get()?.token);
    const first = body.errors?.[0];
    const code = first?.extensions?.code;
    if (status === 401 || code === "UNAUTHENTICATED") {
      if (session.get() && !(await refreshed())) await signInAgain();
      else if (!session.get()) await signInAgain();
      continue; // the same request, now with the new token
    }
    if (first) throw new ApiError(code ?? "ERROR", first.message, first.extensions?.field ?? null);
    return body.data as T;
  }
}

/** A mutation payload's first coded error, thrown; the payload otherwise. */
export function ok<P extends { errors: ReadonlyArray<UserError> }>(payload: P): P {
  const error = payload.errors[0];
  if (error) throw new ApiError(error.code, error.message, error.field);
  return payload;
}

export async function signIn(variables: LoginMutationVariables): Promise<Session> {
  const { body } = await post(LOGIN, variables, undefined);
  const first = body.errors?.[0];
  if (first) throw new ApiError(first.extensions?.code ?? "ERROR", first.message);
  const login = ok((body.data as LoginMutation).login);
  if (!login.accessToken) throw new ApiError("SIGN_IN_FAILED", "sign-in failed");
  const next: Session = {
    tenant: variables.tenant,
    username: variables.username,
    token: login.accessToken,
    refresh: login.refreshToken ?? null,
    mustChangePassword: login.mustChangePassword,
  };
  session.set(next);
  signedOutBecause.set(null);
  if (!next.mustChangePassword) {
    expired.set(false);
    const waiting = resume;
    resume = [];
    for (const go of waiting) go(); // re-send what waited for this sign-in
  }
  return next;
}

export function signOut(): void {
  const current = session.get();
  if (current) void post("mutation { logout { ok } }", {}, current.token).catch(() => undefined);
  session.set(null);
  expired.set(false);
  resume = [];
}
