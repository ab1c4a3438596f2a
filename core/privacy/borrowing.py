"""The archive lending register (《档案借阅登记表》, seed-002 R1-11, R1-16): who borrowed which
customer's archive, what of it, when it went out, when it is due back and when it came back, and
who took it back. Loans past their due date are flagged, and a sweep announces each one once
(``archive.loan_overdue``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from core.audit.chain import record as audit
from core.context import Context
from core.customers.tables import Customer
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.identity.access import require
from core.identity.permissions import Scope
from core.identity.tables import User
from core.jobs import outbox
from core.jobs.timers import register_sweep
from core.privacy.assessments import setting
from core.privacy.consent import reach_customer
from core.privacy.consent_tables import ArchiveLoan
from core.tenancy.every_tenant import tenant_ids

TARGET = "archive_loan"
PERMISSION = "privacy.archive.lend"


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class LoanView:
    id: UUID
    customer_id: UUID
    borrower_id: UUID
    borrower_name: str
    content: str
    lent_at: datetime
    lent_by: str
    due_at: datetime
    returned_at: datetime | None
    returned_by: str | None
    overdue: bool  # still out after its due date


async def _views(uow: UnitOfWork, rows: list[Mapping[str, Any]], at: datetime) -> list[LoanView]:
    ids = list({row["borrower_id"] for row in rows})
    names = {u["id"]: u["display_name"] for u in await uow.select(User.id, User.display_name).where(
        User.id.is_in(ids))} if ids else {}
    return [LoanView(id=row["id"], customer_id=row["customer_id"], borrower_id=row["borrower_id"],
                     borrower_name=names.get(row["borrower_id"], ""), content=row["content"], lent_at=row["lent_at"],
                     lent_by=row["lent_by"], due_at=row["due_at"], returned_at=row["returned_at"],
                     returned_by=row["returned_by"], overdue=row["returned_at"] is None and at > row["due_at"])
            for row in rows]


async def _one(uow: UnitOfWork, loan_id: UUID, at: datetime) -> LoanView:
    return (await _views(uow, [await uow.select(ArchiveLoan).where(ArchiveLoan.id == loan_id).first()], at))[0]


async def lend_archive(ctx: Context, customer_id: UUID, *, borrower_id: UUID, content: str,
                       due_at: datetime | None = None) -> LoanView:
    """Register lending a customer's archive (or part of it) to a user of the tenant; due back by
    ``due_at`` or, by default, after the tenant's ``privacy.loan_days``."""
    require(ctx, PERMISSION)
    content = (content or "").strip()
    if not content or len(content) > 2000:
        raise KehuError("CONTENT_REQUIRED", "describe what is lent (at most 2000 characters)",
                        "请填写借阅内容（最多 2000 字）", field="content")
    if due_at is not None and due_at.tzinfo is None:
        raise KehuError("FIELD_INVALID", "dueAt must be a time with its zone", "dueAt 须为带时区的时间", field="dueAt")
    async with unit_of_work(ctx) as uow:
        await reach_customer(uow, customer_id, PERMISSION)
        borrower = await uow.select(User.status).where(User.id == borrower_id).first()
        if borrower is None or borrower["status"] != "active":
            raise KehuError("BORROWER_UNKNOWN", "no such active user in this tenant", "本租户没有该在职用户",
                            field="borrowerId")
        at = now()
        due = due_at if due_at is not None else at + timedelta(days=await setting(uow, "privacy.loan_days"))
        if due <= at:
            raise KehuError("DUE_DATE_INVALID", "the due date must lie after the loan", "归还期限须晚于借出时间",
                            field="dueAt")
        loan_id = uuid4()
        await uow.insert(ArchiveLoan(id=loan_id, customer_id=customer_id, borrower_id=borrower_id, content=content,
                                     lent_at=at, lent_by=ctx.actor, due_at=due))
        await audit(uow, "archive.lent", TARGET, loan_id, {"customer_id": customer_id, "borrower_id": borrower_id,
                                                           "content": content, "due_at": due})
        await outbox.add(uow, "archive.lent", TARGET, loan_id, ("customer_id", "borrower_id", "due_at"))
        return await _one(uow, loan_id, at)


async def return_archive(ctx: Context, loan_id: UUID) -> LoanView:
    """Record that a lent archive came back; the caller is recorded as who took it back."""
    require(ctx, PERMISSION)
    async with unit_of_work(ctx) as uow:
        loan = await uow.select(ArchiveLoan.customer_id, ArchiveLoan.returned_at).where(ArchiveLoan.id == loan_id).first()
        if loan is None:
            raise NotFound("archive loan", loan_id)
        await reach_customer(uow, loan["customer_id"], PERMISSION)
        if loan["returned_at"] is not None:
            raise KehuError("LOAN_ALREADY_RETURNED", "this archive was already returned", "该档案已归还",
                            field="loanId")
        at = now()
        returned = await uow.update(ArchiveLoan, {ArchiveLoan.returned_at: at, ArchiveLoan.returned_by: ctx.actor}).where(
            (ArchiveLoan.id == loan_id) & ArchiveLoan.returned_at.is_null()).returning(ArchiveLoan.id)
        if not returned:  # returned by someone else meanwhile
            raise KehuError("LOAN_ALREADY_RETURNED", "this archive was already returned", "该档案已归还",
                            field="loanId")
        await audit(uow, "archive.returned", TARGET, loan_id, {"returned_at": at})
        await outbox.add(uow, "archive.returned", TARGET, loan_id, ("returned_at",))
        return await _one(uow, loan_id, at)


async def list_loans(ctx: Context, *, overdue: bool | None = None, open_only: bool = False,
                     customer_id: UUID | None = None) -> list[LoanView]:
    """Loans of the customers the caller's scope of ``privacy.archive.lend`` reaches, newest first;
    ``overdue`` True keeps only loans out past their due date, False only the others."""
    require(ctx, PERMISSION)
    at = now()
    async with unit_of_work(ctx, write=False) as uow:
        rows = await _loans_query(uow, at, overdue, open_only, customer_id).order_by(*_ORDER, ascending=False)
        return await _views(uow, rows, at)


_ORDER = (ArchiveLoan.lent_at, ArchiveLoan.id)


def _loans_query(uow: UnitOfWork, at: datetime, overdue: bool | None, open_only: bool,
                 customer_id: UUID | None) -> Any:
    """The loans the caller may see with the filters, all in SQL (scope included), so a keyset
    page is never cut short by rows dropped after reading."""
    query = uow.select(ArchiveLoan)
    if overdue is True:
        query = query.where(ArchiveLoan.returned_at.is_null() & (ArchiveLoan.due_at < at))
    elif overdue is False:
        query = query.where(ArchiveLoan.returned_at.is_not_null() | (ArchiveLoan.due_at >= at))
    if open_only:
        query = query.where(ArchiveLoan.returned_at.is_null())
    if customer_id is not None:
        query = query.where(ArchiveLoan.customer_id == customer_id)
    # the customers the caller's scope reaches (may_reach, as a sub-select)
    ctx = uow.ctx
    scope = require(ctx, PERMISSION)
    customers = uow.select(Customer.id)
    if scope is not Scope.TENANT:
        assert ctx.principal is not None
        user_id = ctx.principal.user_id
        reach = Customer.owner_id == user_id if user_id is not None else Customer.id.is_null()  # none of their own
        if scope is Scope.DEPARTMENT and ctx.principal.department_ids:
            reach |= Customer.department_id.is_in(list(ctx.principal.department_ids))
        customers = customers.where(reach)
    return query.where(ArchiveLoan.customer_id.is_in(customers))


async def loans_page(ctx: Context, window: Window, *, overdue: bool | None = None, open_only: bool = False,
                     customer_id: UUID | None = None) -> tuple[list[LoanView], bool]:
    """A window of list_loans (keyset on lent_at, id, newest first) and whether more lie beyond it."""
    require(ctx, PERMISSION)
    at = now()
    async with unit_of_work(ctx, write=False) as uow:
        rows, more = await keyset.fetch(_loans_query(uow, at, overdue, open_only, customer_id), _ORDER, window,
                                        descending=True)
        return await _views(uow, rows, at), more


async def announce_overdue_loans(at: datetime) -> int:
    """Sweep: each loan still out after its due date is announced once (``archive.loan_overdue``),
    so the archivist can chase it."""
    announced = 0
    for tenant_id in await tenant_ids("job:archive-loans"):
        async with unit_of_work(Context.system("job:archive-loans", tenant_id)) as uow:
            due = await uow.update(ArchiveLoan, {ArchiveLoan.overdue_notified_at: at}).where(
                (ArchiveLoan.due_at < at) & ArchiveLoan.returned_at.is_null()
                & ArchiveLoan.overdue_notified_at.is_null()).returning(ArchiveLoan.id)
            for row in due:
                await outbox.add(uow, "archive.loan_overdue", TARGET, row["id"], ("due_at",))
        announced += len(due)
    return announced


register_sweep("archive_loans", announce_overdue_loans)
