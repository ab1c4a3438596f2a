"""Acceptance: a reader without customer.pii.unmask never receives a full phone number or resident
ID through any GraphQL field, webhook or outbox payload, or export. GraphQL masks for every reader
(unmasking is its own audited mutation), so the walk runs as a holder of the permission too. The
export path is walked in tests/privacy/test_access_requests.py
(``test_a_reader_without_unmask_never_gets_a_full_phone_or_resident_id``), where exports go
through their approved access request."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from core.customers import service as customers
from core.db import unit_of_work
from core.identity import roles
from core.plugins.testing import make_registry
from gateway.app import create_app
from tests.gateway.test_identity_api import gql, login
from tests.support import SYSTEM, add_user

PHONE, CONTACT_PHONE, NEW_PHONE, RESIDENT_ID = "13912345678", "13700000009", "13655556666", "11010519491231002X"
FULL = (PHONE, CONTACT_PHONE, NEW_PHONE, RESIDENT_ID, "8613912345678", "8613700000009", "8613655556666")

CUSTOMER_FIELDS = ("id version displayName phones emails identifier { type number } address { street houseNumber } "
                   "credit extensions contacts { id phones email } owner { username }")


@pytest.fixture
async def client(settings, seeded):
    system = SYSTEM.for_tenant(seeded.acme.id)
    ids = {r.name: r.id for r in await roles.list_roles(system)}
    await add_user(seeded.acme, "sysadmin", role_ids=[ids["系统管理员"]])
    await add_user(seeded.acme, "director", role_ids=[ids["客户总监"]])
    async with AsyncTestClient(create_app(settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000}),
                                          registry=make_registry())) as test_client:
        yield test_client


def _assert_masked(label: str, text: str) -> None:
    leaked = [value for value in FULL if value in text]
    assert not leaked, f"{label} carries {leaked}: {text[:500]}"


@pytest.mark.parametrize("username", ["sysadmin", "director"])
async def test_no_graphql_payload_carries_a_full_phone_or_resident_id(client, username):
    token = (await login(client, username=username))["accessToken"]
    bodies: list[tuple[str, str]] = []

    async def call(label: str, document: str, **variables):
        response = await gql(client, document, token, **variables)
        bodies.append((label, response.text))
        assert "errors" not in response.json(), response.text
        return response.json()["data"]

    created = await call("customerCreate", f"""mutation($input: CustomerInput!, $contacts: [ContactInput!]) {{
        customerCreate(input: $input, contacts: $contacts) {{ customer {{ {CUSTOMER_FIELDS} }}
        duplicates {{ displayName }} errors {{ code message }} }} }}""",
        input={"kind": "person", "surname": "王", "givenName": "小明", "phones": [PHONE],
               "emails": ["wang.xiaoming@example.cn"], "identifier": {"type": "resident_id", "number": RESIDENT_ID},
               "address": {"province": "北京市", "city": "北京市", "county": "朝阳区", "street": "建国路", "houseNumber": "1号"}, "credit": {"rating": "A"}},
        contacts=[{"surname": "刘", "givenName": "洋", "phones": [CONTACT_PHONE], "email": "liu@example.cn"}])
    customer = created["customerCreate"]["customer"]
    assert customer is not None, created
    assert customer["phones"] == ["139****5678"], created
    cid = customer["id"]
    await call("customerCreate duplicate", f"""mutation($input: CustomerInput!) {{ customerCreate(input: $input) {{
        customer {{ id phones }} duplicates {{ displayName matchedOn }} errors {{ code message field }} }} }}""",
        input={"kind": "person", "surname": "王", "givenName": "小明", "phones": [PHONE],
               "identifier": {"type": "resident_id", "number": RESIDENT_ID}})
    await call("customerUpdate", f"""mutation($id: ID!) {{ customerUpdate(id: $id, version: 1, reason: "new number",
        input: {{phones: ["{NEW_PHONE}"]}}) {{ customer {{ {CUSTOMER_FIELDS} }} errors {{ code message }} }} }}""", id=cid)
    await call("customerContactAdd", f"""mutation($id: ID!) {{ customerContactAdd(customerId: $id, input: {{surname: "陈",
        givenName: "静", phones: ["{CONTACT_PHONE}"]}}) {{ contact {{ phones email }} errors {{ code }} }} }}""", id=cid)
    await call("customer", f"query($id: ID!) {{ customer(id: $id) {{ {CUSTOMER_FIELDS} }} }}", id=cid)
    for text in (NEW_PHONE, RESIDENT_ID):
        page = await call(f"customers text={text}", f"""query($f: CustomerFilterInput) {{ customers(filter: $f) {{
            edges {{ node {{ {CUSTOMER_FIELDS} }} }} }} }}""", f={"text": text})
        assert [e["node"]["id"] for e in page["customers"]["edges"]] == [cid]
    await call("customerHistory", "query($id: ID!) { customerHistory(id: $id) { nodes { changes reason } } }", id=cid)
    await call("customerAsOf", 'query($id: ID!) { customerAsOf(id: $id, at: "2100-01-01T00:00:00Z") { record } }', id=cid)
    await call("customerReview", f"""mutation($id: ID!) {{ customerReview(id: $id) {{ customer {{ {CUSTOMER_FIELDS} }}
        errors {{ code }} }} }}""", id=cid)
    await call("customerDelete", f"""mutation($id: ID!) {{ customerDelete(id: $id, reason: "test") {{
        customer {{ {CUSTOMER_FIELDS} }} errors {{ code }} }} }}""", id=cid)
    for label, text in bodies:
        _assert_masked(label, text)


async def test_no_outbox_event_or_webhook_delivery_carries_a_personal_value(seeded):
    system = SYSTEM.for_tenant(seeded.acme.id)
    created = await customers.create_customer(system, make_registry(), {
        "kind": "person", "surname": "王", "given_name": "小明", "phones": [PHONE],
        "identifier": {"type": "resident_id", "number": RESIDENT_ID}},
        contacts=[customers.ContactInput(surname="刘", given_name="洋", phones=[CONTACT_PHONE])])
    await customers.update_customer(system, make_registry(), created.customer.id, version=1,
                                    changes={"phones": [NEW_PHONE]}, reason="new number")
    async with unit_of_work(system, write=False) as uow:
        events = await uow.fetch("SELECT payload FROM outbox_event WHERE tenant_id = {}", seeded.acme.id)
        deliveries = await uow.fetch("SELECT payload FROM webhook_delivery WHERE tenant_id = {}", seeded.acme.id)
    assert events, "customer changes announce outbox events"
    for row in [*events, *deliveries]:
        _assert_masked("outbox/webhook payload", row["payload"])
