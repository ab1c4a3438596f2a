"""The reception queue over GraphQL (root fields ``realEstate…``): resolvers only call the use cases
of ``queue``. kehu answers ``VERTICAL_NOT_ENABLED`` to a tenant that has not enabled the vertical."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry

from core.plugins import Connection, UserError, connection, context, page_request, parse_id, run_mutation
from plugins.real_estate import queue as service


def _maybe(value: Any, field: str) -> UUID | None:
    return None if value is None else parse_id(value, field)


def _id(value: Any) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.type(name="RealEstateQueueMember", description="A consultant signed in to the day's queue (RE5).")
class Member:
    consultant_id: strawberry.ID
    position: int = strawberry.field(description="Place in the rotation order; the head's turn comes first.")
    signed_in_at: datetime
    sales_control_acknowledged: bool = strawberry.field(
        description="Today's sales control acknowledged, or not required by the tenant (RE3).")
    eligible: bool = strawberry.field(description="false: eligibility removed by the manager (RE1, RE4).")
    eligibility_reason: str | None
    lost_turns: int = strawberry.field(description="Turns lost today (RE7, or passed over while not eligible).")
    priority_turns: int = strawberry.field(description="Priority turns given by the project manager (RE7).")
    counted_receptions: int = strawberry.field(description="Receptions that counted toward the rotation today.")
    busy_with: strawberry.ID | None = strawberry.field(description="The active reception (RE10: one at a time).")


@strawberry.type(name="RealEstateArrival", description="A walk-in customer waiting, or received.")
class Arrival:
    id: strawberry.ID
    office: str
    day: str
    customer_id: strawberry.ID | None
    first_visit: bool
    note: str | None
    arrived_at: datetime
    status: str = strawberry.field(description="waiting | received | left (cancelled, or the customer erased or frozen since)")
    reception_id: strawberry.ID | None


@strawberry.type(name="RealEstateReception", description="Who received a customer, how and by which rule.")
class Reception:
    id: strawberry.ID
    office: str
    day: str
    arrival_id: strawberry.ID
    customer_id: strawberry.ID | None
    consultant_id: strawberry.ID
    kind: str = strawberry.field(description="rotation | owner | duty | designated | transfer")
    counted: bool = strawberry.field(description="Counted toward the rotation (only a new customer's reception).")
    rule: str = strawberry.field(description="The rule that chose the consultant: RE5, RE11, RE13, RE14, RE15, "
                                             "RE16, RE17, RE27.")
    on_behalf_of: strawberry.ID | None = strawberry.field(description="The absent consultant a duty reception is for.")
    from_reception_id: strawberry.ID | None = strawberry.field(description="The reception this one took over.")
    status: str = strawberry.field(description="active | ended | transferred")
    started_at: datetime
    ended_at: datetime | None
    visit_entry_id: strawberry.ID | None = strawberry.field(
        description="The ledger entry written (VISIT, or TRANSFER); null until the customer is known.")


@strawberry.type(name="RealEstateQueue", description="An office's reception queue for a day.")
class Queue:
    id: strawberry.ID
    office: str
    day: str
    version: int
    turn: strawberry.ID | None = strawberry.field(description="Whose turn it is for a new customer (RE5).")
    last_in_schedule: strawberry.ID | None = strawberry.field(
        description="Who gives a duty reception now (RE14, RE22, RE26, RE27).")
    members: list[Member] = strawberry.field(description="In rotation order.")
    waiting: list[Arrival]
    active: list[Reception]


def _arrival(a: service.ArrivalView) -> Arrival:
    return Arrival(id=strawberry.ID(str(a.id)), office=a.office, day=a.day, customer_id=_id(a.customer_id),
                   first_visit=a.first_visit, note=a.note, arrived_at=a.arrived_at, status=a.status,
                   reception_id=_id(a.reception_id))


def _reception(r: service.ReceptionView) -> Reception:
    return Reception(id=strawberry.ID(str(r.id)), office=r.office, day=r.day, arrival_id=strawberry.ID(str(r.arrival_id)),
                     customer_id=_id(r.customer_id), consultant_id=strawberry.ID(str(r.consultant_id)), kind=r.kind,
                     counted=r.counted, rule=r.rule, on_behalf_of=_id(r.on_behalf_of),
                     from_reception_id=_id(r.from_reception_id), status=r.status, started_at=r.started_at,
                     ended_at=r.ended_at, visit_entry_id=_id(r.visit_entry_id))


def _queue(q: service.QueueView) -> Queue:
    return Queue(id=strawberry.ID(str(q.id)), office=q.office, day=q.day, version=q.version, turn=_id(q.turn),
                 last_in_schedule=_id(q.last_in_schedule),
                 members=[Member(consultant_id=strawberry.ID(str(m.consultant_id)), position=m.position,
                                 signed_in_at=m.signed_in_at, sales_control_acknowledged=m.acknowledged,
                                 eligible=m.eligible, eligibility_reason=m.eligibility_reason,
                                 lost_turns=m.lost_turns, priority_turns=m.priority_turns,
                                 counted_receptions=m.counted, busy_with=_id(m.busy_with)) for m in q.members],
                 waiting=[_arrival(a) for a in q.waiting], active=[_reception(r) for r in q.active])


@strawberry.type(name="RealEstateQueuePayload")
class QueuePayload:
    queue: Queue | None = None
    errors: list[UserError]


@strawberry.type(name="RealEstateArrivalPayload")
class ArrivalPayload:
    arrival: Arrival | None = None
    errors: list[UserError]


@strawberry.type(name="RealEstateReceptionPayload")
class ReceptionPayload:
    reception: Reception | None = None
    errors: list[UserError]


@strawberry.type(name="RealEstateRegisterConfirmPayload")
class ConfirmPayload:
    confirmed: int = strawberry.field(default=0, description="Ledger entries confirmed now.")
    errors: list[UserError]


@strawberry.type
class QueueQuery:
    @strawberry.field(description="An office's reception queue on a day (today by default); null when nobody "
                                  "signed in.")
    async def real_estate_queue(self, info: strawberry.Info, office: str, day: str | None = None) -> Queue | None:
        found = await service.queue(context(info), office, day)
        return _queue(found) if found else None

    @strawberry.field(description="Receptions, oldest first: all for the on-site sales manager, a consultant's own "
                                  "otherwise; by office, consultant and start time (from inclusive, to exclusive).")
    async def real_estate_receptions(
            self, info: strawberry.Info, office: str | None = None, consultant_id: strawberry.ID | None = None,
            from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
            to: datetime | None = None, first: int | None = None, after: str | None = None,
            last: int | None = None, before: str | None = None) -> Connection[Reception]:
        request = page_request(info, "real_estate.receptions", first, after, last, before)
        rows, more = await service.receptions(context(info), request.window(service.reception_key), office=office,
                                              consultant=_maybe(consultant_id, "consultant_id"), since=from_, until=to)
        return connection(request, rows, more, lambda r: (r.started_at, r.id), _reception)


async def _queue_call(info: Any, call: Any) -> QueuePayload:
    async def run() -> dict:
        return {"queue": _queue(await call())}

    return await run_mutation(info, QueuePayload, run)


async def _reception_call(info: Any, call: Any) -> ReceptionPayload:
    async def run() -> dict:
        return {"reception": _reception(await call())}

    return await run_mutation(info, ReceptionPayload, run)


@strawberry.type
class QueueMutation:
    @strawberry.mutation(description="Sign in for the day at an office: join the end of the order (RE5).")
    async def real_estate_reception_sign_in(self, info: strawberry.Info, office: str) -> QueuePayload:
        return await _queue_call(info, lambda: service.sign_in(context(info), office))

    @strawberry.mutation(description="Acknowledge today's sales-control status (销控) and data changes; required "
                                     "before receiving (RE3).")
    async def real_estate_sales_control_acknowledge(self, info: strawberry.Info, office: str) -> QueuePayload:
        return await _queue_call(info, lambda: service.acknowledge_sales_control(context(info), office))

    @strawberry.mutation(description="The on-site sales manager removes (with a reason) or restores a consultant's "
                                     "eligibility for this round (RE1, RE4).")
    async def real_estate_reception_eligibility(self, info: strawberry.Info, office: str, consultant_id: strawberry.ID,
                                                eligible: bool, reason: str | None = None) -> QueuePayload:
        return await _queue_call(info, lambda: service.set_eligibility(
            context(info), office, parse_id(consultant_id, "consultant_id"), eligible=eligible, reason=reason))

    @strawberry.mutation(description="The site supervisor swaps two consultants' places in the order (RE6).")
    async def real_estate_reception_swap(self, info: strawberry.Info, office: str, consultant_id: strawberry.ID,
                                         other_consultant_id: strawberry.ID) -> QueuePayload:
        return await _queue_call(info, lambda: service.swap(context(info), office, parse_id(consultant_id, "consultant_id"),
                                                            parse_id(other_consultant_id, "other_consultant_id")))

    @strawberry.mutation(description="The manager marks the consultant whose turn it is absent without a valid "
                                     "reason: the turn is lost, the consultant goes to the end (RE7).")
    async def real_estate_reception_skip(self, info: strawberry.Info, office: str,
                                         consultant_id: strawberry.ID) -> QueuePayload:
        return await _queue_call(info, lambda: service.skip_turn(context(info), office,
                                                                 parse_id(consultant_id, "consultant_id")))

    @strawberry.mutation(description="The project manager approves a priority turn for a consultant kept away by a "
                                     "superior's extra task: put at the head of the order (RE7).")
    async def real_estate_reception_priority(self, info: strawberry.Info, office: str, consultant_id: strawberry.ID,
                                             reason: str | None = None) -> QueuePayload:
        return await _queue_call(info, lambda: service.prioritise(context(info), office,
                                                                  parse_id(consultant_id, "consultant_id"), reason=reason))

    @strawberry.mutation(description="A walk-in customer arrives and waits (RE22: first visit or not).")
    async def real_estate_reception_arrive(self, info: strawberry.Info, office: str, first_visit: bool,
                                           customer_id: strawberry.ID | None = None,
                                           note: str | None = None) -> ArrivalPayload:
        async def call() -> dict:
            found = await service.arrive(context(info), office, customer_id=_maybe(customer_id, "customer_id"),
                                         first_visit=first_visit, note=note)
            return {"arrival": _arrival(found)}

        return await run_mutation(info, ArrivalPayload, call)

    @strawberry.mutation(description="The next waiting customer is received by the rules: the owner of a returning "
                                     "customer, a duty reception by the last in the schedule when the owner is absent, "
                                     "or whoever's turn it is for a new customer (RE5, RE8, RE10, RE13, RE14, RE26).")
    async def real_estate_reception_next(self, info: strawberry.Info, office: str) -> ReceptionPayload:
        return await _reception_call(info, lambda: service.take_next(context(info), office))

    @strawberry.mutation(description="A waiting customer names a consultant before the reception: received by them, "
                                     "not counted, no make-up turn (RE15); a duty reception on their behalf when they "
                                     "are absent or busy (RE27).")
    async def real_estate_reception_designate(self, info: strawberry.Info, arrival_id: strawberry.ID,
                                              consultant_id: strawberry.ID) -> ReceptionPayload:
        return await _reception_call(info, lambda: service.designate(
            context(info), parse_id(arrival_id, "arrival_id"), parse_id(consultant_id, "consultant_id")))

    @strawberry.mutation(description="A waiting customer leaves unreceived (walked out, recorded twice, erased since): "
                                     "off the queue, nobody's turn moves; again for one that left changes nothing.")
    async def real_estate_reception_cancel(self, info: strawberry.Info, arrival_id: strawberry.ID,
                                           reason: str | None = None) -> ArrivalPayload:
        async def call() -> dict:
            return {"arrival": _arrival(await service.cancel_arrival(context(info), parse_id(arrival_id, "arrival_id"),
                                                                     reason=reason))}

        return await run_mutation(info, ArrivalPayload, call)

    @strawberry.mutation(description="End an active reception (RE10); customerId identifies a customer known only now.")
    async def real_estate_reception_end(self, info: strawberry.Info, reception_id: strawberry.ID,
                                        customer_id: strawberry.ID | None = None) -> ReceptionPayload:
        return await _reception_call(info, lambda: service.end_reception(
            context(info), parse_id(reception_id, "reception_id"), customer_id=_maybe(customer_id, "customer_id")))

    @strawberry.mutation(description="The manager moves an active reception: serious_fault or customer_refused to "
                                     "the next consultant of the rotation (RE11 C); mid_reception_designation (RE16, "
                                     "instigated: the named consultant instigated it) or returning_designation (RE17) "
                                     "to the named consultant.")
    async def real_estate_reception_reassign(self, info: strawberry.Info, reception_id: strawberry.ID, reason: str,
                                             consultant_id: strawberry.ID | None = None,
                                             instigated: bool = False) -> ReceptionPayload:
        return await _reception_call(info, lambda: service.reassign(
            context(info), parse_id(reception_id, "reception_id"), reason,
            consultant=_maybe(consultant_id, "consultant_id"), instigated=instigated))

    @strawberry.mutation(description="The sales clerk confirms an office's visit register of a day: its visits and "
                                     "registrations become a basis for attribution and can never be corrected "
                                     "(RE19, RE21).")
    async def real_estate_register_confirm(self, info: strawberry.Info, office: str, day: str) -> ConfirmPayload:
        async def call() -> dict:
            return {"confirmed": await service.confirm_register(context(info), office, day)}

        return await run_mutation(info, ConfirmPayload, call)
