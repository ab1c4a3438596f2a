"""Tenant acme with two departments and people to propose, approve and lift blacklist entries; a
controlled clock for the blacklist service; customers made through the customer service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import pytest

from core.blacklists import service
from core.context import Context
from core.customers import service as customers
from core.plugins.testing import make_registry
from core.tenancy import service as tenancy
from tests.support import SYSTEM, Clock, add_user, as_user


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock(datetime(2024, 1, 1, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai
    monkeypatch.setattr(service, "now", c)
    return c


PERSON = {"kind": "person", "surname": "王", "given_name": "小明", "phones": ["138 1234 5678"],
          "identifier": {"type": "resident_id", "number": "11010519491231002X"},
          "address": {"province": "北京市", "city": "北京市", "county": "朝阳区", "street": "建国路", "house_number": "88号"}}


@dataclass
class World:
    tenant_id: UUID
    system: Context
    sales: UUID  # department X
    service_dept: UUID  # department Y
    customer: UUID
    proposer: Context
    approver: Context
    outsider: Context  # signed in, no blacklist permission
    globex: Context


@pytest.fixture
def registry():
    return make_registry()


@pytest.fixture
async def world(seeded, registry) -> World:
    acme = seeded.acme.id
    system = SYSTEM.for_tenant(acme)
    departments = {d.name: d.id for d in await tenancy.list_departments(system)}
    created = await customers.create_customer(system, registry, PERSON)
    made = {name: (await add_user(seeded.acme, name)).id for name in ("proposer", "approver", "outsider")}
    boss = (await add_user(seeded.globex, "boss")).id
    every = tuple(p.name for p in service.PERMISSIONS)
    return World(
        tenant_id=acme, system=system, sales=departments["销售部"], service_dept=departments["客服部"],
        customer=created.customer.id,
        proposer=as_user(acme, made["proposer"], *every),
        approver=as_user(acme, made["approver"], *every),
        outsider=as_user(acme, made["outsider"]),
        globex=as_user(seeded.globex.id, boss, *every),
    )
