"""Encryption at rest for personal data, and a keyed blind index for exact-match lookups.

A value is sealed with AES-GCM under a data key derived (HKDF-SHA256) from a master key for one
tenant; the stored text is ``"<key id>:<base64url nonce + ciphertext>"``, so a row names the key
that opens it and rotation can find rows still on an old key. The associated data binds the
tenant and the column (``customer.sealed``), so a value copied into another tenant's row, or into
another column, does not open.

The blind index is ``HMAC-SHA256(index key of the tenant, kind + normalised value)`` prefixed with
the key id: equal values of one tenant give equal index values, nothing else can be read from it.
Lookups try every configured key, so they keep working while a rotation is under way.

Master keys: ``KEHU_DATA_KEYS`` (``id:base64url``, comma-separated, the first one active); on the
embedded profile without it, one key is generated once in ``var_dir/data-key``.
"""

from __future__ import annotations

import base64
import hmac
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.errors import ConfigurationError
from core.settings import Settings, embedded_secret

NONCE_BYTES = 12
EMBEDDED_KEY_ID = "embedded"


@dataclass(frozen=True, slots=True)
class KeyRing:
    """Master keys by id; ``active`` seals new values."""

    active: str
    keys: dict[str, bytes]

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.active, *(kid for kid in self.keys if kid != self.active))


class SealBroken(Exception):
    """A sealed value does not open: wrong tenant or column, unknown key id, or tampered with."""


def _decode_key(secret: str) -> bytes:
    return base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))


def new_data_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def keyring_from(pairs: Sequence[tuple[str, str]]) -> KeyRing:
    if not pairs:
        raise ConfigurationError("KEHU_DATA_KEYS: no data key configured")
    return KeyRing(active=pairs[0][0], keys={kid: _decode_key(secret) for kid, secret in pairs})


def resolve_data_keys(settings: Settings) -> KeyRing:
    """The configured keys, or in the embedded profile a key generated once under ``var_dir``."""
    if settings.data_keys:
        return keyring_from(settings.data_keys)
    if not settings.is_embedded:
        raise ConfigurationError("KEHU_DATA_KEYS: the production profile needs at least one data key")
    return keyring_from([(EMBEDDED_KEY_ID, embedded_secret(settings.var_dir / "data-key", new_data_key))])


_ring: KeyRing | None = None


def configure_data_keys(settings: Settings | KeyRing) -> KeyRing:
    """Set the process's keys (at start; tests may pass a KeyRing)."""
    global _ring
    _ring = settings if isinstance(settings, KeyRing) else resolve_data_keys(settings)
    return _ring


def keyring() -> KeyRing:
    """The process's keys; configured from the environment on first use if start did not."""
    if _ring is None:
        from core.settings import load_settings

        return configure_data_keys(load_settings())
    return _ring


@lru_cache(maxsize=4096)
def _derived(master: bytes, tenant_id: UUID, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"kehu/{purpose}/{tenant_id}".encode()).derive(master)


@lru_cache(maxsize=4096)
def _cipher(master: bytes, tenant_id: UUID) -> AESGCM:
    return AESGCM(_derived(master, tenant_id, "data"))


def _aad(tenant_id: UUID, column: str) -> bytes:
    return f"{tenant_id}|{column}".encode()


def seal_text(tenant_id: UUID, column: str, text: str) -> str:
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher(ring.keys[ring.active], tenant_id).encrypt(nonce, text.encode(), _aad(tenant_id, column))
    return f"{ring.active}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def open_text(tenant_id: UUID, column: str, token: str) -> str:
    kid, sep, body = token.partition(":")
    master = keyring().keys.get(kid)
    if not sep or master is None:
        raise SealBroken(f"no data key {kid!r} configured" if sep else "not a sealed value")
    raw = base64.urlsafe_b64decode(body)
    try:
        return _cipher(master, tenant_id).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                                 _aad(tenant_id, column)).decode()
    except InvalidTag:
        raise SealBroken("the value does not open for this tenant and column") from None


_ENCODER = msgspec.json.Encoder(order="sorted")


def seal_json(tenant_id: UUID, column: str, value: Any) -> str:
    return seal_text(tenant_id, column, _ENCODER.encode(value).decode())


def open_json(tenant_id: UUID, column: str, token: str) -> Any:
    return msgspec.json.decode(open_text(tenant_id, column, token))


def is_sealed(text: str | None) -> bool:
    """Whether a stored value is sealed: a key id then a colon (JSON starts with a brace or a
    bracket, base64 has no colon, so clear values of older rows are told apart)."""
    if not text:
        return False
    kid, sep, _ = text.partition(":")
    return bool(sep) and bool(kid) and len(kid) <= 32 and kid.replace("-", "").replace("_", "").isalnum()


def key_id(text: str | None) -> str | None:
    return text.partition(":")[0] if is_sealed(text) else None


def on_active_key(text: str | None) -> bool:
    return key_id(text) == keyring().active


def blind(tenant_id: UUID, kind: str, value: str, kid: str | None = None) -> str:
    """The blind-index value of a normalised ``value`` of ``kind`` (phone, identifier, …)."""
    ring = keyring()
    kid = kid or ring.active
    key = _derived(ring.keys[kid], tenant_id, "index")
    return f"{kid}:{hmac.digest(key, f'{kind}|{value}'.encode(), 'sha256').hex()}"  # one-shot C HMAC, same value


def blinds(tenant_id: UUID, kind: str, value: str) -> list[str]:
    """The value's index under every configured key (lookups during a rotation find both)."""
    return [blind(tenant_id, kind, value, kid) for kid in keyring().ids]
