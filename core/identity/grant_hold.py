"""Holding back a role grant that gives a high-risk permission (seed-004 CSM-21): used by
:func:`core.identity.roles.grant_role` and user creation; approval lives in :mod:`core.identity.grants`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from uuid import UUID

from core.audit.chain import record
from core.db.uow import UnitOfWork
from core.identity.grant_policy import SETTING_KEY, HighRiskGrantPolicy
from core.identity.grant_tables import PendingGrant
from core.identity.tables import TenantSetting
from core.jobs import outbox

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


async def grant_policy(uow: UnitOfWork) -> HighRiskGrantPolicy:
    row = await uow.select(TenantSetting.value).where(TenantSetting.key == SETTING_KEY).first()
    return HighRiskGrantPolicy.from_mapping(json.loads(row["value"])) if row else HighRiskGrantPolicy()


async def hold_if_high_risk(uow: UnitOfWork, *, user_id: UUID, role_id: UUID, gives: Iterable[str],
                            held: Iterable[str]) -> UUID | None:
    """If the grant gives ``user_id`` a high-risk permission they do not hold, record it as a
    pending grant (the role is not given) and return its id; else None (grant as usual)."""
    if uow.ctx.is_system:
        return None
    risky = (await grant_policy(uow)).new_high_risk(gives, held)
    if not risky:
        return None
    if existing := await uow.select(PendingGrant.id).where(
            (PendingGrant.user_id == user_id) & (PendingGrant.role_id == role_id)
            & (PendingGrant.state == PENDING)).first():
        return existing["id"]
    grant = PendingGrant(user_id=user_id, role_id=role_id, requested_by=uow.ctx.actor,
                         high_risk=json.dumps(risky), state=PENDING)
    await uow.insert(grant)
    await record(uow, "role.grant_requested", "pending_grant", grant.id,
                 {"user_id": user_id, "role_id": role_id, "high_risk": risky})
    await outbox.add(uow, "role.grant_requested", "pending_grant", grant.id, ("state",))
    return grant.id
