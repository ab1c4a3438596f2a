"""Users: one account per person, in departments, disabled with a handover when they leave."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from core.audit.chain import record
from core.context import Context
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.identity import roles as role_service
from core.identity.access import require, require_different_actor
from core.identity.grant_hold import grant_policy, hold_if_high_risk
from core.identity import reviews
from core.identity.ownership import count_owned, owned_record_types, transfer_owned
from core.identity.policies import password_policy
from core.identity.runtime import identity
from core.jobs import outbox
from core.identity.permissions import Scope
from core.identity.tables import AuthSession, OwnershipHandover, Role, RolePermission, User, UserDepartment, UserRole
from core.tenancy.tables import Department

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
ACTIVE = "active"
DISABLED = "disabled"
LOCKED = "locked"  # reported compromised (seed-004 CSM-15): usable again only after a password reset


@dataclass(frozen=True, slots=True)
class UserView:
    id: UUID
    username: str
    display_name: str
    employee_no: str | None
    status: str
    department_ids: tuple[UUID, ...]
    role_ids: tuple[UUID, ...]
    last_login_at: datetime | None
    password_changed_at: datetime
    clearance: int = 0  # CSM-20: the highest customer access level the user reads


def now() -> datetime:
    return datetime.now(UTC)


def normalise_username(username: str) -> str:
    return username.strip().lower()


def _check_username(username: str) -> str:
    username = normalise_username(username)
    if not USERNAME.match(username):
        raise KehuError("USERNAME_INVALID", "a username is 2-64 letters, digits or . _ @ -",
                        "用户名须为 2-64 个字母、数字或 . _ @ -", field="username")
    return username


def _check_display_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 100:
        raise KehuError("NAME_INVALID", "a display name has 1 to 100 characters", "姓名须为 1 至 100 个字符",
                        field="displayName")
    return cleaned


async def _views(uow: UnitOfWork, rows: list[dict]) -> list[UserView]:
    """Views of these user rows in three queries, however many rows there are."""
    ids = [row["id"] for row in rows]
    departments: dict[UUID, list[UUID]] = {}
    roles: dict[UUID, list[UUID]] = {}
    if ids:
        for d in await uow.select(UserDepartment.user_id, UserDepartment.department_id).where(
                UserDepartment.user_id.is_in(ids)):
            departments.setdefault(d["user_id"], []).append(d["department_id"])
        for r in await uow.select(UserRole.user_id, UserRole.role_id).where(UserRole.user_id.is_in(ids)):
            roles.setdefault(r["user_id"], []).append(r["role_id"])
    return [UserView(id=row["id"], username=row["username"], display_name=row["display_name"],
                     employee_no=row["employee_no"], status=row["status"],
                     department_ids=tuple(sorted(departments.get(row["id"], ()))),
                     role_ids=tuple(sorted(roles.get(row["id"], ()))),
                     last_login_at=row["last_login_at"], password_changed_at=row["password_changed_at"],
                     clearance=int(row.get("clearance") or 0))
            for row in rows]


async def _view(uow: UnitOfWork, user_id: UUID) -> UserView:
    row = await uow.select(User).where(User.id == user_id).first()
    if row is None:
        raise NotFound("user", user_id)
    return (await _views(uow, [row]))[0]


async def _set_departments(uow: UnitOfWork, user_id: UUID, department_ids: list[UUID]) -> None:
    wanted = set(department_ids)
    if wanted:
        found = {d["id"] for d in await uow.select(Department.id).where(Department.id.is_in(list(wanted)))}
        if missing := wanted - found:
            raise NotFound("department", sorted(missing)[0])
    await uow.delete(UserDepartment).where(UserDepartment.user_id == user_id)
    if wanted:
        await uow.insert(*(UserDepartment(user_id=user_id, department_id=d) for d in sorted(wanted)))


async def insert_user(uow: UnitOfWork, *, username: str, display_name: str, password_hash: str,
                      employee_no: str | None = None, must_change_password: bool = False,
                      clearance: int = 0) -> User:
    """Insert a user after the uniqueness rules; the caller has checked permissions and policy.
    ``must_change_password``: the password was chosen by someone else (e.g. printed by the CLI)."""
    if await uow.exists(User).where(User.username == username):
        raise KehuError("USERNAME_TAKEN", f"username {username!r} is taken", f"用户名 {username!r} 已被使用",
                        field="username")
    if employee_no and await uow.exists(User).where(User.employee_no == employee_no):
        raise KehuError("PERSON_HAS_ACCOUNT", "this person already has an account; re-enable it instead",
                        "此人已有账号，请重新启用原账号", field="employeeNo")
    user = User(username=username, display_name=display_name, employee_no=employee_no or None,
                password_hash=password_hash, password_changed_at=now(), status=ACTIVE,
                must_change_password=int(must_change_password), clearance=clearance)
    await uow.insert(user)
    return user


async def record_user_created(uow: UnitOfWork, user: User, department_ids: list[UUID]) -> None:
    """The ``user.created`` entry; never the password or its hash."""
    await record(uow, "user.created", "user", user.id,
                 {"username": user.username, "display_name": user.display_name, "employee_no": user.employee_no,
                  "department_ids": sorted(set(department_ids), key=str)})
    await outbox.add(uow, "user.created", "user", user.id, ("username", "display_name", "employee_no", "department_ids"))


async def _grant_roles_at_creation(ctx: Context, uow: UnitOfWork, user_id: UUID, role_ids: list[UUID]) -> list[UUID]:
    """The roles of a new user, under the rules of :func:`core.identity.roles.grant_role` (the
    approver is not the grantee; nobody hands out more than they hold), in the creating unit of
    work: an unknown or refused role leaves no user behind (issue 16 point 5)."""
    wanted = sorted(set(role_ids), key=str)
    if not wanted:
        return []
    found = {r["id"] for r in await uow.select(Role.id).where(Role.id.is_in(wanted))}
    if missing := [r for r in wanted if r not in found]:
        raise KehuError("NOT_FOUND", f"role {missing[0]} not found", f"未找到角色 {missing[0]}", field="roleIds")
    granted: dict[str, Scope] = {}
    for grant in await uow.select(RolePermission.permission, RolePermission.scope).where(
            RolePermission.role_id.is_in(wanted)):
        scope = Scope(grant["scope"])
        if grant["permission"] not in granted or scope.breadth > granted[grant["permission"]].breadth:
            granted[grant["permission"]] = scope
    require_different_actor(ctx, f"user:{user_id}", "granting a role")
    # the new user's departments are set by now: department-scoped grants must stay within the caller's reach
    role_service.check_no_escalation(ctx, granted, departments=await role_service.departments_of(uow, [user_id]))
    # seed-004 CSM-21: a role that gives a high-risk permission waits for approval (core.identity.grants)
    policy = await grant_policy(uow)
    held_back = []
    for role_id in wanted:
        gives = [r["permission"] for r in await uow.select(RolePermission.permission).where(
            RolePermission.role_id == role_id)]
        if not ctx.is_system and policy.new_high_risk(gives, ()):
            held_back.append(role_id)
    if now_given := [r for r in wanted if r not in held_back]:
        await uow.insert(*(UserRole(user_id=user_id, role_id=role_id, granted_by=ctx.actor) for role_id in now_given))
    return held_back


async def create_user(ctx: Context, *, username: str, display_name: str, password: str,
                      employee_no: str | None = None, department_ids: list[UUID] = (),  # type: ignore[assignment]
                      role_ids: list[UUID] = ()) -> UserView:  # type: ignore[assignment]
    """One unit of work: the user, their departments and roles, the audit entries and events, or
    nothing at all."""
    require(ctx, "user.manage")
    if role_ids:
        require(ctx, "role.grant")
    username = _check_username(username)
    display_name = _check_display_name(display_name)
    async with unit_of_work(ctx, write=False) as uow:
        (await password_policy(uow)).check(password, username=username)
    password_hash = await identity().hashing.hash(password)  # slow: outside the transaction
    async with unit_of_work(ctx) as uow:
        user = await insert_user(uow, username=username, display_name=display_name, password_hash=password_hash,
                                 employee_no=employee_no)
        await _set_departments(uow, user.id, list(department_ids))
        held_back = await _grant_roles_at_creation(ctx, uow, user.id, list(role_ids))
        # entries last (see record_sessions_revoked): user.created, then one role.granted per role
        await record_user_created(uow, user, list(department_ids))
        for role_id in held_back:
            await hold_if_high_risk(uow, user_id=user.id, role_id=role_id, gives=[
                r["permission"] for r in await uow.select(RolePermission.permission).where(
                    RolePermission.role_id == role_id)], held=())
        for role_id in [r for r in sorted(set(role_ids), key=str) if r not in held_back]:
            await record(uow, "role.granted", "user", user.id, {"role_id": role_id})
            await outbox.add(uow, "user.role_granted", "user", user.id, ("roles",))
        return await _view(uow, user.id)


async def get_user(ctx: Context, user_id: UUID) -> UserView:
    if ctx.user_id != user_id:
        require(ctx, "user.read")
    async with unit_of_work(ctx, write=False) as uow:
        return await _view(uow, user_id)


async def list_users(ctx: Context, *, first: int, after: str | None = None) -> tuple[list[UserView], bool]:
    """Users by username, a page at a time (keyset on the username)."""
    return await users_page(ctx, Window(first, after=(after,) if after else None))


async def users_page(ctx: Context, window: Window) -> tuple[list[UserView], bool]:
    """A window of users by username (unique in a tenant) and whether more lie beyond it."""
    require(ctx, "user.read")
    async with unit_of_work(ctx, write=False) as uow:
        rows, more = await keyset.fetch(uow.select(User), [User.username], window)
        return await _views(uow, rows), more


async def update_user(ctx: Context, user_id: UUID, *, display_name: str | None = None,
                      department_ids: list[UUID] | None = None) -> UserView:
    require(ctx, "user.manage")
    async with unit_of_work(ctx) as uow:
        before = await _view(uow, user_id)
        if display_name is not None:
            await uow.update(User, {User.display_name: _check_display_name(display_name)}).where(User.id == user_id)
        if department_ids is not None:
            await _set_departments(uow, user_id, department_ids)
            # a department-scoped permission of the user reaches the new department's records
            await role_service.check_department_move(ctx, uow, user_id, before.department_ids, department_ids)
        after = await _view(uow, user_id)
        changes: dict[str, tuple] = {}
        if after.display_name != before.display_name:
            changes["display_name"] = (before.display_name, after.display_name)
        if after.department_ids != before.department_ids:
            changes["department_ids"] = (list(before.department_ids), list(after.department_ids))
        if changes:
            await record(uow, "user.updated", "user", user_id, changes)
            await outbox.add(uow, "user.updated", "user", user_id, changes)
        if "department_ids" in changes:  # seed-004 CSM-22: a department change opens a permission review
            await reviews.open_review(uow, user_id, "department_changed",
                                      {"department_ids": changes["department_ids"]})
        return after


async def revoke_sessions(uow: UnitOfWork, user_id: UUID, reason: str) -> list[UUID]:
    """End every open login of the user; returns the ids of the sessions ended, for
    :func:`record_sessions_revoked`."""
    open_sessions = (AuthSession.user_id == user_id) & AuthSession.revoked_at.is_null()
    ids = sorted((r["id"] for r in await uow.select(AuthSession.id).where(open_sessions)), key=str)
    if ids:
        await uow.update(AuthSession, {AuthSession.revoked_at: now(), AuthSession.revoked_reason: reason}).where(
            AuthSession.id.is_in(ids))
    return ids


async def record_sessions_revoked(uow: UnitOfWork, user_id: UUID, session_ids: list[UUID], reason: str) -> None:
    """One ``session.revoked`` entry per session ended.

    Services write every row first and append their audit entries last: the chain head's row lock
    is then the last lock a transaction takes, so two transactions never wait on each other."""
    for session_id in session_ids:
        await record(uow, "session.revoked", "session", session_id, {"user_id": user_id, "reason": reason})


async def _store_new_password(ctx: Context, user_id: UUID, password: str, reason: str) -> None:
    """``reason`` is ``password_changed`` or ``password_reset``: the session revocation reason and
    the verb of the audit entry (``user.password_changed`` / ``user.password_reset``).

    A password set by anyone but its user must be changed at the user's next sign-in (issue 16
    point 11): until then their login can do nothing else, so whoever set it cannot use it."""
    must_change = ctx.user_id != user_id
    async with unit_of_work(ctx, write=False) as uow:
        user = await _view(uow, user_id)
        (await password_policy(uow)).check(password, username=user.username)
    password_hash = await identity().hashing.hash(password)
    unlock = reason == "password_reset" and user.status == LOCKED  # CSM-15: the reset opens it again
    async with unit_of_work(ctx) as uow:
        await uow.update(User, {User.password_hash: password_hash, User.password_changed_at: now(),
                                User.must_change_password: int(must_change),
                                **({User.status: ACTIVE} if unlock else {})}).where(User.id == user_id)
        ended = await revoke_sessions(uow, user_id, reason)
        await record(uow, f"user.{reason}", "user", user_id,
                     {"password": "changed", **({"must_change_password": True} if must_change else {}),
                      **({"status": (LOCKED, ACTIVE)} if unlock else {})})
        await record_sessions_revoked(uow, user_id, ended, reason)


async def change_password(ctx: Context, *, current_password: str, new_password: str) -> None:
    """A user changes their own password; every session of theirs ends, this one included."""
    if ctx.user_id is None:
        raise KehuError("UNAUTHENTICATED", "sign in as a user first", "请先以用户身份登录")
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(User.password_hash).where(User.id == ctx.user_id).first()
    if row is None or not await identity().hashing.verify(row["password_hash"], current_password):
        raise KehuError("INVALID_CREDENTIALS", "the current password is wrong", "当前密码错误", field="currentPassword")
    if new_password == current_password:  # "changing" a printed password to itself keeps it known
        raise KehuError("PASSWORD_UNCHANGED", "the new password must differ from the current one",
                        "新密码不能与当前密码相同", field="newPassword")
    await _store_new_password(ctx, ctx.user_id, new_password, "password_changed")


async def reset_password(ctx: Context, user_id: UUID, *, new_password: str) -> None:
    """Whoever sets a password could sign in with it: so only over a user who holds nothing the
    caller lacks (issue 16 point 1), and the user must change it at next sign-in (point 11)."""
    require(ctx, "user.manage")
    async with unit_of_work(ctx, write=False) as uow:
        if not await uow.exists(User).where(User.id == user_id):
            raise NotFound("user", user_id)
        role_service.check_no_escalation(ctx, await role_service.effective_permissions(uow, user_id),
                                         departments=await role_service.departments_of(uow, [user_id]))
    await _store_new_password(ctx, user_id, new_password, "password_reset")


MAX_CLEARANCE = 9  # the highest customer access level (core.customers.records.MAX_ACCESS_LEVEL)


async def set_clearance(ctx: Context, user_id: UUID, clearance: int) -> UserView:
    """Set the customer access level a user reads up to (seed-004 §2.2.2, CSM-20). Needs
    ``role.grant``, and nobody gives a clearance above their own: it changes who may read what."""
    require(ctx, "role.grant")
    if isinstance(clearance, bool) or not 0 <= clearance <= MAX_CLEARANCE:
        raise KehuError("FIELD_INVALID", f"clearance is a whole number from 0 to {MAX_CLEARANCE}",
                        f"密级须为 0 至 {MAX_CLEARANCE} 的整数", field="clearance")
    own = ctx.principal.clearance if ctx.principal is not None else None
    if own is not None and clearance > own:
        raise KehuError("CLEARANCE_ABOVE_OWN", "you may not give a clearance above your own",
                        "不得授予高于您本人的密级", field="clearance")
    async with unit_of_work(ctx) as uow:
        row = await uow.select(User.id, User.clearance).where(User.id == user_id).first()
        if row is None:
            raise NotFound("user", user_id)
        before = int(row["clearance"] or 0)
        if before != clearance:
            await uow.update(User, {User.clearance: clearance}).where(User.id == user_id)
            await record(uow, "user.clearance_set", "user", user_id, {"clearance": (before, clearance)})
            await outbox.add(uow, "user.updated", "user", user_id, ("clearance",))
        return await _view(uow, user_id)


async def disable_user(ctx: Context, user_id: UUID, *, successor_id: UUID | None, reason: str) -> UserView:
    """A user leaves: everything they own moves to the named successor, their sessions end."""
    require(ctx, "user.disable")
    if ctx.user_id == user_id:
        raise KehuError("CANNOT_DISABLE_SELF", "you cannot disable your own account", "不能停用自己的账号")
    if not reason.strip():
        raise KehuError("REASON_REQUIRED", "say why the account is disabled", "请填写停用原因", field="reason")
    async with unit_of_work(ctx) as uow:
        user = await _view(uow, user_id)
        if user.status == DISABLED:
            raise KehuError("USER_ALREADY_DISABLED", "the account is already disabled", "账号已停用")
        owned = await count_owned(uow, user_id)
        moving: list[tuple[str, UUID]] = []  # (record type label, record id) of what moves
        if successor_id is None:
            if owned:
                raise KehuError("SUCCESSOR_REQUIRED",
                                f"the user owns records ({', '.join(f'{k}: {v}' for k, v in owned.items())}); "
                                "name a successor", "该用户名下有记录，请指定接替人", field="successorId")
        else:
            successor = await _view(uow, successor_id)
            if successor.id == user_id or successor.status != ACTIVE:
                raise KehuError("SUCCESSOR_INVALID", "the successor must be another active user",
                                "接替人须为其他在职用户", field="successorId")
            # The ids of what moves, read before the move in the same transaction (the transfer
            # itself only reports counts).
            for kind in owned_record_types():
                if kind.label in owned:
                    column = getattr(kind.table, kind.owner_column)
                    rows = await uow.select(kind.table.id).where(column == user_id)
                    moving.extend((kind.label, r["id"]) for r in rows)
            moved = await transfer_owned(uow, user_id, successor_id)
            await uow.insert(OwnershipHandover(from_user_id=user_id, to_user_id=successor_id,
                                               moved=json.dumps(moved, sort_keys=True), reason=reason,
                                               actor=ctx.actor))
        await uow.update(User, {User.status: DISABLED, User.disabled_at: now(), User.disabled_reason: reason}).where(
            User.id == user_id)
        ended = await revoke_sessions(uow, user_id, "account_disabled")
        await record(uow, "user.disabled", "user", user_id,
                     {"status": (user.status, DISABLED), "reason": reason, "successor_id": successor_id})
        for label, record_id in sorted(moving, key=lambda m: (m[0], str(m[1]))):
            await record(uow, f"{label}.owner_changed", label, record_id, {"owner_id": (user_id, successor_id)})
        await record_sessions_revoked(uow, user_id, ended, "account_disabled")
        await outbox.add(uow, "user.disabled", "user", user_id, ("status",))
        return await _view(uow, user_id)


async def enable_user(ctx: Context, user_id: UUID) -> UserView:
    require(ctx, "user.disable")
    async with unit_of_work(ctx) as uow:
        before = await _view(uow, user_id)
        if before.status == LOCKED:  # a compromised account opens only by a password reset (CSM-15)
            raise KehuError("ACCOUNT_COMPROMISED", "this account was reported compromised: reset its password",
                            "该账号已报告失窃，请重置其密码")
        await uow.update(User, {User.status: ACTIVE, User.disabled_at: None, User.disabled_reason: None}).where(
            User.id == user_id)
        if before.status != ACTIVE:
            await record(uow, "user.enabled", "user", user_id, {"status": (before.status, ACTIVE)})
            await outbox.add(uow, "user.enabled", "user", user_id, ("status",))
        return await _view(uow, user_id)


async def handovers(ctx: Context, user_id: UUID) -> list[dict]:
    require(ctx, "user.read")
    async with unit_of_work(ctx, write=False) as uow:
        rows = await uow.select(OwnershipHandover).where(OwnershipHandover.from_user_id == user_id)
    return [{**row, "moved": json.loads(row["moved"])} for row in rows]
