"""Pending grants of high-risk permissions (issue 24, seed-004 CSM-21).

With the tenant's ``high_risk_grants`` setting on, granting a role that gives its user a high-risk
permission they do not hold yet (``customer.export``, ``customer.pii.unmask``, ``privacy.erase``,
``role.manage``, ``role.grant`` unless the tenant marks others) does not give the role: it waits
as a pending grant until a department head (``role.grant.approve``) who is neither the requester
nor the grantee, and who holds what the role gives, approves it; or rejects it with a reason. The
setting is off for a tenant that never set it, so existing tenants keep granting as before."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from core.audit.chain import record
from core.context import Context
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.identity import roles
from core.identity.access import SeparationOfDuties, require
from core.identity.grant_hold import APPROVED, PENDING, REJECTED, grant_policy
from core.identity.grant_policy import APPROVE_PERMISSION, SETTING_KEY, HighRiskGrantPolicy
from core.identity.grant_tables import PendingGrant
from core.identity.permissions import CORE_PERMISSIONS
from core.identity.tables import TenantSetting, User, UserRole
from core.jobs import outbox


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PendingGrantView:
    id: UUID
    user_id: UUID
    role_id: UUID
    requested_by: str
    requested_at: datetime
    high_risk: tuple[str, ...]
    state: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None


def _view(row: dict) -> PendingGrantView:
    return PendingGrantView(id=row["id"], user_id=row["user_id"], role_id=row["role_id"],
                            requested_by=row["requested_by"], requested_at=row["created_at"],
                            high_risk=tuple(json.loads(row["high_risk"])), state=row["state"],
                            decided_by=row["decided_by"], decided_at=row["decided_at"],
                            decision_reason=row["decision_reason"])


async def get_grant_policy(ctx: Context) -> HighRiskGrantPolicy:
    require(ctx, "role.read")
    async with unit_of_work(ctx, write=False) as uow:
        return await grant_policy(uow)


async def set_grant_policy(ctx: Context, *, enabled: bool,
                           permissions: list[str] | None = None) -> HighRiskGrantPolicy:
    """Turn approval of high-risk grants on or off and name the high-risk permissions."""
    require(ctx, "tenant.settings.manage")
    value: dict[str, object] = {"enabled": enabled}
    if permissions is not None:
        value["permissions"] = list(permissions)
    policy = HighRiskGrantPolicy.from_mapping(value, known=[p.name for p in CORE_PERMISSIONS])
    encoded = json.dumps(policy.as_dict(), sort_keys=True)
    async with unit_of_work(ctx) as uow:
        before = await grant_policy(uow)
        if await uow.exists(TenantSetting).where(TenantSetting.key == SETTING_KEY):
            await uow.update(TenantSetting, {TenantSetting.value: encoded, TenantSetting.updated_by: ctx.actor}).where(
                TenantSetting.key == SETTING_KEY)
        else:
            await uow.insert(TenantSetting(key=SETTING_KEY, value=encoded, updated_by=ctx.actor))
        diff = {"enabled": (before.enabled, policy.enabled),
                "permissions": (list(before.permissions), list(policy.permissions))}
        await record(uow, "setting.updated", "tenant_setting", SETTING_KEY, diff)
        await outbox.add(uow, "setting.updated", "tenant_setting", SETTING_KEY, ("value",))
    return policy


async def _load(uow: UnitOfWork, grant_id: UUID) -> dict:
    row = await uow.select(PendingGrant).where(PendingGrant.id == grant_id).first()
    if row is None:
        raise NotFound("pending grant", grant_id)
    return row


def _check_decider(ctx: Context) -> None:
    require(ctx, APPROVE_PERMISSION)
    if not ctx.is_system and ctx.user_id is None:
        raise KehuError("APPROVAL_BY_USER_ONLY", "a person approves grants, not an API key",
                        "授权须由用户本人审批，不能使用 API 密钥", field="id")


async def _decidable(ctx: Context, uow: UnitOfWork, grant_id: UUID) -> dict:
    row = await _load(uow, grant_id)
    if row["state"] != PENDING:
        raise KehuError("GRANT_DECIDED", f"the grant is already {row['state']}", "该授权已处理", field="id")
    actors = await roles.acting_as(uow, ctx)
    if row["requested_by"] in actors or f"user:{row['user_id']}" in actors:
        raise SeparationOfDuties("deciding a grant one asked for or receives")
    return row


async def approve_grant(ctx: Context, grant_id: UUID) -> PendingGrantView:
    """Give the role: by a department head who holds what it gives (over the grantee's departments)."""
    _check_decider(ctx)
    async with unit_of_work(ctx) as uow:
        row = await _decidable(ctx, uow, grant_id)
        role = await roles._get_role(uow, row["role_id"])
        if not await uow.exists(User).where(User.id == row["user_id"]):
            raise NotFound("user", row["user_id"])
        roles.check_no_escalation(ctx, role.permissions, departments=await roles.departments_of(uow, [row["user_id"]]))
        if not await uow.exists(UserRole).where((UserRole.user_id == row["user_id"])
                                                & (UserRole.role_id == row["role_id"])):
            await uow.insert(UserRole(user_id=row["user_id"], role_id=row["role_id"], granted_by=ctx.actor))
        await uow.update(PendingGrant, {PendingGrant.state: APPROVED, PendingGrant.decided_by: ctx.actor,
                                        PendingGrant.decided_at: now()}).where(PendingGrant.id == grant_id)
        await record(uow, "role.grant_approved", "pending_grant", grant_id,
                     {"state": (PENDING, APPROVED), "user_id": row["user_id"], "role_id": row["role_id"],
                      "requested_by": row["requested_by"]})
        await record(uow, "role.granted", "user", row["user_id"], {"role_id": row["role_id"],
                                                                   "pending_grant_id": grant_id})
        await outbox.add(uow, "role.grant_approved", "pending_grant", grant_id, ("state",))
        await outbox.add(uow, "user.role_granted", "user", row["user_id"], ("roles",))
        return _view(await _load(uow, grant_id))


async def reject_grant(ctx: Context, grant_id: UUID, *, reason: str) -> PendingGrantView:
    """Refuse a pending grant, with a reason; the user does not get the role."""
    _check_decider(ctx)
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > roles.REASON_MAX:
        raise KehuError("REASON_REQUIRED", f"give a reason of 1 to {roles.REASON_MAX} characters",
                        f"请填写 1 至 {roles.REASON_MAX} 个字符的原因", field="reason")
    async with unit_of_work(ctx) as uow:
        row = await _decidable(ctx, uow, grant_id)
        await uow.update(PendingGrant, {PendingGrant.state: REJECTED, PendingGrant.decided_by: ctx.actor,
                                        PendingGrant.decided_at: now(),
                                        PendingGrant.decision_reason: reason}).where(PendingGrant.id == grant_id)
        await record(uow, "role.grant_rejected", "pending_grant", grant_id,
                     {"state": (PENDING, REJECTED), "user_id": row["user_id"], "role_id": row["role_id"],
                      "reason": reason})
        await outbox.add(uow, "role.grant_rejected", "pending_grant", grant_id, ("state",))
        return _view(await _load(uow, grant_id))


_ORDER = (PendingGrant.created_at, PendingGrant.id)


def _query(uow: UnitOfWork, state: str | None) -> Any:
    if state is not None and state not in (PENDING, APPROVED, REJECTED):
        raise KehuError("STATE_INVALID", "state is pending, approved or rejected",
                        "状态须为 pending、approved 或 rejected", field="state")
    query = uow.select(PendingGrant)
    return query.where(PendingGrant.state == state) if state is not None else query


async def pending_grants_page(ctx: Context, window: Window, *,
                              state: str | None = None) -> tuple[list[PendingGrantView], bool]:
    """Grants of high-risk permissions, newest first (``role.read``)."""
    require(ctx, "role.read")
    async with unit_of_work(ctx, write=False) as uow:
        rows, more = await keyset.fetch(_query(uow, state), _ORDER, window, descending=True)
    return [_view(row) for row in rows], more
