"""The roles delegated to a user right now (A/B posts, seed 001 S21 Art5): what the access layer adds
to a caller's own roles on every request. Kept apart from ``delegations`` (which creates and ends
them, on top of ``roles``) so ``roles`` can read it without an import circle."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from core.db.uow import UnitOfWork
from core.identity.tables import PostDelegation


def now() -> datetime:
    return datetime.now(UTC)  # tests pin the clock here


async def delegated_role_ids(uow: UnitOfWork, user_id: UUID, at: datetime | None = None) -> list[UUID]:
    """The roles delegated to ``user_id`` that hold at ``at`` (now by default): inside their window
    and not ended."""
    moment = at or now()
    rows = await uow.select(PostDelegation.role_id).where(
        (PostDelegation.to_user_id == user_id) & (PostDelegation.starts_at <= moment)
        & (PostDelegation.ends_at > moment) & PostDelegation.ended_at.is_null())
    return [row["role_id"] for row in rows]
