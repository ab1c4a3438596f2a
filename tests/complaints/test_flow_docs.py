"""Issue 19 acceptance 6: docs/plugins.md's "Complaint flows" example (a vertical whose rules
differ from both shipped flows: other deadlines and roles, working-day limits per category) is
a working vertical as printed: kehu loads it and the engine runs it."""

from __future__ import annotations

import re
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.complaints import service
from core.context import Context, Principal
from core.identity.permissions import Scope
from core.plugins import VerticalInfo, hookimpl
from core.plugins.complaint_flows import working_days
from core.plugins.testing import make_registry
from core.verticals import service as verticals
from tests.support import SYSTEM, add_user

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def example_module() -> types.ModuleType:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("\n## Complaint flows\n"):]
    code = re.search(r"<!-- complaint-flow-example -->\n```python\n(.*?)```", section, re.S).group(1)
    module = types.ModuleType("water")
    exec(compile(code, "docs/plugins.md", "exec"), module.__dict__)  # noqa: S102 - the guide's own example
    module.kehu_vertical_info = hookimpl(lambda: VerticalInfo(id="water", name_zh="供水", name_en="Water", version="1.0"))
    return module


def test_the_documented_example_loads():
    """Acceptance 6: the example is accepted by kehu's registry at start."""
    registry = make_registry(("water", example_module()))
    [flow] = registry.definition("water").complaint_flows
    assert flow.id == "leak" and [t.code for t in flow.timers] == ["answer", "fix_main", "fix_household"]


async def test_the_documented_example_runs_in_the_engine(database, seeded, monkeypatch):
    """Acceptance 6: a main-pipe leak answered late reminds the duty manager and tells the first
    responder; fixed late it escalates to the district chief with a report due in 2 working days
    (across 国庆 2026: due 9 Oct 18:00); a household leak has 1 working day instead."""
    registry = make_registry(("water", example_module()))
    tenant = seeded.acme.id
    await verticals.enable_vertical(SYSTEM.for_tenant(tenant), registry, "water")
    user = (await add_user(seeded.acme, "clerk")).id
    clerk = Context.for_principal(Principal(tenant_id=tenant, user_id=user, api_key_id=None, permissions={
        p: Scope.TENANT for p in ("water.complaint.dispatch", "water.complaint.repair")}))
    start = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # 10:00 Shanghai
    monkeypatch.setattr(service, "now", lambda: start)
    case = await service.intake(clerk, registry, vertical="water", flow="leak", category="main_pipe", severity="normal",
                                subject="路面冒水", channel="phone", complainant={"name": "赵"})
    assert case.number == "LK20260930-001" and case.branch == "main"
    assert await service.breach_due_in_tenant(tenant, start + timedelta(minutes=31), registry) == 1
    monkeypatch.setattr(service, "now", lambda: start + timedelta(minutes=40))
    await service.transition(clerk, registry, case.id, "answer", {"crew": "二班"})
    late = start + timedelta(minutes=40, hours=4, seconds=1)
    assert await service.breach_due_in_tenant(tenant, late, registry) == 1
    t = await service.timeline(clerk, registry, case.id)
    kinds = [e.kind for e in t.events if e.actor == service.TICK_ACTOR]
    assert kinds == ["breached", "reminded", "first_responder_notified", "breached", "escalated"]
    report = next(c for c in t.clocks if c.kind == "report")
    assert report.role == "chief" and report.due_at == datetime(2026, 10, 9, 10, 0, tzinfo=UTC)  # 18:00 Shanghai
    household = await service.intake(clerk, registry, vertical="water", flow="leak", category="household",
                                     severity="normal", subject="水表漏水", channel="phone", complainant={"name": "钱"})
    await service.transition(clerk, registry, household.id, "answer", {"crew": "三班"})
    [fix] = [c for c in (await service.timeline(clerk, registry, household.id)).clocks if c.timer == "fix_household"]
    assert fix.due_at == datetime(2026, 10, 8, 10, 0, tzinfo=UTC)  # the first working day after 国庆, 18:00


async def test_the_hard_limit_of_the_documented_example_reacts_once(database, seeded, monkeypatch):
    """Issue 19 (each clock has a target and optionally a hard limit): past the 8-hour hard limit
    of a main-pipe fix, the duty manager is reminded, once."""
    registry = make_registry(("water", example_module()))
    tenant = seeded.acme.id
    await verticals.enable_vertical(SYSTEM.for_tenant(tenant), registry, "water")
    start = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
    monkeypatch.setattr(service, "now", lambda: start)
    system = SYSTEM.for_tenant(tenant)
    case = await service.intake(system, registry, vertical="water", flow="leak", category="main_pipe", severity="normal",
                                subject="主管爆裂", channel="phone", complainant={"name": "孙"})
    await service.transition(system, registry, case.id, "answer", {"crew": "一班"})
    assert await service.breach_due_in_tenant(tenant, start + timedelta(hours=4, seconds=1), registry) == 1
    assert await service.breach_due_in_tenant(tenant, start + timedelta(hours=8, seconds=1), registry) == 1
    assert await service.breach_due_in_tenant(tenant, start + timedelta(hours=9), registry) == 0
    t = await service.timeline(system, registry, case.id)
    [fix] = [c for c in t.clocks if c.timer == "fix_main"]
    assert fix.hard_breached_at == start + timedelta(hours=8, seconds=1)
    assert [e.detail["limit"] for e in t.events if e.kind == "breached" and e.timer == "fix_main"] == ["target", "hard_limit"]
    assert [e.detail["role"] for e in t.events if e.kind == "reminded"] == ["duty"]


async def test_pauses_move_a_stored_working_day_due_time_as_documented(database, seeded, monkeypatch):
    """Issue 19 acceptance 4, end to end: a household leak's 1-working-day fix clock, paused while
    the customer is not at home and resumed, over random pause intervals and random tenant
    calendars (own holidays and working days around 国庆 2026), is stored with the documented due
    time: running time counted to it equals what the unpaused clock would have counted."""
    import random

    from core.calendar.settings import load_calendar, update_calendar
    from core.complaints import policy
    from core.db import unit_of_work

    registry = make_registry(("water", example_module()))
    tenant = seeded.acme.id
    system = SYSTEM.for_tenant(tenant)
    await verticals.enable_vertical(system, registry, "water")
    rng = random.Random(19)
    for _ in range(8):
        days = [f"2026-{m:02d}-{d:02d}" for m, d in ((9, rng.randint(20, 30)), (10, rng.randint(8, 20)))]
        await update_calendar(system, {"extra_holidays": days[:rng.randint(0, 2)], "extra_workdays": days[2:] or [
            "2026-10-03"] if rng.random() < 0.5 else []})
        async with unit_of_work(system, write=False) as uow:
            calendar = await load_calendar(uow)
        now = datetime(2026, 9, 25, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 60 * 24 * 20))
        monkeypatch.setattr(service, "now", lambda: now)
        case = await service.intake(system, registry, vertical="water", flow="leak", category="household",
                                    severity="normal", subject="漏水", channel="phone", complainant={"name": "周"})
        await service.transition(system, registry, case.id, "answer", {"crew": "四班"})
        start = now
        original = policy.due_time(calendar, start, working_days(1))
        paused_total = timedelta(0)
        due = original
        for _ in range(rng.randint(1, 3)):
            paused_at = now + timedelta(minutes=rng.randint(1, 60 * 20))
            if paused_at >= due:
                break
            resumed_at = paused_at + timedelta(minutes=rng.randint(1, 60 * 24 * 4))
            now = paused_at
            await service.transition(system, registry, case.id, "customer_away")
            now = resumed_at
            await service.transition(system, registry, case.id, "customer_back")
            paused_total += policy.counted(calendar, "working_days", paused_at, resumed_at)
            [fix] = [c for c in (await service.timeline(system, registry, case.id)).clocks if c.timer == "fix_household"]
            due = fix.due_at
        running = policy.counted(calendar, "working_days", start, due) - paused_total
        assert running == policy.counted(calendar, "working_days", start, original), (start, due, original)
