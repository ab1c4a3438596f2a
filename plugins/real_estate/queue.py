"""The reception queue of a sales office (seed-000 §2.3–2.6, seed-002 §4.3, §4.6, §4.10): one queue
per office (a free-text office code) and day, its use cases on ``core.plugins`` only.

The pure part — who receives a customer, given the rotation order and each consultant's state —
is ``decide_reception`` and the ``after_…`` functions, tested without a database. The rotation
order is a list whose head is whose turn it is:

- a counted reception (a new customer, RE5) moves the receiver to the tail; the consultants the
  turn passed over because they were not eligible (RE1, RE3, RE4) or were busy with a designated
  reception (RE15: no make-up turn) lose it and go to the tail before the receiver; one busy with
  any other reception keeps their place (RE26, RE27: a duty reception does not cost the turn);
- a returning customer goes to their owner (RE8, RE13), a customer who names a consultant before
  the reception to that consultant (RE15); neither counts, nobody moves. When that consultant is
  absent (not signed in here today) or not free, the last available consultant of the order
  gives a duty reception on their behalf (RE14, RE22, RE26, RE27), which does not count either;
- the manager marks an unexcused absence (RE7): the consultant whose turn it is goes to the tail;
  the project manager's approved priority puts a consultant at the head (RE7); the site supervisor
  swaps two places (RE6).

Every change takes the queue's row first (``UPDATE … RETURNING``), then reads and writes in the
same unit of work, so two callers never decide on the same state; a waiting customer is claimed
with a conditional update (``… WHERE status = 'waiting'``) and one active reception per consultant
is a unique index (RE10): two consultants calling at the same moment never get the same customer.
Each reception writes the attribution ledger (``record_ledger_entry``) in its unit of work: a
VISIT, and a REGISTRATION for a customer without a valid owner. A refused call writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from core.plugins import (
    EventType,
    IsolationOperation,
    KehuError,
    LedgerKind,
    Parameter,
    ParameterKind,
    Permission,
    PersonalDataTable,
    Scope,
    customer_record,
    emit,
    fetch_page,
    record,
    require_permission,
    tenant_calendar,
    tenant_parameters,
    unit_of_work,
)
from plugins.real_estate.queue_tables import Arrival, QueueDay, QueueMember, Reception

VERTICAL = "real_estate"
SIGN_IN = "real_estate.reception.sign_in"
MANAGE = "real_estate.reception.manage"
SWAP = "real_estate.reception.swap"
PRIORITY = "real_estate.reception.priority"
CONFIRM = "real_estate.register.confirm"

PERMISSIONS = (
    Permission(SIGN_IN, "sign in to the day's reception queue, record arrivals and receive customers (consultant)",
               "签到接待轮序、登记到访并接待客户（置业顾问）"),
    Permission(MANAGE, "remove and restore eligibility, mark lost turns, reassign receptions (on-site sales manager)",
               "取消与恢复接待资格、取消轮次、改派接待（现场销售经理）"),
    Permission(SWAP, "swap two places in the reception order (site supervisor)", "调换接待顺序（现场主管）"),
    Permission(PRIORITY, "give a consultant back an approved priority turn (project manager)",
               "安排经审批的优先轮值（项目经理）"),
)

PARAMETERS = (
    Parameter("require_sales_control_ack", ParameterKind.BOOLEAN, True,
              "A consultant receives only after acknowledging the day's sales-control status (RE3)",
              "置业顾问须先确认当日销控状况方可接待（RE3）"),
)

EVENT_TYPES = (
    EventType("real_estate.queue_changed", "real_estate_queue_day", "order, eligibility, acknowledgement",
              "a consultant signs in or acknowledges the sales control, or the order or an eligibility changes"),
    EventType("real_estate.reception_started", "real_estate_reception", "consultant_id, kind",
              "a customer is received (rotation, owner, duty, designated or transfer)"),
    EventType("real_estate.reception_ended", "real_estate_reception", "status",
              "a reception ends, or is transferred to another consultant (RE11, RE16, RE17)"),
)

# The arrival's note may say who the customer is; the reception rows hold ids only.
PERSONAL_DATA = (PersonalDataTable("real_estate_arrival", "customer_id", ("note",), erase="anonymise"),)

REASONS = ("serious_fault", "customer_refused", "mid_reception_designation", "returning_designation")
MAX_OFFICE = 64
MAX_NOTE = 2000


def now() -> datetime:
    return datetime.now(UTC)  # tests pin the clock here


# --- the pure part: who receives ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seat:
    """A consultant in the rotation order, as the decision sees them."""

    consultant: str
    eligible: bool = True  # not removed by the manager (RE1, RE4)
    acknowledged: bool = True  # the day's sales control is acknowledged (or not required, RE3)
    busy: str | None = None  # the kind of their active reception (RE10), None when free

    @property
    def available(self) -> bool:
        return self.eligible and self.acknowledged and self.busy is None

    @property
    def keeps_turn(self) -> bool:
        """Passed over while busy with a reception that is not a designated one: the place is kept."""
        return self.eligible and self.acknowledged and self.busy is not None and self.busy != "designated"


@dataclass(frozen=True, slots=True)
class Turn:
    """Who receives, how, and the rotation order afterwards."""

    consultant: str
    kind: str  # rotation | owner | duty | designated
    counted: bool
    rule: str
    order: tuple[str, ...]
    on_behalf_of: str | None = None
    lost: tuple[str, ...] = field(default=())  # passed over: their turn is lost


def rotation_turn(seats: Sequence[Seat]) -> str | None:
    """Whose turn it is: the first available consultant of the order (RE5, RE10)."""
    return next((s.consultant for s in seats if s.available), None)


def last_in_schedule(seats: Sequence[Seat], *, besides: str | None = None) -> str | None:
    """The last available consultant of the order: who gives a duty reception (RE14, RE22)."""
    return next((s.consultant for s in reversed(seats) if s.available and s.consultant != besides), None)


def _rotate(seats: Sequence[Seat], receiver: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    at = [s.consultant for s in seats].index(receiver)
    before, after = seats[:at], seats[at + 1:]
    kept = [s.consultant for s in before if s.keeps_turn]
    lost = [s.consultant for s in before if not s.keeps_turn]
    return (*kept, *(s.consultant for s in after), *lost, receiver), tuple(lost)


def decide_reception(seats: Sequence[Seat], *, owner: str | None = None,
                     designated: str | None = None) -> Turn | None:
    """The decision tree of seed-000 §2: a customer naming a consultant (RE15, RE27) goes to them,
    a returning customer to their owner (RE8, RE13; a pre-declared referral too, RE26), either not
    counted; when that consultant is not here or not free, the last in the schedule gives a duty
    reception on their behalf (RE14, RE22, RE26, RE27), not counted; any other customer is new and
    goes to whoever's turn it is, counted (RE5). None: nobody can receive."""
    order = tuple(s.consultant for s in seats)
    by_id = {s.consultant: s for s in seats}
    named, kind, rule = (designated, "designated", "RE15") if designated else (owner, "owner", "RE13")
    if named is not None:
        seat = by_id.get(named)
        if seat is not None and seat.available:
            return Turn(named, kind, False, rule, order)
        duty = last_in_schedule(seats, besides=named)
        if duty is None:
            return None
        return Turn(duty, "duty", False, "RE27" if designated else "RE14", order, on_behalf_of=named)
    receiver = rotation_turn(seats)
    if receiver is None:
        return None
    new_order, lost = _rotate(seats, receiver)
    return Turn(receiver, "rotation", True, "RE5", new_order, lost=lost)


def after_lost_turn(order: Sequence[str], consultant: str) -> tuple[str, ...]:
    """RE7: an unexcused absence at one's turn loses it; the consultant goes to the tail."""
    return (*(c for c in order if c != consultant), consultant)


def after_priority(order: Sequence[str], consultant: str) -> tuple[str, ...]:
    """RE7: an approved extra task gives priority: the consultant is put at the head."""
    return (consultant, *(c for c in order if c != consultant))


def after_swap(order: Sequence[str], first: str, second: str) -> tuple[str, ...]:
    """RE6: two places exchanged (with the site supervisor's approval)."""
    swapped = {first: second, second: first}
    return tuple(swapped.get(c, c) for c in order)


# --- views -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberView:
    consultant_id: UUID
    position: int
    signed_in_at: datetime
    acknowledged: bool
    eligible: bool
    eligibility_reason: str | None
    lost_turns: int
    priority_turns: int
    counted: int
    busy_with: UUID | None


@dataclass(frozen=True)
class ArrivalView:
    id: UUID
    office: str
    day: str
    customer_id: UUID | None
    first_visit: bool
    note: str | None
    arrived_at: datetime
    status: str
    reception_id: UUID | None


@dataclass(frozen=True)
class ReceptionView:
    id: UUID
    office: str
    day: str
    arrival_id: UUID
    customer_id: UUID | None
    consultant_id: UUID
    kind: str
    counted: bool
    rule: str
    on_behalf_of: UUID | None
    from_reception_id: UUID | None
    status: str
    started_at: datetime
    ended_at: datetime | None
    visit_entry_id: str | None


@dataclass(frozen=True)
class QueueView:
    id: UUID
    office: str
    day: str
    version: int
    turn: UUID | None
    last_in_schedule: UUID | None
    members: list[MemberView]
    waiting: list[ArrivalView]
    active: list[ReceptionView]


# --- input -----------------------------------------------------------------------------------------


def _invalid(message_en: str, message_zh: str, field: str) -> KehuError:
    return KehuError("REAL_ESTATE_QUEUE_INPUT_INVALID", message_en, message_zh, field=field)


def _office(value: object) -> str:
    office = value.strip() if isinstance(value, str) else ""
    if not office or len(office) > MAX_OFFICE:
        raise _invalid(f"office must be an office code of 1 to {MAX_OFFICE} characters",
                       f"office 须为 1 至 {MAX_OFFICE} 个字符的案场代码", "office")
    return office


def _note(value: object, field: str = "note") -> str | None:
    note = value.strip() if isinstance(value, str) else ""
    if len(note) > MAX_NOTE:
        raise _invalid(f"{field} is longer than {MAX_NOTE} characters", f"{field} 超过 {MAX_NOTE} 个字符", field)
    return note or None


def _day(value: object) -> str:
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise _invalid("day must be a date YYYY-MM-DD", "day 须为日期 YYYY-MM-DD", "day")


async def today(ctx: Any) -> str:
    """The tenant's local day."""
    calendar = await tenant_calendar(ctx)
    return now().astimezone(calendar.zone).date().isoformat()


def _user(ctx: Any) -> UUID:
    if ctx.user_id is None:
        raise KehuError("REAL_ESTATE_CONSULTANT_REQUIRED", "only a signed-in user can take part in the queue",
                        "只有登录的用户才能参与接待轮序")
    return ctx.user_id


def _holds(ctx: Any, permission: str) -> Scope | None:
    try:
        return require_permission(ctx, permission)
    except KehuError as error:
        if error.code == "PERMISSION_DENIED":
            return None
        raise


def _not_signed_in(consultant: UUID, field: str = "consultant_id") -> KehuError:
    return KehuError("REAL_ESTATE_NOT_SIGNED_IN", f"consultant {consultant} has not signed in to this queue today",
                     f"置业顾问 {consultant} 今日未在该案场签到", field=field)


# --- reading and writing a queue -----------------------------------------------------------------


async def _take(uow: Any, office: str, day: str, *, create: bool = False) -> Mapping[str, Any] | None:
    """The queue's row, taken for this unit of work (its version moves on); created if asked."""
    rows = await uow.update(QueueDay, {QueueDay.version: QueueDay.version + 1}).where(
        (QueueDay.office == office) & (QueueDay.day == day)).returning(QueueDay.id, QueueDay.version)
    if rows:
        return {"id": rows[0]["id"], "office": office, "day": day, "version": rows[0]["version"]}
    if not create:
        return None
    queue_id = uuid4()
    await uow.insert(QueueDay(id=queue_id, office=office, day=day, version=1))
    return {"id": queue_id, "office": office, "day": day, "version": 1}


async def _taken(uow: Any, office: str, day: str) -> Mapping[str, Any]:
    queue = await _take(uow, office, day)
    if queue is None:
        raise KehuError("REAL_ESTATE_QUEUE_NOT_FOUND", f"nobody has signed in at office {office} today",
                        f"案场 {office} 今日无人签到", field="office")
    return queue


async def _members(uow: Any, queue_id: UUID) -> list[Mapping[str, Any]]:
    return await uow.select(QueueMember).where(QueueMember.queue_day_id == queue_id).order_by(
        QueueMember.position).order_by(QueueMember.signed_in_at)


async def _busy(uow: Any, consultants: Sequence[UUID]) -> dict[UUID, Mapping[str, Any]]:
    """Each consultant's active reception, wherever it is (RE10)."""
    if not consultants:
        return {}
    rows = await uow.select(Reception).where(Reception.consultant_id.is_in(list(consultants))
                                             & (Reception.status == "active"))
    return {r["consultant_id"]: r for r in rows}


async def _ack_required(ctx: Any) -> bool:
    return bool((await tenant_parameters(ctx, VERTICAL))["require_sales_control_ack"])


async def _seats(uow: Any, members: Sequence[Mapping[str, Any]], required: bool) -> list[Seat]:
    busy = await _busy(uow, [m["consultant_id"] for m in members])
    return [Seat(str(m["consultant_id"]), eligible=m["eligible"],
                 acknowledged=not required or m["sales_control_ack_at"] is not None,
                 busy=busy[m["consultant_id"]]["kind"] if m["consultant_id"] in busy else None) for m in members]


async def _reorder(uow: Any, members: Sequence[Mapping[str, Any]], order: Sequence[str]) -> None:
    """Write the rotation order back (positions 1, 2, …), touching only the members that moved."""
    by_id = {str(m["consultant_id"]): m for m in members}
    for position, consultant in enumerate(order, start=1):
        member = by_id[consultant]
        if member["position"] != position:
            await uow.update(QueueMember, {QueueMember.position: position}).where(QueueMember.id == member["id"])


def _member(members: Sequence[Mapping[str, Any]], consultant: UUID, field: str = "consultant_id") -> Mapping[str, Any]:
    found = next((m for m in members if m["consultant_id"] == consultant), None)
    if found is None:
        raise _not_signed_in(consultant, field)
    return found


def _arrival_view(row: Mapping[str, Any], queue: Mapping[str, Any]) -> ArrivalView:
    return ArrivalView(row["id"], queue["office"], queue["day"], row["customer_id"], row["first_visit"], row["note"],
                       row["arrived_at"], row["status"], row["reception_id"])


def _reception_view(row: Mapping[str, Any], queue: Mapping[str, Any]) -> ReceptionView:
    return ReceptionView(row["id"], queue["office"], queue["day"], row["arrival_id"], row["customer_id"],
                         row["consultant_id"], row["kind"], row["counted"], row["rule"], row["on_behalf_of"],
                         row["from_reception_id"], row["status"], row["started_at"], row["ended_at"],
                         row["visit_entry_id"])


async def _view(uow: Any, queue: Mapping[str, Any], required: bool) -> QueueView:
    members = await _members(uow, queue["id"])
    seats = await _seats(uow, members, required)
    busy = await _busy(uow, [m["consultant_id"] for m in members])
    waiting = await uow.select(Arrival).where((Arrival.queue_day_id == queue["id"]) & (Arrival.status == "waiting")
                                              ).order_by(Arrival.arrived_at).order_by(Arrival.id)
    active = await uow.select(Reception).where((Reception.queue_day_id == queue["id"])
                                               & (Reception.status == "active")).order_by(Reception.started_at)
    turn, last = rotation_turn(seats), last_in_schedule(seats)
    return QueueView(
        queue["id"], queue["office"], queue["day"], queue["version"], UUID(turn) if turn else None,
        UUID(last) if last else None,
        [MemberView(m["consultant_id"], m["position"], m["signed_in_at"],
                    not required or m["sales_control_ack_at"] is not None, m["eligible"], m["eligibility_reason"],
                    m["lost_turns"], m["priority_turns"], m["counted"],
                    busy[m["consultant_id"]]["id"] if m["consultant_id"] in busy else None) for m in members],
        [_arrival_view(a, queue) for a in waiting], [_reception_view(r, queue) for r in active])


async def _changed(uow: Any, queue: Mapping[str, Any], action: str, changes: Mapping[str, Any]) -> None:
    await record(uow, f"real_estate.{action}", "real_estate_queue_day", queue["id"],
                 {"office": queue["office"], "day": queue["day"], **changes})
    await emit(uow, "real_estate.queue_changed", "real_estate_queue_day", queue["id"], tuple(changes))


# --- the queue: sign-in, acknowledgement, eligibility, order -------------------------------------


async def sign_in(ctx: Any, office: str) -> QueueView:
    """RE5: a consultant signs in for the day at an office and joins the end of the order."""
    require_permission(ctx, SIGN_IN)
    consultant, office = _user(ctx), _office(office)
    day = await today(ctx)
    required = await _ack_required(ctx)  # read before the unit of work: it opens its own
    async with unit_of_work(ctx) as uow:
        queue = await _take(uow, office, day, create=True)
        members = await _members(uow, queue["id"])
        if any(m["consultant_id"] == consultant for m in members):
            raise KehuError("REAL_ESTATE_ALREADY_SIGNED_IN", "you have already signed in to this queue today",
                            "您今日已在该案场签到", field="office")
        position = max((m["position"] for m in members), default=0) + 1
        await uow.insert(QueueMember(id=uuid4(), queue_day_id=queue["id"], consultant_id=consultant, position=position,
                                     signed_in_at=now(), eligible=True, lost_turns=0, priority_turns=0, counted=0))
        await _changed(uow, queue, "queue_signed_in", {"consultant_id": str(consultant), "position": position})
        return await _view(uow, queue, required)


async def acknowledge_sales_control(ctx: Any, office: str) -> QueueView:
    """RE3: the signed-in consultant acknowledges today's sales-control status (销控) and data
    changes; until then (with ``require_sales_control_ack``) they are not eligible to receive."""
    require_permission(ctx, SIGN_IN)
    consultant, office = _user(ctx), _office(office)
    day = await today(ctx)
    required = await _ack_required(ctx)  # read before the unit of work: it opens its own
    async with unit_of_work(ctx) as uow:
        queue = await _taken(uow, office, day)
        member = _member(await _members(uow, queue["id"]), consultant, "office")
        if member["sales_control_ack_at"] is None:
            await uow.update(QueueMember, {QueueMember.sales_control_ack_at: now()}).where(QueueMember.id == member["id"])
            await _changed(uow, queue, "sales_control_acknowledged", {"consultant_id": str(consultant)})
        return await _view(uow, queue, required)


async def set_eligibility(ctx: Any, office: str, consultant: UUID, *, eligible: bool,
                          reason: str | None = None) -> QueueView:
    """RE1, RE4: the on-site sales manager removes a consultant's eligibility for this round (not
    ready, not properly dressed: a reason is required) or restores it. While removed, the turn
    passes over them and is lost."""
    require_permission(ctx, MANAGE)
    office, reason = _office(office), _note(reason)
    if not eligible and reason is None:
        raise _invalid("a reason is required to remove eligibility", "取消接待资格须说明原因", "reason")
    day = await today(ctx)
    required = await _ack_required(ctx)  # read before the unit of work: it opens its own
    async with unit_of_work(ctx) as uow:
        queue = await _taken(uow, office, day)
        member = _member(await _members(uow, queue["id"]), consultant)
        if member["eligible"] != eligible or (not eligible and member["eligibility_reason"] != reason):
            await uow.update(QueueMember, {QueueMember.eligible: eligible,
                                           QueueMember.eligibility_reason: None if eligible else reason}
                             ).where(QueueMember.id == member["id"])
            await _changed(uow, queue, "eligibility_restored" if eligible else "eligibility_removed",
                           {"consultant_id": str(consultant), "eligible": (member["eligible"], eligible),
                            "reason": reason})
        return await _view(uow, queue, required)


async def swap(ctx: Any, office: str, first: UUID, second: UUID) -> QueueView:
    """RE6: the order changes only by the site supervisor: two consultants exchange places."""
    require_permission(ctx, SWAP)
    office = _office(office)
    day = await today(ctx)
    required = await _ack_required(ctx)  # read before the unit of work: it opens its own
    async with unit_of_work(ctx) as uow:
        queue = await _taken(uow, office, day)
        members = await _members(uow, queue["id"])
        _member(members, first, "consultant_id")
        _member(members, second, "other_consultant_id")
        if first != second:  # a consultant swapped with themself: nothing moves
            order = [str(m["consultant_id"]) for m in members]
            await _reorder(uow, members, after_swap(order, str(first), str(second)))
            await _changed(uow, queue, "queue_swapped", {"consultant_id": str(first), "other_consultant_id": str(second)})
        return await _view(uow, queue, required)


async def skip_turn(ctx: Any, office: str, consultant: UUID) -> QueueView:
    """RE7: the consultant whose turn it is is absent without a valid reason: the manager marks the
    turn lost and the consultant goes to the end of the order."""
    require_permission(ctx, MANAGE)
    office = _office(office)
    day = await today(ctx)
    required = await _ack_required(ctx)  # read before the unit of work: it opens its own
    async with unit_of_work(ctx) as uow:
        queue = await _taken(uow, office, day)
        members = await _members(uow, queue["id"])
        member = _member(members, consultant)
        turn = rotation_turn(await _seats(uow, members, required))
        if turn != str(consultant):
            raise KehuError("REAL_ESTATE_NOT_THEIR_TURN", f"it is not {consultant}'s turn (it is {turn or 'nobody'}'s)",
                            f"当前不是 {consultant} 的轮次（当前为 {turn or '无'}）", field="consultant_id")
        await _reorder(uow, members, after_lost_turn([str(m["consultant_id"]) for m in members], str(consultant)))
        await uow.update(QueueMember, {QueueMember.lost_turns: QueueMember.lost_turns + 1}).where(
            QueueMember.id == member["id"])
        await _changed(uow, queue, "turn_lost", {"consultant_id": str(consultant),
                                                  "lost_turns": (member["lost_turns"], member["lost_turns"] + 1)})
        return await _view(uow, queue, required)


async def prioritise(ctx: Any, office: str, consultant: UUID, *, reason: str | None = None) -> QueueView:
    """RE7: the project manager verified that the consultant missed the turn on a superior's extra
    task and approves a priority turn: the consultant is put at the head of the order."""
    require_permission(ctx, PRIORITY)
    office, reason = _office(office), _note(reason)
    day = await today(ctx)
    required = await _ack_required(ctx)  # read before the unit of work: it opens its own
    async with unit_of_work(ctx) as uow:
        queue = await _taken(uow, office, day)
        members = await _members(uow, queue["id"])
        member = _member(members, consultant)
        await _reorder(uow, members, after_priority([str(m["consultant_id"]) for m in members], str(consultant)))
        await uow.update(QueueMember, {QueueMember.priority_turns: QueueMember.priority_turns + 1}).where(
            QueueMember.id == member["id"])
        await _changed(uow, queue, "priority_given", {"consultant_id": str(consultant), "reason": reason})
        return await _view(uow, queue, required)


async def queue(ctx: Any, office: str, day: str | None = None) -> QueueView | None:
    """The queue of an office on a day (today by default): order, whose turn, flags, waiting
    customers and active receptions; None when nobody signed in."""
    if _holds(ctx, MANAGE) is None:
        require_permission(ctx, SIGN_IN)
    office = _office(office)
    day = _day(day) if day is not None else await today(ctx)
    required = await _ack_required(ctx)  # read before the unit of work: it opens its own
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(QueueDay).where((QueueDay.office == office) & (QueueDay.day == day)).first()
        return None if row is None else await _view(uow, row, required)


# --- customers: arrival, reception, end, reassignment --------------------------------------------


async def arrive(ctx: Any, office: str, *, customer_id: UUID | None, first_visit: bool,
                 note: str | None = None) -> ArrivalView:
    """A walk-in customer is waiting (RE22: asked whether this is the first visit). A customer
    already waiting at the office is that same arrival."""
    require_permission(ctx, SIGN_IN)
    office, note = _office(office), _note(note)
    day = await today(ctx)
    async with unit_of_work(ctx) as uow:
        queue = await _taken(uow, office, day)
        if customer_id is not None:
            if await customer_record(uow, customer_id) is None:
                raise KehuError("CUSTOMER_NOT_FOUND", f"no customer {customer_id}", f"未找到客户 {customer_id}",
                                field="customer_id")
            waiting = await uow.select(Arrival).where((Arrival.queue_day_id == queue["id"])
                                                      & (Arrival.customer_id == customer_id)
                                                      & (Arrival.status == "waiting")).first()
            if waiting is not None:
                return _arrival_view(waiting, queue)
        arrival_id = uuid4()
        await uow.insert(Arrival(id=arrival_id, queue_day_id=queue["id"], customer_id=customer_id,
                                 first_visit=first_visit, note=note, arrived_at=now(), recorded_by=ctx.actor,
                                 status="waiting"))
        await record(uow, "real_estate.customer_arrived", "real_estate_arrival", arrival_id,
                     {"office": office, "customer_id": str(customer_id) if customer_id else None,
                      "first_visit": first_visit})
        row = await uow.select(Arrival).where(Arrival.id == arrival_id).first()
        return _arrival_view(row, queue)


async def _owner(uow: Any, customer_id: UUID | None) -> str | None:
    """The customer's valid owner by the attribution engine (RE8, RE13, RE20; RE26's pre-declaration)."""
    if customer_id is None:
        return None
    from core.plugins import attribution_decision

    return (await attribution_decision(uow, VERTICAL, customer_id, as_of=now())).owner


async def _ledger(uow: Any, customer_id: UUID, kind: str, consultant: UUID | str,
                  data: Mapping[str, Any]) -> str:
    from core.plugins import record_ledger_entry

    entry = await record_ledger_entry(uow, VERTICAL, customer_id, kind, at=now(), consultant_id=UUID(str(consultant)),
                                      data=dict(data))
    return str(entry.id)


async def _write_visit(uow: Any, reception: Mapping[str, Any], customer_id: UUID, *,
                       register: bool | None = None) -> dict[Any, Any]:
    """The reception's ledger entries: a REGISTRATION when the customer had no valid owner (a new
    customer registered by the receiving consultant), then the VISIT; the columns that keep them."""
    values: dict[Any, Any] = {}
    if reception["new_customer"] if register is None else register:
        values[Reception.registration_entry_id] = await _ledger(
            uow, customer_id, LedgerKind.REGISTRATION, reception["consultant_id"], {"first_visit": reception["first_visit"]})
    values[Reception.visit_entry_id] = await _ledger(uow, customer_id, LedgerKind.VISIT, reception["consultant_id"],
                                                     json.loads(reception["visit_data"]))
    return values


async def _start(uow: Any, ctx: Any, queue: Mapping[str, Any], arrival: Mapping[str, Any], turn: Turn, *,
                 new_customer: bool, data: Mapping[str, Any], from_reception: UUID | None = None,
                 kind: str | None = None) -> Mapping[str, Any]:
    """Claim the waiting customer (conditional update: only one caller can), start the reception,
    count it, write the ledger, audit and announce it."""
    reception_id = uuid4()
    if from_reception is None:
        claimed = await uow.update(Arrival, {Arrival.status: "received", Arrival.reception_id: reception_id}).where(
            (Arrival.id == arrival["id"]) & (Arrival.status == "waiting")).returning(Arrival.id)
        if not claimed:
            raise KehuError("REAL_ESTATE_ARRIVAL_ALREADY_RECEIVED", "this customer is already being received",
                            "该客户已在接待中", field="arrival_id")
    else:
        await uow.update(Arrival, {Arrival.reception_id: reception_id}).where(Arrival.id == arrival["id"])
    consultant = UUID(turn.consultant)
    await uow.insert(Reception(
        id=reception_id, queue_day_id=queue["id"], arrival_id=arrival["id"], customer_id=arrival["customer_id"],
        consultant_id=consultant, kind=kind or turn.kind, counted=turn.counted, rule=turn.rule,
        on_behalf_of=UUID(turn.on_behalf_of) if turn.on_behalf_of else None, first_visit=arrival["first_visit"],
        new_customer=new_customer, visit_data=json.dumps(dict(data)), from_reception_id=from_reception,
        status="active", started_at=now(), started_by=ctx.actor))
    if turn.counted:
        await uow.update(QueueMember, {QueueMember.counted: QueueMember.counted + 1}).where(
            (QueueMember.queue_day_id == queue["id"]) & (QueueMember.consultant_id == consultant))
    row = await uow.select(Reception).where(Reception.id == reception_id).first()
    if arrival["customer_id"] is not None and (kind or turn.kind) != "transfer":
        await uow.update(Reception, await _write_visit(uow, row, arrival["customer_id"])).where(
            Reception.id == reception_id)
    await record(uow, "real_estate.reception_started", "real_estate_reception", reception_id, {
        "office": queue["office"], "consultant_id": turn.consultant, "kind": kind or turn.kind,
        "counted": turn.counted, "rule": turn.rule, "on_behalf_of": turn.on_behalf_of,
        "customer_id": str(arrival["customer_id"]) if arrival["customer_id"] else None,
        "lost_turns": list(turn.lost)})
    await emit(uow, "real_estate.reception_started", "real_estate_reception", reception_id, ("consultant_id", "kind"))
    return await uow.select(Reception).where(Reception.id == reception_id).first()


def _visit_data(turn: Turn, arrival: Mapping[str, Any], owner: str | None) -> dict[str, Any]:
    reception = {"rotation": "rotation", "owner": "rotation", "duty": "duty", "designated": "designated"}[turn.kind]
    data: dict[str, Any] = {"reception": reception, "counted": turn.counted, "rule": turn.rule}
    if turn.on_behalf_of:
        data["on_behalf_of"] = turn.on_behalf_of
    if turn.kind == "designated":
        data["designated"] = True
    if owner is None and not arrival["first_visit"] and arrival["customer_id"] is None:
        data["forgot_original"] = True  # RE9, RE23: visited before, cannot name the consultant
    return data


async def _lost_turns(uow: Any, queue: Mapping[str, Any], turn: Turn) -> None:
    for consultant in turn.lost:
        await uow.update(QueueMember, {QueueMember.lost_turns: QueueMember.lost_turns + 1}).where(
            (QueueMember.queue_day_id == queue["id"]) & (QueueMember.consultant_id == UUID(consultant)))


def _nobody() -> KehuError:
    return KehuError("REAL_ESTATE_NO_CONSULTANT_AVAILABLE",
                     "no consultant can receive now (all busy, not eligible or not acknowledged the sales control)",
                     "当前没有可接待的置业顾问（均在接待、无资格或未确认销控）", field="office")


NEXT_SCAN = 50  # waiting arrivals looked at per call: a bounded read however long the day's list


async def _next_arrival(uow: Any, ctx: Any, queue: Mapping[str, Any]) -> Mapping[str, Any]:
    """The earliest waiting arrival whose customer may still be processed. One erased, merged away
    or frozen since they arrived would stop the office's queue (no ledger entry can name them): it
    is passed over and, when the next one is received, leaves the queue with it (audited). When
    none is left, nothing is written: the clerk takes them off (``cancel_arrival``)."""
    from core.plugins import customers_out_of_processing

    waiting = await uow.select(Arrival).where((Arrival.queue_day_id == queue["id"]) & (Arrival.status == "waiting")
                                              ).order_by(Arrival.arrived_at).order_by(Arrival.id).limit(NEXT_SCAN)
    gone = await customers_out_of_processing(uow, [a["customer_id"] for a in waiting if a["customer_id"]])
    for arrival in waiting:
        if arrival["customer_id"] not in gone:
            return arrival
        await _leave(uow, queue, arrival, "customer_not_processable")  # undone if this call fails
    raise _no_customer()


def _no_customer() -> KehuError:
    return KehuError("REAL_ESTATE_NO_CUSTOMER_WAITING", "no customer is waiting at this office",
                     "该案场没有等待接待的客户", field="office")


async def _leave(uow: Any, queue: Mapping[str, Any], arrival: Mapping[str, Any], reason: str) -> None:
    """The arrival leaves the queue unreceived (status ``left``), audited and announced."""
    await uow.update(Arrival, {Arrival.status: "left"}).where(Arrival.id == arrival["id"])
    changes = {"office": queue["office"], "reason": reason,
               "customer_id": str(arrival["customer_id"]) if arrival["customer_id"] else None}
    await record(uow, "real_estate.arrival_left", "real_estate_arrival", arrival["id"], changes)


async def take_next(ctx: Any, office: str) -> ReceptionView:
    """The next waiting customer is received by the decision tree (RE5, RE8, RE10, RE13, RE14, RE22,
    RE26): their owner if they have a valid one and the owner is here and free, else a duty
    reception by the last in the schedule; a new customer by whoever's turn it is, counted."""
    require_permission(ctx, SIGN_IN)
    office = _office(office)
    day = await today(ctx)
    required = await _ack_required(ctx)  # read before the unit of work: it opens its own
    async with unit_of_work(ctx) as uow:
        queue = await _taken(uow, office, day)
        arrival = await _next_arrival(uow, ctx, queue)
        members = await _members(uow, queue["id"])
        owner = await _owner(uow, arrival["customer_id"])
        turn = decide_reception(await _seats(uow, members, required), owner=owner)
        if turn is None:
            raise _nobody()
        await _reorder(uow, members, turn.order)
        await _lost_turns(uow, queue, turn)
        row = await _start(uow, ctx, queue, arrival, turn, new_customer=owner is None,
                           data=_visit_data(turn, arrival, owner))
        return _reception_view(row, queue)


async def _known_consultant(uow: Any, consultant: UUID) -> bool:
    from core.plugins import tenant_user

    return await tenant_user(uow, consultant)


async def designate(ctx: Any, arrival_id: UUID, consultant: UUID) -> ReceptionView:
    """RE15: a waiting customer names a consultant before the substantive reception: that
    consultant receives, not counted, and gets no make-up turn for a turn it made them miss. When
    they are not here or not free, the last in the schedule gives a duty reception on their behalf
    (RE27). Naming again the consultant already receiving the customer changes nothing."""
    require_permission(ctx, SIGN_IN)
    required = await _ack_required(ctx)  # read before the unit of work: it opens its own
    async with unit_of_work(ctx) as uow:
        arrival = await uow.select(Arrival).where(Arrival.id == arrival_id).first()
        if arrival is None:
            raise KehuError("REAL_ESTATE_ARRIVAL_NOT_FOUND", f"no arrival {arrival_id}", f"未找到到访记录 {arrival_id}",
                            field="arrival_id")
        queue = await uow.select(QueueDay).where(QueueDay.id == arrival["queue_day_id"]).first()
        queue = await _take(uow, queue["office"], queue["day"])
        arrival = await uow.select(Arrival).where(Arrival.id == arrival_id).first()
        if arrival["status"] != "waiting":
            current = await uow.select(Reception).where(Reception.id == arrival["reception_id"]).first()
            if current is not None and current["kind"] == "designated" and current["consultant_id"] == consultant:
                return _reception_view(current, queue)
            raise KehuError("REAL_ESTATE_ARRIVAL_ALREADY_RECEIVED",
                            "the customer is already being received: a designation now needs the manager (RE16, RE17)",
                            "客户已在接待中：中途指定须由经理改派（RE16、RE17）", field="arrival_id")
        members = await _members(uow, queue["id"])
        if not any(m["consultant_id"] == consultant for m in members) and not await _known_consultant(uow, consultant):
            raise KehuError("REAL_ESTATE_CONSULTANT_UNKNOWN", f"no consultant {consultant}", f"未找到置业顾问 {consultant}",
                            field="consultant_id")
        owner = await _owner(uow, arrival["customer_id"])
        turn = decide_reception(await _seats(uow, members, required), designated=str(consultant))
        if turn is None:
            raise _nobody()
        data = _visit_data(turn, arrival, owner)
        if turn.kind == "duty":
            data["designated"] = True  # named before the reception, received on their behalf (RE27)
        row = await _start(uow, ctx, queue, arrival, turn, new_customer=owner is None and turn.kind == "designated",
                           data=data)
        return _reception_view(row, queue)


async def cancel_arrival(ctx: Any, arrival_id: UUID, *, reason: str | None = None) -> ArrivalView:
    """A waiting customer leaves unreceived (walked out, recorded twice, or erased since): off the
    queue, audited; nobody's turn moves. Cancelling an arrival that already left changes nothing."""
    require_permission(ctx, SIGN_IN)
    reason = _note(reason, "reason")
    async with unit_of_work(ctx) as uow:
        arrival = await uow.select(Arrival).where(Arrival.id == arrival_id).first()
        if arrival is None:
            raise KehuError("REAL_ESTATE_ARRIVAL_NOT_FOUND", f"no arrival {arrival_id}", f"未找到到访记录 {arrival_id}",
                            field="arrival_id")
        queue = await uow.select(QueueDay).where(QueueDay.id == arrival["queue_day_id"]).first()
        queue = await _take(uow, queue["office"], queue["day"])  # serialised with take_next on this queue
        arrival = await uow.select(Arrival).where(Arrival.id == arrival_id).first()
        if arrival["status"] == "received":
            raise KehuError("REAL_ESTATE_ARRIVAL_ALREADY_RECEIVED", "the customer is already being received",
                            "该客户已在接待中", field="arrival_id")
        if arrival["status"] == "waiting":
            await _leave(uow, queue, arrival, reason or "left")
            arrival = await uow.select(Arrival).where(Arrival.id == arrival_id).first()
        return _arrival_view(arrival, queue)


async def _reception(uow: Any, reception_id: UUID) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    row = await uow.select(Reception).where(Reception.id == reception_id).first()
    if row is None:
        raise KehuError("REAL_ESTATE_RECEPTION_NOT_FOUND", f"no reception {reception_id}",
                        f"未找到接待记录 {reception_id}", field="reception_id")
    queue = await uow.select(QueueDay).where(QueueDay.id == row["queue_day_id"]).first()
    return row, queue


async def end_reception(ctx: Any, reception_id: UUID, *, customer_id: UUID | None = None) -> ReceptionView:
    """The consultant (or the manager) ends an active reception; the consultant is free again
    (RE10). A customer identified only now (``customer_id``) gets the reception's ledger entries
    now. Ending an ended reception changes nothing."""
    scope = _holds(ctx, MANAGE)
    if scope is None:
        require_permission(ctx, SIGN_IN)
    async with unit_of_work(ctx) as uow:
        row, queue = await _reception(uow, reception_id)
        if scope is None and row["consultant_id"] != ctx.user_id:
            raise KehuError("PERMISSION_DENIED", "only the receiving consultant or the manager ends a reception",
                            "只有接待的置业顾问或经理可以结束接待", field="reception_id")
        if row["status"] != "active":
            if customer_id is not None and customer_id != row["customer_id"]:
                raise KehuError("REAL_ESTATE_RECEPTION_NOT_ACTIVE", "this reception has ended", "该接待已结束",
                                field="reception_id")
            return _reception_view(row, queue)
        await _take(uow, queue["office"], queue["day"])
        changes: dict[str, Any] = {"status": ("active", "ended")}
        values: dict[Any, Any] = {Reception.status: "ended", Reception.ended_at: now(), Reception.ended_by: ctx.actor}
        if customer_id is not None and row["customer_id"] is None:
            if await customer_record(uow, customer_id) is None:
                raise KehuError("CUSTOMER_NOT_FOUND", f"no customer {customer_id}", f"未找到客户 {customer_id}",
                                field="customer_id")
            values[Reception.customer_id] = customer_id
            # identified only now: a customer someone validly owns is not registered again
            register = row["new_customer"] and await _owner(uow, customer_id) is None
            values.update(await _write_visit(uow, row, customer_id, register=register))
            await uow.update(Arrival, {Arrival.customer_id: customer_id}).where(Arrival.id == row["arrival_id"])
            changes["customer_id"] = str(customer_id)
        elif customer_id is not None and customer_id != row["customer_id"]:
            raise _invalid("the reception is already of another customer", "该接待已关联其他客户", "customer_id")
        await uow.update(Reception, values).where(Reception.id == reception_id)
        await record(uow, "real_estate.reception_ended", "real_estate_reception", reception_id, changes)
        await emit(uow, "real_estate.reception_ended", "real_estate_reception", reception_id, ("status",))
        return _reception_view(await uow.select(Reception).where(Reception.id == reception_id).first(), queue)


async def reassign(ctx: Any, reception_id: UUID, reason: str, *, consultant: UUID | None = None,
                   instigated: bool = False) -> ReceptionView:
    """The manager moves an active reception to another consultant:

    - RE11 C (``serious_fault``, ``customer_refused``): the next consultant of the rotation takes the
      customer as a new one (counted); a TRANSFER entry: the original loses all rights. (RE11 A, a
      consultant without fault, is refused by not calling this; B is a violation.)
    - RE16 (``mid_reception_designation``): the customer insists on the named consultant, who
      receives (not counted); the VISIT names the first consultant and whether the named one
      instigated it (55/45, or 100 to the first).
    - RE17 (``returning_designation``): a returning customer insists on another consultant, who gives
      a duty reception on behalf of the first (100 to the first on a deal)."""
    require_permission(ctx, MANAGE)
    if reason not in REASONS:
        raise _invalid(f"reason must be one of {', '.join(REASONS)}", f"reason 须为以下之一：{'、'.join(REASONS)}",
                       "reason")
    designation = reason in ("mid_reception_designation", "returning_designation")
    if designation and consultant is None:
        raise _invalid("the named consultant is required", "须指明客户指定的置业顾问", "consultant_id")
    required = await _ack_required(ctx)  # read before the unit of work: it opens its own
    async with unit_of_work(ctx) as uow:
        row, queue = await _reception(uow, reception_id)
        queue = await _take(uow, queue["office"], queue["day"])
        row = await uow.select(Reception).where(Reception.id == reception_id).first()
        if row["status"] != "active":
            raise KehuError("REAL_ESTATE_RECEPTION_NOT_ACTIVE", "this reception has ended", "该接待已结束",
                            field="reception_id")
        if row["customer_id"] is None:
            raise KehuError("REAL_ESTATE_CUSTOMER_REQUIRED",
                            "identify the customer first (end with customerId or arrive with it)",
                            "请先确定客户身份", field="reception_id")
        members = await _members(uow, queue["id"])
        seats = await _seats(uow, members, required)
        first = str(row["consultant_id"])
        if designation:
            assert consultant is not None
            _member(members, consultant)
            seat = next(s for s in seats if s.consultant == str(consultant))
            if str(consultant) == first or not seat.available:
                raise KehuError("REAL_ESTATE_CONSULTANT_BUSY", f"consultant {consultant} cannot receive now",
                                f"置业顾问 {consultant} 当前无法接待", field="consultant_id")
            order = tuple(s.consultant for s in seats)
            if reason == "mid_reception_designation":
                turn = Turn(str(consultant), "designated", False, "RE16", order)
                data = {"reception": "designated", "counted": False, "rule": "RE16", "designated": True,
                        "mid_reception_from": first, "instigated": bool(instigated)}
            else:
                owner = str(row["on_behalf_of"] or row["consultant_id"])
                turn = Turn(str(consultant), "duty", False, "RE17", order, on_behalf_of=owner)
                data = {"reception": "duty", "counted": False, "rule": "RE17", "returning_designation": True,
                        "on_behalf_of": owner}
            kind = None
        else:
            turn = decide_reception(seats)
            if turn is None:
                raise _nobody()
            turn = Turn(turn.consultant, "rotation", True, "RE11", turn.order, lost=turn.lost)
            data = {"reason": reason, "from": first}
            kind = "transfer"
            await _reorder(uow, members, turn.order)
            await _lost_turns(uow, queue, turn)
        await uow.update(Reception, {Reception.status: "transferred", Reception.ended_at: now(),
                                     Reception.ended_by: ctx.actor}).where(Reception.id == reception_id)
        await record(uow, "real_estate.reception_transferred", "real_estate_reception", reception_id,
                     {"status": ("active", "transferred"), "reason": reason, "to": turn.consultant})
        await emit(uow, "real_estate.reception_ended", "real_estate_reception", reception_id, ("status",))
        arrival = await uow.select(Arrival).where(Arrival.id == row["arrival_id"]).first()
        started = await _start(uow, ctx, queue, arrival, turn, new_customer=False, data=data,
                               from_reception=reception_id, kind=kind)
        if kind == "transfer":  # RE11 C: the customer is the new consultant's, the first loses all rights
            entry = await _ledger(uow, row["customer_id"], LedgerKind.TRANSFER, turn.consultant, data)
            await uow.update(Reception, {Reception.visit_entry_id: entry}).where(Reception.id == started["id"])
            started = await uow.select(Reception).where(Reception.id == started["id"]).first()
        return _reception_view(started, queue)


# --- the reception register -------------------------------------------------------------------


async def confirm_register(ctx: Any, office: str, day: str) -> int:
    """RE19, RE21: the sales clerk reviews the office's visit register of a day and confirms it: a
    CONFIRMATION entry for each VISIT and REGISTRATION its receptions wrote and that is not yet
    confirmed. Only then are they a basis for attribution; confirmed, they can never be corrected.
    Returns how many entries were confirmed (none: the register was already confirmed)."""
    require_permission(ctx, CONFIRM)
    office, day = _office(office), _day(day)
    async with unit_of_work(ctx) as uow:
        queue = await _take(uow, office, day)
        if queue is None:
            raise KehuError("REAL_ESTATE_QUEUE_NOT_FOUND", f"nobody signed in at office {office} on {day}",
                            f"案场 {office} 在 {day} 无人签到", field="office")
        rows = await uow.select(Reception).where((Reception.queue_day_id == queue["id"])
                                                 & Reception.visit_entry_id.is_not_null()
                                                 & Reception.confirmed_at.is_null() & (Reception.kind != "transfer"))
        if not rows:
            return 0
        from core.plugins import ledger_entries

        wanted = {e for r in rows for e in (r["registration_entry_id"], r["visit_entry_id"]) if e}
        since = min(r["started_at"] for r in rows)
        found = {str(e.id): e for e in await ledger_entries(uow, VERTICAL, kinds=[LedgerKind.REGISTRATION,
                                                                                     LedgerKind.VISIT], since=since,
                                                                limit=10_000) if str(e.id) in wanted}
        confirmed = 0
        for entry in sorted(found.values(), key=lambda e: e.seq):
            if not entry.confirmed:  # confirmed elsewhere already (the engine's own register)
                from core.plugins import record_ledger_entry

                await record_ledger_entry(uow, VERTICAL, UUID(str(entry.customer)), LedgerKind.CONFIRMATION, at=now(),
                                          refers_to=UUID(str(entry.id)))
                confirmed += 1
        at = now()
        await uow.update(Reception, {Reception.confirmed_at: at, Reception.confirmed_by: ctx.actor}).where(
            Reception.id.is_in([r["id"] for r in rows]))
        await record(uow, "real_estate.register_confirmed", "real_estate_queue_day", queue["id"],
                     {"office": office, "day": day, "receptions": len(rows), "entries": confirmed})
        return confirmed


def reception_key(raw: list[Any]) -> tuple[datetime, UUID]:
    """A cursor's key of the receptions: (started_at, id)."""
    return datetime.fromisoformat(raw[0]), UUID(raw[1])


async def receptions(ctx: Any, window: Any, *, office: str | None = None, consultant: UUID | None = None,
                     since: datetime | None = None, until: datetime | None = None
                     ) -> tuple[list[ReceptionView], bool]:
    """One keyset window of the receptions, oldest first: all of them for the manager, a
    consultant's own otherwise."""
    manager = _holds(ctx, MANAGE) is Scope.TENANT
    scope = None if manager else require_permission(ctx, SIGN_IN)
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(Reception)
        if scope is not None and scope is not Scope.TENANT:
            query = query.where(Reception.consultant_id == _user(ctx))
        if office is not None:
            days = await uow.select(QueueDay.id).where(QueueDay.office == _office(office))
            query = query.where(Reception.queue_day_id.is_in([d["id"] for d in days] or [uuid4()]))
        if consultant is not None:
            query = query.where(Reception.consultant_id == consultant)
        if since is not None:
            query = query.where(Reception.started_at >= since)
        if until is not None:
            query = query.where(Reception.started_at < until)
        rows, more = await fetch_page(query, [Reception.started_at, Reception.id], window)
        queues = {q["id"]: q for q in await uow.select(QueueDay).where(
            QueueDay.id.is_in(list({r["queue_day_id"] for r in rows}) or [uuid4()]))}
    return [_reception_view(r, queues[r["queue_day_id"]]) for r in rows], more


# --- the isolation suite's operations ---------------------------------------------------------------

_Q = "queue { id office members { consultantId } }"
_R = "reception { id consultantId kind customerId }"
_E = "errors { code }"

ISOLATION_OPERATIONS = (
    IsolationOperation('mutation($mark: String!) { customerCreate(input: {kind: "organisation", orgName: $mark}) '
                       '{ customer { id } errors { code } } }', makes=("customer", "customer.id")),
    IsolationOperation("mutation($mark: String!) { realEstateReceptionSignIn(office: $mark) { %s %s } }" % (_Q, _E),
                       makes=("real_estate_consultant", "queue.members.*.consultantId")),
    IsolationOperation("mutation($mark: String!) { realEstateSalesControlAcknowledge(office: $mark) { %s %s } }"
                       % (_Q, _E)),
    IsolationOperation("query($mark: String!) { realEstateQueue(office: $mark) { office turn lastInSchedule "
                       "members { consultantId } waiting { id customerId } active { id } } }",
                       lists=("real_estate_consultant", "members.*.consultantId")),
    IsolationOperation("mutation($mark: String!, $u: ID!) { realEstateReceptionEligibility(office: $mark, "
                       "consultantId: $u, eligible: true) { %s %s } }" % (_Q, _E),
                       ids=(("u", "real_estate_consultant"),)),
    IsolationOperation("mutation($mark: String!, $u: ID!) { realEstateReceptionSwap(office: $mark, consultantId: $u, "
                       "otherConsultantId: $u) { %s %s } }" % (_Q, _E), ids=(("u", "real_estate_consultant"),)),
    IsolationOperation("mutation($mark: String!, $u: ID!) { realEstateReceptionPriority(office: $mark, "
                       "consultantId: $u) { %s %s } }" % (_Q, _E), ids=(("u", "real_estate_consultant"),)),
    IsolationOperation("mutation($mark: String!, $u: ID!) { realEstateReceptionSkip(office: $mark, consultantId: $u) "
                       "{ %s %s } }" % (_Q, _E), ids=(("u", "real_estate_consultant"),)),
    IsolationOperation("mutation($mark: String!, $c: ID!) { realEstateReceptionArrive(office: $mark, customerId: $c, "
                       "firstVisit: true, note: $mark) { arrival { id customerId note } %s } }" % _E,
                       ids=(("c", "customer"),), makes=("real_estate_arrival", "arrival.id")),
    IsolationOperation("mutation($a: ID!, $u: ID!) { realEstateReceptionDesignate(arrivalId: $a, consultantId: $u) "
                       "{ %s %s } }" % (_R, _E), ids=(("a", "real_estate_arrival"), ("u", "real_estate_consultant")),
                       makes=("real_estate_reception", "reception.id")),
    IsolationOperation("mutation($r: ID!) { realEstateReceptionEnd(receptionId: $r) { %s %s } }" % (_R, _E),
                       ids=(("r", "real_estate_reception"),)),
    IsolationOperation("mutation($mark: String!) { realEstateReceptionNext(office: $mark) { %s %s } }" % (_R, _E),
                       makes=("real_estate_reception", "reception.id")),
    # Repeating a reassignment is refused (the reception is no longer active), so the suite sends it
    # an id no tenant has; tests/plugins/real_estate probe it across tenants.
    IsolationOperation('mutation { realEstateReceptionReassign(receptionId: "00000000-0000-0000-0000-000000000001", '
                       'reason: "customer_refused") { %s %s } }' % (_R, _E)),
    IsolationOperation('mutation($mark: String!) { realEstateRegisterConfirm(office: $mark, day: "2026-03-02") '
                       '{ confirmed %s } }' % _E),
    IsolationOperation("{ realEstateReceptions(first: 100) { nodes { id consultantId customerId } } }",
                       lists=("real_estate_reception", "nodes.*.id")),
)
