"""The archive lending register (《档案借阅登记表》, seed-002 R1-11, R1-16, R1-18; seed-003 R6-61 to
R6-63): who borrowed which customer's archive, what of it, when it went out, when it is due back
and when it came back, and who took it back. Loans past their due date are flagged, and a sweep
announces each one once (``archive.loan_overdue``).

The tenant's settings (core.privacy.assessments.SETTINGS) decide the rules:

- ``privacy.loan_approvals`` (default 0): 1 makes every loan a request, ``pending`` until two
  different people approve it, neither the borrower: a holder of ``privacy.archive.approve`` for
  the lending side and a holder of ``privacy.archive.keep`` as its custodian (R6-61). Such a loan is
  due ``privacy.approved_loan_days`` (default 1, R6-62) after it went out; any other after
  ``privacy.loan_days``.
- A loan to a person of an external unit (a name and a unit, no user of the tenant) waits for the
  signature of a holder of ``privacy.archive.external`` (general manager, customer director;
  seed-002 R1-16).
- ``privacy.loan_ban`` (default 1): a late return, a loss or a damage bans the borrower from any
  further loan (``BORROWER_BANNED``). A ban is never lifted silently: turning the setting off stops
  new bans only; a holder of ``privacy.archive.ban.lift`` lifts one with a reason, audited.

A late return and a loss or damage are announced (``archive.returned_late``, ``archive.loan_lost``,
``archive.loan_damaged``, ``archive.borrower_banned``), so a vertical can fine them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from core.audit.chain import record as audit
from core.context import Context
from core.customers.tables import Customer
from core.db import keyset, unit_of_work
from core.db.due import tenants_due
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.identity.access import PermissionDenied, require
from core.identity.permissions import Scope
from core.identity.tables import User
from core.jobs import outbox
from core.jobs.timers import register_sweep
from core.privacy.assessments import setting
from core.privacy.consent import reach_customer
from core.privacy.consent_tables import ArchiveBorrowerBan, ArchiveLoan, ArchiveLoanCopy

TARGET = "archive_loan"
BAN_TARGET = "archive_borrower_ban"
PERMISSION = "privacy.archive.lend"
APPROVE = "privacy.archive.approve"
KEEP = "privacy.archive.keep"
EXTERNAL = "privacy.archive.external"
LIFT = "privacy.archive.ban.lift"
READERS = (PERMISSION, APPROVE, KEEP, EXTERNAL, LIFT)  # who may read the register
PENDING, LENT, RETURNED, LOST = "pending", "lent", "returned", "lost"
LENDER, CUSTODIAN = "lender", "custodian"
INCIDENTS = ("lost", "damaged")
_ITEM_SPLIT = re.compile(r"[\n;；、]+")


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class CopyView:
    id: UUID
    scope: tuple[str, ...]
    approved_by: UUID
    approved_at: datetime


@dataclass(frozen=True, slots=True)
class LoanView:
    id: UUID
    customer_id: UUID
    borrower_id: UUID | None
    borrower_name: str
    content: str
    lent_at: datetime
    lent_by: str
    due_at: datetime
    returned_at: datetime | None
    returned_by: str | None
    overdue: bool  # still out after its due date
    status: str = LENT
    external_name: str | None = None
    external_unit: str | None = None
    needs_approvals: bool = False
    lender_approved_by: UUID | None = None
    keeper_approved_by: UUID | None = None
    signed_by: UUID | None = None
    returned_late: bool = False
    incident: str | None = None
    incident_note: str | None = None
    copies: tuple[CopyView, ...] = ()


@dataclass(frozen=True, slots=True)
class BanView:
    id: UUID
    borrower_id: UUID | None
    borrower_name: str
    loan_id: UUID
    cause: str
    banned_at: datetime
    lifted_at: datetime | None
    lifted_by: str | None
    lift_reason: str | None


def _external_label(name: str | None, unit: str | None) -> str:
    return f"{name}（{unit}）" if name else ""


async def _names(uow: UnitOfWork, ids: set[Any]) -> dict[UUID, str]:
    wanted = [i for i in ids if i is not None]
    return {u["id"]: u["display_name"] for u in await uow.select(User.id, User.display_name).where(
        User.id.is_in(wanted))} if wanted else {}


async def _views(uow: UnitOfWork, rows: list[Mapping[str, Any]], at: datetime) -> list[LoanView]:
    names = await _names(uow, {row["borrower_id"] for row in rows})
    copies: dict[UUID, list[CopyView]] = {}
    if rows:
        for c in await uow.select(ArchiveLoanCopy).where(ArchiveLoanCopy.loan_id.is_in([r["id"] for r in rows])).order_by(
                ArchiveLoanCopy.approved_at):
            copies.setdefault(c["loan_id"], []).append(CopyView(
                id=c["id"], scope=tuple(c["scope"].split("\n")), approved_by=c["approved_by"],
                approved_at=c["approved_at"]))
    return [LoanView(id=row["id"], customer_id=row["customer_id"], borrower_id=row["borrower_id"],
                     borrower_name=names.get(row["borrower_id"], "") if row["borrower_id"] else _external_label(
                         row["external_name"], row["external_unit"]),
                     content=row["content"], lent_at=row["lent_at"], lent_by=row["lent_by"], due_at=row["due_at"],
                     returned_at=row["returned_at"], returned_by=row["returned_by"],
                     overdue=row["status"] == LENT and at > row["due_at"], status=row["status"],
                     external_name=row["external_name"], external_unit=row["external_unit"],
                     needs_approvals=bool(row["needs_approvals"]), lender_approved_by=row["lender_approved_by"],
                     keeper_approved_by=row["keeper_approved_by"], signed_by=row["signed_by"],
                     returned_late=bool(row["returned_late"]), incident=row["incident"],
                     incident_note=row["incident_note"], copies=tuple(copies.get(row["id"], ())))
            for row in rows]


async def _one(uow: UnitOfWork, loan_id: UUID, at: datetime) -> LoanView:
    return (await _views(uow, [await uow.select(ArchiveLoan).where(ArchiveLoan.id == loan_id).first()], at))[0]


async def _loan(uow: UnitOfWork, loan_id: UUID, permission: str) -> Mapping[str, Any]:
    """The loan, if the caller's scope of ``permission`` reaches its customer (NOT_FOUND else)."""
    loan = await uow.select(ArchiveLoan).where(ArchiveLoan.id == loan_id).first()
    if loan is None:
        raise NotFound("archive loan", loan_id)
    await reach_customer(uow, loan["customer_id"], permission)
    return loan


def _text(value: str | None, field: str, limit: int, code: str, en: str, zh: str) -> str:
    text = (value or "").strip()
    if not text or len(text) > limit:
        raise KehuError(code, f"{en} (at most {limit} characters)", f"{zh}（最多 {limit} 字）", field=field)
    return text


def _banned() -> KehuError:
    return KehuError("BORROWER_BANNED", "this borrower returned lent data late, or lost or damaged it, and may not "
                     "borrow again unless the ban is lifted", "该借阅人曾逾期归还或遗失、损坏借阅资料，不得再借阅（除非解除禁令）",
                     field="borrowerId")


async def _refuse_banned(uow: UnitOfWork, borrower_id: UUID | None, external: tuple[str, str] | None) -> None:
    active = ArchiveBorrowerBan.lifted_at.is_null()
    if borrower_id is not None:
        hit = await uow.exists(ArchiveBorrowerBan).where(active & (ArchiveBorrowerBan.borrower_id == borrower_id))
    else:
        assert external is not None
        hit = await uow.exists(ArchiveBorrowerBan).where(
            active & (ArchiveBorrowerBan.external_name == external[0])
            & (ArchiveBorrowerBan.external_unit == external[1]))
    if hit:
        raise _banned()


def _caller(ctx: Context) -> UUID | None:
    return ctx.user_id


async def lend_archive(ctx: Context, customer_id: UUID, *, borrower_id: UUID | None = None, content: str,
                       due_at: datetime | None = None, external_name: str | None = None,
                       external_unit: str | None = None) -> LoanView:
    """Register lending a customer's archive (or part of it) to a user of the tenant or to a person
    of an external unit; due back by ``due_at`` or, by default, after the tenant's loan days. A loan
    needing approvals (``privacy.loan_approvals``) or a signature (external) is ``pending`` until
    they are in; a banned borrower is refused (``BORROWER_BANNED``)."""
    require(ctx, PERMISSION)
    content = _text(content, "content", 2000, "CONTENT_REQUIRED", "describe what is lent", "请填写借阅内容")
    external: tuple[str, str] | None = None
    if (borrower_id is None) == (external_name is None and external_unit is None):
        raise KehuError("BORROWER_REQUIRED", "name either a user of the tenant or an external borrower (name and unit)",
                        "请指定本单位借阅人或外单位借阅人（姓名及单位）之一", field="borrowerId")
    if borrower_id is None:
        external = (_text(external_name, "externalName", 100, "EXTERNAL_BORROWER_INVALID",
                          "give the external borrower's name", "请填写外单位借阅人姓名"),
                    _text(external_unit, "externalUnit", 200, "EXTERNAL_BORROWER_INVALID",
                          "give the external borrower's unit", "请填写外单位借阅人所在单位"))
    if due_at is not None and due_at.tzinfo is None:
        raise KehuError("FIELD_INVALID", "dueAt must be a time with its zone", "dueAt 须为带时区的时间", field="dueAt")
    async with unit_of_work(ctx) as uow:
        await reach_customer(uow, customer_id, PERMISSION)
        if borrower_id is not None:
            borrower = await uow.select(User.status).where(User.id == borrower_id).first()
            if borrower is None or borrower["status"] != "active":
                raise KehuError("BORROWER_UNKNOWN", "no such active user in this tenant", "本租户没有该在职用户",
                                field="borrowerId")
        await _refuse_banned(uow, borrower_id, external)
        needs_approvals = await setting(uow, "privacy.loan_approvals") == 1
        pending = needs_approvals or external is not None
        at = now()
        days = await setting(uow, "privacy.approved_loan_days" if needs_approvals else "privacy.loan_days")
        due = due_at if due_at is not None else at + timedelta(days=days)
        if due <= at:
            raise KehuError("DUE_DATE_INVALID", "the due date must lie after the loan", "归还期限须晚于借出时间",
                            field="dueAt")
        loan_id = uuid4()
        await uow.insert(ArchiveLoan(
            id=loan_id, customer_id=customer_id, borrower_id=borrower_id,
            external_name=external[0] if external else None, external_unit=external[1] if external else None,
            content=content, status=PENDING if pending else LENT, requested_by=ctx.actor,
            needs_approvals=needs_approvals, lent_at=at, lent_by=ctx.actor, due_at=due))
        action = "archive.loan_requested" if pending else "archive.lent"
        await audit(uow, action, TARGET, loan_id, {
            "customer_id": customer_id, "borrower_id": borrower_id, "external_name": external and external[0],
            "external_unit": external and external[1], "content": content, "due_at": due})
        await outbox.add(uow, action, TARGET, loan_id, ("customer_id", "borrower_id", "due_at"))
        return await _one(uow, loan_id, at)


async def _lend_when_ready(ctx: Context, uow: UnitOfWork, loan_id: UUID, at: datetime) -> None:
    """Lend a pending loan once what it needs is in: both approvals (if required) and the
    signature (an external borrower). Its due time keeps the length asked for, from now."""
    loan = await uow.select(ArchiveLoan).where(ArchiveLoan.id == loan_id).first()
    approved = not loan["needs_approvals"] or (loan["lender_approved_by"] and loan["keeper_approved_by"])
    signed = loan["borrower_id"] is not None or loan["signed_by"] is not None
    if not (approved and signed):
        return
    await _refuse_banned(uow, loan["borrower_id"], (loan["external_name"], loan["external_unit"]))
    due = at + (loan["due_at"] - loan["lent_at"])
    done = await uow.update(ArchiveLoan, {ArchiveLoan.status: LENT, ArchiveLoan.lent_at: at,
                                          ArchiveLoan.due_at: due}).where(
        (ArchiveLoan.id == loan_id) & (ArchiveLoan.status == PENDING)).returning(ArchiveLoan.id)
    if not done:
        raise _not_pending()
    await audit(uow, "archive.lent", TARGET, loan_id, {"lent_at": at, "due_at": due})
    await outbox.add(uow, "archive.lent", TARGET, loan_id, ("status", "lent_at", "due_at"))


def _not_pending() -> KehuError:
    return KehuError("LOAN_NOT_PENDING", "this loan is no longer waiting for approval", "该借阅已不在待审批状态",
                     field="loanId")


async def approve_loan(ctx: Context, loan_id: UUID, capacity: str) -> LoanView:
    """Approve a pending loan as the lending side (``lender``: privacy.archive.approve, the sales
    manager or a team leader) or as its custodian (``custodian``: privacy.archive.keep, the sales
    assistant or the archivist). The two approvers are two different people, neither the borrower
    (R6-61); the loan goes out with the last approval it needs."""
    if capacity not in (LENDER, CUSTODIAN):
        raise KehuError("FIELD_INVALID", "capacity is lender or custodian", "审批身份须为 lender 或 custodian",
                        field="capacity")
    permission = APPROVE if capacity == LENDER else KEEP
    require(ctx, permission)
    me = _caller(ctx)
    if me is None:
        raise PermissionDenied(permission)  # an approval is a person's
    mine, theirs = ((ArchiveLoan.lender_approved_by, ArchiveLoan.lender_approved_at), ArchiveLoan.keeper_approved_by) \
        if capacity == LENDER else ((ArchiveLoan.keeper_approved_by, ArchiveLoan.keeper_approved_at),
                                    ArchiveLoan.lender_approved_by)
    async with unit_of_work(ctx) as uow:
        loan = await _loan(uow, loan_id, permission)
        if loan["status"] != PENDING:
            raise _not_pending()
        if loan["borrower_id"] == me:
            raise KehuError("LOAN_APPROVER_IS_BORROWER", "nobody approves a loan to themselves", "不能审批自己的借阅",
                            field="loanId")
        if loan[mine[0]._meta.name] is not None:
            raise KehuError("LOAN_ALREADY_APPROVED", f"the {capacity} approval of this loan is already in",
                            "该借阅的此项审批已完成", field="capacity")
        if loan[theirs._meta.name] == me:
            raise KehuError("LOAN_SAME_APPROVER", "the two approvals of a loan are by two different people",
                            "借阅的两项审批须由两个不同的人作出", field="loanId")
        at = now()
        done = await uow.update(ArchiveLoan, {mine[0]: me, mine[1]: at}).where(
            (ArchiveLoan.id == loan_id) & (ArchiveLoan.status == PENDING) & mine[0].is_null()).returning(ArchiveLoan.id)
        if not done:
            raise _not_pending()
        await audit(uow, "archive.loan_approved", TARGET, loan_id, {"capacity": capacity, "approved_by": me})
        await outbox.add(uow, "archive.loan_approved", TARGET, loan_id, (mine[0]._meta.name,))
        await _lend_when_ready(ctx, uow, loan_id, at)
        return await _one(uow, loan_id, at)


async def sign_external_loan(ctx: Context, loan_id: UUID) -> LoanView:
    """The general manager or the customer director (privacy.archive.external) signs a loan to a
    person of an external unit (seed-002 R1-16); it goes out once any approvals it needs are in."""
    require(ctx, EXTERNAL)
    me = _caller(ctx)
    if me is None:
        raise PermissionDenied(EXTERNAL)
    async with unit_of_work(ctx) as uow:
        loan = await _loan(uow, loan_id, EXTERNAL)
        if loan["borrower_id"] is not None:
            raise KehuError("LOAN_NOT_EXTERNAL", "only a loan to an external unit needs this signature",
                            "仅外单位借阅需要此签字", field="loanId")
        if loan["status"] != PENDING:
            raise _not_pending()
        if loan["signed_by"] is not None:
            raise KehuError("LOAN_ALREADY_SIGNED", "this loan is already signed", "该借阅已签字", field="loanId")
        at = now()
        await uow.update(ArchiveLoan, {ArchiveLoan.signed_by: me, ArchiveLoan.signed_at: at}).where(
            ArchiveLoan.id == loan_id)
        await audit(uow, "archive.loan_signed", TARGET, loan_id, {"signed_by": me})
        await outbox.add(uow, "archive.loan_signed", TARGET, loan_id, ("signed_by",))
        await _lend_when_ready(ctx, uow, loan_id, at)
        return await _one(uow, loan_id, at)


async def _ban(uow: UnitOfWork, loan: Mapping[str, Any], cause: str, at: datetime) -> UUID | None:
    """Ban the loan's borrower for ``cause`` when the tenant bans (``privacy.loan_ban``)."""
    if await setting(uow, "privacy.loan_ban") != 1:
        return None
    ban_id = uuid4()
    await uow.insert(ArchiveBorrowerBan(id=ban_id, borrower_id=loan["borrower_id"], external_name=loan["external_name"],
                                        external_unit=loan["external_unit"], loan_id=loan["id"], cause=cause,
                                        banned_at=at))
    await audit(uow, "archive.borrower_banned", BAN_TARGET, ban_id, {
        "loan_id": loan["id"], "borrower_id": loan["borrower_id"], "external_name": loan["external_name"],
        "cause": cause})
    await outbox.add(uow, "archive.borrower_banned", BAN_TARGET, ban_id, ("loan_id", "cause"))
    return ban_id


async def return_archive(ctx: Context, loan_id: UUID) -> LoanView:
    """Record that a lent archive came back; the caller is recorded as who took it back. A return
    after the due time is recorded as late (``archive.returned_late``) and bans the borrower
    (R6-62) when the tenant bans."""
    require(ctx, PERMISSION)
    async with unit_of_work(ctx) as uow:
        loan = await _loan(uow, loan_id, PERMISSION)
        if loan["status"] in (RETURNED, LOST) or loan["returned_at"] is not None:
            raise KehuError("LOAN_ALREADY_RETURNED", "this archive was already returned", "该档案已归还",
                            field="loanId")
        if loan["status"] != LENT:
            raise _not_lent()
        at = now()
        late = at > loan["due_at"]
        returned = await uow.update(ArchiveLoan, {ArchiveLoan.returned_at: at, ArchiveLoan.returned_by: ctx.actor,
                                                  ArchiveLoan.status: RETURNED, ArchiveLoan.returned_late: late}).where(
            (ArchiveLoan.id == loan_id) & (ArchiveLoan.status == LENT)).returning(ArchiveLoan.id)
        if not returned:  # returned by someone else meanwhile
            raise KehuError("LOAN_ALREADY_RETURNED", "this archive was already returned", "该档案已归还",
                            field="loanId")
        await audit(uow, "archive.returned", TARGET, loan_id, {"returned_at": at, "late": late})
        await outbox.add(uow, "archive.returned", TARGET, loan_id, ("returned_at",))
        if late:
            await outbox.add(uow, "archive.returned_late", TARGET, loan_id, ("returned_at", "returned_late"))
            await _ban(uow, loan, "late", at)
        return await _one(uow, loan_id, at)


def _not_lent() -> KehuError:
    return KehuError("LOAN_NOT_LENT", "this archive is not out on loan", "该档案未处于借出状态", field="loanId")


async def record_loan_incident(ctx: Context, loan_id: UUID, kind: str, note: str) -> LoanView:
    """Record that lent data was lost (the loan ends) or damaged (found on its return or while out);
    announced (``archive.loan_lost``, ``archive.loan_damaged``) and banning the borrower (R6-63)
    when the tenant bans."""
    require(ctx, PERMISSION)
    if kind not in INCIDENTS:
        raise KehuError("FIELD_INVALID", "kind is lost or damaged", "类型须为 lost 或 damaged", field="kind")
    note = _text(note, "note", 2000, "FIELD_REQUIRED", "say what happened", "请说明情况")
    async with unit_of_work(ctx) as uow:
        loan = await _loan(uow, loan_id, PERMISSION)
        if loan["incident"] is not None:
            raise KehuError("LOAN_INCIDENT_RECORDED", "a loss or damage of this loan is already recorded",
                            "该借阅已登记遗失或损坏", field="loanId")
        if loan["status"] not in ((LENT,) if kind == "lost" else (LENT, RETURNED)):
            raise _not_lent()
        at = now()
        changes: dict[Any, Any] = {ArchiveLoan.incident: kind, ArchiveLoan.incident_note: note,
                                   ArchiveLoan.incident_at: at, ArchiveLoan.incident_by: ctx.actor}
        if kind == "lost":
            changes[ArchiveLoan.status] = LOST
        done = await uow.update(ArchiveLoan, changes).where(
            (ArchiveLoan.id == loan_id) & ArchiveLoan.incident.is_null()).returning(ArchiveLoan.id)
        if not done:
            raise KehuError("LOAN_INCIDENT_RECORDED", "a loss or damage of this loan is already recorded",
                            "该借阅已登记遗失或损坏", field="loanId")
        if kind == "lost":
            await audit(uow, "archive.loan_lost", TARGET, loan_id, {"incident": kind, "note": note})
            await outbox.add(uow, "archive.loan_lost", TARGET, loan_id, ("incident",))
        else:
            await audit(uow, "archive.loan_damaged", TARGET, loan_id, {"incident": kind, "note": note})
            await outbox.add(uow, "archive.loan_damaged", TARGET, loan_id, ("incident",))
        await _ban(uow, loan, kind, at)
        return await _one(uow, loan_id, at)


def content_items(content: str) -> list[str]:
    """The items of a loan's content: its lines (or parts separated by ；、;)."""
    return [item.strip() for item in _ITEM_SPLIT.split(content) if item.strip()]


async def approve_copy(ctx: Context, loan_id: UUID, scope: Sequence[str]) -> LoanView:
    """The archivist (privacy.archive.keep) consents to copying items of a lent archive; each item
    must be one the loan lent (seed-002 R1-18: a copy never exceeds what was lent)."""
    require(ctx, KEEP)
    me = _caller(ctx)
    if me is None:
        raise PermissionDenied(KEEP)
    items = [item.strip() for item in scope if item and item.strip()]
    if not items or len(items) > 100:
        raise KehuError("FIELD_REQUIRED", "name the items that may be copied (1 to 100)", "请列出可复印的内容（1 至 100 项）",
                        field="scope")
    async with unit_of_work(ctx) as uow:
        loan = await _loan(uow, loan_id, KEEP)
        if loan["status"] != LENT:
            raise _not_lent()
        if loan["borrower_id"] == me:
            raise KehuError("LOAN_APPROVER_IS_BORROWER", "nobody approves copies for themselves", "不能为自己批准复印",
                            field="loanId")
        lent = set(content_items(loan["content"]))
        beyond = [item for item in items if item not in lent]
        if beyond:
            raise KehuError("COPY_EXCEEDS_LOAN", f"not lent, so not to be copied: {'、'.join(beyond)}",
                            f"超出借阅范围，不得复印：{'、'.join(beyond)}", field="scope")
        at = now()
        copy_id = uuid4()
        await uow.insert(ArchiveLoanCopy(id=copy_id, loan_id=loan_id, scope="\n".join(dict.fromkeys(items)),
                                         approved_by=me, approved_at=at))
        await audit(uow, "archive.copy_approved", TARGET, loan_id, {"copy_id": copy_id, "scope": items})
        await outbox.add(uow, "archive.copy_approved", TARGET, loan_id, ("copies",))
        return await _one(uow, loan_id, at)


async def _ban_views(uow: UnitOfWork, rows: list[Mapping[str, Any]]) -> list[BanView]:
    names = await _names(uow, {row["borrower_id"] for row in rows})
    return [BanView(id=r["id"], borrower_id=r["borrower_id"],
                    borrower_name=names.get(r["borrower_id"], "") if r["borrower_id"] else _external_label(
                        r["external_name"], r["external_unit"]),
                    loan_id=r["loan_id"], cause=r["cause"], banned_at=r["banned_at"], lifted_at=r["lifted_at"],
                    lifted_by=r["lifted_by"], lift_reason=r["lift_reason"]) for r in rows]


async def _ban_one(uow: UnitOfWork, ban_id: UUID) -> BanView:
    return (await _ban_views(uow, [await uow.select(ArchiveBorrowerBan).where(ArchiveBorrowerBan.id == ban_id).first()]))[0]


async def ban_of_loan(ctx: Context, loan_id: UUID) -> BanView | None:
    """The latest ban a loan caused (its late return, loss or damage), if any."""
    _read_scope(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(ArchiveBorrowerBan).where(ArchiveBorrowerBan.loan_id == loan_id).order_by(
            ArchiveBorrowerBan.banned_at, ascending=False).first()
        return (await _ban_views(uow, [row]))[0] if row else None


async def lift_ban(ctx: Context, ban_id: UUID, reason: str) -> BanView:
    """Lift a borrower's ban, with the reason (a serious product needs them); audited, announced.
    Nobody lifts their own ban."""
    require(ctx, LIFT)
    reason = _text(reason, "reason", 2000, "FIELD_REQUIRED", "give the reason", "请说明理由")
    async with unit_of_work(ctx) as uow:
        ban = await uow.select(ArchiveBorrowerBan).where(ArchiveBorrowerBan.id == ban_id).first()
        if ban is None:
            raise NotFound("borrower ban", ban_id)
        loan = await uow.select(ArchiveLoan.customer_id).where(ArchiveLoan.id == ban["loan_id"]).first()
        if loan is not None:
            await reach_customer(uow, loan["customer_id"], LIFT)
        elif require(ctx, LIFT) is not Scope.TENANT:  # the loan went with its erased customer
            raise NotFound("borrower ban", ban_id)
        if ban["borrower_id"] is not None and ban["borrower_id"] == _caller(ctx):
            raise KehuError("BAN_SELF_LIFT", "nobody lifts their own ban", "不能解除自己的借阅禁令", field="id")
        at = now()
        done = await uow.update(ArchiveBorrowerBan, {ArchiveBorrowerBan.lifted_at: at, ArchiveBorrowerBan.lifted_by:
                                                     ctx.actor, ArchiveBorrowerBan.lift_reason: reason}).where(
            (ArchiveBorrowerBan.id == ban_id) & ArchiveBorrowerBan.lifted_at.is_null()).returning(ArchiveBorrowerBan.id)
        if not done:
            raise KehuError("BAN_ALREADY_LIFTED", "this ban is already lifted", "该借阅禁令已解除", field="id")
        await audit(uow, "archive.ban_lifted", BAN_TARGET, ban_id, {"reason": reason})
        await outbox.add(uow, "archive.ban_lifted", BAN_TARGET, ban_id, ("lifted_at",))
        return await _ban_one(uow, ban_id)


def _read_scope(ctx: Context) -> Scope:
    """The widest scope the caller holds among the register's permissions (PERMISSION_DENIED if none)."""
    held = []
    for permission in READERS:
        try:
            held.append(require(ctx, permission))
        except PermissionDenied:
            continue
    if not held:
        require(ctx, PERMISSION)  # raises PERMISSION_DENIED naming the register's permission
    return max(held, key=lambda s: s.breadth)


def _reachable_customers(uow: UnitOfWork, scope: Scope) -> Any:
    ctx = uow.ctx
    customers = uow.select(Customer.id)
    if scope is not Scope.TENANT:
        assert ctx.principal is not None
        user_id = ctx.principal.user_id
        reach = Customer.owner_id == user_id if user_id is not None else Customer.id.is_null()  # none of their own
        if scope is Scope.DEPARTMENT and ctx.principal.department_ids:
            reach |= Customer.department_id.is_in(list(ctx.principal.department_ids))
        customers = customers.where(reach)
    return customers


async def bans_page(ctx: Context, window: Window, *, borrower_id: UUID | None = None,
                    active_only: bool = False) -> tuple[list[BanView], bool]:
    """The borrowers' bans, newest first, of loans of customers the caller reaches."""
    scope = _read_scope(ctx)
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(ArchiveBorrowerBan)
        if scope is not Scope.TENANT:  # tenant-wide readers also see bans whose loan went with an erased customer
            query = query.where(ArchiveBorrowerBan.loan_id.is_in(
                uow.select(ArchiveLoan.id).where(ArchiveLoan.customer_id.is_in(_reachable_customers(uow, scope)))))
        if borrower_id is not None:
            query = query.where(ArchiveBorrowerBan.borrower_id == borrower_id)
        if active_only:
            query = query.where(ArchiveBorrowerBan.lifted_at.is_null())
        rows, more = await keyset.fetch(query, (ArchiveBorrowerBan.banned_at, ArchiveBorrowerBan.id), window,
                                        descending=True)
        return await _ban_views(uow, rows), more


async def list_loans(ctx: Context, *, overdue: bool | None = None, open_only: bool = False,
                     customer_id: UUID | None = None) -> list[LoanView]:
    """Loans of the customers the caller's scope of the register's permissions reaches, newest
    first; ``overdue`` True keeps only loans out past their due date, False only the others;
    ``open_only`` the loans pending or out."""
    _read_scope(ctx)
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
    out_late = (ArchiveLoan.status == LENT) & (ArchiveLoan.due_at < at)
    if overdue is True:
        query = query.where(out_late)
    elif overdue is False:
        query = query.where((ArchiveLoan.status != LENT) | (ArchiveLoan.due_at >= at))
    if open_only:
        query = query.where(ArchiveLoan.status.is_in([PENDING, LENT]))
    if customer_id is not None:
        query = query.where(ArchiveLoan.customer_id == customer_id)
    # the customers the caller's scope reaches (may_reach, as a sub-select)
    return query.where(ArchiveLoan.customer_id.is_in(_reachable_customers(uow, _read_scope(uow.ctx))))


async def loans_page(ctx: Context, window: Window, *, overdue: bool | None = None, open_only: bool = False,
                     customer_id: UUID | None = None) -> tuple[list[LoanView], bool]:
    """A window of list_loans (keyset on lent_at, id, newest first) and whether more lie beyond it."""
    _read_scope(ctx)
    at = now()
    async with unit_of_work(ctx, write=False) as uow:
        rows, more = await keyset.fetch(_loans_query(uow, at, overdue, open_only, customer_id), _ORDER, window,
                                        descending=True)
        return await _views(uow, rows, at), more


async def breaches(uow: UnitOfWork, since: datetime) -> list[dict[str, Any]]:
    """Late returns, losses and damages recorded since ``since`` (for a vertical's fines): one
    entry each with ``loan_id``, ``borrower_id`` (None for an external borrower), ``breach`` (late |
    lost | damaged) and ``at``."""
    found = []
    for row in await uow.select(ArchiveLoan.id, ArchiveLoan.borrower_id, ArchiveLoan.returned_at).where(
            ArchiveLoan.returned_late.eq(True) & (ArchiveLoan.returned_at >= since)):
        found.append({"loan_id": row["id"], "borrower_id": row["borrower_id"], "breach": "late",
                      "at": row["returned_at"]})
    for row in await uow.select(ArchiveLoan.id, ArchiveLoan.borrower_id, ArchiveLoan.incident,
                                ArchiveLoan.incident_at).where(
            ArchiveLoan.incident.is_not_null() & (ArchiveLoan.incident_at >= since)):
        found.append({"loan_id": row["id"], "borrower_id": row["borrower_id"], "breach": row["incident"],
                      "at": row["incident_at"]})
    return found


async def announce_overdue_loans(at: datetime) -> int:
    """Sweep: each loan still out after its due date is announced once (``archive.loan_overdue``),
    so the archivist can chase it."""
    announced = 0
    for tenant_id in await tenants_due("archive_loans", at):  # only tenants with a loan overdue (core.db.due)
        async with unit_of_work(Context.system("job:archive-loans", tenant_id)) as uow:
            due = await uow.update(ArchiveLoan, {ArchiveLoan.overdue_notified_at: at}).where(
                (ArchiveLoan.due_at < at) & (ArchiveLoan.status == LENT)
                & ArchiveLoan.overdue_notified_at.is_null()).returning(ArchiveLoan.id)
            for row in due:
                await outbox.add(uow, "archive.loan_overdue", TARGET, row["id"], ("due_at",))
        announced += len(due)
    return announced


register_sweep("archive_loans", announce_overdue_loans)
