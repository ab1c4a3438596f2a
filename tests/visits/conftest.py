"""A small clinic vertical grading VIP / 优选 / 合格 with MD25's monthly on-site plans and a
quarterly phone plan for 合格, enabled for acme and globex; two departments and two owners in acme;
a controlled clock for the visit service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from core.context import Context
from core.customers.tables import Customer
from core.db import unit_of_work
from core.plugins.testing import make_registry, plugin
from core.plugins.types import Grade, GradingScheme, VerticalInfo, VisitPlan
from core.tenancy import service as tenancy
from core.verticals import service as verticals
from core.visits import service
from tests.support import SYSTEM, Clock, add_user, as_user

SCHEME = GradingScheme("clinic_grades", "Clinic grades", "客户分级",
                       grades=(Grade("vip", "VIP", "VIP类", 1, cap_percent=15),
                               Grade("preferred", "Preferred", "优选类", 2, cap_percent=30),
                               Grade("qualified", "Qualified", "合格类", 3)))
PLANS = (
    VisitPlan("vip_monthly", "vip", 30, "on_site", "VIP on site monthly (MD25)", "VIP类每月走访", "clinic_grades",
              monthly=True),
    VisitPlan("preferred_monthly", "preferred", 30, "on_site", "Preferred on site monthly (MD25)", "优选类每月走访",
              "clinic_grades", monthly=True),
    VisitPlan("qualified_call", "qualified", 90, "phone", "Qualified called quarterly", "合格类每季度电话回访",
              "clinic_grades"),
)
clinic = plugin(
    kehu_vertical_info=lambda: VerticalInfo(id="clinic", name_zh="诊所", name_en="Clinic", version="1.0"),
    kehu_grading_schemes=lambda: [SCHEME],
    kehu_visit_plans=lambda: list(PLANS),
)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock(datetime(2026, 6, 3, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai, Wednesday 3 June 2026
    monkeypatch.setattr(service, "now", c)
    return c


@pytest.fixture
def registry():
    return make_registry(("clinic", clinic))


@dataclass
class World:
    acme: UUID
    globex: UUID
    sales: Context  # customer.read and customer.write in acme
    reader: Context  # customer.read only
    other: Context  # globex, every customer permission
    north: UUID
    south: UUID
    wang: UUID
    li: UUID


async def add_customer(tenant_id: UUID, name: str, *, owner_id: UUID | None = None,
                       department_id: UUID | None = None) -> UUID:
    customer_id = uuid4()
    async with unit_of_work(SYSTEM.for_tenant(tenant_id)) as uow:
        await uow.insert(Customer(id=customer_id, kind="organisation", status="active", display_name=name,
                                  owner_id=owner_id, department_id=department_id, search=name.lower(), data="{}",
                                  updated_at=datetime.now(UTC), created_by="test"))
    return customer_id


@pytest.fixture
async def world(seeded, registry) -> World:
    for tenant in (seeded.acme, seeded.globex):
        await verticals.enable_vertical(SYSTEM.for_tenant(tenant.id), registry, "clinic")
    admin = SYSTEM.for_tenant(seeded.acme.id)
    north = (await tenancy.create_department(admin, name="华北销售部")).id
    south = (await tenancy.create_department(admin, name="华南销售部")).id
    wang = (await add_user(seeded.acme, "wang")).id
    li = (await add_user(seeded.acme, "li")).id
    boss = (await add_user(seeded.globex, "boss")).id
    return World(acme=seeded.acme.id, globex=seeded.globex.id,
                 sales=as_user(seeded.acme.id, wang, "customer.read", "customer.write"),
                 reader=as_user(seeded.acme.id, li, "customer.read"),
                 other=as_user(seeded.globex.id, boss, "customer.read", "customer.write"),
                 north=north, south=south, wang=wang, li=li)
