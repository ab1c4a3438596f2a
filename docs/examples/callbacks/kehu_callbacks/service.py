"""The use cases: one function each, using only the services of ``core.plugins``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from core.plugins import (
    Duration,
    KehuError,
    Scope,
    emit,
    record,
    require_permission,
    tenant_calendar,
    tick,
    unit_of_work,
)
from kehu_callbacks.tables import CallbackRequest

VERTICAL = "callbacks"
READ, WRITE = "callbacks.request.read", "callbacks.request.write"


def now() -> datetime:
    return datetime.now(UTC)  # tests pin the clock here


@dataclass(frozen=True)
class Request:
    id: UUID
    subject: str
    status: str
    received_at: datetime
    due_at: datetime


def _view(row: dict) -> Request:
    return Request(id=row["id"], subject=row["subject"], status=row["status"], received_at=row["received_at"],
                   due_at=row["due_at"])


async def add_request(ctx, *, subject: str, phone: str | None, answer_days: int) -> Request:
    """Record a callback request, due ``answer_days`` working days later on the tenant's calendar."""
    require_permission(ctx, WRITE)
    subject = (subject or "").strip()
    if not subject:
        raise KehuError("CALLBACKS_SUBJECT_REQUIRED", "a callback request needs a subject", "回访请求须填写事由",
                        field="subject")
    received = now()
    calendar = await tenant_calendar(ctx)  # the official calendar plus the tenant's own closures
    due = calendar.due_at(received, Duration(answer_days, "working_days"))
    row = CallbackRequest(subject=subject, phone=phone, status="open", received_at=received, due_at=due,
                          created_by=ctx.actor)
    async with unit_of_work(ctx) as uow:
        await uow.insert(row)
        await record(uow, "callbacks.request_added", "callbacks_request", row.id,
                     {"subject": subject, "due_at": due.isoformat()})
        await emit(uow, "callbacks.request_added", "callbacks_request", row.id, ("subject", "due_at"))
        return _view(await uow.select(CallbackRequest).where(CallbackRequest.id == row.id).first())


def _readable(ctx, query):
    """Holders of the read permission with scope ``own`` see the requests they recorded; with
    ``department`` or ``tenant`` scope, all of the tenant's."""
    if require_permission(ctx, READ) is Scope.OWN:
        return query.where(CallbackRequest.created_by == ctx.actor)
    return query


async def list_requests(ctx) -> list[Request]:
    async with unit_of_work(ctx, write=False) as uow:
        rows = await _readable(ctx, uow.select(CallbackRequest)).order_by(CallbackRequest.due_at).order_by(
            CallbackRequest.id)
    return [_view(r) for r in rows]


async def get_request(ctx, request_id: UUID) -> Request | None:
    """One request, or None when there is none of that id in the caller's tenant (or reach)."""
    async with unit_of_work(ctx, write=False) as uow:
        row = await _readable(ctx, uow.select(CallbackRequest)).where(CallbackRequest.id == request_id).first()
    return _view(row) if row else None


@tick("callbacks.overdue")
async def mark_overdue(ctx, at: datetime) -> int:
    """Tick work, per tenant with the vertical enabled: open requests past their due time become
    overdue, each audited and announced once (the conditional update claims them)."""
    async with unit_of_work(ctx) as uow:
        rows = await uow.update(CallbackRequest, {CallbackRequest.status: "overdue"}).where(
            (CallbackRequest.status == "open") & (CallbackRequest.due_at <= at)).returning(CallbackRequest.id)
        for r in rows:
            await record(uow, "callbacks.request_overdue", "callbacks_request", r["id"], {"status": ("open", "overdue")})
            await emit(uow, "callbacks.request_overdue", "callbacks_request", r["id"], ("status",))
    return len(rows)
