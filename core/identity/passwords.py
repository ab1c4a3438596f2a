"""Password hashing (argon2id) and the per-tenant password policy.

Hashing is deliberately slow and memory-hungry, so it runs in worker threads and at most
``max_concurrency`` hashes run at once per process: a burst of logins queues instead of
stalling the loop or exhausting memory.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from functools import cache, cached_property
from importlib import resources
from typing import TYPE_CHECKING, TypeVar

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import KehuError

if TYPE_CHECKING:
    from core.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HashingParameters:
    time_cost: int
    memory_cost: int  # KiB
    parallelism: int


OWASP = HashingParameters(time_cost=2, memory_cost=19456, parallelism=1)  # OWASP argon2id recommendation
FAST = HashingParameters(time_cost=1, memory_cost=8, parallelism=1)  # cheapest allowed; tests only


class PasswordHashing:
    """Hashes and verifies passwords off the event loop, with bounded concurrency."""

    def __init__(self, parameters: HashingParameters, max_concurrency: int = 4) -> None:
        self.parameters = parameters
        self._hasher = argon2.PasswordHasher(
            time_cost=parameters.time_cost,
            memory_cost=parameters.memory_cost,
            parallelism=parameters.parallelism,
            type=argon2.Type.ID,
        )
        # Hashes run on threads of their own, as many as may run at once, which take the next
        # queued hash as one ends. A semaphore on the event loop bounded them before: each next
        # hash then waited for the loop (busy with the other sign-ins' statements) to release a
        # slot, and the cores idled between hashes (P4, issue 27).
        self._threads = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="kehu-argon2")

    async def hash(self, password: str) -> str:
        return await self._run(self._hasher.hash, password)

    async def verify(self, stored_hash: str, password: str) -> bool:
        """False on a wrong password and on a hash that is malformed or not argon2."""
        return await self._run(self.verify_sync, stored_hash, password)

    def verify_sync(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        # VerifyMismatchError is a VerificationError; a non-ASCII hash fails to encode.
        except (VerificationError, InvalidHashError, UnicodeEncodeError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with other parameters (or cannot be parsed), so the
        caller should store a fresh hash after a successful login."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    async def burn(self, password: str) -> None:
        """Spend the time of a wrong-password check, so an unknown user is not revealed by timing."""
        await self._run(lambda: self.verify_sync(self._dummy_hash, password))

    @cached_property
    def _dummy_hash(self) -> str:
        # Made with our own parameters, since verification cost follows the parameters in the hash.
        return self._hasher.hash(secrets.token_urlsafe(32))

    async def _run(self, function: Callable[..., T], *args: object) -> T:
        # A caller cancelled while its hash waits takes it out of the queue; one cancelled while
        # its hash runs keeps the thread until the hash ends, so cancelled sign-ins can never
        # have more than max_concurrency hashes running.
        return await asyncio.get_running_loop().run_in_executor(self._threads, function, *args)


def hashing_for(settings: Settings) -> PasswordHashing:
    parameters = {"owasp": OWASP, "fast": FAST}[settings.password_hashing]
    return PasswordHashing(parameters, max_concurrency=settings.password_hash_concurrency)


MAX_PASSWORD_LENGTH = 256


def _too_weak(message_en: str, message_zh: str) -> KehuError:
    return KehuError("PASSWORD_TOO_WEAK", message_en, message_zh, field="password")


def _invalid_setting(key: str, message_en: str, message_zh: str) -> KehuError:
    return KehuError("SETTING_INVALID", message_en, message_zh, field=key)


def _int_in(key: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid_setting(
            key,
            f"{key} must be a whole number from {low} to {high}",
            f"{key} 必须是 {low} 到 {high} 之间的整数",
        )
    return value


def _boolean(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _invalid_setting(key, f"{key} must be true or false", f"{key} 必须是 true 或 false")
    return value


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """A tenant's password rules; the defaults follow NIST 800-63B (length over composition)."""

    min_length: int = 12
    require_letters_digits_symbols: bool = False
    reject_common: bool = True
    max_age_days: int | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> PasswordPolicy:
        """Read stored tenant settings, refusing anything an admin could not have meant."""
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise _invalid_setting(
                    key, f"unknown password policy setting {key!r}", f"未知的密码策略设置 {key!r}"
                )
        values: dict[str, object] = {}
        if "min_length" in data:
            values["min_length"] = _int_in("min_length", data["min_length"], 8, 128)
        for key in ("require_letters_digits_symbols", "reject_common"):
            if key in data:
                values[key] = _boolean(key, data[key])
        if data.get("max_age_days") is not None:
            values["max_age_days"] = _int_in("max_age_days", data["max_age_days"], 1, 3650)
        return cls(**values)  # type: ignore[arg-type]

    def to_mapping(self) -> dict[str, object]:
        return asdict(self)

    def check(self, password: str, *, username: str | None = None) -> None:
        """Raise PASSWORD_TOO_WEAK naming the first rule the password breaks."""
        if len(password) < self.min_length:
            raise _too_weak(
                f"password must be at least {self.min_length} characters",
                f"密码长度至少为 {self.min_length} 个字符",
            )
        if len(password) > MAX_PASSWORD_LENGTH:
            raise _too_weak(
                f"password must be at most {MAX_PASSWORD_LENGTH} characters",
                f"密码长度不能超过 {MAX_PASSWORD_LENGTH} 个字符",
            )
        if self.reject_common and is_common_password(password):
            raise _too_weak(
                "password is one of the most common passwords; choose another",
                "该密码属于最常见的密码，请换一个",
            )
        if username is not None and len(username) >= 3 and username.lower() in password.lower():
            raise _too_weak("password must not contain the username", "密码不能包含用户名")
        if self.require_letters_digits_symbols and not (
            any(c.isalpha() for c in password)
            and any(c.isdigit() for c in password)
            and any(not c.isalnum() for c in password)
        ):
            raise _too_weak(
                "password must contain letters, digits and symbols",
                "密码必须同时包含字母、数字和符号",
            )

    def is_expired(self, changed_at: datetime, now: datetime) -> bool:
        if self.max_age_days is None:
            return False
        return now - changed_at >= timedelta(days=self.max_age_days)


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files(__package__).joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def is_common_password(password: str) -> bool:
    return password.lower() in _common_passwords()
