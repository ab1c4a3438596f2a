"""Key-field change requests over GraphQL (issue 24, seed-004 §2.3.2 W4/W5, CSM-5 to CSM-8) on a
controlled clock and the real working-day calendar (2024-06-10 was the Dragon Boat Festival): the
maker files, the specialist (customer.change.apply) applies or rejects, never their own; key
changes carry a working-day deadline and a breach flag; non-key ones carry none; the direct update
of a key field is refused where the tenant reviews key changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from core.governance import changes
from gateway.app import create_app
from tests.gateway.test_identity_api import gql, login, new_user
from tests.support import Clock

ROLE = ('mutation($n: String!, $p: [GrantInput!]!) { roleCreate(input: {name: $n, permissions: $p}) '
        '{ role { id } errors { code } } }')
GRANT = 'mutation($u: ID!, $r: ID!) { roleGrant(userId: $u, roleId: $r) { ok errors { code } } }'
CREATE = ('mutation($n: String!) { customerCreate(input: {kind: "organisation", orgName: $n, '
          'legalRepresentative: "张三", phones: ["13800138000"], business: {scope: "汽车销售"}}) '
          '{ customer { id version } errors { code field } } }')
CUSTOMER = ('query($id: ID!) { node(id: $id) { ... on Customer { id version phones legalRepresentative business '
            'updatedAt } } }')
HISTORY = 'query($id: ID!) { customerHistory(id: $id) { nodes { version actor reason } } }'
FIELDS = ('id version state fields keyFields isKey changeOccurredOn slaWorkingDays dueOn dueAt submittedBy decidedBy '
          'decidedAt rejectionReason appliedVersion breached overdue proposed')
SUBMIT = ('mutation($c: ID!, $v: Int!, $inp: CustomerInput!, $r: String, $on: Date) { customerChangeRequestSubmit('
          f'customerId: $c, version: $v, input: $inp, reason: $r, changeOccurredOn: $on) {{ changeRequest {{ {FIELDS} }} '
          'errors { code field message } } }')
APPLY = (f'mutation($id: ID!) {{ customerChangeRequestApply(id: $id) {{ changeRequest {{ {FIELDS} }} '
         'errors { code field } } }')
REJECT = (f'mutation($id: ID!, $r: String!) {{ customerChangeRequestReject(id: $id, reason: $r) {{ changeRequest '
          f'{{ {FIELDS} }} errors {{ code field }} }} }}')
LIST = ('query($s: String, $b: Boolean, $o: Boolean, $m: Boolean) { customerChangeRequests(state: $s, breached: $b, '
        'overdue: $o, mine: $m) { nodes { id state breached overdue } } }')
UPDATE = ('mutation($id: ID!, $v: Int!, $inp: CustomerInput!, $r: String!) { customerUpdate(id: $id, version: $v, '
          'input: $inp, reason: $r) { customer { id version phones } errors { code field } } }')
SETTINGS = ('mutation($on: Boolean, $k: [String!], $d: Int) { customerChangeSettingsUpdate(reviewKeyChanges: $on, '
            'keyFields: $k, slaWorkingDays: $d) { settings { reviewKeyChanges keyFields slaWorkingDays } '
            'errors { code field } } }')
READ_SETTINGS = '{ customerChangeSettings { reviewKeyChanges keyFields slaWorkingDays } }'


def sh(y, m, d, hh=0, mm=0) -> datetime:
    """A Shanghai wall-clock time as UTC."""
    return datetime(y, m, d, hh, mm, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock(sh(2024, 6, 7, 10))
    monkeypatch.setattr(changes, "now", c)
    return c


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


def _perms(*names: str) -> list[dict]:
    return [{"permission": n, "scope": "TENANT"} for n in names]


@pytest.fixture
async def people(client) -> dict:
    """The tenant administrator, a sales user (customer.write) and the customer information
    management specialist (customer.change.apply)."""
    admin = (await login(client))["accessToken"]
    sales_role = (await ok(client, ROLE, admin, n="销售", p=_perms("customer.read", "customer.write")))["role"]["id"]
    spec_role = (await ok(client, ROLE, admin, n="客户信息管理专员",
                          p=_perms("customer.read", "customer.write", "customer.change.apply")))["role"]["id"]
    ids = {}
    for name, role in (("sales", sales_role), ("specialist", spec_role)):
        ids[name] = await new_user(client, admin, name)
        await ok(client, GRANT, admin, u=ids[name], r=role)
    return {"admin": admin, "ids": ids, "sales": (await login(client, username="sales"))["accessToken"],
            "specialist": (await login(client, username="specialist"))["accessToken"]}


async def _customer(client, token, name="甲汽车销售有限公司") -> dict:
    return (await ok(client, CREATE, token, n=name))["customer"]


async def _read(client, token, customer_id) -> dict:
    return await _root(client, CUSTOMER, token, id=customer_id)


async def test_CSM_5_key_change_applied_on_the_third_working_day_is_compliant_and_the_fourth_breaches(
        client, people, clock):
    """CSM-5: 3 working days, a phone change that occurred on Friday 2024-06-07, Monday 06-10 a
    holiday: due Thursday 06-13; applied 06-13 17:00 compliant, applied 06-14 09:00 a breach."""
    admin, sales, specialist = people["admin"], people["sales"], people["specialist"]
    assert (await ok(client, SETTINGS, admin, on=None, k=None, d=3))["settings"]["slaWorkingDays"] == 3
    first = await _customer(client, sales, "甲公司")
    second = await _customer(client, sales, "乙公司")
    requests = []
    for customer, phone in ((first, "13900139000"), (second, "13700137000")):
        filed = (await ok(client, SUBMIT, sales, c=customer["id"], v=customer["version"], inp={"phones": [phone]},
                          r="客户来函变更电话", on="2024-06-07"))["changeRequest"]
        assert filed["isKey"] and filed["keyFields"] == ["phones"] and filed["state"] == "submitted"
        assert filed["dueOn"] == "2024-06-13" and filed["slaWorkingDays"] == 3
        requests.append(filed)
    clock.set(sh(2024, 6, 13, 17))
    applied = (await ok(client, APPLY, specialist, id=requests[0]["id"]))["changeRequest"]
    assert applied["state"] == "applied" and applied["breached"] is False
    # on the morning after the due day the open request is overdue, and applying it is a breach
    clock.set(sh(2024, 6, 14, 9))
    overdue = (await ok(client, LIST, specialist, s=None, b=None, o=True, m=False))["nodes"]
    assert [n["id"] for n in overdue] == [requests[1]["id"]]
    late = (await ok(client, APPLY, specialist, id=requests[1]["id"]))["changeRequest"]
    assert late["breached"] is True and late["overdue"] is False
    breached = (await ok(client, LIST, specialist, s="applied", b=True, o=None, m=False))["nodes"]
    assert [n["id"] for n in breached] == [requests[1]["id"]]


async def test_CSM_6_a_non_key_change_has_no_deadline_and_a_business_scope_change_has_one(client, people, clock):
    """CSM-6: with key fields {contact methods, business scope, legal representative} a change of
    needs only carries no deadline; a change of business.scope does."""
    sales = people["sales"]
    customer = await _customer(client, sales)
    plain = (await ok(client, SUBMIT, sales, c=customer["id"], v=customer["version"],
                      inp={"needs": {"purchase_history": "2023 年采购 20 台"}}, r=None, on=None))["changeRequest"]
    assert plain["isKey"] is False and plain["keyFields"] == []
    assert plain["dueOn"] is None and plain["dueAt"] is None and plain["slaWorkingDays"] is None
    assert plain["changeOccurredOn"] == "2024-06-07"  # today in Shanghai by default
    scope = (await ok(client, SUBMIT, sales, c=customer["id"], v=customer["version"],
                      inp={"business": {"scope": "汽车销售及维修"}}, r="营业执照变更", on="2024-06-07"))["changeRequest"]
    assert scope["isKey"] is True and scope["keyFields"] == ["business.scope"] and scope["dueOn"] == "2024-06-13"


async def test_CSM_7_only_the_specialist_applies_and_never_their_own_request(client, people, clock):
    """CSM-7: the sales user who filed the change cannot apply it (the customer unchanged); the
    specialist applies it: the record changes, its history names the specialist, updatedAt is set."""
    sales, specialist = people["sales"], people["specialist"]
    customer = await _customer(client, sales)
    filed = (await ok(client, SUBMIT, sales, c=customer["id"], v=customer["version"],
                      inp={"legalRepresentative": "李四"}, r="法定代表人变更", on=None))["changeRequest"]
    assert filed["proposed"] == {"legal_representative": "李四"}
    assert (await refused(client, APPLY, sales, id=filed["id"]))["code"] == "PERMISSION_DENIED"
    # a specialist who files a request cannot apply it either
    own = (await ok(client, SUBMIT, specialist, c=customer["id"], v=customer["version"],
                    inp={"phones": ["13600136000"]}, r="客户来电", on=None))["changeRequest"]
    assert (await refused(client, APPLY, specialist, id=own["id"]))["code"] == "SEPARATION_OF_DUTIES"
    before = await _read(client, specialist, customer["id"])
    assert before["legalRepresentative"] == "张三" and before["version"] == customer["version"]
    clock.set(sh(2024, 6, 8, 11))
    applied = (await ok(client, APPLY, specialist, id=filed["id"]))["changeRequest"]
    assert applied["state"] == "applied" and applied["decidedBy"] == f"user:{people['ids']['specialist']}"
    assert applied["decidedAt"] is not None and applied["proposed"] is None
    after = await _read(client, specialist, customer["id"])
    assert after["legalRepresentative"] == "李四" and after["version"] == applied["appliedVersion"]
    assert after["updatedAt"] != before["updatedAt"]
    latest = (await ok(client, HISTORY, specialist, id=customer["id"]))["nodes"]
    newest = max(latest, key=lambda h: h["version"])
    assert newest["actor"] == f"user:{people['ids']['specialist']}" and filed["id"] in newest["reason"]
    # the other request was filed against the old version: applying it now would overwrite blind
    other = (await refused(client, APPLY, people["admin"], id=own["id"]))
    assert other["code"] == "CHANGE_REQUEST_STALE"
    assert (await refused(client, APPLY, specialist, id=filed["id"]))["code"] == "CHANGE_REQUEST_DECIDED"


async def test_CSM_8_a_rejected_request_keeps_the_data_and_stores_the_reason(client, people, clock):
    """CSM-8: the specialist rejects a request with a reason (required): REJECTED, reason stored,
    the customer unchanged."""
    sales, specialist = people["sales"], people["specialist"]
    customer = await _customer(client, sales)
    filed = (await ok(client, SUBMIT, sales, c=customer["id"], v=customer["version"],
                      inp={"phones": ["13900139000"]}, r="客户来电", on=None))["changeRequest"]
    assert (await refused(client, REJECT, specialist, id=filed["id"], r="  "))["code"] == "REASON_REQUIRED"
    rejected = (await ok(client, REJECT, specialist, id=filed["id"], r="电话号码核实不符"))["changeRequest"]
    assert rejected["state"] == "rejected" and rejected["rejectionReason"] == "电话号码核实不符"
    assert rejected["appliedVersion"] is None and rejected["breached"] is False
    after = await _read(client, specialist, customer["id"])
    assert after["phones"] == ["138****8000"] and after["version"] == customer["version"]
    mine = (await ok(client, LIST, sales, s="rejected", b=None, o=None, m=True))["nodes"]
    assert [n["id"] for n in mine] == [filed["id"]]


async def test_CSM_7_with_review_on_a_direct_key_update_needs_a_change_request(client, people, clock):
    """CSM-7: where the tenant reviews key changes, customerUpdate of a key field by a user without
    customer.change.apply is refused with CHANGE_REQUEST_REQUIRED naming the field (nothing
    changes); a non-key field still updates directly, and the specialist updates key fields."""
    admin, sales, specialist = people["admin"], people["sales"], people["specialist"]
    customer = await _customer(client, sales)
    # off by default: the update goes through
    done = (await ok(client, UPDATE, sales, id=customer["id"], v=customer["version"],
                     inp={"phones": ["13900139000"]}, r="客户来电"))["customer"]
    settings = (await ok(client, SETTINGS, admin, on=True, k=None, d=None))["settings"]
    assert settings == {"reviewKeyChanges": True, "slaWorkingDays": 3,
                        "keyFields": ["phones", "emails", "legal_representative", "business.scope"]}
    error = await refused(client, UPDATE, sales, id=customer["id"], v=done["version"],
                          inp={"phones": ["13700137000"]}, r="客户来电")
    assert error == {"code": "CHANGE_REQUEST_REQUIRED", "field": "phones"}
    assert (await _read(client, sales, customer["id"]))["version"] == done["version"]
    tagged = (await ok(client, UPDATE, sales, id=customer["id"], v=done["version"], inp={"tags": ["重点跟进"]},
                       r=""))["customer"]
    assert tagged["version"] == done["version"] + 1
    by_specialist = (await ok(client, UPDATE, specialist, id=customer["id"], v=tagged["version"],
                              inp={"phones": ["13700137000"]}, r="核实后更新"))["customer"]
    assert by_specialist["phones"] == ["137****7000"]


async def test_key_fields_are_tenant_settings_and_cover_extension_fields(client, people, clock):
    """The tenant declares its key fields (tenant.settings.manage); a field under a declared one
    is key; unknown fields and days out of range are refused."""
    admin, sales = people["admin"], people["sales"]
    assert (await ok(client, READ_SETTINGS, admin)) == {
        "reviewKeyChanges": False, "slaWorkingDays": 3,
        "keyFields": ["phones", "emails", "legal_representative", "business.scope"]}
    assert (await refused(client, SETTINGS, admin, on=None, k=["no_such_field"], d=None))["code"] == "SETTING_INVALID"
    assert (await refused(client, SETTINGS, admin, on=None, k=["extensions.nowhere.vin"], d=None))["code"] == \
        "SETTING_INVALID"
    assert (await refused(client, SETTINGS, admin, on=None, k=None, d=0))["code"] == "SETTING_INVALID"
    assert (await refused(client, SETTINGS, sales, on=None, k=None, d=5))["code"] == "PERMISSION_DENIED"
    settings = (await ok(client, SETTINGS, admin, on=None, k=["address", "phones"], d=5))["settings"]
    assert settings["keyFields"] == ["address", "phones"] and settings["slaWorkingDays"] == 5
    customer = await _customer(client, sales)
    filed = (await ok(client, SUBMIT, sales, c=customer["id"], v=customer["version"],
                      inp={"address": {"province": "上海市", "city": "上海市", "county": "浦东新区", "street": "世纪大道", "houseNumber": "100号"}}, r="搬迁",
                      on="2024-06-07"))["changeRequest"]
    assert filed["isKey"] and "address.city" in filed["keyFields"] and filed["dueOn"] == "2024-06-17"


async def test_submissions_are_validated_and_dated_no_later_than_today(client, people, clock):
    """A change request is validated like an update (nothing filed on a refusal), against the
    version read, and cannot have occurred in the future."""
    sales = people["sales"]
    customer = await _customer(client, sales)
    assert (await refused(client, SUBMIT, sales, c=customer["id"], v=customer["version"],
                          inp={"phones": ["12"]}, r=None, on=None))["field"] == "phones"
    assert (await refused(client, SUBMIT, sales, c=customer["id"], v=customer["version"],
                          inp={"phones": ["13800138000"]}, r=None, on=None))["code"] == "CHANGE_REQUEST_EMPTY"
    assert (await refused(client, SUBMIT, sales, c=customer["id"], v=customer["version"] + 1,
                          inp={"phones": ["13900139000"]}, r=None, on=None))["code"] == "VERSION_CONFLICT"
    assert (await refused(client, SUBMIT, sales, c=customer["id"], v=customer["version"],
                          inp={"phones": ["13900139000"]}, r=None, on="2024-06-08"))["code"] == "CHANGE_DATE_INVALID"
    assert (await ok(client, LIST, sales, s=None, b=None, o=None, m=True))["nodes"] == []
