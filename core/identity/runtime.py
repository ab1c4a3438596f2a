"""The process-wide identity services, configured once at start from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from core.identity.passwords import PasswordHashing, hashing_for
from core.identity.tokens import TokenService
from core.settings import Settings


@dataclass(frozen=True, slots=True)
class IdentityRuntime:
    hashing: PasswordHashing
    tokens: TokenService
    refresh_ttl_seconds: int


_runtime: IdentityRuntime | None = None


def configure_identity(settings: Settings) -> IdentityRuntime:
    global _runtime
    _runtime = IdentityRuntime(hashing=hashing_for(settings), tokens=TokenService.from_settings(settings),
                               refresh_ttl_seconds=settings.refresh_token_ttl_seconds)
    return _runtime


def identity() -> IdentityRuntime:
    if _runtime is None:
        raise RuntimeError("identity not configured; call core.identity.runtime.configure_identity() at start")
    return _runtime
