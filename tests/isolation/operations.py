"""Every GraphQL operation the isolation suite drives, one declarative entry each.

An entry is a document (its root field is the operation it covers), the model ids it takes
(variable -> kind), and how a success changes the model. The state machine calls it as the
owning tenant with that tenant's ids, then probes it with the other tenant's ids and expects a
refusal that shows nothing and changes nothing. ``$mark`` (the tenant's marker, in every name it
writes) and ``$n`` (a fresh number) are always passed; a document declares them when it uses them.

Covering a new operation is one more entry here; tests/isolation/test_coverage.py fails until then.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import OperationDefinitionNode, parse

from tests.support import PASSWORD

NEW_PASSWORD = "another-strong-phrase-77"


@dataclass
class Tenant:
    """What the model knows a tenant owns."""

    slug: str
    mark: str
    admin_name: str
    token: str = ""
    approver_token: str = ""
    spare_name: str = ""
    spare_password: str = PASSWORD
    owned: dict[str, set[str]] = field(default_factory=dict)  # kind -> ids its lists must show exactly
    seen: set[str] = field(default_factory=set)  # every id it ever owned: another tenant must never see one
    told: set[str] = field(default_factory=set)  # foreign ids this tenant itself sent (it may see them echoed)
    versions: dict[str, int] = field(default_factory=dict)  # id -> version, refreshed from every read
    merges: dict[str, str] = field(default_factory=dict)  # merge id -> merged customer id

    def ids(self, kind: str) -> list[str]:
        return sorted(self.owned.get(kind, ()))

    def add(self, kind: str, id_: str) -> None:
        self.owned.setdefault(kind, set()).add(id_)
        if kind in PARENT:
            self.owned.setdefault(PARENT[kind], set()).add(id_)
        self.seen.add(id_)

    def drop(self, kind: str, id_: str) -> None:
        self.owned.get(kind, set()).discard(id_)


Vars = Callable[[Tenant, Tenant, dict[str, str]], dict[str, Any]]  # (actor, owner of the ids, ids) -> more
After = Callable[[Tenant, dict[str, Any], Any], None]  # (actor, variables, root value) on success


@dataclass(frozen=True)
class Op:
    doc: str
    ids: Mapping[str, str] = field(default_factory=dict)  # variable -> model kind
    makes: tuple[str, str] | None = None  # (kind, dotted path to the new id in the root value)
    drops: tuple[str, ...] = ()  # (variable, kind, …): the id leaves these kinds on success
    lists: tuple[str, str] | None = None  # (kind, path to ids; "*" walks a list): must equal the model
    vars: Vars | None = None
    after: After | None = None
    as_: str = "admin"  # admin | approver | anonymous | session (a fresh login of the spare user)
    cross: bool = False  # probe with the other tenant even without ids (credentials)

    @property
    def name(self) -> str:
        return root_fields(self.doc)[0]

    @property
    def is_mutation(self) -> bool:
        return self.doc.lstrip().startswith("mutation")


def root_fields(doc: str) -> list[str]:
    """The root fields a document selects (what the coverage check counts)."""
    names = []
    for definition in parse(doc).definitions:
        if isinstance(definition, OperationDefinitionNode):
            names += [s.name.value for s in definition.selection_set.selections]  # type: ignore[attr-defined]
    return names


def pluck(value: Any, path: str) -> list[Any]:
    """Values at a dotted path; ``*`` walks a list."""
    values = [value]
    for part in path.split(".") if path else []:
        nxt = []
        for v in values:
            if v is None:
                continue
            if part == "*":
                nxt += list(v)
            else:
                nxt.append(v.get(part))
        values = nxt
    return [v for v in values if v is not None]


def _version(kind_var: str) -> Vars:
    return lambda actor, owner, ids: {"v": owner.versions.get(ids[kind_var], 1)}


def _merge(actor: Tenant, variables: dict, root: Any) -> None:
    actor.drop("customer", variables["merged"])
    actor.merges[root["merge"]["id"]] = variables["merged"]


def _unmerge(actor: Tenant, variables: dict, root: Any) -> None:
    merged = actor.merges.pop(variables["id"], None)
    if merged:
        actor.add("customer", merged)


def _approved(actor: Tenant, variables: dict, root: Any) -> None:
    actor.add("approved", variables["id"])


def _password_changed(actor: Tenant, variables: dict, root: Any) -> None:
    actor.spare_password = variables["new"]


CSV = base64.b64encode("kind,org_name\norganisation,甲乙丙\n".encode()).decode()
JOB = "job { id } errors { code }"

OPS: tuple[Op, ...] = (
    # Identity
    Op('mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, password: $p) '
       '{ accessToken errors { code } } }', as_="anonymous", cross=True,
       vars=lambda actor, owner, ids: {"t": actor.slug, "u": owner.admin_name, "p": PASSWORD}),
    Op('mutation($r: String!) { tokenRefresh(refreshToken: $r) { accessToken errors { code } } }', as_="session",
       vars=lambda actor, owner, ids: {}),  # $r is the fresh session's refresh token
    Op("mutation { logout { ok } }", as_="session"),
    Op('mutation($cur: String!, $new: String!) { passwordChange(currentPassword: $cur, newPassword: $new) '
       '{ ok errors { code } } }', as_="session", after=_password_changed,
       vars=lambda actor, owner, ids: {"cur": actor.spare_password,
                                       "new": NEW_PASSWORD if actor.spare_password == PASSWORD else PASSWORD}),
    Op("{ me { tenantId user { id displayName } permissions { permission } } }"),
    Op("{ users(first: 100) { edges { node { id displayName } } } }", lists=("user", "edges.*.node.id")),
    Op("query($id: ID!) { user(id: $id) { id displayName departmentIds } }", ids={"id": "user"}),
    Op('mutation($u: String!, $mark: String!) { userCreate(input: {username: $u, displayName: $mark, '
       'password: "%s"}) { user { id } errors { code } } }' % PASSWORD, makes=("staff", "user.id"),
       vars=lambda actor, owner, ids: {"u": f"u{actor.slug}-{len(actor.seen)}"}),
    Op('mutation($id: ID!, $mark: String!, $dep: ID!) { userUpdate(id: $id, displayName: $mark, departmentIds: [$dep]) '
       '{ user { id displayName } errors { code } } }', ids={"id": "staff", "dep": "department"}),
    Op('mutation($id: ID!) { userPasswordReset(id: $id, newPassword: "%s") { ok errors { code } } }' % NEW_PASSWORD,
       ids={"id": "staff"}),
    Op('mutation($id: ID!) { userDisable(id: $id, reason: "left") { user { id } errors { code } } }',
       ids={"id": "staff"}),
    Op("mutation($id: ID!) { userEnable(id: $id) { user { id } errors { code } } }", ids={"id": "staff"}),
    Op("{ roles { id name } }", lists=("role", "*.id")),
    Op("{ permissions { name } }"),
    Op('mutation($mark: String!) { roleCreate(input: {name: $mark, permissions: [{permission: "customer.read", '
       'scope: OWN}]}) { role { id } errors { code } } }', makes=("newrole", "role.id"),
       vars=lambda actor, owner, ids: {"mark": f"{actor.mark}角色{len(actor.seen)}"}),
    Op('mutation($id: ID!, $mark: String!) { roleUpdate(id: $id, input: {description: $mark}) { role { id } '
       'errors { code } } }', ids={"id": "newrole"}),
    Op("mutation($id: ID!) { roleDelete(id: $id) { ok errors { code } } }", ids={"id": "newrole"},
       drops=("id", "newrole", "role")),
    Op("mutation($u: ID!, $r: ID!) { roleGrant(userId: $u, roleId: $r) { ok errors { code } } }",
       ids={"u": "staff", "r": "role"}),
    Op("mutation($u: ID!, $r: ID!) { roleRevoke(userId: $u, roleId: $r) { ok errors { code } } }",
       ids={"u": "staff", "r": "role"}),
    Op("{ departments { id name } }", lists=("department", "*.id")),
    Op('mutation($mark: String!) { departmentCreate(name: $mark) { department { id } errors { code } } }',
       makes=("department", "department.id"),
       vars=lambda actor, owner, ids: {"mark": f"{actor.mark}部{len(actor.seen)}"}),
    Op('mutation($id: ID!, $mark: String!) { departmentRename(id: $id, name: $mark) { department { id } '
       'errors { code } } }', ids={"id": "department"},
       vars=lambda actor, owner, ids: {"mark": f"{actor.mark}改{len(actor.seen)}"}),
    Op("{ apiKeys { id name } }", lists=("apiKey", "*.id")),
    Op('mutation($mark: String!) { apiKeyCreate(name: $mark, permissions: ["customer.read"]) { apiKey { id } '
       'errors { code } } }', makes=("apiKey", "apiKey.id")),
    Op("mutation($id: ID!) { apiKeyRevoke(id: $id) { apiKey { id } errors { code } } }", ids={"id": "apiKey"}),
    Op("{ identityPolicy { passwordMinLength } }"),
    Op("mutation($n: Int!) { identityPolicyUpdate(input: {passwordMinLength: $n}) { errors { code } } }",
       vars=lambda actor, owner, ids: {"n": 8 + len(actor.seen) % 4}),
    # Customers
    Op("{ customers(first: 100) { edges { node { id version displayName } } } }",
       lists=("customer", "edges.*.node.id")),
    Op("query($id: ID!) { customer(id: $id) { id version displayName contacts { id surname } } }",
       ids={"id": "customer"}),
    Op("query($id: ID!) { customerHistory(id: $id, includeMerged: true) { customerId version changes } }",
       ids={"id": "customer"}),
    Op('query($id: ID!) { customerAsOf(id: $id, at: "2100-01-01T00:00:00Z") { version record } }',
       ids={"id": "customer"}),
    Op("query($id: ID!) { customerMerges(id: $id) { id survivorId mergedId } }", ids={"id": "customer"}),
    Op('mutation($mark: String!) { customerCreate(input: {kind: "organisation", orgName: $mark}) '
       '{ customer { id version } errors { code } } }', makes=("customer", "customer.id"),
       vars=lambda actor, owner, ids: {"mark": f"{actor.mark}公司{len(actor.seen)}"}),
    Op('mutation($id: ID!, $v: Int!, $mark: String!) { customerUpdate(id: $id, version: $v, '
       'input: {tags: [$mark]}, reason: "isolation") { customer { id version } errors { code } } }',
       ids={"id": "customer"}, vars=_version("id")),
    Op('mutation($id: ID!, $to: ID!) { customerTransfer(id: $id, toUserId: $to, reason: "isolation") '
       '{ customer { id version } errors { code } } }', ids={"id": "customer", "to": "user"}),
    Op("mutation($id: ID!) { customerReview(id: $id) { customer { id version } errors { code } } }",
       ids={"id": "customer"}),
    Op('mutation($id: ID!) { customerDelete(id: $id, reason: "isolation") { customer { id } errors { code } } }',
       ids={"id": "customer"}, drops=("id", "customer")),
    Op('mutation($survivor: ID!, $merged: ID!) { customerMerge(survivorId: $survivor, mergedId: $merged, '
       'reason: "isolation") { merge { id } errors { code } } }', ids={"survivor": "customer", "merged": "customer"},
       makes=("merge", "merge.id"), after=_merge),
    Op("mutation($id: ID!) { customerUnmerge(mergeId: $id) { merge { id } errors { code } } }", ids={"id": "merge"},
       drops=("id", "merge"), after=_unmerge),
    Op('mutation($id: ID!, $mark: String!) { customerContactAdd(customerId: $id, input: {surname: $mark, '
       'givenName: "联系人"}) { contact { id } errors { code } } }', ids={"id": "customer"},
       makes=("contact", "contact.id")),
    Op("mutation($id: ID!) { customerContactRemove(id: $id) { ok errors { code } } }", ids={"id": "contact"},
       drops=("id", "contact")),
    Op('mutation($id: ID!) { customerUnmask(id: $id, fields: ["phones"], reason: "isolation check") '
       '{ values errors { code } } }', ids={"id": "customer"}),
    Op("mutation($n: Int!) { customerRulesUpdate(input: {reviewMonths: $n}) { errors { code } } }",
       vars=lambda actor, owner, ids: {"n": 6 + len(actor.seen) % 6}),
    # Long jobs: imports only as dry runs, so the model of customers stays exact.
    Op('mutation($f: String!) { customerImportStart(file: $f, filename: "c.csv", dryRun: true) { %s } }' % JOB,
       makes=("job", "job.id"), vars=lambda actor, owner, ids: {"f": CSV}),
    Op('mutation($req: ID!) { customerExportStart(accessRequestId: $req, format: "csv") { %s } }' % JOB,
       ids={"req": "approved"}, makes=("job", "job.id"), drops=("req", "approved")),
    Op("mutation($id: ID!) { customerExportLink(jobId: $id) { url errors { code } } }", ids={"id": "job"}),
    Op("mutation { auditExportStart { %s } }" % JOB, makes=("job", "job.id")),
    Op("mutation { privacyRekeyStart { %s } }" % JOB, makes=("job", "job.id")),
    Op("query($id: ID!) { job(id: $id) { id kind } }", ids={"id": "job"}),
    Op("{ jobs(first: 100) { id kind } }", lists=("job", "*.id")),
    Op("mutation($id: ID!) { jobCancel(id: $id) { job { id } errors { code } } }", ids={"id": "job"}),
    # Audit
    Op("{ auditEntries(first: 50) { edges { node { seq action targetType targetId } } } }"),
    Op("{ auditVerify { ok checked } }"),
    Op("mutation($n: Int!) { auditRetentionUpdate(days: $n) { days errors { code } } }",
       vars=lambda actor, owner, ids: {"n": 400 + len(actor.seen)}),
    # Webhooks (subscribed to nothing that happens, so no delivery leaves the machine)
    Op("{ webhookEndpoints { id url description } }", lists=("webhook", "*.id")),
    Op('mutation($mark: String!) { webhookEndpointCreate(url: "https://example.com/hook", eventTypes: ["role.unused"], '
       'description: $mark) { endpoint { id } errors { code } } }', makes=("webhook", "endpoint.id")),
    Op('mutation($id: ID!, $mark: String!) { webhookEndpointUpdate(id: $id, description: $mark) { endpoint { id } '
       'errors { code } } }', ids={"id": "webhook"}),
    Op("mutation($id: ID!) { webhookEndpointDelete(id: $id) { errors { code } } }", ids={"id": "webhook"},
       drops=("id", "webhook")),
    Op("query($id: ID!) { webhookDeliveries(endpointId: $id, first: 20) { id eventType } }", ids={"id": "webhook"}),
    Op("{ webhookDeliveries(first: 20) { id eventType } }"),
    # No deliveries exist (see above), so these two only ever get another tenant's endpoint id.
    Op("query($id: ID!) { webhookAttempts(deliveryId: $id) { id } }", ids={"id": "webhook"}),
    Op("mutation($id: ID!) { webhookDeliveryReplay(id: $id) { errors { code } } }", ids={"id": "webhook"}),
    # Tenant settings
    Op("{ workingCalendar { timezone extraHolidays } }"),
    Op('mutation { workingCalendarUpdate(input: {extraHolidays: ["2026-12-24"]}) { errors { code } } }'),
    Op("mutation($h: Int!) { exportRulesUpdate(approvalHours: $h) { errors { code } } }",
       vars=lambda actor, owner, ids: {"h": 48 + len(actor.seen) % 24}),
    Op("{ version }"),
    Op("{ verticals { id } }"),
    Op("{ tenantVerticals { id enabled version } }"),
    Op('mutation { verticalEnable(verticalId: "automotive") { vertical { id enabled } errors { code } } }'),
    Op('mutation { verticalDisable(verticalId: "automotive") { vertical { id enabled } errors { code } } }'),
    Op('mutation($n: JSON!) { verticalParametersUpdate(verticalId: "automotive", parameters: '
       '[{key: "rectification_hours", value: $n}]) { errors { code } } }',
       vars=lambda actor, owner, ids: {"n": 24 + len(actor.seen) % 48}),
    # Privacy registers
    Op("query($id: ID!) { customerConsents(customerId: $id) { purpose granted } }", ids={"id": "customer"}),
    Op("query($id: ID!) { consentHistory(customerId: $id) { id customerId purpose } }", ids={"id": "customer"}),
    Op('query($id: ID!) { mayProcess(customerId: $id, purpose: "marketing_sms") }', ids={"id": "customer"}),
    Op('mutation($id: ID!, $mark: String!) { consentGrant(customerId: $id, purposes: ["marketing_sms"], '
       'noticeVersion: "v1", channel: "web", evidence: $mark) { entries { id } errors { code } } }',
       ids={"id": "customer"}),
    Op('mutation($id: ID!, $mark: String!) { consentWithdraw(customerId: $id, purposes: ["marketing_sms"], '
       'channel: "web", evidence: $mark) { entries { id } errors { code } } }', ids={"id": "customer"}),
    Op("{ assessments { id version subject } }", lists=("assessment", "*.id")),
    Op('mutation($mark: String!) { assessmentCreate(input: {subject: $mark, processing: "p", risks: "r", '
       'measures: "m", conclusion: "c", assessor: "a", assessedAt: "2026-01-01T00:00:00Z"}) '
       '{ assessment { id } errors { code } } }', makes=("assessment", "assessment.id")),
    Op('mutation($id: ID!, $v: Int!, $mark: String!) { assessmentUpdate(id: $id, version: $v, '
       'input: {measures: $mark}) { assessment { id version } errors { code } } }', ids={"id": "assessment"},
       vars=_version("id")),
    Op("{ incidents { id version summary } }", lists=("incident", "*.id")),
    Op('mutation($mark: String!) { incidentCreate(input: {summary: $mark, discoveredAt: "2026-01-01T00:00:00Z", '
       'affectedCount: 1}) { incident { id } errors { code } } }', makes=("incident", "incident.id")),
    Op('mutation($id: ID!, $v: Int!, $mark: String!) { incidentUpdate(id: $id, version: $v, input: {measures: $mark}) '
       '{ incident { id version } errors { code } } }', ids={"id": "incident"}, vars=_version("id")),
    Op("{ archiveLoans { id customerId content } }", lists=("loan", "*.id")),
    Op("query($id: ID!) { archiveLoans(customerId: $id) { id customerId } }", ids={"id": "customer"}),
    Op('mutation($id: ID!, $to: ID!, $mark: String!) { archiveLend(customerId: $id, borrowerId: $to, content: $mark) '
       '{ loan { id } errors { code } } }', ids={"id": "customer", "to": "user"}, makes=("loan", "loan.id")),
    Op("mutation($id: ID!) { archiveReturn(loanId: $id) { loan { id } errors { code } } }", ids={"id": "loan"}),
    # Operations added while this suite was written: reads only so far (leak scan and probes).
    Op("{ retentionPolicies { __typename } }"),
    Op("mutation { privacyPurgeStart { %s } }" % JOB, makes=("job", "job.id")),
    Op("{ subjectRequests { id } }"),
    Op("{ archiveFolders { id } }"),
    Op("{ archives { id } }"),
    Op("{ missingArchiveReports(openOnly: false) { __typename } }"),
    Op("query($id: ID!) { kpiLedger(userId: $id) { __typename } }", ids={"id": "user"}),
    Op("{ accessRequests(first: 100) { id state purpose } }"),
    Op("query($id: ID!) { accessRequest(id: $id) { id state purpose } }", ids={"id": "request"}),
    Op('mutation($mark: String!) { accessRequestCreate(purpose: $mark) { request { id } errors { code } } }',
       makes=("pending", "request.id")),
    Op("mutation($id: ID!) { accessRequestApprove(id: $id) { request { id state } errors { code } } }",
       ids={"id": "pending"}, as_="approver",
       drops=("id", "pending"), after=_approved),
    Op('mutation($id: ID!) { accessRequestReject(id: $id, reason: "no") { request { id } errors { code } } }',
       ids={"id": "pending"}, as_="approver",
       drops=("id", "pending")),
)

# Everything one tenant's reads show, in one document: lists compared with the model, and the
# values a probe from the other tenant must leave unchanged.
SNAPSHOT = """{
  customers(first: 100) { edges { node { id version displayName tags } } }
  users(first: 100) { edges { node { id displayName status } } }
  roles { id name description } departments { id name } apiKeys { id revokedAt }
  webhookEndpoints { id description status } jobs(first: 100) { id kind requestedBy }
  assessments { id version } incidents { id version } archiveLoans { id returnedAt }
  accessRequests(first: 100) { id state } tenantVerticals { id enabled version }
  identityPolicy { passwordMinLength } workingCalendar { extraHolidays }
}"""
# kind -> where its ids are in SNAPSHOT; "user", "role", "request" also hold the kinds beneath them.
SNAPSHOT_LISTS = {"customer": "customers.edges.*.node.id", "user": "users.edges.*.node.id", "role": "roles.*.id",
                  "department": "departments.*.id", "apiKey": "apiKeys.*.id", "webhook": "webhookEndpoints.*.id",
                  "job": "jobs.*.id", "assessment": "assessments.*.id", "incident": "incidents.*.id",
                  "loan": "archiveLoans.*.id", "request": "accessRequests.*.id"}
# Creating one of these kinds also lists the id under its parent kind.
PARENT = {"staff": "user", "newrole": "role", "pending": "request", "approved": "request"}
