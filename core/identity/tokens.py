"""Access tokens (Ed25519-signed JWTs) and opaque tokens (refresh tokens, API keys).

Access tokens are short-lived and verified without a database hit. Opaque tokens carry their
tenant in clear so the row holding their hash can be looked up under row-level security.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from core.errors import KehuError
from core.settings import SigningKey, Settings, resolve_signing_keys

ALGORITHM = "EdDSA"  # fixed: the header's alg never chooses how a token is verified
REQUIRED_CLAIMS = ("iss", "aud", "sub", "tid", "sid", "jti", "iat", "exp")

_MESSAGES = {
    "TOKEN_INVALID": ("the access token is invalid", "访问令牌无效"),
    "TOKEN_EXPIRED": ("the access token has expired", "访问令牌已过期"),
}


class TokenInvalid(KehuError):
    """A token was refused. The caller only learns expired or invalid; ``reason`` is for logs."""

    def __init__(self, code: str = "TOKEN_INVALID", reason: str = "invalid token") -> None:
        message_en, message_zh = _MESSAGES.get(code, _MESSAGES["TOKEN_INVALID"])
        super().__init__(code, message_en, message_zh)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: UUID  # "sub"
    tenant_id: UUID  # "tid"
    session_id: UUID  # "sid": the refresh-token family; revoking it ends the session
    token_id: str  # "jti"
    issued_at: int  # "iat"
    expires_at: int  # "exp"


@dataclass(frozen=True, slots=True)
class _Key:
    kid: str
    private: Ed25519PrivateKey
    public: Ed25519PublicKey


class TokenService:
    """Issues access tokens with the first key and verifies them with any key.

    Rotation: put a new key first and keep the old ones until the tokens they signed expire.
    """

    def __init__(
        self,
        keys: Sequence[SigningKey],
        *,
        issuer: str,
        audience: str,
        access_ttl_seconds: int = 900,
        leeway_seconds: int = 30,
    ) -> None:
        if not keys:
            raise ValueError("TokenService needs at least one signing key")
        if len({key.kid for key in keys}) != len(keys):
            raise ValueError("signing key ids must be unique")
        built = []
        for key in keys:
            private = Ed25519PrivateKey.from_private_bytes(key.seed)
            built.append(_Key(kid=key.kid, private=private, public=private.public_key()))
        self._signing = built[0]
        self._by_kid = {key.kid: key for key in built}
        self._issuer = issuer
        self._audience = audience
        self._ttl = access_ttl_seconds
        self._leeway = leeway_seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenService:
        return cls(
            resolve_signing_keys(settings),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            access_ttl_seconds=settings.access_token_ttl_seconds,
            leeway_seconds=settings.jwt_leeway_seconds,
        )

    def issue_access(
        self, *, user_id: UUID, tenant_id: UUID, session_id: UUID, now: float | None = None
    ) -> tuple[str, AccessClaims]:
        issued_at = int(time.time() if now is None else now)
        claims = AccessClaims(
            user_id=user_id,
            tenant_id=tenant_id,
            session_id=session_id,
            token_id=uuid4().hex,
            issued_at=issued_at,
            expires_at=issued_at + self._ttl,
        )
        payload = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "tid": str(tenant_id),
            "sid": str(session_id),
            "jti": claims.token_id,
            "iat": issued_at,
            "nbf": issued_at,
            "exp": claims.expires_at,
        }
        token = jwt.encode(
            payload,
            self._signing.private,
            algorithm=ALGORITHM,
            headers={"kid": self._signing.kid, "typ": "JWT"},
        )
        return token, claims

    def verify_access(self, token: str, *, now: float | None = None) -> AccessClaims:
        """The token's claims, or TokenInvalid for anything wrong with it."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise TokenInvalid(reason="malformed token") from None
        # Choose the key by kid before verifying, so a token can only name keys we hold.
        key = self._by_kid.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise TokenInvalid(reason=f"unknown key id {kid!r}")
        try:
            payload = jwt.decode(
                token,
                key.public,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                # PyJWT has no clock to inject; _check_times does these against `now`.
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise TokenInvalid(reason=f"{type(exc).__name__}: {exc}") from None
        self._check_times(payload, time.time() if now is None else now)
        return AccessClaims(
            user_id=_uuid_claim(payload, "sub"),
            tenant_id=_uuid_claim(payload, "tid"),
            session_id=_uuid_claim(payload, "sid"),
            token_id=payload["jti"],
            issued_at=payload["iat"],
            expires_at=payload["exp"],
        )

    def _check_times(self, payload: Mapping[str, Any], now: float) -> None:
        """The one place exp, iat and nbf are checked, each with the leeway."""
        times = {name: payload[name] for name in ("exp", "iat", "nbf") if name in payload}
        # Integers only (what we issue): JSON floats may be NaN or Infinity, which compare as "valid".
        if any(type(value) is not int for value in times.values()):
            raise TokenInvalid(reason="a time claim is not an integer")
        if times["exp"] <= now - self._leeway:
            raise TokenInvalid("TOKEN_EXPIRED", reason="expired")
        if times["iat"] > now + self._leeway:
            raise TokenInvalid(reason="issued in the future")
        if "nbf" in times and times["nbf"] > now + self._leeway:
            raise TokenInvalid(reason="not valid yet")

    def public_jwks(self) -> dict[str, list[dict[str, str]]]:
        """The verification keys as a JWK set, for integrators to verify tokens themselves."""
        return {
            "keys": [
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "kid": key.kid,
                    "x": _b64url(key.public.public_bytes(Encoding.Raw, PublicFormat.Raw)),
                    "use": "sig",
                    "alg": ALGORITHM,
                }
                for key in self._by_kid.values()
            ]
        }


def _uuid_claim(payload: Mapping[str, Any], name: str) -> UUID:
    """Only the canonical form we issue is accepted, so one id has one spelling."""
    value = payload[name]
    try:
        parsed = UUID(value)
    except (TypeError, ValueError, AttributeError):
        raise TokenInvalid(reason=f"claim {name} is not a UUID") from None
    if str(parsed) != value:
        raise TokenInvalid(reason=f"claim {name} is not a canonical UUID")
    return parsed


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


_OPAQUE_SECRET_BYTES = 32
_OPAQUE_SECRET_CHARS = 43  # len(secrets.token_urlsafe(32))


def _valid_prefix(prefix: str) -> bool:
    return isinstance(prefix, str) and prefix.isascii() and prefix.isalpha()


def new_opaque_token(tenant_id: UUID, prefix: str) -> str:
    """``{prefix}_{tenant hex}_{secret}``: the tenant routes the lookup, the secret is the credential."""
    if not _valid_prefix(prefix):
        raise ValueError(f"opaque token prefix must be ASCII letters, got {prefix!r}")
    return f"{prefix}_{tenant_id.hex}_{secrets.token_urlsafe(_OPAQUE_SECRET_BYTES)}"


def parse_opaque_token(token: str, prefix: str) -> tuple[UUID, str] | None:
    """``(tenant_id, token)`` when ``token`` is exactly what new_opaque_token makes, else None."""
    if not isinstance(token, str) or not _valid_prefix(prefix):
        return None
    match = re.fullmatch(
        rf"{prefix}_([0-9a-f]{{32}})_[A-Za-z0-9_-]{{{_OPAQUE_SECRET_CHARS}}}", token
    )
    return (UUID(hex=match.group(1)), token) if match else None


def hash_opaque_token(token: str) -> str:
    """SHA-256 hex: the token holds 256 random bits, so a slow hash would add nothing."""
    return hashlib.sha256(token.encode()).hexdigest()
