// Tenant settings for its administrator: users (create with roles and departments, reset a
// password, disable and enable), roles with their permissions in words, API keys and webhook
// endpoints (created with a secret shown this once, kept only in this screen's memory: never in a
// URL, storage or log; revoked or deleted), sign-in controls, and the enabled verticals with their
// parameters. Each part loads on its own: a user without its permission sees its coded refusal
// there and the rest still works. Every change shows the API's coded errors.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { ApiError, gql, ok } from "../api";
import type { UserError } from "../api";
import { useAccess } from "../access";
import { lang, t } from "../i18n";
import { ErrorBox, Field, Loading, Section, Table, asApiError, useQuery, when } from "../ui";
import SETTINGS from "../operations/Settings.graphql?raw";
import DIRECTORY from "../operations/SettingsDirectory.graphql?raw";
import KEYS from "../operations/ApiKeys.graphql?raw";
import HOOKS from "../operations/WebhookEndpoints.graphql?raw";
import POLICY from "../operations/SignInPolicy.graphql?raw";
import ENABLE from "../operations/VerticalEnable.graphql?raw";
import DISABLE from "../operations/VerticalDisable.graphql?raw";
import USER_CREATE from "../operations/SettingsUserCreate.graphql?raw";
import USER_RESET from "../operations/SettingsUserPasswordReset.graphql?raw";
import USER_DISABLE from "../operations/SettingsUserDisable.graphql?raw";
import USER_ENABLE from "../operations/SettingsUserEnable.graphql?raw";
import KEY_CREATE from "../operations/SettingsApiKeyCreate.graphql?raw";
import KEY_REVOKE from "../operations/SettingsApiKeyRevoke.graphql?raw";
import HOOK_CREATE from "../operations/SettingsWebhookCreate.graphql?raw";
import HOOK_DELETE from "../operations/SettingsWebhookDelete.graphql?raw";
import PARAMETERS from "../operations/SettingsVerticalParametersUpdate.graphql?raw";
import type {
  ApiKeysQuery, SettingsApiKeyCreateMutation, SettingsApiKeyCreateMutationVariables, SettingsApiKeyRevokeMutation,
  SettingsDirectoryQuery, SettingsQuery, SettingsUserCreateMutation, SettingsUserCreateMutationVariables,
  SettingsUserDisableMutation, SettingsUserDisableMutationVariables, SettingsUserEnableMutation,
  SettingsUserPasswordResetMutation, SettingsVerticalParametersUpdateMutation,
  SettingsVerticalParametersUpdateMutationVariables, SettingsWebhookCreateMutation,
  SettingsWebhookCreateMutationVariables, SettingsWebhookDeleteMutation, SignInPolicyQuery, VerticalDisableMutation,
  VerticalEnableMutation, WebhookEndpointsQuery,
} from "../generated/graphql";

const W = {
  actions: ["操作", "Actions"],
  manage: ["管理", "Manage"],
  departments: ["部门", "Departments"],
  lastLogin: ["最近登录", "Last sign-in"],
  clearance: ["密级", "Clearance"],
  newUser: ["新建用户", "New user"],
  displayName: ["姓名", "Display name"],
  employeeNo: ["工号（可选）", "Employee number (optional)"],
  tempPassword: ["初始密码（请线下告知本人）", "Initial password (tell the person in person)"],
  chooseRoles: ["角色", "Roles"],
  chooseDepartments: ["所属部门", "Departments"],
  createUser: ["创建用户", "Create user"],
  userCreated: ["已创建用户", "User created"],
  heldBack: ["以下角色含高风险权限，须另一位管理员批准后生效：", "These roles give high-risk permissions and wait for another administrator's approval:"],
  managing: ["管理用户", "Manage user"],
  resetPassword: ["重置密码", "Reset password"],
  resetHint: ["重置后该用户的所有登录立即结束，下次登录须先修改密码。", "Their logins end at once; they must change the password at their next sign-in."],
  resetDone: ["密码已重置，用户下次登录须修改密码。", "Password reset: the user must change it at their next sign-in."],
  disableUser: ["停用用户", "Disable user"],
  disableReason: ["停用原因", "Reason"],
  successor: ["接替人（名下有记录时必填）", "Successor (needed when the user owns records)"],
  noSuccessor: ["（不指定）", "(none)"],
  disabledDone: ["用户已停用，其登录已结束。", "User disabled; their logins ended."],
  enableUser: ["重新启用", "Enable again"],
  enabledDone: ["用户已启用。", "User enabled."],
  closePanel: ["收起", "Close"],
  user_active: ["在职", "active"],
  user_disabled: ["已停用", "disabled"],
  user_locked: ["已锁定", "locked"],
  permissionsCount: ["项权限", "permissions"],
  scope_OWN: ["本人", "own records"],
  scope_DEPARTMENT: ["本部门", "department"],
  scope_TENANT: ["全租户", "whole tenant"],
  enable: ["启用", "Enable"],
  disable: ["停用", "Disable"],
  confirmDisable: ["确认停用（其界面将隐藏，参数保留）", "Confirm: disable (its screens hide, its parameters are kept)"],
  parameters: ["参数", "Parameters"],
  paramHint: ["只提交修改过的参数；数值留空则恢复默认值。", "Only changed parameters are sent; an empty number restores the default."],
  key: ["参数名", "Key"],
  unit: ["单位", "Unit"],
  range: ["范围", "Range"],
  defaultValue: ["默认", "Default"],
  overridden: ["已修改", "overridden"],
  saveParameters: ["保存参数", "Save parameters"],
  nothingChanged: ["没有修改任何参数。", "Nothing changed."],
  savedVersion: ["参数已保存，版本", "Parameters saved, version"],
  notEnabledParams: ["启用该行业插件后可修改参数。", "Enable the vertical to change its parameters."],
  yes: ["是", "true"],
  no: ["否", "false"],
  totp: ["所有用户须使用动态验证码", "Every user needs an authenticator code"],
  totpRoles: ["须使用动态验证码的角色", "Roles that need an authenticator code"],
  staffNetworks: ["员工登录允许的网段", "Networks staff may sign in from"],
  keyNetworks: ["API 密钥允许的网段", "Networks API keys may be used from"],
  challenge: ["多少次登录失败后须回答验证问题", "Failed sign-ins before a challenge"],
  anyNetwork: ["不限", "any"],
  never: ["从不", "never"],
  newKey: ["新建 API 密钥", "New API key"],
  keyName: ["密钥名称", "Key name"],
  keyPermissions: ["密钥权限", "Key permissions"],
  chosen: ["已选", "chosen"],
  expiresAt: ["到期日（可选）", "Expires on (optional)"],
  createKey: ["创建密钥", "Create key"],
  secretOnce: ["请立即复制并妥善保存：此密钥只显示这一次，离开本页后无法再次查看。",
    "Copy it now and keep it safe: it is shown this once and cannot be seen again after you leave this page."],
  keyCreated: ["已创建 API 密钥", "API key created"],
  secret: ["密钥", "Secret"],
  copy: ["复制", "Copy"],
  copied: ["已复制到剪贴板。", "Copied to the clipboard."],
  copyFailed: ["无法访问剪贴板，请手动选中复制。", "The clipboard is not available: select the text and copy it."],
  savedIt: ["我已保存，隐藏", "I saved it: hide"],
  hint: ["标识", "Hint"],
  createdAt: ["创建时间", "Created"],
  expires: ["到期", "Expires"],
  lastUsed: ["最近使用", "Last used"],
  active: ["有效", "active"],
  revoked: ["已吊销", "revoked"],
  expired: ["已过期", "expired"],
  revoke: ["吊销", "Revoke"],
  confirmRevoke: ["确认吊销", "Confirm revoke"],
  newHook: ["登记 Webhook 地址", "Register a webhook endpoint"],
  url: ["地址（https://）", "URL (https://)"],
  eventTypes: ["事件类型", "Event types"],
  eventHint: ["多个事件类型以逗号或空格分隔，如 customer.created user.created；“*”表示全部。",
    "Separate event types with commas or spaces, e.g. customer.created user.created; \"*\" for all."],
  description: ["说明", "Description"],
  createHook: ["登记", "Register"],
  hookCreated: ["已登记 Webhook 地址", "Webhook endpoint registered"],
  signingSecret: ["签名密钥", "Signing secret"],
  failures: ["连续失败", "Failures"],
  hook_active: ["正常", "active"],
  hook_disabled: ["已停用", "disabled"],
  remove: ["删除", "Delete"],
  confirmRemove: ["确认删除", "Confirm delete"],
  removed: ["已删除", "Deleted"],
} as const;
const w = (k: keyof typeof W) => W[k][lang.get() === "zh" ? 0 : 1];
const word = (prefix: string, value: string) => (`${prefix}${value}` in W ? w(`${prefix}${value}` as keyof typeof W) : value);

type Data = SettingsQuery;
type Directory = SettingsDirectoryQuery;
type User = Data["users"]["nodes"][number];
type Role = Data["roles"]["nodes"][number];
type Vertical = Data["tenantVerticals"][number];
type Parameter = Vertical["parameters"][number];

let ids = 0;
const useId = (prefix: string) => useState(() => `settings-${prefix}-${++ids}`)[0];

function Errors({ errors }: { errors: ApiError[] }) {
  return <>{errors.map((e) => <ErrorBox error={e} />)}</>;
}

const coded = (errors: ReadonlyArray<UserError>) => errors.map((e) => new ApiError(e.code, e.message, e.field));

/** Checkboxes in a fieldset: each box labelled by wrapping it. */
function Checks(props: { legend: string; name: string; options: Array<{ value: string; label: ComponentChildren }>;
  chosen: string[]; onChange: (chosen: string[]) => void }) {
  return (
    <fieldset class="field">
      <legend>{props.legend}</legend>
      {props.options.map((o) => (
        <div>
          <label>
            <input type="checkbox" name={props.name} value={o.value} checked={props.chosen.includes(o.value)}
              onChange={(e) => {
                const on = (e.target as HTMLInputElement).checked;
                props.onChange(on ? [...props.chosen, o.value] : props.chosen.filter((v) => v !== o.value));
              }} />{" "}
            {o.label}
          </label>
        </div>
      ))}
      {props.options.length ? null : <p class="muted">{t("none")}</p>}
    </fieldset>
  );
}

function Select(props: { label: string; name: string; value: string; onChange: (v: string) => void;
  options: Array<{ value: string; label: string }>; describedBy?: string }) {
  const id = useId("select");
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select id={id} name={props.name} value={props.value} aria-describedby={props.describedBy}
        onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        {props.options.map((o) => <option value={o.value}>{o.label}</option>)}
      </select>
    </div>
  );
}

/** A <details> whose content is drawn only while open: long lists stay out of the page until asked for. */
function Disclosure(props: { id?: string; class?: string; summary: ComponentChildren; children: () => ComponentChildren }) {
  const [open, setOpen] = useState(false);
  return (
    <details id={props.id} class={props.class} open={open}
      onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>{props.summary}</summary>
      {open ? props.children() : null}
    </details>
  );
}

/** A secret the API gives once: shown with a copy hint until dismissed or the screen is left. */
function OnceSecret(props: { id: string; title: string; label: string; secret: string; onDismiss: () => void }) {
  const field = useId("secret");
  const [copy, setCopy] = useState<"copied" | "copyFailed" | null>(null);
  return (
    <div id={props.id} class="notice" role="status">
      <p><strong>{props.title}</strong></p>
      <p>{w("secretOnce")}</p>
      <div class="field">
        <label for={field}>{props.label}</label>
        <input id={field} readOnly value={props.secret} autocomplete="off" spellcheck={false}
          onFocus={(e) => (e.target as HTMLInputElement).select()} />
      </div>
      <p>
        <button type="button" class="copy" onClick={() => {
          navigator.clipboard?.writeText(props.secret).then(() => setCopy("copied"), () => setCopy("copyFailed"))
            ?? setCopy("copyFailed");
        }}>{w("copy")}</button>
{" "}
        <button type="button" class="dismiss" onClick={props.onDismiss}>{w("savedIt")}</button>
      </p>
      {copy ? <p>{w(copy)}</p> : null}
    </div>
  );
}

export function Settings() {
  const settings = useQuery<SettingsQuery, Record<string, never>>(SETTINGS, {});
  const directory = useQuery<SettingsDirectoryQuery, Record<string, never>>(DIRECTORY, {});
  const access = useAccess();
  const may = (permission: string) => !!access?.permissions.has(permission);
  const data = settings.data;
  return (
    <div>
      <h1>{t("settings")}</h1>
      <Loading loaded={settings} />
      {data ? (
        <>
          <Verticals verticals={data.tenantVerticals} onChanged={settings.reload} may={may("vertical.manage")} />
          <Users data={data} directory={directory.data} onChanged={settings.reload} may={may("user.manage")} />
          <Roles roles={data.roles.nodes} directory={directory.data} />
        </>
      ) : null}
      <Policy />
      <Keys directory={directory.data} />
      <Hooks />
    </div>
  );
}

// --- verticals and their parameters ------------------------------------------------------------

function Verticals(props: { verticals: Vertical[]; onChanged: () => void; may: boolean }) {
  const [error, setError] = useState<ApiError | null>(null);
  const zh = lang.get() === "zh";
  const [confirm, setConfirm] = useState<string | null>(null);
  async function toggle(v: Vertical) {
    if (v.enabled && confirm !== v.id) return setConfirm(v.id); // disabling hides its screens: asked twice
    setConfirm(null);
    setError(null);
    try {
      if (v.enabled) ok((await gql<VerticalDisableMutation>(DISABLE, { verticalId: v.id })).verticalDisable);
      else ok((await gql<VerticalEnableMutation>(ENABLE, { verticalId: v.id })).verticalEnable);
      props.onChanged();
    } catch (e) {
      setError(asApiError(e));
    }
  }
  return (
    <Section title={t("verticals")} id="verticals-title">
      <ErrorBox error={error} />
      {props.verticals.map((v) => (
        <Disclosure class="vertical" id={`vertical-${v.id}`}
          summary={<>{zh ? v.nameZh : v.nameEn} ({v.id}) — {v.enabled ? t("enabled") : t("disabled")}</>}>{() => <>
          {props.may ? (
            <p>
              <button type="button" class="toggle" onClick={() => toggle(v)}>
                {v.enabled ? (confirm === v.id ? w("confirmDisable") : w("disable")) : w("enable")} {zh ? v.nameZh : v.nameEn}
              </button>
            </p>
          ) : null}
          {v.enabled ? <Parameters vertical={v} onSaved={props.onChanged} /> : (
            <>
              <p class="muted">{w("notEnabledParams")}</p>
              <Table head={[w("key"), t("status")]} rows={v.parameters.map((p) => [<code>{p.key}</code>, shown(p.value)])} />
            </>
          )}
        </>}</Disclosure>
      ))}
    </Section>
  );
}

const shown = (value: unknown) => (value === null || value === undefined ? "—" : typeof value === "string" ? value : JSON.stringify(value));
const asText = (value: unknown) => (value === null || value === undefined ? "" : typeof value === "string" ? value : String(value));

/** What the API receives for what was typed: numbers as numbers when they are, else as typed (the API refuses with its code). */
function typed(p: Parameter, text: string): unknown {
  if (p.kind === "boolean") return text === "true" ? true : text === "false" ? false : text;
  if (p.kind === "integer") return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text;
  if (p.kind === "decimal") return text.trim();
  return text;
}

function Parameters({ vertical, onSaved }: { vertical: Vertical; onSaved: () => void }) {
  const initial = () => Object.fromEntries(vertical.parameters.map((p) => [p.key, asText(p.value)]));
  const [values, setValues] = useState<Record<string, string>>(initial);
  const [base, setBase] = useState<Record<string, string>>(initial);
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [saved, setSaved] = useState<string | null>(null);
  const zh = lang.get() === "zh";
  const idBase = useId("param");

  async function save(event: Event) {
    event.preventDefault();
    setErrors([]);
    setSaved(null);
    const changed = vertical.parameters.filter((p) => values[p.key] !== base[p.key]).map((p) => {
      const text = values[p.key];
      const restore = text.trim() === "" && p.kind !== "text";
      return { key: p.key, value: restore ? null : typed(p, text) };
    });
    if (!changed.length) return setSaved(w("nothingChanged"));
    try {
      const variables: SettingsVerticalParametersUpdateMutationVariables = {
        verticalId: vertical.id, parameters: changed, expectedVersion: vertical.version };
      const answer = (await gql<SettingsVerticalParametersUpdateMutation>(PARAMETERS, variables)).verticalParametersUpdate;
      if (answer.errors.length) return setErrors(coded(answer.errors));
      setBase({ ...values });
      setSaved(`${w("savedVersion")} ${answer.vertical?.version ?? ""}`);
      onSaved();
    } catch (e) {
      setErrors([asApiError(e)]);
    }
  }

  const bad = new Set(errors.map((e) => e.field));
  return (
    <form id={`params-${vertical.id}`} class="parameters" onSubmit={save}>
      <h3>{w("parameters")}</h3>
      <p class="muted">{w("paramHint")}</p>
      {vertical.parameters.map((p, i) => {
        const id = `${idBase}-${i}`;
        const about = `${id}-about`;
        const range = p.minimum !== null || p.maximum !== null ? ` · ${w("range")} ${p.minimum ?? "…"}–${p.maximum ?? "…"}` : "";
        const set = (v: string) => setValues((s) => ({ ...s, [p.key]: v }));
        const describe = (
          <>
            <small class="muted" id={about}>
              <code>{p.key}</code>{p.unit ? ` · ${w("unit")} ${p.unit}` : ""}{range} · {w("defaultValue")} {shown(p.default)}
              {p.overridden ? ` · ${w("overridden")}` : ""}
            </small>
            <Errors errors={errors.filter((e) => e.field === p.key)} />
          </>
        );
        if (p.kind === "boolean" || p.kind === "choice") {
          const options = p.kind === "boolean"
            ? [{ value: "true", label: w("yes") }, { value: "false", label: w("no") }]
            : p.choices.map((c) => ({ value: c, label: c }));
          return (
            <div>
              <Select label={zh ? p.helpZh : p.helpEn} name={p.key} value={values[p.key]} onChange={set} options={options}
                describedBy={about} />
              {describe}
            </div>
          );
        }
        return (
          <div class="field">
            <label for={id}>{zh ? p.helpZh : p.helpEn}</label>
            <input id={id} name={p.key} value={values[p.key]} aria-describedby={about} aria-invalid={bad.has(p.key) ? "true" : undefined}
              inputMode={p.kind === "integer" ? "numeric" : p.kind === "decimal" ? "decimal" : undefined} autocomplete="off"
              onInput={(e) => set((e.target as HTMLInputElement).value)} />
            {describe}
          </div>
        );
      })}
      <Errors errors={errors} />
      {saved ? <p class="good" role="status">{saved}</p> : null}
      <button type="submit" class="primary">{w("saveParameters")}</button>
    </form>
  );
}

// --- users ---------------------------------------------------------------------------------------

function Users(props: { data: Data; directory: Directory | null; onChanged: () => void; may: boolean }) {
  const { data, directory } = props;
  const [selected, setSelected] = useState<string | null>(null);
  const roleName = new Map(data.roles.nodes.map((r) => [r.id, r.name]));
  const departmentName = new Map((directory?.departments.nodes ?? []).map((d) => [d.id, d.name]));
  const user = data.users.nodes.find((u) => u.id === selected) ?? null;
  return (
    <Section title={t("users")} id="users-title">
      <Table head={[t("username"), w("displayName"), t("status"), w("departments"), t("roles"), w("lastLogin"), w("actions")]}
        rows={data.users.nodes.map((u) => [
          u.username, u.displayName, word("user_", u.status),
          u.departmentIds.map((d) => departmentName.get(d) ?? d).join("、") || "—",
          u.roleIds.map((r) => roleName.get(r) ?? r).join("、") || "—",
          when(u.lastLoginAt),
          props.may ? (
            <button type="button" class="manage-user" data-username={u.username} onClick={() => setSelected(u.id)}>
              {w("manage")} {u.username}
            </button>
          ) : "—",
        ])} />
      {user && props.may ? (
        <ManageUser key={user.id} user={user} users={data.users.nodes} onChanged={props.onChanged}
          onClose={() => setSelected(null)} />
      ) : null}
      {props.may ? <CreateUser roles={data.roles.nodes} directory={directory} onCreated={props.onChanged} /> : null}
    </Section>
  );
}

function CreateUser(props: { roles: Role[]; directory: Directory | null; onCreated: () => void }) {
  const [username, setUsername] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [employeeNo, setEmployeeNo] = useState("");
  const [password, setPassword] = useState("");
  const [roleIds, setRoleIds] = useState<string[]>([]);
  const [departmentIds, setDepartmentIds] = useState<string[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [created, setCreated] = useState<{ name: string; held: string[] } | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    setCreated(null);
    try {
      const variables: SettingsUserCreateMutationVariables = { input: {
        username, displayName, password, employeeNo: employeeNo.trim() || null, roleIds, departmentIds } };
      const made = ok((await gql<SettingsUserCreateMutation>(USER_CREATE, variables)).userCreate).user!;
      const held = roleIds.filter((r) => !made.roleIds.includes(r))
        .map((r) => props.roles.find((x) => x.id === r)?.name ?? r);
      setCreated({ name: `${made.displayName} (${made.username})`, held });
      setUsername("");
      setDisplayName("");
      setEmployeeNo("");
      setPassword("");
      setRoleIds([]);
      setDepartmentIds([]);
      props.onCreated();
    } catch (e) {
      setError(asApiError(e));
    }
  }

  return (
    <form id="user-create" onSubmit={submit} aria-labelledby="user-create-title">
      <h3 id="user-create-title">{w("newUser")}</h3>
      <Field label={t("username")} name="username" value={username} onInput={setUsername} required />
      <Field label={w("displayName")} name="displayName" value={displayName} onInput={setDisplayName} required />
      <Field label={w("employeeNo")} name="employeeNo" value={employeeNo} onInput={setEmployeeNo} />
      <Field label={w("tempPassword")} name="password" type="password" autocomplete="new-password" value={password}
        onInput={setPassword} required />
      <Checks legend={w("chooseRoles")} name="roleIds" chosen={roleIds} onChange={setRoleIds}
        options={props.roles.map((r) => ({ value: r.id, label: r.name }))} />
      <Checks legend={w("chooseDepartments")} name="departmentIds" chosen={departmentIds} onChange={setDepartmentIds}
        options={(props.directory?.departments.nodes ?? []).map((d) => ({ value: d.id, label: d.name }))} />
      <ErrorBox error={error} />
      {created ? (
        <div class="good" role="status" id="user-created">
          <p>✓ {w("userCreated")}: {created.name}</p>
          {created.held.length ? <p class="notice">{w("heldBack")} {created.held.join("、")}</p> : null}
        </div>
      ) : null}
      <button type="submit" class="primary">{w("createUser")}</button>
    </form>
  );
}

function ManageUser(props: { user: User; users: User[]; onChanged: () => void; onClose: () => void }) {
  const { user } = props;
  const [password, setPassword] = useState("");
  const [reason, setReason] = useState("");
  const [successor, setSuccessor] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function run(action: () => Promise<string>) {
    setError(null);
    setDone(null);
    try {
      setDone(await action());
      props.onChanged();
    } catch (e) {
      setError(asApiError(e));
    }
  }

  return (
    <div id="user-manage" class="card" role="group" aria-labelledby="user-manage-title">
      <h3 id="user-manage-title">{w("managing")}: {user.displayName} ({user.username}) — {word("user_", user.status)}</h3>
      <form id="user-reset" class="inline" onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          ok((await gql<SettingsUserPasswordResetMutation>(USER_RESET, { id: user.id, newPassword: password })).userPasswordReset);
          setPassword("");
          return w("resetDone");
        });
      }}>
        <Field label={t("newPassword")} name="newPassword" type="password" autocomplete="new-password" value={password}
          onInput={setPassword} required />
        <button type="submit">{w("resetPassword")}</button>
      </form>
      <p class="muted">{w("resetHint")}</p>
      {user.status === "disabled" ? (
        <p>
          <button type="button" id="user-enable" onClick={() => run(async () => {
            ok((await gql<SettingsUserEnableMutation>(USER_ENABLE, { id: user.id })).userEnable);
            return w("enabledDone");
          })}>{w("enableUser")}</button>
        </p>
      ) : (
        <form id="user-disable" class="inline" onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            const variables: SettingsUserDisableMutationVariables = { id: user.id, reason, successorId: successor || null };
            ok((await gql<SettingsUserDisableMutation>(USER_DISABLE, variables)).userDisable);
            setReason("");
            return w("disabledDone");
          });
        }}>
          <Field label={w("disableReason")} name="reason" value={reason} onInput={setReason} />
          <Select label={w("successor")} name="successorId" value={successor} onChange={setSuccessor}
            options={[{ value: "", label: w("noSuccessor") }, ...props.users
              .filter((u) => u.id !== user.id && u.status === "active")
              .map((u) => ({ value: u.id, label: `${u.displayName} (${u.username})` }))]} />
          <button type="submit">{w("disableUser")}</button>
        </form>
      )}
      <ErrorBox error={error} />
      {done ? <p class="good" role="status">✓ {done}</p> : null}
      <p><button type="button" onClick={props.onClose}>{w("closePanel")}</button></p>
    </div>
  );
}

// --- roles ---------------------------------------------------------------------------------------

function Roles({ roles, directory }: { roles: Role[]; directory: Directory | null }) {
  const zh = lang.get() === "zh";
  const described = new Map((directory?.permissions ?? []).map((p) => [p.name, zh ? p.descriptionZh : p.descriptionEn]));
  return (
    <Section title={t("roles")} id="roles-title">
      {roles.length ? roles.map((r) => (
        <Disclosure class="role" summary={<><strong>{r.name}</strong> — {r.permissions.length} {w("permissionsCount")}</>}>
          {() => <>
            {r.description ? <p>{r.description}</p> : null}
            <ul>
              {r.permissions.map((g) => (
                <li>
                  {described.get(g.permission) ?? g.permission} <span class="muted">(<code>{g.permission}</code> · {word("scope_", g.scope)})</span>
                </li>
              ))}
            </ul>
          </>}
        </Disclosure>
      )) : <p class="muted">{t("none")}</p>}
    </Section>
  );
}

// --- sign-in controls ----------------------------------------------------------------------------

function Policy() {
  const policy = useQuery<SignInPolicyQuery, Record<string, never>>(POLICY, {});
  const p = policy.data?.signInPolicy;
  return (
    <Section title={t("signInPolicy")} id="policy-title">
      <Loading loaded={policy} />
      {p ? (
        <dl class="details">
          <dt>{w("totp")}</dt><dd>{p.totpRequired ? w("yes") : w("no")}</dd>
          <dt>{w("totpRoles")}</dt><dd>{p.totpRequiredRoles.join("、") || "—"}</dd>
          <dt>{w("staffNetworks")}</dt><dd>{p.staffNetworks.join(", ") || w("anyNetwork")}</dd>
          <dt>{w("keyNetworks")}</dt><dd>{p.apiKeyNetworks.join(", ") || w("anyNetwork")}</dd>
          <dt>{w("challenge")}</dt><dd>{p.challengeAfterFailures || w("never")}</dd>
        </dl>
      ) : null}
    </Section>
  );
}

// --- API keys ------------------------------------------------------------------------------------

function Keys({ directory }: { directory: Directory | null }) {
  const keys = useQuery<ApiKeysQuery, Record<string, never>>(KEYS, {});
  const [name, setName] = useState("");
  const [permissions, setPermissions] = useState<string[]>([]);
  const [expires, setExpires] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  // The secret lives in this component's memory only: gone when dismissed or the screen is left.
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [confirm, setConfirm] = useState<string | null>(null);
  const expiresId = useId("expires");
  const zh = lang.get() === "zh";

  async function create(event: Event) {
    event.preventDefault();
    setError(null);
    setSecret(null);
    try {
      const variables: SettingsApiKeyCreateMutationVariables = {
        name, permissions, expiresAt: expires ? new Date(`${expires}T23:59:59`).toISOString() : null };
      const made = ok((await gql<SettingsApiKeyCreateMutation>(KEY_CREATE, variables)).apiKeyCreate);
      setSecret({ name: made.apiKey?.name ?? name, secret: made.secret ?? "" });
      setName("");
      setPermissions([]);
      setExpires("");
      keys.reload();
    } catch (e) {
      setError(asApiError(e));
    }
  }

  async function revoke(id: string) {
    setError(null);
    setConfirm(null);
    try {
      ok((await gql<SettingsApiKeyRevokeMutation>(KEY_REVOKE, { id })).apiKeyRevoke);
      keys.reload();
    } catch (e) {
      setError(asApiError(e));
    }
  }

  const status = (k: ApiKeysQuery["apiKeys"]["nodes"][number]) =>
    k.revokedAt ? `${w("revoked")} ${when(k.revokedAt)}` : k.expiresAt && new Date(k.expiresAt) < new Date() ? w("expired") : w("active");
  const catalogue = directory?.permissions ?? [];
  return (
    <Section title={t("apiKeys")} id="keys-title">
      <Loading loaded={keys} />
      {keys.data ? (
        <>
          {secret ? (
            <OnceSecret id="apikey-secret" title={`${w("keyCreated")}: ${secret.name}`} label={w("secret")}
              secret={secret.secret} onDismiss={() => setSecret(null)} />
          ) : null}
          <ErrorBox error={error} />
          <Table head={[t("name"), w("hint"), w("keyPermissions"), w("createdAt"), w("expires"), w("lastUsed"), t("status"), w("actions")]}
            rows={keys.data.apiKeys.nodes.map((k) => [
              k.name, <code>{k.hint}</code>,
              k.permissions.length > 3 ? `${k.permissions.slice(0, 3).join(", ")} … (${k.permissions.length})` : k.permissions.join(", "),
              when(k.createdAt), when(k.expiresAt), when(k.lastUsedAt), status(k),
              k.revokedAt ? "—" : confirm === k.id ? (
                <button type="button" class="confirm-revoke" onClick={() => revoke(k.id)}>{w("confirmRevoke")} {k.name}</button>
              ) : (
                <button type="button" class="revoke" onClick={() => setConfirm(k.id)}>{w("revoke")} {k.name}</button>
              ),
            ])} />
          <form id="apikey-create" onSubmit={create} aria-labelledby="apikey-create-title">
            <h3 id="apikey-create-title">{w("newKey")}</h3>
            <Field label={w("keyName")} name="keyName" value={name} onInput={setName} required />
            <Disclosure class="permissions" summary={<>{w("keyPermissions")} ({w("chosen")} {permissions.length})</>}>
              {() => <Checks legend={w("keyPermissions")} name="permissions" chosen={permissions} onChange={setPermissions}
                options={catalogue.map((p) => ({ value: p.name, label: <>{zh ? p.descriptionZh : p.descriptionEn} (<code>{p.name}</code>)</> }))} />}
            </Disclosure>
            <div class="field">
              <label for={expiresId}>{w("expiresAt")}</label>
              <input id={expiresId} name="expiresAt" type="date" value={expires}
                onInput={(e) => setExpires((e.target as HTMLInputElement).value)} />
            </div>
            <button type="submit" class="primary">{w("createKey")}</button>
          </form>
        </>
      ) : null}
    </Section>
  );
}

// --- webhooks ------------------------------------------------------------------------------------

function Hooks() {
  const hooks = useQuery<WebhookEndpointsQuery, Record<string, never>>(HOOKS, {});
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState("*");
  const [description, setDescription] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const [confirm, setConfirm] = useState<string | null>(null);
  const [removed, setRemoved] = useState<string | null>(null);
  const eventsId = useId("events");

  async function create(event: Event) {
    event.preventDefault();
    setError(null);
    setSecret(null);
    setRemoved(null);
    try {
      const variables: SettingsWebhookCreateMutationVariables = {
        url: url.trim(), eventTypes: events.split(/[\s,，]+/).filter(Boolean), description };
      const made = ok((await gql<SettingsWebhookCreateMutation>(HOOK_CREATE, variables)).webhookEndpointCreate);
      if (made.secret) setSecret({ url: made.endpoint?.url ?? url, secret: made.secret });
      setUrl("");
      setEvents("*");
      setDescription("");
      hooks.reload();
    } catch (e) {
      setError(asApiError(e));
    }
  }

  async function remove(id: string, target: string) {
    setError(null);
    setConfirm(null);
    try {
      ok((await gql<SettingsWebhookDeleteMutation>(HOOK_DELETE, { id })).webhookEndpointDelete);
      setRemoved(target);
      hooks.reload();
    } catch (e) {
      setError(asApiError(e));
    }
  }

  return (
    <Section title={t("webhooks")} id="hooks-title">
      <Loading loaded={hooks} />
      {hooks.data ? (
        <>
          {secret ? (
            <OnceSecret id="webhook-secret" title={`${w("hookCreated")}: ${secret.url}`} label={w("signingSecret")}
              secret={secret.secret} onDismiss={() => setSecret(null)} />
          ) : null}
          {removed ? <p class="good" role="status">✓ {w("removed")}: {removed}</p> : null}
          <ErrorBox error={error} />
          <Table head={["URL", w("description"), w("eventTypes"), t("status"), w("failures"), w("actions")]}
            rows={hooks.data.webhookEndpoints.nodes.map((h) => [
              h.url, h.description || "—", h.eventTypes.join(", "),
              `${word("hook_", h.status)}${h.disabledReason ? ` (${h.disabledReason})` : ""}`, h.consecutiveFailures,
              confirm === h.id ? (
                <button type="button" class="confirm-remove" onClick={() => remove(h.id, h.url)}>{w("confirmRemove")} {h.url}</button>
              ) : (
                <button type="button" class="remove" onClick={() => setConfirm(h.id)}>{w("remove")} {h.url}</button>
              ),
            ])} />
          <form id="webhook-create" onSubmit={create} aria-labelledby="webhook-create-title">
            <h3 id="webhook-create-title">{w("newHook")}</h3>
            <Field label={w("url")} name="url" value={url} onInput={setUrl} required />
            <div class="field">
              <label for={eventsId}>{w("eventTypes")}</label>
              <input id={eventsId} name="eventTypes" value={events} aria-describedby={`${eventsId}-hint`} autocomplete="off"
                onInput={(e) => setEvents((e.target as HTMLInputElement).value)} />
              <p class="muted" id={`${eventsId}-hint`}>{w("eventHint")}</p>
            </div>
            <Field label={w("description")} name="description" value={description} onInput={setDescription} />
            <button type="submit" class="primary">{w("createHook")}</button>
          </form>
        </>
      ) : null}
    </Section>
  );
}
