"""The automotive vertical on kehu's vertical harness (SQLite; PostgreSQL with CI=true through the harness's
settings), with the sales floor's clock pinned and a 4S dealer's posts (seed-003 R6's roles, from
``plugins.automotive.roles.POSTS``): two consultants, two team leaders, the sales manager, the sales
assistant, the cashier and the 5S officer."""

from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import plugins.automotive as automotive
from core.context import Context
from plugins.automotive import clock as floor_clock
from plugins.automotive.roles import POSTS
from tests import support
from tests.medical_devices.api import STRONG, ok

SHANGHAI = ZoneInfo("Asia/Shanghai")
ERR = "errors { field code message }"
# a test may add posts of its own (a part's extra permissions) by extending this in its module
SEATS = {"consultant": "consultant", "consultant2": "consultant", "leader": "leader", "leader2": "leader",
         "manager": "manager", "assistant": "assistant", "cashier": "cashier", "officer": "officer"}


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)


class Clock(support.Clock):
    """tests.support's clock, kept in UTC as the services' own now() is (SQLite compares stored times as text)."""

    def __init__(self, at: datetime) -> None:
        super().__init__(at.astimezone(UTC))

    def set(self, at: datetime) -> datetime:
        return super().set(at.astimezone(UTC))


@pytest.fixture
def kehu_vertical():
    return ("automotive", automotive)


@pytest.fixture
def kehu_settings(settings):
    return settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 100_000})


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """A Monday morning in Shanghai (2026-11-02 09:00), a working day."""
    from core.attribution import service as attribution

    c = Clock(local(2026, 11, 2, 9, 0))
    monkeypatch.setattr(floor_clock, "now", c)
    monkeypatch.setattr(attribution, "now", c)  # ownership is decided as of the floor's time
    return c


@pytest.fixture
def started(kehu_registry):
    from core.plugins import manager

    manager.start_verticals(kehu_registry)
    yield kehu_registry
    manager.start_verticals(None)


async def user_with(client: Any, tenant: Any, name: str, permissions: dict[str, str]) -> tuple[Any, str]:
    """A user of the tenant holding ``permissions`` (permission -> scope), signed in: (client, user id)."""
    from core.plugins.testing import GraphQLClient

    role = await ok(client, "mutation($n: String!, $p: [GrantInput!]) { roleCreate(input: {name: $n, permissions: $p}) "
                    "{ role { id } errors { code } } }", "roleCreate", n=f"r-{name}",
                    p=[{"permission": p, "scope": s.upper()} for p, s in permissions.items()])
    made = await ok(client, "mutation($u: String!, $p: String!, $r: [ID!]!) { userCreate(input: {username: $u, "
                    "displayName: $u, password: $p, roleIds: $r, departmentIds: []}) { user { id } errors { code } } }",
                    "userCreate", u=name, p=STRONG, r=[role["role"]["id"]])
    login = await client.http.post("/graphql", json={
        "query": "mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, password: $p) "
                 "{ accessToken errors { code } } }", "variables": {"t": tenant.slug, "u": name, "p": STRONG}})
    token = login.json()["data"]["login"]["accessToken"]
    assert token, login.text
    return GraphQLClient(client.http, token), made["user"]["id"]


@pytest.fixture
async def floor(kehu_client, kehu_tenant, started, clock) -> dict[str, Any]:
    """One signed-in client per seat (``floor["leader"]``) and its user id (``floor["ids"]["leader"]``), the
    administrator, the tenant and its system context for tick work."""
    seats: dict[str, Any] = {}
    ids: dict[str, str] = {}
    for seat, post in SEATS.items():
        seats[seat], ids[seat] = await user_with(kehu_client, kehu_tenant, seat, POSTS[post])
    return {**seats, "ids": ids, "admin": kehu_client, "tenant": kehu_tenant,
            "system": Context.system("tick", tenant_id=kehu_tenant.id)}


async def on_app(floor: dict[str, Any], work: Any, *args: Any, **kwargs: Any) -> Any:
    """Tick work run on the app's own loop (its PostgreSQL pool belongs to that loop)."""
    portal = floor["admin"].http.blocking_portal
    return await asyncio.to_thread(portal.call, functools.partial(work, floor["system"], *args, **kwargs))


async def customer(client: Any, surname: str = "王", given: str = "建国") -> str:
    """A prospect (a person; D1's dserp fields are only required of vehicle owners)."""
    made = await ok(client, 'mutation($s: String!, $g: String!) { customerCreate(input: {kind: "person", surname: $s, '
                    'givenName: $g, status: "potential"}) { customer { id } errors { code } } }', "customerCreate",
                    s=surname, g=given)
    return made["customer"]["id"]
