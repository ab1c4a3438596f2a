"""Roles: named by the tenant, mapping permissions to scopes; granted to users by an approver."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from core.audit.chain import record
from core.jobs import outbox
from core.context import Context
from core.db import unit_of_work
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.identity.access import require, require_different_actor
from core.identity.permissions import CORE_PERMISSIONS, Scope, catalog
from core.identity.tables import Role, RolePermission, User, UserRole

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
             "privacy.consent.manage": T, "privacy.archive.lend": T,
             "privacy.incident.manage": T,
             "privacy.export.request": T}),
    "客户总监": ("Customer director: all customer records of the tenant",
             {"customer.read": T, "customer.write": T, "customer.pii.unmask": T, "user.read": T,
              "department.read": T, "customer.transfer": T, "customer.merge": T, "customer.review": T,
              "customer.duplicate.force": T, "customer.import": T, "customer.export": T,
              "privacy.consent.manage": T, "privacy.consent.read": T, "privacy.archive.lend": T,
              "privacy.export.request": T}),
    "客服部档案管理员": ("Archive administrator of the customer-service department",
                 {"customer.read": D, "customer.write": D, "department.read": T, "customer.review": D,
                  "customer.merge": D, "privacy.consent.manage": D, "privacy.consent.read": D,
                  "privacy.archive.lend": D}),
    "销售顾问": ("Sales consultant: own customers only", {"customer.read": O, "customer.write": O}),
}
ADMIN_ROLE = "系统管理员"
FOUNDER_ROLES = (ADMIN_ROLE, "总经理")


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
        await uow.delete(RolePermission).where(RolePermission.role_id == role_id)
        await uow.delete(Role).where(Role.id == role_id)
        await record(uow, "role.deleted", "role", role_id,
                     {"name": (role.name, None), "permissions": (permission_list(role.permissions), None)})
        await outbox.add(uow, "role.deleted", "role", role_id)


def _covers(held: dict[str, Scope] | None, wanted: dict[str, Scope]) -> list[str]:
    """Permissions in ``wanted`` that ``held`` does not hold at least as broadly."""
    if held is None:
        return []
    return [p for p, s in wanted.items() if p not in held or held[p].breadth < s.breadth]


def check_no_escalation(ctx: Context, wanted: dict[str, Scope]) -> None:
    """Least privilege: nobody hands out a permission broader than they hold themselves."""
    held = None if ctx.is_system else dict(ctx.principal.permissions) if ctx.principal else {}
    missing = _covers(held, wanted)
    if missing:
        raise KehuError("PERMISSION_ESCALATION", f"you cannot grant what you do not hold: {', '.join(sorted(missing))}",
                        f"不能授予自己未持有的权限：{', '.join(sorted(missing))}")


async def grant_role(ctx: Context, *, user_id: UUID, role_id: UUID) -> None:
    """Approve a role for a user. The approver is never the grantee (separation of duties)."""
    require(ctx, "role.grant")
    require_different_actor(ctx, f"user:{user_id}", "granting a role")
    async with unit_of_work(ctx) as uow:
        role = await _get_role(uow, role_id)
        if not await uow.exists(User).where(User.id == user_id):
            raise NotFound("user", user_id)
        check_no_escalation(ctx, role.permissions)
        if not await uow.exists(UserRole).where((UserRole.user_id == user_id) & (UserRole.role_id == role_id)):
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
    """The union of a user's roles, each permission at the broadest scope any role gives it."""
    role_ids = [r["role_id"] for r in await uow.select(UserRole.role_id).where(UserRole.user_id == user_id)]
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
