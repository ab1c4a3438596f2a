"""A small test vertical with one sales-like archive type (documents with fields, signatures,
seals, a measured value, one policy and one manual rule) and a service archive type, enabled for
acme; users with the vertical's archive roles."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.context import Context, Principal
from core.identity.permissions import Scope
from core.plugins.testing import make_registry, plugin
from core.plugins.types import (
    ArchiveCheck,
    ArchiveDocument,
    ArchiveStandard,
    CheckFinding,
    DocumentField,
    Parameter,
    ParameterKind,
    Permission,
    RetentionRule,
    VerticalInfo,
)
from core.verticals import service as verticals
from tests.support import SYSTEM, add_user


def buyer_matches_id(archive, parameters):
    docs = {d["code"]: d["fields"] for d in archive["documents"]}
    if "invoice" in docs and "id_card" in docs and docs["invoice"].get("buyer") != docs["id_card"].get("name"):
        return CheckFinding("the invoice buyer differs from the ID name", "发票购车单位与身份证姓名不符",
                            document="invoice", field="buyer")
    return None


SALES = ArchiveStandard(
    id="sales", name_en="Sales archive", name_zh="销售档案", subject="vehicle",
    rectification_hours_parameter="rectification_hours",
    documents=(
        ArchiveDocument("invoice", "Invoice", "购车发票", fields=(
            DocumentField("date", "date", "Date", "日期"), DocumentField("buyer", "text", "Buyer", "购车单位"),
            DocumentField("amount", "amount", "Amount", "金额")), signatures=("customer",), seals=("finance",)),
        ArchiveDocument("id_card", "ID card", "身份证", fields=(DocumentField("name", "text", "Name", "姓名"),)),
        ArchiveDocument("pdi", "PDI form", "PDI保养表", fields=(
            DocumentField("tyre_pressure", "measure", "Tyre pressure", "胎压", unit="Bar"),)),
    ),
    checks=(ArchiveCheck("S4", "Invoice buyer equals the ID name", "发票购车单位与证件姓名一致", buyer_matches_id),
            ArchiveCheck("S7", "The certificate copy is legible", "合格证复印件清晰")),
    retention=(RetentionRule("A7", 5, "created", "seal", "5 years from creation", "自建档起5年"),
               RetentionRule("A6", 5, "last_service", "seal", "5 years after the last service", "末次维修后5年",
                             parameter="retention_years"),),
)
SERVICE = ArchiveStandard(
    id="service_archive", name_en="Service archive", name_zh="服务档案", subject="vehicle",
    documents=(ArchiveDocument("work_order", "Work order", "任务委托书"),),
    retention=SALES.retention,
)
I = ParameterKind.INTEGER
PARAMETERS = [
    Parameter("rectification_hours", I, 24, "hours", "小时", minimum=1),
    Parameter("kpi_points_late_rectification", I, 1, "late", "逾期"),
    Parameter("kpi_points_unchanged_resubmission", I, 2, "unchanged", "原封"),
    Parameter("kpi_points_missing_archive", I, 3, "missing", "缺失"),
    Parameter("kpi_points_nonconforming_archive", I, 1, "nonconforming", "不合格"),
    Parameter("fraud_fine_cny", I, 10, "fine", "罚款"),
    Parameter("missing_archive_deadline_days", I, 2, "days", "天", minimum=1),
    Parameter("retention_years", I, 5, "years", "年", minimum=1),
    Parameter("completeness_target_percent", ParameterKind.DECIMAL, 99.0, "completeness", "完整性"),
    Parameter("authenticity_target_percent", ParameterKind.DECIMAL, 95.0, "authenticity", "真实性"),
]
PERMISSIONS = [Permission(f"dealer.archive.{w}", w, w) for w in ("submit", "check", "seal")] + [
    Permission("dealer.exception.approve", "approve", "审批")]

dealer = plugin(
    kehu_vertical_info=lambda: VerticalInfo(id="dealer", name_zh="测试经销商", name_en="Test dealer", version="1.0"),
    kehu_permissions=lambda: PERMISSIONS,
    kehu_parameters=lambda: PARAMETERS,
    kehu_archive_standards=lambda: [SALES, SERVICE],
)


@pytest.fixture
def registry():
    return make_registry(("dealer", dealer))


@dataclass
class People:
    advisor: Context  # submits
    clerk: Context  # checks (客服部 archive administrator)
    manager: Context  # checks and approves exceptions
    keeper: Context  # seals
    outsider: Context  # no archive permission
    globex: Context  # every permission, other tenant


def _as(tenant_id, user_id, *permissions):
    return Context.for_principal(Principal(tenant_id=tenant_id, user_id=user_id, api_key_id=None,
                                           permissions={p: Scope.TENANT for p in permissions}))


@pytest.fixture
async def people(seeded, registry):
    await verticals.enable_vertical(SYSTEM.for_tenant(seeded.acme.id), registry, "dealer")
    await verticals.enable_vertical(SYSTEM.for_tenant(seeded.globex.id), registry, "dealer")
    acme = seeded.acme.id
    made = {name: (await add_user(seeded.acme, name)).id for name in ("advisor", "clerk", "manager", "keeper", "outsider")}
    other = (await add_user(seeded.globex, "boss")).id
    every = [p.name for p in PERMISSIONS]
    return People(advisor=_as(acme, made["advisor"], "dealer.archive.submit"),
                  clerk=_as(acme, made["clerk"], "dealer.archive.check"),
                  manager=_as(acme, made["manager"], "dealer.archive.check", "dealer.exception.approve"),
                  keeper=_as(acme, made["keeper"], "dealer.archive.seal"),
                  outsider=_as(acme, made["outsider"]),
                  globex=_as(seeded.globex.id, other, *every))


GOOD = {
    "invoice": {"date": "2026-03-02", "buyer": "王小明", "amount": "158000.00",
                "signatures": [{"role": "customer", "name": "王小明", "signed_at": "2026-03-02T10:15"}],
                "seals": ["finance"]},
    "id_card": {"name": "王小明"},
    "pdi": {"tyre_pressure": "2.5Bar"},
}


# --- the automotive plugin through the engine ---------------------------------------------------

@pytest.fixture
def automotive():
    import plugins.automotive

    return make_registry(("automotive", plugins.automotive))


@pytest.fixture
async def crew(seeded, automotive):
    """The automotive vertical enabled for acme (globex too); people with its archive roles."""
    await verticals.enable_vertical(SYSTEM.for_tenant(seeded.acme.id), automotive, "automotive")
    await verticals.enable_vertical(SYSTEM.for_tenant(seeded.globex.id), automotive, "automotive")
    acme = seeded.acme.id
    made = {name: (await add_user(seeded.acme, name)).id for name in ("advisor", "clerk", "manager", "keeper", "outsider")}
    other = (await add_user(seeded.globex, "boss")).id
    every = [p.name for p in automotive.permissions]
    return People(advisor=_as(acme, made["advisor"], "automotive.archive.submit"),
                  clerk=_as(acme, made["clerk"], "automotive.archive.check"),
                  manager=_as(acme, made["manager"], "automotive.archive.check", "automotive.exception.approve"),
                  keeper=_as(acme, made["keeper"], "automotive.archive.seal"),
                  outsider=_as(acme, made["outsider"]),
                  globex=_as(seeded.globex.id, other, *every))
