"""GraphQL documents and small helpers the medical-devices tests share."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

ERR = "errors { field code message }"
ADMISSION = "admission { id customerId departmentId customerType verifiedBy readmission readmissionReason grade }"
QUAL = "qualification { id kind number expiresOn expired remindedFor }"
EVENT = "event { id kind state approvedBy approvalNote report invitedCustomerIds }"
SALE = "sale { id reference soldOn contactedAt satisfaction contactNote }"

RECORD = ("mutation($c: ID!, $k: String!, $n: String!, $e: String) { medicalDevicesQualificationRecord(customerId: $c, "
          "kind: $k, number: $n, expiresOn: $e) { %s %s } }" % (QUAL, ERR))
ADMIT = ("mutation($c: ID!, $d: ID!, $t: String!, $contract: String, $note: String, $illegal: Boolean, "
         "$special: Boolean, $g: String, $why: String) { medicalDevicesAdmit(customerId: $c, departmentId: $d, "
         "customerType: $t, contractNumber: $contract, verificationNote: $note, illegalRecord: $illegal, "
         "specialProducts: $special, grade: $g, readmissionReason: $why) { %s %s } }" % (ADMISSION, ERR))
ADMISSIONS = ("query($d: ID, $first: Int, $after: String) { medicalDevicesAdmissions(departmentId: $d, first: $first, "
              "after: $after) { nodes { id customerId grade readmission } pageInfo { hasNextPage endCursor } } }")
CUSTOMER = ("query($c: ID!) { medicalDevicesCustomer(customerId: $c) { customerId requalificationDue "
            "qualifications { kind number expiresOn expired } admissions { departmentId grade } "
            "changeNotices { kind channel } } }")
PARAMS = ('mutation($k: String!, $v: JSON) { verticalParametersUpdate(verticalId: "medical_devices", parameters: '
          '[{key: $k, value: $v}]) { errors { field code } } }')

DOCS = {  # the documents each admitted type needs (MD2 a, e)
    "distributor": ["business_licence", "tax_registration", "device_operation_licence"],
    "direct": ["business_licence", "tax_registration", "device_operation_licence"],
    "enterprise": ["business_licence", "tax_registration"],
    "medical_institution": ["practice_licence"],
}


async def ok(client: Any, doc: str, root: str, **variables: Any) -> dict:
    body = await client.execute(doc, **variables)
    assert "errors" not in body, body
    payload = body["data"][root]
    if isinstance(payload, dict) and "errors" in payload:
        assert payload["errors"] == [], payload
    return payload


async def nodes(client: Any, doc: str, root: str, **variables: Any) -> list[dict]:
    """The nodes of a list (a connection) the caller reads."""
    return (await ok(client, doc, root, **variables))["nodes"]


async def refused(client: Any, doc: str, root: str, **variables: Any) -> dict:
    body = await client.execute(doc, **variables)
    assert "errors" not in body, body
    payload = body["data"][root]
    assert len(payload["errors"]) == 1, payload
    return payload["errors"][0]


async def department(client: Any, name: str | None = None) -> str:
    made = await ok(client, "mutation($n: String!) { departmentCreate(name: $n) { department { id } errors { code } } }",
                    "departmentCreate", n=name or f"销售{uuid4().hex[:6]}部")
    return made["department"]["id"]


async def customer(client: Any, name: str | None = None, department_id: str | None = None) -> str:
    dep = ", departmentId: $d" if department_id else ""
    made = await ok(client, 'mutation($n: String!%s) { customerCreate(input: {kind: "organisation", orgName: $n%s}) '
                    '{ customer { id } errors { code } } }' % (", $d: ID" if department_id else "", dep),
                    "customerCreate", n=name or f"医院{uuid4().hex[:6]}", **({"d": department_id} if department_id else {}))
    return made["customer"]["id"]


async def documents(client: Any, customer_id: str, kinds: list[str], expires: str | None = "2030-12-31") -> None:
    for kind in kinds:
        await ok(client, RECORD, "medicalDevicesQualificationRecord", c=customer_id, k=kind, n=f"{kind}-001", e=expires)


async def admit(client: Any, customer_id: str, department_id: str, customer_type: str = "medical_institution",
                **extra: Any) -> dict:
    variables = {"c": customer_id, "d": department_id, "t": customer_type, "contract": "HT-2026-001",
                 "note": "信誉良好，配合品牌维护", **extra}
    return await client.execute(ADMIT, **variables)


async def audit(client: Any, target_type: str) -> list[dict]:
    body = await client.execute('query($t: String!) { auditEntries(filter: {targetType: $t}) '
                                '{ nodes { action actor targetId diff } } }', t=target_type)
    return body["data"]["auditEntries"]["nodes"]


STRONG = "another-strong-phrase-77"


async def colleague(client: Any, tenant: Any, permissions: list[str], *, scope: str = "TENANT",
                    department_ids: list[str] = ()) -> Any:
    """Another user of the tenant holding exactly ``permissions`` (with ``scope``), member of
    ``department_ids``, signed in."""
    from core.plugins.testing import GraphQLClient

    name = f"u{uuid4().hex[:8]}"
    role = await ok(client, "mutation($n: String!, $p: [GrantInput!]) { roleCreate(input: {name: $n, permissions: $p}) "
                    "{ role { id } errors { code } } }", "roleCreate", n=name,
                    p=[{"permission": p, "scope": scope} for p in permissions])
    await ok(client, "mutation($u: String!, $p: String!, $r: [ID!]!, $d: [ID!]!) { userCreate(input: {username: $u, "
             "displayName: $u, password: $p, roleIds: $r, departmentIds: $d}) { user { id } errors { code } } }",
             "userCreate", u=name, p=STRONG, r=[role["role"]["id"]], d=list(department_ids))
    login = await client.http.post("/graphql", json={
        "query": "mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, password: $p) "
                 "{ accessToken errors { code } } }", "variables": {"t": tenant.slug, "u": name, "p": STRONG}})
    token = login.json()["data"]["login"]["accessToken"]
    assert token, login.text
    return GraphQLClient(client.http, token)


PROPOSE = ("mutation($c: ID!, $scope: BlacklistScope!, $d: ID, $days: Int) { blacklistPropose(input: {customerId: $c, "
           "scope: $scope, departmentId: $d, reason: \"造成重大损失\", validityDays: $days, "
           "evidence: [{reference: \"营销事业部通报 2026-003\"}]}) { entry { id version } errors { code } } }")
APPROVE = ("mutation($id: ID!, $v: Int!) { blacklistApprove(id: $id, version: $v) { entry { id state expiresAt } "
           "errors { code } } }")


async def blacklist(client: Any, approver: Any, customer_id: str, scope: str, department_id: str | None = None,
                    days: int | None = None) -> dict:
    """Put the customer on the company (``TENANT``) or a department's (``DEPARTMENT``) blacklist:
    proposed by ``client``, approved by ``approver`` (MD13: never the proposer)."""
    proposed = await ok(client, PROPOSE, "blacklistPropose", c=customer_id, scope=scope, d=department_id, days=days)
    approved = await ok(approver, APPROVE, "blacklistApprove", id=proposed["entry"]["id"], v=proposed["entry"]["version"])
    return approved["entry"]
