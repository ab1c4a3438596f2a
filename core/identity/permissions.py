"""Permissions: dotted names declared by core and by verticals, granted through roles with a scope.

A scope says over which records a permission holds: the holder's own records, records of the
holder's departments, or the whole tenant.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from core.plugins.types import Permission


class Scope(StrEnum):
    OWN = "own"
    DEPARTMENT = "department"
    TENANT = "tenant"

    @property
    def breadth(self) -> int:
        return {"own": 0, "department": 1, "tenant": 2}[self.value]


def _p(name: str, en: str, zh: str) -> Permission:
    return Permission(name=name, description_en=en, description_zh=zh)


CORE_PERMISSIONS: tuple[Permission, ...] = (
    _p("user.read", "see the tenant's users", "查看用户"),
    _p("user.manage", "create and edit users, reset their passwords", "创建、编辑用户，重置密码"),
    _p("user.disable", "disable and re-enable users, hand over their records", "停用、启用用户并移交其记录"),
    _p("role.read", "see roles and their permissions", "查看角色及权限"),
    _p("role.manage", "create, edit and delete roles", "创建、编辑、删除角色"),
    _p("role.grant", "grant and revoke roles (permission approval)", "授予、撤销角色（权限审批）"),
    _p("role.grant.approve", "approve or reject pending grants of high-risk permissions (department head)",
       "审批高风险权限的待批授予（部门负责人）"),
    _p("department.read", "see departments", "查看部门"),
    _p("department.manage", "create and rename departments", "创建、重命名部门"),
    _p("apikey.manage", "create, see and revoke API keys", "创建、查看、吊销 API 密钥"),
    _p("tenant.settings.manage", "change tenant settings (password policy, lockout)", "修改租户设置（密码策略、锁定）"),
    _p("customer.read", "read customer records", "查看客户档案"),
    _p("customer.write", "create and edit customer records", "创建、编辑客户档案"),
    _p("customer.pii.unmask", "see masked personal information in clear", "查看脱敏个人信息明文"),
    _p("customer.transfer", "hand customers over to another owner", "移交客户给其他负责人"),
    _p("customer.merge", "merge duplicate customers and undo merges", "合并重复客户并撤销合并"),
    _p("customer.review", "record the periodic review of customer records", "记录客户档案的定期审查"),
    _p("customer.change.apply", "verify and apply or reject change requests of customer records, change key "
       "fields directly (customer information management specialist)", "核实并执行或驳回客户信息变更申请，直接修改关键信息（客户信息管理专员）"),
    _p("customer.delete.request", "file a customer deletion request (deletion application form)", "提交客户信息删除申请"),
    _p("customer.delete.sign", "sign customer deletion requests of one's department (department head)",
       "审核签字本部门的客户信息删除申请（部门负责人）"),
    _p("customer.delete.approve", "approve or reject signed customer deletion requests (head of customer information "
       "management)", "审批客户信息删除申请（客户信息管理部门负责人）"),
    _p("customer.delete.execute", "execute approved customer deletions and confirm the backup purge (system "
       "administrator)", "执行已审批的客户信息删除并确认备份同步删除（系统管理员）"),
    _p("customer.duplicate.force", "create a customer whose identifier another customer has", "强制创建证件号重复的客户"),
    _p("customer.import", "import customers from CSV or XLSX", "从 CSV 或 XLSX 导入客户"),
    _p("customer.export", "export customers to CSV or XLSX", "导出客户为 CSV 或 XLSX"),
    _p("privacy.consent.manage", "record customers' consent grants and withdrawals", "登记客户同意的授予与撤回"),
    _p("privacy.consent.read", "see customers' consent state and history", "查看客户同意状态与记录"),
    _p("privacy.assessment.manage", "write personal-information impact assessments", "编写个人信息保护影响评估"),
    _p("privacy.incident.manage", "record personal-information incidents and their reports", "登记个人信息安全事件及报告"),
    _p("fault.report", "report faults of the customer system and see fault tickets", "报告客户系统故障并查看故障单"),
    _p("fault.handle", "acknowledge, work on, resolve and close fault tickets", "受理、处理、解决并关闭故障单"),
    _p("training.read", "see training courses, assessment results and employees' training standing",
       "查看培训课程、考核成绩及员工培训状态"),
    _p("training.manage", "create training courses, record hire days and assessment results",
       "创建培训课程，登记入职日期及考核成绩"),
    _p("privacy.archive.lend", "lend customer archives and take them back", "借出、收回客户档案"),
    _p("privacy.archive.approve", "approve archive loans for the lending side (sales manager, team leader)",
       "审批档案借阅（借出方：销售经理、销售组长）"),
    _p("privacy.archive.keep", "approve archive loans as their custodian and consent to copies (archivist, sales "
       "assistant)", "作为保管人审批档案借阅并同意复印（档案管理员、销售助理）"),
    _p("privacy.archive.external", "sign archive loans to persons of an external unit (general manager, customer "
       "director)", "签字批准外单位人员借阅档案（总经理、客户总监）"),
    _p("privacy.archive.ban.lift", "lift a borrower's lending ban, with a reason", "解除借阅人的借阅禁令并说明理由"),
    _p("privacy.request.manage", "handle data-subject requests (access, correction, deletion, portability, withdrawal)",
       "处理个人信息主体的权利请求（查阅、更正、删除、转移、撤回）"),
    _p("privacy.erase", "erase a customer's personal data for good", "彻底删除客户个人信息"),
    _p("privacy.freeze", "freeze a customer that may not be deleted (kept, out of processing)", "冻结不得删除的客户（保留但停止处理）"),
    _p("privacy.legal_hold", "place and release legal holds, start the retention purge", "设置、解除法律保全，启动保存期限清理"),
    _p("privacy.audit.read", "read frozen customers (auditors)", "查看已冻结客户（审计人员）"),
    _p("privacy.keys.manage", "re-encrypt personal data under the active data key", "以当前数据密钥重新加密个人信息"),
    _p("privacy.export.request", "ask for approval of a bulk customer export", "申请批量导出客户数据"),
    _p("privacy.export.approve", "approve or reject bulk export requests (with the approver role)",
       "审批批量导出申请（须具审批角色）"),
    _p("audit.read", "read the audit log", "查看审计日志"),
    _p("webhook.manage", "manage webhook endpoints and deliveries", "管理 Webhook 端点与投递"),
    _p("vertical.manage", "enable and disable verticals, tune their parameters", "启用、停用行业插件并调整其参数"),
    _p("blacklist.read", "see blacklist entries", "查看黑名单"),
    _p("blacklist.propose", "propose customers for a department or the company blacklist", "提出将客户列入部门或公司黑名单"),
    _p("blacklist.approve", "approve or reject blacklist proposals of others", "审批他人提出的黑名单申请"),
    _p("blacklist.lift", "lift a blacklist entry before its expiry, with a reason", "提前解除黑名单并说明理由"),
    _p("attribution.read", "see customers' attribution ledgers, owners, commission splits and disputes",
       "查看客户归属台账、归属人、佣金分配及争议"),
    _p("attribution.record", "record registrations, visits, follow-ups, deals and corrections in the attribution ledger",
       "在客户归属台账中登记来访、回访、成交及更正"),
    _p("attribution.confirm", "confirm visit register entries, which then can never be corrected (sales clerk)",
       "确认来访登记，确认后不得更正（销售内勤）"),
    _p("attribution.dispute.open", "open a dispute over a deal's attribution (a party to it)", "对成交归属提出争议（当事人）"),
    _p("attribution.dispute.opinion", "write the opinion on an attribution dispute: fault, contribution, proposed "
       "split (project manager)", "出具归属争议处理意见：过错、贡献及建议分配（项目经理）"),
    _p("attribution.dispute.approve", "approve or reject an attribution dispute's opinion (sales director)",
       "审批归属争议处理意见（销售总监）"),
    _p("customer.relate", "record how customers are related (spouses, parents, children, in-laws, siblings)",
       "登记客户之间的亲属关系（配偶、父母、子女、姻亲、兄弟姐妹）"),
)


class PermissionCatalog:
    """Every permission this deployment knows: core's and the loaded verticals'."""

    def __init__(self, permissions: Iterable[Permission]) -> None:
        self.permissions = tuple(sorted(permissions, key=lambda p: p.name))
        self._names = {p.name for p in self.permissions}

    def __contains__(self, name: object) -> bool:
        return name in self._names

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._names)


_catalog = PermissionCatalog(CORE_PERMISSIONS)


def install_catalog(vertical_permissions: Iterable[Permission]) -> PermissionCatalog:
    """Called once at start with the verticals' permissions."""
    global _catalog
    _catalog = PermissionCatalog((*CORE_PERMISSIONS, *vertical_permissions))
    return _catalog


def catalog() -> PermissionCatalog:
    return _catalog
