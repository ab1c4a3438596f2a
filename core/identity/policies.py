"""Tenant-tunable identity policies (password rules, lockout, sign-in controls), kept in
``tenant_setting``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta

from core.audit.chain import record
from core.jobs import outbox
from core.context import Context
from core.db import unit_of_work
from core.db.uow import UnitOfWork
from core.errors import KehuError
from core.identity.access import require
from core.identity.networks import parse_networks
from core.identity.passwords import PasswordPolicy
from core.identity.tables import TenantSetting

PASSWORD_POLICY_KEY = "identity.password_policy"
LOCKOUT_POLICY_KEY = "identity.lockout"
SIGN_IN_POLICY_KEY = "identity.sign_in"


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """After ``max_failures_per_account`` failed logins for one username (or
    ``max_failures_per_address`` from one client address) within ``window_minutes``, further
    attempts are refused for ``lock_minutes``."""

    max_failures_per_account: int = 5
    max_failures_per_address: int = 20
    window_minutes: int = 15
    lock_minutes: int = 15

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> LockoutPolicy:
        known = {f.name for f in fields(cls)}
        for key, value in data.items():
            if key not in known:
                raise KehuError("SETTING_INVALID", f"unknown lockout setting {key!r}", f"未知的锁定设置 {key!r}", field=key)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 10_000:
                raise KehuError("SETTING_INVALID", f"{key} must be a whole number from 1 to 10000",
                                f"{key} 须为 1 至 10000 的整数", field=key)
        return cls(**data)  # type: ignore[arg-type]

    def to_mapping(self) -> dict[str, object]:
        return asdict(self)

    def window(self) -> timedelta:
        return timedelta(minutes=self.window_minutes)

    def lock(self, now: datetime) -> datetime:
        return now + timedelta(minutes=self.lock_minutes)


@dataclass(frozen=True, slots=True)
class SignInPolicy:
    """Sign-in controls (seed-004 CSM-17, CSM-18, SEC-04, SEC-06):

    - ``totp_required``: every user must sign in with a TOTP code; ``totp_required_roles``: only
      users holding one of these roles (by name). A required user not yet enrolled gets a login
      that may only enrol (``totpEnrolmentRequired``), then signs in again with a code.
    - ``staff_networks``: CIDR networks staff may sign in from; ``api_key_networks``: networks API
      keys may be used from. Empty: any address.
    - ``challenge_after_failures``: after this many failed sign-ins for a username (within the
      lockout window), a sign-in needs a ``signInChallenge`` answer; 0 switches it off.
    """

    totp_required: bool = False
    totp_required_roles: tuple[str, ...] = ()
    staff_networks: tuple[str, ...] = ()
    api_key_networks: tuple[str, ...] = ()
    challenge_after_failures: int = 0

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> SignInPolicy:
        known = {f.name for f in fields(cls)}
        values: dict[str, object] = {}
        for key, value in data.items():
            if key not in known:
                raise KehuError("SETTING_INVALID", f"unknown sign-in setting {key!r}", f"未知的登录设置 {key!r}", field=key)
            if key == "totp_required":
                if not isinstance(value, bool):
                    raise KehuError("SETTING_INVALID", f"{key} must be true or false", f"{key} 须为 true 或 false", field=key)
                values[key] = value
            elif key == "challenge_after_failures":
                if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
                    raise KehuError("SETTING_INVALID", f"{key} must be a whole number from 0 to 100",
                                    f"{key} 须为 0 至 100 的整数", field=key)
                values[key] = value
            elif key == "totp_required_roles":
                if not isinstance(value, (list, tuple)) or not all(
                        isinstance(v, str) and 0 < len(v.strip()) <= 100 for v in value) or len(value) > 100:
                    raise KehuError("SETTING_INVALID", f"{key} must be a list of role names",
                                    f"{key} 须为角色名称列表", field=key)
                values[key] = tuple(dict.fromkeys(v.strip() for v in value))
            else:
                if not isinstance(value, (list, tuple)):
                    raise KehuError("SETTING_INVALID", f"{key} must be a list of CIDR networks",
                                    f"{key} 须为 CIDR 网段列表", field=key)
                values[key] = parse_networks(value, key)
        return cls(**values)  # type: ignore[arg-type]

    def to_mapping(self) -> dict[str, object]:
        return {"totp_required": self.totp_required, "totp_required_roles": list(self.totp_required_roles),
                "staff_networks": list(self.staff_networks), "api_key_networks": list(self.api_key_networks),
                "challenge_after_failures": self.challenge_after_failures}

    def totp_required_for(self, role_names: set[str]) -> bool:
        return self.totp_required or bool(role_names & set(self.totp_required_roles))


def sign_in_policy_from_json(value: str | None) -> SignInPolicy:
    return SignInPolicy.from_mapping(json.loads(value)) if value else SignInPolicy()


async def _read(uow: UnitOfWork, key: str) -> dict | None:
    row = await uow.select(TenantSetting.value).where(TenantSetting.key == key).first()
    return json.loads(row["value"]) if row else None


def policies_from_json(password: str | None, lockout: str | None) -> tuple[PasswordPolicy, LockoutPolicy]:
    """Both policies from their stored JSON values; defaults where a tenant has set none."""
    return (PasswordPolicy.from_mapping(json.loads(password)) if password else PasswordPolicy(),
            LockoutPolicy.from_mapping(json.loads(lockout)) if lockout else LockoutPolicy())


async def password_policy(uow: UnitOfWork) -> PasswordPolicy:
    stored = await _read(uow, PASSWORD_POLICY_KEY)
    return PasswordPolicy.from_mapping(stored) if stored else PasswordPolicy()


async def lockout_policy(uow: UnitOfWork) -> LockoutPolicy:
    stored = await _read(uow, LOCKOUT_POLICY_KEY)
    return LockoutPolicy.from_mapping(stored) if stored else LockoutPolicy()


async def sign_in_policy(uow: UnitOfWork) -> SignInPolicy:
    stored = await _read(uow, SIGN_IN_POLICY_KEY)
    return SignInPolicy.from_mapping(stored) if stored else SignInPolicy()


async def write_setting(uow: UnitOfWork, key: str, value: Mapping[str, object]) -> None:
    encoded = json.dumps(value, sort_keys=True)
    if await uow.exists(TenantSetting).where(TenantSetting.key == key):
        await uow.update(TenantSetting, {TenantSetting.value: encoded, TenantSetting.updated_by: uow.ctx.actor}).where(
            TenantSetting.key == key)
    else:
        await uow.insert(TenantSetting(key=key, value=encoded, updated_by=uow.ctx.actor))


async def update_identity_policy(ctx: Context, *, password: Mapping[str, object] | None = None,
                                 lockout: Mapping[str, object] | None = None) -> tuple[PasswordPolicy, LockoutPolicy]:
    """Change the tenant's password rules and/or lockout limits (validated, then stored)."""
    require(ctx, "tenant.settings.manage")
    new_password = PasswordPolicy.from_mapping(password) if password is not None else None
    new_lockout = LockoutPolicy.from_mapping(lockout) if lockout is not None else None
    async with unit_of_work(ctx) as uow:
        old_password, old_lockout = await password_policy(uow), await lockout_policy(uow)
        changed: list[tuple[str, dict[str, object], dict[str, object]]] = []
        if new_password is not None:
            await write_setting(uow, PASSWORD_POLICY_KEY, new_password.to_mapping())
            changed.append((PASSWORD_POLICY_KEY, old_password.to_mapping(), new_password.to_mapping()))
        if new_lockout is not None:
            await write_setting(uow, LOCKOUT_POLICY_KEY, new_lockout.to_mapping())
            changed.append((LOCKOUT_POLICY_KEY, old_lockout.to_mapping(), new_lockout.to_mapping()))
        for key, old, new in changed:
            # One entry per setting whose effective value changed: each field as (old, new).
            diff = {field: (old.get(field), value) for field, value in new.items() if old.get(field) != value}
            if diff:
                await record(uow, "setting.updated", "tenant_setting", key, diff)
                await outbox.add(uow, "setting.updated", "tenant_setting", key, diff)
        return await password_policy(uow), await lockout_policy(uow)


async def read_identity_policy(ctx: Context) -> tuple[PasswordPolicy, LockoutPolicy]:
    require(ctx, "tenant.settings.manage")
    async with unit_of_work(ctx, write=False) as uow:
        return await password_policy(uow), await lockout_policy(uow)


async def update_sign_in_policy(ctx: Context, changes: Mapping[str, object]) -> SignInPolicy:
    """Change the tenant's sign-in controls (only the keys given; validated, then stored)."""
    require(ctx, "tenant.settings.manage")
    async with unit_of_work(ctx) as uow:
        old = await sign_in_policy(uow)
        new = SignInPolicy.from_mapping({**old.to_mapping(), **changes})
        before, after = old.to_mapping(), new.to_mapping()
        diff = {field: (before.get(field), value) for field, value in after.items() if before.get(field) != value}
        if diff:
            await write_setting(uow, SIGN_IN_POLICY_KEY, after)
            await record(uow, "setting.updated", "tenant_setting", SIGN_IN_POLICY_KEY, diff)
            await outbox.add(uow, "setting.updated", "tenant_setting", SIGN_IN_POLICY_KEY, diff)
        return new


async def read_sign_in_policy(ctx: Context) -> SignInPolicy:
    require(ctx, "tenant.settings.manage")
    async with unit_of_work(ctx, write=False) as uow:
        return await sign_in_policy(uow)
