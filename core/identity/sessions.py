"""Signing in and out: login with throttling, refresh-token rotation with reuse detection,
logout, and turning an access token or API key into a Principal on every request."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from core.audit.chain import record
from core.context import Context, Principal
from core.db import unit_of_work
from core.db.uow import UnitOfWork
from core.errors import KehuError
from core.identity import roles as role_service
from core.identity.permissions import Scope
from core.identity.policies import (
    LOCKOUT_POLICY_KEY,
    PASSWORD_POLICY_KEY,
    LockoutPolicy,
    policies_from_json,
)
from core.identity.runtime import identity
from core.identity.tables import ApiKey, AuthSession, LoginThrottle, RefreshToken, User, UserDepartment
from core.identity.tokens import TokenInvalid, hash_opaque_token, new_opaque_token, parse_opaque_token
from core.identity.users import ACTIVE, normalise_username, now

REFRESH_PREFIX = "rt"
API_KEY_PREFIX = "kk"
API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)  # last-used time is written at most this often
TARGET_ID_MAX = 64  # audit_entry.target_id


class InvalidCredentials(KehuError):
    """The one answer to an unknown tenant, unknown user, disabled user or wrong password."""

    def __init__(self) -> None:
        super().__init__("INVALID_CREDENTIALS", "wrong tenant, username or password", "租户、用户名或密码错误")


class AccountLocked(KehuError):
    def __init__(self, until: datetime) -> None:
        super().__init__("ACCOUNT_LOCKED", f"too many failed sign-ins; try again after {until:%H:%M:%S} UTC",
                         f"登录失败次数过多，请于 {until:%H:%M:%S} (UTC) 后重试")
        self.until = until


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str
    access_expires_at: int
    user_id: UUID
    tenant_id: UUID
    must_change_password: bool = False


def _subjects(username: str, address: str | None) -> list[tuple[str, str]]:
    subjects = [("account", f"account:{username}")]
    if address:
        subjects.append(("address", f"address:{address}"))
    return subjects


# Sign-in runs on every login and is paced by the password hash: each CPU millisecond spent
# around the hash is a hash another login cannot run. So its statements are plain SQL written
# once, not queries composed per call (which cost more than running them), and everything it
# reads comes in one statement. Each statement names the tenant itself, as the unit of work's
# filter would; on PostgreSQL, row-level security is set from the slug first.
_RLS_TENANT_BY_SLUG = ("SELECT set_config('app.tenant_id', coalesce((SELECT id::text FROM tenant "
                       "WHERE slug = {} AND status = 'active'), ''), true)")
_SIGN_IN = (
    "SELECT t.id AS tenant_id, u.id AS user_id, u.password_hash, u.status, u.password_changed_at,"
    " u.must_change_password,"
    " pp.value AS password_policy, lp.value AS lockout_policy,"
    " ta.subject AS account_throttle, ta.locked_until AS account_locked_until,"
    " tb.subject AS address_throttle, tb.locked_until AS address_locked_until"
    " FROM tenant t"
    " LEFT JOIN app_user u ON u.tenant_id = t.id AND u.username = {}"
    " LEFT JOIN tenant_setting pp ON pp.tenant_id = t.id AND pp.key = {}"
    " LEFT JOIN tenant_setting lp ON lp.tenant_id = t.id AND lp.key = {}"
    " LEFT JOIN login_throttle ta ON ta.tenant_id = t.id AND ta.subject = {}"
    " LEFT JOIN login_throttle tb ON tb.tenant_id = t.id AND tb.subject = {}"
    " WHERE t.slug = {} AND t.status = 'active'"
)
_FORGIVE_FAILURES = "DELETE FROM login_throttle WHERE tenant_id = {} AND subject = {}"
_TOUCH_LOGIN = "UPDATE app_user SET last_login_at = {} WHERE tenant_id = {} AND id = {}"
_TOUCH_LOGIN_REHASHED = "UPDATE app_user SET last_login_at = {}, password_hash = {} WHERE tenant_id = {} AND id = {}"
_INSERT_SESSION = ("INSERT INTO auth_session (id, tenant_id, created_at, user_id, expires_at, client_address,"
                   " password_change_required) VALUES ({}, {}, {}, {}, {}, {}, {})")
_INSERT_REFRESH_TOKEN = ("INSERT INTO refresh_token (id, tenant_id, created_at, session_id, token_hash, expires_at) "
                         "VALUES ({}, {}, {}, {}, {}, {})")


async def _record_failure(uow: UnitOfWork, subjects: list[tuple[str, str]], policy: LockoutPolicy, at: datetime) -> None:
    limits = {"account": policy.max_failures_per_account, "address": policy.max_failures_per_address}
    for kind, subject in subjects:
        row = await uow.select(LoginThrottle).where(LoginThrottle.subject == subject).first()
        if row is None:
            failures, window_start = 1, at
            await uow.insert(LoginThrottle(subject=subject, failures=0, window_started_at=at))
        elif row["window_started_at"] + policy.window() < at:
            failures, window_start = 1, at
        else:
            failures, window_start = row["failures"] + 1, row["window_started_at"]
        locked = policy.lock(at) if failures >= limits[kind] else None
        await uow.update(LoginThrottle, {LoginThrottle.failures: failures, LoginThrottle.window_started_at: window_start,
                                         LoginThrottle.locked_until: locked}).where(LoginThrottle.subject == subject)


async def _open_session(uow: UnitOfWork, user_id: UUID, tenant_id: UUID, address: str | None,
                        password_change_required: bool = False) -> tuple[Tokens, UUID]:
    runtime = identity()
    created = now()
    expires = created + timedelta(seconds=runtime.refresh_ttl_seconds)
    session_id = uuid4()
    await uow.fetch(_INSERT_SESSION, session_id, tenant_id, created, user_id, expires, address,
                    int(password_change_required))
    return await _issue(uow, session_id, user_id, tenant_id, expires, password_change_required), session_id


async def _issue(uow: UnitOfWork, session_id: UUID, user_id: UUID, tenant_id: UUID, expires: datetime,
                 must_change_password: bool = False) -> Tokens:
    runtime = identity()
    refresh = new_opaque_token(tenant_id, REFRESH_PREFIX)
    await uow.fetch(_INSERT_REFRESH_TOKEN, uuid4(), tenant_id, now(), session_id, hash_opaque_token(refresh), expires)
    access, claims = runtime.tokens.issue_access(user_id=user_id, tenant_id=tenant_id, session_id=session_id)
    return Tokens(access_token=access, refresh_token=refresh, access_expires_at=claims.expires_at, user_id=user_id,
                  tenant_id=tenant_id, must_change_password=must_change_password)


async def login(ctx: Context, *, tenant: str, username: str, password: str) -> Tokens:
    """Sign in. Unknown tenant or user, disabled user and wrong password answer alike, and cost
    the same password-hash time. The hash runs between two short transactions, never in one."""
    hashing = identity().hashing
    username = normalise_username(username)
    subjects = _subjects(username, ctx.client_address)
    at = now()
    slug = tenant.strip().lower()
    account, address = subjects[0][1], subjects[1][1] if len(subjects) > 1 else None
    async with unit_of_work(ctx, write=False) as uow:
        if uow.database.is_postgres:
            await uow.fetch(_RLS_TENANT_BY_SLUG, slug)
        found = await uow.fetch(_SIGN_IN, username, PASSWORD_POLICY_KEY, LOCKOUT_POLICY_KEY, account, address, slug)
    if not found:  # no such active tenant
        await hashing.burn(password)
        raise InvalidCredentials()
    row = found[0]
    tenant_id: UUID = row["tenant_id"]
    rules, lockout = policies_from_json(row["password_policy"], row["lockout_policy"])
    throttles = {row[f"{kind}_throttle"]: row[f"{kind}_locked_until"] for kind in ("account", "address")
                 if row[f"{kind}_throttle"] is not None}
    user = None if row["user_id"] is None else {
        "id": row["user_id"], "password_hash": row["password_hash"], "status": row["status"],
        "password_changed_at": row["password_changed_at"], "must_change_password": row["must_change_password"]}
    tctx = ctx.for_tenant(tenant_id)
    locked = [until for until in throttles.values() if until and until > at]
    if locked:
        raise AccountLocked(max(locked))
    if user is None or user["status"] != ACTIVE:
        await hashing.burn(password)
        valid = False
        failure = "unknown_user" if user is None else "account_disabled"
    else:
        valid = await hashing.verify(user["password_hash"], password)
        failure = "wrong_password"
    if not valid:
        async with unit_of_work(tctx) as uow:
            await _record_failure(uow, subjects, lockout, at)
            # The username as typed (normalised; cut to the column's width), never the password.
            await record(uow, "login.failed", "account", username[:TARGET_ID_MAX], {"reason": failure})
        raise InvalidCredentials()
    assert user is not None
    rehash = await hashing.hash(password) if hashing.needs_rehash(user["password_hash"]) else None
    # A password someone else chose (printed, or set by an administrator) or an expired one opens
    # a login that can only change it: whoever else knows it cannot use the account.
    restricted = bool(user["must_change_password"]) or rules.is_expired(user["password_changed_at"], at)
    async with unit_of_work(tctx) as uow:
        if subjects[0][1] in throttles:  # earlier failures of this account are forgiven
            await uow.fetch(_FORGIVE_FAILURES, tenant_id, subjects[0][1])
        if rehash:
            await uow.fetch(_TOUCH_LOGIN_REHASHED, at, rehash, tenant_id, user["id"])
        else:
            await uow.fetch(_TOUCH_LOGIN, at, tenant_id, user["id"])
        tokens, session_id = await _open_session(uow, user["id"], tenant_id, ctx.client_address, restricted)
        await record(uow, "login.succeeded", "user", user["id"],
                     {"session_id": session_id, **({"password_change_required": True} if restricted else {})})
    return tokens


async def refresh(ctx: Context, *, refresh_token: str) -> Tokens:
    """Rotate a refresh token. A token used twice means it was stolen: the whole login ends."""
    parsed = parse_opaque_token(refresh_token, REFRESH_PREFIX)
    if parsed is None:
        raise TokenInvalid()
    tenant_id, _ = parsed
    tctx = ctx.for_tenant(tenant_id)
    at = now()
    reused = False
    async with unit_of_work(tctx) as uow:
        row = await uow.select(RefreshToken).where(RefreshToken.token_hash == hash_opaque_token(refresh_token)).first()
        if row is None:
            raise TokenInvalid()
        session = await uow.select(AuthSession).where(AuthSession.id == row["session_id"]).first()
        if row["used_at"] is not None:
            reused = True
            if session is not None and session["revoked_at"] is None:
                await uow.update(AuthSession, {AuthSession.revoked_at: at,
                                               AuthSession.revoked_reason: "refresh_reused"}).where(
                    (AuthSession.id == row["session_id"]) & AuthSession.revoked_at.is_null())
                await record(uow, "session.revoked", "session", row["session_id"],
                             {"user_id": session["user_id"], "reason": "refresh_reused"})
        elif session is None or session["revoked_at"] is not None or session["expires_at"] <= at or row["expires_at"] <= at:
            raise TokenInvalid()
        else:
            user = await uow.select(User.status).where(User.id == session["user_id"]).first()
            if user is None or user["status"] != ACTIVE:
                raise TokenInvalid()
            await uow.update(RefreshToken, {RefreshToken.used_at: at}).where(RefreshToken.id == row["id"])
            tokens = await _issue(uow, session["id"], session["user_id"], tenant_id, session["expires_at"],
                                  bool(session["password_change_required"]))
            await record(uow, "token.refreshed", "session", session["id"], {"user_id": session["user_id"]})
            return tokens
    assert reused
    raise KehuError("TOKEN_REUSED", "this refresh token was already used; the session has been ended",
                    "该刷新令牌已被使用，会话已终止")


async def logout(ctx: Context) -> None:
    """End the caller's login: its refresh tokens and access tokens stop working at once."""
    if ctx.principal is None or ctx.principal.session_id is None:
        raise KehuError("UNAUTHENTICATED", "sign in as a user first", "请先以用户身份登录")
    session_id = ctx.principal.session_id
    async with unit_of_work(ctx) as uow:
        open_session = (AuthSession.id == session_id) & AuthSession.revoked_at.is_null()
        if await uow.exists(AuthSession).where(open_session):
            await uow.update(AuthSession, {AuthSession.revoked_at: now(), AuthSession.revoked_reason: "logout"}).where(
                open_session)
            await record(uow, "session.revoked", "session", session_id,
                         {"user_id": ctx.principal.user_id, "reason": "logout"})


async def authenticate_access_token(token: str) -> Principal:
    """Verify an access token and that its login is still open; build the caller's Principal."""
    claims = identity().tokens.verify_access(token)
    async with unit_of_work(Context.system("auth", claims.tenant_id), write=False) as uow:
        session = await uow.select(AuthSession.user_id, AuthSession.revoked_at, AuthSession.expires_at,
                                   AuthSession.password_change_required).where(
            AuthSession.id == claims.session_id).first()
        if (session is None or session["user_id"] != claims.user_id or session["revoked_at"] is not None
                or session["expires_at"] <= now()):
            raise TokenInvalid("TOKEN_REVOKED", "the session has ended")
        user = await uow.select(User.status).where(User.id == claims.user_id).first()
        if user is None or user["status"] != ACTIVE:
            raise TokenInvalid("TOKEN_REVOKED", "the account is disabled")
        if session["password_change_required"]:  # holds nothing until the password is changed
            return Principal(tenant_id=claims.tenant_id, user_id=claims.user_id, api_key_id=None, permissions={},
                             session_id=claims.session_id, password_change_required=True)
        permissions = await role_service.effective_permissions(uow, claims.user_id)
        departments = await uow.select(UserDepartment.department_id).where(UserDepartment.user_id == claims.user_id)
    return Principal(tenant_id=claims.tenant_id, user_id=claims.user_id, api_key_id=None, permissions=permissions,
                     department_ids=frozenset(d["department_id"] for d in departments), session_id=claims.session_id)


async def authenticate_api_key(key: str) -> Principal:
    parsed = parse_opaque_token(key, API_KEY_PREFIX)
    if parsed is None:
        raise TokenInvalid()
    tenant_id, _ = parsed
    at = now()
    async with unit_of_work(Context.system("auth", tenant_id), write=False) as uow:
        row = await uow.select(ApiKey.id, ApiKey.permissions, ApiKey.expires_at, ApiKey.revoked_at,
                               ApiKey.last_used_at).where(ApiKey.token_hash == hash_opaque_token(key)).first()
    if row is None or row["revoked_at"] is not None or (row["expires_at"] and row["expires_at"] <= at):
        raise TokenInvalid()
    if row["last_used_at"] is None or row["last_used_at"] + API_KEY_TOUCH_INTERVAL < at:
        # Written at most once per touch interval, and only by the request that moves last_used_at
        # (a concurrent request that lost the race writes neither the time nor an entry).
        async with unit_of_work(Context(tenant_id=tenant_id, actor=f"apikey:{row['id']}")) as uow:
            stale = (ApiKey.id == row["id"]) & (ApiKey.last_used_at.is_null()
                                                | (ApiKey.last_used_at < at - API_KEY_TOUCH_INTERVAL))
            touched = await uow.update(ApiKey, {ApiKey.last_used_at: at}).where(stale).returning(ApiKey.id)
            if touched:
                await record(uow, "apikey.used", "apikey", row["id"])
    permissions = {name: Scope.TENANT for name in json.loads(row["permissions"])}
    return Principal(tenant_id=tenant_id, user_id=None, api_key_id=row["id"], permissions=permissions)
