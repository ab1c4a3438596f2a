"""Use cases for tenants and departments. One function per use case, each one unit of work."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from core.audit.chain import record
from core.context import Context
from core.db import unit_of_work
from core.errors import KehuError, NotFound
from core.identity import roles, users
from core.identity.access import require
from core.identity.passwords import PasswordPolicy
from core.identity.runtime import identity
from core.identity.tables import UserRole
from core.jobs import outbox
from core.tenancy.tables import Department, Tenant

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
NAME_MAX = 200


@dataclass(frozen=True, slots=True)
class TenantView:
    id: UUID
    slug: str
    name: str
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DepartmentView:
    id: UUID
    tenant_id: UUID
    parent_id: UUID | None
    name: str
    code: str | None


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > NAME_MAX:
        raise KehuError("NAME_INVALID", f"a name must have 1 to {NAME_MAX} characters",
                        f"名称须为 1 至 {NAME_MAX} 个字符", field="name")
    return cleaned


@dataclass(frozen=True, slots=True)
class TenantAdmin:
    """The first user of a new tenant (the company's founder account), holding 系统管理员 and
    总经理 so that every default role can be approved from inside the tenant."""

    username: str
    password: str
    display_name: str = "管理员"
    # True when the password is shown to someone else (``kehu tenants create`` prints it): the
    # first sign-in can then only change it (issue 16 point 11).
    must_change_password: bool = False


async def create_tenant(ctx: Context, *, slug: str, name: str, departments: tuple[str, ...] = (),
                        admin: TenantAdmin | None = None) -> TenantView:
    """Create a tenant and, in the same transaction, its default roles, first departments and
    first administrator."""
    if not ctx.is_system:
        raise KehuError("PERMISSION_DENIED", "only operators create tenants", "仅运维人员可创建租户")
    if not SLUG_PATTERN.match(slug):
        raise KehuError("TENANT_SLUG_INVALID",
                        "a tenant slug is 2-63 lowercase letters, digits or hyphens, starting with a letter",
                        "租户标识须为 2-63 个小写字母、数字或连字符，并以字母开头", field="slug")
    name = _clean_name(name)
    departments = tuple(_clean_name(d) for d in departments)
    admin_hash = None
    if admin is not None:
        PasswordPolicy().check(admin.password, username=admin.username)
        admin_hash = await identity().hashing.hash(admin.password)
    async with unit_of_work(ctx) as uow:
        if await uow.exists(Tenant).where(Tenant.slug == slug):
            raise KehuError("TENANT_SLUG_TAKEN", f"tenant {slug!r} already exists", f"租户 {slug!r} 已存在", field="slug")
        tenant = Tenant(slug=slug, name=name)
        await uow.insert(tenant)
        await uow.enter_tenant(tenant.id)  # the entries below open the new tenant's own chain
        await record(uow, "tenant.created", "tenant", tenant.id, {"slug": slug, "name": name})
        role_ids = await roles.create_default_roles(uow)
        if departments:
            rows = [Department(name=d) for d in departments]
            await uow.insert(*rows)
            for department in rows:
                await record(uow, "department.created", "department", department.id, {"name": department.name})
        if admin is not None and admin_hash is not None:
            user = await users.insert_user(uow, username=users.normalise_username(admin.username),
                                           display_name=admin.display_name, password_hash=admin_hash,
                                           must_change_password=admin.must_change_password,
                                           clearance=users.MAX_CLEARANCE)  # CSM-20: gives clearances on
            await uow.insert(*(UserRole(user_id=user.id, role_id=role_ids[name], granted_by=ctx.actor)
                               for name in roles.FOUNDER_ROLES))
            await users.record_user_created(uow, user, [])
            for role_name in roles.FOUNDER_ROLES:
                await record(uow, "role.granted", "user", user.id, {"role_id": role_ids[role_name]})
    return await get_tenant(ctx, slug)


async def get_tenant(ctx: Context, slug: str) -> TenantView:
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(Tenant).where(Tenant.slug == slug).first()
    if row is None:
        raise NotFound("tenant", slug)
    return TenantView(**{k: row[k] for k in TenantView.__slots__})


async def list_tenants(ctx: Context) -> list[TenantView]:
    async with unit_of_work(ctx, write=False) as uow:
        rows = await uow.select(Tenant).order_by(Tenant.slug)
    return [TenantView(**{k: row[k] for k in TenantView.__slots__}) for row in rows]


async def create_department(ctx: Context, *, name: str, parent_id: UUID | None = None,
                            code: str | None = None) -> DepartmentView:
    require(ctx, "department.manage")
    name = _clean_name(name)
    async with unit_of_work(ctx) as uow:
        if parent_id is not None and not await uow.exists(Department).where(Department.id == parent_id):
            raise NotFound("department", parent_id)
        department = Department(name=name, parent_id=parent_id, code=code)
        await uow.insert(department)
        await record(uow, "department.created", "department", department.id,
                     {"name": name, "parent_id": parent_id, "code": code})
        await outbox.add(uow, "department.created", "department", department.id, ("name", "parent_id", "code"))
    return DepartmentView(id=department.id, tenant_id=department.tenant_id, parent_id=parent_id,
                          name=name, code=code)


async def rename_department(ctx: Context, department_id: UUID, *, name: str) -> DepartmentView:
    require(ctx, "department.manage")
    name = _clean_name(name)
    async with unit_of_work(ctx) as uow:
        before = await uow.select(Department.name).where(Department.id == department_id).first()
        if before is None:
            raise NotFound("department", department_id)
        await uow.update(Department, {Department.name: name}).where(Department.id == department_id)
        if before["name"] != name:
            await record(uow, "department.renamed", "department", department_id, {"name": (before["name"], name)})
            await outbox.add(uow, "department.renamed", "department", department_id, ("name",))
        row = await uow.select(Department).where(Department.id == department_id).first()
    return DepartmentView(**{k: row[k] for k in DepartmentView.__slots__})


async def list_departments(ctx: Context) -> list[DepartmentView]:
    require(ctx, "department.read")
    async with unit_of_work(ctx, write=False) as uow:
        rows = await uow.select(Department).order_by(Department.name)
    return [DepartmentView(**{k: row[k] for k in DepartmentView.__slots__}) for row in rows]
