"""Collection, entry and review of customer records over GraphQL (issue 24, seed-004 §2.1 and §2.3.1,
W1 and W3; CSM-1 to CSM-4): the tenant's mandatory fields refuse an incomplete record and persist
nothing; credit information is optional; the collection channel, the collector and the potential
status are recorded; the quarterly review report lists the customers with no review in the quarter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from core.customers import service as customer_service
from core.governance import changes
from gateway.app import create_app
from tests.gateway.test_identity_api import gql, login, new_user
from tests.support import Clock

REQUIRED = ('mutation($f: [String!]!) { customerRequiredFieldsSet(fields: $f) { fields errors { code field } } }')
CREATE = ('mutation($in: CustomerInput!) { customerCreate(input: $in) { customer { id version status sourceChannel '
          'createdBy credit owner { id } } errors { code field } } }')
COUNT = '{ customers(first: 100) { nodes { id displayName } } }'
REVIEW = 'mutation($id: ID!) { customerReview(id: $id) { customer { id lastReviewedAt } errors { code } } }'
UPDATE = ('mutation($id: ID!, $v: Int!, $in: CustomerInput!) { customerUpdate(id: $id, version: $v, input: $in) '
          '{ customer { id version status } errors { code field } } }')
OVERDUE = ('query($on: Date, $y: Int, $q: Int) { customerReviewOverdue(on: $on, year: $y, quarter: $q) '
           '{ nodes { customerId displayName quarter quarterFirstDay quarterLastDay lastReviewedAt } } }')

FULL = {"kind": "organisation", "orgName": "甲建材有限公司", "legalRepresentative": "王五", "phones": ["13800138000"],
        "address": {"province": "上海市", "city": "上海市", "county": "浦东新区", "street": "世纪大道",
                    "houseNumber": "100号"},
        "business": {"scope": "建材批发"}}


def sh(y, m, d, hh=0, mm=0) -> datetime:
    """A Shanghai wall-clock time as UTC."""
    return datetime(y, m, d, hh, mm, tzinfo=UTC) - timedelta(hours=8)


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


@pytest.fixture
async def admin(client) -> str:
    return (await login(client))["accessToken"]


async def test_CSM_1_a_customer_without_a_mandatory_field_is_refused_and_not_persisted(client, admin):
    """CSM-1: with name, legal representative, address, business scope and a contact method
    mandatory, customerCreate without legal_representative fails naming it and stores nothing;
    with it, the customer is created. (The audited failure is in test_refusals.py.)"""
    fields = (await ok(client, REQUIRED, admin,
                       f=["legal_representative", "address", "business.scope", "contact_methods"]))["fields"]
    assert fields == ["legal_representative", "address", "business.scope", "contact_methods"]
    assert (await _root(client, "{ customerRequiredFields { fields } }", admin))["fields"] == fields
    lacking = {k: v for k, v in FULL.items() if k != "legalRepresentative"}
    root = await _root(client, CREATE, admin, **{"in": lacking})
    assert root["customer"] is None and root["errors"] == [{"code": "FIELD_REQUIRED", "field": "legalRepresentative"}]
    no_contact = {k: v for k, v in FULL.items() if k != "phones"}
    assert (await _root(client, CREATE, admin, **{"in": no_contact}))["errors"][0]["field"] == "phones"
    assert (await ok(client, COUNT, admin))["nodes"] == []
    created = (await ok(client, CREATE, admin, **{"in": FULL}))["customer"]
    assert [n["id"] for n in (await ok(client, COUNT, admin))["nodes"]] == [created["id"]]
    # a person has no legal representative: the organisation-only field is not asked of one
    person = {"kind": "person", "surname": "赵", "givenName": "六", "phones": ["13900139000"],
              "address": FULL["address"], "business": {"scope": "个体经营"}}
    assert (await ok(client, CREATE, admin, **{"in": person}))["customer"]["id"]
    assert (await _root(client, REQUIRED, admin, f=["nickname"]))["errors"] == [{"code": "SETTING_INVALID",
                                                                               "field": "fields"}]


async def test_CSM_2_credit_information_is_optional(client, admin):
    """CSM-2: a valid customer with no credit rating, limit or payment records is created and
    its credit section is empty, not an error."""
    await ok(client, REQUIRED, admin, f=["legal_representative", "address", "business.scope", "contact_methods"])
    created = (await ok(client, CREATE, admin, **{"in": FULL}))["customer"]
    assert created["credit"] == {}


async def test_CSM_3_the_collection_channel_and_collector_are_recorded_and_the_customer_is_potential(client, admin):
    """CSM-3: a customer a user records through the market-research channel reads back with that
    channel, that user as its collector (createdBy, and its owner) and the status potential."""
    user_id = await new_user(client, admin, "researcher")
    role = (await ok(client, 'mutation($p: [GrantInput!]!) { roleCreate(input: {name: "市场调研", permissions: $p}) '
                             '{ role { id } errors { code } } }', admin,
                     p=[{"permission": "customer.write", "scope": "OWN"},
                        {"permission": "customer.read", "scope": "OWN"}]))["role"]["id"]
    await ok(client, 'mutation($u: ID!, $r: ID!) { roleGrant(userId: $u, roleId: $r) { ok errors { code } } }',
             admin, u=user_id, r=role)
    token = (await login(client, username="researcher"))["accessToken"]
    created = (await ok(client, CREATE, token, **{"in": {**FULL, "sourceChannel": "market_research"}}))["customer"]
    read = await _root(client, 'query($id: ID!) { node(id: $id) { ... on Customer { sourceChannel status createdBy '
                               'owner { id } } } }', token, id=created["id"])
    assert read == {"sourceChannel": "market_research", "status": "potential", "createdBy": f"user:{user_id}",
                    "owner": {"id": user_id}}


async def test_CSM_4_a_customer_with_no_review_in_the_quarter_is_overdue_for_it(client, admin, monkeypatch):
    """CSM-4: calendar quarters; a customer last reviewed on 2024-02-20 with none in Q2 is listed
    as overdue for 2024 Q2 by the report run on 2024-07-01; one reviewed on 2024-05-02 is not;
    a customer created after the quarter is not due for it, nor is a terminated one."""
    clock = Clock(sh(2023, 12, 1, 10))
    monkeypatch.setattr(customer_service, "now", clock)
    monkeypatch.setattr(changes, "now", Clock(sh(2024, 7, 1, 9)))
    ids = {}
    for name in ("一季度复核客户", "五月复核客户", "已终止客户", "七月新客户"):
        if name == "七月新客户":
            clock.set(sh(2024, 7, 1, 8))  # recorded after the quarter: not due for it
        ids[name] = (await ok(client, CREATE, admin, **{"in": {**FULL, "orgName": name, "status": "active"}}))[
            "customer"]["id"]
    clock.set(sh(2024, 2, 20, 10))
    await ok(client, REVIEW, admin, id=ids["一季度复核客户"])
    clock.set(sh(2024, 5, 2, 15))
    await ok(client, REVIEW, admin, id=ids["五月复核客户"])
    version = (await _root(client, 'query($id: ID!) { node(id: $id) { ... on Customer { version } } }', admin,
                           id=ids["已终止客户"]))["version"]
    await ok(client, UPDATE, admin, id=ids["已终止客户"], v=version, **{"in": {"status": "terminated"}})
    overdue = (await ok(client, OVERDUE, admin, on="2024-07-01", y=None, q=None))["nodes"]
    assert [(n["customerId"], n["quarter"]) for n in overdue] == [(ids["一季度复核客户"], "2024-Q2")]
    assert overdue[0]["quarterFirstDay"] == "2024-04-01" and overdue[0]["quarterLastDay"] == "2024-06-30"
    assert overdue[0]["lastReviewedAt"].startswith("2024-02-20")
    # by default the last quarter that ended before today (the report's clock: 2024-07-01)
    assert [n["customerId"] for n in (await ok(client, OVERDUE, admin, on=None, y=None, q=None))["nodes"]] == [
        ids["一季度复核客户"]]
    # 2024 Q1: the February review counts; the May one does not
    q1 = (await ok(client, OVERDUE, admin, on=None, y=2024, q=1))["nodes"]
    assert [n["customerId"] for n in q1] == [ids["五月复核客户"]]
