"""A customer's timeline: its field history and the complaints naming it, in one list, oldest first
(issue 19: complaints appear in the customer's timeline).

The history entries are those of ``core.customers.service.customer_history`` (the caller's reach
on the customer is checked there; a frozen customer is read only by an auditor). The complaint
entries are the events of every complaint whose customer is this one (as complainant or linked
customer; with ``include_merged`` also the customers merged into it) of the flows the caller may
read, of the tenant's enabled verticals: its opening, each transition (closing included), its
assignments, breaches and escalations. A clock's own start, pause and stop stay on the case's
timeline (``core.complaints.service.timeline``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from core.complaints.tables import Complaint, ComplaintEvent
from core.context import Context
from core.customers import service
from core.customers.tables import Customer
from core.db import unit_of_work
from core.plugins.manager import VerticalRegistry
from core.verticals.tables import VerticalEnablement

HISTORY, COMPLAINT = "history", "complaint"
#: The complaint events a customer's timeline shows.
COMPLAINT_EVENTS = ("opened", "transitioned", "assigned", "breached", "escalated")


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    kind: str  # history | complaint
    customer_id: UUID
    actor: str
    history: service.HistoryEntry | None = None  # kind history: the change
    complaint_id: UUID | None = None  # kind complaint: the case
    complaint_number: str | None = None
    vertical: str | None = None
    flow: str | None = None
    event: str | None = None  # opened | transitioned | assigned | breached | escalated
    action: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    subject: str | None = None


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


async def _readable_flows(ctx: Context, registry: VerticalRegistry) -> list[tuple[str, str]]:
    from core.complaints.service import _may_read
    from core.plugins.complaint_flows import ComplaintFlowDefinition

    async with unit_of_work(ctx, write=False) as uow:
        enabled = {r["vertical_id"] for r in await uow.select(VerticalEnablement.vertical_id).where(
            VerticalEnablement.status == "enabled")}
    return [(d.id, f.id) for d in registry.definitions if d.id in enabled for f in d.complaint_flows
            if isinstance(f, ComplaintFlowDefinition) and _may_read(ctx, f)]


async def complaint_entries(ctx: Context, registry: VerticalRegistry, customer_ids: list[UUID]) -> list[TimelineEntry]:
    """The timeline entries of the complaints naming these customers that the caller may read."""
    readable = await _readable_flows(ctx, registry)
    if not readable or not customer_ids:
        return []
    reach = None
    for vertical_id, flow_id in readable:
        one = (Complaint.vertical == vertical_id) & (Complaint.flow == flow_id)
        reach = one if reach is None else reach | one
    async with unit_of_work(ctx, write=False) as uow:
        cases = {c["id"]: c for c in await uow.select(
            Complaint.id, Complaint.number, Complaint.vertical, Complaint.flow, Complaint.subject,
            Complaint.customer_id).where(Complaint.customer_id.is_in(customer_ids)).where(reach)}
        events: list[dict[str, Any]] = []
        if cases:
            events = await uow.select(ComplaintEvent).where(
                ComplaintEvent.complaint_id.is_in(list(cases)) & ComplaintEvent.kind.is_in(list(COMPLAINT_EVENTS))
            ).order_by(ComplaintEvent.at).order_by(ComplaintEvent.created_at)
    return [TimelineEntry(at=_utc(e["at"]), kind=COMPLAINT, customer_id=cases[e["complaint_id"]]["customer_id"],
                          actor=e["actor"], complaint_id=e["complaint_id"],
                          complaint_number=cases[e["complaint_id"]]["number"],
                          vertical=cases[e["complaint_id"]]["vertical"], flow=cases[e["complaint_id"]]["flow"],
                          event=e["kind"], action=e["action"], from_state=e["from_state"], to_state=e["to_state"],
                          subject=cases[e["complaint_id"]]["subject"]) for e in events]


async def customer_timeline(ctx: Context, registry: VerticalRegistry, customer_id: UUID, *,
                            include_merged: bool = False) -> list[TimelineEntry]:
    """The customer's history and its complaints' events, oldest first (a history entry before a
    complaint event of the same moment)."""
    history = await service.customer_history(ctx, customer_id, include_merged=include_merged)  # reach, freeze
    ids = [customer_id]
    if include_merged:
        async with unit_of_work(ctx, write=False) as uow:
            ids += [r["id"] for r in await uow.select(Customer.id).where(Customer.merged_into == customer_id)]
    entries = [TimelineEntry(at=_utc(h.changed_at), kind=HISTORY, customer_id=h.customer_id, actor=h.actor, history=h)
               for h in history]
    entries += await complaint_entries(ctx, registry, ids)
    order = {HISTORY: 0, COMPLAINT: 1}
    return sorted(entries, key=lambda e: (e.at, order[e.kind]))  # stable: each source keeps its own order
