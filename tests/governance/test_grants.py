"""High-risk grants (issue 24, seed-004 §3.6, CSM-21 and acceptance point 4): with the tenant's
high-risk grant policy on, a grant of ``customer.export`` (or another high-risk permission) is
pending and ineffective until a department head (``role.grant.approve``, not the requester, holding
what the role gives) approves it; a rejection needs a reason. Through GraphQL, plus the pure policy."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from core.errors import KehuError
from core.identity.grant_policy import DEFAULT_HIGH_RISK, HighRiskGrantPolicy
from gateway.app import create_app
from tests.gateway.test_identity_api import _snapshot, gql, login, new_user
from tests.support import PASSWORD

POLICY = ('mutation($e: Boolean!, $p: [String!]) { highRiskGrantPolicySet(enabled: $e, permissions: $p) '
          '{ policy { enabled permissions } errors { code field } } }')
ROLE = ('mutation($n: String!, $p: [GrantInput!]!) { roleCreate(input: {name: $n, permissions: $p}) '
        '{ role { id } errors { code } } }')
GRANT = 'mutation($u: ID!, $r: ID!) { roleGrant(userId: $u, roleId: $r) { ok errors { code } } }'
PENDING = ('query($s: PendingGrantState) { pendingGrants(state: $s) { nodes { id userId roleId requestedBy '
           'highRisk state decidedBy decisionReason } } }')
APPROVE = 'mutation($id: ID!) { pendingGrantApprove(id: $id) { grant { id state decidedBy } errors { code field } } }'
REJECT = ('mutation($id: ID!, $r: String!) { pendingGrantReject(id: $id, reason: $r) { grant { id state '
          'decisionReason } errors { code field } } }')
REQUEST = ('mutation { accessRequestCreate(purpose: "季度客户回访名单导出") { request { id state } '
           'errors { code } } }')
APPROVE_REQUEST = 'mutation($id: ID!) { accessRequestApprove(id: $id) { request { id state } errors { code } } }'
EXPORT = ('mutation($id: ID!) { customerExportStart(accessRequestId: $id, format: "csv") { job { id } '
          'errors { code } } }')
ME = "{ me { user { roleIds } } }"


@pytest.fixture
def api_settings(settings):
    return settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000,
                                       "tick_interval_seconds": 3600})


@pytest.fixture
async def client(api_settings, seeded):
    async with AsyncTestClient(create_app(api_settings)) as test_client:
        yield test_client


async def _root(client, doc, token, **variables) -> dict:
    body = (await gql(client, doc, token, **variables)).json()
    assert not body.get("errors"), body
    return next(iter(body["data"].values()))


async def ok(client, doc, token, **variables) -> dict:
    root = await _root(client, doc, token, **variables)
    assert not (isinstance(root, dict) and root.get("errors")), root
    return root


def _perms(*names: str) -> list[dict]:
    return [{"permission": n, "scope": "TENANT"} for n in names]


EXPORTER = ("customer.read", "customer.export", "privacy.export.request")


async def _setup(client, admin: str) -> dict:
    """A department head (holds role.grant.approve and what the exporter role gives), a clerk, and
    the exporter role; the policy is turned on after the head got their role."""
    head_role = (await ok(client, ROLE, admin, n="部门负责人",
                          p=_perms("role.grant.approve", "role.read", *EXPORTER)))["role"]["id"]
    exporter = (await ok(client, ROLE, admin, n="导出专员", p=_perms(*EXPORTER)))["role"]["id"]
    head = await new_user(client, admin, "head")
    await ok(client, GRANT, admin, u=head, r=head_role)
    clerk = await new_user(client, admin, "clerk")
    policy = (await ok(client, POLICY, admin, e=True, p=None))["policy"]
    assert policy == {"enabled": True, "permissions": sorted(DEFAULT_HIGH_RISK)}
    return {"head": head, "clerk": clerk, "exporter": exporter,
            "head_token": (await login(client, username="head"))["accessToken"]}


async def _export(client, token) -> dict:
    return await _root(client, EXPORT, token, id="00000000-0000-0000-0000-000000000001")


async def test_CSM_21_export_grant_is_pending_and_ineffective_until_approved(client):
    """CSM-21 (issue 24 acceptance point 4): with the policy on, granting a role that gives
    customer.export leaves it pending: the user does not hold the role and an export is refused;
    the requester cannot approve it; a department head approves and the export then runs."""
    admin = (await login(client))["accessToken"]
    s = await _setup(client, admin)
    await ok(client, GRANT, admin, u=s["clerk"], r=s["exporter"])
    pending = (await ok(client, PENDING, admin, s="PENDING"))["nodes"]
    assert [(g["userId"], g["roleId"], g["highRisk"], g["state"]) for g in pending] == \
        [(s["clerk"], s["exporter"], ["customer.export"], "PENDING")]
    clerk = (await login(client, username="clerk"))["accessToken"]
    assert s["exporter"] not in (await _root(client, ME, clerk))["user"]["roleIds"]
    assert (await _export(client, clerk))["errors"] == [{"code": "PERMISSION_DENIED"}]

    refused = await _root(client, APPROVE, admin, id=pending[0]["id"])  # the requester
    assert refused["errors"][0]["code"] == "SEPARATION_OF_DUTIES"
    approved = await ok(client, APPROVE, s["head_token"], id=pending[0]["id"])
    assert approved["grant"]["state"] == "APPROVED"
    again = await _root(client, APPROVE, s["head_token"], id=pending[0]["id"])
    assert again["errors"][0]["code"] == "GRANT_DECIDED"

    clerk = (await login(client, username="clerk"))["accessToken"]
    assert s["exporter"] in (await _root(client, ME, clerk))["user"]["roleIds"]
    request = (await ok(client, REQUEST, clerk))["request"]
    await ok(client, APPROVE_REQUEST, admin, id=request["id"])
    started = await ok(client, EXPORT, clerk, id=request["id"])
    assert started["job"]["id"]


async def test_CSM_21_a_rejected_grant_needs_a_reason_and_gives_nothing(client, api_settings):
    """CSM-21: a department head rejects a pending grant only with a reason (REASON_REQUIRED writes
    nothing); the user never gets the role."""
    admin = (await login(client))["accessToken"]
    s = await _setup(client, admin)
    await ok(client, GRANT, admin, u=s["clerk"], r=s["exporter"])
    grant = (await ok(client, PENDING, admin, s="PENDING"))["nodes"][0]
    before = await _snapshot(api_settings)
    refused = await _root(client, REJECT, s["head_token"], id=grant["id"], r="  ")
    assert refused["errors"] == [{"code": "REASON_REQUIRED", "field": "reason"}]
    assert await _snapshot(api_settings) == before
    rejected = await ok(client, REJECT, s["head_token"], id=grant["id"], r="非本岗位职责，不需导出")
    assert rejected["grant"] == {"id": grant["id"], "state": "REJECTED", "decisionReason": "非本岗位职责，不需导出"}
    clerk = (await login(client, username="clerk"))["accessToken"]
    assert s["exporter"] not in (await _root(client, ME, clerk))["user"]["roleIds"]
    assert (await _export(client, clerk))["errors"] == [{"code": "PERMISSION_DENIED"}]


async def test_CSM_21_the_approver_must_hold_what_the_grant_gives_and_not_receive_it(client):
    """CSM-21: a department head without the permission the role gives cannot approve it
    (PERMISSION_ESCALATION); the grantee cannot approve their own grant; a user without
    role.grant.approve is refused."""
    admin = (await login(client))["accessToken"]
    s = await _setup(client, admin)
    await ok(client, GRANT, admin, u=s["clerk"], r=s["exporter"])
    grant = (await ok(client, PENDING, admin, s="PENDING"))["nodes"][0]
    clerk = (await login(client, username="clerk"))["accessToken"]
    assert (await _root(client, APPROVE, clerk, id=grant["id"]))["errors"][0]["code"] == "PERMISSION_DENIED"
    # a second head whose role lacks customer.export cannot approve an export grant
    weak_role = (await ok(client, ROLE, admin, n="弱负责人", p=_perms("role.grant.approve", "role.read")))["role"]["id"]
    weak = await new_user(client, admin, "weakhead")
    await ok(client, GRANT, admin, u=weak, r=weak_role)  # role.grant.approve is not high-risk by default
    weak_token = (await login(client, username="weakhead"))["accessToken"]
    refused = await _root(client, APPROVE, weak_token, id=grant["id"])
    assert refused["errors"][0]["code"] == "PERMISSION_ESCALATION"
    await ok(client, GRANT, admin, u=s["clerk"], r=weak_role)  # the grantee, now a head, still may not
    clerk = (await login(client, username="clerk"))["accessToken"]
    assert (await _root(client, APPROVE, clerk, id=grant["id"]))["errors"][0]["code"] == "SEPARATION_OF_DUTIES"
    assert (await ok(client, PENDING, admin, s="PENDING"))["nodes"][0]["state"] == "PENDING"


async def test_CSM_21_a_user_created_with_a_high_risk_role_waits_for_approval(client):
    """CSM-21: userCreate with a role giving customer.export creates the user without that role and
    a pending grant; a role without high-risk permissions is given at once."""
    admin = (await login(client))["accessToken"]
    s = await _setup(client, admin)
    reader = (await ok(client, ROLE, admin, n="只读", p=_perms("customer.read")))["role"]["id"]
    made = await ok(client, 'mutation($p: String!, $r: [ID!]!) { userCreate(input: {username: "newclerk", '
                            'displayName: "N", password: $p, roleIds: $r}) { user { id roleIds } errors { code } } }',
                    admin, p=PASSWORD, r=[s["exporter"], reader])
    assert made["user"]["roleIds"] == [reader]
    pending = (await ok(client, PENDING, admin, s="PENDING"))["nodes"]
    assert [(g["userId"], g["roleId"]) for g in pending] == [(made["user"]["id"], s["exporter"])]


async def test_CSM_21_with_the_policy_off_a_grant_is_immediate(client):
    """CSM-21: the policy is a tenant setting, off until the tenant turns it on: then a grant gives
    the role at once and nothing is pending (existing tenants keep their behaviour)."""
    admin = (await login(client))["accessToken"]
    policy = await _root(client, "{ highRiskGrantPolicy { enabled permissions } }", admin)
    assert policy == {"enabled": False, "permissions": sorted(DEFAULT_HIGH_RISK)}
    exporter = (await ok(client, ROLE, admin, n="导出专员", p=_perms(*EXPORTER)))["role"]["id"]
    clerk = await new_user(client, admin, "clerk")
    await ok(client, GRANT, admin, u=clerk, r=exporter)
    assert (await ok(client, PENDING, admin, s=None))["nodes"] == []
    bad = await _root(client, POLICY, admin, e=True, p=["customer.nonsense"])
    assert bad["errors"] == [{"code": "GRANT_POLICY_INVALID", "field": "permissions"}]


def test_CSM_21_policy_names_new_high_risk_permissions_only():
    """CSM-21 (pure policy): only high-risk permissions the grantee does not hold yet make a grant
    wait, and only with the policy on."""
    on = HighRiskGrantPolicy(enabled=True)
    assert on.new_high_risk(["customer.read", "customer.export"], []) == ["customer.export"]
    assert on.new_high_risk(["customer.read", "customer.export"], ["customer.export"]) == []
    assert HighRiskGrantPolicy().new_high_risk(["customer.export"], []) == []
    custom = HighRiskGrantPolicy.from_mapping({"enabled": True, "permissions": ["audit.read"]})
    assert custom.new_high_risk(["audit.read", "customer.export"], []) == ["audit.read"]
    with pytest.raises(KehuError) as error:
        HighRiskGrantPolicy.from_mapping({"enabled": "yes"})
    assert error.value.code == "GRANT_POLICY_INVALID"


REVIEWS = ('query($s: String, $u: ID) { permissionReviews(state: $s, userId: $u) { nodes { id userId trigger change '
           'state outcome note closedBy openedAt closedAt } } }')
CLOSE_REVIEW = ('mutation($id: ID!, $o: String!, $n: String) { permissionReviewClose(id: $id, outcome: $o, note: $n) '
                '{ review { id state outcome note closedBy } errors { code field } } }')
MOVE = ('mutation($u: ID!, $d: [ID!]) { userUpdate(id: $u, departmentIds: $d) { user { id departmentIds } '
        'errors { code } } }')


async def test_CSM_22_a_department_change_opens_a_permission_review_closed_with_its_outcome(client, api_settings):
    """CSM-22: moving a user to another department opens a permission review (listed, audited);
    renaming them does not; a holder of role.grant closes it recording the outcome; a user without
    it cannot, and a closed review stays closed."""
    admin = (await login(client))["accessToken"]
    departments = [d["id"] for d in (await _root(client, "{ departments { nodes { id } } }", admin))["nodes"]]
    clerk = await new_user(client, admin, "clerk")
    assert (await ok(client, REVIEWS, admin, s=None, u=clerk))["nodes"] == []
    await ok(client, MOVE, admin, u=clerk, d=[departments[0]])
    await ok(client, 'mutation($u: ID!) { userUpdate(id: $u, displayName: "Clerk") { errors { code } } }', admin,
             u=clerk)
    opened = (await ok(client, REVIEWS, admin, s="open", u=clerk))["nodes"]
    assert len(opened) == 1
    review = opened[0]
    assert review["trigger"] == "department_changed" and review["change"]["department_ids"] == [[], [departments[0]]]
    entries = (await _root(client, '{ auditEntries(filter: {action: "permission_review.opened"}) '
                                   '{ nodes { targetId } } }', admin))["nodes"]
    assert review["id"] in [e["targetId"] for e in entries]

    token = (await login(client, username="clerk"))["accessToken"]
    denied = await _root(client, CLOSE_REVIEW, token, id=review["id"], o="kept", n="复核")
    assert denied["errors"][0]["code"] == "PERMISSION_DENIED"
    bad = await _root(client, CLOSE_REVIEW, admin, id=review["id"], o="maybe", n="复核")
    assert bad["errors"] == [{"code": "REVIEW_OUTCOME_INVALID", "field": "outcome"}]
    closed = await ok(client, CLOSE_REVIEW, admin, id=review["id"], o="adjusted", n="调岗后撤销原部门角色")
    assert closed["review"]["state"] == "closed" and closed["review"]["outcome"] == "adjusted"
    assert closed["review"]["closedBy"].startswith("user:")
    again = await _root(client, CLOSE_REVIEW, admin, id=review["id"], o="kept", n="复核")
    assert again["errors"] == [{"code": "REVIEW_CLOSED", "field": "id"}]
    assert (await ok(client, REVIEWS, admin, s="open", u=clerk))["nodes"] == []
