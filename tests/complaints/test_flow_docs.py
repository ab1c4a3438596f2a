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
