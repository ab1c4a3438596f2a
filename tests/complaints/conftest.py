"""The real-estate vertical (its property-management flow, R10) and a small quality vertical
(numbering ``{YY}{MM}-{seq:2}`` resetting each month, as R2/R3), enabled for acme and globex;
people holding the flow's permissions; a controlled clock for the complaint service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

import plugins.real_estate as real_estate
from core.complaints import service
from core.context import Context
from core.plugins.complaint_flows import (
    ComplaintFlowDefinition,
    FlowState,
    FlowTransition,
    Numbering,
    ResetPeriod,
)
from core.plugins.testing import make_registry, plugin
from core.plugins.types import VerticalInfo
from core.verticals import service as verticals
from plugins.real_estate.complaints import PERMISSIONS
from tests.support import SYSTEM, Clock, add_user, as_user

QUALITY_FLOW = ComplaintFlowDefinition(
    id="quality", name_en="Quality complaint", name_zh="客诉", categories=("quality",), severities=("normal",),
    states=(FlowState("received", "Received", "已受理"), FlowState("closed", "Closed", "已结案", terminal=True)),
    initial="received", transitions=(FlowTransition("received", "closed", "close"),),
    numbering=Numbering("{YY}{MM}-{seq:2}", ResetPeriod.MONTH))
quality = plugin(
    kehu_vertical_info=lambda: VerticalInfo(id="quality", name_zh="质量", name_en="Quality", version="1.0"),
    kehu_complaint_flows=lambda: [QUALITY_FLOW],
)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock(datetime(2026, 9, 30, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai, a Wednesday
    monkeypatch.setattr(service, "now", c)
    return c


@pytest.fixture
def registry():
    return make_registry(("real_estate", real_estate), ("quality", quality))


@dataclass
class People:
    employee: Context  # any employee: takes complaints (first responder)
    front_desk: Context
    department: Context
    office_head: Context
    company_leader: Context
    verifier: Context
    outsider: Context  # signed in, no complaint permission
    globex: Context  # every permission, other tenant


@pytest.fixture
async def people(seeded, registry) -> People:
    for tenant in (seeded.acme, seeded.globex):
        for vertical in ("real_estate", "quality"):
            await verticals.enable_vertical(SYSTEM.for_tenant(tenant.id), registry, vertical)
    acme = seeded.acme.id
    names = ("employee", "front_desk", "department", "office_head", "company_leader", "verifier", "outsider")
    made = {name: (await add_user(seeded.acme, name)).id for name in names}
    other = (await add_user(seeded.globex, "boss")).id
    p = "real_estate.complaint"
    return People(
        employee=as_user(acme, made["employee"], f"{p}.read"),
        front_desk=as_user(acme, made["front_desk"], f"{p}.read", f"{p}.front_desk"),
        department=as_user(acme, made["department"], f"{p}.read", f"{p}.handle"),
        office_head=as_user(acme, made["office_head"], f"{p}.read", f"{p}.office_head", f"{p}.handle"),
        company_leader=as_user(acme, made["company_leader"], f"{p}.read", f"{p}.company_leader", f"{p}.handle"),
        verifier=as_user(acme, made["verifier"], f"{p}.read", f"{p}.verify"),
        outsider=as_user(acme, made["outsider"]),
        globex=as_user(seeded.globex.id, other, *(x.name for x in PERMISSIONS)),
    )


PERSON = {"name": "王小明", "phone": "13812345678", "address": "3栋2单元1101"}


async def open_property(ctx, registry, category="routine", **kwargs):
    values = dict(vertical="real_estate", flow="property_complaint", category=category, severity="normal",
                  subject="电梯故障", channel="phone", complainant=PERSON)
    values.update(kwargs)
    return await service.intake(ctx, registry, **values)
