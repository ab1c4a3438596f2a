"""Signing in and out: login with throttling, refresh-token rotation with reuse detection,
logout, and turning an access token or API key into a Principal on every request.

Sign-in controls (seed-004 CSM-15, CSM-17, CSM-18; issue 24 point 3), in the order checked:
the tenant's network allow-list (``NETWORK_NOT_ALLOWED``), the lockout, the challenge after
repeated failures (``CHALLENGE_REQUIRED`` / ``CHALLENGE_INVALID``), the password, an account
reported compromised (``ACCOUNT_COMPROMISED``), then the TOTP code (``TOTP_REQUIRED`` /
``TOTP_INVALID``, each counted as a failed sign-in). Every refusal is written to the register of
refused attempts (core.identity.refusals) after the refused work rolled back."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from core.audit.chain import landed, next_entry, record
from core.context import Context, Principal
from core.db import Database, current_database, unit_of_work
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.identity import challenges, networks
from core.identity import roles as role_service
from core.identity.access import require, require_signed_in
from core.identity.permissions import Scope
from core.identity.policies import (
    LOCKOUT_POLICY_KEY,
    PASSWORD_POLICY_KEY,
    SIGN_IN_POLICY_KEY,
    LockoutPolicy,
    policies_from_json,
    sign_in_policy_from_json,
)
from core.identity.refusals import record_refusal
from core.identity.runtime import identity
from core.identity.tables import (
    ApiKey,
    AuthSession,
    LoginThrottle,
    RefreshToken,
    Role,
    SignInChallenge,
    TenantSetting,
    TotpEnrolment,
    User,
    UserDepartment,
    UserRole,
)
from core.tenancy.service import SLUG_PATTERN
from core.identity.tokens import TokenInvalid, hash_opaque_token, new_opaque_token, parse_opaque_token
from core.identity.totp import TotpInvalid, TotpRequired, check_code
from core.identity.users import ACTIVE, DISABLED, LOCKED, normalise_username, now, record_sessions_revoked, revoke_sessions

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


class NetworkNotAllowed(KehuError):
    def __init__(self) -> None:
        super().__init__("NETWORK_NOT_ALLOWED", "this network may not be used to sign in or to use this key",
                         "不允许从该网络登录或使用该密钥")


class ChallengeRequired(KehuError):
    def __init__(self) -> None:
        super().__init__("CHALLENGE_REQUIRED", "after repeated failed sign-ins, answer a challenge first "
                         "(signInChallenge, then challengeId and challengeAnswer)",
                         "多次登录失败后须先回答验证问题（signInChallenge，再提供 challengeId 和 challengeAnswer）",
                         field="challengeAnswer")


class ChallengeInvalid(KehuError):
    def __init__(self) -> None:
        super().__init__("CHALLENGE_INVALID", "the challenge answer is wrong, expired or already used; ask a new one",
                         "验证问题的答案错误、已过期或已使用，请重新获取", field="challengeAnswer")


class AccountCompromised(KehuError):
    def __init__(self) -> None:
        super().__init__("ACCOUNT_COMPROMISED", "this account was locked after a reported compromise; "
                         "an administrator must reset its password", "该账号因报告失窃已锁定，须由管理员重置密码")


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str
    access_expires_at: int
    user_id: UUID
    tenant_id: UUID
    must_change_password: bool = False
    totp_enrolment_required: bool = False


def _subjects(username: str, address: str | None) -> list[tuple[str, str]]:
    subjects = [("account", f"account:{username}")]
    if address:
        subjects.append(("address", f"address:{address}"))
    return subjects


# Sign-in runs on every login and is paced by the password hash: each CPU millisecond spent
# around the hash is a hash another login cannot run. So its statements are plain SQL written
# once, not queries composed per call (which cost more than running them), and everything it
# reads comes in one statement. Each statement names the tenant itself, as the unit of work's
# filter would. On PostgreSQL a sign-in's read and its write are each one function call, its own
# transaction, which sets row-level security's tenant itself (from the slug for the read).


def _rls_slug(slug: str) -> str | None:
    """The slug row-level security is set from as a transaction begins (PostgreSQL; one round
    trip with BEGIN); None for a text no tenant can have, which then finds nothing."""
    return slug if SLUG_PATTERN.fullmatch(slug) else None


_SIGN_IN = (
    "SELECT t.id AS tenant_id, u.id AS user_id, u.password_hash, u.status, u.password_changed_at,"
    " u.must_change_password,"
    " pp.value AS password_policy, lp.value AS lockout_policy, sp.value AS sign_in_policy,"
    " ta.subject AS account_throttle, ta.locked_until AS account_locked_until,"
    " ta.failures AS account_failures, ta.window_started_at AS account_window_started_at,"
    " tb.subject AS address_throttle, tb.locked_until AS address_locked_until,"
    " te.secret AS totp_secret, te.confirmed_at AS totp_confirmed_at, te.last_step AS totp_last_step,"
    " te.recovery_codes AS totp_recovery_codes"
    " FROM tenant t"
    " LEFT JOIN app_user u ON u.tenant_id = t.id AND u.username = {}"
    " LEFT JOIN tenant_setting pp ON pp.tenant_id = t.id AND pp.key = {}"
    " LEFT JOIN tenant_setting lp ON lp.tenant_id = t.id AND lp.key = {}"
    " LEFT JOIN tenant_setting sp ON sp.tenant_id = t.id AND sp.key = {}"
    " LEFT JOIN totp_enrolment te ON te.tenant_id = t.id AND te.user_id = u.id"
    " LEFT JOIN login_throttle ta ON ta.tenant_id = t.id AND ta.subject = {}"
    " LEFT JOIN login_throttle tb ON tb.tenant_id = t.id AND tb.subject = {}"
    " WHERE t.slug = {} AND t.status = 'active'"
)
# PostgreSQL: the same read, and a sign-in's writes, as functions (core/db/migrations, 0043).
_SIGN_IN_READ = "SELECT * FROM kehu_sign_in_read({}, {}, {}, {}, {}, {}, {})"
_SIGN_IN_OPEN = ("SELECT kehu_sign_in_open({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, "
                 "{}, {}, {}, {}, {}, {}, {}) AS seq")
_FORGIVE_FAILURES = "DELETE FROM login_throttle WHERE tenant_id = {} AND subject = {}"
_TOUCH_LOGIN = "UPDATE app_user SET last_login_at = {} WHERE tenant_id = {} AND id = {}"
_TOUCH_LOGIN_REHASHED = "UPDATE app_user SET last_login_at = {}, password_hash = {} WHERE tenant_id = {} AND id = {}"
_INSERT_SESSION = ("INSERT INTO auth_session (id, tenant_id, created_at, user_id, expires_at, client_address,"
                   " password_change_required, totp_enrolment_required) VALUES ({}, {}, {}, {}, {}, {}, {}, {})")
_TOUCH_TOTP = "UPDATE totp_enrolment SET last_step = {}, recovery_codes = {} WHERE tenant_id = {} AND user_id = {}"
_INSERT_REFRESH_TOKEN = ("INSERT INTO refresh_token (id, tenant_id, created_at, session_id, token_hash, expires_at) "
                         "VALUES ({}, {}, {}, {}, {}, {})")
# PostgreSQL: the session and its first refresh token in one round trip (the token's foreign key
# is checked at the end of the statement, when the session row is there).
_OPEN_SESSION_AND_TOKEN = (
    "opened AS (INSERT INTO auth_session (id, tenant_id, created_at, user_id, expires_at, client_address, "
    "password_change_required, totp_enrolment_required) VALUES ({}::uuid, {}::uuid, {}::timestamptz, {}::uuid, "
    "{}::timestamptz, {}::text, {}::int, {}::int) RETURNING id, tenant_id, created_at, expires_at) "
    "INSERT INTO refresh_token (id, tenant_id, created_at, session_id, token_hash, expires_at) "
    "SELECT {}::uuid, tenant_id, created_at, id, {}::text, expires_at FROM opened"
)
_INSERT_SESSION_AND_TOKEN = "WITH " + _OPEN_SESSION_AND_TOKEN


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
                        password_change_required: bool = False, totp_enrolment_required: bool = False,
                        before: tuple[str, tuple[Any, ...]] | None = None) -> tuple[Tokens, UUID]:
    """Open a session with its first refresh token. ``before`` (a statement and its arguments) runs
    first in the same unit of work; on PostgreSQL in the same statement, as a data-modifying
    ``WITH`` (one round trip fewer on every sign-in)."""
    runtime = identity()
    created = now()
    expires = created + timedelta(seconds=runtime.refresh_ttl_seconds)
    session_id = uuid4()
    session_row = (session_id, tenant_id, created, user_id, expires, address, int(password_change_required),
                   int(totp_enrolment_required))
    if uow.database.is_postgres:
        refresh = new_opaque_token(tenant_id, REFRESH_PREFIX)
        row = (*session_row, uuid4(), hash_opaque_token(refresh))
        if before is None:
            await uow.fetch(_INSERT_SESSION_AND_TOKEN, *row)
        else:
            await uow.fetch(f"WITH before AS ({before[0]}), {_OPEN_SESSION_AND_TOKEN}", *before[1], *row)
        tokens = _tokens(refresh, session_id, user_id, tenant_id, password_change_required)
    else:
        if before is not None:
            await uow.fetch(before[0], *before[1])
        await uow.fetch(_INSERT_SESSION, *session_row)
        tokens = await _issue(uow, session_id, user_id, tenant_id, expires, password_change_required)
    if totp_enrolment_required:
        tokens = replace(tokens, totp_enrolment_required=True)
    return tokens, session_id


async def _issue(uow: UnitOfWork, session_id: UUID, user_id: UUID, tenant_id: UUID, expires: datetime,
                 must_change_password: bool = False) -> Tokens:
    refresh = new_opaque_token(tenant_id, REFRESH_PREFIX)
    await uow.fetch(_INSERT_REFRESH_TOKEN, uuid4(), tenant_id, now(), session_id, hash_opaque_token(refresh), expires)
    return _tokens(refresh, session_id, user_id, tenant_id, must_change_password)


def _tokens(refresh: str, session_id: UUID, user_id: UUID, tenant_id: UUID, must_change_password: bool) -> Tokens:
    """The refresh token (stored already) with a new access token for the session."""
    access, claims = identity().tokens.issue_access(user_id=user_id, tenant_id=tenant_id, session_id=session_id)
    return Tokens(access_token=access, refresh_token=refresh, access_expires_at=claims.expires_at, user_id=user_id,
                  tenant_id=tenant_id, must_change_password=must_change_password)


async def _refuse(tctx: Context, error: KehuError, username: str, reason: str) -> KehuError:
    """Write the refused sign-in to the register (its own unit of work); hand the error back."""
    await record_refusal(tctx, operation="login", code=error.code, username=username[:TARGET_ID_MAX],
                         arguments={"reason": reason})
    error.refusal_recorded = True  # type: ignore[attr-defined]  # gateway.graphql.common writes no second row
    return error


async def _failed(tctx: Context, subjects: list[tuple[str, str]], lockout: LockoutPolicy, at: datetime,
                  username: str, reason: str, error: KehuError) -> KehuError:
    """A failed sign-in: counted for lockout, audited as ``login.failed``, registered as refused."""
    async with unit_of_work(tctx) as uow:
        await _record_failure(uow, subjects, lockout, at)
        # The username as typed (normalised; cut to the column's width), never the password.
        await record(uow, "login.failed", "account", username[:TARGET_ID_MAX], {"reason": reason})
    return await _refuse(tctx, error, username, reason)


async def _role_names(tctx: Context, user_id: UUID) -> set[str]:
    async with unit_of_work(tctx, write=False) as uow:
        role_ids = [r["role_id"] for r in await uow.select(UserRole.role_id).where(UserRole.user_id == user_id)]
        if not role_ids:
            return set()
        return {r["name"] for r in await uow.select(Role.name).where(Role.id.is_in(role_ids))}


async def _take_challenge(tctx: Context, username: str, challenge_id: str | None, answer: str | None,
                          at: datetime) -> bool:
    """Use up the challenge (whatever the answer: it works once); whether it was answered right."""
    try:
        wanted = UUID(str(challenge_id))
    except ValueError:
        return False
    async with unit_of_work(tctx) as uow:
        open_one = ((SignInChallenge.id == wanted) & (SignInChallenge.username == username)
                    & SignInChallenge.used_at.is_null() & (SignInChallenge.expires_at > at))
        taken = await uow.update(SignInChallenge, {SignInChallenge.used_at: at}).where(open_one).returning(
            SignInChallenge.answer_hash)
    return bool(taken) and challenges.answer_matches(wanted, answer or "", taken[0]["answer_hash"])


async def login(ctx: Context, *, tenant: str, username: str, password: str, totp_code: str | None = None,
                challenge_id: str | None = None, challenge_answer: str | None = None) -> Tokens:
    """Sign in. Unknown tenant or user, disabled user and wrong password answer alike, and cost
    the same password-hash time. The hash runs between two short transactions, never in one."""
    hashing = identity().hashing
    username = normalise_username(username)
    subjects = _subjects(username, ctx.client_address)
    at = now()
    slug = tenant.strip().lower()
    account, address = subjects[0][1], subjects[1][1] if len(subjects) > 1 else None
    database = current_database()
    if database.is_postgres:  # one statement, its own transaction (core/db/migrations, 0043)
        found = await database.fetch_alone(_SIGN_IN_READ, slug, username, PASSWORD_POLICY_KEY, LOCKOUT_POLICY_KEY,
                                           SIGN_IN_POLICY_KEY, account, address)
    else:
        async with unit_of_work(ctx, write=False) as uow:  # SQLite: no row-level security
            found = await uow.fetch(_SIGN_IN, username, PASSWORD_POLICY_KEY, LOCKOUT_POLICY_KEY, SIGN_IN_POLICY_KEY,
                                    account, address, slug)
    if not found:  # no such active tenant
        await hashing.burn(password)
        raise InvalidCredentials()
    row = found[0]
    tenant_id: UUID = row["tenant_id"]
    rules, lockout = policies_from_json(row["password_policy"], row["lockout_policy"])
    controls = sign_in_policy_from_json(row["sign_in_policy"])
    throttles = {row[f"{kind}_throttle"]: row[f"{kind}_locked_until"] for kind in ("account", "address")
                 if row[f"{kind}_throttle"] is not None}
    user = None if row["user_id"] is None else {
        "id": row["user_id"], "password_hash": row["password_hash"], "status": row["status"],
        "password_changed_at": row["password_changed_at"], "must_change_password": row["must_change_password"]}
    tctx = ctx.for_tenant(tenant_id)
    if not networks.allowed(ctx.client_address, controls.staff_networks):  # CSM-17: before anything else
        raise await _refuse(tctx, NetworkNotAllowed(), username, "network")
    locked = [until for until in throttles.values() if until and until > at]
    if locked:
        raise await _refuse(tctx, AccountLocked(max(locked)), username, "locked")
    failures = row["account_failures"] or 0
    if row["account_window_started_at"] is not None and row["account_window_started_at"] + lockout.window() < at:
        failures = 0  # the failures' window has passed
    if challenges.challenge_due(failures, controls.challenge_after_failures):  # CSM-18 "captcha"
        if not challenge_id or not challenge_answer:
            raise await _refuse(tctx, ChallengeRequired(), username, "challenge_missing")
        if not await _take_challenge(tctx, username, challenge_id, challenge_answer, at):
            raise await _refuse(tctx, ChallengeInvalid(), username, "challenge_invalid")
    if user is None or user["status"] not in (ACTIVE, LOCKED):
        await hashing.burn(password)
        valid = False
        failure = "unknown_user" if user is None else "account_disabled"
    else:
        valid = await hashing.verify(user["password_hash"], password)
        failure = "wrong_password"
    if not valid:
        raise await _failed(tctx, subjects, lockout, at, username, failure, InvalidCredentials())
    assert user is not None
    if user["status"] == LOCKED:  # CSM-15: reported compromised; the old password opens nothing
        raise await _refuse(tctx, AccountCompromised(), username, "account_compromised")
    accepted = None
    enrolment_only = False
    if row["totp_confirmed_at"] is not None:  # CSM-18: the second factor
        if not totp_code:
            raise await _failed(tctx, subjects, lockout, at, username, "totp_missing", TotpRequired())
        accepted = check_code(tenant_id, user["id"], row["totp_secret"], row["totp_last_step"] or 0,
                              row["totp_recovery_codes"] or "[]", totp_code, at)
        if accepted is None:
            raise await _failed(tctx, subjects, lockout, at, username, "totp_invalid", TotpInvalid())
    elif controls.totp_required or controls.totp_required_roles:
        # Required but not enrolled yet: a login that may only enrol, then sign in again with a code.
        enrolment_only = controls.totp_required_for(await _role_names(tctx, user["id"]))
    rehash = await hashing.hash(password) if hashing.needs_rehash(user["password_hash"]) else None
    # A password someone else chose (printed, or set by an administrator) or an expired one opens
    # a login that can only change it: whoever else knows it cannot use the account.
    restricted = bool(user["must_change_password"]) or rules.is_expired(user["password_changed_at"], at)
    enrolment_only = enrolment_only and not restricted
    if database.is_postgres and account not in throttles and accepted is None:  # the usual sign-in
        tokens = await _sign_in_at_once(database, tctx, user["id"], at, rehash, restricted, enrolment_only)
        if tokens is not None:
            return tokens
    async with unit_of_work(tctx) as uow:
        if account in throttles:  # earlier failures of this account are forgiven
            await uow.fetch(_FORGIVE_FAILURES, tenant_id, account)
        if accepted is not None:  # the code (its time step, or the recovery code) is used up
            await uow.fetch(_TOUCH_TOTP, accepted.last_step, accepted.recovery_codes, tenant_id, user["id"])
        touch = ((_TOUCH_LOGIN_REHASHED, (at, rehash, tenant_id, user["id"])) if rehash
                 else (_TOUCH_LOGIN, (at, tenant_id, user["id"])))
        tokens, session_id = await _open_session(uow, user["id"], tenant_id, ctx.client_address, restricted,
                                                 enrolment_only, before=touch)
        await record(uow, "login.succeeded", "user", user["id"],
                     _login_succeeded(session_id, restricted, accepted is not None, enrolment_only))
    return tokens


def _login_succeeded(session_id: UUID, restricted: bool, second_factor: bool, enrolment_only: bool) -> dict[str, Any]:
    """The ``login.succeeded`` entry's changes."""
    return {"session_id": session_id, **({"password_change_required": True} if restricted else {}),
            **({"second_factor": "totp"} if second_factor else {}),
            **({"totp_enrolment_required": True} if enrolment_only else {})}


async def _sign_in_at_once(database: Database, tctx: Context, user_id: UUID, at: datetime, rehash: str | None,
                           restricted: bool, enrolment_only: bool) -> Tokens | None:
    """PostgreSQL: the last login, the session, its first refresh token and the audit entry in one
    statement that is its own transaction (``kehu_sign_in_open``). None, having written nothing,
    when this process knows no audit head of the tenant or another writer moved it: the caller
    then signs in through a unit of work, which reads the head under its lock."""
    tenant_id = tctx.tenant_id
    assert tenant_id is not None
    created = now()
    expires = created + timedelta(seconds=identity().refresh_ttl_seconds)
    session_id = uuid4()
    entry = next_entry(tctx, "login.succeeded", "user", user_id,
                       _login_succeeded(session_id, restricted, False, enrolment_only))
    if entry is None:
        return None
    refresh = new_opaque_token(tenant_id, REFRESH_PREFIX)
    # The entry's row: id, tenant, seq, occurred_at, then actor … diff (4-10), prev_hash, hash.
    row = entry.row
    opened = await database.fetch_alone(
        _SIGN_IN_OPEN, tenant_id, user_id, at, rehash, session_id, created, expires, tctx.client_address,
        int(restricted), int(enrolment_only), uuid4(), hash_opaque_token(refresh), entry.after_seq, entry.after_hash,
        row[0], entry.seq, entry.occurred_at, *row[4:11], entry.digest)
    if opened[0]["seq"] is None:
        return None
    landed(entry)
    tokens = _tokens(refresh, session_id, user_id, tenant_id, restricted)
    return replace(tokens, totp_enrolment_required=True) if enrolment_only else tokens


async def sign_in_challenge(ctx: Context, *, tenant: str, username: str) -> tuple[str, str]:
    """A question to answer at the next sign-in of ``username`` (CSM-18): (challenge id, question).
    An unknown tenant gets a question too (one that no answer opens), so it learns nothing."""
    username = normalise_username(username)
    slug = tenant.strip().lower()
    question, answer = challenges.new_question(ctx.language)
    challenge_id = uuid4()
    async with unit_of_work(ctx, write=False, tenant_slug=_rls_slug(slug)) as uow:
        found = await uow.fetch("SELECT id FROM tenant WHERE slug = {} AND status = 'active'", slug)
    if not found:
        return str(challenge_id), question
    tctx = ctx.for_tenant(found[0]["id"])
    at = now()
    async with unit_of_work(tctx) as uow:
        await uow.insert(SignInChallenge(id=challenge_id, username=username[:64],
                                         answer_hash=challenges.answer_hash(challenge_id, answer),
                                         expires_at=at + challenges.LIFETIME))
        await record(uow, "signin.challenge_issued", "account", username[:TARGET_ID_MAX],
                     {"challenge_id": challenge_id})
    return str(challenge_id), question


async def report_account_compromise(ctx: Context, user_id: UUID | None = None) -> UUID:
    """CSM-15, SEC-03: lock an account reported stolen or leaked and end its logins. The user may
    report their own; anyone else needs ``user.manage``. It opens again only by a password reset
    (``userPasswordReset``); until then its old password signs in to nothing."""
    require_signed_in(ctx)
    target = user_id or ctx.user_id
    if target is None:
        raise KehuError("USER_REQUIRED", "name the user whose account was compromised", "请指定账号失窃的用户",
                        field="userId")
    if target != ctx.user_id:
        require(ctx, "user.manage")
    async with unit_of_work(ctx) as uow:
        row = await uow.select(User.status).where(User.id == target).first()
        if row is None:
            raise NotFound("user", target)
        if row["status"] == DISABLED:
            raise KehuError("USER_ALREADY_DISABLED", "the account is already disabled", "账号已停用")
        if row["status"] == LOCKED:
            raise KehuError("ACCOUNT_COMPROMISED", "this account is already locked as compromised",
                            "该账号已因失窃锁定")
        await uow.update(User, {User.status: LOCKED}).where(User.id == target)
        ended = await revoke_sessions(uow, target, "compromised")
        await record(uow, "user.locked", "user", target,
                     {"status": (row["status"], LOCKED), "reason": "compromise_reported"})
        await record_sessions_revoked(uow, target, ended, "compromised")
    return target


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
                                   AuthSession.password_change_required,
                                   AuthSession.totp_enrolment_required).where(
            AuthSession.id == claims.session_id).first()
        if (session is None or session["user_id"] != claims.user_id or session["revoked_at"] is not None
                or session["expires_at"] <= now()):
            raise TokenInvalid("TOKEN_REVOKED", "the session has ended")
        user = await uow.select(User.status, User.clearance).where(User.id == claims.user_id).first()
        if user is None or user["status"] != ACTIVE:
            raise TokenInvalid("TOKEN_REVOKED", "the account is disabled")
        if session["password_change_required"]:  # holds nothing until the password is changed
            return Principal(tenant_id=claims.tenant_id, user_id=claims.user_id, api_key_id=None, permissions={},
                             session_id=claims.session_id, password_change_required=True)
        if session["totp_enrolment_required"]:  # may only enrol a second factor (CSM-18), then sign in again
            return Principal(tenant_id=claims.tenant_id, user_id=claims.user_id, api_key_id=None, permissions={},
                             session_id=claims.session_id)
        permissions = await role_service.effective_permissions(uow, claims.user_id)
        departments = await uow.select(UserDepartment.department_id).where(UserDepartment.user_id == claims.user_id)
    return Principal(tenant_id=claims.tenant_id, user_id=claims.user_id, api_key_id=None, permissions=permissions,
                     department_ids=frozenset(d["department_id"] for d in departments), session_id=claims.session_id,
                     clearance=int(user["clearance"] or 0))


async def authenticate_api_key(key: str, address: str | None = None, request_id: str | None = None) -> Principal:
    """The key's Principal. A key used from outside the tenant's API-key allow-list is refused
    (``NETWORK_NOT_ALLOWED``, CSM-17) and the refusal registered."""
    parsed = parse_opaque_token(key, API_KEY_PREFIX)
    if parsed is None:
        raise TokenInvalid()
    tenant_id, _ = parsed
    at = now()
    async with unit_of_work(Context.system("auth", tenant_id), write=False) as uow:
        row = await uow.select(ApiKey.id, ApiKey.permissions, ApiKey.expires_at, ApiKey.revoked_at,
                               ApiKey.last_used_at).where(ApiKey.token_hash == hash_opaque_token(key)).first()
        setting = await uow.select(TenantSetting.value).where(TenantSetting.key == SIGN_IN_POLICY_KEY).first() \
            if row is not None else None
    if row is None or row["revoked_at"] is not None or (row["expires_at"] and row["expires_at"] <= at):
        raise TokenInvalid()
    controls = sign_in_policy_from_json(setting["value"] if setting else None)
    if not networks.allowed(address, controls.api_key_networks):
        refused = Context(tenant_id=tenant_id, actor=f"apikey:{row['id']}", client_address=address,
                          **({"request_id": request_id} if request_id else {}))
        await record_refusal(refused, operation="apikey.use", code="NETWORK_NOT_ALLOWED",
                             arguments={"api_key_id": str(row["id"])})
        raise NetworkNotAllowed()
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
    # An API key reads customers of level 0 only (CSM-20): clearances are given to people.
    return Principal(tenant_id=tenant_id, user_id=None, api_key_id=row["id"], permissions=permissions, clearance=0)
