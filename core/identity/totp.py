"""TOTP second factor (seed-004 CSM-18, SEC-06; issue 24 point 3): enrolment, confirmation,
recovery codes, disabling, and the check at sign-in.

- ``totp_start`` makes a secret and answers it once with its ``otpauth://`` URI (for the
  authenticator app); it is stored sealed with the tenant's data key (core.privacy.crypto) and
  is never logged, audited or shown again.
- ``totp_confirm`` takes a code from the app: the second factor is on from then, and ten
  single-use recovery codes are answered once (stored as SHA-256 hashes, each crossed out when
  used).
- ``totp_disable`` (the user, with a valid code or recovery code) and ``totp_reset`` (an
  administrator holding ``user.manage``, for a lost phone) turn it off.
- At sign-in (core.identity.sessions) ``check_code`` accepts a code of the current 30-second step
  or one step either side, never a step already used, or an unused recovery code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import pyotp

from core.audit.chain import record
from core.context import Context
from core.db import unit_of_work
from core.errors import KehuError, NotFound
from core.identity.access import require, require_signed_in
from core.identity.tables import TotpEnrolment, User
from core.privacy.crypto import open_text, seal_text

STEP_SECONDS = 30
RECOVERY_CODES = 10
ISSUER = "kehu"
_SECRET_COLUMN = "totp_enrolment.secret"


def now() -> datetime:
    return datetime.now(UTC)


class TotpRequired(KehuError):
    def __init__(self) -> None:
        super().__init__("TOTP_REQUIRED", "this account signs in with a one-time code: give totpCode",
                         "该账号须使用一次性验证码登录：请提供 totpCode", field="totpCode")


class TotpInvalid(KehuError):
    def __init__(self) -> None:
        super().__init__("TOTP_INVALID", "the one-time code is wrong, expired or already used",
                         "一次性验证码错误、已过期或已使用", field="totpCode")


# Pure parts --------------------------------------------------------------------------------------

def _step(at: datetime) -> int:
    return int(at.timestamp()) // STEP_SECONDS


def matching_step(secret: str, code: str, at: datetime, last_step: int) -> int | None:
    """The time step ``code`` belongs to (now or one step either side), if not used before."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    for step in (_step(at) - 1, _step(at), _step(at) + 1):
        if step > last_step and hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def recovery_hash(user_id: UUID, code: str) -> str:
    normalised = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(f"{user_id}:{normalised}".encode()).hexdigest()


def new_recovery_codes() -> list[str]:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return ["-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(2))
            for _ in range(RECOVERY_CODES)]


def matching_recovery(user_id: UUID, code: str, hashes: list[str | None]) -> int | None:
    """The index of the unused recovery code ``code`` is, if it is one."""
    wanted = recovery_hash(user_id, code)
    for index, stored in enumerate(hashes):
        if stored is not None and hmac.compare_digest(stored, wanted):
            return index
    return None


@dataclass(frozen=True, slots=True)
class Accepted:
    """What a sign-in code used up: a time step, or the recovery codes left after one."""

    last_step: int
    recovery_codes: str


def check_code(tenant_id: UUID, user_id: UUID, sealed_secret: str, last_step: int, recovery_codes: str,
               code: str, at: datetime) -> Accepted | None:
    secret = open_text(tenant_id, _SECRET_COLUMN, sealed_secret)
    step = matching_step(secret, code, at, last_step)
    if step is not None:
        return Accepted(step, recovery_codes)
    hashes = json.loads(recovery_codes or "[]")
    index = matching_recovery(user_id, code, hashes)
    if index is None:
        return None
    hashes[index] = None
    return Accepted(last_step, json.dumps(hashes))


# Use cases -----------------------------------------------------------------------------------------

def _signed_in_user(ctx: Context) -> UUID:
    require_signed_in(ctx)
    if ctx.user_id is None:
        raise KehuError("USER_REQUIRED", "only a signed-in user has a second factor", "仅登录用户可设置第二因素")
    return ctx.user_id


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    uri: str


async def totp_start(ctx: Context) -> Enrolment:
    """Start (or restart, before confirmation) enrolment: a new secret, answered once."""
    user_id = _signed_in_user(ctx)
    assert ctx.tenant_id is not None
    secret = pyotp.random_base32()
    async with unit_of_work(ctx) as uow:
        existing = await uow.select(TotpEnrolment.id, TotpEnrolment.confirmed_at).where(
            TotpEnrolment.user_id == user_id).first()
        if existing is not None and existing["confirmed_at"] is not None:
            raise KehuError("TOTP_ALREADY_ENROLLED", "a second factor is already on; disable it first",
                            "已启用第二因素，请先停用")
        sealed = seal_text(ctx.tenant_id, _SECRET_COLUMN, secret)
        if existing is None:
            await uow.insert(TotpEnrolment(user_id=user_id, secret=sealed))
        else:
            await uow.update(TotpEnrolment, {TotpEnrolment.secret: sealed, TotpEnrolment.last_step: 0}).where(
                TotpEnrolment.id == existing["id"])
        user = await uow.select(User.username).where(User.id == user_id).first()
        await record(uow, "totp.enrolment_started", "user", user_id)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user["username"] if user else str(user_id), issuer_name=ISSUER)
    return Enrolment(secret=secret, uri=uri)


async def totp_confirm(ctx: Context, code: str) -> list[str]:
    """Turn the second factor on with a code from the app; answer the recovery codes once."""
    user_id = _signed_in_user(ctx)
    assert ctx.tenant_id is not None
    async with unit_of_work(ctx) as uow:
        row = await uow.select(TotpEnrolment.id, TotpEnrolment.secret, TotpEnrolment.confirmed_at).where(
                TotpEnrolment.user_id == user_id).first()
        if row is None or row["confirmed_at"] is not None:
            raise KehuError("TOTP_NOT_STARTED", "start enrolment first (totpEnrolmentStart)",
                            "请先开始登记（totpEnrolmentStart）")
        step = matching_step(open_text(ctx.tenant_id, _SECRET_COLUMN, row["secret"]), code, now(), 0)
        if step is None:
            raise TotpInvalid()
        codes = new_recovery_codes()
        await uow.update(TotpEnrolment, {TotpEnrolment.confirmed_at: now(), TotpEnrolment.last_step: step,
                                         TotpEnrolment.recovery_codes: json.dumps(
                                             [recovery_hash(user_id, c) for c in codes])}).where(
            TotpEnrolment.id == row["id"])
        await record(uow, "totp.enrolled", "user", user_id, {"recovery_codes": len(codes)})
    return codes


async def totp_disable(ctx: Context, code: str) -> None:
    """The user turns the second factor off, proving it with a code or a recovery code."""
    user_id = _signed_in_user(ctx)
    assert ctx.tenant_id is not None
    async with unit_of_work(ctx) as uow:
        row = await uow.select(TotpEnrolment.id, TotpEnrolment.secret, TotpEnrolment.confirmed_at,
                               TotpEnrolment.last_step, TotpEnrolment.recovery_codes).where(
            TotpEnrolment.user_id == user_id).first()
        if row is None or row["confirmed_at"] is None:
            raise KehuError("TOTP_NOT_ENROLLED", "no second factor is on for this account", "该账号未启用第二因素")
        if check_code(ctx.tenant_id, user_id, row["secret"], row["last_step"], row["recovery_codes"], code,
                      now()) is None:
            raise TotpInvalid()
        await uow.delete(TotpEnrolment).where(TotpEnrolment.id == row["id"])
        await record(uow, "totp.disabled", "user", user_id, {"by": "self"})


async def totp_reset(ctx: Context, user_id: UUID) -> None:
    """An administrator turns a user's second factor off (a lost phone); they enrol again."""
    require(ctx, "user.manage")
    async with unit_of_work(ctx) as uow:
        if not await uow.exists(User).where(User.id == user_id):
            raise NotFound("user", user_id)
        if not await uow.exists(TotpEnrolment).where(TotpEnrolment.user_id == user_id):
            raise KehuError("TOTP_NOT_ENROLLED", "no second factor is on for this account", "该账号未启用第二因素")
        await uow.delete(TotpEnrolment).where(TotpEnrolment.user_id == user_id)
        await record(uow, "totp.disabled", "user", user_id, {"by": "administrator"})


async def totp_enrolled(ctx: Context, user_id: UUID) -> bool:
    async with unit_of_work(ctx, write=False) as uow:
        row = await uow.select(TotpEnrolment.confirmed_at).where(TotpEnrolment.user_id == user_id).first()
    return row is not None and row["confirmed_at"] is not None
