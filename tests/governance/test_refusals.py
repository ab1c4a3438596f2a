"""The register of refused attempts over the public API (seed-004 CSM-1 "an audit entry with result =
failure", CSM-19 "result = denied", AUD-05; issue 24 point 3).

A refused mutation writes nothing in its own transaction (tests/test_atomic_mutations.py); its
refusal is written afterwards, in its own, to ``refused_attempt``: who, from where, which operation,
the code and a bounded summary that holds no secret and no free text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from core.identity import refusals
from core.settings import Settings
from gateway.app import create_app
from tests.support import PASSWORD, Clock

REFUSED = ("query($f: Int) { refusedAttempts(first: $f) { nodes { at actor username clientAddress operation code "
           "result summary } pageInfo { hasNextPage endCursor } } }")
LOGIN = ('mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, password: $p) '
         '{ accessToken errors { code } } }')


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "tick_interval_seconds": 3600})


@pytest.fixture
async def client(api_settings, seeded):
    async with AsyncTestClient(create_app(api_settings)) as test_client:
        yield test_client


async def gql(client, query: str, token: str | None = None, **variables) -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return (await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)).json()


async def login(client, username="admin", password=PASSWORD, tenant="acme") -> str:
    body = await gql(client, LOGIN, t=tenant, u=username, p=password)
    assert body["data"]["login"]["errors"] == [], body
    return body["data"]["login"]["accessToken"]


async def new_user(client, token: str, username: str) -> str:
    body = await gql(client, 'mutation($u: String!, $p: String!) { userCreate(input: {username: $u, displayName: $u, '
                             'password: $p}) { user { id } errors { code } } }', token, u=username, p=PASSWORD)
    assert body["data"]["userCreate"]["errors"] == [], body
    return body["data"]["userCreate"]["user"]["id"]


async def refused(client, token: str, first: int = 100) -> list[dict]:
    body = await gql(client, REFUSED, token, f=first)
    assert "errors" not in body, body
    return body["data"]["refusedAttempts"]["nodes"]


async def audit_count(client, token: str) -> int:
    body = await gql(client, "{ auditEntries(first: 1) { edges { node { seq } } } }", token)
    return body["data"]["auditEntries"]["edges"][0]["node"]["seq"]


async def test_CSM_19_a_mutation_refused_for_lack_of_permission_is_recorded_as_denied(client):
    """CSM-19: a user whose role lacks the permission calls a delete mutation: it is forbidden, the
    audit chain gains nothing from it, and the register records the operation content with
    result = denied."""
    admin = await login(client)
    user_id = await new_user(client, admin, "no.role")
    token = await login(client, "no.role")
    roles = await gql(client, "{ roles { nodes { id } } }", admin)
    role_id = roles["data"]["roles"]["nodes"][0]["id"]
    before = await refused(client, admin)
    body = await gql(client, 'mutation($r: ID!) { roleDelete(id: $r) { ok errors { code } } }', token, r=role_id)
    assert body["data"]["roleDelete"]["errors"][0]["code"] == "PERMISSION_DENIED"
    rows = await refused(client, admin)
    assert len(rows) == len(before) + 1
    row = rows[0]  # newest first
    assert row["operation"] == "roleDelete" and row["code"] == "PERMISSION_DENIED" and row["result"] == "denied"
    assert row["actor"] == f"user:{user_id}"
    assert json.loads(row["summary"]) == {"arguments": {"id": role_id}}


async def test_CSM_1_a_mutation_refused_for_invalid_input_is_recorded_as_failure_without_secrets(client):
    """CSM-1: a mutation failing validation leaves no row and no audit entry, and the register
    records it with result = failure, naming the field; the password it carried is masked and
    free text is reduced to its length."""
    admin = await login(client)
    seq = await audit_count(client, admin)
    weak = "short1"
    body = await gql(client, 'mutation($p: String!) { userCreate(input: {username: "weak.one", displayName: "张三丰", '
                             'password: $p}) { user { id } errors { code field } } }', admin, p=weak)
    error = body["data"]["userCreate"]["errors"][0]
    assert body["data"]["userCreate"]["user"] is None and error["field"] == "password"
    assert await audit_count(client, admin) == seq  # the refusal wrote no audit entry
    row = (await refused(client, admin))[0]
    assert row["operation"] == "userCreate" and row["code"] == error["code"] and row["result"] == "failure"
    summary = json.loads(row["summary"])
    assert summary["field"] == "password"
    assert summary["arguments"]["input"]["password"] == "***"
    assert summary["arguments"]["input"]["username"] == "weak.one"
    assert "张三丰" not in row["summary"] and weak not in row["summary"]


async def test_CSM_19_refused_sign_ins_are_recorded_with_their_reason(client):
    """CSM-19 / AUD-05: a wrong password is a refused sign-in in the register (never the password)."""
    admin = await login(client)
    body = await gql(client, LOGIN, t="acme", u="admin", p="guessed-password-1")
    assert body["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    row = (await refused(client, admin))[0]
    assert (row["operation"], row["code"], row["result"], row["username"]) == \
        ("login", "INVALID_CREDENTIALS", "denied", "admin")
    assert row["actor"] == "anonymous" and "guessed-password-1" not in json.dumps(row)
    assert json.loads(row["summary"]) == {"reason": "wrong_password"}


async def test_the_register_needs_audit_read_and_is_tenant_scoped(client):
    """CSM-19: reading the register needs audit.read; a tenant sees only its own refusals."""
    admin = await login(client)
    await new_user(client, admin, "reader.none")
    token = await login(client, "reader.none")
    body = await gql(client, REFUSED, token)
    assert body["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    globex = await login(client, tenant="globex")
    await gql(client, LOGIN, t="acme", u="reader.none", p="wrong-password-9")
    assert not [r for r in await refused(client, globex) if r["username"] == "reader.none"]
    assert [r for r in await refused(client, admin) if r["username"] == "reader.none"]


async def test_the_register_is_bounded_per_tenant_and_minute(client, monkeypatch):
    """A flood of refusals cannot flood the register: beyond the bound they are counted, and the
    count is written once with the next minute's first refusal."""
    admin = await login(client)
    clock = Clock(datetime.now(UTC).replace(second=5, microsecond=0) + timedelta(minutes=2))
    monkeypatch.setattr(refusals, "now", clock)
    monkeypatch.setattr(refusals, "BOUND_PER_MINUTE", 3)
    for _ in range(5):
        await gql(client, LOGIN, t="acme", u="flooder", p="wrong-password-1")
    rows = [r for r in await refused(client, admin) if r["username"] == "flooder"]
    assert len(rows) == 3
    clock.advance(minutes=1)
    await gql(client, LOGIN, t="acme", u="flooder", p="wrong-password-1")
    rows = await refused(client, admin)
    dropped = [r for r in rows if r["operation"] == "refusals.dropped"]
    assert len(dropped) == 1 and json.loads(dropped[0]["summary"]) == {"dropped": 2}
    assert len([r for r in rows if r["username"] == "flooder"]) == 4


def test_summaries_mask_secrets_and_free_text():
    """The summary keeps argument names, ids and enum-like words; secrets and free text never."""
    text = refusals.summary_of({"input": {"password": "hunter2-secret", "apiKey": "kk_abc", "totpCode": "123456",
                                          "kind": "person", "phone": "13800138000", "id":
                                          "2f1d7c1e-0a0b-4c7e-9f55-1b2c3d4e5f60"}})
    for secret in ("hunter2-secret", "kk_abc", "123456", "13800138000"):
        assert secret not in text
    summary = json.loads(text)["input"]
    assert summary["kind"] == "person" and summary["id"].startswith("2f1d7c1e")
    assert len(refusals.summary_of({"x": ["a" * 500] * 100})) <= refusals.SUMMARY_MAX
