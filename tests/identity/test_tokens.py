"""Access and opaque tokens: one test per way a forged, stale or mangled token could get in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import assume, given, settings, strategies as st

from core.identity.tokens import (
    ALGORITHM,
    REQUIRED_CLAIMS,
    AccessClaims,
    TokenInvalid,
    TokenService,
    hash_opaque_token,
    new_opaque_token,
    parse_opaque_token,
)
from core.settings import SigningKey, load_settings, new_signing_secret

NOW = 1_700_000_000
TTL = 900
LEEWAY = 30
ISSUER = "kehu"
AUDIENCE = "kehu-api"
KEY = SigningKey(kid="k1", secret=new_signing_secret())
OLD = SigningKey(kid="2024", secret=new_signing_secret())
NEW = SigningKey(kid="2025", secret=new_signing_secret())
# fixed ids: parameter ids built from them must be the same in every pytest-xdist worker
USER, TENANT, SESSION = (UUID("6f1c2a4e-0b7d-4e1a-9c3f-2d5e8a7b4c10"), UUID("0320c330-35a4-4144-8a6c-26654bf2301a"),
                         UUID("79798c9c-657e-475b-886e-3395561ff160"))
BASE64URL = string.ascii_letters + string.digits + "-_"


def make_service(*keys: SigningKey, issuer: str = ISSUER, audience: str = AUDIENCE) -> TokenService:
    return TokenService(
        keys or (KEY,), issuer=issuer, audience=audience, access_ttl_seconds=TTL, leeway_seconds=LEEWAY
    )


SERVICE = make_service()


def issue(service: TokenService = SERVICE, now: float = NOW) -> tuple[str, AccessClaims]:
    return service.issue_access(user_id=USER, tenant_id=TENANT, session_id=SESSION, now=now)


def payload(**changes: Any) -> dict[str, Any]:
    """A valid payload at NOW; a change to None drops that claim."""
    claims = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": str(USER), "tid": str(TENANT), "sid": str(SESSION),
        "jti": uuid4().hex, "iat": NOW, "nbf": NOW, "exp": NOW + TTL,
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def sign(claims: dict[str, Any], key: SigningKey = KEY, headers: dict[str, Any] | None = None) -> str:
    """Sign like the service does, so each test breaks exactly one thing."""
    private = Ed25519PrivateKey.from_private_bytes(key.seed)
    headers = {"kid": key.kid} if headers is None else headers
    return jwt.encode(claims, private, algorithm="EdDSA", headers=headers)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64json(value: dict[str, Any]) -> str:
    return b64(json.dumps(value).encode())


def refuse(token: str, service: TokenService = SERVICE, code: str = "TOKEN_INVALID") -> None:
    with pytest.raises(TokenInvalid) as caught:
        service.verify_access(token, now=NOW)
    assert caught.value.code == code


def test_round_trip() -> None:
    token, issued = issue()
    assert SERVICE.verify_access(token, now=NOW) == issued
    assert (issued.user_id, issued.tenant_id, issued.session_id) == (USER, TENANT, SESSION)
    assert issued.expires_at == NOW + TTL
    assert jwt.get_unverified_header(token) == {"alg": ALGORITHM, "typ": "JWT", "kid": KEY.kid}


def test_alg_none_refused() -> None:
    token = f"{b64json({'alg': 'none', 'typ': 'JWT', 'kid': KEY.kid})}.{b64json(payload())}."
    refuse(token)


@pytest.mark.parametrize("encoding", ["pem", "raw"])
def test_hs256_signed_with_public_key_refused(encoding: str) -> None:
    """The classic confusion: the verifier's public key bytes used as an HMAC secret.

    Built by hand because PyJWT (rightly) refuses a PEM key as an HMAC secret when encoding.
    """
    public = Ed25519PrivateKey.from_private_bytes(KEY.seed).public_key()
    secret = (
        public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        if encoding == "pem"
        else public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    signing_input = f"{b64json({'alg': 'HS256', 'typ': 'JWT', 'kid': KEY.kid})}.{b64json(payload())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    refuse(f"{signing_input}.{b64(signature)}")


def test_wrong_audience_refused() -> None:
    token, _ = issue(make_service(audience="other-api"))
    refuse(token)


def test_wrong_issuer_refused() -> None:
    token, _ = issue(make_service(issuer="someone-else"))
    refuse(token)


def test_expired_beyond_leeway_refused_within_accepted() -> None:
    stale, _ = issue(now=NOW - TTL - LEEWAY - 1)
    refuse(stale, code="TOKEN_EXPIRED")
    recent, claims = issue(now=NOW - TTL - LEEWAY + 1)
    assert SERVICE.verify_access(recent, now=NOW) == claims


def test_unknown_kid_refused() -> None:
    """Signed with our key but naming a kid we do not hold: no fallback to some default key."""
    refuse(sign(payload(), SigningKey(kid="other", secret=KEY.secret)))


def test_missing_kid_refused() -> None:
    refuse(sign(payload(), headers={}))


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
def test_missing_required_claim_refused(claim: str) -> None:
    refuse(sign(payload(**{claim: None})))


@pytest.mark.parametrize(
    ("claim", "value"),
    [("sub", "admin"), ("tid", 42), ("sid", str(SESSION).upper())],
)
def test_non_uuid_identity_claim_refused(claim: str, value: object) -> None:
    refuse(sign(payload(**{claim: value})))


@pytest.mark.parametrize(
    ("claim", "value"), [("exp", float("inf")), ("iat", float("nan")), ("exp", str(NOW + TTL))]
)
def test_non_integer_time_claim_refused(claim: str, value: object) -> None:
    """Infinity and NaN slip past every comparison, so time claims must be integers."""
    refuse(sign(payload(**{claim: value})))


def test_tampered_signature_refused() -> None:
    token, _ = issue()
    head, body, signature = token.split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]  # the first char carries only real bits
    refuse(f"{head}.{body}.{flipped}")


def test_tampered_payload_refused() -> None:
    token, _ = issue()
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["tid"] = str(uuid4())
    refuse(f"{head}.{b64json(claims)}.{signature}")


def test_other_deployment_key_with_same_kid_refused() -> None:
    foreign = SigningKey(kid=KEY.kid, secret=new_signing_secret())
    refuse(sign(payload(), foreign))


def test_rotation_old_tokens_verify_and_new_key_signs() -> None:
    old_token, old_claims = issue(make_service(OLD))
    rotated = make_service(NEW, OLD)
    assert rotated.verify_access(old_token, now=NOW) == old_claims
    new_token, _ = issue(rotated)
    assert jwt.get_unverified_header(new_token)["kid"] == NEW.kid


def test_retired_key_refused() -> None:
    old_token, _ = issue(make_service(OLD))
    refuse(old_token, make_service(NEW))


def test_iat_in_future_beyond_leeway_refused() -> None:
    """Without nbf, so only the iat check can catch it."""
    refuse(sign(payload(iat=NOW + LEEWAY + 1, nbf=None, exp=NOW + LEEWAY + 1 + TTL)))
    assert SERVICE.verify_access(sign(payload(iat=NOW + LEEWAY, nbf=None)), now=NOW).issued_at == NOW + LEEWAY


def test_nbf_in_future_beyond_leeway_refused() -> None:
    refuse(sign(payload(nbf=NOW + LEEWAY + 1)))


def test_refusals_do_not_say_which_check_failed() -> None:
    wrong_audience, _ = issue(make_service(audience="other-api"))
    errors = []
    for token in (wrong_audience, sign(payload(), SigningKey(kid=KEY.kid, secret=new_signing_secret()))):
        with pytest.raises(TokenInvalid) as caught:
            SERVICE.verify_access(token, now=NOW)
        errors.append(caught.value)
    assert errors[0].message("en") == errors[1].message("en")
    assert errors[0].message("zh") == errors[1].message("zh") != errors[0].message("en")
    assert errors[0].reason != errors[1].reason  # the detail stays available for logs


def test_keys_must_be_present_and_unique() -> None:
    with pytest.raises(ValueError):
        TokenService((), issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(ValueError):
        make_service(KEY, SigningKey(kid=KEY.kid, secret=new_signing_secret()))


def test_from_settings_round_trip(tmp_path: Path) -> None:
    service = TokenService.from_settings(load_settings(var_dir=tmp_path))
    token, claims = service.issue_access(user_id=USER, tenant_id=TENANT, session_id=SESSION)
    assert service.verify_access(token) == claims


def test_public_jwks_lists_every_key_and_verifies() -> None:
    rotated = make_service(NEW, OLD)
    jwks = rotated.public_jwks()
    assert [jwk["kid"] for jwk in jwks["keys"]] == [NEW.kid, OLD.kid]
    assert all((jwk["kty"], jwk["crv"], jwk["alg"]) == ("OKP", "Ed25519", "EdDSA") for jwk in jwks["keys"])
    by_kid = {jwk["kid"]: jwt.PyJWK(jwk) for jwk in jwks["keys"]}
    for service in (rotated, make_service(OLD)):
        token, claims = service.issue_access(user_id=USER, tenant_id=TENANT, session_id=SESSION)
        key = by_kid[jwt.get_unverified_header(token)["kid"]]
        decoded = jwt.decode(token, key, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER)
        assert decoded["tid"] == str(TENANT) and decoded["jti"] == claims.token_id


def test_opaque_token_round_trip() -> None:
    token = new_opaque_token(TENANT, "rt")
    assert token.startswith(f"rt_{TENANT.hex}_")
    assert parse_opaque_token(token, "rt") == (TENANT, token)


def test_opaque_token_wrong_prefix() -> None:
    assert parse_opaque_token(new_opaque_token(TENANT, "rt"), "kk") is None


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "rt",
        "rt__",
        f"rt_{TENANT.hex}_",
        f"rt_{TENANT.hex.upper()}_{'a' * 43}",
        f"rt_{TENANT.hex}_{'a' * 42}",
        f"rt_{TENANT.hex}_{'a' * 43}\n",
        f"rt_{TENANT.hex}_{'a' * 42}=",
        f"rt_{str(TENANT)}_{'a' * 43}",
        None,
    ],
)
def test_opaque_token_garbage(garbage: Any) -> None:
    assert parse_opaque_token(garbage, "rt") is None


def test_opaque_prefix_must_be_letters() -> None:
    with pytest.raises(ValueError):
        new_opaque_token(TENANT, "r_t")
    assert parse_opaque_token(new_opaque_token(TENANT, "rt"), ".*") is None


def test_opaque_tokens_differ_and_hash_stably() -> None:
    first, second = new_opaque_token(TENANT, "kk"), new_opaque_token(TENANT, "kk")
    assert first != second
    assert hash_opaque_token(first) == hash_opaque_token(first)
    assert len(hash_opaque_token(first)) == 64 and set(hash_opaque_token(first)) <= set("0123456789abcdef")
    assert hash_opaque_token(first) != hash_opaque_token(second)


PROPERTY_TOKEN, PROPERTY_CLAIMS = issue()


@settings(max_examples=200, deadline=None)
@given(position=st.integers(0, len(PROPERTY_TOKEN) - 1), char=st.sampled_from(BASE64URL))
def test_any_single_char_change_is_refused_or_harmless(position: int, char: str) -> None:
    """Some changes only touch base64 padding bits and decode to the same bytes; nothing else may pass."""
    assume(PROPERTY_TOKEN[position] != char)
    mutated = PROPERTY_TOKEN[:position] + char + PROPERTY_TOKEN[position + 1 :]
    try:
        claims = SERVICE.verify_access(mutated, now=NOW)
    except TokenInvalid:
        return
    assert claims == PROPERTY_CLAIMS
