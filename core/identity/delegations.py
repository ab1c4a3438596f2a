"""A/B posts (seed 001 S21 Art5: 每个岗位设A、B角, the B holder does A's maintenance while A is away,
with a handover record): a time-boxed delegation of one of A's roles to a colleague.

The delegate holds the role's permissions only inside ``[starts_at, ends_at)`` and until it is ended
(the access layer adds the role when it builds a caller's permissions, on every request); the
delegate's departments are their own, so a department-scoped permission reaches the delegate's
departments, not A's. Whoever delegates holds what the role gives (``check_no_escalation``): A
delegating their own post, or a holder of ``role.grant``; nobody delegates to themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from core.audit.chain import record
from core.context import Context
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.errors import KehuError, NotFound
from core.identity import post_grants
from core.identity.access import PermissionDenied, SeparationOfDuties, require
from core.identity.roles import _get_role, check_no_escalation, departments_of
from core.identity.tables import PostDelegation, User, UserRole
from core.jobs import outbox

MAX_DAYS = 90  # a leave, not a transfer: a longer absence is a role grant
MAX_HANDOVER = 5_000


def now() -> datetime:
    return post_grants.now()  # one clock with the access layer's (tests pin post_grants.now)


@dataclass(frozen=True, slots=True)
class DelegationView:
    id: UUID
    role_id: UUID
    from_user_id: UUID
    to_user_id: UUID
    starts_at: datetime
    ends_at: datetime
    handover: str
    created_by: str
    created_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    return_note: str

    def active(self, at: datetime) -> bool:
        return self.ended_at is None and self.starts_at <= at < self.ends_at


def _view(row: dict) -> DelegationView:
    return DelegationView(id=row["id"], role_id=row["role_id"], from_user_id=row["from_user_id"],
                          to_user_id=row["to_user_id"], starts_at=row["starts_at"], ends_at=row["ends_at"],
                          handover=row["handover"], created_by=row["created_by"], created_at=row["created_at"],
                          ended_at=row["ended_at"], ended_by=row["ended_by"], return_note=row["return_note"])


def _invalid(code: str, field: str, en: str, zh: str) -> KehuError:
    return KehuError(code, en, zh, field=field)


def _aware(value: object, field: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise _invalid("DELEGATION_WINDOW_INVALID", field, f"{field} is a time with its time-zone offset",
                       f"{field} 须为带时区的时间")
    return value.astimezone(UTC)


async def delegate_post(ctx: Context, *, role_id: UUID, from_user_id: UUID, to_user_id: UUID, starts_at: datetime,
                        ends_at: datetime, handover: str) -> DelegationView:
    """A's role handed to B for the window, with the handover record (Art5)."""
    if ctx.user_id != from_user_id:
        require(ctx, "role.grant")  # someone else's post: the role granter's call
    elif ctx.principal is None or ctx.principal.api_key_id is not None:
        raise PermissionDenied("role.grant")
    if ctx.user_id == to_user_id:
        raise SeparationOfDuties("delegating a post to yourself")
    if from_user_id == to_user_id:
        raise _invalid("DELEGATION_SAME_USER", "toUserId", "a post is delegated to a colleague, not to its holder",
                       "岗位须委托给其他同事")
    starts, ends = _aware(starts_at, "startsAt"), _aware(ends_at, "endsAt")
    at = now()
    if ends <= starts or ends <= at or ends - starts > timedelta(days=MAX_DAYS):
        raise _invalid("DELEGATION_WINDOW_INVALID", "endsAt", f"the window ends after it starts and after now, and lasts "
                       f"at most {MAX_DAYS} days", f"委托期限须晚于开始时间和当前时间，且不超过 {MAX_DAYS} 天")
    text = handover.strip() if isinstance(handover, str) else ""
    if not text or len(text) > MAX_HANDOVER:
        raise _invalid("DELEGATION_HANDOVER_REQUIRED", "handover", f"the handover record is required (at most "
                       f"{MAX_HANDOVER} characters)", f"须填写交接记录（不超过 {MAX_HANDOVER} 字）")
    async with unit_of_work(ctx) as uow:
        role = await _get_role(uow, role_id)
        for user_id, field in ((from_user_id, "fromUserId"), (to_user_id, "toUserId")):
            user = await uow.select(User.status).where(User.id == user_id).first()
            if user is None:
                raise NotFound("user", user_id)
            if user["status"] != "active":
                raise _invalid("DELEGATION_USER_DISABLED", field, "the user is disabled", "该用户已停用")
        if not await uow.exists(UserRole).where((UserRole.user_id == from_user_id) & (UserRole.role_id == role_id)):
            raise _invalid("DELEGATION_ROLE_NOT_HELD", "roleId", "only a role the post's holder holds is delegated",
                           "只能委托岗位持有人拥有的角色")
        check_no_escalation(ctx, role.permissions, departments=await departments_of(uow, [to_user_id]),
                            field="roleId")
        delegation_id = uuid4()
        await uow.insert(PostDelegation(id=delegation_id, role_id=role_id, from_user_id=from_user_id,
                                        to_user_id=to_user_id, starts_at=starts, ends_at=ends, handover=text,
                                        created_by=ctx.actor))
        await record(uow, "post.delegated", "post_delegation", delegation_id,
                     {"role_id": role_id, "from_user_id": from_user_id, "to_user_id": to_user_id,
                      "starts_at": starts.isoformat(), "ends_at": ends.isoformat()})
        await outbox.add(uow, "user.post_delegated", "post_delegation", delegation_id, ("roles",))
        return _view(await uow.select(PostDelegation).where(PostDelegation.id == delegation_id).first())


async def end_delegation(ctx: Context, delegation_id: UUID, *, note: str = "") -> DelegationView:
    """A is back (or the delegation is withdrawn): the delegate no longer holds the role; the note is
    the return half of the handover record."""
    async with unit_of_work(ctx) as uow:
        row = await uow.select(PostDelegation).where(PostDelegation.id == delegation_id).first()
        if row is None or ctx.user_id not in (row["from_user_id"], row["to_user_id"]):
            require(ctx, "role.grant")  # before saying whether it exists
        if row is None:
            raise NotFound("post_delegation", delegation_id)
        if row["ended_at"] is not None:
            return _view(row)
        text = (note or "").strip()[:MAX_HANDOVER]
        await uow.update(PostDelegation, {PostDelegation.ended_at: now(), PostDelegation.ended_by: ctx.actor,
                                          PostDelegation.return_note: text}).where(PostDelegation.id == delegation_id)
        await record(uow, "post.delegation_ended", "post_delegation", delegation_id, {"note_given": bool(text)})
        await outbox.add(uow, "user.post_delegation_ended", "post_delegation", delegation_id, ("roles",))
        return _view(await uow.select(PostDelegation).where(PostDelegation.id == delegation_id).first())


async def delegation_page(ctx: Context, window: Window) -> tuple[list[DelegationView], bool]:
    """The handover records, latest start first: every one for a reader of roles, else one's own
    (given or received)."""
    async with unit_of_work(ctx, write=False) as uow:
        query = uow.select(PostDelegation)
        try:
            require(ctx, "role.read")
        except PermissionDenied:
            if ctx.user_id is None:
                raise
            query = query.where((PostDelegation.from_user_id == ctx.user_id)
                                | (PostDelegation.to_user_id == ctx.user_id))
        rows, more = await keyset.fetch(query, [PostDelegation.starts_at, PostDelegation.id], window, descending=True)
    return [_view(r) for r in rows], more
