"""Issue 18 points 5 and 8 on the archive engine: a vertical that declares no KPI points has none
charged, and a permission error names the permission the caller actually lacks."""

from __future__ import annotations

import dataclasses

import pytest

from core.archives import folders, kpi, lifecycle
from core.archives.tables import KpiEntry
from core.context import Context, Principal
from core.db import unit_of_work
from core.errors import KehuError
from core.identity.permissions import Scope
from core.plugins.testing import make_registry, plugin
from core.plugins.types import Permission, VerticalInfo
from core.verticals import service as verticals
from tests.archives.conftest import GOOD, SALES
from tests.archives.conftest import dealer as dealer_plugin
from tests.support import SYSTEM, add_user

LOGISTICS_PERMISSIONS = [Permission(f"logistics.archive.{w}", w, w) for w in ("submit", "check", "seal")]
logistics = plugin(
    kehu_vertical_info=lambda: VerticalInfo(id="logistics", name_zh="物流", name_en="Logistics", version="1.0"),
    kehu_permissions=lambda: LOGISTICS_PERMISSIONS,
    kehu_archive_standards=lambda: [dataclasses.replace(SALES, rectification_hours_parameter=None,
                                                        retention=SALES.retention[:1])],
)


def _as(tenant_id, user_id, *permissions):
    return Context.for_principal(Principal(tenant_id=tenant_id, user_id=user_id, api_key_id=None,
                                           permissions={p: Scope.TENANT for p in permissions}))


@pytest.fixture
async def two_verticals(seeded):
    """acme with the in-repo test dealer and an out-of-tree-like logistics vertical (no KPI
    parameters) enabled, and people of the logistics vertical."""
    registry = make_registry(("dealer", dealer_plugin), ("logistics", logistics))
    for vertical in ("dealer", "logistics"):
        await verticals.enable_vertical(SYSTEM.for_tenant(seeded.acme.id), registry, vertical)
    made = {name: (await add_user(seeded.acme, name)).id for name in ("courier", "auditor", "dealer_clerk")}
    return registry, {
        "courier": _as(seeded.acme.id, made["courier"], "logistics.archive.submit"),
        "auditor": _as(seeded.acme.id, made["auditor"], "logistics.archive.check"),
        "dealer_clerk": _as(seeded.acme.id, made["dealer_clerk"], "dealer.archive.check"),
    }


async def _logistics_archive(registry, submitter):
    folder = await folders.create_folder(submitter, registry, "logistics", "WAYBILL-0001")
    archive = await lifecycle.create_archive(submitter, registry, folder.id, "sales")
    for position, (code, fields) in enumerate(GOOD.items(), start=1):
        archive = await lifecycle.put_document(submitter, registry, archive.id, code, fields, position=position)
    return await lifecycle.submit_archive(submitter, registry, archive.id)


async def test_a_vertical_declaring_no_kpi_points_has_none_charged(two_verticals, seeded):
    """Issue 18 point 5: a vertical that declares no KPI parameters gets no KPI entries (before,
    one point was charged per rejection and unchanged resubmission) and no fine."""
    registry, people = two_verticals
    archive = await _logistics_archive(registry, people["courier"])
    await lifecycle.check_archive(people["auditor"], registry, archive.id)
    await lifecycle.reject_archive(people["auditor"], registry, archive.id, ["waybill unreadable"])
    await lifecycle.resubmit_archive(people["courier"], registry, archive.id)  # unchanged
    with pytest.raises(KehuError) as refused:
        await kpi.record_fine(people["auditor"], registry, archive.id, [people["courier"].user_id], "fraud")
    assert refused.value.code == "FINE_NOT_SET"
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id), write=False) as uow:
        assert await uow.count(KpiEntry) == 0


async def test_a_permission_error_names_the_permission_actually_missing(two_verticals):
    """Issue 18 point 8: a logistics user asking for an archive check is told it lacks
    logistics.archive.check, not the first vertical's (dealer.archive.check)."""
    registry, people = two_verticals
    archive = await _logistics_archive(registry, people["courier"])
    with pytest.raises(KehuError) as refused:
        await lifecycle.check_archive(people["courier"], registry, archive.id)
    assert refused.value.code == "PERMISSION_DENIED"
    assert refused.value.message_en == "you lack the permission logistics.archive.check"
    assert "logistics.archive.check" in refused.value.message_zh
    # A reader of no vertical at all is told every permission that would do.
    with pytest.raises(KehuError) as refused:
        await lifecycle.get_archive(_as(people["courier"].tenant_id, people["courier"].user_id), registry, archive.id)
    assert "dealer.archive.check" in refused.value.message_en and "logistics.archive.check" in refused.value.message_en


def test_a_decimal_rectification_time_is_read_as_hours():
    """Issue 18 points 4 and 5: the rectification time may be a decimal parameter (a Decimal
    since point 4); the engine reads it as whole hours instead of falling back to 24."""
    from decimal import Decimal

    from core.archives.common import DEFAULT_RECTIFICATION_HOURS, int_parameter

    assert DEFAULT_RECTIFICATION_HOURS == 24
    assert int_parameter({"rectification_hours": Decimal("36")}, "rectification_hours", 24) == 36
    assert int_parameter({}, "rectification_hours", 24) == 24
