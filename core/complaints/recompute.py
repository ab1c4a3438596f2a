"""Complaint clocks on provisional calendar days, recomputed when the official schedule is loaded
(issue 19 with issue 18 point 11).

A working-day clock whose due time counted days of a year with no official holiday schedule yet
is stored ``provisional`` (kehu's provisional schedule stood in for it). When ``kehu calendar
load`` loads a year, ``recompute_provisional_clocks`` (registered with
``core.calendar.schedules.on_schedule_loaded``) computes every running or paused provisional clock
again on the tenant's calendar: from its stored start with the flow's limit, then moved by each of
its pauses as recorded on the case's timeline (``clock_paused`` / ``clock_resumed``, or paused from
its start), exactly as ``core.complaints.policy`` moved it then. A clock whose due time moves is
audited (``complaint.clock_recomputed``, the calendar job as actor) and shows a
``clock_recomputed`` event on the case's timeline. A breach the tick already recorded stays
recorded; the next limit still to pass is the one the tick reads. A timer whose due time was given
by the starting action (``deadline_field``) keeps it; clocks of a flow no longer installed are
left as they are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from core.audit.chain import record
from core.calendar.days import TenantCalendar
from core.calendar.schedules import on_schedule_loaded
from core.calendar.settings import load_calendar
from core.complaints import policy
from core.complaints.tables import Complaint, ComplaintClock, ComplaintEvent
from core.context import Context
from core.db import unit_of_work
from core.db.uow import UnitOfWork
from core.plugins.complaint_flows import ComplaintFlowDefinition, Escalate, Limit
from core.plugins.manager import started_verticals
from core.tenancy.every_tenant import tenant_ids

ACTOR = "job:calendar"


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _limits(flow: ComplaintFlowDefinition, clock: Mapping[str, Any],
            recorded: Mapping[str, Any]) -> tuple[Limit | None, Limit | None] | None:
    """The clock's (target, hard limit) from its flow; None when they cannot be known again. A
    timer whose target a field chooses (``target_field``) takes it from the value the case
    recorded for that field (one value, one of its choices)."""
    if clock["kind"] == "report":
        for timer in flow.timers:
            for reaction in (*timer.on_breach, *timer.on_hard_breach):
                if isinstance(reaction, Escalate) and reaction.role == clock["role"] and reaction.report_within:
                    return reaction.report_within, None
        return None
    timer = flow.timer(clock["timer"])
    if timer is None or getattr(timer, "deadline_field", None) is not None:
        return None
    name = getattr(timer, "target_field", None)
    if name is not None:
        choices = dict(getattr(timer, "targets", ()))
        values = {v for k, v in recorded.items() if k.rpartition(".")[2] == name and isinstance(v, str) and v in choices}
        if len(values) != 1:
            return None
        return choices[values.pop()], timer.hard_limit
    return timer.target, timer.hard_limit


def _pauses(clock: Mapping[str, Any], events: list[Mapping[str, Any]]) -> list[tuple[datetime, datetime]]:
    """The clock's finished pauses (from, to) read from the timeline's events of its timer; a
    ``clock_resumed`` with no ``clock_paused`` before it ends a pause that began at the start (the
    clock started in a state where it stands still). A pause still open does not move due times."""
    started = _utc(clock["started_at"])
    assert started is not None
    intervals: list[tuple[datetime, datetime]] = []
    paused_from: datetime | None = None
    for event in events:
        at = _utc(event["at"])
        assert at is not None
        if event["kind"] == "clock_paused":
            paused_from = at
        elif event["kind"] == "clock_resumed":
            intervals.append((paused_from if paused_from is not None else started, at))
            paused_from = None
    return intervals


def recomputed(calendar: TenantCalendar, flow: ComplaintFlowDefinition, clock: Mapping[str, Any],
               events: list[Mapping[str, Any]], recorded: Mapping[str, Any] | None = None) -> dict[Any, Any] | None:
    """The clock's due times computed again on ``calendar`` (the columns to write), or None."""
    limits = _limits(flow, clock, recorded or {})
    if limits is None:
        return None
    target, hard_limit = limits
    started = _utc(clock["started_at"])
    assert started is not None and target is not None
    unit = clock["unit"]
    due: datetime | None = policy.due_time(calendar, started, target)
    hard = policy.due_time(calendar, started, hard_limit) if hard_limit else None
    for paused_at, resumed_at in _pauses(clock, events):
        due = policy.resumed_due(calendar, unit, due, paused_at, resumed_at)
        hard = policy.resumed_due(calendar, unit, hard, paused_at, resumed_at)
    assert due is not None
    pending: datetime | None = hard if clock["breached_at"] is not None else due
    if clock["hard_breached_at"] is not None or clock["status"] == "paused":
        pending = None
    return {ComplaintClock.due_at: due, ComplaintClock.hard_due_at: hard, ComplaintClock.next_due_at: pending,
            ComplaintClock.provisional: policy.provisional(calendar, unit, started, hard or due)}


async def recompute_in_tenant(uow: UnitOfWork, registry: Any, year: int) -> int:
    """Recompute one tenant's provisional running or paused clocks; how many due times moved."""
    clocks = await uow.select(ComplaintClock).where(
        (ComplaintClock.provisional == True) & ComplaintClock.status.is_in(["running", "paused"]))  # noqa: E712
    if not clocks:
        return 0
    from core.complaints.service import flow_of, now

    calendar = await load_calendar(uow)
    moved = 0
    for clock in clocks:
        complaint = await uow.select(Complaint.vertical, Complaint.flow, Complaint.fields).where(
            Complaint.id == clock["complaint_id"]).first()
        if complaint is None:
            continue
        try:
            flow = flow_of(registry, complaint["vertical"], complaint["flow"])
        except Exception:  # noqa: BLE001 - the vertical or flow is gone: leave the clock
            continue
        events = await uow.select(ComplaintEvent.at, ComplaintEvent.kind).where(
            (ComplaintEvent.complaint_id == clock["complaint_id"]) & (ComplaintEvent.timer == clock["timer"])
            & ComplaintEvent.kind.is_in(["clock_paused", "clock_resumed"])
            & (ComplaintEvent.at >= clock["started_at"])).order_by(ComplaintEvent.at).order_by(ComplaintEvent.created_at)
        values = recomputed(calendar, flow, clock, events, json.loads(complaint["fields"] or "{}"))
        if values is None:
            continue
        await uow.update(ComplaintClock, values).where(ComplaintClock.id == clock["id"])
        before = (_utc(clock["due_at"]), _utc(clock["hard_due_at"]))
        after = (values[ComplaintClock.due_at], values[ComplaintClock.hard_due_at])
        if before == after:
            continue
        moved += 1
        detail = {"timer": clock["timer"], "calendar_year": year,
                  "due_at": [d.isoformat() if d else None for d in (before[0], after[0])],
                  "hard_due_at": [d.isoformat() if d else None for d in (before[1], after[1])]}
        await uow.insert(ComplaintEvent(id=uuid4(), created_at=datetime.now(UTC), complaint_id=clock["complaint_id"],
                                        at=now(), actor=ACTOR, kind="clock_recomputed",
                                        timer=clock["timer"], detail=json.dumps(detail, sort_keys=True)))
        await record(uow, "complaint.clock_recomputed", "complaint", clock["complaint_id"], detail)
    return moved


async def recompute_provisional_clocks(year: int) -> int:
    """After ``year``'s official schedule is loaded: every tenant's provisional complaint clocks
    computed again (see the module's text); returns how many due times moved."""
    registry = started_verticals()
    moved = 0
    for tenant_id in await tenant_ids(ACTOR):
        async with unit_of_work(Context.system(ACTOR, tenant_id)) as uow:
            moved += await recompute_in_tenant(uow, registry, year)
    return moved


on_schedule_loaded("complaint_clocks", recompute_provisional_clocks)

