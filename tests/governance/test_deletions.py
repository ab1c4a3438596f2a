"""Customer deletion with two-level approval over GraphQL (issue 24, seed-004 §2.4 W6, CSM-9 to
CSM-13): a sales user files the deletion application form, the head of the applying department
signs, the head of customer information management approves, the system administrator executes
(core's erasure), confirms the backup purge and closes; no step is skipped, nobody decides their
own request, and where the tenant requires it the direct erasure and deletion are refused."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from gateway.app import create_app
from tests.gateway.test_identity_api import gql, login, new_user
from tests.privacy.support import scan_everything

ROLE = ('mutation($n: String!, $p: [GrantInput!]!) { roleCreate(input: {name: $n, permissions: $p}) '
        '{ role { id } errors { code } } }')
GRANT = 'mutation($u: ID!, $r: ID!) { roleGrant(userId: $u, roleId: $r) { ok errors { code } } }'
DEPARTMENT = 'mutation($n: String!) { departmentCreate(name: $n) { department { id } errors { code } } }'
MOVE = ('mutation($u: ID!, $d: [ID!]) { userUpdate(id: $u, departmentIds: $d) { user { id departmentIds } '
        'errors { code } } }')
CREATE = ('mutation($n: String!, $p: String!) { customerCreate(input: {kind: "organisation", orgName: $n, '
          'legalRepresentative: "张三", phones: [$p], business: {scope: "汽车销售"}}) '
          '{ customer { id version } duplicates { customerId } errors { code field } } }')
CUSTOMER = 'query($id: ID!) { node(id: $id) { ... on Customer { id version status } } }'
FIELDS = ('id version customerId departmentId reason reasonDetails customerDetails state submittedAt submittedBy '
          'signedBy signedAt approvedBy approvedAt executedBy executedAt purgeConfirmedBy purgeConfirmedAt purgeNote '
          'closedBy closedAt rejectedBy rejectedAt rejectionReason')
SUBMIT = ('mutation($c: ID!, $d: ID!, $r: String, $rd: String, $cd: String) { customerDeletionRequestSubmit('
          f'customerId: $c, departmentId: $d, reason: $r, reasonDetails: $rd, customerDetails: $cd) {{ deletionRequest '
          f'{{ {FIELDS} }} errors {{ code field message }} }} }}')


def _step(name: str, extra: str = "", args: str = "") -> str:
    return (f'mutation($id: ID!{extra}) {{ {name}(id: $id{args}) {{ deletionRequest {{ {FIELDS} }} '
            'errors { code field } } }')


SIGN = _step("customerDeletionRequestSign")
APPROVE = _step("customerDeletionRequestApprove")
REJECT = _step("customerDeletionRequestReject", ", $r: String!", ", reason: $r")
EXECUTE = _step("customerDeletionExecute")
PURGE = _step("customerDeletionBackupPurgeConfirm", ", $note: String!", ", note: $note")
CLOSE = _step("customerDeletionRequestClose")
READ = f'query($id: ID!) {{ customerDeletionRequest(id: $id) {{ {FIELDS} }} }}'
LIST = ('query($s: String, $m: Boolean) { customerDeletionRequests(state: $s, mine: $m) { nodes { id state customerId '
        'executedAt executedBy } } }')
SETTINGS = ('mutation($on: Boolean!) { customerDeletionSettingsUpdate(requiresApproval: $on) { settings '
            '{ requiresApproval } errors { code } } }')
READ_SETTINGS = '{ customerDeletionSettings { requiresApproval } }'
ERASE = 'mutation($id: ID!, $r: String!) { customerErase(id: $id, reason: $r) { customerIds errors { code field } } }'
DELETE = 'mutation($id: ID!, $r: String!) { customerDelete(id: $id, reason: $r) { customer { id } errors { code } } }'
DETAILS = "北京甲汽车销售有限公司，法定代表人张三，电话 13800138000"


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


async def refused(client, doc, token, **variables) -> dict:
    root = await _root(client, doc, token, **variables)
    assert len(root["errors"]) == 1, root
    return root["errors"][0]


def _perms(scope: str, *names: str) -> list[dict]:
    return [{"permission": n, "scope": scope} for n in names]


@pytest.fixture
async def people(client) -> dict:
    """The tenant administrator (系统管理员: every core permission), a sales user of the sales
    department who files requests, the head of the sales department (signs, department scope),
    the head of another department, and the head of customer information management (approves)."""
    admin = (await login(client))["accessToken"]
    sales_dept = (await ok(client, DEPARTMENT, admin, n="销售部"))["department"]["id"]
    other_dept = (await ok(client, DEPARTMENT, admin, n="市场部"))["department"]["id"]
    roles = {
        "sales": _perms("TENANT", "customer.read", "customer.write", "customer.delete.request"),
        "head": _perms("DEPARTMENT", "customer.read", "customer.delete.sign"),
        "otherhead": _perms("DEPARTMENT", "customer.read", "customer.delete.sign"),
        "cim": _perms("TENANT", "customer.read", "customer.delete.approve"),
    }
    ids, tokens = {}, {"admin": admin}
    for name, permissions in roles.items():
        role = (await ok(client, ROLE, admin, n=f"role-{name}", p=permissions))["role"]["id"]
        ids[name] = await new_user(client, admin, name)
        await ok(client, GRANT, admin, u=ids[name], r=role)
        dept = other_dept if name == "otherhead" else sales_dept
        await ok(client, MOVE, admin, u=ids[name], d=[dept])
        tokens[name] = (await login(client, username=name))["accessToken"]
    return {**tokens, "ids": ids, "dept": sales_dept, "other_dept": other_dept}


async def _customer(client, token, name="北京甲汽车销售有限公司", phone="13800138000") -> dict:
    return await ok(client, CREATE, token, n=name, p=phone)


async def _file(client, people, customer_id, reason="BUSINESS_TERMINATED_NOT_NEEDED", token=None) -> dict:
    return (await ok(client, SUBMIT, token or people["sales"], c=customer_id, d=people["dept"], r=reason,
                     rd="业务关系已终止，公司不再需要保留", cd=DETAILS))["deletionRequest"]


async def _state(client, people, request_id) -> str:
    return (await ok(client, READ, people["admin"], id=request_id))["state"]


async def _alive(client, token, customer_id) -> bool:
    found = await _root(client, CUSTOMER, token, id=customer_id)
    return found is not None and found["status"] != "erased"


async def test_CSM_9_a_deletion_form_without_reason_or_details_is_refused_and_nothing_is_filed(client, people):
    """CSM-9: the form needs a reason of the list, the reason explained and the customer
    information details; missing any, FIELD_REQUIRED names it and no request is filed."""
    sales, admin = people["sales"], people["admin"]
    customer = (await _customer(client, sales))["customer"]
    base = {"c": customer["id"], "d": people["dept"], "r": "DATA_ERROR", "rd": "重复录入的测试数据", "cd": DETAILS}
    for missing, field in (("r", "reason"), ("rd", "reasonDetails"), ("cd", "customerDetails")):
        for empty in (None, "  "):
            error = await refused(client, SUBMIT, sales, **{**base, missing: empty})
            assert (error["code"], error["field"]) == ("FIELD_REQUIRED", field), (missing, error)
    error = await refused(client, SUBMIT, sales, **{**base, "r": "NO_LONGER_LIKED"})
    assert (error["code"], error["field"]) == ("FIELD_INVALID", "reason")
    assert (await ok(client, LIST, admin, s=None, m=False))["nodes"] == []
    assert (await ok(client, LIST, sales, s=None, m=True))["nodes"] == []
    filed = (await ok(client, SUBMIT, sales, **base))["deletionRequest"]
    assert filed["state"] == "submitted" and filed["reason"] == "DATA_ERROR"
    assert filed["customerDetails"] == DETAILS and filed["submittedBy"] == f"user:{people['ids']['sales']}"
    assert filed["departmentId"] == people["dept"] and filed["customerId"] == customer["id"]


async def test_CSM_10_approval_before_the_department_head_signs_is_refused_and_the_state_stays_submitted(
        client, people):
    """CSM-10: the head of customer information management approving a SUBMITTED request is refused
    with DELETION_NOT_SIGNED and the request stays SUBMITTED, unsigned; once the head of the
    applying department signed (who and when), the approval goes through."""
    sales, head, cim = people["sales"], people["head"], people["cim"]
    customer = (await _customer(client, sales))["customer"]
    filed = await _file(client, people, customer["id"])
    assert (await refused(client, APPROVE, cim, id=filed["id"]))["code"] == "DELETION_NOT_SIGNED"
    still = await ok(client, READ, cim, id=filed["id"])
    assert still["state"] == "submitted" and still["approvedBy"] is None and still["signedBy"] is None
    assert still["version"] == filed["version"]
    # the head of another department does not sign for this one
    assert (await refused(client, SIGN, people["otherhead"], id=filed["id"]))["code"] == "PERMISSION_DENIED"
    signed = (await ok(client, SIGN, head, id=filed["id"]))["deletionRequest"]
    assert signed["state"] == "dept_head_signed" and signed["signedBy"] == f"user:{people['ids']['head']}"
    assert signed["signedAt"] is not None
    assert (await refused(client, SIGN, head, id=filed["id"]))["code"] == "DELETION_REQUEST_STATE"
    approved = (await ok(client, APPROVE, cim, id=filed["id"]))["deletionRequest"]
    assert approved["state"] == "cim_head_approved" and approved["approvedBy"] == f"user:{people['ids']['cim']}"
    assert approved["approvedAt"] is not None


async def test_separation_of_duties_the_submitter_never_signs_or_approves_and_the_signer_never_approves(
        client, people):
    """The administrator holds every permission, yet signs or approves no request of their own,
    and does not approve a request they signed."""
    admin, sales, head, cim = people["admin"], people["sales"], people["head"], people["cim"]
    customer = (await _customer(client, sales))["customer"]
    own = await _file(client, people, customer["id"], token=admin)
    assert (await refused(client, SIGN, admin, id=own["id"]))["code"] == "SEPARATION_OF_DUTIES"
    await ok(client, SIGN, head, id=own["id"])
    assert (await refused(client, APPROVE, admin, id=own["id"]))["code"] == "SEPARATION_OF_DUTIES"
    other = await _file(client, people, customer["id"])
    await ok(client, SIGN, admin, id=other["id"])
    assert (await refused(client, APPROVE, admin, id=other["id"]))["code"] == "SEPARATION_OF_DUTIES"
    assert (await ok(client, APPROVE, cim, id=other["id"]))["deletionRequest"]["state"] == "cim_head_approved"


async def test_CSM_11_only_the_system_administrator_executes_and_only_after_the_second_approval(
        client, people, api_settings):
    """CSM-11: executing a DEPT_HEAD_SIGNED request fails (DELETION_NOT_APPROVED); approved, a
    non-administrator executing is forbidden; the administrator executes: the customer is erased,
    the request records the deletion time and the deleter, and the customer details are gone."""
    admin, sales, head, cim = people["admin"], people["sales"], people["head"], people["cim"]
    customer = (await _customer(client, sales))["customer"]
    filed = await _file(client, people, customer["id"])
    await ok(client, SIGN, head, id=filed["id"])
    assert (await refused(client, EXECUTE, admin, id=filed["id"]))["code"] == "DELETION_NOT_APPROVED"
    assert await _state(client, people, filed["id"]) == "dept_head_signed"
    assert await _alive(client, admin, customer["id"])
    await ok(client, APPROVE, cim, id=filed["id"])
    for someone in (cim, sales, head):
        assert (await refused(client, EXECUTE, someone, id=filed["id"]))["code"] == "PERMISSION_DENIED"
    assert await _alive(client, admin, customer["id"])
    executed = (await ok(client, EXECUTE, admin, id=filed["id"]))["deletionRequest"]
    assert executed["state"] == "executed" and executed["executedAt"] is not None
    me = await _root(client, "{ me { tenantId user { id } } }", admin)
    assert executed["executedBy"] == f"user:{me['user']['id']}"
    assert executed["customerDetails"] is None
    assert not await _alive(client, admin, customer["id"])
    assert (await refused(client, EXECUTE, admin, id=filed["id"]))["code"] == "DELETION_REQUEST_STATE"
    # the request keeps the fact of the deletion, not the personal data of its form (scanned on
    # SQLite: on PostgreSQL the running app's pool lives on the client's loop, not the test's)
    if api_settings.database.kind == "sqlite":
        assert await scan_everything([me["tenantId"]], [DETAILS, "13800138000"]) == []


async def test_CSM_12_a_deletion_request_closes_only_after_the_backup_purge_is_confirmed(client, people):
    """CSM-12: an executed request cannot be closed (DELETION_BACKUPS_NOT_PURGED, still executed)
    until the system administrator confirms the purge of the backups, naming them; then it closes.
    The executed requests are the ledger of deleted customers (state, customer id, time)."""
    admin, sales, head, cim = people["admin"], people["sales"], people["head"], people["cim"]
    customer = (await _customer(client, sales))["customer"]
    filed = await _file(client, people, customer["id"])
    assert (await refused(client, PURGE, admin, id=filed["id"], note="全量备份 2024-06"))["code"] == \
        "DELETION_REQUEST_STATE"
    await ok(client, SIGN, head, id=filed["id"])
    await ok(client, APPROVE, cim, id=filed["id"])
    await ok(client, EXECUTE, admin, id=filed["id"])
    assert (await refused(client, CLOSE, admin, id=filed["id"]))["code"] == "DELETION_BACKUPS_NOT_PURGED"
    assert await _state(client, people, filed["id"]) == "executed"
    assert (await refused(client, PURGE, admin, id=filed["id"], note=" "))["code"] == "FIELD_REQUIRED"
    assert (await refused(client, PURGE, cim, id=filed["id"], note="x"))["code"] == "PERMISSION_DENIED"
    purged = (await ok(client, PURGE, admin, id=filed["id"], note="全量备份集 2024-06-01 至 2024-06-30 已重写"))[
        "deletionRequest"]
    assert purged["state"] == "backups_purged" and purged["purgeConfirmedAt"] is not None
    assert purged["purgeNote"].startswith("全量备份集")
    closed = (await ok(client, CLOSE, admin, id=filed["id"]))["deletionRequest"]
    assert closed["state"] == "closed" and closed["closedAt"] is not None and closed["executedAt"] is not None
    ledger = (await ok(client, LIST, admin, s="closed", m=False))["nodes"]
    assert [(n["id"], n["customerId"]) for n in ledger] == [(filed["id"], customer["id"])]


async def test_CSM_13_a_duplicate_is_not_deleted_without_the_department_heads_signature(client, people):
    """CSM-13: of two records flagged as duplicates, the user files the deletion of the duplicate;
    without the department head's signature it can neither be approved nor executed, and where the
    tenant requires approval the direct erasure and deletion are refused too. Signed and approved,
    it is deleted."""
    admin, sales, head, cim = people["admin"], people["sales"], people["head"], people["cim"]
    first = (await _customer(client, sales))["customer"]
    created = await _customer(client, sales, name="北京甲汽车销售公司", phone="13800138000")
    duplicate = created["customer"]
    assert first["id"] in [d["customerId"] for d in created["duplicates"]]
    filed = await _file(client, people, duplicate["id"], reason="DUPLICATE")
    assert (await refused(client, EXECUTE, sales, id=filed["id"]))["code"] == "PERMISSION_DENIED"
    assert (await refused(client, APPROVE, cim, id=filed["id"]))["code"] == "DELETION_NOT_SIGNED"
    assert (await refused(client, EXECUTE, admin, id=filed["id"]))["code"] == "DELETION_NOT_APPROVED"
    assert await _state(client, people, filed["id"]) == "submitted"
    assert (await ok(client, READ_SETTINGS, admin)) == {"requiresApproval": False}
    assert (await refused(client, SETTINGS, sales, on=True))["code"] == "PERMISSION_DENIED"
    assert (await ok(client, SETTINGS, admin, on=True))["settings"] == {"requiresApproval": True}
    assert (await refused(client, ERASE, admin, id=duplicate["id"], r="重复录入"))["code"] == \
        "DELETION_APPROVAL_REQUIRED"
    assert (await refused(client, DELETE, sales, id=duplicate["id"], r="重复录入"))["code"] == \
        "DELETION_APPROVAL_REQUIRED"
    assert await _alive(client, sales, duplicate["id"]) and await _alive(client, sales, first["id"])
    await ok(client, SIGN, head, id=filed["id"])
    await ok(client, APPROVE, cim, id=filed["id"])
    await ok(client, EXECUTE, admin, id=filed["id"])
    assert not await _alive(client, admin, duplicate["id"]) and await _alive(client, admin, first["id"])


async def test_a_request_is_rejected_with_a_reason_before_its_approval_only(client, people):
    """The department head rejects a submitted request, the head of customer information
    management a signed one, each with a reason; a rejected request goes no further."""
    sales, head, cim = people["sales"], people["head"], people["cim"]
    customer = (await _customer(client, sales))["customer"]
    first = await _file(client, people, customer["id"])
    assert (await refused(client, REJECT, head, id=first["id"], r=" "))["code"] == "REASON_REQUIRED"
    rejected = (await ok(client, REJECT, head, id=first["id"], r="客户仍有未结业务"))["deletionRequest"]
    assert rejected["state"] == "rejected" and rejected["rejectionReason"] == "客户仍有未结业务"
    assert rejected["rejectedBy"] == f"user:{people['ids']['head']}" and rejected["rejectedAt"] is not None
    assert (await refused(client, SIGN, head, id=first["id"]))["code"] == "DELETION_REQUEST_STATE"
    second = await _file(client, people, customer["id"])
    await ok(client, SIGN, head, id=second["id"])
    assert (await refused(client, REJECT, head, id=second["id"], r="改变主意"))["code"] == "SEPARATION_OF_DUTIES"
    assert (await ok(client, REJECT, cim, id=second["id"], r="依法须保留"))["deletionRequest"]["state"] == "rejected"
    third = await _file(client, people, customer["id"])
    await ok(client, SIGN, head, id=third["id"])
    await ok(client, APPROVE, cim, id=third["id"])
    assert (await refused(client, REJECT, cim, id=third["id"], r="晚了"))["code"] == "DELETION_REQUEST_STATE"
    mine = (await ok(client, LIST, sales, s="rejected", m=True))["nodes"]
    assert {n["id"] for n in mine} == {first["id"], second["id"]}
    body = (await gql(client, LIST, sales, s=None, m=False)).json()
    assert body["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"


async def test_CSM_9_a_customer_kept_by_law_gets_no_deletion_request(client, people):
    """A frozen customer (PIPL art. 47: kept because the law requires it) cannot be erased, so a
    deletion request for it is refused with CUSTOMER_FROZEN and nothing is filed."""
    admin = people["admin"]
    customer = (await _customer(client, people["sales"]))["customer"]
    await ok(client, 'mutation($id: ID!) { customerFreeze(id: $id, reason: "诉讼保全", basis: "PIPL 47") '
                     '{ errors { code } } }', admin, id=customer["id"])
    error = await refused(client, SUBMIT, people["sales"], c=customer["id"], d=people["dept"],
                          r="BUSINESS_TERMINATED_NOT_NEEDED", rd="业务关系已终止", cd=DETAILS)
    assert error["code"] == "CUSTOMER_FROZEN"
    assert (await ok(client, LIST, admin, s=None, m=False))["nodes"] == []
