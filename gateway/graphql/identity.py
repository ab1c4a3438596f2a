"""GraphQL for identity and access. Resolvers only translate: every rule lives in core."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.types import Info

from core.identity import api_keys, policies, roles, sessions, users
from core.identity.access import require
from core.identity.permissions import Scope, catalog
from core.tenancy import service as tenancy
from gateway.graphql.common import (
    Connection,
    Node,
    UserError,
    ctx_of,
    keyset_connection,
    list_connection,
    mutate,
    node_loader,
    page_request,
    parse_id,
    time_id_key,
)


@strawberry.enum(description="Over which records a permission holds.")
class PermissionScope(Enum):
    OWN = "own"
    DEPARTMENT = "department"
    TENANT = "tenant"


@strawberry.type
class Grant:
    permission: str
    scope: PermissionScope


@strawberry.type
class Permission:
    name: str
    description_en: str
    description_zh: str


@strawberry.type
class Role:
    id: strawberry.ID
    name: str
    description: str
    permissions: list[Grant]

    @classmethod
    def of(cls, view: roles.RoleView) -> Role:
        return cls(id=strawberry.ID(str(view.id)), name=view.name, description=view.description,
                   permissions=[Grant(permission=p, scope=PermissionScope(s.value))
                                for p, s in sorted(view.permissions.items())])


@strawberry.enum(description="Where a requested role change stands.")
class RoleChangeState(Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


@strawberry.type(description="A requested change of a role's permissions; applied only when another user "
                             "who holds what it gives approves it.")
class RoleChange:
    id: strawberry.ID
    role_id: strawberry.ID
    requested_by: str
    requested_at: datetime
    previous_permissions: list[Grant] = strawberry.field(description="The role's permissions when it was asked for.")
    permissions: list[Grant] = strawberry.field(description="The role's whole permission set once approved.")
    reason: str
    state: RoleChangeState
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None

    @classmethod
    def of(cls, view: roles.RoleChangeView) -> RoleChange:
        def grants(permissions: dict[str, Scope]) -> list[Grant]:
            return [Grant(permission=p, scope=PermissionScope(s.value)) for p, s in sorted(permissions.items())]
        return cls(id=strawberry.ID(str(view.id)), role_id=strawberry.ID(str(view.role_id)),
                   requested_by=view.requested_by, requested_at=view.requested_at,
                   previous_permissions=grants(view.base_permissions), permissions=grants(view.permissions),
                   reason=view.reason, state=RoleChangeState(view.state), decided_by=view.decided_by,
                   decided_at=view.decided_at, decision_reason=view.decision_reason)


@strawberry.type
class Department:
    id: strawberry.ID
    name: str
    code: str | None
    parent_id: strawberry.ID | None

    @classmethod
    def of(cls, view: tenancy.DepartmentView) -> Department:
        return cls(id=strawberry.ID(str(view.id)), name=view.name, code=view.code,
                   parent_id=strawberry.ID(str(view.parent_id)) if view.parent_id else None)


@strawberry.type
class User(Node):
    id: strawberry.ID
    username: str
    display_name: str
    employee_no: str | None
    status: str
    department_ids: list[strawberry.ID]
    role_ids: list[strawberry.ID]
    last_login_at: datetime | None
    password_changed_at: datetime
    clearance: int = strawberry.field(description="The highest customer access level the user reads (CSM-20)")

    @classmethod
    def of(cls, view: users.UserView) -> User:
        return cls(id=strawberry.ID(str(view.id)), username=view.username, display_name=view.display_name,
                   employee_no=view.employee_no, status=view.status,
                   department_ids=[strawberry.ID(str(d)) for d in view.department_ids],
                   role_ids=[strawberry.ID(str(r)) for r in view.role_ids], last_login_at=view.last_login_at,
                   password_changed_at=view.password_changed_at, clearance=view.clearance)



@strawberry.type
class ApiKey:
    id: strawberry.ID
    name: str
    hint: str
    permissions: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, view: api_keys.ApiKeyView) -> ApiKey:
        return cls(id=strawberry.ID(str(view.id)), name=view.name, hint=view.hint, permissions=list(view.permissions),
                   created_by=view.created_by, created_at=view.created_at, expires_at=view.expires_at,
                   last_used_at=view.last_used_at, revoked_at=view.revoked_at)


@strawberry.type(description="Who is calling: a user, or an integrator's API key.")
class Viewer:
    tenant_id: strawberry.ID
    user: User | None
    api_key_id: strawberry.ID | None
    permissions: list[Grant]


@strawberry.type
class IdentityPolicy:
    password_min_length: int
    password_require_letters_digits_symbols: bool
    password_reject_common: bool
    password_max_age_days: int | None
    lockout_max_failures_per_account: int
    lockout_max_failures_per_address: int
    lockout_window_minutes: int
    lockout_minutes: int

    @classmethod
    def of(cls, password: policies.PasswordPolicy, lockout: policies.LockoutPolicy) -> IdentityPolicy:
        return cls(password_min_length=password.min_length,
                   password_require_letters_digits_symbols=password.require_letters_digits_symbols,
                   password_reject_common=password.reject_common, password_max_age_days=password.max_age_days,
                   lockout_max_failures_per_account=lockout.max_failures_per_account,
                   lockout_max_failures_per_address=lockout.max_failures_per_address,
                   lockout_window_minutes=lockout.window_minutes, lockout_minutes=lockout.lock_minutes)


# Inputs -----------------------------------------------------------------------------------------

@strawberry.input
class GrantInput:
    permission: str
    scope: PermissionScope


@strawberry.input
class UserCreateInput:
    username: str
    display_name: str
    password: str
    employee_no: str | None = None
    department_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    role_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input
class RoleInput:
    name: str | None = None
    description: str | None = None
    permissions: list[GrantInput] | None = None


@strawberry.input
class IdentityPolicyInput:
    password_min_length: int | None = None
    password_require_letters_digits_symbols: bool | None = None
    password_reject_common: bool | None = None
    password_max_age_days: int | None = None
    lockout_max_failures_per_account: int | None = None
    lockout_max_failures_per_address: int | None = None
    lockout_window_minutes: int | None = None
    lockout_minutes: int | None = None


# Payloads ---------------------------------------------------------------------------------------

@strawberry.type
class LoginPayload:
    access_token: str | None = None
    refresh_token: str | None = None
    access_expires_at: datetime | None = strawberry.field(default=None, description="When the access token expires.")
    must_change_password: bool = False
    totp_enrolment_required: bool = strawberry.field(
        default=False, description="The tenant requires a second factor this user has not enrolled: this login may "
                                   "only enrol (totpEnrolmentStart, totpEnrolmentConfirm), then sign in again with a code.")
    errors: list[UserError]


@strawberry.type
class OkPayload:
    ok: bool = False
    errors: list[UserError]


@strawberry.type
class UserPayload:
    user: User | None = None
    errors: list[UserError]


@strawberry.type
class RolePayload:
    role: Role | None = None
    errors: list[UserError]


@strawberry.type
class RoleChangePayload:
    change: RoleChange | None = None
    errors: list[UserError]


@strawberry.type
class DepartmentPayload:
    department: Department | None = None
    errors: list[UserError]


@strawberry.type
class ApiKeyPayload:
    api_key: ApiKey | None = None
    errors: list[UserError]


@strawberry.type(description="The secret is shown here once; kehu keeps only its hash.")
class ApiKeyCreatePayload:
    api_key: ApiKey | None = None
    secret: str | None = None
    errors: list[UserError]


@strawberry.type
class IdentityPolicyPayload:
    policy: IdentityPolicy | None = None
    errors: list[UserError]


def _tokens(tokens: sessions.Tokens) -> dict:
    return {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
            "access_expires_at": datetime.fromtimestamp(tokens.access_expires_at, UTC),
            "must_change_password": tokens.must_change_password,
            "totp_enrolment_required": tokens.totp_enrolment_required}


def _grants(items: list[GrantInput]) -> dict[str, Scope]:
    return {g.permission: Scope(g.scope.value) for g in items}


def _policy_parts(data: IdentityPolicyInput, current: tuple) -> tuple[dict | None, dict | None]:
    password, lockout = current
    password_map = dict(password.to_mapping())
    lockout_map = dict(lockout.to_mapping())
    names = {
        "password_min_length": (password_map, "min_length"),
        "password_require_letters_digits_symbols": (password_map, "require_letters_digits_symbols"),
        "password_reject_common": (password_map, "reject_common"),
        "password_max_age_days": (password_map, "max_age_days"),
        "lockout_max_failures_per_account": (lockout_map, "max_failures_per_account"),
        "lockout_max_failures_per_address": (lockout_map, "max_failures_per_address"),
        "lockout_window_minutes": (lockout_map, "window_minutes"),
        "lockout_minutes": (lockout_map, "lock_minutes"),
    }
    for attribute, (target, key) in names.items():
        value = getattr(data, attribute)
        if value is not None:
            target[key] = value
    return password_map, lockout_map


# Root fields ------------------------------------------------------------------------------------

@node_loader("User")
async def _user(info: Info, user_id: UUID) -> User:
    return User.of(await users.get_user(ctx_of(info), user_id))


@strawberry.type
class IdentityQuery:
    @strawberry.field(description="The caller: the signed-in user or the API key.")
    async def me(self, info: Info) -> Viewer:
        ctx = ctx_of(info)
        principal = ctx.principal
        if principal is None:
            require(ctx, "user.read")  # raises UNAUTHENTICATED for anonymous callers
        assert principal is not None
        user = User.of(await users.get_user(ctx, principal.user_id)) if principal.user_id else None
        return Viewer(tenant_id=strawberry.ID(str(principal.tenant_id)), user=user,
                      api_key_id=strawberry.ID(str(principal.api_key_id)) if principal.api_key_id else None,
                      permissions=[Grant(permission=p, scope=PermissionScope(s.value))
                                   for p, s in sorted(principal.permissions.items())])

    @strawberry.field(description="Users by username.")
    async def users(self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
                    before: str | None = None) -> Connection[User]:
        request = page_request(info, "users", first, after, last, before)
        views, more = await users.users_page(ctx_of(info), request.window(lambda key: (str(key[0]),)))
        return keyset_connection(request, views, more, lambda v: [v.username], User.of)

    @strawberry.field
    async def user(self, info: Info, id: strawberry.ID) -> User:
        return await _user(info, parse_id(id, "id"))

    @strawberry.field(description="The tenant's roles, by name.")
    async def roles(self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
                    before: str | None = None) -> Connection[Role]:
        request = page_request(info, "roles", first, after, last, before)
        return list_connection(request, await roles.list_roles(ctx_of(info)), lambda v: [v.id], Role.of)

    @strawberry.field(description="Requested role changes, newest first.")
    async def role_changes(self, info: Info, state: RoleChangeState | None = None, first: int | None = None,
                           after: str | None = None, last: int | None = None,
                           before: str | None = None) -> Connection[RoleChange]:
        request = page_request(info, "roleChanges", first, after, last, before)
        views, more = await roles.role_changes_page(ctx_of(info), request.window(time_id_key),
                                                    state=state.value if state else None)
        return keyset_connection(request, views, more, lambda v: [v.requested_at, v.id], RoleChange.of)

    @strawberry.field(description="Every permission roles may grant: core's and the verticals'.")
    def permissions(self, info: Info) -> list[Permission]:
        require(ctx_of(info), "role.read")
        return [Permission(name=p.name, description_en=p.description_en, description_zh=p.description_zh)
                for p in catalog().permissions]

    @strawberry.field
    async def departments(self, info: Info, first: int | None = None, after: str | None = None,
                          last: int | None = None, before: str | None = None) -> Connection[Department]:
        request = page_request(info, "departments", first, after, last, before)
        return list_connection(request, await tenancy.list_departments(ctx_of(info)), lambda v: [v.id],
                               Department.of)

    @strawberry.field
    async def api_keys(self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
                       before: str | None = None) -> Connection[ApiKey]:
        request = page_request(info, "apiKeys", first, after, last, before)
        return list_connection(request, await api_keys.list_api_keys(ctx_of(info)), lambda v: [v.id], ApiKey.of)

    @strawberry.field
    async def identity_policy(self, info: Info) -> IdentityPolicy:
        return IdentityPolicy.of(*await policies.read_identity_policy(ctx_of(info)))


@strawberry.type
class IdentityMutation:
    @strawberry.mutation(description="Sign in to a tenant (its slug) with username and password.")
    async def login(self, info: Info, tenant: str, username: str, password: str,
                    totp_code: Annotated[str | None, strawberry.argument(
                        description="The 6-digit code of the authenticator app, or a recovery code, for a user "
                                    "with a second factor.")] = None,
                    challenge_id: Annotated[str | None, strawberry.argument(
                        description="After repeated failures: the id signInChallenge gave.")] = None,
                    challenge_answer: Annotated[str | None, strawberry.argument(
                        description="After repeated failures: the answer to its question.")] = None) -> LoginPayload:
        return await mutate(info, LoginPayload, lambda: _login(info, tenant, username, password, totp_code,
                                                              challenge_id, challenge_answer))

    @strawberry.mutation(description="Trade a refresh token for new tokens; each refresh token works once.")
    async def token_refresh(self, info: Info, refresh_token: str) -> LoginPayload:
        async def call() -> dict:
            return _tokens(await sessions.refresh(ctx_of(info), refresh_token=refresh_token))
        return await mutate(info, LoginPayload, call)

    @strawberry.mutation(description="End this login: its access and refresh tokens stop working at once.")
    async def logout(self, info: Info) -> OkPayload:
        async def call() -> dict:
            await sessions.logout(ctx_of(info))
            return {"ok": True}
        return await mutate(info, OkPayload, call)

    @strawberry.mutation(description="Change your own password; every login of yours ends.")
    async def password_change(self, info: Info, current_password: str, new_password: str) -> OkPayload:
        async def call() -> dict:
            await users.change_password(ctx_of(info), current_password=current_password, new_password=new_password)
            return {"ok": True}
        return await mutate(info, OkPayload, call)

    @strawberry.mutation
    async def user_create(self, info: Info, input: UserCreateInput) -> UserPayload:
        async def call() -> dict:
            view = await users.create_user(
                ctx_of(info), username=input.username, display_name=input.display_name, password=input.password,
                employee_no=input.employee_no, department_ids=[parse_id(d, "departmentIds") for d in input.department_ids],
                role_ids=[parse_id(r, "roleIds") for r in input.role_ids])
            return {"user": User.of(view)}
        return await mutate(info, UserPayload, call)

    @strawberry.mutation
    async def user_update(self, info: Info, id: strawberry.ID, display_name: str | None = None,
                          department_ids: list[strawberry.ID] | None = None) -> UserPayload:
        async def call() -> dict:
            departments = [parse_id(d, "departmentIds") for d in department_ids] if department_ids is not None else None
            return {"user": User.of(await users.update_user(ctx_of(info), parse_id(id, "id"),
                                                            display_name=display_name, department_ids=departments))}
        return await mutate(info, UserPayload, call)

    @strawberry.mutation(description="Set a user's password (an administrator); their logins end.")
    async def user_password_reset(self, info: Info, id: strawberry.ID, new_password: str) -> OkPayload:
        async def call() -> dict:
            await users.reset_password(ctx_of(info), parse_id(id, "id"), new_password=new_password)
            return {"ok": True}
        return await mutate(info, OkPayload, call)

    @strawberry.mutation(description="A user leaves: hand everything they own to a successor, end their logins.")
    async def user_disable(self, info: Info, id: strawberry.ID, reason: str,
                           successor_id: strawberry.ID | None = None) -> UserPayload:
        async def call() -> dict:
            successor = parse_id(successor_id, "successorId") if successor_id is not None else None
            return {"user": User.of(await users.disable_user(ctx_of(info), parse_id(id, "id"),
                                                             successor_id=successor, reason=reason))}
        return await mutate(info, UserPayload, call)

    @strawberry.mutation(description="Set the customer access level (0-9) a user reads up to; needs role.grant and "
                                     "a clearance of your own at least as high (seed-004 CSM-20).")
    async def user_clearance_set(self, info: Info, id: strawberry.ID, clearance: int) -> UserPayload:
        async def call() -> dict:
            return {"user": User.of(await users.set_clearance(ctx_of(info), parse_id(id, "id"), clearance))}
        return await mutate(info, UserPayload, call)

    @strawberry.mutation
    async def user_enable(self, info: Info, id: strawberry.ID) -> UserPayload:
        async def call() -> dict:
            return {"user": User.of(await users.enable_user(ctx_of(info), parse_id(id, "id")))}
        return await mutate(info, UserPayload, call)

    @strawberry.mutation
    async def role_create(self, info: Info, input: RoleInput) -> RolePayload:
        async def call() -> dict:
            view = await roles.create_role(ctx_of(info), name=input.name or "", description=input.description or "",
                                           permissions=_grants(input.permissions or []))
            return {"role": Role.of(view)}
        return await mutate(info, RolePayload, call)

    @strawberry.mutation
    async def role_update(self, info: Info, id: strawberry.ID, input: RoleInput) -> RolePayload:
        async def call() -> dict:
            grants = _grants(input.permissions) if input.permissions is not None else None
            return {"role": Role.of(await roles.update_role(ctx_of(info), parse_id(id, "id"), name=input.name,
                                                            description=input.description, permissions=grants))}
        return await mutate(info, RolePayload, call)

    @strawberry.mutation
    async def role_delete(self, info: Info, id: strawberry.ID) -> OkPayload:
        async def call() -> dict:
            await roles.delete_role(ctx_of(info), parse_id(id, "id"))
            return {"ok": True}
        return await mutate(info, OkPayload, call)

    @strawberry.mutation(description="Ask for a role's permissions to become this set (e.g. widening a role you "
                                     "hold); nothing changes until another user approves.")
    async def role_change_request(self, info: Info, role_id: strawberry.ID, permissions: list[GrantInput],
                                  reason: str = "") -> RoleChangePayload:
        async def call() -> dict:
            view = await roles.request_role_change(ctx_of(info), parse_id(role_id, "roleId"),
                                                   permissions=_grants(permissions), reason=reason)
            return {"change": RoleChange.of(view)}
        return await mutate(info, RoleChangePayload, call)

    @strawberry.mutation(description="Apply a pending role change: by another user who holds role.grant and what "
                                     "the change gives.")
    async def role_change_approve(self, info: Info, id: strawberry.ID) -> RoleChangePayload:
        async def call() -> dict:
            return {"change": RoleChange.of(await roles.approve_role_change(ctx_of(info), parse_id(id, "id")))}
        return await mutate(info, RoleChangePayload, call)

    @strawberry.mutation(description="Refuse a pending role change (role.grant), or withdraw your own request.")
    async def role_change_reject(self, info: Info, id: strawberry.ID, reason: str = "") -> RoleChangePayload:
        async def call() -> dict:
            return {"change": RoleChange.of(await roles.reject_role_change(ctx_of(info), parse_id(id, "id"),
                                                                           reason=reason))}
        return await mutate(info, RoleChangePayload, call)

    @strawberry.mutation(description="Approve a role for a user; nobody approves their own.")
    async def role_grant(self, info: Info, user_id: strawberry.ID, role_id: strawberry.ID) -> OkPayload:
        async def call() -> dict:
            await roles.grant_role(ctx_of(info), user_id=parse_id(user_id, "userId"), role_id=parse_id(role_id, "roleId"))
            return {"ok": True}
        return await mutate(info, OkPayload, call)

    @strawberry.mutation
    async def role_revoke(self, info: Info, user_id: strawberry.ID, role_id: strawberry.ID) -> OkPayload:
        async def call() -> dict:
            await roles.revoke_role(ctx_of(info), user_id=parse_id(user_id, "userId"),
                                    role_id=parse_id(role_id, "roleId"))
            return {"ok": True}
        return await mutate(info, OkPayload, call)

    @strawberry.mutation
    async def department_create(self, info: Info, name: str, parent_id: strawberry.ID | None = None,
                                code: str | None = None) -> DepartmentPayload:
        async def call() -> dict:
            parent = parse_id(parent_id, "parentId") if parent_id is not None else None
            return {"department": Department.of(await tenancy.create_department(ctx_of(info), name=name,
                                                                                parent_id=parent, code=code))}
        return await mutate(info, DepartmentPayload, call)

    @strawberry.mutation
    async def department_rename(self, info: Info, id: strawberry.ID, name: str) -> DepartmentPayload:
        async def call() -> dict:
            return {"department": Department.of(await tenancy.rename_department(ctx_of(info), parse_id(id, "id"),
                                                                                name=name))}
        return await mutate(info, DepartmentPayload, call)

    @strawberry.mutation(description="Create an API key for an integrator; the secret is shown once.")
    async def api_key_create(self, info: Info, name: str, permissions: list[str],
                             expires_at: datetime | None = None) -> ApiKeyCreatePayload:
        async def call() -> dict:
            view, secret = await api_keys.create_api_key(ctx_of(info), name=name, permissions=permissions,
                                                         expires_at=expires_at)
            return {"api_key": ApiKey.of(view), "secret": secret}
        return await mutate(info, ApiKeyCreatePayload, call)

    @strawberry.mutation
    async def api_key_revoke(self, info: Info, id: strawberry.ID) -> ApiKeyPayload:
        async def call() -> dict:
            return {"api_key": ApiKey.of(await api_keys.revoke_api_key(ctx_of(info), parse_id(id, "id")))}
        return await mutate(info, ApiKeyPayload, call)

    @strawberry.mutation(description="Change the tenant's password rules and login lockout.")
    async def identity_policy_update(self, info: Info, input: IdentityPolicyInput) -> IdentityPolicyPayload:
        async def call() -> dict:
            ctx = ctx_of(info)
            password, lockout = _policy_parts(input, await policies.read_identity_policy(ctx))
            return {"policy": IdentityPolicy.of(*await policies.update_identity_policy(ctx, password=password,
                                                                                       lockout=lockout))}
        return await mutate(info, IdentityPolicyPayload, call)


async def _login(info: Info, tenant: str, username: str, password: str, totp_code: str | None = None,
                 challenge_id: str | None = None, challenge_answer: str | None = None) -> dict:
    return _tokens(await sessions.login(ctx_of(info), tenant=tenant, username=username, password=password,
                                        totp_code=totp_code, challenge_id=challenge_id,
                                        challenge_answer=challenge_answer))
