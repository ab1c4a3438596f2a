"""Customer deletion with two-level approval (issue 24, seed-004 §2.4, W6; CSM-9 to CSM-13), one
function per use case: submit the deletion application form, the department head signs, the head
of customer information management approves (or either rejects), the system administrator
executes, confirms the purge of the backups, and closes; read and list requests; read and change
the tenant's deletion setting.

The order is strict (``deletion_policy.STEPS``): each step moves from one state only, so no
deletion, whatever its reason, runs without the department head's signature and the approval
after it (CSM-10, CSM-13). The submitter never signs, approves or rejects their own request, and the
approver is not the signer (SEPARATION_OF_DUTIES). Executing erases the customer with core's
erasure (``core.privacy.erasure.erase_in``) in the same unit of work: a customer under legal hold,
frozen or kept by an archive's retention refuses, and the request stays approved.

kehu keeps no per-tenant backups yet (issue 26): the purge of backups is confirmed by the system
administrator, naming the media or backup sets, and the executed requests (customer id,
``executed_at``) are the ledger a restore must re-apply. A request closes only after that
confirmation (CSM-12).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from core.audit.chain import record as audit
from core.context import Context
from core.customers.service import cleared
from core.customers.tables import Customer
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.governance import deletion_policy as policy
from core.governance.deletion_gate import deletion_settings_in
from core.governance.deletion_tables import CustomerDeletionRequest
from core.identity.access import may_reach, require, require_any
from core.identity.policies import write_setting
from core.identity.tables import TenantSetting
from core.jobs import outbox
from core.plugins.manager import VerticalRegistry
from core.privacy import crypto, erasure, freeze
from core.tenancy.tables import Department

REQUEST = "customer.delete.request"
SIGN = "customer.delete.sign"
APPROVE = "customer.delete.approve"
EXECUTE = "customer.delete.execute"
SETTINGS = "tenant.settings.manage"
READERS = (REQUEST, SIGN, APPROVE, EXECUTE)
TARGET = "customer_deletion_request"
SEALED_DETAILS = "customer_deletion_request.customer_details"
T = CustomerDeletionRequest


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class DeletionRequestView:
    id: UUID
    version: int
    customer_id: UUID
    department_id: UUID
    reason: str
    reason_details: str
    customer_details: str | None  # until executed, to those who decide it and to its submitter
    state: str
    submitted_at: datetime
    submitted_by: str
    signed_by: str | None
    signed_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    executed_by: str | None
    executed_at: datetime | None
    purge_confirmed_by: str | None
    purge_confirmed_at: datetime | None
    purge_note: str
    closed_by: str | None
    closed_at: datetime | None
    rejected_by: str | None
    rejected_at: datetime | None
    rejection_reason: str


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _holds(ctx: Context, permission: str) -> bool:
    return ctx.is_system or (ctx.principal is not None and permission in ctx.principal.permissions)


def _decider(ctx: Context) -> bool:
    return any(_holds(ctx, p) for p in (SIGN, APPROVE, EXECUTE))


def _view(ctx: Context, row: Mapping[str, Any]) -> DeletionRequestView:
    details = None
    if row["state"] in policy.OPEN_STATES and (_decider(ctx) or row["submitted_by"] == ctx.actor):
        assert ctx.tenant_id is not None
        details = crypto.open_json(ctx.tenant_id, SEALED_DETAILS, row["customer_details"]).get("text")
    return DeletionRequestView(
        id=row["id"], version=int(row["version"]), customer_id=row["subject_customer_id"],
        department_id=row["department_id"], reason=row["reason"], reason_details=row["reason_details"],
        customer_details=details, state=row["state"],
        submitted_at=_utc(row["created_at"]), submitted_by=row["submitted_by"],  # type: ignore[arg-type]
        signed_by=row["signed_by"], signed_at=_utc(row["signed_at"]), approved_by=row["approved_by"],
        approved_at=_utc(row["approved_at"]), executed_by=row["executed_by"], executed_at=_utc(row["executed_at"]),
        purge_confirmed_by=row["purge_confirmed_by"], purge_confirmed_at=_utc(row["purge_confirmed_at"]),
        purge_note=row["purge_note"], closed_by=row["closed_by"], closed_at=_utc(row["closed_at"]),
        rejected_by=row["rejected_by"], rejected_at=_utc(row["rejected_at"]), rejection_reason=row["rejection_reason"])


def _raise(refusal: policy.Refusal | None) -> None:
    if refusal is not None:
        raise KehuError(refusal.code, refusal.en, refusal.zh, field=refusal.field)


# --- settings ------------------------------------------------------------------------------------

async def _settings(uow: UnitOfWork) -> policy.DeletionSettings:
    return await deletion_settings_in(uow)


async def deletion_settings(ctx: Context) -> policy.DeletionSettings:
    """Whether the direct erasure must go through a deletion request (tenant.settings.manage)."""
    require(ctx, SETTINGS)
    async with unit_of_work(ctx, write=False) as uow:
        return await _settings(uow)


async def update_deletion_settings(ctx: Context, *, requires_approval: bool) -> policy.DeletionSettings:
    """Turn on or off the rule that customers are deleted only through approved deletion requests
    (tenant.settings.manage); off by default."""
    require(ctx, SETTINGS)
    async with unit_of_work(ctx) as uow:
        before = await _settings(uow)
        after = {"requires_approval": bool(requires_approval)}
        if after["requires_approval"] != before.requires_approval:
            await write_setting(uow, policy.SETTING_KEY, after)
            await audit(uow, "setting.updated", "tenant_setting", policy.SETTING_KEY,
                        {"requires_approval": (before.requires_approval, after["requires_approval"])})
            await outbox.add(uow, "setting.updated", "tenant_setting", policy.SETTING_KEY, (policy.SETTING_KEY,))
        return policy.settings_of(after)


# --- requests ------------------------------------------------------------------------------------

async def submit_deletion_request(ctx: Context, customer_id: UUID, *, department_id: UUID, reason: str | None,
                                  reason_details: str | None, customer_details: str | None) -> DeletionRequestView:
    """File the deletion application form (customer.delete.request, over a customer one may read):
    the applying department, the reason (one of ``REASONS``) explained, and the customer
    information details; a form missing any of them is refused and nothing is filed (CSM-9)."""
    require(ctx, REQUEST)
    _raise(policy.form_refusal(reason, reason_details, customer_details))
    assert isinstance(reason_details, str) and isinstance(customer_details, str)
    async with unit_of_work(ctx) as uow:
        assert uow.ctx.tenant_id is not None
        row = await uow.select(Customer).where(Customer.id == customer_id).first()
        if (row is None or row["deleted_at"] is not None or row["merged_into"] is not None
                or row["status"] == erasure.ERASED
                or not cleared(ctx, row)  # CSM-20: above the caller's clearance it does not exist for them
                or not may_reach(ctx, "customer.read", owner_id=row["owner_id"], department_id=row["department_id"])):
            raise NotFound("customer", customer_id)
        # Kept by law (PIPL art. 47 restriction): it cannot be erased, so no request is filed for it.
        await freeze.refuse_if_frozen(uow, customer_id)
        if not await uow.exists(Department).where(Department.id == department_id):
            raise NotFound("department", department_id)
        request_id = uuid4()
        await uow.insert(CustomerDeletionRequest(
            id=request_id, subject_customer_id=customer_id, department_id=department_id, reason=reason,
            reason_details=reason_details.strip(),
            customer_details=crypto.seal_json(uow.ctx.tenant_id, SEALED_DETAILS, {"text": customer_details.strip()}),
            state=policy.SUBMITTED, submitted_by=ctx.actor, submitted_by_id=ctx.user_id, version=1))
        await audit(uow, "customer_deletion.submitted", TARGET, request_id,
                    {"customer_id": (None, str(customer_id)), "department_id": (None, str(department_id)),
                     "reason": (None, reason), "state": (None, policy.SUBMITTED)})
        await outbox.add(uow, "customer_deletion.submitted", TARGET, request_id, ("customer_id", "reason", "state"))
        return _view(ctx, await _row(uow, request_id))


async def _row(uow: UnitOfWork, request_id: UUID) -> Mapping[str, Any]:
    row = await uow.select(CustomerDeletionRequest).where(CustomerDeletionRequest.id == request_id).first()
    if row is None:
        raise NotFound("customer_deletion_request", request_id)
    return row


async def _move(uow: UnitOfWork, row: Mapping[str, Any], step: str, values: dict[Any, Any]) -> str:
    """Write the step's state with ``values`` if the request is still where it was read."""
    after = policy.next_state(step)
    done = await uow.update(CustomerDeletionRequest, {
        **values, T.state: after, T.version: int(row["version"]) + 1}).where(
        (T.id == row["id"]) & (T.state == row["state"]) & (T.version == row["version"])).returning(T.id)
    if not done:  # another step was taken between our read and write
        raise KehuError("DELETION_REQUEST_STATE", "the deletion request changed meanwhile: read it again",
                        "删除申请已被他人处理，请重新读取", field="id")
    return after


async def _checked(uow: UnitOfWork, ctx: Context, request_id: UUID, step: str) -> Mapping[str, Any]:
    row = await _row(uow, request_id)
    _raise(policy.step_refusal(step, row["state"]))
    _raise(policy.duty_refusal(step, ctx.actor, row["submitted_by"], row["signed_by"]))
    return row


async def sign_deletion_request(ctx: Context, request_id: UUID) -> DeletionRequestView:
    """The head of the applying department reviews and signs (部门负责人审核签字;
    customer.delete.sign over that department; not the submitter): SUBMITTED -> DEPT_HEAD_SIGNED,
    with who and when."""
    require(ctx, SIGN)
    async with unit_of_work(ctx) as uow:
        row = await _row(uow, request_id)
        if not may_reach(ctx, SIGN, owner_id=None, department_id=row["department_id"]):
            raise KehuError("PERMISSION_DENIED", "only a head of the applying department signs its deletion requests",
                            "只有申请部门的负责人可以审核签字", field="id")
        row = await _checked(uow, ctx, request_id, policy.SIGN)
        at = now()
        state = await _move(uow, row, policy.SIGN, {T.signed_by: ctx.actor, T.signed_at: at})
        await audit(uow, "customer_deletion.signed", TARGET, request_id,
                    {"state": (row["state"], state), "signed_by": (None, ctx.actor)})
        await outbox.add(uow, "customer_deletion.signed", TARGET, request_id, ("state",))
        return _view(ctx, await _row(uow, request_id))


async def approve_deletion_request(ctx: Context, request_id: UUID) -> DeletionRequestView:
    """The head of customer information management approves a signed request
    (customer.delete.approve; neither its submitter nor its signer): DEPT_HEAD_SIGNED ->
    CIM_HEAD_APPROVED. Before the signature: DELETION_NOT_SIGNED and the request stays
    SUBMITTED (CSM-10)."""
    require(ctx, APPROVE)
    async with unit_of_work(ctx) as uow:
        row = await _checked(uow, ctx, request_id, policy.APPROVE)
        at = now()
        state = await _move(uow, row, policy.APPROVE, {T.approved_by: ctx.actor, T.approved_at: at})
        await audit(uow, "customer_deletion.approved", TARGET, request_id,
                    {"state": (row["state"], state), "approved_by": (None, ctx.actor)})
        await outbox.add(uow, "customer_deletion.approved", TARGET, request_id, ("state",))
        return _view(ctx, await _row(uow, request_id))


async def reject_deletion_request(ctx: Context, request_id: UUID, *, reason: str) -> DeletionRequestView:
    """The department head (customer.delete.sign, over the applying department) or the head of
    customer information management (customer.delete.approve) rejects a request not yet approved,
    with a reason (required); not the submitter, and not the signer."""
    require_any(ctx, (SIGN, APPROVE))
    text = (reason or "").strip()
    if not text:
        raise KehuError("REASON_REQUIRED", "rejecting a deletion request needs a reason", "驳回删除申请须填写原因",
                        field="reason")
    if len(text) > policy.MAX_NOTE:
        raise KehuError("REASON_TOO_LONG", f"the reason has at most {policy.MAX_NOTE} characters",
                        f"原因最多 {policy.MAX_NOTE} 字", field="reason")
    async with unit_of_work(ctx) as uow:
        row = await _checked(uow, ctx, request_id, policy.REJECT)
        if not (_holds(ctx, APPROVE)
                or may_reach(ctx, SIGN, owner_id=None, department_id=row["department_id"])):
            raise KehuError("PERMISSION_DENIED", "only a head of the applying department or of customer information "
                            "management rejects a deletion request", "只有申请部门负责人或客户信息管理部门负责人可以驳回",
                            field="id")
        if row["state"] == policy.DEPT_HEAD_SIGNED:
            require(ctx, APPROVE)  # once signed, the decision is the second level's
        at = now()
        state = await _move(uow, row, policy.REJECT, {T.rejected_by: ctx.actor, T.rejected_at: at,
                                                      T.rejection_reason: text})
        await audit(uow, "customer_deletion.rejected", TARGET, request_id,
                    {"state": (row["state"], state), "rejection_reason": (None, text)})
        await outbox.add(uow, "customer_deletion.rejected", TARGET, request_id, ("state",))
        return _view(ctx, await _row(uow, request_id))


async def execute_deletion(ctx: Context, registry: VerticalRegistry, request_id: UUID) -> DeletionRequestView:
    """The system administrator (customer.delete.execute) deletes the customer of an approved
    request (CIM_HEAD_APPROVED -> EXECUTED, CSM-11): the erasure of core.privacy.erasure runs in this
    unit of work, the request records 删除时间 (``executed_at``) and 删除人员 (``executed_by``), and
    the customer details of every request of that customer are emptied. Not approved:
    DELETION_NOT_APPROVED; without the permission: PERMISSION_DENIED; nothing changes either way."""
    require(ctx, EXECUTE)
    async with unit_of_work(ctx) as uow:
        assert uow.ctx.tenant_id is not None
        row = await _checked(uow, ctx, request_id, policy.EXECUTE)
        customer_id = row["subject_customer_id"]
        result = await erasure.erase_in(uow, registry, customer_id,
                                        f"deletion request {request_id} ({row['reason']})")
        at = now()
        state = await _move(uow, row, policy.EXECUTE, {T.executed_by: ctx.actor, T.executed_at: at})
        await uow.update(CustomerDeletionRequest, {
            T.customer_details: crypto.seal_json(uow.ctx.tenant_id, SEALED_DETAILS, {})}).where(
            T.subject_customer_id.is_in(list(result.customers)))
        await audit(uow, "customer_deletion.executed", TARGET, request_id,
                    {"state": (row["state"], state), "executed_by": (None, ctx.actor),
                     "customers": (None, [str(c) for c in result.customers])})
        await outbox.add(uow, "customer_deletion.executed", TARGET, request_id, ("state",))
        return _view(ctx, await _row(uow, request_id))


async def confirm_backup_purge(ctx: Context, request_id: UUID, *, note: str) -> DeletionRequestView:
    """The system administrator (customer.delete.execute) confirms the deleted customer was purged
    from every storage medium and backup (同步删除…彻底清除), naming them in ``note`` (required):
    EXECUTED -> BACKUPS_PURGED (CSM-12)."""
    require(ctx, EXECUTE)
    _raise(policy.note_refusal(note))
    async with unit_of_work(ctx) as uow:
        row = await _checked(uow, ctx, request_id, policy.PURGE)
        at = now()
        state = await _move(uow, row, policy.PURGE, {T.purge_confirmed_by: ctx.actor, T.purge_confirmed_at: at,
                                                     T.purge_note: note.strip()})
        await audit(uow, "customer_deletion.backups_purged", TARGET, request_id,
                    {"state": (row["state"], state), "purge_note": (None, note.strip())})
        await outbox.add(uow, "customer_deletion.backups_purged", TARGET, request_id, ("state",))
        return _view(ctx, await _row(uow, request_id))


async def close_deletion_request(ctx: Context, request_id: UUID) -> DeletionRequestView:
    """Close a request whose backup purge is confirmed (customer.delete.execute): BACKUPS_PURGED ->
    CLOSED. An executed request without the confirmation: DELETION_BACKUPS_NOT_PURGED (CSM-12)."""
    require(ctx, EXECUTE)
    async with unit_of_work(ctx) as uow:
        row = await _checked(uow, ctx, request_id, policy.CLOSE)
        at = now()
        state = await _move(uow, row, policy.CLOSE, {T.closed_by: ctx.actor, T.closed_at: at})
        await audit(uow, "customer_deletion.closed", TARGET, request_id, {"state": (row["state"], state)})
        await outbox.add(uow, "customer_deletion.closed", TARGET, request_id, ("state",))
        return _view(ctx, await _row(uow, request_id))


async def get_deletion_request(ctx: Context, request_id: UUID) -> DeletionRequestView:
    """One request: to those who sign, approve or execute, or to its submitter."""
    require_any(ctx, READERS)
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(CustomerDeletionRequest).where(CustomerDeletionRequest.id == request_id).first()
    if row is None or not (_decider(ctx) or row["submitted_by"] == ctx.actor):
        raise NotFound("customer_deletion_request", request_id)
    return _view(ctx, row)


async def deletion_requests_page(ctx: Context, window: Window, *, state: str | None = None,
                                 reason: str | None = None, customer_id: UUID | None = None,
                                 mine: bool = False) -> tuple[list[DeletionRequestView], bool]:
    """Deletion requests, newest first: all of them to those who sign, approve or execute; one's
    own submissions with ``mine`` (customer.delete.request). ``state: "executed"`` and later states
    are the ledger of erased customers."""
    if mine:
        require(ctx, REQUEST)
    else:
        require_any(ctx, (SIGN, APPROVE, EXECUTE))
    if state is not None and state not in policy.STATES:
        raise KehuError("FILTER_INVALID", f"state is one of {', '.join(policy.STATES)}",
                        f"状态须为 {', '.join(policy.STATES)} 之一", field="state")
    if reason is not None and reason not in policy.REASONS:
        raise KehuError("FILTER_INVALID", f"reason is one of {', '.join(policy.REASONS)}",
                        f"删除原因须为 {', '.join(policy.REASONS)} 之一", field="reason")
    async with unit_of_work(ctx, write=False) as uow:
        query = keyset.matching(uow.select(CustomerDeletionRequest), (T.state, state), (T.reason, reason),
                                (T.subject_customer_id, customer_id))
        if mine:
            query = query.where(T.submitted_by == ctx.actor)
        rows, more = await keyset.fetch(query, (T.created_at, T.id), window, descending=True)
    return [_view(ctx, row) for row in rows], more
