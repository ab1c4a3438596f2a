"""Roles: named by the tenant, mapping permissions to scopes; granted to users by an approver.

Least privilege (issue 16 point 1): whoever creates, widens or grants a role, or moves a user into
a department, must hold at least what that gives (``check_no_escalation``); a widening of a role
its requester holds waits as a pending role change until another user who holds what it gives
approves it (``request_role_change`` / ``approve_role_change``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from core.audit.chain import record
from core.jobs import outbox
from core.context import Context
from core.db import keyset, unit_of_work
from core.db.keyset import Window
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.identity import post_grants
from core.identity.grant_hold import hold_if_high_risk
from core.identity.access import SeparationOfDuties, require, require_different_actor
from core.identity.permissions import CORE_PERMISSIONS, Scope, catalog
from core.identity.tables import ApiKey, Role, RoleChange, RolePermission, User, UserDepartment, UserRole

T = Scope.TENANT
D = Scope.DEPARTMENT
O = Scope.OWN  # noqa: E741

# A new tenant's roles, which it may edit. Names follow the seeds' own titles.
DEFAULT_ROLES: dict[str, tuple[str, dict[str, Scope]]] = {
    "系统管理员": ("System administrator: manages users, roles and settings",
              {p.name: T for p in CORE_PERMISSIONS if p.name != "customer.pii.unmask"}),
    "总经理": ("General manager: sees everything, approves permissions (including 客户总监's)",
            {"user.read": T, "role.read": T, "role.grant": T, "department.read": T, "customer.read": T,
             "customer.write": T, "customer.pii.unmask": T, "audit.read": T, "customer.transfer": T,
             "customer.merge": T, "customer.review": T, "customer.duplicate.force": T, "customer.import": T,
             "customer.export": T, "privacy.consent.read": T, "privacy.assessment.manage": T,
             "privacy.consent.manage": T, "privacy.archive.lend": T, "privacy.archive.approve": T,
             "privacy.archive.external": T, "privacy.archive.ban.lift": T,
             "privacy.incident.manage": T,
             "privacy.export.request": T}),
    "客户总监": ("Customer director: all customer records of the tenant",
             {"customer.read": T, "customer.write": T, "customer.pii.unmask": T, "user.read": T,
              "department.read": T, "customer.transfer": T, "customer.merge": T, "customer.review": T,
              "customer.duplicate.force": T, "customer.import": T, "customer.export": T,
              "privacy.consent.manage": T, "privacy.consent.read": T, "privacy.archive.lend": T,
              "privacy.archive.approve": T, "privacy.archive.external": T, "privacy.archive.ban.lift": T,
              "privacy.export.request": T}),
    "客服部档案管理员": ("Archive administrator of the customer-service department",
                 {"customer.read": D, "customer.write": D, "department.read": T, "customer.review": D,
                  "customer.merge": D, "privacy.consent.manage": D, "privacy.consent.read": D,
                  "privacy.archive.lend": D, "privacy.archive.keep": D}),
    "销售顾问": ("Sales consultant: own customers only", {"customer.read": O, "customer.write": O}),
}
ADMIN_ROLE = "系统管理员"
PENDING, APPROVED, REJECTED, CANCELLED = "pending", "approved", "rejected", "cancelled"
REASON_MAX = 2000
FOUNDER_ROLES = (ADMIN_ROLE, "总经理")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RoleView:
    id: UUID
    name: str
    description: str
    permissions: dict[str, Scope]


def _check_permissions(permissions: dict[str, Scope]) -> dict[str, Scope]:
    known = catalog()
    for name, scope in permissions.items():
        if name not in known:
            raise KehuError("UNKNOWN_PERMISSION", f"no permission named {name!r}", f"没有名为 {name!r} 的权限",
                            field="permissions")
        if not isinstance(scope, Scope):
            raise KehuError("SCOPE_INVALID", f"scope of {name} must be own, department or tenant",
                            f"{name} 的范围须为 own、department 或 tenant", field="permissions")
    return permissions


def _check_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 100:
        raise KehuError("NAME_INVALID", "a role name has 1 to 100 characters", "角色名须为 1 至 100 个字符", field="name")
    return cleaned


def permission_list(permissions: dict[str, Scope]) -> list[str]:
    """A role's permissions as the audit log shows them: sorted ``permission:scope`` strings."""
    return sorted(f"{p}:{Scope(s).value}" for p, s in permissions.items())


async def create_default_roles(uow: UnitOfWork) -> dict[str, UUID]:
    """Give a new tenant its editable default roles; returns their ids by name."""
    ids = {}
    for name, (description, permissions) in DEFAULT_ROLES.items():
        role = Role(name=name, description=description)
        await uow.insert(role)
        await uow.insert(*(RolePermission(role_id=role.id, permission=p, scope=s.value) for p, s in permissions.items()))
        ids[name] = role.id
    for name, (_, permissions) in DEFAULT_ROLES.items():
        await record(uow, "role.created", "role", ids[name],
                     {"name": name, "permissions": permission_list(permissions)})
    return ids


async def _role_views(uow: UnitOfWork, role_ids: list[UUID] | None = None) -> list[RoleView]:
    query = uow.select(Role).order_by(Role.name)
    if role_ids is not None:
        query = query.where(Role.id.is_in(role_ids)) if role_ids else None
    roles = await query if query is not None else []
    grants = await uow.select(RolePermission).where(RolePermission.role_id.is_in([r["id"] for r in roles])) if roles else []
    by_role: dict[UUID, dict[str, Scope]] = {}
    for grant in grants:
        by_role.setdefault(grant["role_id"], {})[grant["permission"]] = Scope(grant["scope"])
    return [RoleView(id=r["id"], name=r["name"], description=r["description"], permissions=by_role.get(r["id"], {}))
            for r in roles]


async def list_roles(ctx: Context) -> list[RoleView]:
    require(ctx, "role.read")
    async with unit_of_work(ctx, write=False) as uow:
        return await _role_views(uow)


async def _get_role(uow: UnitOfWork, role_id: UUID) -> RoleView:
    views = await _role_views(uow, [role_id])
    if not views:
        raise NotFound("role", role_id)
    return views[0]


async def create_role(ctx: Context, *, name: str, description: str = "", permissions: dict[str, Scope]) -> RoleView:
    require(ctx, "role.manage")
    name = _check_name(name)
    _check_permissions(permissions)
    check_no_escalation(ctx, permissions, field="permissions")  # a new role has no holders yet: breadth is all there is
    async with unit_of_work(ctx) as uow:
        if await uow.exists(Role).where(Role.name == name):
            raise KehuError("ROLE_NAME_TAKEN", f"a role named {name!r} exists", f"角色 {name!r} 已存在", field="name")
        role = Role(name=name, description=description)
        await uow.insert(role)
        if permissions:
            await uow.insert(*(RolePermission(role_id=role.id, permission=p, scope=s.value) for p, s in permissions.items()))
        await record(uow, "role.created", "role", role.id, {"name": name, "permissions": permission_list(permissions)})
        await outbox.add(uow, "role.created", "role", role.id, ("name", "description", "permissions"))
        return await _get_role(uow, role.id)


async def update_role(ctx: Context, role_id: UUID, *, name: str | None = None, description: str | None = None,
                      permissions: dict[str, Scope] | None = None) -> RoleView:
    require(ctx, "role.manage")
    async with unit_of_work(ctx) as uow:
        before = await _get_role(uow, role_id)
        changes = {}
        if name is not None:
            name = _check_name(name)
            if await uow.exists(Role).where((Role.name == name) & (Role.id != role_id)):
                raise KehuError("ROLE_NAME_TAKEN", f"a role named {name!r} exists", f"角色 {name!r} 已存在", field="name")
            changes[Role.name] = name
        if description is not None:
            changes[Role.description] = description
        if permissions is not None:
            _check_permissions(permissions)
            await _check_widening(ctx, uow, role_id, before.permissions, permissions)
        if changes:
            await uow.update(Role, changes).where(Role.id == role_id)
        if permissions is not None:
            await uow.delete(RolePermission).where(RolePermission.role_id == role_id)
            if permissions:
                await uow.insert(*(RolePermission(role_id=role_id, permission=p, scope=s.value)
                                   for p, s in permissions.items()))
        after = await _get_role(uow, role_id)
        diff: dict[str, tuple] = {}
        if after.name != before.name:
            diff["name"] = (before.name, after.name)
        if after.description != before.description:
            diff["description"] = (before.description, after.description)
        if after.permissions != before.permissions:
            diff["permissions"] = (permission_list(before.permissions), permission_list(after.permissions))
        if diff:
            await record(uow, "role.updated", "role", role_id, diff)
            await outbox.add(uow, "role.updated", "role", role_id, diff)
        return after


async def delete_role(ctx: Context, role_id: UUID) -> None:
    require(ctx, "role.manage")
    async with unit_of_work(ctx) as uow:
        role = await _get_role(uow, role_id)
        if await uow.exists(UserRole).where(UserRole.role_id == role_id):
            raise KehuError("ROLE_IN_USE", "revoke the role from its users first", "请先从用户撤销该角色")
        pending = (RoleChange.role_id == role_id) & (RoleChange.state == PENDING)
        cancelled = sorted((r["id"] for r in await uow.select(RoleChange.id).where(pending)), key=str)
        if cancelled:  # nothing left to approve them against
            await uow.update(RoleChange, {RoleChange.state: CANCELLED, RoleChange.decided_by: ctx.actor,
                                          RoleChange.decided_at: _now()}).where(pending)
        await uow.delete(RolePermission).where(RolePermission.role_id == role_id)
        await uow.delete(Role).where(Role.id == role_id)
        await record(uow, "role.deleted", "role", role_id,
                     {"name": (role.name, None), "permissions": (permission_list(role.permissions), None)})
        for change_id in cancelled:
            await record(uow, "role.change_cancelled", "role_change", change_id, {"state": (PENDING, CANCELLED)})
        await outbox.add(uow, "role.deleted", "role", role_id)


def _covers(held: dict[str, Scope] | None, wanted: dict[str, Scope]) -> list[str]:
    """Permissions in ``wanted`` that ``held`` does not hold at least as broadly."""
    if held is None:
        return []
    return [p for p, s in wanted.items() if p not in held or held[p].breadth < s.breadth]


def check_no_escalation(ctx: Context, wanted: dict[str, Scope], *, departments: Iterable[UUID] | None = None,
                        field: str | None = None) -> None:
    """Least privilege: nobody hands out a permission broader than they hold themselves.

    ``departments``: those of the users who get ``wanted``. A department-scoped permission reaches
    the records of its holder's departments, so a caller who holds it only for their own
    departments may hand it only to users of those departments (else they would open records to
    someone that they cannot reach themselves)."""
    held = None if ctx.is_system else dict(ctx.principal.permissions) if ctx.principal else {}
    missing = _covers(held, wanted)
    if held is not None and departments is not None:
        mine = ctx.principal.department_ids if ctx.principal else frozenset()
        if set(departments) - set(mine):
            missing += [p for p, s in wanted.items()
                        if s is Scope.DEPARTMENT and held.get(p) is Scope.DEPARTMENT and p not in missing]
    if missing:
        raise KehuError("PERMISSION_ESCALATION", f"you cannot grant what you do not hold: {', '.join(sorted(missing))}",
                        f"不能授予自己未持有的权限：{', '.join(sorted(missing))}", field=field)


def widened(before: dict[str, Scope], after: dict[str, Scope]) -> dict[str, Scope]:
    """What ``after`` gives that ``before`` does not: new permissions and broader scopes."""
    return {p: s for p, s in after.items() if p not in before or before[p].breadth < s.breadth}


async def holders(uow: UnitOfWork, role_id: UUID) -> list[UUID]:
    return [r["user_id"] for r in await uow.select(UserRole.user_id).where(UserRole.role_id == role_id)]


async def departments_of(uow: UnitOfWork, user_ids: Iterable[UUID]) -> set[UUID]:
    ids = list(user_ids)
    if not ids:
        return set()
    return {r["department_id"] for r in await uow.select(UserDepartment.department_id).where(
        UserDepartment.user_id.is_in(ids))}


async def acting_as(uow: UnitOfWork, ctx: Context) -> set[str]:
    """Who ``ctx`` acts for: its actor and, for an API key, the user who created the key (a key
    is its creator's: it may not approve its creator's request, nor widen its creator's role)."""
    actors = {ctx.actor}
    if ctx.principal is not None and ctx.principal.api_key_id is not None:
        key = await uow.select(ApiKey.created_by).where(ApiKey.id == ctx.principal.api_key_id).first()
        if key is not None:
            actors.add(key["created_by"])
    return actors


async def _check_widening(ctx: Context, uow: UnitOfWork, role_id: UUID, before: dict[str, Scope],
                          after: dict[str, Scope]) -> None:
    """A direct edit may widen a role only for others: what it adds, the caller holds (over the
    holders' departments), and the caller does not hold the role (that needs a second person)."""
    gives = widened(before, after)
    if not gives or ctx.is_system:
        return
    users = await holders(uow, role_id)
    if {f"user:{u}" for u in users} & await acting_as(uow, ctx):
        raise KehuError("ROLE_CHANGE_NEEDS_APPROVAL",
                        "you hold this role: widening it needs another user's approval (roleChangeRequest)",
                        "您持有此角色：扩大其权限须经他人审批（roleChangeRequest）", field="permissions")
    check_no_escalation(ctx, gives, departments=await departments_of(uow, users), field="permissions")


async def check_department_move(ctx: Context, uow: UnitOfWork, user_id: UUID, before: Iterable[UUID],
                                after: Iterable[UUID]) -> None:
    """Moving a user into a department widens every department-scoped permission they hold to
    that department's records: the caller must reach those records with the same permissions."""
    added = set(after) - set(before)
    if not added:
        return
    scoped = {p: s for p, s in (await effective_permissions(uow, user_id)).items() if s is Scope.DEPARTMENT}
    if scoped and ctx.principal is not None and ctx.principal.api_key_id is not None \
            and f"user:{user_id}" in await acting_as(uow, ctx):
        # a key holds its permissions tenant-wide: it would cover its own creator's move
        raise SeparationOfDuties("moving yourself into a department")
    check_no_escalation(ctx, scoped, departments=added, field="departmentIds")


async def grant_role(ctx: Context, *, user_id: UUID, role_id: UUID) -> None:
    """Approve a role for a user. The approver is never the grantee (separation of duties)."""
    require(ctx, "role.grant")
    require_different_actor(ctx, f"user:{user_id}", "granting a role")
    async with unit_of_work(ctx) as uow:
        if f"user:{user_id}" in await acting_as(uow, ctx):  # nor with a key of their own
            raise SeparationOfDuties("granting a role")
        role = await _get_role(uow, role_id)
        if not await uow.exists(User).where(User.id == user_id):
            raise NotFound("user", user_id)
        check_no_escalation(ctx, role.permissions, departments=await departments_of(uow, [user_id]))
        if not await uow.exists(UserRole).where((UserRole.user_id == user_id) & (UserRole.role_id == role_id)):
            if await hold_if_high_risk(uow, user_id=user_id, role_id=role_id, gives=role.permissions,
                                       held=await effective_permissions(uow, user_id)):
                return  # seed-004 CSM-21: pending until a department head approves (core.identity.grants)
            await uow.insert(UserRole(user_id=user_id, role_id=role_id, granted_by=ctx.actor))
            await record(uow, "role.granted", "user", user_id, {"role_id": role_id})
            await outbox.add(uow, "user.role_granted", "user", user_id, ("roles",))


async def revoke_role(ctx: Context, *, user_id: UUID, role_id: UUID) -> None:
    require(ctx, "role.grant")
    async with unit_of_work(ctx) as uow:
        await _get_role(uow, role_id)
        held = (UserRole.user_id == user_id) & (UserRole.role_id == role_id)
        if await uow.exists(UserRole).where(held):
            await uow.delete(UserRole).where(held)
            await record(uow, "role.revoked", "user", user_id, {"role_id": role_id})
            await outbox.add(uow, "user.role_revoked", "user", user_id, ("roles",))


async def effective_permissions(uow: UnitOfWork, user_id: UUID) -> dict[str, Scope]:
    """The union of a user's roles (and the roles delegated to them for now, A/B posts), each permission
    at the broadest scope any role gives it."""
    role_ids = [r["role_id"] for r in await uow.select(UserRole.role_id).where(UserRole.user_id == user_id)]
    role_ids += await post_grants.delegated_role_ids(uow, user_id)  # A/B posts: roles delegated to them now
    if not role_ids:
        return {}
    merged: dict[str, Scope] = {}
    for grant in await uow.select(RolePermission.permission, RolePermission.scope).where(
            RolePermission.role_id.is_in(role_ids)):
        scope = Scope(grant["scope"])
        current = merged.get(grant["permission"])
        if current is None or scope.breadth > current.breadth:
            merged[grant["permission"]] = scope
    return merged


# Pending role changes --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RoleChangeView:
    id: UUID
    role_id: UUID
    requested_by: str
    requested_at: datetime
    base_permissions: dict[str, Scope]  # the role's permissions when the change was asked for
    permissions: dict[str, Scope]  # the role's whole permission set once approved
    reason: str
    state: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None


def _dump(permissions: dict[str, Scope]) -> str:
    return json.dumps({p: Scope(s).value for p, s in permissions.items()}, sort_keys=True)


def _load_permissions(text: str) -> dict[str, Scope]:
    return {p: Scope(s) for p, s in json.loads(text).items()}


def _change_view(row: dict) -> RoleChangeView:
    return RoleChangeView(id=row["id"], role_id=row["role_id"], requested_by=row["requested_by"],
                          requested_at=row["created_at"], base_permissions=_load_permissions(row["base_permissions"]),
                          permissions=_load_permissions(row["permissions"]), reason=row["reason"], state=row["state"],
                          decided_by=row["decided_by"], decided_at=row["decided_at"],
                          decision_reason=row["decision_reason"])


def _reason(reason: str) -> str:
    cleaned = " ".join((reason or "").split())
    if len(cleaned) > REASON_MAX:
        raise KehuError("REASON_TOO_LONG", f"a reason has at most {REASON_MAX} characters",
                        f"原因最多 {REASON_MAX} 个字符", field="reason")
    return cleaned


async def _load_change(uow: UnitOfWork, change_id: UUID) -> dict:
    row = await uow.select(RoleChange).where(RoleChange.id == change_id).first()
    if row is None:
        raise NotFound("role change", change_id)
    return row


async def request_role_change(ctx: Context, role_id: UUID, *, permissions: dict[str, Scope],
                              reason: str = "") -> RoleChangeView:
    """Ask for a role's permissions to become ``permissions``. Nothing changes until another user
    approves; the requester need not hold what it gives (the approver must)."""
    require(ctx, "role.manage")
    _check_permissions(permissions)
    reason = _reason(reason)
    async with unit_of_work(ctx) as uow:
        role = await _get_role(uow, role_id)
        if role.permissions == permissions:
            raise KehuError("ROLE_CHANGE_EMPTY", "the role already has exactly these permissions",
                            "该角色已具有这些权限", field="permissions")
        change = RoleChange(role_id=role_id, requested_by=ctx.actor, base_permissions=_dump(role.permissions),
                            permissions=_dump(permissions), reason=reason, state=PENDING)
        await uow.insert(change)
        await record(uow, "role.change_requested", "role_change", change.id,
                     {"role_id": role_id, "permissions": (permission_list(role.permissions),
                                                          permission_list(permissions)), "reason": reason})
        await outbox.add(uow, "role.change_requested", "role_change", change.id, ("state",))
        return _change_view(await _load_change(uow, change.id))


async def approve_role_change(ctx: Context, change_id: UUID) -> RoleChangeView:
    """Apply a pending change: by a person with ``role.grant`` who is not the requester (nor a key
    of the requester's) and who holds what the change gives, over its holders' departments. A
    role edited since the request makes the change stale: ask again."""
    require(ctx, "role.grant")
    if not ctx.is_system and ctx.user_id is None:
        raise KehuError("APPROVAL_BY_USER_ONLY", "a person approves role changes, not an API key",
                        "角色变更须由用户本人审批，不能使用 API 密钥", field="id")
    async with unit_of_work(ctx) as uow:
        row = await _load_change(uow, change_id)
        if row["state"] != PENDING:
            raise KehuError("ROLE_CHANGE_DECIDED", f"the role change is already {row['state']}",
                            "该角色变更已处理", field="id")
        if row["requested_by"] in await acting_as(uow, ctx):
            raise SeparationOfDuties("approving a role change")
        role = await _get_role(uow, row["role_id"])
        if role.permissions != _load_permissions(row["base_permissions"]):
            raise KehuError("ROLE_CHANGE_STALE", "the role changed since this was asked for; ask again",
                            "申请后角色已被修改，请重新申请", field="id")
        permissions = _load_permissions(row["permissions"])
        gives = widened(role.permissions, permissions)
        check_no_escalation(ctx, gives, departments=await departments_of(uow, await holders(uow, role.id)))
        await uow.delete(RolePermission).where(RolePermission.role_id == role.id)
        if permissions:
            await uow.insert(*(RolePermission(role_id=role.id, permission=p, scope=s.value)
                               for p, s in permissions.items()))
        await uow.update(RoleChange, {RoleChange.state: APPROVED, RoleChange.decided_by: ctx.actor,
                                      RoleChange.decided_at: _now()}).where(RoleChange.id == change_id)
        diff = {"permissions": (permission_list(role.permissions), permission_list(permissions))}
        await record(uow, "role.change_approved", "role_change", change_id,
                     {"state": (PENDING, APPROVED), "role_id": role.id, "requested_by": row["requested_by"]})
        await record(uow, "role.updated", "role", role.id, {**diff, "role_change_id": change_id})
        await outbox.add(uow, "role.change_approved", "role_change", change_id, ("state",))
        await outbox.add(uow, "role.updated", "role", role.id, ("permissions",))
        return _change_view(await _load_change(uow, change_id))


async def reject_role_change(ctx: Context, change_id: UUID, *, reason: str = "") -> RoleChangeView:
    """Refuse a pending change (``role.grant``), or withdraw one's own request; the role stays."""
    reason = _reason(reason)
    if "role.grant" not in (ctx.principal.permissions if ctx.principal else {}):
        require(ctx, "role.manage")  # before any read: without either, not even whether it exists
    async with unit_of_work(ctx) as uow:
        row = await _load_change(uow, change_id)
        if row["requested_by"] not in await acting_as(uow, ctx):
            require(ctx, "role.grant")
        if row["state"] != PENDING:
            raise KehuError("ROLE_CHANGE_DECIDED", f"the role change is already {row['state']}",
                            "该角色变更已处理", field="id")
        await uow.update(RoleChange, {RoleChange.state: REJECTED, RoleChange.decided_by: ctx.actor,
                                      RoleChange.decided_at: _now(), RoleChange.decision_reason: reason}).where(
            RoleChange.id == change_id)
        await record(uow, "role.change_rejected", "role_change", change_id,
                     {"state": (PENDING, REJECTED), "role_id": row["role_id"], "reason": reason})
        await outbox.add(uow, "role.change_rejected", "role_change", change_id, ("state",))
        return _change_view(await _load_change(uow, change_id))


async def list_role_changes(ctx: Context, *, state: str | None = None, first: int = 100) -> list[RoleChangeView]:
    """Role changes, newest first (``role.read``); ``state`` filters (pending, approved, …)."""
    require(ctx, "role.read")
    async with unit_of_work(ctx, write=False) as uow:
        query = _role_changes_query(uow, state).order_by(*_CHANGE_ORDER, ascending=False).limit(first)
        return [_change_view(row) for row in await query]


_CHANGE_ORDER = (RoleChange.created_at, RoleChange.id)


def _role_changes_query(uow: UnitOfWork, state: str | None) -> Any:
    if state is not None and state not in (PENDING, APPROVED, REJECTED, CANCELLED):
        raise KehuError("STATE_INVALID", "state is pending, approved, rejected or cancelled",
                        "状态须为 pending、approved、rejected 或 cancelled", field="state")
    query = uow.select(RoleChange)
    return query.where(RoleChange.state == state) if state is not None else query


async def role_changes_page(ctx: Context, window: Window, *,
                            state: str | None = None) -> tuple[list[RoleChangeView], bool]:
    """A window of the role changes (keyset on created_at, id, newest first; the state filter in
    the query) and whether more lie beyond it."""
    require(ctx, "role.read")
    async with unit_of_work(ctx, write=False) as uow:
        rows, more = await keyset.fetch(_role_changes_query(uow, state), _CHANGE_ORDER, window, descending=True)
    return [_change_view(row) for row in rows], more
