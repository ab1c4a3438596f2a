// Tenant settings: users, roles, API keys, webhooks, sign-in controls, enabled verticals and
// their parameters. Each part loads on its own: a user without its permission sees its coded
// refusal there and the rest still works.
import { useState } from "preact/hooks";
import { ApiError, gql, ok } from "../api";
import { lang, t } from "../i18n";
import { ErrorBox, Loading, Section, Table, asApiError, useQuery, when } from "../ui";
import SETTINGS from "../operations/Settings.graphql?raw";
import KEYS from "../operations/ApiKeys.graphql?raw";
import HOOKS from "../operations/WebhookEndpoints.graphql?raw";
import POLICY from "../operations/SignInPolicy.graphql?raw";
import ENABLE from "../operations/VerticalEnable.graphql?raw";
import DISABLE from "../operations/VerticalDisable.graphql?raw";
import type {
  ApiKeysQuery, SettingsQuery, SignInPolicyQuery, VerticalDisableMutation, VerticalEnableMutation,
  WebhookEndpointsQuery,
} from "../generated/graphql";

export function Settings() {
  const settings = useQuery<SettingsQuery, Record<string, never>>(SETTINGS, {});
  const keys = useQuery<ApiKeysQuery, Record<string, never>>(KEYS, {});
  const hooks = useQuery<WebhookEndpointsQuery, Record<string, never>>(HOOKS, {});
  const policy = useQuery<SignInPolicyQuery, Record<string, never>>(POLICY, {});
  const [error, setError] = useState<ApiError | null>(null);
  const zh = lang.get() === "zh";

  async function toggle(id: string, enabled: boolean) {
    setError(null);
    try {
      if (enabled) ok((await gql<VerticalDisableMutation>(DISABLE, { verticalId: id })).verticalDisable);
      else ok((await gql<VerticalEnableMutation>(ENABLE, { verticalId: id })).verticalEnable);
      settings.reload();
    } catch (e) {
      setError(asApiError(e));
    }
  }

  const data = settings.data;
  return (
    <div>
      <h1>{t("settings")}</h1>
      <Loading loaded={settings} />
      {data ? (
        <>
          <Section title={t("verticals")} id="verticals-title">
            <ErrorBox error={error} />
            {data.tenantVerticals.map((v) => (
              <details class="vertical">
                <summary>
                  {zh ? v.nameZh : v.nameEn} — {v.enabled ? t("enabled") : t("disabled")}{" "}
                </summary>
                <button type="button" onClick={() => toggle(v.id, v.enabled)}>
                  {v.enabled ? t("disabled") : t("enabled")} ({v.id})
                </button>
                <Table head={["key", "value"]} rows={v.parameters.map((p) => [<code>{p.key}</code>, JSON.stringify(p.value)])} />
              </details>
            ))}
          </Section>
          <Section title={t("users")} id="users-title">
            <Table head={[t("username"), t("name"), t("status"), "clearance", t("at")]} rows={data.users.nodes.map((u) => [
              u.username, u.displayName, u.status, u.clearance, when(u.lastLoginAt),
            ])} />
          </Section>
          <Section title={t("roles")} id="roles-title">
            <Table head={[t("name"), t("roles")]} rows={data.roles.nodes.map((r) => [
              r.name, r.permissions.map((p) => `${p.permission} (${p.scope})`).join(", "),
            ])} />
          </Section>
        </>
      ) : null}
      <Section title={t("signInPolicy")} id="policy-title">
        <Loading loaded={policy} />
        {policy.data ? (
          <dl class="details">
            <dt>TOTP</dt><dd>{policy.data.signInPolicy.totpRequired ? t("enabled") : t("disabled")}</dd>
            <dt>CIDR</dt><dd>{policy.data.signInPolicy.staffNetworks.join(", ") || "—"}</dd>
            <dt>API CIDR</dt><dd>{policy.data.signInPolicy.apiKeyNetworks.join(", ") || "—"}</dd>
            <dt>challenge</dt><dd>{policy.data.signInPolicy.challengeAfterFailures}</dd>
          </dl>
        ) : null}
      </Section>
      <Section title={t("apiKeys")} id="keys-title">
        <Loading loaded={keys} />
        {keys.data ? <Table head={[t("name"), "hint", t("roles"), t("at")]} rows={keys.data.apiKeys.nodes.map((k) => [
          k.name, <code>{k.hint}</code>, k.permissions.join(", "), k.revokedAt ? `revoked ${when(k.revokedAt)}` : when(k.lastUsedAt),
        ])} /> : null}
      </Section>
      <Section title={t("webhooks")} id="hooks-title">
        <Loading loaded={hooks} />
        {hooks.data ? <Table head={["URL", t("status"), "events"]} rows={hooks.data.webhookEndpoints.nodes.map((w) => [
          w.url, w.status, w.eventTypes.join(", "),
        ])} /> : null}
      </Section>
    </div>
  );
}
