"""Issue 18 point 2: ``core.plugins`` exposes, and documents, the services a vertical may use — the
unit of work, coded errors, the audit ``record``, the outbox, permission checks with scopes, the
tenant's parameters and working-day calendar, tick work and long jobs — and a vertical using only
``core.plugins`` can do each. Issue 18 point 3: enabling a vertical offers its permissions to the
tenant's administrator role. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import core.plugins as contract
from core.plugins import (
    Duration,
    KehuError,
    Parameter,
    Permission,
    RunningJob,
    Scope,
    VerticalInfo,
    emit,
    hookimpl,
    long_job,
    may_reach,
    record,
    require_permission,
    submit_job,
    tenant_calendar,
    tenant_parameters,
    tick,
    unit_of_work,
)
from core.plugins.testing import make_registry
from tests.support import SYSTEM, sign_in

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


class Desk:
    """A vertical with a permission and a parameter, no tables: what the services need."""

    @hookimpl
    def kehu_vertical_info(self):
        return VerticalInfo(id="desk", name_zh="前台", name_en="Desk", version="1.0.0")

    @hookimpl
    def kehu_permissions(self):
        return [Permission("desk.ticket.write", "write tickets", "登记工单"),
                Permission("desk.ticket.read", "read tickets", "查看工单")]

    @hookimpl
    def kehu_parameters(self):
        return [Parameter("answer_days", "integer", 3, "Days to answer", "答复期限", minimum=1, maximum=10)]


REGISTRY = make_registry(("desk", Desk()))


@pytest.fixture
def catalog(seeded, monkeypatch):
    from core.plugins import manager
    from core.identity import permissions

    monkeypatch.setattr(manager, "_started", REGISTRY)  # the verticals this deployment started with

    monkeypatch.setattr(permissions, "_catalog", permissions.catalog())  # given back afterwards
    permissions.install_catalog(REGISTRY.permissions)
    return seeded


async def _audit(tenant_id, action: str) -> list[dict]:
    from core.audit.tables import AuditEntry

    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        rows = await uow.select(AuditEntry.target_id, AuditEntry.diff).where(AuditEntry.action == action)
    return [{"target": r["target_id"], "diff": json.loads(r["diff"])} for r in rows]


# --- point 3 -----------------------------------------------------------------------------------


async def test_enabling_a_vertical_offers_its_permissions_to_the_administrator_role(catalog):
    """Issue 18 point 3: enabling a vertical offers its permissions to the tenant's administrator role,
    so the administrator may grant them (before: PERMISSION_ESCALATION)."""
    from core.identity import roles
    from core.verticals.service import disable_vertical, enable_vertical

    admin = await sign_in("acme", "admin")
    wanted = {"desk.ticket.write": Scope.TENANT}
    with pytest.raises(KehuError) as refused:
        await roles.create_role(admin, name="前台", permissions=wanted)
    assert refused.value.code == "PERMISSION_ESCALATION"

    await enable_vertical(admin, REGISTRY, "desk")
    admin = await sign_in("acme", "admin")  # the same login reads its permissions afresh; a new one too
    assert require_permission(admin, "desk.ticket.write") is Scope.TENANT
    role = await roles.create_role(admin, name="前台", permissions=wanted)
    assert role.permissions == wanted

    administrator = next(r for r in await roles.list_roles(admin) if r.name == roles.ADMIN_ROLE)
    assert {p: s for p, s in administrator.permissions.items() if p.startswith("desk.")} == {
        "desk.ticket.read": Scope.TENANT, "desk.ticket.write": Scope.TENANT}
    offered = [e for e in await _audit(catalog.acme.id, "role.updated") if e["target"] == str(administrator.id)]
    assert len(offered) == 1 and offered[0]["diff"]["reason"] == {"to": "vertical desk enabled"}
    added = set(offered[0]["diff"]["permissions"]["to"]) - set(offered[0]["diff"]["permissions"]["from"])
    assert added == {"desk.ticket.read:tenant", "desk.ticket.write:tenant"}

    await disable_vertical(admin, REGISTRY, "desk")
    await enable_vertical(admin, REGISTRY, "desk")  # nothing added twice
    assert len([e for e in await _audit(catalog.acme.id, "role.updated")
                if e["target"] == str(administrator.id)]) == 1
    other = await sign_in("globex", "admin")  # another tenant's administrator got nothing
    with pytest.raises(KehuError):
        require_permission(other, "desk.ticket.write")


# --- point 2 -----------------------------------------------------------------------------------


def test_core_plugins_exposes_and_documents_each_service():
    """Issue 18 point 2: the services are importable from core.plugins and each is documented."""
    from core.plugins import services

    docs = DOCS.read_text(encoding="utf-8")
    section = docs[docs.index("## Services a vertical may use"):docs.index("## A worked example")]
    for name in services.__all__:
        # tenant_parameters stays a function of the package itself (it was there first) and delegates
        assert getattr(contract, name) is getattr(services, name) or name == "tenant_parameters", name
        assert name in contract.__all__, name
        assert re.search(rf"(?<![\w.]){name}\b", section), f"docs/plugins.md does not document {name}"


async def test_a_vertical_uses_the_unit_of_work_audit_outbox_and_coded_errors_all_or_nothing(catalog):
    """Issue 18 point 2: record and emit join the unit of work; a KehuError leaves nothing behind."""
    from core.jobs.tables import OutboxEvent

    ctx = SYSTEM.for_tenant(catalog.acme.id)
    with pytest.raises(KehuError) as refused:
        async with unit_of_work(ctx) as uow:
            await record(uow, "desk.ticket_added", "desk_ticket", "t-1", {"subject": "printer"})
            await emit(uow, "desk.ticket_added", "desk_ticket", "t-1", ("subject",))
            raise KehuError("DESK_CLOSED", "the desk is closed", "前台已关闭", field="subject")
    assert refused.value.code == "DESK_CLOSED" and refused.value.message("zh") == "前台已关闭"
    assert await _audit(catalog.acme.id, "desk.ticket_added") == []
    async with unit_of_work(ctx) as uow:
        await record(uow, "desk.ticket_added", "desk_ticket", "t-1", {"subject": "printer"})
        event = await emit(uow, "desk.ticket_added", "desk_ticket", "t-1", ("subject",))
    assert await _audit(catalog.acme.id, "desk.ticket_added") == [{"target": "t-1", "diff": {"subject": {"to": "printer"}}}]
    async with unit_of_work(ctx, write=False) as uow:
        assert (await uow.select(OutboxEvent.event_type).where(OutboxEvent.id == event).first())["event_type"] == \
            "desk.ticket_added"
    with pytest.raises(ValueError, match="dotted lowercase"):
        async with unit_of_work(ctx) as uow:
            await emit(uow, "TicketAdded", "desk_ticket", "t-1")


async def test_a_vertical_checks_permissions_with_scopes_and_reads_its_parameters(catalog):
    """Issue 18 point 2: permission checks with scopes; the tenant's parameters."""
    from core.identity import roles, users
    from core.verticals.service import enable_vertical, update_vertical_parameters
    from tests.support import add_user

    admin = await sign_in("acme", "admin")
    await enable_vertical(admin, REGISTRY, "desk")
    await update_vertical_parameters(await sign_in("acme", "admin"), REGISTRY, "desk", {"answer_days": 5})
    clerk = await add_user(catalog.acme, "clerk")
    role = await roles.create_role(await sign_in("acme", "admin"), name="clerks",
                                   permissions={"desk.ticket.read": Scope.OWN})
    await roles.grant_role(SYSTEM.for_tenant(catalog.acme.id), user_id=clerk.id, role_id=role.id)
    clerk_ctx = await sign_in("acme", "clerk")
    assert require_permission(clerk_ctx, "desk.ticket.read") is Scope.OWN
    assert may_reach(clerk_ctx, "desk.ticket.read", owner_id=clerk.id)
    assert not may_reach(clerk_ctx, "desk.ticket.read", owner_id=admin.principal.user_id)
    with pytest.raises(KehuError) as refused:
        require_permission(clerk_ctx, "desk.ticket.write")
    assert refused.value.code == "PERMISSION_DENIED" and "desk.ticket.write" in refused.value.message("en")
    assert (await tenant_parameters(clerk_ctx, "desk", REGISTRY))["answer_days"] == 5
    assert users  # noqa: the users service made the clerk


async def test_a_verticals_deadline_counts_the_tenants_own_holidays(catalog):
    """Issue 18 point 2: the tenant's working-day calendar reaches a vertical (its own holidays on top
    of the official calendar), on a fixed clock and the real calendar."""
    from core.calendar.settings import update_calendar

    admin = await sign_in("acme", "admin")
    received = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, the day before National Day
    before = (await tenant_calendar(admin)).due_at(received, Duration(2, "working_days"))
    assert before.date() == date(2026, 10, 9)  # 1-7 October are holidays; 8 and 9 count
    await update_calendar(admin, {"extra_holidays": ["2026-10-08"]})
    after = (await tenant_calendar(admin)).due_at(received, Duration(2, "working_days"))
    assert after.date() == date(2026, 10, 10) and after.hour == 18  # the 调休 Saturday, closing time
    other = await sign_in("globex", "admin")
    assert (await tenant_calendar(other)).due_at(received, Duration(2, "working_days")).date() == date(2026, 10, 9)


async def test_a_verticals_tick_runs_for_tenants_that_enabled_it_only(catalog):
    """Issue 18 point 2: registration of periodic tick work."""
    from core.jobs.timers import tick as run_tick
    from core.jobs.timers import unregister_sweep
    from core.verticals.service import enable_vertical

    seen: list = []

    @tick("desk.reminders")
    async def remind(ctx, now):
        seen.append((ctx.tenant_id, ctx.actor, now))
        return 1

    try:
        await enable_vertical(await sign_in("acme", "admin"), REGISTRY, "desk")
        at = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
        handled = await run_tick(at)
        assert handled["desk.reminders"] == 1
        assert seen == [(catalog.acme.id, "job:desk.reminders", at)]
    finally:
        unregister_sweep("desk.reminders")
    with pytest.raises(ValueError, match="starting with the vertical's id"):
        tick("reminders")


async def test_a_blocked_verticals_tick_does_not_run(catalog, monkeypatch):
    """Issue 18 point 2: a vertical the operator blocked (KEHU_DISABLED_PLUGINS) or that was
    skipped as broken at start keeps its module imported, but its tick work does not run."""
    from core.jobs.timers import tick as run_tick
    from core.jobs.timers import unregister_sweep
    from core.plugins import manager
    from core.verticals.service import enable_vertical

    seen: list = []

    @tick("desk.reminders")
    async def remind(ctx, now):
        seen.append(ctx.tenant_id)
        return 1

    try:
        await enable_vertical(await sign_in("acme", "admin"), REGISTRY, "desk")
        monkeypatch.setattr(manager, "_started", make_registry())  # started with desk blocked
        handled = await run_tick(datetime(2026, 10, 12, 1, 0, tzinfo=UTC))
        assert handled["desk.reminders"] == 0 and seen == []
    finally:
        unregister_sweep("desk.reminders")


async def test_a_verticals_long_job_runs_with_progress_and_output(catalog):
    """Issue 18 point 2: registration of long jobs; submitted in the request's unit of work."""
    from core.jobs import long_jobs
    from core.jobs.tables import LongJob

    @long_job("desk.report", read_permission="desk.ticket.read")
    async def report(job: RunningJob):
        await job.progress(1, 2, "counting")
        job.output("report.txt", "text/plain")
        await job.write(f"tickets for {job.params['month']}\n")
        return {"tickets": 0}

    try:
        ctx = SYSTEM.for_tenant(catalog.acme.id)
        async with unit_of_work(ctx) as uow:
            job_id = await submit_job(uow, "desk.report", {"month": "2026-10"})
        assert await long_jobs.run_job(catalog.acme.id, job_id)
        async with unit_of_work(ctx, write=False) as uow:
            row = await uow.select(LongJob.status, LongJob.result, LongJob.output_name).where(LongJob.id == job_id).first()
        assert row == {"status": "succeeded", "result": json.dumps({"tickets": 0}), "output_name": "report.txt"}
    finally:
        long_jobs.unregister_kind("desk.report")
