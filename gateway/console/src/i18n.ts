// zh-CN first, en second. The API answers coded errors in the language the console asks for
// (Accept-Language), so only the console's own words live here.
import { signal } from "./state";

export type Lang = "zh" | "en";

const saved = (() => {
  try {
    return localStorage.getItem("kehu.lang");
  } catch {
    return null;
  }
})();
export const lang = signal<Lang>(saved === "en" ? "en" : "zh");

export function setLang(next: Lang): void {
  lang.set(next);
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
  try {
    localStorage.setItem("kehu.lang", next); // a preference, never a credential
  } catch {
    /* private mode: the choice lasts for this page */
  }
}

const WORDS = {
  appName: ["kehu 客户管理", "kehu customers"],
  language: ["English", "中文"],
  signIn: ["登录", "Sign in"],
  signOut: ["退出", "Sign out"],
  tenant: ["租户", "Tenant"],
  username: ["用户名", "Username"],
  password: ["密码", "Password"],
  totpCode: ["动态验证码（如已启用）", "Authenticator code (if enabled)"],
  sessionExpired: ["登录已过期，请重新登录；您的修改已保留，登录后将继续提交。",
    "Your session expired. Sign in again; your changes are kept and sent once you are signed in."],
  mustChange: ["密码已过期或为临时密码，请先修改密码。", "Your password expired or was set for you: change it first."],
  currentPassword: ["当前密码", "Current password"],
  newPassword: ["新密码", "New password"],
  changePassword: ["修改密码", "Change password"],
  passwordChanged: ["密码已修改，请用新密码登录。", "Password changed: sign in with the new one."],
  customers: ["客户", "Customers"],
  audit: ["审计日志", "Audit log"],
  archives: ["档案", "Archives"],
  complaints: ["投诉", "Complaints"],
  grading: ["客户分级", "Grading"],
  reception: ["接待与归属", "Reception & attribution"],
  tobacco: ["零售户", "Tobacco retail"],
  settings: ["设置", "Settings"],
  search: ["搜索", "Search"],
  searchHint: ["姓名、电话或证件号", "Name, phone or ID number"],
  name: ["名称", "Name"],
  kind: ["类型", "Kind"],
  status: ["状态", "Status"],
  phones: ["电话", "Phones"],
  emails: ["邮箱", "Emails"],
  identifier: ["证件", "Identifier"],
  updatedAt: ["更新时间", "Updated"],
  version: ["版本", "Version"],
  next: ["下一页", "Next page"],
  previous: ["上一页", "Previous page"],
  none: ["暂无数据", "Nothing here yet"],
  loading: ["加载中…", "Loading…"],
  open: ["打开", "Open"],
  back: ["返回", "Back"],
  save: ["保存", "Save"],
  cancel: ["取消", "Cancel"],
  edit: ["编辑", "Edit"],
  create: ["新建客户", "New customer"],
  organisation: ["企业", "Organisation"],
  person: ["个人", "Person"],
  surname: ["姓", "Surname"],
  givenName: ["名", "Given name"],
  orgName: ["企业名称", "Organisation name"],
  legalRepresentative: ["法定代表人", "Legal representative"],
  reason: ["原因", "Reason"],
  unmask: ["查看完整信息", "Unmask"],
  unmaskReason: ["查看原因（将被审计）", "Reason to unmask (audited)"],
  unmasked: ["已显示完整信息（已记录审计）", "Shown in full (audited)"],
  conflict: ["该客户已被他人修改，您的输入已保留。", "Someone changed this customer meanwhile; your input is kept."],
  conflictBy: ["修改人", "Changed by"],
  reload: ["载入最新版本并重新应用我的输入", "Load the latest version, keep my input"],
  history: ["变更历史", "History"],
  merges: ["合并记录", "Merges"],
  merge: ["合并重复客户", "Merge a duplicate"],
  mergedId: ["被合并客户 ID", "Id of the duplicate"],
  undo: ["撤销合并", "Undo merge"],
  consents: ["同意记录", "Consents"],
  granted: ["已同意", "granted"],
  notGranted: ["未同意", "not granted"],
  importTitle: ["导入客户", "Import customers"],
  importFile: ["CSV 或 XLSX 文件", "CSV or XLSX file"],
  importStart: ["开始导入", "Start import"],
  importDone: ["导入完成", "Import finished"],
  badRows: ["错误行", "Rows with errors"],
  line: ["行", "Line"],
  field: ["字段", "Field"],
  code: ["代码", "Code"],
  message: ["说明", "Message"],
  export: ["导出（需已批准的访问申请）", "Export (needs an approved access request)"],
  exportStart: ["开始导出", "Start export"],
  accessRequest: ["访问申请", "Access request"],
  download: ["下载", "Download"],
  verify: ["校验审计链", "Verify the audit chain"],
  verified: ["审计链完整", "The audit chain holds"],
  broken: ["审计链异常", "The audit chain is broken"],
  checked: ["已校验条目", "Entries checked"],
  action: ["操作", "Action"],
  actor: ["操作人", "Actor"],
  at: ["时间", "Time"],
  target: ["对象", "Target"],
  folders: ["档案袋", "Folders"],
  documents: ["文件", "Documents"],
  checkResults: ["检查结果", "Check results"],
  override: ["带原因放行", "Override with reason"],
  kpi: ["KPI 台账", "KPI ledger"],
  state: ["状态", "State"],
  due: ["截止", "Due"],
  clocks: ["时限", "Clocks"],
  breached: ["已超时", "Breached"],
  paused: ["已暂停", "Paused"],
  running: ["进行中", "Running"],
  met: ["按时完成", "Met"],
  timeline: ["时间线", "Timeline"],
  transition: ["流转", "Transition"],
  intake: ["登记投诉", "Register a complaint"],
  report: ["报表", "Report"],
  reviews: ["评级审核", "Review runs"],
  whatIf: ["模拟结果", "What-if"],
  publish: ["发布", "Publish"],
  blacklist: ["黑名单", "Blacklist"],
  visits: ["拜访计划", "Visit plans"],
  overdue: ["已逾期", "Overdue"],
  queue: ["接待队列", "Reception queue"],
  attribution: ["归属说明", "Attribution"],
  onboarding: ["建档时限", "Onboarding deadlines"],
  changeRequests: ["待审批变更", "Change requests awaiting approval"],
  watchList: ["关注名单", "Watch list"],
  users: ["用户", "Users"],
  roles: ["角色", "Roles"],
  apiKeys: ["API 密钥", "API keys"],
  webhooks: ["Webhook", "Webhooks"],
  verticals: ["行业插件", "Verticals"],
  enabled: ["已启用", "enabled"],
  disabled: ["未启用", "disabled"],
  signInPolicy: ["登录控制", "Sign-in controls"],
  progress: ["进度", "Progress"],
  failed: ["失败", "Failed"],
  done: ["完成", "Done"],
  customerId: ["客户 ID", "Customer id"],
  vertical: ["行业", "Vertical"],
  close: ["关闭", "Close"],
  status_potential: ["潜在", "potential"],
  status_active: ["有效", "active"],
  status_dormant: ["休眠", "dormant"],
  status_lost: ["流失", "lost"],
  status_terminated: ["已终止", "terminated"],
} as const;

export type Word = keyof typeof WORDS;

export function t(word: Word): string {
  return WORDS[word][lang.get() === "zh" ? 0 : 1];
}

/** A customer status in the user's language (an unknown one as the API gives it). */
export function statusWord(status: string): string {
  const word = `status_${status}`;
  return word in WORDS ? t(word as Word) : status;
}
