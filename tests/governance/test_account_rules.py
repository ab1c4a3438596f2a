"""Accounts and data protection (issue 24, seed-004 §3.5-§3.8, §7): unique login ids and one
account per employee (CSM-14), password composition (CSM-16), login and operation entries that no
API can change (CSM-23), contact data encrypted at rest (CSM-24). Through GraphQL."""

from __future__ import annotations

import json

import pytest
from litestar.testing import AsyncTestClient

from core.identity import roles
from gateway.app import create_app
from gateway.graphql.schema import build_schema
from tests.gateway.test_identity_api import _snapshot, gql, login
from tests.support import PASSWORD, SYSTEM, add_user

CREATE_USER = ('mutation($u: String!, $p: String!, $e: String) { userCreate(input: {username: $u, displayName: $u, '
               'password: $p, employeeNo: $e}) { user { id username } errors { code field } } }')
POLICY = ('mutation($l: Boolean!) { identityPolicyUpdate(input: {passwordRequireLettersDigitsSymbols: $l, '
          'passwordMinLength: 10}) { errors { code } } }')
AUDIT = ('query($a: String!) { auditEntries(filter: {action: $a}) { nodes { seq occurredAt actor action targetType '
         'targetId diff } } }')


@pytest.fixture
def api_settings(settings):
    return settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000,
                                       "tick_interval_seconds": 3600})


@pytest.fixture
async def client(api_settings, seeded):
    async with AsyncTestClient(create_app(api_settings)) as test_client:
        yield test_client


@pytest.fixture
async def gm(seeded):
    """A general manager (holds customer.pii.unmask), made before the app starts."""
    gm_role = next(r.id for r in await roles.list_roles(SYSTEM.for_tenant(seeded.acme.id)) if r.name == "总经理")
    await add_user(seeded.acme, "gm", role_ids=[gm_role])


async def _root(client, doc, token, **variables) -> dict:
    body = (await gql(client, doc, token, **variables)).json()
    assert not body.get("errors"), body
    return next(iter(body["data"].values()))


async def test_CSM_14_login_ids_are_unique_and_one_account_per_employee(client, api_settings):
    """CSM-14: a login id is unique in the tenant (whatever its case) and an employee id has one
    account: a second one is refused and writes nothing."""
    admin = (await login(client))["accessToken"]
    first = await _root(client, CREATE_USER, admin, u="wang.li", p=PASSWORD, e="E1001")
    assert first["errors"] == []
    before = await _snapshot(api_settings)
    taken = await _root(client, CREATE_USER, admin, u="Wang.Li", p=PASSWORD, e="E1002")
    assert taken["errors"] == [{"code": "USERNAME_TAKEN", "field": "username"}]
    twice = await _root(client, CREATE_USER, admin, u="wang.li2", p=PASSWORD, e="E1001")
    assert twice["errors"] == [{"code": "PERSON_HAS_ACCOUNT", "field": "employeeNo"}]
    assert await _snapshot(api_settings) == before


async def test_CSM_16_passwords_need_letters_digits_and_symbols(client):
    """CSM-16: with the tenant's composition rule on, "Password123" (no symbol) is refused and
    "Pa55w0rd!Crm" accepted."""
    admin = (await login(client))["accessToken"]
    assert (await _root(client, POLICY, admin, l=True))["errors"] == []
    weak = await _root(client, CREATE_USER, admin, u="zhao", p="Password123", e=None)
    assert weak["user"] is None and weak["errors"][0]["field"] == "password"
    strong = await _root(client, CREATE_USER, admin, u="zhao", p="Pa55w0rd!Crm", e=None)
    assert strong["errors"] == [] and strong["user"]["username"] == "zhao"


async def test_CSM_23_logins_and_operations_are_logged_and_no_api_changes_the_log(client, api_settings):
    """CSM-23: a login leaves an entry with its time and user; an operation one with its content;
    no GraphQL mutation updates or deletes audit entries."""
    admin = (await login(client))["accessToken"]
    made = await _root(client, CREATE_USER, admin, u="sun.qi", p=PASSWORD, e="E2001")
    logins = (await _root(client, AUDIT, admin, a="login.succeeded"))["nodes"]
    assert logins and logins[-1]["occurredAt"] and logins[-1]["targetType"] == "user"
    created = (await _root(client, AUDIT, admin, a="user.created"))["nodes"]
    entry = next(e for e in created if e["targetId"] == made["user"]["id"])
    assert "sun.qi" in entry["diff"] and entry["actor"].startswith("user:")
    audit_mutations = {m for m in build_schema(api_settings)._schema.mutation_type.fields if m.startswith("audit")}
    assert audit_mutations == {"auditRetentionUpdate", "auditExportStart", "auditAnchor"}


async def test_CSM_24_phones_are_encrypted_at_rest_and_shown_to_an_authorised_user(gm, client, api_settings):
    """CSM-24: a customer's phone is in no stored row in clear; a holder of customer.pii.unmask
    reads it in clear through the API, others see it masked."""
    admin = (await login(client))["accessToken"]
    phone = "13912345678"
    made = await _root(client, 'mutation($p: [String!]) { customerCreate(input: {kind: "person", surname: "周", '
                               'givenName: "敏", phones: $p}) { customer { id phones } errors { code } } }',
                       admin, p=[phone])
    assert made["errors"] == [], made
    assert phone not in json.dumps(made["customer"]["phones"])
    rows = await _snapshot(api_settings)
    assert not [t for t, values in rows if any(phone in v for v in values)]
    gm = (await login(client, username="gm"))["accessToken"]
    shown = await _root(client, 'mutation($id: ID!) { customerUnmask(id: $id, fields: ["phones"], reason: "核实回访电话") '
                                '{ values errors { code } } }', gm, id=made["customer"]["id"])
    assert shown["errors"] == [] and phone in json.dumps(shown["values"])


DLP = 'mutation($m: String!) { exportDlpPolicySet(mode: $m) { policy { mode } errors { code field } } }'
ASK = ('mutation($f: [String!]) { accessRequestCreate(purpose: "季度回访名单导出", scope: {fields: $f}) '
       '{ request { id } errors { code } } }')
APPROVE_ASK = 'mutation($id: ID!) { accessRequestApprove(id: $id) { request { id state } errors { code } } }'
EXPORT = ('mutation($id: ID!) { customerExportStart(accessRequestId: $id, format: "csv") { job { id } '
          'errors { code field } } }')


async def _approved(client, requester, approver, fields) -> str:
    asked = await _root(client, ASK, requester, f=fields)
    assert asked["errors"] == [], asked
    approved = await _root(client, APPROVE_ASK, approver, id=asked["request"]["id"])
    assert approved["errors"] == [], approved
    return asked["request"]["id"]


async def test_CSM_26_the_dlp_policy_blocks_or_flags_bulk_exports_of_contacts(gm, client, api_settings):
    """CSM-26: with the tenant's DLP mode at block, an export carrying phones or emails is refused
    (EXPORT_BLOCKED_BY_DLP, nothing written) while one without contact columns runs; at flag it runs
    and its audit entry names the user, the scope and the verdict."""
    admin = (await login(client))["accessToken"]
    gm_token = (await login(client, username="gm"))["accessToken"]
    bad = await _root(client, DLP, admin, m="maybe")
    assert bad["errors"] == [{"code": "DLP_MODE_INVALID", "field": "mode"}]
    assert (await _root(client, DLP, admin, m="block"))["policy"] == {"mode": "block"}
    everything = await _approved(client, gm_token, admin, None)
    before = await _snapshot(api_settings)
    blocked = await _root(client, EXPORT, gm_token, id=everything)
    assert blocked["errors"] == [{"code": "EXPORT_BLOCKED_BY_DLP", "field": "accessRequestId"}]
    assert await _snapshot(api_settings) == before
    tags_only = await _approved(client, gm_token, admin, ["tags"])
    assert (await _root(client, EXPORT, gm_token, id=tags_only))["errors"] == []

    assert (await _root(client, DLP, admin, m="flag"))["policy"] == {"mode": "flag"}
    phones = await _approved(client, gm_token, admin, ["phones"])
    started = await _root(client, EXPORT, gm_token, id=phones)
    assert started["errors"] == []
    entries = (await _root(client, AUDIT, admin, a="customer.export_requested"))["nodes"]
    entry = next(e for e in entries if e["targetId"] == started["job"]["id"])
    diff = json.loads(entry["diff"])
    assert entry["actor"].startswith("user:") and "phones" in json.dumps(diff["fields"])
    assert "flagged" in json.dumps(diff["dlp"])
