"""Customers over GraphQL: pages cost the same statements at any size (DataLoaders), cursors,
coded payload errors, versions, tenants kept apart."""

from __future__ import annotations

import contextvars

import pytest
from litestar.testing import AsyncTestClient

from core.customers import service as customers
from core.db import current_database
from gateway.app import create_app
from tests.customers.conftest import ORGANISATION
from tests.gateway.test_identity_api import gql, login
from tests.support import SYSTEM, add_user

PAGE = """query($first: Int, $after: String, $filter: CustomerFilterInput) {
  customers(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id displayName version phones owner { username displayName }
                          contacts { surname givenName phones isPrimary } } }
    pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture
async def client(settings, seeded, registry):
    """Acme with 120 organisations, each with two contacts, owned by two different users."""
    owners = [await add_user(seeded.acme, name) for name in ("seller1", "seller2")]
    system = SYSTEM.for_tenant(seeded.acme.id)
    contacts = [customers.ContactInput(surname="刘", given_name="洋", phones=["13700000001"], is_primary=True),
                customers.ContactInput(surname="陈", given_name="静", phones=["13700000002"])]
    for i in range(120):
        await customers.create_customer(system, registry, {
            **ORGANISATION, "org_name": f"客户{i:03d}", "identifier": None, "phones": [f"1380000{i:04d}"],
            "owner_id": str(owners[i % 2].id)}, contacts=contacts)
    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000})
    async with AsyncTestClient(create_app(relaxed, registry=registry)) as test_client:
        yield test_client


async def _token(client, tenant="acme") -> str:
    return (await login(client, tenant=tenant))["accessToken"]


async def test_a_page_costs_the_same_statements_at_10_and_at_100_rows(client, monkeypatch):
    token = await _token(client)
    engine_class = type(current_database().engine)
    original = engine_class.run_querystring
    counted: list[str] = []
    # Only this request's statements: the in-process worker polls the database meanwhile.
    measuring = contextvars.ContextVar("measuring", default=False)

    async def counting(self, querystring, *args, **kwargs):
        if measuring.get():
            counted.append(str(querystring))
        return await original(self, querystring, *args, **kwargs)

    monkeypatch.setattr(engine_class, "run_querystring", counting)
    sizes = {}
    for first in (10, 100):
        counted.clear()
        flag = measuring.set(True)
        body = (await gql(client, PAGE, token, first=first)).json()
        measuring.reset(flag)
        edges = body["data"]["customers"]["edges"]
        assert len(edges) == first
        assert all(len(e["node"]["contacts"]) == 2 and e["node"]["owner"]["username"] in ("seller1", "seller2")
                   for e in edges)
        sizes[first] = len(counted)
    assert 0 < sizes[10] == sizes[100], (sizes, counted)


async def test_cursors_walk_every_customer_once_in_name_order(client):
    token = await _token(client)
    seen, after = [], None
    while True:
        page = (await gql(client, PAGE, token, first=50, after=after)).json()["data"]["customers"]
        seen += [e["node"]["displayName"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 120
    found = (await gql(client, PAGE, token, filter={"text": "13800000007"})).json()["data"]["customers"]["edges"]
    assert [e["node"]["displayName"] for e in found] == ["客户007"]


CREATE = """mutation($input: CustomerInput!, $contacts: [ContactInput!], $force: Boolean) {
  customerCreate(input: $input, contacts: $contacts, force: $force) {
    customer { id version displayName phones identifier { type number } address { county } }
    duplicates { customerId matchedOn } errors { code field message } } }"""
UPDATE = """mutation($id: ID!, $version: Int!, $input: CustomerInput!, $reason: String) {
  customerUpdate(id: $id, version: $version, input: $input, reason: $reason) {
    customer { version status } errors { code field } } }"""


async def test_create_update_and_their_coded_errors_over_graphql(client):
    token = await _token(client)
    person = {"kind": "PERSON".lower(), "surname": "王", "givenName": "小明", "phones": ["13912345678"],
              "identifier": {"type": "resident_id", "number": "11010519491231002X"},
              "address": {"province": "北京市", "city": "北京市", "county": "朝阳区", "street": "建国路", "houseNumber": "1号"}}
    created = (await gql(client, CREATE, token, input=person)).json()["data"]["customerCreate"]
    # personal fields come back masked, to the administrator too (customerUnmask reads them in clear)
    assert created["errors"] == [] and created["customer"]["phones"] == ["139****5678"]
    assert created["customer"]["identifier"] == {"type": "resident_id", "number": "1101**********002X"}
    customer_id = created["customer"]["id"]
    bad = (await gql(client, CREATE, token, input={**person, "givenName": "女士"})).json()["data"]["customerCreate"]
    assert bad["customer"] is None and bad["errors"][0]["code"] == "NAME_PLACEHOLDER"
    dup = (await gql(client, CREATE, token, input={**person, "phones": []})).json()["data"]["customerCreate"]
    assert dup["errors"][0]["code"] == "DUPLICATE_IDENTIFIER"

    updated = (await gql(client, UPDATE, token, id=customer_id, version=1, input={"status": "active"})).json()
    assert updated["data"]["customerUpdate"] == {"customer": {"version": 2, "status": "active"}, "errors": []}
    stale = (await gql(client, UPDATE, token, id=customer_id, version=1, input={"status": "lost"})).json()
    assert stale["data"]["customerUpdate"]["errors"] == [{"code": "VERSION_CONFLICT", "field": "version"}]
    history = (await gql(client, "query($id: ID!) { customerHistory(id: $id) { nodes { version changes } } }", token,
                         id=customer_id)).json()["data"]["customerHistory"]["nodes"]
    assert [h["version"] for h in history] == [1, 2] and history[1]["changes"] == {"status": ["potential", "active"]}


async def test_another_tenant_neither_sees_nor_changes_acme_customers(client):
    acme_token, globex_token = await _token(client), await _token(client, "globex")
    some_id = (await gql(client, PAGE, acme_token, first=1)).json()["data"]["customers"]["edges"][0]["node"]["id"]
    assert (await gql(client, PAGE, globex_token)).json()["data"]["customers"]["edges"] == []
    read = (await gql(client, "query($id: ID!) { customer(id: $id) { id } }", globex_token, id=some_id)).json()
    assert read["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    changed = (await gql(client, UPDATE, globex_token, id=some_id, version=1, input={"status": "lost"})).json()
    assert changed["data"]["customerUpdate"]["errors"][0]["code"] == "NOT_FOUND"


async def test_single_customers_load_owner_and_contacts_through_the_request_loaders(client):
    token = await _token(client)
    ids = [e["node"]["id"] for e in (await gql(client, PAGE, token, first=2)).json()["data"]["customers"]["edges"]]
    both = """query($a: ID!, $b: ID!) { a: customer(id: $a) { owner { username } contacts { surname } }
                                   b: customer(id: $b) { owner { username } contacts { surname } } }"""
    body = (await gql(client, both, token, a=ids[0], b=ids[1])).json()["data"]
    assert [len(body[k]["contacts"]) for k in ("a", "b")] == [2, 2]
    assert {body[k]["owner"]["username"] for k in ("a", "b")} == {"seller1", "seller2"}
