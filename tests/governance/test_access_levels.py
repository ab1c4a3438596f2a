"""Customer access levels and user clearances (issue 24, seed-004 §2.2.2 "特定级别", CSM-20),
through GraphQL: a customer at level 3 is not returned to a user cleared to 2 (not by id, not in
lists or searches), and is once the user is cleared to 3; nobody sets a level or gives a clearance
above their own, and such a refusal writes nothing; an API key reads level 0 only."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from gateway.app import create_app
from tests.gateway.test_identity_api import _snapshot, gql, login, new_user

ROLE = ('mutation($n: String!, $p: [GrantInput!]!) { roleCreate(input: {name: $n, permissions: $p}) '
        '{ role { id } errors { code } } }')
GRANT = 'mutation($u: ID!, $r: ID!) { roleGrant(userId: $u, roleId: $r) { ok errors { code } } }'
CLEARANCE = ('mutation($u: ID!, $c: Int!) { userClearanceSet(id: $u, clearance: $c) { user { id clearance } '
             'errors { code field } } }')
CREATE = ('mutation($n: String!, $l: Int) { customerCreate(input: {kind: "organisation", orgName: $n, '
          'accessLevel: $l}) { customer { id version accessLevel } errors { code field } } }')
UPDATE = ('mutation($id: ID!, $v: Int!, $l: Int) { customerUpdate(id: $id, version: $v, input: {accessLevel: $l}) '
          '{ customer { accessLevel } errors { code field } } }')
NODE = 'query($id: ID!) { node(id: $id) { ... on Customer { id orgName accessLevel } } }'
LIST = '{ customers(first: 50) { edges { node { id } } } }'
SEARCH = 'query($q: String!) { customers(first: 50, filter: {text: $q}) { edges { node { id } } } }'


@pytest.fixture
def api_settings(settings):
    return settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000,
                                       "tick_interval_seconds": 3600})


@pytest.fixture
async def client(api_settings, seeded):
    async with AsyncTestClient(create_app(api_settings)) as test_client:
        yield test_client


async def root(client, doc, token, **variables) -> dict:
    body = (await gql(client, doc, token, api_key=None, **variables)).json()
    assert not body.get("errors"), body
    return next(iter(body["data"].values()))


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["errors"]]


def _perms(*names: str) -> list[dict]:
    return [{"permission": n, "scope": "TENANT"} for n in names]


async def _reader(client, admin: str, name: str, *permissions: str) -> tuple[str, str]:
    role = (await root(client, ROLE, admin, n=f"角色{name}", p=_perms(*permissions)))["role"]["id"]
    user = await new_user(client, admin, name)
    assert codes(await root(client, GRANT, admin, u=user, r=role)) == []
    return user, (await login(client, username=name))["accessToken"]


async def _seen(client, token: str) -> set[str]:
    return {e["node"]["id"] for e in (await root(client, LIST, token))["edges"]}


async def test_CSM_20_a_level_3_customer_is_not_returned_to_a_user_cleared_to_2(client):
    admin = (await login(client))["accessToken"]
    secret = (await root(client, CREATE, admin, n="机密客户甲", l=3))["customer"]
    plain = (await root(client, CREATE, admin, n="普通客户乙", l=None))["customer"]
    assert (secret["accessLevel"], plain["accessLevel"]) == (3, 0)
    user, _ = await _reader(client, admin, "li.si", "customer.read")
    assert (await root(client, CLEARANCE, admin, u=user, c=2))["user"]["clearance"] == 2
    token = (await login(client, username="li.si"))["accessToken"]  # the clearance holds from the next sign-in

    assert await root(client, NODE, token, id=secret["id"]) is None
    assert (await root(client, NODE, token, id=plain["id"]))["orgName"] == "普通客户乙"
    seen = await _seen(client, token)
    assert plain["id"] in seen and secret["id"] not in seen
    assert secret["id"] not in {e["node"]["id"] for e in (await root(client, SEARCH, token, q="机密客户甲"))["edges"]}
    assert secret["id"] in await _seen(client, admin)  # the administrator is cleared to 9

    await root(client, CLEARANCE, admin, u=user, c=3)
    token = (await login(client, username="li.si"))["accessToken"]
    assert (await root(client, NODE, token, id=secret["id"]))["accessLevel"] == 3
    assert secret["id"] in await _seen(client, token)


async def test_CSM_20_nobody_sets_a_level_or_gives_a_clearance_above_their_own(client, api_settings):
    admin = (await login(client))["accessToken"]
    customer = (await root(client, CREATE, admin, n="客户丙", l=None))["customer"]
    user, _ = await _reader(client, admin, "wang.wu", "customer.read", "customer.write", "role.grant", "user.read")
    other = await new_user(client, admin, "zhao.liu")
    await root(client, CLEARANCE, admin, u=user, c=2)
    token = (await login(client, username="wang.wu"))["accessToken"]

    before = await _snapshot(api_settings)
    refused = await root(client, CREATE, token, n="客户丁", l=3)
    assert codes(refused) == ["ACCESS_LEVEL_ABOVE_CLEARANCE"] and refused["errors"][0]["field"] == "accessLevel"
    refused = await root(client, UPDATE, token, id=customer["id"], v=customer["version"], l=5)
    assert codes(refused) == ["ACCESS_LEVEL_ABOVE_CLEARANCE"]
    assert codes(await root(client, CLEARANCE, token, u=other, c=3)) == ["CLEARANCE_ABOVE_OWN"]
    assert codes(await root(client, CLEARANCE, token, u=user, c=9)) == ["CLEARANCE_ABOVE_OWN"]  # not for oneself
    assert codes(await root(client, CLEARANCE, admin, u=other, c=10)) == ["FIELD_INVALID"]
    assert await _snapshot(api_settings) == before  # refused: no row, no audit entry, no event

    assert (await root(client, UPDATE, token, id=customer["id"], v=customer["version"], l=2))["customer"] == {
        "accessLevel": 2}
    assert (await root(client, CLEARANCE, token, u=other, c=2))["user"]["clearance"] == 2
    _, reader = await _reader(client, admin, "sun.qi", "customer.read")  # clearance 0: no longer sees it
    assert await root(client, NODE, reader, id=customer["id"]) is None
    _, clerk = await _reader(client, admin, "zhou.ba", "customer.read", "customer.write")
    assert codes(await root(client, CLEARANCE, clerk, u=other, c=0)) == ["PERMISSION_DENIED"]


async def test_CSM_20_an_api_key_reads_level_0_customers_only(client):
    admin = (await login(client))["accessToken"]
    secret = (await root(client, CREATE, admin, n="机密客户戊", l=1))["customer"]
    plain = (await root(client, CREATE, admin, n="普通客户己", l=0))["customer"]
    key = (await root(client, 'mutation { apiKeyCreate(name: "crm", permissions: ["customer.read"]) '
                              '{ secret errors { code } } }', admin))["secret"]
    body = (await gql(client, LIST, api_key=key)).json()
    seen = {e["node"]["id"] for e in body["data"]["customers"]["edges"]}
    assert plain["id"] in seen and secret["id"] not in seen
