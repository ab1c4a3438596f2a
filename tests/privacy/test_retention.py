"""Retention and the purge (acceptance 5): run twice, the second run deletes nothing more; legal
holds and frozen customers survive it; a plugin's seal rule freezes instead of erasing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.plugins import manager
from core.customers import service
from core.customers.tables import Customer
from core.db import unit_of_work
from core.jobs import long_jobs
from core.jobs import service as job_service
from core.plugins.testing import make_registry, plugin
from core.plugins.types import ArchiveDocument, ArchiveStandard, RetentionRule, VerticalInfo
from core.privacy import freeze, retention
from core.verticals import service as verticals
from tests.support import SYSTEM, add_user, sign_in


@pytest.fixture
def reg():
    registry = make_registry()
    manager.start_verticals(registry)
    yield registry
    manager.start_verticals(None)


async def _customer(ctx, reg, name, status, years_ago):
    created = await service.create_customer(ctx, reg, {"kind": "person", "surname": "赵", "given_name": name,
                                                       "status": status})
    async with unit_of_work(ctx) as uow:
        await uow.update(Customer, {Customer.updated_at: service.now() - timedelta(days=round(years_ago * 365.25))}
                         ).where(Customer.id == created.customer.id)
    return created.customer.id


async def _statuses(ctx):
    async with unit_of_work(ctx, write=False) as uow:
        return {r["id"]: (r["status"], r["display_name"]) for r in await uow.select(
            Customer.id, Customer.status, Customer.display_name)}


async def _purge(tenant_id):
    ctx = SYSTEM.for_tenant(tenant_id)
    job_id = await retention.start_purge(ctx)
    assert await long_jobs.run_job(tenant_id, job_id)
    return (await job_service.get_job(ctx, job_id)).result


async def test_purge_twice_erases_once_and_spares_holds_frozen_and_the_active(settings, seeded, reg):
    acme = SYSTEM.for_tenant(seeded.acme.id)
    gone = await _customer(acme, reg, "流失", "lost", 6)
    recent = await _customer(acme, reg, "新近", "lost", 2)
    active = await _customer(acme, reg, "活跃", "active", 9)
    held = await _customer(acme, reg, "保全", "terminated", 7)
    frozen = await _customer(acme, reg, "冻结", "lost", 8)
    await retention.place_legal_hold(acme, held, "litigation pending")
    await freeze.freeze_customer(acme, frozen, "tax archive", "税收征收管理法")

    first = await _purge(seeded.acme.id)
    after_first = await _statuses(acme)
    second = await _purge(seeded.acme.id)

    assert first["erased"] == 1 and second == {"erased": 0, "frozen": 0, "skipped": 0}
    assert await _statuses(acme) == after_first
    assert after_first[gone] == ("erased", "已删除")
    for survivor, name in ((recent, "赵新近"), (active, "赵活跃"), (held, "赵保全"), (frozen, "赵冻结")):
        assert after_first[survivor][1] == name


async def test_the_tenant_setting_shortens_retention(database, seeded, reg):
    acme = SYSTEM.for_tenant(seeded.acme.id)
    two_years = await _customer(acme, reg, "两年", "lost", 2.5)
    async with unit_of_work(acme) as uow:
        from core.identity.policies import write_setting

        await write_setting(uow, retention.YEARS_KEY, 2)
    assert (await _purge(seeded.acme.id))["erased"] == 1
    assert (await _statuses(acme))[two_years][0] == "erased"


async def test_a_plugin_seal_rule_freezes_instead_of_erasing(database, seeded):
    archive = plugin(
        kehu_vertical_info=lambda: VerticalInfo(id="dealer", name_zh="经销商", name_en="Dealer", version="1.0"),
        kehu_archive_standards=lambda: [ArchiveStandard(
            id="service", name_en="Service archive", name_zh="维修档案",
            documents=(ArchiveDocument("order", "Order", "工单"),),
            retention=(RetentionRule("after_service", 5, "last_service", "seal", "5 years after the last service",
                                     "最后一次维修后保存 5 年"),))])
    registry = make_registry(("dealer", archive))
    manager.start_verticals(registry)
    try:
        acme = SYSTEM.for_tenant(seeded.acme.id)
        await verticals.enable_vertical(acme, registry, "dealer")
        kept = await _customer(acme, registry, "维修", "lost", 6)
        policies = await retention.retention_policies(acme, registry)
        assert [p.code for p in policies] == ["inactive", "service.after_service"]
        result = await _purge(seeded.acme.id)
        assert result["frozen"] == 1 and result["erased"] == 0
        assert (await _statuses(acme))[kept] == ("lost", "赵维修")
        async with unit_of_work(acme, write=False) as uow:
            assert await freeze.is_frozen(uow, kept)
        assert (await _purge(seeded.acme.id))["frozen"] == 0
    finally:
        manager.start_verticals(None)


async def test_holds_and_purges_need_the_permission(database, seeded, reg):
    acme = SYSTEM.for_tenant(seeded.acme.id)
    customer = await _customer(acme, reg, "权限", "lost", 1)
    await add_user(seeded.acme, "lin")
    lin = await sign_in("acme", "lin")
    for call in (retention.place_legal_hold(lin, customer, "x"), retention.start_purge(lin)):
        with pytest.raises(Exception) as denied:
            await call
        assert getattr(denied.value, "code", None) == "PERMISSION_DENIED"


async def test_a_frozen_customer_is_hidden_refused_and_read_only_by_auditors(database, seeded, reg):
    acme = SYSTEM.for_tenant(seeded.acme.id)
    customer = await _customer(acme, reg, "冻结", "active", 0)
    await freeze.freeze_customer(acme, customer, "archive rule", "PIPL art. 47")
    admin = acme  # the system holds no auditor permission (the tenant administrator does, and would see it)
    page, _ = await service.list_customers(admin, service.CustomerFilter(), first=50)
    assert customer not in [v.id for v in page]
    for call in (service.get_customer(admin, customer),
                 service.update_customer(admin, reg, customer, version=1, changes={"given_name": "变"})):
        with pytest.raises(Exception) as refused:
            await call
        assert getattr(refused.value, "code", None) == "CUSTOMER_FROZEN"
