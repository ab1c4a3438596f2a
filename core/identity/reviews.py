"""Permission reviews (issue 24, seed-004 CSM-22): a change of a user's department opens a review
of what they may do; a holder of ``role.grant`` closes it recording the outcome (kept: the
permissions stay as they are; adjusted: roles were changed)."""

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
from core.identity.access import require
from core.identity.grant_tables import PermissionReview
from core.jobs import outbox

OPEN, CLOSED = "open", "closed"
OUTCOMES = ("kept", "adjusted")
NOTE_MAX = 2000


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ReviewView:
    id: UUID
    user_id: UUID
    trigger: str
    change: dict[str, Any]
    opened_at: datetime
    state: str
    outcome: str | None
    note: str | None
    closed_by: str | None
    closed_at: datetime | None


def _view(row: dict) -> ReviewView:
    return ReviewView(id=row["id"], user_id=row["user_id"], trigger=row["trigger"], change=json.loads(row["change"]),
                      opened_at=row["created_at"], state=row["state"], outcome=row["outcome"], note=row["note"],
                      closed_by=row["closed_by"], closed_at=row["closed_at"])


async def open_review(uow: UnitOfWork, user_id: UUID, trigger: str, change: dict[str, Any]) -> UUID:
    """Open a review in the unit of work of the change that calls for it; audited."""
    review = PermissionReview(user_id=user_id, trigger=trigger, change=json.dumps(change, default=str, sort_keys=True),
                              state=OPEN)
    await uow.insert(review)
    await record(uow, "permission_review.opened", "permission_review", review.id,
                 {"user_id": user_id, "trigger": trigger})
    await outbox.add(uow, "permission_review.opened", "permission_review", review.id, ("state",))
    return review.id


async def close_review(ctx: Context, review_id: UUID, *, outcome: str, note: str = "") -> ReviewView:
    """Close an open review with its outcome (``role.grant``)."""
    require(ctx, "role.grant")
    if outcome not in OUTCOMES:
        raise KehuError("REVIEW_OUTCOME_INVALID", "the outcome is kept or adjusted", "结论须为 kept 或 adjusted",
                        field="outcome")
    note = " ".join((note or "").split())
    if len(note) > NOTE_MAX:
        raise KehuError("REASON_TOO_LONG", f"a note has at most {NOTE_MAX} characters", f"说明最多 {NOTE_MAX} 个字符",
                        field="note")
    async with unit_of_work(ctx) as uow:
        row = await uow.select(PermissionReview).where(PermissionReview.id == review_id).first()
        if row is None:
            raise NotFound("permission review", review_id)
        if row["state"] != OPEN:
            raise KehuError("REVIEW_CLOSED", "the review is already closed", "该权限复核已关闭", field="id")
        await uow.update(PermissionReview, {PermissionReview.state: CLOSED, PermissionReview.outcome: outcome,
                                            PermissionReview.note: note, PermissionReview.closed_by: ctx.actor,
                                            PermissionReview.closed_at: now()}).where(PermissionReview.id == review_id)
        await record(uow, "permission_review.closed", "permission_review", review_id,
                     {"state": (OPEN, CLOSED), "user_id": row["user_id"], "outcome": outcome})
        await outbox.add(uow, "permission_review.closed", "permission_review", review_id, ("state",))
        return _view(await uow.select(PermissionReview).where(PermissionReview.id == review_id).first())


_ORDER = (PermissionReview.created_at, PermissionReview.id)


async def reviews_page(ctx: Context, window: Window, *, state: str | None = None,
                       user_id: UUID | None = None) -> tuple[list[ReviewView], bool]:
    """Permission reviews, newest first (``user.read``)."""
    require(ctx, "user.read")
    if state is not None and state not in (OPEN, CLOSED):
        raise KehuError("STATE_INVALID", "state is open or closed", "状态须为 open 或 closed", field="state")
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(PermissionReview)
        if state is not None:
            query = query.where(PermissionReview.state == state)
        if user_id is not None:
            query = query.where(PermissionReview.user_id == user_id)
        rows, more = await keyset.fetch(query, _ORDER, window, descending=True)
    return [_view(r) for r in rows], more
