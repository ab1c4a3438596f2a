"""Issue 19 with issue 18 point 11: a working-day complaint clock that counted days of 2027 before
its official schedule was known is stored ``provisional``; loading the 2027 schedule (the test
fixture of tests/calendar: Spring Festival Feb 5-13 off where kehu's provisional schedule has Feb
5-10 off, Sat Feb 20 a make-up working day) recomputes it from its stored start and the pauses on
its timeline, audited, and it is no longer provisional. A controlled clock (``service.now``) and
the real working-day calendar."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.plugins import manager
from core.audit.tables import AuditEntry
from core.calendar import schedules
from core.complaints import recompute, service
from core.complaints.tables import ComplaintClock, ComplaintEvent
from core.db import unit_of_work
from core.plugins.complaint_flows import (
    ComplaintFlowDefinition,
    FlowState,
    FlowTimer,
    FlowTransition,
    Limit,
    LimitUnit,
)
from core.plugins.testing import make_registry, plugin
from core.plugins.types import VerticalInfo
from core.verticals import service as verticals
from tests.support import SYSTEM, Clock

pytestmark = pytest.mark.usefixtures("database")

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIXTURE = Path(__file__).parents[1] / "calendar" / "fixtures" / "schedule-2027-test.json"

SLOW_FLOW = ComplaintFlowDefinition(
    id="slow", name_en="Slow complaint", name_zh="慢投诉", categories=("quality",), severities=("normal",),
    states=(FlowState("received", "Received", "已受理"), FlowState("waiting", "Waiting", "等待客户", paused=True),
            FlowState("closed", "Closed", "已结案", terminal=True)),
    initial="received",
    transitions=(FlowTransition("received", "waiting", "wait"), FlowTransition("waiting", "received", "back"),
                 FlowTransition("received", "closed", "close")),
    timers=(FlowTimer("answer_25wd", "Answered within 25 working days", "25个工作日内答复", "intake", ("enter:closed",),
                      Limit(25, LimitUnit.WORKING_DAYS), hard_limit=Limit(27, LimitUnit.WORKING_DAYS)),
            FlowTimer("ack_2h", "Acknowledged within 2 hours", "2小时内确认", "intake", ("enter:closed",),
                      Limit(2, LimitUnit.HOURS), pause_in=())))
slow = plugin(
    kehu_vertical_info=lambda: VerticalInfo(id="slowcare", name_zh="慢", name_en="Slow care", version="1.0"),
    kehu_complaint_flows=lambda: [SLOW_FLOW],
)


def sh(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def registry():
    reg = make_registry(("slowcare", slow))
    manager.start_verticals(reg)
    yield reg
    manager.start_verticals(None)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock(sh(2026, 12, 30, 10))  # a working Wednesday
    monkeypatch.setattr(service, "now", c)
    return c


async def _clocks(tenant_id, complaint_id) -> dict[str, dict]:
    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        rows = await uow.select(ComplaintClock).where(ComplaintClock.complaint_id == complaint_id)
    return {r["timer"]: r for r in rows}


async def _open(ctx, registry):
    return await service.intake(ctx, registry, vertical="slowcare", flow="slow", category="quality",
                                severity="normal", subject="包装破损", channel="letter", complainant={"name": "李工"})


async def test_loading_the_years_schedule_recomputes_provisional_clocks(seeded, registry, clock):
    """Issue 19 part 2 (working-day clocks on provisional days are recomputed when the official
    schedule is loaded): a running clock paused and resumed before the load, and one still paused
    at the load, move from their stored start and recorded pauses to the due times the official
    calendar gives; each move is audited (complaint.clock_recomputed, the calendar job as actor) and
    shown on the case's timeline; they are no longer provisional; an hour clock is untouched; the
    tick then reads the recomputed time."""
    acme = SYSTEM.for_tenant(seeded.acme.id)
    await verticals.enable_vertical(acme, registry, "slowcare")
    running = await _open(acme, registry)
    clock.at = sh(2027, 1, 4, 10)  # Mon: paused two working days, back Wed
    await service.transition(acme, registry, running.id, "wait")
    clock.at = sh(2027, 1, 6, 10)
    await service.transition(acme, registry, running.id, "back")
    clock.at = sh(2027, 1, 7, 10)
    held = await _open(acme, registry)
    clock.at = sh(2027, 1, 8, 10)
    await service.transition(acme, registry, held.id, "wait")

    before = await _clocks(seeded.acme.id, running.id)
    # Provisionally Feb 5-10 are off: 25 working days after Wed Dec 30 end Thu Feb 4, the two
    # working days of the pause put it on Fri Feb 12 (Feb 11 and 12 count); the hard limit on Tue Feb 16.
    assert (before["answer_25wd"]["due_at"], before["answer_25wd"]["hard_due_at"]) == (
        sh(2027, 2, 12, 18), sh(2027, 2, 16, 18))
    assert before["answer_25wd"]["provisional"] and not before["ack_2h"]["provisional"]
    paused = (await _clocks(seeded.acme.id, held.id))["answer_25wd"]
    assert (paused["status"], paused["due_at"], paused["provisional"]) == ("paused", sh(2027, 2, 17, 18), True)

    report = await schedules.load_schedule(SYSTEM, FIXTURE.read_text(encoding="utf-8"))

    assert report.recomputed["complaint_clocks"] == 2
    after = await _clocks(seeded.acme.id, running.id)
    # Officially Feb 5-13 are off: Mon Feb 15 and Tue Feb 16 are the pause's two days; hard limit Thu Feb 18.
    assert (after["answer_25wd"]["due_at"], after["answer_25wd"]["hard_due_at"], after["answer_25wd"]["next_due_at"],
            after["answer_25wd"]["provisional"]) == (sh(2027, 2, 16, 18), sh(2027, 2, 18, 18), sh(2027, 2, 16, 18), False)
    assert after["ack_2h"] == before["ack_2h"]
    paused = (await _clocks(seeded.acme.id, held.id))["answer_25wd"]
    assert (paused["status"], paused["due_at"], paused["hard_due_at"], paused["next_due_at"], paused["provisional"]) == (
        "paused", sh(2027, 2, 19, 18), sh(2027, 2, 22, 18), None, False)
    async with unit_of_work(acme, write=False) as uow:
        audited = await uow.select(AuditEntry.actor, AuditEntry.target_id).where(
            AuditEntry.action == "complaint.clock_recomputed")
        shown = await uow.select(ComplaintEvent.complaint_id, ComplaintEvent.actor, ComplaintEvent.detail).where(
            ComplaintEvent.kind == "clock_recomputed")
    assert sorted((a["actor"], a["target_id"]) for a in audited) == sorted(
        ("job:calendar", str(c.id)) for c in (running, held))
    assert {e["complaint_id"] for e in shown} == {running.id, held.id} and {e["actor"] for e in shown} == {"job:calendar"}
    case = await service.timeline(acme, registry, running.id)
    assert [c.provisional for c in case.clocks if c.timer == "answer_25wd"] == [False]
    assert [e.kind for e in case.events][-1] == "clock_recomputed"

    # Resumed after the load: the pause (Fri 10:00 to Mon 10:00, one working day) moves the
    # recomputed due time to Sat Feb 20, a make-up working day.
    clock.at = sh(2027, 1, 11, 10)
    await service.transition(acme, registry, held.id, "back")
    resumed = (await _clocks(seeded.acme.id, held.id))["answer_25wd"]
    assert (resumed["due_at"], resumed["hard_due_at"], resumed["provisional"]) == (
        sh(2027, 2, 20, 18), sh(2027, 2, 23, 18), False)

    # The tick reads the recomputed time: nothing is due at the old provisional time.
    assert await service.breach_due_in_tenant(seeded.acme.id, sh(2027, 2, 12, 18, 1), registry) == 2  # the ack_2h clocks
    assert await service.breach_due_in_tenant(seeded.acme.id, sh(2027, 2, 16, 18, 1), registry) == 1

    again = await schedules.load_schedule(SYSTEM, FIXTURE.read_text(encoding="utf-8"))
    assert again.replaced and again.recomputed["complaint_clocks"] == 0  # nothing provisional is left


async def test_a_clock_with_no_provisional_days_is_left_alone(seeded, registry, clock):
    """Issue 19 part 2: a working-day clock that counted no provisional day (all in 2026, whose
    official schedule is known) is not provisional and loading 2027 neither moves nor audits it."""
    acme = SYSTEM.for_tenant(seeded.acme.id)
    await verticals.enable_vertical(acme, registry, "slowcare")
    clock.at = sh(2026, 11, 2, 10)
    case = await _open(acme, registry)
    before = await _clocks(seeded.acme.id, case.id)
    assert not before["answer_25wd"]["provisional"]
    report = await schedules.load_schedule(SYSTEM, FIXTURE.read_text(encoding="utf-8"))
    assert report.recomputed["complaint_clocks"] == 0
    assert await _clocks(seeded.acme.id, case.id) == before
    async with unit_of_work(acme, write=False) as uow:
        assert await uow.count(AuditEntry).where(AuditEntry.action == "complaint.clock_recomputed") == 0


def test_the_recompute_is_registered_with_the_schedule_loader():
    """Issue 19 part 2: kehu calendar load runs the complaint clocks' recompute (it imports
    core.privacy.subject_requests, which imports core.complaints.recompute)."""
    import core.privacy.subject_requests  # noqa: F401

    assert schedules._recomputes["complaint_clocks"] is recompute.recompute_provisional_clocks


async def test_a_target_chosen_by_a_field_is_recomputed_with_the_recorded_choice(seeded):
    """Issue 19 part 2: a timer whose target a field of its starting action chooses (target_field,
    as R3-11's domestic / foreign closure) is recomputed with the value the case recorded; with no
    single recorded value its clock is left as it is."""
    from core.calendar.settings import load_calendar
    from core.complaints import policy

    choice = FlowTimer("close_wd", "Closed", "结案", "action:investigate", ("enter:closed",),
                       Limit(20, LimitUnit.WORKING_DAYS), target_field="market",
                       targets=(("domestic", Limit(10, LimitUnit.WORKING_DAYS)),
                                ("foreign", Limit(20, LimitUnit.WORKING_DAYS))))
    flow = ComplaintFlowDefinition(
        id="chosen", name_en="Chosen", name_zh="选择", categories=("quality",), severities=("normal",),
        states=(FlowState("received", "Received", "已受理"), FlowState("investigating", "Investigating", "调查中"),
                FlowState("closed", "Closed", "已结案", terminal=True)),
        initial="received",
        transitions=(FlowTransition("received", "investigating", "investigate", required_fields=("market",)),
                     FlowTransition("investigating", "closed", "close")),
        timers=(choice,))
    start = sh(2026, 12, 30, 10)
    stored = {"kind": "timer", "timer": "close_wd", "role": None, "unit": "working_days", "status": "running",
              "started_at": start, "due_at": start, "hard_due_at": None, "breached_at": None,
              "hard_breached_at": None, "paused_at": None}
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id), write=False) as uow:
        calendar = await load_calendar(uow)
    values = recompute.recomputed(calendar, flow, stored, [], {"investigate.market": "domestic"})
    assert values[ComplaintClock.due_at] == policy.due_time(calendar, start, Limit(10, LimitUnit.WORKING_DAYS))
    values = recompute.recomputed(calendar, flow, stored, [], {"investigate.market": "foreign"})
    assert values[ComplaintClock.due_at] == policy.due_time(calendar, start, Limit(20, LimitUnit.WORKING_DAYS))
    assert recompute.recomputed(calendar, flow, stored, [], {}) is None
