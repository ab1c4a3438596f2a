"""GraphQL for complaints (issue 19): thin resolvers over core.complaints.service.

A complaint's flow comes from a vertical (``complaintFlows`` describes each one an enabled vertical
supplies: its states, transitions with their permissions and required fields, and timers), so an
integrator drives a case with ``complaintTransition(id, action, fields)`` and reads every clock on
``complaintTimeline``. The complainant's phone and address are always masked here, whoever asks,
as a customer's contact data are (gateway/graphql/customers.py); the name stays readable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.complaints import policy, queries, unmasking
from core.complaints import service as complaints
from core.errors import KehuError
from core.plugins.complaint_flows import (
    ComplaintFlowDefinition,
    Escalate,
    FlowTimer,
    Limit,
    NotifyFirstResponder,
    Remind,
)
from core.privacy import masking
from core.verticals import service as verticals
from gateway.graphql.common import (
    Connection,
    Node,
    UserError,
    ctx_of,
    keyset_connection,
    mutate,
    node_loader,
    page_request,
    parse_id,
    time_id_key,
)


def _id(value: Any) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


def _optional_id(value: strawberry.ID | None, field: str) -> UUID | None:
    return None if value is None else parse_id(value, field)


@strawberry.type(description="The person who complained when not a customer: phone and address always masked.")
class Complainant:
    name: str | None
    phone: str | None
    address: str | None

    @classmethod
    def of(cls, person: dict[str, str] | None) -> Complainant | None:
        if not person:
            return None
        phone, address = person.get("phone"), person.get("address")
        return cls(name=person.get("name"), phone=masking.mask_phone(phone) if phone else phone,
                   address=masking.mask_text(address) if address else address)


@strawberry.type(description="A complainant's contact data in clear (complaintComplainantUnmask).")
class ClearComplainant:
    name: str | None = None
    phone: str | None = None
    address: str | None = None


@strawberry.type
class ComplainantUnmaskPayload:
    complainant: ClearComplainant | None = strawberry.field(default=None, description="null when the case names "
                                                            "a customer (customerUnmask) rather than a person")
    errors: list[UserError]


@strawberry.type(description="A complaint case (投诉) run by its vertical's flow.")
class Complaint(Node):
    id: strawberry.ID
    number: str = strawberry.field(description="From the flow's numbering, e.g. WY2609001.")
    vertical: str
    flow: str
    state: str
    category: str
    severity: str
    branch: str | None = strawberry.field(description="The flow's branch chosen at intake by category and severity.")
    source: str = strawberry.field(description="external | internal")
    channel: str = strawberry.field(description="phone | email | visit | letter | online")
    subject: str
    customer_id: strawberry.ID | None
    complainant: Complainant | None
    first_responder: str = strawberry.field(description="Who took the complaint (首问责任人): user:<id> or key:<id>.")
    assignee_id: strawberry.ID | None
    department_id: strawberry.ID | None
    archive_id: strawberry.ID | None
    previous_id: strawberry.ID | None = strawberry.field(description="The case this one follows up.")
    escalated_to: str | None = strawberry.field(description="The flow role the case was last escalated to.")
    fields: JSON = strawberry.field(description="What the transitions recorded, keyed action.field.")
    attachments: JSON
    opened_at: datetime
    closed_at: datetime | None
    version: int
    available_actions: list[str] = strawberry.field(description=(
        "The actions open from its state and branch (each may still need its permission and fields)."))

    @classmethod
    def of(cls, c: complaints.ComplaintView, flow: ComplaintFlowDefinition | None = None) -> Complaint:
        actions = [] if flow is None or c.closed_at is not None else \
            list(dict.fromkeys(t.action for t in policy.available_transitions(flow, c.state, c.branch)))
        return cls(id=_id(c.id), number=c.number, vertical=c.vertical, flow=c.flow, state=c.state, category=c.category,
                   severity=c.severity, branch=c.branch, source=c.source, channel=c.channel, subject=c.subject,
                   customer_id=_id(c.customer_id), complainant=Complainant.of(c.complainant),
                   first_responder=c.first_responder, assignee_id=_id(c.assignee_id),
                   department_id=_id(c.department_id), archive_id=_id(c.archive_id), previous_id=_id(c.previous_id),
                   escalated_to=c.escalated_to, fields=c.fields, attachments=c.attachments, opened_at=c.opened_at,
                   closed_at=c.closed_at, version=c.version, available_actions=actions)


@strawberry.type(description="A clock of a case: a flow timer, or a written report owed after an escalation.")
class ComplaintClock:
    timer: str
    kind: str = strawberry.field(description="timer | report")
    role: str | None = strawberry.field(description="The role a report is owed by.")
    status: str = strawberry.field(description="running | paused | met (stopped in time) | late (stopped after due)")
    started_at: datetime
    due_at: datetime = strawberry.field(description="Stored when the clock started or resumed; moved by pauses.")
    hard_due_at: datetime | None
    breached_at: datetime | None = strawberry.field(description="When the tick found it past due (once).")
    hard_breached_at: datetime | None
    paused_at: datetime | None
    stopped_at: datetime | None
    provisional: bool = strawberry.field(description=(
        "Whether dueAt counted working days of a year whose official holiday schedule is not loaded yet."))

    @classmethod
    def of(cls, c: complaints.ClockView) -> ComplaintClock:
        return cls(timer=c.timer, kind=c.kind, role=c.role, status=c.status, started_at=c.started_at, due_at=c.due_at,
                   hard_due_at=c.hard_due_at, breached_at=c.breached_at, hard_breached_at=c.hard_breached_at,
                   paused_at=c.paused_at, stopped_at=c.stopped_at, provisional=c.provisional)


@strawberry.type(description="One entry of a case's timeline, in the order written.")
class ComplaintEvent:
    at: datetime
    actor: str
    kind: str = strawberry.field(description="opened | transitioned | assigned | breached | escalated | reminded | …")
    action: str | None
    from_state: str | None
    to_state: str | None
    timer: str | None
    detail: JSON


@strawberry.type
class ComplaintTimeline:
    complaint: Complaint
    clocks: list[ComplaintClock]
    events: list[ComplaintEvent]


@strawberry.type(description="A time limit: an amount of minutes, hours, calendar days or working days.")
class ComplaintLimit:
    amount: int
    unit: str

    @classmethod
    def of(cls, limit: Limit | None) -> ComplaintLimit | None:
        return None if limit is None else cls(amount=limit.amount, unit=str(limit.unit))


@strawberry.type(description="What a breach does: escalate to a role (with a written report due), remind a role, "
                             "or notify the first responder.")
class ComplaintReaction:
    kind: str = strawberry.field(description="escalate | remind | notify_first_responder")
    role: str | None
    report_within: ComplaintLimit | None
    report_action: str | None

    @classmethod
    def of(cls, reaction: Escalate | Remind | NotifyFirstResponder) -> ComplaintReaction:
        if isinstance(reaction, Escalate):
            return cls(kind="escalate", role=reaction.role, report_within=ComplaintLimit.of(reaction.report_within),
                       report_action=reaction.report_action)
        if isinstance(reaction, Remind):
            return cls(kind="remind", role=reaction.role, report_within=None, report_action=None)
        return cls(kind="notify_first_responder", role=None, report_within=None, report_action=None)


@strawberry.type
class ComplaintFlowState:
    code: str
    name_en: str
    name_zh: str
    terminal: bool
    paused: bool = strawberry.field(description="Clocks that pause stand still while the case is here.")


@strawberry.type
class ComplaintFlowTransition:
    source: str
    target: str
    action: str
    permission: str | None
    required_fields: list[str]
    branches: list[str] = strawberry.field(description="Empty: every branch.")
    record: str | None = strawberry.field(description="A record the action files (verification, return visit, …).")


@strawberry.type
class ComplaintFlowBranch:
    code: str
    categories: list[str]
    severities: list[str]


@strawberry.type
class ComplaintFlowRole:
    code: str
    name_en: str
    name_zh: str
    permission: str | None


@strawberry.type(description="A clock of the flow: starts on an event (intake, enter:<state>, leave:<state>, "
                             "action:<action>, breach:<timer>) and stops on any of stopOn or a terminal state.")
class ComplaintFlowTimer:
    code: str
    name_en: str
    name_zh: str
    start_on: str
    stop_on: list[str]
    target: ComplaintLimit
    hard_limit: ComplaintLimit | None
    pause_in: list[str] | None = strawberry.field(description="States it pauses in; null: the flow's paused states.")
    branches: list[str]
    deadline_field: str | None = strawberry.field(description="A required field of the starting action giving the due time.")
    on_breach: list[ComplaintReaction]
    on_hard_breach: list[ComplaintReaction]

    @classmethod
    def of(cls, t: FlowTimer) -> ComplaintFlowTimer:
        return cls(code=t.code, name_en=t.name_en, name_zh=t.name_zh, start_on=t.start_on, stop_on=list(t.stop_on),
                   target=ComplaintLimit.of(t.target), hard_limit=ComplaintLimit.of(t.hard_limit),  # type: ignore[arg-type]
                   pause_in=None if t.pause_in is None else list(t.pause_in), branches=list(t.branches),
                   deadline_field=t.deadline_field, on_breach=[ComplaintReaction.of(r) for r in t.on_breach],
                   on_hard_breach=[ComplaintReaction.of(r) for r in t.on_hard_breach])


@strawberry.type(description="A complaint flow an enabled vertical supplies: what an integrator needs to drive it.")
class ComplaintFlow:
    vertical: str
    id: str
    name_en: str
    name_zh: str
    categories: list[str]
    severities: list[str]
    initial: str
    states: list[ComplaintFlowState]
    transitions: list[ComplaintFlowTransition]
    branches: list[ComplaintFlowBranch]
    roles: list[ComplaintFlowRole]
    timers: list[ComplaintFlowTimer]
    numbering: str = strawberry.field(description="The number pattern, e.g. WY{YY}{MM}{seq:3}.")
    numbering_reset: str
    intake_permission: str | None = strawberry.field(description="Null: any signed-in member of the tenant.")
    read_permission: str | None
    assign_permission: str | None

    @classmethod
    def of(cls, vertical: str, f: ComplaintFlowDefinition) -> ComplaintFlow:
        return cls(
            vertical=vertical, id=f.id, name_en=f.name_en, name_zh=f.name_zh, categories=list(f.categories),
            severities=list(f.severities), initial=f.initial,
            states=[ComplaintFlowState(code=s.code, name_en=s.name_en, name_zh=s.name_zh, terminal=s.terminal,
                                       paused=s.paused) for s in f.states],
            transitions=[ComplaintFlowTransition(source=t.source, target=t.target, action=t.action,
                                                 permission=t.permission, required_fields=list(t.fields_required),
                                                 branches=list(t.branches),
                                                 record=None if t.record is None else str(t.record))
                         for t in f.transitions],
            branches=[ComplaintFlowBranch(code=b.code, categories=list(b.categories), severities=list(b.severities))
                      for b in f.branches],
            roles=[ComplaintFlowRole(code=r.code, name_en=r.name_en, name_zh=r.name_zh, permission=r.permission)
                   for r in f.roles],
            timers=[ComplaintFlowTimer.of(t) for t in f.timers], numbering=f.numbering.pattern,
            numbering_reset=str(f.numbering.reset), intake_permission=f.intake_permission,
            read_permission=f.read_permission, assign_permission=f.assign_permission)


@strawberry.input(description="The person complaining when not a customer (sealed, masked when read).")
class ComplainantInput:
    name: str
    phone: str | None = None
    address: str | None = None


@strawberry.input
class ComplaintIntakeInput:
    vertical: str
    flow: str
    category: str
    severity: str
    subject: str
    channel: str = strawberry.field(description="phone | email | visit | letter | online")
    source: str = strawberry.field(default="external", description="external | internal")
    customer_id: strawberry.ID | None = None
    complainant: ComplainantInput | None = strawberry.field(default=None, description="When not a customer.")
    department_id: strawberry.ID | None = None
    archive_id: strawberry.ID | None = None
    previous_id: strawberry.ID | None = strawberry.field(default=None, description="The case this one follows up.")
    attachments: JSON | None = strawberry.field(default=None, description="A list of attachment references.")


@strawberry.type
class ComplaintPayload:
    complaint: Complaint | None = None
    errors: list[UserError]


def _registry(info: Info) -> Any:
    return info.context.registry


def _flow(info: Info, view: complaints.ComplaintView) -> ComplaintFlowDefinition | None:
    try:
        return complaints.flow_of(_registry(info), view.vertical, view.flow)
    except KehuError:  # a flow no longer installed: the case reads without actions
        return None


def _complaint(info: Info, view: complaints.ComplaintView) -> Complaint:
    return Complaint.of(view, _flow(info, view))


@node_loader("Complaint")
async def _one_complaint(info: Info, complaint_id: UUID) -> Complaint:
    return _complaint(info, await queries.get_complaint(ctx_of(info), _registry(info), complaint_id))


@strawberry.type
class ComplaintQuery:
    @strawberry.field(description="A complaint of a flow whose cases you may read.")
    async def complaint(self, info: Info, id: strawberry.ID) -> Complaint:
        return await _one_complaint(info, parse_id(id, "id"))

    @strawberry.field(description="Complaints of the flows you may read (of the tenant's enabled verticals), newest "
                                  "first; open: only cases not closed.")
    async def complaints(self, info: Info, vertical: str | None = None, flow: str | None = None,
                         state: str | None = None, open: bool = False, customer_id: strawberry.ID | None = None,
                         first: int | None = None, after: str | None = None, last: int | None = None,
                         before: str | None = None) -> Connection[Complaint]:
        customer = _optional_id(customer_id, "customerId")
        request = page_request(info, "complaints", first, after, last, before)
        found, more = await complaints.list_complaints(ctx_of(info), _registry(info), request.window(time_id_key),
                                                       vertical=vertical, flow=flow, state=state, open_only=open,
                                                       customer_id=customer)
        return keyset_connection(request, found, more, lambda c: [c.opened_at, c.id], lambda c: _complaint(info, c))

    @strawberry.field(description="A case with every clock (started, paused, due, met or late, breached) and every "
                                  "event, in the order written.")
    async def complaint_timeline(self, info: Info, id: strawberry.ID) -> ComplaintTimeline:
        complaint_id = parse_id(id, "id")
        await queries.require_readable(ctx_of(info), _registry(info), complaint_id)
        t = await complaints.timeline(ctx_of(info), _registry(info), complaint_id)
        return ComplaintTimeline(
            complaint=_complaint(info, t.complaint), clocks=[ComplaintClock.of(c) for c in t.clocks],
            events=[ComplaintEvent(at=e.at, actor=e.actor, kind=e.kind, action=e.action, from_state=e.from_state,
                                   to_state=e.to_state, timer=e.timer, detail=e.detail) for e in t.events])

    @strawberry.field(description="The complaint flows of the verticals your tenant has enabled: states, "
                                  "transitions (permission, required fields), branches, roles and timers.")
    async def complaint_flows(self, info: Info, vertical: str | None = None) -> list[ComplaintFlow]:
        enabled = await verticals.enabled_vertical_ids(ctx_of(info))
        return [ComplaintFlow.of(d.id, f) for d in _registry(info).definitions
                if d.id in enabled and (vertical is None or d.id == vertical)
                for f in d.complaint_flows if isinstance(f, ComplaintFlowDefinition)]


@strawberry.type
class ComplaintMutation:
    @strawberry.mutation(description="Take a complaint (you are its first responder): it gets the flow's next number, "
                                     "its branch, its initial state and the clocks intake starts.")
    async def complaint_intake(self, info: Info, input: ComplaintIntakeInput) -> ComplaintPayload:
        async def call() -> dict:
            person = None if input.complainant is None else {
                k: v for k, v in (("name", input.complainant.name), ("phone", input.complainant.phone),
                                  ("address", input.complainant.address)) if v is not None}
            attachments = [] if input.attachments is None else input.attachments
            view = await complaints.intake(
                ctx_of(info), _registry(info), vertical=input.vertical, flow=input.flow, category=input.category,
                severity=input.severity, subject=input.subject, channel=input.channel, source=input.source,
                customer_id=_optional_id(input.customer_id, "customer_id"), complainant=person,
                department_id=_optional_id(input.department_id, "department_id"),
                archive_id=_optional_id(input.archive_id, "archive_id"),
                previous_id=_optional_id(input.previous_id, "previous_id"), attachments=attachments)
            return {"complaint": _complaint(info, view)}
        return await mutate(info, ComplaintPayload, call)

    @strawberry.mutation(description="Take an action of the flow on a case (complaintFlows lists them with their "
                                     "permission and required fields); refused with a code, changing nothing, when "
                                     "the action is not open, the permission or a field is missing. version: refuse "
                                     "with VERSION_CONFLICT if the case changed since read.")
    async def complaint_transition(self, info: Info, id: strawberry.ID, action: str, fields: JSON | None = None,
                                   version: int | None = None) -> ComplaintPayload:
        async def call() -> dict:
            view = await complaints.transition(ctx_of(info), _registry(info), parse_id(id, "id"), action, fields,
                                               version=version)
            return {"complaint": _complaint(info, view)}
        return await mutate(info, ComplaintPayload, call)

    @strawberry.mutation(description="Give a case an assignee and/or a responsible department (the flow's assign "
                                     "permission).")
    async def complaint_assign(self, info: Info, id: strawberry.ID, assignee_id: strawberry.ID | None = None,
                               department_id: strawberry.ID | None = None) -> ComplaintPayload:
        async def call() -> dict:
            view = await complaints.assign(ctx_of(info), _registry(info), parse_id(id, "id"),
                                           assignee_id=_optional_id(assignee_id, "assignee_id"),
                                           department_id=_optional_id(department_id, "department_id"))
            return {"complaint": _complaint(info, view)}
        return await mutate(info, ComplaintPayload, call)

    @strawberry.mutation(description="Put a case on hold (waiting on the customer): the flow's one action from its "
                                     "state into a paused state, with that action's fields; its pausing clocks stand "
                                     "still.")
    async def complaint_pause(self, info: Info, id: strawberry.ID, fields: JSON | None = None) -> ComplaintPayload:
        async def call() -> dict:
            complaint_id = parse_id(id, "id")
            await queries.require_readable(ctx_of(info), _registry(info), complaint_id)
            return {"complaint": _complaint(info, await complaints.pause(ctx_of(info), _registry(info), complaint_id,
                                                                         fields))}
        return await mutate(info, ComplaintPayload, call)

    @strawberry.mutation(description="Take a case off hold, back to the state it was paused in; its clocks run "
                                     "again with their due times moved by the pause.")
    async def complaint_resume(self, info: Info, id: strawberry.ID, fields: JSON | None = None) -> ComplaintPayload:
        async def call() -> dict:
            complaint_id = parse_id(id, "id")
            await queries.require_readable(ctx_of(info), _registry(info), complaint_id)
            return {"complaint": _complaint(info, await complaints.resume(ctx_of(info), _registry(info), complaint_id,
                                                                          fields))}
        return await mutate(info, ComplaintPayload, call)

    @strawberry.mutation(description="The complainant's name, phone and address in clear, with a reason (needs "
                                     "customer.pii.unmask and the flow's read permission; audited, never the values).")
    async def complaint_complainant_unmask(self, info: Info, id: strawberry.ID,
                                           reason: str) -> ComplainantUnmaskPayload:
        async def call() -> dict:
            person = await unmasking.unmask_complainant(ctx_of(info), _registry(info), parse_id(id, "id"), reason)
            return {"complainant": ClearComplainant(name=person.get("name"), phone=person.get("phone"),
                                                    address=person.get("address")) if person else None}
        return await mutate(info, ComplainantUnmaskPayload, call)
