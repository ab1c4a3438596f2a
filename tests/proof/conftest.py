"""Proof tests of the API's edge (abuse limits, tokens, fuzzing) against a running app.

The limits under test sit in front of the database, so these run on SQLite only; the database
suites run every rule on PostgreSQL too.
"""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from core.settings import Settings
from gateway.app import create_app
from tests.support import PASSWORD

LOGIN = 'mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, password: $p) ' \
        '{ accessToken refreshToken errors { code } } }'


@pytest.fixture
def settings(sqlite_settings: Settings) -> Settings:
    # Request counting is proven in tests/gateway; here it must not get in the way.
    return sqlite_settings.model_copy(update={"rate_limit_anonymous_per_minute": 100_000,
                                              "rate_limit_per_minute": 100_000,
                                              "rate_limit_api_key_per_minute": 100_000})


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    """What the app under test runs with; tests override it to tighten one limit."""
    return settings


@pytest.fixture
async def client(app_settings, seeded):
    async with AsyncTestClient(create_app(app_settings)) as test_client:
        yield test_client


async def gql(client, query: str, token: str | None = None, *, operation: str | None = None, **variables):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = {"query": query, "variables": variables}
    if operation:
        body["operationName"] = operation
    return await client.post("/graphql", json=body, headers=headers)


async def sign_in(client, tenant: str = "acme", username: str = "admin", password: str = PASSWORD) -> str:
    body = (await gql(client, LOGIN, t=tenant, u=username, p=password)).json()
    assert body["data"]["login"]["errors"] == [], body
    return body["data"]["login"]["accessToken"]


def codes(body: dict) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors") or []]
