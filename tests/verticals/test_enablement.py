"""A tenant enables verticals and overrides their parameters: validated against the plugin's
schema, versioned, audited with old and new value; a refused change leaves nothing behind.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from core.audit.tables import AuditEntry
from core.db import unit_of_work
from core.errors import KehuError
from core.jobs.tables import OutboxEvent
from core.plugins.manager import load_verticals
from core.verticals import service
from core.verticals.tables import VerticalEnablement
from tests.support import SYSTEM, add_user, sign_in

REGISTRY = load_verticals()


async def vertical_audit(tenant_id) -> list[dict]:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        rows = await uow.select(AuditEntry).where(AuditEntry.target_type == "vertical").order_by(AuditEntry.seq)
    return [{"action": r["action"], "target": r["target_id"], "diff": json.loads(r["diff"])} for r in rows]


async def stored(tenant_id) -> list[dict]:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        rows = await uow.select(VerticalEnablement.vertical_id, VerticalEnablement.status, VerticalEnablement.overrides,
                                VerticalEnablement.version)
        events = await uow.count(OutboxEvent).where(OutboxEvent.aggregate_type == "vertical")
    return [*rows, {"events": events}]


@pytest.fixture
async def admin(seeded):
    return await sign_in("acme", "admin")


@pytest.fixture
async def enabled(admin):
    await service.enable_vertical(admin, REGISTRY, "automotive")
    return admin


async def test_enabling_is_audited_and_parameters_start_at_the_plugin_defaults(admin, seeded):
    view = await service.enable_vertical(admin, REGISTRY, "automotive")
    assert view.enabled and view.version == 1
    assert await service.vertical_parameters(admin, REGISTRY, "automotive") == REGISTRY.definition("automotive").defaults()
    assert await vertical_audit(seeded.acme.id) == [{"action": "vertical.enabled", "target": "automotive", "diff": {
        "status": {"from": "disabled", "to": "enabled"}, "version": {"from": 0, "to": 1},
        "plugin_version": {"to": REGISTRY.get("automotive").version}}}]


async def test_a_valid_override_is_stored_versioned_and_audited_with_old_and_new_value(enabled, seeded):
    view = await service.update_vertical_parameters(enabled, REGISTRY, "automotive", {"rectification_hours": 48},
                                                    expected_version=1)
    assert view.version == 2
    effective = await service.vertical_parameters(enabled, REGISTRY, "automotive")
    assert effective["rectification_hours"] == 48
    assert effective["missing_archive_deadline_days"] == 2, "untouched parameters keep their defaults"
    last = (await vertical_audit(seeded.acme.id))[-1]
    assert last == {"action": "vertical.parameters_updated", "target": "automotive", "diff": {
        "rectification_hours": {"from": 24, "to": 48}, "version": {"from": 1, "to": 2}}}
    await service.update_vertical_parameters(enabled, REGISTRY, "automotive", {"rectification_hours": None})
    assert (await service.vertical_parameters(enabled, REGISTRY, "automotive"))["rectification_hours"] == 24
    assert (await vertical_audit(seeded.acme.id))[-1]["diff"]["rectification_hours"] == {"from": 48, "to": 24}


@pytest.mark.parametrize("changes, code, field", [
    ({"rectification_hours": 241}, "PARAMETER_INVALID", "rectification_hours"),
    ({"rectification_hours": 0}, "PARAMETER_INVALID", "rectification_hours"),
    ({"rectification_hours": "48"}, "PARAMETER_INVALID", "rectification_hours"),
    ({"tread_depth_min_mm": 9.5}, "PARAMETER_INVALID", "tread_depth_min_mm"),
    ({"rectification_hours": 48, "no_such_parameter": 1}, "PARAMETER_UNKNOWN", "no_such_parameter"),
])
async def test_an_override_outside_the_schema_is_refused_and_changes_nothing(enabled, seeded, changes, code, field):
    before = (await stored(seeded.acme.id), await vertical_audit(seeded.acme.id))
    with pytest.raises(KehuError) as refused:
        await service.update_vertical_parameters(enabled, REGISTRY, "automotive", changes)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert (await stored(seeded.acme.id), await vertical_audit(seeded.acme.id)) == before


async def test_the_bounds_are_named_in_both_languages(enabled):
    with pytest.raises(KehuError) as refused:
        await service.update_vertical_parameters(enabled, REGISTRY, "automotive", {"rectification_hours": 241})
    assert refused.value.message("en") == "rectification_hours must be between 1 and 240 hours, not 241"
    assert "1 至 240" in refused.value.message("zh")


async def test_a_stale_version_is_refused(enabled, seeded):
    await service.update_vertical_parameters(enabled, REGISTRY, "automotive", {"rectification_hours": 36})
    before = await stored(seeded.acme.id)
    with pytest.raises(KehuError) as refused:
        await service.update_vertical_parameters(enabled, REGISTRY, "automotive", {"rectification_hours": 12},
                                                 expected_version=1)
    assert refused.value.code == "VERSION_CONFLICT"
    assert await stored(seeded.acme.id) == before


async def test_a_disabled_vertical_keeps_its_overrides_and_refuses_reads_and_changes(enabled, seeded):
    await service.update_vertical_parameters(enabled, REGISTRY, "automotive", {"fraud_fine_cny": 20})
    await service.disable_vertical(enabled, REGISTRY, "automotive")
    for call in (service.vertical_parameters(enabled, REGISTRY, "automotive"),
                 service.update_vertical_parameters(enabled, REGISTRY, "automotive", {"fraud_fine_cny": 30}),
                 service.require_enabled(enabled, "automotive")):
        with pytest.raises(KehuError) as refused:
            await call
        assert refused.value.code == "VERTICAL_NOT_ENABLED"
    await service.enable_vertical(enabled, REGISTRY, "automotive")
    assert (await service.vertical_parameters(enabled, REGISTRY, "automotive"))["fraud_fine_cny"] == 20
    assert [e["action"] for e in await vertical_audit(seeded.acme.id)] == [
        "vertical.enabled", "vertical.parameters_updated", "vertical.disabled", "vertical.enabled"]


async def test_enabling_twice_changes_nothing_the_second_time(enabled, seeded):
    before = (await stored(seeded.acme.id), await vertical_audit(seeded.acme.id))
    assert (await service.enable_vertical(enabled, REGISTRY, "automotive")).version == 1
    assert (await stored(seeded.acme.id), await vertical_audit(seeded.acme.id)) == before


async def test_only_vertical_managers_enable_or_tune_and_a_refusal_changes_nothing(enabled, seeded):
    await add_user(seeded.acme, "clerk")
    clerk = await sign_in("acme", "clerk")
    before = (await stored(seeded.acme.id), await vertical_audit(seeded.acme.id))
    for call in (service.enable_vertical(clerk, REGISTRY, "tobacco"),
                 service.disable_vertical(clerk, REGISTRY, "automotive"),
                 service.update_vertical_parameters(clerk, REGISTRY, "automotive", {"rectification_hours": 48})):
        with pytest.raises(KehuError) as refused:
            await call
        assert refused.value.code == "PERMISSION_DENIED"
    assert (await stored(seeded.acme.id), await vertical_audit(seeded.acme.id)) == before
    assert (await service.vertical_parameters(clerk, REGISTRY, "automotive"))["rectification_hours"] == 24, \
        "every member reads the effective parameters"


async def test_an_unknown_vertical_is_refused(admin):
    with pytest.raises(KehuError) as refused:
        await service.enable_vertical(admin, REGISTRY, "aviation")
    assert (refused.value.code, refused.value.field) == ("VERTICAL_UNKNOWN", "vertical_id")


async def test_one_tenants_choices_are_not_anothers(enabled, seeded):
    await service.update_vertical_parameters(enabled, REGISTRY, "automotive", {"rectification_hours": 48})
    other = await sign_in("globex", "admin")
    views = {v.definition.id: v for v in await service.tenant_verticals(other, REGISTRY)}
    assert not views["automotive"].enabled and views["automotive"].version == 0
    with pytest.raises(KehuError, match="has not enabled"):
        await service.vertical_parameters(other, REGISTRY, "automotive")
    await service.enable_vertical(other, REGISTRY, "automotive")
    assert (await service.vertical_parameters(other, REGISTRY, "automotive"))["rectification_hours"] == 24


async def test_an_override_the_plugin_no_longer_accepts_falls_back_to_the_default(enabled, seeded):
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id)) as uow:  # as left by an older plugin version
        await uow.update(VerticalEnablement, {VerticalEnablement.overrides: json.dumps(
            {"rectification_hours": 999, "retired_parameter": 3})}).where(VerticalEnablement.vertical_id == "automotive")
    effective = await service.vertical_parameters(enabled, REGISTRY, "automotive")
    assert effective["rectification_hours"] == 24 and "retired_parameter" not in effective
