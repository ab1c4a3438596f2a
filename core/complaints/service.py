"""Complaint use cases (issue 19), one function per use case: intake, transition, assign,
pause/resume, timeline; and the tick that finds clocks past due and runs the flow's reactions.

Every change is one unit of work: the complaint, its clocks and timeline events, an audit entry
and an outbox event commit together or not at all. Due times are computed when a clock starts
(or resumes) on the tenant's working-day calendar and stored; the tick only compares them with
its time through the index on ``complaint_clock.next_due_at``, so its cost grows with what is
due, not with the number of open complaints.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import structlog
from piccolo.columns.combination import WhereRaw

from core.audit.chain import record
from core.calendar.days import TenantCalendar
from core.calendar.settings import load_calendar
from core.complaints import policy
from core.complaints.privacy import SEALED_COMPLAINANT
from core.complaints.tables import Complaint, ComplaintClock, ComplaintEvent
from core.archives.tables import Archive
from core.context import Context
from core.customers.tables import Customer
from core.db import keyset, unit_of_work
from core.db.due import tenants_due
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.errors import KehuError
from core.identity.access import require, require_any, require_signed_in
from core.jobs import outbox
from core.jobs.timers import register_sweep
from core.plugins.complaint_flows import (
    ComplaintFlowDefinition,
    Escalate,
    FlowTimer,
    NotifyFirstResponder,
    Remind,
)
from core.plugins.manager import VerticalRegistry, started_verticals
from core.privacy import crypto, freeze
from core.identity.tables import User
from core.privacy.masking import mask_phone, mask_text, may_see_clear
from core.tenancy.tables import Department
from core.tenancy.every_tenant import for_each_tenant
from core.verticals.service import VerticalNotEnabled
from core.verticals.tables import VerticalEnablement

log = structlog.get_logger("kehu.complaints")

SOURCES = ("external", "internal")
CHANNELS = ("phone", "email", "visit", "letter", "online")
COMPLAINANT_FIELDS = ("name", "phone", "address")
TICK_ACTOR = "job:complaint-tick"
TICK_BATCH = 500  # clocks handled per tenant per tick; the rest wait for the next tick
MAX_SUBJECT = 2000
MAX_FIELD_TEXT = 2000
MAX_ATTACHMENTS = 50


def now() -> datetime:
    return datetime.now(UTC)


def _invalid(code: str, field_name: str | None, en: str, zh: str) -> KehuError:
    return KehuError(code, en, zh, field=field_name)


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


# --- views ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComplaintView:
    id: UUID
    number: str
    vertical: str
    flow: str
    state: str
    category: str
    severity: str
    branch: str | None
    source: str
    channel: str
    subject: str
    customer_id: UUID | None
    complainant: dict[str, str] | None  # masked unless the reader may see personal data in clear
    first_responder: str
    assignee_id: UUID | None
    department_id: UUID | None
    archive_id: UUID | None
    previous_id: UUID | None
    escalated_to: str | None
    fields: dict[str, Any]
    attachments: list[Any]
    opened_at: datetime
    closed_at: datetime | None
    version: int


@dataclass(frozen=True, slots=True)
class ClockView:
    timer: str
    kind: str  # timer | report
    role: str | None
    status: str  # running | paused | met | late
    started_at: datetime
    due_at: datetime
    hard_due_at: datetime | None
    breached_at: datetime | None
    hard_breached_at: datetime | None
    paused_at: datetime | None
    stopped_at: datetime | None
    provisional: bool = False  # a working-day due time on a year whose official schedule is not known yet


@dataclass(frozen=True, slots=True)
class EventView:
    at: datetime
    actor: str
    kind: str
    action: str | None
    from_state: str | None
    to_state: str | None
    timer: str | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Timeline:
    complaint: ComplaintView
    clocks: list[ClockView] = field(default_factory=list)
    events: list[EventView] = field(default_factory=list)


def _complainant(ctx: Context, row: Mapping[str, Any]) -> dict[str, str] | None:
    if not row["complainant"]:
        return None
    person = crypto.open_json(row["tenant_id"], SEALED_COMPLAINANT, row["complainant"])
    if may_see_clear(ctx):
        return person
    masked = dict(person)
    if masked.get("phone"):
        masked["phone"] = mask_phone(masked["phone"])
    if masked.get("address"):
        masked["address"] = mask_text(masked["address"])
    return masked  # the name stays readable, as a customer's does


def _view(ctx: Context, row: Mapping[str, Any]) -> ComplaintView:
    return ComplaintView(
        id=row["id"], number=row["number"], vertical=row["vertical"], flow=row["flow"], state=row["state"],
        category=row["category"], severity=row["severity"], branch=row["branch"], source=row["source"],
        channel=row["channel"], subject=row["subject"], customer_id=row["customer_id"],
        complainant=_complainant(ctx, row), first_responder=row["first_responder"], assignee_id=row["assignee_id"],
        department_id=row["department_id"], archive_id=row["archive_id"], previous_id=row["previous_id"],
        escalated_to=row["escalated_to"], fields=json.loads(row["fields"]), attachments=json.loads(row["attachments"]),
        opened_at=_utc(row["opened_at"]), closed_at=_utc(row["closed_at"]), version=row["version"])  # type: ignore[arg-type]


def _clock_view(row: Mapping[str, Any]) -> ClockView:
    return ClockView(timer=row["timer"], kind=row["kind"], role=row["role"], status=row["status"],
                     started_at=_utc(row["started_at"]), due_at=_utc(row["due_at"]),  # type: ignore[arg-type]
                     hard_due_at=_utc(row["hard_due_at"]), breached_at=_utc(row["breached_at"]),
                     hard_breached_at=_utc(row["hard_breached_at"]), paused_at=_utc(row["paused_at"]),
                     stopped_at=_utc(row["stopped_at"]), provisional=bool(row["provisional"]))


# --- lookups -------------------------------------------------------------------------------------


async def _enabled(uow: UnitOfWork, registry: VerticalRegistry, vertical: str) -> None:
    row = await uow.select(VerticalEnablement.status).where(VerticalEnablement.vertical_id == vertical).first()
    if registry.definition(vertical) is None or row is None or row["status"] != "enabled":
        raise VerticalNotEnabled(vertical)


def flow_of(registry: VerticalRegistry, vertical: str, flow_id: str) -> ComplaintFlowDefinition:
    definition = registry.definition(vertical)
    flows = definition.complaint_flows if definition else ()
    for flow in flows:
        if flow.id == flow_id and isinstance(flow, ComplaintFlowDefinition):
            return flow
    raise _invalid("COMPLAINT_FLOW_UNKNOWN", "flow", f"the vertical {vertical} has no complaint flow {flow_id!r}",
                   f"行业插件 {vertical} 没有投诉流程 {flow_id!r}")


async def _load(uow: UnitOfWork, complaint_id: UUID) -> dict[str, Any]:
    row = await uow.select(Complaint).where(Complaint.id == complaint_id).first() if isinstance(complaint_id, UUID) else None
    if row is None:
        raise _invalid("COMPLAINT_NOT_FOUND", "id", f"no complaint {complaint_id}", f"未找到投诉 {complaint_id}")
    return row


async def _check_links(uow: UnitOfWork, *, customer_id: UUID | None = None, assignee_id: UUID | None = None,
                       department_id: UUID | None = None, archive_id: UUID | None = None,
                       previous_id: UUID | None = None) -> None:
    """Every id a complaint links to names a record of this tenant (wall 1 filters the lookups)."""
    checks = (
        (customer_id, Customer, "CUSTOMER_NOT_FOUND", "customer_id", "customer", "客户"),
        (assignee_id, User, "USER_UNKNOWN", "assignee_id", "user", "用户"),
        (department_id, Department, "DEPARTMENT_UNKNOWN", "department_id", "department", "部门"),
        (archive_id, Archive, "COMPLAINT_ARCHIVE_UNKNOWN", "archive_id", "archive", "档案"),
        (previous_id, Complaint, "COMPLAINT_NOT_FOUND", "previous_id", "complaint", "投诉"),
    )
    for value, table, code, name, what_en, what_zh in checks:
        if value is None:
            continue
        query = uow.select(table.id).where(table.id == value) if isinstance(value, UUID) else None
        if query is not None and table is Customer:
            query = query.where(Customer.deleted_at.is_null())
        if query is None or await query.first() is None:
            raise _invalid(code, name, f"no {what_en} {value}", f"未找到{what_zh} {value}")


async def _refuse_if_frozen(uow: UnitOfWork, row: Mapping[str, Any], *, reading: bool = False) -> None:
    """A complaint naming a frozen customer is out of processing like the customer (PIPL art. 47):
    every change is refused with ``CUSTOMER_FROZEN``; only an auditor may read it."""
    if row["customer_id"] is not None:
        await freeze.refuse_if_frozen(uow, row["customer_id"], reading=reading)


def _require(ctx: Context, permission: str | None) -> None:
    if permission:
        require(ctx, permission)
    else:
        require_signed_in(ctx)


# --- clocks --------------------------------------------------------------------------------------


async def _event(uow: UnitOfWork, complaint_id: UUID, at: datetime, kind: str, *, action: str | None = None,
                 from_state: str | None = None, to_state: str | None = None, timer: str | None = None,
                 detail: Mapping[str, Any] | None = None) -> None:
    # created_at (the real time of the write) orders the events of one moment as they were written
    await uow.insert(ComplaintEvent(id=uuid4(), created_at=datetime.now(UTC), complaint_id=complaint_id, at=at,
                                    actor=uow.ctx.actor, kind=kind,
                                    action=action, from_state=from_state, to_state=to_state, timer=timer,
                                    detail=json.dumps(dict(detail or {}), default=str, sort_keys=True)))


async def _start_clock(uow: UnitOfWork, calendar: TenantCalendar, complaint_id: UUID, timer: FlowTimer,
                       started_at: datetime, state: str, flow: ComplaintFlowDefinition,
                       given: Mapping[str, Any] | None = None) -> None:
    target = policy.timer_target(timer, given)  # the target a field of the starting action chose, else its own
    due = policy.deadline_from_field(timer, calendar, started_at, given or {}) or policy.due_time(
        calendar, started_at, target)
    hard = policy.due_time(calendar, started_at, timer.hard_limit) if timer.hard_limit else None
    paused = policy.pauses_in(flow, timer, state)
    await uow.insert(ComplaintClock(
        id=uuid4(), complaint_id=complaint_id, timer=timer.code, kind="timer", role=None, unit=target.unit.value,
        status="paused" if paused else "running", started_at=started_at, due_at=due, hard_due_at=hard,
        next_due_at=None if paused else due, paused_at=started_at if paused else None,
        provisional=policy.provisional(calendar, target.unit, started_at, hard or due)))
    await _event(uow, complaint_id, started_at, "clock_started", timer=timer.code,
                 detail={"due_at": due.isoformat(), "hard_due_at": hard.isoformat() if hard else None})


async def _apply_events(uow: UnitOfWork, calendar: TenantCalendar, flow: ComplaintFlowDefinition,
                        complaint: Mapping[str, Any], events: Sequence[str], state_after: str, at: datetime,
                        given: Mapping[str, Any] | None = None) -> None:
    """Stop, pause, resume and start the complaint's clocks for events that happened at ``at``."""
    complaint_id = complaint["id"]
    clocks = await uow.select(ComplaintClock).where((ComplaintClock.complaint_id == complaint_id)
                                      & ComplaintClock.status.is_in(["running", "paused"]))
    running = set()
    for clock in clocks:
        timer = flow.timer(clock["timer"])
        if clock["kind"] == "report":
            stops = policy.report_stops(flow, clock["role"], events, state_after)
        else:
            stops = policy.timer_stops(timer, events, state_after, flow)
        if stops:
            status = "met" if at <= _utc(clock["due_at"]) else "late"  # type: ignore[operator]
            await uow.update(ComplaintClock, {ComplaintClock.status: status, ComplaintClock.stopped_at: at,
                                              ComplaintClock.next_due_at: None}).where(ComplaintClock.id == clock["id"])
            await _event(uow, complaint_id, at, "clock_stopped", timer=clock["timer"], detail={"status": status})
            if status == "late" and timer is not None and clock["kind"] == "timer" and timer.on_late:
                await _react(uow, calendar, flow, complaint, timer, timer.on_late, at, at)  # e.g. the 查办单
            continue
        running.add(clock["timer"])
        if clock["kind"] != "timer":
            continue
        pause_now = policy.pauses_in(flow, timer, state_after)
        if clock["status"] == "running" and pause_now:
            await uow.update(ComplaintClock, {ComplaintClock.status: "paused", ComplaintClock.paused_at: at,
                                              ComplaintClock.next_due_at: None}).where(ComplaintClock.id == clock["id"])
            await _event(uow, complaint_id, at, "clock_paused", timer=clock["timer"])
        elif clock["status"] == "paused" and not pause_now:
            await _resume_clock(uow, calendar, clock, at)
    for timer in policy.timers_started(flow, complaint["branch"], events):
        if timer.code not in running and state_after not in flow.terminal_states():
            await _start_clock(uow, calendar, complaint_id, timer, at, state_after, flow, given)


async def _resume_clock(uow: UnitOfWork, calendar: TenantCalendar, clock: Mapping[str, Any], at: datetime) -> None:
    paused_at = _utc(clock["paused_at"])
    assert paused_at is not None
    due = policy.resumed_due(calendar, clock["unit"], _utc(clock["due_at"]), paused_at, at)
    hard = policy.resumed_due(calendar, clock["unit"], _utc(clock["hard_due_at"]), paused_at, at)
    pending = hard if clock["breached_at"] is not None else due
    if clock["hard_breached_at"] is not None:
        pending = None
    await uow.update(ComplaintClock, {ComplaintClock.status: "running", ComplaintClock.paused_at: None,
                                      ComplaintClock.due_at: due, ComplaintClock.hard_due_at: hard,
                                      ComplaintClock.next_due_at: pending,
                                      ComplaintClock.provisional: policy.provisional(
                                          calendar, clock["unit"], _utc(clock["started_at"]), hard or due)}
                     ).where(ComplaintClock.id == clock["id"])
    await _event(uow, clock["complaint_id"], at, "clock_resumed", timer=clock["timer"],
                 detail={"due_at": due.isoformat() if due else None, "hard_due_at": hard.isoformat() if hard else None})


# --- numbering -----------------------------------------------------------------------------------


async def _next_seq(uow: UnitOfWork, scope: str, period: str) -> int:
    """The next number of a sequence, drawn in the caller's transaction: the row's update locks it
    (PostgreSQL) or the write lock serialises writers (SQLite), and a rollback gives the number
    back, so numbers are gapless and unique under concurrent intake."""
    tenant_id = uow.ctx.tenant_id
    bump = ("UPDATE complaint_sequence SET last = last + 1 WHERE tenant_id = {} AND scope = {} AND period = {} "
            "RETURNING last")
    rows = await uow.fetch(bump, tenant_id, scope, period)
    if not rows:
        await uow.fetch("INSERT INTO complaint_sequence (id, tenant_id, scope, period, last) VALUES ({}, {}, {}, {}, 0) "
                        "ON CONFLICT (tenant_id, scope, period) DO NOTHING", uuid4(), tenant_id, scope, period)
        rows = await uow.fetch(bump, tenant_id, scope, period)
    return int(rows[0]["last"])


# --- input checks --------------------------------------------------------------------------------


def _text(value: object, name: str, max_length: int, *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _invalid("COMPLAINT_INPUT_INVALID", name, f"{name} is required", f"{name} 为必填项")
        return None
    if not isinstance(value, str) or len(value.strip()) > max_length:
        raise _invalid("COMPLAINT_INPUT_INVALID", name, f"{name} must be text of at most {max_length} characters",
                       f"{name} 须为不超过 {max_length} 个字符的文本")
    return value.strip()


def _choice(value: object, name: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise _invalid("COMPLAINT_INPUT_INVALID", name, f"{name} must be one of {', '.join(allowed)}",
                       f"{name} 须为以下之一：{'、'.join(allowed)}")
    return value  # type: ignore[return-value]


def _person(complainant: Mapping[str, Any] | None) -> dict[str, str] | None:
    if complainant is None:
        return None
    if not isinstance(complainant, Mapping) or set(complainant) - set(COMPLAINANT_FIELDS):
        raise _invalid("COMPLAINT_INPUT_INVALID", "complainant", f"a complainant has {', '.join(COMPLAINANT_FIELDS)}",
                       f"投诉人信息包括：{'、'.join(COMPLAINANT_FIELDS)}")
    person = {k: v for k in COMPLAINANT_FIELDS if (v := _text(complainant.get(k), f"complainant.{k}", 200,
                                                                   required=k == "name"))}
    return person


def _fields(given: Mapping[str, Any] | None) -> dict[str, Any]:
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise _invalid("COMPLAINT_FIELDS_INVALID", "fields", "fields must be an object", "字段须为对象")
    text = json.dumps(dict(given), default=str, sort_keys=True, ensure_ascii=False)
    if len(text) > 20 * MAX_FIELD_TEXT:
        raise _invalid("COMPLAINT_FIELDS_INVALID", "fields", "the fields are too large", "字段过大")
    return json.loads(text)


# --- use cases -----------------------------------------------------------------------------------


async def intake(ctx: Context, registry: VerticalRegistry, *, vertical: str, flow: str, category: str, severity: str,
                 subject: str, channel: str, source: str = "external", customer_id: UUID | None = None,
                 complainant: Mapping[str, Any] | None = None, department_id: UUID | None = None,
                 archive_id: UUID | None = None, previous_id: UUID | None = None,
                 attachments: Sequence[Any] = ()) -> ComplaintView:
    """Open a complaint: the caller is its first responder; it gets the flow's next number, its
    branch, its initial state and the clocks intake starts."""
    definition = flow_of(registry, vertical, flow)
    _require(ctx, definition.intake_permission)
    _choice(category, "category", definition.categories)
    _choice(severity, "severity", definition.severities)
    _choice(source, "source", SOURCES)
    _choice(channel, "channel", CHANNELS)
    subject_text = _text(subject, "subject", MAX_SUBJECT)
    person = _person(complainant)
    if customer_id is None and person is None:
        raise _invalid("COMPLAINT_INPUT_INVALID", "complainant", "name the complainant: a customer or a person",
                       "请填写投诉人：客户或个人")
    if not isinstance(attachments, (list, tuple)) or len(attachments) > MAX_ATTACHMENTS:
        raise _invalid("COMPLAINT_INPUT_INVALID", "attachments", f"at most {MAX_ATTACHMENTS} attachment references",
                       f"附件引用最多 {MAX_ATTACHMENTS} 个")
    branch = policy.branch_of(definition, category, severity)
    at = now()
    async with unit_of_work(ctx) as uow:
        await _enabled(uow, registry, vertical)
        await _check_links(uow, customer_id=customer_id, department_id=department_id, archive_id=archive_id,
                           previous_id=previous_id)
        if customer_id is not None:  # a frozen customer is out of all processing (PIPL art. 47)
            await freeze.refuse_if_frozen(uow, customer_id)
        calendar = await load_calendar(uow)
        day = policy.local_day(calendar, at)
        slot = policy.number_slot(vertical, definition, day)
        number = policy.format_number(definition.numbering, day, await _next_seq(uow, slot.scope, slot.period))
        complaint_id = uuid4()
        sealed = crypto.seal_json(ctx.tenant_id, SEALED_COMPLAINANT, person) if person else None  # type: ignore[arg-type]
        await uow.insert(Complaint(
            id=complaint_id, vertical=vertical, flow=flow, number=number, source=source, channel=channel,
            category=category, severity=severity, branch=branch, state=definition.initial, subject=subject_text,
            customer_id=customer_id, complainant=sealed, first_responder=ctx.actor, department_id=department_id,
            archive_id=archive_id, previous_id=previous_id,
            attachments=json.dumps(list(attachments), default=str), opened_at=at))
        row = await _load(uow, complaint_id)
        await _event(uow, complaint_id, at, "opened", to_state=definition.initial,
                     detail={"number": number, "category": category, "severity": severity, "branch": branch})
        await _apply_events(uow, calendar, definition, row, policy.intake_events(definition), definition.initial, at)
        await record(uow, "complaint.opened", "complaint", complaint_id,
                     {"number": number, "vertical": vertical, "flow": flow, "category": category, "severity": severity,
                      "source": source, "channel": channel, "state": definition.initial,
                      "complainant": "customer" if customer_id else "person"})
        await outbox.add(uow, "complaint.opened", "complaint", complaint_id,
                         ("number", "category", "severity", "state", "channel", "source"))
        return _view(ctx, row)


async def _changed(uow: UnitOfWork, row: Mapping[str, Any], values: dict[Any, Any]) -> None:
    """Write ``values`` if the complaint is still the version read, else VERSION_CONFLICT."""
    values[Complaint.version] = row["version"] + 1
    done = await uow.update(Complaint, values).where(
        (Complaint.id == row["id"]) & (Complaint.version == row["version"])).returning(Complaint.id)
    if not done:
        raise _invalid("VERSION_CONFLICT", "version", "the complaint changed meanwhile; read it again",
                       "投诉已被他人修改，请重新读取")


async def transition(ctx: Context, registry: VerticalRegistry, complaint_id: UUID, action: str,
                     fields: Mapping[str, Any] | None = None, *, version: int | None = None) -> ComplaintView:
    """Take ``action`` on a complaint: refused with a coded error, writing nothing, when the action
    is not open from its state and branch, the caller lacks its permission or a required field is
    missing."""
    given = _fields(fields)
    at = now()
    async with unit_of_work(ctx) as uow:
        row = await _load(uow, complaint_id)
        definition = flow_of(registry, row["vertical"], row["flow"])
        _require(ctx, definition.read_permission)
        await _enabled(uow, registry, row["vertical"])
        await _refuse_if_frozen(uow, row)
        if version is not None and version != row["version"]:
            raise _invalid("VERSION_CONFLICT", "version", "the complaint changed meanwhile; read it again",
                           "投诉已被他人修改，请重新读取")
        if row["state"] in definition.terminal_states():
            raise _invalid("COMPLAINT_CLOSED", "action", f"complaint {row['number']} is closed", f"投诉 {row['number']} 已结案")
        step = policy.find_transition(definition, row["state"], action, row["branch"])
        if step is None:
            open_actions = ", ".join(t.action for t in policy.available_transitions(definition, row["state"], row["branch"]))
            raise _invalid("COMPLAINT_TRANSITION_INVALID", "action",
                           f"{action!r} is not possible in state {row['state']!r} (possible: {open_actions or 'none'})",
                           f"状态 {row['state']!r} 下不能执行 {action!r}（可执行：{open_actions or '无'}）")
        if step.permission:
            require(ctx, step.permission)
        if step.authority and not policy.missing_fields(step, given):  # approval by authority level (核决权限)
            try:
                require_any(ctx, policy.authority_permissions(step, given, json.loads(row["fields"])))
            except ValueError as error:
                raise _invalid("COMPLAINT_FIELDS_INVALID", step.authority_field, str(error),
                               f"{step.authority_field} 须为不小于 0 的金额") from None
        missing = policy.missing_fields(step, given)
        if missing:
            raise _invalid("COMPLAINT_FIELDS_REQUIRED", missing[0], f"{action} needs {', '.join(missing)}",
                           f"{action} 须填写：{'、'.join(missing)}")
        wrong = policy.invalid_record_field(step, given)
        if wrong:
            raise _invalid("COMPLAINT_FIELDS_INVALID", wrong,
                           f"{wrong} must be {'a satisfaction from 1 to 5' if wrong == 'satisfaction' else 'true or false'}",
                           f"{wrong} 须为{'1 至 5 的满意度' if wrong == 'satisfaction' else '是或否'}")
        refused = policy.invalid_field(definition, step, row["branch"], given)  # a target's choice, an amount
        if refused:
            raise _invalid("COMPLAINT_FIELDS_INVALID", *refused)
        calendar = await load_calendar(uow)
        for timer in policy.timers_started(definition, row["branch"], policy.transition_events(step)):
            try:
                policy.deadline_from_field(timer, calendar, at, given)
            except ValueError as error:
                raise _invalid("COMPLAINT_FIELDS_INVALID", timer.deadline_field, str(error),
                               f"{timer.deadline_field} 须为晚于现在、且不超过时限的带时区日期时间") from None
        recorded = {**json.loads(row["fields"]), **{f"{action}.{k}": v for k, v in given.items()}}
        values: dict[Any, Any] = {Complaint.state: step.target, Complaint.fields: json.dumps(recorded, default=str, sort_keys=True)}
        target_paused = step.target in definition.paused_states()
        if target_paused and row["state"] not in definition.paused_states():
            values[Complaint.resume_state] = row["state"]
        elif not target_paused:
            values[Complaint.resume_state] = None
        if step.target in definition.terminal_states():
            values[Complaint.closed_at] = at
        await _changed(uow, row, values)
        await _event(uow, row["id"], at, "transitioned", action=action, from_state=row["state"], to_state=step.target,
                     detail={"fields": sorted(given), **({"record": step.record.value} if step.record else {})})
        await _apply_events(uow, calendar, definition, row, policy.transition_events(step), step.target, at, given)
        await record(uow, "complaint.transitioned", "complaint", row["id"],
                     {"action": action, "state": [row["state"], step.target], "fields": sorted(given)})
        await outbox.add(uow, "complaint.transitioned", "complaint", row["id"], ("state", *sorted(given)))
        return _view(ctx, await _load(uow, row["id"]))


async def assign(ctx: Context, registry: VerticalRegistry, complaint_id: UUID, *, assignee_id: UUID | None = None,
                 department_id: UUID | None = None) -> ComplaintView:
    """Give the complaint an assignee and a responsible department (either may stay)."""
    if assignee_id is None and department_id is None:
        raise _invalid("COMPLAINT_INPUT_INVALID", "assignee_id", "name an assignee or a department",
                       "请指定处理人或责任部门")
    at = now()
    async with unit_of_work(ctx) as uow:
        row = await _load(uow, complaint_id)
        definition = flow_of(registry, row["vertical"], row["flow"])
        _require(ctx, definition.assign_permission)
        await _enabled(uow, registry, row["vertical"])
        await _refuse_if_frozen(uow, row)
        if row["state"] in definition.terminal_states():
            raise _invalid("COMPLAINT_CLOSED", "id", f"complaint {row['number']} is closed", f"投诉 {row['number']} 已结案")
        await _check_links(uow, assignee_id=assignee_id, department_id=department_id)
        values: dict[Any, Any] = {}
        if assignee_id is not None:
            values[Complaint.assignee_id] = assignee_id
        if department_id is not None:
            values[Complaint.department_id] = department_id
        changed = sorted(str(column._meta.name) for column in values)
        await _changed(uow, row, values)
        await _event(uow, row["id"], at, "assigned", detail={k: str(v) for k, v in
                                                             (("assignee_id", assignee_id), ("department_id", department_id)) if v})
        await record(uow, "complaint.assigned", "complaint", row["id"],
                     {k: str(v) for k, v in (("assignee_id", assignee_id), ("department_id", department_id)) if v})
        await outbox.add(uow, "complaint.assigned", "complaint", row["id"], changed)
        return _view(ctx, await _load(uow, row["id"]))


async def pause(ctx: Context, registry: VerticalRegistry, complaint_id: UUID,
                fields: Mapping[str, Any] | None = None) -> ComplaintView:
    """Put the complaint on hold (waiting on the customer): the flow's one transition from its
    state into a paused state; the clocks that pause there stand still."""
    async with unit_of_work(ctx, write=False) as uow:
        row = await _load(uow, complaint_id)
    definition = flow_of(registry, row["vertical"], row["flow"])
    paused = definition.paused_states()
    steps = [t for t in policy.available_transitions(definition, row["state"], row["branch"]) if t.target in paused]
    if len(steps) != 1:
        raise _invalid("COMPLAINT_PAUSE_UNAVAILABLE", "id", f"complaint {row['number']} cannot be put on hold in "
                       f"state {row['state']!r}", f"投诉 {row['number']} 在状态 {row['state']!r} 下不能挂起")
    return await transition(ctx, registry, complaint_id, steps[0].action, fields, version=row["version"])


async def resume(ctx: Context, registry: VerticalRegistry, complaint_id: UUID,
                 fields: Mapping[str, Any] | None = None) -> ComplaintView:
    """Take the complaint off hold, back to the state it was paused in; its clocks run again with
    their due times moved by the pause (``core.complaints.policy``)."""
    async with unit_of_work(ctx, write=False) as uow:
        row = await _load(uow, complaint_id)
    definition = flow_of(registry, row["vertical"], row["flow"])
    steps = [t for t in policy.available_transitions(definition, row["state"], row["branch"])
             if row["state"] in definition.paused_states() and t.target not in definition.paused_states()]
    back = [t for t in steps if t.target == row["resume_state"]] or steps
    if not back:
        raise _invalid("COMPLAINT_NOT_PAUSED", "id", f"complaint {row['number']} is not on hold",
                       f"投诉 {row['number']} 未挂起")
    return await transition(ctx, registry, complaint_id, back[0].action, fields, version=row["version"])


async def timeline(ctx: Context, registry: VerticalRegistry, complaint_id: UUID) -> Timeline:
    """The case with every clock (started, paused, due, met or late, breached) and every event."""
    async with unit_of_work(ctx, write=False) as uow:
        row = await _load(uow, complaint_id)
        definition = flow_of(registry, row["vertical"], row["flow"])
        _require(ctx, definition.read_permission)
        await _refuse_if_frozen(uow, row, reading=True)
        clocks = await uow.select(ComplaintClock).where(ComplaintClock.complaint_id == row["id"]).order_by(ComplaintClock.started_at)
        events = await uow.select(ComplaintEvent).where(ComplaintEvent.complaint_id == row["id"]).order_by(ComplaintEvent.at).order_by(ComplaintEvent.created_at)
    return Timeline(complaint=_view(ctx, row), clocks=[_clock_view(c) for c in clocks],
                    events=[EventView(at=_utc(e["at"]), actor=e["actor"], kind=e["kind"], action=e["action"],  # type: ignore[arg-type]
                                      from_state=e["from_state"], to_state=e["to_state"], timer=e["timer"],
                                      detail=json.loads(e["detail"])) for e in events])


def _may_read(ctx: Context, flow: ComplaintFlowDefinition) -> bool:
    try:
        _require(ctx, flow.read_permission)
    except KehuError:
        return False
    return True


async def list_complaints(ctx: Context, registry: VerticalRegistry, window: Window, *, vertical: str | None = None,
                          flow: str | None = None, state: str | None = None, open_only: bool = False,
                          customer_id: UUID | None = None) -> tuple[list[ComplaintView], bool]:
    """A page of the complaints of the flows the caller may read (of the tenant's enabled
    verticals), newest first (keyset on opened_at, id); whether more lie beyond the page."""
    require_signed_in(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        enabled = {r["vertical_id"] for r in await uow.select(VerticalEnablement.vertical_id).where(
            VerticalEnablement.status == "enabled")}
        readable = [(d.id, f.id) for d in registry.definitions if d.id in enabled
                    for f in d.complaint_flows if isinstance(f, ComplaintFlowDefinition) and _may_read(ctx, f)
                    and (vertical is None or d.id == vertical) and (flow is None or f.id == flow)]
        if not readable:
            return [], False
        reach = None
        for vertical_id, flow_id in readable:
            one = (Complaint.vertical == vertical_id) & (Complaint.flow == flow_id)
            reach = one if reach is None else reach | one
        query = uow.select(Complaint).where(reach)
        if state is not None:
            query = query.where(Complaint.state == state)
        if open_only:
            query = query.where(Complaint.closed_at.is_null())
        if customer_id is not None:
            query = query.where(Complaint.customer_id == customer_id)
        if not freeze.may_read_frozen(ctx):  # a frozen customer's complaints are out of processing
            query = query.where(WhereRaw("(complaint.customer_id IS NULL OR complaint.customer_id NOT IN "
                                         "(SELECT customer_id FROM customer_freeze WHERE tenant_id = {}))",
                                         ctx.tenant_id))
        rows, more = await keyset.fetch(query, (Complaint.opened_at, Complaint.id), window, descending=True)
    return [_view(ctx, row) for row in rows], more


# --- the tick ------------------------------------------------------------------------------------

async def _react(uow: UnitOfWork, calendar: TenantCalendar, flow: ComplaintFlowDefinition,
                 complaint: Mapping[str, Any], timer: FlowTimer, reactions: Sequence[object], moment: datetime,
                 at: datetime) -> None:
    """Run ``reactions`` of a limit passed at ``moment``, noticed by the tick at ``at``: clocks and
    report due times count from ``moment``; the timeline shows them at ``at``."""
    complaint_id = complaint["id"]
    for reaction in reactions:
        if isinstance(reaction, Escalate):
            report_due = policy.due_time(calendar, moment, reaction.report_within) if reaction.report_within else None
            await _changed(uow, complaint, {Complaint.escalated_to: reaction.role})
            complaint = await _load(uow, complaint_id)
            if report_due is not None:
                await uow.insert(ComplaintClock(
                    id=uuid4(), complaint_id=complaint_id, timer=f"report:{reaction.role}", kind="report",
                    role=reaction.role, unit=reaction.report_within.unit.value, status="running",  # type: ignore[union-attr]
                    started_at=moment, due_at=report_due, next_due_at=report_due,
                    provisional=policy.provisional(calendar, reaction.report_within.unit, moment, report_due)))  # type: ignore[union-attr]
            role = flow.role(reaction.role)
            detail = {"role": reaction.role, "permission": role.permission if role else None, "timer": timer.code,
                      "report_due_at": report_due.isoformat() if report_due else None}
            await _event(uow, complaint_id, at, "escalated", timer=timer.code, detail=detail)
            await record(uow, "complaint.escalated", "complaint", complaint_id, detail)
            await outbox.add(uow, "complaint.escalated", "complaint", complaint_id,
                             ("escalated_to", *(("report_due_at",) if report_due else ())))
        elif isinstance(reaction, Remind):
            role = flow.role(reaction.role)
            detail = {"role": reaction.role, "permission": role.permission if role else None, "timer": timer.code,
                      "notice": reaction.notice,
                      "department_id": str(complaint["department_id"]) if complaint["department_id"] else None}
            await _event(uow, complaint_id, at, "reminded", timer=timer.code, detail=detail)
            await record(uow, "complaint.reminded", "complaint", complaint_id, detail)
            await outbox.add(uow, "complaint.reminded", "complaint", complaint_id, ("department_id",))
        elif isinstance(reaction, NotifyFirstResponder):
            detail = {"first_responder": complaint["first_responder"], "timer": timer.code}
            await _event(uow, complaint_id, at, "first_responder_notified", timer=timer.code, detail=detail)
            await record(uow, "complaint.first_responder_notified", "complaint", complaint_id, detail)
            await outbox.add(uow, "complaint.first_responder_notified", "complaint", complaint_id, ("first_responder",))


async def _breach(uow: UnitOfWork, registry: VerticalRegistry, calendar: TenantCalendar, clock: Mapping[str, Any],
                  at: datetime) -> bool:
    """Handle one clock past a limit, once: the conditional update claims it (a second tick for
    the same moment finds nothing to claim)."""
    hard = clock["breached_at"] is not None
    moment = _utc(clock["hard_due_at"] if hard else clock["due_at"])
    assert moment is not None
    following = None if hard else _utc(clock["hard_due_at"])
    claimed = await uow.update(ComplaintClock, {
        (ComplaintClock.hard_breached_at if hard else ComplaintClock.breached_at): at,
        ComplaintClock.next_due_at: following,
    }).where((ComplaintClock.id == clock["id"]) & (ComplaintClock.status == "running")
             & (ComplaintClock.hard_breached_at.is_null() if hard else ComplaintClock.breached_at.is_null())
             ).returning(ComplaintClock.id)
    if not claimed:
        return False
    complaint = await _load(uow, clock["complaint_id"])
    try:
        flow = flow_of(registry, complaint["vertical"], complaint["flow"])
    except KehuError:  # the vertical or flow is gone: the breach is still recorded, with no reaction
        flow = None
    limit = "hard_limit" if hard else "target"
    detail = {"timer": clock["timer"], "limit": limit, "due_at": moment.isoformat(), "kind": clock["kind"]}
    await _event(uow, complaint["id"], at, "breached", timer=clock["timer"], detail=detail)
    await record(uow, "complaint.breached", "complaint", complaint["id"], detail)
    await outbox.add(uow, "complaint.breached", "complaint", complaint["id"], ("clocks",))
    timer = flow.timer(clock["timer"]) if flow and clock["kind"] == "timer" else None
    if flow is None or timer is None:
        return True
    await _react(uow, calendar, flow, complaint, timer, timer.on_hard_breach if hard else timer.on_breach, moment, at)
    if not hard:
        complaint = await _load(uow, complaint["id"])
        for started in policy.timers_started(flow, complaint["branch"], (f"breach:{timer.code}",)):
            running = await uow.select(ComplaintClock.id).where(
                (ComplaintClock.complaint_id == complaint["id"]) & (ComplaintClock.timer == started.code)
                & ComplaintClock.status.is_in(["running", "paused"])).first()
            if running is None and complaint["state"] not in flow.terminal_states():
                await _start_clock(uow, calendar, complaint["id"], started, moment, complaint["state"], flow)
    return True


def due_clocks(uow: UnitOfWork, at: datetime, batch: int = TICK_BATCH) -> Any:
    """The query of the tenant's clocks past a limit at ``at``, earliest first: a range read of the
    index on (tenant_id, next_due_at), which holds no time for paused, stopped or finished clocks."""
    return uow.select(ComplaintClock).where((ComplaintClock.next_due_at <= at) & (ComplaintClock.status == "running")) \
        .order_by(ComplaintClock.next_due_at).limit(batch)


async def breach_due_in_tenant(tenant_id: UUID, at: datetime, registry: VerticalRegistry | None = None,
                               batch: int = TICK_BATCH) -> int:
    """Run the reactions of one tenant's clocks past due at ``at``, the earliest first, at most
    ``batch``; the tick is their actor."""
    registry = registry or started_verticals()
    handled = 0
    async with unit_of_work(Context.system(TICK_ACTOR, tenant_id)) as uow:
        due = await due_clocks(uow, at, batch)
        if not due:
            return 0
        calendar = await load_calendar(uow)
        for clock in due:
            if await _breach(uow, registry, calendar, clock, at):
                handled += 1
    return handled


async def breach_due(at: datetime | None = None) -> int:
    """The tick's sweep: every tenant's clocks past due."""
    at = at or now()
    registry = started_verticals()
    return await for_each_tenant(TICK_ACTOR, lambda tenant_id: breach_due_in_tenant(tenant_id, at, registry),
                                 "complaints.tick_failed", tenants=await tenants_due("complaint_clocks", at))


register_sweep("complaint_clocks", breach_due)
