"""A small vertical grading VIP / 优选 / 合格 per department (MD19) with a hard VIP cap of 15% (a tenant
parameter, MD4 d), a soft preferred cap of 30%, a fact-based policy and MD10's 5-day deadline;
enabled for acme and globex; two departments; a proposer, an approver and a reader; a controlled clock."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from core.context import Context
from core.customers.tables import Customer
from core.db import unit_of_work
from core.grading import service
from core.grading.tables import GradeFact
from core.plugins.testing import make_registry, plugin
from core.plugins.types import (
    Grade,
    GradingScheme,
    Parameter,
    ParameterKind,
    Permission,
    VerticalInfo,
)
from core.tenancy.tables import Department
from core.verticals import service as verticals
from tests.support import SYSTEM, Clock, add_user, as_user

VERTICAL = "gradetest"
ASSIGN = "gradetest.grade.assign"


def by_business(facts, parameters) -> str:
    business = facts.get("annual_business") or 0
    return "vip" if business >= 100 else "preferred" if business >= 50 else "qualified"


SCHEME = GradingScheme(
    "customer_grade", "Customer grade", "客户分级",
    grades=(Grade("vip", "VIP", "VIP类", 1, cap_percent=15, cap_parameter="vip_cap_percent"),
            Grade("preferred", "Preferred", "优选类", 2, cap_percent=30, cap_soft=True),
            Grade("qualified", "Qualified", "合格类", 3)),
    scope="department", score=by_business)
PARAMETERS = (
    Parameter("vip_cap_percent", ParameterKind.DECIMAL, 15.0, "VIP cap (MD4 d)", "VIP比例上限", minimum=0, maximum=100),
    Parameter("downgrade_deadline_days", ParameterKind.INTEGER, 5, "MD10 deadline", "降级期限", minimum=1, maximum=60),
    Parameter("downgrade_deadline_unit", ParameterKind.CHOICE, "calendar_days", "MD10 deadline in calendar or "
              "working days", "降级期限按自然日或工作日计", choices=("calendar_days", "working_days")),
)
gradetest = plugin(
    kehu_vertical_info=lambda: VerticalInfo(id=VERTICAL, name_zh="分级测试", name_en="Grading test", version="1.0"),
    kehu_permissions=lambda: [Permission(ASSIGN, "grade customers", "评定客户等级")],
    kehu_parameters=lambda: list(PARAMETERS),
    kehu_grading_schemes=lambda: [SCHEME],
)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock(datetime(2024, 7, 1, 2, 0, tzinfo=UTC))  # MD10's example: evaluated on 2024-07-01
    monkeypatch.setattr(service, "now", c)
    return c


@pytest.fixture
def registry():
    return make_registry((VERTICAL, gradetest))


@dataclass
class World:
    tenant_id: UUID
    globex_id: UUID
    sales: UUID  # department
    service_dept: UUID  # department
    proposer: Context
    approver: Context
    reader: Context  # customer.read only
    globex: Context


async def add_department(tenant_id: UUID, name: str) -> UUID:
    department_id = uuid4()
    async with unit_of_work(SYSTEM.for_tenant(tenant_id)) as uow:
        await uow.insert(Department(id=department_id, name=name))
    return department_id


async def add_customers(tenant_id: UUID, count: int, department_id: UUID | None) -> list[UUID]:
    ids = [uuid4() for _ in range(count)]
    async with unit_of_work(SYSTEM.for_tenant(tenant_id)) as uow:
        for n, customer_id in enumerate(ids):
            name = f"customer {n}"
            await uow.insert(Customer(id=customer_id, kind="organisation", status="active", display_name=name,
                                      department_id=department_id, search=name, data="{}",
                                      updated_at=datetime.now(UTC), created_by="test"))
    return ids


async def add_facts(tenant_id: UUID, scope_key: str, customers: list[UUID], name: str, value) -> None:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id)) as uow:
        for customer_id in customers:
            await uow.insert(GradeFact(id=uuid4(), customer_id=customer_id, scope_key=scope_key, name=name,
                                       value=json.dumps(value), recorded_at=datetime.now(UTC), recorded_by="test"))


@pytest.fixture
async def world(seeded, registry) -> World:
    for tenant in (seeded.acme, seeded.globex):
        await verticals.enable_vertical(SYSTEM.for_tenant(tenant.id), registry, VERTICAL)
    acme = seeded.acme.id
    made = {name: (await add_user(seeded.acme, name)).id for name in ("proposer", "approver", "reader")}
    other = (await add_user(seeded.globex, "boss")).id
    return World(
        tenant_id=acme, globex_id=seeded.globex.id,
        sales=await add_department(acme, "Sales"), service_dept=await add_department(acme, "Service"),
        proposer=as_user(acme, made["proposer"], ASSIGN, "customer.read"),
        approver=as_user(acme, made["approver"], ASSIGN, "customer.read"),
        reader=as_user(acme, made["reader"], "customer.read"),
        globex=as_user(seeded.globex.id, other, ASSIGN, "customer.read"),
    )


def later(clock: Clock, **delta: float) -> datetime:
    return clock.at + timedelta(**delta)
