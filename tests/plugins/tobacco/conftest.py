"""The tobacco vertical on kehu's vertical harness (SQLite; PostgreSQL with CI=true through the harness's
settings), with the vertical's clock pinned and a company's posts: the statistical analyst, the account
manager, the section chief, the deputy section chief, the deputy manager and the internal-management
section (S21's roles)."""

from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

import plugins.tobacco as tobacco
from core.context import Context
from plugins.tobacco import service
from tests import support
from tests.medical_devices.api import colleague, ok

SHANGHAI = ZoneInfo("Asia/Shanghai")
ERR = "errors { field code message }"
ANALYST = ["tobacco.customer.maintain", "tobacco.report.read", "customer.read", "customer.write"]
POSTS = {
    "analyst": ANALYST,
    "manager": ["tobacco.change.request", "tobacco.sign.account_manager", "customer.read"],
    "chief": ["tobacco.sign.section_chief", "tobacco.quota.approve", "tobacco.grade.change", "tobacco.change.request",
              "customer.read", "customer.write"],
    "deputy_chief": ["tobacco.sign.deputy_section_chief", "customer.read"],
    "deputy_manager": ["tobacco.sign.deputy_manager", "customer.read"],
    "internal": ["tobacco.change.file", "tobacco.report.read", "customer.read"],
}


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
    return ("tobacco", tobacco)


@pytest.fixture
def kehu_settings(settings):
    return settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 100_000})


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The Thursday before the National Day holiday of 2026, mid-morning in Shanghai."""
    c = Clock(local(2026, 9, 24, 10, 0))
    monkeypatch.setattr(service, "now", c)
    return c


@pytest.fixture
def started(kehu_registry):
    from core.plugins import manager

    manager.start_verticals(kehu_registry)
    yield kehu_registry
    manager.start_verticals(None)


@pytest.fixture
async def company(kehu_client, kehu_tenant, started, clock) -> dict[str, Any]:
    """One signed-in client per post, and the tenant's system context for the tick work."""
    posts = {name: await colleague(kehu_client, kehu_tenant, permissions) for name, permissions in POSTS.items()}
    return {**posts, "admin": kehu_client, "system": Context.system("tick", tenant_id=kehu_tenant.id),
            "tenant": kehu_tenant}


async def retailer(client: Any, *, legal_person: str = "李四", phone: str | None = None) -> str:
    """A licensed retailer's customer record (an organisation with its licence's legal person)."""
    made = await ok(client, 'mutation($n: String!, $e: JSON) { customerCreate(input: {kind: "organisation", orgName: $n, '
                    'extensions: $e}) { customer { id } errors { code } } }', "customerCreate",
                    n=f"便利店{uuid4().hex[:6]}", e={"tobacco": {"licence_legal_person": legal_person}})
    customer_id = made["customer"]["id"]
    if phone:
        await maintain(client, customer_id, order_phone=phone)
    return customer_id


async def maintain(client: Any, customer_id: str, **values: Any) -> dict:
    return await ok(client, "mutation($c: ID!, $v: JSON!) { tobaccoMasterDataMaintain(customerId: $c, values: $v) "
                    "{ customerId version %s } }" % ERR, "tobaccoMasterDataMaintain", c=customer_id, v=values)


async def extensions(client: Any, customer_id: str) -> dict:
    body = await client.execute("query($id: ID!) { customer(id: $id) { version extensions } }", id=customer_id)
    assert "errors" not in body, body
    return body["data"]["customer"]


async def on_app(company: dict[str, Any], work: Any, *args: Any) -> Any:
    """Tick work run on the app's own loop (its PostgreSQL pool belongs to that loop)."""
    portal = company["admin"].http.blocking_portal
    return await asyncio.to_thread(portal.call, functools.partial(work, company["system"], *args))


def as_uuid(value: str) -> UUID:
    return UUID(value)
