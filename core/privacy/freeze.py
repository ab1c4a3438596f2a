"""Freezing a customer (PIPL art. 47): when law or an archive rule forbids deleting a record that
should otherwise go, it is kept but taken out of all processing. A frozen customer is readable
only with ``privacy.audit.read``; lists and exports leave it out; every change, transfer or merge
is refused with ``CUSTOMER_FROZEN``; consent checks answer no.

The customer service calls ``refuse_if_frozen`` where it loads a record and ``hide_frozen`` on
its list query; this module is the one place that knows what frozen means."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from piccolo.columns.combination import WhereRaw

from core.audit.chain import record as audit
from core.context import Context
from core.customers.tables import Customer
from core.db import unit_of_work
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.identity.access import require
from core.jobs import outbox
from core.privacy.subject_tables import CustomerFreeze

AUDITOR = "privacy.audit.read"
TARGET = "customer"


@dataclass(frozen=True, slots=True)
class FreezeView:
    customer_id: UUID
    reason: str
    basis: str
    frozen_by: str
    frozen_at: datetime


class CustomerFrozen(KehuError):
    def __init__(self, customer_id: UUID) -> None:
        super().__init__("CUSTOMER_FROZEN", f"customer {customer_id} is frozen: kept by law, not processed",
                         f"客户 {customer_id} 已冻结：依法保留，停止处理", field="id")


def may_read_frozen(ctx: Context) -> bool:
    return ctx.principal is not None and AUDITOR in ctx.principal.permissions


async def is_frozen(uow: UnitOfWork, customer_id: UUID) -> bool:
    return await uow.exists(CustomerFreeze).where(CustomerFreeze.customer_id == customer_id)


async def frozen_among(uow: UnitOfWork, customer_ids: Iterable[UUID]) -> set[UUID]:
    ids = list(customer_ids)
    if not ids:
        return set()
    rows = await uow.select(CustomerFreeze.customer_id).where(CustomerFreeze.customer_id.is_in(ids))
    return {row["customer_id"] for row in rows}


async def refuse_if_frozen(uow: UnitOfWork, customer_id: UUID, *, reading: bool = False) -> None:
    """Raise ``CUSTOMER_FROZEN`` for a frozen customer, unless an auditor is only reading it."""
    if await is_frozen(uow, customer_id) and not (reading and may_read_frozen(uow.ctx)):
        raise CustomerFrozen(customer_id)


def hide_frozen(query: Any, ctx: Context) -> Any:
    """A customer query without frozen customers (auditors see them)."""
    if may_read_frozen(ctx) or ctx.tenant_id is None:
        return query
    return query.where(WhereRaw("customer.id NOT IN (SELECT customer_id FROM customer_freeze WHERE tenant_id = {})",
                                ctx.tenant_id))


async def consent_allowed(uow: UnitOfWork, customer_id: UUID) -> bool:
    """False for a frozen customer, whatever its consents say (no processing at all)."""
    return not await is_frozen(uow, customer_id)


async def freeze_in(uow: UnitOfWork, customer_id: UUID, *, reason: str, basis: str) -> bool:
    """Freeze inside the caller's unit of work; False if it was frozen already."""
    if await is_frozen(uow, customer_id):
        return False
    await uow.insert(CustomerFreeze(customer_id=customer_id, reason=reason, basis=basis, frozen_by=uow.ctx.actor))
    await audit(uow, "customer.frozen", TARGET, customer_id, {"reason": reason, "basis": basis})
    await outbox.add(uow, "customer.frozen", TARGET, customer_id, ("frozen",))
    return True


def _text(value: str, field: str, en: str, zh: str) -> str:
    value = (value or "").strip()
    if not value:
        raise KehuError("REASON_REQUIRED", en, zh, field=field)
    return value[:200] if field == "basis" else value[:2000]


async def freeze_customer(ctx: Context, customer_id: UUID, reason: str, basis: str) -> FreezeView:
    """Keep a customer that may not be deleted, out of all processing; ``basis`` names the law
    or retention rule. Freezing a frozen customer changes nothing."""
    require(ctx, "privacy.freeze")
    reason = _text(reason, "reason", "freezing needs a reason", "冻结须填写原因")
    basis = _text(basis, "basis", "freezing needs its legal basis", "冻结须注明法律依据")
    async with unit_of_work(ctx) as uow:
        row = await uow.select(Customer.status).where(Customer.id == customer_id).first()
        if row is None:
            raise NotFound("customer", customer_id)
        if row["status"] == "erased":
            raise KehuError("CUSTOMER_ERASED", "the customer has been erased", "该客户已被删除", field="id")
        await freeze_in(uow, customer_id, reason=reason, basis=basis)
        return await _freeze_view(uow, customer_id)


async def _freeze_view(uow: UnitOfWork, customer_id: UUID) -> FreezeView:
    row = await uow.select(CustomerFreeze).where(CustomerFreeze.customer_id == customer_id).first()
    return FreezeView(customer_id=customer_id, reason=row["reason"], basis=row["basis"], frozen_by=row["frozen_by"],
                      frozen_at=row["created_at"])


async def freeze_of(ctx: Context, customer_id: UUID) -> FreezeView | None:
    """Why a customer is frozen (auditors)."""
    require(ctx, AUDITOR)
    async with unit_of_work(ctx, write=False) as uow:
        if not await is_frozen(uow, customer_id):
            return None
        return await _freeze_view(uow, customer_id)
